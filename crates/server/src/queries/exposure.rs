//! `GetExposure`: one customer's credit exposure, a line per currency.

use chrono::NaiveDate;
use receivables_api::queries::exposure as wire;
use receivables_api::{pb, status};
use receivables_domain::access::Action;
use receivables_domain::{CustomerId, Position};
use receivables_eventlog::EventLog;
use receivables_projections::ReadPool;
use receivables_projections::exposure::exposure;
use tonic::{Code, Request, Response, Status};

use super::{QueryGrpc, internal};
use crate::authorization::authorize;

pub(super) async fn handle<L: EventLog>(
    service: &QueryGrpc<L>,
    request: Request<pb::GetExposureRequest>,
) -> Result<Response<pb::GetExposureResponse>, Status> {
    authorize(&request, Action::ReadGroup)?;
    service
        .answer(request, |m| m.min_position, wire::read_one, answer)
        .await
}

/// One customer's exposure as of a date; `NOT_FOUND` when the read model knows nothing of it.
async fn answer(
    pool: ReadPool,
    (customer, as_of): (CustomerId, NaiveDate),
    position: Position,
) -> Result<pb::GetExposureResponse, Status> {
    let lines = exposure(&pool, &customer, as_of).await.map_err(internal)?;
    if lines.is_empty() {
        return Err(status::with_reason(
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
            format!("customer {customer} has no limit and no items as of {as_of}"),
        ));
    }
    Ok(wire::answer_one(lines, position))
}
