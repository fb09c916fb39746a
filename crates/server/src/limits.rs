//! The limits of the service's gRPC surface, named here: how large a request may be, how long
//! a call may run, how long a query waits for the projector. The limits of what a command may
//! carry (field lengths, allocations per payment, amounts, dates) are the domain's, in
//! `receivables_domain::limits`; page sizes are the read model's (`PAGE_SIZE_MAX` in
//! `receivables_projections::paging`). README.md "Limits" lists them all.
//!
//! A client's own deadline (`grpc-timeout`) is honoured as well; these bound what a client
//! that sets none, or a generous one, can take.

use std::future::Future;
use std::time::Duration;

use receivables_api::status;
use tonic::{Code, Status};
use tracing::warn;

pub use crate::execution::CONFLICT_RETRIES_MAX;

/// Longest wait for `min_position` when the call has no deadline of its own.
pub const MIN_POSITION_WAIT_MAX: Duration = Duration::from_secs(10);

/// Largest gRPC message accepted, in bytes. A command with every field at its limit is far
/// smaller; anything larger is refused by the transport before it is read.
pub const GRPC_MESSAGE_BYTES_MAX: usize = 1024 * 1024;

/// Longest a command may take, from its request to its reply (loading the account, deciding,
/// appending, retrying conflicts). Past it the caller gets `DEADLINE_EXCEEDED` and retries with
/// the same command id, which is safe whether or not the append landed.
/// Largest message `ReceiptService` takes: a statement file of the statements crate's largest
/// ([`receivables_statements::STATEMENT_BYTES_MAX`]) and the request's other fields. A larger
/// file is refused by the transport (RESOURCE_EXHAUSTED) before anything is read; one between
/// the two limits by the reader, naming the limit.
pub const STATEMENT_MESSAGE_BYTES_MAX: usize =
    receivables_statements::STATEMENT_BYTES_MAX + 64 * 1024;

/// How long a `ReceiptService` call waits for the read model to apply what it wrote before it
/// matches on it (the lines it imported, the matches it recorded): a statement of a hundred
/// thousand lines takes a while to project.
pub const RECEIPTS_PROJECTION_WAIT_MAX: Duration = Duration::from_secs(600);

/// The deadline of a statement's import or a matching pass: long files take long.
pub const RECEIPTS_DEADLINE: Duration = Duration::from_secs(3_600);

pub const COMMAND_DEADLINE: Duration = Duration::from_secs(30);

/// Longest a query of the read model may take, its wait for `min_position` included.
pub const QUERY_DEADLINE: Duration = Duration::from_secs(60);

/// Longest a report as known at a past moment may take: it waits until the live read model has
/// applied the log's last position (minutes for a projector catching up after a restart), then
/// works the report out exactly over the rows known then.
pub const REPORT_AS_KNOWN_DEADLINE: Duration = Duration::from_secs(900);

/// Most calls served at once on one client connection; more wait for a free slot.
pub const CALLS_PER_CONNECTION_MAX: usize = 256;

/// Runs `call`, or answers `DEADLINE_EXCEEDED` (reason `SERVER_DEADLINE_EXCEEDED`) once
/// `deadline` has passed; `what` names the call in the message and the log.
pub async fn within<T>(
    deadline: Duration,
    what: &str,
    call: impl Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    match tokio::time::timeout(deadline, call).await {
        Ok(result) => result,
        Err(_) => {
            warn!(
                what,
                deadline_secs = deadline.as_secs(),
                "call stopped at the service's deadline"
            );
            Err(status::with_reason(
                Code::DeadlineExceeded,
                "SERVER_DEADLINE_EXCEEDED",
                format!(
                    "{what} took longer than the service's limit of {} s",
                    deadline.as_secs()
                ),
            ))
        }
    }
}
