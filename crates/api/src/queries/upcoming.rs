//! `ListUpcomingDue`: what falls due soon, the list collectors send reminders from.

use receivables_domain::ids::PersonName;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CustomerId, Position, SubsidiaryId};
use receivables_projections::upcoming::{UpcomingPage, UpcomingQuery};

use crate::fields::Fields;
use crate::queries::{page_size, paged};
use crate::{pb, responses};

/// Reads and validates a `ListUpcomingDue` request; every bad field at once.
pub fn read(message: &pb::ListUpcomingDueRequest) -> Result<UpcomingQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let as_of = fields.as_of("as_of", &message.as_of);
    let customer = fields.optional("customer_id", &message.customer_id, CustomerId::parse);
    let subsidiary = fields.optional("subsidiary_id", &message.subsidiary_id, SubsidiaryId::parse);
    let collector = fields.optional("collector", &message.collector, PersonName::parse);
    let size = page_size(&mut fields, message.page_size);
    let query = as_of.and_then(|as_of| {
        fields.check(
            "within_days",
            UpcomingQuery::new(as_of, message.within_days),
        )
    });
    let (Some(mut query), Some(customer), Some(subsidiary), Some(collector), Some(size)) =
        (query, customer, subsidiary, collector, size)
    else {
        return Err(fields.violations);
    };
    query.customer = customer;
    query.subsidiary = subsidiary;
    query.collector = collector;
    match paged(&mut fields, query, Some(size), &message.page_token) {
        Some(query) if fields.is_clean() => Ok(query),
        _ => Err(fields.violations),
    }
}

/// A page of what falls due as a reply.
pub fn answer(page: UpcomingPage, position: Position) -> pb::ListUpcomingDueResponse {
    pb::ListUpcomingDueResponse {
        items: page
            .items
            .into_iter()
            .map(|item| pb::UpcomingDue {
                customer_id: item.customer.to_string(),
                customer_name: item.customer_name.unwrap_or_default(),
                invoice: Some(pb::InvoiceRef {
                    subsidiary_id: item.subsidiary.to_string(),
                    invoice_number: item.invoice_number,
                }),
                row_index: item.row_index,
                due_date: responses::date(item.due_date),
                days_until_due: item.days_until_due,
                open: Some(responses::money(item.open)),
                disputed: Some(responses::money(item.disputed)),
                collector: item.collector.map(|c| c.to_string()).unwrap_or_default(),
            })
            .collect(),
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    }
}
