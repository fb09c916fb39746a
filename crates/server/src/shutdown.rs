//! The signal to stop: Ctrl-C or SIGTERM (what an orchestrator sends), or whatever future a
//! test or an embedding program hands a server instead.

/// What a server serves until: it stops taking calls when this completes.
pub trait Shutdown: Future<Output = ()> + Send + 'static {}

impl<F: Future<Output = ()> + Send + 'static> Shutdown for F {}

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
