//! `ReversePayment`: the receiving subsidiary reverses a payment that bounced or was returned.

use receivables_domain::CommandId;
use receivables_domain::account::reversal::ReversalReason;
use receivables_domain::command::ReversePayment;
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

fn reversal_reason(reason: pb::ReversalReason) -> Option<ReversalReason> {
    match reason {
        pb::ReversalReason::Unspecified => None,
        pb::ReversalReason::InsufficientFunds => Some(ReversalReason::InsufficientFunds),
        pb::ReversalReason::ReturnedByBank => Some(ReversalReason::ReturnedByBank),
        pb::ReversalReason::Fraud => Some(ReversalReason::Fraud),
        pb::ReversalReason::EnteredInError => Some(ReversalReason::EnteredInError),
    }
}

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::ReversePaymentRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let payment = fields
        .required("payment_command_id", &request.payment_command_id)
        .then(|| {
            fields.check(
                "payment_command_id",
                CommandId::parse(&request.payment_command_id),
            )
        })
        .flatten();
    let reversal_date = fields.date("reversal_date", &request.reversal_date);
    let reason = fields.enumeration("reason", request.reason, reversal_reason);
    let body = (|| {
        Some(CommandBody::ReversePayment(ReversePayment {
            subsidiary_id: subsidiary_id?,
            payment: payment?,
            reversal_date: reversal_date?,
            reason: reason?,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::ReversePaymentResponse> {
    let Event::PaymentReversed(reversal) = &event.envelope.event else {
        return None;
    };
    Some(pb::ReversePaymentResponse {
        receipt: Some(responses::receipt(event, replayed)),
        reopened: reversal
            .reopened
            .iter()
            .map(responses::allocation)
            .collect(),
        unapplied_removed: Some(responses::money(reversal.unapplied)),
    })
}
