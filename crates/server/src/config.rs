//! Configuration of the service binaries, by flag or environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use receivables_domain::matching::{
    AUTO_MARGIN_DEFAULT, AUTO_THRESHOLD_DEFAULT, AutoPolicy, Confidence,
};
use receivables_eventlog::jetstream::JetStreamConfig;

use crate::accounts::{ACCOUNT_CACHE_BYTES_DEFAULT, CacheBounds, SNAPSHOT_EVERY_EVENTS};

/// Receivables: an event-sourced accounts-receivable service.
#[derive(Debug, Parser)]
#[command(name = "receivables", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: CliCommand,

    /// Where the client subcommands connect, and how they print.
    #[command(flatten, next_help_heading = "Client options")]
    pub connection: receivables_cli::Connection,

    /// Log output format.
    #[arg(long, env = "RECEIVABLES_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Run everything in one process: commands, projector, queries and admin on one port, on the
    /// embedded event log and read model in --data-dir (no servers needed).
    Serve(ServeArgs),
    /// Start the all-in-one service on a fresh data directory, load a year of a demo group's
    /// receivables through the gRPC API, print reports, and keep serving.
    Demo(DemoArgs),
    /// Run the command service (the write side) against a NATS JetStream server.
    ServeCommands(CommandServiceArgs),
    /// Run the projector and the query service (the read side) against NATS and PostgreSQL.
    ServeQueries(QueryServiceArgs),
    /// Issue, list and revoke bearer tokens in the service's token store.
    Tokens(TokensArgs),
    /// Copy the event log's history and the tokens from the embedded log into a JetStream
    /// stream, or back: every event kept as written, the copy verified at the end.
    Migrate(MigrateArgs),
    /// Write the event log, with its chain, to a backup file.
    Backup(BackupArgs),
    /// Restore a backup file into an empty event log (a data directory or a stream).
    Restore(RestoreArgs),
    /// The command-line client: posting, reports, CSV import.
    #[command(flatten)]
    Client(receivables_cli::ClientCommand),
}

/// How a listener is secured: TLS with rustls and bearer tokens, or (asked for explicitly)
/// neither.
#[derive(Debug, Clone, Default, Args)]
pub struct SecurityArgs {
    /// PEM certificate chain of this server; with --tls-key every call is served over TLS.
    #[arg(
        long,
        env = "RECEIVABLES_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(
        long,
        env = "RECEIVABLES_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// PEM certificate(s) of the CA that signs client certificates: every client must then
    /// present a certificate signed by it, besides its token.
    #[arg(
        long,
        env = "RECEIVABLES_TLS_CLIENT_CA",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_client_ca: Option<PathBuf>,

    /// Serve without TLS and without tokens: anyone who can reach the port may do anything.
    /// For development, tests and demos on one machine only; a warning says so at start-up.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key", "tls_client_ca"])]
    pub insecure: bool,
}

impl SecurityArgs {
    /// No TLS and no tokens (tests, benchmarks, the demo).
    pub fn insecure() -> SecurityArgs {
        SecurityArgs {
            insecure: true,
            ..SecurityArgs::default()
        }
    }
}

/// The key-value bucket of the token store on a NATS server.
pub const TOKENS_BUCKET_DEFAULT: &str = "RECEIVABLES_TOKENS";

/// Where the split services find NATS when no URL is given.
pub const NATS_URL_DEFAULT: &str = "nats://127.0.0.1:4222";

/// Where the embedded backends keep their files unless told otherwise.
pub const DATA_DIR_DEFAULT: &str = "receivables-data";

/// The embedded event log's file in the data directory.
pub const EVENT_LOG_FILE: &str = "events.sqlite";

/// The token store's file in the data directory.
pub const TOKEN_STORE_FILE: &str = receivables_access::sqlite::FILE_NAME;

/// Default most connections to the read-model database.
pub const READ_CONNECTIONS_DEFAULT: u32 = 8;

/// Default most customer accounts kept in memory by the command service.
pub const ACCOUNT_CACHE_CUSTOMERS_DEFAULT: u64 = 10_000;

/// Default time the calls in flight get to finish at shutdown, in seconds.
pub const SHUTDOWN_GRACE_SECS_DEFAULT: u64 = 30;

/// How a process finds the event log and the token store on NATS: the same flags for every
/// subcommand that talks to NATS (`serve`, `serve-commands`, `serve-queries`, `tokens`).
#[derive(Debug, Clone, Args)]
pub struct NatsArgs {
    /// NATS server with JetStream. `serve` and `tokens` use the embedded files of --data-dir
    /// without it; `serve-commands` and `serve-queries` connect to nats://127.0.0.1:4222.
    #[arg(long, env = "RECEIVABLES_NATS_URL", global = true)]
    pub nats_url: Option<String>,

    /// JetStream stream that holds the events.
    #[arg(
        long,
        env = "RECEIVABLES_STREAM",
        default_value = "RECEIVABLES",
        global = true
    )]
    pub stream: String,

    /// Subject prefix; each customer's events go to `<prefix>.<customer_id>`.
    #[arg(
        long,
        env = "RECEIVABLES_SUBJECT_PREFIX",
        default_value = "ar.events",
        global = true
    )]
    pub subject_prefix: String,

    /// Key-value bucket of invoice-number reservations.
    #[arg(
        long,
        env = "RECEIVABLES_INVOICE_NUMBERS_BUCKET",
        default_value = "RECEIVABLES_INVOICE_NUMBERS",
        global = true
    )]
    pub invoice_numbers_bucket: String,

    /// Object store bucket of account snapshots (a cache of the log; created if missing).
    #[arg(
        long,
        env = "RECEIVABLES_SNAPSHOTS_BUCKET",
        default_value = "RECEIVABLES_SNAPSHOTS",
        global = true
    )]
    pub snapshots_bucket: String,

    /// Replicas of the stream and buckets this process creates (3 for a production cluster).
    #[arg(long, env = "RECEIVABLES_REPLICAS", default_value_t = 1, global = true)]
    pub replicas: usize,

    /// JetStream duplicate window in seconds (message-id deduplication; idempotency does not
    /// depend on it).
    #[arg(
        long,
        env = "RECEIVABLES_DUPLICATE_WINDOW_SECS",
        default_value_t = 120,
        global = true
    )]
    pub duplicate_window_secs: u64,

    /// How long to wait for JetStream to acknowledge a publish, in milliseconds.
    #[arg(
        long,
        env = "RECEIVABLES_REQUEST_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub request_timeout_ms: u64,

    /// Key-value bucket of the token store (created if missing).
    #[arg(long, env = "RECEIVABLES_TOKENS_BUCKET", default_value = TOKENS_BUCKET_DEFAULT, global = true)]
    pub tokens_bucket: String,
}

impl NatsArgs {
    /// The defaults, with `nats_url`.
    pub fn new(nats_url: Option<String>) -> Self {
        let defaults = JetStreamConfig::default();
        NatsArgs {
            nats_url,
            stream: defaults.stream,
            subject_prefix: defaults.subject_prefix,
            invoice_numbers_bucket: defaults.invoice_numbers_bucket,
            snapshots_bucket: defaults.snapshots_bucket,
            replicas: defaults.replicas,
            duplicate_window_secs: defaults.duplicate_window.as_secs(),
            request_timeout_ms: u64::try_from(defaults.request_timeout.as_millis())
                .unwrap_or(5_000),
            tokens_bucket: TOKENS_BUCKET_DEFAULT.to_owned(),
        }
    }

    /// The URL, or [`NATS_URL_DEFAULT`] for the services that always use NATS.
    pub fn url_or_default(&self) -> &str {
        self.nats_url.as_deref().unwrap_or(NATS_URL_DEFAULT)
    }

    pub fn jetstream(&self) -> JetStreamConfig {
        JetStreamConfig {
            stream: self.stream.clone(),
            subject_prefix: self.subject_prefix.clone(),
            invoice_numbers_bucket: self.invoice_numbers_bucket.clone(),
            snapshots_bucket: self.snapshots_bucket.clone(),
            replicas: self.replicas,
            duplicate_window: Duration::from_secs(self.duplicate_window_secs),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            ..JetStreamConfig::default()
        }
    }
}

/// Default spacing of the passes that compute the group's and subsidiaries' metrics for their
/// alerts, in seconds: each costs a few agings of the whole group (BENCHMARKS.md).
pub const ALERT_METRICS_EVERY_SECS_DEFAULT: u64 = 300;

/// JetStream stream the alerts are published to in a deployment on NATS.
pub const ALERTS_STREAM_DEFAULT: &str = "RECEIVABLES_ALERTS";

/// Subject prefix of published alerts: `<prefix>.<kind>.<customer>`.
pub const ALERTS_SUBJECT_PREFIX_DEFAULT: &str = "ar.alerts";

/// How the read side raises alerts (`alerts.rs`): the same flags for `serve` and
/// `serve-queries`.
#[derive(Debug, Clone, Args)]
pub struct AlertArgs {
    /// The business date alerts are evaluated on and today's summaries kept for (YYYY-MM-DD),
    /// fixed; default: the service's date (UTC), which moves on at midnight.
    #[arg(long, env = "RECEIVABLES_BUSINESS_DATE")]
    pub business_date: Option<chrono::NaiveDate>,

    /// Seconds between two evaluations of the group's and subsidiaries' overdue rate and DSO
    /// (0: on every pass); a new business date evaluates them at once.
    #[arg(long, env = "RECEIVABLES_ALERT_METRICS_EVERY_SECS", default_value_t = ALERT_METRICS_EVERY_SECS_DEFAULT)]
    pub alert_metrics_every_secs: u64,

    /// JetStream stream the alerts are published to when the service runs on NATS (created if
    /// missing).
    #[arg(long, env = "RECEIVABLES_ALERTS_STREAM", default_value = ALERTS_STREAM_DEFAULT)]
    pub alerts_stream: String,

    /// Subject prefix of published alerts: `<prefix>.<kind>.<customer>`.
    #[arg(long, env = "RECEIVABLES_ALERTS_SUBJECT_PREFIX", default_value = ALERTS_SUBJECT_PREFIX_DEFAULT)]
    pub alerts_subject_prefix: String,
}

impl Default for AlertArgs {
    fn default() -> Self {
        AlertArgs {
            business_date: None,
            alert_metrics_every_secs: ALERT_METRICS_EVERY_SECS_DEFAULT,
            alerts_stream: ALERTS_STREAM_DEFAULT.to_owned(),
            alerts_subject_prefix: ALERTS_SUBJECT_PREFIX_DEFAULT.to_owned(),
        }
    }
}

/// The dashboard and the read-only HTTP/JSON API (`crate::web`): a listener of their own beside
/// the gRPC one, with the same TLS and the same tokens.
#[derive(Debug, Clone, Default, Args)]
pub struct WebArgs {
    /// Serve the dashboard (`/`) and the read-only HTTP/JSON API (`/api/v1/...`) on this
    /// address, over HTTP/1.1 and HTTP/2 with the listener's TLS and tokens; default: none.
    #[arg(long, env = "RECEIVABLES_HTTP_LISTEN", value_name = "ADDRESS")]
    pub http_listen: Option<SocketAddr>,
}

/// How bank receipts are matched (`receipts/`): the engine's bar for posting without a person.
#[derive(Debug, Clone, Args)]
pub struct ReceiptArgs {
    /// The confidence (percent) at or above which a receipt's best candidate is matched and
    /// posted without a person; below it the line waits in the review queue.
    #[arg(long, env = "RECEIVABLES_RECEIPTS_AUTO_THRESHOLD", default_value_t = AUTO_THRESHOLD_DEFAULT,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub receipts_auto_threshold: u8,

    /// How far (percentage points) the best candidate must be ahead of the second to be posted
    /// without a person.
    #[arg(long, env = "RECEIVABLES_RECEIPTS_AUTO_MARGIN", default_value_t = AUTO_MARGIN_DEFAULT,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub receipts_auto_margin: u8,
}

impl Default for ReceiptArgs {
    fn default() -> Self {
        ReceiptArgs {
            receipts_auto_threshold: AUTO_THRESHOLD_DEFAULT,
            receipts_auto_margin: AUTO_MARGIN_DEFAULT,
        }
    }
}

impl ReceiptArgs {
    /// The engine's policy these flags set.
    pub fn policy(&self) -> AutoPolicy {
        AutoPolicy {
            threshold: Confidence::new(self.receipts_auto_threshold).unwrap_or(Confidence::FULL),
            margin: self.receipts_auto_margin,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the gRPC server listens on (commands, queries, audit and admin).
    #[arg(long, env = "RECEIVABLES_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Directory of the embedded event log (events.sqlite), read model
    /// (read-model-<n>.sqlite) and token store; created if missing.
    #[arg(long, env = "RECEIVABLES_DATA_DIR", default_value = DATA_DIR_DEFAULT)]
    pub data_dir: PathBuf,

    /// Keep the read model in this PostgreSQL database instead of the data directory.
    #[arg(long, env = "RECEIVABLES_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Most customer accounts kept in memory.
    #[arg(long, env = "RECEIVABLES_ACCOUNT_CACHE_CUSTOMERS", default_value_t = ACCOUNT_CACHE_CUSTOMERS_DEFAULT)]
    pub account_cache_customers: u64,

    /// Most bytes the accounts kept in memory are estimated to hold (an account keeps every
    /// document of its history, about 1 KB per invoice).
    #[arg(long, env = "RECEIVABLES_ACCOUNT_CACHE_BYTES", default_value_t = ACCOUNT_CACHE_BYTES_DEFAULT)]
    pub account_cache_bytes: u64,

    /// Events a customer's account takes between two snapshots of it (0: never). A snapshot
    /// makes loading a long history fast; it is a cache beside the log, checked against it.
    #[arg(long, env = "RECEIVABLES_SNAPSHOT_EVERY_EVENTS", default_value_t = SNAPSHOT_EVERY_EVENTS)]
    pub snapshot_every_events: u64,

    /// Most connections to the read-model database.
    #[arg(long, env = "RECEIVABLES_DATABASE_MAX_CONNECTIONS", default_value_t = READ_CONNECTIONS_DEFAULT)]
    pub database_max_connections: u32,

    /// How long in-flight calls may take to finish at shutdown, in seconds.
    #[arg(long, env = "RECEIVABLES_SHUTDOWN_GRACE_SECS", default_value_t = SHUTDOWN_GRACE_SECS_DEFAULT)]
    pub shutdown_grace_secs: u64,

    /// Serve the operators' metrics for Prometheus (`GET /metrics`, no TLS, no token: an
    /// address only the monitoring network reaches); default: none.
    #[arg(long, env = "RECEIVABLES_METRICS_LISTEN", value_name = "ADDRESS")]
    pub metrics_listen: Option<SocketAddr>,

    /// The event log in a NATS server's JetStream instead of the data directory (--nats-url).
    #[command(flatten, next_help_heading = "NATS")]
    pub nats: NatsArgs,

    #[command(flatten, next_help_heading = "Alerts")]
    pub alerts: AlertArgs,

    #[command(flatten, next_help_heading = "Dashboard")]
    pub web: WebArgs,

    #[command(flatten, next_help_heading = "Bank receipts")]
    pub receipts: ReceiptArgs,

    #[command(flatten, next_help_heading = "Security")]
    pub security: SecurityArgs,
}

impl ServeArgs {
    /// The bounds of the command service's cache of accounts.
    pub fn account_cache(&self) -> CacheBounds {
        CacheBounds {
            customers: self.account_cache_customers,
            bytes: self.account_cache_bytes,
        }
    }

    /// Everything embedded in `data_dir`, listening on `listen`, without TLS or tokens.
    pub fn embedded(listen: SocketAddr, data_dir: impl Into<PathBuf>) -> Self {
        ServeArgs {
            listen,
            data_dir: data_dir.into(),
            database_url: None,
            account_cache_customers: ACCOUNT_CACHE_CUSTOMERS_DEFAULT,
            account_cache_bytes: ACCOUNT_CACHE_BYTES_DEFAULT,
            snapshot_every_events: SNAPSHOT_EVERY_EVENTS,
            database_max_connections: READ_CONNECTIONS_DEFAULT,
            shutdown_grace_secs: SHUTDOWN_GRACE_SECS_DEFAULT,
            metrics_listen: None,
            nats: NatsArgs::new(None),
            alerts: AlertArgs::default(),
            web: WebArgs::default(),
            receipts: ReceiptArgs::default(),
            security: SecurityArgs::insecure(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoScale {
    /// Three subsidiaries, a few hundred customers, thousands of invoices over twelve months.
    Full,
    /// A dozen customers over a few months: for tests and a quick look.
    Small,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Address the gRPC server listens on.
    #[arg(long, env = "RECEIVABLES_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Address the dashboard and the HTTP/JSON API listen on.
    #[arg(
        long,
        env = "RECEIVABLES_HTTP_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub http_listen: SocketAddr,

    /// A fresh (missing or empty) directory for the demo's data; default: a new temporary
    /// directory, removed when the demo stops.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,

    /// Load, print the reports and exit instead of serving on.
    #[arg(long)]
    pub exit_after_load: bool,

    /// How much data to load.
    #[arg(long, value_enum, default_value_t = DemoScale::Full)]
    pub scale: DemoScale,

    /// Seed of the generated data: the same seed gives the same data.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,

    /// The business date the data set ends on (YYYY-MM-DD); default: today.
    #[arg(long)]
    pub today: Option<chrono::NaiveDate>,

    /// Required: the demo serves without TLS and without tokens, so that anyone who can reach
    /// the port may do anything; this flag says you know.
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Debug, Clone, Args)]
pub struct QueryServiceArgs {
    /// Address the query, audit and admin services listen on.
    #[arg(
        long,
        env = "RECEIVABLES_QUERY_LISTEN",
        default_value = "127.0.0.1:50052"
    )]
    pub listen: SocketAddr,

    /// PostgreSQL database of the read model.
    #[arg(
        long,
        env = "RECEIVABLES_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/receivables"
    )]
    pub database_url: String,

    /// Most connections to the read-model database.
    #[arg(long, env = "RECEIVABLES_DATABASE_MAX_CONNECTIONS", default_value_t = READ_CONNECTIONS_DEFAULT)]
    pub database_max_connections: u32,

    /// How long in-flight calls may take to finish at shutdown, in seconds.
    #[arg(long, env = "RECEIVABLES_SHUTDOWN_GRACE_SECS", default_value_t = SHUTDOWN_GRACE_SECS_DEFAULT)]
    pub shutdown_grace_secs: u64,

    /// Serve the operators' metrics for Prometheus (`GET /metrics`, no TLS, no token: an
    /// address only the monitoring network reaches); default: none.
    #[arg(long, env = "RECEIVABLES_METRICS_LISTEN", value_name = "ADDRESS")]
    pub metrics_listen: Option<SocketAddr>,

    #[command(flatten, next_help_heading = "NATS")]
    pub nats: NatsArgs,

    #[command(flatten, next_help_heading = "Alerts")]
    pub alerts: AlertArgs,

    #[command(flatten, next_help_heading = "Dashboard")]
    pub web: WebArgs,

    /// Serve cash application too (`ReceiptService`, and the review queue on the dashboard):
    /// it matches on this read model and appends statement lines, their matches and the
    /// payments they make to the log, as a command service does (its NATS user must be
    /// allowed to publish to the stream). Off: a query service only reads.
    #[arg(long, env = "RECEIVABLES_SERVE_RECEIPTS")]
    pub serve_receipts: bool,

    #[command(flatten, next_help_heading = "Bank receipts")]
    pub receipts: ReceiptArgs,

    #[command(flatten, next_help_heading = "Security")]
    pub security: SecurityArgs,
}

impl QueryServiceArgs {
    /// Arguments with every default, listening on `listen`, reading `nats_url` into
    /// `database_url`, without TLS or tokens.
    pub fn new(
        listen: SocketAddr,
        nats_url: impl Into<String>,
        database_url: impl Into<String>,
    ) -> Self {
        QueryServiceArgs {
            listen,
            database_url: database_url.into(),
            database_max_connections: READ_CONNECTIONS_DEFAULT,
            shutdown_grace_secs: SHUTDOWN_GRACE_SECS_DEFAULT,
            metrics_listen: None,
            nats: NatsArgs::new(Some(nats_url.into())),
            alerts: AlertArgs::default(),
            web: WebArgs::default(),
            serve_receipts: false,
            receipts: ReceiptArgs::default(),
            security: SecurityArgs::insecure(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CommandServiceArgs {
    /// Address the command service listens on.
    #[arg(long, env = "RECEIVABLES_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Most customer accounts kept in memory.
    #[arg(long, env = "RECEIVABLES_ACCOUNT_CACHE_CUSTOMERS", default_value_t = ACCOUNT_CACHE_CUSTOMERS_DEFAULT)]
    pub account_cache_customers: u64,

    /// Most bytes the accounts kept in memory are estimated to hold (an account keeps every
    /// document of its history, about 1 KB per invoice).
    #[arg(long, env = "RECEIVABLES_ACCOUNT_CACHE_BYTES", default_value_t = ACCOUNT_CACHE_BYTES_DEFAULT)]
    pub account_cache_bytes: u64,

    /// Events a customer's account takes between two snapshots of it (0: never). A snapshot
    /// makes loading a long history fast; it is a cache beside the log, checked against it.
    #[arg(long, env = "RECEIVABLES_SNAPSHOT_EVERY_EVENTS", default_value_t = SNAPSHOT_EVERY_EVENTS)]
    pub snapshot_every_events: u64,

    /// How long in-flight commands may take to finish at shutdown, in seconds.
    #[arg(long, env = "RECEIVABLES_SHUTDOWN_GRACE_SECS", default_value_t = SHUTDOWN_GRACE_SECS_DEFAULT)]
    pub shutdown_grace_secs: u64,

    /// Serve the operators' metrics for Prometheus (`GET /metrics`, no TLS, no token: an
    /// address only the monitoring network reaches); default: none.
    #[arg(long, env = "RECEIVABLES_METRICS_LISTEN", value_name = "ADDRESS")]
    pub metrics_listen: Option<SocketAddr>,

    #[command(flatten, next_help_heading = "NATS")]
    pub nats: NatsArgs,

    #[command(flatten, next_help_heading = "Security")]
    pub security: SecurityArgs,
}

impl CommandServiceArgs {
    /// The bounds of the command service's cache of accounts.
    pub fn account_cache(&self) -> CacheBounds {
        CacheBounds {
            customers: self.account_cache_customers,
            bytes: self.account_cache_bytes,
        }
    }

    /// Arguments with every default, listening on `listen` and talking to `nats_url`, without
    /// TLS or tokens.
    pub fn new(listen: SocketAddr, nats_url: impl Into<String>) -> Self {
        CommandServiceArgs {
            listen,
            account_cache_customers: ACCOUNT_CACHE_CUSTOMERS_DEFAULT,
            account_cache_bytes: ACCOUNT_CACHE_BYTES_DEFAULT,
            snapshot_every_events: SNAPSHOT_EVERY_EVENTS,
            shutdown_grace_secs: SHUTDOWN_GRACE_SECS_DEFAULT,
            metrics_listen: None,
            nats: NatsArgs::new(Some(nats_url.into())),
            security: SecurityArgs::insecure(),
        }
    }
}

/// Longest lifetime `--expires-in-days` accepts (ten years).
pub const TOKEN_LIFETIME_DAYS_MAX: u64 = 3_650;

/// Recorded as the issuer of tokens made with this command.
pub const LOCAL_ADMIN: &str = "local-admin";

#[derive(Debug, Clone, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    pub command: TokensCommand,

    /// Data directory of `receivables serve` whose token store to use.
    #[arg(long, env = "RECEIVABLES_DATA_DIR", default_value = DATA_DIR_DEFAULT, global = true)]
    pub data_dir: PathBuf,

    /// With --nats-url: the token bucket on that NATS server instead (the split deployment, or
    /// `serve --nats-url`).
    #[command(flatten, next_help_heading = "NATS")]
    pub nats: NatsArgs,

    /// Ask the running service (--server, or --query-server where the admin service runs)
    /// with an admin --token, instead of opening the store.
    #[arg(long, global = true, conflicts_with = "nats_url")]
    pub remote: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TokensCommand {
    /// Issue a token and print it once.
    Create {
        /// subsidiary, credit, reporting, auditor or admin.
        #[arg(long)]
        role: String,
        /// The subsidiary a `subsidiary` token posts and reads for (that role only).
        #[arg(long)]
        subsidiary: Option<String>,
        /// Who or what the token is for, e.g. "SUB-1 ERP connector".
        #[arg(long)]
        label: String,
        /// Days until the token is refused; default: it does not expire.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=TOKEN_LIFETIME_DAYS_MAX))]
        expires_in_days: Option<u64>,
    },
    /// List every token (never their secrets).
    List,
    /// Revoke a token; the service refuses it from the next call on.
    Revoke {
        /// The token's id (the 16 hex digits after `rcv_`).
        id: String,
    },
}

/// Which log a migration copies the history into; the other one is where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateTo {
    /// From the embedded log in --data-dir into the stream on --nats-url.
    Jetstream,
    /// From the stream on --nats-url into the embedded log in --data-dir.
    Embedded,
}

/// The logs a migration, a backup or a restore works on: the embedded log in `--data-dir`, and
/// the JetStream stream the NATS options name.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Data directory of the embedded log (`events.sqlite`) and token store (`access.sqlite`).
    #[arg(long, env = "RECEIVABLES_DATA_DIR", default_value = DATA_DIR_DEFAULT)]
    pub data_dir: PathBuf,

    #[command(flatten, next_help_heading = "NATS")]
    pub nats: NatsArgs,

    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// Where the history goes: `jetstream` (from --data-dir into the stream on --nats-url) or
    /// `embedded` (back). The target must be empty unless --resume.
    #[arg(long, value_enum)]
    pub to: MigrateTo,

    /// Carry on a migration that was interrupted: the target's events are checked to be the
    /// start of the source's, and the rest are copied.
    #[arg(long)]
    pub resume: bool,

    #[command(flatten)]
    pub logs: LogsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The file to write; it must not exist.
    pub file: PathBuf,

    /// The log backed up: the stream on --nats-url when given, else the embedded log.
    #[command(flatten)]
    pub logs: LogsArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup file to restore.
    pub file: PathBuf,

    /// Carry on a restore that was interrupted (as `migrate --resume`).
    #[arg(long)]
    pub resume: bool,

    /// The log restored into: the stream on --nats-url when given, else the embedded log.
    #[command(flatten)]
    pub logs: LogsArgs,
}
