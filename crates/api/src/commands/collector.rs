//! `AssignCollector`: a customer's collector, or a subsidiary's default collector (addressed to
//! the group's own account).

use receivables_domain::command::AssignCollector;
use receivables_domain::ids::PersonName;
use receivables_domain::{CommandBody, CustomerId, Event, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::{Fields, optional};
use crate::{pb, responses};

/// The request as a command to the customer's account or the group's, or a refusal naming
/// every bad field.
pub fn read(request: &pb::AssignCollectorRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let collector = fields.optional("collector", &request.collector, PersonName::parse);
    let (account, default_for) = match (
        optional(&request.customer_id),
        optional(&request.default_for_subsidiary_id),
    ) {
        (Some(customer), None) => (fields.customer_id("customer_id", customer), Some(None)),
        (None, Some(subsidiary)) => (
            Some(CustomerId::group()),
            fields
                .subsidiary_id("default_for_subsidiary_id", subsidiary)
                .map(Some),
        ),
        (Some(_), Some(_)) => {
            fields.violation(
                "default_for_subsidiary_id",
                "set either customer_id or default_for_subsidiary_id, not both",
            );
            (None, None)
        }
        (None, None) => {
            fields.violation(
                "customer_id",
                "set customer_id, or default_for_subsidiary_id for a subsidiary's default",
            );
            (None, None)
        }
    };
    let body = (|| {
        Some(CommandBody::AssignCollector(AssignCollector {
            default_for: default_for?,
            collector: collector?,
        }))
    })();
    finish(fields, account, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::AssignCollectorResponse> {
    let Event::CollectorAssigned(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::AssignCollectorResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
