//! Projection benchmark.
//!
//! Writes a synthetic but valid history straight into a fresh event log (not measured), then in
//! one run measures:
//! 1. the baseline: a raw read of the whole log;
//! 2. the projector catching up from position 0 into a fresh read model, and its ratio to the
//!    raw read, with the most resident memory the process held meanwhile above what it held
//!    before;
//! 3. the group-wide aging report over the resulting open items, p50/p99;
//! 4. the first page of the collector work queue, p50/p99, both from today's summaries, then
//!    worked out exactly (the summaries moved to another date: the same run's baseline), with
//!    the moves of the summaries timed;
//! 5. the statement of account of the first customer over the whole history, p50/p99 (with
//!    `--customers` small, a customer has thousands of movements).
//!
//! On `--backend jetstream-postgres` (the default) the log is a JetStream stream, read raw by an
//! ordered consumer (undecoded messages), and the read model a fresh PostgreSQL database. On
//! `--backend embedded` both are SQLite files in a temporary directory: the log is a
//! `SqliteLog`, read raw through `SqliteLog::follow` (which decodes every event), and the read
//! model the embedded one of `ReadStore::sqlite`.
//!
//! The history is the one of [`receivables_loadgen::history`]: per customer, four invoices of
//! 1000.00 and one payment of 400.00 allocated to the last of them, over and over, so 80 % of
//! the events are invoices and every invoice stays open.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use chrono::{Datelike as _, Utc};
use clap::{Parser, ValueEnum};
use receivables::nats::connect as connect_nats;
use receivables_domain::Position;
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::JetStreamLog;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_loadgen::history::{
    self, HistoryMix, JetStreamHistory, Shape, Totals, check_written, delete_streams, write_history,
};
use receivables_loadgen::memory::PeakSampler;
use receivables_loadgen::raw_read::{follow_raw_read, jetstream_raw_read};
use receivables_loadgen::scratch::{Scratch, ScratchDatabase};
use receivables_loadgen::timings::Timings;
use receivables_loadgen::value_name;
use receivables_loadgen::{NatsArgs, PostgresArgs};
use receivables_projections::aging::{self, AgingRequest, GroupBy};
use receivables_projections::alerts;
use receivables_projections::forecast::{self, FORECAST_WEEKS_DEFAULT, ForecastQuery};
use receivables_projections::metrics::{self, MetricsQuery};
use receivables_projections::paging::Paged;
use receivables_projections::promises::PROMISE_GRACE_DAYS_DEFAULT;
use receivables_projections::runtime::Projector;
use receivables_projections::statement::{self, StatementRequest};
use receivables_projections::summaries::{self, BusinessClock};
use receivables_projections::upcoming::{self, UpcomingQuery};
use receivables_projections::work_queue::{self, WorkQueueQuery};
use receivables_projections::{ReadPool, ReadStore};
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, Parser)]
#[command(about = "Measure projection catch-up and aging queries against a raw read of the log")]
struct Args {
    /// Which backends to run on: JetStream and PostgreSQL (the servers below), or the embedded
    /// SQLite event log and read model in a temporary directory.
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
    /// Aging reports (and work-queue pages) timed.
    #[arg(long, default_value_t = 20)]
    reports: usize,
    /// Which events the history holds: invoices and payments, or the whole life cycle.
    #[arg(long, value_enum, default_value_t = HistoryMix::Ledger)]
    mix: HistoryMix,
    /// Keep the stream and the database (embedded: the temporary directory) afterwards.
    #[arg(long)]
    keep: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Backend {
    /// NATS JetStream for the log, PostgreSQL for the read model (production).
    JetstreamPostgres,
    /// The embedded SQLite event log and read model.
    Embedded,
}

/// Items on the work-queue page that is timed.
const WORK_QUEUE_PAGE: u32 = 50;

/// Connections of the read-model pool the projector and the queries use.
const READ_CONNECTIONS: u32 = 4;

/// How long the projector may take to catch up.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(3_600);

/// The embedded log's file and the read model's directory inside the temporary directory.
const EMBEDDED_LOG_FILE: &str = "events.sqlite";
const EMBEDDED_READ_DIR: &str = "read";

// ---------------------------------------------------------------------------------------------
// What both backends measure the same way: catch-up and queries
// ---------------------------------------------------------------------------------------------

/// The projector catching up from its checkpoint (0) to `last`; prints and returns events/s.
async fn catch_up<L: EventLog>(
    log: Arc<L>,
    read: &ReadPool,
    last: Position,
    events: usize,
) -> anyhow::Result<f64> {
    // Today's summaries are kept for the reports' date, as a service would keep them for its
    // business date; the catch-up includes working them out once it has caught up.
    let projector = Arc::new(
        Projector::new(log, read.clone())
            .await?
            .with_clock(BusinessClock::new(Some(history::report_as_of()?))),
    );
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
    if !projector.wait_for(last, CATCH_UP_TIMEOUT).await {
        bail!("the projector did not catch up within {CATCH_UP_TIMEOUT:?}");
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    running.await??;
    let rate = events as f64 / elapsed.as_secs_f64();
    println!(
        "projector catch-up               {rate:>9.0} events/s   ({events} events in {:.1} s)",
        elapsed.as_secs_f64()
    );
    Ok(rate)
}

/// Times the group aging report and the first page of the work queue, `args.reports` times each.
async fn time_queries(read: &ReadPool, args: &Args) -> anyhow::Result<()> {
    let count = "SELECT count(*) FROM invoices";
    let (open_items,): (i64,) = match read {
        ReadPool::Postgres(pool) => sqlx::query_as(count).fetch_one(pool).await?,
        ReadPool::Sqlite(pool) => sqlx::query_as(count).fetch_one(pool).await?,
    };
    let mut request = AgingRequest::new(history::report_as_of()?);
    request.group_by = GroupBy::Group;
    if !summaries::covers(read, request.as_of).await? {
        bail!("today's summaries do not cover the reports' date after the catch-up");
    }
    println!("the aging and the work queue below read today's summaries");
    let lines = if args.mix == HistoryMix::Terms { 2 } else { 1 };
    let mut latency = Timings::new()?;
    for _ in 0..args.reports {
        let report = latency
            .time(async { Ok(aging::report(read, &request).await?) })
            .await?;
        if report.len() != lines {
            bail!("expected {lines} group lines, got {}", report.len());
        }
    }
    // The group line against the figures worked out from the generator.
    let expected = Totals::expected(shape(args)?);
    let report = aging::report(read, &request).await?;
    let line = report
        .iter()
        .find(|line| line.currency.code() == history::CURRENCY)
        .context("no group line")?;
    let minor = |money: receivables_domain::Money| money.minor_units();
    if let Some(second) = report
        .iter()
        .find(|line| line.currency.code() == history::SECOND_CURRENCY)
        && minor(second.open_total) != expected.second_open_minor
    {
        bail!(
            "the {} group line is open {}, not the {} minor units worked out",
            history::SECOND_CURRENCY,
            second.open_total,
            expected.second_open_minor
        );
    }
    if minor(line.open_total) != expected.open_minor
        || minor(line.disputed) != expected.disputed_minor
    {
        bail!(
            "the group line is open {} disputed {}, not the {} and {} minor units worked out",
            line.open_total,
            line.disputed,
            expected.open_minor,
            expected.disputed_minor
        );
    }
    println!(
        "group line as worked out: {} open, {} disputed",
        line.open_total, line.disputed
    );
    latency.print(&format!("group aging report over {open_items} open items"));
    if args.mix == HistoryMix::Terms {
        // The same report by payment terms: every row of a schedule in its own bucket.
        request.basis = aging::Basis::PaymentTerms;
        let mut by_terms = Timings::new()?;
        for _ in 0..args.reports {
            let report = by_terms
                .time(async { Ok(aging::report(read, &request).await?) })
                .await?;
            let terms_line = report
                .iter()
                .find(|l| l.currency.code() == history::CURRENCY)
                .context("no group line by terms")?;
            if terms_line.open_total != line.open_total {
                bail!(
                    "by payment terms the group owes {}, by due date {}",
                    terms_line.open_total,
                    line.open_total
                );
            }
        }
        request.basis = aging::Basis::DueDate;
        by_terms.print("group aging report by payment terms");
    }
    // A page of the collector work queue (every customer is overdue here).
    let mut queue_latency = Timings::new()?;
    let queue = WorkQueueQuery::new(request.as_of)
        .with_page_size(WORK_QUEUE_PAGE)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for _ in 0..args.reports {
        let page = queue_latency
            .time(async { Ok(work_queue::work_queue(read, &queue).await?) })
            .await?;
        // Every customer is overdue in each of its currencies: a full page, or an item per
        // customer and currency when there are fewer.
        let items = args.customers * lines;
        if page.items.len() != items.min(WORK_QUEUE_PAGE as usize) {
            bail!(
                "expected a full page of the work queue, got {}",
                page.items.len()
            );
        }
    }
    queue_latency.print(&format!(
        "work-queue first page of {WORK_QUEUE_PAGE} over {} customers",
        args.customers
    ));
    time_exact(read, args, &request, &queue, &latency, &queue_latency).await?;
    time_statement(read, args).await?;
    time_upcoming(read, args).await?;
    time_metrics(read, args).await?;
    time_forecast(read, args).await?;
    time_alert_pass(read, args).await
}

/// The baseline of the same run: the group aging and the work queue of the reports' date
/// worked out exactly, the summaries having been moved to the next day (that move timed: what
/// the projector does at midnight), then the aging of the month-end before, and the summaries
/// moved back for the measurements that follow; last, the summaries worked out whole (timed:
/// what the catch-up's last batch did).
async fn time_exact(
    read: &ReadPool,
    args: &Args,
    request: &AgingRequest,
    queue: &WorkQueueQuery,
    summarised_aging: &Timings,
    summarised_queue: &Timings,
) -> anyhow::Result<()> {
    let next_day = request
        .as_of
        .checked_add_days(chrono::Days::new(1))
        .context("date")?;
    let moved = Instant::now();
    let maintained = summaries::roll_forward(read, next_day).await?;
    println!(
        "today's summaries moved to the next day ({maintained:?}): {:.1} ms",
        moved.elapsed().as_secs_f64() * 1000.0
    );
    if summaries::covers(read, request.as_of).await? {
        bail!("the summaries still cover the reports' date");
    }
    let mut aging_exact = Timings::new()?;
    let mut queue_exact = Timings::new()?;
    for _ in 0..args.reports {
        let report = aging_exact
            .time(async { Ok(aging::report(read, request).await?) })
            .await?;
        if report.is_empty() {
            bail!("the exact aging is empty");
        }
        queue_exact
            .time(async { Ok(work_queue::work_queue(read, queue).await?) })
            .await?;
    }
    aging_exact.print("group aging report, exact (baseline)");
    queue_exact.print("work-queue first page, exact (baseline)");
    println!(
        "ratio summaries/exact p50: aging {:.3}, work queue {:.3}",
        summarised_aging.p50_ms() / aging_exact.p50_ms(),
        summarised_queue.p50_ms() / queue_exact.p50_ms()
    );
    let mut month_end = request.clone();
    month_end.as_of = month_end
        .as_of
        .with_day(1)
        .and_then(|first| first.pred_opt())
        .context("date")?;
    let mut month_end_latency = Timings::new()?;
    for _ in 0..args.reports {
        month_end_latency
            .time(async { Ok(aging::report(read, &month_end).await?) })
            .await?;
    }
    month_end_latency.print(&format!(
        "group aging report as of {}, exact",
        month_end.as_of
    ));
    let moved = Instant::now();
    let maintained = summaries::roll_forward(read, request.as_of).await?;
    println!(
        "today's summaries moved back to the reports' date ({maintained:?}): {:.1} ms",
        moved.elapsed().as_secs_f64() * 1000.0
    );
    // What the end of the catch-up above included: the summaries worked out whole.
    const FORGET: &str = "DELETE FROM summary_state";
    match read {
        ReadPool::Postgres(pool) => {
            sqlx::query(FORGET).execute(pool).await?;
        }
        ReadPool::Sqlite(pool) => {
            sqlx::query(FORGET).execute(pool).await?;
        }
    }
    let whole = Instant::now();
    let maintained = summaries::roll_forward(read, request.as_of).await?;
    println!(
        "today's summaries worked out whole ({maintained:?}), as at the end of the catch-up: \
         {:.1} ms",
        whole.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Times a pass of the alerts over the whole book as of the reports' date (every kind but the
/// portfolio metrics, which the history sets no threshold for), `args.reports` times; found, not
/// recorded. Its store's tables go into the benchmark's own read model.
async fn time_alert_pass(read: &ReadPool, args: &Args) -> anyhow::Result<()> {
    let store = alerts::AlertStore::open(read.clone()).await?;
    let as_of = history::report_as_of()?;
    let whole_book = alerts::PassScope::Book { portfolio: false };
    let mut latency = Timings::new()?;
    let mut found = 0;
    for _ in 0..args.reports {
        let pass = latency
            .time(async { Ok(alerts::evaluate(read, &store, as_of, whole_book).await?) })
            .await?;
        found = pass.found().count();
    }
    latency.print(&format!(
        "alert pass of the whole book over {} customers ({found} alerts true)",
        args.customers
    ));
    Ok(())
}

/// Times the group's metrics of the month ending on the reports' date, `args.reports` times.
async fn time_metrics(read: &ReadPool, args: &Args) -> anyhow::Result<()> {
    let to = history::report_as_of()?;
    let from = to.with_day(1).context("date")?;
    let query = MetricsQuery::new(from, to, PROMISE_GRACE_DAYS_DEFAULT)?;
    let mut latency = Timings::new()?;
    for _ in 0..args.reports {
        let report = latency
            .time(async { Ok(metrics::metrics(read, &query).await?) })
            .await?;
        if report.currencies.is_empty() {
            bail!("no metrics for the group");
        }
    }
    latency.print("group metrics of a month");
    Ok(())
}

/// Times the group's 13-week collections forecast from the reports' date, `args.reports`
/// times.
async fn time_forecast(read: &ReadPool, args: &Args) -> anyhow::Result<()> {
    let query = ForecastQuery::new(
        history::report_as_of()?,
        FORECAST_WEEKS_DEFAULT,
        PROMISE_GRACE_DAYS_DEFAULT,
    )?;
    let mut latency = Timings::new()?;
    for _ in 0..args.reports {
        let found = latency
            .time(async { Ok(forecast::forecast(read, &query).await?) })
            .await?;
        if found.lines.is_empty() {
            bail!("nothing forecast for the group");
        }
    }
    latency.print(&format!(
        "group collections forecast of 13 weeks over {} customers",
        args.customers
    ));
    Ok(())
}

/// Items on the page of the reminders list the benchmark times.
const UPCOMING_PAGE: u32 = 100;

/// Times the first page of what falls due in the 30 days from 2025-01-20, `args.reports`
/// times: the reminders list of the whole group. Every history starts on 2025-01-01 with an
/// invoice per customer due in 30 days, so the window holds the first invoices still open then.
async fn time_upcoming(read: &ReadPool, args: &Args) -> anyhow::Result<()> {
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 1, 20).context("date")?;
    let query = UpcomingQuery::new(as_of, 30)?
        .with_page_size(UPCOMING_PAGE)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut latency = Timings::new()?;
    let mut items = 0;
    for _ in 0..args.reports {
        let page = latency
            .time(async { Ok(upcoming::list_upcoming(read, &query).await?) })
            .await?;
        items = page.items.len();
    }
    latency.print(&format!(
        "reminders, first page of {UPCOMING_PAGE} due within 30 days ({items} items)"
    ));
    Ok(())
}

/// Times the statement of the first customer over the whole history, `args.reports` times (the
/// statement itself checks its closing balance against the customer's aging).
async fn time_statement(read: &ReadPool, args: &Args) -> anyhow::Result<()> {
    let customer = receivables_domain::CustomerId::parse("CUST-000000")?;
    let first = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).context("date")?;
    let request = StatementRequest::new(customer, first, history::report_as_of()?)?;
    let mut latency = Timings::new()?;
    let mut movements = 0;
    for _ in 0..args.reports {
        let made = latency
            .time(async {
                statement::statement(read, &request)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .await?;
        let part = made
            .currencies
            .first()
            .context("no currency in the statement")?;
        movements = part.movements.len();
    }
    latency.print(&format!("statement of one customer, {movements} movements"));
    Ok(())
}

/// After the raw read: catch-up, its ratio to the raw read, and the queries.
async fn project_and_query<L: EventLog>(
    log: Arc<L>,
    read: &ReadPool,
    last: Position,
    raw: f64,
    args: &Args,
) -> anyhow::Result<()> {
    let sampler = PeakSampler::start()?;
    let catch_up = catch_up(log, read, last, args.events).await?;
    println!("  {}", sampler.stop()?.describe());
    println!("ratio catch-up/raw read: {:.2}", catch_up / raw);
    time_queries(read, args).await
}

// ---------------------------------------------------------------------------------------------
// The two backends
// ---------------------------------------------------------------------------------------------

fn shape(args: &Args) -> anyhow::Result<Shape> {
    Shape::of_mix(args.events, args.customers, args.mix)
}

/// A fresh stream on the NATS server and a fresh database on the PostgreSQL server.
async fn on_jetstream_postgres(args: &Args, run: &str) -> anyhow::Result<()> {
    let client = connect_nats(&args.nats.nats_url, "receivables-projection-bench").await?;
    let context = jetstream::new(client.clone());
    let config = history::stream_config(run);
    let log = Arc::new(JetStreamLog::open(client, config.clone()).await?);
    let history = JetStreamHistory {
        context: context.clone(),
        subject_prefix: config.subject_prefix.clone(),
    };
    write_history(&history, shape(args)?).await?;
    let last = check_written(log.as_ref(), args.events).await?;

    let raw = jetstream_raw_read(&context, &config.stream, args.events).await?;

    let database =
        ScratchDatabase::create(&args.postgres.database_url, "receivables_bench", run).await?;
    let pool = PgPoolOptions::new()
        .max_connections(READ_CONNECTIONS)
        .connect_with(database.options.clone())
        .await?;
    receivables_projections::MIGRATOR.run(&pool).await?;
    let read: ReadPool = pool.into();
    let measured = project_and_query(log, &read, last, raw, args).await;
    read.close().await;
    if args.keep {
        println!(
            "kept: stream {}, database {}",
            config.stream,
            database.url()
        );
    } else {
        database.remove().await?;
        delete_streams(&context, &config).await;
    }
    measured
}

/// A fresh SQLite log and read model in a temporary directory.
async fn on_embedded(args: &Args, run: &str) -> anyhow::Result<()> {
    let scratch = Scratch::create(run, args.keep)?;
    println!("  embedded backends in {}", scratch.path().display());
    let log = Arc::new(SqliteLog::open(&scratch.join(EMBEDDED_LOG_FILE)).await?);
    let measured = async {
        write_history(log.as_ref(), shape(args)?).await?;
        let last = check_written(log.as_ref(), args.events).await?;
        let raw = follow_raw_read(&log, args.events).await?;
        let store = ReadStore::sqlite(scratch.join(EMBEDDED_READ_DIR))?;
        let generation = store.live().await?;
        let read = store.pool(generation, READ_CONNECTIONS).await?;
        let measured = project_and_query(Arc::clone(&log), &read, last, raw, args).await;
        read.close().await;
        store.close().await;
        measured
    }
    .await;
    log.close().await?;
    measured
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    shape(&args)?;
    // `RUST_LOG=receivables_projections::runtime=debug` prints where each batch's time went.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let run = format!("P{}", Utc::now().format("%Y%m%d%H%M%S"));
    println!(
        "projection-bench: backend {}, {} events over {} customers, mix {}, run {run}",
        value_name(&args.backend),
        args.events,
        args.customers,
        value_name(&args.mix)
    );
    match args.backend {
        Backend::JetstreamPostgres => on_jetstream_postgres(&args, &run).await,
        Backend::Embedded => on_embedded(&args, &run).await,
    }
}
