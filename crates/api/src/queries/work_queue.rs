//! `GetWorkQueue`: the collector work queue, highest priority first.

use receivables_domain::Position;
use receivables_domain::ids::PersonName;
use receivables_domain::refusal::FieldViolation;
use receivables_projections::promises::PROMISE_GRACE_DAYS_DEFAULT;
use receivables_projections::work_queue::{
    EscalationLevel, WorkQueuePage, WorkQueueQuery, WorkQueueWeights,
};

use crate::fields::Fields;
use crate::queries::{activities, page_size, paged};
use crate::{pb, responses};

/// The request's field for the weight of failed promises (broken or partially kept): it keeps the
/// name it had when only broken promises counted, so that clients did not have to change.
const FAILED_PROMISE_FIELD: &str = "weights.broken_promise";

/// The request's field for the weight the read model calls `name`.
fn weight_field(name: &str) -> String {
    match name {
        "failed_promise" => FAILED_PROMISE_FIELD.to_owned(),
        other => format!("weights.{other}"),
    }
}

/// Reads and validates a work queue request; every bad field at once.
pub fn read(message: &pb::GetWorkQueueRequest) -> Result<WorkQueueQuery, Vec<FieldViolation>> {
    let mut fields = Fields::default();
    let as_of = fields.as_of("as_of", &message.as_of);
    let collector = fields.optional("collector", &message.collector, PersonName::parse);
    let defaults = WorkQueueWeights::default();
    let given = message.weights.clone().unwrap_or_default();
    let amount = fields.decimal("weights.amount", &given.amount, defaults.amount);
    let days = fields.decimal("weights.days", &given.days, defaults.days);
    let failed = fields.decimal(
        FAILED_PROMISE_FIELD,
        &given.broken_promise,
        defaults.failed_promise,
    );
    let since_contact = fields.decimal(
        "weights.since_contact",
        &given.since_contact,
        defaults.since_contact,
    );
    let size = page_size(&mut fields, message.page_size);
    let (
        Some(as_of),
        Some(collector),
        Some(amount),
        Some(days),
        Some(failed),
        Some(since_contact),
        Some(size),
    ) = (as_of, collector, amount, days, failed, since_contact, size)
    else {
        return Err(fields.violations);
    };
    let weights = WorkQueueWeights {
        amount,
        days,
        failed_promise: failed,
        since_contact,
    };
    let query = match WorkQueueQuery::new(as_of).with_weights(weights) {
        Ok(query) => Some(query),
        Err(error) => {
            fields.violation(weight_field(error.name), &error);
            None
        }
    };
    let query = query.and_then(|query| paged(&mut fields, query, Some(size), &message.page_token));
    match query {
        Some(mut query) if fields.is_clean() => {
            query.collector = collector;
            query.include_snoozed = message.include_snoozed;
            query.grace_days = message.grace_days.unwrap_or(PROMISE_GRACE_DAYS_DEFAULT);
            Ok(query)
        }
        _ => Err(fields.violations),
    }
}

pub fn escalation(level: EscalationLevel) -> pb::EscalationLevel {
    match level {
        EscalationLevel::Reminder => pb::EscalationLevel::Reminder,
        EscalationLevel::Call => pb::EscalationLevel::Call,
        EscalationLevel::DemandLetter => pb::EscalationLevel::DemandLetter,
        EscalationLevel::StopSupply => pb::EscalationLevel::StopSupply,
        EscalationLevel::LegalOrAgency => pb::EscalationLevel::LegalOrAgency,
    }
}

/// A page of the work queue as a reply. The score goes out exact; clients round it to show it.
pub fn answer(page: WorkQueuePage, position: Position) -> pb::GetWorkQueueResponse {
    let items = page
        .items
        .into_iter()
        .map(|item| pb::WorkItem {
            customer_id: item.customer.to_string(),
            currency: item.currency.code().to_owned(),
            overdue: Some(responses::money(item.overdue)),
            oldest_due_date: responses::date(item.oldest_due_date),
            days_past_due: item.days_past_due,
            broken_promises: item.failed_promises,
            escalation: escalation(item.escalation).into(),
            next_action: item.escalation.next_action().to_owned(),
            collector: item.collector.map(|c| c.to_string()).unwrap_or_default(),
            score: item.score.to_string(),
            rule: item.rule,
            snoozed_until: item.snoozed_until.map(responses::date).unwrap_or_default(),
            customer_name: item.customer_name.unwrap_or_default(),
            collector_default_of: item
                .collector_default_of
                .map(|s| s.to_string())
                .unwrap_or_default(),
            last_contact: item.last_contact.map(activities::activity),
            days_since_contact: item.days_since_contact,
        })
        .collect();
    pb::GetWorkQueueResponse {
        items,
        next_page_token: page.next_page_token.unwrap_or_default(),
        position: position.get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(weights: pb::WorkQueueWeights) -> pb::GetWorkQueueRequest {
        pb::GetWorkQueueRequest {
            weights: Some(weights),
            ..pb::GetWorkQueueRequest::default()
        }
    }

    #[test]
    fn the_weight_of_failed_promises_is_read_from_broken_promise() {
        let query = read(&request(pb::WorkQueueWeights {
            broken_promise: "40".to_owned(),
            ..pb::WorkQueueWeights::default()
        }))
        .expect("valid");
        assert_eq!(query.weights().failed_promise, "40".parse().unwrap());
    }

    #[test]
    fn a_weight_out_of_range_is_refused_under_its_field() {
        for (weights, field) in [
            (
                pb::WorkQueueWeights {
                    broken_promise: "1000001".to_owned(),
                    ..pb::WorkQueueWeights::default()
                },
                "weights.broken_promise",
            ),
            (
                pb::WorkQueueWeights {
                    days: "-1".to_owned(),
                    ..pb::WorkQueueWeights::default()
                },
                "weights.days",
            ),
        ] {
            let violations = read(&request(weights)).expect_err("out of range");
            let named: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
            assert_eq!(named, [field]);
        }
    }
}
