//! `ListCollectionActivities`: collectors' contacts with customers in a period, newest first;
//! and an activity on the wire, which the work queue's last contact reuses.

use receivables_domain::ids::PersonName;
use receivables_domain::refusal::FieldViolation;
use receivables_domain::{CustomerId, Position};
use receivables_projections::activities::{ActivitiesPage, ActivitiesQuery, Activity};

use crate::commands::collection_activity::{channel_to_wire, outcome_to_wire};
use crate::fields::Fields;
use crate::queries::{page_size, paged};
use crate::{pb, responses};

/// Reads and validates a `ListCollectionActivities` request; every bad field at once.
pub fn read(
    message: &pb::ListCollectionActivitiesRequest,
) -> Result<ActivitiesQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let from = fields.date("from", &message.from);
    let to = fields.date("to", &message.to);
    let customer = fields.optional("customer_id", &message.customer_id, CustomerId::parse);
    let collector = fields.optional("collector", &message.collector, PersonName::parse);
    let size = page_size(&mut fields, message.page_size);
    let query = match (from, to) {
        (Some(from), Some(to)) => fields.check("to", ActivitiesQuery::new(from, to)),
        _ => None,
    };
    let (Some(mut query), Some(customer), Some(collector), Some(size)) =
        (query, customer, collector, size)
    else {
        return Err(fields.violations);
    };
    query.customer = customer;
    query.collector = collector;
    match paged(&mut fields, query, Some(size), &message.page_token) {
        Some(query) if fields.is_clean() => Ok(query),
        _ => Err(fields.violations),
    }
}

/// An activity as a message.
pub fn activity(activity: Activity) -> pb::CollectionActivity {
    pb::CollectionActivity {
        position: activity.position,
        customer_id: activity.customer.to_string(),
        subsidiary_id: activity.subsidiary.to_string(),
        channel: channel_to_wire(activity.channel).into(),
        outcome: outcome_to_wire(activity.outcome).into(),
        occurred_on: responses::date(activity.occurred_on),
        collector: activity.collector.to_string(),
        contact: activity.contact,
        note: activity.note,
        next_action_on: activity
            .next_action_on
            .map(responses::date)
            .unwrap_or_default(),
        invoices: activity.invoices,
    }
}

/// A page of activities as a reply.
pub fn answer(page: ActivitiesPage, position: Position) -> pb::ListCollectionActivitiesResponse {
    pb::ListCollectionActivitiesResponse {
        activities: page.activities.into_iter().map(activity).collect(),
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    }
}
