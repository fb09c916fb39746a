//! Reports as they were known at a past moment, rebuilt from the log into a temporary read
//! model that lives only for the call.

use receivables_api::pb;
use receivables_eventlog::EventLog;
use tonic::Status;

pub async fn aging<L: EventLog>(
    _log: &L,
    _request: pb::GetAgingReportAsKnownRequest,
) -> Result<pb::GetAgingReportResponse, Status> {
    Err(Status::unimplemented("point-in-time reports are not built yet"))
}

pub async fn exposures<L: EventLog>(
    _log: &L,
    _request: pb::ListExposuresAsKnownRequest,
) -> Result<pb::ListExposuresResponse, Status> {
    Err(Status::unimplemented("point-in-time reports are not built yet"))
}

pub async fn work_queue<L: EventLog>(
    _log: &L,
    _request: pb::GetWorkQueueAsKnownRequest,
) -> Result<pb::GetWorkQueueResponse, Status> {
    Err(Status::unimplemented("point-in-time reports are not built yet"))
}
