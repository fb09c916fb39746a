//! `OpenDispute` and `ResolveDispute`: the invoicing subsidiary records that the customer
//! disputes (part of) an invoice, and how the dispute ended.

use receivables_domain::account::dispute;
use receivables_domain::account::state::{DisputeOutcome, DisputeReason};
use receivables_domain::command::{OpenDispute, ResolveDispute};
use receivables_domain::ids::CreditNoteNumber;
use receivables_domain::limits::NOTE_LENGTH_MAX;
use receivables_domain::rules::check_text;
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

fn dispute_reason(reason: pb::DisputeReason) -> Option<DisputeReason> {
    match reason {
        pb::DisputeReason::Unspecified => None,
        pb::DisputeReason::Price => Some(DisputeReason::Price),
        pb::DisputeReason::Quantity => Some(DisputeReason::Quantity),
        pb::DisputeReason::Quality => Some(DisputeReason::Quality),
        pb::DisputeReason::NotDelivered => Some(DisputeReason::NotDelivered),
        pb::DisputeReason::DuplicateBilling => Some(DisputeReason::DuplicateBilling),
        pb::DisputeReason::Other => Some(DisputeReason::Other),
    }
}

fn dispute_outcome(outcome: pb::DisputeOutcome) -> Option<DisputeOutcome> {
    match outcome {
        pb::DisputeOutcome::Unspecified => None,
        pb::DisputeOutcome::Withdrawn => Some(DisputeOutcome::Withdrawn),
        pb::DisputeOutcome::Upheld => Some(DisputeOutcome::Upheld),
    }
}

/// The `OpenDispute` request as a command, or a refusal naming every bad field.
pub fn read_open(request: &pb::OpenDisputeRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let invoice = fields.invoice("invoice", request.invoice.as_ref());
    let amount = fields.money("amount", request.amount.as_ref());
    let reason = fields.enumeration("reason", request.reason, dispute_reason);
    let opened_on = fields.date("opened_on", &request.opened_on);
    let expires_on = fields.optional_date("expires_on", &request.expires_on);
    let mut rules = Vec::new();
    check_text(&mut rules, "note", &request.note, NOTE_LENGTH_MAX);
    if let (Some(opened_on), Some(expires_on)) = (opened_on, expires_on) {
        dispute::check_expiry(&mut rules, opened_on, expires_on);
    }
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::OpenDispute(OpenDispute {
            invoice: invoice?,
            amount: amount?,
            reason: reason?,
            note: request.note.clone(),
            opened_on: opened_on?,
            expires_on: expires_on?,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to `OpenDispute`, from the event that recorded it (see [`crate::commands`]).
pub fn reply_open(event: &RecordedEvent, replayed: bool) -> Option<pb::OpenDisputeResponse> {
    let Event::DisputeOpened(dispute) = &event.envelope.event else {
        return None;
    };
    Some(pb::OpenDisputeResponse {
        receipt: Some(responses::receipt(event, replayed)),
        dispute_id: dispute.dispute_id.to_string(),
    })
}

/// The `ResolveDispute` request as a command, or a refusal naming every bad field.
pub fn read_resolve(request: &pb::ResolveDisputeRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let invoice = fields.invoice("invoice", request.invoice.as_ref());
    let resolved_on = fields.date("resolved_on", &request.resolved_on);
    let outcome = fields.enumeration("outcome", request.outcome, dispute_outcome);
    let credit_note = fields.optional(
        "credit_note_number",
        &request.credit_note_number,
        CreditNoteNumber::parse,
    );
    let mut rules = Vec::new();
    check_text(&mut rules, "note", &request.note, NOTE_LENGTH_MAX);
    if let (Some(outcome), Some(credit_note)) = (outcome, &credit_note) {
        dispute::check_outcome(&mut rules, outcome, credit_note.as_ref());
    }
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::ResolveDispute(ResolveDispute {
            invoice: invoice?,
            resolved_on: resolved_on?,
            outcome: outcome?,
            credit_note: credit_note?,
            note: request.note.clone(),
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to `ResolveDispute`, from the event that recorded it (see [`crate::commands`]).
pub fn reply_resolve(event: &RecordedEvent, replayed: bool) -> Option<pb::ResolveDisputeResponse> {
    let Event::DisputeResolved(resolution) = &event.envelope.event else {
        return None;
    };
    Some(pb::ResolveDisputeResponse {
        receipt: Some(responses::receipt(event, replayed)),
        dispute_id: resolution.dispute_id.to_string(),
    })
}

/// A dispute reason on the wire (the account view).
pub(crate) fn wire_reason(reason: DisputeReason) -> pb::DisputeReason {
    match reason {
        DisputeReason::Price => pb::DisputeReason::Price,
        DisputeReason::Quantity => pb::DisputeReason::Quantity,
        DisputeReason::Quality => pb::DisputeReason::Quality,
        DisputeReason::NotDelivered => pb::DisputeReason::NotDelivered,
        DisputeReason::DuplicateBilling => pb::DisputeReason::DuplicateBilling,
        DisputeReason::Other => pb::DisputeReason::Other,
    }
}

/// A dispute outcome on the wire (the account view).
pub(crate) fn wire_outcome(outcome: DisputeOutcome) -> pb::DisputeOutcome {
    match outcome {
        DisputeOutcome::Withdrawn => pb::DisputeOutcome::Withdrawn,
        DisputeOutcome::Upheld => pb::DisputeOutcome::Upheld,
    }
}
