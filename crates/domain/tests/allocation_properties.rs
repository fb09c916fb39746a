//! Properties of payment allocation over random histories: up to 19 invoices from two
//! subsidiaries in CNY, interleaved with payments with and without explicit allocations.
//!
//! Every expectation is computed here, in integer fen, from the events the account accepted (the
//! ledger) or from the commands (the predictions); the code under test is only asked what it
//! decided and what its state is.

mod support;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use proptest::sample::Index;
use receivables_domain::account::CustomerAccount;
use receivables_domain::command::{InvoiceKey, RecordPayment};
use receivables_domain::event::{AllocationRule, Event, InvoiceIssued, PaymentReceived};
use receivables_domain::money::Money;
use receivables_domain::refusal::{Reason, Refusal, RefusalCode};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use support::*;

const SUBSIDIARIES: [&str; 2] = [SUB_A, SUB_B];

// ---------------------------------------------------------------------------------------------
// Random histories
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct InvoiceSpec {
    subsidiary: usize,
    amount_fen: i64,
    /// Days after 2026-03-01; few distinct values, so that due and issue dates tie often.
    issue_day: i64,
    due_after_days: i64,
}

#[derive(Debug, Clone)]
enum PaymentSpec {
    /// No allocations: oldest due first.
    OldestDueFirst { subsidiary: usize, amount_fen: i64 },
    /// Allocations to invoices issued so far (`Index` picks one), each a percentage of what the
    /// invoice still owes (over 100 % asks for too much), paid with `extra_fen` more (or less)
    /// than they add up to.
    Explicit {
        subsidiary: usize,
        allocations: Vec<(Index, i64)>,
        extra_fen: i64,
    },
}

#[derive(Debug, Clone)]
struct History {
    invoices: Vec<InvoiceSpec>,
    /// Each payment comes after `Index` of the invoices.
    payments: Vec<(Index, PaymentSpec)>,
}

fn invoice_spec() -> impl Strategy<Value = InvoiceSpec> {
    (0..2usize, 1i64..=500_000, 0i64..10, 0i64..4).prop_map(
        |(subsidiary, amount_fen, issue, due)| InvoiceSpec {
            subsidiary,
            amount_fen,
            issue_day: issue * 3,
            due_after_days: due * 15,
        },
    )
}

fn payment_spec() -> impl Strategy<Value = PaymentSpec> {
    prop_oneof![
        (0..2usize, 1i64..=800_000).prop_map(|(subsidiary, amount_fen)| {
            PaymentSpec::OldestDueFirst {
                subsidiary,
                amount_fen,
            }
        }),
        (
            0..2usize,
            prop::collection::vec((any::<Index>(), 1i64..=110), 1..4),
            -20_000i64..=50_000,
        )
            .prop_map(
                |(subsidiary, allocations, extra_fen)| PaymentSpec::Explicit {
                    subsidiary,
                    allocations,
                    extra_fen,
                }
            ),
    ]
}

fn history() -> impl Strategy<Value = History> {
    (
        prop::collection::vec(invoice_spec(), 1..20),
        prop::collection::vec((any::<Index>(), payment_spec()), 0..15),
    )
        .prop_map(|(invoices, payments)| History { invoices, payments })
}

enum Scheduled {
    Invoice(usize),
    Payment(usize),
}

/// The history in log order: each payment after the number of invoices its `Index` picks.
fn schedule(history: &History) -> Vec<Scheduled> {
    let invoices = history.invoices.len();
    let slots: Vec<usize> = history
        .payments
        .iter()
        .map(|(after, _)| after.index(invoices + 1))
        .collect();
    let mut steps = Vec::new();
    for slot in 0..=invoices {
        for (payment, _) in slots.iter().enumerate().filter(|(_, s)| **s == slot) {
            steps.push(Scheduled::Payment(payment));
        }
        if slot < invoices {
            steps.push(Scheduled::Invoice(slot));
        }
    }
    steps
}

fn fen(amount_fen: i64) -> Money {
    Money::of(Decimal::new(amount_fen, 2), currency("CNY"))
}

/// An amount in CNY as whole fen; anything finer than a fen fails the test.
fn to_fen(amount: Decimal) -> i64 {
    let scaled = amount * Decimal::ONE_HUNDRED;
    assert_eq!(
        scaled.fract(),
        Decimal::ZERO,
        "{amount} is finer than a fen"
    );
    scaled.to_i64().expect("an amount that fits in i64 fen")
}

fn start() -> NaiveDate {
    date("2026-03-01")
}

fn invoice_command(index: usize, spec: &InvoiceSpec) -> InvoiceBuilder {
    let issue = start() + Duration::days(spec.issue_day);
    let due = issue + Duration::days(spec.due_after_days);
    invoice(&format!("INV-{index}"))
        .at(SUBSIDIARIES[spec.subsidiary])
        .amount(fen(spec.amount_fen))
        .issued(&issue.format("%Y-%m-%d").to_string())
        .due(&due.format("%Y-%m-%d").to_string())
}

/// The payment command of `spec`, its explicit allocations resolved against the invoices issued
/// so far. Before any invoice, an explicit payment has nothing to name and goes without.
fn payment_command(spec: &PaymentSpec, ledger: &Ledger) -> RecordPayment {
    match spec {
        PaymentSpec::OldestDueFirst {
            subsidiary,
            amount_fen,
        } => payment(fen(*amount_fen))
            .at(SUBSIDIARIES[*subsidiary])
            .command(),
        PaymentSpec::Explicit {
            subsidiary,
            allocations,
            extra_fen,
        } => {
            let mut builder = payment(fen(1)).at(SUBSIDIARIES[*subsidiary]);
            let mut total_fen = 0;
            if !ledger.invoices.is_empty() {
                for (pick, percent) in allocations {
                    let invoice = &ledger.invoices[pick.index(ledger.invoices.len())];
                    let amount_fen = (invoice.open_fen * percent / 100).max(1);
                    total_fen += amount_fen;
                    builder = builder.allocate(invoice.key.clone(), fen(amount_fen));
                }
            }
            let mut command = builder.command();
            command.amount = fen((total_fen + extra_fen).max(1));
            command
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The ledger, computed here from the accepted events
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct LedgerInvoice {
    key: InvoiceKey,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    original_fen: i64,
    open_fen: i64,
}

#[derive(Debug, Clone, Default)]
struct Ledger {
    /// In the order they were issued.
    invoices: Vec<LedgerInvoice>,
    unapplied_fen: i64,
}

impl Ledger {
    fn record_invoice(&mut self, event: &InvoiceIssued) {
        self.invoices.push(LedgerInvoice {
            key: event.key(),
            issue_date: event.issue_date,
            due_date: event.due_date,
            original_fen: to_fen(event.amount.amount()),
            open_fen: to_fen(event.amount.amount()),
        });
    }

    fn record_payment(&mut self, event: &PaymentReceived) -> Result<(), TestCaseError> {
        for allocation in &event.allocations {
            let invoice = self
                .invoices
                .iter_mut()
                .find(|i| i.key == allocation.invoice);
            let Some(invoice) = invoice else {
                return Err(TestCaseError::fail(format!(
                    "payment allocates to {}, which was never issued",
                    allocation.invoice
                )));
            };
            invoice.open_fen -= to_fen(allocation.amount.amount());
        }
        self.unapplied_fen += to_fen(event.unapplied.amount());
        Ok(())
    }

    fn invoice(&self, key: &InvoiceKey) -> Option<&LedgerInvoice> {
        self.invoices.iter().find(|i| &i.key == key)
    }

    /// Open invoices minus unapplied cash, in fen.
    fn exposure_fen(&self) -> i64 {
        self.invoices.iter().map(|i| i.open_fen).sum::<i64>() - self.unapplied_fen
    }

    /// What oldest due first should allocate: the receiving subsidiary's open invoices by due
    /// date, then issue date, then number, each up to what it owes; and the remainder.
    fn oldest_due_first(
        &self,
        subsidiary_id: &str,
        amount_fen: i64,
    ) -> (Vec<(InvoiceKey, i64)>, i64) {
        let mut candidates: Vec<&LedgerInvoice> = self
            .invoices
            .iter()
            .filter(|i| i.key.subsidiary_id.as_str() == subsidiary_id && i.open_fen > 0)
            .collect();
        candidates.sort_by(|a, b| {
            (a.due_date, a.issue_date, a.key.invoice_number.as_str()).cmp(&(
                b.due_date,
                b.issue_date,
                b.key.invoice_number.as_str(),
            ))
        });
        let mut remaining = amount_fen;
        let mut allocations = Vec::new();
        for invoice in candidates {
            if remaining == 0 {
                break;
            }
            let applied = remaining.min(invoice.open_fen);
            allocations.push((invoice.key.clone(), applied));
            remaining -= applied;
        }
        (allocations, remaining)
    }
}

// ---------------------------------------------------------------------------------------------
// Playing a history
// ---------------------------------------------------------------------------------------------

/// A payment submitted and what became of it.
struct PlayedPayment {
    command: RecordPayment,
    outcome: Result<PaymentReceived, Refusal>,
}

/// One step of a history, with the ledger before and after it and the account after it.
struct Step<'a> {
    /// The payment of the step; `None` for an invoice.
    payment: Option<&'a PlayedPayment>,
    before: &'a Ledger,
    after: &'a Ledger,
    account: &'a CustomerAccount,
}

/// Plays `history` through the account with the given/when/then harness, calling `check` after
/// every step.
fn play(
    history: &History,
    mut check: impl FnMut(&Step<'_>) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut scenario = given([]);
    let mut ledger = Ledger::default();
    for scheduled in schedule(history) {
        let before = ledger.clone();
        let played = match scheduled {
            Scheduled::Invoice(index) => {
                let issued = scenario
                    .when(invoice_command(index, &history.invoices[index]))
                    .then_invoice_issued();
                ledger.record_invoice(&issued);
                None
            }
            Scheduled::Payment(index) => {
                let command = payment_command(&history.payments[index].1, &ledger);
                let outcome = scenario
                    .when(command.clone())
                    .then_outcome()
                    .map(|recorded| match recorded.envelope.event {
                        Event::PaymentReceived(event) => event,
                        other => panic!("a payment was recorded as {other:?}"),
                    });
                if let Ok(event) = &outcome {
                    ledger.record_payment(event)?;
                }
                Some(PlayedPayment { command, outcome })
            }
        };
        check(&Step {
            payment: played.as_ref(),
            before: &before,
            after: &ledger,
            account: scenario.account(),
        })?;
    }
    Ok(())
}

/// The accepted payment of a step, with its command.
fn accepted_payment<'a>(step: &Step<'a>) -> Option<(&'a RecordPayment, &'a PaymentReceived)> {
    let payment = step.payment?;
    let event = payment.outcome.as_ref().ok()?;
    Some((&payment.command, event))
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_accepted_payment_is_its_allocations_plus_the_unapplied_remainder(
        history in history()
    ) {
        play(&history, |step| {
            let Some((command, event)) = accepted_payment(step) else {
                return Ok(());
            };
            let cny = currency("CNY");
            prop_assert_eq!(event.amount, command.amount);
            prop_assert_eq!(event.unapplied.currency(), cny);
            prop_assert!(event.unapplied.amount() >= Decimal::ZERO, "{:?}", event);
            let mut allocated_fen = 0;
            for allocation in &event.allocations {
                prop_assert_eq!(allocation.amount.currency(), cny);
                prop_assert!(allocation.amount.amount() > Decimal::ZERO, "{:?}", event);
                allocated_fen += to_fen(allocation.amount.amount());
            }
            prop_assert_eq!(
                allocated_fen + to_fen(event.unapplied.amount()),
                to_fen(event.amount.amount()),
                "allocations and unapplied of {:?}", event
            );
            Ok(())
        })?;
    }

    #[test]
    fn no_open_amount_ever_goes_below_zero_or_above_the_invoice(history in history()) {
        play(&history, |step| {
            prop_assert_eq!(step.account.invoices().count(), step.after.invoices.len());
            for expected in &step.after.invoices {
                prop_assert!(
                    (0..=expected.original_fen).contains(&expected.open_fen),
                    "the events leave {} owing {} fen of {}",
                    expected.key, expected.open_fen, expected.original_fen
                );
                let Some(actual) = step.account.invoice(&expected.key) else {
                    return Err(TestCaseError::fail(format!("{} is missing", expected.key)));
                };
                prop_assert_eq!(to_fen(actual.amount.amount()), expected.original_fen);
                prop_assert_eq!(to_fen(actual.open), expected.open_fen, "open of {}", expected.key);
            }
            Ok(())
        })?;
    }

    #[test]
    fn exposure_is_open_invoices_minus_unapplied_cash(history in history()) {
        play(&history, |step| {
            let cny = currency("CNY");
            prop_assert_eq!(
                to_fen(step.account.unapplied_cash(cny)),
                step.after.unapplied_fen
            );
            prop_assert_eq!(
                to_fen(step.account.exposure(cny)),
                step.after.exposure_fen()
            );
            Ok(())
        })?;
    }

    #[test]
    fn oldest_due_first_never_passes_over_an_older_invoice_of_the_receiving_subsidiary(
        history in history()
    ) {
        play(&history, |step| {
            let Some(PlayedPayment { command, outcome }) = step.payment else {
                return Ok(());
            };
            if !command.allocations.is_empty() {
                return Ok(());
            }
            // Received in the past, allocations of its own making: always accepted.
            let event = match outcome {
                Ok(event) => event,
                Err(refusal) => {
                    return Err(TestCaseError::fail(format!(
                        "a payment without allocations was refused: {refusal}"
                    )));
                }
            };
            prop_assert_eq!(event.allocation_rule, AllocationRule::OldestDueFirst);
            let receiving = command.subsidiary_id.as_str();

            // Exactly what the rule prescribes, computed here from the ledger before it.
            let (expected, remainder_fen) =
                step.before.oldest_due_first(receiving, to_fen(command.amount.amount()));
            let actual: Vec<(InvoiceKey, i64)> = event
                .allocations
                .iter()
                .map(|a| (a.invoice.clone(), to_fen(a.amount.amount())))
                .collect();
            prop_assert_eq!(&actual, &expected);
            prop_assert_eq!(to_fen(event.unapplied.amount()), remainder_fen);

            // And the property itself, stated on the account after the payment: no invoice of
            // the receiving subsidiary due before one that was paid is left open.
            for allocation in &event.allocations {
                prop_assert_eq!(allocation.invoice.subsidiary_id.as_str(), receiving);
                let Some(paid) = step.after.invoice(&allocation.invoice) else {
                    return Err(TestCaseError::fail(format!("{} unknown", allocation.invoice)));
                };
                for older in step.account.invoices().filter(|i| {
                    i.key.subsidiary_id.as_str() == receiving && i.due_date < paid.due_date
                }) {
                    prop_assert_eq!(
                        older.open,
                        Decimal::ZERO,
                        "{} (due {}) left open while {} (due {}) was paid",
                        older.key, older.due_date, paid.key, paid.due_date
                    );
                }
            }
            // Cash stays unapplied only when the receiving subsidiary is owed nothing more.
            if event.unapplied.amount() > Decimal::ZERO {
                let still_open: Vec<_> = step
                    .account
                    .open_invoices()
                    .filter(|i| i.key.subsidiary_id.as_str() == receiving)
                    .map(|i| i.key.clone())
                    .collect();
                prop_assert!(still_open.is_empty(), "unapplied cash while {:?} are open", still_open);
            }
            // The other subsidiary's invoices are untouched.
            for invoice in &step.before.invoices {
                if invoice.key.subsidiary_id.as_str() != receiving {
                    prop_assert_eq!(
                        step.after.invoice(&invoice.key).map(|i| i.open_fen),
                        Some(invoice.open_fen)
                    );
                }
            }
            Ok(())
        })?;
    }

    #[test]
    fn explicit_allocations_are_accepted_exactly_when_they_fit(history in history()) {
        play(&history, |step| {
            let Some(PlayedPayment { command, outcome }) = step.payment else {
                return Ok(());
            };
            if command.allocations.is_empty() {
                return Ok(());
            }
            let payment_fen = to_fen(command.amount.amount());
            let requested: Vec<(InvoiceKey, i64)> = command
                .allocations
                .iter()
                .map(|a| (a.invoice.clone(), to_fen(a.amount.amount())))
                .collect();
            let total_fen: i64 = requested.iter().map(|(_, fen)| fen).sum();
            let twice = requested
                .iter()
                .enumerate()
                .any(|(n, (key, _))| requested[..n].iter().any(|(k, _)| k == key));
            let too_much_for_an_invoice = requested.iter().any(|(key, fen)| {
                step.before.invoice(key).is_none_or(|i| *fen > i.open_fen)
            });

            if twice || total_fen > payment_fen {
                let refusal = outcome.as_ref().err();
                prop_assert_eq!(
                    refusal.map(|r| (r.code, r.reason)),
                    Some((RefusalCode::InvalidArgument, Reason::InvalidCommand)),
                    "twice: {}, {} fen allocated of {}: {:?}",
                    twice, total_fen, payment_fen, outcome
                );
            } else if too_much_for_an_invoice {
                let refusal = outcome.as_ref().err();
                prop_assert_eq!(
                    refusal.map(|r| (r.code, r.reason)),
                    Some((RefusalCode::FailedPrecondition, Reason::AllocationExceedsOpenAmount)),
                    "{:?}", outcome
                );
            } else {
                let event = match outcome {
                    Ok(event) => event,
                    Err(refusal) => {
                        return Err(TestCaseError::fail(format!(
                            "allocations that fit were refused: {refusal}"
                        )));
                    }
                };
                prop_assert_eq!(event.allocation_rule, AllocationRule::Explicit);
                let actual: Vec<(InvoiceKey, i64)> = event
                    .allocations
                    .iter()
                    .map(|a| (a.invoice.clone(), to_fen(a.amount.amount())))
                    .collect();
                prop_assert_eq!(actual, requested);
                prop_assert_eq!(to_fen(event.unapplied.amount()), payment_fen - total_fen);
            }
            Ok(())
        })?;
    }
}
