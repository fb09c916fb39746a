//! The exchange rates in force on a date, from the ledger's `exchange_rates` table, as the
//! domain's [`ExchangeRates`], so that the reports convert exactly as the credit check does
//! (`receivables_domain::exchange`): the rate of a currency on a date is the latest published
//! on or before it, the later recorded among rates of the same date.

use chrono::NaiveDate;
use receivables_domain::Currency;
use receivables_domain::exchange::{ExchangeRate, ExchangeRates, Rate};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::stored;

/// The rates in force on `as_of`, each currency's latest on or before it.
pub async fn rates_on(pool: &ReadPool, as_of: NaiveDate) -> Result<ExchangeRates, ProjectionError> {
    let rows: Vec<(String, String, String)> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT r.base, r.currency, r.rate
         FROM exchange_rates r
         WHERE r.rate_date <= $1
           AND NOT EXISTS (
               SELECT 1 FROM exchange_rates later
               WHERE later.currency = r.currency AND later.rate_date <= $1
                 AND (later.rate_date > r.rate_date
                      OR (later.rate_date = r.rate_date AND later.position > r.position)))
         ORDER BY r.currency",
    )
    .bind(as_of)
    .fetch_all(pool).await)?;
    let mut rates = ExchangeRates::default();
    let mut base = None;
    let mut published = Vec::with_capacity(rows.len());
    for (row_base, currency, rate) in rows {
        let row_base = stored::currency(&row_base)?;
        // Written by the group's account, which refuses a second base; checked where read.
        if let Some(first) = base
            && first != row_base
        {
            return Err(ProjectionError::Stored(format!(
                "exchange rates to two bases, {first} and {row_base}"
            )));
        }
        base = Some(row_base);
        published.push(ExchangeRate {
            currency: stored::currency(&currency)?,
            rate: Rate::parse(&rate)
                .map_err(|e| ProjectionError::Stored(format!("rate of {currency}: {e}")))?,
        });
    }
    // Without any rate on or before the date, the base is still the group's currency, worth 1.
    let base = match base {
        Some(base) => Some(base),
        None => self::base(pool).await?,
    };
    if let Some(base) = base {
        // Each rate is the one in force on `as_of`: recorded under that date, it is found on it.
        rates.publish(base, as_of, &published);
    }
    Ok(rates)
}

/// The group's currency, once any rate was published (whatever the date).
pub async fn base(pool: &ReadPool) -> Result<Option<Currency>, ProjectionError> {
    let row: Option<(String,)> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT base FROM exchange_rates ORDER BY position LIMIT 1",
    )
    .fetch_optional(pool).await)?;
    row.map(|(code,)| stored::currency(&code)).transpose()
}
