//! `SearchCustomers`: registered customers by id prefix or name, a page at a time.

use receivables_api::pb;
use receivables_api::queries::customer_search as wire;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::customer_search::{CustomerSearch, search};
use tonic::Status;

use super::internal;

/// The page of customers the search selects.
pub(super) async fn answer(
    pool: ReadPool,
    query: CustomerSearch,
    position: Position,
) -> Result<pb::SearchCustomersResponse, Status> {
    let page = search(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(page, position))
}
