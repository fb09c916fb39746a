//! `ChangeCreditLimit`: the credit department sets a customer's limit, policy and grade.

use receivables_domain::account::credit_limit;
use receivables_domain::command::ChangeCreditLimit;
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::{CommandBody, Event, Money, RecordedEvent, Refusal};

use super::{Addressed, finish};
use crate::fields::Fields;
use crate::{pb, responses};

fn credit_policy(policy: pb::CreditPolicy) -> Option<CreditPolicy> {
    match policy {
        pb::CreditPolicy::Unspecified => None,
        pb::CreditPolicy::Block => Some(CreditPolicy::Block),
        pb::CreditPolicy::Warn => Some(CreditPolicy::Warn),
    }
}

fn credit_grade(grade: pb::CreditGrade) -> Option<CreditGrade> {
    match grade {
        pb::CreditGrade::Unspecified => None,
        pb::CreditGrade::A => Some(CreditGrade::A),
        pb::CreditGrade::B => Some(CreditGrade::B),
        pb::CreditGrade::C => Some(CreditGrade::C),
        pb::CreditGrade::D => Some(CreditGrade::D),
    }
}

/// The request as a command to the customer's account, or a refusal naming every bad field.
pub fn read(request: &pb::ChangeCreditLimitRequest) -> Result<Addressed, Refusal> {
    let mut fields = Fields::default();
    let id = fields.command_id(&request.command_id);
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let limit = fields.money_parsed("limit", request.limit.as_ref(), Money::non_negative);
    let policy = fields.enumeration("policy", request.policy, credit_policy);
    let grade = fields.enumeration("grade", request.grade, credit_grade);
    let approved_by = fields.person("approved_by", &request.approved_by);
    let mut rules = Vec::new();
    credit_limit::check_reason(&mut rules, &request.reason);
    credit_limit::check_overdue_hold(&mut rules, request.overdue_hold_days);
    fields.extend(rules);
    let effective_date = if request.effective_date.is_empty() {
        Some(None)
    } else {
        fields
            .date("effective_date", &request.effective_date)
            .map(Some)
    };
    let body = (|| {
        Some(CommandBody::ChangeCreditLimit(ChangeCreditLimit {
            limit: limit?,
            policy: policy?,
            grade: grade?,
            reason: request.reason.clone(),
            approved_by: approved_by?,
            effective_date: effective_date?,
            overdue_hold_days: request.overdue_hold_days,
        }))
    })();
    finish(fields, customer_id, id, body)
}

/// The reply to the command, from the event that recorded it (see [`crate::commands`]).
pub fn reply(event: &RecordedEvent, replayed: bool) -> Option<pb::ChangeCreditLimitResponse> {
    let Event::CreditLimitChanged(_) = &event.envelope.event else {
        return None;
    };
    Some(pb::ChangeCreditLimitResponse {
        receipt: Some(responses::receipt(event, replayed)),
    })
}
