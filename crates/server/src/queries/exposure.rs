//! `GetExposure`: one customer's credit exposure, a line per currency.

use receivables_api::queries::exposure as wire;
use receivables_api::{pb, status};
use receivables_domain::access::Action;
use receivables_eventlog::EventLog;
use receivables_projections::exposure::exposure;
use tonic::{Code, Request, Response, Status};

use super::{QueryGrpc, internal, refused};
use crate::authorization::authorize;

pub(super) async fn handle<L: EventLog>(
    service: &QueryGrpc<L>,
    request: Request<pb::GetExposureRequest>,
) -> Result<Response<pb::GetExposureResponse>, Status> {
    authorize(&request, Action::ReadGroup)?;
    let (metadata, _, message) = request.into_parts();
    let (customer, as_of) = wire::read_one(&message).map_err(refused)?;
    let (side, position) = service.ready(&metadata, message.min_position).await?;
    let lines = exposure(&side.pool, &customer, as_of)
        .await
        .map_err(internal)?;
    if lines.is_empty() {
        return Err(status::with_reason(
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
            format!("customer {customer} has no limit and no items as of {as_of}"),
        ));
    }
    Ok(Response::new(wire::answer_one(lines, position)))
}
