//! Dashboard benchmark: the time to the first byte and to the whole page of the dashboard's
//! overview and work queue, over a large book, against the gRPC calls behind them in the same
//! run.
//!
//! Writes the history of [`receivables_loadgen::history`] straight into a fresh event log (not
//! measured; by default 1,250,000 events: 1,000,000 open invoices over 10,000 customers), starts
//! the all-in-one service on it in this process (embedded: the data directory holding that
//! log; `jetstream-postgres`: that stream and a fresh database) with its dashboard, waits until
//! the projector has caught up and today's summaries are worked out, then times, `--requests` times each, one after another:
//!
//! - `GET /` (the overview: its first view, which works out the twelve past month-ends, then
//!   the next ones, which find them kept) and `GET /work-queue` (its first page of 50): to the
//!   response's head (time to first byte) and to its last byte;
//! - `GET /api/v1/work-queue?pageSize=50`: the same page as JSON;
//! - the baselines, over gRPC to the same service: `GetWorkQueue` (page of 50) and the group
//!   `GetAgingReport` as of the business date.
//!
//! The service's business date is the history's report date, as a service keeps its summaries
//! for its own date, and every page and call asks for that date (`as_of`), which is the
//! service's today. It serves without TLS and tokens (`--insecure`): what TLS costs is measured
//! elsewhere (BENCHMARKS.md, "What security costs").

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::Parser;
use receivables::all_in_one::Serving;
use receivables::config::ServeArgs;
use receivables_api::pb;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_loadgen::history::{self, HistoryMix, Shape};
use receivables_loadgen::served_history::{Backend, ServedHistory};
use receivables_loadgen::timings::Timings;
use receivables_loadgen::value_name;
use receivables_loadgen::{NatsArgs, PostgresArgs};
use receivables_projections::ReadStore;
use receivables_projections::summaries;

#[derive(Debug, Parser)]
#[command(
    about = "Time the dashboard's overview and work queue against the gRPC calls behind them"
)]
struct Args {
    #[arg(long, value_enum, default_value_t = Backend::JetstreamPostgres)]
    backend: Backend,
    #[command(flatten)]
    nats: NatsArgs,
    #[command(flatten)]
    postgres: PostgresArgs,
    /// Events written to the log.
    #[arg(long, default_value_t = 1_250_000)]
    events: usize,
    /// Customers the events are spread over.
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    /// Requests timed of each page and call.
    #[arg(long, default_value_t = 20)]
    requests: usize,
    /// Keep the stream and the database (embedded: the data directory) afterwards.
    #[arg(long)]
    keep: bool,
}

/// Items on the work-queue page, as the dashboard shows it.
const WORK_QUEUE_PAGE: u32 = 50;
/// How often the benchmark asks whether the projector has caught up.
const CATCH_UP_POLL: Duration = Duration::from_secs(1);
/// How long the projector may take to catch up.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(3_600);

/// Times `GET path` `requests` times: to the head, and to the last byte.
async fn time_page(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    requests: usize,
) -> anyhow::Result<(Timings, Timings, usize)> {
    let mut head = Timings::new()?;
    let mut whole = Timings::new()?;
    let mut bytes = 0;
    for _ in 0..requests {
        let started = Instant::now();
        let response = client.get(format!("{base}{path}")).send().await?;
        let first = started.elapsed();
        if !response.status().is_success() {
            bail!("GET {path}: {}", response.status());
        }
        let body = response.bytes().await?;
        let last = started.elapsed();
        bytes = body.len();
        head.record(first)?;
        whole.record(last)?;
    }
    Ok((head, whole, bytes))
}

async fn measure(
    http: SocketAddr,
    grpc: SocketAddr,
    last: u64,
    store: &ReadStore,
    args: &Args,
) -> anyhow::Result<()> {
    let base = format!("http://{http}");
    // The HTTP client is built with TLS support though it speaks plain HTTP here; it wants a
    // crypto provider all the same.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build()?;
    // Caught up: the API waits for the last position (each call up to its own bound).
    let started = Instant::now();
    loop {
        let response = client
            .get(format!(
                "{base}/api/v1/aging?minPosition={last}&groupBy=group"
            ))
            .send()
            .await?;
        if response.status().is_success() {
            break;
        }
        if started.elapsed() > CATCH_UP_TIMEOUT {
            bail!("the projector did not catch up within {CATCH_UP_TIMEOUT:?}");
        }
        // Not yet (504 after the service's own wait): ask again in a while, not at once.
        tokio::time::sleep(CATCH_UP_POLL).await;
    }
    println!("caught up in {:.1} s", started.elapsed().as_secs_f64());
    // And today's summaries worked out for the business date (the catch-up's last step), as a
    // service that has been running has them.
    let generation = store.live().await?;
    let pool = store.pool(generation, 1).await?;
    while !summaries::covers(&pool, history::report_as_of()?).await? {
        if started.elapsed() > CATCH_UP_TIMEOUT {
            bail!("today's summaries were not worked out within {CATCH_UP_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    pool.close().await;
    println!(
        "summaries ready after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The first view works out the twelve past month-ends; the next ones, within a minute,
    // find them kept.
    let as_of = history::report_as_of()?;
    let overview = format!("/?as_of={as_of}");
    let (head, whole, bytes) = time_page(&client, &base, &overview, 1).await?;
    head.print(&format!("overview, first view, first byte ({bytes} bytes)"));
    whole.print("overview, first view, whole page");
    let (head, whole, _) = time_page(&client, &base, &overview, args.requests).await?;
    head.print("overview, month-ends kept, first byte");
    whole.print("overview, month-ends kept, whole page");
    let (head, whole, bytes) = time_page(
        &client,
        &base,
        &format!("/work-queue?as_of={as_of}"),
        args.requests,
    )
    .await?;
    head.print(&format!(
        "work queue page of {WORK_QUEUE_PAGE}, first byte ({bytes} bytes)"
    ));
    whole.print("work queue page, whole page");
    let (_, whole, bytes) = time_page(
        &client,
        &base,
        &format!("/api/v1/work-queue?pageSize={WORK_QUEUE_PAGE}&asOf={as_of}"),
        args.requests,
    )
    .await?;
    whole.print(&format!("work queue as JSON, whole ({bytes} bytes)"));

    let channel = tonic::transport::Channel::from_shared(format!("http://{grpc}"))?
        .connect()
        .await?;
    let mut queries = QueryServiceClient::new(channel);
    let mut queue = Timings::new()?;
    let mut aging = Timings::new()?;
    for _ in 0..args.requests {
        queue
            .time(async {
                Ok(queries
                    .get_work_queue(pb::GetWorkQueueRequest {
                        as_of: as_of.to_string(),
                        page_size: WORK_QUEUE_PAGE,
                        ..Default::default()
                    })
                    .await?)
            })
            .await?;
        aging
            .time(async {
                Ok(queries
                    .get_aging_report(pb::GetAgingReportRequest {
                        scope: Some(pb::AgingScope {
                            as_of: as_of.to_string(),
                            ..Default::default()
                        }),
                        group_by: pb::AgingGroupBy::Group as i32,
                        min_position: 0,
                    })
                    .await?)
            })
            .await?;
    }
    queue.print("baseline: gRPC GetWorkQueue, page of 50");
    aging.print("baseline: gRPC GetAgingReport, the group as of the business date");
    Ok(())
}

/// Serves all-in-one with the dashboard and measures; stops it after. `store` is the read
/// model's, opened beside the service to see when its summaries are ready.
async fn serve_and_measure(
    mut serve: ServeArgs,
    store: &ReadStore,
    last: u64,
    args: &Args,
) -> anyhow::Result<()> {
    serve.alerts.business_date = Some(history::report_as_of()?);
    serve.web.http_listen = Some("127.0.0.1:0".parse()?);
    let serving = Serving::build(&serve).await?;
    let grpc = serving.local_addr()?;
    let http = serving.http_addr().context("the dashboard's address")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(serving.run_until(async move {
        let _ = stopped.await;
    }));
    let measured = measure(http, grpc, last, store, args).await;
    let _ = stop.send(());
    running.await??;
    measured
}

fn shape(args: &Args) -> anyhow::Result<Shape> {
    Shape::of_mix(args.events, args.customers, HistoryMix::Ledger)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    shape(&args)?;
    let run = format!("D{}", Utc::now().format("%Y%m%d%H%M%S"));
    println!(
        "dashboard-bench: backend {}, {} events over {} customers, {} requests each, run {run}",
        value_name(&args.backend),
        args.events,
        args.customers,
        args.requests
    );
    let served = ServedHistory::write(
        args.backend,
        &args.nats,
        &args.postgres,
        shape(&args)?,
        args.events,
        &run,
        args.keep,
    )
    .await?;
    let measured = serve_and_measure(served.serve.clone(), &served.store, served.last, &args).await;
    served.finish(args.keep).await?;
    measured
}
