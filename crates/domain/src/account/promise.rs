//! Promises to pay: a collector records that the customer promised to pay an amount by a date,
//! for named invoices or for the account as a whole.
//!
//! A promise cannot be for more than the customer owes in its currency (or, when it names
//! invoices, more than they have open), nor for a customer who owes nothing. Its id is the id of
//! the command that recorded it. Whether it was kept is a question of later payments, answered
//! by the read side for any date; the account only records it.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::state::{AccountState, PromiseState};
use crate::ids::{CommandId, InvoiceKey, PersonName, PromiseId, SubsidiaryId};
use crate::limits::{INVOICES_PER_PROMISE_MAX, NOTE_LENGTH_MAX};
use crate::money::Money;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_invoice_list, check_positive, check_text, free_text,
    invalid, positive,
};

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

/// The promised date is not before the day the promise was made. Shared with the wire mapping.
pub fn check_promised_date(
    violations: &mut Vec<FieldViolation>,
    made_on: NaiveDate,
    promised_date: NaiveDate,
) {
    if promised_date < made_on {
        violations.push(FieldViolation::new(
            "promised_date",
            format!(
                "promised date {promised_date} is before the date the promise was made, {made_on}"
            ),
        ));
    }
}

/// The invoices a promise names: at most [`INVOICES_PER_PROMISE_MAX`], each once. Shared with
/// the wire mapping.
pub fn check_invoices(violations: &mut Vec<FieldViolation>, invoices: &[InvoiceKey]) {
    check_invoice_list(violations, invoices, INVOICES_PER_PROMISE_MAX, "promise");
}

/// The collector's note: bounded free text. Shared with the wire mapping.
pub fn check_note(violations: &mut Vec<FieldViolation>, note: &str) {
    check_text(violations, "note", note, NOTE_LENGTH_MAX);
}

/// The customer promised to pay.
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

impl CommandRules for RecordPromiseToPay {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_promised_date(&mut violations, self.made_on, self.promised_date);
        check_invoices(&mut violations, &self.invoices);
        check_note(&mut violations, &self.note);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.made_on
    }
}

impl Decide for RecordPromiseToPay {
    type Event = PromiseToPay;

    fn decide(
        &self,
        state: &AccountState,
        command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<PromiseToPay, Refusal> {
        let currency = self.amount.currency();
        let mut violations = Vec::new();
        let mut covered = Decimal::ZERO;
        for key in &self.invoices {
            match state.invoices.get(key) {
                Some(invoice) if invoice.open > Decimal::ZERO => {
                    if invoice.amount.currency() != currency {
                        violations.push(PreconditionViolation {
                            kind: Reason::CurrencyMismatch,
                            subject: key.to_string(),
                            description: format!(
                                "the invoice is in {}, the promise in {currency}",
                                invoice.amount.currency()
                            ),
                        });
                    }
                    covered += invoice.open;
                }
                _ => violations.push(PreconditionViolation {
                    kind: Reason::InvoiceNotFound,
                    subject: key.to_string(),
                    description: format!(
                        "customer {} has no open invoice with this number",
                        state.customer_id
                    ),
                }),
            }
        }
        if let Some(first) = violations.first() {
            return Err(Refusal::precondition(first.kind, violations));
        }
        let balance = state.exposure(currency);
        let subject = format!("customers/{}/balance", state.customer_id);
        if balance <= Decimal::ZERO {
            return Err(Refusal::precondition(
                Reason::NothingOwed,
                vec![PreconditionViolation {
                    kind: Reason::NothingOwed,
                    subject,
                    description: format!(
                        "the customer owes nothing in {currency} (balance {})",
                        Money::of(balance, currency)
                    ),
                }],
            ));
        }
        let ceiling = if self.invoices.is_empty() {
            balance
        } else {
            covered.min(balance)
        };
        if self.amount.amount() > ceiling {
            return Err(Refusal::precondition(
                Reason::PromiseExceedsBalance,
                vec![PreconditionViolation {
                    kind: Reason::PromiseExceedsBalance,
                    subject,
                    description: format!(
                        "promise of {} is more than the {} owed",
                        self.amount,
                        Money::of(ceiling, currency)
                    ),
                }],
            )
            .with_metadata("balance", Money::of(ceiling, currency).amount())
            .with_metadata("currency", currency));
        }
        Ok(PromiseToPay {
            promise_id: command_id.into(),
            subsidiary_id: self.subsidiary_id.clone(),
            amount: self.amount,
            made_on: self.made_on,
            promised_date: self.promised_date,
            invoices: self.invoices.clone(),
            collector: self.collector.clone(),
            note: self.note.clone(),
        })
    }
}

impl EventRules for PromiseToPay {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("day the promise was made", self.made_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.made_on", self.made_on)?;
        business_date("data.promised_date", self.promised_date)?;
        if self.promised_date < self.made_on {
            return Err(invalid("data.promised_date", "is before made_on"));
        }
        if self.invoices.len() > INVOICES_PER_PROMISE_MAX {
            return Err(invalid(
                "data.invoices",
                format!("more than {INVOICES_PER_PROMISE_MAX}"),
            ));
        }
        let distinct: BTreeSet<&InvoiceKey> = self.invoices.iter().collect();
        if distinct.len() != self.invoices.len() {
            return Err(invalid("data.invoices", "names an invoice more than once"));
        }
        free_text("data.note", &self.note, NOTE_LENGTH_MAX)
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        state.promises.push(PromiseState {
            promise_id: self.promise_id,
            subsidiary_id: self.subsidiary_id.clone(),
            amount: self.amount,
            made_on: self.made_on,
            promised_date: self.promised_date,
            invoices: self.invoices.clone(),
            collector: self.collector.clone(),
        });
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl PromiseToPay {
    /// A valid promise for tests: 600.00 CNY for `SUB-A/INV-1`, made 2026-06-20 for 2026-07-10,
    /// with a fresh promise id.
    pub fn sample() -> Self {
        let key = InvoiceKey::sample();
        let id = CommandId::from_uuid(uuid::Uuid::new_v4()).expect("a random UUID is never nil");
        PromiseToPay {
            promise_id: id.into(),
            subsidiary_id: key.subsidiary_id.clone(),
            amount: Money::cny("600.00"),
            made_on: NaiveDate::from_ymd_opt(2026, 6, 20).expect("a date"),
            promised_date: NaiveDate::from_ymd_opt(2026, 7, 10).expect("a date"),
            invoices: vec![key],
            collector: PersonName::parse("Wang Fang").expect("a name"),
            note: "by the next payment run".to_owned(),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> RecordPromiseToPay {
        RecordPromiseToPay {
            subsidiary_id: self.subsidiary_id.clone(),
            amount: self.amount,
            made_on: self.made_on,
            promised_date: self.promised_date,
            invoices: self.invoices.clone(),
            collector: self.collector.clone(),
            note: self.note.clone(),
        }
    }
}
