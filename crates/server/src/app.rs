//! The command service as an application: connect to NATS, open the log, bind the listener,
//! serve gRPC (with health and reflection) until told to stop, then finish in-flight commands.
//!
//! `Application::build` binds before it serves, so tests can ask for port 0 and read the port.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use receivables_access::{KvTokenConfig, KvTokenStore, TokenStore};
use receivables_api::pb;
use receivables_api::pb::command_service_server::CommandServiceServer;
use receivables_eventlog::jetstream::JetStreamLog;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tracing::{info, warn};

use crate::command_service::CommandGrpc;
use crate::config::CommandServiceArgs;
use crate::execution::Executor;
use crate::limits::GRPC_MESSAGE_BYTES_MAX;
use crate::security::Security;

/// Server reflection for every service of the contract and for health, so that grpcurl and
/// generated clients work unchanged; the same for every listener.
pub fn reflection_service() -> anyhow::Result<
    tonic_reflection::server::v1::ServerReflectionServer<
        impl tonic_reflection::server::v1::ServerReflection,
    >,
> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("cannot build the reflection service")
}

/// Longest pause between reconnection attempts to NATS.
const NATS_RECONNECT_DELAY_MAX: Duration = Duration::from_secs(1);

pub struct Application {
    listener: TcpListener,
    executor: Arc<Executor<JetStreamLog>>,
    client: async_nats::Client,
    security: Security,
    shutdown_grace: Duration,
}

/// Connects to NATS; afterwards the client reconnects on its own, forever, so the service comes
/// back by itself when NATS does.
pub async fn connect_nats(url: &str, name: &str) -> anyhow::Result<async_nats::Client> {
    async_nats::ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis(100 * u64::try_from(attempts).unwrap_or(u64::MAX).min(10))
                .min(NATS_RECONNECT_DELAY_MAX)
        })
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => info!("connected to NATS"),
                async_nats::Event::Disconnected => warn!("disconnected from NATS"),
                other => info!(event = %other, "NATS event"),
            }
        })
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to NATS at {url}"))
}

/// The token store in a key-value bucket of the NATS server the service uses (created if
/// missing), shared by every process that serves.
pub async fn token_store(
    client: async_nats::Client,
    bucket: &str,
    replicas: usize,
) -> anyhow::Result<Arc<dyn TokenStore>> {
    let config = KvTokenConfig {
        replicas,
        ..KvTokenConfig::with_bucket(bucket)
    };
    let store = KvTokenStore::open(client, config)
        .await
        .with_context(|| format!("cannot open the token bucket {bucket}"))?;
    Ok(Arc::new(store))
}

/// How often the health status follows the NATS connection.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// Keeps `grpc.health.v1` in step with the event log: `SERVING` while connected to NATS,
/// `NOT_SERVING` while not (commands would fail with `UNAVAILABLE`).
async fn report_health(reporter: tonic_health::server::HealthReporter, client: async_nats::Client) {
    // The server starts serving only after the log was opened, so it starts as SERVING.
    let mut serving = Some(true);
    let mut ticks = tokio::time::interval(HEALTH_CHECK_INTERVAL);
    loop {
        ticks.tick().await;
        let connected = client.connection_state() == async_nats::connection::State::Connected;
        if serving == Some(connected) {
            continue;
        }
        if connected {
            reporter
                .set_serving::<CommandServiceServer<CommandGrpc<JetStreamLog>>>()
                .await;
        } else {
            warn!("event log unreachable: reporting NOT_SERVING");
            reporter
                .set_not_serving::<CommandServiceServer<CommandGrpc<JetStreamLog>>>()
                .await;
        }
        serving = Some(connected);
    }
}

impl Application {
    pub async fn build(args: &CommandServiceArgs) -> anyhow::Result<Self> {
        let client = connect_nats(&args.nats_url, "receivables-command-service").await?;
        let log = JetStreamLog::open(client.clone(), args.jetstream())
            .await
            .context("cannot open the event log")?;
        info!(
            stream = %args.stream,
            subjects = %format!("{}.*", args.subject_prefix),
            replicas = args.replicas,
            "event log ready"
        );
        let executor = Arc::new(Executor::new(Arc::new(log), args.account_cache_customers));
        let security = Security::from_args(&args.security, || {
            token_store(client.clone(), &args.tokens_bucket, args.replicas)
        })
        .await?;
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(Application {
            listener,
            executor,
            client,
            security,
            shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then stops accepting calls and waits (up to the grace
    /// period) for the calls in flight to finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_serving::<CommandServiceServer<CommandGrpc<JetStreamLog>>>()
            .await;
        let health = tokio::spawn(report_health(health_reporter.clone(), self.client.clone()));
        let reflection = reflection_service()?;
        let commands = CommandServiceServer::new(CommandGrpc::new(Arc::clone(&self.executor)))
            .max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX);
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            info!("shutting down: finishing the commands in flight");
            // Load balancers stop sending new calls while the ones in flight finish.
            health.abort();
            health_reporter
                .set_not_serving::<CommandServiceServer<CommandGrpc<JetStreamLog>>>()
                .await;
            let _ = stopping_tx.send(());
        };
        info!(%address, "command service listening");
        let server = self
            .security
            .server()?
            .add_service(health_service)
            .add_service(reflection)
            .add_service(commands)
            .serve_with_incoming_shutdown(
                // Replies are small: send them at once rather than wait for more (Nagle).
                TcpIncoming::from(self.listener).with_nodelay(Some(true)),
                signal,
            );
        tokio::pin!(server);
        let grace = self.shutdown_grace;
        tokio::select! {
            result = &mut server => result.context("gRPC server failed")?,
            () = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(grace).await;
            } => warn!(grace_secs = grace.as_secs(), "calls still running after the grace period; stopping anyway"),
        }
        if let Err(error) = self.client.flush().await {
            warn!(%error, "could not flush the NATS connection");
        }
        info!("command service stopped");
        Ok(())
    }
}
