//! Account benchmark: what a customer's account costs the command service, by the length of the
//! customer's history.
//!
//! Writes the synthetic, hash-chained ledger history of [`receivables_loadgen::history`] (per
//! customer, four invoices of 1000.00 and a payment of 400.00 allocated to the last of them, so
//! that every invoice stays open) for `--customers` customers of `--history-events` events each
//! straight into a fresh embedded log (not measured), starts the command service on it in this
//! process (gRPC, no authentication, a cache big enough for every customer, snapshots off) and
//! measures:
//!
//! 1. **cold load from the events**: each customer's account brought up to date once, nothing
//!    cached, in the service's executor (as a command brings it, without `GetAccount`'s answer,
//!    whose building costs more than the load for a long history): the service reads the
//!    customer's history from the log and builds the account; p50 / p99 per call;
//! 2. **memory per cached customer**: the process's resident memory (`VmRSS`) after the cold
//!    loads minus before them, divided by the customers;
//! 3. **warm `GetAccount`** over gRPC: each customer again, cached; p50 / p99 per call;
//! 4. **a retried command** over gRPC: for each customer a new invoice, then the same command
//!    again (same command id and content): the service answers with the first reply, which it
//!    reads back from the log; p50 / p99 of the retries, each of which must name the first
//!    reply's position;
//! 5. **cold load from a snapshot** (histories of at least [`SNAPSHOT_EVERY_EVENTS`] events):
//!    the service again with snapshots on, each account loaded once (which saves its snapshot,
//!    not measured); then again, nothing cached, each account loaded as in 1, now from its
//!    snapshot, checked against the log, and the event after it; p50 / p99 per call, with the
//!    size of a snapshot and the time to encode and to decode one;
//! 6. **a cold `GetAccount`** over gRPC, the service started once more: restored from the
//!    snapshot, with the answer (what the load costs a caller).
//!
//! Run one history length per process (the memory of an earlier run would be reused by a later
//! one and hide what it costs): `--history-events 100`, `1000`, `10000`.
//!
//! Each result is checked: every account must hold the history's events, and every retry must
//! be answered with the first event of its customer.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::Parser;
use receivables::accounts::{CacheBounds, SNAPSHOT_EVERY_EVENTS};
use receivables::command_service::CommandGrpc;
use receivables::execution::Executor;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::command_service_server::CommandServiceServer;
use receivables_domain::AccountSnapshot;
use receivables_eventlog::EventLog;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_loadgen::history::{self, Shape, check_written, write_history};
use receivables_loadgen::in_process::InProcessServer;
use receivables_loadgen::memory::resident_bytes;
use receivables_loadgen::scratch::Scratch;
use receivables_loadgen::timings::Timings;
use tonic::service::Routes;
use tonic::transport::Channel;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(
    about = "Measure what a cached customer account costs (memory, cold load, GetAccount, a retried command) by the length of its history"
)]
struct Args {
    /// Events in each customer's history
    #[arg(long, default_value_t = 10_000)]
    history_events: usize,

    /// Customers (default: as many as make 200,000 events, at least 1)
    #[arg(long)]
    customers: Option<usize>,

    /// Keep the temporary directory afterwards
    #[arg(long)]
    keep: bool,
}

/// The events written when `--customers` is not given: enough customers that the memory of
/// one is well above the noise of the allocator, few enough to write in seconds.
const EVENTS_DEFAULT: usize = 200_000;

const EMBEDDED_LOG_FILE: &str = "events.sqlite";

/// The command service on `log`, serving in this process with a cache of `customers` accounts,
/// snapshotting them every `snapshot_every` events (0: never); with its executor, which the
/// benchmark also calls directly.
async fn start_command_service<L: EventLog>(
    log: Arc<L>,
    customers: usize,
    snapshot_every: u64,
) -> anyhow::Result<(InProcessServer, Arc<Executor<L>>)> {
    let executor = Arc::new(
        Executor::new(log, CacheBounds::customers(u64::try_from(customers)?))
            .snapshot_every(snapshot_every),
    );
    let server = InProcessServer::start(Routes::new(CommandServiceServer::new(CommandGrpc::new(
        Arc::clone(&executor),
    ))))
    .await?;
    Ok((server, executor))
}

/// How long the snapshots the first loads triggered may take to be saved.
const SNAPSHOTS_SAVED_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);

/// Waits until the log holds a snapshot of every customer.
async fn every_snapshot_saved<L: EventLog>(log: &L, customers: usize) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + SNAPSHOTS_SAVED_WITHIN;
    for customer in 0..customers {
        let customer_id = history::customer_id(customer)?;
        while log.load_snapshot(&customer_id).await?.is_none() {
            if tokio::time::Instant::now() > deadline {
                bail!("no snapshot of {customer_id} after {SNAPSHOTS_SAVED_WITHIN:?}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    Ok(())
}

/// The size of a snapshot of the first customers' accounts, and the time to encode and to
/// decode one (`accounts` of them, p50 / p99).
async fn snapshot_costs<L: EventLog>(
    executor: &Executor<L>,
    accounts: usize,
) -> anyhow::Result<()> {
    let mut encode = Timings::new()?;
    let mut decode = Timings::new()?;
    let mut bytes = 0;
    for customer in 0..accounts {
        let customer_id = history::customer_id(customer)?;
        let account = executor.account(&customer_id).await?;
        let snapshot = encode.time(async { Ok(account.snapshot()?) }).await?;
        bytes = snapshot.len();
        let decoded = decode
            .time(async { Ok(AccountSnapshot::decode(&snapshot)?) })
            .await?;
        if decoded.head().event_count != account.event_count() {
            bail!("the snapshot of {customer_id} does not cover its events");
        }
    }
    println!(
        "snapshot of one account             {:>9.1} KB",
        bytes as f64 / 1024.0
    );
    print_timings("  encoded (CustomerAccount::snapshot)", &encode);
    print_timings("  decoded (AccountSnapshot::decode)", &decode);
    Ok(())
}

/// `<label> p50 .. ms p99 .. ms (<calls> calls)`, to the microsecond: a retry takes a fraction of
/// a millisecond.
fn print_timings(label: &str, timings: &Timings) {
    println!(
        "{label:<34} p50 {:>9.3} ms   p99 {:>9.3} ms   ({} calls)",
        timings.p50_ms(),
        timings.p99_ms(),
        timings.runs()
    );
}

/// Every customer's account brought up to date once, as a command brings it, timed without
/// building an answer (`GetAccount`'s answer of a long history takes longer than its load); each
/// must hold `events` events.
async fn load_every_account<L: EventLog>(
    executor: &Executor<L>,
    customers: usize,
    events: usize,
) -> anyhow::Result<Timings> {
    let mut timings = Timings::new()?;
    for customer in 0..customers {
        let customer_id = history::customer_id(customer)?;
        let held = timings
            .time(async {
                Ok(executor
                    .read_account(&customer_id, |a| a.event_count())
                    .await?)
            })
            .await?;
        if held != events as u64 {
            bail!("customer {customer_id} holds {held} events, expected {events}");
        }
    }
    Ok(timings)
}

/// `GetAccount` of every customer once; each must hold `events` events.
async fn get_every_account(
    client: &mut CommandServiceClient<Channel>,
    customers: usize,
    events: usize,
) -> anyhow::Result<Timings> {
    let mut timings = Timings::new()?;
    for customer in 0..customers {
        let customer_id = history::customer_id(customer)?.to_string();
        let request = pb::GetAccountRequest {
            customer_id: customer_id.clone(),
        };
        let account = timings
            .time(async { Ok(client.get_account(request).await?.into_inner()) })
            .await?;
        if account.event_count != events as u64 {
            bail!(
                "customer {customer_id} holds {} events, expected {events}",
                account.event_count
            );
        }
    }
    Ok(timings)
}

/// For each customer, a new invoice posted, then the same command sent again (same command id,
/// same content): the retry is timed, and must be answered with the first reply's position.
async fn retry_a_command(
    client: &mut CommandServiceClient<Channel>,
    customers: usize,
) -> anyhow::Result<Timings> {
    let mut timings = Timings::new()?;
    for customer in 0..customers {
        let request = pb::IssueInvoiceRequest {
            command_id: Uuid::new_v4().to_string(),
            customer_id: history::customer_id(customer)?.to_string(),
            subsidiary_id: history::SUBSIDIARY.into(),
            invoice_number: format!("RETRIED-{customer:06}"),
            amount: Some(pb::Money {
                amount: "100.00".into(),
                currency: history::CURRENCY.into(),
            }),
            issue_date: "2026-06-01".into(),
            due: Some(pb::issue_invoice_request::Due::TermsDays(30)),
            schedule: Vec::new(),
            order_number: String::new(),
        };
        let first = client.issue_invoice(request.clone()).await?.into_inner();
        let first = first.receipt.context("a reply without receipt")?;
        let again = timings
            .time(async { Ok(client.issue_invoice(request).await?.into_inner()) })
            .await?;
        let again = again.receipt.context("a reply without receipt")?;
        if again.position != first.position || !again.replayed || first.replayed {
            bail!(
                "customer {customer}: the retry was answered at position {} (replayed: {}), the first reply at {} (replayed: {})",
                again.position,
                again.replayed,
                first.position,
                first.replayed
            );
        }
    }
    Ok(timings)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let customers = args
        .customers
        .unwrap_or((EVENTS_DEFAULT / args.history_events.max(1)).max(1));
    let events = customers * args.history_events;
    let shape = Shape::new(events, customers)?;
    let run = format!("C{}", Utc::now().format("%Y%m%d%H%M%S"));
    println!(
        "account-bench: {customers} customers of {} events each ({events} events), embedded log, run {run}",
        args.history_events
    );
    let scratch = Scratch::create(&run, args.keep)?;
    let log = Arc::new(SqliteLog::open(&scratch.join(EMBEDDED_LOG_FILE)).await?);
    let measured = async {
        write_history(log.as_ref(), shape).await?;
        check_written(log.as_ref(), events).await?;
        measure(&log, customers, args.history_events).await
    }
    .await;
    log.close().await?;
    measured
}

/// Runs the service up to three times on `log`: without snapshots (loads from the events,
/// memory, cached `GetAccount`, retries), then with them, to have every account snapshotted,
/// then again on its snapshots.
async fn measure(
    log: &Arc<SqliteLog>,
    customers: usize,
    history_events: usize,
) -> anyhow::Result<()> {
    let (server, executor) = start_command_service(Arc::clone(log), customers, 0).await?;
    let measured = async {
        let before = resident_bytes()?;
        let cold = load_every_account(&executor, customers, history_events).await?;
        let after = resident_bytes()?;
        print_timings("cold load from the events", &cold);
        let per_customer = after.saturating_sub(before) as f64 / customers as f64;
        println!(
            "memory per cached customer          {:>9.1} KB   ({:.1} bytes per event; RSS {:.1} MB before the loads, {:.1} MB after)",
            per_customer / 1024.0,
            per_customer / history_events as f64,
            before as f64 / 1e6,
            after as f64 / 1e6
        );
        let mut client = CommandServiceClient::new(server.channel().await?);
        let warm = get_every_account(&mut client, customers, history_events).await?;
        print_timings("GetAccount, cached", &warm);
        let retried = retry_a_command(&mut client, customers).await?;
        print_timings("a retried command (first reply)", &retried);
        anyhow::Ok(())
    }
    .await;
    server.stop().await?;
    measured?;
    // The retried commands added one event to each history.
    let events = history_events + 1;
    if (events as u64) < SNAPSHOT_EVERY_EVENTS {
        println!(
            "cold load from a snapshot           (none: histories of fewer than {SNAPSHOT_EVERY_EVENTS} events are not snapshotted)"
        );
        return Ok(());
    }
    let (server, executor) =
        start_command_service(Arc::clone(log), customers, SNAPSHOT_EVERY_EVENTS).await?;
    let snapshotted = async {
        load_every_account(&executor, customers, events).await?;
        every_snapshot_saved(log.as_ref(), customers).await
    }
    .await;
    server.stop().await?;
    snapshotted?;
    // Nothing cached again: each account from its snapshot and the events after it.
    let (server, executor) =
        start_command_service(Arc::clone(log), customers, SNAPSHOT_EVERY_EVENTS).await?;
    let measured = async {
        let restored = load_every_account(&executor, customers, events).await?;
        print_timings("cold load from a snapshot", &restored);
        snapshot_costs(&executor, customers.min(20)).await
    }
    .await;
    server.stop().await?;
    measured?;
    // And once more, through `GetAccount` (what the load costs a caller, with the answer).
    let (server, _) =
        start_command_service(Arc::clone(log), customers, SNAPSHOT_EVERY_EVENTS).await?;
    let measured = async {
        let mut client = CommandServiceClient::new(server.channel().await?);
        let cold = get_every_account(&mut client, customers, events).await?;
        print_timings("GetAccount, cold, from a snapshot", &cold);
        anyhow::Ok(())
    }
    .await;
    server.stop().await?;
    measured
}
