//! `PublishExchangeRates`: the rates of a date to the group's currency, addressed to the
//! group's own account.

use receivables_domain::account::exchange_rates::check_rates;
use receivables_domain::command::PublishExchangeRates;
use receivables_domain::exchange::{ExchangeRate, Rate};
use receivables_domain::limits::REFERENCE_LENGTH_MAX;
use receivables_domain::rules::check_text;
use receivables_domain::{CommandBody, Currency, CustomerId, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the group's account, or a refusal naming every bad field.
pub fn read(request: &pb::PublishExchangeRatesRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let base = fields.check("base", Currency::parse(&request.base));
    let rate_date = fields.date("rate_date", &request.rate_date);
    let mut rates = Vec::with_capacity(request.rates.len());
    for (index, entry) in request.rates.iter().enumerate() {
        let currency = fields.check(
            &format!("rates[{index}].currency"),
            Currency::parse(&entry.currency),
        );
        let rate = fields.check(&format!("rates[{index}].rate"), Rate::parse(&entry.rate));
        rates.push(currency.zip(rate));
    }
    let mut rules = Vec::new();
    if let Some(base) = base {
        // The rules over the list, on the currencies that could be read.
        let read: Vec<Currency> = rates.iter().flatten().map(|(c, _)| *c).collect();
        if read.len() == rates.len() {
            check_rates(&mut rules, base, &read);
        }
    }
    check_text(&mut rules, "source", &request.source, REFERENCE_LENGTH_MAX);
    fields.extend(rules);
    let body = (|| {
        let rates = rates
            .into_iter()
            .map(|pair| pair.map(|(currency, rate)| ExchangeRate { currency, rate }))
            .collect::<Option<Vec<_>>>()?;
        Some(CommandBody::PublishExchangeRates(PublishExchangeRates {
            base: base?,
            rate_date: rate_date?,
            rates,
            source: request.source.clone(),
        }))
    })();
    finish(fields, Some(CustomerId::group()), id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::PublishExchangeRatesResponse> {
    let Event::ExchangeRatesPublished(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::PublishExchangeRatesResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
