//! The command service as an application (`serve-commands`): connect to NATS, open the log,
//! bind the listener, serve `CommandService` until told to stop, then finish the commands in
//! flight and flush the connection.
//!
//! `Application::build` binds before it serves, so tests can ask for port 0 and read the port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use receivables_eventlog::jetstream::JetStreamLog;
use tracing::{info, warn};

use crate::config::CommandServiceArgs;
use crate::execution::Executor;
use crate::nats;
use crate::security::Security;
use crate::serve::{Listener, Services};
use crate::shutdown::Shutdown;

pub struct Application {
    listener: Listener,
    executor: Arc<Executor<JetStreamLog>>,
    client: async_nats::Client,
}

impl Application {
    pub async fn build(args: &CommandServiceArgs) -> anyhow::Result<Self> {
        let client =
            nats::connect(args.nats.url_or_default(), "receivables-command-service").await?;
        let log = JetStreamLog::open(client.clone(), args.nats.jetstream())
            .await
            .context("cannot open the event log")?;
        info!(
            stream = %args.nats.stream,
            subjects = %format!("{}.*", args.nats.subject_prefix),
            replicas = args.nats.replicas,
            "event log ready"
        );
        let executor = Arc::new(
            Executor::new(Arc::new(log), args.account_cache())
                .snapshot_every(args.snapshot_every_events),
        );
        let security = Security::from_args(&args.security, || {
            nats::token_store(client.clone(), &args.nats.tokens_bucket, args.nats.replicas)
        })
        .await?;
        let grace = Duration::from_secs(args.shutdown_grace_secs);
        let listener = Listener::bind(args.listen, security, grace).await?;
        Ok(Application {
            listener,
            executor,
            client,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting calls and waits (up to the grace
    /// period) for the calls in flight to finish. Health follows the NATS connection.
    pub async fn run_until(self, shutdown: impl Shutdown) -> anyhow::Result<()> {
        let services = Services::new().commands(Arc::clone(&self.executor));
        let ready = nats::readiness(self.client.clone());
        let served = self.listener.serve(services, ready, shutdown).await;
        if let Err(error) = self.client.flush().await {
            warn!(%error, "could not flush the NATS connection");
        }
        info!("command service stopped");
        served
    }
}
