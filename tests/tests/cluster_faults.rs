//! The production shape under faults: a three-node JetStream cluster of a current `nats-server`
//! with `sync_interval: always` and an R3 stream, two `receivables serve-commands` processes in
//! front of it, and a steady load from clients that record every command acknowledged to them
//! and resend the same command (same command id) to the other instance when one does not
//! answer. Each test breaks one thing under that load, lets it heal, then checks:
//!
//! - every acknowledged command is in the log (missing: 0);
//! - each command id is in the log once (events per unique command id: 1.000);
//! - the hash chains verify from the first event;
//! - how long the service gave no acknowledgement around the fault.
//!
//! Each test prints one `RELIABILITY` line with its figures (README, "Reliability").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_domain::Position;
use receivables_domain::chain::ChainVerifier;
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_tests::cluster::TestCluster;
use receivables_tests::netns::run_in_own_network_namespace;
use receivables_tests::postgres_server::PostgresServer;
use receivables_tests::*;
use tokio::process::Child;
use tokio::sync::watch;
use tonic::Code;
use tonic::transport::Channel;

/// Tests of this file running their clusters at once, at most: each is three servers, two or
/// more services and a load, and ten at once on a small machine can starve a node past its
/// start-up limit.
static CLUSTERS_AT_ONCE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Waits for one of the [`CLUSTERS_AT_ONCE`] slots; the test holds it until it ends.
async fn cluster_slot() -> tokio::sync::SemaphorePermit<'static> {
    CLUSTERS_AT_ONCE
        .acquire()
        .await
        .expect("the slots stay open")
}

/// Clients posting at once, each one command at a time.
const CLIENTS: usize = 8;

/// Customers the load is spread over.
const CUSTOMERS: usize = 16;

/// How long one attempt of a command may take before the client tries the other instance.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client keeps resending one command before the test fails.
const COMMAND_GIVE_UP: Duration = Duration::from_secs(90);

/// Load before the fault, and after the healing.
const STEADY: Duration = Duration::from_secs(3);

/// A `receivables serve-commands` process, killed on drop.
struct CommandService {
    port: u16,
    child: Option<Child>,
}

impl CommandService {
    async fn start(cluster: &TestCluster) -> CommandService {
        let port = free_port();
        let child = tokio::process::Command::new(receivables_binary())
            .args(["serve-commands", "--insecure", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--nats-url", &cluster.urls(), "--replicas", "3"])
            .args(["--request-timeout-ms", "3000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("receivables serve-commands");
        let service = CommandService {
            port,
            child: Some(child),
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if Channel::from_shared(service.url())
                .unwrap()
                .connect()
                .await
                .is_ok()
            {
                return service;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("serve-commands did not come up on port {port}");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

/// What the load saw: each acknowledged command id with when it was acknowledged.
#[derive(Default)]
struct Acknowledged {
    commands: Vec<(String, Instant)>,
}

impl Acknowledged {
    /// Records that the command `id` was acknowledged now.
    fn record(acknowledged: &Mutex<Acknowledged>, id: String) {
        acknowledged
            .lock()
            .unwrap()
            .commands
            .push((id, Instant::now()));
    }
}

/// The clients, posting invoices until told to stop.
struct Load {
    stop: watch::Sender<bool>,
    clients: Vec<tokio::task::JoinHandle<()>>,
    acknowledged: Arc<Mutex<Acknowledged>>,
}

impl Load {
    /// Sets each customer's limit, then starts the clients against `endpoints`.
    async fn start(endpoints: Vec<String>) -> Load {
        let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
        for customer in 0..CUSTOMERS {
            let request =
                credit_limit(&customer_id(customer), "1000000000", pb::CreditPolicy::Warn);
            let id = request.command_id.clone();
            send(&endpoints, 0, |mut client| {
                let request = request.clone();
                async move { client.change_credit_limit(request).await.map(|_| ()) }
            })
            .await;
            Acknowledged::record(&acknowledged, id);
        }
        let (stop, stopped) = watch::channel(false);
        let clients = (0..CLIENTS)
            .map(|client| {
                let endpoints = endpoints.clone();
                let acknowledged = Arc::clone(&acknowledged);
                let stopped = stopped.clone();
                tokio::spawn(async move {
                    let mut n = 0;
                    while !*stopped.borrow() {
                        n += 1;
                        let customer = customer_id((client + n * CLIENTS) % CUSTOMERS);
                        let number = format!("C{client}-{n:06}");
                        post_invoice(&endpoints, client, &customer, &number, &acknowledged).await;
                    }
                })
            })
            .collect();
        Load {
            stop,
            clients,
            acknowledged,
        }
    }

    /// Stops the clients once each has its command in flight acknowledged.
    async fn stop(self) -> Acknowledged {
        let _ = self.stop.send(true);
        for client in self.clients {
            client.await.expect("a client");
        }
        all_acknowledged(self.acknowledged)
    }
}

/// What the clients saw, once they are all done.
fn all_acknowledged(acknowledged: Arc<Mutex<Acknowledged>>) -> Acknowledged {
    Arc::try_unwrap(acknowledged)
        .ok()
        .expect("the clients are done")
        .into_inner()
        .unwrap()
}

/// Sends an invoice of 10.00 for `customer` numbered `number` until it is acknowledged, first
/// to endpoint `first` (see [`send`]), and records it in `acknowledged`.
async fn post_invoice(
    endpoints: &[String],
    first: usize,
    customer: &str,
    number: &str,
    acknowledged: &Mutex<Acknowledged>,
) {
    let request = invoice(
        customer,
        "SUB-A",
        number,
        "10.00",
        "2026-05-01",
        "2026-05-31",
    );
    let id = request.command_id.clone();
    send(endpoints, first, |mut client| {
        let request = request.clone();
        async move { client.issue_invoice(request).await.map(|_| ()) }
    })
    .await;
    Acknowledged::record(acknowledged, id);
}

fn customer_id(customer: usize) -> String {
    format!("CUST-{customer:03}")
}

/// Sends one command with `call` until it is acknowledged: the same request again on
/// `UNAVAILABLE`, `ABORTED`, `DEADLINE_EXCEEDED`, a transport error or no answer within
/// [`ATTEMPT_TIMEOUT`], each time to the next endpoint; anything else fails the test.
async fn send<F, Fut>(endpoints: &[String], first: usize, call: F)
where
    F: Fn(CommandServiceClient<Channel>) -> Fut,
    Fut: Future<Output = Result<(), tonic::Status>>,
{
    let started = Instant::now();
    let mut attempt = first;
    loop {
        assert!(
            started.elapsed() < COMMAND_GIVE_UP,
            "a command went unacknowledged for {COMMAND_GIVE_UP:?}"
        );
        let endpoint = &endpoints[attempt % endpoints.len()];
        attempt += 1;
        let Ok(channel) = Channel::from_shared(endpoint.clone())
            .unwrap()
            .connect_timeout(Duration::from_secs(1))
            .connect()
            .await
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        match tokio::time::timeout(ATTEMPT_TIMEOUT, call(CommandServiceClient::new(channel))).await
        {
            Ok(Ok(())) => return,
            Ok(Err(status))
                if matches!(
                    status.code(),
                    Code::Unavailable | Code::Aborted | Code::DeadlineExceeded | Code::Unknown
                ) =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(Err(status)) => panic!("a command was refused: {status:?}"),
            Err(_) => {}
        }
    }
}

/// Stops the load and checks the stream against what it saw; the load must have run.
async fn stop_and_check(cluster: &TestCluster, load: Load) -> Checked {
    let acknowledged = load.stop().await;
    let checked = check(cluster, &acknowledged).await;
    assert!(checked.acknowledged > 2 * CUSTOMERS, "the load ran");
    checked
}

/// What the checks after a fault found.
struct Checked {
    acknowledged: usize,
    events: usize,
    unique: usize,
    longest_silence: Duration,
}

/// Reads the whole stream and checks it against what the load saw.
async fn check(cluster: &TestCluster, acknowledged: &Acknowledged) -> Checked {
    let client = async_nats::connect(cluster.url_list()).await.unwrap();
    let log = JetStreamLog::attach(client, JetStreamConfig::default())
        .await
        .unwrap();
    let last = log.last_position().await.unwrap();
    let mut feed = log.follow(Position::ZERO).await.unwrap();
    let mut verifier = ChainVerifier::whole_log();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    let mut events = 0;
    while let Some(event) = feed.next().await {
        let event = event.unwrap();
        verifier
            .check(event.position, &event.envelope)
            .unwrap_or_else(|broken| panic!("the chain is broken: {broken}"));
        *per_id
            .entry(event.envelope.command_id.to_string())
            .or_default() += 1;
        events += 1;
        if event.position == last {
            break;
        }
    }
    let missing: Vec<&String> = acknowledged
        .commands
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !per_id.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not in the log: {missing:?}"
    );
    let twice: Vec<(&String, &usize)> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "in the log more than once: {twice:?}");
    let distinct: HashSet<&String> = acknowledged.commands.iter().map(|(id, _)| id).collect();
    assert_eq!(
        distinct.len(),
        acknowledged.commands.len(),
        "ids are unique"
    );
    let mut times: Vec<Instant> = acknowledged.commands.iter().map(|(_, at)| *at).collect();
    times.sort();
    let longest_silence = times
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .max()
        .unwrap_or_default();
    Checked {
        acknowledged: acknowledged.commands.len(),
        events,
        unique: per_id.len(),
        longest_silence,
    }
}

fn report(scenario: &str, checked: &Checked) {
    println!(
        "RELIABILITY {scenario}: {} commands acknowledged, 0 missing, {} events for {} unique command ids ({:.3} each), chains verified, longest time without an acknowledgement {:.1} s",
        checked.acknowledged,
        checked.events,
        checked.unique,
        checked.events as f64 / checked.unique as f64,
        checked.longest_silence.as_secs_f64()
    );
}

/// The cluster and two command services in front of it, the load running.
async fn under_load() -> Option<(TestCluster, Vec<CommandService>, Load)> {
    Some(load_on(TestCluster::start().await?).await)
}

/// Two command services in front of `cluster`, the load running.
async fn load_on(cluster: TestCluster) -> (TestCluster, Vec<CommandService>, Load) {
    let services = vec![
        CommandService::start(&cluster).await,
        CommandService::start(&cluster).await,
    ];
    let load = Load::start(services.iter().map(CommandService::url).collect()).await;
    tokio::time::sleep(STEADY).await;
    (cluster, services, load)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_streams_leader_killed_under_load_loses_nothing() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some((mut cluster, _services, load)) = under_load().await else {
        return;
    };
    // When the stream's leader is killed with SIGKILL,
    let leader = cluster.leader_of(&JetStreamConfig::default().stream).await;
    let node = cluster.node_named(&leader);
    cluster.kill(node).await;
    // the load goes on against the other two, then the node comes back.
    tokio::time::sleep(STEADY).await;
    cluster.start_node(node).await;
    tokio::time::sleep(STEADY).await;
    let checked = stop_and_check(&cluster, load).await;
    report("stream leader killed (SIGKILL) and restarted", &checked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_command_service_killed_under_load_loses_nothing() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some((cluster, mut services, load)) = under_load().await else {
        return;
    };
    // When one of the two command services is killed with SIGKILL mid-load, the clients resend
    // its commands in flight to the other with the same ids.
    services[0].kill().await;
    tokio::time::sleep(2 * STEADY).await;
    let checked = stop_and_check(&cluster, load).await;
    report("one of two command services killed (SIGKILL)", &checked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_stopped_for_a_while_and_restarted_loses_nothing() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some((mut cluster, _services, load)) = under_load().await else {
        return;
    };
    // When a node that does not lead the stream is stopped for a while and started again,
    let leader = cluster.leader_of(&JetStreamConfig::default().stream).await;
    let follower = (0..3)
        .find(|node| cluster.name(*node) != leader)
        .expect("a follower");
    cluster.kill(follower).await;
    tokio::time::sleep(STEADY).await;
    cluster.start_node(follower).await;
    tokio::time::sleep(STEADY).await;
    let checked = stop_and_check(&cluster, load).await;
    report("a follower stopped and restarted", &checked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_node_restarted_one_after_another_under_load_loses_nothing() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some((mut cluster, _services, load)) = under_load().await else {
        return;
    };
    // When each node in turn is killed and started again (a rolling restart gone wrong: no
    // drain, SIGKILL), waiting for the cluster to answer before the next,
    for node in 0..3 {
        cluster.kill(node).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        cluster.start_node(node).await;
        cluster.wait_until_ready().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(STEADY).await;
    let checked = stop_and_check(&cluster, load).await;
    report(
        "every node killed and restarted, one after another",
        &checked,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_node_killed_at_once_and_restarted_loses_nothing() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some((mut cluster, _services, load)) = under_load().await else {
        return;
    };
    // When all three nodes are killed at once (a power cut), with commands in flight, and
    // started again: with `sync_interval: always` an acknowledged write was on disk.
    for node in 0..3 {
        cluster.kill(node).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for node in 0..3 {
        cluster.start_node(node).await;
    }
    cluster.wait_until_ready().await;
    tokio::time::sleep(STEADY).await;
    let checked = stop_and_check(&cluster, load).await;
    report(
        "every node killed at once (SIGKILL) and restarted",
        &checked,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_truncated_block_file_on_one_node_loses_nothing() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some((mut cluster, _services, load)) = under_load().await else {
        return;
    };
    let stream = JetStreamConfig::default().stream;
    // When a follower is killed, its newest message block cut to half its length while it is
    // down (a torn write, a disk that lost its tail), and started again,
    let leader = cluster.leader_of(&stream).await;
    let damaged = (0..3)
        .find(|node| cluster.name(*node) != leader)
        .expect("a follower");
    cluster.kill(damaged).await;
    let block = cluster
        .block_files(damaged, &stream)
        .pop()
        .expect("the follower has a message block");
    let length = std::fs::metadata(&block).unwrap().len();
    assert!(length > 0, "the block holds messages");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&block)
        .unwrap()
        .set_len(length / 2)
        .unwrap();
    cluster.start_node(damaged).await;
    tokio::time::sleep(STEADY).await;
    // and then made the stream's leader (the others step down until it leads),
    for _ in 0..20 {
        if cluster.leader_of(&stream).await == cluster.name(damaged) {
            break;
        }
        cluster.step_down(&stream).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let led_by_damaged = cluster.leader_of(&stream).await == cluster.name(damaged);
    tokio::time::sleep(STEADY).await;
    let checked = stop_and_check(&cluster, load).await;
    report(
        if led_by_damaged {
            "a follower's newest block cut in half while down, then made the leader"
        } else {
            "a follower's newest block cut in half while down (it never became the leader)"
        },
        &checked,
    );
}

/// A `receivables serve-queries` process on the cluster and `database`, killed on drop.
struct QueryService {
    port: u16,
    child: Option<Child>,
}

impl QueryService {
    async fn start(cluster: &TestCluster, database_url: &str, port: u16) -> QueryService {
        let child = tokio::process::Command::new(receivables_binary())
            .args(["serve-queries", "--insecure", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                "--nats-url",
                &cluster.urls(),
                "--database-url",
                database_url,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("receivables serve-queries");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let url = format!("http://127.0.0.1:{port}");
            if Channel::from_shared(url).unwrap().connect().await.is_ok() {
                return QueryService {
                    port,
                    child: Some(child),
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("serve-queries did not come up on port {port}");
    }

    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Asks for the aging report until the service has applied `position` (each ask waits up
    /// to the service's own limit).
    async fn wait_for(&self, position: u64) {
        let channel = channel_to(&format!("http://127.0.0.1:{}", self.port)).await;
        let mut queries =
            receivables_api::pb::query_service_client::QueryServiceClient::new(channel);
        let started = Instant::now();
        loop {
            let asked = queries
                .get_aging_report(pb::GetAgingReportRequest {
                    scope: Some(pb::AgingScope {
                        as_of: "2026-06-30".to_owned(),
                        ..Default::default()
                    }),
                    group_by: pb::AgingGroupBy::Group.into(),
                    min_position: position,
                })
                .await;
            match asked {
                Ok(_) => return,
                Err(status) if started.elapsed() < Duration::from_secs(120) => {
                    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
                }
                Err(status) => panic!("the query service did not reach {position}: {status:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_query_service_killed_under_load_ends_equal_to_a_rebuild() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let Some(rebuilt) = TestDatabase::create().await else {
        return;
    };
    let Some((cluster, _services, load)) = under_load().await else {
        return;
    };
    // Given two query services projecting into one database,
    let ports = [free_port(), free_port()];
    let mut queries = vec![
        QueryService::start(&cluster, &database.url(), ports[0]).await,
        QueryService::start(&cluster, &database.url(), ports[1]).await,
    ];
    tokio::time::sleep(STEADY).await;
    // when one is killed with SIGKILL mid-load and started again a while later,
    queries[0].kill().await;
    tokio::time::sleep(STEADY).await;
    queries[0] = QueryService::start(&cluster, &database.url(), ports[0]).await;
    tokio::time::sleep(STEADY).await;
    let checked = stop_and_check(&cluster, load).await;
    // then both reach the log's last position,
    let last = checked.events as u64;
    for query in &queries {
        query.wait_for(last).await;
    }
    // and the read model they share is, row for row, one rebuilt from the first event.
    assert_equal_to_a_rebuild(&cluster, &database.pool, &rebuilt, last).await;
    report(
        "one of two query services killed (SIGKILL) and restarted; read model equal to a rebuild",
        &checked,
    );
    for mut query in queries {
        query.kill().await;
    }
    database.drop_database().await;
    rebuilt.drop_database().await;
}

/// Rebuilds the read model from the cluster's log into `rebuilt` and compares it, row for row,
/// with the live generation in `live` (both at position `last`).
async fn assert_equal_to_a_rebuild(
    cluster: &TestCluster,
    live: &sqlx::PgPool,
    rebuilt: &TestDatabase,
    last: u64,
) {
    let client = async_nats::connect(cluster.url_list()).await.unwrap();
    let log = std::sync::Arc::new(
        JetStreamLog::attach(client, JetStreamConfig::default())
            .await
            .unwrap(),
    );
    let projector =
        receivables_tests::projecting::RunningProjector::follow(log, rebuilt.read.clone()).await;
    assert!(
        projector
            .projector
            .wait_for(Position::new(last), Duration::from_secs(120))
            .await,
        "the rebuild reached the last position"
    );
    projector.stop().await;
    let (generation,): (i64,) =
        sqlx::query_as("SELECT generation FROM public.read_model_generations WHERE state = 'live'")
            .fetch_one(live)
            .await
            .unwrap();
    let live_rows = read_model_rows(live, &format!("read_model_{generation}")).await;
    let fresh = read_model_rows(&rebuilt.pool, "public").await;
    assert_eq!(
        live_rows.len(),
        fresh.len(),
        "rows of the live and the rebuilt read model"
    );
    assert!(
        live_rows == fresh,
        "the live read model differs from the rebuilt one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_crashed_and_restarted_under_load_ends_equal_to_a_rebuild() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let admin = sqlx::PgPool::connect(&server.url("postgres"))
        .await
        .unwrap();
    sqlx::query("CREATE DATABASE receivables")
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let database_url = server.url("receivables");
    let Some(rebuilt) = TestDatabase::create().await else {
        return;
    };
    let Some((cluster, _services, load)) = under_load().await else {
        return;
    };
    // Given two query services projecting into one database of a server of the test's own,
    let ports = [free_port(), free_port()];
    let mut queries = vec![
        QueryService::start(&cluster, &database_url, ports[0]).await,
        QueryService::start(&cluster, &database_url, ports[1]).await,
    ];
    tokio::time::sleep(STEADY).await;
    // when the server crashes (every session cut, no checkpoint) and comes back,
    let server = tokio::task::spawn_blocking(move || {
        server.crash_and_restart();
        server
    })
    .await
    .unwrap();
    tokio::time::sleep(STEADY).await;
    let checked = stop_and_check(&cluster, load).await;
    // then both query services reach the log's last position, and the read model is a
    // rebuild's.
    let last = checked.events as u64;
    for query in &queries {
        query.wait_for(last).await;
    }
    let live = sqlx::PgPool::connect(&database_url).await.unwrap();
    assert_equal_to_a_rebuild(&cluster, &live, &rebuilt, last).await;
    live.close().await;
    report(
        "PostgreSQL crashed (immediate stop) and restarted under two query services; read model equal to a rebuild",
        &checked,
    );
    for query in &mut queries {
        query.kill().await;
    }
    drop(server);
    rebuilt.drop_database().await;
}

/// Commands each client sends in the next test, each to the other command service than the one
/// before.
const ALTERNATING_COMMANDS: usize = 250;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_of_one_customer_alternating_between_two_command_services_are_all_accepted() {
    init_logging();
    let _slot = cluster_slot().await;
    let Some(cluster) = TestCluster::start().await else {
        return;
    };
    let services = [
        CommandService::start(&cluster).await,
        CommandService::start(&cluster).await,
    ];
    let endpoints: Vec<String> = services.iter().map(CommandService::url).collect();
    // Given customers each of whose commands goes to the other service than the one before,
    // so that each service finds the account it holds behind the log every time and reads
    // the customer's newest events (found: a read of those that the client library restarted
    // from the customer's first event),
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let endpoints = endpoints.clone();
            let acknowledged = Arc::clone(&acknowledged);
            tokio::spawn(async move {
                for n in 0..ALTERNATING_COMMANDS {
                    let customer = customer_id(client * 2 + (n / 5) % 2);
                    let number = format!("A{client}-{n:05}");
                    // when each is sent to the service after the last one,
                    post_invoice(&endpoints, n, &customer, &number, &acknowledged).await;
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("a client");
    }
    // then every one is accepted (none refused as untrustworthy), once, in chains that verify.
    let acknowledged = all_acknowledged(acknowledged);
    let checked = check(&cluster, &acknowledged).await;
    assert_eq!(checked.acknowledged, CLIENTS * ALTERNATING_COMMANDS);
    report(
        "no fault: each customer's commands alternating between the two command services",
        &checked,
    );
}

/// How long the partition lasts after the majority has a leader of its own.
const PARTITIONED: Duration = Duration::from_secs(5);

/// How long the majority may take to elect a leader of its own once the old one is cut off.
const FAILOVER_WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_streams_leader_cut_off_from_the_other_two_and_healed_loses_nothing() {
    init_logging();
    let _slot = cluster_slot().await;
    // Every node in a network namespace of its own, inside one the test made: the test runs
    // again in there.
    if !run_in_own_network_namespace(
        "the_streams_leader_cut_off_from_the_other_two_and_healed_loses_nothing",
    ) {
        return;
    }
    // A PostgreSQL of the test's own, on this namespace's loopback.
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let Some(database) = TestDatabase::create_on(&server.url("postgres")).await else {
        return;
    };
    let Some(rebuilt) = TestDatabase::create_on(&server.url("postgres")).await else {
        return;
    };
    let Some(cluster) = TestCluster::start_partitionable().await else {
        return;
    };
    let (cluster, _services, load) = load_on(cluster).await;
    let query_port = free_port();
    let mut query = QueryService::start(&cluster, &database.url(), query_port).await;
    let stream = JetStreamConfig::default().stream;
    // Given the stream's leader,
    let leader = cluster.leader_of(&stream).await;
    let cut = cluster.node_named(&leader);
    let majority = (0..3).find(|node| *node != cut).expect("another node");
    // when it is cut off from the other two (its clients still reach it),
    cluster.cut(cut);
    let partitioned = Instant::now();
    // the other two elect a leader of their own,
    let failover = loop {
        assert!(
            partitioned.elapsed() < FAILOVER_WITHIN,
            "the majority elected no leader within {FAILOVER_WITHIN:?}"
        );
        if cluster.leader_as_seen_from(majority, &stream).await != leader {
            break partitioned.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(PARTITIONED).await;
    // and when the cut is healed, the node's replica catches up with theirs.
    cluster.heal(cut);
    let healed = Instant::now();
    while !cluster.replica_current(cut, &stream).await {
        assert!(
            healed.elapsed() < FAILOVER_WITHIN,
            "the healed node's replica was not current within {FAILOVER_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rejoined = healed.elapsed();
    tokio::time::sleep(STEADY).await;
    // Then nothing acknowledged is lost or doubled, and the read model the query service
    // kept through it all is, row for row, a rebuild's.
    let checked = stop_and_check(&cluster, load).await;
    let last = checked.events as u64;
    query.wait_for(last).await;
    assert_equal_to_a_rebuild(&cluster, &database.pool, &rebuilt, last).await;
    report(
        &format!(
            "the stream's leader cut off from the other two (network namespaces) for {:.1} s and healed: the majority elected a leader in {:.1} s, the healed node's replica current again in {:.1} s; read model equal to a rebuild",
            (failover + PARTITIONED).as_secs_f64(),
            failover.as_secs_f64(),
            rejoined.as_secs_f64()
        ),
        &checked,
    );
    query.kill().await;
    database.drop_database().await;
    rebuilt.drop_database().await;
    drop(server);
}
