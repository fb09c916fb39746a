//! Events (schema version 2): the facts the service has accepted, with the decisions it made.
//!
//! Events are never edited or deleted; a mistake is corrected by a later event. A payment's event
//! records the allocations the command service decided, so that projections and auditors never
//! decide again.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::chain::EventHash;
use crate::command::{CommandDigest, InvoiceKey};
use crate::credit::{CreditGrade, CreditPolicy};
use crate::ids::{
    CommandId, CustomerId, EventId, InvoiceNumber, PersonName, Position, Principal, PromiseId,
    SubsidiaryId,
};
use crate::money::Money;
use crate::payment::PaymentMethod;

/// The schema version of the envelope and payloads written by this code. Version 2 added the
/// hash chain (`sequence`, `prev_hash`, `hash`).
pub const SCHEMA_VERSION: u32 = 2;

/// The credit check an invoice went through, as decided when it was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditCheckRecord {
    pub limit: Money,
    pub policy: CreditPolicy,
    /// Exposure in the limit's currency after the invoice.
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
