//! Test harness for the end-to-end tests: real `nats-server` processes on free ports with their
//! own temporary stores, the command service started in-process on port 0, and real gRPC
//! clients.
//!
//! Which server binaries are used:
//! - `RECEIVABLES_NATS_SERVER` (default: `nats-server` on `PATH`, on Debian 2.9.10);
//! - `RECEIVABLES_NATS_SERVER_CURRENT`: a current release (2.12.3 or later) for the tests that
//!   must also run on one; without it those parts are skipped, loudly.
//!
//! Under `CI=true` (or `RECEIVABLES_REQUIRE_SERVERS=1`) a missing server binary fails the test
//! instead of skipping it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use receivables::app::Application;
use receivables::config::CommandServiceArgs;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use tokio::process::{Child, Command};
use tonic::transport::Channel;

pub use receivables_api::pb::Money;

pub mod certificates;
pub mod cluster;
pub mod dashboard;
pub mod netns;
pub mod postgres_server;
pub mod projecting;
pub mod random_history;
pub mod refusals;

/// Whether a missing server must fail the test rather than skip it.
pub fn servers_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("RECEIVABLES_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// Says loudly that the calling test did not run and why. Written straight to the process's
/// standard error, which the test runner does not capture (it captures `eprintln!`), so the
/// line shows even when the skipped test counts as passed.
pub fn skipped(why: &str) {
    use std::io::Write as _;
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPED {test}: {why}; this test did not run (under CI=true it would fail) !!!\n"
    );
}

/// A NATS server binary, found or not.
#[derive(Debug, Clone)]
pub struct ServerBinary {
    pub path: PathBuf,
    pub label: &'static str,
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The machine's NATS server (the old one on Debian). Panics under CI when it is missing;
/// returns `None` (after saying so loudly) elsewhere.
pub fn nats_server_binary() -> Option<ServerBinary> {
    let found = std::env::var_os("RECEIVABLES_NATS_SERVER")
        .map(PathBuf::from)
        .or_else(|| find_on_path("nats-server"))
        .or_else(|| Some(PathBuf::from("/usr/sbin/nats-server")).filter(|p| p.is_file()));
    resolve(
        found,
        "machine",
        "nats-server (set RECEIVABLES_NATS_SERVER or put it on PATH)",
    )
}

/// A current NATS server release (README, "NATS server versions").
pub fn current_nats_server_binary() -> Option<ServerBinary> {
    let found = std::env::var_os("RECEIVABLES_NATS_SERVER_CURRENT").map(PathBuf::from);
    resolve(
        found,
        "current",
        "a current nats-server (set RECEIVABLES_NATS_SERVER_CURRENT; `just current-nats` installs one)",
    )
}

fn resolve(found: Option<PathBuf>, label: &'static str, what: &str) -> Option<ServerBinary> {
    match found.filter(|p| p.is_file()) {
        Some(path) => Some(ServerBinary { path, label }),
        None if servers_required() => panic!("{what} is required under CI but was not found"),
        None => {
            skipped(&format!("{what} was not found"));
            None
        }
    }
}

/// Every server this test should run against: the machine's and, if available, a current one.
pub fn all_nats_server_binaries() -> Vec<ServerBinary> {
    nats_server_binary()
        .into_iter()
        .chain(current_nats_server_binary())
        .collect()
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// Attempts at a free port before a test's `nats-server` gives up.
const PORT_ATTEMPTS_MAX: usize = 5;

/// A `nats-server` with JetStream on a free port and its own store, killed on drop.
pub struct NatsServer {
    binary: ServerBinary,
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    pub async fn start(binary: &ServerBinary) -> NatsServer {
        let mut server = NatsServer {
            binary: binary.clone(),
            port: free_port(),
            store: tempfile::tempdir().expect("temporary store"),
            child: None,
        };
        // A free port may be taken by another test's server before ours binds it: then ours
        // exits, and it starts again on another port.
        for _ in 0..PORT_ATTEMPTS_MAX {
            if server.run().await {
                return server;
            }
            server.port = free_port();
        }
        panic!("nats-server found no free port in {PORT_ATTEMPTS_MAX} attempts");
    }

    /// Starts the machine's server, or returns `None` when it cannot be found (outside CI).
    pub async fn start_default() -> Option<NatsServer> {
        Some(NatsServer::start(&nats_server_binary()?).await)
    }

    /// The name this server answers with, unique to it (its store is a fresh directory).
    fn name(&self) -> String {
        let store = self.store.path().file_name().unwrap_or_default();
        format!("test-{}", store.to_string_lossy())
    }

    /// Starts the process and waits until it answers under its own name; false when it exited
    /// (its port was taken). A connection answered by another server (one that holds the port)
    /// is not taken for ours.
    async fn run(&mut self) -> bool {
        let name = self.name();
        let mut child = Command::new(&self.binary.path)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-n",
                &name,
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.path.display()));
        // The server enables JetStream before it listens: ready once a client connects to it.
        for _ in 0..200 {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            if let Ok(client) = async_nats::connect(self.url()).await
                && client.flush().await.is_ok()
                && client.server_info().server_name == name
            {
                self.child = Some(child);
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("nats-server on port {} did not become ready", self.port);
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn label(&self) -> &'static str {
        self.binary.label
    }

    pub fn store(&self) -> &Path {
        self.store.path()
    }

    /// Kills the server (as a crash would: SIGKILL).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port with the same store.
    pub async fn restart(&mut self) {
        self.kill().await;
        assert!(
            self.run().await,
            "nats-server could not listen on port {} again",
            self.port
        );
    }
}

/// The command service running in-process, stopped on drop.
pub struct TestService {
    pub address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Arguments for a test command service on a free port, against `nats_url`.
pub fn service_args(nats_url: &str) -> CommandServiceArgs {
    let mut args = CommandServiceArgs::new("127.0.0.1:0".parse().unwrap(), nats_url);
    args.nats.request_timeout_ms = 2_000;
    args.shutdown_grace_secs = 5;
    args
}

impl TestService {
    pub async fn start(nats_url: &str) -> TestService {
        TestService::start_with(service_args(nats_url)).await
    }

    pub async fn start_with(args: CommandServiceArgs) -> TestService {
        let app = Application::build(&args).await.expect("command service");
        let address = app.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestService {
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn client(&self) -> CommandServiceClient<Channel> {
        let endpoint = format!("http://{}", self.address);
        for _ in 0..100 {
            if let Ok(client) = CommandServiceClient::connect(endpoint.clone()).await {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("cannot connect to the command service at {endpoint}");
    }

    /// Stops the service gracefully and waits until it has stopped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("service task").expect("service result");
        }
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One message of the stream, as stored.
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub sequence: u64,
    pub subject: String,
    pub msg_id: Option<String>,
    pub json: serde_json::Value,
}

/// Every message of the events stream, in order, read straight from JetStream.
pub async fn raw_events(nats_url: &str) -> Vec<RawEvent> {
    raw_messages(nats_url, "RECEIVABLES").await
}

/// Every message of the JetStream stream `name`, in order (none when it is missing).
pub async fn raw_messages(nats_url: &str, name: &str) -> Vec<RawEvent> {
    let client = async_nats::connect(nats_url).await.unwrap();
    let context = jetstream::new(client);
    let Ok(mut stream) = context.get_stream(name).await else {
        return Vec::new();
    };
    let last = stream.info().await.unwrap().state.last_sequence;
    if last == 0 || stream.cached_info().state.messages == 0 {
        return Vec::new();
    }
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut events = Vec::new();
    while let Some(message) = messages.next().await {
        let message = message.unwrap();
        let info = message.info().unwrap();
        let sequence = info.stream_sequence;
        let pending = info.pending;
        events.push(RawEvent {
            sequence,
            subject: message.subject.to_string(),
            msg_id: message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.to_string()),
            json: serde_json::from_slice(&message.payload).unwrap(),
        });
        if pending == 0 {
            break;
        }
    }
    events
}

/// The stream's last sequence (0 when empty or missing).
pub async fn last_sequence(nats_url: &str) -> u64 {
    let client = async_nats::connect(nats_url).await.unwrap();
    let context = jetstream::new(client);
    match context.get_stream("RECEIVABLES").await {
        Ok(mut stream) => stream.info().await.unwrap().state.last_sequence,
        Err(_) => 0,
    }
}

pub fn command_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn money(amount: &str, currency: &str) -> Option<Money> {
    Some(Money {
        amount: amount.to_owned(),
        currency: currency.to_owned(),
    })
}

pub fn cny(amount: &str) -> Option<Money> {
    money(amount, "CNY")
}

pub fn invoice_ref(subsidiary: &str, number: &str) -> Option<pb::InvoiceRef> {
    Some(pb::InvoiceRef {
        subsidiary_id: subsidiary.to_owned(),
        invoice_number: number.to_owned(),
    })
}

/// An invoice request with a due date.
pub fn invoice(
    customer: &str,
    subsidiary: &str,
    number: &str,
    amount: &str,
    issue: &str,
    due: &str,
) -> pb::IssueInvoiceRequest {
    pb::IssueInvoiceRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        subsidiary_id: subsidiary.to_owned(),
        invoice_number: number.to_owned(),
        amount: cny(amount),
        issue_date: issue.to_owned(),
        due: Some(pb::issue_invoice_request::Due::DueDate(due.to_owned())),
        schedule: Vec::new(),
        order_number: String::new(),
    }
}

/// A payment request without allocations (oldest due first).
pub fn payment(
    customer: &str,
    subsidiary: &str,
    amount: &str,
    received: &str,
) -> pb::RecordPaymentRequest {
    pb::RecordPaymentRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        subsidiary_id: subsidiary.to_owned(),
        amount: cny(amount),
        received_date: received.to_owned(),
        method: pb::PaymentMethod::BankTransfer.into(),
        reference: "BANK-REF".to_owned(),
        allocations: Vec::new(),
        allocation_rule: pb::AllocationRule::Unspecified.into(),
    }
}

pub fn allocation(subsidiary: &str, number: &str, amount: &str) -> pb::Allocation {
    pb::Allocation {
        invoice: invoice_ref(subsidiary, number),
        amount: cny(amount),
    }
}

/// The day the tests' credit limits take effect: before the first day of every scripted
/// history, so that a report as of any day of them falls under them (a change without an
/// effective date takes effect on the day it is recorded, which is today).
pub const LIMITS_IN_FORCE_FROM: &str = "2026-01-01";

/// A credit-limit change in force from [`LIMITS_IN_FORCE_FROM`].
pub fn credit_limit(
    customer: &str,
    limit: &str,
    policy: pb::CreditPolicy,
) -> pb::ChangeCreditLimitRequest {
    pb::ChangeCreditLimitRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        limit: cny(limit),
        policy: policy.into(),
        grade: pb::CreditGrade::B.into(),
        reason: "annual review".to_owned(),
        approved_by: "Li Wei".to_owned(),
        effective_date: LIMITS_IN_FORCE_FROM.to_owned(),
        overdue_hold_days: None,
    }
}

pub fn promise(
    customer: &str,
    subsidiary: &str,
    amount: &str,
    made_on: &str,
    promised: &str,
) -> pb::RecordPromiseToPayRequest {
    pb::RecordPromiseToPayRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        subsidiary_id: subsidiary.to_owned(),
        amount: cny(amount),
        made_on: made_on.to_owned(),
        promised_date: promised.to_owned(),
        invoices: Vec::new(),
        collector: "Wang Fang".to_owned(),
        note: "called the treasurer".to_owned(),
    }
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// A PostgreSQL database of its own for one test, with the read models' schema, dropped by
/// [`TestDatabase::drop_database`]. The server is `RECEIVABLES_TEST_DATABASE_URL` (default
/// `postgres://postgres@127.0.0.1:5432/postgres`, trust authentication).
pub struct TestDatabase {
    pub pool: sqlx::PgPool,
    /// The same connections as a read-model pool, for the projections' functions.
    pub read: receivables_projections::ReadPool,
    name: String,
    admin: sqlx::PgPool,
    /// The server's URL (of its default database), from which the database is dropped.
    admin_url: String,
    url: String,
    /// Dropped already by [`TestDatabase::drop_database`]; otherwise `Drop` drops it.
    dropped: bool,
}

impl TestDatabase {
    /// Creates the database, or returns `None` (loudly) when no PostgreSQL server answers
    /// outside CI; under CI that fails the test.
    pub async fn create() -> Option<TestDatabase> {
        let url = std::env::var("RECEIVABLES_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        TestDatabase::create_on(&url).await
    }

    /// Creates the database on the server of `url` (a URL of its default database), as
    /// [`TestDatabase::create`] does on the machine's.
    pub async fn create_on(url: &str) -> Option<TestDatabase> {
        use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
        let admin_url = url.to_owned();
        let options: PgConnectOptions = url.parse().expect("database URL");
        let admin = match PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => pool,
            Err(error) if servers_required() => {
                panic!("PostgreSQL at {url} is required under CI: {error}")
            }
            Err(error) => {
                skipped(&format!("no PostgreSQL at {url} ({error})"));
                return None;
            }
        };
        let name = format!("receivables_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create test database");
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone().database(&name))
            .await
            .expect("connect to test database");
        receivables_projections::MIGRATOR
            .run(&pool)
            .await
            .expect("migrations");
        use sqlx::ConnectOptions as _;
        let url = options.database(&name).to_url_lossy().to_string();
        Some(TestDatabase {
            read: pool.clone().into(),
            pool,
            name,
            admin,
            admin_url: admin_url.clone(),
            url,
            dropped: false,
        })
    }

    /// The URL of this database.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Closes the pool and drops the database.
    pub async fn drop_database(mut self) {
        self.pool.close().await;
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await;
        self.dropped = true;
    }
}

/// A test that panicked, or forgot to call [`TestDatabase::drop_database`], leaves nothing
/// behind: the database is dropped from a thread of its own (the test's runtime may be going
/// away), on a connection of its own.
impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let dropping = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                use sqlx::Connection as _;
                if let Ok(mut connection) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut connection)
                        .await;
                    let _ = connection.close().await;
                }
            });
        });
        let _ = dropping.join();
    }
}

/// A channel to the service at `url`, once it accepts connections (it may still be starting).
pub async fn channel_to(url: &str) -> Channel {
    for _ in 0..100 {
        if let Ok(channel) = Channel::from_shared(url.to_owned())
            .unwrap()
            .connect()
            .await
        {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cannot connect to the service at {url}");
}

/// The read side (projector and query service) running in-process, stopped on drop.
pub struct TestQueryService {
    pub address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestQueryService {
    /// Starts against `nats_url` (whose stream the command service has created) and the
    /// database `database_url`.
    pub async fn start(nats_url: &str, database: &TestDatabase) -> TestQueryService {
        TestQueryService::start_with(receivables::config::QueryServiceArgs::new(
            "127.0.0.1:0".parse().unwrap(),
            nats_url,
            database.url(),
        ))
        .await
    }

    /// Starts with `args`.
    pub async fn start_with(args: receivables::config::QueryServiceArgs) -> TestQueryService {
        let app = receivables::read_app::ReadApplication::build(&args)
            .await
            .expect("query service");
        let address = app.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestQueryService {
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn client(
        &self,
    ) -> receivables_api::pb::query_service_client::QueryServiceClient<Channel> {
        let endpoint = format!("http://{}", self.address);
        for _ in 0..100 {
            if let Ok(client) =
                receivables_api::pb::query_service_client::QueryServiceClient::connect(
                    endpoint.clone(),
                )
                .await
            {
                return client;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("cannot connect to the query service at {endpoint}");
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("query service task")
                .expect("query service result");
        }
    }
}

impl Drop for TestQueryService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The tables present but for today's summaries, which depend on the business date and are
/// compared by what they answer (`summaries.rs`), not row by row.
fn without_summaries(present: Vec<(String,)>) -> Vec<(String,)> {
    present
        .into_iter()
        .filter(|(table,)| !receivables_projections::summaries::TABLES.contains(&table.as_str()))
        .collect()
}

/// Every row of the read model in `schema`, as text, in a fixed order (as in `aging.rs`).
pub async fn read_model_rows(pool: &sqlx::PgPool, schema: &str) -> Vec<String> {
    let tables = read_model_tables();
    let present: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::TEXT FROM information_schema.tables
         WHERE table_schema = $1 AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await
    .unwrap();
    let present = without_summaries(present);
    let mut compared: Vec<&str> = tables.iter().map(|(table, _)| *table).collect();
    compared.sort_unstable();
    assert_eq!(
        present.iter().map(|(t,)| t.as_str()).collect::<Vec<_>>(),
        compared,
        "the tables of the read model in {schema}"
    );
    let mut rows = Vec::new();
    for (table, order) in tables {
        let columns = if table == "projection_checkpoints" {
            "projection, position".to_owned()
        } else {
            "*".to_owned()
        };
        let query = format!(
            "SELECT row_to_json(t)::TEXT FROM (SELECT {columns} FROM {schema}.{table} ORDER BY {order}) t"
        );
        let table_rows: Vec<(String,)> = sqlx::query_as(&query).fetch_all(pool).await.unwrap();
        rows.extend(table_rows.into_iter().map(|(r,)| format!("{table}: {r}")));
    }
    rows
}

/// The read-model engines, for tests that must pass on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

/// A read model of its own for one test, on either engine: a PostgreSQL database (see
/// [`TestDatabase`]) or a SQLite generation in a temporary directory.
pub struct TestReadModel {
    pub read: receivables_projections::ReadPool,
    postgres: Option<TestDatabase>,
    _directory: Option<tempfile::TempDir>,
}

impl TestReadModel {
    /// A migrated, empty read model; `None` (loudly) when PostgreSQL is wanted and missing
    /// outside CI.
    pub async fn create(engine: Engine) -> Option<TestReadModel> {
        match engine {
            Engine::Postgres => {
                let database = TestDatabase::create().await?;
                Some(TestReadModel {
                    read: database.read.clone(),
                    postgres: Some(database),
                    _directory: None,
                })
            }
            Engine::Sqlite => {
                let directory = tempfile::tempdir().expect("temporary directory");
                let store = receivables_projections::ReadStore::sqlite(directory.path())
                    .expect("read store");
                let generation = store.live().await.expect("live generation");
                let read = store.pool(generation, 4).await.expect("read pool");
                Some(TestReadModel {
                    read,
                    postgres: None,
                    _directory: Some(directory),
                })
            }
        }
    }

    /// Closes the connections and removes the database or directory.
    pub async fn remove(self) {
        self.read.close().await;
        if let Some(database) = self.postgres {
            database.drop_database().await;
        }
    }
}

/// Runs an `async fn(Engine)` test once on each read-model engine, as `<name>::postgres` and
/// `<name>::sqlite`.
#[macro_export]
macro_rules! on_both_engines {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$test($crate::Engine::Postgres).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$test($crate::Engine::Sqlite).await
                }
            }
        )+
    };
}

/// The read model's tables and the order their rows are compared in: every table of every
/// projection the runtime keeps, the checkpoints and where the kept history starts. Every
/// table in the database is compared; one that no projection declares fails the comparison.
fn read_model_tables() -> Vec<(&'static str, &'static str)> {
    receivables_projections::runtime::PROJECTIONS
        .iter()
        .flat_map(|projection| projection.tables().iter().map(|t| (t.name, t.key)))
        .chain([
            ("projection_checkpoints", "projection"),
            (receivables_projections::known::HISTORY_SINCE, "id"),
        ])
        .collect()
}

/// Every row of a read model on either engine, as text, table by table in a fixed order (see
/// [`read_model_rows`]; on PostgreSQL the pool's own schema is read).
pub async fn read_model_rows_of(read: &receivables_projections::ReadPool) -> Vec<String> {
    use receivables_projections::ReadPool;
    match read {
        ReadPool::Postgres(pool) => {
            let (schema,): (String,) = sqlx::query_as("SELECT current_schema()::TEXT")
                .fetch_one(pool)
                .await
                .unwrap();
            read_model_rows(pool, &schema).await
        }
        ReadPool::Sqlite(pool) => {
            let present: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                 ORDER BY 1",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            let present = without_summaries(present);
            let tables = read_model_tables();
            let mut compared: Vec<&str> = tables.iter().map(|(t, _)| *t).collect();
            compared.sort_unstable();
            assert_eq!(
                present.iter().map(|(t,)| t.as_str()).collect::<Vec<_>>(),
                compared,
                "the tables of the read model"
            );
            let mut rows = Vec::new();
            for (table, order) in tables {
                let columns: Vec<(String,)> =
                    sqlx::query_as(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                let pairs: Vec<String> = columns
                    .iter()
                    .map(|(c,)| c.as_str())
                    .filter(|c| table != "projection_checkpoints" || *c != "updated_at")
                    .map(|c| format!("'{c}', {c}"))
                    .collect();
                let query = format!(
                    "SELECT json_object({}) FROM {table} ORDER BY {order}",
                    pairs.join(", ")
                );
                let table_rows: Vec<(String,)> =
                    sqlx::query_as(&query).fetch_all(pool).await.unwrap();
                rows.extend(table_rows.into_iter().map(|(r,)| format!("{table}: {r}")));
            }
            rows
        }
    }
}

/// The backend pairs the all-in-one service runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backends {
    /// SQLite event log and read model in a data directory: no servers.
    Embedded,
    /// NATS JetStream (a server of the test's own) and PostgreSQL (a database of its own).
    Servers,
}

/// Where an all-in-one service keeps its data, kept across restarts of the service.
pub struct TestData {
    pub backends: Backends,
    pub directory: tempfile::TempDir,
    pub nats: Option<NatsServer>,
    pub database: Option<TestDatabase>,
}

impl TestData {
    /// Fresh data for `backends`; `None` (loudly) when a server is missing outside CI.
    pub async fn create(backends: Backends) -> Option<TestData> {
        let directory = tempfile::tempdir().expect("temporary directory");
        let (nats, database) = match backends {
            Backends::Embedded => (None, None),
            Backends::Servers => (
                Some(NatsServer::start_default().await?),
                Some(TestDatabase::create().await?),
            ),
        };
        Some(TestData {
            backends,
            directory,
            nats,
            database,
        })
    }

    /// The service's arguments, listening on `listen`.
    pub fn args(&self, listen: SocketAddr) -> receivables::config::ServeArgs {
        let mut args = receivables::config::ServeArgs::embedded(listen, self.directory.path());
        args.nats.nats_url = self.nats.as_ref().map(NatsServer::url);
        args.database_url = self.database.as_ref().map(TestDatabase::url);
        args
    }

    /// The `receivables serve` flags for these backends (without `--listen`).
    pub fn flags(&self) -> Vec<String> {
        let mut flags = vec![
            "--data-dir".to_owned(),
            self.directory.path().display().to_string(),
        ];
        if let Some(nats) = &self.nats {
            flags.extend(["--nats-url".to_owned(), nats.url()]);
        }
        if let Some(database) = &self.database {
            flags.extend(["--database-url".to_owned(), database.url()]);
        }
        flags
    }

    pub async fn remove(self) {
        if let Some(database) = self.database {
            database.drop_database().await;
        }
    }
}

/// The all-in-one service (`receivables serve`) running in-process.
pub struct TestAllInOne {
    pub address: SocketAddr,
    /// The dashboard's address, when the arguments asked for one (`--http-listen`).
    pub http: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestAllInOne {
    /// Starts on `data`, on a free port.
    pub async fn start(data: &TestData) -> TestAllInOne {
        TestAllInOne::start_with(&data.args("127.0.0.1:0".parse().unwrap())).await
    }

    /// Starts with `args` (security settings included).
    pub async fn start_with(args: &receivables::config::ServeArgs) -> TestAllInOne {
        let serving = receivables::all_in_one::Serving::build(args)
            .await
            .expect("all-in-one service");
        let address = serving.local_addr().unwrap();
        let http = serving.http_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serving.run_until(async move {
            let _ = stopped.await;
        }));
        TestAllInOne {
            address,
            http,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A channel to the service, once it accepts connections.
    pub async fn channel(&self) -> Channel {
        channel_to(&self.url()).await
    }

    pub async fn commands(&self) -> CommandServiceClient<Channel> {
        CommandServiceClient::new(self.channel().await)
    }

    pub async fn queries(
        &self,
    ) -> receivables_api::pb::query_service_client::QueryServiceClient<Channel> {
        receivables_api::pb::query_service_client::QueryServiceClient::new(self.channel().await)
    }

    pub async fn admin(
        &self,
    ) -> receivables_api::pb::admin_service_client::AdminServiceClient<Channel> {
        receivables_api::pb::admin_service_client::AdminServiceClient::new(self.channel().await)
    }

    /// Stops gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("service task").expect("service result");
        }
    }
}

impl Drop for TestAllInOne {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Runs an `async fn(Backends)` test once on each backend pair, as `<name>::embedded` and
/// `<name>::servers`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn embedded() {
                    super::$test($crate::Backends::Embedded).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn servers() {
                    super::$test($crate::Backends::Servers).await
                }
            }
        )+
    };
}

/// The `receivables` binary, `target/<profile>/receivables`, next to the directory of this test
/// executable. `cargo test --workspace` does not build it: the README's test command runs
/// `cargo build -p receivables` first.
pub fn receivables_binary() -> PathBuf {
    let test = std::env::current_exe().expect("path of the test executable");
    let profile = test
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lies in target/<profile>/deps");
    let binary = profile.join(format!("receivables{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "the service binary {} is missing: run `cargo build -p receivables` first",
        binary.display()
    );
    binary
}

/// How often a well-behaved client resends the same command after ABORTED or UNAVAILABLE.
pub const CLIENT_RETRIES_MAX: usize = 20;

/// Sends a command by `call`, resending the same request (same command id) while the service
/// answers ABORTED or UNAVAILABLE, as a well-behaved client does: the reply when accepted, the
/// final code and `ErrorInfo` reason otherwise.
pub async fn with_retries<T, Fut>(mut call: impl FnMut() -> Fut) -> Result<T, (tonic::Code, String)>
where
    Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    use tonic_types::StatusExt as _;
    for _ in 0..CLIENT_RETRIES_MAX {
        match call().await {
            Ok(reply) => return Ok(reply.into_inner()),
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::Aborted | tonic::Code::Unavailable
                ) =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(status) => {
                let reason = status
                    .get_error_details()
                    .error_info()
                    .map(|i| i.reason.clone())
                    .unwrap_or_default();
                return Err((status.code(), reason));
            }
        }
    }
    Err((tonic::Code::Aborted, "gave up".into()))
}

/// A two-decimal amount as the log carries it ("700.00") in minor units (70000).
pub fn fen(amount: &str) -> i64 {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, "00"));
    whole.parse::<i64>().expect("whole units") * 100 + fraction.parse::<i64>().expect("cents")
}

/// The fields a refusal names in its `BadRequest` details, in order (none without them).
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt as _;
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// `VerifyLog` of `customer` (every customer: `""`) to its end: its result (progress every
/// two events, which is read past).
pub async fn verify_log(
    client: &mut receivables_api::pb::audit_service_client::AuditServiceClient<Channel>,
    customer: &str,
) -> pb::VerifyLogResult {
    let request = pb::VerifyLogRequest {
        customer_id: customer.to_owned(),
        progress_every: 2,
    };
    let mut stream = client.verify_log(request).await.unwrap().into_inner();
    let mut result = None;
    while let Some(item) = stream.next().await {
        if let Some(pb::verify_log_response::Item::Result(r)) = item.unwrap().item {
            result = Some(r);
        }
    }
    result.expect("a result")
}
