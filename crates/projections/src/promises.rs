//! Promises to pay and their status as of a business date.
//!
//! A promise is judged by the customer's payments in the promise's currency, received by any
//! subsidiary, inside its window:
//!
//! ```text
//! window      = [made_on, min(as_of, promised_date + grace_days)]
//! paid        = sum of the customer's payments in the promise's currency received in the window
//! closed      = as_of > promised_date + grace_days
//! status      = Kept           when paid >= amount, closed or not
//!               Open           otherwise, while the window is open (whatever part is paid)
//!               PartiallyKept  otherwise (closed), when paid > 0
//!               Broken         otherwise (closed, nothing paid)
//! ```
//!
//! This is how collections products (SAP Collections Management, Oracle Advanced Collections)
//! judge a promise: the customer gave a date, so until that date and its grace days have passed
//! a partial payment is progress, not an outcome, and the promise stays open with what was paid
//! shown beside it. Only reaching the amount ends the wait early. When the window closes short of
//! the amount, something paid and nothing paid are told apart: the first is partially kept, the
//! second broken, and a collector follows up on both (the work queue weighs both).
//!
//! Promises made after `as_of` did not exist yet and are left out. A payment counts for every
//! promise whose window it falls in (two overlapping promises of 500.00 are both kept by one
//! payment of 500.00): a promise is a statement about the customer paying, not a claim on a
//! particular payment. The whole payment counts, whether it was applied to invoices or left as
//! unapplied cash.
//!
//! The database reads rows (the promises, and the customers' payments summed per day in
//! [`payments_per_day`]); the windows are cut in Rust, so the SQL holds no date arithmetic.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use receivables_domain::ids::{PersonName, PromiseId};
use receivables_domain::{CustomerId, Money, SubsidiaryId};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::paging::{
    PAGE_SIZE_DEFAULT, PageRequestError, Paged, check_page_size, decode_token, encode_token,
};
use crate::stored;

/// Days after the promised date during which a payment still keeps the promise.
pub const PROMISE_GRACE_DAYS_DEFAULT: u32 = 3;

/// Where a promise stands as of a date (see the module's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromiseStatus {
    /// The window has not closed and the payments in it have not reached the amount: nothing
    /// paid yet, or a part of it (shown as `paid`).
    Open,
    /// The window closed with something, but not all, paid in it.
    PartiallyKept,
    /// The payments in the window reached the amount, before or when the window closed.
    Kept,
    /// The window closed with nothing paid in it.
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

/// The last day a payment keeps a promise: `promised_date + grace_days` (saturating at the
/// calendar's end).
pub fn window_end(promised_date: NaiveDate, grace_days: u32) -> NaiveDate {
    promised_date
        .checked_add_days(Days::new(u64::from(grace_days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The status of a promise of `amount_minor`, with `paid_minor` received in its window, as of
/// `as_of` (see the module's rule). A window ending on `as_of` is still open: a payment received
/// that day still counts.
pub fn status(
    amount_minor: i64,
    paid_minor: i64,
    as_of: NaiveDate,
    window_end: NaiveDate,
) -> PromiseStatus {
    if paid_minor >= amount_minor {
        PromiseStatus::Kept
    } else if as_of <= window_end {
        PromiseStatus::Open
    } else if paid_minor > 0 {
        PromiseStatus::PartiallyKept
    } else {
        PromiseStatus::Broken
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

/// A customer's payments in one currency summed per day: (customer id, currency code) to
/// (received date, total in minor units), the dates ascending.
pub(crate) type PaymentsPerDay = HashMap<(String, String), Vec<(NaiveDate, i64)>>;

/// What the customers with a promise made on or before `to` (only `customer`, when given)
/// received per day and currency from `from` to `to`, both included. This is the one place that
/// says what counts as paid towards a promise, so that whatever changes it changes it here and
/// every promise's status follows: a payment reversed on or before `to` never counted (a bounced
/// cheque keeps no promise), one reversed later still counts as of `to`.
pub(crate) async fn payments_per_day(
    pool: &ReadPool,
    customer: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<PaymentsPerDay, ProjectionError> {
    let payments: Vec<(String, String, NaiveDate, i64)> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT customer_id, currency, received_date, CAST(SUM(amount_minor) AS BIGINT)
         FROM (SELECT customer_id, currency, received_date, amount_minor
               FROM payments
               WHERE received_date >= $1 AND received_date <= $2
               UNION ALL
               SELECT customer_id, currency, received_date, -amount_minor
               FROM payment_reversals
               WHERE received_date >= $1 AND received_date <= $2 AND reversal_date <= $2) p
         WHERE ($3 IS NULL OR customer_id = $3)
           AND customer_id IN (SELECT customer_id FROM promises WHERE made_on <= $2)
         GROUP BY customer_id, currency, received_date
         ORDER BY customer_id, currency, received_date",
    )
    .bind(from)
    .bind(to)
    .bind(customer)
    .fetch_all(pool).await)?;
    let mut daily = PaymentsPerDay::new();
    for (customer, currency, day, minor) in payments {
        daily
            .entry((customer, currency))
            .or_default()
            .push((day, minor));
    }
    Ok(daily)
}

/// The listing kind written in promise page tokens.
const TOKEN_KIND: &str = "promises";

/// Where a page of promises ends: the sort key of its last line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PromiseCursor {
    customer: String,
    promised_date: NaiveDate,
    made_on: NaiveDate,
    promise_id: String,
}

/// Which promises to list, as of which date, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseQuery {
    as_of: NaiveDate,
    /// Only this customer's promises.
    pub customer: Option<CustomerId>,
    /// Only promises in this status as of the date.
    pub status: Option<PromiseStatus>,
    /// Only the promises this collector recorded.
    pub collector: Option<PersonName>,
    /// Only the promises recorded for this subsidiary.
    pub subsidiary: Option<SubsidiaryId>,
    /// Only promises whose promised date is on or after this date.
    pub promised_from: Option<NaiveDate>,
    /// Only promises whose promised date is on or before this date.
    pub promised_to: Option<NaiveDate>,
    /// Grace days after a promised date during which payments still count for the promise.
    pub grace_days: u32,
    /// `None`: every promise in one page.
    page_size: Option<u32>,
    after: Option<PromiseCursor>,
}

impl PromiseQuery {
    /// The first page of [`PAGE_SIZE_DEFAULT`] promises as of `as_of`, unfiltered, with the
    /// default grace.
    pub fn new(as_of: NaiveDate) -> Self {
        PromiseQuery {
            as_of,
            customer: None,
            status: None,
            collector: None,
            subsidiary: None,
            promised_from: None,
            promised_to: None,
            grace_days: PROMISE_GRACE_DAYS_DEFAULT,
            page_size: Some(PAGE_SIZE_DEFAULT),
            after: None,
        }
    }

    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// Every matching promise in one page: for the promises of one customer, which is how the
    /// listing was read before it had pages.
    pub fn unpaged(mut self) -> Self {
        self.page_size = None;
        self
    }
}

impl Paged for PromiseQuery {
    fn with_page_size(mut self, page_size: u32) -> Result<Self, PageRequestError> {
        self.page_size = Some(check_page_size(page_size)?);
        Ok(self)
    }

    /// Continues after the page that returned `token` (a promise listing's token for the same
    /// date).
    fn with_page_token(mut self, token: &str) -> Result<Self, PageRequestError> {
        let mut fields = decode_token(token, TOKEN_KIND, self.as_of, 4)?.into_iter();
        let malformed = || PageRequestError::MalformedToken("bad promise key");
        let (Some(customer), Some(promised), Some(made_on), Some(promise_id)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(malformed());
        };
        let date =
            |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| malformed());
        self.after = Some(PromiseCursor {
            customer,
            promised_date: date(&promised)?,
            made_on: date(&made_on)?,
            promise_id,
        });
        Ok(self)
    }
}

/// A page of promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromisePage {
    pub promises: Vec<PromiseLine>,
    /// Present when more promises follow: pass it to [`Paged::with_page_token`].
    pub next_page_token: Option<String>,
}

/// The promises `query` asks for, made on or before its date, with their status as of it.
/// Ordered by customer, promised date, date made and promise id.
pub async fn list_promises(
    pool: &ReadPool,
    query: &PromiseQuery,
) -> Result<PromisePage, ProjectionError> {
    let size = query.page_size.map_or(usize::MAX, |size| size as usize);
    let mut promises: Vec<PromiseLine> =
        evaluate(pool, &Filter::of(query), query.as_of, query.grace_days)
            .await?
            .into_iter()
            .filter(|line| query.status.is_none_or(|wanted| line.status == wanted))
            .take(size.saturating_add(1))
            .collect();
    let more = promises.len() > size;
    promises.truncate(size);
    let next_page_token = match promises.last() {
        Some(last) if more => Some(encode_token(
            TOKEN_KIND,
            query.as_of,
            &[
                last.customer.as_str(),
                &last.promised_date.to_string(),
                &last.made_on.to_string(),
                &last.promise_id.to_string(),
            ],
        )),
        _ => None,
    };
    Ok(PromisePage {
        promises,
        next_page_token,
    })
}

/// What the database narrows the promises to before they are evaluated.
#[derive(Debug, Default)]
pub(crate) struct Filter<'a> {
    customer: Option<&'a str>,
    collector: Option<&'a str>,
    subsidiary: Option<&'a str>,
    promised_from: Option<NaiveDate>,
    promised_to: Option<NaiveDate>,
    after: Option<&'a PromiseCursor>,
}

impl<'a> Filter<'a> {
    fn of(query: &'a PromiseQuery) -> Self {
        Filter {
            customer: query.customer.as_ref().map(CustomerId::as_str),
            collector: query.collector.as_ref().map(PersonName::as_str),
            subsidiary: query.subsidiary.as_ref().map(SubsidiaryId::as_str),
            promised_from: query.promised_from,
            promised_to: query.promised_to,
            after: query.after.as_ref(),
        }
    }

    /// Every promise.
    pub(crate) fn all() -> Self {
        Filter::default()
    }
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
);

/// Every promise made on or before `as_of` that `filter` lets through, evaluated as of
/// `as_of`, in the listing's order.
pub(crate) async fn evaluate(
    pool: &ReadPool,
    filter: &Filter<'_>,
    as_of: NaiveDate,
    grace_days: u32,
) -> Result<Vec<PromiseLine>, ProjectionError> {
    let customer = filter.customer;
    let after = filter.after;
    let promises: Vec<PromiseRow> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT promise_id, customer_id, subsidiary_id, currency, amount_minor, made_on,
                promised_date, collector
         FROM promises
         WHERE made_on <= $1 AND ($2 IS NULL OR customer_id = $2)
           AND ($3 IS NULL OR collector = $3)
           AND ($4 IS NULL OR subsidiary_id = $4)
           AND ($5 IS NULL OR promised_date >= $5)
           AND ($6 IS NULL OR promised_date <= $6)
           AND ($7 IS NULL
                OR (customer_id, promised_date, made_on, promise_id) > ($7, $8, $9, $10))
         ORDER BY customer_id, promised_date, made_on, promise_id",
    )
    .bind(as_of)
    .bind(customer)
    .bind(filter.collector)
    .bind(filter.subsidiary)
    .bind(filter.promised_from)
    .bind(filter.promised_to)
    .bind(after.map(|a| a.customer.as_str()))
    .bind(after.map(|a| a.promised_date))
    .bind(after.map(|a| a.made_on))
    .bind(after.map(|a| a.promise_id.as_str()))
    .fetch_all(pool).await)?;
    let Some(earliest) = promises.iter().map(|row| row.5).min() else {
        return Ok(Vec::new());
    };
    let daily = payments_per_day(pool, customer, earliest, as_of).await?;

    promises
        .into_iter()
        .map(|row| {
            let (id, customer, subsidiary, code, amount_minor, made_on, promised_date) =
                (row.0, row.1, row.2, row.3, row.4, row.5, row.6);
            let collector = row.7;
            let end = window_end(promised_date, grace_days);
            let paid_minor = daily
                .get(&(customer.clone(), code.clone()))
                .map_or(0, |days| paid_between(days, made_on, end.min(as_of)));
            let currency = stored::currency(&code)?;
            Ok(PromiseLine {
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
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    #[test]
    fn the_window_ends_grace_days_after_the_promised_date() {
        assert_eq!(window_end(date("2026-04-10"), 3), date("2026-04-13"));
        assert_eq!(window_end(date("2026-02-27"), 3), date("2026-03-02"));
        assert_eq!(window_end(date("2026-04-10"), 0), date("2026-04-10"));
        assert_eq!(window_end(NaiveDate::MAX, 3), NaiveDate::MAX);
    }

    // A promise of 600.00 (60000 minor units) promised for 04-10: with 3 grace days its window
    // ends on 04-13, and closes on 04-14.

    #[test]
    fn a_promise_short_of_its_amount_stays_open_while_its_window_is() {
        let end = date("2026-04-13");
        // Given nothing paid, when asked before, on and after the promised date up to the last
        // day of grace, then open.
        for as_of in ["2026-04-02", "2026-04-10", "2026-04-13"] {
            assert_eq!(status(60000, 0, date(as_of), end), PromiseStatus::Open);
        }
        // Given 599.99 of 600.00 paid, when asked on the window's last day, then still open.
        assert_eq!(
            status(60000, 59999, date("2026-04-13"), end),
            PromiseStatus::Open
        );
    }

    #[test]
    fn a_promise_is_kept_as_soon_as_its_amount_is_paid() {
        let end = date("2026-04-13");
        // Given the whole amount paid, when asked before the promised date, then kept.
        assert_eq!(
            status(60000, 60000, date("2026-04-02"), end),
            PromiseStatus::Kept
        );
        // Given more than the amount paid, when asked within grace, then kept.
        assert_eq!(
            status(60000, 70000, date("2026-04-12"), end),
            PromiseStatus::Kept
        );
        // Given the amount paid in the window, when asked long after it closed, then still kept.
        assert_eq!(
            status(60000, 60000, date("2026-05-01"), end),
            PromiseStatus::Kept
        );
    }

    #[test]
    fn a_closed_window_short_of_the_amount_is_partially_kept_or_broken() {
        let end = date("2026-04-13");
        let closed = date("2026-04-14");
        // Given 599.99 paid, when asked the day the window closed, then partially kept.
        assert_eq!(
            status(60000, 59999, closed, end),
            PromiseStatus::PartiallyKept
        );
        // Given 0.01 paid, then partially kept too: something was paid.
        assert_eq!(status(60000, 1, closed, end), PromiseStatus::PartiallyKept);
        // Given nothing paid, then broken.
        assert_eq!(status(60000, 0, closed, end), PromiseStatus::Broken);
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
