//! Allocation of a payment to open invoices: the explicit instruction of the payer, or oldest due
//! first. Pure arithmetic over the account's open items; the aggregate decides which invoices are
//! eligible.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::InvoiceKey;
use crate::money::Money;

/// Part of a payment applied to one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub invoice: InvoiceKey,
    pub amount: Money,
}

/// A requested allocation of money (a payment, an application of unapplied money, a credit
/// note, a write-off) to one invoice, before the account has checked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationRequest {
    pub invoice: InvoiceKey,
    pub amount: Money,
}

impl From<&AllocationRequest> for Allocation {
    /// The allocation as decided, once the account has checked the request.
    fn from(request: &AllocationRequest) -> Self {
        Allocation {
            invoice: request.invoice.clone(),
            amount: request.amount,
        }
    }
}

impl From<&Allocation> for AllocationRequest {
    /// The request a decided allocation records (the command an event records).
    fn from(allocation: &Allocation) -> Self {
        AllocationRequest {
            invoice: allocation.invoice.clone(),
            amount: allocation.amount,
        }
    }
}

/// An invoice, or one row of its schedule, that a payment may be applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItem<'a> {
    pub key: &'a InvoiceKey,
    pub open: Decimal,
    pub due_date: chrono::NaiveDate,
    pub issue_date: chrono::NaiveDate,
}

/// The allocations of a payment and what is left unapplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationPlan {
    pub allocations: Vec<Allocation>,
    pub unapplied: Money,
}

impl AllocationPlan {
    /// Allocations plus unapplied must equal the payment, every part be positive and in the
    /// payment's currency.
    pub fn is_balanced(&self, payment: Money) -> bool {
        let allocated: Decimal = self.allocations.iter().map(|a| a.amount.amount()).sum();
        self.unapplied.amount() >= Decimal::ZERO
            && self.unapplied.currency() == payment.currency()
            && self.allocations.iter().all(|a| {
                a.amount.amount() > Decimal::ZERO && a.amount.currency() == payment.currency()
            })
            && allocated + self.unapplied.amount() == payment.amount()
    }
}

/// Applies `payment` to `items` oldest due date first (then issue date, then invoice key), each
/// up to its open amount; the rest stays unapplied. Items may be rows of invoices' schedules
/// (several of one invoice): an invoice's rows come in due order, and what they take is one
/// allocation per invoice, in the order of the invoice's first row taken.
pub fn oldest_due_first(payment: Money, mut items: Vec<OpenItem<'_>>) -> AllocationPlan {
    items.sort_by(|a, b| (a.due_date, a.issue_date, a.key).cmp(&(b.due_date, b.issue_date, b.key)));
    let mut remaining = payment.amount();
    let mut allocations = Vec::new();
    for item in items {
        if remaining <= Decimal::ZERO {
            break;
        }
        if item.open <= Decimal::ZERO {
            continue;
        }
        let applied = remaining.min(item.open);
        remaining -= applied;
        if let Some(earlier) = allocations
            .iter_mut()
            .find(|a: &&mut Allocation| a.invoice == *item.key)
        {
            earlier.amount = Money::of(earlier.amount.amount() + applied, payment.currency());
            continue;
        }
        allocations.push(Allocation {
            invoice: item.key.clone(),
            amount: Money::of(applied, payment.currency()),
        });
    }
    let plan = AllocationPlan {
        allocations,
        unapplied: Money::of(remaining, payment.currency()),
    };
    debug_assert!(plan.is_balanced(payment));
    plan
}

/// The plan for explicit allocations that have been checked against the account: the rest of
/// the payment stays unapplied.
pub fn explicit(payment: Money, allocations: Vec<Allocation>) -> AllocationPlan {
    let allocated: Decimal = allocations.iter().map(|a| a.amount.amount()).sum();
    AllocationPlan {
        allocations,
        unapplied: Money::of(payment.amount() - allocated, payment.currency()),
    }
}
