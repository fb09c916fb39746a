//! Properties of an account over random lives: invoices in two currencies from two subsidiaries,
//! payments (explicit, oldest due first, on account), credit notes against invoices or on
//! account, write-offs, reversals of earlier payments, applications of unapplied cash or credit
//! and refunds, all dated in a window of four weeks and in no particular order of date, each
//! decided against the account and accepted or refused.
//!
//! Every expectation is computed here, in integer minor units, from the events the account
//! accepted (the ledger, with its own dated records) or from the commands and the ledger before
//! them (the predictions); the code under test is only asked what it decided and what its state
//! is.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use proptest::sample::Index;
use receivables_domain::account::CustomerAccount;
use receivables_domain::account::reversal::ReversalReason;
use receivables_domain::account::snapshot::AccountSnapshot;
use receivables_domain::account::state::UnappliedSource;
use receivables_domain::command::{CommandBody, InvoiceKey, RecordPayment};
use receivables_domain::event::{
    Allocation, AllocationRule, CreditNoteIssued, Event, InvoiceWrittenOff, PaymentReceived,
    PaymentReversed, RecordedEvent, RefundIssued, UnappliedCashApplied,
};
use receivables_domain::ids::{CommandId, SubsidiaryId};
use receivables_domain::money::{Currency, Money};
use receivables_domain::refusal::{Reason, Refusal, RefusalCode};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use support::*;

const SUBSIDIARIES: [&str; 2] = [SUB_A, SUB_B];
const CURRENCIES: [&str; 2] = ["CNY", "USD"];
const SOURCES: [UnappliedSource; 2] = [UnappliedSource::Cash, UnappliedSource::Credit];

// ---------------------------------------------------------------------------------------------
// Dates and amounts
// ---------------------------------------------------------------------------------------------

/// Day `n` of the window: 2026-06-01 plus three days per step, 06-01 to 06-28, so that dates
/// tie often.
fn day(n: i64) -> NaiveDate {
    date("2026-06-01") + Duration::days(3 * n)
}

/// Every date a report could be asked for around the window: 05-31 (before anything) to 07-01.
fn every_date() -> impl Iterator<Item = NaiveDate> {
    let first = date("2026-05-31");
    (0..=31).map(move |n| first + Duration::days(n))
}

fn text(on: NaiveDate) -> String {
    on.format("%Y-%m-%d").to_string()
}

fn minor(amount_minor: i64, code: Currency) -> Money {
    Money::of(Decimal::new(amount_minor, 2), code)
}

/// An amount as whole minor units (fen, cents); anything finer fails the test.
fn to_minor(amount: Decimal) -> i64 {
    let scaled = amount * Decimal::ONE_HUNDRED;
    assert_eq!(
        scaled.fract(),
        Decimal::ZERO,
        "{amount} is finer than a minor unit"
    );
    scaled.to_i64().expect("an amount that fits in i64")
}

/// `percent` of `of`, at least one minor unit.
fn share(of: i64, percent: i64) -> i64 {
    (of * percent / 100).max(1)
}

/// The balance of dated movements as of the end of `on`.
fn on_date(moves: &[(NaiveDate, i64)], on: NaiveDate) -> i64 {
    moves.iter().filter(|(d, _)| *d <= on).map(|(_, m)| m).sum()
}

/// The lowest the balance stands on `on` or any later date.
fn lowest_from(moves: &[(NaiveDate, i64)], on: NaiveDate) -> i64 {
    moves
        .iter()
        .filter(|(d, _)| *d > on)
        .map(|(d, _)| on_date(moves, *d))
        .fold(on_date(moves, on), i64::min)
}

// ---------------------------------------------------------------------------------------------
// Random lives
// ---------------------------------------------------------------------------------------------

/// A picked earlier item (`Index`) and a percentage of what it still owes (over 100 asks too
/// much).
type Pick = (Index, i64);

#[derive(Debug, Clone)]
enum PaymentHow {
    OldestDueFirst,
    OnAccount,
    /// Allocations to invoices issued so far, paid with `extra` more than they add up to.
    Explicit(Vec<Pick>, i64),
}

#[derive(Debug, Clone)]
enum Spec {
    Invoice {
        subsidiary: usize,
        currency: usize,
        amount: i64,
        issue_day: i64,
        due_after_days: i64,
    },
    Payment {
        subsidiary: usize,
        currency: usize,
        amount: i64,
        day: i64,
        how: PaymentHow,
    },
    CreditNote {
        subsidiary: usize,
        /// Against an invoice (a percentage of what it owes), or on account (`amount`).
        against: Option<Pick>,
        amount: i64,
        currency: usize,
        day: i64,
        /// In the other currency than the invoice's.
        mismatched: bool,
        /// The number of an earlier credit note, at its subsidiary (`true`) or the other one.
        reuse: Option<(Index, bool)>,
    },
    WriteOff {
        invoice: Pick,
        day: i64,
    },
    Reversal {
        payment: Index,
        /// Days after the payment was received, in steps of three (negative: before it).
        after: i64,
        other_subsidiary: bool,
        unknown: bool,
    },
    Application {
        subsidiary: usize,
        source: usize,
        currency: usize,
        /// Of the unapplied money, for oldest due first.
        percent: i64,
        day: i64,
        /// Empty: oldest due first.
        explicit: Vec<Pick>,
    },
    Refund {
        subsidiary: usize,
        source: usize,
        currency: usize,
        percent: i64,
        day: i64,
    },
}

fn pick() -> impl Strategy<Value = Pick> {
    (any::<Index>(), 1i64..=120)
}

fn payment_how() -> impl Strategy<Value = PaymentHow> {
    prop_oneof![
        Just(PaymentHow::OldestDueFirst),
        Just(PaymentHow::OnAccount),
        (prop::collection::vec(pick(), 1..3), 0i64..=50_000)
            .prop_map(|(picks, extra)| PaymentHow::Explicit(picks, extra)),
    ]
}

/// A day of the window, the later half twice as likely: money is spent after it arrives.
fn late_day() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..10, 5i64..10]
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        4 => (0..2usize, 0..2usize, 1i64..=200_000, 0i64..8, 0i64..4).prop_map(
            |(subsidiary, currency, amount, issue_day, due)| Spec::Invoice {
                subsidiary,
                currency,
                amount,
                issue_day,
                due_after_days: due * 10,
            }
        ),
        4 => (0..2usize, 0..2usize, 1i64..=300_000, 0i64..10, payment_how()).prop_map(
            |(subsidiary, currency, amount, day, how)| Spec::Payment {
                subsidiary,
                currency,
                amount,
                day,
                how,
            }
        ),
        2 => (
            0..2usize,
            prop::option::weighted(0.7, pick()),
            1i64..=100_000,
            0..2usize,
            0i64..10,
            prop::bool::weighted(0.1),
            prop::option::weighted(0.15, (any::<Index>(), any::<bool>())),
        )
            .prop_map(
                |(subsidiary, against, amount, currency, day, mismatched, reuse)| {
                    Spec::CreditNote {
                        subsidiary,
                        against,
                        amount,
                        currency,
                        day,
                        mismatched,
                        reuse,
                    }
                }
            ),
        1 => (pick(), 0i64..10).prop_map(|(invoice, day)| Spec::WriteOff { invoice, day }),
        2 => (
            any::<Index>(),
            -1i64..6,
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.05),
        )
            .prop_map(|(payment, after, other_subsidiary, unknown)| Spec::Reversal {
                payment,
                after,
                other_subsidiary,
                unknown,
            }),
        2 => (
            0..2usize,
            0..2usize,
            0..2usize,
            1i64..=110,
            late_day(),
            prop::collection::vec(pick(), 0..3),
        )
            .prop_map(|(subsidiary, source, currency, percent, day, explicit)| {
                Spec::Application {
                    subsidiary,
                    source,
                    currency,
                    percent,
                    day,
                    explicit,
                }
            }),
        1 => (0..2usize, 0..2usize, 0..2usize, 1i64..=110, late_day()).prop_map(
            |(subsidiary, source, currency, percent, day)| Spec::Refund {
                subsidiary,
                source,
                currency,
                percent,
                day,
            }
        ),
    ]
}

fn life() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(spec(), 1..=40)
}

// ---------------------------------------------------------------------------------------------
// The ledger, kept here from the accepted events
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct LedgerInvoice {
    key: InvoiceKey,
    currency: Currency,
    amount: i64,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    paid: i64,
    credited: i64,
    written_off: i64,
    applied: i64,
    reopened: i64,
    /// Every movement of what it owes, by business date, from the issue (+amount) on.
    moves: Vec<(NaiveDate, i64)>,
}

impl LedgerInvoice {
    /// What the accepted events leave it owing.
    fn open(&self) -> i64 {
        self.amount - self.paid - self.credited - self.written_off - self.applied + self.reopened
    }
}

#[derive(Debug, Clone)]
struct LedgerPayment {
    command_id: CommandId,
    subsidiary_id: SubsidiaryId,
    amount: Money,
    received_date: NaiveDate,
    allocations: Vec<Allocation>,
    unapplied: Money,
    reversed: bool,
}

/// The movements of unapplied money of one currency, by kind.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    payments_unapplied: i64,
    credit_notes_on_account: i64,
    applied_cash: i64,
    applied_credit: i64,
    refunded_cash: i64,
    refunded_credit: i64,
    reversed_unapplied: i64,
}

impl Totals {
    fn cash(&self) -> i64 {
        self.payments_unapplied - self.applied_cash - self.refunded_cash - self.reversed_unapplied
    }

    fn credit(&self) -> i64 {
        self.credit_notes_on_account - self.applied_credit - self.refunded_credit
    }
}

#[derive(Debug, Clone, Default)]
struct Ledger {
    invoices: Vec<LedgerInvoice>,
    payments: Vec<LedgerPayment>,
    /// (subsidiary, number) of every credit note, in the order issued.
    credit_notes: Vec<(String, String)>,
    totals: BTreeMap<Currency, Totals>,
    /// The unapplied money of each currency and source, by business date.
    pools: BTreeMap<(Currency, UnappliedSource), Vec<(NaiveDate, i64)>>,
}

impl Ledger {
    fn invoice(&self, key: &InvoiceKey) -> Option<&LedgerInvoice> {
        self.invoices.iter().find(|i| &i.key == key)
    }

    fn invoice_mut(&mut self, key: &InvoiceKey) -> Result<&mut LedgerInvoice, TestCaseError> {
        self.invoices
            .iter_mut()
            .find(|i| &i.key == key)
            .ok_or_else(|| TestCaseError::fail(format!("an event names {key}, never issued")))
    }

    fn totals(&self, code: Currency) -> Totals {
        self.totals.get(&code).copied().unwrap_or_default()
    }

    fn pool(&self, source: UnappliedSource, code: Currency) -> &[(NaiveDate, i64)] {
        self.pools.get(&(code, source)).map_or(&[], Vec::as_slice)
    }

    fn has_credit_note(&self, subsidiary_id: &str, number: &str) -> bool {
        self.credit_notes
            .iter()
            .any(|(s, n)| s == subsidiary_id && n == number)
    }

    /// Takes `amount` off an invoice on `on`.
    fn settle(
        &mut self,
        allocation: &Allocation,
        on: NaiveDate,
        kind: fn(&mut LedgerInvoice) -> &mut i64,
    ) -> Result<(), TestCaseError> {
        let amount = to_minor(allocation.amount.amount());
        let invoice = self.invoice_mut(&allocation.invoice)?;
        *kind(invoice) += amount;
        invoice.moves.push((on, -amount));
        Ok(())
    }

    fn move_pool(&mut self, source: UnappliedSource, money: Money, on: NaiveDate, sign: i64) {
        self.pools
            .entry((money.currency(), source))
            .or_default()
            .push((on, sign * to_minor(money.amount())));
    }

    fn totals_mut(&mut self, code: Currency) -> &mut Totals {
        self.totals.entry(code).or_default()
    }

    /// Books an accepted event.
    fn record(&mut self, recorded: &RecordedEvent) -> Result<(), TestCaseError> {
        match &recorded.envelope.event {
            Event::InvoiceIssued(e) => {
                let amount = to_minor(e.amount.amount());
                self.invoices.push(LedgerInvoice {
                    key: e.key(),
                    currency: e.amount.currency(),
                    amount,
                    issue_date: e.issue_date,
                    due_date: e.due_date,
                    paid: 0,
                    credited: 0,
                    written_off: 0,
                    applied: 0,
                    reopened: 0,
                    moves: vec![(e.issue_date, amount)],
                });
            }
            Event::PaymentReceived(e) => {
                for allocation in &e.allocations {
                    self.settle(allocation, e.received_date, |i| &mut i.paid)?;
                }
                self.move_pool(UnappliedSource::Cash, e.unapplied, e.received_date, 1);
                self.totals_mut(e.amount.currency()).payments_unapplied +=
                    to_minor(e.unapplied.amount());
                self.payments.push(LedgerPayment {
                    command_id: recorded.envelope.command_id,
                    subsidiary_id: e.subsidiary_id.clone(),
                    amount: e.amount,
                    received_date: e.received_date,
                    allocations: e.allocations.clone(),
                    unapplied: e.unapplied,
                    reversed: false,
                });
            }
            Event::CreditNoteIssued(e) => {
                match e.allocation() {
                    Some(allocation) => {
                        self.settle(&allocation, e.issue_date, |i| &mut i.credited)?;
                    }
                    None => {
                        self.move_pool(UnappliedSource::Credit, e.amount, e.issue_date, 1);
                        self.totals_mut(e.amount.currency()).credit_notes_on_account +=
                            to_minor(e.amount.amount());
                    }
                }
                self.credit_notes.push((
                    e.subsidiary_id.as_str().to_owned(),
                    e.credit_note_number.as_str().to_owned(),
                ));
            }
            Event::InvoiceWrittenOff(e) => {
                self.settle(&e.allocation(), e.write_off_date, |i| &mut i.written_off)?;
            }
            Event::PaymentReversed(e) => {
                // What is re-opened and taken back is the payment as booked here.
                let Some(payment) = self.payments.iter_mut().find(|p| p.command_id == e.payment)
                else {
                    return Err(TestCaseError::fail(format!(
                        "reversal of {}, never received",
                        e.payment
                    )));
                };
                if payment.reversed
                    || payment.allocations != e.reopened
                    || payment.unapplied != e.unapplied
                {
                    return Err(TestCaseError::fail(format!(
                        "reversal {e:?} of a payment booked as {payment:?}"
                    )));
                }
                payment.reversed = true;
                let payment = payment.clone();
                for allocation in &payment.allocations {
                    let amount = to_minor(allocation.amount.amount());
                    let invoice = self.invoice_mut(&allocation.invoice)?;
                    invoice.reopened += amount;
                    invoice.moves.push((e.reversal_date, amount));
                }
                self.move_pool(
                    UnappliedSource::Cash,
                    payment.unapplied,
                    e.reversal_date,
                    -1,
                );
                self.totals_mut(payment.amount.currency())
                    .reversed_unapplied += to_minor(payment.unapplied.amount());
            }
            Event::UnappliedCashApplied(e) => {
                let allocated: i64 = e
                    .allocations
                    .iter()
                    .map(|a| to_minor(a.amount.amount()))
                    .sum();
                if allocated != to_minor(e.amount.amount()) {
                    return Err(TestCaseError::fail(format!(
                        "an application of {} allocates {allocated}",
                        e.amount
                    )));
                }
                for allocation in &e.allocations {
                    self.settle(allocation, e.application_date, |i| &mut i.applied)?;
                }
                self.move_pool(e.source, e.amount, e.application_date, -1);
                let totals = self.totals_mut(e.amount.currency());
                match e.source {
                    UnappliedSource::Cash => totals.applied_cash += allocated,
                    UnappliedSource::Credit => totals.applied_credit += allocated,
                }
            }
            Event::RefundIssued(e) => {
                self.move_pool(e.source, e.amount, e.refund_date, -1);
                let amount = to_minor(e.amount.amount());
                let totals = self.totals_mut(e.amount.currency());
                match e.source {
                    UnappliedSource::Cash => totals.refunded_cash += amount,
                    UnappliedSource::Credit => totals.refunded_credit += amount,
                }
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "an event no command here makes: {other:?}"
                )));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Commands, and what the ledger before them says should become of them
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one prediction per step of a test, never stored in bulk"
)]
enum Predicted {
    Accepted(Event),
    Refused(RefusalCode, Reason),
}

fn refused(reason: Reason) -> Predicted {
    Predicted::Refused(RefusalCode::FailedPrecondition, reason)
}

fn invalid() -> Predicted {
    Predicted::Refused(RefusalCode::InvalidArgument, Reason::InvalidCommand)
}

fn twice(requests: &[Allocation]) -> bool {
    let keys: BTreeSet<&InvoiceKey> = requests.iter().map(|r| &r.invoice).collect();
    keys.len() < requests.len()
}

impl Ledger {
    /// Why settlements dated `on` are refused, if they are: the first of invoice not found,
    /// other currency, `before` the invoice, `exceeds` what it owes then or later.
    fn settlement_refusal(
        &self,
        requests: &[Allocation],
        on: NaiveDate,
        before: Reason,
        exceeds: Reason,
    ) -> Option<Reason> {
        let mut found = [false; 4];
        for request in requests {
            match self.invoice(&request.invoice) {
                None => found[0] = true,
                Some(i) if i.currency != request.amount.currency() => found[1] = true,
                Some(i) if i.issue_date > on => found[2] = true,
                Some(i) if lowest_from(&i.moves, on) < to_minor(request.amount.amount()) => {
                    found[3] = true;
                }
                Some(_) => {}
            }
        }
        [
            Reason::InvoiceNotFound,
            Reason::CurrencyMismatch,
            before,
            exceeds,
        ]
        .into_iter()
        .zip(found)
        .find(|(_, found)| *found)
        .map(|(reason, _)| reason)
    }

    /// `amount` over the subsidiary's invoices in its currency issued by `on`, by due date, then
    /// issue date, then key, each up to the least it owes from `on` on.
    fn oldest_due_first(
        &self,
        subsidiary_id: &SubsidiaryId,
        amount: Money,
        on: NaiveDate,
    ) -> (Vec<Allocation>, i64) {
        let mut candidates: Vec<(&LedgerInvoice, i64)> = self
            .invoices
            .iter()
            .filter(|i| {
                i.key.subsidiary_id == *subsidiary_id
                    && i.currency == amount.currency()
                    && i.issue_date <= on
            })
            .map(|i| (i, lowest_from(&i.moves, on)))
            .filter(|(_, owed)| *owed > 0)
            .collect();
        candidates.sort_by(|(a, _), (b, _)| {
            (a.due_date, a.issue_date, &a.key).cmp(&(b.due_date, b.issue_date, &b.key))
        });
        let mut remaining = to_minor(amount.amount());
        let mut allocations = Vec::new();
        for (invoice, owed) in candidates {
            if remaining == 0 {
                break;
            }
            let applied = remaining.min(owed);
            allocations.push(Allocation {
                invoice: invoice.key.clone(),
                amount: minor(applied, amount.currency()),
            });
            remaining -= applied;
        }
        (allocations, remaining)
    }

    /// Allocations of `picks` to the invoices `among`, in `code`: each a percentage of what the
    /// invoice owes, or of `ceiling` if that is less.
    fn requests(
        picks: &[Pick],
        among: &[&LedgerInvoice],
        code: Currency,
        ceiling: i64,
    ) -> Vec<Allocation> {
        picks
            .iter()
            .map(|(pick, percent)| {
                let invoice = among[pick.index(among.len())];
                Allocation {
                    invoice: invoice.key.clone(),
                    amount: minor(share(invoice.open().min(ceiling), *percent), code),
                }
            })
            .collect()
    }

    /// The unapplied money the spec names, or, when that is empty, one that holds some (so that
    /// most applications and refunds have money to spend).
    fn funded(&self, currency_index: usize, source_index: usize) -> (Currency, UnappliedSource) {
        let funded: Vec<(Currency, UnappliedSource)> = self
            .pools
            .iter()
            .filter(|(_, moves)| on_date(moves, date("2026-12-31")) > 0)
            .map(|(pool, _)| *pool)
            .collect();
        let named = (currency(CURRENCIES[currency_index]), SOURCES[source_index]);
        if funded.is_empty() || funded.contains(&named) {
            named
        } else {
            funded[(currency_index * 2 + source_index) % funded.len()]
        }
    }

    /// The command of step `step` and what should become of it.
    fn resolve(&self, spec: &Spec, step: usize) -> (CommandBody, Predicted) {
        match spec {
            Spec::Invoice {
                subsidiary,
                currency: code,
                amount,
                issue_day,
                due_after_days,
            } => {
                let issued = day(*issue_day);
                let builder = invoice(&format!("INV-{step}"))
                    .at(SUBSIDIARIES[*subsidiary])
                    .amount(minor(*amount, currency(CURRENCIES[*code])))
                    .issued(&text(issued))
                    .due(&text(issued + Duration::days(*due_after_days)));
                // No credit limit: every invoice is accepted as it is.
                let predicted = Predicted::Accepted(builder.clone().event());
                (builder.into_body(), predicted)
            }
            Spec::Payment {
                subsidiary,
                currency: code,
                amount,
                day: received,
                how,
            } => self.payment(
                SUBSIDIARIES[*subsidiary],
                minor(*amount, currency(CURRENCIES[*code])),
                day(*received),
                how,
            ),
            Spec::CreditNote {
                subsidiary,
                against,
                amount,
                currency: code,
                day: dated,
                mismatched,
                reuse,
            } => {
                let (subsidiary_id, number) = match reuse {
                    Some((earlier, same)) if !self.credit_notes.is_empty() => {
                        let (at, number) =
                            &self.credit_notes[earlier.index(self.credit_notes.len())];
                        let at = match (*same, at.as_str()) {
                            (true, _) => at.as_str(),
                            (false, SUB_A) => SUB_B,
                            (false, _) => SUB_A,
                        };
                        (at.to_owned(), number.clone())
                    }
                    _ => (SUBSIDIARIES[*subsidiary].to_owned(), format!("CN-{step}")),
                };
                let mut builder = match against {
                    Some((pick, percent)) if !self.invoices.is_empty() => {
                        let invoice = &self.invoices[pick.index(self.invoices.len())];
                        let code = if *mismatched {
                            other_currency(invoice.currency)
                        } else {
                            invoice.currency
                        };
                        credit_note(&number, minor(share(invoice.open(), *percent), code))
                            .against(invoice.key.clone())
                    }
                    _ => credit_note(&number, minor(*amount, currency(CURRENCIES[*code]))),
                }
                .at(&subsidiary_id);
                builder.0.issue_date = day(*dated);
                let command = builder.0.clone();
                let predicted = if self.has_credit_note(&subsidiary_id, &number) {
                    Predicted::Refused(
                        RefusalCode::AlreadyExists,
                        Reason::DuplicateCreditNoteNumber,
                    )
                } else if let Some(reason) = command.invoice.as_ref().and_then(|invoice| {
                    self.settlement_refusal(
                        &[Allocation {
                            invoice: invoice.clone(),
                            amount: command.amount,
                        }],
                        command.issue_date,
                        Reason::CreditNoteBeforeInvoiceDate,
                        Reason::CreditNoteExceedsOpenAmount,
                    )
                }) {
                    refused(reason)
                } else {
                    Predicted::Accepted(Event::CreditNoteIssued(CreditNoteIssued {
                        subsidiary_id: command.subsidiary_id.clone(),
                        credit_note_number: command.credit_note_number.clone(),
                        amount: command.amount,
                        issue_date: command.issue_date,
                        reason: command.reason.clone(),
                        invoice: command.invoice.clone(),
                    }))
                };
                (builder.into_body(), predicted)
            }
            Spec::WriteOff {
                invoice: (pick, percent),
                day: dated,
            } => {
                let (key, amount) = if self.invoices.is_empty() {
                    // Nothing issued yet: an invoice the customer does not have.
                    (key(SUB_A, "INV-NONE"), cny("1.00"))
                } else {
                    let invoice = &self.invoices[pick.index(self.invoices.len())];
                    (
                        invoice.key.clone(),
                        minor(share(invoice.open(), *percent), invoice.currency),
                    )
                };
                let mut builder = write_off(key, amount);
                builder.0.write_off_date = day(*dated);
                let command = builder.0.clone();
                let predicted = match self.settlement_refusal(
                    &[Allocation {
                        invoice: command.invoice.clone(),
                        amount: command.amount,
                    }],
                    command.write_off_date,
                    Reason::WriteOffBeforeInvoiceDate,
                    Reason::WriteOffExceedsOpenAmount,
                ) {
                    Some(reason) => refused(reason),
                    None => Predicted::Accepted(Event::InvoiceWrittenOff(InvoiceWrittenOff {
                        invoice: command.invoice.clone(),
                        amount: command.amount,
                        write_off_date: command.write_off_date,
                        reason: command.reason.clone(),
                        approved_by: command.approved_by.clone(),
                    })),
                };
                (builder.into_body(), predicted)
            }
            Spec::Reversal {
                payment,
                after,
                other_subsidiary,
                unknown,
            } => {
                if *unknown || self.payments.is_empty() {
                    let body = reversal(command_id()).dated("2026-06-15").into_body();
                    return (body, refused(Reason::PaymentNotFound));
                }
                let paid = &self.payments[payment.index(self.payments.len())];
                let reversed_on =
                    (paid.received_date + Duration::days(3 * after)).min(date("2026-06-30"));
                let at = match (*other_subsidiary, paid.subsidiary_id.as_str()) {
                    (false, own) => own,
                    (true, SUB_A) => SUB_B,
                    (true, _) => SUB_A,
                };
                let body = reversal(paid.command_id)
                    .at(at)
                    .dated(&text(reversed_on))
                    .into_body();
                let cash = self.pool(UnappliedSource::Cash, paid.amount.currency());
                let predicted = if *other_subsidiary {
                    refused(Reason::PaymentNotFound)
                } else if paid.reversed {
                    refused(Reason::PaymentAlreadyReversed)
                } else if reversed_on < paid.received_date {
                    refused(Reason::ReversalBeforePayment)
                } else if lowest_from(cash, reversed_on) < to_minor(paid.unapplied.amount()) {
                    refused(Reason::UnappliedAlreadyUsed)
                } else {
                    Predicted::Accepted(Event::PaymentReversed(PaymentReversed {
                        subsidiary_id: paid.subsidiary_id.clone(),
                        payment: paid.command_id,
                        reversal_date: reversed_on,
                        reason: ReversalReason::ReturnedByBank,
                        amount: paid.amount,
                        received_date: paid.received_date,
                        reopened: paid.allocations.clone(),
                        unapplied: paid.unapplied,
                        discounts: Vec::new(),
                    }))
                };
                (body, predicted)
            }
            Spec::Application {
                subsidiary: at,
                source,
                currency: code,
                percent,
                day: dated,
                explicit,
            } => {
                let (code, source) = self.funded(*code, *source);
                let on = day(*dated);
                let subsidiary_id = subsidiary(SUBSIDIARIES[*at]);
                let pool = self.pool(source, code);
                let unapplied = on_date(pool, date("2026-12-31"));
                let among: Vec<&LedgerInvoice> = self
                    .invoices
                    .iter()
                    .filter(|i| i.currency == code)
                    .collect();
                if explicit.is_empty() || among.is_empty() {
                    let amount = minor(share(unapplied, *percent), code);
                    let body = application(source, amount)
                        .at(subsidiary_id.as_str())
                        .dated(&text(on))
                        .into_body();
                    let (allocations, rest) = self.oldest_due_first(&subsidiary_id, amount, on);
                    let predicted = if lowest_from(pool, on) < to_minor(amount.amount()) {
                        refused(Reason::ExceedsUnapplied)
                    } else if allocations.is_empty() {
                        refused(Reason::NothingOwed)
                    } else {
                        Predicted::Accepted(Event::UnappliedCashApplied(UnappliedCashApplied {
                            subsidiary_id,
                            source,
                            amount: minor(to_minor(amount.amount()) - rest, code),
                            application_date: on,
                            allocation_rule: AllocationRule::OldestDueFirst,
                            allocations,
                        }))
                    };
                    return (body, predicted);
                }
                // Shares of the unapplied money, so that most fit in it.
                let ceiling = (unapplied / i64::try_from(explicit.len()).unwrap_or(1)).max(1);
                let requests = Ledger::requests(explicit, &among, code, ceiling);
                let total: i64 = requests.iter().map(|r| to_minor(r.amount.amount())).sum();
                let amount = minor(total, code);
                let mut builder = application(source, amount)
                    .at(subsidiary_id.as_str())
                    .dated(&text(on));
                for request in &requests {
                    builder = builder.allocate(request.invoice.clone(), request.amount);
                }
                let predicted = if twice(&requests) {
                    invalid()
                } else if lowest_from(pool, on) < total {
                    refused(Reason::ExceedsUnapplied)
                } else if let Some(reason) = self.settlement_refusal(
                    &requests,
                    on,
                    Reason::AllocationBeforeInvoiceDate,
                    Reason::AllocationExceedsOpenAmount,
                ) {
                    refused(reason)
                } else {
                    Predicted::Accepted(Event::UnappliedCashApplied(UnappliedCashApplied {
                        subsidiary_id,
                        source,
                        amount,
                        application_date: on,
                        allocation_rule: AllocationRule::Explicit,
                        allocations: requests,
                    }))
                };
                (builder.into_body(), predicted)
            }
            Spec::Refund {
                subsidiary: at,
                source,
                currency: code,
                percent,
                day: dated,
            } => {
                let (code, source) = self.funded(*code, *source);
                let pool = self.pool(source, code);
                let amount = minor(share(on_date(pool, date("2026-12-31")), *percent), code);
                let mut builder = refund(source, amount);
                builder.0.subsidiary_id = subsidiary(SUBSIDIARIES[*at]);
                builder.0.refund_date = day(*dated);
                let command = builder.0.clone();
                let predicted =
                    if lowest_from(pool, command.refund_date) < to_minor(amount.amount()) {
                        refused(Reason::ExceedsUnapplied)
                    } else {
                        Predicted::Accepted(Event::RefundIssued(RefundIssued {
                            subsidiary_id: command.subsidiary_id.clone(),
                            source,
                            amount,
                            refund_date: command.refund_date,
                            method: command.method,
                            reference: command.reference.clone(),
                        }))
                    };
                (builder.into_body(), predicted)
            }
        }
    }

    fn payment(
        &self,
        subsidiary_id: &str,
        amount: Money,
        received: NaiveDate,
        how: &PaymentHow,
    ) -> (CommandBody, Predicted) {
        let accepted = |command: &RecordPayment,
                        rule: AllocationRule,
                        allocations: Vec<Allocation>,
                        unapplied: Money| {
            Predicted::Accepted(Event::PaymentReceived(PaymentReceived {
                subsidiary_id: command.subsidiary_id.clone(),
                amount: command.amount,
                received_date: command.received_date,
                method: command.method,
                reference: command.reference.clone(),
                allocation_rule: rule,
                allocations,
                unapplied,
            }))
        };
        match how {
            PaymentHow::OnAccount => {
                let command = payment(amount)
                    .at(subsidiary_id)
                    .received(&text(received))
                    .on_account()
                    .command();
                let predicted = accepted(&command, AllocationRule::OnAccount, Vec::new(), amount);
                (CommandBody::RecordPayment(command), predicted)
            }
            PaymentHow::Explicit(picks, extra) if !self.invoices.is_empty() => {
                let first = &self.invoices[picks[0].0.index(self.invoices.len())];
                let code = first.currency;
                let among: Vec<&LedgerInvoice> = self.invoices.iter().collect();
                let requests = Ledger::requests(picks, &among, code, i64::MAX);
                let total: i64 = requests.iter().map(|r| to_minor(r.amount.amount())).sum();
                let mut builder = payment(minor(total + extra, code))
                    .at(subsidiary_id)
                    .received(&text(received));
                for request in &requests {
                    builder = builder.allocate(request.invoice.clone(), request.amount);
                }
                let command = builder.command();
                let predicted = if twice(&requests) {
                    invalid()
                } else if let Some(reason) = self.settlement_refusal(
                    &requests,
                    received,
                    Reason::AllocationBeforeInvoiceDate,
                    Reason::AllocationExceedsOpenAmount,
                ) {
                    refused(reason)
                } else {
                    accepted(
                        &command,
                        AllocationRule::Explicit,
                        requests,
                        minor(*extra, code),
                    )
                };
                (CommandBody::RecordPayment(command), predicted)
            }
            // Oldest due first, and an explicit payment before any invoice (nothing to name).
            _ => {
                let command = payment(amount)
                    .at(subsidiary_id)
                    .received(&text(received))
                    .command();
                let (allocations, rest) =
                    self.oldest_due_first(&command.subsidiary_id, amount, received);
                let predicted = accepted(
                    &command,
                    AllocationRule::OldestDueFirst,
                    allocations,
                    minor(rest, amount.currency()),
                );
                (CommandBody::RecordPayment(command), predicted)
            }
        }
    }
}

fn other_currency(code: Currency) -> Currency {
    if code == currency("CNY") {
        currency("USD")
    } else {
        currency("CNY")
    }
}

// ---------------------------------------------------------------------------------------------
// Playing a life
// ---------------------------------------------------------------------------------------------

/// One step of a life: the command, what the ledger before it predicted, what became of it,
/// and the ledger and the account after it.
struct Step<'a> {
    body: &'a CommandBody,
    predicted: &'a Predicted,
    outcome: &'a Result<Event, Refusal>,
    ledger: &'a Ledger,
    account: &'a CustomerAccount,
    /// The event the step appended, if the command was accepted.
    recorded: Option<&'a RecordedEvent>,
}

/// Decides every command of `life` against the account with the given/when/then harness (an
/// accepted event is applied to it), books the accepted events in the ledger, and calls
/// `check` after every step.
fn play(
    life: &[Spec],
    mut check: impl FnMut(&Step<'_>) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut scenario = given([]);
    let mut ledger = Ledger::default();
    for (step, spec) in life.iter().enumerate() {
        let (body, predicted) = ledger.resolve(spec, step);
        let (outcome, recorded) = match scenario.when(body.clone()).then_outcome() {
            Ok(recorded) => {
                ledger.record(&recorded)?;
                (Ok(recorded.envelope.event.clone()), Some(recorded))
            }
            Err(refusal) => (Err(refusal), None),
        };
        check(&Step {
            body: &body,
            predicted: &predicted,
            outcome: &outcome,
            ledger: &ledger,
            account: scenario.account(),
            recorded: recorded.as_ref(),
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_invoice_owes_its_amount_less_what_settled_it_plus_what_reversals_re_opened(
        life in life()
    ) {
        play(&life, |step| {
            prop_assert_eq!(step.account.invoices().count(), step.ledger.invoices.len());
            for booked in &step.ledger.invoices {
                // amount - payments - credit notes - write-offs - applications + re-opened
                let open = booked.open();
                prop_assert!(
                    (0..=booked.amount).contains(&open),
                    "the events leave {} owing {} of {}: {:?}", booked.key, open, booked.amount,
                    booked
                );
                let Some(actual) = step.account.invoice(&booked.key) else {
                    return Err(TestCaseError::fail(format!("{} is missing", booked.key)));
                };
                prop_assert_eq!(to_minor(actual.amount.amount()), booked.amount);
                prop_assert_eq!(to_minor(actual.open), open, "open of {}", booked.key);
                prop_assert_eq!(to_minor(actual.credited), booked.credited);
                prop_assert_eq!(to_minor(actual.written_off), booked.written_off);
            }
            Ok(())
        })?;
    }

    #[test]
    fn unapplied_money_is_what_payments_and_credit_notes_left_less_what_was_used_or_reversed(
        life in life()
    ) {
        play(&life, |step| {
            for code in CURRENCIES.map(currency) {
                let totals = step.ledger.totals(code);
                let cash = to_minor(step.account.unapplied_cash(code));
                let credit = to_minor(step.account.state().unapplied_credit(code));
                // cash + credit = payments' unapplied parts + credit notes on account
                //   - applications - refunds - reversed unapplied parts
                prop_assert_eq!(
                    cash + credit,
                    totals.payments_unapplied + totals.credit_notes_on_account
                        - (totals.applied_cash + totals.applied_credit)
                        - (totals.refunded_cash + totals.refunded_credit)
                        - totals.reversed_unapplied,
                    "{} after {:?}", code, step.body
                );
                prop_assert!(totals.cash() >= 0, "{:?}", totals);
                prop_assert!(totals.credit() >= 0, "{:?}", totals);
                prop_assert_eq!(cash, totals.cash(), "unapplied cash in {}", code);
                prop_assert_eq!(credit, totals.credit(), "unapplied credit in {}", code);
                // Exposure: open invoices less both.
                let open: i64 = step
                    .ledger
                    .invoices
                    .iter()
                    .filter(|i| i.currency == code)
                    .map(LedgerInvoice::open)
                    .sum();
                prop_assert_eq!(
                    to_minor(step.account.exposure(code)),
                    open - totals.cash() - totals.credit()
                );
            }
            Ok(())
        })?;
    }

    #[test]
    fn no_invoice_and_no_unapplied_money_is_ever_negative_on_any_date(life in life()) {
        play(&life, |step| {
            for booked in &step.ledger.invoices {
                let Some(actual) = step.account.invoice(&booked.key) else {
                    return Err(TestCaseError::fail(format!("{} is missing", booked.key)));
                };
                for on in every_date() {
                    let owed = on_date(&booked.moves, on);
                    prop_assert!(
                        (0..=booked.amount).contains(&owed),
                        "{} owes {} of {} on {}: {:?}", booked.key, owed, booked.amount, on,
                        booked.moves
                    );
                    prop_assert_eq!(to_minor(actual.open_on(on)), owed, "{} on {}", booked.key, on);
                    prop_assert_eq!(
                        to_minor(actual.settleable_on(on)),
                        lowest_from(&booked.moves, on),
                        "what may settle {} on {}", booked.key, on
                    );
                }
            }
            for ((code, source), moves) in &step.ledger.pools {
                for on in every_date() {
                    prop_assert!(
                        on_date(moves, on) >= 0,
                        "unapplied {} in {} on {}: {:?}", source.as_str(), code, on, moves
                    );
                    prop_assert_eq!(
                        to_minor(step.account.state().spendable_on(*source, *code, on)),
                        lowest_from(moves, on),
                        "spendable {} in {} on {}", source.as_str(), code, on
                    );
                }
            }
            Ok(())
        })?;
    }

    #[test]
    fn every_decision_is_the_one_the_dated_balances_call_for(life in life()) {
        play(&life, |step| {
            match (step.predicted, step.outcome) {
                (Predicted::Accepted(expected), Ok(actual)) => {
                    prop_assert_eq!(actual, expected, "{:?}", step.body);
                }
                (Predicted::Refused(code, reason), Err(refusal)) => {
                    prop_assert_eq!(
                        (refusal.code, refusal.reason),
                        (*code, *reason),
                        "{:?}: {}", step.body, refusal
                    );
                }
                (predicted, outcome) => {
                    return Err(TestCaseError::fail(format!(
                        "{:?}\npredicted {predicted:?}\ngot {outcome:?}",
                        step.body
                    )));
                }
            }
            Ok(())
        })?;
    }

    #[test]
    fn a_snapshot_after_any_step_restores_the_account_it_was_taken_of(life in life()) {
        play(&life, |step| {
            let Some(last) = step.recorded else {
                return Ok(());
            };
            // Given the account's snapshot after the event it just applied
            let bytes = step.account.snapshot().map_err(|e| TestCaseError::fail(e.to_string()))?;
            // When it is read back and restored against that event
            let snapshot = AccountSnapshot::decode(&bytes)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let restored = CustomerAccount::restore(step.account.customer_id(), snapshot, last)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            // Then it is the account, every invoice, payment, pool and accepted command alike
            prop_assert_eq!(&restored, step.account);
            Ok(())
        })?;
    }
}
