//! The open amount of an invoice as of a business date, defined once for every report that
//! needs it (aging, open items, exposure, the work queue):
//!
//! ```text
//! open_minor(invoice, as_of) = amount_minor
//!                            - sum of its allocations with received_date  <= as_of
//!                            - sum of its settlements with effective_date <= as_of
//! ```
//!
//! for the invoices issued on or before `as_of`, where a settlement is a credit note, a
//! write-off or an application of unapplied money taking its amount off, or a reversed payment's
//! allocation putting it back (stored negative). Payments received later, and credit notes,
//! write-offs, reversals and applications dated later, do not count, so the figures of a past
//! date are what they were then. Beside it, the disputed part of it:
//!
//! ```text
//! disputed_minor(invoice, as_of) = min(open_minor, amount of the dispute holding on as_of)
//! ```
//!
//! where a dispute holds from the day it was opened to its expiry date (or until resolved),
//! and no longer from the day it was resolved. It stays owed (aging and exposure count it) but
//! collectors do not chase it (the work queue leaves it out).
//!
//! It is the common table expression `open_items`, to be used as `WITH {open_items} SELECT ...
//! FROM open_items ...`, with the columns `subsidiary_id, invoice_number, customer_id, currency,
//! amount_minor, issue_date, due_date, over_limit, open_minor, disputed_minor` and the
//! parameters `$1` the as-of date, `$2` a subsidiary, `$3` a customer, `$4` a currency (`NULL`:
//! all), leaving `$5` on to the query that uses it.
//!
//! The same definition comes in two plans: over many customers the allocations are summed per
//! invoice first and joined (one pass over each table); for one customer its invoices are looked
//! up and each one's allocations and settlements summed through their index, which a sum over
//! every allocation would make as slow as the whole group.

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;

/// The number of the first parameter the query using [`open_items`] may use.
pub const FIRST_FREE_PARAMETER: usize = 5;

/// Over the invoices of every customer, or of many (`$3` may be `NULL`).
const OPEN_ITEMS_OF_MANY: &str = "open_base AS (
    SELECT i.subsidiary_id, i.invoice_number, i.customer_id, i.currency, i.amount_minor,
           i.issue_date, i.due_date, i.over_limit,
           i.amount_minor - COALESCE(a.applied_minor, 0) AS open_minor
    FROM invoices i
    LEFT JOIN (SELECT subsidiary_id, invoice_number, SUM(amount_minor) AS applied_minor
               FROM (SELECT subsidiary_id, invoice_number, amount_minor
                     FROM allocations WHERE received_date <= $1
                     UNION ALL
                     SELECT subsidiary_id, invoice_number, amount_minor
                     FROM settlements WHERE effective_date <= $1) m
               GROUP BY subsidiary_id, invoice_number) a
      USING (subsidiary_id, invoice_number)
    WHERE i.issue_date <= $1
      AND ($2 IS NULL OR i.subsidiary_id = $2)
      AND ($3 IS NULL OR i.customer_id = $3)
      AND ($4 IS NULL OR i.currency = $4))";

/// The columns of `open_base` with each invoice's allocations and settlements summed by the
/// invoice's own index entries (`allocations_invoice`, `settlements_invoice`), for the plans
/// over a few invoices.
const OPEN_BY_INVOICE: &str = "
    SELECT i.subsidiary_id, i.invoice_number, i.customer_id, i.currency, i.amount_minor,
           i.issue_date, i.due_date, i.over_limit,
           i.amount_minor
             - COALESCE((SELECT SUM(a.amount_minor) FROM allocations a
                         WHERE a.subsidiary_id = i.subsidiary_id
                           AND a.invoice_number = i.invoice_number
                           AND a.received_date <= $1), 0)
             - COALESCE((SELECT SUM(s.amount_minor) FROM settlements s
                         WHERE s.subsidiary_id = i.subsidiary_id
                           AND s.invoice_number = i.invoice_number
                           AND s.effective_date <= $1), 0) AS open_minor";

/// Over one customer's invoices (`$3` must be given), each summed by its own index entries
/// ([`OPEN_BY_INVOICE`]), so that the cost follows the customer's movements, not the group's
/// (a join to their union would have SQLite read every customer's movements first).
fn open_items_of_one_customer() -> String {
    format!(
        "open_base AS ({OPEN_BY_INVOICE}
    FROM invoices i
    WHERE i.issue_date <= $1
      AND ($2 IS NULL OR i.subsidiary_id = $2)
      AND i.customer_id = $3
      AND ($4 IS NULL OR i.currency = $4))"
    )
}

/// Over the invoices listed in `summary_dirty_invoices` (`crate::summaries`: those a batch
/// moved), each summed by its own index entries as for one customer. It takes `$1` alone (the
/// filters of the other plans, always `NULL` here, would have PostgreSQL's generic plan guess
/// that few invoices pass them), and is materialized, so that the movements of the listed
/// invoices alone are summed: inlined, PostgreSQL would sum every invoice's before joining the
/// list. The list comes first as a `CROSS JOIN`, which SQLite keeps in that order (it read
/// every invoice otherwise) and PostgreSQL plans as any join.
fn open_items_of_listed_base() -> String {
    format!(
        "open_base AS MATERIALIZED ({OPEN_BY_INVOICE}
    FROM summary_dirty_invoices k
    CROSS JOIN invoices i
    WHERE i.subsidiary_id = k.subsidiary_id AND i.invoice_number = k.invoice_number
      AND i.issue_date <= $1)"
    )
}

/// The disputed part of each open amount (`disputed_minor`), over either plan's `open_base`:
/// the amount of the dispute holding on `$1` (opened on or before it, not past its last day,
/// not resolved on or before it), never more than the open amount.
const WITH_DISPUTES: &str = ",
open_items AS (
    SELECT b.subsidiary_id, b.invoice_number, b.customer_id, b.currency, b.amount_minor,
           b.issue_date, b.due_date, b.over_limit, b.open_minor,
           CASE WHEN COALESCE(d.disputed_minor, 0) < b.open_minor
                THEN COALESCE(d.disputed_minor, 0) ELSE b.open_minor END AS disputed_minor
    FROM open_base b
    LEFT JOIN (SELECT subsidiary_id, invoice_number, SUM(amount_minor) AS disputed_minor
               FROM disputes
               WHERE opened_on <= $1 AND holds_until >= $1
                 AND NOT EXISTS (SELECT 1 FROM dispute_resolutions r
                                 WHERE r.dispute_id = disputes.dispute_id
                                   AND r.resolved_on <= $1)
               GROUP BY subsidiary_id, invoice_number) d
      USING (subsidiary_id, invoice_number))";

/// The `open_items` expression for a query of one customer (`$3` bound) or of many (`$3`
/// bound or `NULL`).
pub fn open_items(one_customer: bool) -> String {
    if one_customer {
        format!("{}{WITH_DISPUTES}", open_items_of_one_customer())
    } else {
        format!("{OPEN_ITEMS_OF_MANY}{WITH_DISPUTES}")
    }
}

/// The `open_items` expression over the invoices listed in `summary_dirty_invoices` only
/// (`$1` the date, no other parameter).
pub(crate) fn open_items_of_listed() -> String {
    format!("{}{WITH_DISPUTES}", open_items_of_listed_base())
}

/// `CASE` giving the larger of `a` and `b`: the same SQL on both engines (PostgreSQL's
/// `GREATEST` and SQLite's two-argument `MAX` differ).
fn greater(a: &str, b: &str) -> String {
    format!("(CASE WHEN {a} > {b} THEN {a} ELSE {b} END)")
}

/// The open amount of each row an invoice is due in as of `$1`, defined once for the reports
/// that age by payment terms (the aging's `PaymentTerms` basis, its open items, the exposure's
/// and the work queue's overdue amounts): the rows of the instalment plan holding on `$1` (agreed
/// on or before it, not cancelled on or before it), else the rows of the invoice's own schedule
/// (`schedule_rows`), else the invoice itself as one row. Rows are paid in due order
/// (`receivables_domain::terms::open_by_row`): with `T` the rows' total (the plan's, or the
/// invoice's amount), `O` the invoice's open amount, `s = T - O` what was settled of them, and
/// `cumulative` the rows' running total, what the rows up to one still owe is
///
/// ```text
/// through(row) = max(0, cumulative - s)        (when O > T, the excess is owed with row 0)
/// before(row)  = 0 for the first row, else through(the row above)
/// open(row)    = through(row) - before(row)
/// collectible(row) = max(0, through(row) - max(disputed, before(row)))
/// disputed(row)    = open(row) - collectible(row)
/// ```
///
/// so the rows add up to the invoice's open amount and its disputed part holds back its
/// earliest open rows. It follows [`open_items`] (`WITH {open_items}{open_rows} ...`) and is
/// the table expression `open_rows`, with the columns of `open_items`, `row_index` (`NULL`
/// for an invoice that is its own row), `plan_id` (the instalment plan a row is of; `NULL`
/// for the invoice's own rows) and `invoice_due_date` (the invoice's own): `due_date`,
/// `open_minor` and `disputed_minor` are the row's. No table expression in it is used twice,
/// so that PostgreSQL keeps it inline (and its plans parallel); the schedules of invoices under
/// a plan are left out by a join rather than a `NOT EXISTS` per row, which PostgreSQL would run
/// once for every row of every schedule.
pub fn open_rows() -> String {
    rows_of(false)
}

/// [`open_rows`] over the invoices listed in `summary_dirty_invoices` only: the schedules and
/// plans of those invoices alone are read.
pub(crate) fn open_rows_of_listed() -> String {
    rows_of(true)
}

/// [`open_rows`], its schedules and plans restricted to the invoices listed in
/// `summary_dirty_invoices` when `listed`.
fn rows_of(listed: bool) -> String {
    let only = |alias: &str| {
        if listed {
            format!(
                "
      AND ({alias}.subsidiary_id, {alias}.invoice_number) IN
          (SELECT subsidiary_id, invoice_number FROM summary_dirty_invoices)"
            )
        } else {
            String::new()
        }
    };
    let settled = "(COALESCE(r.total_minor, i.amount_minor) - i.open_minor)";
    let through = greater(&format!("r.cumulative_minor - {settled}"), "0");
    let before = format!(
        "(CASE WHEN r.row_index = 0 THEN 0 ELSE {} END)",
        greater(
            &format!("r.cumulative_minor - r.amount_minor - {settled}"),
            "0"
        )
    );
    let held = greater("i.disputed_minor", &before);
    let collectible = greater(&format!("{through} - {held}"), "0");
    let holding = "p.agreed_on <= $1
          AND NOT EXISTS (SELECT 1 FROM instalment_plan_cancellations c
                          WHERE c.plan_id = p.plan_id AND c.cancelled_on <= $1)";
    format!(
        ",
due_rows AS (
    SELECT p.subsidiary_id, p.invoice_number, p.total_minor, pr.row_index, pr.due_date,
           pr.amount_minor, pr.cumulative_minor, p.plan_id
    FROM instalment_plans p JOIN instalment_plan_rows pr ON pr.plan_id = p.plan_id
    WHERE {holding}{plans_listed}
    UNION ALL
    SELECT s.subsidiary_id, s.invoice_number, CAST(NULL AS BIGINT) AS total_minor, s.row_index,
           s.due_date, s.amount_minor, s.cumulative_minor, CAST(NULL AS TEXT) AS plan_id
    FROM schedule_rows s
    LEFT JOIN (SELECT p.subsidiary_id, p.invoice_number FROM instalment_plans p
               WHERE {holding}) h
      ON h.subsidiary_id = s.subsidiary_id AND h.invoice_number = s.invoice_number
    WHERE h.subsidiary_id IS NULL{schedules_listed}),
open_rows AS (
    SELECT i.subsidiary_id, i.invoice_number, i.customer_id, i.currency, i.amount_minor,
           i.issue_date, COALESCE(r.due_date, i.due_date) AS due_date, i.over_limit,
           CASE WHEN r.row_index IS NULL THEN i.open_minor ELSE {through} - {before} END
             AS open_minor,
           CASE WHEN r.row_index IS NULL THEN i.disputed_minor
                ELSE {through} - {before} - {collectible} END AS disputed_minor,
           r.row_index, r.plan_id, i.due_date AS invoice_due_date
    FROM open_items i
    LEFT JOIN due_rows r ON r.subsidiary_id = i.subsidiary_id
                        AND r.invoice_number = i.invoice_number)",
        plans_listed = only("p"),
        schedules_listed = only("s"),
    )
}

/// Whether any invoice is due in rows (a schedule, an instalment plan): without any, every
/// invoice is its own row and the reports read [`open_items`] alone, which costs them nothing
/// for a group that uses no payment terms (joining the rows kept PostgreSQL from planning the
/// work queue in parallel and doubled its time; BENCHMARKS.md).
pub async fn any_rows(pool: &ReadPool) -> Result<bool, ProjectionError> {
    const ANY: &str = "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM schedule_rows)
                                   OR EXISTS (SELECT 1 FROM instalment_plans)
                              THEN 1 ELSE 0 END AS BIGINT)";
    let (any,): (i64,) = on_engine!(pool, pool => sqlx::query_as(ANY).fetch_one(pool).await)?;
    Ok(any == 1)
}

/// The condition on `customer_id` of a query whose customer is parameter `$n`: an equality
/// when the query is of one customer, which SQLite pushes into each branch of a union such as
/// [`UNAPPLIED_MOVES`] and answers from the customer indexes; `$n IS NULL OR ...` (any
/// customer, or the one bound) otherwise, which would have it read every customer's rows.
pub fn customer_is(n: usize, one_customer: bool) -> String {
    if one_customer {
        format!("customer_id = ${n}")
    } else {
        format!("(${n} IS NULL OR customer_id = ${n})")
    }
}

/// The movements of customers' unapplied money, defined once for every report that needs it
/// (aging, exposure): the unapplied part of each payment on its received date, and every row of
/// `unapplied_movements` (credit notes on account adding unapplied credit; applications, refunds
/// and reversed payments taking money out, stored negative) on its effective date:
///
/// ```text
/// unapplied_minor(customer, currency, as_of) = sum of amount_minor with moved_on <= as_of
/// ```
///
/// The common table expression `unapplied_moves`, with the columns `customer_id,
/// subsidiary_id, currency, source ('cash' or 'credit'), amount_minor, moved_on`; it takes no
/// parameters, the query using it filters.
pub const UNAPPLIED_MOVES: &str = "unapplied_moves AS (
    SELECT customer_id, subsidiary_id, currency, 'cash' AS source,
           unapplied_minor AS amount_minor, received_date AS moved_on
    FROM payments WHERE unapplied_minor <> 0
    UNION ALL
    SELECT customer_id, subsidiary_id, currency, source, amount_minor,
           effective_date AS moved_on
    FROM unapplied_movements)";

/// The credit reserved for customers' sales orders as of a date, defined once for every report
/// that shows it (exposure, the statement):
///
/// ```text
/// reserved_minor(reservation, as_of) = amount_minor
///                                    - sum of its movements with moved_on <= as_of
/// ```
///
/// for the reservations made on or before `as_of` that have not expired before it (`as_of <=
/// expires_on`), where a movement is what an invoice consumed of it or a release took off it.
/// A reservation that expired counts for nothing from the day after its expiry date, as in the
/// write side's credit check. Summed per customer and currency, of one customer or every one,
/// of one subsidiary's orders or every subsidiary's; currencies with nothing reserved are left
/// out.
pub async fn reserved(
    pool: &ReadPool,
    customer: Option<&str>,
    subsidiary: Option<&str>,
    as_of: chrono::NaiveDate,
) -> Result<std::collections::BTreeMap<(String, String), i64>, ProjectionError> {
    let sql = format!(
        "SELECT r.customer_id, r.currency,
                CAST(SUM(r.amount_minor
                         - COALESCE((SELECT SUM(m.amount_minor)
                                     FROM credit_reservation_movements m
                                     WHERE m.subsidiary_id = r.subsidiary_id
                                       AND m.order_number = r.order_number
                                       AND m.moved_on <= $1), 0)) AS BIGINT)
         FROM credit_reservations r
         WHERE r.reserved_on <= $1 AND $1 <= r.expires_on AND {customer}
           AND ($3 IS NULL OR r.subsidiary_id = $3)
         GROUP BY r.customer_id, r.currency",
        customer = customer_is(2, customer.is_some()),
    );
    let rows: Vec<(String, String, i64)> = on_engine!(pool, pool => sqlx::query_as(&sql)
        .bind(as_of)
        .bind(customer)
        .bind(subsidiary)
        .fetch_all(pool).await)?;
    let mut reserved = std::collections::BTreeMap::new();
    for (customer, currency, minor) in rows {
        // Written by the aggregate (a reservation never gives more than it holds), checked
        // again where it is read.
        if minor < 0 {
            return Err(ProjectionError::Stored(format!(
                "credit reserved for {customer} in {currency} is below zero as of {as_of}"
            )));
        }
        if minor > 0 {
            reserved.insert((customer, currency), minor);
        }
    }
    Ok(reserved)
}
