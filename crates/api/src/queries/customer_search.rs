//! `SearchCustomers`: registered customers by id prefix or name, with their records.

use receivables_domain::Position;
use receivables_domain::refusal::FieldViolation;
use receivables_projections::customer_search::{CustomerPage, CustomerSearch};

use crate::commands::customer::wire_profile;
use crate::fields::Fields;
use crate::pb;
use crate::queries::{page_size, paged};

/// Reads and validates a `SearchCustomers` request; every bad field at once.
pub fn read(message: &pb::SearchCustomersRequest) -> Result<CustomerSearch, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let search = fields.check("text", CustomerSearch::new(&message.text));
    let size = page_size(&mut fields, message.page_size);
    let (Some(search), Some(size)) = (search, size) else {
        return Err(fields.violations);
    };
    match paged(&mut fields, search, Some(size), &message.page_token) {
        Some(search) if fields.is_clean() => Ok(search),
        _ => Err(fields.violations),
    }
}

/// A page of customers as a reply.
pub fn answer(page: CustomerPage, position: Position) -> pb::SearchCustomersResponse {
    pb::SearchCustomersResponse {
        customers: page
            .customers
            .into_iter()
            .map(|record| pb::CustomerView {
                customer_id: record.customer.to_string(),
                profile: Some(wire_profile(&record.profile)),
                collector: record.collector.map(|c| c.to_string()).unwrap_or_default(),
            })
            .collect(),
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named_at_once() {
        let violations = read(&pb::SearchCustomersRequest {
            text: "x".repeat(101),
            page_size: 1_001,
            page_token: String::new(),
            min_position: 0,
        })
        .unwrap_err();
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["text", "page_size"]);
    }

    #[test]
    fn a_token_of_another_listing_is_refused() {
        let violations = read(&pb::SearchCustomersRequest {
            text: "hong".to_owned(),
            page_size: 0,
            page_token: "zz".to_owned(),
            min_position: 0,
        })
        .unwrap_err();
        assert_eq!(violations[0].field, "page_token");
    }
}
