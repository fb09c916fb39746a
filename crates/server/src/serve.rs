//! Serving gRPC, once for every listener (`serve`, `serve-commands`, `serve-queries`): the
//! services a process runs, each with the limits of [`crate::limits`]; health reported for each
//! of them; server reflection in both versions tools ask for; TLS and the token gate of
//! [`Security`]; and a graceful shutdown that stops taking calls, lets the calls in flight
//! finish within a grace period and reports `NOT_SERVING` meanwhile.
//!
//! An application builds a [`Services`] (which services, over which log and read models),
//! binds a [`Listener`] (tests ask for port 0 and read the port) and calls [`Listener::serve`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use receivables_access::TokenStore;
use receivables_api::pb;
use receivables_api::pb::admin_service_server::AdminServiceServer;
use receivables_api::pb::audit_service_server::AuditServiceServer;
use receivables_api::pb::command_service_server::CommandServiceServer;
use receivables_api::pb::metrics_service_server::MetricsServiceServer;
use receivables_api::pb::query_service_server::QueryServiceServer;
use receivables_api::pb::receipt_service_server::ReceiptServiceServer;
use receivables_domain::matching::AutoPolicy;
use receivables_eventlog::EventLog;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::body::Body;
use tonic::codegen::Service;
use tonic::codegen::http::{Request, Response};
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tracing::{info, warn};

use crate::admin_service::AdminGrpc;
use crate::alerts::Alerting;
use crate::audit_service::AuditGrpc;
use crate::command_service::CommandGrpc;
use crate::execution::Executor;
use crate::limits::{GRPC_MESSAGE_BYTES_MAX, STATEMENT_MESSAGE_BYTES_MAX};
use crate::queries::QueryGrpc;
use crate::read_models::ReadModels;
use crate::receipts::ReceiptGrpc;
use crate::security::Security;
use crate::shutdown::Shutdown;

/// The services one listener serves, each built with the service's limits.
pub struct Services {
    routes: RoutesBuilder,
    /// Their names, as health and reflection know them (`receivables.v1.CommandService`).
    names: Vec<&'static str>,
    /// Turned true when the listener stops taking calls: the calls that would otherwise go on
    /// (`WatchAlerts` streams) end then, rather than hold the shutdown for its grace period.
    stopping: watch::Sender<bool>,
}

impl Default for Services {
    fn default() -> Self {
        Services {
            routes: RoutesBuilder::default(),
            names: Vec::new(),
            stopping: watch::channel(false).0,
        }
    }
}

impl Services {
    pub fn new() -> Self {
        Services::default()
    }

    /// The names of the services added so far.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// `CommandService`, executing commands with `executor`.
    pub fn commands<L: EventLog>(self, executor: Arc<Executor<L>>) -> Self {
        let server = CommandServiceServer::new(CommandGrpc::new(executor));
        self.add(server.max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX))
    }

    /// `ReceiptService` (cash application), which needs both sides: `executor` to import and
    /// post, the live read model to match on. Its messages carry whole statement files, so it
    /// takes larger ones than the other services.
    pub fn receipts<L: EventLog>(
        self,
        executor: Arc<Executor<L>>,
        read_models: &Arc<ReadModels<L>>,
        policy: AutoPolicy,
    ) -> Self {
        let server =
            ReceiptServiceServer::new(ReceiptGrpc::new(executor, read_models.live(), policy));
        self.add(server.max_decoding_message_size(STATEMENT_MESSAGE_BYTES_MAX))
    }

    /// The read side over `read_models` and `log`: `QueryService` and `MetricsService`
    /// (answering from the live generation, `WatchAlerts` from `alerts`), `AuditService`
    /// (reading the log) and `AdminService` (rebuilding the read models, managing the
    /// listener's `tokens`).
    pub fn read_side<L: EventLog>(
        self,
        read_models: &Arc<ReadModels<L>>,
        log: Arc<L>,
        tokens: Option<Arc<dyn TokenStore>>,
        alerts: &Alerting,
    ) -> Self {
        let feed = alerts.feed(self.stopping.subscribe());
        let queries = QueryServiceServer::new(QueryGrpc::new(read_models.live()));
        let metrics =
            MetricsServiceServer::new(QueryGrpc::new(read_models.live()).with_alerts(feed));
        let audit = AuditServiceServer::new(AuditGrpc::new(log, Arc::clone(read_models)));
        let admin = AdminServiceServer::new(AdminGrpc::new(Arc::clone(read_models), tokens));
        self.add(queries.max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX))
            .add(metrics.max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX))
            .add(audit.max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX))
            .add(admin.max_decoding_message_size(GRPC_MESSAGE_BYTES_MAX))
    }

    /// Adds `service` under its name, which health and reflection report. Every caller sets the
    /// service's limits first.
    fn add<S>(mut self, service: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.routes.add_service(service);
        self.names.push(S::NAME);
        self
    }
}

/// Server reflection for every service of the contract and for health, in `grpc.reflection.v1`
/// and in `v1alpha` (which grpcurl and older tools still ask for), so that generated clients
/// and tools work unchanged.
fn add_reflection(routes: &mut RoutesBuilder) -> anyhow::Result<()> {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    routes.add_service(
        builder()
            .build_v1()
            .context("cannot build the reflection service")?,
    );
    routes.add_service(
        builder()
            .build_v1alpha()
            .context("cannot build the reflection service (v1alpha)")?,
    );
    Ok(())
}

/// A bound listener, not serving yet.
pub struct Listener {
    listener: TcpListener,
    security: Security,
    shutdown_grace: Duration,
}

impl Listener {
    /// Binds `address` (port 0: any free port) with `security`; the calls in flight at shutdown
    /// get `shutdown_grace` to finish.
    pub async fn bind(
        address: SocketAddr,
        security: Security,
        shutdown_grace: Duration,
    ) -> anyhow::Result<Listener> {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        Ok(Listener {
            listener,
            security,
            shutdown_grace,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn security(&self) -> &Security {
        &self.security
    }

    /// Serves `services` until `shutdown` completes, then stops accepting calls and waits up to
    /// the grace period for the calls in flight. Health answers `SERVING` for each service while
    /// `ready` says true (the event log reachable, say), `NOT_SERVING` while it says false and
    /// from the moment shutdown begins.
    pub async fn serve(
        self,
        services: Services,
        ready: watch::Receiver<bool>,
        shutdown: impl Shutdown,
    ) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        let Services {
            mut routes,
            names,
            stopping,
        } = services;
        let (reporter, health_service) = tonic_health::server::health_reporter();
        routes.add_service(health_service);
        add_reflection(&mut routes)?;
        // Every service has a status before the first call is accepted: a probe right after
        // start-up gets SERVING or NOT_SERVING, never "service not registered".
        let serving_now = *ready.borrow();
        report(&reporter, &names, serving_now).await;
        let following = tokio::spawn(follow_readiness(reporter.clone(), names.clone(), ready));
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            info!("shutting down: finishing the calls in flight");
            stopping.send_replace(true);
            // Load balancers stop sending new calls while the ones in flight finish.
            following.abort();
            report(&reporter, &names, false).await;
            let _ = stopping_tx.send(());
        };
        info!(%address, "listening");
        let server = self
            .security
            .server()?
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(
                // Replies are small: send them at once rather than wait for more (Nagle).
                TcpIncoming::from(self.listener).with_nodelay(Some(true)),
                signal,
            );
        tokio::pin!(server);
        let grace = self.shutdown_grace;
        tokio::select! {
            result = &mut server => result.context("gRPC server failed"),
            () = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(grace).await;
            } => {
                warn!(grace_secs = grace.as_secs(), "calls still running after the grace period; stopping anyway");
                Ok(())
            }
        }
    }
}

/// A readiness that never changes: for listeners whose services depend on nothing that comes
/// and goes while they run.
pub fn always_ready() -> watch::Receiver<bool> {
    // With its sender gone the value stays true; the health follower reports it once.
    watch::channel(true).1
}

async fn report(reporter: &HealthReporter, names: &[&'static str], serving: bool) {
    let status = if serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    for name in names {
        reporter.set_service_status(*name, status).await;
    }
    // The server as a whole (the empty service name), which probes ask by default.
    reporter.set_service_status("", status).await;
}

/// Keeps the health of `names` in step with `ready`.
async fn follow_readiness(
    reporter: HealthReporter,
    names: Vec<&'static str>,
    mut ready: watch::Receiver<bool>,
) {
    loop {
        let serving = *ready.borrow_and_update();
        if !serving {
            warn!("a service's backend is unreachable: reporting NOT_SERVING");
        }
        report(&reporter, &names, serving).await;
        if ready.changed().await.is_err() {
            return;
        }
    }
}
