//! What may go wrong in a call of `ReceiptService`, and the status each is answered with.

use receivables_api::status;
use receivables_domain::Position;
use receivables_projections::ProjectionError;
use tonic::{Code, Status};

use crate::command_service::execution_status;
use crate::execution::ExecutionError;
use crate::limits::RECEIPTS_PROJECTION_WAIT_MAX;

/// What may go wrong in a call of the service: the command path's errors, or the read model's.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error(transparent)]
    Execution(#[from] ExecutionError),
    #[error(transparent)]
    ReadModel(#[from] ProjectionError),
    /// A value stored by the receipts projection does not read back.
    #[error("the receipts read model holds {0}")]
    Stored(String),
    /// The read model did not apply the call's own writes in time.
    #[error("the read model has not applied position {0} yet")]
    Behind(Position),
}

impl From<ReceiptError> for Status {
    fn from(error: ReceiptError) -> Status {
        match error {
            ReceiptError::Execution(error) => execution_status(&error),
            ReceiptError::ReadModel(error) => crate::queries::internal(error),
            ReceiptError::Stored(problem) => {
                tracing::error!(%problem, "receipts read model");
                status::with_reason(Code::Internal, "READ_MODEL_ERROR", problem)
            }
            ReceiptError::Behind(position) => status::with_reason(
                Code::DeadlineExceeded,
                "PROJECTION_BEHIND",
                format!(
                    "the read model did not apply position {position} within {} s; what was \
                     written stands: call MatchReceipts to match it",
                    RECEIPTS_PROJECTION_WAIT_MAX.as_secs()
                ),
            ),
        }
    }
}
