//! `ListOpenItems`: the open invoices behind a cell of the aging report, a page at a time.

use receivables_api::pb;
use receivables_api::queries::open_items as wire;
use receivables_eventlog::EventLog;
use receivables_projections::aging::{OpenItemsError, open_items};
use tonic::{Request, Response, Status};

use super::{QueryGrpc, internal, refused};
use crate::authorization::authorize_read;

pub(super) async fn handle<L: EventLog>(
    service: &QueryGrpc<L>,
    request: Request<pb::ListOpenItemsRequest>,
) -> Result<Response<pb::ListOpenItemsResponse>, Status> {
    let subsidiary = request
        .get_ref()
        .scope
        .as_ref()
        .map_or("", |scope| scope.subsidiary_id.as_str());
    authorize_read(&request, subsidiary)?;
    let (metadata, _, message) = request.into_parts();
    let query = wire::read(&message).map_err(refused)?;
    let (side, position) = service.ready(&metadata, message.min_position).await?;
    let page = open_items(
        &side.pool,
        &query.scope,
        query.bucket,
        query.page_size,
        query.page_token.as_deref(),
    )
    .await
    .map_err(|error| match error {
        OpenItemsError::Page(page) => refused(wire::refusal(&page)),
        OpenItemsError::Projection(error) => internal(error),
    })?;
    Ok(Response::new(wire::answer(page, position)))
}
