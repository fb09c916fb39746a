//! Write-offs: part or all of an invoice's open amount written off as bad debt (坏账核销), with a
//! reason and the approver, by the group's credit control.
//!
//! The written-off amount leaves the invoice's open amount from the write-off's date, and is
//! kept apart (as bad debt) for the metrics and the statements. Only what the invoice owes on
//! that date and every later one can be written off.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::settlement::{self, Settlement};
use super::state::AccountState;
use crate::allocation::{Allocation, AllocationRequest};
use crate::ids::{CommandId, InvoiceKey, PersonName, SubsidiaryId};
use crate::limits::REASON_LENGTH_MAX;
use crate::money::Money;
use crate::refusal::{FieldViolation, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_not_ahead, check_positive, check_required_text, positive,
    required_text,
};

/// Credit control writes off part or all of an invoice as bad debt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOffInvoice {
    pub invoice: InvoiceKey,
    pub amount: Money,
    pub write_off_date: NaiveDate,
    pub reason: String,
    pub approved_by: PersonName,
}

/// Part or all of an invoice was written off as bad debt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceWrittenOff {
    pub invoice: InvoiceKey,
    pub amount: Money,
    pub write_off_date: NaiveDate,
    pub reason: String,
    pub approved_by: PersonName,
}

impl InvoiceWrittenOff {
    /// The reduction of the invoice.
    pub fn allocation(&self) -> Allocation {
        Allocation {
            invoice: self.invoice.clone(),
            amount: self.amount,
        }
    }
}

impl CommandRules for WriteOffInvoice {
    /// The subsidiary whose invoice is written off.
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_required_text(&mut violations, "reason", &self.reason, REASON_LENGTH_MAX);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.write_off_date
    }
}

impl Decide for WriteOffInvoice {
    type Event = InvoiceWrittenOff;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<InvoiceWrittenOff, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(
            &mut dates,
            "write_off_date",
            self.write_off_date,
            context.today(),
        );
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let request = AllocationRequest {
            invoice: self.invoice.clone(),
            amount: self.amount,
        };
        settlement::check(
            account,
            &[request],
            self.write_off_date,
            &Settlement::WRITE_OFF,
        )?;
        Ok(InvoiceWrittenOff {
            invoice: self.invoice.clone(),
            amount: self.amount,
            write_off_date: self.write_off_date,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        })
    }
}

impl EventRules for InvoiceWrittenOff {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("write-off date", self.write_off_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.write_off_date", self.write_off_date)?;
        required_text("data.reason", &self.reason, REASON_LENGTH_MAX)
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let allocation = self.allocation();
        settlement::settle(
            account,
            std::slice::from_ref(&allocation),
            self.write_off_date,
        )?;
        if let Some(invoice) = account.invoices.get_mut(&self.invoice) {
            invoice.written_off += self.amount.amount();
        }
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl InvoiceWrittenOff {
    /// A valid write-off for tests: 100.00 CNY of `SUB-A/INV-1` on 2026-06-25.
    pub fn sample() -> Self {
        InvoiceWrittenOff {
            invoice: InvoiceKey::sample(),
            amount: Money::cny("100.00"),
            write_off_date: NaiveDate::from_ymd_opt(2026, 6, 25).expect("a date"),
            reason: "customer insolvent".to_owned(),
            approved_by: PersonName::parse("Chen Jing").expect("a name"),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> WriteOffInvoice {
        WriteOffInvoice {
            invoice: self.invoice.clone(),
            amount: self.amount,
            write_off_date: self.write_off_date,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        }
    }
}
