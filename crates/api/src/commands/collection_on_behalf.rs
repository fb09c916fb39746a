//! `SetCollectionOnBehalf`: the group lets one subsidiary move money against another's
//! documents, or stops it. The request names no customer: the command goes to the group's own
//! account.

use receivables_domain::account::{collection_on_behalf, credit_limit};
use receivables_domain::command::SetCollectionOnBehalf;
use receivables_domain::{CommandBody, CustomerId, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

/// The request as a command to the group's account, or a refusal naming every bad field.
pub fn read(request: &pb::SetCollectionOnBehalfRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let collector = fields.subsidiary_id("collector_id", &request.collector_id);
    let on_behalf_of = fields.subsidiary_id("on_behalf_of_id", &request.on_behalf_of_id);
    let approved_by = fields.person("approved_by", &request.approved_by);
    let mut rules = Vec::new();
    if let (Some(collector), Some(on_behalf_of)) = (&collector, &on_behalf_of) {
        collection_on_behalf::check_pair(&mut rules, collector, on_behalf_of);
    }
    credit_limit::check_reason(&mut rules, &request.reason);
    fields.extend(rules);
    let body = (|| {
        Some(CommandBody::SetCollectionOnBehalf(SetCollectionOnBehalf {
            collector_id: collector?,
            on_behalf_of_id: on_behalf_of?,
            enabled: request.enabled,
            reason: request.reason.clone(),
            approved_by: approved_by?,
        }))
    })();
    finish(fields, Some(CustomerId::group()), id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::SetCollectionOnBehalfResponse> {
    let Event::CollectionOnBehalfSet(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::SetCollectionOnBehalfResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
