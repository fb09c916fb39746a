//! `GetAgingReport`: open receivables as of a date, in buckets, per group and currency.

use receivables_api::pb;
use receivables_api::queries::aging;
use receivables_domain::Position;
use receivables_eventlog::EventLog;
use receivables_projections::ReadPool;
use receivables_projections::aging::{AgingRequest, report};
use tonic::{Request, Response, Status};

use super::{QueryGrpc, internal};
use crate::authorization::authorize_read;

pub(super) async fn handle<L: EventLog>(
    service: &QueryGrpc<L>,
    request: Request<pb::GetAgingReportRequest>,
) -> Result<Response<pb::GetAgingReportResponse>, Status> {
    let scope = request.get_ref().scope.as_ref();
    authorize_read(&request, scope.map_or("", |s| s.subsidiary_id.as_str()))?;
    service
        .answer(request, |m| m.min_position, aging::read, answer)
        .await
}

/// Runs an aging query on `pool` and answers it, stamped with the `position` the read model
/// has applied. The report as known at a past moment answers with it too.
pub(crate) async fn answer(
    pool: ReadPool,
    query: AgingRequest,
    position: Position,
) -> Result<pb::GetAgingReportResponse, Status> {
    let lines = report(&pool, &query).await.map_err(internal)?;
    Ok(aging::answer(&query, lines, position))
}
