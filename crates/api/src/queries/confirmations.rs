//! `ListBalanceConfirmations`: customers' confirmations of their balances, and the differences
//! to investigate.

use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CustomerId, Position};
use receivables_projections::confirmations::{ConfirmationPage, ConfirmationQuery};

use crate::fields::Fields;
use crate::queries::{page_size, paged};
use crate::{pb, responses};

/// Reads and validates a `ListBalanceConfirmations` request; every bad field at once.
pub fn read(
    message: &pb::ListBalanceConfirmationsRequest,
) -> Result<ConfirmationQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let customer = fields.optional("customer_id", &message.customer_id, CustomerId::parse);
    let size = page_size(&mut fields, message.page_size);
    let (Some(customer), Some(size)) = (customer, size) else {
        return Err(fields.violations);
    };
    let mut query = ConfirmationQuery::default();
    query.customer = customer;
    query.only_differences = message.only_differences;
    match paged(&mut fields, query, Some(size), &message.page_token) {
        Some(query) if fields.is_clean() => Ok(query),
        _ => Err(fields.violations),
    }
}

/// A page of confirmations as a reply.
pub fn answer(page: ConfirmationPage, position: Position) -> pb::ListBalanceConfirmationsResponse {
    pb::ListBalanceConfirmationsResponse {
        confirmations: page
            .lines
            .into_iter()
            .map(|line| pb::BalanceConfirmation {
                customer_id: line.customer.to_string(),
                as_of: responses::date(line.as_of),
                confirmed: Some(responses::money(line.confirmed)),
                balance: Some(responses::money(line.balance)),
                difference: Some(responses::money(line.difference)),
                confirmed_by: line.confirmed_by,
                note: line.note,
                position: line.position,
            })
            .collect(),
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    }
}
