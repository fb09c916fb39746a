//! The projector runtime: follow the log from the stored checkpoint, apply events in batches,
//! each batch and its new checkpoints in one transaction, for every projection of [`PROJECTIONS`]
//! on either engine. A projection only says which events it reads and which rows they become
//! (`projection.rs`); the transaction, the checkpoints and the writing are done here, once.
//!
//! The database checkpoint is the truth, not a consumer's acknowledgement state: after a crash
//! anywhere (before, during or after a commit) the projector resumes from what was committed, so
//! every event is applied exactly once and the read model equals one rebuilt from position 1.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use receivables_domain::{Position, RecordedEvent};
use receivables_eventlog::EventLog;
use tokio::sync::watch;
use tokio_stream::StreamExt as _;
use tracing::{debug, error, info, warn};

use crate::checkpoint;
use crate::customers::Customers;
use crate::database::{ReadPool, on_engine};
use crate::engine::WriteConnection as _;
use crate::error::ProjectionError;
use crate::ledger::Ledger;
use crate::moments::Moments;
use crate::projection::Projection;
use crate::receipts::Receipts;
use crate::rows::RowSet;
use crate::summaries::{self, BusinessClock};
use crate::{postgres, sqlite};

/// Every projection the runtime keeps, in the order their rows are written.
pub static PROJECTIONS: &[&dyn Projection] = &[&Ledger, &Customers, &Receipts, &Moments];

/// Most events applied in one transaction.
pub const BATCH_EVENTS_MAX: usize = 5_000;

/// Batches read and decoded ahead of the one being written.
const BATCHES_AHEAD: usize = 2;

/// How long a batch waits to fill before it is applied anyway.
pub const BATCH_WAIT: Duration = Duration::from_millis(20);

/// Events applied between two refreshes of the tables' planner statistics. After a large
/// catch-up the database would otherwise plan the reports for the tables as they were before
/// (autovacuum gets there eventually, but a report asked right then can take minutes instead of
/// a second).
pub const ANALYZE_AFTER_EVENTS: u64 = 200_000;

/// Events applied after which the statistics are refreshed as soon as the projector has caught
/// up with the log, if they were never refreshed or not for [`ANALYZE_INTERVAL_MIN`]. A read
/// model filled with fewer than [`ANALYZE_AFTER_EVENTS`] events had none: PostgreSQL planned
/// the exact aging of a fresh 100,000-event model as for empty tables, and that report ran for
/// minutes instead of a second until autovacuum came by (BENCHMARKS.md).
pub const ANALYZE_WHEN_CAUGHT_UP_AFTER_EVENTS: u64 = 10_000;

/// The shortest time between two refreshes for having caught up: a steady load keeps the
/// projector caught up after nearly every batch.
pub const ANALYZE_INTERVAL_MIN: Duration = Duration::from_secs(60);

/// The projector's series for operators (recorded through the `metrics` facade; the service
/// installs the exporter), each labelled with the read model's `generation`.
pub mod series {
    /// Gauge: the position every projection has applied.
    pub const PROJECTOR_POSITION: &str = "receivables_projector_position";
    /// Gauge: events in the log the projector has not applied (sampled by the service).
    pub const PROJECTOR_LAG_POSITIONS: &str = "receivables_projector_lag_positions";
    /// Gauge: how long before the last batch was applied its newest event was recorded.
    pub const PROJECTOR_LAG_SECONDS: &str = "receivables_projector_lag_seconds";
    /// Counter: events applied.
    pub const PROJECTOR_EVENTS: &str = "receivables_projector_events_total";
    /// Histogram: events in one batch.
    pub const PROJECTOR_BATCH_EVENTS: &str = "receivables_projector_batch_events";
    /// Histogram: time to apply and commit one batch.
    pub const PROJECTOR_BATCH_SECONDS: &str = "receivables_projector_batch_seconds";
    /// Gauge: events a rebuild of the read model has applied so far (set by the service).
    pub const REBUILD_EVENTS: &str = "receivables_rebuild_events";
}

/// Pause before following the log again after it went away.
const FOLLOW_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Projects the log into the read models of [`PROJECTIONS`].
pub struct Projector<L> {
    log: Arc<L>,
    pool: ReadPool,
    applied: watch::Sender<Position>,
    /// Events applied since the statistics were last refreshed.
    unanalyzed: std::sync::atomic::AtomicU64,
    /// When the statistics were last refreshed (`None`: not by this projector).
    analyzed_at: std::sync::Mutex<Option<Instant>>,
    /// The business date today's summaries are kept for (`summaries`).
    clock: BusinessClock,
    /// The `generation` label of its series.
    generation: String,
}

impl<L: EventLog> Projector<L> {
    /// A projector resuming from the checkpoint in `pool` (migrated beforehand), keeping today's
    /// summaries for the date in UTC (see [`Projector::with_clock`]).
    pub async fn new(log: Arc<L>, pool: ReadPool) -> Result<Self, ProjectionError> {
        let from = applied_by_all(&pool).await?;
        let (applied, _) = watch::channel(from);
        Ok(Projector {
            log,
            pool,
            applied,
            unanalyzed: std::sync::atomic::AtomicU64::new(0),
            analyzed_at: std::sync::Mutex::new(None),
            clock: BusinessClock::default(),
            generation: String::new(),
        })
    }

    /// Labels the projector's series with the generation of the read model it keeps.
    pub fn with_generation(mut self, generation: i64) -> Self {
        self.generation = generation.to_string();
        self
    }

    /// The `generation` label of its series.
    pub fn generation(&self) -> &str {
        &self.generation
    }

    /// Keeps today's summaries for the business date of `clock` (the service's, which its
    /// alerts follow too).
    pub fn with_clock(mut self, clock: BusinessClock) -> Self {
        self.clock = clock;
        self
    }

    /// The last position applied and committed, updated after every batch.
    pub fn applied(&self) -> watch::Receiver<Position> {
        self.applied.subscribe()
    }

    /// Waits until the read model has applied `position`, for at most `timeout`. True when it has.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        let mut applied = self.applied();
        tokio::time::timeout(timeout, applied.wait_for(|at| *at >= position))
            .await
            .is_ok_and(|reached| reached.is_ok())
    }

    /// Follows the log until `shutdown` completes; the batch being applied is committed first.
    /// A log or database that goes away is retried from the committed checkpoint.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<(), ProjectionError> {
        tokio::pin!(shutdown);
        loop {
            let from = *self.applied.borrow();
            let feed = tokio::select! {
                () = &mut shutdown => return Ok(()),
                feed = self.log.follow(from) => feed,
            };
            let feed = match feed {
                Ok(feed) => feed,
                Err(error) => {
                    warn!(%error, "cannot follow the log; retrying");
                    tokio::select! {
                        () = &mut shutdown => return Ok(()),
                        () = tokio::time::sleep(FOLLOW_RETRY_DELAY) => continue,
                    }
                }
            };
            info!(from = from.get(), "following the log");
            // Reading and decoding the next batch overlaps with writing this one.
            let (batches_tx, mut batches_rx) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
            let reader = tokio::spawn(async move {
                let batches = feed.chunks_timeout(BATCH_EVENTS_MAX, BATCH_WAIT);
                tokio::pin!(batches);
                while let Some(batch) = batches.next().await {
                    if batches_tx.send(batch).await.is_err() {
                        break;
                    }
                }
            });
            // The first tick is at once: summaries of another date are moved to today's on
            // start.
            let mut clock_check = tokio::time::interval(summaries::CLOCK_CHECK);
            clock_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let outcome = loop {
                let batch = tokio::select! {
                    () = &mut shutdown => break Ok(true),
                    batch = batches_rx.recv() => batch,
                    _ = clock_check.tick() => {
                        if let Err(error) = self.roll_forward().await {
                            warn!(%error, "could not work out today's summaries; retrying later");
                        }
                        continue;
                    }
                };
                let Some(batch) = batch else { break Ok(false) };
                let mut events = Vec::with_capacity(batch.len());
                let mut broken = None;
                for item in batch {
                    match item {
                        Ok(event) => events.push(event),
                        Err(error) => {
                            broken = Some(error);
                            break;
                        }
                    }
                }
                // Behind the log while another batch waits: today's summaries wait for the
                // last one (`summaries`).
                let catching_up = !batches_rx.is_empty();
                if let Err(error) = self.apply(&events, catching_up).await {
                    break Err(error);
                }
                if let Some(error) = broken {
                    warn!(%error, "the log feed broke; following again from the checkpoint");
                    break Ok(false);
                }
            };
            reader.abort();
            match outcome {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(error) => {
                    // The database may be restarting; nothing was committed for this batch.
                    error!(%error, "could not apply a batch; retrying from the checkpoint");
                    tokio::select! {
                        () = &mut shutdown => return Ok(()),
                        () = tokio::time::sleep(FOLLOW_RETRY_DELAY) => {}
                    }
                }
            }
        }
    }

    /// Refreshes the planner statistics once enough events have been applied since last time
    /// ([`ANALYZE_AFTER_EVENTS`]; [`ANALYZE_WHEN_CAUGHT_UP_AFTER_EVENTS`] when the projector
    /// has caught up, `catching_up` false: no batch waits behind this one).
    async fn refresh_statistics(
        &self,
        applied: u64,
        catching_up: bool,
    ) -> Result<(), ProjectionError> {
        use std::sync::atomic::Ordering;
        let total = self.unanalyzed.fetch_add(applied, Ordering::Relaxed) + applied;
        let due_caught_up = !catching_up
            && total >= ANALYZE_WHEN_CAUGHT_UP_AFTER_EVENTS
            && self.analyzed_at.lock().map_or(true, |at| {
                at.is_none_or(|at| at.elapsed() >= ANALYZE_INTERVAL_MIN)
            });
        if total >= ANALYZE_AFTER_EVENTS || due_caught_up {
            self.unanalyzed.store(0, Ordering::Relaxed);
            match &self.pool {
                ReadPool::Postgres(pool) => {
                    let tables: Vec<&str> = PROJECTIONS
                        .iter()
                        .flat_map(|p| p.tables().iter().map(|t| t.name))
                        .collect();
                    postgres::refresh_statistics(pool, &tables).await?
                }
                ReadPool::Sqlite(pool) => sqlite::refresh_statistics(pool).await?,
            }
            if let Ok(mut at) = self.analyzed_at.lock() {
                *at = Some(Instant::now());
            }
            info!(events = total, "planner statistics refreshed");
        }
        Ok(())
    }

    /// Moves today's summaries to the projector's business date when it has moved on, or works
    /// them out when there are none yet (`summaries::roll_forward`).
    pub async fn roll_forward(&self) -> Result<(), ProjectionError> {
        summaries::roll_forward(&self.pool, self.clock.today()).await?;
        Ok(())
    }

    /// Applies a batch and the new checkpoints in one transaction, with today's summaries.
    /// Events at or below a projection's checkpoint are skipped for it. Returns the position
    /// every projection has applied after the batch.
    pub async fn apply_batch(&self, events: &[RecordedEvent]) -> Result<Position, ProjectionError> {
        self.apply(events, false).await
    }

    /// [`Projector::apply_batch`], leaving today's summaries behind when `catching_up`.
    async fn apply(
        &self,
        events: &[RecordedEvent],
        catching_up: bool,
    ) -> Result<Position, ProjectionError> {
        let summary = Summaries {
            today: self.clock.today(),
            catching_up,
        };
        let started = Instant::now();
        let batch = apply_batch(&self.pool, events, summary).await?;
        if batch.to > batch.from {
            self.record(&batch, events, started.elapsed());
            debug!(
                from = batch.from.get(),
                to = batch.to.get(),
                rows_us = micros(batch.spent.rows),
                writes_us = micros(batch.spent.writes),
                summaries_us = micros(batch.spent.summaries),
                commit_us = micros(batch.spent.commit),
                "batch applied"
            );
            self.refresh_statistics(batch.events as u64, catching_up)
                .await?;
        }
        // Another projector on the same database (a second query service) may have applied
        // these events first: what the database holds is applied all the same, and queries
        // waiting for it must hear so.
        self.applied.send_if_modified(|applied| {
            let moved = batch.to > *applied;
            if moved {
                *applied = batch.to;
            }
            moved
        });
        Ok(batch.to)
    }
}

impl<L> Projector<L> {
    /// The series of a batch applied.
    fn record(&self, batch: &Applied, events: &[RecordedEvent], spent: Duration) {
        use series::*;
        let generation = self.generation.clone();
        metrics::counter!(PROJECTOR_EVENTS, "generation" => generation.clone())
            .increment(batch.events as u64);
        metrics::histogram!(PROJECTOR_BATCH_EVENTS, "generation" => generation.clone())
            .record(batch.events as f64);
        metrics::histogram!(PROJECTOR_BATCH_SECONDS, "generation" => generation.clone())
            .record(spent.as_secs_f64());
        metrics::gauge!(PROJECTOR_POSITION, "generation" => generation.clone())
            .set(batch.to.get() as f64);
        if let Some(newest) = events.last() {
            let behind = chrono::Utc::now() - newest.envelope.recorded_at;
            metrics::gauge!(PROJECTOR_LAG_SECONDS, "generation" => generation)
                .set(behind.num_milliseconds().max(0) as f64 / 1_000.0);
        }
    }
}

/// What a batch moved: the position applied by every projection before and after it, and the
/// events new to at least one of them.
struct Applied {
    from: Position,
    to: Position,
    events: usize,
    /// Where the batch's time went, for the operator's debug log.
    spent: Spent,
}

/// Where a batch's time went: making its rows, writing them with the checkpoints, keeping
/// today's summaries, committing.
#[derive(Debug, Default, Clone, Copy)]
struct Spent {
    rows: Duration,
    writes: Duration,
    summaries: Duration,
    commit: Duration,
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The rows of the events after `from` (in log order) for `projection`, and the last position
/// among them (`from` when none is new).
fn rows(
    projection: &dyn Projection,
    events: &[RecordedEvent],
    from: Position,
) -> Result<(RowSet, Position), ProjectionError> {
    let mut rows = RowSet::new(projection.tables());
    let mut to = from;
    for event in events {
        if event.position <= to {
            continue;
        }
        if projection.reads(event.envelope.event.event_type()) {
            projection.add(event, &mut rows)?;
        }
        to = event.position;
    }
    Ok((rows, to))
}

/// What a batch does with today's summaries.
#[derive(Debug, Clone, Copy)]
struct Summaries {
    today: chrono::NaiveDate,
    /// Another batch is waiting: the summaries wait for the last one.
    catching_up: bool,
}

/// Applies `events` (in log order) to every projection and moves their checkpoints, in one
/// transaction on either engine; then brings today's summaries to the ledger's new checkpoint.
async fn apply_batch(
    pool: &ReadPool,
    events: &[RecordedEvent],
    summary: Summaries,
) -> Result<Applied, ProjectionError> {
    on_engine!(pool, pool => {
        let mut transaction = pool.begin().await?;
        // The lowest checkpoint of all projections before and after the batch.
        let mut from_all: Option<Position> = None;
        let mut to_all: Option<Position> = None;
        let mut events_new = 0;
        let mut ledger_to = None;
        let mut spent = Spent::default();
        for projection in PROJECTIONS {
            let started = Instant::now();
            let from = transaction.lock_checkpoint(projection.name()).await?;
            let made = Instant::now();
            let (rows, to) = rows(*projection, events, from)?;
            let making = made.elapsed();
            spent.rows += making;
            if projection.name() == crate::ledger::NAME {
                ledger_to = Some(to);
            }
            from_all = Some(from_all.map_or(from, |lowest| lowest.min(from)));
            to_all = Some(to_all.map_or(to, |lowest| lowest.min(to)));
            if to > from {
                events_new = events_new.max(events.iter().filter(|e| e.position > from).count());
                for table in rows.tables() {
                    transaction.insert(table).await?;
                }
                let moved = sqlx::query(checkpoint::STORE)
                    .bind(projection.name())
                    .bind(checkpoint::stored(to)?)
                    .execute(&mut *transaction)
                    .await?;
                checkpoint::check_moved(moved.rows_affected(), to)?;
            }
            spent.writes += started.elapsed().saturating_sub(making);
        }
        if events_new > 0 {
            let started = Instant::now();
            if let Some(to) = ledger_to {
                summaries::maintain::maintain(
                    &mut *transaction,
                    summary.today,
                    checkpoint::stored(to)?,
                    summary.catching_up,
                )
                .await?;
            }
            let committing = Instant::now();
            spent.summaries = committing - started;
            transaction.commit().await?;
            spent.commit = committing.elapsed();
        }
        Ok(Applied {
            from: from_all.unwrap_or(Position::ZERO),
            to: to_all.unwrap_or(Position::ZERO),
            events: events_new,
            spent,
        })
    })
}

/// The position every projection has applied: the lowest of their checkpoints (`ZERO` when one
/// has applied nothing yet).
pub async fn applied_by_all(pool: &ReadPool) -> Result<Position, ProjectionError> {
    let mut lowest: Option<Position> = None;
    for projection in PROJECTIONS {
        let row: Option<(i64,)> = on_engine!(pool, pool => {
            sqlx::query_as(checkpoint::SELECT)
                .bind(projection.name())
                .fetch_optional(pool)
                .await?
        });
        let position = checkpoint::position(row.map_or(0, |(p,)| p))?;
        lowest = Some(lowest.map_or(position, |l| l.min(position)));
    }
    Ok(lowest.unwrap_or(Position::ZERO))
}

/// Applies events (in log order) to every projection in one transaction, without checkpoints:
/// for loading a read model directly, as the reports known at a past moment and tests of the
/// queries do.
pub async fn apply_events(
    pool: &ReadPool,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    on_engine!(pool, pool => {
        let mut transaction = pool.begin().await?;
        for projection in PROJECTIONS {
            let (rows, _) = rows(*projection, events, Position::ZERO)?;
            for table in rows.tables() {
                transaction.insert(table).await?;
            }
        }
        transaction.commit().await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use receivables_domain::EventType;
    use receivables_domain::account::feature::Scope;
    use receivables_domain::testing::{EnvelopeBuilder, sample, sample_bank_stream};

    use super::*;

    #[test]
    fn every_projection_has_rows_for_exactly_the_events_it_reads() {
        for projection in PROJECTIONS {
            for event_type in EventType::all() {
                // A bank account's events belong in its stream, every other in a customer's.
                let event = sample(event_type);
                let event = match event.rules().scope() {
                    Scope::BankAccount => EnvelopeBuilder::new(sample_bank_stream(), event),
                    _ => EnvelopeBuilder::of("C-1", event),
                }
                .at(7);
                let (rows, to) = rows(*projection, std::slice::from_ref(&event), Position::ZERO)
                    .expect("a valid event becomes rows");
                assert_eq!(
                    !rows.is_empty(),
                    projection.reads(event_type),
                    "{} reads {event_type}: {}, rows: {}",
                    projection.name(),
                    projection.reads(event_type),
                    rows.len()
                );
                // Read or not, the event moves the projection's checkpoint.
                assert_eq!(to, Position::new(7));
            }
        }
    }

    #[test]
    fn events_at_or_below_the_checkpoint_are_skipped() {
        let events: Vec<RecordedEvent> = [EventType::CreditLimitChanged, EventType::InvoiceIssued]
            .into_iter()
            .enumerate()
            .map(|(index, event_type)| {
                EnvelopeBuilder::of("C-1", sample(event_type)).at(index as u64 + 1)
            })
            .collect();
        let (rows, to) = rows(&Ledger, &events, Position::new(1)).expect("rows");
        assert_eq!(to, Position::new(2));
        assert_eq!(rows.len(), 1, "only the invoice after the checkpoint");
        let (rows, to) = rows_of_nothing(&events);
        assert_eq!((rows, to), (0, Position::new(2)));
    }

    fn rows_of_nothing(events: &[RecordedEvent]) -> (usize, Position) {
        let (rows, to) = rows(&Ledger, events, Position::new(2)).expect("rows");
        (rows.len(), to)
    }
}
