//! What the account knows of the customer's business: credit terms, invoices with their open
//! amounts and disputes, payments, credit notes, unapplied cash and credit, promises. Every
//! feature decides on this state and evolves it; the bookkeeping of the log (position, hash
//! chain, accepted commands) is the account's own (`account/mod.rs`), so that no feature can
//! touch it.
//!
//! The states of each feature's items live here rather than in the feature's module because
//! the account holds them all: a feature's module depends on this one, never the other way.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::allocation::Allocation;
use crate::credit::CreditTerms;
use crate::customer::CustomerProfile;
use crate::dated::DatedBalance;
use crate::exchange::ExchangeRates;
use crate::ids::{
    BankLineId, CommandId, CreditNoteKey, CustomerId, DisputeId, InvoiceKey, OrderKey, PersonName,
    PromiseId, SubsidiaryId,
};
use crate::money::{Currency, Money};
use crate::terms::{EarlyPaymentDiscount, PaymentTermsBook, ScheduleRow, open_by_row};

/// An invoice as the account knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceState {
    pub key: InvoiceKey,
    pub amount: Money,
    /// What is still owed: never below zero, never above `amount`.
    pub open: Decimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub over_limit: bool,
    /// What credit notes took off it.
    pub credited: Decimal,
    /// What was written off as bad debt.
    pub written_off: Decimal,
    /// The open amount by business date, from the issue date: `open` is its total.
    pub(super) history: DatedBalance,
    /// Every dispute opened on it, in the order opened; at most one holds at any date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disputes: Vec<DisputeState>,
    /// The rows it is due in, in due order, when it was issued with a schedule; empty when it
    /// is due whole on its due date (see [`InvoiceState::own_schedule`]), which costs the
    /// account nothing for the invoices without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<ScheduleRow>,
    /// The early-payment discount its terms allow, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<EarlyPaymentDiscount>,
    /// What early-payment discounts took off it.
    pub discounted: Decimal,
    /// Every instalment plan agreed on it, in the order agreed; at most one holds at any date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<PlanState>,
}

/// An instalment plan agreed on an overdue invoice (`instalment_plan.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanState {
    /// The id of the command that agreed it, by which its cancellation names it.
    pub plan_id: CommandId,
    pub agreed_on: NaiveDate,
    /// The new schedule of what the invoice owed on `agreed_on`.
    pub rows: Vec<ScheduleRow>,
    pub collector: PersonName,
    /// The day it was cancelled: the invoice's own schedule applies again from that day.
    pub cancelled_on: Option<NaiveDate>,
}

impl PlanState {
    /// Whether the plan is the invoice's schedule on `date`.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.agreed_on <= date && self.cancelled_on.is_none_or(|c| date < c)
    }

    /// Whether the plan holds on `date` or any later day: not cancelled by then.
    pub fn holds_from(&self, date: NaiveDate) -> bool {
        self.cancelled_on.is_none_or(|c| date < c)
    }
}

/// Credit reserved for a sales order (`credit_reservation.rs`), as the account knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationState {
    pub key: OrderKey,
    /// What was reserved.
    pub amount: Money,
    pub reserved_on: NaiveDate,
    /// The last day it counts in the exposure; it stops counting from the day after.
    pub expires_on: NaiveDate,
    /// Accepted under a `warn` policy although it took exposure above the limit.
    pub over_limit: bool,
    /// What is still reserved: never below zero, never above `amount`.
    pub open: Decimal,
    /// What invoices consumed of it.
    pub consumed: Decimal,
    /// What was released (the order cancelled or shrunk).
    pub released: Decimal,
    /// What is still reserved by business date, from `reserved_on`: `open` is its total.
    pub(super) history: DatedBalance,
}

impl ReservationState {
    pub(super) fn new(
        key: OrderKey,
        amount: Money,
        reserved_on: NaiveDate,
        expires_on: NaiveDate,
        over_limit: bool,
    ) -> Self {
        let mut history = DatedBalance::default();
        history.add(reserved_on, amount.amount());
        ReservationState {
            key,
            amount,
            reserved_on,
            expires_on,
            over_limit,
            open: amount.amount(),
            consumed: Decimal::ZERO,
            released: Decimal::ZERO,
            history,
        }
    }

    /// What the credit check counts of it for a decision dated `date`: what is still reserved,
    /// unless it expired before `date`. Like the rest of the decision's exposure it counts
    /// every movement known, whatever its date.
    pub fn counted_on(&self, date: NaiveDate) -> Decimal {
        if date <= self.expires_on {
            self.open
        } else {
            Decimal::ZERO
        }
    }

    /// The most an invoice or a release dated `date` may take off it: what it holds on that
    /// date and every later one (see [`DatedBalance::lowest_from`]).
    pub fn available_on(&self, date: NaiveDate) -> Decimal {
        self.history.lowest_from(date)
    }

    pub fn open_money(&self) -> Money {
        Money::of(self.open, self.amount.currency())
    }

    /// Takes `amount` off what is reserved from `date` on (an invoice consuming it, a
    /// release); refused, and nothing changed, when it would hold less than nothing then or
    /// later, or the date is before the reservation.
    pub(super) fn take(&mut self, date: NaiveDate, amount: Decimal) -> Result<(), String> {
        if date < self.reserved_on || amount <= Decimal::ZERO || self.available_on(date) < amount {
            return Err(format!(
                "takes {amount} off {} on {date}: before it, more than it holds then or later, \
                 or nothing",
                self.key
            ));
        }
        self.history.add(date, -amount);
        self.open -= amount;
        Ok(())
    }
}

/// A dispute of (part of) an invoice, as the account knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeState {
    pub dispute_id: DisputeId,
    pub amount: Money,
    pub reason: DisputeReason,
    pub opened_on: NaiveDate,
    /// The last day it holds unless resolved first; collectible again from the day after.
    pub expires_on: Option<NaiveDate>,
    /// The day it was resolved (collectible again from that day), and how.
    pub resolved: Option<(NaiveDate, DisputeOutcome)>,
}

impl DisputeState {
    /// Whether the dispute holds its amount back on `date`.
    pub fn holds_on(&self, date: NaiveDate) -> bool {
        self.opened_on <= date
            && self.expires_on.is_none_or(|last| date <= last)
            && self
                .resolved
                .is_none_or(|(resolved_on, _)| date < resolved_on)
    }

    /// Whether the dispute holds on `date` or any later day: it is neither resolved nor expired
    /// by then.
    pub fn holds_from(&self, date: NaiveDate) -> bool {
        self.expires_on.is_none_or(|last| date <= last)
            && self
                .resolved
                .is_none_or(|(resolved_on, _)| date < resolved_on)
    }
}

/// Why the customer contests an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisputeReason {
    Price,
    Quantity,
    Quality,
    NotDelivered,
    DuplicateBilling,
    Other,
}

impl DisputeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeReason::Price => "price",
            DisputeReason::Quantity => "quantity",
            DisputeReason::Quality => "quality",
            DisputeReason::NotDelivered => "not_delivered",
            DisputeReason::DuplicateBilling => "duplicate_billing",
            DisputeReason::Other => "other",
        }
    }
}

/// How a dispute ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisputeOutcome {
    /// The customer withdrew it: the amount is collectible again from the resolution date.
    Withdrawn,
    /// The customer was right and was credited by a credit note (named in the event).
    Upheld,
}

impl DisputeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeOutcome::Withdrawn => "withdrawn",
            DisputeOutcome::Upheld => "upheld",
        }
    }
}

impl InvoiceState {
    pub(super) fn new(
        key: InvoiceKey,
        amount: Money,
        issue_date: NaiveDate,
        due_date: NaiveDate,
        over_limit: bool,
    ) -> Self {
        let mut history = DatedBalance::default();
        history.add(issue_date, amount.amount());
        InvoiceState {
            key,
            amount,
            open: amount.amount(),
            issue_date,
            due_date,
            over_limit,
            credited: Decimal::ZERO,
            written_off: Decimal::ZERO,
            history,
            disputes: Vec::new(),
            schedule: Vec::new(),
            discount: None,
            discounted: Decimal::ZERO,
            plans: Vec::new(),
        }
    }

    /// The instalment plan holding on `date`, if any.
    pub fn plan_on(&self, date: NaiveDate) -> Option<&PlanState> {
        self.plans.iter().rev().find(|p| p.holds_on(date))
    }

    /// The plan holding on `date` or a later day, if any (at most one does).
    pub fn plan_from(&self, date: NaiveDate) -> Option<&PlanState> {
        self.plans.iter().rev().find(|p| p.holds_from(date))
    }

    /// The rows it is due in by its own terms: its schedule, or one row, itself on its due
    /// date.
    pub fn own_schedule(&self) -> Cow<'_, [ScheduleRow]> {
        if self.schedule.is_empty() {
            Cow::Owned(vec![ScheduleRow {
                due_date: self.due_date,
                amount: self.amount,
            }])
        } else {
            Cow::Borrowed(&self.schedule)
        }
    }

    /// The schedule the invoice is due in on `date`: the instalment plan holding then, or its
    /// own.
    pub fn schedule_on(&self, date: NaiveDate) -> Cow<'_, [ScheduleRow]> {
        match self.plan_on(date) {
            Some(plan) => Cow::Borrowed(&plan.rows),
            None => self.own_schedule(),
        }
    }

    /// Each row of the schedule on `date` with what it owes when the invoice owes `open`, rows
    /// paid in due order (`terms::open_by_row`).
    pub fn open_rows(&self, date: NaiveDate, open: Decimal) -> Vec<(NaiveDate, Decimal)> {
        if self.schedule.is_empty() && self.plans.is_empty() {
            return vec![(self.due_date, open)];
        }
        let rows = self.schedule_on(date);
        rows.iter()
            .zip(open_by_row(&rows, open))
            .map(|(row, row_open)| (row.due_date, row_open))
            .collect()
    }

    /// What is overdue on `date`: the open amount then of the rows due before it.
    pub fn overdue_on(&self, date: NaiveDate) -> Decimal {
        self.open_rows(date, self.open_on(date))
            .into_iter()
            .filter(|(due, _)| *due < date)
            .map(|(_, open)| open)
            .sum()
    }

    pub fn open_money(&self) -> Money {
        Money::of(self.open, self.amount.currency())
    }

    /// What is collectible and more than `days` overdue on `date`: the open amount then of the
    /// rows due before `date - days`, less what a dispute holding then holds back (never below
    /// zero); with the due date of the oldest such row. The overdue hold's measure
    /// (`credit_check.rs`): `days` 0 is everything overdue.
    pub fn overdue_beyond(&self, date: NaiveDate, days: u32) -> (Decimal, Option<NaiveDate>) {
        let open = self.open_on(date);
        if open <= Decimal::ZERO {
            return (Decimal::ZERO, None);
        }
        let Some(cutoff) = date.checked_sub_days(chrono::Days::new(u64::from(days))) else {
            return (Decimal::ZERO, None);
        };
        let rows: Vec<_> = self
            .open_rows(date, open)
            .into_iter()
            .filter(|(due, row_open)| *due < cutoff && *row_open > Decimal::ZERO)
            .collect();
        let overdue: Decimal = rows.iter().map(|(_, row_open)| *row_open).sum();
        let disputed: Decimal = self
            .disputes
            .iter()
            .filter(|d| d.holds_on(date))
            .map(|d| d.amount.amount())
            .sum();
        let collectible = (overdue - disputed).max(Decimal::ZERO);
        if collectible.is_zero() {
            return (Decimal::ZERO, None);
        }
        (collectible, rows.first().map(|(due, _)| *due))
    }

    /// The dispute that holds on `date` or a later day, if any (at most one does).
    pub fn open_dispute_from(&self, date: NaiveDate) -> Option<&DisputeState> {
        self.disputes.iter().rev().find(|d| d.holds_from(date))
    }

    /// The open amount as of the end of `date`.
    pub fn open_on(&self, date: NaiveDate) -> Decimal {
        self.history.on(date)
    }

    /// The most a payment, credit note or write-off dated `date` may take off the invoice: its
    /// lowest open amount on that date or after (see [`DatedBalance::lowest_from`]).
    pub fn settleable_on(&self, date: NaiveDate) -> Decimal {
        self.history.lowest_from(date)
    }

    /// Takes `amount` off the open amount from `date` on (a payment, a credit note, a
    /// write-off, an application); refused, and nothing changed, when the invoice would owe less
    /// than nothing on that date or a later one, or the date is before the issue date.
    pub(super) fn settle(&mut self, date: NaiveDate, amount: Decimal) -> Result<(), String> {
        if date < self.issue_date {
            return Err(format!("settles {} before its issue date", self.key));
        }
        if amount <= Decimal::ZERO || self.settleable_on(date) < amount {
            return Err(format!(
                "takes {amount} off {} on {date}: more than it owes then or later, or nothing",
                self.key
            ));
        }
        self.history.add(date, -amount);
        self.open -= amount;
        Ok(())
    }

    /// Puts `amount` back on the open amount from `date` on (a reversed payment); refused when
    /// the invoice would owe more than its amount.
    pub(super) fn reopen(&mut self, date: NaiveDate, amount: Decimal) -> Result<(), String> {
        if amount <= Decimal::ZERO || self.open + amount > self.amount.amount() {
            return Err(format!(
                "re-opens {} by {amount}, above its amount",
                self.key
            ));
        }
        self.history.add(date, amount);
        self.open += amount;
        Ok(())
    }
}

/// A payment as the account knows it, named by the id of the command that recorded it (what
/// a reversal names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentState {
    pub command_id: CommandId,
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    pub received_date: NaiveDate,
    pub allocations: Vec<Allocation>,
    /// The part left as unapplied cash when it was received.
    pub unapplied: Money,
    /// The date it was reversed on, once it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversed_on: Option<NaiveDate>,
    /// The early-payment discounts it earned, per invoice (`discount.rs`): void if it is
    /// reversed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Allocation>,
}

/// A credit note issued to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteState {
    pub key: CreditNoteKey,
    pub amount: Money,
    pub issue_date: NaiveDate,
    pub reason: String,
    /// The invoice it credited; `None`: on account.
    pub invoice: Option<InvoiceKey>,
}

/// Where unapplied money on the account came from: it is applied and refunded the same way,
/// and reported apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UnappliedSource {
    /// Cash: payments, or the part of them not applied to invoices.
    Cash,
    /// Credit: credit notes issued against no invoice.
    Credit,
}

impl UnappliedSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UnappliedSource::Cash => "cash",
            UnappliedSource::Credit => "credit",
        }
    }
}

/// A promise to pay recorded on the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseState {
    pub promise_id: PromiseId,
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    pub made_on: NaiveDate,
    pub promised_date: NaiveDate,
    pub invoices: Vec<InvoiceKey>,
    pub collector: PersonName,
}

/// Open invoices, unapplied cash and unapplied credit of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub currency: Currency,
    pub open_invoices: Decimal,
    pub unapplied: Decimal,
    pub unapplied_credit: Decimal,
}

impl Balance {
    /// Open invoices minus unapplied cash and unapplied credit.
    pub fn exposure(&self) -> Decimal {
        self.open_invoices - self.unapplied - self.unapplied_credit
    }
}

/// A bank account's stream: the account as registered and every statement line imported into
/// it, by the bank's id of the line, with what became of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankBook {
    pub(super) account: Option<BankAccountRecord>,
    pub(super) lines: BTreeMap<BankLineId, StatementLineState>,
}

impl BankBook {
    fn is_empty(&self) -> bool {
        self.account.is_none() && self.lines.is_empty()
    }

    /// The account as registered, once it is.
    pub fn account(&self) -> Option<&BankAccountRecord> {
        self.account.as_ref()
    }

    pub fn line(&self, id: &BankLineId) -> Option<&StatementLineState> {
        self.lines.get(id)
    }

    /// Every line imported, by the bank's id.
    pub fn lines(&self) -> impl Iterator<Item = (&BankLineId, &StatementLineState)> {
        self.lines.iter()
    }
}

/// One of the group's bank accounts as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccountRecord {
    /// The subsidiary that holds the account: the payments of its receipts are that
    /// subsidiary's.
    pub subsidiary_id: SubsidiaryId,
    pub currency: Currency,
    /// The account's number as its statements name it (an IBAN, a domestic number).
    pub number: String,
}

/// A statement line as the bank account's stream knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLineState {
    /// The digest of the line's content as imported: the same id with another digest is
    /// another transaction, refused.
    pub digest: String,
    pub amount: Money,
    pub value_date: NaiveDate,
    pub status: LineStatus,
}

/// What became of a statement line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineStatus {
    /// Waiting: for the matcher, or in the review queue.
    Unmatched,
    /// Matched to one or more customers' payments.
    Matched,
    /// Not a receivable (a supplier's refund, interest, a transfer between the group's
    /// accounts).
    Excluded,
}

/// Which subsidiary collects on behalf of which: the group's settings, kept by
/// the group's own account (`collection_on_behalf.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionOnBehalf {
    /// `(collector, on behalf of)` pairs that are enabled.
    pub(super) enabled: BTreeSet<(SubsidiaryId, SubsidiaryId)>,
}

impl CollectionOnBehalf {
    /// Whether `collector`'s token may move money against `on_behalf_of`'s documents.
    pub fn permits(&self, collector: &SubsidiaryId, on_behalf_of: &SubsidiaryId) -> bool {
        self.enabled
            .contains(&(collector.clone(), on_behalf_of.clone()))
    }

    /// The subsidiaries `collector` collects on behalf of.
    pub fn on_behalf_of(&self, collector: &SubsidiaryId) -> Vec<SubsidiaryId> {
        self.enabled
            .iter()
            .filter(|(c, _)| c == collector)
            .map(|(_, other)| other.clone())
            .collect()
    }

    /// Every enabled pair, `(collector, on behalf of)`, in order.
    pub fn pairs(&self) -> impl Iterator<Item = &(SubsidiaryId, SubsidiaryId)> {
        self.enabled.iter()
    }
}

/// The customer's business as the features see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    pub(super) customer_id: CustomerId,
    pub(super) credit: Option<CreditTerms>,
    #[serde(with = "by_key")]
    pub(super) invoices: BTreeMap<InvoiceKey, InvoiceState>,
    pub(super) unapplied: BTreeMap<Currency, DatedBalance>,
    pub(super) unapplied_credit: BTreeMap<Currency, DatedBalance>,
    pub(super) payments: BTreeMap<CommandId, PaymentState>,
    #[serde(with = "by_key")]
    pub(super) credit_notes: BTreeMap<CreditNoteKey, CreditNoteState>,
    pub(super) promises: Vec<PromiseState>,
    /// Only the group's own account has any.
    pub(super) collection_on_behalf: CollectionOnBehalf,
    /// The customer's record, once registered.
    pub(super) profile: Option<CustomerProfile>,
    /// The collector assigned to the customer.
    pub(super) collector: Option<PersonName>,
    /// The default collector of each subsidiary's customers (the group's own account).
    pub(super) default_collectors: BTreeMap<SubsidiaryId, PersonName>,
    /// The exchange rates the group published (the group's own account).
    pub(super) exchange_rates: Arc<ExchangeRates>,
    /// The group's payment-terms templates (the group's own account).
    pub(super) payment_terms: Arc<PaymentTermsBook>,
    /// Credit reserved for sales orders, by subsidiary and order number.
    #[serde(with = "by_key")]
    pub(super) reservations: BTreeMap<OrderKey, ReservationState>,
    /// Only a bank account's stream has any (`bank_account.rs`, `receipt.rs`).
    #[serde(default, skip_serializing_if = "BankBook::is_empty")]
    pub(super) bank: BankBook,
}

impl AccountState {
    pub(super) fn new(customer_id: CustomerId) -> Self {
        AccountState {
            customer_id,
            credit: None,
            invoices: BTreeMap::new(),
            unapplied: BTreeMap::new(),
            unapplied_credit: BTreeMap::new(),
            payments: BTreeMap::new(),
            credit_notes: BTreeMap::new(),
            promises: Vec::new(),
            collection_on_behalf: CollectionOnBehalf::default(),
            profile: None,
            collector: None,
            default_collectors: BTreeMap::new(),
            exchange_rates: Arc::default(),
            payment_terms: Arc::default(),
            reservations: BTreeMap::new(),
            bank: BankBook::default(),
        }
    }

    /// The bank account's registration and statement lines (a bank account's stream).
    pub fn bank(&self) -> &BankBook {
        &self.bank
    }

    /// Every credit reservation ever made, by subsidiary and order number.
    pub fn reservations(&self) -> impl Iterator<Item = &ReservationState> {
        self.reservations.values()
    }

    pub fn reservation(&self, key: &OrderKey) -> Option<&ReservationState> {
        self.reservations.get(key)
    }

    /// What the credit check counts as reserved in each currency for a decision dated `date`
    /// (the reservations that have not expired before it), zero currencies left out.
    pub fn reserved_on(&self, date: NaiveDate) -> BTreeMap<Currency, Decimal> {
        let mut reserved: BTreeMap<Currency, Decimal> = BTreeMap::new();
        for reservation in self.reservations.values() {
            let counted = reservation.counted_on(date);
            if counted > Decimal::ZERO {
                *reserved.entry(reservation.amount.currency()).or_default() += counted;
            }
        }
        reserved
    }

    /// What the credit check counts as the customer's exposure in each currency for a
    /// decision dated `date`: open invoices less unapplied cash and credit, plus the credit
    /// reserved then ([`Self::reserved_on`]); every currency with any of them, possibly zero.
    pub fn credit_exposure_on(&self, date: NaiveDate) -> BTreeMap<Currency, Decimal> {
        let mut exposure: BTreeMap<Currency, Decimal> = self
            .balances()
            .into_iter()
            .map(|balance| (balance.currency, balance.exposure()))
            .collect();
        for (currency, reserved) in self.reserved_on(date) {
            *exposure.entry(currency).or_default() += reserved;
        }
        exposure
    }

    /// The group's payment-terms templates (the group's own account).
    pub fn payment_terms(&self) -> &Arc<PaymentTermsBook> {
        &self.payment_terms
    }

    /// The exchange rates the group published (the group's own account).
    pub fn exchange_rates(&self) -> &Arc<ExchangeRates> {
        &self.exchange_rates
    }

    /// The customer's record, once registered.
    pub fn profile(&self) -> Option<&CustomerProfile> {
        self.profile.as_ref()
    }

    /// The collector assigned to the customer, if any.
    pub fn collector(&self) -> Option<&PersonName> {
        self.collector.as_ref()
    }

    /// The default collector of `subsidiary`'s customers (the group's own account).
    pub fn default_collector(&self, subsidiary: &SubsidiaryId) -> Option<&PersonName> {
        self.default_collectors.get(subsidiary)
    }

    pub fn customer_id(&self) -> &CustomerId {
        &self.customer_id
    }

    pub fn credit(&self) -> Option<&CreditTerms> {
        self.credit.as_ref()
    }

    /// Which subsidiary collects on behalf of which (the group's own account).
    pub fn collection_on_behalf(&self) -> &CollectionOnBehalf {
        &self.collection_on_behalf
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

    /// Every payment received, reversed or not, by the id of the command that recorded it.
    pub fn payments(&self) -> impl Iterator<Item = &PaymentState> {
        self.payments.values()
    }

    pub fn payment(&self, command_id: &CommandId) -> Option<&PaymentState> {
        self.payments.get(command_id)
    }

    /// Whether a credit note of this number was issued to the customer.
    pub fn has_credit_note(&self, key: &CreditNoteKey) -> bool {
        self.credit_notes.contains_key(key)
    }

    /// Every credit note issued to the customer, by subsidiary and number.
    pub fn credit_notes(&self) -> impl Iterator<Item = &CreditNoteState> {
        self.credit_notes.values()
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
            if unapplied.total() > Decimal::ZERO {
                balances
                    .entry(*currency)
                    .or_insert_with(|| Balance::zero(*currency))
                    .unapplied += unapplied.total();
            }
        }
        for (currency, credit) in &self.unapplied_credit {
            if credit.total() > Decimal::ZERO {
                balances
                    .entry(*currency)
                    .or_insert_with(|| Balance::zero(*currency))
                    .unapplied_credit += credit.total();
            }
        }
        balances.into_values().collect()
    }

    /// Open invoices minus unapplied cash and unapplied credit in `currency`, across all
    /// subsidiaries: money on account lowers what the customer owes the group.
    pub fn exposure(&self, currency: Currency) -> Decimal {
        let open: Decimal = self
            .open_invoices()
            .filter(|i| i.amount.currency() == currency)
            .map(|i| i.open)
            .sum();
        open - self.unapplied_cash(currency) - self.unapplied_credit(currency)
    }

    /// What the customer owes in `currency` at the end of `date`, net of its money on account:
    /// the open amounts of its invoices then less its unapplied cash and credit then (what a
    /// statement of account closes at on that date).
    pub fn balance_on(&self, currency: Currency, date: NaiveDate) -> Decimal {
        let open: Decimal = self
            .invoices
            .values()
            .filter(|i| i.amount.currency() == currency)
            .map(|i| i.open_on(date))
            .sum();
        let on_account = |source| {
            self.pool(source)
                .get(&currency)
                .map_or(Decimal::ZERO, |pool| pool.on(date))
        };
        open - on_account(UnappliedSource::Cash) - on_account(UnappliedSource::Credit)
    }

    pub fn unapplied_cash(&self, currency: Currency) -> Decimal {
        self.unapplied_of(UnappliedSource::Cash, currency)
    }

    pub fn unapplied_credit(&self, currency: Currency) -> Decimal {
        self.unapplied_of(UnappliedSource::Credit, currency)
    }

    fn pool(&self, source: UnappliedSource) -> &BTreeMap<Currency, DatedBalance> {
        match source {
            UnappliedSource::Cash => &self.unapplied,
            UnappliedSource::Credit => &self.unapplied_credit,
        }
    }

    /// The unapplied money of `source` in `currency`, after every movement.
    pub fn unapplied_of(&self, source: UnappliedSource, currency: Currency) -> Decimal {
        self.pool(source)
            .get(&currency)
            .map_or(Decimal::ZERO, DatedBalance::total)
    }

    /// The most an application or a refund dated `date` may take out of the unapplied money of
    /// `source`: its lowest amount on that date or after, so that money received later is never
    /// spent earlier.
    pub fn spendable_on(
        &self,
        source: UnappliedSource,
        currency: Currency,
        date: NaiveDate,
    ) -> Decimal {
        self.pool(source)
            .get(&currency)
            .map_or(Decimal::ZERO, |pool| pool.lowest_from(date))
    }

    /// Adds `amount` to the unapplied money of `source` from `date` on.
    pub(super) fn add_unapplied(
        &mut self,
        source: UnappliedSource,
        amount: Money,
        date: NaiveDate,
    ) {
        self.pool_mut(source)
            .entry(amount.currency())
            .or_default()
            .add(date, amount.amount());
    }

    /// Takes `amount` out of the unapplied money of `source` from `date` on; refused (and
    /// nothing changed) when that would leave less than nothing on some date.
    pub(super) fn take_unapplied(
        &mut self,
        source: UnappliedSource,
        amount: Money,
        date: NaiveDate,
    ) -> Result<(), String> {
        if self.spendable_on(source, amount.currency(), date) < amount.amount() {
            return Err(format!(
                "takes {amount} of unapplied {} on {date}, more than there is then or later",
                source.as_str()
            ));
        }
        self.pool_mut(source)
            .entry(amount.currency())
            .or_default()
            .add(date, -amount.amount());
        Ok(())
    }

    fn pool_mut(&mut self, source: UnappliedSource) -> &mut BTreeMap<Currency, DatedBalance> {
        match source {
            UnappliedSource::Cash => &mut self.unapplied,
            UnappliedSource::Credit => &mut self.unapplied_credit,
        }
    }
}

impl Balance {
    fn zero(currency: Currency) -> Self {
        Balance {
            currency,
            open_invoices: Decimal::ZERO,
            unapplied: Decimal::ZERO,
            unapplied_credit: Decimal::ZERO,
        }
    }
}

/// An item of a map kept by a key it holds itself (an invoice by its subsidiary and number).
trait Keyed {
    type Key: Ord;
    fn key(&self) -> Self::Key;
}

impl Keyed for InvoiceState {
    type Key = InvoiceKey;
    fn key(&self) -> InvoiceKey {
        self.key.clone()
    }
}

impl Keyed for CreditNoteState {
    type Key = CreditNoteKey;
    fn key(&self) -> CreditNoteKey {
        self.key.clone()
    }
}

impl Keyed for ReservationState {
    type Key = OrderKey;
    fn key(&self) -> OrderKey {
        self.key.clone()
    }
}

/// A map of [`Keyed`] items written as the list of its items: a snapshot's JSON cannot key a map
/// by an invoice's subsidiary and number, and the items hold their keys (`snapshot.rs`).
mod by_key {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Keyed;

    pub fn serialize<V: Keyed + Serialize, S: Serializer>(
        map: &BTreeMap<V::Key, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.values())
    }

    pub fn deserialize<'de, V, D>(deserializer: D) -> Result<BTreeMap<V::Key, V>, D::Error>
    where
        V: Keyed + Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<V>::deserialize(deserializer)?
            .into_iter()
            .map(|item| (item.key(), item))
            .collect())
    }
}
