//! All-in-one: the command service, the projector, the query service and the admin service in
//! one process on one port, sharing one event log.
//!
//! With no servers configured this is the embedded default (README, "Architecture"): the event
//! log and the read model are SQLite files in one data directory, for first runs, development,
//! demos and single-entity users. Pointed at NATS and PostgreSQL it runs the same services
//! against them in one process; production splits them (`serve-commands`, `serve-queries`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use receivables_access::{SqliteTokenStore, TokenStore};
use receivables_domain::matching::AutoPolicy;
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::JetStreamLog;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_projections::ReadStore;
use receivables_projections::summaries::BusinessClock;
use tokio::sync::watch;
use tracing::info;

use crate::alerts::Alerting;
use crate::config::{EVENT_LOG_FILE, ServeArgs, TOKEN_STORE_FILE};
use crate::execution::Executor;
use crate::nats;
use crate::read_models::ReadModels;
use crate::receipts::ReceiptGrpc;
use crate::security::Security;
use crate::serve::{Listener, Services, always_ready};
use crate::shutdown::{self, Shutdown};
use crate::web::{self, HttpListener};

/// Every service on one listener, over one event log of type `L`.
pub struct AllInOne<L> {
    listener: Listener,
    log: Arc<L>,
    executor: Arc<Executor<L>>,
    read_models: Arc<ReadModels<L>>,
    alerting: Alerting,
    /// The dashboard's listener, with `--http-listen`.
    web: Option<HttpListener>,
    /// Whether the event log can be reached (always, for the embedded one).
    ready: watch::Receiver<bool>,
    /// How bank receipts are matched.
    receipts: AutoPolicy,
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
        Ok(match &args.nats.nats_url {
            Some(url) => {
                let client = nats::connect(url, "receivables-all-in-one").await?;
                let security = Security::from_args(&args.security, || {
                    nats::token_store(client.clone(), &args.nats.tokens_bucket, args.nats.replicas)
                })
                .await?;
                let log = JetStreamLog::open(client.clone(), args.nats.jetstream())
                    .await
                    .context("cannot open the event log")?;
                let ready = nats::readiness(client.clone());
                let mut app = AllInOne::start(log, store, security, ready, args).await?;
                app.alerting
                    .publish(client, &args.alerts, args.nats.replicas)
                    .await?;
                Serving::JetStream(app)
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
                Serving::Embedded(
                    AllInOne::start(log, store, security, always_ready(), args).await?,
                )
            }
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        match self {
            Serving::Embedded(app) => app.local_addr(),
            Serving::JetStream(app) => app.local_addr(),
        }
    }

    /// The dashboard's address, with `--http-listen`.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        match self {
            Serving::Embedded(app) => app.http_addr(),
            Serving::JetStream(app) => app.http_addr(),
        }
    }

    /// Serves until `shutdown`, then finishes what is in flight (see [`AllInOne::run_until`]).
    pub async fn run_until(self, shutdown: impl Shutdown) -> anyhow::Result<()> {
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
        ready: watch::Receiver<bool>,
        args: &ServeArgs,
    ) -> anyhow::Result<Self> {
        let log = Arc::new(log);
        let executor = Arc::new(
            Executor::new(Arc::clone(&log), args.account_cache())
                .snapshot_every(args.snapshot_every_events),
        );
        let read_models = ReadModels::open(
            Arc::clone(&log),
            store,
            args.database_max_connections,
            BusinessClock::new(args.alerts.business_date),
        )
        .await
        .context("cannot open the read model")?;
        let alerting = Alerting::start(&read_models, &args.alerts)
            .await
            .context("cannot open the alerts")?;
        let grace = Duration::from_secs(args.shutdown_grace_secs);
        let web = match args.web.http_listen {
            Some(address) => Some(HttpListener::bind(address, &security, grace)?),
            None => None,
        };
        let listener = Listener::bind(args.listen, security, grace).await?;
        Ok(AllInOne {
            listener,
            log,
            executor,
            read_models: Arc::new(read_models),
            alerting,
            web,
            ready,
            receipts: args.receipts.policy(),
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.web.as_ref().and_then(|web| web.local_addr().ok())
    }

    /// Serves every service until `shutdown` completes; then stops taking calls, lets the calls
    /// in flight finish (up to the grace period) and stops the projector after the batch it is
    /// applying.
    pub async fn run_until(mut self, shutdown: impl Shutdown) -> anyhow::Result<()> {
        let services = Services::new()
            .commands(Arc::clone(&self.executor))
            .read_side(
                &self.read_models,
                Arc::clone(&self.log),
                self.listener.security().token_store(),
                &self.alerting,
            )
            .receipts(Arc::clone(&self.executor), &self.read_models, self.receipts);
        let review_queue = ReceiptGrpc::new(
            Arc::clone(&self.executor),
            self.read_models.live(),
            self.receipts,
        );
        info!(services = ?services.names(), "receivables serving");
        let (shutdown, web_shutdown) = shutdown::split(shutdown);
        let web = match self.web.take() {
            Some(web) => Some(web::start(
                web,
                &self.read_models,
                Arc::clone(&self.log),
                Some(review_queue),
                self.listener.security(),
                &self.alerting,
                web_shutdown,
            )?),
            None => None,
        };
        let served = self.listener.serve(services, self.ready, shutdown).await;
        web::stopped(web).await;
        self.alerting.stop().await;
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
