//! `IssueCreditNote`: a subsidiary credits the customer against an invoice or on account.

use receivables_domain::command::IssueCreditNote;
use receivables_domain::ids::CreditNoteNumber;
use receivables_domain::limits::REASON_LENGTH_MAX;
use receivables_domain::rules::check_required_text;
use receivables_domain::{CommandBody, Event, Money, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::IssueCreditNoteRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let number = fields.check(
        "credit_note_number",
        CreditNoteNumber::parse(&request.credit_note_number),
    );
    let amount = fields.money("amount", request.amount.as_ref());
    let issue_date = fields.date("issue_date", &request.issue_date);
    let invoice = match &request.invoice {
        None => Some(None),
        Some(invoice) => fields.invoice("invoice", Some(invoice)).map(Some),
    };
    let mut rules = Vec::new();
    check_required_text(&mut rules, "reason", &request.reason, REASON_LENGTH_MAX);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::IssueCreditNote(IssueCreditNote {
            subsidiary_id: subsidiary_id?,
            credit_note_number: number?,
            amount: amount?,
            issue_date: issue_date?,
            reason: request.reason.clone(),
            invoice: invoice?,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::IssueCreditNoteResponse> {
    let Event::CreditNoteIssued(note) = &event.envelope.event else {
        return None;
    };
    let on_account = if note.invoice.is_some() {
        Money::zero(note.amount.currency())
    } else {
        note.amount
    };
    Some(pb::IssueCreditNoteResponse {
        receipt: Some(responses::receipt(event, replayed)),
        invoice: note.invoice.as_ref().map(responses::invoice_ref),
        unapplied_credit: Some(responses::money(on_account)),
    })
}
