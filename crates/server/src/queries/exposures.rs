//! `ListExposures`: every customer's exposure, sorted, filtered, a page at a time.

use receivables_api::pb;
use receivables_api::queries::exposure as wire;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::exposure::{ExposureQuery, list_exposures};
use tonic::Status;

use super::internal;

/// Runs an exposure list query on `pool` and answers it (also as known at a past moment).
pub(crate) async fn answer(
    pool: ReadPool,
    query: ExposureQuery,
    position: Position,
) -> Result<pb::ListExposuresResponse, Status> {
    let page = list_exposures(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(page, position))
}
