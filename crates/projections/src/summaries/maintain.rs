//! Keeping today's summaries in the batch's transaction (see the module above): whole, or the
//! invoices and customers the events since their position moved, or on a new date those whose
//! rows differ between the two dates, with every balance summed again.
//!
//! Every statement is the same SQL on both engines; the rows are worked out by the exact
//! definitions (`open_amounts.rs`) restricted to the invoices listed in
//! `summary_dirty_invoices`, and the balances summed from the rows, so that a summary cannot
//! say anything the exact computation would not.

use chrono::NaiveDate;
use tracing::{debug, info};

use super::{INCREMENTAL_EVENTS_MAX, SUMMARY_BUCKETS, bucket_starts};
use crate::engine::{Bind, WriteConnection};
use crate::error::ProjectionError;
use crate::open_amounts::{
    UNAPPLIED_MOVES, open_items, open_items_of_listed, open_rows, open_rows_of_listed,
};

const SELECT_STATE: &str = "SELECT as_of, position FROM summary_state WHERE id = 1";

const STORE_STATE: &str = "INSERT INTO summary_state (id, as_of, position) VALUES (1, $1, $2)
     ON CONFLICT (id) DO UPDATE SET as_of = EXCLUDED.as_of, position = EXCLUDED.position";

/// The invoices whose rows the events after the position `$1` may have changed: every table
/// that moves an invoice's open amount, its disputed part or the rows it is due in, by the
/// position of the event that recorded the row (a resolution and a cancellation by their
/// dispute's and plan's invoice).
const MOVED_AFTER: [&str; 7] = [
    "SELECT subsidiary_id, invoice_number FROM invoices WHERE position > $1",
    "SELECT subsidiary_id, invoice_number FROM allocations WHERE position > $1",
    "SELECT subsidiary_id, invoice_number FROM settlements WHERE position > $1",
    "SELECT subsidiary_id, invoice_number FROM disputes WHERE position > $1",
    "SELECT d.subsidiary_id, d.invoice_number
     FROM dispute_resolutions r JOIN disputes d ON d.dispute_id = r.dispute_id
     WHERE r.position > $1",
    "SELECT subsidiary_id, invoice_number FROM instalment_plans WHERE position > $1",
    "SELECT p.subsidiary_id, p.invoice_number
     FROM instalment_plan_cancellations c JOIN instalment_plans p ON p.plan_id = c.plan_id
     WHERE c.position > $1",
];

/// The invoices whose rows differ between the dates `$2` and `$3` (`$2` the earlier): issued,
/// paid, settled, disputed, resolved, rescheduled or cancelled after `$2` and by `$3`, or whose
/// dispute held on `$2` and no longer on `$3`. Ageing alone changes no row (a row keeps its
/// dates; the balances cut the buckets).
const MOVED_BETWEEN: [&str; 7] = [
    "SELECT subsidiary_id, invoice_number FROM invoices
     WHERE issue_date > $2 AND issue_date <= $3",
    "SELECT subsidiary_id, invoice_number FROM allocations
     WHERE received_date > $2 AND received_date <= $3",
    "SELECT subsidiary_id, invoice_number FROM settlements
     WHERE effective_date > $2 AND effective_date <= $3",
    "SELECT subsidiary_id, invoice_number FROM disputes
     WHERE (opened_on > $2 AND opened_on <= $3) OR (holds_until >= $2 AND holds_until < $3)",
    "SELECT d.subsidiary_id, d.invoice_number
     FROM dispute_resolutions r JOIN disputes d ON d.dispute_id = r.dispute_id
     WHERE r.resolved_on > $2 AND r.resolved_on <= $3",
    "SELECT subsidiary_id, invoice_number FROM instalment_plans
     WHERE agreed_on > $2 AND agreed_on <= $3",
    "SELECT p.subsidiary_id, p.invoice_number
     FROM instalment_plan_cancellations c JOIN instalment_plans p ON p.plan_id = c.plan_id
     WHERE c.cancelled_on > $2 AND c.cancelled_on <= $3",
];

/// Lists the invoices moved after the position `$1` and, when `between_dates`, those whose
/// rows differ between `$2` and `$3`, in one statement (each invoice once).
fn list_dirty_invoices(between_dates: bool) -> String {
    let mut parts: Vec<&str> = MOVED_AFTER.to_vec();
    if between_dates {
        parts.extend(MOVED_BETWEEN);
    }
    format!(
        "INSERT INTO summary_dirty_invoices (subsidiary_id, invoice_number)
         {}",
        parts.join("\n         UNION ")
    )
}

/// The balances of the listed invoices (issued by `$1`); the list first, as in
/// `open_amounts::open_items_of_listed`.
const LIST_DIRTY_BALANCES: &str =
    "INSERT INTO summary_dirty_balances (customer_id, subsidiary_id, currency)
     SELECT DISTINCT i.customer_id, i.subsidiary_id, i.currency
     FROM summary_dirty_invoices k
     CROSS JOIN invoices i
     WHERE i.subsidiary_id = k.subsidiary_id AND i.invoice_number = k.invoice_number
       AND i.issue_date <= $1";

const DELETE_DIRTY_ROWS: &str = "DELETE FROM summary_rows
     WHERE (subsidiary_id, invoice_number) IN
           (SELECT subsidiary_id, invoice_number FROM summary_dirty_invoices)";

const DELETE_DIRTY_BALANCES: &str = "DELETE FROM summary_balances
     WHERE (customer_id, subsidiary_id, currency) IN
           (SELECT customer_id, subsidiary_id, currency FROM summary_dirty_balances)";

const CLEAR_DIRTY: [&str; 2] = [
    "DELETE FROM summary_dirty_invoices",
    "DELETE FROM summary_dirty_balances",
];

/// The customers whose unapplied money the events after the position `$n` moved.
fn unapplied_moved(n: usize) -> String {
    format!(
        "SELECT customer_id FROM payments WHERE position > ${n}
         UNION SELECT customer_id FROM unapplied_movements WHERE position > ${n}"
    )
}

/// The rows of `open_items` and `rows` with something open (`$1` the date, and for every
/// invoice `$2` to `$4` `NULL`); in the order of the table's key when `sorted` (a whole fill:
/// each row then goes to the end of the key's index rather than anywhere in it).
///
/// A whole fill works the rows out first (`AS MATERIALIZED`), then sorts them. Asked for them
/// in the key's order directly, SQLite read the invoices in their key's order to spare the
/// sort and then, for each invoice, scanned every invoice's summed movements instead of
/// indexing them: a fresh embedded read model of 200,000 invoices did not finish this
/// statement in minutes (it takes under a second this way), and its write-ahead log grew
/// without a checkpoint all that time.
fn insert_rows(open_items: &str, rows: &str, sorted: bool) -> String {
    const COLUMNS: &str = "subsidiary_id, invoice_number, row_index, customer_id,
                                   currency, issue_date, invoice_due_date, due_date,
                                   open_minor, disputed_minor";
    const OPEN: &str = "SELECT subsidiary_id, invoice_number, COALESCE(row_index, -1) AS row_index,
                customer_id, currency, issue_date, invoice_due_date, due_date, open_minor,
                disputed_minor
         FROM open_rows
         WHERE open_minor <> 0";
    if sorted {
        format!(
            "WITH {open_items}{rows},
filled AS MATERIALIZED ({OPEN})
         INSERT INTO summary_rows ({COLUMNS})
         SELECT {COLUMNS} FROM filled
         ORDER BY subsidiary_id, invoice_number, row_index"
        )
    } else {
        format!(
            "WITH {open_items}{rows}
         INSERT INTO summary_rows ({COLUMNS})
         {OPEN}"
        )
    }
}

/// The index of `summary_rows` by balance, as migration `0012_summaries.sql` creates it (a test
/// holds the two together). A whole fill drops it and builds it again once the rows are in:
/// one sorted build instead of an insertion per row took the fill of 400,000 rows from 4.5 s
/// to 2.4 s on PostgreSQL (BENCHMARKS.md).
const CREATE_BALANCE_INDEX: &str = concat!(
    "CREATE INDEX summary_rows_balance ON summary_rows ",
    "(customer_id, subsidiary_id, currency, due_date)"
);

const DROP_BALANCE_INDEX: &str = "DROP INDEX summary_rows_balance";

/// The balances of the keys `keys` (a table or a subquery with `customer_id, subsidiary_id,
/// currency`) summed from their rows: `$1` the date, `$2` to `$6` the buckets' first days
/// ([`bucket_starts`]).
fn insert_balances(keys: &str) -> String {
    let mut buckets = Vec::new();
    for (basis, column) in [
        ("due", "r.invoice_due_date"),
        ("issued", "r.issue_date"),
        ("terms", "r.due_date"),
    ] {
        for bucket in 0..SUMMARY_BUCKETS {
            // `$2 + k` is the first day of bucket k; the last bucket is before the one above.
            let newer = if bucket == 0 {
                String::new()
            } else {
                format!(" AND {column} < ${}", bucket + 1)
            };
            let condition = if bucket == SUMMARY_BUCKETS - 1 {
                format!("{column} < ${}", bucket + 1)
            } else {
                format!("{column} >= ${}{newer}", bucket + 2)
            };
            buckets.push((
                format!("{basis}_{bucket}"),
                format!("COALESCE(SUM(r.open_minor) FILTER (WHERE {condition}), 0)"),
            ));
        }
    }
    let (names, sums): (Vec<String>, Vec<String>) = buckets.into_iter().unzip();
    format!(
        "INSERT INTO summary_balances (customer_id, subsidiary_id, currency, open_minor,
             disputed_minor, overdue_minor, oldest_overdue_due, collectible_overdue_minor,
             oldest_collectible_due, {names})
         SELECT k.customer_id, k.subsidiary_id, k.currency,
                COALESCE(SUM(r.open_minor), 0),
                COALESCE(SUM(r.disputed_minor), 0),
                COALESCE(SUM(r.open_minor) FILTER (WHERE r.due_date < $1), 0),
                MIN(r.due_date) FILTER (WHERE r.due_date < $1),
                COALESCE(SUM(r.open_minor - r.disputed_minor) FILTER (WHERE r.due_date < $1), 0),
                MIN(r.due_date) FILTER (WHERE r.due_date < $1
                                          AND r.open_minor > r.disputed_minor),
                {sums}
         FROM {keys} k
         LEFT JOIN summary_rows r ON r.customer_id = k.customer_id
                                 AND r.subsidiary_id = k.subsidiary_id
                                 AND r.currency = k.currency
         GROUP BY k.customer_id, k.subsidiary_id, k.currency",
        names = names.join(", "),
        sums = sums.join(",\n                "),
    )
}

/// The unapplied money as of `$1` of the customers `customers` selects (every one: `None`).
fn insert_unapplied(customers: Option<&str>) -> String {
    let only = customers.map_or(String::new(), |customers| {
        format!("AND customer_id IN ({customers})")
    });
    format!(
        "WITH {UNAPPLIED_MOVES}
         INSERT INTO summary_unapplied (customer_id, subsidiary_id, currency, unapplied_minor)
         SELECT customer_id, subsidiary_id, currency, SUM(amount_minor)
         FROM unapplied_moves
         WHERE moved_on <= $1 {only}
         GROUP BY customer_id, subsidiary_id, currency
         HAVING SUM(amount_minor) <> 0"
    )
}

/// What a batch did to the summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maintained {
    /// Already of the date and the position.
    Current,
    /// Left behind: another batch was waiting.
    Skipped,
    /// Brought up to date from the events after the position they covered.
    Incremental,
    /// Moved to another date: the rows of the invoices that differ between the two dates (and
    /// those moved since the position) worked out again, every balance summed again.
    NewDate,
    /// Worked out whole (none yet, or too far behind).
    Whole,
}

/// Brings the summaries to `today` and the ledger's checkpoint `to`, in the caller's transaction
/// (which holds the ledger's checkpoint). `catching_up`: another batch is waiting, and the
/// summaries are left behind until the last one.
pub(crate) async fn maintain<C: WriteConnection>(
    connection: &mut C,
    today: NaiveDate,
    to: i64,
    catching_up: bool,
) -> Result<Maintained, ProjectionError> {
    let state = connection.fetch_date_and_number(SELECT_STATE).await?;
    if state == Some((today, to)) {
        return Ok(Maintained::Current);
    }
    if catching_up {
        return Ok(Maintained::Skipped);
    }
    let starts = bucket_starts(today)?;
    let mut bucket_binds = vec![Bind::Date(today)];
    bucket_binds.extend(starts.iter().map(|start| Bind::Date(*start)));
    let maintained = match state {
        Some((as_of, from))
            if from <= to
                && u64::try_from(to - from)
                    .is_ok_and(|behind| behind <= INCREMENTAL_EVENTS_MAX) =>
        {
            let new_date = (as_of != today).then(|| (as_of.min(today), as_of.max(today)));
            let large = new_date.is_some() || to - from > LISTS_ANALYZED_FROM_EVENTS;
            up_to_date(connection, today, from, new_date, large, &bucket_binds).await?;
            if new_date.is_some() {
                Maintained::NewDate
            } else {
                Maintained::Incremental
            }
        }
        _ => {
            connection.clear("summary_rows").await?;
            connection.run(DROP_BALANCE_INDEX, &[]).await?;
            connection
                .run(
                    &insert_rows(&open_items(false), &open_rows(), true),
                    &[
                        Bind::Date(today),
                        Bind::NullText,
                        Bind::NullText,
                        Bind::NullText,
                    ],
                )
                .await?;
            connection.run(CREATE_BALANCE_INDEX, &[]).await?;
            connection.refresh_statistics_of("summary_rows").await?;
            every_balance(connection, today, &bucket_binds).await?;
            Maintained::Whole
        }
    };
    connection
        .run(STORE_STATE, &[Bind::Date(today), Bind::BigInt(to)])
        .await?;
    match maintained {
        Maintained::Whole | Maintained::NewDate => {
            info!(%today, position = to, ?maintained, "today's summaries worked out for the date")
        }
        _ => debug!(%today, position = to, ?maintained, "today's summaries kept"),
    }
    Ok(maintained)
}

/// Events after the summaries' position from which the lists of what changed get fresh planner
/// statistics before they are used (PostgreSQL): for a catch-up's end or a new date, where
/// reading every invoice may be the better plan. A batch under load lists a few invoices, which
/// the planner looks up by their keys without them, and refreshing statistics in every batch
/// would replan its statements every time.
const LISTS_ANALYZED_FROM_EVENTS: i64 = 5_000;

/// Works out again the rows of the invoices moved after the position `from` and, on a new date,
/// of those that differ between the two dates (`new_date`: the earlier and the later), then
/// the balances: of those invoices on the same date, every one on a new date (the buckets
/// move); and the unapplied money of the customers it moved for (every one on a new date).
async fn up_to_date<C: WriteConnection>(
    connection: &mut C,
    today: NaiveDate,
    from: i64,
    new_date: Option<(NaiveDate, NaiveDate)>,
    large: bool,
    bucket_binds: &[Bind],
) -> Result<(), ProjectionError> {
    let dated = [Bind::Date(today)];
    let after = [Bind::BigInt(from)];
    // The lists are empty here: every transaction that fills them empties them before it
    // commits.
    match new_date {
        Some((earlier, later)) => {
            connection
                .run(
                    &list_dirty_invoices(true),
                    &[Bind::BigInt(from), Bind::Date(earlier), Bind::Date(later)],
                )
                .await?
        }
        None => connection.run(&list_dirty_invoices(false), &after).await?,
    }
    if large {
        connection
            .refresh_statistics_of("summary_dirty_invoices")
            .await?;
    }
    connection.run(DELETE_DIRTY_ROWS, &[]).await?;
    connection
        .run(
            &insert_rows(&open_items_of_listed(), &open_rows_of_listed(), false),
            &dated,
        )
        .await?;
    if new_date.is_some() {
        every_balance(connection, today, bucket_binds).await?;
    } else {
        connection.run(LIST_DIRTY_BALANCES, &dated).await?;
        if large {
            connection
                .refresh_statistics_of("summary_dirty_balances")
                .await?;
        }
        connection.run(DELETE_DIRTY_BALANCES, &[]).await?;
        connection
            .run(&insert_balances("summary_dirty_balances"), bucket_binds)
            .await?;
        connection
            .run(
                &format!(
                    "DELETE FROM summary_unapplied WHERE customer_id IN ({})",
                    unapplied_moved(1)
                ),
                &after,
            )
            .await?;
        connection
            .run(
                &insert_unapplied(Some(&unapplied_moved(2))),
                &[Bind::Date(today), Bind::BigInt(from)],
            )
            .await?;
    }
    for clear in CLEAR_DIRTY {
        connection.run(clear, &[]).await?;
    }
    Ok(())
}

/// Sums every balance again from the rows, for the keys of the invoices issued by `today`, and
/// the unapplied money of every customer.
async fn every_balance<C: WriteConnection>(
    connection: &mut C,
    today: NaiveDate,
    bucket_binds: &[Bind],
) -> Result<(), ProjectionError> {
    connection.run("DELETE FROM summary_balances", &[]).await?;
    let issued = "(SELECT DISTINCT customer_id, subsidiary_id, currency
                   FROM invoices WHERE issue_date <= $1)";
    connection
        .run(&insert_balances(issued), bucket_binds)
        .await?;
    connection.run("DELETE FROM summary_unapplied", &[]).await?;
    connection
        .run(&insert_unapplied(None), &[Bind::Date(today)])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_balance_index_built_again_is_the_one_the_migrations_leave() {
        let migration = include_str!("../../migrations/0012_summaries.sql");
        assert!(
            migration.contains(&format!("{CREATE_BALANCE_INDEX};")),
            "0012_summaries.sql does not create {CREATE_BALANCE_INDEX}"
        );
        // A later migration that changed the index would leave the code building the old one.
        let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut later = Vec::new();
        for entry in std::fs::read_dir(&migrations).expect("the migrations folder") {
            let path = entry.expect("a migration").path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if name.as_deref() > Some("0012_summaries.sql")
                && std::fs::read_to_string(&path)
                    .expect("a migration's text")
                    .contains("summary_rows_balance")
            {
                later.push(path);
            }
        }
        assert!(
            later.is_empty(),
            "{later:?} change summary_rows_balance: change CREATE_BALANCE_INDEX with them"
        );
    }
}
