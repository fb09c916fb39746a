//! Replaying the log for auditors and verifying its hash chain.

use std::sync::Arc;

use futures::stream::BoxStream;
use receivables_api::pb;
use receivables_eventlog::EventLog;
use tonic::Status;

/// The stream of a replay: events and progress.
pub type ReplayStream = BoxStream<'static, Result<pb::ReplayEventsResponse, Status>>;

/// The stream of a verification: progress, then the result.
pub type VerifyStream = BoxStream<'static, Result<pb::VerifyLogResponse, Status>>;

pub async fn replay_events<L: EventLog>(
    _log: Arc<L>,
    _request: pb::ReplayEventsRequest,
) -> Result<ReplayStream, Status> {
    Err(Status::unimplemented("replay is not built yet"))
}

pub async fn verify_log<L: EventLog>(
    _log: Arc<L>,
    _request: pb::VerifyLogRequest,
) -> Result<VerifyStream, Status> {
    Err(Status::unimplemented("verification is not built yet"))
}
