//! Wire queries to read-model queries, and their answers back to wire replies: one module per
//! query of `QueryService` (the reports as known at a past moment of `AuditService` reuse them).
//!
//! Reading a request names every bad field at once (`BadRequest` field violations, reason
//! `INVALID_QUERY`); answering turns the read model's lines into messages. Running the query
//! (waiting for `min_position`, picking the live read model) is the service's part.

pub mod activities;
pub mod aging;
pub mod alerts;
pub mod allowance;
pub mod confirmations;
pub mod customer_search;
pub mod exposure;
pub mod forecast;
pub mod metrics;
pub mod open_items;
pub mod promises;
pub mod statement;
pub mod upcoming;
pub mod work_queue;

use receivables_domain::Refusal;
use receivables_domain::refusal::FieldViolation;
use receivables_projections::paging::{PAGE_SIZE_DEFAULT, Paged, check_page_size};

use crate::fields::Fields;

/// The refusal of a query with bad fields.
pub fn refused(violations: Vec<FieldViolation>) -> Refusal {
    Refusal::invalid_query(violations)
}

/// The request's page size, 0 meaning the default; named in `fields` when out of range.
pub(crate) fn page_size(fields: &mut Fields, requested: u32) -> Option<u32> {
    let size = if requested == 0 {
        PAGE_SIZE_DEFAULT
    } else {
        requested
    };
    fields.check("page_size", check_page_size(size))
}

/// `query` a page of `size` lines (`None` keeps the query's own), continuing after the page of
/// `token` when there is one; a refused size or token is named in `fields`.
pub(crate) fn paged<Q: Paged>(
    fields: &mut Fields,
    query: Q,
    size: Option<u32>,
    token: &str,
) -> Option<Q> {
    let query = match size {
        Some(size) => fields.check("page_size", query.with_page_size(size))?,
        None => query,
    };
    if token.is_empty() {
        return Some(query);
    }
    fields.check("page_token", query.with_page_token(token))
}
