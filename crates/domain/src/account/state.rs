//! What the account knows of the customer's business: credit terms, invoices with their open
//! amounts, unapplied cash, promises. Every feature decides on this state and evolves it; the
//! bookkeeping of the log (position, hash chain, accepted commands) is the account's own
//! (`account/mod.rs`), so that no feature can touch it.
//!
//! The states of each feature's items live here rather than in the feature's module because
//! the account holds them all: a feature's module depends on this one, never the other way.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::credit::CreditTerms;
use crate::ids::{CustomerId, InvoiceKey, PersonName, PromiseId, SubsidiaryId};
use crate::money::{Currency, Money};

/// An invoice as the account knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceState {
    pub key: InvoiceKey,
    pub amount: Money,
    /// What is still owed: never below zero, never above `amount`.
    pub open: Decimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub over_limit: bool,
}

impl InvoiceState {
    pub fn open_money(&self) -> Money {
        Money::of(self.open, self.amount.currency())
    }
}

/// A promise to pay recorded on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseState {
    pub promise_id: PromiseId,
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    pub made_on: NaiveDate,
    pub promised_date: NaiveDate,
    pub invoices: Vec<InvoiceKey>,
    pub collector: PersonName,
}

/// Open invoices and unapplied cash of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub currency: Currency,
    pub open_invoices: Decimal,
    pub unapplied: Decimal,
}

impl Balance {
    /// Open invoices minus unapplied cash.
    pub fn exposure(&self) -> Decimal {
        self.open_invoices - self.unapplied
    }
}

/// The customer's business as the features see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub(super) customer_id: CustomerId,
    pub(super) credit: Option<CreditTerms>,
    pub(super) invoices: BTreeMap<InvoiceKey, InvoiceState>,
    pub(super) unapplied: BTreeMap<Currency, Decimal>,
    pub(super) promises: Vec<PromiseState>,
}

impl AccountState {
    pub(super) fn new(customer_id: CustomerId) -> Self {
        AccountState {
            customer_id,
            credit: None,
            invoices: BTreeMap::new(),
            unapplied: BTreeMap::new(),
            promises: Vec::new(),
        }
    }

    pub fn customer_id(&self) -> &CustomerId {
        &self.customer_id
    }

    pub fn credit(&self) -> Option<&CreditTerms> {
        self.credit.as_ref()
    }

    /// Every invoice ever issued to the customer, open or settled.
    pub fn invoices(&self) -> impl Iterator<Item = &InvoiceState> {
        self.invoices.values()
    }

    pub fn invoice(&self, key: &InvoiceKey) -> Option<&InvoiceState> {
        self.invoices.get(key)
    }

    pub fn open_invoices(&self) -> impl Iterator<Item = &InvoiceState> {
        self.invoices.values().filter(|i| i.open > Decimal::ZERO)
    }

    pub fn promises(&self) -> &[PromiseState] {
        &self.promises
    }

    /// Open invoices and unapplied cash per currency.
    pub fn balances(&self) -> Vec<Balance> {
        let mut balances: BTreeMap<Currency, Balance> = BTreeMap::new();
        for invoice in self.open_invoices() {
            let currency = invoice.amount.currency();
            balances
                .entry(currency)
                .or_insert_with(|| Balance::zero(currency))
                .open_invoices += invoice.open;
        }
        for (currency, unapplied) in &self.unapplied {
            if *unapplied > Decimal::ZERO {
                balances
                    .entry(*currency)
                    .or_insert_with(|| Balance::zero(*currency))
                    .unapplied += *unapplied;
            }
        }
        balances.into_values().collect()
    }

    /// Open invoices minus unapplied cash in `currency`, across all subsidiaries.
    pub fn exposure(&self, currency: Currency) -> Decimal {
        let open: Decimal = self
            .open_invoices()
            .filter(|i| i.amount.currency() == currency)
            .map(|i| i.open)
            .sum();
        open - self.unapplied_cash(currency)
    }

    pub fn unapplied_cash(&self, currency: Currency) -> Decimal {
        self.unapplied
            .get(&currency)
            .copied()
            .unwrap_or(Decimal::ZERO)
    }
}

impl Balance {
    fn zero(currency: Currency) -> Self {
        Balance {
            currency,
            open_invoices: Decimal::ZERO,
            unapplied: Decimal::ZERO,
        }
    }
}
