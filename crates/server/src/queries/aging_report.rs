//! `GetAgingReport`: open receivables as of a date, in buckets, per group and currency.

use receivables_api::pb;
use receivables_api::queries::aging;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::aging::{AgingRequest, report};
use tonic::Status;

use super::internal;

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
