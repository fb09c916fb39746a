//! Money: an exact decimal amount in an ISO 4217 currency.
//!
//! Amounts are `rust_decimal::Decimal`, never floats, always held at exactly the currency's
//! minor-unit scale (CNY and USD: 2, JPY: 0, KWD: 3), so that "1234.5" and "1234.50" are the same
//! amount and the same text on the wire and in the log.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::limits::AMOUNT_MAJOR_UNITS_MAX;

/// Why a currency code or an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("{0} is not a currency that invoices can be issued in (fund, metal or special code)")]
    NotATransactionCurrency(String),
    #[error("{0:?} is not a plain decimal number (digits, an optional '.' and more digits)")]
    Malformed(String),
    #[error("{currency} has {allowed} decimal places, {text:?} has {actual}")]
    TooManyDecimals {
        currency: String,
        allowed: u32,
        actual: u32,
        text: String,
    },
    #[error("must be greater than zero, got {0}")]
    NotPositive(String),
    #[error("must not be negative, got {0}")]
    Negative(String),
    #[error("must be at most {max} in major units, got {actual}")]
    TooLarge { max: i64, actual: String },
    #[error("currencies differ: {left} and {right}")]
    CurrencyMismatch { left: String, right: String },
}

/// An ISO 4217 currency that transactions can be made in (not a fund, metal or testing code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an upper-case three-letter ISO 4217 code such as `CNY`.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let currency = iso_currency::Currency::from_code(code)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))?;
        if currency.exponent().is_none()
            || currency.is_fund()
            || currency.is_special()
            || currency.is_superseded().is_some()
        {
            return Err(MoneyError::NotATransactionCurrency(code.to_owned()));
        }
        Ok(Currency(currency))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Number of decimal places of the currency's minor unit.
    pub fn minor_units(self) -> u32 {
        // Checked in `parse`: only currencies with an exponent are constructed.
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(code: String) -> Result<Self, MoneyError> {
        Currency::parse(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.code().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

const AMOUNT_TEXT_LENGTH_MAX: usize = 40;

/// Parses a decimal amount for `currency`: plain decimal text, at most the currency's decimals
/// (trailing zeros beyond them are harmless), within [`AMOUNT_MAJOR_UNITS_MAX`]. The result is
/// held at the currency's scale. The sign is checked by the caller, which knows whether zero or
/// negative amounts make sense.
pub fn parse_amount(text: &str, currency: Currency) -> Result<Decimal, MoneyError> {
    let value = parse_decimal(text, currency)?;
    if value.abs() > Decimal::from(AMOUNT_MAJOR_UNITS_MAX) {
        return Err(MoneyError::TooLarge {
            max: AMOUNT_MAJOR_UNITS_MAX,
            actual: text.to_owned(),
        });
    }
    Ok(value)
}

/// Plain decimal text with at most the currency's decimals, of any size `Decimal` holds, at the
/// currency's scale. The decimals are counted in the text: `Decimal` would round digits beyond
/// its 28 decimal places away silently.
fn parse_decimal(text: &str, currency: Currency) -> Result<Decimal, MoneyError> {
    let malformed = || MoneyError::Malformed(text.to_owned());
    if text.is_empty() || text.len() > AMOUNT_TEXT_LENGTH_MAX {
        return Err(malformed());
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(malformed());
    }
    let allowed = currency.minor_units();
    let significant = fraction.map_or("", |f| f.trim_end_matches('0'));
    // At most 40 characters of text: the count fits any integer type.
    let actual = u32::try_from(significant.len()).unwrap_or(u32::MAX);
    if actual > allowed {
        return Err(MoneyError::TooManyDecimals {
            currency: currency.code().to_owned(),
            allowed,
            actual,
            text: text.to_owned(),
        });
    }
    let sign = if unsigned.len() < text.len() { "-" } else { "" };
    let exact = if significant.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{significant}")
    };
    let mut value = Decimal::from_str_exact(&exact).map_err(|_| malformed())?;
    value.rescale(allowed);
    // "-0" is zero, written "0".
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    Ok(value)
}

/// An amount in a currency, held at the currency's minor-unit scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyText")]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    currency: Currency,
}

/// Money as it is read back from JSON, checked before it becomes [`Money`] again.
#[derive(Deserialize)]
struct MoneyText {
    amount: String,
    currency: Currency,
}

/// Serde for a derived figure such as an exposure (`#[serde(with = "money::derived")]`): the
/// same JSON as [`Money`], read back with any sign and any size. A sum over many amounts may
/// exceed [`AMOUNT_MAJOR_UNITS_MAX`], which bounds each amount, not their sums.
pub mod derived {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Money, MoneyText, parse_decimal};

    pub fn serialize<S: Serializer>(money: &Money, serializer: S) -> Result<S::Ok, S::Error> {
        money.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let text = MoneyText::deserialize(deserializer)?;
        let amount =
            parse_decimal(&text.amount, text.currency).map_err(serde::de::Error::custom)?;
        Ok(Money {
            amount,
            currency: text.currency,
        })
    }
}

impl TryFrom<MoneyText> for Money {
    type Error = MoneyError;
    fn try_from(text: MoneyText) -> Result<Self, MoneyError> {
        let amount = parse_amount(&text.amount, text.currency)?;
        Ok(Money {
            amount,
            currency: text.currency,
        })
    }
}

impl Money {
    /// Any amount (also zero or negative), rescaled to the currency; for derived figures such
    /// as exposure, which may be negative.
    pub fn of(amount: Decimal, currency: Currency) -> Self {
        let mut amount = amount;
        amount.rescale(currency.minor_units());
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money::of(Decimal::ZERO, currency)
    }

    /// A strictly positive amount parsed from text (invoices, payments, promises, allocations).
    pub fn positive(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let amount = parse_amount(text, currency)?;
        if amount <= Decimal::ZERO {
            return Err(MoneyError::NotPositive(text.to_owned()));
        }
        Ok(Money { amount, currency })
    }

    /// A non-negative amount parsed from text (credit limits: zero means "no credit").
    pub fn non_negative(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let amount = parse_amount(text, currency)?;
        if amount < Decimal::ZERO {
            return Err(MoneyError::Negative(text.to_owned()));
        }
        Ok(Money { amount, currency })
    }

    /// An amount of any sign parsed from text (a balance a customer confirms, which is negative
    /// when the group owes it money).
    pub fn signed(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        Ok(Money {
            amount: parse_amount(text, currency)?,
            currency,
        })
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in integer minor units (cents, fen), as read models store it.
    pub fn minor_units(&self) -> i128 {
        self.amount.mantissa()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(feature = "testing")]
impl Money {
    /// An amount in CNY from text such as `"1000.00"`, for the samples of the tests.
    pub fn cny(text: &str) -> Money {
        Money::non_negative(text, Currency::parse("CNY").expect("CNY")).expect("an amount")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny() -> Currency {
        Currency::parse("CNY").unwrap()
    }

    #[test]
    fn amounts_are_held_at_the_currency_scale() {
        assert_eq!(
            Money::positive("1234.5", cny())
                .unwrap()
                .amount()
                .to_string(),
            "1234.50"
        );
        assert_eq!(Money::positive("7", cny()).unwrap().minor_units(), 700);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::positive("1500", jpy).unwrap().minor_units(), 1500);
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::positive("1.234", kwd).unwrap().minor_units(), 1234);
    }

    #[test]
    fn too_many_decimals_are_refused_but_trailing_zeros_are_not() {
        assert!(matches!(
            Money::positive("10.001", cny()),
            Err(MoneyError::TooManyDecimals {
                allowed: 2,
                actual: 3,
                ..
            })
        ));
        assert!(matches!(
            Money::positive("10.5", Currency::parse("JPY").unwrap()),
            Err(MoneyError::TooManyDecimals { allowed: 0, .. })
        ));
        assert_eq!(
            Money::positive("10.500", cny()).unwrap().minor_units(),
            1050
        );
    }

    #[test]
    fn decimals_beyond_what_decimal_holds_are_counted_not_rounded() {
        // 31 decimals: `Decimal::from_str` would round this to 1.00 and accept it.
        assert!(matches!(
            Money::positive("1.0000000000000000000000000000001", cny()),
            Err(MoneyError::TooManyDecimals {
                allowed: 2,
                actual: 31,
                ..
            })
        ));
        assert!(matches!(
            Money::positive("0.0000000000000000000000000000001", cny()),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        // Zeros are harmless wherever they are.
        assert_eq!(
            Money::positive("1.000000000000000000000000000000000", cny())
                .unwrap()
                .minor_units(),
            100
        );
        assert_eq!(
            Money::positive("00000000000000000000000000000000000001", cny())
                .unwrap()
                .minor_units(),
            100
        );
        assert_eq!(parse_amount("-0.50", cny()).unwrap().to_string(), "-0.50");
        assert_eq!(parse_amount("-0", cny()).unwrap().to_string(), "0.00");
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "", "1e5", "1_000", " 1", "1.", ".5", "+1", "1,00", "NaN", "--1", "0x10",
        ] {
            assert!(
                matches!(parse_amount(bad, cny()), Err(MoneyError::Malformed(_))),
                "{bad:?} was not refused as malformed"
            );
        }
    }

    #[test]
    fn sign_and_size_are_checked() {
        assert!(matches!(
            Money::positive("0", cny()),
            Err(MoneyError::NotPositive(_))
        ));
        assert!(matches!(
            Money::positive("-5", cny()),
            Err(MoneyError::NotPositive(_))
        ));
        assert!(Money::non_negative("0", cny()).is_ok());
        assert!(matches!(
            Money::non_negative("-0.01", cny()),
            Err(MoneyError::Negative(_))
        ));
        assert!(Money::positive("1000000000000", cny()).is_ok());
        assert!(matches!(
            Money::positive("1000000000000.01", cny()),
            Err(MoneyError::TooLarge { .. })
        ));
    }

    #[test]
    fn only_transaction_currencies_exist() {
        assert!(matches!(
            Currency::parse("cny"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            Currency::parse("ABC"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            Currency::parse("XAU"),
            Err(MoneyError::NotATransactionCurrency(_))
        ));
        assert!(matches!(
            Currency::parse("XXX"),
            Err(MoneyError::NotATransactionCurrency(_))
        ));
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
    }

    #[test]
    fn derived_figures_read_back_beyond_the_limit_of_one_amount() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Figure {
            #[serde(with = "derived")]
            exposure: Money,
        }
        let big = Figure {
            exposure: Money::of(Decimal::from(2 * AMOUNT_MAJOR_UNITS_MAX), cny()),
        };
        let json = serde_json::to_string(&big).unwrap();
        assert_eq!(serde_json::from_str::<Figure>(&json).unwrap(), big);
        let negative = r#"{"exposure":{"amount":"-12.50","currency":"CNY"}}"#;
        assert_eq!(
            serde_json::from_str::<Figure>(negative).unwrap().exposure,
            Money::of(Decimal::new(-1250, 2), cny())
        );
        let too_precise = r#"{"exposure":{"amount":"1.001","currency":"CNY"}}"#;
        assert!(serde_json::from_str::<Figure>(too_precise).is_err());
        // As an amount of its own, the same figure is too large.
        assert!(
            serde_json::from_str::<Money>(&serde_json::to_string(&big.exposure).unwrap()).is_err()
        );
    }

    #[test]
    fn money_round_trips_through_json_as_decimal_strings() {
        let money = Money::positive("99.90", cny()).unwrap();
        let json = serde_json::to_string(&money).unwrap();
        assert_eq!(json, r#"{"amount":"99.90","currency":"CNY"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
    }
}
