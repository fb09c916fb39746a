//! The alert stream's delay under write load: from a command's append (its reply) to the alert
//! it raises reaching a `WatchAlerts` client, beside the read model's own delay (the same
//! reply to a query with `min_position` at its position answering) measured on the same
//! commands in the same run.
//!
//! The all-in-one service runs in this process, on the embedded backends (a temporary
//! directory) or on JetStream and PostgreSQL (a stream, buckets and a database of the run's
//! own, removed afterwards unless `--keep`), with a fixed business date. `--clients` clients
//! post the write benchmark's ledger mix (invoices and payments, in turn) over `--customers`
//! customers, none of them overdue or limited, so that they raise no alert. Meanwhile a probe
//! every `--probe-every-ms` issues an invoice of 200.00 CNY to a customer of its own whose
//! limit is 100.00 under WARN: accepted over the limit, which raises `invoice_over_limit`. A
//! client follows the stream of that kind; each probe's delay is the alert's arrival minus
//! the probe's reply, and its projection delay the exposure query's answer minus the reply.
//!
//! Prints the load's commands/s, the p50/p99/max of both delays and their ratio, and checks
//! that every probe's alert came exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use receivables::all_in_one::Serving;
use receivables::config::ServeArgs;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::metrics_service_client::MetricsServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_loadgen::scratch::{Scratch, ScratchDatabase};
use receivables_loadgen::{NatsArgs, PostgresArgs};
use tokio::sync::Mutex;
use tonic::transport::Channel;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Time the alert stream from a command's append to the alert at a client")]
struct Args {
    #[arg(long, value_enum, default_value_t = Backend::JetstreamPostgres)]
    backend: Backend,
    #[command(flatten)]
    nats: NatsArgs,
    #[command(flatten)]
    postgres: PostgresArgs,
    /// Concurrent clients of the write load (each with one request in flight).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Customers the write load is spread over.
    #[arg(long, default_value_t = 1_000)]
    customers: usize,
    /// Probes (alerts timed).
    #[arg(long, default_value_t = 200)]
    probes: usize,
    /// Milliseconds between two probes.
    #[arg(long, default_value_t = 50)]
    probe_every_ms: u64,
    /// Keep the run's stream, buckets and database (embedded: the directory) afterwards.
    #[arg(long)]
    keep: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Backend {
    /// NATS JetStream and PostgreSQL.
    JetstreamPostgres,
    /// The embedded SQLite event log and read model.
    Embedded,
}

/// Where the service listens.
const LISTEN: &str = "127.0.0.1:0";

/// The business date of the run: every invoice is issued before it and due after it.
const BUSINESS_DATE: &str = "2026-06-30";
const ISSUED: &str = "2026-06-01";
const DUE: &str = "2026-07-31";
const RECEIVED: &str = "2026-06-15";

/// Load before the first probe, so that the probes meet a busy service.
const LOAD_BEFORE_PROBES: Duration = Duration::from_secs(3);

/// Longest a probe's alert may take before the run is called failed.
const ALERT_WAIT: Duration = Duration::from_secs(120);

/// gRPC connections the clients share.
const CONNECTIONS: usize = 4;

fn cny(amount: &str) -> Option<pb::Money> {
    Some(pb::Money {
        amount: amount.to_owned(),
        currency: "CNY".to_owned(),
    })
}

fn invoice(customer: &str, number: &str, amount: &str) -> pb::IssueInvoiceRequest {
    pb::IssueInvoiceRequest {
        command_id: Uuid::new_v4().to_string(),
        customer_id: customer.to_owned(),
        subsidiary_id: "S1".to_owned(),
        invoice_number: number.to_owned(),
        amount: cny(amount),
        issue_date: ISSUED.to_owned(),
        due: Some(pb::issue_invoice_request::Due::DueDate(DUE.to_owned())),
        schedule: Vec::new(),
        order_number: String::new(),
    }
}

fn payment(customer: &str) -> pb::RecordPaymentRequest {
    pb::RecordPaymentRequest {
        command_id: Uuid::new_v4().to_string(),
        customer_id: customer.to_owned(),
        subsidiary_id: "S1".to_owned(),
        amount: cny("500.00"),
        received_date: RECEIVED.to_owned(),
        method: pb::PaymentMethod::BankTransfer.into(),
        reference: "LOAD".to_owned(),
        allocations: Vec::new(),
        allocation_rule: pb::AllocationRule::Unspecified.into(),
    }
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

/// The run's names on NATS, so that nothing of another run is touched.
fn nats_names(serve: &mut ServeArgs, run: &str) {
    serve.nats.stream = format!("{run}_AB_EVENTS");
    serve.nats.subject_prefix = format!("bench.{run}.ab");
    serve.nats.invoice_numbers_bucket = format!("{run}_AB_NUMBERS");
    serve.nats.snapshots_bucket = format!("{run}_AB_SNAPSHOTS");
    serve.nats.tokens_bucket = format!("{run}_AB_TOKENS");
    serve.alerts.alerts_stream = format!("{run}_AB_ALERTS");
    serve.alerts.alerts_subject_prefix = format!("bench.{run}.alerts");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run = format!("R{}", &Uuid::new_v4().simple().to_string()[..8]).to_uppercase();
    let scratch = Scratch::create(&format!("alert-bench-{run}"), args.keep)?;
    let mut serve = ServeArgs::embedded(LISTEN.parse()?, scratch.path());
    serve.alerts.business_date = Some(BUSINESS_DATE.parse::<NaiveDate>()?);
    serve.shutdown_grace_secs = 5;
    let mut database = None;
    if let Backend::JetstreamPostgres = args.backend {
        let created =
            ScratchDatabase::create(&args.postgres.database_url, "receivables_alertbench", &run)
                .await?;
        serve.database_url = Some(created.url());
        serve.nats.nats_url = Some(args.nats.nats_url.clone());
        nats_names(&mut serve, &run);
        database = Some(created);
    }
    println!(
        "alert-bench: {:?}, {} clients over {} customers, {} probes every {} ms",
        args.backend, args.clients, args.customers, args.probes, args.probe_every_ms
    );
    let outcome = measure(&args, &serve).await;
    if let Some(database) = database {
        if args.keep {
            println!("kept: database {}, streams of run {run}", database.url());
        } else {
            database.remove().await?;
            let client = async_nats::connect(&args.nats.nats_url).await?;
            let context = async_nats::jetstream::new(client);
            for stream in [
                serve.nats.stream.clone(),
                serve.alerts.alerts_stream.clone(),
                format!("KV_{}", serve.nats.invoice_numbers_bucket),
                format!("OBJ_{}", serve.nats.snapshots_bucket),
                format!("KV_{}", serve.nats.tokens_bucket),
            ] {
                let _ = context.delete_stream(&stream).await;
            }
        }
    }
    outcome
}

async fn measure(args: &Args, serve: &ServeArgs) -> anyhow::Result<()> {
    let serving = Serving::build(serve)
        .await
        .context("starting the service")?;
    let address = serving.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serving.run_until(async move {
        let _ = stopped.await;
    }));
    let url = format!("http://{address}");
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        channels.push(Channel::from_shared(url.clone())?.connect().await?);
    }
    let result = drive(args, &channels).await;
    let _ = stop.send(());
    server.await??;
    result
}

async fn drive(args: &Args, channels: &[Channel]) -> anyhow::Result<()> {
    let mut write = CommandServiceClient::new(channels[0].clone());
    // The probes' customers: a limit of 100.00 under WARN each, in force before the invoices.
    for probe in 0..args.probes {
        write
            .change_credit_limit(pb::ChangeCreditLimitRequest {
                command_id: Uuid::new_v4().to_string(),
                customer_id: format!("P-{probe:05}"),
                limit: cny("100.00"),
                policy: pb::CreditPolicy::Warn.into(),
                grade: pb::CreditGrade::B.into(),
                reason: "alert probe".to_owned(),
                approved_by: "Bench".to_owned(),
                effective_date: "2026-01-01".to_owned(),
                overdue_hold_days: None,
            })
            .await?;
    }
    // The follower: each probe's alert, as it arrives.
    let arrivals: Arc<Mutex<HashMap<String, (Instant, u32)>>> = Arc::default();
    let mut watch = MetricsServiceClient::new(channels[1 % channels.len()].clone());
    let mut stream = watch
        .watch_alerts(pb::WatchAlertsRequest {
            kinds: vec!["invoice_over_limit".to_owned()],
            ..Default::default()
        })
        .await?
        .into_inner();
    let seen = Arc::clone(&arrivals);
    let follower = tokio::spawn(async move {
        while let Ok(Some(alert)) = stream.message().await {
            let mut seen = seen.lock().await;
            let entry = seen
                .entry(alert.subject.clone())
                .or_insert((Instant::now(), 0));
            entry.1 += 1;
        }
    });

    // The write load.
    let running = Arc::new(AtomicBool::new(true));
    let done = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for client in 0..args.clients {
        let mut write = CommandServiceClient::new(channels[client % channels.len()].clone());
        let running = Arc::clone(&running);
        let done = Arc::clone(&done);
        let customers = args.customers;
        let clients = args.clients;
        load.push(tokio::spawn(async move {
            let mut step: usize = 0;
            while running.load(Ordering::Relaxed) {
                let customer = format!("L-{:05}", (client + step * clients) % customers);
                let ok = if step.is_multiple_of(2) {
                    let number = format!("L{client}-{step}");
                    write
                        .issue_invoice(invoice(&customer, &number, "1000.00"))
                        .await
                        .is_ok()
                } else {
                    write.record_payment(payment(&customer)).await.is_ok()
                };
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                }
                step += 1;
            }
        }));
    }
    tokio::time::sleep(LOAD_BEFORE_PROBES).await;
    let load_started = Instant::now();
    let load_before = done.load(Ordering::Relaxed);

    // The probes: their reply, and when the read model answered at their position.
    let mut replies: Vec<(String, Instant, Instant)> = Vec::new();
    let read = QueryServiceClient::new(channels[2 % channels.len()].clone());
    let mut probes = Vec::new();
    for probe in 0..args.probes {
        let customer = format!("P-{probe:05}");
        let number = format!("PROBE-{probe:05}");
        let mut write = CommandServiceClient::new(channels[3 % channels.len()].clone());
        let mut read_here = read.clone();
        probes.push(tokio::spawn(async move {
            let reply = write
                .issue_invoice(invoice(&customer, &number, "200.00"))
                .await?
                .into_inner();
            let appended = Instant::now();
            if !reply.over_limit {
                bail!("probe {number} was not over the limit");
            }
            let position = reply.receipt.map_or(0, |receipt| receipt.position);
            read_here
                .get_exposure(pb::GetExposureRequest {
                    customer_id: customer,
                    as_of: BUSINESS_DATE.to_owned(),
                    min_position: position,
                })
                .await?;
            Ok((format!("S1/{number}"), appended, Instant::now()))
        }));
        tokio::time::sleep(Duration::from_millis(args.probe_every_ms)).await;
    }
    for probe in probes {
        replies.push(probe.await??);
    }
    let deadline = Instant::now() + ALERT_WAIT;
    loop {
        if arrivals.lock().await.len() >= args.probes || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let load_done = done.load(Ordering::Relaxed) - load_before;
    let load_seconds = load_started.elapsed().as_secs_f64();
    running.store(false, Ordering::Relaxed);
    for task in load {
        task.await?;
    }
    follower.abort();

    let arrivals = arrivals.lock().await;
    let mut alert = histogram()?;
    let mut projected = histogram()?;
    let mut missing = 0;
    let mut repeated = 0;
    for (subject, appended, answered) in &replies {
        projected.record(
            u64::try_from(answered.duration_since(*appended).as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
        )?;
        match arrivals.get(subject) {
            Some((arrived, count)) => {
                if *count != 1 {
                    repeated += 1;
                }
                alert.record(
                    u64::try_from(arrived.saturating_duration_since(*appended).as_micros())
                        .unwrap_or(u64::MAX)
                        .max(1),
                )?;
            }
            None => missing += 1,
        }
    }
    println!(
        "write load: {load_done} commands in {load_seconds:.1} s = {:.0} commands/s",
        load_done as f64 / load_seconds
    );
    println!(
        "read model (reply to query at its position): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(projected.value_at_quantile(0.5)),
        ms(projected.value_at_quantile(0.99)),
        ms(projected.max())
    );
    println!(
        "alert (reply to alert at the client):       p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(alert.value_at_quantile(0.5)),
        ms(alert.value_at_quantile(0.99)),
        ms(alert.max())
    );
    println!(
        "alert / read model: p50 {:.2}x, p99 {:.2}x",
        alert.value_at_quantile(0.5) as f64 / projected.value_at_quantile(0.5) as f64,
        alert.value_at_quantile(0.99) as f64 / projected.value_at_quantile(0.99) as f64
    );
    println!(
        "probes {}: alerts received {}, missing {missing}, more than once {repeated}",
        replies.len(),
        replies.len() - missing
    );
    if missing > 0 || repeated > 0 {
        bail!("{missing} alerts missing, {repeated} repeated");
    }
    Ok(())
}
