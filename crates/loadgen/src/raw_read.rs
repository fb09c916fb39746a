//! The baseline of the read-side benchmarks: a raw read of the whole log.
//!
//! A rate means little on a machine whose speed varies from day to day; a ratio to what the log
//! itself delivers, measured in the same run, does. On JetStream the baseline is an ordered
//! consumer reading the messages without decoding them (what the server and the client library
//! cost); on the embedded log it is the log's rows read in order without decoding them
//! (`EventLog::follow_stored`). (Before the log could hand out stored events, the embedded
//! baseline was `SqliteLog::follow`, every event decoded: ratios in BENCHMARKS.md from before
//! then are to that slower baseline.)

use std::time::{Duration, Instant};

use async_nats::jetstream;
use futures::StreamExt;
use receivables_domain::Position;
use receivables_eventlog::EventLog;
use receivables_eventlog::sqlite::SqliteLog;

/// Prints a measured rate in the benchmarks' common layout and returns it in events/s.
pub fn print_rate(label: &str, events: usize, bytes: Option<usize>, elapsed: Duration) -> f64 {
    let rate = events as f64 / elapsed.as_secs_f64();
    let size = bytes.map_or(String::new(), |b| format!(", {} MB", b / 1_000_000));
    println!(
        "{label:<32} {rate:>9.0} events/s   ({events} events{size}, {:.1} s)",
        elapsed.as_secs_f64()
    );
    rate
}

/// An ordered consumer reading the whole stream, messages undecoded.
pub async fn jetstream_raw_read(
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
    Ok(print_rate(
        "raw ordered-consumer read",
        read,
        Some(bytes),
        started.elapsed(),
    ))
}

/// The log's rows from position 0, undecoded (`EventLog::follow_stored`): the embedded log's
/// raw read, as the ordered consumer is JetStream's.
pub async fn follow_raw_read(log: &SqliteLog, events: usize) -> anyhow::Result<f64> {
    follow_stored_read(log, events, "raw SqliteLog rows read").await
}

/// Reads `events` events of the log as stored (`EventLog::follow_stored`) from position 0,
/// undecoded, and prints the rate as `label`; returns events/s.
pub async fn follow_stored_read<L: EventLog>(
    log: &L,
    events: usize,
    label: &str,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut feed = log.follow_stored(Position::ZERO).await?.take(events);
    let mut read = 0;
    let mut bytes = 0;
    while let Some(event) = feed.next().await {
        bytes += event?.bytes.len();
        read += 1;
    }
    if read != events {
        anyhow::bail!("the log ended after {read} events, expected {events}");
    }
    Ok(print_rate(label, read, Some(bytes), started.elapsed()))
}

/// Reads `events` events of the log's feed (`EventLog::follow`) from position 0, each decoded
/// and nothing checked, and prints the rate as `label`; returns events/s.
pub async fn follow_read<L: EventLog>(log: &L, events: usize, label: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut feed = log.follow(Position::ZERO).await?.take(events);
    let mut read = 0;
    while let Some(event) = feed.next().await {
        event?;
        read += 1;
    }
    if read != events {
        anyhow::bail!("the feed ended after {read} events, expected {events}");
    }
    Ok(print_rate(label, read, None, started.elapsed()))
}
