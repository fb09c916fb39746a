//! Wire queries to read-model queries, and their answers back to wire replies: one module per
//! query of `QueryService` (the reports as known at a past moment of `AuditService` reuse them).
//!
//! Reading a request names every bad field at once (`BadRequest` field violations, reason
//! `INVALID_QUERY`); answering turns the read model's lines into messages. Running the query
//! (waiting for `min_position`, picking the live read model) is the service's part.

pub mod aging;
pub mod exposure;
pub mod open_items;
pub mod promises;
pub mod work_queue;

use receivables_domain::Refusal;
use receivables_domain::refusal::FieldViolation;
use receivables_projections::paging::PAGE_SIZE_DEFAULT;

/// The refusal of a query with bad fields.
pub fn refused(violations: Vec<FieldViolation>) -> Refusal {
    Refusal::invalid_query(violations)
}

/// A page size from the wire: 0 means the default.
pub(crate) fn page_size(requested: u32) -> u32 {
    if requested == 0 {
        PAGE_SIZE_DEFAULT
    } else {
        requested
    }
}
