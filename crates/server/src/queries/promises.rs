//! `ListPromises`: promises to pay with their status as of a date, of one customer or across
//! customers, filtered and paged.

use receivables_api::pb;
use receivables_api::queries::promises as wire;
use receivables_domain::Position;
use receivables_domain::access::Action;
use receivables_eventlog::EventLog;
use receivables_projections::ReadPool;
use receivables_projections::promises::{PromiseQuery, list_promises};
use tonic::{Request, Response, Status};

use super::{QueryGrpc, internal};
use crate::authorization::authorize;

pub(super) async fn handle<L: EventLog>(
    service: &QueryGrpc<L>,
    request: Request<pb::ListPromisesRequest>,
) -> Result<Response<pb::ListPromisesResponse>, Status> {
    // The payments that keep a promise are the customer's at every subsidiary: the group's.
    authorize(&request, Action::ReadGroup)?;
    service
        .answer(request, |m| m.min_position, wire::read, answer)
        .await
}

/// A page of the promises the query selects, with their status as of its date.
async fn answer(
    pool: ReadPool,
    query: PromiseQuery,
    position: Position,
) -> Result<pb::ListPromisesResponse, Status> {
    let page = list_promises(&pool, &query).await.map_err(internal)?;
    Ok(wire::answer(page, position))
}
