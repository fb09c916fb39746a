//! The rules of an invoice's life after it is issued, one test each: credit notes, write-offs,
//! payment reversals, applications of unapplied cash or credit, refunds and payments on account,
//! and the dated balance that makes every movement of money dated D respect the balance on D and
//! on every later date. Given these events, when this command, then this event or this refusal.
//! Every figure is worked out by hand in the comments.

mod support;

use receivables_domain::account::CustomerAccount;
use receivables_domain::account::reversal::ReversalReason;
use receivables_domain::account::state::{Balance, UnappliedSource};
use receivables_domain::event::{
    Allocation, AllocationRule, CreditNoteIssued, Event, InvoiceWrittenOff, PaymentReceived,
    PaymentReversed, RecordedEvent, RefundIssued, UnappliedCashApplied,
};
use receivables_domain::ids::{CommandId, CreditNoteKey, CreditNoteNumber, NumberKey};
use receivables_domain::money::Money;
use receivables_domain::payment::PaymentMethod;
use receivables_domain::refusal::{Reason, Refusal, RefusalCode};
use support::*;

const CASH: UnappliedSource = UnappliedSource::Cash;
const CREDIT: UnappliedSource = UnappliedSource::Credit;

fn allocation(subsidiary_id: &str, invoice_number: &str, amount: Money) -> Allocation {
    Allocation {
        invoice: key(subsidiary_id, invoice_number),
        amount,
    }
}

fn credit_note_number(text: &str) -> CreditNoteNumber {
    CreditNoteNumber::parse(text).expect("a valid credit-note number")
}

fn credit_note_key(subsidiary_id: &str, number: &str) -> CreditNoteKey {
    CreditNoteKey {
        subsidiary_id: subsidiary(subsidiary_id),
        credit_note_number: credit_note_number(number),
    }
}

fn exposure(scenario: &Scenario) -> rust_decimal::Decimal {
    scenario.account().exposure(currency("CNY"))
}

/// The one precondition violation of a refusal: its kind and subject.
fn violated(refusal: &Refusal) -> (Reason, &str) {
    assert_eq!(
        refusal.precondition_violations.len(),
        1,
        "expected one violation: {refusal}"
    );
    let violation = &refusal.precondition_violations[0];
    (violation.kind, violation.subject.as_str())
}

/// `event` read back from the log as the next event of `account`.
fn next_of(account: &CustomerAccount, event: Event) -> RecordedEvent {
    recorded_after(account, event, account.position().get() + 1)
}

/// INV-1 1,000.00 CNY from SUB-A, issued 06-01, due 07-01, nothing paid.
fn one_invoice() -> Scenario {
    given([invoice("INV-1").event()])
}

/// INV-1 (1,000.00, issued 06-01) paid in full by a payment received on 06-10, which is then
/// reversed on 06-20: the invoice owes 1,000.00 from 06-01 to 06-09, nothing from 06-10 to
/// 06-19, and 1,000.00 again from 06-20.
fn paid_then_reversed_on_the_20th() -> Scenario {
    let mut scenario = one_invoice();
    let paid = command_id();
    scenario
        .when_command(paid, payment(cny("1000.00")).received("2026-06-10"))
        .then_accepted();
    scenario
        .when(reversal(paid).dated("2026-06-20"))
        .then_accepted();
    let invoice = scenario
        .account()
        .invoice(&key(SUB_A, "INV-1"))
        .expect("INV-1");
    assert_eq!(invoice.open_on(date("2026-06-09")), dec("1000.00"));
    assert_eq!(invoice.open_on(date("2026-06-19")), dec("0.00"));
    assert_eq!(invoice.open, dec("1000.00"));
    scenario
}

// ---------------------------------------------------------------------------------------------
// Credit notes
// ---------------------------------------------------------------------------------------------

#[test]
fn a_credit_note_against_an_invoice_reduces_its_open_amount_and_is_recorded_as_credited() {
    let mut scenario = one_invoice();

    let recorded = scenario
        .when(
            credit_note("CN-1", cny("400.00"))
                .against(key(SUB_A, "INV-1"))
                .dated("2026-06-15"),
        )
        .then_event(Event::CreditNoteIssued(CreditNoteIssued {
            subsidiary_id: subsidiary(SUB_A),
            credit_note_number: credit_note_number("CN-1"),
            amount: cny("400.00"),
            issue_date: date("2026-06-15"),
            reason: "returned goods".to_owned(),
            invoice: Some(key(SUB_A, "INV-1")),
        }));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-15"));
    assert_eq!(recorded.envelope.subsidiary_id, Some(subsidiary(SUB_A)));
    // 1,000.00 - 400.00 = 600.00 from 06-15; 1,000.00 the day before.
    let invoice = scenario
        .account()
        .invoice(&key(SUB_A, "INV-1"))
        .expect("INV-1");
    assert_eq!(invoice.open, dec("600.00"));
    assert_eq!(invoice.credited, dec("400.00"));
    assert_eq!(invoice.written_off, dec("0"));
    assert_eq!(invoice.open_on(date("2026-06-14")), dec("1000.00"));
    assert_eq!(invoice.open_on(date("2026-06-15")), dec("600.00"));
    // Against an invoice, nothing is left on account.
    assert_eq!(scenario.unapplied_credit(), dec("0"));
    assert_eq!(scenario.unapplied_cash(), dec("0"));
    assert_eq!(exposure(&scenario), dec("600.00"));
    assert!(
        scenario
            .account()
            .state()
            .has_credit_note(&credit_note_key(SUB_A, "CN-1"))
    );
}

#[test]
fn a_credit_note_on_account_becomes_unapplied_credit_and_lowers_exposure() {
    let mut scenario = one_invoice();

    scenario
        .when(credit_note("CN-1", cny("150.00")).dated("2026-06-20"))
        .then_event(Event::CreditNoteIssued(CreditNoteIssued {
            subsidiary_id: subsidiary(SUB_A),
            credit_note_number: credit_note_number("CN-1"),
            amount: cny("150.00"),
            issue_date: date("2026-06-20"),
            reason: "returned goods".to_owned(),
            invoice: None,
        }));

    // The invoice still owes all of it; the customer has 150.00 of credit, not cash.
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(scenario.unapplied_credit(), dec("150.00"));
    assert_eq!(scenario.unapplied_cash(), dec("0"));
    // 1,000.00 open - 150.00 credit = 850.00
    assert_eq!(exposure(&scenario), dec("850.00"));
    assert_eq!(
        scenario.account().balances(),
        vec![Balance {
            currency: currency("CNY"),
            open_invoices: dec("1000.00"),
            unapplied: dec("0"),
            unapplied_credit: dec("150.00"),
        }]
    );
}

#[test]
fn a_credit_note_above_what_the_invoice_owes_is_refused() {
    let mut scenario = one_invoice();
    // 400.00 paid: 600.00 open.
    scenario
        .when(payment(cny("400.00")).received("2026-06-10"))
        .then_accepted();

    let refusal = scenario
        .when(credit_note("CN-1", cny("600.01")).against(key(SUB_A, "INV-1")))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::CreditNoteExceedsOpenAmount,
        );
    assert_eq!(
        violated(&refusal),
        (Reason::CreditNoteExceedsOpenAmount, "invoices/SUB-A/INV-1")
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("600.00"));
    assert!(
        !scenario
            .account()
            .state()
            .has_credit_note(&credit_note_key(SUB_A, "CN-1"))
    );

    // Exactly what it owes settles it.
    scenario
        .when(credit_note("CN-1", cny("600.00")).against(key(SUB_A, "INV-1")))
        .then_accepted();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
    assert_eq!(exposure(&scenario), dec("0.00"));
}

#[test]
fn a_credit_note_dated_before_the_invoice_is_refused() {
    let mut scenario = given([invoice("INV-1").issued("2026-06-10").event()]);

    let refusal = scenario
        .when(
            credit_note("CN-1", cny("100.00"))
                .against(key(SUB_A, "INV-1"))
                .dated("2026-06-09"),
        )
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::CreditNoteBeforeInvoiceDate,
        );
    assert_eq!(
        violated(&refusal),
        (Reason::CreditNoteBeforeInvoiceDate, "invoices/SUB-A/INV-1")
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));

    // On the issue date itself it may credit the invoice: 1,000.00 - 100.00 = 900.00.
    scenario
        .when(
            credit_note("CN-1", cny("100.00"))
                .against(key(SUB_A, "INV-1"))
                .dated("2026-06-10"),
        )
        .then_accepted();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("900.00"));
}

#[test]
fn a_credit_note_in_another_currency_than_its_invoice_is_refused() {
    let mut scenario = one_invoice();

    let refusal = scenario
        .when(credit_note("CN-1", usd("100.00")).against(key(SUB_A, "INV-1")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CurrencyMismatch);

    assert_eq!(
        violated(&refusal),
        (Reason::CurrencyMismatch, "invoices/SUB-A/INV-1")
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(
        scenario.account().state().unapplied_credit(currency("USD")),
        dec("0")
    );
}

#[test]
fn a_credit_note_against_an_unknown_invoice_is_refused_and_does_not_go_on_account() {
    let mut scenario = one_invoice();

    let refusal = scenario
        .when(credit_note("CN-1", cny("100.00")).against(key(SUB_A, "INV-9")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);

    assert_eq!(
        violated(&refusal),
        (Reason::InvoiceNotFound, "invoices/SUB-A/INV-9")
    );
    assert_eq!(scenario.unapplied_credit(), dec("0"));
    assert_eq!(exposure(&scenario), dec("1000.00"));
}

#[test]
fn a_credit_note_number_the_subsidiary_already_issued_is_refused() {
    let mut scenario = one_invoice();
    scenario
        .when(credit_note("CN-1", cny("100.00")))
        .then_accepted();

    // Another amount, against the invoice this time: the number is what counts.
    let refusal = scenario
        .when(credit_note("CN-1", cny("50.00")).against(key(SUB_A, "INV-1")))
        .then_refused(
            RefusalCode::AlreadyExists,
            Reason::DuplicateCreditNoteNumber,
        );

    assert_eq!(refusal.metadata("subsidiary_id"), Some(SUB_A));
    assert_eq!(refusal.metadata("credit_note_number"), Some("CN-1"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(scenario.unapplied_credit(), dec("100.00"));
}

#[test]
fn the_same_credit_note_number_at_another_subsidiary_is_another_credit_note() {
    let mut scenario = one_invoice();
    scenario
        .when(credit_note("CN-1", cny("100.00")))
        .then_accepted();

    scenario
        .when(credit_note("CN-1", cny("40.00")).at(SUB_B))
        .then_accepted();

    // 100.00 + 40.00 of credit; 1,000.00 - 140.00 = 860.00 exposure.
    assert_eq!(scenario.unapplied_credit(), dec("140.00"));
    assert_eq!(exposure(&scenario), dec("860.00"));
    let state = scenario.account().state();
    assert!(state.has_credit_note(&credit_note_key(SUB_A, "CN-1")));
    assert!(state.has_credit_note(&credit_note_key(SUB_B, "CN-1")));
}

#[test]
fn a_credit_note_may_carry_the_number_of_an_invoice() {
    let mut scenario = one_invoice();

    // Credit-note numbers are a key space of their own: "INV-1" at SUB-A is free for one.
    scenario
        .when(credit_note("INV-1", cny("100.00")).against(key(SUB_A, "INV-1")))
        .then_accepted();

    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("900.00"));
    assert!(
        scenario
            .account()
            .state()
            .has_credit_note(&credit_note_key(SUB_A, "INV-1"))
    );
}

#[test]
fn a_credit_note_reserves_its_number_in_the_credit_note_key_space() {
    let body = credit_note("CN-7", cny("10.00"))
        .at(SUB_B)
        .against(key(SUB_A, "INV-1"))
        .into_body();

    // SUB-B's number, whichever subsidiary's invoice it credits.
    assert_eq!(
        body.rules().reserves(),
        Some(NumberKey::CreditNote(credit_note_key(SUB_B, "CN-7")))
    );
}

#[test]
fn a_credit_note_names_the_subsidiary_of_the_invoice_it_credits() {
    let mut scenario = one_invoice();

    // SUB-B credits SUB-A's invoice: the access policy must see SUB-A.
    let against = scenario
        .when(
            credit_note("CN-7", cny("10.00"))
                .at(SUB_B)
                .against(key(SUB_A, "INV-1")),
        )
        .then_accepted();
    assert_eq!(
        against.envelope.event.rules().touches(),
        vec![&subsidiary(SUB_A)]
    );
    // On account it names no other subsidiary's document.
    let on_account = scenario
        .when(credit_note("CN-8", cny("10.00")).at(SUB_B))
        .then_accepted();
    assert!(on_account.envelope.event.rules().touches().is_empty());
}

#[test]
fn a_credit_note_without_a_reason_is_refused() {
    let mut scenario = one_invoice();

    scenario
        .when(credit_note("CN-1", cny("100.00")).reason(""))
        .then_invalid("reason");
    scenario
        .when(credit_note("CN-1", cny("100.00")).reason(" \n\t "))
        .then_invalid("reason");
    assert_eq!(scenario.unapplied_credit(), dec("0"));
}

#[test]
fn a_credit_note_of_nothing_is_refused() {
    let mut scenario = one_invoice();

    scenario
        .when(credit_note("CN-1", cny("0.00")))
        .then_invalid("amount.amount");
}

#[test]
fn a_credit_note_dated_more_than_a_day_after_the_service_is_refused() {
    let mut scenario = one_invoice();

    // Today is 2026-06-30; 07-01 is allowed for subsidiaries ahead of UTC, 07-02 is not.
    scenario
        .when(credit_note("CN-1", cny("100.00")).dated("2026-07-02"))
        .then_invalid("issue_date");
    assert_eq!(scenario.unapplied_credit(), dec("0"));

    scenario
        .when(credit_note("CN-1", cny("100.00")).dated("2026-07-01"))
        .then_accepted();
    assert_eq!(scenario.unapplied_credit(), dec("100.00"));
}

// ---------------------------------------------------------------------------------------------
// Write-offs
// ---------------------------------------------------------------------------------------------

#[test]
fn writing_off_part_of_an_invoice_leaves_the_rest_open() {
    let mut scenario = one_invoice();

    let recorded = scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("300.00")).dated("2026-06-25"))
        .then_event(Event::InvoiceWrittenOff(InvoiceWrittenOff {
            invoice: key(SUB_A, "INV-1"),
            amount: cny("300.00"),
            write_off_date: date("2026-06-25"),
            reason: "customer insolvent".to_owned(),
            approved_by: person("Zhang Wei"),
        }));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-25"));
    // The envelope names the subsidiary whose invoice it is.
    assert_eq!(recorded.envelope.subsidiary_id, Some(subsidiary(SUB_A)));
    // 1,000.00 - 300.00 = 700.00
    let invoice = scenario
        .account()
        .invoice(&key(SUB_A, "INV-1"))
        .expect("INV-1");
    assert_eq!(invoice.open, dec("700.00"));
    assert_eq!(invoice.written_off, dec("300.00"));
    assert_eq!(invoice.credited, dec("0"));
    assert_eq!(invoice.open_on(date("2026-06-24")), dec("1000.00"));
    assert_eq!(exposure(&scenario), dec("700.00"));
}

#[test]
fn writing_off_all_of_an_invoice_settles_it() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").at(SUB_B).amount(cny("500.00")).event(),
    ]);

    scenario
        .when(write_off(key(SUB_B, "INV-2"), cny("500.00")))
        .then_accepted();

    assert_eq!(scenario.open(&key(SUB_B, "INV-2")), dec("0.00"));
    let open: Vec<_> = scenario
        .account()
        .open_invoices()
        .map(|i| i.key.clone())
        .collect();
    assert_eq!(open, vec![key(SUB_A, "INV-1")]);
    // Only INV-1's 1,000.00 is left.
    assert_eq!(exposure(&scenario), dec("1000.00"));
}

#[test]
fn a_write_off_above_what_the_invoice_owes_is_refused() {
    let mut scenario = one_invoice();
    // 250.00 credited: 750.00 open.
    scenario
        .when(credit_note("CN-1", cny("250.00")).against(key(SUB_A, "INV-1")))
        .then_accepted();

    let refusal = scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("750.01")))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::WriteOffExceedsOpenAmount,
        );

    assert_eq!(
        violated(&refusal),
        (Reason::WriteOffExceedsOpenAmount, "invoices/SUB-A/INV-1")
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("750.00"));

    scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("750.00")))
        .then_accepted();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
}

#[test]
fn a_write_off_dated_before_the_invoice_is_refused() {
    let mut scenario = given([invoice("INV-1").issued("2026-06-10").event()]);

    let refusal = scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("100.00")).dated("2026-06-09"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::WriteOffBeforeInvoiceDate,
        );

    assert_eq!(
        violated(&refusal),
        (Reason::WriteOffBeforeInvoiceDate, "invoices/SUB-A/INV-1")
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

#[test]
fn a_write_off_of_an_unknown_invoice_or_in_another_currency_is_refused() {
    let mut scenario = one_invoice();

    let unknown = scenario
        .when(write_off(key(SUB_B, "INV-1"), cny("100.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);
    assert_eq!(
        violated(&unknown),
        (Reason::InvoiceNotFound, "invoices/SUB-B/INV-1")
    );

    let mismatched = scenario
        .when(write_off(key(SUB_A, "INV-1"), usd("100.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CurrencyMismatch);
    assert_eq!(
        violated(&mismatched),
        (Reason::CurrencyMismatch, "invoices/SUB-A/INV-1")
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

#[test]
fn a_write_off_without_a_reason_or_dated_ahead_is_refused() {
    let mut scenario = one_invoice();

    scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("100.00")).reason("   "))
        .then_invalid("reason");
    scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("100.00")).dated("2026-07-02"))
        .then_invalid("write_off_date");
    scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("0.00")))
        .then_invalid("amount.amount");
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

// ---------------------------------------------------------------------------------------------
// Payment reversals
// ---------------------------------------------------------------------------------------------

#[test]
fn a_reversal_re_opens_the_payments_allocations_and_removes_its_unapplied_remainder() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);
    let paid = command_id();
    // Oldest due first (same dates, by number): INV-1 1,000.00, INV-2 500.00, 300.00 left.
    scenario
        .when_command(paid, payment(cny("1800.00")).received("2026-06-10"))
        .then_accepted();
    assert_eq!(scenario.unapplied_cash(), dec("300.00"));
    assert_eq!(exposure(&scenario), dec("-300.00"));

    let recorded = scenario
        .when(reversal(paid).dated("2026-06-20"))
        .then_event(Event::PaymentReversed(PaymentReversed {
            subsidiary_id: subsidiary(SUB_A),
            payment: paid,
            reversal_date: date("2026-06-20"),
            reason: ReversalReason::ReturnedByBank,
            amount: cny("1800.00"),
            received_date: date("2026-06-10"),
            reopened: vec![
                allocation(SUB_A, "INV-1", cny("1000.00")),
                allocation(SUB_A, "INV-2", cny("500.00")),
            ],
            unapplied: cny("300.00"),
            discounts: Vec::new(),
        }));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-20"));
    // Owed again in full from 06-20, not before.
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-2")), dec("500.00"));
    let inv1 = scenario
        .account()
        .invoice(&key(SUB_A, "INV-1"))
        .expect("INV-1");
    assert_eq!(inv1.open_on(date("2026-06-19")), dec("0.00"));
    assert_eq!(inv1.open_on(date("2026-06-20")), dec("1000.00"));
    // The 300.00 left as cash leaves with it: 1,500.00 owed, no cash.
    assert_eq!(scenario.unapplied_cash(), dec("0.00"));
    assert_eq!(exposure(&scenario), dec("1500.00"));
    let payment = scenario.account().state().payment(&paid).expect("recorded");
    assert_eq!(payment.reversed_on, Some(date("2026-06-20")));
}

#[test]
fn reversing_a_payment_on_account_takes_all_of_it_out_of_the_unapplied_cash() {
    let mut scenario = one_invoice();
    let paid = command_id();
    scenario
        .when_command(paid, payment(cny("400.00")).on_account())
        .then_accepted();
    // 1,000.00 - 400.00
    assert_eq!(exposure(&scenario), dec("600.00"));

    scenario
        .when(reversal(paid).dated("2026-06-30"))
        .then_event(Event::PaymentReversed(PaymentReversed {
            subsidiary_id: subsidiary(SUB_A),
            payment: paid,
            reversal_date: date("2026-06-30"),
            reason: ReversalReason::ReturnedByBank,
            amount: cny("400.00"),
            received_date: date("2026-06-30"),
            reopened: Vec::new(),
            unapplied: cny("400.00"),
            discounts: Vec::new(),
        }));

    assert_eq!(scenario.unapplied_cash(), dec("0.00"));
    assert_eq!(exposure(&scenario), dec("1000.00"));
}

#[test]
fn a_payment_cannot_be_reversed_twice() {
    let mut scenario = one_invoice();
    let paid = command_id();
    scenario
        .when_command(paid, payment(cny("1000.00")).received("2026-06-10"))
        .then_accepted();
    scenario
        .when(reversal(paid).dated("2026-06-20"))
        .then_accepted();

    let refusal = scenario
        .when(reversal(paid).dated("2026-06-25"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::PaymentAlreadyReversed,
        );

    let subject = format!("payments/{paid}");
    assert_eq!(
        violated(&refusal),
        (Reason::PaymentAlreadyReversed, subject.as_str())
    );
    assert_eq!(refusal.metadata("payment"), Some(paid.to_string().as_str()));
    // Re-opened once: 1,000.00, not 2,000.00.
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

#[test]
fn reversing_an_unknown_payment_is_refused() {
    let mut scenario = one_invoice();
    // A payment of this customer, but not the one the reversal names.
    scenario.when(payment(cny("1000.00"))).then_accepted();
    let unknown = command_id();

    let refusal = scenario
        .when(reversal(unknown))
        .then_refused(RefusalCode::FailedPrecondition, Reason::PaymentNotFound);

    let subject = format!("payments/{unknown}");
    assert_eq!(
        violated(&refusal),
        (Reason::PaymentNotFound, subject.as_str())
    );
    assert_eq!(
        refusal.metadata("payment"),
        Some(unknown.to_string().as_str())
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
}

#[test]
fn a_payment_is_reversed_only_by_the_subsidiary_that_received_it() {
    let mut scenario = one_invoice();
    let paid = command_id();
    scenario
        .when_command(paid, payment(cny("1000.00")).received("2026-06-10"))
        .then_accepted();

    // SUB-B did not receive it: to SUB-B there is no such payment.
    let refusal = scenario
        .when(reversal(paid).at(SUB_B))
        .then_refused(RefusalCode::FailedPrecondition, Reason::PaymentNotFound);

    let subject = format!("payments/{paid}");
    assert_eq!(
        violated(&refusal),
        (Reason::PaymentNotFound, subject.as_str())
    );
    assert_eq!(refusal.metadata("payment"), Some(paid.to_string().as_str()));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
    let payment = scenario.account().state().payment(&paid).expect("recorded");
    assert_eq!(payment.reversed_on, None);
}

#[test]
fn a_reversal_dated_before_the_payment_was_received_is_refused() {
    let mut scenario = one_invoice();
    let paid = command_id();
    scenario
        .when_command(paid, payment(cny("1000.00")).received("2026-06-10"))
        .then_accepted();

    let refusal = scenario
        .when(reversal(paid).dated("2026-06-09"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::ReversalBeforePayment,
        );
    let subject = format!("payments/{paid}");
    assert_eq!(
        violated(&refusal),
        (Reason::ReversalBeforePayment, subject.as_str())
    );
    assert_eq!(refusal.metadata("payment"), Some(paid.to_string().as_str()));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));

    // On the day it was received it may be reversed.
    scenario
        .when(reversal(paid).dated("2026-06-10"))
        .then_accepted();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

#[test]
fn a_reversal_dated_more_than_a_day_after_the_service_is_refused() {
    let mut scenario = one_invoice();
    let paid = command_id();
    scenario
        .when_command(paid, payment(cny("1000.00")))
        .then_accepted();

    scenario
        .when(reversal(paid).dated("2026-07-02"))
        .then_invalid("reversal_date");
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
}

#[test]
fn a_reversal_is_refused_once_the_payments_unapplied_remainder_was_applied() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2")
            .amount(cny("500.00"))
            .issued("2026-06-12")
            .due("2026-07-12")
            .event(),
    ]);
    let paid = command_id();
    // Received 06-10, before INV-2 existed: INV-1 1,000.00, 500.00 left as cash.
    scenario
        .when_command(paid, payment(cny("1500.00")).received("2026-06-10"))
        .then_accepted();
    // The 500.00 applied to INV-2 on 06-15.
    scenario
        .when(application(CASH, cny("500.00")).dated("2026-06-15"))
        .then_accepted();
    assert_eq!(scenario.unapplied_cash(), dec("0.00"));

    let refusal = scenario
        .when(reversal(paid).dated("2026-06-20"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::UnappliedAlreadyUsed,
        );

    let subject = format!("payments/{paid}");
    assert_eq!(
        violated(&refusal),
        (Reason::UnappliedAlreadyUsed, subject.as_str())
    );
    assert_eq!(refusal.metadata("payment"), Some(paid.to_string().as_str()));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-2")), dec("0.00"));
}

#[test]
fn a_reversal_is_refused_once_the_payments_unapplied_remainder_was_refunded_even_later() {
    let mut scenario = one_invoice();
    let paid = command_id();
    // Nothing allocated: 300.00 of cash from 06-10.
    scenario
        .when_command(
            paid,
            payment(cny("300.00")).on_account().received("2026-06-10"),
        )
        .then_accepted();
    // Refunded on 06-25.
    scenario
        .when(refund(CASH, cny("300.00")).dated("2026-06-25"))
        .then_accepted();

    // Dated 06-20, before the refund: taking 300.00 out from 06-20 would leave -300.00 of cash
    // from 06-25 on.
    let refusal = scenario
        .when(reversal(paid).dated("2026-06-20"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::UnappliedAlreadyUsed,
        );
    assert_eq!(refusal.metadata("payment"), Some(paid.to_string().as_str()));
    // And after it.
    scenario
        .when(reversal(paid).dated("2026-06-26"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::UnappliedAlreadyUsed,
        );
    assert_eq!(scenario.unapplied_cash(), dec("0.00"));
}

// ---------------------------------------------------------------------------------------------
// The dated balance: a movement dated D respects the balance on D and every later date
// ---------------------------------------------------------------------------------------------

#[test]
fn a_credit_note_dated_while_a_reversed_payment_still_counted_is_refused() {
    let mut scenario = paid_then_reversed_on_the_20th();

    // On 06-15 the invoice owed nothing (paid 06-10, re-opened only 06-20).
    let refusal = scenario
        .when(
            credit_note("CN-1", cny("1000.00"))
                .against(key(SUB_A, "INV-1"))
                .dated("2026-06-15"),
        )
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::CreditNoteExceedsOpenAmount,
        );
    assert_eq!(
        violated(&refusal),
        (Reason::CreditNoteExceedsOpenAmount, "invoices/SUB-A/INV-1")
    );
    // Nor a single fen on 06-19.
    scenario
        .when(
            credit_note("CN-1", cny("0.01"))
                .against(key(SUB_A, "INV-1"))
                .dated("2026-06-19"),
        )
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::CreditNoteExceedsOpenAmount,
        );

    // From 06-20 it owes 1,000.00 again.
    scenario
        .when(
            credit_note("CN-1", cny("1000.00"))
                .against(key(SUB_A, "INV-1"))
                .dated("2026-06-20"),
        )
        .then_accepted();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
}

#[test]
fn a_payment_dated_before_a_reversals_re_opening_cannot_pay_what_was_re_opened() {
    let mut scenario = paid_then_reversed_on_the_20th();

    let refusal = scenario
        .when(
            payment(cny("1000.00"))
                .received("2026-06-15")
                .allocate(key(SUB_A, "INV-1"), cny("1000.00")),
        )
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::AllocationExceedsOpenAmount,
        );
    assert_eq!(
        violated(&refusal),
        (Reason::AllocationExceedsOpenAmount, "invoices/SUB-A/INV-1")
    );

    // Without instructions, a payment of 06-15 finds nothing owed then: all of it is cash.
    let early = scenario
        .when(payment(cny("1000.00")).received("2026-06-15"))
        .then_payment_received();
    assert_eq!(early.allocation_rule, AllocationRule::OldestDueFirst);
    assert!(early.allocations.is_empty());
    assert_eq!(early.unapplied, cny("1000.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));

    // Dated on the re-opening, it pays it.
    scenario
        .when(
            payment(cny("1000.00"))
                .received("2026-06-20")
                .allocate(key(SUB_A, "INV-1"), cny("1000.00")),
        )
        .then_accepted();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
    // The 1,000.00 of 06-15 is still cash: 0.00 open - 1,000.00.
    assert_eq!(exposure(&scenario), dec("-1000.00"));
}

#[test]
fn a_write_off_dated_before_a_reversals_re_opening_is_refused() {
    let mut scenario = paid_then_reversed_on_the_20th();

    scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("1000.00")).dated("2026-06-19"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::WriteOffExceedsOpenAmount,
        );
    scenario
        .when(write_off(key(SUB_A, "INV-1"), cny("1000.00")).dated("2026-06-20"))
        .then_accepted();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
}

#[test]
fn a_credit_note_cannot_take_what_a_later_dated_payment_already_took() {
    let mut scenario = one_invoice();
    // Paid in full on 06-20 (recorded first).
    scenario
        .when(payment(cny("1000.00")).received("2026-06-20"))
        .then_accepted();

    // On 06-15 the invoice still owed 1,000.00, but from 06-20 it owes nothing: a credit note
    // of 06-15 would leave it owing -100.00 from 06-20.
    scenario
        .when(
            credit_note("CN-1", cny("100.00"))
                .against(key(SUB_A, "INV-1"))
                .dated("2026-06-15"),
        )
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::CreditNoteExceedsOpenAmount,
        );
    let invoice = scenario
        .account()
        .invoice(&key(SUB_A, "INV-1"))
        .expect("INV-1");
    assert_eq!(invoice.open_on(date("2026-06-15")), dec("1000.00"));
    assert_eq!(invoice.settleable_on(date("2026-06-15")), dec("0.00"));
}

// ---------------------------------------------------------------------------------------------
// Applications of unapplied cash and credit
// ---------------------------------------------------------------------------------------------

#[test]
fn unapplied_cash_is_applied_to_the_invoices_named() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);
    scenario
        .when(payment(cny("800.00")).on_account().received("2026-06-10"))
        .then_accepted();
    // 1,500.00 open - 800.00 cash
    assert_eq!(exposure(&scenario), dec("700.00"));

    let recorded = scenario
        .when(
            application(CASH, cny("700.00"))
                .dated("2026-06-15")
                .allocate(key(SUB_A, "INV-2"), cny("500.00"))
                .allocate(key(SUB_A, "INV-1"), cny("200.00")),
        )
        .then_event(Event::UnappliedCashApplied(UnappliedCashApplied {
            subsidiary_id: subsidiary(SUB_A),
            source: CASH,
            amount: cny("700.00"),
            application_date: date("2026-06-15"),
            allocation_rule: AllocationRule::Explicit,
            allocations: vec![
                allocation(SUB_A, "INV-2", cny("500.00")),
                allocation(SUB_A, "INV-1", cny("200.00")),
            ],
        }));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-15"));
    // INV-1 1,000.00 - 200.00 = 800.00; INV-2 0.00; cash 800.00 - 700.00 = 100.00.
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("800.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-2")), dec("0.00"));
    assert_eq!(scenario.unapplied_cash(), dec("100.00"));
    // Applying moves money the customer already paid: 800.00 - 100.00, as before.
    assert_eq!(exposure(&scenario), dec("700.00"));
}

#[test]
fn unapplied_cash_applied_without_instructions_settles_the_subsidiarys_oldest_due_invoices() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2")
            .amount(cny("400.00"))
            .due("2026-06-20")
            .event(),
        // Due first, but SUB-B's: an application by SUB-A passes it by.
        invoice("INV-3")
            .at(SUB_B)
            .amount(cny("300.00"))
            .due("2026-06-05")
            .event(),
    ]);
    scenario
        .when(payment(cny("1000.00")).on_account().received("2026-06-10"))
        .then_accepted();

    // INV-2 (due 06-20) 400.00, then INV-1 (due 07-01) 600.00.
    scenario
        .when(application(CASH, cny("1000.00")).dated("2026-06-15"))
        .then_event(Event::UnappliedCashApplied(UnappliedCashApplied {
            subsidiary_id: subsidiary(SUB_A),
            source: CASH,
            amount: cny("1000.00"),
            application_date: date("2026-06-15"),
            allocation_rule: AllocationRule::OldestDueFirst,
            allocations: vec![
                allocation(SUB_A, "INV-2", cny("400.00")),
                allocation(SUB_A, "INV-1", cny("600.00")),
            ],
        }));

    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("400.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-2")), dec("0.00"));
    assert_eq!(scenario.open(&key(SUB_B, "INV-3")), dec("300.00"));
    assert_eq!(scenario.unapplied_cash(), dec("0.00"));
    // 400.00 + 300.00
    assert_eq!(exposure(&scenario), dec("700.00"));
}

#[test]
fn an_application_without_instructions_applies_no_more_than_the_subsidiary_is_owed() {
    let mut scenario = given([invoice("INV-1").amount(cny("400.00")).event()]);
    scenario
        .when(payment(cny("1000.00")).on_account().received("2026-06-10"))
        .then_accepted();

    // At most 1,000.00: INV-1 owes 400.00, so 400.00 is applied and recorded as the amount.
    scenario
        .when(application(CASH, cny("1000.00")))
        .then_event(Event::UnappliedCashApplied(UnappliedCashApplied {
            subsidiary_id: subsidiary(SUB_A),
            source: CASH,
            amount: cny("400.00"),
            application_date: date(TODAY),
            allocation_rule: AllocationRule::OldestDueFirst,
            allocations: vec![allocation(SUB_A, "INV-1", cny("400.00"))],
        }));

    // 1,000.00 - 400.00 = 600.00 still cash.
    assert_eq!(scenario.unapplied_cash(), dec("600.00"));
    assert_eq!(exposure(&scenario), dec("-600.00"));
}

#[test]
fn unapplied_credit_is_applied_like_cash() {
    let mut scenario = one_invoice();
    scenario
        .when(credit_note("CN-1", cny("300.00")).dated("2026-06-05"))
        .then_accepted();
    // 1,000.00 - 300.00 of credit
    assert_eq!(exposure(&scenario), dec("700.00"));

    scenario
        .when(application(CREDIT, cny("300.00")))
        .then_event(Event::UnappliedCashApplied(UnappliedCashApplied {
            subsidiary_id: subsidiary(SUB_A),
            source: CREDIT,
            amount: cny("300.00"),
            application_date: date(TODAY),
            allocation_rule: AllocationRule::OldestDueFirst,
            allocations: vec![allocation(SUB_A, "INV-1", cny("300.00"))],
        }));

    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("700.00"));
    assert_eq!(scenario.unapplied_credit(), dec("0.00"));
    assert_eq!(scenario.unapplied_cash(), dec("0"));
    assert_eq!(exposure(&scenario), dec("700.00"));
}

#[test]
fn unapplied_credit_cannot_be_applied_as_cash_nor_cash_as_credit() {
    let mut scenario = one_invoice();
    scenario
        .when(credit_note("CN-1", cny("300.00")).dated("2026-06-05"))
        .then_accepted();

    let refusal = scenario
        .when(application(CASH, cny("300.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);
    assert_eq!(
        violated(&refusal),
        (Reason::ExceedsUnapplied, "customers/C-1/unapplied_cash")
    );
    assert_eq!(scenario.unapplied_credit(), dec("300.00"));
}

#[test]
fn applying_more_than_the_unapplied_money_is_refused() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("200.00")).on_account().received("2026-06-10"))
        .then_accepted();
    scenario
        .when(credit_note("CN-1", cny("50.00")).dated("2026-06-10"))
        .then_accepted();

    let refusal = scenario
        .when(application(CASH, cny("200.01")).allocate(key(SUB_A, "INV-1"), cny("200.01")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);
    assert_eq!(
        violated(&refusal),
        (Reason::ExceedsUnapplied, "customers/C-1/unapplied_cash")
    );
    assert_eq!(refusal.metadata("unapplied"), Some("200.00"));
    assert_eq!(refusal.metadata("currency"), Some("CNY"));

    let refusal = scenario
        .when(application(CREDIT, cny("50.01")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);
    assert_eq!(
        violated(&refusal),
        (Reason::ExceedsUnapplied, "customers/C-1/unapplied_credit")
    );
    assert_eq!(refusal.metadata("unapplied"), Some("50.00"));

    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(scenario.unapplied_cash(), dec("200.00"));
    assert_eq!(scenario.unapplied_credit(), dec("50.00"));
}

#[test]
fn an_application_cannot_spend_cash_received_after_its_date() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-20"))
        .then_accepted();

    // On 06-15 the 500.00 had not arrived yet.
    let refusal = scenario
        .when(application(CASH, cny("500.00")).dated("2026-06-15"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);
    assert_eq!(
        violated(&refusal),
        (Reason::ExceedsUnapplied, "customers/C-1/unapplied_cash")
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));

    // On the day it arrived it may be applied: 1,000.00 - 500.00.
    scenario
        .when(application(CASH, cny("500.00")).dated("2026-06-20"))
        .then_accepted();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("500.00"));
    assert_eq!(scenario.unapplied_cash(), dec("0.00"));
}

#[test]
fn the_unapplied_money_a_refusal_reports_is_at_the_currencys_scale() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-20"))
        .then_accepted();

    // Nothing there on 06-15 (nor, for credit, ever): 0.00 CNY, written as every other amount
    // of a refusal's figures is (`balance`, `exposure`, `shortfall`: "1300.00", "0.01").
    let refusal = scenario
        .when(application(CASH, cny("500.00")).dated("2026-06-15"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);
    assert_eq!(refusal.metadata("unapplied"), Some("0.00"));
    let refusal = scenario
        .when(refund(CREDIT, cny("1.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);
    assert_eq!(refusal.metadata("unapplied"), Some("0.00"));
}

#[test]
fn an_application_to_an_invoice_the_customer_does_not_have_is_refused() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();

    // SUB-A/INV-7 is another customer's invoice (or nobody's): this account does not know it.
    let refusal = scenario
        .when(
            application(CASH, cny("300.00"))
                .allocate(key(SUB_A, "INV-1"), cny("100.00"))
                .allocate(key(SUB_A, "INV-7"), cny("200.00")),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);

    assert_eq!(
        violated(&refusal),
        (Reason::InvoiceNotFound, "invoices/SUB-A/INV-7")
    );
    // Nothing applied, not even to INV-1.
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(scenario.unapplied_cash(), dec("500.00"));
}

#[test]
fn an_application_to_an_invoice_issued_after_its_date_is_refused() {
    let mut scenario = given([invoice("INV-1")
        .issued("2026-06-20")
        .due("2026-07-20")
        .event()]);
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();

    let refusal = scenario
        .when(
            application(CASH, cny("500.00"))
                .dated("2026-06-15")
                .allocate(key(SUB_A, "INV-1"), cny("500.00")),
        )
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::AllocationBeforeInvoiceDate,
        );
    assert_eq!(
        violated(&refusal),
        (Reason::AllocationBeforeInvoiceDate, "invoices/SUB-A/INV-1")
    );

    // Without instructions on 06-15 there is nothing the subsidiary was owed yet.
    scenario
        .when(application(CASH, cny("500.00")).dated("2026-06-15"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::NothingOwed);
    assert_eq!(scenario.unapplied_cash(), dec("500.00"));
}

#[test]
fn an_application_beyond_what_an_invoice_owes_or_in_its_wrong_currency_is_refused() {
    let mut scenario = given([
        invoice("INV-1").amount(cny("300.00")).event(),
        invoice("INV-U").amount(usd("100.00")).event(),
    ]);
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();
    scenario
        .when(payment(usd("500.00")).on_account().received("2026-06-10"))
        .then_accepted();

    let refusal = scenario
        .when(application(CASH, cny("300.01")).allocate(key(SUB_A, "INV-1"), cny("300.01")))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::AllocationExceedsOpenAmount,
        );
    assert_eq!(
        violated(&refusal),
        (Reason::AllocationExceedsOpenAmount, "invoices/SUB-A/INV-1")
    );

    // USD cash on a CNY invoice.
    let refusal = scenario
        .when(application(CASH, usd("100.00")).allocate(key(SUB_A, "INV-1"), usd("100.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CurrencyMismatch);
    assert_eq!(
        violated(&refusal),
        (Reason::CurrencyMismatch, "invoices/SUB-A/INV-1")
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("300.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-U")), dec("100.00"));
}

#[test]
fn an_application_when_the_subsidiary_is_owed_nothing_is_refused() {
    let mut scenario = given([
        // SUB-B is owed 500.00, SUB-A nothing.
        invoice("INV-1").at(SUB_B).amount(cny("500.00")).event(),
    ]);
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();

    let refusal = scenario
        .when(application(CASH, cny("100.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::NothingOwed);

    assert_eq!(violated(&refusal), (Reason::NothingOwed, "customers/C-1"));
    assert_eq!(scenario.open(&key(SUB_B, "INV-1")), dec("500.00"));
    assert_eq!(scenario.unapplied_cash(), dec("500.00"));
}

#[test]
fn explicit_application_allocations_must_add_up_to_the_amount() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);
    scenario
        .when(payment(cny("800.00")).on_account().received("2026-06-10"))
        .then_accepted();

    // 300.00 + 200.00 = 500.00, not 600.00.
    scenario
        .when(
            application(CASH, cny("600.00"))
                .allocate(key(SUB_A, "INV-1"), cny("300.00"))
                .allocate(key(SUB_A, "INV-2"), cny("200.00")),
        )
        .then_invalid("allocations");
    // 300.00 + 200.00 = 500.00, not 400.00.
    scenario
        .when(
            application(CASH, cny("400.00"))
                .allocate(key(SUB_A, "INV-1"), cny("300.00"))
                .allocate(key(SUB_A, "INV-2"), cny("200.00")),
        )
        .then_invalid("allocations");
    // In another currency than the amount.
    scenario
        .when(application(CASH, cny("100.00")).allocate(key(SUB_A, "INV-1"), usd("100.00")))
        .then_invalid("allocations[0].amount.currency");
    // The same invoice twice.
    scenario
        .when(
            application(CASH, cny("200.00"))
                .allocate(key(SUB_A, "INV-1"), cny("100.00"))
                .allocate(key(SUB_A, "INV-1"), cny("100.00")),
        )
        .then_invalid("allocations[1].invoice");
    assert_eq!(scenario.unapplied_cash(), dec("800.00"));
}

#[test]
fn an_application_of_nothing_or_dated_ahead_is_refused() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();

    scenario
        .when(application(CASH, cny("0.00")))
        .then_invalid("amount.amount");
    scenario
        .when(application(CASH, cny("100.00")).dated("2026-07-02"))
        .then_invalid("application_date");
    assert_eq!(scenario.unapplied_cash(), dec("500.00"));
}

// ---------------------------------------------------------------------------------------------
// Refunds
// ---------------------------------------------------------------------------------------------

#[test]
fn a_refund_within_the_unapplied_cash_pays_it_back() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();
    // 1,000.00 - 500.00
    assert_eq!(exposure(&scenario), dec("500.00"));

    let recorded = scenario
        .when(refund(CASH, cny("200.00")))
        .then_event(Event::RefundIssued(RefundIssued {
            subsidiary_id: subsidiary(SUB_A),
            source: CASH,
            amount: cny("200.00"),
            refund_date: date(TODAY),
            method: PaymentMethod::BankTransfer,
            reference: "REFUND-0001".to_owned(),
        }));

    assert_eq!(recorded.envelope.effective_date, date(TODAY));
    // 500.00 - 200.00 = 300.00 of cash; exposure 1,000.00 - 300.00 = 700.00.
    assert_eq!(scenario.unapplied_cash(), dec("300.00"));
    assert_eq!(exposure(&scenario), dec("700.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));

    // All of the rest.
    scenario.when(refund(CASH, cny("300.00"))).then_accepted();
    assert_eq!(scenario.unapplied_cash(), dec("0.00"));
}

#[test]
fn a_refund_above_the_unapplied_cash_is_refused() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();

    let refusal = scenario
        .when(refund(CASH, cny("500.01")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);

    assert_eq!(
        violated(&refusal),
        (Reason::ExceedsUnapplied, "customers/C-1/unapplied_cash")
    );
    assert_eq!(refusal.metadata("unapplied"), Some("500.00"));
    assert_eq!(refusal.metadata("currency"), Some("CNY"));
    assert_eq!(scenario.unapplied_cash(), dec("500.00"));
}

#[test]
fn a_refund_cannot_pay_back_cash_received_after_its_date() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-20"))
        .then_accepted();

    scenario
        .when(refund(CASH, cny("100.00")).dated("2026-06-19"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);
    scenario
        .when(refund(CASH, cny("100.00")).dated("2026-06-20"))
        .then_accepted();
    assert_eq!(scenario.unapplied_cash(), dec("400.00"));
}

#[test]
fn a_refund_of_unapplied_credit_pays_back_the_credit_not_the_cash() {
    let mut scenario = one_invoice();
    scenario
        .when(credit_note("CN-1", cny("300.00")).dated("2026-06-10"))
        .then_accepted();

    scenario
        .when(refund(CREDIT, cny("300.00")))
        .then_event(Event::RefundIssued(RefundIssued {
            subsidiary_id: subsidiary(SUB_A),
            source: CREDIT,
            amount: cny("300.00"),
            refund_date: date(TODAY),
            method: PaymentMethod::BankTransfer,
            reference: "REFUND-0001".to_owned(),
        }));
    assert_eq!(scenario.unapplied_credit(), dec("0.00"));
    assert_eq!(exposure(&scenario), dec("1000.00"));

    // There was never any cash.
    let refusal = scenario
        .when(refund(CASH, cny("1.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExceedsUnapplied);
    assert_eq!(
        violated(&refusal),
        (Reason::ExceedsUnapplied, "customers/C-1/unapplied_cash")
    );
}

#[test]
fn a_refund_of_nothing_dated_ahead_or_with_a_bad_reference_is_refused() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();

    scenario
        .when(refund(CASH, cny("0.00")))
        .then_invalid("amount.amount");
    scenario
        .when(refund(CASH, cny("100.00")).dated("2026-07-02"))
        .then_invalid("refund_date");
    let mut too_long = refund(CASH, cny("100.00"));
    // 129 characters, one more than a reference holds.
    too_long.0.reference = "R".repeat(129);
    scenario.when(too_long).then_invalid("reference");
    let mut control = refund(CASH, cny("100.00"));
    control.0.reference = "REFUND\u{7}".to_owned();
    scenario.when(control).then_invalid("reference");
    assert_eq!(scenario.unapplied_cash(), dec("500.00"));
}

// ---------------------------------------------------------------------------------------------
// Payments on account
// ---------------------------------------------------------------------------------------------

#[test]
fn a_payment_on_account_allocates_nothing_although_invoices_are_open() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);

    scenario
        .when(payment(cny("600.00")).on_account().received("2026-06-10"))
        .then_event(Event::PaymentReceived(PaymentReceived {
            subsidiary_id: subsidiary(SUB_A),
            amount: cny("600.00"),
            received_date: date("2026-06-10"),
            method: PaymentMethod::BankTransfer,
            reference: "BANK-REF-0001".to_owned(),
            allocation_rule: AllocationRule::OnAccount,
            allocations: Vec::new(),
            unapplied: cny("600.00"),
        }));

    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-2")), dec("500.00"));
    assert_eq!(scenario.unapplied_cash(), dec("600.00"));
    // 1,500.00 - 600.00
    assert_eq!(exposure(&scenario), dec("900.00"));
}

#[test]
fn a_payment_on_account_with_allocations_is_refused() {
    let mut scenario = one_invoice();

    scenario
        .when(
            payment(cny("600.00"))
                .on_account()
                .allocate(key(SUB_A, "INV-1"), cny("600.00")),
        )
        .then_invalid("allocations");
    assert_eq!(scenario.unapplied_cash(), dec("0"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

// ---------------------------------------------------------------------------------------------
// The credit limit sees every movement
// ---------------------------------------------------------------------------------------------

/// A limit of 10,000.00 CNY (block) and 8,500.00 open: INV-A1 6,000.00 and INV-B1 2,500.00.
fn customer_at_8500_of_10000() -> Scenario {
    given([
        credit_limit(cny("10000.00")).block().event(),
        invoice("INV-A1").amount(cny("6000.00")).event(),
        invoice("INV-B1").at(SUB_B).amount(cny("2500.00")).event(),
    ])
}

#[test]
fn unapplied_credit_lowers_the_exposure_an_invoice_is_checked_against() {
    let mut scenario = customer_at_8500_of_10000();
    // 8,500.00 + 2,000.00 = 10,500.00 > 10,000.00
    scenario
        .when(invoice("INV-A2").amount(cny("2000.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);

    scenario
        .when(credit_note("CN-1", cny("1000.00")))
        .then_accepted();

    // 8,500.00 - 1,000.00 of credit + 2,000.00 = 9,500.00 <= 10,000.00
    let issued = scenario
        .when(invoice("INV-A2").amount(cny("2000.00")))
        .then_invoice_issued();
    assert_eq!(
        issued.credit_check.map(|check| check.exposure_after),
        Some(cny("9500.00"))
    );
}

#[test]
fn a_reversed_payment_raises_the_exposure_an_invoice_is_checked_against_again() {
    let mut scenario = customer_at_8500_of_10000();
    let paid = command_id();
    // Oldest due first at SUB-A: INV-A1 1,000.00 of 6,000.00. Exposure 7,500.00.
    scenario
        .when_command(paid, payment(cny("1000.00")).received("2026-06-10"))
        .then_accepted();
    assert_eq!(exposure(&scenario), dec("7500.00"));
    scenario
        .when(reversal(paid).dated("2026-06-20"))
        .then_accepted();
    assert_eq!(exposure(&scenario), dec("8500.00"));

    // 8,500.00 + 2,000.00 = 10,500.00, above the limit by 500.00.
    let refusal = scenario
        .when(invoice("INV-A2").amount(cny("2000.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    assert_eq!(refusal.metadata("exposure"), Some("8500.00"));
    assert_eq!(refusal.metadata("shortfall"), Some("500.00"));
}

// ---------------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------------

#[test]
fn a_retried_credit_note_is_answered_with_its_first_event_not_refused_as_a_duplicate_number() {
    let mut scenario = one_invoice();
    let id = command_id();
    let note = credit_note("CN-1", cny("100.00")).against(key(SUB_A, "INV-1"));

    let first = scenario.when_command(id, note.clone()).then_accepted();
    let again = scenario
        .when_command(id, note.clone())
        .then_already_accepted();

    assert_eq!(again, first);
    // Credited once: 1,000.00 - 100.00.
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("900.00"));
    // Under another command id it is a second note with the same number.
    scenario.when(note).then_refused(
        RefusalCode::AlreadyExists,
        Reason::DuplicateCreditNoteNumber,
    );
}

#[test]
fn a_retried_reversal_is_answered_with_its_first_event_not_refused_as_reversed_twice() {
    let mut scenario = one_invoice();
    let paid = command_id();
    scenario
        .when_command(paid, payment(cny("1000.00")).received("2026-06-10"))
        .then_accepted();
    let id = command_id();

    let first = scenario
        .when_command(id, reversal(paid).dated("2026-06-20"))
        .then_accepted();
    let again = scenario
        .when_command(id, reversal(paid).dated("2026-06-20"))
        .then_already_accepted();

    assert_eq!(again, first);
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

#[test]
fn a_retried_application_or_refund_is_applied_once_and_its_id_cannot_carry_other_content() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("500.00")).on_account().received("2026-06-10"))
        .then_accepted();
    let applied = command_id();
    let refunded = command_id();

    let first = scenario
        .when_command(applied, application(CASH, cny("100.00")))
        .then_accepted();
    assert_eq!(
        scenario
            .when_command(applied, application(CASH, cny("100.00")))
            .then_already_accepted(),
        first
    );
    let first_refund = scenario
        .when_command(refunded, refund(CASH, cny("50.00")))
        .then_accepted();
    assert_eq!(
        scenario
            .when_command(refunded, refund(CASH, cny("50.00")))
            .then_already_accepted(),
        first_refund
    );
    // 500.00 - 100.00 - 50.00 = 350.00; INV-1 1,000.00 - 100.00 = 900.00.
    assert_eq!(scenario.unapplied_cash(), dec("350.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("900.00"));

    // The refund's id with another amount.
    let refusal = scenario
        .when_command(refunded, refund(CASH, cny("60.00")))
        .then_refused(RefusalCode::AlreadyExists, Reason::CommandIdReused);
    assert_eq!(
        refusal.metadata("command_id"),
        Some(refunded.to_string().as_str())
    );
    assert_eq!(
        refusal.metadata("position"),
        Some(first_refund.position.to_string().as_str())
    );
    // The application's id for a write-off.
    scenario
        .when_command(applied, write_off(key(SUB_A, "INV-1"), cny("100.00")))
        .then_refused(RefusalCode::AlreadyExists, Reason::CommandIdReused);
    assert_eq!(scenario.unapplied_cash(), dec("350.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("900.00"));
}

#[test]
fn a_retried_write_off_is_written_off_once() {
    let mut scenario = one_invoice();
    let id = command_id();
    let first = scenario
        .when_command(id, write_off(key(SUB_A, "INV-1"), cny("600.00")))
        .then_accepted();

    // Again: 600.00 would no longer fit in the 400.00 left, but a retry is answered, not decided.
    let again = scenario
        .when_command(id, write_off(key(SUB_A, "INV-1"), cny("600.00")))
        .then_already_accepted();
    assert_eq!(again, first);
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("400.00"));
}

// ---------------------------------------------------------------------------------------------
// apply: an event that breaks the ledger's invariants is rejected and changes nothing
// ---------------------------------------------------------------------------------------------

#[test]
fn apply_rejects_a_credit_note_that_takes_an_invoice_below_zero() {
    let mut account = given([invoice("INV-1").event()]).into_account();
    let before = account.clone();

    // 1,000.00 open; 1,000.01 credited.
    let over = Event::CreditNoteIssued(CreditNoteIssued {
        subsidiary_id: subsidiary(SUB_A),
        credit_note_number: credit_note_number("CN-1"),
        amount: cny("1000.01"),
        issue_date: date("2026-06-15"),
        reason: "returned goods".to_owned(),
        invoice: Some(key(SUB_A, "INV-1")),
    });
    let violation = account
        .apply(&next_of(&account, over))
        .expect_err("an invoice below zero");
    assert!(violation.problem.contains("INV-1"), "{violation}");
    assert_eq!(account, before);

    // Dated before the invoice was issued.
    let early = Event::CreditNoteIssued(CreditNoteIssued {
        subsidiary_id: subsidiary(SUB_A),
        credit_note_number: credit_note_number("CN-1"),
        amount: cny("100.00"),
        issue_date: date("2026-05-31"),
        reason: "returned goods".to_owned(),
        invoice: Some(key(SUB_A, "INV-1")),
    });
    account
        .apply(&next_of(&account, early))
        .expect_err("a credit note before its invoice");
    assert_eq!(account, before);
}

#[test]
fn apply_rejects_a_write_off_below_what_a_later_dated_payment_left() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("600.00")).received("2026-06-20"))
        .then_accepted();
    let mut account = scenario.into_account();
    let before = account.clone();

    // On 06-15 INV-1 owed 1,000.00, but from 06-20 only 400.00: writing off 500.00 on 06-15
    // would leave it owing -100.00 from 06-20.
    let event = Event::InvoiceWrittenOff(InvoiceWrittenOff {
        invoice: key(SUB_A, "INV-1"),
        amount: cny("500.00"),
        write_off_date: date("2026-06-15"),
        reason: "customer insolvent".to_owned(),
        approved_by: person("Zhang Wei"),
    });
    account
        .apply(&next_of(&account, event))
        .expect_err("an invoice below zero on a later date");
    assert_eq!(account, before);
    assert_eq!(
        account.invoice(&key(SUB_A, "INV-1")).map(|i| i.open),
        Some(dec("400.00"))
    );
}

#[test]
fn apply_rejects_a_reversal_of_an_unknown_payment() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("1000.00")).received("2026-06-10"))
        .then_accepted();
    let mut account = scenario.into_account();
    let before = account.clone();

    // The figures of the payment on the account, but another command's id.
    let event = Event::PaymentReversed(PaymentReversed {
        subsidiary_id: subsidiary(SUB_A),
        payment: command_id(),
        reversal_date: date("2026-06-20"),
        reason: ReversalReason::InsufficientFunds,
        amount: cny("1000.00"),
        received_date: date("2026-06-10"),
        reopened: vec![allocation(SUB_A, "INV-1", cny("1000.00"))],
        unapplied: cny("0.00"),
        discounts: Vec::new(),
    });
    let violation = account
        .apply(&next_of(&account, event))
        .expect_err("an unknown payment");
    assert!(violation.problem.contains("unknown payment"), "{violation}");
    assert_eq!(account, before);
    assert_eq!(
        account.invoice(&key(SUB_A, "INV-1")).map(|i| i.open),
        Some(dec("0.00"))
    );
}

#[test]
fn apply_rejects_a_reversal_that_re_opens_what_the_payment_did_not_pay_or_reverses_it_twice() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);
    let paid = command_id();
    scenario
        .when_command(
            paid,
            payment(cny("400.00"))
                .received("2026-06-10")
                .allocate(key(SUB_A, "INV-1"), cny("400.00")),
        )
        .then_accepted();
    let mut account = scenario.into_account();
    let before = account.clone();
    let reversed = |reopened: Vec<Allocation>| {
        Event::PaymentReversed(PaymentReversed {
            subsidiary_id: subsidiary(SUB_A),
            payment: paid,
            reversal_date: date("2026-06-20"),
            reason: ReversalReason::ReturnedByBank,
            amount: cny("400.00"),
            received_date: date("2026-06-10"),
            reopened,
            unapplied: cny("0.00"),
            discounts: Vec::new(),
        })
    };

    // INV-2 instead of INV-1: the figures add up, the allocations are not the payment's.
    account
        .apply(&next_of(
            &account,
            reversed(vec![allocation(SUB_A, "INV-2", cny("400.00"))]),
        ))
        .expect_err("other allocations than the payment's");
    assert_eq!(account, before);

    // The true reversal is believed, once.
    account
        .apply(&next_of(
            &account,
            reversed(vec![allocation(SUB_A, "INV-1", cny("400.00"))]),
        ))
        .expect("the payment's own reversal");
    let after = account.clone();
    account
        .apply(&next_of(
            &account,
            reversed(vec![allocation(SUB_A, "INV-1", cny("400.00"))]),
        ))
        .expect_err("a second reversal");
    assert_eq!(account, after);
    assert_eq!(
        account.invoice(&key(SUB_A, "INV-1")).map(|i| i.open),
        Some(dec("1000.00"))
    );
}

#[test]
fn apply_rejects_an_application_or_refund_of_money_that_is_not_there() {
    let mut scenario = one_invoice();
    scenario
        .when(payment(cny("300.00")).on_account().received("2026-06-20"))
        .then_accepted();
    let mut account = scenario.into_account();
    let before = account.clone();
    let applied = |amount: Money, on: &str| {
        Event::UnappliedCashApplied(UnappliedCashApplied {
            subsidiary_id: subsidiary(SUB_A),
            source: CASH,
            amount,
            application_date: date(on),
            allocation_rule: AllocationRule::Explicit,
            allocations: vec![allocation(SUB_A, "INV-1", amount)],
        })
    };

    // 300.01 of 300.00.
    account
        .apply(&next_of(&account, applied(cny("300.01"), "2026-06-25")))
        .expect_err("more cash than there is");
    assert_eq!(account, before);
    // 300.00, but on 06-15, before it arrived.
    account
        .apply(&next_of(&account, applied(cny("300.00"), "2026-06-15")))
        .expect_err("cash that had not arrived");
    assert_eq!(account, before);
    // Credit the customer never had.
    let refunded = Event::RefundIssued(RefundIssued {
        subsidiary_id: subsidiary(SUB_A),
        source: CREDIT,
        amount: cny("1.00"),
        refund_date: date("2026-06-25"),
        method: PaymentMethod::BankTransfer,
        reference: "REFUND-0001".to_owned(),
    });
    account
        .apply(&next_of(&account, refunded))
        .expect_err("credit that is not there");
    assert_eq!(account, before);
    assert_eq!(account.unapplied_cash(currency("CNY")), dec("300.00"));
}

#[test]
fn apply_rejects_a_second_credit_note_of_the_same_number() {
    let mut scenario = one_invoice();
    scenario
        .when(credit_note("CN-1", cny("100.00")))
        .then_accepted();
    let mut account = scenario.into_account();
    let before = account.clone();

    let again = Event::CreditNoteIssued(CreditNoteIssued {
        subsidiary_id: subsidiary(SUB_A),
        credit_note_number: credit_note_number("CN-1"),
        amount: cny("100.00"),
        issue_date: date(TODAY),
        reason: "returned goods".to_owned(),
        invoice: None,
    });
    account
        .apply(&next_of(&account, again))
        .expect_err("a credit-note number issued twice");
    assert_eq!(account, before);
    assert_eq!(
        account.state().unapplied_credit(currency("CNY")),
        dec("100.00")
    );
}

#[test]
fn a_history_of_every_movement_rebuilds_the_same_account() {
    let mut scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").at(SUB_B).amount(cny("500.00")).event(),
    ]);
    let paid = command_id();
    scenario
        .when_command(paid, payment(cny("1200.00")).received("2026-06-10"))
        .then_accepted();
    scenario
        .when(credit_note("CN-1", cny("100.00")).against(key(SUB_B, "INV-2")))
        .then_accepted();
    scenario
        .when(write_off(key(SUB_B, "INV-2"), cny("50.00")))
        .then_accepted();
    scenario.when(refund(CASH, cny("200.00"))).then_accepted();
    scenario
        .when(reversal(paid).dated("2026-06-30"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::UnappliedAlreadyUsed,
        );
    scenario
        .when(credit_note("CN-2", cny("80.00")))
        .then_accepted();
    scenario
        .when(application(CREDIT, cny("80.00")).at(SUB_B))
        .then_accepted();

    // INV-1: 1,000.00 paid. INV-2: 500.00 - 100.00 - 50.00 - 80.00 = 270.00.
    // Cash: 200.00 left by the payment, refunded. Credit: 80.00, applied.
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
    assert_eq!(scenario.open(&key(SUB_B, "INV-2")), dec("270.00"));
    assert_eq!(scenario.unapplied_cash(), dec("0.00"));
    assert_eq!(scenario.unapplied_credit(), dec("0.00"));
    assert_eq!(exposure(&scenario), dec("270.00"));

    let log = scenario.history().to_vec();
    let rebuilt = CustomerAccount::from_history(customer_id(), &log).expect("a valid log");
    assert_eq!(&rebuilt, scenario.account());
}

/// The id of the command an event in the log recorded, for tests that name it later.
fn command_of(recorded: &RecordedEvent) -> CommandId {
    recorded.envelope.command_id
}

#[test]
fn an_unreversed_payment_stays_on_the_account_by_the_id_of_its_command() {
    let mut scenario = one_invoice();
    let recorded = scenario
        .when(payment(cny("250.00")).received("2026-06-10"))
        .then_accepted();

    let payment = scenario
        .account()
        .state()
        .payment(&command_of(&recorded))
        .expect("recorded by its command's id");
    assert_eq!(payment.amount, cny("250.00"));
    assert_eq!(payment.received_date, date("2026-06-10"));
    assert_eq!(
        payment.allocations,
        vec![allocation(SUB_A, "INV-1", cny("250.00"))]
    );
    assert_eq!(payment.unapplied, cny("0.00"));
    assert_eq!(payment.reversed_on, None);
}
