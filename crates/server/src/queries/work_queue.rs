//! `GetWorkQueue`: the collector work queue, highest priority first.

use receivables_api::pb;
use receivables_api::queries::work_queue as wire;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::work_queue::{WorkQueueQuery, work_queue};
use tonic::Status;

use super::internal;

/// Runs a work queue query on `pool` and answers it (also as known at a past moment).
pub(crate) async fn answer(
    pool: ReadPool,
    query: WorkQueueQuery,
    position: Position,
) -> Result<pb::GetWorkQueueResponse, Status> {
    let page = work_queue(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(page, position))
}
