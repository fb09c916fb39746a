//! The read side as an application: the projector following the event log into PostgreSQL, the
//! query service answering from it and the audit service reading the log, in one process
//! separate from the command service.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use receivables_api::pb::admin_service_server::AdminServiceServer;
use receivables_api::pb::audit_service_server::AuditServiceServer;
use receivables_api::pb::query_service_server::QueryServiceServer;
use receivables_eventlog::jetstream::JetStreamLog;
use receivables_projections::ReadStore;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tracing::info;

use crate::admin_service::AdminGrpc;
use crate::app::{connect_nats, reflection_service, token_store};
use crate::audit_service::AuditGrpc;
use crate::config::QueryServiceArgs;
use crate::limits::GRPC_MESSAGE_BYTES_MAX;
use crate::query_service::QueryGrpc;
use crate::read_models::ReadModels;
use crate::security::Security;

/// Replicas of the token bucket when the query service is the first to create it; the command
/// service, which knows the deployment's replica count, normally creates it first.
const TOKENS_REPLICAS_READ_SIDE: usize = 1;

pub struct ReadApplication {
    listener: TcpListener,
    log: Arc<JetStreamLog>,
    read_models: Arc<ReadModels<JetStreamLog>>,
    security: Security,
}

impl ReadApplication {
    /// Connects to NATS and PostgreSQL, opens the live read model (its schema brought up to
    /// date), starts its projector and binds the listener.
    pub async fn build(args: &QueryServiceArgs) -> anyhow::Result<Self> {
        let client = connect_nats(&args.nats_url, "receivables-query-service").await?;
        let security = Security::from_args(&args.security, || {
            token_store(
                client.clone(),
                &args.tokens_bucket,
                TOKENS_REPLICAS_READ_SIDE,
            )
        })
        .await?;
        let log = JetStreamLog::attach(client, args.jetstream())
            .await
            .context("cannot attach to the event log")?;
        let options: sqlx::postgres::PgConnectOptions = args
            .database_url
            .parse()
            .context("the database URL is not valid")?;
        let store = ReadStore::postgres(options)
            .await
            .context("cannot connect to the read-model database")?;
        let log = Arc::new(log);
        let read_models = ReadModels::open(Arc::clone(&log), store, args.database_max_connections)
            .await
            .context("cannot open the read model")?;
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(ReadApplication {
            listener,
            log,
            read_models: Arc::new(read_models),
            security,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves queries until `shutdown`; the projector then commits the batch it is applying
    /// before it stops.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_serving::<QueryServiceServer<QueryGrpc<JetStreamLog>>>()
            .await;
        let reflection = reflection_service()?;
        let queries = QueryServiceServer::new(QueryGrpc::new(self.read_models.live()))
            .max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX);
        let admin = AdminServiceServer::new(AdminGrpc::new(
            Arc::clone(&self.read_models),
            self.security.token_store(),
        ));
        let audit = AuditServiceServer::new(AuditGrpc::new(Arc::clone(&self.log)));
        info!(%address, "query service listening");
        let result = self
            .security
            .server()?
            .add_service(health_service)
            .add_service(reflection)
            .add_service(queries)
            .add_service(admin)
            .add_service(audit)
            .serve_with_incoming_shutdown(
                TcpIncoming::from(self.listener).with_nodelay(Some(true)),
                async move {
                    shutdown.await;
                    info!("shutting down: stopping the projector after its batch");
                    health_reporter
                        .set_not_serving::<QueryServiceServer<QueryGrpc<JetStreamLog>>>()
                        .await;
                },
            )
            .await
            .context("gRPC server failed");
        self.read_models.stop().await;
        info!("query service stopped");
        result
    }
}
