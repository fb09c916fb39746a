//! `RecordPromiseToPay`: a collector records a customer's promise to pay.

use receivables_domain::account::promise;
use receivables_domain::command::RecordPromiseToPay;
use receivables_domain::limits::INVOICES_PER_PROMISE_MAX;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CommandBody, Event, InvoiceKey, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::RecordPromiseToPayRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let subsidiary_id = fields.subsidiary_id("subsidiary_id", &request.subsidiary_id);
    let amount = fields.money("amount", request.amount.as_ref());
    let made_on = fields.date("made_on", &request.made_on);
    let promised_date = fields.date("promised_date", &request.promised_date);
    let collector = fields.person("collector", &request.collector);
    let invoices: Vec<Option<InvoiceKey>> = request
        .invoices
        .iter()
        .take(INVOICES_PER_PROMISE_MAX + 1)
        .enumerate()
        .map(|(index, invoice)| fields.invoice(&format!("invoices[{index}]"), Some(invoice)))
        .collect();
    let mut rules = Vec::new();
    if request.invoices.len() > INVOICES_PER_PROMISE_MAX {
        rules.push(FieldViolation::new(
            "invoices",
            format!(
                "at most {INVOICES_PER_PROMISE_MAX} invoices per promise, got {}",
                request.invoices.len()
            ),
        ));
    } else if let Some(read) = invoices.iter().cloned().collect::<Option<Vec<_>>>() {
        promise::check_invoices(&mut rules, &read);
    }
    if let (Some(made_on), Some(promised_date)) = (made_on, promised_date) {
        promise::check_promised_date(&mut rules, made_on, promised_date);
    }
    promise::check_note(&mut rules, &request.note);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::RecordPromiseToPay(RecordPromiseToPay {
            subsidiary_id: subsidiary_id?,
            amount: amount?,
            made_on: made_on?,
            promised_date: promised_date?,
            invoices: invoices.into_iter().collect::<Option<Vec<_>>>()?,
            collector: collector?,
            note: request.note.clone(),
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::RecordPromiseToPayResponse> {
    let Event::PromiseToPay(promise) = &event.envelope.event else {
        return None;
    };
    Some(pb::RecordPromiseToPayResponse {
        receipt: Some(responses::receipt(event, replayed)),
        promise_id: promise.promise_id.to_string(),
    })
}
