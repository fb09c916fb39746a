//! `ListPromises`: promises to pay with their status as of a date, of one customer or across
//! customers, filtered and paged.

use receivables_api::pb;
use receivables_api::queries::promises as wire;
use receivables_domain::access::Action;
use receivables_eventlog::EventLog;
use receivables_projections::promises::list_promises;
use tonic::{Request, Response, Status};

use super::{QueryGrpc, internal, refused};
use crate::authorization::authorize;

pub(super) async fn handle<L: EventLog>(
    service: &QueryGrpc<L>,
    request: Request<pb::ListPromisesRequest>,
) -> Result<Response<pb::ListPromisesResponse>, Status> {
    // The payments that keep a promise are the customer's at every subsidiary: the group's.
    authorize(&request, Action::ReadGroup)?;
    let (metadata, _, message) = request.into_parts();
    let query = wire::read(&message).map_err(refused)?;
    let (side, position) = service.ready(&metadata, message.min_position).await?;
    let page = list_promises(&side.pool, &query).await.map_err(internal)?;
    Ok(Response::new(wire::answer(page, position)))
}
