//! Crash safety of the projector: the real `receivables serve-queries` binary, run as a separate
//! OS process, is killed with SIGKILL again and again while it catches up on a history posted
//! over gRPC, before, during and after its batch commits, and restarted each time. Once it has
//! caught up, its read model is compared row by row with one rebuilt from position 1 by an
//! in-process projector, and its row counts and sums with what the command service accepted.
//!
//! The binary is looked up next to the test executable (`target/<profile>/receivables`):
//! `cargo test --workspace` builds it; with `-p receivables-tests` alone run
//! `cargo build -p receivables` first. `PROJECTOR_CRASH_SEED` replays the kill moments of a run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_domain::Position;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_tests::projecting::RunningProjector;
use receivables_tests::*;
use tokio::process::{Child, Command};
use tonic::Code;
use tonic::transport::Channel;

const SUBSIDIARIES: [&str; 3] = ["SUB-1", "SUB-2", "SUB-3"];
/// Commands per customer, spread over 2026-01-01 .. 2026-06-15.
const STEPS: usize = 130;
/// Customers whose history is posted before the projector first starts.
const CUSTOMERS_BEFORE: usize = 130;
/// Customers are numbered below this; those after the first ones are posted while the
/// projector is being killed and restarted, until the last kill.
const CUSTOMERS_MAX: usize = 1_000;
const CLIENTS_BEFORE: usize = 48;
const CLIENTS_DURING: usize = 4;
/// gRPC connections the clients share.
const CONNECTIONS: usize = 4;
/// How often a client resends the same command after ABORTED or UNAVAILABLE.
const CLIENT_RETRIES_MAX: usize = 50;
/// Kills (each followed by a restart) before the last run that catches up.
const KILLS: usize = 16;
const PROJECTION: &str = receivables_projections::ledger::NAME;

// ---------------------------------------------------------------------------------------------
// The history, and what the command service accepted of it.

/// What the replies of the command service say was recorded.
#[derive(Debug, Default)]
struct Tally {
    /// The log position of every accepted command.
    positions: BTreeSet<u64>,
    invoices: u64,
    invoices_over_limit: u64,
    invoices_refused: u64,
    invoiced_fen: i64,
    payments: u64,
    paid_fen: i64,
    allocations: u64,
    allocated_fen: i64,
    unapplied_fen: i64,
    credit_changes: u64,
    credit_customers: BTreeSet<String>,
    promises: u64,
    promises_refused: u64,
    promised_fen: i64,
    retries: u64,
}

impl Tally {
    fn accepted(&mut self, receipt: Option<&pb::CommandReceipt>) {
        let position = receipt.expect("a receipt").position;
        assert!(
            self.positions.insert(position),
            "two accepted commands got the same position {position}"
        );
    }

    fn merge(&mut self, other: Tally) {
        for position in other.positions {
            assert!(
                self.positions.insert(position),
                "two accepted commands got the same position {position}"
            );
        }
        self.invoices += other.invoices;
        self.invoices_over_limit += other.invoices_over_limit;
        self.invoices_refused += other.invoices_refused;
        self.invoiced_fen += other.invoiced_fen;
        self.payments += other.payments;
        self.paid_fen += other.paid_fen;
        self.allocations += other.allocations;
        self.allocated_fen += other.allocated_fen;
        self.unapplied_fen += other.unapplied_fen;
        self.credit_changes += other.credit_changes;
        self.credit_customers.extend(other.credit_customers);
        self.promises += other.promises;
        self.promises_refused += other.promises_refused;
        self.promised_fen += other.promised_fen;
        self.retries += other.retries;
    }
}

/// An amount of a reply as integer fen.
fn fen(money: Option<&pb::Money>) -> i64 {
    fen_of(&money.expect("an amount").amount)
}

/// A decimal amount as integer fen: "1234.5" is 123450.
fn fen_of(amount: &str) -> i64 {
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    assert!(fraction.len() <= 2, "more than two decimals in {amount}");
    let fraction = format!("{fraction:0<2}");
    whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

/// Sends a command, resending it (same command id) while the service answers ABORTED or
/// UNAVAILABLE, as a well-behaved client does.
async fn send<Request, Reply, Pending>(
    client: &CommandServiceClient<Channel>,
    request: Request,
    tally: &mut Tally,
    call: impl Fn(CommandServiceClient<Channel>, Request) -> Pending,
) -> Result<Reply, tonic::Status>
where
    Request: Clone,
    Pending: Future<Output = Result<tonic::Response<Reply>, tonic::Status>>,
{
    let mut attempts = 0;
    loop {
        match call(client.clone(), request.clone()).await {
            Ok(reply) => return Ok(reply.into_inner()),
            Err(status)
                if matches!(status.code(), Code::Aborted | Code::Unavailable)
                    && attempts < CLIENT_RETRIES_MAX =>
            {
                attempts += 1;
                tally.retries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(status) => return Err(status),
        }
    }
}

/// The business date of a step: 2026-01-01 .. 2026-06-15.
fn business_date(step: usize) -> NaiveDate {
    let offset = step * 165 / (STEPS - 1);
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + Days::new(offset as u64)
}

/// Posts one customer's history, in order: invoices at two subsidiaries, payments allocated
/// oldest due first (some at the other subsidiary, some larger than what is open, leaving
/// unapplied cash), promises to pay and credit-limit changes (every fourth customer under BLOCK,
/// so that some of its invoices are refused; the others under WARN, so that some are flagged
/// over the limit).
async fn post_customer(client: &CommandServiceClient<Channel>, index: usize, tally: &mut Tally) {
    let customer = format!("C{index:04}");
    let home = SUBSIDIARIES[index % 3];
    let other = SUBSIDIARIES[(index + 1) % 3];
    let block = index.is_multiple_of(4);
    for step in 0..STEPS {
        let date = business_date(step);
        let day = date.to_string();
        let cents = (index + step) % 100;
        if step % 40 == 0 {
            let (limit, policy) = if block {
                (format!("{}", 1_000 + step * 10), pb::CreditPolicy::Block)
            } else {
                (format!("{}", 2_000 + step * 20), pb::CreditPolicy::Warn)
            };
            let mut request = credit_limit(&customer, &limit, policy);
            request.effective_date = day.clone();
            request.grade = [
                pb::CreditGrade::A,
                pb::CreditGrade::B,
                pb::CreditGrade::C,
                pb::CreditGrade::D,
            ][(index + step / 40) % 4]
                .into();
            let reply = send(client, request, tally, |mut c, r| async move {
                c.change_credit_limit(r).await
            })
            .await
            .unwrap_or_else(|status| panic!("credit limit of {customer} refused: {status:?}"));
            tally.accepted(reply.receipt.as_ref());
            tally.credit_changes += 1;
            tally.credit_customers.insert(customer.clone());
            continue;
        }
        match step % 10 {
            1 | 3 | 5 | 7 => {
                let subsidiary = if (step / 10) % 4 == 3 { other } else { home };
                let amount = if step % 40 == 7 {
                    format!("2500.{cents:02}")
                } else {
                    format!("{}.{cents:02}", 200 + (index * 11 + step * 17) % 500)
                };
                let request = payment(&customer, subsidiary, &amount, &day);
                let reply = send(client, request, tally, |mut c, r| async move {
                    c.record_payment(r).await
                })
                .await
                .unwrap_or_else(|status| panic!("payment of {customer} refused: {status:?}"));
                tally.accepted(reply.receipt.as_ref());
                tally.payments += 1;
                tally.paid_fen += fen_of(&amount);
                tally.allocations += reply.allocations.len() as u64;
                tally.allocated_fen += reply
                    .allocations
                    .iter()
                    .map(|a| fen(a.amount.as_ref()))
                    .sum::<i64>();
                tally.unapplied_fen += fen(reply.unapplied.as_ref());
            }
            9 => {
                let promised = (date + Days::new(14)).to_string();
                let request = promise(&customer, home, "50.00", &day, &promised);
                match send(client, request, tally, |mut c, r| async move {
                    c.record_promise_to_pay(r).await
                })
                .await
                {
                    Ok(reply) => {
                        tally.accepted(reply.receipt.as_ref());
                        tally.promises += 1;
                        tally.promised_fen += 5_000;
                    }
                    Err(status) if status.code() == Code::FailedPrecondition => {
                        tally.promises_refused += 1;
                    }
                    Err(status) => panic!("promise of {customer} failed: {status:?}"),
                }
            }
            _ => {
                let subsidiary = if (step / 2) % 3 == 2 { other } else { home };
                let amount = format!("{}.{cents:02}", 100 + (index * 7 + step * 13) % 900);
                let due = (date + Days::new(14)).to_string();
                let number = format!("INV-{customer}-{step:03}");
                let request = invoice(&customer, subsidiary, &number, &amount, &day, &due);
                match send(client, request, tally, |mut c, r| async move {
                    c.issue_invoice(r).await
                })
                .await
                {
                    Ok(reply) => {
                        tally.accepted(reply.receipt.as_ref());
                        tally.invoices += 1;
                        tally.invoices_over_limit += u64::from(reply.over_limit);
                        tally.invoiced_fen += fen_of(&amount);
                    }
                    Err(status) if block && status.code() == Code::FailedPrecondition => {
                        tally.invoices_refused += 1;
                    }
                    Err(status) => panic!("invoice {number} failed: {status:?}"),
                }
            }
        }
    }
}

/// Posts the histories of `customers` with `clients` concurrent clients over `CONNECTIONS`
/// connections; when `stop` is set, no client starts another customer.
async fn post_customers(
    service_address: std::net::SocketAddr,
    customers: std::ops::Range<usize>,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> Tally {
    let mut connections = Vec::new();
    for _ in 0..CONNECTIONS {
        connections.push(
            CommandServiceClient::connect(format!("http://{service_address}"))
                .await
                .expect("connect to the command service"),
        );
    }
    let next = Arc::new(AtomicUsize::new(customers.start));
    let mut tasks = Vec::new();
    for index in 0..clients {
        let client = connections[index % CONNECTIONS].clone();
        let next = Arc::clone(&next);
        let end = customers.end;
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let customer = next.fetch_add(1, Ordering::Relaxed);
                if customer >= end || stop.load(Ordering::Relaxed) {
                    return tally;
                }
                post_customer(&client, customer, &mut tally).await;
            }
        }));
    }
    let mut tally = Tally::default();
    for task in tasks {
        tally.merge(task.await.expect("client task"));
    }
    tally
}

// ---------------------------------------------------------------------------------------------
// The projector process.

/// The application name the process of `round` connects to PostgreSQL with, so that its
/// sessions can be told apart in `pg_stat_activity`.
fn application_name(round: usize) -> String {
    format!("projector_crash_{round}")
}

/// A `receivables serve-queries` process, its log in a file of its own.
struct ProjectorProcess {
    child: Child,
    round: usize,
    address: std::net::SocketAddr,
    log: PathBuf,
    started: Instant,
}

impl ProjectorProcess {
    /// Starts the process of `round` on a free port.
    fn start(
        binary: &Path,
        nats_url: &str,
        database_url: &str,
        round: usize,
        logs: &Path,
    ) -> ProjectorProcess {
        let separator = if database_url.contains('?') { '&' } else { '?' };
        let database_url = format!(
            "{database_url}{separator}application_name={}",
            application_name(round)
        );
        let address: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = logs.join(format!("round-{round:02}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(binary)
            .arg("serve-queries")
            .arg("--insecure")
            .arg("--listen")
            .arg(address.to_string())
            .arg("--nats-url")
            .arg(nats_url)
            .arg("--database-url")
            .arg(&database_url)
            .env("RUST_LOG", "info,receivables_projections=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        ProjectorProcess {
            child,
            round,
            address,
            log,
            started: Instant::now(),
        }
    }

    /// The last lines of its log.
    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Fails the test when the process exited by itself.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("process status") {
            panic!(
                "the projector process of round {} exited by itself ({status}):\n{}",
                self.round,
                self.tail()
            );
        }
    }

    /// Waits until its gRPC server reports SERVING (its SIGTERM handler is then installed).
    async fn wait_serving(&mut self) {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::health_client::HealthClient;
        let endpoint = format!("http://{}", self.address);
        loop {
            self.assert_running();
            assert!(
                self.started.elapsed() < Duration::from_secs(30),
                "the query service at {endpoint} did not start serving:\n{}",
                self.tail()
            );
            if let Ok(channel) = Channel::from_shared(endpoint.clone())
                .unwrap()
                .connect()
                .await
                && let Ok(reply) = HealthClient::new(channel)
                    .check(tonic_health::pb::HealthCheckRequest::default())
                    .await
                && reply.into_inner().status == ServingStatus::Serving as i32
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The read model the killed processes write: the live generation's schema (`read_model_<n>`)
/// in their database, once the first process has created it.
struct LiveReadModel {
    pool: sqlx::PgPool,
    schema: std::sync::OnceLock<String>,
}

impl LiveReadModel {
    fn new(pool: sqlx::PgPool) -> LiveReadModel {
        LiveReadModel {
            pool,
            schema: std::sync::OnceLock::new(),
        }
    }

    /// The live generation's schema, once it has its checkpoint table.
    async fn schema(&self) -> Option<&str> {
        if let Some(schema) = self.schema.get() {
            return Some(schema);
        }
        let (control,): (bool,) =
            sqlx::query_as("SELECT to_regclass('public.read_model_generations') IS NOT NULL")
                .fetch_one(&self.pool)
                .await
                .unwrap();
        if !control {
            return None;
        }
        let (generation,): (i64,) = sqlx::query_as(
            "SELECT generation FROM public.read_model_generations WHERE state = 'live'",
        )
        .fetch_optional(&self.pool)
        .await
        .unwrap()?;
        let schema = format!("read_model_{generation}");
        let (ready,): (bool,) = sqlx::query_as(&format!(
            "SELECT to_regclass('{schema}.projection_checkpoints') IS NOT NULL"
        ))
        .fetch_one(&self.pool)
        .await
        .unwrap();
        if !ready {
            return None;
        }
        Some(self.schema.get_or_init(|| schema))
    }

    /// The projection's committed checkpoint (0 before its first batch).
    async fn checkpoint(&self) -> u64 {
        match self.schema().await {
            Some(schema) => checkpoint(&self.pool, schema).await,
            None => 0,
        }
    }
}

/// The projection's committed checkpoint in `schema` (0 before its first batch).
async fn checkpoint(pool: &sqlx::PgPool, schema: &str) -> u64 {
    let row: Option<(i64,)> = sqlx::query_as(&format!(
        "SELECT position FROM {schema}.projection_checkpoints WHERE projection = $1"
    ))
    .bind(PROJECTION)
    .fetch_optional(pool)
    .await
    .unwrap();
    row.map_or(0, |(p,)| u64::try_from(p).unwrap())
}

/// Where the batch transaction of the process of `round` is, if it has one open: the statement
/// it runs or last ran (the checkpoint lock, an insert, the checkpoint store, the commit) and
/// whether it is running it or idle in the transaction (decoding, building rows).
async fn batch_transaction(pool: &sqlx::PgPool, round: usize) -> Option<String> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT CASE
                 WHEN query ILIKE '%updated_at = now()%' THEN 'checkpoint store'
                 WHEN query ILIKE '%FOR UPDATE%' THEN 'checkpoint lock'
                 WHEN query ILIKE 'INSERT INTO projection_checkpoints%' THEN 'checkpoint row'
                 WHEN query ILIKE 'COMMIT%' THEN 'commit'
                 ELSE 'insert into ' || split_part(ltrim(substr(query, 13)), ' ', 1)
             END,
             state
         FROM pg_stat_activity
         WHERE application_name = $1 AND xact_start IS NOT NULL
           AND (query ILIKE 'INSERT INTO projection_checkpoints%'
                OR query ILIKE '%projection_checkpoints%FOR UPDATE%'
                OR query ILIKE 'INSERT INTO invoices%' OR query ILIKE 'INSERT INTO payments%'
                OR query ILIKE 'INSERT INTO allocations%'
                OR query ILIKE 'INSERT INTO credit_terms%'
                OR query ILIKE 'INSERT INTO promises%' OR query ILIKE 'COMMIT%')
         LIMIT 1",
    )
    .bind(application_name(round))
    .fetch_optional(pool)
    .await
    .unwrap();
    row.map(|(statement, state)| format!("{statement} ({state})"))
}

/// Waits until no session of the process of `round` is left in PostgreSQL: a killed client's
/// transaction is over (committed or rolled back) once its backend has gone.
async fn wait_sessions_gone(pool: &sqlx::PgPool, round: usize) {
    let started = Instant::now();
    loop {
        let (sessions,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(application_name(round))
                .fetch_one(pool)
                .await
                .unwrap();
        if sessions == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the sessions of the killed process of round {round} did not end"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A small deterministic generator (xorshift64*), seeded per run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// When a kill is sent.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// A random delay (ms) after the start.
    Delay(u64),
    /// A random delay (ms) after a batch transaction is first seen open, when one is open.
    InTransaction(u64),
    /// As soon as the new checkpoint is seen written, just before or during the commit.
    AtCheckpointStore,
    /// A random delay (ms) after the checkpoint moved (a commit).
    AfterCommit(u64),
}

/// How long a round waits for the moment it aims at before it kills anyway.
const MOMENT_WAIT_MAX: Duration = Duration::from_secs(4);

/// What one kill hit.
#[derive(Debug)]
struct Kill {
    round: usize,
    moment: Moment,
    /// Time from the start of the process to the kill.
    alive: Duration,
    /// Checkpoint when the process started and just before the kill.
    at_start: u64,
    at_kill: u64,
    /// Checkpoint once the killed process's sessions had ended (`None` when the next process
    /// was started at once, racing with them).
    after: Option<u64>,
    /// The batch transaction the process had open just before the kill.
    transaction: Option<String>,
}

impl Kill {
    fn outcome(&self) -> &'static str {
        match (&self.transaction, self.after) {
            (Some(_), Some(after)) if after > self.at_kill => {
                "in a batch transaction, which committed all the same: killed as it finished"
            }
            (Some(_), Some(_)) => "in a batch transaction, which rolled back",
            (Some(_), None) => "in a batch transaction; the next process raced with its end",
            (None, Some(after)) if after > self.at_kill => {
                "as a commit landed (between the last look and the kill)"
            }
            (None, _) if self.at_kill > self.at_start => "after a commit, between batches",
            (None, _) => "before its first commit",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The read model.

async fn scalar(pool: &sqlx::PgPool, query: &str) -> i64 {
    let (value,): (i64,) = sqlx::query_as(query).fetch_one(pool).await.unwrap();
    value
}

/// Projects the whole log into `database` in-process, from position 0.
async fn rebuild(nats: &NatsServer, database: &TestDatabase, last: Position) -> Duration {
    let started = Instant::now();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let log = Arc::new(
        JetStreamLog::open(client, JetStreamConfig::default())
            .await
            .unwrap(),
    );
    let running = RunningProjector::follow(log, database.read.clone()).await;
    assert!(
        running
            .projector
            .wait_for(last, Duration::from_secs(60))
            .await,
        "the rebuild did not reach position {last}"
    );
    running.stop().await;
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_projector_process_killed_again_and_again_ends_equal_to_a_rebuild() {
    init_logging();
    let test_started = Instant::now();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(crashed) = TestDatabase::create().await else {
        return;
    };
    let Some(rebuilt) = TestDatabase::create().await else {
        return;
    };
    let binary = receivables_binary();
    let seed = std::env::var("PROJECTOR_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let mut rng = Rng::new(seed);
    // The processes' logs stay there when the test fails.
    let logs = std::env::temp_dir().join(format!("projector_crash-{seed}"));
    std::fs::create_dir_all(&logs).expect("log directory");
    eprintln!(
        "projector_crash: seed {seed} (PROJECTOR_CRASH_SEED={seed} replays the kill moments); \
         logs in {}",
        logs.display()
    );

    // The history before the projector first starts.
    let service = TestService::start(&nats.url()).await;
    let posting = Instant::now();
    let mut tally = post_customers(
        service.address,
        0..CUSTOMERS_BEFORE,
        CLIENTS_BEFORE,
        Arc::new(AtomicBool::new(false)),
    )
    .await;
    let posted_before = tally.positions.len();
    let posted_in = posting.elapsed();
    eprintln!(
        "projector_crash: posted {posted_before} events in {:.1} s",
        posted_in.as_secs_f64()
    );

    // More history while the projector is killed and restarted.
    let stop_posting = Arc::new(AtomicBool::new(false));
    let during = tokio::spawn(post_customers(
        service.address,
        CUSTOMERS_BEFORE..CUSTOMERS_MAX,
        CLIENTS_DURING,
        Arc::clone(&stop_posting),
    ));

    let live = LiveReadModel::new(crashed.pool.clone());
    let pool = &crashed.pool;
    let database_url = crashed.url();
    let killing = Instant::now();
    let mut kills: Vec<Kill> = Vec::new();
    let mut racing: Option<usize> = None;
    for round in 0..KILLS {
        let mut process =
            ProjectorProcess::start(&binary, &nats.url(), &database_url, round, &logs);
        // The previous process's sessions may still be ending while this one starts: its
        // transaction then commits or rolls back under this process's feet.
        if let Some(previous) = racing.take() {
            wait_sessions_gone(pool, previous).await;
        }
        let at_start = live.checkpoint().await;
        let moment = match round % 4 {
            0 => Moment::Delay(rng.between(5, 200)),
            1 => Moment::InTransaction(rng.between(0, 30)),
            2 => Moment::AtCheckpointStore,
            _ => Moment::AfterCommit(rng.between(0, 20)),
        };
        if let Moment::Delay(ms) = moment {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        // Look at the checkpoint and the open transaction until the moment has come, then kill
        // at once: what the last look saw is what the kill hit.
        let mut transaction_seen: Option<Instant> = None;
        let mut committed_seen: Option<Instant> = None;
        let (at_kill, transaction) = loop {
            process.assert_running();
            let at_kill = live.checkpoint().await;
            let transaction = batch_transaction(pool, round).await;
            let now = Instant::now();
            if transaction.is_some() {
                transaction_seen.get_or_insert(now);
            }
            if at_kill > at_start {
                committed_seen.get_or_insert(now);
            }
            let since = |seen: Option<Instant>, ms: u64| {
                seen.is_some_and(|seen| now >= seen + Duration::from_millis(ms))
            };
            let come = match moment {
                Moment::Delay(_) => true,
                Moment::InTransaction(ms) => transaction.is_some() && since(transaction_seen, ms),
                Moment::AtCheckpointStore => transaction
                    .as_ref()
                    .is_some_and(|t| t.starts_with("checkpoint store")),
                Moment::AfterCommit(ms) => since(committed_seen, ms),
            };
            if come || process.started.elapsed() >= MOMENT_WAIT_MAX {
                break (at_kill, transaction);
            }
        };
        process.child.start_kill().expect("SIGKILL");
        let alive = process.started.elapsed();
        let status = process.child.wait().await.expect("killed process");
        assert!(!status.success(), "a killed process cannot exit cleanly");
        // Every third kill or so is followed by a new process at once.
        let after = if rng.between(0, 2) == 0 {
            racing = Some(round);
            None
        } else {
            wait_sessions_gone(pool, round).await;
            Some(live.checkpoint().await)
        };
        let kill = Kill {
            round,
            moment,
            alive,
            at_start,
            at_kill,
            after,
            transaction,
        };
        eprintln!(
            "projector_crash: kill {:2} ({:?}) {} ms after the start, checkpoint {} -> {} -> {}: \
             {}{}",
            kill.round,
            kill.moment,
            kill.alive.as_millis(),
            kill.at_start,
            kill.at_kill,
            kill.after
                .map_or_else(|| "?".to_owned(), |after| after.to_string()),
            kill.outcome(),
            kill.transaction
                .as_ref()
                .map_or_else(String::new, |t| format!(" [{t}]")),
        );
        kills.push(kill);
    }
    let killed_in = killing.elapsed();
    stop_posting.store(true, Ordering::Relaxed);

    // The last run: it must catch up with everything posted.
    let mut process = ProjectorProcess::start(&binary, &nats.url(), &database_url, KILLS, &logs);
    let mut tally_during = during.await.expect("posting during the kills");
    let posted_during = tally_during.positions.len();
    tally.merge(std::mem::take(&mut tally_during));
    let last = last_sequence(&nats.url()).await;
    assert_eq!(
        usize::try_from(last).unwrap(),
        tally.positions.len(),
        "one event per accepted command"
    );
    assert_eq!(tally.positions.last().copied(), Some(last));
    let posting_ended = process.started.elapsed();
    let catching_up = Instant::now();
    loop {
        process.assert_running();
        let at = live.checkpoint().await;
        if at >= last {
            assert_eq!(at, last, "the checkpoint went past the end of the log");
            break;
        }
        assert!(
            catching_up.elapsed() < Duration::from_secs(60),
            "the restarted projector did not catch up: checkpoint {at} of {last}:\n{}",
            process.tail()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let caught_up_in = process.started.elapsed();
    // Stopped as an orchestrator does, with SIGTERM once it serves: it exits cleanly.
    process.wait_serving().await;
    let pid = process.child.id().expect("process id");
    let terminated = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .expect("kill -TERM");
    assert!(terminated.success());
    let status = tokio::time::timeout(Duration::from_secs(15), process.child.wait())
        .await
        .expect("the projector process stops after SIGTERM")
        .unwrap();
    assert!(
        status.success(),
        "the projector process exited with {status}:\n{}",
        process.tail()
    );
    service.stop().await;

    // A read model rebuilt from position 1, in-process.
    let rebuilt_in = rebuild(&nats, &rebuilt, Position::new(last)).await;

    // Every row of both read models.
    let schema = live.schema().await.expect("the live generation").to_owned();
    let (a, b) = (
        read_model_rows(pool, &schema).await,
        read_model_rows(&rebuilt.pool, "public").await,
    );
    if a != b {
        let (left, right): (BTreeSet<&String>, BTreeSet<&String>) =
            (a.iter().collect(), b.iter().collect());
        let only_crashed: Vec<_> = left.difference(&right).take(20).collect();
        let only_rebuilt: Vec<_> = right.difference(&left).take(20).collect();
        panic!(
            "the read model of the killed projector ({} rows) differs from the rebuilt one \
             ({} rows)\nonly in the killed one (first 20): {only_crashed:#?}\nonly in the \
             rebuilt one (first 20): {only_rebuilt:#?}",
            a.len(),
            b.len()
        );
    }

    // The rows are exactly what the command service accepted: nothing lost, nothing twice.
    let count = |table: &str| format!("SELECT count(*) FROM {{schema}}.{table}");
    let sum = |column: &str, table: &str| {
        format!("SELECT COALESCE(sum({column}), 0)::BIGINT FROM {{schema}}.{table}")
    };
    let number = |n: u64| i64::try_from(n).unwrap();
    let expected = [
        (count("invoices"), number(tally.invoices), "invoices"),
        (
            "SELECT count(*) FROM {schema}.invoices WHERE over_limit".to_owned(),
            number(tally.invoices_over_limit),
            "invoices over the limit",
        ),
        (
            sum("amount_minor", "invoices"),
            tally.invoiced_fen,
            "invoiced",
        ),
        (count("payments"), number(tally.payments), "payments"),
        (sum("amount_minor", "payments"), tally.paid_fen, "paid"),
        (
            sum("unapplied_minor", "payments"),
            tally.unapplied_fen,
            "unapplied",
        ),
        (
            count("allocations"),
            number(tally.allocations),
            "allocations",
        ),
        (
            sum("amount_minor", "allocations"),
            tally.allocated_fen,
            "allocated",
        ),
        (
            count("credit_terms"),
            i64::try_from(tally.credit_customers.len()).unwrap(),
            "credit terms",
        ),
        (count("promises"), number(tally.promises), "promises"),
        (
            sum("amount_minor", "promises"),
            tally.promised_fen,
            "promised",
        ),
    ];
    for (query, want, what) in &expected {
        assert_eq!(
            scalar(pool, &query.replace("{schema}", &schema)).await,
            *want,
            "{what} in the read model"
        );
    }
    assert_eq!(tally.paid_fen, tally.allocated_fen + tally.unapplied_fen);
    assert_eq!(checkpoint(pool, &schema).await, last);
    assert!(
        tally.invoices_refused > 0,
        "some invoices were refused under BLOCK"
    );
    assert!(
        tally.invoices_over_limit > 0,
        "some invoices went over a WARN limit"
    );
    assert!(tally.unapplied_fen > 0, "some cash stayed unapplied");

    let in_transaction = kills.iter().filter(|k| k.transaction.is_some()).count();
    let during_commit = kills
        .iter()
        .filter(|k| k.transaction.is_some() && k.after.is_some_and(|a| a > k.at_kill))
        .count();
    let after_commit = kills.iter().filter(|k| k.at_kill > k.at_start).count();
    let before_commit = kills
        .iter()
        .filter(|k| k.transaction.is_none() && k.at_kill == k.at_start)
        .count();
    eprintln!(
        "projector_crash: {last} events ({posted_before} posted in {:.1} s before the first \
         start, {posted_during} while killing): {} invoices ({} over the limit, {} refused), {} \
         payments with {} allocations, {} promises ({} refused), {} credit changes, {} client \
         retries",
        posted_in.as_secs_f64(),
        tally.invoices,
        tally.invoices_over_limit,
        tally.invoices_refused,
        tally.payments,
        tally.allocations,
        tally.promises,
        tally.promises_refused,
        tally.credit_changes,
        tally.retries,
    );
    eprintln!(
        "projector_crash: {} kills in {:.1} s: {before_commit} before a first commit, \
         {in_transaction} inside a batch transaction ({during_commit} of which \
         committed all the same), {after_commit} after their process had committed; the last process caught \
         up {:.1} s after its start (posting ended after {:.1} s); rebuilt in {:.1} s; {} rows \
         equal; whole test {:.1} s",
        kills.len(),
        killed_in.as_secs_f64(),
        caught_up_in.as_secs_f64(),
        posting_ended.as_secs_f64(),
        rebuilt_in.as_secs_f64(),
        a.len(),
        test_started.elapsed().as_secs_f64(),
    );
    // The kills hit the moments they were meant to hit.
    assert!(
        in_transaction > 0 && after_commit > 0 && before_commit > 0,
        "the kills missed some moments: {kills:#?}"
    );

    crashed.drop_database().await;
    rebuilt.drop_database().await;
    let _ = std::fs::remove_dir_all(&logs);
}

/// A kill during the very first start, after the live generation was recorded in
/// `read_model_generations` and before its schema was created (two statements, each committed
/// on its own, in `generations::create`, before the two were made one transaction), leaves the
/// row without its schema. The next start must
/// still come up. The state is prepared by hand, since no kill from outside can aim at the
/// moment between two statements reliably.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_while_the_first_generation_is_created_does_not_prevent_later_starts() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let binary = receivables_binary();
    // The command service creates the stream the projector follows.
    let service = TestService::start(&nats.url()).await;
    // What `generations::live` leaves when killed right after its INSERT.
    for statement in [
        "CREATE TABLE read_model_generations (
             generation  BIGINT PRIMARY KEY CHECK (generation > 0),
             state       TEXT NOT NULL CHECK (state IN ('building', 'live', 'retired')),
             created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
             switched_at TIMESTAMPTZ
         )",
        "CREATE UNIQUE INDEX read_model_generations_one_live
         ON read_model_generations (state) WHERE state = 'live'",
        "INSERT INTO read_model_generations (generation, state) VALUES (1, 'live')",
    ] {
        sqlx::query(statement)
            .execute(&database.pool)
            .await
            .unwrap();
    }
    let logs = tempfile::tempdir().expect("log directory");
    let mut process =
        ProjectorProcess::start(&binary, &nats.url(), &database.url(), 0, logs.path());
    process.wait_serving().await;
    process.child.start_kill().expect("SIGKILL");
    let _ = process.child.wait().await;
    service.stop().await;
    database.drop_database().await;
}
