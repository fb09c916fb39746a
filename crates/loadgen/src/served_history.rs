//! The ledger history of [`crate::history`] written straight into a fresh event log (not
//! measured), and the all-in-one service's arguments over it, on either backend: what the
//! benchmarks that time the service over a large book (`dashboard-bench`, `receipts-bench`)
//! set up alike, and take down alike afterwards.

use async_nats::jetstream;
use receivables::config::{EVENT_LOG_FILE, ServeArgs};
use receivables::nats::connect as connect_nats;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_eventlog::sqlite::SqliteLog;
use receivables_projections::ReadStore;

use crate::history::{self, JetStreamHistory, Shape, check_written, delete_streams, write_history};
use crate::scratch::{Scratch, ScratchDatabase};
use crate::{NatsArgs, PostgresArgs};

/// Where the history is written and the service keeps its read model.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Backend {
    /// NATS JetStream for the log, PostgreSQL for the read model (production).
    JetstreamPostgres,
    /// The embedded SQLite event log and read model.
    Embedded,
}

/// The history written, the service's arguments over it, and its read model opened beside the
/// service (to see when its summaries are ready).
pub struct ServedHistory {
    pub serve: ServeArgs,
    pub store: ReadStore,
    /// The log's last position once the history is written.
    pub last: u64,
    /// The data directory (the embedded backends, or the tokens of the server ones).
    _scratch: Scratch,
    servers: Option<Servers>,
}

/// What the server backends hold of a run: its streams and its database.
struct Servers {
    context: jetstream::Context,
    config: JetStreamConfig,
    database: ScratchDatabase,
}

impl ServedHistory {
    /// Writes `shape` (of `events` events) into a fresh log of `backend`, named after `run`;
    /// with `keep`, nothing is removed afterwards (see [`ServedHistory::finish`]).
    pub async fn write(
        backend: Backend,
        nats: &NatsArgs,
        postgres: &PostgresArgs,
        shape: Shape,
        events: usize,
        run: &str,
        keep: bool,
    ) -> anyhow::Result<ServedHistory> {
        match backend {
            Backend::JetstreamPostgres => {
                let client = connect_nats(&nats.nats_url, "receivables-bench").await?;
                let context = jetstream::new(client.clone());
                let config = history::stream_config(run);
                let log = JetStreamLog::open(client, config.clone()).await?;
                let history = JetStreamHistory {
                    context: context.clone(),
                    subject_prefix: config.subject_prefix.clone(),
                };
                write_history(&history, shape).await?;
                let last = check_written(&log, events).await?;
                let database =
                    ScratchDatabase::create(&postgres.database_url, "receivables_bench", run)
                        .await?;
                let scratch = Scratch::create(run, false)?;
                let mut serve = ServeArgs::embedded("127.0.0.1:0".parse()?, scratch.path());
                serve.nats.nats_url = Some(nats.nats_url.clone());
                serve.nats.stream = config.stream.clone();
                serve.nats.subject_prefix = config.subject_prefix.clone();
                serve.nats.invoice_numbers_bucket = config.invoice_numbers_bucket.clone();
                serve.nats.snapshots_bucket = config.snapshots_bucket.clone();
                serve.database_url = Some(database.url());
                let store = ReadStore::postgres(database.options.clone()).await?;
                Ok(ServedHistory {
                    serve,
                    store,
                    last: last.get(),
                    _scratch: scratch,
                    servers: Some(Servers {
                        context,
                        config,
                        database,
                    }),
                })
            }
            Backend::Embedded => {
                let scratch = Scratch::create(run, keep)?;
                println!("  embedded backends in {}", scratch.path().display());
                let log = SqliteLog::open(&scratch.join(EVENT_LOG_FILE)).await?;
                write_history(&log, shape).await?;
                let last = check_written(&log, events).await?;
                log.close().await?;
                let serve = ServeArgs::embedded("127.0.0.1:0".parse()?, scratch.path());
                let store = ReadStore::sqlite(scratch.path())?;
                Ok(ServedHistory {
                    serve,
                    store,
                    last: last.get(),
                    _scratch: scratch,
                    servers: None,
                })
            }
        }
    }

    /// Closes the read model and removes the run's streams and database, unless `keep`
    /// (the embedded data directory is kept or removed as [`ServedHistory::write`] was told).
    pub async fn finish(self, keep: bool) -> anyhow::Result<()> {
        self.store.close().await;
        if let Some(servers) = self.servers {
            if keep {
                println!(
                    "kept: stream {}, database {}",
                    servers.config.stream,
                    servers.database.url()
                );
            } else {
                servers.database.remove().await?;
                delete_streams(&servers.context, &servers.config).await;
            }
        }
        Ok(())
    }
}
