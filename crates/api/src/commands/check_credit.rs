//! `CheckCredit`: would an amount fit under the customer's limit now? Read here, answered by the
//! command service from the customer's account (`account/credit_check.rs`); nothing is
//! appended.

use chrono::NaiveDate;
use receivables_domain::account::credit_check::{CreditAssessment, CreditDecision};
use receivables_domain::{CustomerId, Money, Refusal};

use crate::fields::Fields;
use crate::pb;
use crate::responses::{credit_grade, credit_policy, date, money};

/// A credit check as asked: whose, how much, for which date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditQuestion {
    pub customer_id: CustomerId,
    pub amount: Money,
    /// The service's date when the request gave none.
    pub date: NaiveDate,
}

/// The request as a question, or a refusal naming every bad field.
pub fn read(request: &pb::CheckCreditRequest) -> Result<CreditQuestion, Refusal> {
    let mut fields = Fields::default();
    let customer_id = fields.customer_id("customer_id", &request.customer_id);
    let amount = fields.money("amount", request.amount.as_ref());
    let date = fields.as_of("date", &request.date);
    match (customer_id, amount, date) {
        (Some(customer_id), Some(amount), Some(date)) if fields.is_clean() => Ok(CreditQuestion {
            customer_id,
            amount,
            date,
        }),
        // A question, not a command: refused as a query (INVALID_QUERY) naming every bad field.
        _ => Err(Refusal::invalid_query(fields.violations)),
    }
}

fn decision(decision: CreditDecision) -> pb::CreditDecision {
    match decision {
        CreditDecision::WithinLimit => pb::CreditDecision::WithinLimit,
        CreditDecision::OverLimit => pb::CreditDecision::OverLimit,
        CreditDecision::CustomerOverdue => pb::CreditDecision::CustomerOverdue,
        CreditDecision::NoLimit => pb::CreditDecision::NoLimit,
    }
}

/// The answer, made at the customer's `position`.
pub fn answer(
    question: &CreditQuestion,
    assessment: &CreditAssessment,
    position: u64,
) -> pb::CheckCreditResponse {
    let terms = assessment.terms.as_ref();
    pb::CheckCreditResponse {
        decision: decision(assessment.decision).into(),
        explanation: assessment.explanation.clone(),
        would_accept: assessment.would_accept,
        limit: terms.map(|t| money(t.limit)),
        policy: terms
            .map_or(pb::CreditPolicy::Unspecified, |t| credit_policy(t.policy))
            .into(),
        grade: terms
            .map_or(pb::CreditGrade::Unspecified, |t| credit_grade(t.grade))
            .into(),
        overdue_hold_days: terms.and_then(|t| t.overdue_hold_days),
        exposure: assessment.exposure.map(money),
        exposure_after: assessment.exposure_after.map(money),
        available: assessment.available.map(money),
        conversions: assessment
            .conversions
            .iter()
            .map(|c| pb::ExposureConversion {
                exposure: Some(money(c.exposure)),
                rate: c.rate.to_string(),
                converted: Some(money(c.converted)),
            })
            .collect(),
        lines: assessment
            .lines
            .iter()
            .map(|line| {
                let of = |amount| Some(money(Money::of(amount, line.currency)));
                pb::CreditExposureLine {
                    currency: line.currency.code().to_owned(),
                    open_invoices: of(line.open_invoices),
                    unapplied: of(line.unapplied),
                    reserved: of(line.reserved),
                    exposure: of(line.exposure),
                    overdue: of(line.overdue),
                }
            })
            .collect(),
        oldest_overdue_days: assessment
            .oldest_overdue_days
            .map(|days| u32::try_from(days.max(0)).unwrap_or(u32::MAX)),
        overdue_beyond_hold: assessment
            .overdue_beyond_hold
            .iter()
            .map(|amount| money(*amount))
            .collect(),
        date: date(question.date),
        position,
    }
}
