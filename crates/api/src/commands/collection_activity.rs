//! `RecordCollectionActivity`: a collector records a contact with the customer.

use receivables_domain::account::collection_activity::{
    self, Channel, CollectionActivityRecorded, Outcome, RecordCollectionActivity,
};
use receivables_domain::limits::INVOICES_PER_ACTIVITY_MAX;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CommandBody, Event, InvoiceKey, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// A channel of the wire.
fn channel(channel: pb::ContactChannel) -> Option<Channel> {
    match channel {
        pb::ContactChannel::Unspecified => None,
        pb::ContactChannel::Call => Some(Channel::Call),
        pb::ContactChannel::Email => Some(Channel::Email),
        pb::ContactChannel::Letter => Some(Channel::Letter),
        pb::ContactChannel::Visit => Some(Channel::Visit),
        pb::ContactChannel::Sms => Some(Channel::Sms),
    }
}

/// An outcome of the wire.
fn outcome(outcome: pb::ContactOutcome) -> Option<Outcome> {
    match outcome {
        pb::ContactOutcome::Unspecified => None,
        pb::ContactOutcome::Reached => Some(Outcome::Reached),
        pb::ContactOutcome::NoAnswer => Some(Outcome::NoAnswer),
        pb::ContactOutcome::Promised => Some(Outcome::Promised),
        pb::ContactOutcome::Disputed => Some(Outcome::Disputed),
        pb::ContactOutcome::Refused => Some(Outcome::Refused),
        pb::ContactOutcome::WrongContact => Some(Outcome::WrongContact),
    }
}

/// A channel as the wire says it.
pub fn channel_to_wire(channel: Channel) -> pb::ContactChannel {
    match channel {
        Channel::Call => pb::ContactChannel::Call,
        Channel::Email => pb::ContactChannel::Email,
        Channel::Letter => pb::ContactChannel::Letter,
        Channel::Visit => pb::ContactChannel::Visit,
        Channel::Sms => pb::ContactChannel::Sms,
    }
}

/// An outcome as the wire says it.
pub fn outcome_to_wire(outcome: Outcome) -> pb::ContactOutcome {
    match outcome {
        Outcome::Reached => pb::ContactOutcome::Reached,
        Outcome::NoAnswer => pb::ContactOutcome::NoAnswer,
        Outcome::Promised => pb::ContactOutcome::Promised,
        Outcome::Disputed => pb::ContactOutcome::Disputed,
        Outcome::Refused => pb::ContactOutcome::Refused,
        Outcome::WrongContact => pb::ContactOutcome::WrongContact,
    }
}

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::RecordCollectionActivityRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let channel = fields.enumeration("channel", request.channel, channel);
    let outcome = fields.enumeration("outcome", request.outcome, outcome);
    let occurred_on = fields.date("occurred_on", &request.occurred_on);
    let collector = fields.person("collector", &request.collector);
    let next_action_on = fields.optional_date("next_action_on", &request.next_action_on);
    let invoices: Vec<Option<InvoiceKey>> = request
        .invoices
        .iter()
        .take(INVOICES_PER_ACTIVITY_MAX + 1)
        .enumerate()
        .map(|(index, invoice)| fields.invoice(&format!("invoices[{index}]"), Some(invoice)))
        .collect();
    let mut rules = Vec::new();
    if request.invoices.len() > INVOICES_PER_ACTIVITY_MAX {
        rules.push(FieldViolation::new(
            "invoices",
            format!(
                "at most {INVOICES_PER_ACTIVITY_MAX} invoices per activity, got {}",
                request.invoices.len()
            ),
        ));
    } else if let Some(read) = invoices.iter().cloned().collect::<Option<Vec<_>>>() {
        collection_activity::check_invoices(&mut rules, &read);
    }
    if let (Some(occurred_on), Some(next_action_on)) = (occurred_on, next_action_on) {
        collection_activity::check_next_action(&mut rules, occurred_on, next_action_on);
    }
    collection_activity::check_texts(&mut rules, &request.contact, &request.note);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::RecordCollectionActivity(
            RecordCollectionActivity {
                subsidiary_id: subsidiary_id?,
                channel: channel?,
                outcome: outcome?,
                occurred_on: occurred_on?,
                collector: collector?,
                contact: request.contact.clone(),
                note: request.note.clone(),
                next_action_on: next_action_on?,
                invoices: invoices.into_iter().collect::<Option<Vec<_>>>()?,
            },
        ))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(
    event: &RecordedEvent,
    replayed: bool,
) -> Option<pb::RecordCollectionActivityResponse> {
    let Event::CollectionActivityRecorded(CollectionActivityRecorded { .. }) =
        &event.envelope.event
    else {
        return None;
    };
    Some(pb::RecordCollectionActivityResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
