//! All-in-one: the command service, the projector, the query service and the admin service in
//! one process on one port, sharing one event log.
//!
//! With no servers configured this is the embedded default of DESIGN.md section 2: the event
//! log and the read model are SQLite files in one data directory, for first runs, development,
//! demos and single-entity users. Pointed at NATS and PostgreSQL it runs the same services
//! against them in one process; production splits them (`serve-commands`, `serve-queries`).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use receivables_access::{SqliteTokenStore, TokenStore};
use receivables_api::pb::admin_service_server::AdminServiceServer;
use receivables_api::pb::audit_service_server::AuditServiceServer;
use receivables_api::pb::command_service_server::CommandServiceServer;
use receivables_api::pb::query_service_server::QueryServiceServer;
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::JetStreamLog;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_projections::ReadStore;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tracing::{info, warn};

use crate::admin_service::AdminGrpc;
use crate::app::{connect_nats, reflection_service, token_store};
use crate::audit_service::AuditGrpc;
use crate::command_service::CommandGrpc;
use crate::config::{ServeArgs, TOKENS_BUCKET_DEFAULT};
use crate::execution::Executor;
use crate::limits::GRPC_MESSAGE_BYTES_MAX;
use crate::query_service::QueryGrpc;
use crate::read_models::ReadModels;
use crate::security::Security;

/// The event log's file in the data directory.
pub const EVENT_LOG_FILE: &str = "events.sqlite";

/// The token store's file in the data directory.
pub const TOKEN_STORE_FILE: &str = receivables_access::sqlite::FILE_NAME;

/// Every service on one listener, over one event log of type `L`.
pub struct AllInOne<L> {
    listener: TcpListener,
    log: Arc<L>,
    executor: Arc<Executor<L>>,
    read_models: Arc<ReadModels<L>>,
    security: Security,
    shutdown_grace: Duration,
}

/// The all-in-one service on whichever backends the arguments name.
pub enum Serving {
    Embedded(AllInOne<SqliteLog>),
    JetStream(AllInOne<JetStreamLog>),
}

impl Serving {
    /// Opens the event log and the read model the arguments name (the embedded ones in
    /// `--data-dir` by default), starts the projector and binds the listener.
    pub async fn build(args: &ServeArgs) -> anyhow::Result<Serving> {
        std::fs::create_dir_all(&args.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                args.data_dir.display()
            )
        })?;
        let store = match &args.database_url {
            Some(url) => {
                let options = url.parse().context("the database URL is not valid")?;
                ReadStore::postgres(options)
                    .await
                    .context("cannot connect to the read-model database")?
            }
            None => ReadStore::sqlite(&args.data_dir)
                .context("cannot open the read model in the data directory")?,
        };
        Ok(match &args.nats_url {
            Some(url) => {
                let client = connect_nats(url, "receivables-all-in-one").await?;
                let security = Security::from_args(&args.security, || {
                    token_store(client.clone(), TOKENS_BUCKET_DEFAULT, 1)
                })
                .await?;
                let config = receivables_eventlog::jetstream::JetStreamConfig::default();
                let log = JetStreamLog::open(client, config)
                    .await
                    .context("cannot open the event log")?;
                Serving::JetStream(AllInOne::start(log, store, security, args).await?)
            }
            None => {
                let security = Security::from_args(&args.security, || async {
                    let path = args.data_dir.join(TOKEN_STORE_FILE);
                    let store = SqliteTokenStore::open(&path).await.with_context(|| {
                        format!("cannot open the token store {}", path.display())
                    })?;
                    Ok(Arc::new(store) as Arc<dyn TokenStore>)
                })
                .await?;
                let path = args.data_dir.join(EVENT_LOG_FILE);
                let log = SqliteLog::open(&path)
                    .await
                    .with_context(|| format!("cannot open the event log {}", path.display()))?;
                Serving::Embedded(AllInOne::start(log, store, security, args).await?)
            }
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        match self {
            Serving::Embedded(app) => app.local_addr(),
            Serving::JetStream(app) => app.local_addr(),
        }
    }

    /// Serves until `shutdown`, then finishes what is in flight (see [`AllInOne::run_until`]).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        match self {
            Serving::Embedded(app) => {
                let log = Arc::clone(&app.log);
                let result = app.run_until(shutdown).await;
                log.close().await.context("cannot close the event log")?;
                result
            }
            Serving::JetStream(app) => app.run_until(shutdown).await,
        }
    }
}

impl<L: EventLog> AllInOne<L> {
    async fn start(
        log: L,
        store: ReadStore,
        security: Security,
        args: &ServeArgs,
    ) -> anyhow::Result<Self> {
        let log = Arc::new(log);
        let executor = Arc::new(Executor::new(
            Arc::clone(&log),
            args.account_cache_customers,
        ));
        let read_models = ReadModels::open(Arc::clone(&log), store, args.database_max_connections)
            .await
            .context("cannot open the read model")?;
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(AllInOne {
            listener,
            log,
            executor,
            read_models: Arc::new(read_models),
            security,
            shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves every service until `shutdown` completes; then stops taking calls, lets the calls
    /// in flight finish (up to the grace period) and stops the projector after the batch it is
    /// applying.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_serving::<CommandServiceServer<CommandGrpc<L>>>()
            .await;
        health_reporter
            .set_serving::<QueryServiceServer<QueryGrpc<L>>>()
            .await;
        let reflection = reflection_service()?;
        let commands = CommandServiceServer::new(CommandGrpc::new(Arc::clone(&self.executor)))
            .max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX);
        let queries = QueryServiceServer::new(QueryGrpc::new(self.read_models.live()))
            .max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX);
        let admin = AdminServiceServer::new(AdminGrpc::new(
            Arc::clone(&self.read_models),
            self.security.token_store(),
        ));
        let audit = AuditServiceServer::new(AuditGrpc::new(Arc::clone(&self.log)));
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            info!("shutting down: finishing the calls in flight");
            health_reporter
                .set_not_serving::<CommandServiceServer<CommandGrpc<L>>>()
                .await;
            health_reporter
                .set_not_serving::<QueryServiceServer<QueryGrpc<L>>>()
                .await;
            let _ = stopping_tx.send(());
        };
        info!(%address, "receivables listening (commands, queries, admin, audit)");
        let server = self
            .security
            .server()?
            .add_service(health_service)
            .add_service(reflection)
            .add_service(commands)
            .add_service(queries)
            .add_service(admin)
            .add_service(audit)
            .serve_with_incoming_shutdown(
                TcpIncoming::from(self.listener).with_nodelay(Some(true)),
                signal,
            );
        tokio::pin!(server);
        let grace = self.shutdown_grace;
        let served = tokio::select! {
            result = &mut server => result.context("gRPC server failed"),
            () = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(grace).await;
            } => {
                warn!(grace_secs = grace.as_secs(), "calls still running after the grace period; stopping anyway");
                Ok(())
            }
        };
        self.read_models.stop().await;
        info!("receivables stopped");
        served
    }
}

/// Whether `directory` is missing or empty: the demo wants a fresh one.
pub fn is_fresh(directory: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(directory) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(error) => {
            Err(error).with_context(|| format!("cannot read the directory {}", directory.display()))
        }
    }
}
