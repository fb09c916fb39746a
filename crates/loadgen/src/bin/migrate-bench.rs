//! Migration benchmark: how fast a history moves between the embedded log and a JetStream
//! stream, and through a backup file, against the fastest a copy could go on the same server.
//!
//! Writes the synthetic, hash-chained history of [`receivables_loadgen::history`] into an
//! embedded log in a temporary directory (not measured), then in each round, on fresh streams:
//! 1. the baseline: the embedded log read and every event published to a fresh stream with
//!    plain publishes, [`WRITE_IN_FLIGHT`] in flight (no expected sequence, no number
//!    reservations, no checks): the most a copy could do on this server;
//! 2. `migrate --to jetstream`: [`transfer::copy`] from the embedded log into a fresh stream,
//!    then [`transfer::verify`] of the stream, each timed, and the ratio of the copy to the
//!    baseline;
//! 3. `migrate --to embedded`: the copy back into a fresh embedded log;
//! 4. `backup`: the embedded log written to a file, and the file checked whole as `restore`
//!    checks it before it copies.
//!
//! Each result is checked: every copy must have appended every event, the verification must
//! find the stream equal to the source. Medians over the rounds are printed at the end.

use std::time::Instant;

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use chrono::Utc;
use clap::Parser;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use receivables::nats::connect as connect_nats;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_eventlog::sqlite::SqliteLog;
use receivables_eventlog::transfer::{self, CopyInto};
use receivables_eventlog::{backup, codec};
use receivables_loadgen::NatsArgs;
use receivables_loadgen::history::{
    Shape, WRITE_IN_FLIGHT, check_written, delete_streams, stream_config, write_history,
};
use receivables_loadgen::scratch::Scratch;

#[derive(Debug, Parser)]
#[command(about = "Measure migrate, backup and restore against a raw copy of the log")]
struct Args {
    #[command(flatten)]
    nats: NatsArgs,
    /// Events in the history.
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Customers the events are spread over.
    #[arg(long, default_value_t = 2_000)]
    customers: usize,
    /// Rounds measured; the medians are printed at the end.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Keep the temporary directory afterwards.
    #[arg(long)]
    keep: bool,
}

/// One round's rates, in events/s.
#[derive(Debug, Clone, Copy, Default)]
struct Round {
    raw: f64,
    to_stream: f64,
    verify: f64,
    to_embedded: f64,
    backup: f64,
    check: f64,
}

fn rate(events: usize, started: Instant) -> f64 {
    events as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// The baseline: every event of `source` published to `config`'s fresh stream, plainly, many in
/// flight.
async fn raw_copy(
    source: &SqliteLog,
    context: &jetstream::Context,
    config: &JetStreamConfig,
    events: usize,
) -> anyhow::Result<f64> {
    context.create_stream(config.stream_config()).await?;
    let started = Instant::now();
    let mut feed = transfer::history(source).await?;
    let mut pending = FuturesUnordered::new();
    let mut acknowledged = 0;
    while let Some(event) = feed.next().await {
        let event = event?;
        let subject = format!("{}.{}", config.subject_prefix, event.envelope.customer_id);
        let ack = context
            .publish(subject, codec::encode(&event.envelope)?.into())
            .await?;
        pending.push(ack.into_future());
        if pending.len() >= WRITE_IN_FLIGHT
            && let Some(ack) = pending.next().await
        {
            ack?;
            acknowledged += 1;
        }
    }
    while let Some(ack) = pending.next().await {
        ack?;
        acknowledged += 1;
    }
    let rate = rate(events, started);
    if acknowledged != events {
        bail!("the raw copy published {acknowledged} events of {events}");
    }
    Ok(rate)
}

async fn round(
    args: &Args,
    source: &SqliteLog,
    scratch: &Scratch,
    run: &str,
    number: usize,
) -> anyhow::Result<Round> {
    let client = connect_nats(&args.nats.nats_url, "migrate-bench").await?;
    let context = jetstream::new(client.clone());
    let mut measured = Round::default();

    let raw_config = stream_config(&format!("{run}R{number}RAW"));
    let raw = raw_copy(source, &context, &raw_config, args.events).await;
    delete_streams(&context, &raw_config).await;
    measured.raw = raw?;
    println!(
        "  raw copy to a stream:      {:>9.0} events/s",
        measured.raw
    );

    let config = stream_config(&format!("{run}R{number}COPY"));
    let copied = async {
        let target = JetStreamLog::open(client.clone(), config.clone()).await?;
        let started = Instant::now();
        let copied = transfer::copy(
            transfer::source(source).await?,
            &target,
            CopyInto::Empty,
            |_| {},
        )
        .await?;
        measured.to_stream = rate(args.events, started);
        if copied.progress.appended != args.events as u64 {
            bail!("the copy appended {} events", copied.progress.appended);
        }
        let started = Instant::now();
        transfer::verify(&target, &copied.source).await?;
        measured.verify = rate(args.events, started);

        let back = SqliteLog::open(&scratch.join(format!("back-{number}.sqlite"))).await?;
        let started = Instant::now();
        let returned = transfer::copy(
            transfer::source(&target).await?,
            &back,
            CopyInto::Empty,
            |_| {},
        )
        .await;
        measured.to_embedded = rate(args.events, started);
        back.close().await?;
        if returned?.progress.appended != args.events as u64 {
            bail!("the copy back did not append every event");
        }
        anyhow::Ok(())
    }
    .await;
    delete_streams(&context, &config).await;
    copied?;
    println!(
        "  migrate --to jetstream:    {:>9.0} events/s (ratio to raw {:.2}); verify {:.0} events/s",
        measured.to_stream,
        measured.to_stream / measured.raw,
        measured.verify
    );
    println!(
        "  migrate --to embedded:     {:>9.0} events/s",
        measured.to_embedded
    );

    let file = scratch.join(format!("backup-{number}.jsonl"));
    let started = Instant::now();
    backup::write(transfer::history(source).await?, &file, |_| {}).await?;
    measured.backup = rate(args.events, started);
    let started = Instant::now();
    let summary = backup::check(&file).await?;
    measured.check = rate(args.events, started);
    if summary.events() != args.events as u64 {
        bail!("the backup holds {} events", summary.events());
    }
    let bytes = std::fs::metadata(&file)?.len();
    std::fs::remove_file(&file)?;
    println!(
        "  backup:                    {:>9.0} events/s ({:.0} bytes per event); restore's check {:.0} events/s",
        measured.backup,
        bytes as f64 / args.events as f64,
        measured.check
    );
    Ok(measured)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let shape = Shape::new(args.events, args.customers)?;
    let run = format!("M{}", Utc::now().format("%Y%m%d%H%M%S"));
    println!(
        "migrate-bench: {} events over {} customers, {} rounds, run {run}",
        args.events, args.customers, args.rounds
    );
    let scratch = Scratch::create(&run, args.keep)?;
    let source = SqliteLog::open(&scratch.join("events.sqlite")).await?;
    let measured = async {
        write_history(&source, shape).await?;
        check_written(&source, shape.events).await?;
        let mut rounds = Vec::new();
        for number in 1..=args.rounds {
            println!("round {number}:");
            rounds.push(round(&args, &source, &scratch, &run, number).await?);
        }
        anyhow::Ok(rounds)
    }
    .await;
    source.close().await?;
    let rounds = measured.context("a round failed")?;
    let pick = |field: fn(&Round) -> f64| median(rounds.iter().map(field).collect());
    println!("medians over {} rounds (events/s):", rounds.len());
    let raw = pick(|r| r.raw);
    let to_stream = pick(|r| r.to_stream);
    println!("  raw copy to a stream       {raw:>9.0}");
    println!(
        "  migrate --to jetstream     {to_stream:>9.0}  (ratio to raw {:.2})",
        to_stream / raw
    );
    println!("  verify the stream          {:>9.0}", pick(|r| r.verify));
    println!(
        "  migrate --to embedded      {:>9.0}",
        pick(|r| r.to_embedded)
    );
    println!("  backup                     {:>9.0}", pick(|r| r.backup));
    println!("  restore's check            {:>9.0}", pick(|r| r.check));
    Ok(())
}
