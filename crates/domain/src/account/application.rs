//! Applying unapplied money: cash received on account (or left over from a payment) and credit
//! from credit notes on account are applied to open invoices later, as instructed or oldest due
//! first among the applying subsidiary's invoices.
//!
//! An application takes effect on its date: it cannot spend money that arrived after that date,
//! nor pay an invoice issued after it, and it never takes an invoice below zero on that date or
//! any later one (the rules of `settlement.rs`, shared with payments).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::payment::{AllocationRequest, AllocationRule, check_allocations, oldest_due_first};
use super::settlement::{self, Settlement};
use super::state::{AccountState, UnappliedSource};
use crate::allocation::Allocation;
use crate::ids::{CommandId, SubsidiaryId};
use crate::limits::ALLOCATIONS_PER_APPLICATION_MAX;
use crate::money::Money;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_not_ahead, check_positive, invalid, positive,
};

/// A subsidiary applies the customer's unapplied cash or credit to open invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyUnappliedCash {
    pub subsidiary_id: SubsidiaryId,
    pub source: UnappliedSource,
    /// How much to apply: exactly the explicit allocations' total, or at most this much oldest
    /// due first.
    pub amount: Money,
    pub application_date: NaiveDate,
    /// Explicit allocations; empty means oldest due first among the subsidiary's open invoices.
    pub allocations: Vec<AllocationRequest>,
}

/// Unapplied cash or credit was applied to open invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnappliedCashApplied {
    pub subsidiary_id: SubsidiaryId,
    pub source: UnappliedSource,
    /// What was applied: the allocations' total.
    pub amount: Money,
    pub application_date: NaiveDate,
    pub allocation_rule: AllocationRule,
    pub allocations: Vec<Allocation>,
}

impl CommandRules for ApplyUnappliedCash {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_allocations(
            &mut violations,
            "application",
            self.amount,
            &self.allocations,
        );
        let total: Decimal = self.allocations.iter().map(|a| a.amount.amount()).sum();
        if !self.allocations.is_empty() && total != self.amount.amount() {
            violations.push(FieldViolation::new(
                "allocations",
                format!(
                    "allocations add up to {total}, not the {} to apply",
                    self.amount
                ),
            ));
        }
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.application_date
    }
}

impl Decide for ApplyUnappliedCash {
    type Event = UnappliedCashApplied;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<UnappliedCashApplied, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(
            &mut dates,
            "application_date",
            self.application_date,
            context.today(),
        );
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        check_spendable(account, self.source, self.amount, self.application_date)?;
        let (rule, allocations) = if self.allocations.is_empty() {
            let plan = oldest_due_first(
                account,
                &self.subsidiary_id,
                self.amount,
                self.application_date,
            );
            (AllocationRule::OldestDueFirst, plan.allocations)
        } else {
            settlement::check(
                account,
                &self.allocations,
                self.application_date,
                &Settlement::APPLICATION,
            )?;
            let allocations = self.allocations.iter().map(Allocation::from).collect();
            (AllocationRule::Explicit, allocations)
        };
        let applied: Decimal = allocations.iter().map(|a| a.amount.amount()).sum();
        if applied == Decimal::ZERO {
            return Err(Refusal::precondition(
                Reason::NothingOwed,
                vec![PreconditionViolation {
                    kind: Reason::NothingOwed,
                    subject: format!("customers/{}", account.customer_id),
                    description: format!(
                        "subsidiary {} has no open invoice in {} issued by {}",
                        self.subsidiary_id,
                        self.amount.currency(),
                        self.application_date
                    ),
                }],
            ));
        }
        Ok(UnappliedCashApplied {
            subsidiary_id: self.subsidiary_id.clone(),
            source: self.source,
            amount: Money::of(applied, self.amount.currency()),
            application_date: self.application_date,
            allocation_rule: rule,
            allocations,
        })
    }
}

/// There is at least `amount` of unapplied money of `source` on `date` and every day after.
/// Shared with refunds.
pub(super) fn check_spendable(
    account: &AccountState,
    source: UnappliedSource,
    amount: Money,
    date: NaiveDate,
) -> Result<(), Refusal> {
    let spendable = account.spendable_on(source, amount.currency(), date);
    if spendable < amount.amount() {
        return Err(Refusal::precondition(
            Reason::ExceedsUnapplied,
            vec![PreconditionViolation {
                kind: Reason::ExceedsUnapplied,
                subject: format!(
                    "customers/{}/unapplied_{}",
                    account.customer_id,
                    source.as_str()
                ),
                description: format!(
                    "{amount} is more than the {} of unapplied {} on {date} and after",
                    Money::of(spendable, amount.currency()),
                    source.as_str()
                ),
            }],
        )
        .with_metadata(
            "unapplied",
            Money::of(spendable, amount.currency()).amount(),
        )
        .with_metadata("currency", amount.currency()));
    }
    Ok(())
}

impl EventRules for UnappliedCashApplied {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("application date", self.application_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.application_date", self.application_date)?;
        if self.allocations.is_empty() || self.allocations.len() > ALLOCATIONS_PER_APPLICATION_MAX {
            return Err(invalid(
                "data.allocations",
                format!("between 1 and {ALLOCATIONS_PER_APPLICATION_MAX}"),
            ));
        }
        let total: Decimal = self.allocations.iter().map(|a| a.amount.amount()).sum();
        if total != self.amount.amount()
            || self.allocations.iter().any(|a| {
                a.amount.currency() != self.amount.currency() || a.amount.amount() <= Decimal::ZERO
            })
        {
            return Err(invalid(
                "data.allocations",
                "allocations do not add up to the amount applied",
            ));
        }
        Ok(())
    }

    fn touches(&self) -> Vec<&SubsidiaryId> {
        self.allocations
            .iter()
            .map(|a| &a.invoice.subsidiary_id)
            .collect()
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        if account.spendable_on(self.source, self.amount.currency(), self.application_date)
            < self.amount.amount()
        {
            return Err(format!(
                "applies {} of unapplied {} on {}, more than there is then or later",
                self.amount,
                self.source.as_str(),
                self.application_date
            ));
        }
        settlement::settle(account, &self.allocations, self.application_date)?;
        account.take_unapplied(self.source, self.amount, self.application_date)
    }
}

#[cfg(feature = "testing")]
impl UnappliedCashApplied {
    /// A valid application for tests: 100.00 CNY of unapplied credit applied to `SUB-A/INV-1`
    /// on 2026-06-29.
    pub fn sample() -> Self {
        UnappliedCashApplied {
            subsidiary_id: crate::ids::InvoiceKey::sample().subsidiary_id,
            source: UnappliedSource::Credit,
            amount: Money::cny("100.00"),
            application_date: NaiveDate::from_ymd_opt(2026, 6, 29).expect("a date"),
            allocation_rule: AllocationRule::Explicit,
            allocations: vec![Allocation {
                invoice: crate::ids::InvoiceKey::sample(),
                amount: Money::cny("100.00"),
            }],
        }
    }

    /// The command this event records.
    pub fn command(&self) -> ApplyUnappliedCash {
        ApplyUnappliedCash {
            subsidiary_id: self.subsidiary_id.clone(),
            source: self.source,
            amount: self.amount,
            application_date: self.application_date,
            allocations: match self.allocation_rule {
                AllocationRule::Explicit => self
                    .allocations
                    .iter()
                    .map(AllocationRequest::from)
                    .collect(),
                AllocationRule::OldestDueFirst | AllocationRule::OnAccount => Vec::new(),
            },
        }
    }
}
