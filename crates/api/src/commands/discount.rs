//! `AllowDiscount`: an early-payment discount taken off an invoice for a payment received
//! within its terms' window.

use receivables_domain::command::AllowDiscount;
use receivables_domain::{CommandBody, CommandId, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command, or a refusal naming every bad field.
pub fn read(request: &pb::AllowDiscountRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let invoice = fields.invoice("invoice", request.invoice.as_ref());
    let payment_id = fields.check("payment_id", CommandId::parse(&request.payment_id));
    let amount = fields.money("amount", request.amount.as_ref());
    let body = (|| {
        Some(CommandBody::AllowDiscount(AllowDiscount {
            invoice: invoice?,
            payment_id: payment_id?,
            amount: amount?,
            note: request.note.clone(),
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::AllowDiscountResponse> {
    let Event::DiscountAllowed(allowed) = &event.envelope.event else {
        return None;
    };
    Some(pb::AllowDiscountResponse {
        receipt: Some(responses::receipt(event, replayed)),
        allowed_on: responses::date(allowed.allowed_on),
        most_off: Some(responses::money(allowed.most_off)),
    })
}
