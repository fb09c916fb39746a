//! `ApplyUnappliedCash`: a subsidiary applies unapplied cash or credit to open invoices.

use receivables_domain::account::state::UnappliedSource;
use receivables_domain::command::ApplyUnappliedCash;
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::payment::{allocation_rule, check_read_allocations, read_allocations};
use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// An unapplied source of the wire (refunds read it too).
pub(crate) fn unapplied_source(source: pb::UnappliedSource) -> Option<UnappliedSource> {
    match source {
        pb::UnappliedSource::Unspecified => None,
        pb::UnappliedSource::Cash => Some(UnappliedSource::Cash),
        pb::UnappliedSource::Credit => Some(UnappliedSource::Credit),
    }
}

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::ApplyUnappliedCashRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let source = fields.enumeration("source", request.source, unapplied_source);
    let amount = fields.money("amount", request.amount.as_ref());
    let application_date = fields.date("application_date", &request.application_date);
    let allocations = read_allocations(&mut fields, &request.allocations);
    let mut rules = Vec::new();
    check_read_allocations(
        &mut rules,
        "application",
        amount,
        &allocations,
        request.allocations.len(),
    );
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::ApplyUnappliedCash(ApplyUnappliedCash {
            subsidiary_id: subsidiary_id?,
            source: source?,
            amount: amount?,
            application_date: application_date?,
            allocations: allocations.into_iter().collect::<Option<Vec<_>>>()?,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::ApplyUnappliedCashResponse> {
    let Event::UnappliedCashApplied(application) = &event.envelope.event else {
        return None;
    };
    Some(pb::ApplyUnappliedCashResponse {
        receipt: Some(responses::receipt(event, replayed)),
        allocation_rule: allocation_rule(application.allocation_rule).into(),
        allocations: application
            .allocations
            .iter()
            .map(responses::allocation)
            .collect(),
        applied: Some(responses::money(application.amount)),
    })
}
