//! Payments: a subsidiary received money from the customer, applied to its open invoices as the
//! payer instructed or oldest due first; what is not applied stays unapplied cash on the
//! account.
//!
//! The event records the allocations decided here, so that projections and auditors never
//! decide again. A payment cannot pay an invoice issued after the day it was received (point-in-
//! time aging would otherwise lose money), and never more than an invoice's open amount.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::settlement::{self, Settlement};
use super::state::{AccountState, PaymentState, UnappliedSource};
pub use crate::allocation::AllocationRequest;
use crate::allocation::{self, Allocation, AllocationPlan, OpenItem};
use crate::ids::{CommandId, SubsidiaryId};
use crate::limits::{
    ALLOCATIONS_PER_PAYMENT_MAX, RECEIVED_DATE_AHEAD_DAYS_MAX, REFERENCE_LENGTH_MAX,
};
use crate::money::Money;
use crate::payment::PaymentMethod;
use crate::refusal::{FieldViolation, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_positive, check_text, free_text, invalid, positive,
};

/// A subsidiary received a payment from the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPayment {
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    pub received_date: NaiveDate,
    pub method: PaymentMethod,
    pub reference: String,
    /// Explicit allocations; empty means "oldest due first among the receiving subsidiary's
    /// open invoices", unless the payment is taken on account.
    pub allocations: Vec<AllocationRequest>,
    /// Nothing is allocated, even when invoices are open: the whole payment is unapplied cash
    /// until it is applied (`ApplyUnappliedCash`). Left out of the encoding when false, so that
    /// the digests of commands made before it existed are unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_account: bool,
}

/// The payment reference: bounded free text. Shared with the wire mapping.
pub fn check_reference(violations: &mut Vec<FieldViolation>, reference: &str) {
    check_text(violations, "reference", reference, REFERENCE_LENGTH_MAX);
}

/// Explicit allocations of money (`what`: a payment, an application): each positive, in the
/// money's currency, each invoice named once, the total no more than the money. Shared with the
/// wire mapping, which applies it to the allocations it could read.
pub fn check_allocations(
    violations: &mut Vec<FieldViolation>,
    what: &str,
    payment: Money,
    allocations: &[AllocationRequest],
) {
    if allocations.len() > ALLOCATIONS_PER_PAYMENT_MAX {
        violations.push(FieldViolation::new(
            "allocations",
            format!(
                "at most {ALLOCATIONS_PER_PAYMENT_MAX} allocations per {what}, got {}",
                allocations.len()
            ),
        ));
        return;
    }
    let mut seen = BTreeSet::new();
    let mut total = Decimal::ZERO;
    for (index, allocation) in allocations.iter().enumerate() {
        check_positive(
            violations,
            &format!("allocations[{index}].amount"),
            &allocation.amount,
        );
        if allocation.amount.currency() != payment.currency() {
            violations.push(FieldViolation::new(
                format!("allocations[{index}].amount.currency"),
                format!(
                    "allocation is in {} but the {what} is in {}",
                    allocation.amount.currency(),
                    payment.currency()
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
    if total > payment.amount() {
        violations.push(FieldViolation::new(
            "allocations",
            format!("allocations add up to {total}, more than the {what} of {payment}"),
        ));
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
    /// Nothing allocated: the whole payment is unapplied cash.
    OnAccount,
}

/// A subsidiary received a payment, applied as recorded here.
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

impl PaymentReceived {
    fn plan(&self) -> AllocationPlan {
        AllocationPlan {
            allocations: self.allocations.clone(),
            unapplied: self.unapplied,
        }
    }
}

impl CommandRules for RecordPayment {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_reference(&mut violations, &self.reference);
        check_allocations(&mut violations, "payment", self.amount, &self.allocations);
        if self.on_account && !self.allocations.is_empty() {
            violations.push(FieldViolation::new(
                "allocations",
                "a payment on account allocates nothing; leave the allocations out",
            ));
        }
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.received_date
    }
}

impl Decide for RecordPayment {
    type Event = PaymentReceived;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<PaymentReceived, Refusal> {
        let latest = context.today() + Duration::days(RECEIVED_DATE_AHEAD_DAYS_MAX);
        if self.received_date > latest {
            return Err(Refusal::invalid(vec![FieldViolation::new(
                "received_date",
                format!(
                    "a payment cannot be received in the future: {} is after {latest}",
                    self.received_date
                ),
            )]));
        }
        let (rule, plan) = if self.on_account {
            (
                AllocationRule::OnAccount,
                allocation::explicit(self.amount, Vec::new()),
            )
        } else if self.allocations.is_empty() {
            (
                AllocationRule::OldestDueFirst,
                oldest_due_first(
                    account,
                    &self.subsidiary_id,
                    self.amount,
                    self.received_date,
                ),
            )
        } else {
            (AllocationRule::Explicit, explicit_plan(account, self)?)
        };
        if !plan.is_balanced(self.amount) {
            // The allocation arithmetic guarantees this; refuse rather than append a broken fact.
            return Err(Refusal::invalid(vec![FieldViolation::new(
                "allocations",
                "allocations and unapplied remainder do not add up to the payment",
            )]));
        }
        Ok(PaymentReceived {
            subsidiary_id: self.subsidiary_id.clone(),
            amount: self.amount,
            received_date: self.received_date,
            method: self.method,
            reference: self.reference.clone(),
            allocation_rule: rule,
            allocations: plan.allocations,
            unapplied: plan.unapplied,
        })
    }
}

/// Allocates `amount` to the open invoices of `subsidiary` in its currency, oldest due first,
/// each up to what it owes on `date` and after. An invoice due in several rows (a schedule, an
/// instalment plan) competes with each row at the row's due date, its rows paid in due order.
/// Shared with the application of unapplied cash.
pub(super) fn oldest_due_first(
    account: &AccountState,
    subsidiary: &SubsidiaryId,
    amount: Money,
    date: NaiveDate,
) -> AllocationPlan {
    let items = account
        .open_invoices()
        .filter(|i| {
            i.key.subsidiary_id == *subsidiary
                && i.amount.currency() == amount.currency()
                && i.issue_date <= date
        })
        .flat_map(|i| {
            i.open_rows(date, i.settleable_on(date))
                .into_iter()
                .map(|(due_date, open)| OpenItem {
                    key: &i.key,
                    open,
                    due_date,
                    issue_date: i.issue_date,
                })
        })
        .collect();
    allocation::oldest_due_first(amount, items)
}

/// Checks explicit allocations against the account: each names an invoice of this customer,
/// in the payment's currency, issued by the received date, with at least that much still open
/// then and after. Every violation of the first kind found is named at once.
fn explicit_plan(
    account: &AccountState,
    command: &RecordPayment,
) -> Result<AllocationPlan, Refusal> {
    settlement::check(
        account,
        &command.allocations,
        command.received_date,
        &Settlement::ALLOCATION,
    )?;
    let allocations = command.allocations.iter().map(Allocation::from).collect();
    Ok(allocation::explicit(command.amount, allocations))
}

impl EventRules for PaymentReceived {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("received date", self.received_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.received_date", self.received_date)?;
        free_text("data.reference", &self.reference, REFERENCE_LENGTH_MAX)?;
        if self.allocations.len() > ALLOCATIONS_PER_PAYMENT_MAX {
            return Err(invalid(
                "data.allocations",
                format!("more than {ALLOCATIONS_PER_PAYMENT_MAX}"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (index, allocation) in self.allocations.iter().enumerate() {
            if !seen.insert(&allocation.invoice) {
                return Err(invalid(
                    format!("data.allocations[{index}].invoice"),
                    format!("{} is allocated to more than once", allocation.invoice),
                ));
            }
        }
        if !self.plan().is_balanced(self.amount) {
            return Err(invalid(
                "data.allocations",
                "allocations and unapplied do not add up to the payment",
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

    fn evolve(&self, account: &mut AccountState, command_id: CommandId) -> Result<(), String> {
        if !self.plan().is_balanced(self.amount)
            || self.unapplied.currency() != self.amount.currency()
        {
            return Err("allocations and unapplied do not add up to the payment".to_owned());
        }
        if account.payments.contains_key(&command_id) {
            return Err(format!("payment of command {command_id} received twice"));
        }
        settlement::settle(account, &self.allocations, self.received_date)?;
        account.add_unapplied(UnappliedSource::Cash, self.unapplied, self.received_date);
        account.payments.insert(
            command_id,
            PaymentState {
                command_id,
                subsidiary_id: self.subsidiary_id.clone(),
                amount: self.amount,
                received_date: self.received_date,
                allocations: self.allocations.clone(),
                unapplied: self.unapplied,
                reversed_on: None,
                discounts: Vec::new(),
            },
        );
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl PaymentReceived {
    /// The id of the command that recorded the sample payment, which the sample reversal
    /// names (the tests' envelope builder gives the sample payment this id).
    pub fn sample_command_id() -> CommandId {
        CommandId::from_uuid(uuid::Uuid::from_u128(
            0x5a3c_0e1f_7b2d_4c6a_9e8f_1a2b_3c4d_5e6f,
        ))
        .expect("a fixed non-nil UUID")
    }

    /// A valid payment for tests: 600.00 CNY received 2026-06-15 at `SUB-A`, 400.00 of it
    /// applied to `SUB-A/INV-1` as instructed, 200.00 unapplied.
    pub fn sample() -> Self {
        let key = crate::ids::InvoiceKey::sample();
        PaymentReceived {
            subsidiary_id: key.subsidiary_id.clone(),
            amount: Money::cny("600.00"),
            received_date: NaiveDate::from_ymd_opt(2026, 6, 15).expect("a date"),
            method: PaymentMethod::BankTransfer,
            reference: "ICBC-20260615-0001".to_owned(),
            allocation_rule: AllocationRule::Explicit,
            allocations: vec![Allocation {
                invoice: key,
                amount: Money::cny("400.00"),
            }],
            unapplied: Money::cny("200.00"),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> RecordPayment {
        RecordPayment {
            subsidiary_id: self.subsidiary_id.clone(),
            amount: self.amount,
            received_date: self.received_date,
            method: self.method,
            reference: self.reference.clone(),
            allocations: match self.allocation_rule {
                AllocationRule::Explicit => self
                    .allocations
                    .iter()
                    .map(AllocationRequest::from)
                    .collect(),
                AllocationRule::OldestDueFirst | AllocationRule::OnAccount => Vec::new(),
            },
            on_account: self.allocation_rule == AllocationRule::OnAccount,
        }
    }
}
