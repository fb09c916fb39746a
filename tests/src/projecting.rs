//! A projector following its log in a task of its own while a test looks at the read model.

use std::sync::Arc;

use receivables_eventlog::EventLog;
use receivables_projections::ProjectionError;
use receivables_projections::runtime::Projector;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A projector running until [`RunningProjector::stop`].
pub struct RunningProjector<L> {
    pub projector: Arc<Projector<L>>,
    stop: oneshot::Sender<()>,
    running: JoinHandle<Result<(), ProjectionError>>,
}

impl<L: EventLog> RunningProjector<L> {
    /// Starts `projector` following its log.
    pub fn start(projector: Projector<L>) -> Self {
        let projector = Arc::new(projector);
        let (stop, stopped) = oneshot::channel::<()>();
        let running = {
            let projector = Arc::clone(&projector);
            tokio::spawn(async move {
                projector
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await
            })
        };
        RunningProjector {
            projector,
            stop,
            running,
        }
    }

    /// A projector of `log` into `read`, from its checkpoint there, started.
    pub async fn follow(log: Arc<L>, read: receivables_projections::ReadPool) -> Self {
        RunningProjector::start(
            Projector::new(log, read)
                .await
                .expect("a projector on the read model"),
        )
    }

    /// Stops it and waits until it has; panics if it failed.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.running
            .await
            .expect("the projector's task")
            .expect("the projector ran without error");
    }
}
