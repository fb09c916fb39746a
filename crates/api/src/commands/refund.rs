//! `IssueRefund`: a subsidiary pays unapplied cash or credit back to the customer.

use receivables_domain::account::payment;
use receivables_domain::command::IssueRefund;
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::application::unapplied_source;
use super::payment::payment_method;
use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::IssueRefundRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let source = fields.enumeration("source", request.source, unapplied_source);
    let amount = fields.money("amount", request.amount.as_ref());
    let refund_date = fields.date("refund_date", &request.refund_date);
    let method = fields.enumeration("method", request.method, payment_method);
    let mut rules = Vec::new();
    payment::check_reference(&mut rules, &request.reference);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::IssueRefund(IssueRefund {
            subsidiary_id: subsidiary_id?,
            source: source?,
            amount: amount?,
            refund_date: refund_date?,
            method: method?,
            reference: request.reference.clone(),
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::IssueRefundResponse> {
    let Event::RefundIssued(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::IssueRefundResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
