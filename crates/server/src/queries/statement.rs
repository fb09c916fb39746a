//! `GetStatement`: a customer's statement of account for a period.

use std::collections::HashMap;

use receivables_api::queries::statement as wire;
use receivables_api::{ERROR_DOMAIN, pb, status};
use receivables_domain::Position;
use receivables_projections::ReadPool;
use receivables_projections::statement::{
    STATEMENT_MOVEMENTS_MAX, StatementError, StatementRequest, statement,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::internal;

/// The statement the request asks for; `NOT_FOUND` for a customer the read model knows nothing
/// of by the period's end, `FAILED_PRECONDITION` for a period with more movements than one
/// statement lists.
pub(super) async fn answer(
    pool: ReadPool,
    request: StatementRequest,
    position: Position,
) -> Result<pb::GetStatementResponse, Status> {
    match statement(&pool, &request).await {
        Ok(statement) => Ok(wire::answer(&request, statement, position)),
        Err(StatementError::Read(error)) => Err(internal(error)),
        Err(error @ StatementError::Unknown { .. }) => Err(status::with_reason(
            Code::NotFound,
            "CUSTOMER_NOT_FOUND",
            error.to_string(),
        )),
        Err(error @ StatementError::TooLong) => {
            let mut details = ErrorDetails::new();
            details.set_error_info(
                "STATEMENT_TOO_LONG",
                ERROR_DOMAIN,
                HashMap::from([(
                    "movements_max".to_owned(),
                    STATEMENT_MOVEMENTS_MAX.to_string(),
                )]),
            );
            Err(Status::with_error_details(
                Code::FailedPrecondition,
                error.to_string(),
                details,
            ))
        }
    }
}
