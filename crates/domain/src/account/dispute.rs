//! Disputes: the customer contests (part of) an invoice (price, quantity, quality, not
//! delivered, duplicate billing). While a dispute holds, its amount stays owed (in aging and
//! exposure, in a column of its own) but is left out of what collectors chase: the work queue's
//! overdue amount and escalation pause for it.
//!
//! At most one dispute holds on an invoice at any date. It ends when it is resolved (withdrawn:
//! collectible again from the resolution date; upheld: the customer is credited by a credit note
//! the resolution names), or when its expiry date passes (collectible again from the day after).
//! Its id is the id of the command that opened it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::settlement::{invoice_of, refusal};
use super::state::{AccountState, DisputeOutcome, DisputeReason, DisputeState};
use crate::ids::{CommandId, CreditNoteKey, CreditNoteNumber, DisputeId, InvoiceKey, SubsidiaryId};
use crate::limits::NOTE_LENGTH_MAX;
use crate::money::Money;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_not_ahead, check_positive, check_text, free_text, invalid,
    positive,
};

/// A subsidiary records that the customer disputes (part of) one of its invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDispute {
    pub invoice: InvoiceKey,
    pub amount: Money,
    pub reason: DisputeReason,
    pub note: String,
    pub opened_on: NaiveDate,
    /// The last day it holds unless resolved first; `None`: until resolved.
    pub expires_on: Option<NaiveDate>,
}

/// The customer disputes (part of) an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeOpened {
    pub dispute_id: DisputeId,
    pub invoice: InvoiceKey,
    pub amount: Money,
    pub reason: DisputeReason,
    pub note: String,
    pub opened_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
}

/// The subsidiary records how the dispute on one of its invoices ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveDispute {
    pub invoice: InvoiceKey,
    pub resolved_on: NaiveDate,
    pub outcome: DisputeOutcome,
    /// The credit note that upheld it (issued by the invoice's subsidiary); only when upheld.
    pub credit_note: Option<CreditNoteNumber>,
    pub note: String,
}

/// A dispute ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeResolved {
    pub dispute_id: DisputeId,
    pub invoice: InvoiceKey,
    pub resolved_on: NaiveDate,
    pub outcome: DisputeOutcome,
    pub credit_note: Option<CreditNoteNumber>,
    pub note: String,
}

/// The expiry date, when given, is after the day the dispute was opened. Shared with the wire
/// mapping.
pub fn check_expiry(
    violations: &mut Vec<FieldViolation>,
    opened_on: NaiveDate,
    expires_on: Option<NaiveDate>,
) {
    if let Some(expires_on) = expires_on
        && expires_on <= opened_on
    {
        violations.push(FieldViolation::new(
            "expires_on",
            format!("{expires_on} is not after the day the dispute was opened, {opened_on}"),
        ));
    }
}

/// An upheld dispute names the credit note that credited the customer, a withdrawn one none.
/// Shared with the wire mapping.
pub fn check_outcome(
    violations: &mut Vec<FieldViolation>,
    outcome: DisputeOutcome,
    credit_note: Option<&CreditNoteNumber>,
) {
    match (outcome, credit_note) {
        (DisputeOutcome::Upheld, None) => violations.push(FieldViolation::new(
            "credit_note_number",
            "an upheld dispute names the credit note that credited the customer",
        )),
        (DisputeOutcome::Withdrawn, Some(_)) => violations.push(FieldViolation::new(
            "credit_note_number",
            "a withdrawn dispute names no credit note",
        )),
        _ => {}
    }
}

impl CommandRules for OpenDispute {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_text(&mut violations, "note", &self.note, NOTE_LENGTH_MAX);
        check_expiry(&mut violations, self.opened_on, self.expires_on);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.opened_on
    }
}

impl Decide for OpenDispute {
    type Event = DisputeOpened;

    fn decide(
        &self,
        account: &AccountState,
        command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<DisputeOpened, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(&mut dates, "opened_on", self.opened_on, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let invoice = invoice_of(account, &self.invoice)?;
        let currency = invoice.amount.currency();
        if self.amount.currency() != currency {
            return Err(refusal(
                Reason::CurrencyMismatch,
                &self.invoice,
                format!(
                    "the invoice is in {currency}, the dispute in {}",
                    self.amount.currency()
                ),
            ));
        }
        if self.opened_on < invoice.issue_date {
            return Err(refusal(
                Reason::DisputeBeforeInvoiceDate,
                &self.invoice,
                format!(
                    "the dispute is dated {}, before the invoice was issued on {}",
                    self.opened_on, invoice.issue_date
                ),
            ));
        }
        if let Some(open) = invoice.open_dispute_from(self.opened_on) {
            return Err(refusal(
                Reason::DisputeAlreadyOpen,
                &self.invoice,
                format!(
                    "dispute {} opened on {} holds on {} or later",
                    open.dispute_id, open.opened_on, self.opened_on
                ),
            )
            .with_metadata("dispute_id", open.dispute_id));
        }
        let open = invoice.open_on(self.opened_on);
        if self.amount.amount() > open {
            return Err(refusal(
                Reason::DisputeExceedsOpenAmount,
                &self.invoice,
                format!(
                    "{} is more than the {} the invoice owes on {}",
                    self.amount,
                    Money::of(open, currency),
                    self.opened_on
                ),
            ));
        }
        Ok(DisputeOpened {
            dispute_id: command_id.into(),
            invoice: self.invoice.clone(),
            amount: self.amount,
            reason: self.reason,
            note: self.note.clone(),
            opened_on: self.opened_on,
            expires_on: self.expires_on,
        })
    }
}

impl EventRules for DisputeOpened {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("opened on", self.opened_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.opened_on", self.opened_on)?;
        if let Some(expires_on) = self.expires_on {
            business_date("data.expires_on", expires_on)?;
            if expires_on <= self.opened_on {
                return Err(invalid("data.expires_on", "is not after the opening"));
            }
        }
        free_text("data.note", &self.note, NOTE_LENGTH_MAX)
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let reused = account
            .invoices
            .values()
            .any(|i| i.disputes.iter().any(|d| d.dispute_id == self.dispute_id));
        if reused {
            return Err(format!("opens dispute {} twice", self.dispute_id));
        }
        let invoice = account
            .invoices
            .get_mut(&self.invoice)
            .ok_or_else(|| format!("disputes unknown {}", self.invoice))?;
        if invoice.amount.currency() != self.amount.currency()
            || self.opened_on < invoice.issue_date
            || self.amount.amount() > invoice.open_on(self.opened_on)
            || invoice.open_dispute_from(self.opened_on).is_some()
        {
            return Err(format!(
                "opens a dispute on {} in another currency, before its issue, above what it owes \
                 or while one holds",
                self.invoice
            ));
        }
        invoice.disputes.push(DisputeState {
            dispute_id: self.dispute_id,
            amount: self.amount,
            reason: self.reason,
            opened_on: self.opened_on,
            expires_on: self.expires_on,
            resolved: None,
        });
        Ok(())
    }
}

impl CommandRules for ResolveDispute {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_outcome(&mut violations, self.outcome, self.credit_note.as_ref());
        check_text(&mut violations, "note", &self.note, NOTE_LENGTH_MAX);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.resolved_on
    }
}

impl Decide for ResolveDispute {
    type Event = DisputeResolved;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<DisputeResolved, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(&mut dates, "resolved_on", self.resolved_on, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let invoice = invoice_of(account, &self.invoice)?;
        let Some(dispute) = invoice
            .disputes
            .last()
            .filter(|d| d.resolved.is_none() && d.opened_on <= self.resolved_on)
            .filter(|d| d.holds_on(self.resolved_on))
        else {
            return Err(refusal(
                Reason::DisputeNotOpen,
                &self.invoice,
                format!("no dispute holds on the invoice on {}", self.resolved_on),
            ));
        };
        if let Some(number) = &self.credit_note {
            let key = CreditNoteKey {
                subsidiary_id: self.invoice.subsidiary_id.clone(),
                credit_note_number: number.clone(),
            };
            if !account.has_credit_note(&key) {
                return Err(Refusal::precondition(
                    Reason::CreditNoteNotFound,
                    vec![PreconditionViolation {
                        kind: Reason::CreditNoteNotFound,
                        subject: key.to_string(),
                        description: format!(
                            "customer {} has no such credit note",
                            account.customer_id
                        ),
                    }],
                ));
            }
        }
        Ok(DisputeResolved {
            dispute_id: dispute.dispute_id,
            invoice: self.invoice.clone(),
            resolved_on: self.resolved_on,
            outcome: self.outcome,
            credit_note: self.credit_note.clone(),
            note: self.note.clone(),
        })
    }
}

impl EventRules for DisputeResolved {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("resolved on", self.resolved_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        business_date("data.resolved_on", self.resolved_on)?;
        let mut violations = Vec::new();
        check_outcome(&mut violations, self.outcome, self.credit_note.as_ref());
        if let Some(violation) = violations.first() {
            return Err(invalid("data.credit_note", &violation.description));
        }
        free_text("data.note", &self.note, NOTE_LENGTH_MAX)
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let invoice = account
            .invoices
            .get_mut(&self.invoice)
            .ok_or_else(|| format!("resolves a dispute of unknown {}", self.invoice))?;
        let dispute = invoice
            .disputes
            .iter_mut()
            .find(|d| d.dispute_id == self.dispute_id)
            .ok_or_else(|| format!("resolves unknown dispute {}", self.dispute_id))?;
        if dispute.resolved.is_some() || !dispute.holds_on(self.resolved_on) {
            return Err(format!(
                "resolves dispute {} on {}, when it does not hold",
                self.dispute_id, self.resolved_on
            ));
        }
        dispute.resolved = Some((self.resolved_on, self.outcome));
        Ok(())
    }
}

/// The id of the sample dispute (the id of the command that opened it), which the sample
/// resolution names.
#[cfg(feature = "testing")]
fn sample_dispute_id() -> DisputeId {
    DisputeId::from_uuid(uuid::Uuid::from_u128(
        0x0d15_7e00_1b2c_4d3e_8f4a_5b6c_7d8e_9fa0,
    ))
    .expect("a fixed non-nil UUID")
}

#[cfg(feature = "testing")]
impl DisputeOpened {
    /// A valid dispute for tests: 200.00 CNY of `SUB-A/INV-1` contested on price on 2026-06-29,
    /// until 2026-07-31 at the latest.
    pub fn sample() -> Self {
        DisputeOpened {
            dispute_id: sample_dispute_id(),
            invoice: InvoiceKey::sample(),
            amount: Money::cny("200.00"),
            reason: DisputeReason::Price,
            note: "price differs from the order".to_owned(),
            opened_on: NaiveDate::from_ymd_opt(2026, 6, 29).expect("a date"),
            expires_on: NaiveDate::from_ymd_opt(2026, 7, 31),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> OpenDispute {
        OpenDispute {
            invoice: self.invoice.clone(),
            amount: self.amount,
            reason: self.reason,
            note: self.note.clone(),
            opened_on: self.opened_on,
            expires_on: self.expires_on,
        }
    }
}

#[cfg(feature = "testing")]
impl DisputeResolved {
    /// A valid resolution for tests: the sample dispute withdrawn on 2026-06-30.
    pub fn sample() -> Self {
        DisputeResolved {
            dispute_id: sample_dispute_id(),
            invoice: InvoiceKey::sample(),
            resolved_on: NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"),
            outcome: DisputeOutcome::Withdrawn,
            credit_note: None,
            note: "customer accepted the price".to_owned(),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> ResolveDispute {
        ResolveDispute {
            invoice: self.invoice.clone(),
            resolved_on: self.resolved_on,
            outcome: self.outcome,
            credit_note: self.credit_note.clone(),
            note: self.note.clone(),
        }
    }
}
