//! Payment reversals: a payment bounced or was returned (a cheque without funds, a transfer sent
//! back by the bank, fraud, or a payment entered in error).
//!
//! From the reversal's date the payment's allocations re-open the invoices they paid and its
//! unapplied remainder leaves the unapplied cash; before that date the payment still counts, so
//! reports of earlier dates do not change. A payment is reversed once, by the subsidiary that
//! received it, and it is named by the id of the command that recorded it. The early-payment
//! discounts it earned are void with it: they re-open their invoices from the same date. If
//! its unapplied
//! remainder was applied or refunded since, the reversal is refused until that is undone: the
//! cash is no longer there to take back.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::state::{AccountState, UnappliedSource};
use crate::allocation::Allocation;
use crate::ids::{CommandId, InvoiceKey, SubsidiaryId};
use crate::money::Money;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{InvalidEvent, business_date, check_not_ahead, invalid};

/// Why a payment was reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReversalReason {
    InsufficientFunds,
    ReturnedByBank,
    Fraud,
    EnteredInError,
}

impl ReversalReason {
    pub const ALL: [ReversalReason; 4] = [
        ReversalReason::InsufficientFunds,
        ReversalReason::ReturnedByBank,
        ReversalReason::Fraud,
        ReversalReason::EnteredInError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReversalReason::InsufficientFunds => "insufficient_funds",
            ReversalReason::ReturnedByBank => "returned_by_bank",
            ReversalReason::Fraud => "fraud",
            ReversalReason::EnteredInError => "entered_in_error",
        }
    }
}

/// The subsidiary that received a payment reverses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReversePayment {
    pub subsidiary_id: SubsidiaryId,
    /// The id of the command that recorded the payment.
    pub payment: CommandId,
    pub reversal_date: NaiveDate,
    pub reason: ReversalReason,
}

/// A payment was reversed: what it had paid is owed again from the reversal's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentReversed {
    pub subsidiary_id: SubsidiaryId,
    pub payment: CommandId,
    pub reversal_date: NaiveDate,
    pub reason: ReversalReason,
    /// The payment's amount and the day it had been received, for the reports that list
    /// reversals and leave the payment out from the reversal on.
    pub amount: Money,
    pub received_date: NaiveDate,
    /// The payment's allocations, each re-opening its invoice.
    pub reopened: Vec<Allocation>,
    /// The payment's unapplied remainder, taken out of the unapplied cash.
    pub unapplied: Money,
    /// The early-payment discounts the payment had earned, each re-opening its invoice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Allocation>,
}

impl CommandRules for ReversePayment {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        Vec::new()
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.reversal_date
    }
}

impl Decide for ReversePayment {
    type Event = PaymentReversed;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<PaymentReversed, Refusal> {
        let mut dates = Vec::new();
        check_not_ahead(
            &mut dates,
            "reversal_date",
            self.reversal_date,
            context.today(),
        );
        if !dates.is_empty() {
            return Err(Refusal::invalid(dates));
        }
        let subject = format!("payments/{}", self.payment);
        let refuse = |reason: Reason, description: String| {
            Refusal::precondition(
                reason,
                vec![PreconditionViolation {
                    kind: reason,
                    subject: subject.clone(),
                    description,
                }],
            )
            .with_metadata("payment", self.payment)
        };
        let payment = match account.payment(&self.payment) {
            Some(payment) if payment.subsidiary_id == self.subsidiary_id => payment,
            Some(payment) => {
                return Err(refuse(
                    Reason::PaymentNotFound,
                    format!(
                        "the payment was received by subsidiary {}, not {}",
                        payment.subsidiary_id, self.subsidiary_id
                    ),
                ));
            }
            None => {
                return Err(refuse(
                    Reason::PaymentNotFound,
                    format!(
                        "customer {} has no payment recorded by that command",
                        account.customer_id
                    ),
                ));
            }
        };
        if let Some(reversed_on) = payment.reversed_on {
            return Err(refuse(
                Reason::PaymentAlreadyReversed,
                format!("the payment was reversed on {reversed_on}"),
            ));
        }
        if self.reversal_date < payment.received_date {
            return Err(refuse(
                Reason::ReversalBeforePayment,
                format!(
                    "the reversal is dated {}, before the payment was received on {}",
                    self.reversal_date, payment.received_date
                ),
            ));
        }
        let currency = payment.amount.currency();
        let spendable = account.spendable_on(UnappliedSource::Cash, currency, self.reversal_date);
        if spendable < payment.unapplied.amount() {
            return Err(refuse(
                Reason::UnappliedAlreadyUsed,
                format!(
                    "the payment left {} unapplied, but only {} of unapplied cash is there on {} \
                     and after: undo its application or refund first",
                    payment.unapplied,
                    Money::of(spendable, currency),
                    self.reversal_date
                ),
            ));
        }
        Ok(PaymentReversed {
            subsidiary_id: self.subsidiary_id.clone(),
            payment: self.payment,
            reversal_date: self.reversal_date,
            reason: self.reason,
            amount: payment.amount,
            received_date: payment.received_date,
            reopened: payment.allocations.clone(),
            unapplied: payment.unapplied,
            discounts: payment.discounts.clone(),
        })
    }
}

impl EventRules for PaymentReversed {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("reversal date", self.reversal_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        business_date("data.reversal_date", self.reversal_date)?;
        business_date("data.received_date", self.received_date)?;
        if self.reversal_date < self.received_date {
            return Err(invalid(
                "data.reversal_date",
                "is before the payment was received",
            ));
        }
        let reopened = self
            .reopened
            .iter()
            .map(|a| a.amount.amount())
            .sum::<rust_decimal::Decimal>();
        if self.unapplied.currency() != self.amount.currency()
            || self
                .reopened
                .iter()
                .any(|a| a.amount.currency() != self.amount.currency())
            || reopened + self.unapplied.amount() != self.amount.amount()
        {
            return Err(invalid(
                "data.reopened",
                "re-opened allocations and unapplied do not add up to the payment",
            ));
        }
        Ok(())
    }

    fn touches(&self) -> Vec<&SubsidiaryId> {
        self.reopened
            .iter()
            .map(|a| &a.invoice.subsidiary_id)
            .collect()
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let payment = account
            .payments
            .get(&self.payment)
            .ok_or_else(|| format!("reverses unknown payment {}", self.payment))?;
        if payment.reversed_on.is_some() {
            return Err(format!("reverses payment {} twice", self.payment));
        }
        if payment.allocations != self.reopened
            || payment.discounts != self.discounts
            || payment.unapplied != self.unapplied
            || payment.amount != self.amount
            || payment.received_date != self.received_date
            || payment.received_date > self.reversal_date
        {
            return Err(format!(
                "reverses payment {} with other allocations, or before it was received",
                self.payment
            ));
        }
        // Everything is checked before anything changes, so that an error leaves the account
        // as it was: each invoice can take its allocation back, and the cash is still there.
        let mut reopening: BTreeMap<&InvoiceKey, Decimal> = BTreeMap::new();
        for allocation in self.reopened.iter().chain(&self.discounts) {
            *reopening.entry(&allocation.invoice).or_default() += allocation.amount.amount();
        }
        for (key, amount) in &reopening {
            let invoice = account
                .invoices
                .get(*key)
                .ok_or_else(|| format!("re-opens unknown {key}"))?;
            if invoice.open + amount > invoice.amount.amount() {
                return Err(format!("re-opens {key} above its amount"));
            }
        }
        account.take_unapplied(UnappliedSource::Cash, self.unapplied, self.reversal_date)?;
        for allocation in &self.reopened {
            if let Some(invoice) = account.invoices.get_mut(&allocation.invoice) {
                invoice.reopen(self.reversal_date, allocation.amount.amount())?;
            }
        }
        for discount in &self.discounts {
            if let Some(invoice) = account.invoices.get_mut(&discount.invoice) {
                invoice.reopen(self.reversal_date, discount.amount.amount())?;
                invoice.discounted -= discount.amount.amount();
            }
        }
        if let Some(payment) = account.payments.get_mut(&self.payment) {
            payment.reversed_on = Some(self.reversal_date);
        }
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl PaymentReversed {
    /// A valid reversal for tests: the sample payment (600.00 CNY, 400.00 of it applied to
    /// `SUB-A/INV-1`, which earned the sample discount), returned by the bank on 2026-06-28.
    pub fn sample() -> Self {
        let payment = super::payment::PaymentReceived::sample();
        PaymentReversed {
            subsidiary_id: payment.subsidiary_id,
            payment: super::payment::PaymentReceived::sample_command_id(),
            reversal_date: NaiveDate::from_ymd_opt(2026, 6, 28).expect("a date"),
            reason: ReversalReason::ReturnedByBank,
            amount: payment.amount,
            received_date: payment.received_date,
            reopened: payment.allocations,
            unapplied: payment.unapplied,
            // The sample discount was earned by the sample payment.
            discounts: vec![{
                let discount = super::discount::DiscountAllowed::sample();
                Allocation {
                    invoice: discount.invoice,
                    amount: discount.amount,
                }
            }],
        }
    }

    /// The command this event records.
    pub fn command(&self) -> ReversePayment {
        ReversePayment {
            subsidiary_id: self.subsidiary_id.clone(),
            payment: self.payment,
            reversal_date: self.reversal_date,
            reason: self.reason,
        }
    }
}
