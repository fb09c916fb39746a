//! `ListUpcomingDue`: what falls due soon, in due order.

use receivables_api::pb;
use receivables_api::queries::upcoming as wire;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::upcoming::{UpcomingQuery, list_upcoming};
use tonic::Status;

use super::internal;

/// The page of what falls due that the query selects.
pub(super) async fn answer(
    pool: ReadPool,
    query: UpcomingQuery,
    position: Position,
) -> Result<pb::ListUpcomingDueResponse, Status> {
    let page = list_upcoming(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(page, position))
}
