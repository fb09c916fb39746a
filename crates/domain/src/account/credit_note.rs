//! Credit notes: a subsidiary credits the customer (goods returned, a price corrected, 红字发票),
//! either against one invoice, whose open amount it reduces, or on account, where it becomes
//! unapplied credit that is applied or refunded like unapplied cash.
//!
//! A credit-note number is unique per subsidiary across all customers, in a key space of its own
//! (reserved like an invoice number). A note against an invoice is in the invoice's currency,
//! dated on or after the invoice, and never more than the invoice owes on its date or later.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::settlement::{self, Settlement};
use super::state::{AccountState, CreditNoteState, UnappliedSource};
use crate::allocation::{Allocation, AllocationRequest};
use crate::ids::{CommandId, CreditNoteKey, CreditNoteNumber, InvoiceKey, NumberKey, SubsidiaryId};
use crate::limits::REASON_LENGTH_MAX;
use crate::money::Money;
use crate::refusal::{FieldViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_not_ahead, check_positive, check_required_text, positive,
    required_text,
};

/// A subsidiary issues a credit note to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueCreditNote {
    pub subsidiary_id: SubsidiaryId,
    pub credit_note_number: CreditNoteNumber,
    pub amount: Money,
    pub issue_date: NaiveDate,
    /// Why the customer is credited (returned goods, price difference...).
    pub reason: String,
    /// The invoice it credits; `None`: the amount becomes unapplied credit on the account.
    pub invoice: Option<InvoiceKey>,
}

impl IssueCreditNote {
    pub fn key(&self) -> CreditNoteKey {
        CreditNoteKey {
            subsidiary_id: self.subsidiary_id.clone(),
            credit_note_number: self.credit_note_number.clone(),
        }
    }
}

/// A subsidiary issued a credit note to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteIssued {
    pub subsidiary_id: SubsidiaryId,
    pub credit_note_number: CreditNoteNumber,
    pub amount: Money,
    pub issue_date: NaiveDate,
    pub reason: String,
    /// The invoice whose open amount it reduced by its whole amount; `None`: on account.
    pub invoice: Option<InvoiceKey>,
}

impl CreditNoteIssued {
    pub fn key(&self) -> CreditNoteKey {
        CreditNoteKey {
            subsidiary_id: self.subsidiary_id.clone(),
            credit_note_number: self.credit_note_number.clone(),
        }
    }

    /// The reduction of the credited invoice, if it credits one.
    pub fn allocation(&self) -> Option<Allocation> {
        self.invoice.as_ref().map(|invoice| Allocation {
            invoice: invoice.clone(),
            amount: self.amount,
        })
    }
}

impl CommandRules for IssueCreditNote {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_required_text(&mut violations, "reason", &self.reason, REASON_LENGTH_MAX);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.issue_date
    }

    fn reserves(&self) -> Option<NumberKey> {
        Some(NumberKey::CreditNote(self.key()))
    }
}

impl Decide for IssueCreditNote {
    type Event = CreditNoteIssued;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<CreditNoteIssued, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(&mut dates, "issue_date", self.issue_date, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let key = self.key();
        if account.has_credit_note(&key) {
            return Err(duplicate(&key, account));
        }
        if let Some(invoice) = &self.invoice {
            let request = AllocationRequest {
                invoice: invoice.clone(),
                amount: self.amount,
            };
            settlement::check(
                account,
                &[request],
                self.issue_date,
                &Settlement::CREDIT_NOTE,
            )?;
        }
        Ok(CreditNoteIssued {
            subsidiary_id: self.subsidiary_id.clone(),
            credit_note_number: self.credit_note_number.clone(),
            amount: self.amount,
            issue_date: self.issue_date,
            reason: self.reason.clone(),
            invoice: self.invoice.clone(),
        })
    }
}

/// The refusal of a credit-note number the customer already has (the service's reservation
/// refuses one another customer has, with the same reason).
pub fn duplicate(key: &CreditNoteKey, account: &AccountState) -> Refusal {
    Refusal::already_exists(
        Reason::DuplicateCreditNoteNumber,
        format!(
            "{key} was already issued to customer {}",
            account.customer_id
        ),
    )
    .with_metadata("subsidiary_id", &key.subsidiary_id)
    .with_metadata("credit_note_number", &key.credit_note_number)
}

impl EventRules for CreditNoteIssued {
    fn takes_number(&self) -> Option<NumberKey> {
        Some(NumberKey::CreditNote(self.key()))
    }

    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("issue date", self.issue_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.issue_date", self.issue_date)?;
        required_text("data.reason", &self.reason, REASON_LENGTH_MAX)
    }

    fn touches(&self) -> Vec<&SubsidiaryId> {
        self.invoice.iter().map(|i| &i.subsidiary_id).collect()
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let key = self.key();
        if account.credit_notes.contains_key(&key) {
            return Err(format!("{key} issued twice"));
        }
        match self.allocation() {
            Some(allocation) => {
                settlement::settle(account, std::slice::from_ref(&allocation), self.issue_date)?;
                if let Some(invoice) = account.invoices.get_mut(&allocation.invoice) {
                    invoice.credited += self.amount.amount();
                }
            }
            None => account.add_unapplied(UnappliedSource::Credit, self.amount, self.issue_date),
        }
        account.credit_notes.insert(
            key.clone(),
            CreditNoteState {
                key,
                amount: self.amount,
                issue_date: self.issue_date,
                reason: self.reason.clone(),
                invoice: self.invoice.clone(),
            },
        );
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl CreditNoteIssued {
    /// A valid credit note for tests: `SUB-A/CN-1`, 150.00 CNY on account, issued 2026-06-20
    /// for returned goods.
    pub fn sample() -> Self {
        let key = InvoiceKey::sample();
        CreditNoteIssued {
            subsidiary_id: key.subsidiary_id,
            credit_note_number: CreditNoteNumber::parse("CN-1").expect("a valid number"),
            amount: Money::cny("150.00"),
            issue_date: NaiveDate::from_ymd_opt(2026, 6, 20).expect("a date"),
            reason: "returned goods".to_owned(),
            invoice: None,
        }
    }

    /// The command this event records.
    pub fn command(&self) -> IssueCreditNote {
        IssueCreditNote {
            subsidiary_id: self.subsidiary_id.clone(),
            credit_note_number: self.credit_note_number.clone(),
            amount: self.amount,
            issue_date: self.issue_date,
            reason: self.reason.clone(),
            invoice: self.invoice.clone(),
        }
    }
}
