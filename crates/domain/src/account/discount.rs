//! Early-payment discounts (现金折扣): a customer who pays within the window of the invoice's
//! terms ("2/10 net 30") may settle it with the discount taken.
//!
//! The discount is recorded with the payment it rewards: it names the payment (by the id of the
//! command that recorded it) and takes effect on the payment's received date, so that the
//! invoice is settled from the day the money came. It is allowed only for an invoice whose
//! terms carry a discount, for a payment that was applied to that invoice, not reversed, and
//! received by the window's last day. A discount is earned by what the payment settled: the
//! payment's amount applied to the invoice and the discount together are the gross amount the
//! terms' percentage is taken of, so that a payment of 980.00 on 2/10 terms earns 20.00
//! (`EarlyPaymentDiscount::earned_by`) and a token payment earns a token. All the discounts of
//! an invoice together never exceed the terms' percentage of its amount. A reversal of the
//! payment voids its discounts (`reversal.rs`). The discount settles the invoice like a credit note: it is
//! no longer open, in any report, from the payment's date.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::feature::{CommandRules, Decide, DecisionContext, EventRules};
use super::settlement::{self, Settlement, invoice_of, refusal};
use super::state::AccountState;
use crate::allocation::{Allocation, AllocationRequest};
use crate::ids::{CommandId, InvoiceKey, SubsidiaryId};
use crate::limits::NOTE_LENGTH_MAX;
use crate::money::Money;
use crate::refusal::{FieldViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_positive, check_text, free_text, invalid, positive,
};
use crate::terms::EarlyPaymentDiscount;

/// Allow an early-payment discount on an invoice for a payment received within its window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowDiscount {
    pub invoice: InvoiceKey,
    /// The id of the command that recorded the payment.
    pub payment_id: CommandId,
    /// What the discount takes off the invoice.
    pub amount: Money,
    pub note: String,
}

/// An early-payment discount was allowed on an invoice for a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountAllowed {
    pub invoice: InvoiceKey,
    pub payment_id: CommandId,
    pub amount: Money,
    /// The payment's received date, from which the invoice is settled by the discount.
    pub allowed_on: NaiveDate,
    /// The invoice's discount terms, as the decision applied them.
    pub terms: EarlyPaymentDiscount,
    /// The most the terms allow off the invoice, all its discounts together.
    pub most_off: Money,
    pub note: String,
}

impl CommandRules for AllowDiscount {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_positive(&mut violations, "amount", &self.amount);
        check_text(&mut violations, "note", &self.note, NOTE_LENGTH_MAX);
        violations
    }

    /// The payment's received date, which only the account knows; the service's date until
    /// the decision names it (the envelope takes the event's own date).
    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }
}

impl Decide for AllowDiscount {
    type Event = DiscountAllowed;

    fn decide(
        &self,
        account: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<DiscountAllowed, Refusal> {
        let invoice = invoice_of(account, &self.invoice)?;
        let Some(terms) = invoice.discount else {
            return Err(refusal(
                Reason::NoDiscountTerms,
                &self.invoice,
                "the invoice's terms allow no early-payment discount".to_owned(),
            ));
        };
        let payment = account.payment(&self.payment_id).ok_or_else(|| {
            refusal(
                Reason::PaymentNotFound,
                &self.invoice,
                format!(
                    "customer {} has no payment recorded by command {}",
                    account.customer_id, self.payment_id
                ),
            )
        })?;
        if let Some(reversed_on) = payment.reversed_on {
            return Err(refusal(
                Reason::PaymentAlreadyReversed,
                &self.invoice,
                format!("payment {} was reversed on {reversed_on}", self.payment_id),
            ));
        }
        if !payment
            .allocations
            .iter()
            .any(|a| a.invoice == self.invoice)
        {
            return Err(refusal(
                Reason::PaymentNotOnInvoice,
                &self.invoice,
                format!(
                    "payment {} was not applied to the invoice: a discount rewards paying it",
                    self.payment_id
                ),
            ));
        }
        let last_day = terms.last_day(invoice.issue_date).unwrap_or(NaiveDate::MAX);
        if payment.received_date > last_day {
            return Err(refusal(
                Reason::DiscountWindowClosed,
                &self.invoice,
                format!(
                    "the payment was received on {}, after the discount's last day {last_day}",
                    payment.received_date
                ),
            )
            .with_metadata("last_day", last_day)
            .with_metadata("received_date", payment.received_date));
        }
        let currency = invoice.amount.currency();
        let most_off = terms.most_off(invoice.amount);
        let paid = payment
            .allocations
            .iter()
            .filter(|a| a.invoice == self.invoice)
            .map(|a| a.amount.amount())
            .sum::<Decimal>();
        let earned = payment
            .discounts
            .iter()
            .filter(|d| d.invoice == self.invoice)
            .map(|d| d.amount.amount())
            .sum::<Decimal>();
        let allowed = (most_off.amount() - invoice.discounted)
            .min(terms.earned_by(Money::of(paid, currency)).amount() - earned)
            .max(Decimal::ZERO);
        if self.amount.currency() == currency && self.amount.amount() > allowed {
            return Err(refusal(
                Reason::DiscountExceedsTerms,
                &self.invoice,
                format!(
                    "{} off is more than the {} the terms ({} % within {} days, at most {most_off} \
                     in all) still allow for the {} this payment applied",
                    self.amount,
                    Money::of(allowed, currency),
                    terms.percent,
                    terms.within_days,
                    Money::of(paid, currency)
                ),
            )
            .with_metadata("most_off", most_off.amount())
            .with_metadata("paid", paid)
            .with_metadata("allowed", allowed)
            .with_metadata("already_discounted", invoice.discounted));
        }
        settlement::check(
            account,
            &[AllocationRequest {
                invoice: self.invoice.clone(),
                amount: self.amount,
            }],
            payment.received_date,
            &Settlement::DISCOUNT,
        )?;
        Ok(DiscountAllowed {
            invoice: self.invoice.clone(),
            payment_id: self.payment_id,
            amount: self.amount,
            allowed_on: payment.received_date,
            terms,
            most_off,
            note: self.note.clone(),
        })
    }
}

impl EventRules for DiscountAllowed {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.invoice.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("allowed_on", self.allowed_on))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        positive("data.amount", &self.amount)?;
        business_date("data.allowed_on", self.allowed_on)?;
        if self.most_off.currency() != self.amount.currency()
            || self.amount.amount() > self.most_off.amount()
        {
            return Err(invalid(
                "data.amount",
                "is more than the terms allow off the invoice",
            ));
        }
        free_text("data.note", &self.note, NOTE_LENGTH_MAX)
    }

    fn touches(&self) -> Vec<&SubsidiaryId> {
        vec![&self.invoice.subsidiary_id]
    }

    fn evolve(&self, account: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let invoice = account
            .invoices
            .get(&self.invoice)
            .ok_or_else(|| format!("discounts unknown {}", self.invoice))?;
        let most_off = invoice
            .discount
            .map(|terms| terms.most_off(invoice.amount))
            .ok_or_else(|| format!("discounts {}, whose terms allow none", self.invoice))?;
        if invoice.discounted + self.amount.amount() > most_off.amount() {
            return Err(format!(
                "discounts {} by {} in all, above the {most_off} its terms allow",
                self.invoice,
                invoice.discounted + self.amount.amount()
            ));
        }
        let payment = account.payments.get(&self.payment_id).ok_or_else(|| {
            format!(
                "discounts {} for unknown payment {}",
                self.invoice, self.payment_id
            )
        })?;
        if payment.reversed_on.is_some() || payment.received_date != self.allowed_on {
            return Err(format!(
                "discounts {} for payment {}, reversed or received on another day",
                self.invoice, self.payment_id
            ));
        }
        let discount = Allocation {
            invoice: self.invoice.clone(),
            amount: self.amount,
        };
        settlement::settle(account, std::slice::from_ref(&discount), self.allowed_on)?;
        if let Some(invoice) = account.invoices.get_mut(&self.invoice) {
            invoice.discounted += self.amount.amount();
        }
        if let Some(payment) = account.payments.get_mut(&self.payment_id) {
            match payment
                .discounts
                .iter_mut()
                .find(|d| d.invoice == self.invoice)
            {
                Some(earlier) => {
                    earlier.amount = Money::of(
                        earlier.amount.amount() + self.amount.amount(),
                        self.amount.currency(),
                    );
                }
                None => payment.discounts.push(discount),
            }
        }
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl DiscountAllowed {
    /// A valid discount for tests: 8.00 CNY off the sample invoice (2 % within 20 days of
    /// 1,000.00: at most 20.00) for the sample payment received 2026-06-15, whose 400.00
    /// applied to it earns 400 x 2 / 98 = 8.16.
    pub fn sample() -> Self {
        use super::payment::PaymentReceived;
        DiscountAllowed {
            invoice: InvoiceKey::sample(),
            payment_id: PaymentReceived::sample_command_id(),
            amount: Money::cny("8.00"),
            allowed_on: PaymentReceived::sample().received_date,
            terms: EarlyPaymentDiscount {
                percent: Decimal::from(2),
                within_days: 20,
            },
            most_off: Money::cny("20.00"),
            note: "paid within 20 days".to_owned(),
        }
    }

    /// The command this event records.
    pub fn command(&self) -> AllowDiscount {
        AllowDiscount {
            invoice: self.invoice.clone(),
            payment_id: self.payment_id,
            amount: self.amount,
            note: self.note.clone(),
        }
    }
}
