//! Commands: what a subsidiary or the credit department asks the service to record.
//!
//! A command is built from validated parts (ids, money, dates), so most bad input never becomes
//! a command at all. What needs several fields at once (due date after issue date, allocations
//! within the payment) is checked by [`CommandBody::check`]. What needs the account's state is
//! decided by the aggregate.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::credit::{CreditGrade, CreditPolicy};
use crate::ids::{CommandId, InvoiceNumber, PersonName, SubsidiaryId, check_free_text};
use crate::limits::{
    ALLOCATIONS_PER_PAYMENT_MAX, INVOICES_PER_PROMISE_MAX, NOTE_LENGTH_MAX, PAYMENT_TERMS_DAYS_MAX,
    REASON_LENGTH_MAX, REFERENCE_LENGTH_MAX,
};
use crate::money::Money;
use crate::payment::PaymentMethod;
use crate::refusal::FieldViolation;

/// An invoice of a customer, named by the subsidiary that issued it and its number there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InvoiceKey {
    pub subsidiary_id: SubsidiaryId,
    pub invoice_number: InvoiceNumber,
}

impl std::fmt::Display for InvoiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invoices/{}/{}", self.subsidiary_id, self.invoice_number)
    }
}

/// A subsidiary issues an invoice to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueInvoice {
    pub subsidiary_id: SubsidiaryId,
    pub invoice_number: InvoiceNumber,
    pub amount: Money,
    pub issue_date: NaiveDate,
    /// The due date; given directly, or derived from `terms_days` by the caller.
    pub due_date: NaiveDate,
    /// Payment terms in days, when the invoice was given by terms rather than a due date.
    pub terms_days: Option<u32>,
}

/// A requested allocation of a payment to one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationRequest {
    pub invoice: InvoiceKey,
    pub amount: Money,
}

/// A subsidiary received a payment from the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPayment {
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    pub received_date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
    /// Explicit allocations; empty means "oldest due first among the receiving subsidiary's
    /// open invoices".
    pub allocations: Vec<AllocationRequest>,
}

/// The credit department sets the customer's group-wide limit, policy and grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCreditLimit {
    pub limit: Money,
    pub policy: CreditPolicy,
    pub grade: CreditGrade,
    pub reason: String,
    pub approved_by: PersonName,
    /// The business date from which the limit applies; `None` means the day it is recorded.
    pub effective_date: Option<NaiveDate>,
}

/// A collector records the customer's promise to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPromiseToPay {
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    /// The business date on which the promise was made.
    pub made_on: NaiveDate,
    /// The date by which the customer promised to pay.
    pub promised_date: NaiveDate,
    /// The invoices the promise covers; empty means the account as a whole.
    pub invoices: Vec<InvoiceKey>,
    pub collector: PersonName,
    pub note: String,
}

/// What a command asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CommandBody {
    IssueInvoice(IssueInvoice),
    RecordPayment(RecordPayment),
    ChangeCreditLimit(ChangeCreditLimit),
    RecordPromiseToPay(RecordPromiseToPay),
}

/// A command with its client-chosen id (the idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub id: CommandId,
    pub body: CommandBody,
}

/// SHA-256 of a command's content (everything but its id): two submissions with the same id are
/// "the same command" exactly when their digests are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct CommandDigest([u8; 32]);

impl From<CommandDigest> for String {
    fn from(digest: CommandDigest) -> String {
        hex::encode(digest.0)
    }
}

impl TryFrom<String> for CommandDigest {
    type Error = hex::FromHexError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)?;
        Ok(CommandDigest(bytes))
    }
}

impl CommandBody {
    /// The digest of this content. The JSON encoding of these types is deterministic (struct
    /// fields in declaration order, no maps), which is what makes it a fingerprint.
    pub fn digest(&self) -> CommandDigest {
        let bytes = serde_json::to_vec(self)
            .unwrap_or_else(|error| format!("unencodable command: {error}").into_bytes());
        CommandDigest(Sha256::digest(bytes).into())
    }

    /// The rules that need several fields of the command but nothing of the account.
    pub fn check(&self) -> Vec<FieldViolation> {
        match self {
            CommandBody::IssueInvoice(c) => c.check(),
            CommandBody::RecordPayment(c) => c.check(),
            CommandBody::ChangeCreditLimit(c) => c.check(),
            CommandBody::RecordPromiseToPay(c) => c.check(),
        }
    }

    /// The subsidiary the command is posted for, if any.
    pub fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        match self {
            CommandBody::IssueInvoice(c) => Some(&c.subsidiary_id),
            CommandBody::RecordPayment(c) => Some(&c.subsidiary_id),
            CommandBody::ChangeCreditLimit(_) => None,
            CommandBody::RecordPromiseToPay(c) => Some(&c.subsidiary_id),
        }
    }
}

/// Amounts of invoices, payments, allocations and promises are strictly positive. `Money` from
/// the wire is checked when it is parsed; this catches amounts built any other way.
fn check_positive(violations: &mut Vec<FieldViolation>, field: &str, money: &Money) {
    if money.amount() <= Decimal::ZERO {
        violations.push(FieldViolation::new(
            format!("{field}.amount"),
            format!("must be greater than zero, got {}", money.amount()),
        ));
    }
}

impl IssueInvoice {
    pub fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        if let Some(days) = self.terms_days {
            let derived = self
                .issue_date
                .checked_add_days(chrono::Days::new(u64::from(days)));
            if days > PAYMENT_TERMS_DAYS_MAX {
                violations.push(FieldViolation::new(
                    "terms_days",
                    format!("at most {PAYMENT_TERMS_DAYS_MAX} days, got {days}"),
                ));
            } else if derived != Some(self.due_date) {
                violations.push(FieldViolation::new(
                    "terms_days",
                    format!(
                        "{days} days after {} is not the due date {}",
                        self.issue_date, self.due_date
                    ),
                ));
            }
        }
        if self.due_date < self.issue_date {
            violations.push(FieldViolation::new(
                "due_date",
                format!(
                    "due date {} is before the issue date {}",
                    self.due_date, self.issue_date
                ),
            ));
        }
        violations
    }
}

impl RecordPayment {
    pub fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        if let Err(error) = check_free_text(&self.reference, REFERENCE_LENGTH_MAX) {
            violations.push(FieldViolation::new("reference", error));
        }
        if self.allocations.len() > ALLOCATIONS_PER_PAYMENT_MAX {
            violations.push(FieldViolation::new(
                "allocations",
                format!(
                    "at most {ALLOCATIONS_PER_PAYMENT_MAX} allocations per payment, got {}",
                    self.allocations.len()
                ),
            ));
            return violations;
        }
        let mut seen = BTreeSet::new();
        let mut total = Decimal::ZERO;
        for (index, allocation) in self.allocations.iter().enumerate() {
            check_positive(
                &mut violations,
                &format!("allocations[{index}].amount"),
                &allocation.amount,
            );
            if allocation.amount.currency() != self.amount.currency() {
                violations.push(FieldViolation::new(
                    format!("allocations[{index}].amount.currency"),
                    format!(
                        "allocation is in {} but the payment is in {}",
                        allocation.amount.currency(),
                        self.amount.currency()
                    ),
                ));
            }
            if !seen.insert(&allocation.invoice) {
                violations.push(FieldViolation::new(
                    format!("allocations[{index}].invoice"),
                    format!("{} is allocated to more than once", allocation.invoice),
                ));
            }
            total += allocation.amount.amount();
        }
        if total > self.amount.amount() {
            violations.push(FieldViolation::new(
                "allocations",
                format!(
                    "allocations add up to {total}, more than the payment of {}",
                    self.amount
                ),
            ));
        }
        violations
    }
}

impl ChangeCreditLimit {
    pub fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        if self.limit.amount() < Decimal::ZERO {
            violations.push(FieldViolation::new(
                "limit.amount",
                format!("must not be negative, got {}", self.limit.amount()),
            ));
        }
        if self.reason.trim().is_empty() {
            violations.push(FieldViolation::new("reason", "a reason is required"));
        } else if let Err(error) = check_free_text(&self.reason, REASON_LENGTH_MAX) {
            violations.push(FieldViolation::new("reason", error));
        }
        violations
    }
}

impl RecordPromiseToPay {
    pub fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        if self.promised_date < self.made_on {
            violations.push(FieldViolation::new(
                "promised_date",
                format!(
                    "promised date {} is before the date the promise was made, {}",
                    self.promised_date, self.made_on
                ),
            ));
        }
        if self.invoices.len() > INVOICES_PER_PROMISE_MAX {
            violations.push(FieldViolation::new(
                "invoices",
                format!(
                    "at most {INVOICES_PER_PROMISE_MAX} invoices per promise, got {}",
                    self.invoices.len()
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for (index, invoice) in self.invoices.iter().enumerate() {
            if !seen.insert(invoice) {
                violations.push(FieldViolation::new(
                    format!("invoices[{index}]"),
                    format!("{invoice} is named more than once"),
                ));
            }
        }
        if let Err(error) = check_free_text(&self.note, NOTE_LENGTH_MAX) {
            violations.push(FieldViolation::new("note", error));
        }
        violations
    }
}
