//! The reporting team's dashboard and the read-only HTTP/JSON API, served by the same process as
//! the gRPC services (`--http-listen` on `serve` and `serve-queries`).
//!
//! **A listener of its own.** The gRPC listener speaks HTTP/2 only and answers in gRPC's framing
//! (a refused token is a gRPC status inside an HTTP 200), which browsers, Excel and BI tools do
//! not read; they need HTTP/1.1, redirects, cookies and plain status codes. A second port also
//! lets an operator open the dashboard to the office network while gRPC stays on the systems'
//! network. It has the same TLS ([`Security::http_tls`]: the same certificate, key and client
//! CA) and the same tokens, read from the store on every request as the gRPC gate does, so a
//! revocation takes effect on the next page.
//!
//! **One source of figures.** Pages and API call the gRPC services' own implementations in
//! process ([`QueryGrpc`], [`AuditGrpc`]) with the viewer as the caller: the same access
//! checks (a subsidiary's token sees only its subsidiary), the same validation, the same
//! numbers as a gRPC client gets.
//!
//! Modules, from the top: this one (the router, the listener), `pages/` (one module per page),
//! `api.rs` (the `/api/v1` routes, the OpenAPI document), `session.rs` (login, the session
//! cookie, CSRF; `session_store.rs`, the sessions open), `state.rs` (what every handler reads,
//! and the request that calls a service as the viewer), `past.rs` (what the overview keeps of
//! the past), `layout.rs` (the frame of a page, the login form), `json.rs` (query parameters
//! to requests and replies to JSON through the contract's descriptors), `table.rs` (a table as
//! HTML, CSV and XLSX), `chart.rs` (SVG charts), `failure.rs` (statuses as HTTP answers).

mod api;
mod chart;
mod failure;
mod json;
mod layout;
mod pages;
mod past;
mod session;
mod session_store;
mod state;
mod table;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use receivables_eventlog::EventLog;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::alerts::{AlertFeed, Alerting};
use crate::audit_service::AuditGrpc;
use crate::queries::QueryGrpc;
use crate::read_models::ReadModels;
use crate::receipts::ReceiptGrpc;
use crate::security::Security;
use crate::shutdown::Shutdown;

pub use api::{ROUTES, Route};
pub use json::Contract;
pub use state::WebState;

use past::KeptPast;
use session_store::Sessions;
pub use session_store::{SESSION_COOKIE, SESSION_IDLE_MAX, SESSION_LIFETIME_MAX, SESSIONS_MAX};

/// Serves the dashboard and the API on `listener` over the live read model and the log, until
/// `shutdown`; [`stopped`] waits for the task it returns. `receipts`, where the process serves
/// cash application, adds the review queue of bank receipts.
pub fn start<L: EventLog>(
    listener: HttpListener,
    read_models: &Arc<ReadModels<L>>,
    log: Arc<L>,
    receipts: Option<ReceiptGrpc<L>>,
    security: &Security,
    alerting: &Alerting,
    shutdown: impl Shutdown,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    // The overview's reads of the alerts end with the listener.
    let (stopping, watching) = watch::channel(false);
    let router = router(
        read_models,
        log,
        receipts,
        security,
        alerting.feed(watching),
    )?;
    Ok(tokio::spawn(async move {
        let served = listener.serve(router, shutdown).await;
        stopping.send_replace(true);
        served
    }))
}

/// Waits for the dashboard's task, if one was started, and logs how it failed.
pub async fn stopped(task: Option<JoinHandle<anyhow::Result<()>>>) {
    let Some(task) = task else { return };
    match task.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => error!(
            error = format!("{error:#}"),
            "the dashboard's listener failed"
        ),
        Err(error) => error!(%error, "the dashboard's listener panicked"),
    }
}

/// The dashboard's and the API's routes over the live read model and the log.
pub fn router<L: EventLog>(
    read_models: &Arc<ReadModels<L>>,
    log: Arc<L>,
    receipts: Option<ReceiptGrpc<L>>,
    security: &Security,
    alerts: AlertFeed,
) -> anyhow::Result<Router> {
    let state = Arc::new(WebState {
        queries: QueryGrpc::new(read_models.live()).with_alerts(alerts),
        audit: AuditGrpc::new(log, Arc::clone(read_models)),
        receipts,
        sessions: Sessions::new(),
        gate: security.gate().clone(),
        contract: Contract::load()?,
        past: KeptPast::new(),
    });
    Ok(Router::new()
        .merge(session::routes())
        .merge(api::routes())
        .merge(pages::routes())
        .layer(axum::middleware::map_response(protective_headers))
        .with_state(state))
}

/// The content security policy of every answer: nothing but this origin's own pages and forms,
/// no script at all, the inline style sheet, never framed by another site.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers every answer carries: the policy above, no sniffing of types, no referrer sent to
/// another site (`same-origin`, not `no-referrer`, with which browsers send the login form's
/// `Origin` as `null` and the same-origin check refuses it), and nothing kept in a shared or
/// browser cache (the figures are confidential and change with every event).
async fn protective_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The bound HTTP listener, not serving yet.
pub struct HttpListener {
    listener: std::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown_grace: Duration,
}

impl HttpListener {
    /// Binds `address` (port 0: any free port) with the TLS of `security`.
    pub fn bind(
        address: SocketAddr,
        security: &Security,
        shutdown_grace: Duration,
    ) -> anyhow::Result<HttpListener> {
        let listener = std::net::TcpListener::bind(address)
            .with_context(|| format!("cannot listen on {address} (--http-listen)"))?;
        listener
            .set_nonblocking(true)
            .context("cannot make the HTTP listener non-blocking")?;
        Ok(HttpListener {
            listener,
            tls: security.http_tls(),
            shutdown_grace,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves `router` until `shutdown`; then lets requests in flight finish within the grace
    /// period.
    pub async fn serve(self, router: Router, shutdown: impl Shutdown) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        let handle = Handle::new();
        let stopper = handle.clone();
        let grace = self.shutdown_grace;
        tokio::spawn(async move {
            shutdown.await;
            stopper.graceful_shutdown(Some(grace));
        });
        let service = router.into_make_service();
        match self.tls {
            Some(tls) => {
                info!(%address, "dashboard and HTTP API listening (TLS)");
                axum_server::from_tcp_rustls(self.listener, RustlsConfig::from_config(tls))
                    .context("cannot serve TLS on the HTTP listener")?
                    .handle(handle)
                    .serve(service)
                    .await
            }
            None => {
                warn!(%address, "dashboard and HTTP API listening WITHOUT TLS (--insecure)");
                axum_server::from_tcp(self.listener)
                    .context("cannot serve on the HTTP listener")?
                    .handle(handle)
                    .serve(service)
                    .await
            }
        }
        .context("the HTTP server failed")
    }
}
