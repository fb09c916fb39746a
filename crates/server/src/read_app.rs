//! The read side as an application: the projector following the event log into PostgreSQL and
//! the query service answering from it, in one process separate from the command service.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use receivables_api::pb;
use receivables_api::pb::query_service_server::QueryServiceServer;
use receivables_eventlog::jetstream::JetStreamLog;
use receivables_projections::runtime::Projector;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tracing::{error, info};

use crate::app::{GRPC_MESSAGE_BYTES_MAX, connect_nats};
use crate::config::QueryServiceArgs;
use crate::query_service::QueryGrpc;

pub struct ReadApplication {
    listener: TcpListener,
    pool: PgPool,
    projector: Arc<Projector<JetStreamLog>>,
}

impl ReadApplication {
    /// Connects to NATS and PostgreSQL, brings the schema up to date and binds the listener.
    pub async fn build(args: &QueryServiceArgs) -> anyhow::Result<Self> {
        let client = connect_nats(&args.nats_url, "receivables-query-service").await?;
        let log = JetStreamLog::attach(client, args.jetstream())
            .await
            .context("cannot attach to the event log")?;
        let pool = PgPoolOptions::new()
            .max_connections(args.database_max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&args.database_url)
            .await
            .context("cannot connect to the read-model database")?;
        receivables_projections::MIGRATOR
            .run(&pool)
            .await
            .context("cannot migrate the read-model database")?;
        let projector = Arc::new(Projector::new(Arc::new(log), pool.clone()).await?);
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        Ok(ReadApplication {
            listener,
            pool,
            projector,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Runs the projector and serves queries until `shutdown`; the projector commits the batch
    /// it is applying before it stops.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        let (stop_projector, projector_stopped) = tokio::sync::oneshot::channel::<()>();
        let projector = {
            let projector = Arc::clone(&self.projector);
            tokio::spawn(async move {
                projector
                    .run(async {
                        let _ = projector_stopped.await;
                    })
                    .await
            })
        };
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        health_reporter
            .set_serving::<QueryServiceServer<QueryGrpc<JetStreamLog>>>()
            .await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .context("cannot build the reflection service")?;
        let queries = QueryServiceServer::new(QueryGrpc::new(
            self.pool.clone(),
            Arc::clone(&self.projector),
        ))
        .max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX);
        info!(%address, "query service listening");
        let result = tonic::transport::Server::builder()
            .add_service(health_service)
            .add_service(reflection)
            .add_service(queries)
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
        let _ = stop_projector.send(());
        match projector.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => error!(%error, "projector stopped with an error"),
            Err(error) => error!(%error, "projector task failed"),
        }
        self.pool.close().await;
        info!("query service stopped");
        result
    }
}
