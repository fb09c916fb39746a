//! `ListOpenItems`: the open invoices behind a cell of the aging report, a page at a time.

use receivables_api::pb;
use receivables_api::queries::open_items as wire;
use receivables_domain::Position;
use receivables_eventlog::EventLog;
use receivables_projections::ReadPool;
use receivables_projections::aging::{OpenItemsError, open_items};
use tonic::{Request, Response, Status};

use super::{QueryGrpc, internal, refused};
use crate::authorization::authorize_read;

pub(super) async fn handle<L: EventLog>(
    service: &QueryGrpc<L>,
    request: Request<pb::ListOpenItemsRequest>,
) -> Result<Response<pb::ListOpenItemsResponse>, Status> {
    let scope = request.get_ref().scope.as_ref();
    authorize_read(&request, scope.map_or("", |s| s.subsidiary_id.as_str()))?;
    service
        .answer(request, |m| m.min_position, wire::read, answer)
        .await
}

/// A page of the open items in one cell; a page token that is not this query's is refused.
async fn answer(
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
