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
}

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
        Ok(ReadModels {
            log,
            store,
            max_connections,
            live,
            running: Mutex::new(Some(running)),
            rebuilding: Mutex::new(()),
            clock,
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
                .with_clock(clock),
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
        if let Some(running) = self.running.lock().await.take() {
            running.stop().await;
        }
    }
}
