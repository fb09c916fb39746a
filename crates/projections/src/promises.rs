//! Promises to pay and their status as of a business date.
//!
//! A promise is judged by the customer's payments in the promise's currency, received by any
//! subsidiary, inside its window:
//!
//! ```text
//! window      = [made_on, min(as_of, promised_date + grace_days)]
//! paid        = sum of the customer's payments in the promise's currency received in the window
//! status      = Kept           when paid >= amount
//!               Broken         otherwise, when as_of > promised_date + grace_days
//!               PartiallyKept  otherwise, when paid > 0
//!               Open           otherwise
//! ```
//!
//! Promises made after `as_of` did not exist yet and are left out. A payment counts for every
//! promise whose window it falls in (two overlapping promises of 500.00 are both kept by one
//! payment of 500.00): a promise is a statement about the customer paying, not a claim on a
//! particular payment. The whole payment counts, whether it was applied to invoices or left as
//! unapplied cash.
//!
//! The database reads rows (the promises, and the customers' payments summed per day); the
//! windows are cut in Rust, so the SQL holds no date arithmetic.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use receivables_domain::ids::{PersonName, PromiseId};
use receivables_domain::{CustomerId, Money, SubsidiaryId};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::stored;

/// Days after the promised date during which a payment still keeps the promise.
pub const PROMISE_GRACE_DAYS_DEFAULT: u32 = 3;

/// Where a promise stands as of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromiseStatus {
    /// Nothing paid yet, and the window has not closed.
    Open,
    /// Something but not all paid, and the window has not closed.
    PartiallyKept,
    /// The payments in the window reached the amount.
    Kept,
    /// The window closed before the payments reached the amount.
    Broken,
}

/// One promise as of a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseLine {
    pub promise_id: PromiseId,
    pub customer: CustomerId,
    /// The subsidiary whose collector recorded the promise.
    pub subsidiary: SubsidiaryId,
    pub amount: Money,
    /// The customer's payments in the promise's currency received in the window so far.
    pub paid: Money,
    pub made_on: NaiveDate,
    pub promised_date: NaiveDate,
    /// The last day a payment counts: `promised_date + grace_days`.
    pub window_end: NaiveDate,
    pub collector: PersonName,
    pub status: PromiseStatus,
}

/// A promise with its position in the log, so that "the most recent promise" has one answer.
#[derive(Debug, Clone)]
pub(crate) struct EvaluatedPromise {
    pub line: PromiseLine,
    pub position: i64,
}

/// The last day a payment keeps a promise: `promised_date + grace_days` (saturating at the
/// calendar's end).
pub fn window_end(promised_date: NaiveDate, grace_days: u32) -> NaiveDate {
    promised_date
        .checked_add_days(Days::new(u64::from(grace_days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The status of a promise of `amount_minor`, with `paid_minor` received in its window, as of
/// `as_of` (see the module's formula).
pub fn status(
    amount_minor: i64,
    paid_minor: i64,
    as_of: NaiveDate,
    window_end: NaiveDate,
) -> PromiseStatus {
    if paid_minor >= amount_minor {
        PromiseStatus::Kept
    } else if as_of > window_end {
        PromiseStatus::Broken
    } else if paid_minor > 0 {
        PromiseStatus::PartiallyKept
    } else {
        PromiseStatus::Open
    }
}

/// Sum of the daily totals (sorted by date) received in `from..=to`.
pub fn paid_between(daily: &[(NaiveDate, i64)], from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return 0;
    }
    let start = daily.partition_point(|(day, _)| *day < from);
    let end = daily.partition_point(|(day, _)| *day <= to);
    daily[start..end].iter().map(|(_, minor)| minor).sum()
}

/// The promises made on or before `as_of`, of one customer or of all, with their status as of
/// `as_of`; only those in `status` when it is given. Ordered by customer, promised date, date
/// made and promise id.
pub async fn list_promises(
    pool: &ReadPool,
    customer: Option<&CustomerId>,
    status: Option<PromiseStatus>,
    as_of: NaiveDate,
    grace_days: u32,
) -> Result<Vec<PromiseLine>, ProjectionError> {
    Ok(evaluate(pool, customer, as_of, grace_days)
        .await?
        .into_iter()
        .map(|evaluated| evaluated.line)
        .filter(|line| status.is_none_or(|wanted| line.status == wanted))
        .collect())
}

type PromiseRow = (
    String,
    String,
    String,
    String,
    i64,
    NaiveDate,
    NaiveDate,
    String,
    i64,
);

/// Every promise made on or before `as_of` (of one customer or all), evaluated as of `as_of`.
pub(crate) async fn evaluate(
    pool: &ReadPool,
    customer: Option<&CustomerId>,
    as_of: NaiveDate,
    grace_days: u32,
) -> Result<Vec<EvaluatedPromise>, ProjectionError> {
    let customer = customer.map(CustomerId::as_str);
    let promises: Vec<PromiseRow> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT promise_id, customer_id, subsidiary_id, currency, amount_minor, made_on,
                promised_date, collector, position
         FROM promises
         WHERE made_on <= $1 AND ($2 IS NULL OR customer_id = $2)
         ORDER BY customer_id, promised_date, made_on, promise_id",
    )
    .bind(as_of)
    .bind(customer)
    .fetch_all(pool).await)?;
    let Some(earliest) = promises.iter().map(|row| row.5).min() else {
        return Ok(Vec::new());
    };
    // Daily payment totals of the customers with promises, from the earliest window's start.
    let payments: Vec<(String, String, NaiveDate, i64)> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT customer_id, currency, received_date, CAST(SUM(amount_minor) AS BIGINT)
         FROM payments
         WHERE received_date >= $1 AND received_date <= $2
           AND ($3 IS NULL OR customer_id = $3)
           AND customer_id IN (SELECT customer_id FROM promises WHERE made_on <= $2)
         GROUP BY customer_id, currency, received_date
         ORDER BY customer_id, currency, received_date",
    )
    .bind(earliest)
    .bind(as_of)
    .bind(customer)
    .fetch_all(pool).await)?;
    let mut daily: HashMap<(String, String), Vec<(NaiveDate, i64)>> = HashMap::new();
    for (customer, currency, day, minor) in payments {
        daily
            .entry((customer, currency))
            .or_default()
            .push((day, minor));
    }

    promises
        .into_iter()
        .map(|row| {
            let (id, customer, subsidiary, code, amount_minor, made_on, promised_date) =
                (row.0, row.1, row.2, row.3, row.4, row.5, row.6);
            let (collector, position) = (row.7, row.8);
            let end = window_end(promised_date, grace_days);
            let paid_minor = daily
                .get(&(customer.clone(), code.clone()))
                .map_or(0, |days| paid_between(days, made_on, end.min(as_of)));
            let currency = stored::currency(&code)?;
            let line = PromiseLine {
                promise_id: stored::promise_id(&id)?,
                customer: stored::customer(&customer)?,
                subsidiary: stored::subsidiary(&subsidiary)?,
                amount: from_minor(amount_minor, currency),
                paid: from_minor(paid_minor, currency),
                made_on,
                promised_date,
                window_end: end,
                collector: stored::person(&collector)?,
                status: status(amount_minor, paid_minor, as_of, end),
            };
            Ok(EvaluatedPromise { line, position })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_window_ends_grace_days_after_the_promised_date() {
        assert_eq!(window_end(date("2026-04-10"), 3), date("2026-04-13"));
        assert_eq!(window_end(date("2026-02-27"), 3), date("2026-03-02"));
        assert_eq!(window_end(date("2026-04-10"), 0), date("2026-04-10"));
        assert_eq!(window_end(NaiveDate::MAX, 3), NaiveDate::MAX);
    }

    #[test]
    fn status_follows_the_formula() {
        let end = date("2026-04-13");
        // Kept wins even after the window closed.
        assert_eq!(
            status(600, 600, date("2026-05-01"), end),
            PromiseStatus::Kept
        );
        assert_eq!(
            status(600, 700, date("2026-04-02"), end),
            PromiseStatus::Kept
        );
        // On the last day of the window: not yet broken.
        assert_eq!(status(600, 0, date("2026-04-13"), end), PromiseStatus::Open);
        assert_eq!(
            status(600, 1, date("2026-04-13"), end),
            PromiseStatus::PartiallyKept
        );
        // The day after: broken, whatever was paid short of the amount.
        assert_eq!(
            status(600, 599, date("2026-04-14"), end),
            PromiseStatus::Broken
        );
        assert_eq!(
            status(600, 0, date("2026-04-14"), end),
            PromiseStatus::Broken
        );
    }

    #[test]
    fn payments_count_inside_the_window_only() {
        let daily = [
            (date("2026-04-01"), 100),
            (date("2026-04-05"), 200),
            (date("2026-04-13"), 400),
            (date("2026-04-14"), 800),
        ];
        assert_eq!(
            paid_between(&daily, date("2026-04-02"), date("2026-04-13")),
            600
        );
        assert_eq!(
            paid_between(&daily, date("2026-04-01"), date("2026-04-01")),
            100
        );
        assert_eq!(
            paid_between(&daily, date("2026-04-06"), date("2026-04-12")),
            0
        );
        assert_eq!(
            paid_between(&daily, date("2026-04-13"), date("2026-04-02")),
            0
        );
        assert_eq!(paid_between(&[], date("2026-04-01"), date("2026-04-30")), 0);
    }
}
