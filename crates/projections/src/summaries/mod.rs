//! Today's summaries: what the work queue, the exposure, the aging and the collections forecast
//! of the business date need, kept by the projector so that they read a row per customer,
//! subsidiary and currency (the forecast: per open row) instead of summing every invoice's
//! movements.
//!
//! As of one business date `D` (the service's, [`BusinessClock`]), the read model keeps
//!
//! ```text
//! summary_rows      = open_amounts::open_rows as of D, the rows with something open
//! summary_balances  = per customer, subsidiary and currency with an invoice issued <= D:
//!                     open, disputed, overdue (rows due before D), collectible overdue (less
//!                     what disputes hold back), the oldest due date of each, and the open
//!                     amounts in the aging's default buckets by due date, by issue date and by
//!                     each row's due date
//! summary_unapplied = open_amounts::UNAPPLIED_MOVES as of D, per customer, subsidiary and
//!                     currency
//! summary_state     = (D, the ledger's checkpoint they cover)
//! ```
//!
//! **How they are kept** (`maintain.rs`). In the batch's own transaction, after its rows: the
//! invoices that the rows recorded since the summaries' position name (issued, paid,
//! credited, written off, reversed, disputed, resolved, rescheduled, cancelled: found by the
//! positions that recorded them) have their rows worked out again by the exact definition,
//! and their balances summed again from the rows; the customers whose unapplied money moved
//! have it summed again. A batch applied while the next one is already waiting (a catch-up)
//! leaves them behind, and the last one brings them up to date (worked out whole when there are
//! none yet or they are more than [`INCREMENTAL_EVENTS_MAX`] events behind).
//!
//! When the business date changes, ageing moves amounts between buckets with no event
//! arriving: within [`CLOCK_CHECK`] of midnight (`runtime.rs`) the projector works out again
//! the rows of the invoices that differ between the two dates (issued, moved, disputed,
//! resolved, rescheduled on a day between them, or a dispute expired), and sums every balance
//! and the unapplied money again for the new date.
//!
//! **How they are read.** A query of `D` (the aging: with the default buckets) reads them when
//! they cover the ledger's checkpoint (`current`), and checks afterwards that no batch replaced
//! them meanwhile (`unchanged`); otherwise, and for every other date, the exact computation
//! answers. The two agree for every
//! customer (`tests/tests/summaries.rs`).

pub(crate) mod maintain;

pub use maintain::Maintained;

use chrono::NaiveDate;

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;

/// The summaries' tables. They are not a projection's: what they hold depends on the business
/// date and on when they were last worked out, so that two read models of the same events may
/// differ in them (a comparison of read models leaves them out; `tests/tests/summaries.rs`
/// compares what they answer instead).
pub const TABLES: &[&str] = &[
    "summary_state",
    "summary_rows",
    "summary_balances",
    "summary_unapplied",
    "summary_dirty_invoices",
    "summary_dirty_balances",
];

/// The bucket edges the summaries keep, in days: current, 1-30, 31-60, 61-90, 91-120, over 120
/// (the aging report's default edges are these); a report of `D` with other edges is worked out
/// exactly.
pub const SUMMARY_EDGES_DAYS: [u32; 4] = [30, 60, 90, 120];

/// Buckets per basis: current, one per edge, over the last edge.
pub const SUMMARY_BUCKETS: usize = SUMMARY_EDGES_DAYS.len() + 2;

/// Most events between the summaries' position and a batch's end that are brought up to date
/// invoice by invoice; further behind, the summaries are worked out whole. A judgement, not a
/// measured crossing point: a tenth of the benchmark's million invoices, listed and worked out
/// one by one, is where a whole pass starts to look the cheaper.
pub const INCREMENTAL_EVENTS_MAX: u64 = 100_000;

/// How often the projector looks at the business date while the log is quiet.
pub const CLOCK_CHECK: std::time::Duration = std::time::Duration::from_secs(60);

/// The service's business date: fixed (`--business-date`), or today's date in UTC, which
/// moves on at midnight. The alerts and the summaries both follow it.
#[derive(Debug, Clone, Copy, Default)]
pub struct BusinessClock {
    fixed: Option<NaiveDate>,
}

impl BusinessClock {
    pub fn new(fixed: Option<NaiveDate>) -> Self {
        BusinessClock { fixed }
    }

    pub fn today(&self) -> NaiveDate {
        self.fixed
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }
}

/// What the summaries cover: their date and the ledger's checkpoint when they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    pub as_of: NaiveDate,
    pub position: i64,
}

/// The summaries' state beside the ledger's checkpoint, in one statement.
const SELECT_STATE_AND_CHECKPOINT: &str = "SELECT s.as_of, s.position, COALESCE(c.position, 0)
     FROM summary_state s
     LEFT JOIN projection_checkpoints c ON c.projection = $1
     WHERE s.id = 1";

async fn state_and_checkpoint(
    pool: &ReadPool,
) -> Result<Option<(NaiveDate, i64, i64)>, ProjectionError> {
    let ledger = crate::ledger::NAME;
    Ok(
        on_engine!(pool, pool => sqlx::query_as(SELECT_STATE_AND_CHECKPOINT)
        .bind(ledger)
        .fetch_optional(pool).await)?,
    )
}

/// The summaries' state when they answer for `as_of`: of that date, and covering every event
/// the ledger has applied.
pub(crate) async fn current(
    pool: &ReadPool,
    as_of: NaiveDate,
) -> Result<Option<State>, ProjectionError> {
    Ok(state_and_checkpoint(pool)
        .await?
        .filter(|(date, position, checkpoint)| *date == as_of && position == checkpoint)
        .map(|(as_of, position, _)| State { as_of, position }))
}

/// Brings the summaries to `today` and the ledger's checkpoint, in a transaction of their own
/// that holds the checkpoint (a projector's batch waits): moved to `today` when they are of
/// another date, worked out whole when there are none yet or they are far behind, brought up
/// to date when behind, nothing when current. What the
/// projector does on a new date; a benchmark or an operator's tool may call it too.
pub async fn roll_forward(
    pool: &ReadPool,
    today: NaiveDate,
) -> Result<maintain::Maintained, ProjectionError> {
    use crate::engine::WriteConnection as _;
    on_engine!(pool, pool => {
        let mut transaction = pool.begin().await?;
        let to = transaction.lock_checkpoint(crate::ledger::NAME).await?;
        let to = crate::checkpoint::stored(to)?;
        let maintained = maintain::maintain(&mut *transaction, today, to, false).await?;
        if maintained != maintain::Maintained::Current {
            transaction.commit().await?;
        }
        Ok(maintained)
    })
}

/// Whether today's summaries answer the queries of `as_of` now (for operators and tests: the
/// queries look for themselves).
pub async fn covers(pool: &ReadPool, as_of: NaiveDate) -> Result<bool, ProjectionError> {
    Ok(current(pool, as_of).await?.is_some())
}

/// Whether the summaries are still those of `state`: read after a query of them, it says that
/// no batch replaced them while the query read (each batch moves the position, each new date
/// the date).
pub(crate) async fn unchanged(pool: &ReadPool, state: State) -> Result<bool, ProjectionError> {
    Ok(state_and_checkpoint(pool)
        .await?
        .is_some_and(|(as_of, position, _)| State { as_of, position } == state))
}

/// The first day of each bucket but the last, as of `as_of`: an item whose reference date is
/// on or after `starts[0]` is current; else on or after `starts[k]`, in bucket `k`; else in
/// the last. `starts[k]` is `as_of` less the k-th edge, so that bucket `k` holds what is
/// `edges[k-1] + 1` to `edges[k]` days old, as `aging::AgingRequest::bucket` cuts them.
pub(crate) fn bucket_starts(
    as_of: NaiveDate,
) -> Result<[NaiveDate; SUMMARY_BUCKETS - 1], ProjectionError> {
    let mut starts = [as_of; SUMMARY_BUCKETS - 1];
    for (start, edge) in starts.iter_mut().skip(1).zip(SUMMARY_EDGES_DAYS) {
        *start = as_of
            .checked_sub_days(chrono::Days::new(u64::from(edge)))
            .ok_or_else(|| {
                ProjectionError::Stored(format!("{as_of} less {edge} days is out of range"))
            })?;
    }
    Ok(starts)
}
