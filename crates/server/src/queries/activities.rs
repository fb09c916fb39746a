//! `ListCollectionActivities`: collectors' contacts with customers, newest first.

use receivables_api::pb;
use receivables_api::queries::activities as wire;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::activities::{ActivitiesQuery, list_activities};
use tonic::Status;

use super::internal;

/// The page of activities that the query selects.
pub(super) async fn answer(
    pool: ReadPool,
    query: ActivitiesQuery,
    position: Position,
) -> Result<pb::ListCollectionActivitiesResponse, Status> {
    let page = list_activities(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(page, position))
}
