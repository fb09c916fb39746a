//! `ReserveCredit` and `ReleaseCredit`: a subsidiary reserves part of the customer's limit for a
//! sales order, and releases it when the order is cancelled or shrinks.

use receivables_domain::account::credit_reservation::{self, ReleaseCredit, ReserveCredit};
use receivables_domain::ids::OrderNumber;
use receivables_domain::limits::REASON_LENGTH_MAX;
use receivables_domain::rules::check_required_text;
use receivables_domain::{CommandBody, Event, RecordedEvent, Refusal};

use super::invoice::credit_check;
use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read_reserve(request: &pb::ReserveCreditRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let order_number = fields.check("order_number", OrderNumber::parse(&request.order_number));
    let amount = fields.money("amount", request.amount.as_ref());
    let reserved_on = fields.date("reserved_on", &request.reserved_on);
    let expires_on = fields.date("expires_on", &request.expires_on);
    if let (Some(reserved_on), Some(expires_on)) = (reserved_on, expires_on) {
        let mut rule = Vec::new();
        credit_reservation::check_expiry(&mut rule, reserved_on, expires_on);
        fields.extend(rule);
    }
    let body = (|| {
        Some(CommandBody::ReserveCredit(ReserveCredit {
            subsidiary_id: subsidiary_id?,
            order_number: order_number?,
            amount: amount?,
            reserved_on: reserved_on?,
            expires_on: expires_on?,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply_reserve(event: &RecordedEvent, replayed: bool) -> Option<pb::ReserveCreditResponse> {
    let Event::CreditReserved(reserved) = &event.envelope.event else {
        return None;
    };
    Some(pb::ReserveCreditResponse {
        receipt: Some(responses::receipt(event, replayed)),
        over_limit: reserved.over_limit,
        credit_check: reserved.credit_check.as_ref().map(credit_check),
    })
}

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read_release(request: &pb::ReleaseCreditRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let order_number = fields.check("order_number", OrderNumber::parse(&request.order_number));
    let amount = match &request.amount {
        None => Some(None),
        Some(amount) => fields.money("amount", Some(amount)).map(Some),
    };
    let released_on = fields.date("released_on", &request.released_on);
    let mut rules = Vec::new();
    check_required_text(&mut rules, "reason", &request.reason, REASON_LENGTH_MAX);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::ReleaseCredit(ReleaseCredit {
            subsidiary_id: subsidiary_id?,
            order_number: order_number?,
            amount: amount?,
            released_on: released_on?,
            reason: request.reason.clone(),
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply_release(event: &RecordedEvent, replayed: bool) -> Option<pb::ReleaseCreditResponse> {
    let Event::CreditReleased(released) = &event.envelope.event else {
        return None;
    };
    Some(pb::ReleaseCreditResponse {
        receipt: Some(responses::receipt(event, replayed)),
        released: Some(responses::money(released.amount)),
        remaining: Some(responses::money(released.remaining)),
    })
}
