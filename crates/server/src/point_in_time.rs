//! Reports as they were known at a past moment, answered from the live read model.
//!
//! An auditor asks "what did the aging say on the morning of the 3rd?". Every row of the read
//! model carries the position of the event that recorded it and superseded values are kept
//! (`receivables_projections::known`), so the answer is the live query's own, run on a
//! connection that sees only the rows recorded at or before the last position known then:
//! no replay, and the cost of the live report for the same business date (worked out exactly:
//! today's summaries hold the present only). Known at "now", the answer is the live answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use receivables_api::pb;
use receivables_domain::Position;
use receivables_domain::refusal::FieldViolation;
use receivables_eventlog::EventLog;
use receivables_projections::{ReadPool, known};
use tonic::{Code, Status};
use tonic_types::StatusExt as _;
use tracing::{Instrument, info, info_span};

use receivables_api::queries::{
    aging as aging_query, exposure as exposures_query, metrics as metrics_query,
    work_queue as work_queue_query,
};

use crate::limits::REPORT_AS_KNOWN_DEADLINE;
use crate::queries::{
    aging_answer, exposures_answer, internal, metrics_answer, projection_behind, refused,
    work_queue_answer,
};
use crate::read_models::ReadModels;
use crate::replay::log_status;

/// `google.protobuf.Timestamp.nanos` is below one second (no leap seconds).
const NANOS_PER_SECOND: u32 = 1_000_000_000;

/// The aging report as it was known at `known_at`.
pub async fn aging<L: EventLog>(
    log: &L,
    read_models: &ReadModels<L>,
    request: pb::GetAgingReportAsKnownRequest,
) -> Result<pb::GetAgingReportResponse, Status> {
    let report = request.report.unwrap_or_default();
    let (known_at, query) = validated(
        request.known_at.map(|t| (t.seconds, t.nanos)),
        aging_query::read(&report),
    )?;
    as_known(log, read_models, known_at, |pool, position| {
        aging_answer(pool, query, position)
    })
    .await
}

/// The exposure list as it was known at `known_at`.
pub async fn exposures<L: EventLog>(
    log: &L,
    read_models: &ReadModels<L>,
    request: pb::ListExposuresAsKnownRequest,
) -> Result<pb::ListExposuresResponse, Status> {
    let report = request.report.unwrap_or_default();
    let (known_at, query) = validated(
        request.known_at.map(|t| (t.seconds, t.nanos)),
        exposures_query::read(&report),
    )?;
    as_known(log, read_models, known_at, |pool, position| {
        exposures_answer(pool, query, position)
    })
    .await
}

/// The collector work queue as it was known at `known_at`.
pub async fn work_queue<L: EventLog>(
    log: &L,
    read_models: &ReadModels<L>,
    request: pb::GetWorkQueueAsKnownRequest,
) -> Result<pb::GetWorkQueueResponse, Status> {
    let report = request.report.unwrap_or_default();
    let (known_at, query) = validated(
        request.known_at.map(|t| (t.seconds, t.nanos)),
        work_queue_query::read(&report),
    )?;
    as_known(log, read_models, known_at, |pool, position| {
        work_queue_answer(pool, query, position)
    })
    .await
}

/// The early-warning metrics as they were known at `known_at`.
pub async fn metrics<L: EventLog>(
    log: &L,
    read_models: &ReadModels<L>,
    request: pb::GetMetricsAsKnownRequest,
) -> Result<pb::GetMetricsResponse, Status> {
    let report = request.report.unwrap_or_default();
    let (known_at, query) = validated(
        request.known_at.map(|t| (t.seconds, t.nanos)),
        metrics_query::read(&report),
    )?;
    as_known(log, read_models, known_at, |pool, position| {
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

/// Runs `answer` on the live read model as it stood at the last position known at `known_at`
/// (`receivables_projections::known`), with that position: once the read model has applied
/// the log's last position at the start of the call, so that nothing recorded by then is
/// missing.
async fn as_known<L, T, F, Fut>(
    log: &L,
    read_models: &ReadModels<L>,
    known_at: DateTime<Utc>,
    answer: F,
) -> Result<T, Status>
where
    L: EventLog,
    F: FnOnce(ReadPool, Position) -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let span = info_span!(
        "report_as_known",
        known_at = %known_at,
        position = tracing::field::Empty,
        generation = tracing::field::Empty
    );
    async move {
        let last = log
            .last_position()
            .await
            .map_err(|error| log_status(&error))?;
        let side = Arc::clone(&read_models.live().borrow());
        if !side
            .projector
            .wait_for(last, REPORT_AS_KNOWN_DEADLINE)
            .await
        {
            let applied = *side.projector.applied().borrow();
            return Err(projection_behind(applied, last, "log_position"));
        }
        let position = known::position_at(&side.pool, known_at, last)
            .await
            .map_err(internal)?;
        let since = known::history_since(&side.pool).await.map_err(internal)?;
        if position > Position::ZERO && position < since {
            return Err(history_not_kept(position, since));
        }
        tracing::Span::current()
            .record("position", position.get())
            .record("generation", side.generation);
        let pool = known::pool(&side.pool, position).await.map_err(internal)?;
        info!(position = position.get(), "answering as known");
        let outcome = answer(pool.clone(), position).await;
        pool.close().await;
        outcome
    }
    .instrument(span)
    .await
}

/// The read model was built before it kept superseded values, and the moment is before then.
fn history_not_kept(position: Position, since: Position) -> Status {
    let mut details = tonic_types::ErrorDetails::new();
    details.set_error_info(
        "HISTORY_NOT_KEPT",
        receivables_api::ERROR_DOMAIN,
        [
            ("known_position".to_owned(), position.to_string()),
            ("history_since".to_owned(), since.to_string()),
        ]
        .into_iter()
        .collect::<HashMap<_, _>>(),
    );
    details.add_precondition_failure_violation(
        "READ_MODEL",
        "known_at",
        format!(
            "the read model keeps superseded values from position {since}; rebuild it \
             (AdminService.RebuildReadModel) to answer as known at position {position}"
        ),
    );
    Status::with_error_details(
        Code::FailedPrecondition,
        format!(
            "the read model keeps superseded values from position {since} only, and \
             known_at is at position {position}: rebuild the read model"
        ),
        details,
    )
}
