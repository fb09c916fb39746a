//! Money in the read models: integer minor units of the currency, exact in every SQL engine.

use receivables_domain::{Currency, Money, Position};
use rust_decimal::Decimal;

use crate::ProjectionError;

/// `money` in minor units (1234.50 CNY -> 123450).
pub fn to_minor(money: Money, position: Position) -> Result<i64, ProjectionError> {
    i64::try_from(money.minor_units()).map_err(|_| ProjectionError::Event {
        position,
        problem: format!("{money} does not fit 64-bit minor units"),
    })
}

/// Minor units of `currency` back to money.
pub fn from_minor(minor: i64, currency: Currency) -> Money {
    Money::of(Decimal::new(minor, currency.minor_units()), currency)
}
