//! Refunds: unapplied cash or credit paid back to the customer (an overpayment, a credit note
//! the customer wants as money). Never more than what is unapplied on the refund's date and
//! every day after.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::application::check_spendable;
use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::payment::check_reference;
use super::state::{AccountState, UnappliedSource};
use crate::ids::{CommandId, SubsidiaryId};
use crate::limits::REFERENCE_LENGTH_MAX;
use crate::money::Money;
use crate::payment::PaymentMethod;
use crate::refusal::{FieldViolation, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_not_ahead, check_positive, free_text, positive,
};

/// A subsidiary pays unapplied cash or credit back to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRefund {
    pub subsidiary_id: SubsidiaryId,
    pub source: UnappliedSource,
    pub amount: Money,
    pub refund_date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
}

/// Unapplied cash or credit was paid back to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundIssued {
    pub subsidiary_id: SubsidiaryId,
    pub source: UnappliedSource,
    pub amount: Money,
    pub refund_date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
}

impl CommandRules for IssueRefund {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_reference(&mut violations, &self.reference);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.refund_date
    }
}

impl Decide for IssueRefund {
    type Event = RefundIssued;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<RefundIssued, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(&mut dates, "refund_date", self.refund_date, context.today());
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        check_spendable(account, self.source, self.amount, self.refund_date)?;
        Ok(RefundIssued {
            subsidiary_id: self.subsidiary_id.clone(),
            source: self.source,
            amount: self.amount,
            refund_date: self.refund_date,
            method: self.method,
            reference: self.reference.clone(),
        })
    }
}

impl EventRules for RefundIssued {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("refund date", self.refund_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.refund_date", self.refund_date)?;
        free_text("data.reference", &self.reference, REFERENCE_LENGTH_MAX)
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        account.take_unapplied(self.source, self.amount, self.refund_date)
    }
}

#[cfg(feature = "testing")]
impl RefundIssued {
    /// A valid refund for tests: 50.00 CNY of unapplied credit paid back by bank transfer on
    /// 2026-06-30.
    pub fn sample() -> Self {
        RefundIssued {
            subsidiary_id: crate::ids::InvoiceKey::sample().subsidiary_id,
            source: UnappliedSource::Credit,
            amount: Money::cny("50.00"),
            refund_date: NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"),
            method: PaymentMethod::BankTransfer,
            reference: "REFUND-20260630-1".to_owned(),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> IssueRefund {
        IssueRefund {
            subsidiary_id: self.subsidiary_id.clone(),
            source: self.source,
            amount: self.amount,
            refund_date: self.refund_date,
            method: self.method,
            reference: self.reference.clone(),
        }
    }
}
