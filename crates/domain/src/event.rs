//! Events (schema version 2): the facts the service has accepted, with the decisions it made.
//!
//! Events are never edited or deleted; a mistake is corrected by a later event. A payment's event
//! records the allocations the command service decided, so that projections and auditors never
//! decide again.

use std::collections::BTreeSet;
use std::fmt::Display;

use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::allocation::AllocationPlan;
use crate::calendar::check_business_date;
use crate::chain::EventHash;
use crate::command::{CommandDigest, InvoiceKey};
use crate::credit::{CreditGrade, CreditPolicy};
use crate::ids::{
    CommandId, CustomerId, EventId, InvoiceNumber, PersonName, Position, Principal, PromiseId,
    SubsidiaryId, check_free_text,
};
use crate::limits::{
    ALLOCATIONS_PER_PAYMENT_MAX, INVOICES_PER_PROMISE_MAX, NOTE_LENGTH_MAX, PAYMENT_TERMS_DAYS_MAX,
    REASON_LENGTH_MAX, REFERENCE_LENGTH_MAX,
};
use crate::money::{self, Money};
use crate::payment::PaymentMethod;

/// The schema version of the envelope and payloads written by this code. Version 2 added the
/// hash chain (`sequence`, `prev_hash`, `hash`).
pub const SCHEMA_VERSION: u32 = 2;

/// The credit check an invoice went through, as decided when it was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditCheckRecord {
    pub limit: Money,
    pub policy: CreditPolicy,
    /// Exposure in the limit's currency after the invoice: a sum over the customer's invoices,
    /// which may be negative or larger than any one amount.
    #[serde(with = "money::derived")]
    pub exposure_after: Money,
    /// The invoice is in another currency than the limit, so it could not be checked.
    pub currency_mismatch: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceIssued {
    pub subsidiary_id: SubsidiaryId,
    pub invoice_number: InvoiceNumber,
    pub amount: Money,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub terms_days: Option<u32>,
    /// Accepted under a `warn` policy although it took exposure above the limit.
    pub over_limit: bool,
    /// The check against the limit; absent when the customer had no limit.
    pub credit_check: Option<CreditCheckRecord>,
}

impl InvoiceIssued {
    pub fn key(&self) -> InvoiceKey {
        InvoiceKey {
            subsidiary_id: self.subsidiary_id.clone(),
            invoice_number: self.invoice_number.clone(),
        }
    }
}

/// How a payment's allocations were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AllocationRule {
    /// As the payer instructed.
    Explicit,
    /// The receiving subsidiary's open invoices, oldest due date first (then issue date, then
    /// number).
    OldestDueFirst,
}

/// Part of a payment applied to one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub invoice: InvoiceKey,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReceived {
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    pub received_date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
    pub allocation_rule: AllocationRule,
    pub allocations: Vec<Allocation>,
    /// What was not applied to any invoice: cash on the account.
    pub unapplied: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLimitChanged {
    pub limit: Money,
    pub policy: CreditPolicy,
    pub grade: CreditGrade,
    pub reason: String,
    pub approved_by: PersonName,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseToPay {
    pub promise_id: PromiseId,
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    pub made_on: NaiveDate,
    pub promised_date: NaiveDate,
    pub invoices: Vec<InvoiceKey>,
    pub collector: PersonName,
    pub note: String,
}

/// The payload of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Event {
    InvoiceIssued(InvoiceIssued),
    PaymentReceived(PaymentReceived),
    CreditLimitChanged(CreditLimitChanged),
    PromiseToPay(PromiseToPay),
}

impl Event {
    /// The event's type name, as it appears in the envelope.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::InvoiceIssued(_) => "InvoiceIssued",
            Event::PaymentReceived(_) => "PaymentReceived",
            Event::CreditLimitChanged(_) => "CreditLimitChanged",
            Event::PromiseToPay(_) => "PromiseToPay",
        }
    }
}

/// An event with everything an auditor needs to know about where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub event_id: EventId,
    pub schema_version: u32,
    pub customer_id: CustomerId,
    pub subsidiary_id: Option<SubsidiaryId>,
    pub command_id: CommandId,
    /// The digest of the command's content, so that a retry can be recognised after a restart.
    pub command_digest: CommandDigest,
    pub principal: Principal,
    /// When the service recorded the event (server clock, UTC).
    pub recorded_at: DateTime<Utc>,
    /// The business date on which the fact takes effect.
    pub effective_date: NaiveDate,
    /// The event's number in its customer's history: 1 for the first, then without gaps.
    pub sequence: u64,
    /// The `hash` of the customer's previous event ([`EventHash::GENESIS`] for the first).
    pub prev_hash: EventHash,
    /// SHA-256 of this envelope's canonical encoding without this field (see [`crate::chain`]).
    pub hash: EventHash,
    #[serde(flatten)]
    pub event: Event,
}

/// An event as read back from the log, with its position there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub position: Position,
    pub envelope: EventEnvelope,
}

/// An event that breaks a rule every event the command service writes keeps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidEvent {
    /// The field's path in the encoded event (`data.allocations[2].amount`).
    pub field: String,
    pub problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Display) -> InvalidEvent {
    InvalidEvent {
        field: field.into(),
        problem: problem.to_string(),
    }
}

fn positive(field: &str, money: &Money) -> Result<(), InvalidEvent> {
    if money.amount() <= Decimal::ZERO {
        return Err(invalid(field, format!("{money} is not greater than zero")));
    }
    Ok(())
}

fn business_date(field: &str, date: NaiveDate) -> Result<(), InvalidEvent> {
    check_business_date(date).map_err(|e| invalid(field, e))?;
    Ok(())
}

fn free_text(field: &str, text: &str, max: usize) -> Result<(), InvalidEvent> {
    check_free_text(text, max).map_err(|e| invalid(field, e))
}

/// The subsidiary the payload names, which the envelope names too.
fn payload_subsidiary(event: &Event) -> Option<&SubsidiaryId> {
    match event {
        Event::InvoiceIssued(e) => Some(&e.subsidiary_id),
        Event::PaymentReceived(e) => Some(&e.subsidiary_id),
        Event::CreditLimitChanged(_) => None,
        Event::PromiseToPay(e) => Some(&e.subsidiary_id),
    }
}

impl EventEnvelope {
    /// Checks what every event the command service writes satisfies whatever the account held:
    /// the rules of its command restated over the event (amounts, dates and their order, text
    /// lengths, allocations that add up to the payment) and an envelope that agrees with its
    /// payload. Ids, amounts' scale and size, and names are checked as they are read; this
    /// checks the rest. The codec checks it where an event is written and where it is read, so
    /// that an event breaking these rules is neither appended nor believed when read back,
    /// whatever its hash says (anyone can compute a SHA-256).
    pub fn check(&self) -> Result<(), InvalidEvent> {
        if self.sequence == 0 {
            return Err(invalid("sequence", "sequences start at 1"));
        }
        if self.subsidiary_id.as_ref() != payload_subsidiary(&self.event) {
            return Err(invalid(
                "subsidiary_id",
                "is not the subsidiary the event's data names",
            ));
        }
        business_date("effective_date", self.effective_date)?;
        let takes_effect = |field: &str, date: NaiveDate| {
            if self.effective_date != date {
                return Err(invalid(
                    "effective_date",
                    format!("{} is not the {field}, {date}", self.effective_date),
                ));
            }
            Ok(())
        };
        match &self.event {
            Event::InvoiceIssued(e) => {
                positive("data.amount", &e.amount)?;
                business_date("data.issue_date", e.issue_date)?;
                business_date("data.due_date", e.due_date)?;
                takes_effect("issue date", e.issue_date)?;
                if e.due_date < e.issue_date {
                    return Err(invalid("data.due_date", "is before the issue date"));
                }
                if let Some(days) = e.terms_days
                    && (days > PAYMENT_TERMS_DAYS_MAX
                        || e.issue_date.checked_add_days(Days::new(u64::from(days)))
                            != Some(e.due_date))
                {
                    return Err(invalid(
                        "data.terms_days",
                        format!("{days} days after the issue date is not the due date"),
                    ));
                }
                if let Some(check) = &e.credit_check {
                    if check.limit.amount() < Decimal::ZERO {
                        return Err(invalid("data.credit_check.limit", "is negative"));
                    }
                    if check.exposure_after.currency() != check.limit.currency() {
                        return Err(invalid(
                            "data.credit_check.exposure_after",
                            "is not in the limit's currency",
                        ));
                    }
                }
                let warned = e
                    .credit_check
                    .as_ref()
                    .is_some_and(|check| check.policy == CreditPolicy::Warn);
                if e.over_limit && !warned {
                    return Err(invalid(
                        "data.over_limit",
                        "only an invoice checked under policy WARN goes over the limit",
                    ));
                }
            }
            Event::PaymentReceived(e) => {
                positive("data.amount", &e.amount)?;
                business_date("data.received_date", e.received_date)?;
                takes_effect("received date", e.received_date)?;
                free_text("data.reference", &e.reference, REFERENCE_LENGTH_MAX)?;
                if e.allocations.len() > ALLOCATIONS_PER_PAYMENT_MAX {
                    return Err(invalid(
                        "data.allocations",
                        format!("more than {ALLOCATIONS_PER_PAYMENT_MAX}"),
                    ));
                }
                let mut seen = BTreeSet::new();
                for (index, allocation) in e.allocations.iter().enumerate() {
                    if !seen.insert(&allocation.invoice) {
                        return Err(invalid(
                            format!("data.allocations[{index}].invoice"),
                            format!("{} is allocated to more than once", allocation.invoice),
                        ));
                    }
                }
                let plan = AllocationPlan {
                    allocations: e.allocations.clone(),
                    unapplied: e.unapplied,
                };
                if !plan.is_balanced(e.amount) {
                    return Err(invalid(
                        "data.allocations",
                        "allocations and unapplied do not add up to the payment",
                    ));
                }
            }
            Event::CreditLimitChanged(e) => {
                if e.limit.amount() < Decimal::ZERO {
                    return Err(invalid("data.limit", "is negative"));
                }
                if e.reason.trim().is_empty() {
                    return Err(invalid("data.reason", "a reason is required"));
                }
                free_text("data.reason", &e.reason, REASON_LENGTH_MAX)?;
            }
            Event::PromiseToPay(e) => {
                positive("data.amount", &e.amount)?;
                business_date("data.made_on", e.made_on)?;
                business_date("data.promised_date", e.promised_date)?;
                takes_effect("day the promise was made", e.made_on)?;
                if e.promised_date < e.made_on {
                    return Err(invalid("data.promised_date", "is before made_on"));
                }
                if e.invoices.len() > INVOICES_PER_PROMISE_MAX {
                    return Err(invalid(
                        "data.invoices",
                        format!("more than {INVOICES_PER_PROMISE_MAX}"),
                    ));
                }
                let distinct: BTreeSet<&InvoiceKey> = e.invoices.iter().collect();
                if distinct.len() != e.invoices.len() {
                    return Err(invalid("data.invoices", "names an invoice more than once"));
                }
                free_text("data.note", &e.note, NOTE_LENGTH_MAX)?;
            }
        }
        Ok(())
    }
}
