//! `GetExposure`: one customer's credit exposure, a line per currency.

use chrono::NaiveDate;
use receivables_api::queries::exposure as wire;
use receivables_api::{pb, status};
use receivables_domain::{CustomerId, Position};
use receivables_projections::ReadPool;
use receivables_projections::exposure::exposure;
use tonic::{Code, Status};

use super::internal;

/// One customer's exposure as of a date; `NOT_FOUND` when the read model knows nothing of it.
pub(super) async fn answer(
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
