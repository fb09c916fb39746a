//! `WriteOffInvoice`: credit control writes off part or all of an invoice as bad debt.

use receivables_domain::command::WriteOffInvoice;
use receivables_domain::limits::REASON_LENGTH_MAX;
use receivables_domain::rules::check_required_text;
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::WriteOffInvoiceRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let invoice = fields.invoice("invoice", request.invoice.as_ref());
    let amount = fields.money("amount", request.amount.as_ref());
    let write_off_date = fields.date("write_off_date", &request.write_off_date);
    let approved_by = fields.person("approved_by", &request.approved_by);
    let mut rules = Vec::new();
    check_required_text(&mut rules, "reason", &request.reason, REASON_LENGTH_MAX);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::WriteOffInvoice(WriteOffInvoice {
            invoice: invoice?,
            amount: amount?,
            write_off_date: write_off_date?,
            reason: request.reason.clone(),
            approved_by: approved_by?,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::WriteOffInvoiceResponse> {
    let Event::InvoiceWrittenOff(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::WriteOffInvoiceResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
