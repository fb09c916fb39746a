//! Reports as they were known at a past moment, rebuilt from the log into a temporary read
//! model that lives only for the call.
//!
//! An auditor asks "what did the aging say on the morning of the 3rd?". The live read model
//! cannot answer: it holds every event applied since, and the events are facts that are never
//! edited. So each call replays the log into a fresh in-memory SQLite database with the same
//! migrations and the same projection code as the live read model, keeping only the events
//! recorded at or before `known_at`, and runs the live query's own projections query on it.
//! The live read models are never read or written, and nothing is left behind: the database
//! disappears with its one connection when the call ends.
//!
//! This costs a full replay of the log per call (time and memory grow with the log); the
//! call's deadline bounds it. Known at "now", the answer is the live answer.

use std::future::Future;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use receivables_api::pb;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{Position, RecordedEvent};
use receivables_eventlog::{EventLog, LogError};
use receivables_projections::{MIGRATOR, ProjectionError, ReadPool, runtime};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tonic::Status;
use tracing::{Instrument, info, info_span};

use receivables_api::queries::{
    aging as aging_query, exposure as exposures_query, metrics as metrics_query,
    work_queue as work_queue_query,
};

use crate::queries::{
    aging_answer, exposures_answer, internal, metrics_answer, refused, work_queue_answer,
};

/// Events applied to the temporary read model per transaction: the live projector's batch
/// size, which keeps memory per batch bounded and transactions few.
pub const REBUILD_BATCH_EVENTS_MAX: usize = 5_000;

/// `google.protobuf.Timestamp.nanos` is below one second (no leap seconds).
const NANOS_PER_SECOND: u32 = 1_000_000_000;

/// The in-memory database of one call. `sqlite::memory:` gives each connection its own
/// database, so the pool holds exactly one connection that never expires.
const IN_MEMORY: &str = "sqlite::memory:";

/// The aging report as it was known at `known_at`.
pub async fn aging<L: EventLog>(
    log: &L,
    request: pb::GetAgingReportAsKnownRequest,
) -> Result<pb::GetAgingReportResponse, Status> {
    let report = request.report.unwrap_or_default();
    let (known_at, query) = validated(
        request.known_at.map(|t| (t.seconds, t.nanos)),
        aging_query::read(&report),
    )?;
    as_known(log, known_at, |pool, position| {
        aging_answer(pool, query, position)
    })
    .await
}

/// The exposure list as it was known at `known_at`.
pub async fn exposures<L: EventLog>(
    log: &L,
    request: pb::ListExposuresAsKnownRequest,
) -> Result<pb::ListExposuresResponse, Status> {
    let report = request.report.unwrap_or_default();
    let (known_at, query) = validated(
        request.known_at.map(|t| (t.seconds, t.nanos)),
        exposures_query::read(&report),
    )?;
    as_known(log, known_at, |pool, position| {
        exposures_answer(pool, query, position)
    })
    .await
}

/// The collector work queue as it was known at `known_at`.
pub async fn work_queue<L: EventLog>(
    log: &L,
    request: pb::GetWorkQueueAsKnownRequest,
) -> Result<pb::GetWorkQueueResponse, Status> {
    let report = request.report.unwrap_or_default();
    let (known_at, query) = validated(
        request.known_at.map(|t| (t.seconds, t.nanos)),
        work_queue_query::read(&report),
    )?;
    as_known(log, known_at, |pool, position| {
        work_queue_answer(pool, query, position)
    })
    .await
}

/// The early-warning metrics as they were known at `known_at`.
pub async fn metrics<L: EventLog>(
    log: &L,
    request: pb::GetMetricsAsKnownRequest,
) -> Result<pb::GetMetricsResponse, Status> {
    let report = request.report.unwrap_or_default();
    let (known_at, query) = validated(
        request.known_at.map(|t| (t.seconds, t.nanos)),
        metrics_query::read(&report),
    )?;
    as_known(log, known_at, |pool, position| {
        metrics_answer(pool, query, position)
    })
    .await
}

/// `known_at` (seconds and nanoseconds of its `Timestamp`) and the inner report's query, or every bad field at once: the inner request's
/// fields are named by their path from the outer request (`report.scope.as_of`).
fn validated<Q>(
    known_at: Option<(i64, i32)>,
    query: Result<Q, Vec<FieldViolation>>,
) -> Result<(DateTime<Utc>, Q), Status> {
    let mut violations = Vec::new();
    let known_at = match known_at {
        None => {
            violations.push(FieldViolation::new("known_at", "is required"));
            None
        }
        Some((seconds, nanos)) => {
            let instant = u32::try_from(nanos)
                .ok()
                .filter(|nanos| *nanos < NANOS_PER_SECOND)
                .and_then(|nanos| DateTime::from_timestamp(seconds, nanos));
            if instant.is_none() {
                violations.push(FieldViolation::new(
                    "known_at",
                    format!("{seconds}s {nanos}ns is not a valid timestamp"),
                ));
            }
            instant
        }
    };
    let query = query
        .map_err(|inner| {
            violations.extend(
                inner
                    .into_iter()
                    .map(|v| FieldViolation::new(format!("report.{}", v.field), v.description)),
            );
        })
        .ok();
    match (known_at, query, violations.is_empty()) {
        (Some(known_at), Some(query), true) => Ok((known_at, query)),
        _ => Err(refused(violations)),
    }
}

/// Rebuilds the read model as known at `known_at` into a temporary database, runs `answer` on
/// it with the last position applied, and drops the database.
async fn as_known<L, T, F, Fut>(log: &L, known_at: DateTime<Utc>, answer: F) -> Result<T, Status>
where
    L: EventLog,
    F: FnOnce(ReadPool, Position) -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let span =
        info_span!("report_as_known", known_at = %known_at, events_applied = tracing::field::Empty);
    async move {
        let pool = temporary_read_model().await.map_err(internal)?;
        let outcome = match rebuild(log, &pool, known_at).await {
            Ok((applied, events)) => {
                tracing::Span::current().record("events_applied", events);
                info!(
                    position = applied.get(),
                    events, "read model rebuilt as known"
                );
                answer(pool.clone(), applied).await
            }
            Err(error) => Err(internal(error)),
        };
        pool.close().await;
        outcome
    }
    .instrument(span)
    .await
}

/// An empty read model in memory, its tables created by the live read model's migrations.
async fn temporary_read_model() -> Result<ReadPool, ProjectionError> {
    let options = SqliteConnectOptions::from_str(IN_MEMORY)?.foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await?;
    if let Err(error) = MIGRATOR.run(&pool).await {
        pool.close().await;
        return Err(sqlx::Error::from(error).into());
    }
    Ok(ReadPool::Sqlite(pool))
}

/// Applies every event up to the log's last position when the call started that was recorded
/// at or before `known_at`. Returns the last position applied and the number of events.
async fn rebuild<L: EventLog>(
    log: &L,
    pool: &ReadPool,
    known_at: DateTime<Utc>,
) -> Result<(Position, u64), ProjectionError> {
    let last = log.last_position().await?;
    let mut applied = Position::ZERO;
    let mut count: u64 = 0;
    let mut read = Position::ZERO;
    if last == Position::ZERO {
        return Ok((applied, count));
    }
    let mut feed = log.follow(Position::ZERO).await?;
    let mut batch: Vec<RecordedEvent> = Vec::with_capacity(REBUILD_BATCH_EVENTS_MAX);
    while let Some(event) = feed.next().await {
        let event = event?;
        let position = event.position;
        read = position;
        if position > last {
            break;
        }
        if event.envelope.recorded_at <= known_at {
            batch.push(event);
            if batch.len() >= REBUILD_BATCH_EVENTS_MAX {
                (applied, count) = apply(pool, &mut batch, applied, count).await?;
            }
        }
        if position == last {
            break;
        }
    }
    if read < last {
        return Err(ProjectionError::Log(LogError::Unavailable(
            format!("the log feed ended at position {read}, before the last position {last}")
                .into(),
        )));
    }
    (applied, count) = apply(pool, &mut batch, applied, count).await?;
    Ok((applied, count))
}

/// Applies and empties `batch`; returns the new last position applied and count.
async fn apply(
    pool: &ReadPool,
    batch: &mut Vec<RecordedEvent>,
    applied: Position,
    count: u64,
) -> Result<(Position, u64), ProjectionError> {
    let Some(last) = batch.last().map(|event| event.position) else {
        return Ok((applied, count));
    };
    runtime::apply_events(pool, batch).await?;
    let count = count + batch.len() as u64;
    batch.clear();
    Ok((last, count))
}
