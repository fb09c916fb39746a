//! `ConfirmBalance`: the customer confirmed what it owes the group at the end of a day.

use receivables_domain::command::ConfirmBalance;
use receivables_domain::limits::NOTE_LENGTH_MAX;
use receivables_domain::rules::check_text;
use receivables_domain::{CommandBody, Event, Money, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::ConfirmBalanceRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let as_of = fields.date("as_of", &request.as_of);
    // Any sign: a customer with money on account confirms a negative balance.
    let confirmed = fields.money_parsed("confirmed", request.confirmed.as_ref(), Money::signed);
    let confirmed_by = fields.person("confirmed_by", &request.confirmed_by);
    let mut rules = Vec::new();
    check_text(&mut rules, "note", &request.note, NOTE_LENGTH_MAX);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::ConfirmBalance(ConfirmBalance {
            as_of: as_of?,
            confirmed: confirmed?,
            confirmed_by: confirmed_by?,
            note: request.note.clone(),
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::ConfirmBalanceResponse> {
    let Event::BalanceConfirmed(e) = &event.envelope.event else {
        return None;
    };
    Some(pb::ConfirmBalanceResponse {
        receipt: Some(responses::receipt(event, replayed)),
        balance: Some(responses::money(e.balance)),
        difference: Some(responses::money(Money::of(
            e.difference(),
            e.confirmed.currency(),
        ))),
    })
}
