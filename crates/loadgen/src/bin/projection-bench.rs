//! Projection benchmark.
//!
//! Writes a synthetic but valid history straight into a fresh stream (not measured), then in one
//! run measures:
//! 1. the baseline: an ordered consumer reading the whole stream;
//! 2. the projector catching up from position 0 into a fresh PostgreSQL database;
//! 3. the group-wide aging report over the resulting open items, p50/p99.
//!
//! Each customer's history cycles through four invoices of 1000.00 and one payment of 400.00
//! allocated to the last of them, so 80 % of the events are invoices and every invoice stays open.

use std::future::IntoFuture as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use chrono::{Days, NaiveDate, Utc};
use clap::Parser;
use futures::StreamExt;
use hdrhistogram::Histogram;
use receivables::app::connect_nats;
use receivables_domain::command::{CommandDigest, InvoiceKey};
use receivables_domain::event::{
    Allocation, AllocationRule, InvoiceIssued, PaymentReceived, SCHEMA_VERSION,
};
use receivables_domain::payment::PaymentMethod;
use receivables_domain::{
    CommandId, Currency, CustomerId, Event, EventEnvelope, EventId, InvoiceNumber, Money, Position,
    Principal, SubsidiaryId,
};
use receivables_eventlog::EventLog;
use receivables_eventlog::codec;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_projections::ReadPool;
use receivables_projections::aging::{self, AgingRequest, GroupBy};
use receivables_projections::runtime::Projector;
use receivables_projections::work_queue::{self, WorkQueueQuery};
use sqlx::ConnectOptions as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Measure projection catch-up and aging queries against a raw consumer read")]
struct Args {
    #[arg(
        long,
        env = "RECEIVABLES_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    /// PostgreSQL server; the benchmark creates and drops a database of its own on it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    database_url: String,
    /// Events written to the stream.
    #[arg(long, default_value_t = 1_250_000)]
    events: usize,
    /// Customers the events are spread over.
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    /// Aging reports timed.
    #[arg(long, default_value_t = 20)]
    reports: usize,
    /// Keep the stream and the database afterwards.
    #[arg(long)]
    keep: bool,
}

/// Items on the work-queue page that is timed.
const WORK_QUEUE_PAGE: u32 = 50;

/// Publishes in flight while writing the history.
const WRITE_IN_FLIGHT: usize = 512;

fn envelope(customer: &CustomerId, day: NaiveDate, event: Event) -> anyhow::Result<EventEnvelope> {
    Ok(EventEnvelope {
        event_id: EventId::from_uuid(Uuid::now_v7())?,
        schema_version: SCHEMA_VERSION,
        customer_id: customer.clone(),
        subsidiary_id: Some(SubsidiaryId::parse("SUB-1")?),
        command_id: CommandId::from_uuid(Uuid::new_v4())?,
        command_digest: CommandDigest::try_from("00".repeat(32))?,
        principal: Principal::anonymous(),
        recorded_at: Utc::now(),
        effective_date: day,
        // Outside any chain: the projector does not check it.
        sequence: 1,
        prev_hash: receivables_domain::EventHash::GENESIS,
        hash: receivables_domain::EventHash::GENESIS,
        event,
    })
}

/// The `n`-th event of a customer.
fn event(customer: usize, n: usize) -> anyhow::Result<EventEnvelope> {
    let cny = Currency::parse("CNY")?;
    let customer_id = CustomerId::parse(&format!("CUST-{customer:06}"))?;
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).context("date")?;
    let day = start
        .checked_add_days(Days::new((n % 500) as u64))
        .context("date")?;
    let subsidiary = SubsidiaryId::parse("SUB-1")?;
    let invoice = |k: usize| InvoiceNumber::parse(&format!("INV-{customer:06}-{k:07}"));
    if n % 5 == 4 {
        let allocated = Money::positive("400", cny)?;
        return envelope(
            &customer_id,
            day,
            Event::PaymentReceived(PaymentReceived {
                subsidiary_id: subsidiary.clone(),
                amount: allocated,
                received_date: day,
                method: PaymentMethod::BankTransfer,
                reference: format!("BANK-{n}"),
                allocation_rule: AllocationRule::Explicit,
                allocations: vec![Allocation {
                    invoice: InvoiceKey {
                        subsidiary_id: subsidiary,
                        invoice_number: invoice(n - 1)?,
                    },
                    amount: allocated,
                }],
                unapplied: Money::zero(cny),
            }),
        );
    }
    envelope(
        &customer_id,
        day,
        Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: subsidiary,
            invoice_number: invoice(n)?,
            amount: Money::positive("1000", cny)?,
            issue_date: day,
            due_date: day.checked_add_days(Days::new(30)).context("date")?,
            terms_days: Some(30),
            over_limit: false,
            credit_check: None,
        }),
    )
}

async fn write_history(
    context: &jetstream::Context,
    prefix: &str,
    args: &Args,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut pending = futures::stream::FuturesUnordered::new();
    for i in 0..args.events {
        let (customer, n) = (i % args.customers, i / args.customers);
        let envelope = event(customer, n)?;
        let payload = codec::encode(&envelope)?;
        let subject = format!("{prefix}.{}", envelope.customer_id);
        pending.push(
            context
                .publish(subject, payload.into())
                .await?
                .into_future(),
        );
        if pending.len() >= WRITE_IN_FLIGHT
            && let Some(ack) = pending.next().await
        {
            ack?;
        }
    }
    while let Some(ack) = pending.next().await {
        ack?;
    }
    println!(
        "history written: {} events in {:.1} s (not measured)",
        args.events,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn raw_read(
    context: &jetstream::Context,
    stream: &str,
    events: usize,
) -> anyhow::Result<f64> {
    let stream = context.get_stream(stream).await?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await?;
    let started = Instant::now();
    let mut messages = consumer.messages().await?;
    let mut read = 0;
    let mut bytes = 0;
    while let Some(message) = messages.next().await {
        let message = message?;
        bytes += message.payload.len();
        read += 1;
        if read == events {
            break;
        }
    }
    let rate = read as f64 / started.elapsed().as_secs_f64();
    println!(
        "raw ordered-consumer read        {rate:>9.0} events/s   ({read} events, {} MB, {:.1} s)",
        bytes / 1_000_000,
        started.elapsed().as_secs_f64()
    );
    Ok(rate)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.customers == 0 || args.events < args.customers * 5 {
        bail!("need at least five events per customer");
    }
    let run = format!("P{}", Utc::now().format("%Y%m%d%H%M%S"));
    let client = connect_nats(&args.nats_url, "receivables-projection-bench").await?;
    let context = jetstream::new(client.clone());
    let config = JetStreamConfig {
        stream: format!("{run}_EVENTS"),
        subject_prefix: format!("bench.{run}.events"),
        invoice_numbers_bucket: format!("{run}_NUMBERS"),
        ..JetStreamConfig::default()
    };
    let log = Arc::new(JetStreamLog::open(client, config.clone()).await?);
    println!(
        "projection-bench: {} events over {} customers, run {run}",
        args.events, args.customers
    );
    write_history(&context, &config.subject_prefix, &args).await?;
    let last = log.last_position().await?;
    if last != Position::new(args.events as u64) {
        bail!("the stream holds {last} events, expected {}", args.events);
    }

    let raw = raw_read(&context, &config.stream, args.events).await?;

    let admin_options: PgConnectOptions = args.database_url.parse()?;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(admin_options.clone())
        .await?;
    let database = format!("receivables_bench_{}", run.to_lowercase());
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await?;
    let options = admin_options.clone().database(&database);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.clone())
        .await?;
    receivables_projections::MIGRATOR.run(&pool).await?;
    let read: ReadPool = pool.clone().into();
    let projector = Arc::new(Projector::new(Arc::clone(&log), read.clone()).await?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let running = {
        let projector = Arc::clone(&projector);
        tokio::spawn(async move {
            projector
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    if !projector.wait_for(last, Duration::from_secs(3_600)).await {
        bail!("the projector did not catch up within an hour");
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    running.await??;
    let catch_up = args.events as f64 / elapsed.as_secs_f64();
    println!(
        "projector catch-up               {catch_up:>9.0} events/s   ({} events in {:.1} s)",
        args.events,
        elapsed.as_secs_f64()
    );
    println!("ratio catch-up/raw read: {:.2}", catch_up / raw);

    let (open_items,): (i64,) = sqlx::query_as("SELECT count(*) FROM invoices")
        .fetch_one(&pool)
        .await?;
    let mut request = AgingRequest::new(NaiveDate::from_ymd_opt(2026, 6, 30).context("date")?);
    request.group_by = GroupBy::Group;
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    for _ in 0..args.reports {
        let begin = Instant::now();
        let report = aging::report(&read, &request).await?;
        latency.record(begin.elapsed().as_micros() as u64)?;
        if report.len() != 1 {
            bail!("expected one group line, got {}", report.len());
        }
    }
    println!(
        "group aging report over {open_items} open items: p50 {:.1} ms, p99 {:.1} ms ({} runs)",
        latency.value_at_quantile(0.5) as f64 / 1000.0,
        latency.value_at_quantile(0.99) as f64 / 1000.0,
        args.reports
    );
    // A page of the collector work queue (every customer is overdue here).
    let mut queue_latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let queue = WorkQueueQuery::new(request.as_of)
        .with_page_size(WORK_QUEUE_PAGE)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for _ in 0..args.reports {
        let begin = Instant::now();
        let page = work_queue::work_queue(&read, &queue).await?;
        queue_latency.record(begin.elapsed().as_micros() as u64)?;
        if page.items.len() != WORK_QUEUE_PAGE as usize {
            bail!(
                "expected a full page of the work queue, got {}",
                page.items.len()
            );
        }
    }
    println!(
        "work-queue first page of {WORK_QUEUE_PAGE} over {} customers: p50 {:.1} ms, p99 {:.1} ms ({} runs)",
        args.customers,
        queue_latency.value_at_quantile(0.5) as f64 / 1000.0,
        queue_latency.value_at_quantile(0.99) as f64 / 1000.0,
        args.reports
    );
    let (url,) = (options.to_url_lossy().to_string(),);
    if args.keep {
        println!("kept: stream {}, database {url}", config.stream);
    } else {
        pool.close().await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            .execute(&admin)
            .await?;
        for name in [
            config.stream.clone(),
            format!("KV_{}", config.invoice_numbers_bucket),
        ] {
            if let Err(error) = context.delete_stream(&name).await {
                eprintln!("could not delete stream {name}: {error}");
            }
        }
    }
    Ok(())
}
