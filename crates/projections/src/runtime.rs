//! The projector runtime: follow the log from the stored checkpoint, apply events in batches,
//! each batch and its new checkpoint in one transaction.
//!
//! The database checkpoint is the truth, not a consumer's acknowledgement state: after a crash
//! anywhere (before, during or after a commit) the projector resumes from what was committed, so
//! every event is applied exactly once and the read model equals one rebuilt from position 1.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use receivables_domain::{Position, RecordedEvent};
use receivables_eventlog::EventLog;
use tokio::sync::watch;
use tokio_stream::StreamExt as _;
use tracing::{debug, error, info, warn};

use crate::database::ReadPool;
use crate::{ProjectionError, checkpoint, open_items, postgres, sqlite};

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

/// Pause before following the log again after it went away.
const FOLLOW_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Projects the log into the open-items read model.
pub struct Projector<L> {
    log: Arc<L>,
    pool: ReadPool,
    applied: watch::Sender<Position>,
    /// Events applied since the statistics were last refreshed.
    unanalyzed: std::sync::atomic::AtomicU64,
}

impl<L: EventLog> Projector<L> {
    /// A projector resuming from the checkpoint in `pool` (migrated beforehand).
    pub async fn new(log: Arc<L>, pool: ReadPool) -> Result<Self, ProjectionError> {
        let from = checkpoint::load(&pool, open_items::NAME).await?;
        let (applied, _) = watch::channel(from);
        Ok(Projector {
            log,
            pool,
            applied,
            unanalyzed: std::sync::atomic::AtomicU64::new(0),
        })
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
            let outcome = loop {
                let batch = tokio::select! {
                    () = &mut shutdown => break Ok(true),
                    batch = batches_rx.recv() => batch,
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
                if let Err(error) = self.apply_batch(&events).await {
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

    /// Refreshes the planner statistics once enough events have been applied since last time.
    async fn refresh_statistics(&self, applied: u64) -> Result<(), ProjectionError> {
        use std::sync::atomic::Ordering;
        let total = self.unanalyzed.fetch_add(applied, Ordering::Relaxed) + applied;
        if total >= ANALYZE_AFTER_EVENTS {
            self.unanalyzed.store(0, Ordering::Relaxed);
            match &self.pool {
                ReadPool::Postgres(pool) => postgres::refresh_statistics(pool).await?,
                ReadPool::Sqlite(pool) => sqlite::refresh_statistics(pool).await?,
            }
            info!(events = total, "planner statistics refreshed");
        }
        Ok(())
    }

    /// Applies a batch and the new checkpoint in one transaction. Events at or below the
    /// checkpoint are skipped. Returns the checkpoint after the batch.
    pub async fn apply_batch(&self, events: &[RecordedEvent]) -> Result<Position, ProjectionError> {
        let batch = match &self.pool {
            ReadPool::Postgres(pool) => postgres::apply_batch(pool, events).await?,
            ReadPool::Sqlite(pool) => sqlite::apply_batch(pool, events).await?,
        };
        if batch.moved() {
            debug!(
                from = batch.from.get(),
                to = batch.to.get(),
                "batch applied"
            );
            self.applied.send_replace(batch.to);
            self.refresh_statistics(batch.events as u64).await?;
        }
        Ok(batch.to)
    }
}
