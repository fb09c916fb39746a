//! The live read model and its rebuild: which generation answers queries, the projector that
//! keeps it up to date, and the switch to a freshly rebuilt generation while queries go on.

use std::sync::Arc;
use std::time::Duration;

use receivables_domain::Position;
use receivables_eventlog::EventLog;
use receivables_projections::runtime::Projector;
use receivables_projections::summaries::BusinessClock;
use receivables_projections::{ProjectionError, ReadPool, ReadStore};
use tokio::sync::{Mutex, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::observability::series;

/// One generation of the read model: its connections and its projector.
pub struct ReadSide<L> {
    pub generation: i64,
    pub pool: ReadPool,
    pub projector: Arc<Projector<L>>,
}

/// A projector running in the background, and how to stop it.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ProjectionError>>,
}

impl Running {
    fn start<L: EventLog>(projector: Arc<Projector<L>>) -> Running {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            projector
                .run(async {
                    let _ = stopped.await;
                })
                .await
        });
        Running { stop, task }
    }

    /// Stops the projector after the batch it is applying.
    async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => error!(%error, "projector stopped with an error"),
            Err(error) => error!(%error, "projector task failed"),
        }
    }
}

/// The outcome of a rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    pub retired_generation: i64,
    pub live_generation: i64,
    /// The position both generations had applied when readers were switched.
    pub position: Position,
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("a rebuild is already running")]
    AlreadyRunning,
    #[error("the new generation did not catch up within {0:?}")]
    TooSlow(Duration),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

/// The read models of this process.
pub struct ReadModels<L> {
    log: Arc<L>,
    store: ReadStore,
    max_connections: u32,
    live: watch::Sender<Arc<ReadSide<L>>>,
    running: Mutex<Option<Running>>,
    /// The business date the projectors keep today's summaries for.
    clock: BusinessClock,
    rebuilding: Mutex<()>,
    /// Samples how far the live projector is behind the log ([`sample_lag`]); it holds the
    /// log, so it ends with the read models if not stopped before.
    sampler: AbortOnDrop,
}

/// How often the projector's lag behind the log is sampled for operators.
pub const LAG_SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

impl<L: EventLog> ReadModels<L> {
    /// Opens the live generation (creating the first one in an empty store) and starts its
    /// projector.
    pub async fn open(
        log: Arc<L>,
        store: ReadStore,
        max_connections: u32,
        clock: BusinessClock,
    ) -> Result<Self, ProjectionError> {
        let generation = store.live().await?;
        let side = Self::side(&log, &store, generation, max_connections, clock).await?;
        info!(generation, "read model generation live");
        let running = Running::start(Arc::clone(&side.projector));
        let (live, _) = watch::channel(Arc::new(side));
        let sampler = AbortOnDrop(tokio::spawn(sample_lag(Arc::clone(&log), live.subscribe())));
        Ok(ReadModels {
            log,
            store,
            max_connections,
            live,
            running: Mutex::new(Some(running)),
            rebuilding: Mutex::new(()),
            clock,
            sampler,
        })
    }

    async fn side(
        log: &Arc<L>,
        store: &ReadStore,
        generation: i64,
        max_connections: u32,
        clock: BusinessClock,
    ) -> Result<ReadSide<L>, ProjectionError> {
        let pool = store.pool(generation, max_connections).await?;
        let projector = Arc::new(
            Projector::new(Arc::clone(log), pool.clone())
                .await?
                .with_clock(clock)
                .with_generation(generation),
        );
        Ok(ReadSide {
            generation,
            pool,
            projector,
        })
    }

    /// Where the generations live (and, beside them, the alerts).
    pub fn store(&self) -> &ReadStore {
        &self.store
    }

    /// The live generation, updated when a rebuild switches readers over.
    pub fn live(&self) -> watch::Receiver<Arc<ReadSide<L>>> {
        self.live.subscribe()
    }

    /// Builds a new generation from the first event while the live one keeps answering, and
    /// switches readers over once it has caught up with the live one. `timeout` bounds the
    /// catching up.
    pub async fn rebuild(&self, timeout: Duration) -> Result<Rebuilt, RebuildError> {
        let Ok(_rebuilding) = self.rebuilding.try_lock() else {
            return Err(RebuildError::AlreadyRunning);
        };
        let generation = self.store.begin_rebuild().await?;
        info!(generation, "rebuilding the read model from the first event");
        let side = Arc::new(
            Self::side(
                &self.log,
                &self.store,
                generation,
                self.max_connections,
                self.clock,
            )
            .await?,
        );
        let running = Running::start(Arc::clone(&side.projector));
        let progress = tokio::spawn(report_rebuild(side.projector.applied()));
        let _progress = AbortOnDrop(progress);
        let deadline = tokio::time::Instant::now() + timeout;
        let position = loop {
            let target = *self.live.borrow().projector.applied().borrow();
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !side.projector.wait_for(target, left).await {
                warn!(generation, "rebuild too slow; abandoned");
                running.stop().await;
                side.pool.close().await;
                return Err(RebuildError::TooSlow(timeout));
            }
            // The live projector may have moved on meanwhile: stop when the new one is level.
            let live_now = *self.live.borrow().projector.applied().borrow();
            let rebuilt = *side.projector.applied().borrow();
            if rebuilt >= live_now {
                break rebuilt;
            }
        };
        self.store.switch(generation).await?;
        let retired = self.live.send_replace(Arc::clone(&side));
        let mut slot = self.running.lock().await;
        if let Some(old) = slot.replace(running) {
            old.stop().await;
        }
        info!(
            retired = retired.generation,
            live = generation,
            position = position.get(),
            "readers switched to the rebuilt read model"
        );
        Ok(Rebuilt {
            retired_generation: retired.generation,
            live_generation: generation,
            position,
        })
    }

    /// Stops the live projector after its current batch.
    pub async fn stop(&self) {
        self.sampler.0.abort();
        if let Some(running) = self.running.lock().await.take() {
            running.stop().await;
        }
    }
}

/// Sets the log's last position and the live projector's lag behind it every
/// [`LAG_SAMPLE_INTERVAL`]; a log that cannot be asked leaves the last figures.
async fn sample_lag<L: EventLog>(log: Arc<L>, live: watch::Receiver<Arc<ReadSide<L>>>) {
    let mut interval = tokio::time::interval(LAG_SAMPLE_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Ok(last) = log.last_position().await else {
            continue;
        };
        let (generation, applied) = {
            let side = live.borrow();
            let applied = *side.projector.applied().borrow();
            (side.projector.generation().to_owned(), applied)
        };
        metrics::gauge!(series::LOG_POSITION).set(last.get() as f64);
        metrics::gauge!(series::PROJECTOR_LAG_POSITIONS, "generation" => generation)
            .set(last.get().saturating_sub(applied.get()) as f64);
    }
}

/// Sets the rebuild's progress ([`series::REBUILD_EVENTS`]) as its projector applies batches.
async fn report_rebuild(mut applied: watch::Receiver<Position>) {
    loop {
        metrics::gauge!(series::REBUILD_EVENTS).set(applied.borrow_and_update().get() as f64);
        if applied.changed().await.is_err() {
            return;
        }
    }
}

/// Aborts a task when dropped: one that reports on a rebuild ends with it, however it ends.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
