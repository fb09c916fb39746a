//! The signal to stop: Ctrl-C or SIGTERM (what an orchestrator sends), or whatever future a
//! test or an embedding program hands a server instead.

/// What a server serves until: it stops taking calls when this completes.
pub trait Shutdown: Future<Output = ()> + Send + 'static {}

impl<F: Future<Output = ()> + Send + 'static> Shutdown for F {}

/// One stop for two servers of a process (gRPC and the dashboard): both futures complete when
/// `shutdown` does.
pub fn split(shutdown: impl Shutdown) -> (impl Shutdown, impl Shutdown) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        stop.send_replace(true);
    });
    let wait = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        // A sender gone without a word (the runtime stopping) stops too.
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    (wait(stopped.clone()), wait(stopped))
}

/// Completes when the process is asked to stop.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
