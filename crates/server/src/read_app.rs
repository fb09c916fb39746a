//! The read side as an application (`serve-queries`): the projector following the event log
//! into PostgreSQL, the query service answering from it, the audit service reading the log and
//! the admin service, in one process separate from the command service. With
//! `--serve-receipts` it serves cash application too, which needs this read model to match on
//! and appends to the log through an executor of its own (any number of writers may share the
//! stream: each append names the customer's last sequence).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use receivables_domain::matching::AutoPolicy;
use receivables_eventlog::jetstream::JetStreamLog;
use receivables_projections::ReadStore;
use receivables_projections::summaries::BusinessClock;
use tracing::info;

use crate::accounts::CacheBounds;
use crate::alerts::Alerting;
use crate::config::QueryServiceArgs;
use crate::execution::Executor;
use crate::nats;
use crate::read_models::ReadModels;
use crate::receipts::ReceiptGrpc;
use crate::security::Security;
use crate::serve::{Listener, Services, always_ready};
use crate::shutdown::{self, Shutdown};
use crate::web::{self, HttpListener};

/// Replicas of the token bucket when the query service is the first to create it; the command
/// service, which knows the deployment's replica count, normally creates it first.
const TOKENS_REPLICAS_READ_SIDE: usize = 1;

/// The accounts cash application keeps in memory in a query service (`--serve-receipts`): it
/// reads an account to post each payment, and the command service keeps the busy ones.
const RECEIPTS_ACCOUNT_CACHE: CacheBounds = CacheBounds {
    customers: 2_000,
    bytes: 256 << 20,
};

pub struct ReadApplication {
    listener: Listener,
    log: Arc<JetStreamLog>,
    read_models: Arc<ReadModels<JetStreamLog>>,
    alerting: Alerting,
    /// The dashboard's listener, with `--http-listen`.
    web: Option<HttpListener>,
    /// Cash application's executor and policy, with `--serve-receipts`.
    receipts: Option<(Arc<Executor<JetStreamLog>>, AutoPolicy)>,
}

impl ReadApplication {
    /// Connects to NATS and PostgreSQL, opens the live read model (its schema brought up to
    /// date), starts its projector and binds the listener.
    pub async fn build(args: &QueryServiceArgs) -> anyhow::Result<Self> {
        let client = nats::connect(args.nats.url_or_default(), "receivables-query-service").await?;
        let security = Security::from_args(&args.security, || {
            nats::token_store(
                client.clone(),
                &args.nats.tokens_bucket,
                TOKENS_REPLICAS_READ_SIDE,
            )
        })
        .await?;
        let log = JetStreamLog::attach(client.clone(), args.nats.jetstream())
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
        let read_models = ReadModels::open(
            Arc::clone(&log),
            store,
            args.database_max_connections,
            BusinessClock::new(args.alerts.business_date),
        )
        .await
        .context("cannot open the read model")?;
        let mut alerting = Alerting::start(&read_models, &args.alerts)
            .await
            .context("cannot open the alerts")?;
        alerting
            .publish(client, &args.alerts, args.nats.replicas)
            .await?;
        let grace = Duration::from_secs(args.shutdown_grace_secs);
        let web = match args.web.http_listen {
            Some(address) => Some(HttpListener::bind(address, &security, grace)?),
            None => None,
        };
        let listener = Listener::bind(args.listen, security, grace).await?;
        let receipts = args.serve_receipts.then(|| {
            info!("serving cash application: this query service appends to the log");
            (
                Arc::new(Executor::new(Arc::clone(&log), RECEIPTS_ACCOUNT_CACHE)),
                args.receipts.policy(),
            )
        });
        Ok(ReadApplication {
            listener,
            log,
            read_models: Arc::new(read_models),
            alerting,
            web,
            receipts,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The dashboard's address, with `--http-listen`.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.web.as_ref().and_then(|web| web.local_addr().ok())
    }

    /// Serves queries until `shutdown`; the projector then commits the batch it is applying
    /// before it stops.
    pub async fn run_until(mut self, shutdown: impl Shutdown) -> anyhow::Result<()> {
        let mut services = Services::new().read_side(
            &self.read_models,
            Arc::clone(&self.log),
            self.listener.security().token_store(),
            &self.alerting,
        );
        let mut review_queue = None;
        if let Some((executor, policy)) = &self.receipts {
            services = services.receipts(Arc::clone(executor), &self.read_models, *policy);
            review_queue = Some(ReceiptGrpc::new(
                Arc::clone(executor),
                self.read_models.live(),
                *policy,
            ));
        }
        let (shutdown, web_shutdown) = shutdown::split(shutdown);
        let web = match self.web.take() {
            Some(web) => Some(web::start(
                web,
                &self.read_models,
                Arc::clone(&self.log),
                review_queue,
                self.listener.security(),
                &self.alerting,
                web_shutdown,
            )?),
            None => None,
        };
        // Queries answer from PostgreSQL whether or not NATS is reachable (the projector
        // catches up when it is back), so readiness does not follow the connection.
        let served = self
            .listener
            .serve(services, always_ready(), shutdown)
            .await;
        web::stopped(web).await;
        self.alerting.stop().await;
        self.read_models.stop().await;
        info!("query service stopped");
        served
    }
}
