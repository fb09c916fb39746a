//! `ListOpenItems`: the open invoices behind a cell of the aging report, a page at a time.

use receivables_api::pb;
use receivables_api::queries::open_items as wire;
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::aging::{OpenItemsError, open_items};
use tonic::Status;

use super::{internal, refused};

/// A page of the open items in one cell; a page token that is not this query's is refused.
pub(super) async fn answer(
    pool: ReadPool,
    query: wire::OpenItemsQuery,
    position: Position,
) -> Result<pb::ListOpenItemsResponse, Status> {
    let token = query.page_token.as_deref();
    let page = open_items(&pool, &query.scope, query.bucket, query.page_size, token)
        .await
        .map_err(|error| match error {
            OpenItemsError::Page(page) => refused(wire::refusal(&page)),
            OpenItemsError::Projection(error) => internal(error),
        })?;
    Ok(wire::answer(page, position))
}
