//! Audit benchmark.
//!
//! Writes the synthetic, hash-chained history of [`receivables_loadgen::history`] straight into
//! a fresh event log (not measured), starts the `AuditService` in this process on a free port,
//! and in one run measures:
//! 1. the baseline: a raw read of the whole log (as in `projection-bench`);
//! 2. `VerifyLog` of the whole log over gRPC, progress stream included, and its ratio to the raw
//!    read (issue 15's goal: at least 0.8);
//! 3. the same walk in-process (a `ChainVerifier` over the log's events as stored, the hashes
//!    worked out on the other cores as the service works them out, no gRPC), which separates
//!    the cost of the transport from the cost of the verification;
//! 4. `ReplayEvents` of the whole log over gRPC, every event sent to the client with its
//!    canonical JSON (issue 15's goal: at least 0.7 of the raw read);
//! 5. reports as known without a replay: a read model (PostgreSQL on `--backend jetstream`,
//!    SQLite beside the log on `--backend embedded`) catches up with the log (timed, not a
//!    goal), then, by turns over [`REPORT_ROUNDS`] rounds, the group's aging as of the
//!    history's date from `QueryService.GetAgingReport` (the baseline: the live report, worked
//!    out exactly, its business date not being today's summaries'), and from
//!    `AuditService.GetAgingReportAsKnown` known at now and known at the moment the middle
//!    event was recorded. Medians, and their ratios to the live report (the goal: at
//!    most 2).
//!
//! Steps 2, 4 and 5 also print the most resident memory the process held while they ran, above
//! what it held before (the client's and the service's together, and on `--backend embedded`
//! the read model's SQLite pages: they share the process).
//!
//! Each result is checked, so that a fast wrong answer fails the run instead of giving a figure:
//! the verification must have checked every event and found no broken link, the replay must
//! have sent every event in order, and the live aging and the aging known at now must show the
//! open amount the history implies ([`Totals::expected`]), the one known at the middle a
//! smaller one, at the middle position.
//!
//! On `--backend jetstream` (the default) the log is a fresh JetStream stream on the NATS
//! server; on `--backend embedded` a `SqliteLog` in a temporary directory. The service reads the
//! log through the same `EventLog` as in production, so the figures include decoding each event.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use chrono::Utc;
use clap::{Parser, ValueEnum};
use futures::StreamExt;
use receivables::audit_service::AuditGrpc;
use receivables::nats::connect as connect_nats;
use receivables::queries::QueryGrpc;
use receivables::read_models::ReadModels;
use receivables::replay::with_hashes;
use receivables_api::pb;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_api::pb::audit_service_server::AuditServiceServer;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_api::pb::query_service_server::QueryServiceServer;
use receivables_domain::chain::ChainVerifier;
use receivables_domain::{Currency, Money, Position};
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::JetStreamLog;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_loadgen::history::{
    self, CURRENCY, JetStreamHistory, Shape, Totals, check_written, delete_streams, write_history,
};
use receivables_loadgen::in_process::InProcessServer;
use receivables_loadgen::memory::PeakSampler;
use receivables_loadgen::raw_read::{
    follow_raw_read, follow_read, follow_stored_read, jetstream_raw_read, print_rate,
};
use receivables_loadgen::scratch::{Scratch, ScratchDatabase};
use receivables_loadgen::value_name;
use receivables_loadgen::{NatsArgs, PostgresArgs};
use receivables_projections::ReadStore;
use receivables_projections::summaries::BusinessClock;
use tonic::service::Routes;
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(
    about = "Measure hash-chain verification and replay against a raw read of the log, and reports as known against the live report"
)]
struct Args {
    /// Which event log to run on: a JetStream stream on the NATS server below, or the embedded
    /// SQLite log in a temporary directory.
    #[arg(long, value_enum, default_value_t = Backend::Jetstream)]
    backend: Backend,
    #[command(flatten)]
    nats: NatsArgs,
    /// The read model of `--backend jetstream` (a database of the run's own).
    #[command(flatten)]
    postgres: PostgresArgs,
    /// Events written to the log.
    #[arg(long, default_value_t = 1_250_000)]
    events: usize,
    /// Customers the events are spread over.
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    /// Keep the stream (embedded: the temporary directory) afterwards.
    #[arg(long)]
    keep: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Backend {
    /// A NATS JetStream stream (production).
    Jetstream,
    /// The embedded SQLite event log.
    Embedded,
}

/// How long one measured call may take, whole log included.
const CALL_TIMEOUT: Duration = Duration::from_secs(3_600);

/// The ratio of verification to raw read issue 15 asks for (the audit issue asked 0.7).
const VERIFY_RATIO_GOAL: f64 = 0.8;

/// The ratio of replay to raw read issue 15 asks for.
const REPLAY_RATIO_GOAL: f64 = 0.7;

/// The embedded log's file inside the temporary directory.
const EMBEDDED_LOG_FILE: &str = "events.sqlite";

/// Connections of the read model's pool.
const READ_CONNECTIONS: u32 = 8;

/// Rounds of the reports as known and their baseline, taken by turns.
const REPORT_ROUNDS: usize = 5;

/// The report as known may take at most this many times the live report (issue goal).
const AS_KNOWN_RATIO_GOAL: f64 = 2.0;

// ---------------------------------------------------------------------------------------------
// The audit service, in this process
// ---------------------------------------------------------------------------------------------

/// A read model of the log, caught up (the time it took printed, not measured against
/// anything): what the reports as known read.
async fn caught_up<L: EventLog>(
    log: &Arc<L>,
    store: ReadStore,
    events: usize,
) -> anyhow::Result<Arc<ReadModels<L>>> {
    let started = Instant::now();
    let read_models = Arc::new(
        ReadModels::open(
            Arc::clone(log),
            store,
            READ_CONNECTIONS,
            BusinessClock::default(),
        )
        .await?,
    );
    let side = Arc::clone(&read_models.live().borrow());
    if !side
        .projector
        .wait_for(Position::new(events as u64), CALL_TIMEOUT)
        .await
    {
        bail!("the read model did not catch up within {CALL_TIMEOUT:?}");
    }
    println!(
        "read model caught up in {:.1} s (before the measurements, which run with it idle)",
        started.elapsed().as_secs_f64()
    );
    Ok(read_models)
}

/// `AuditService` and, for the baseline of the reports as known, `QueryService`.
async fn start_services<L: EventLog>(
    log: Arc<L>,
    read_models: &Arc<ReadModels<L>>,
) -> anyhow::Result<InProcessServer> {
    let routes = Routes::new(AuditServiceServer::new(AuditGrpc::new(
        log,
        Arc::clone(read_models),
    )))
    .add_service(QueryServiceServer::new(QueryGrpc::new(read_models.live())));
    InProcessServer::start(routes).await
}

/// A client of the audit service.
async fn audit_client(server: &InProcessServer) -> anyhow::Result<AuditServiceClient<Channel>> {
    Ok(AuditServiceClient::new(server.channel().await?))
}

/// Runs a measured call, bounded by [`CALL_TIMEOUT`].
async fn bounded<T>(
    what: &str,
    call: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .with_context(|| format!("{what} took over {CALL_TIMEOUT:?}"))?
}

fn print_ratio(label: &str, rate: f64, raw: f64) {
    println!("ratio {label}/raw read: {:.2}", rate / raw);
}

// ---------------------------------------------------------------------------------------------
// The measurements
// ---------------------------------------------------------------------------------------------

/// `VerifyLog` of the whole log over gRPC; checks that every event was checked and every link
/// holds. Returns events/s.
async fn verify_over_grpc(
    client: &mut AuditServiceClient<Channel>,
    events: usize,
) -> anyhow::Result<f64> {
    use pb::verify_log_response::Item;
    let started = Instant::now();
    let mut stream = client
        .verify_log(pb::VerifyLogRequest::default())
        .await?
        .into_inner();
    let mut progress_messages = 0;
    let mut result = None;
    while let Some(message) = stream.next().await {
        match message?.item {
            Some(Item::Progress(_)) => progress_messages += 1,
            Some(Item::Result(last)) => result = Some(last),
            None => bail!("VerifyLog sent an empty message"),
        }
    }
    let elapsed = started.elapsed();
    let result = result.context("VerifyLog ended without a result")?;
    if let Some(broken) = &result.first_broken {
        bail!(
            "VerifyLog found a broken link in a history written whole: {} at position {}: expected {}, found {}",
            broken.kind().as_str_name(),
            broken.position,
            broken.expected,
            broken.found
        );
    }
    if result.events_checked != events as u64 || result.last_position != events as u64 {
        bail!(
            "VerifyLog checked {} events up to position {}, expected {events}",
            result.events_checked,
            result.last_position
        );
    }
    let rate = print_rate("VerifyLog over gRPC", events, None, elapsed);
    println!("  every link holds; {progress_messages} progress messages");
    Ok(rate)
}

/// The same walk in-process: a `ChainVerifier` over the log's events as stored, the hashes
/// worked out as the service works them out ([`with_hashes`]). Returns events/s.
async fn verify_in_process<L: EventLog>(log: &L, events: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut verifier = ChainVerifier::whole_log();
    let mut feed = with_hashes(
        log.follow_stored(Position::ZERO)
            .await?
            .take(events)
            .boxed(),
    );
    while let Some(event) = feed.next().await {
        let (position, read) = event?;
        verifier
            .check_stored(position, read.as_ref())
            .map_err(|link| anyhow::anyhow!("broken link in-process: {link}"))?;
    }
    let elapsed = started.elapsed();
    if verifier.checked() != events as u64 {
        bail!(
            "the in-process walk checked {} events, expected {events}",
            verifier.checked()
        );
    }
    Ok(print_rate(
        "ChainVerifier in-process",
        events,
        None,
        elapsed,
    ))
}

/// `ReplayEvents` of the whole log over gRPC; checks that every event came, in log order.
/// Returns events/s.
async fn replay_over_grpc(
    client: &mut AuditServiceClient<Channel>,
    events: usize,
) -> anyhow::Result<f64> {
    use pb::replay_events_response::Item;
    let started = Instant::now();
    let mut stream = client
        .replay_events(pb::ReplayEventsRequest::default())
        .await?
        .into_inner();
    let mut received: u64 = 0;
    let mut json_bytes = 0;
    let mut done = None;
    while let Some(message) = stream.next().await {
        match message?.item {
            Some(Item::Event(event)) => {
                received += 1;
                if event.position != received {
                    bail!(
                        "ReplayEvents sent position {} as event {received}",
                        event.position
                    );
                }
                json_bytes += event.envelope_json.len();
            }
            Some(Item::Progress(progress)) if progress.done => done = Some(progress),
            Some(Item::Progress(_)) => {}
            None => bail!("ReplayEvents sent an empty message"),
        }
    }
    let elapsed = started.elapsed();
    let done = done.context("ReplayEvents ended without its last progress message")?;
    if received != events as u64 || done.events_sent != received {
        bail!(
            "ReplayEvents sent {received} events (its last progress says {}), expected {events}",
            done.events_sent
        );
    }
    Ok(print_rate(
        "ReplayEvents over gRPC",
        events,
        Some(json_bytes),
        elapsed,
    ))
}

/// The group's aging as of the history's date: the request of the live report and of the
/// reports as known.
fn group_aging() -> anyhow::Result<pb::GetAgingReportRequest> {
    Ok(pb::GetAgingReportRequest {
        scope: Some(pb::AgingScope {
            as_of: history::report_as_of()?.format("%Y-%m-%d").to_string(),
            ..Default::default()
        }),
        group_by: pb::AgingGroupBy::Group.into(),
        min_position: 0,
    })
}

/// The group line's open amount in minor units, checked to be in the history's currency, its
/// buckets summing to it and nothing unapplied.
fn group_open(report: &pb::GetAgingReportResponse) -> anyhow::Result<i128> {
    let [line] = report.lines.as_slice() else {
        bail!("expected one group line, got {}", report.lines.len());
    };
    let currency = Currency::parse(CURRENCY)?;
    let minor = |money: Option<&pb::Money>| -> anyhow::Result<i128> {
        let money = money.context("an amount is missing from the group line")?;
        if money.currency != CURRENCY {
            bail!("an amount in {} instead of {CURRENCY}", money.currency);
        }
        Ok(Money::non_negative(&money.amount, currency)?.minor_units())
    };
    let open = minor(line.open_total.as_ref())?;
    let unapplied = minor(line.unapplied.as_ref())?;
    let buckets = line
        .buckets
        .iter()
        .map(|bucket| minor(bucket.amount.as_ref()))
        .sum::<anyhow::Result<i128>>()?;
    if line.currency != CURRENCY || buckets != open || unapplied != 0 {
        bail!(
            "the group line is wrong: {} open {open}, buckets {buckets}, unapplied {unapplied} \
             (minor units)",
            line.currency
        );
    }
    Ok(open)
}

/// The group line shows what the whole history implies.
fn check_whole(report: &pb::GetAgingReportResponse, shape: Shape) -> anyhow::Result<()> {
    let expected = Totals::expected(shape);
    let open = group_open(report)?;
    if open != expected.open_minor {
        bail!(
            "the group is open {open} (minor units); the history implies {CURRENCY} {} ({} \
             invoices of 1000.00, {} payments of 400.00)",
            expected.open_minor,
            expected.invoices,
            expected.payments
        );
    }
    Ok(())
}

/// When the event at `position` was recorded.
async fn recorded_at<L: EventLog>(log: &L, position: u64) -> anyhow::Result<SystemTime> {
    let before = Position::new(position.saturating_sub(1));
    let event = log
        .follow(before)
        .await?
        .next()
        .await
        .context("the log ended before the middle event")??;
    if event.position.get() != position {
        bail!("read position {} instead of {position}", event.position);
    }
    Ok(event.envelope.recorded_at.into())
}

/// One call timed.
async fn timed<T>(
    samples: &mut Vec<Duration>,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> anyhow::Result<T> {
    let started = Instant::now();
    let reply = call.await?.into_inner();
    samples.push(started.elapsed());
    Ok(reply)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Step 5: the live aging and the aging as known, by turns.
async fn reports_as_known<L: EventLog>(
    log: &L,
    server: &InProcessServer,
    shape: Shape,
) -> anyhow::Result<()> {
    let events = shape.events as u64;
    let channel = server.channel().await?;
    let mut queries = QueryServiceClient::new(channel.clone());
    let mut audit = AuditServiceClient::new(channel);
    let middle = events / 2;
    let middle_moment = recorded_at(log, middle).await?;
    let mut then_position = 0;
    let (mut live, mut now, mut then) = (Vec::new(), Vec::new(), Vec::new());
    let sampler = PeakSampler::start()?;
    for _ in 0..REPORT_ROUNDS {
        let report = timed(&mut live, queries.get_aging_report(group_aging()?)).await?;
        check_whole(&report, shape)?;
        let known = |known_at: SystemTime| -> anyhow::Result<_> {
            Ok(pb::GetAgingReportAsKnownRequest {
                known_at: Some(known_at.into()),
                report: Some(group_aging()?),
            })
        };
        let report = timed(
            &mut now,
            audit.get_aging_report_as_known(known(SystemTime::now())?),
        )
        .await?;
        check_whole(&report, shape)?;
        if report.position != events {
            bail!("known at now at position {}, not {events}", report.position);
        }
        let report = timed(
            &mut then,
            audit.get_aging_report_as_known(known(middle_moment)?),
        )
        .await?;
        // The history is written by several writers at once, so the events' moments are not
        // quite in log order: the prefix recorded by the middle event's moment ends near it.
        if report.position == 0 || report.position >= events {
            bail!(
                "known at the middle event's moment at position {}, not between 0 and \
                 {events}",
                report.position
            );
        }
        then_position = report.position;
        if group_open(&report)? >= Totals::expected(shape).open_minor {
            bail!("known at the middle, the group owes as much as at the end");
        }
    }
    let memory = sampler.stop()?;
    let live = median(&mut live);
    let ms = |duration: Duration| duration.as_secs_f64() * 1_000.0;
    println!(
        "aging as of {} (group), {REPORT_ROUNDS} rounds by turns, medians:",
        history::report_as_of()?
    );
    println!(
        "  baseline: live GetAgingReport            {:>9.1} ms",
        ms(live)
    );
    println!("  (the middle: event {middle}'s moment, position {then_position} known then)");
    println!("  the rounds together: {}", memory.describe());
    for (label, samples) in [
        ("known at now", &mut now),
        ("known at the middle", &mut then),
    ] {
        let taken = median(samples);
        let ratio = taken.as_secs_f64() / live.as_secs_f64();
        println!(
            "  GetAgingReportAsKnown, {label:<20}{:>9.1} ms   ratio to the live report {ratio:.2}{}",
            ms(taken),
            if ratio > AS_KNOWN_RATIO_GOAL {
                format!(" (above the goal of {AS_KNOWN_RATIO_GOAL:.0})")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// After the raw read: every measurement over the audit service and in-process.
async fn measure<L: EventLog>(
    log: Arc<L>,
    store: ReadStore,
    raw: f64,
    shape: Shape,
) -> anyhow::Result<()> {
    let read_models = caught_up(&log, store, shape.events).await?;
    let server = start_services(Arc::clone(&log), &read_models).await?;
    let measured = async {
        let mut client = audit_client(&server).await?;
        let sampler = PeakSampler::start()?;
        let verified = bounded("VerifyLog", verify_over_grpc(&mut client, shape.events)).await?;
        print_ratio("VerifyLog", verified, raw);
        println!("  {}", sampler.stop()?.describe());
        if verified / raw < VERIFY_RATIO_GOAL {
            println!("  below the goal of {VERIFY_RATIO_GOAL:.2}");
        }
        // In a task of its own, as the service runs its walk, so that the two differ only by
        // the service and gRPC.
        let walk = tokio::spawn({
            let log = Arc::clone(&log);
            async move {
                bounded(
                    "the in-process walk",
                    verify_in_process(log.as_ref(), shape.events),
                )
                .await
            }
        });
        let in_process = walk.await??;
        print_ratio("in-process verification", in_process, raw);
        let sampler = PeakSampler::start()?;
        let replayed = bounded("ReplayEvents", replay_over_grpc(&mut client, shape.events)).await?;
        print_ratio("ReplayEvents", replayed, raw);
        println!("  {}", sampler.stop()?.describe());
        if replayed / raw < REPLAY_RATIO_GOAL {
            println!("  below the goal of {REPLAY_RATIO_GOAL:.2}");
        }
        bounded(
            "the reports as known",
            reports_as_known(log.as_ref(), &server, shape),
        )
        .await
    }
    .await;
    server.stop().await?;
    read_models.stop().await;
    measured
}

// ---------------------------------------------------------------------------------------------
// The two backends
// ---------------------------------------------------------------------------------------------

/// A fresh stream on the NATS server.
async fn on_jetstream(args: &Args, run: &str, shape: Shape) -> anyhow::Result<()> {
    let client = connect_nats(&args.nats.nats_url, "receivables-audit-bench").await?;
    let context = jetstream::new(client.clone());
    let config = history::stream_config(run);
    let log = Arc::new(JetStreamLog::open(client, config.clone()).await?);
    let measured = async {
        let history = JetStreamHistory {
            context: context.clone(),
            subject_prefix: config.subject_prefix.clone(),
        };
        write_history(&history, shape).await?;
        check_written(log.as_ref(), shape.events).await?;
        let raw = jetstream_raw_read(&context, &config.stream, shape.events).await?;
        // What the log's own feed costs before any decoding: what a verification reads.
        let stored = bounded(
            "the stored read",
            follow_stored_read(log.as_ref(), shape.events, "stored follow read"),
        )
        .await?;
        print_ratio("stored read", stored, raw);
        // What decoding costs: the replay and the reports read the log through this feed.
        let decoded = bounded(
            "the decoded read",
            follow_read(log.as_ref(), shape.events, "decoded follow read"),
        )
        .await?;
        print_ratio("decoded read", decoded, raw);
        let database =
            ScratchDatabase::create(&args.postgres.database_url, "receivables_audit_bench", run)
                .await?;
        let store = ReadStore::postgres(database.options.clone()).await?;
        let measured = measure(log, store.clone(), raw, shape).await;
        store.close().await;
        if args.keep {
            println!("kept: database {}", database.url());
        } else {
            database.remove().await?;
        }
        measured
    }
    .await;
    if args.keep {
        println!("kept: stream {}", config.stream);
    } else {
        delete_streams(&context, &config).await;
    }
    measured
}

/// A fresh SQLite log in a temporary directory.
async fn on_embedded(args: &Args, run: &str, shape: Shape) -> anyhow::Result<()> {
    let scratch = Scratch::create(run, args.keep)?;
    println!("  embedded log in {}", scratch.path().display());
    let log = Arc::new(SqliteLog::open(&scratch.join(EMBEDDED_LOG_FILE)).await?);
    let measured = async {
        write_history(log.as_ref(), shape).await?;
        check_written(log.as_ref(), shape.events).await?;
        let raw = follow_raw_read(&log, shape.events).await?;
        // What decoding costs: the replay and the reports read the log through this feed.
        let decoded = bounded(
            "the decoded read",
            follow_read(log.as_ref(), shape.events, "decoded follow read"),
        )
        .await?;
        print_ratio("decoded read", decoded, raw);
        let store = ReadStore::sqlite(scratch.path())?;
        measure(Arc::clone(&log), store, raw, shape).await
    }
    .await;
    log.close().await?;
    measured
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let shape = Shape::new(args.events, args.customers)?;
    let run = format!("A{}", Utc::now().format("%Y%m%d%H%M%S"));
    println!(
        "audit-bench: backend {}, {} events over {} customers, run {run}",
        value_name(&args.backend),
        args.events,
        args.customers
    );
    match args.backend {
        Backend::Jetstream => on_jetstream(&args, &run, shape).await,
        Backend::Embedded => on_embedded(&args, &run, shape).await,
    }
}
