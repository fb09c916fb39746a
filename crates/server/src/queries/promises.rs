//! `ListPromises`: promises to pay with their status as of a date, of one customer or across
//! customers, filtered and paged.

use receivables_api::pb;
use receivables_api::queries::promises as wire;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::promises::{PromiseQuery, list_promises};
use tonic::Status;

use super::internal;

/// A page of the promises the query selects, with their status as of its date.
pub(super) async fn answer(
    pool: ReadPool,
    query: PromiseQuery,
    position: Position,
) -> Result<pb::ListPromisesResponse, Status> {
    let page = list_promises(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(page, position))
}
