//! The rules of the README ("The rules"), one test each: given these events, when this command, then
//! this event or this refusal. Every figure is worked out by hand in the comments.

mod support;

use receivables_domain::account::{CustomerAccount, Decision};
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::event::{
    Allocation, AllocationRule, CreditCheckRecord, Event, InvoiceIssued, PaymentReceived,
};
use receivables_domain::ids::{CustomerId, Position};
use receivables_domain::money::Money;
use receivables_domain::payment::PaymentMethod;
use receivables_domain::refusal::{Reason, RefusalCode};
use support::*;

fn allocation(subsidiary_id: &str, invoice_number: &str, amount: Money) -> Allocation {
    Allocation {
        invoice: key(subsidiary_id, invoice_number),
        amount,
    }
}

/// A customer with a limit of 10,000.00 CNY (`limit` sets the policy) and 8,500.00 CNY open:
/// INV-A1 6,000.00 from SUB-A and INV-B1 2,500.00 from SUB-B.
fn customer_at_8500_of_10000(limit: CreditLimitBuilder) -> Scenario {
    given([
        limit.event(),
        invoice("INV-A1").amount(cny("6000.00")).event(),
        invoice("INV-B1").at(SUB_B).amount(cny("2500.00")).event(),
    ])
}

// ---------------------------------------------------------------------------------------------
// Invoices and the credit limit
// ---------------------------------------------------------------------------------------------

#[test]
fn an_invoice_to_a_customer_without_a_credit_limit_is_accepted_unchecked() {
    let mut scenario = given([invoice("INV-0").amount(cny("900000.00")).event()]);

    let recorded = scenario
        .when(invoice("INV-1").amount(cny("250000.00")))
        .then_event(Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: subsidiary(SUB_A),
            invoice_number: number("INV-1"),
            amount: cny("250000.00"),
            issue_date: date("2026-06-01"),
            due_date: date("2026-07-01"),
            terms_days: None,
            payment_terms: None,
            schedule: Vec::new(),
            discount: None,
            over_limit: false,
            credit_check: None,
            consumes: None,
        }));

    assert_eq!(recorded.position, Position::new(2));
    assert_eq!(recorded.envelope.effective_date, date("2026-06-01"));
    // 900,000.00 + 250,000.00
    assert_eq!(
        scenario.account().exposure(currency("CNY")),
        dec("1150000.00")
    );
}

#[test]
fn an_invoice_that_would_exceed_a_block_limit_is_refused_with_the_shortfall() {
    let mut scenario = customer_at_8500_of_10000(credit_limit(cny("10000.00")).block());

    // Exposure before: 6,000.00 + 2,500.00 = 8,500.00 (both subsidiaries count).
    // After INV-A2:     8,500.00 + 2,000.00 = 10,500.00, above 10,000.00 by 500.00.
    let refusal = scenario
        .when(invoice("INV-A2").amount(cny("2000.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);

    assert_eq!(refusal.metadata("limit"), Some("10000.00"));
    assert_eq!(refusal.metadata("exposure"), Some("8500.00"));
    assert_eq!(refusal.metadata("invoice_amount"), Some("2000.00"));
    assert_eq!(refusal.metadata("shortfall"), Some("500.00"));
    assert_eq!(refusal.metadata("currency"), Some("CNY"));
    assert_eq!(refusal.precondition_violations.len(), 1);
    assert_eq!(
        refusal.precondition_violations[0].kind,
        Reason::CreditLimitExceeded
    );
    assert_eq!(
        refusal.precondition_violations[0].subject,
        "customers/C-1/credit_limit"
    );
    assert_eq!(scenario.account().invoice(&key(SUB_A, "INV-A2")), None);
}

#[test]
fn an_invoice_that_takes_exposure_exactly_to_a_block_limit_is_accepted() {
    let mut scenario = customer_at_8500_of_10000(credit_limit(cny("10000.00")).block());

    // 8,500.00 + 1,500.00 = 10,000.00: at the limit, not above it.
    let issued = scenario
        .when(invoice("INV-A2").amount(cny("1500.00")))
        .then_invoice_issued();

    assert!(!issued.over_limit);
    assert_eq!(
        issued.credit_check,
        Some(CreditCheckRecord {
            limit: cny("10000.00"),
            policy: CreditPolicy::Block,
            exposure_after: cny("10000.00"),
            currency_mismatch: false,
            conversions: Vec::new(),
        })
    );
    // One more fen is now above the limit: 10,000.00 + 0.01, shortfall 0.01.
    let refusal = scenario
        .when(invoice("INV-A3").amount(cny("0.01")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    assert_eq!(refusal.metadata("exposure"), Some("10000.00"));
    assert_eq!(refusal.metadata("shortfall"), Some("0.01"));
}

#[test]
fn an_invoice_over_a_warn_limit_is_accepted_and_flagged_with_the_exposure() {
    let mut scenario = customer_at_8500_of_10000(credit_limit(cny("10000.00")).warn());

    // 8,500.00 + 2,000.00 = 10,500.00 > 10,000.00: accepted under WARN, flagged.
    let issued = scenario
        .when(invoice("INV-A2").amount(cny("2000.00")))
        .then_invoice_issued();

    assert!(issued.over_limit);
    assert_eq!(
        issued.credit_check,
        Some(CreditCheckRecord {
            limit: cny("10000.00"),
            policy: CreditPolicy::Warn,
            exposure_after: cny("10500.00"),
            currency_mismatch: false,
            conversions: Vec::new(),
        })
    );
    let on_account = scenario
        .account()
        .invoice(&key(SUB_A, "INV-A2"))
        .expect("the invoice is on the account");
    assert!(on_account.over_limit);
    assert_eq!(
        scenario.account().exposure(currency("CNY")),
        dec("10500.00")
    );
}

#[test]
fn an_invoice_within_a_warn_limit_is_not_flagged() {
    let mut scenario = customer_at_8500_of_10000(credit_limit(cny("10000.00")).warn());

    // 8,500.00 + 1,000.00 = 9,500.00 <= 10,000.00.
    let issued = scenario
        .when(invoice("INV-A2").amount(cny("1000.00")))
        .then_invoice_issued();

    assert!(!issued.over_limit);
    assert_eq!(
        issued.credit_check.map(|check| check.exposure_after),
        Some(cny("9500.00"))
    );
}

#[test]
fn unapplied_cash_reduces_exposure_so_an_invoice_that_would_otherwise_exceed_the_limit_passes() {
    let mut scenario = customer_at_8500_of_10000(credit_limit(cny("10000.00")).block());

    // Without cash: 8,500.00 + 2,000.00 = 10,500.00 > 10,000.00, refused.
    scenario
        .when(invoice("INV-A2").amount(cny("2000.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);

    // SUB-C has no invoices of this customer: all 1,000.00 stay unapplied cash.
    let payment = scenario
        .when(payment(cny("1000.00")).at("SUB-C"))
        .then_payment_received();
    assert_eq!(payment.allocations, Vec::new());
    assert_eq!(payment.unapplied, cny("1000.00"));
    // 8,500.00 - 1,000.00 = 7,500.00
    assert_eq!(scenario.account().exposure(currency("CNY")), dec("7500.00"));

    // With cash: 7,500.00 + 2,000.00 = 9,500.00 <= 10,000.00, accepted.
    let issued = scenario
        .when(invoice("INV-A2").amount(cny("2000.00")))
        .then_invoice_issued();
    assert!(!issued.over_limit);
    assert_eq!(
        issued.credit_check.map(|check| check.exposure_after),
        Some(cny("9500.00"))
    );
}

#[test]
fn a_duplicate_invoice_number_at_the_same_subsidiary_is_refused() {
    let mut scenario = given([invoice("INV-1").event()]);

    let refusal = scenario
        .when(invoice("INV-1").amount(cny("5.00")).issued("2026-06-20"))
        .then_refused(RefusalCode::AlreadyExists, Reason::DuplicateInvoiceNumber);

    assert_eq!(refusal.metadata("subsidiary_id"), Some(SUB_A));
    assert_eq!(refusal.metadata("invoice_number"), Some("INV-1"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

#[test]
fn the_same_invoice_number_at_another_subsidiary_is_another_invoice() {
    let mut scenario = given([invoice("INV-1").event()]);

    scenario
        .when(invoice("INV-1").at(SUB_B).amount(cny("400.00")))
        .then_invoice_issued();

    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(scenario.open(&key(SUB_B, "INV-1")), dec("400.00"));
}

#[test]
fn an_invoice_due_before_it_was_issued_is_refused() {
    let mut scenario = given([]);

    scenario
        .when(invoice("INV-1").issued("2026-06-10").due("2026-06-09"))
        .then_invalid("due_date");
}

#[test]
fn an_invoice_due_on_the_day_it_is_issued_is_accepted() {
    let mut scenario = given([]);

    let issued = scenario
        .when(invoice("INV-1").issued("2026-06-10").due("2026-06-10"))
        .then_invoice_issued();

    assert_eq!(issued.due_date, date("2026-06-10"));
}

#[test]
fn an_invoice_of_zero_is_refused_by_decide_not_left_for_apply_to_reject() {
    let mut scenario = given([]);

    // The rules: amounts > 0. `Money::of` builds any amount, so the type does not guarantee it;
    // what `apply` refuses as a broken log (`amount <= 0`), `decide` must refuse as a command.
    scenario
        .when(invoice("INV-1").amount(Money::of(dec("0"), currency("CNY"))))
        .then_invalid("amount.amount");
}

// ---------------------------------------------------------------------------------------------
// Payments without allocations: oldest due first
// ---------------------------------------------------------------------------------------------

#[test]
fn a_payment_without_allocations_settles_the_receiving_subsidiarys_oldest_due_invoices_first() {
    let mut scenario = given(
        [
            // fall due the same day; A-2 was issued first.
            invoice("A-1")
                .amount(cny("500.00"))
                .issued("2026-05-20")
                .due("2026-06-10"),
            invoice("A-2")
                .amount(cny("1000.00"))
                .issued("2026-05-10")
                .due("2026-06-10"),
            // Issued after on short terms: due first.
            invoice("A-3")
                .amount(cny("300.00"))
                .issued("2026-05-25")
                .due("2026-05-31"),
            // Issued first on long terms: due last.
            invoice("A-4")
                .amount(cny("700.00"))
                .issued("2026-04-15")
                .due("2026-07-15"),
            // Older than all of them, but SUB-B's: a payment to SUB-A does not touch it.
            invoice("B-1")
                .at(SUB_B)
                .amount(cny("200.00"))
                .issued("2026-04-01")
                .due("2026-04-30"),
        ]
        .map(InvoiceBuilder::event),
    );

    // 1,600.00 to SUB-A, in order of due date (not issue date), then issue date:
    //   A-3 due 05-31                 300.00 of 300.00   -> 1,300.00 left
    //   A-2 due 06-10, issued 05-10 1,000.00 of 1,000.00 ->   300.00 left
    //   A-1 due 06-10, issued 05-20   300.00 of 500.00   ->     0.00 left
    //   A-4 due 07-15 (issued 04-15)  nothing
    let payment = scenario
        .when(payment(cny("1600.00")))
        .then_payment_received();

    assert_eq!(payment.allocation_rule, AllocationRule::OldestDueFirst);
    assert_eq!(
        payment.allocations,
        vec![
            allocation(SUB_A, "A-3", cny("300.00")),
            allocation(SUB_A, "A-2", cny("1000.00")),
            allocation(SUB_A, "A-1", cny("300.00")),
        ]
    );
    assert_eq!(payment.unapplied, cny("0.00"));
    assert_eq!(scenario.open(&key(SUB_A, "A-1")), dec("200.00"));
    assert_eq!(scenario.open(&key(SUB_A, "A-2")), dec("0.00"));
    assert_eq!(scenario.open(&key(SUB_A, "A-3")), dec("0.00"));
    assert_eq!(scenario.open(&key(SUB_A, "A-4")), dec("700.00"));
    assert_eq!(scenario.open(&key(SUB_B, "B-1")), dec("200.00"));
    // Open: 200.00 + 700.00 + 200.00 = 1,100.00; no cash.
    assert_eq!(scenario.account().exposure(currency("CNY")), dec("1100.00"));
}

#[test]
fn invoices_due_and_issued_on_the_same_days_are_settled_in_invoice_number_order() {
    let mut scenario = given([
        invoice("INV-2").amount(cny("400.00")).event(),
        invoice("INV-1").amount(cny("400.00")).event(),
        invoice("INV-3").amount(cny("400.00")).event(),
    ]);

    // Same due and issue dates: INV-1 400.00, INV-2 100.00 (500.00 - 400.00).
    let payment = scenario
        .when(payment(cny("500.00")))
        .then_payment_received();

    assert_eq!(
        payment.allocations,
        vec![
            allocation(SUB_A, "INV-1", cny("400.00")),
            allocation(SUB_A, "INV-2", cny("100.00")),
        ]
    );
    assert_eq!(payment.unapplied, cny("0.00"));
}

#[test]
fn a_payment_larger_than_the_receiving_subsidiarys_open_invoices_leaves_the_rest_unapplied() {
    let mut scenario = given([
        invoice("INV-1").amount(cny("1000.00")).event(),
        invoice("INV-2").at(SUB_B).amount(cny("500.00")).event(),
    ]);

    // SUB-A owes 1,000.00; the other 250.00 of 1,250.00 stays on the account as cash.
    let payment = scenario
        .when(payment(cny("1250.00")))
        .then_payment_received();

    assert_eq!(
        payment.allocations,
        vec![allocation(SUB_A, "INV-1", cny("1000.00"))]
    );
    assert_eq!(payment.unapplied, cny("250.00"));
    assert_eq!(scenario.open(&key(SUB_B, "INV-2")), dec("500.00"));
    assert_eq!(
        scenario.account().unapplied_cash(currency("CNY")),
        dec("250.00")
    );
    // 500.00 open at SUB-B - 250.00 cash = 250.00
    assert_eq!(scenario.account().exposure(currency("CNY")), dec("250.00"));
}

#[test]
fn a_payment_in_a_currency_no_open_invoice_is_in_stays_unapplied() {
    let mut scenario = given([invoice("INV-1").amount(cny("1000.00")).event()]);

    let payment = scenario.when(payment(usd("80.00"))).then_payment_received();

    assert_eq!(payment.allocations, Vec::new());
    assert_eq!(payment.unapplied, usd("80.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
    assert_eq!(scenario.account().exposure(currency("USD")), dec("-80.00"));
}

#[test]
fn a_payment_records_what_was_received_as_it_was_received() {
    let mut scenario = given([]);

    let recorded = scenario
        .when(payment(cny("42.00")).at(SUB_B).received("2026-06-28"))
        .then_event(Event::PaymentReceived(PaymentReceived {
            subsidiary_id: subsidiary(SUB_B),
            amount: cny("42.00"),
            received_date: date("2026-06-28"),
            method: PaymentMethod::BankTransfer,
            reference: "BANK-REF-0001".to_owned(),
            allocation_rule: AllocationRule::OldestDueFirst,
            allocations: Vec::new(),
            unapplied: cny("42.00"),
        }));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-28"));
    assert_eq!(recorded.envelope.subsidiary_id, Some(subsidiary(SUB_B)));
}

#[test]
fn a_payment_received_more_than_a_day_ahead_of_the_service_is_refused() {
    let mut scenario = given([invoice("INV-1").event()]);

    // Today is 2026-06-30; up to 2026-07-01 is allowed for subsidiaries ahead of UTC.
    scenario
        .when(payment(cny("100.00")).received("2026-07-02"))
        .then_invalid("received_date");
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

#[test]
fn a_payment_received_tomorrow_in_utc_is_accepted() {
    let mut scenario = given([invoice("INV-1").event()]);

    let payment = scenario
        .when(payment(cny("100.00")).received("2026-07-01"))
        .then_payment_received();

    assert_eq!(payment.received_date, date("2026-07-01"));
}

// ---------------------------------------------------------------------------------------------
// Payments with explicit allocations
// ---------------------------------------------------------------------------------------------

#[test]
fn explicit_allocations_are_recorded_as_instructed_with_the_rest_unapplied() {
    let mut scenario = given([
        invoice("INV-1")
            .amount(cny("1000.00"))
            .due("2026-06-05")
            .event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);

    // The payer names INV-2 although INV-1 is older: 500.00 + 120.00 = 620.00 of 700.00,
    // 80.00 unapplied.
    let payment = scenario
        .when(
            payment(cny("700.00"))
                .allocate(key(SUB_A, "INV-2"), cny("500.00"))
                .allocate(key(SUB_A, "INV-1"), cny("120.00")),
        )
        .then_payment_received();

    assert_eq!(payment.allocation_rule, AllocationRule::Explicit);
    assert_eq!(
        payment.allocations,
        vec![
            allocation(SUB_A, "INV-2", cny("500.00")),
            allocation(SUB_A, "INV-1", cny("120.00")),
        ]
    );
    assert_eq!(payment.unapplied, cny("80.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("880.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-2")), dec("0.00"));
    // 880.00 open - 80.00 cash
    assert_eq!(scenario.account().exposure(currency("CNY")), dec("800.00"));
}

#[test]
fn an_explicit_allocation_to_an_unknown_invoice_is_refused() {
    let mut scenario = given([invoice("INV-1").event()]);

    let refusal = scenario
        .when(
            payment(cny("300.00"))
                .allocate(key(SUB_A, "INV-1"), cny("100.00"))
                .allocate(key(SUB_A, "INV-9"), cny("200.00")),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);

    assert_eq!(refusal.precondition_violations.len(), 1);
    assert_eq!(
        refusal.precondition_violations[0].subject,
        "invoices/SUB-A/INV-9"
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("1000.00"));
}

#[test]
fn an_explicit_allocation_beyond_the_open_amount_is_refused() {
    let mut scenario = given([invoice("INV-1").amount(cny("1000.00")).event()]);
    // 400.00 paid already: 600.00 open.
    scenario
        .when(payment(cny("400.00")))
        .then_payment_received();

    let refusal = scenario
        .when(payment(cny("700.00")).allocate(key(SUB_A, "INV-1"), cny("600.01")))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::AllocationExceedsOpenAmount,
        );
    assert_eq!(
        refusal.precondition_violations[0].subject,
        "invoices/SUB-A/INV-1"
    );

    // Exactly the open amount settles it; 700.00 - 600.00 = 100.00 unapplied.
    let payment = scenario
        .when(payment(cny("700.00")).allocate(key(SUB_A, "INV-1"), cny("600.00")))
        .then_payment_received();
    assert_eq!(payment.unapplied, cny("100.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));
}

#[test]
fn explicit_allocations_adding_up_to_more_than_the_payment_are_refused() {
    let mut scenario = given([invoice("INV-1").event(), invoice("INV-2").event()]);

    // 300.00 + 200.01 = 500.01 > 500.00
    scenario
        .when(
            payment(cny("500.00"))
                .allocate(key(SUB_A, "INV-1"), cny("300.00"))
                .allocate(key(SUB_A, "INV-2"), cny("200.01")),
        )
        .then_invalid("allocations");
}

#[test]
fn an_explicit_allocation_in_another_currency_than_the_payment_is_refused() {
    let mut scenario = given([invoice("INV-1").event()]);

    scenario
        .when(payment(cny("500.00")).allocate(key(SUB_A, "INV-1"), usd("50.00")))
        .then_invalid("allocations[0].amount.currency");
}

#[test]
fn an_explicit_allocation_to_an_invoice_in_another_currency_is_refused() {
    let mut scenario = given([invoice("INV-U").amount(usd("100.00")).event()]);

    let refusal = scenario
        .when(payment(cny("100.00")).allocate(key(SUB_A, "INV-U"), cny("100.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CurrencyMismatch);

    assert_eq!(
        refusal.precondition_violations[0].subject,
        "invoices/SUB-A/INV-U"
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-U")), dec("100.00"));
}

#[test]
fn the_same_invoice_cannot_be_allocated_to_twice_in_one_payment() {
    let mut scenario = given([invoice("INV-1").event()]);

    // 100.00 + 100.00 would fit in both the payment and the open amount: refused anyway.
    scenario
        .when(
            payment(cny("200.00"))
                .allocate(key(SUB_A, "INV-1"), cny("100.00"))
                .allocate(key(SUB_A, "INV-1"), cny("100.00")),
        )
        .then_invalid("allocations[1].invoice");
}

#[test]
fn an_explicit_allocation_may_settle_another_subsidiarys_invoice_of_the_same_customer() {
    let mut scenario = given([
        invoice("INV-1").at(SUB_B).amount(cny("800.00")).event(),
        invoice("INV-1").amount(cny("300.00")).event(),
    ]);

    // Received by SUB-A, paying SUB-B's INV-1 in full; 900.00 - 800.00 = 100.00 unapplied.
    let payment = scenario
        .when(payment(cny("900.00")).allocate(key(SUB_B, "INV-1"), cny("800.00")))
        .then_payment_received();

    assert_eq!(payment.subsidiary_id, subsidiary(SUB_A));
    assert_eq!(
        payment.allocations,
        vec![allocation(SUB_B, "INV-1", cny("800.00"))]
    );
    assert_eq!(payment.unapplied, cny("100.00"));
    assert_eq!(scenario.open(&key(SUB_B, "INV-1")), dec("0.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("300.00"));
}

#[test]
fn a_settled_invoice_cannot_be_allocated_to_again() {
    let mut scenario = given([invoice("INV-1").amount(cny("1000.00")).event()]);
    scenario
        .when(payment(cny("1000.00")))
        .then_payment_received();
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("0.00"));

    scenario
        .when(payment(cny("10.00")).allocate(key(SUB_A, "INV-1"), cny("0.01")))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::AllocationExceedsOpenAmount,
        );

    // Nor does oldest due first pick it: everything stays unapplied.
    let payment = scenario.when(payment(cny("10.00"))).then_payment_received();
    assert_eq!(payment.allocations, Vec::new());
    assert_eq!(payment.unapplied, cny("10.00"));
}

// ---------------------------------------------------------------------------------------------
// Promises to pay
// ---------------------------------------------------------------------------------------------

/// 1,300.00 owed: 1,000.00 at SUB-A and 500.00 at SUB-B, less 200.00 cash received by SUB-C.
fn customer_owing_1300() -> Scenario {
    given([
        invoice("INV-1").amount(cny("1000.00")).event(),
        invoice("INV-2").at(SUB_B).amount(cny("500.00")).event(),
        payment(cny("200.00")).at("SUB-C").event(),
    ])
}

#[test]
fn a_promise_above_the_balance_is_refused() {
    let mut scenario = customer_owing_1300();

    // 1,000.00 + 500.00 - 200.00 = 1,300.00 owed; 1,300.01 is more.
    let refusal = scenario.when(promise(cny("1300.01"))).then_refused(
        RefusalCode::FailedPrecondition,
        Reason::PromiseExceedsBalance,
    );

    assert_eq!(refusal.metadata("balance"), Some("1300.00"));
    assert_eq!(refusal.metadata("currency"), Some("CNY"));
    assert_eq!(
        refusal.precondition_violations[0].subject,
        "customers/C-1/balance"
    );
    assert!(scenario.account().promises().is_empty());
}

#[test]
fn a_promise_of_the_whole_balance_is_accepted() {
    let mut scenario = customer_owing_1300();

    let promise = scenario.when(promise(cny("1300.00"))).then_promise_to_pay();

    assert_eq!(promise.amount, cny("1300.00"));
    assert_eq!(scenario.account().promises().len(), 1);
}

#[test]
fn a_promise_when_nothing_is_owed_is_refused() {
    // Nothing on the account at all.
    given([])
        .when(promise(cny("1.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::NothingOwed);

    // 1,000.00 invoiced, 1,000.00 paid.
    let mut settled = given([invoice("INV-1").event()]);
    settled
        .when(payment(cny("1000.00")))
        .then_payment_received();
    settled
        .when(promise(cny("1.00")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::NothingOwed);

    // 1,000.00 invoiced, 1,500.00 cash at another subsidiary: the customer is in credit.
    given([
        invoice("INV-1").event(),
        payment(cny("1500.00")).at(SUB_B).event(),
    ])
    .when(promise(cny("1.00")))
    .then_refused(RefusalCode::FailedPrecondition, Reason::NothingOwed);
}

#[test]
fn a_promise_naming_an_unknown_invoice_is_refused() {
    let mut scenario = customer_owing_1300();

    let refusal = scenario
        .when(promise(cny("100.00")).covering(key(SUB_A, "INV-9")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);

    assert_eq!(
        refusal.precondition_violations[0].subject,
        "invoices/SUB-A/INV-9"
    );
}

#[test]
fn a_promise_naming_a_settled_invoice_is_refused() {
    let mut scenario = given([
        invoice("INV-1").amount(cny("300.00")).event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ]);
    scenario
        .when(payment(cny("300.00")).allocate(key(SUB_A, "INV-1"), cny("300.00")))
        .then_payment_received();

    scenario
        .when(promise(cny("100.00")).covering(key(SUB_A, "INV-1")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);
}

#[test]
fn a_promise_covering_invoices_cannot_exceed_what_they_still_owe() {
    let mut scenario = customer_owing_1300();
    // 400.00 of INV-1 paid: it still owes 600.00 (the account 900.00).
    scenario
        .when(payment(cny("400.00")).allocate(key(SUB_A, "INV-1"), cny("400.00")))
        .then_payment_received();

    let refusal = scenario
        .when(promise(cny("600.01")).covering(key(SUB_A, "INV-1")))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::PromiseExceedsBalance,
        );
    assert_eq!(refusal.metadata("balance"), Some("600.00"));

    let promise = scenario
        .when(promise(cny("600.00")).covering(key(SUB_A, "INV-1")))
        .then_promise_to_pay();
    assert_eq!(promise.invoices, vec![key(SUB_A, "INV-1")]);
}

#[test]
fn a_promise_to_pay_before_the_day_it_was_made_is_refused() {
    let mut scenario = customer_owing_1300();

    scenario
        .when(
            promise(cny("100.00"))
                .made_on("2026-06-30")
                .promised_for("2026-06-29"),
        )
        .then_invalid("promised_date");
}

#[test]
fn an_accepted_promise_is_identified_by_the_id_of_its_command() {
    let mut scenario = customer_owing_1300();
    let id = command_id();

    let recorded = scenario
        .when_command(
            id,
            promise(cny("500.00"))
                .at(SUB_B)
                .made_on("2026-06-29")
                .promised_for("2026-06-29"),
        )
        .then_accepted();

    let Event::PromiseToPay(promise) = &recorded.envelope.event else {
        panic!("expected PromiseToPay, got {:?}", recorded.envelope.event);
    };
    assert_eq!(promise.promise_id.as_uuid(), id.as_uuid());
    assert_eq!(promise.subsidiary_id, subsidiary(SUB_B));
    assert_eq!(recorded.envelope.effective_date, date("2026-06-29"));
    let on_account = &scenario.account().promises()[0];
    assert_eq!(on_account.promise_id, promise.promise_id);
    assert_eq!(on_account.subsidiary_id, subsidiary(SUB_B));
    assert_eq!(on_account.amount, cny("500.00"));
    assert_eq!(on_account.promised_date, date("2026-06-29"));
}

// ---------------------------------------------------------------------------------------------
// Credit limit changes
// ---------------------------------------------------------------------------------------------

#[test]
fn a_credit_limit_change_without_a_reason_is_refused() {
    let mut scenario = given([]);

    scenario
        .when(credit_limit(cny("5000.00")).reason(""))
        .then_invalid("reason");
    scenario
        .when(credit_limit(cny("5000.00")).reason("  \n "))
        .then_invalid("reason");
    assert_eq!(scenario.account().credit(), None);
}

#[test]
fn a_credit_limit_change_applies_to_the_next_invoice() {
    let mut scenario = given([invoice("INV-1").amount(cny("4000.00")).event()]);

    let recorded = scenario
        .when(credit_limit(cny("5000.00")).grade(CreditGrade::C))
        .then_accepted();
    assert_eq!(recorded.envelope.subsidiary_id, None);
    // Without an effective date the limit applies from the day it is recorded.
    assert_eq!(recorded.envelope.effective_date, date(TODAY));
    let terms = scenario.account().credit().expect("a limit is set");
    assert_eq!(
        (terms.limit, terms.policy, terms.grade),
        (cny("5000.00"), CreditPolicy::Block, CreditGrade::C)
    );

    // 4,000.00 + 1,000.01 = 5,000.01 > 5,000.00 by 0.01.
    let refusal = scenario
        .when(invoice("INV-2").amount(cny("1000.01")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    assert_eq!(refusal.metadata("shortfall"), Some("0.01"));
}

#[test]
fn a_credit_limit_change_with_an_effective_date_takes_effect_that_day() {
    let mut scenario = given([]);

    let recorded = scenario
        .when(credit_limit(cny("5000.00")).effective("2026-07-01"))
        .then_accepted();

    assert_eq!(recorded.envelope.effective_date, date("2026-07-01"));
}

// ---------------------------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------------------------

#[test]
fn resubmitting_an_accepted_command_returns_its_first_event() {
    let mut scenario = given([invoice("INV-1").event()]);
    let id = command_id();

    let first = scenario
        .when_command(id, payment(cny("400.00")))
        .then_accepted();
    let again = scenario
        .when_command(id, payment(cny("400.00")))
        .then_already_accepted();

    assert_eq!(again, first);
    // Paid once, not twice.
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("600.00"));
}

#[test]
fn a_retried_invoice_is_answered_with_its_first_event_not_refused_as_a_duplicate_number() {
    let mut scenario = given([]);
    let id = command_id();

    let first = scenario.when_command(id, invoice("INV-1")).then_accepted();
    let again = scenario
        .when_command(id, invoice("INV-1"))
        .then_already_accepted();
    assert_eq!(again, first);

    // The same invoice under another command id is a second invoice with the same number.
    scenario
        .when(invoice("INV-1"))
        .then_refused(RefusalCode::AlreadyExists, Reason::DuplicateInvoiceNumber);
}

#[test]
fn a_retry_after_a_restart_is_recognised_from_the_log() {
    let mut scenario = given([invoice("INV-1").event()]);
    let id = command_id();
    let first = scenario
        .when_command(id, payment(cny("400.00")))
        .then_accepted();

    // A new process rebuilds the account from the log.
    let log = scenario.history().to_vec();
    assert_eq!(log.last(), Some(&first));
    let rebuilt = CustomerAccount::from_history(customer_id(), &log).expect("a valid log");
    let command = receivables_domain::command::Command {
        id,
        body: payment(cny("400.00")).into_body(),
    };

    assert_eq!(
        rebuilt.decide(&command, &context()),
        Ok(Decision::AlreadyAccepted(first.position))
    );
}

#[test]
fn reusing_a_command_id_for_other_content_is_refused() {
    let mut scenario = given([invoice("INV-1").event()]);
    let id = command_id();
    let first = scenario
        .when_command(id, payment(cny("400.00")))
        .then_accepted();

    let refusal = scenario
        .when_command(id, payment(cny("400.01")))
        .then_refused(RefusalCode::AlreadyExists, Reason::CommandIdReused);

    assert_eq!(
        refusal.metadata("command_id"),
        Some(id.to_string().as_str())
    );
    assert_eq!(
        refusal.metadata("position"),
        Some(first.position.to_string().as_str())
    );
    assert_eq!(scenario.open(&key(SUB_A, "INV-1")), dec("600.00"));
}

// ---------------------------------------------------------------------------------------------
// apply: the log is checked as it is read
// ---------------------------------------------------------------------------------------------

#[test]
fn apply_rejects_an_event_of_another_customer() {
    let mut account = given([invoice("INV-1").event()]).into_account();
    let before = account.clone();
    let mut event = recorded(invoice("INV-2").event(), 2);
    event.envelope.customer_id = CustomerId::parse("C-2").expect("a valid customer id");

    let violation = account.apply(&event).expect_err("another customer's event");

    assert_eq!(violation.customer_id, customer_id());
    assert_eq!(violation.position, Position::new(2));
    assert!(violation.problem.contains("C-2"), "{violation}");
    assert_eq!(account, before);
}

#[test]
fn apply_rejects_an_event_at_a_position_not_after_the_accounts() {
    let mut account = given([invoice("INV-1").event(), invoice("INV-2").event()]).into_account();
    let before = account.clone();

    for position in [0, 1, 2] {
        let event = recorded(invoice("INV-3").event(), position);
        let violation = account
            .apply(&event)
            .expect_err("an event at or before the account's position");
        assert_eq!(violation.position, Position::new(position));
        assert_eq!(account, before);
    }

    // Positions may have gaps (the stream holds other customers too).
    let next = recorded_after(&account, invoice("INV-3").event(), 7);
    account
        .apply(&next)
        .expect("an event after the account's position");
    assert_eq!(account.position(), Position::new(7));
    assert_eq!(account.event_count(), 3);
}

#[test]
fn apply_rejects_a_payment_that_allocates_more_than_the_open_amount_and_changes_nothing() {
    let mut account = given([
        invoice("INV-1").amount(cny("1000.00")).event(),
        invoice("INV-2").amount(cny("500.00")).event(),
    ])
    .into_account();
    let before = account.clone();

    // INV-1 600.00 is fine, INV-2 500.01 is 0.01 more than it owes:
    // 600.00 + 500.01 = 1,100.01 paid, nothing unapplied, so the payment itself adds up.
    let over_one = recorded_after(
        &account,
        payment(cny("1100.01"))
            .allocate(key(SUB_A, "INV-1"), cny("600.00"))
            .allocate(key(SUB_A, "INV-2"), cny("500.01"))
            .event(),
        3,
    );
    let violation = account
        .apply(&over_one)
        .expect_err("over-allocated payment");
    assert!(violation.problem.contains("INV-2"), "{violation}");
    assert_eq!(account, before);

    // Twice to INV-1, 600.00 + 400.01 = 1,000.01 of 1,000.00 open.
    let over_in_total = recorded_after(
        &account,
        payment(cny("1000.01"))
            .allocate(key(SUB_A, "INV-1"), cny("600.00"))
            .allocate(key(SUB_A, "INV-1"), cny("400.01"))
            .event(),
        3,
    );
    account
        .apply(&over_in_total)
        .expect_err("over-allocated payment");
    assert_eq!(account, before);
    assert_eq!(
        account.invoice(&key(SUB_A, "INV-1")).map(|i| i.open),
        Some(dec("1000.00"))
    );
    assert_eq!(account.unapplied_cash(currency("CNY")), dec("0"));
}

#[test]
fn apply_rejects_a_payment_whose_parts_do_not_add_up_to_it() {
    let mut account = given([invoice("INV-1").event()]).into_account();
    let before = account.clone();

    // 300.00 allocated + 100.00 unapplied = 400.00, but the payment says 500.00.
    let Event::PaymentReceived(mut broken) = payment(cny("500.00"))
        .allocate(key(SUB_A, "INV-1"), cny("300.00"))
        .event()
    else {
        unreachable!("a payment builder builds payments");
    };
    broken.unapplied = cny("100.00");

    account
        .apply(&recorded(Event::PaymentReceived(broken), 2))
        .expect_err("a payment that does not add up");
    assert_eq!(account, before);
}

#[test]
fn apply_rejects_an_allocation_to_an_unknown_invoice() {
    let mut account = given([invoice("INV-1").event()]).into_account();
    let before = account.clone();

    let event = recorded(
        payment(cny("100.00"))
            .allocate(key(SUB_B, "INV-1"), cny("100.00"))
            .event(),
        2,
    );
    account.apply(&event).expect_err("unknown invoice");
    assert_eq!(account, before);
}

#[test]
fn apply_rejects_a_payment_allocated_in_another_currency_than_it_was_paid_in() {
    let mut account = given([invoice("INV-U").amount(usd("100.00")).event()]).into_account();
    let before = account.clone();

    // 100.00 CNY received, "100.00 USD" of it applied to a USD invoice, 0.00 CNY unapplied: the
    // figures add up only if CNY and USD are the same money.
    let event = recorded(
        Event::PaymentReceived(PaymentReceived {
            subsidiary_id: subsidiary(SUB_A),
            amount: cny("100.00"),
            received_date: date(TODAY),
            method: PaymentMethod::Alipay,
            reference: "2026063012345".to_owned(),
            allocation_rule: AllocationRule::Explicit,
            allocations: vec![allocation(SUB_A, "INV-U", usd("100.00"))],
            unapplied: cny("0.00"),
        }),
        2,
    );

    let result = account.apply(&event);
    assert!(result.is_err(), "a CNY payment settled a USD invoice");
    assert_eq!(account, before);
}

#[test]
fn a_payment_cannot_be_allocated_to_an_invoice_issued_after_it_was_received() {
    let mut scenario = given([invoice("INV-LATE")
        .amount(cny("500.00"))
        .issued("2026-06-20")
        .due("2026-07-20")
        .event()]);

    // Received 06-10, ten days before INV-LATE existed.
    let refusal = scenario
        .when(
            payment(cny("500.00"))
                .received("2026-06-10")
                .allocate(key(SUB_A, "INV-LATE"), cny("500.00")),
        )
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::AllocationBeforeInvoiceDate,
        );
    assert_eq!(
        refusal.precondition_violations[0].subject,
        "invoices/SUB-A/INV-LATE"
    );

    // Without instructions the early payment passes INV-LATE by and stays unapplied cash.
    let early = scenario
        .when(payment(cny("500.00")).received("2026-06-10"))
        .then_payment_received();
    assert!(early.allocations.is_empty());
    assert_eq!(early.unapplied, cny("500.00"));
    assert_eq!(scenario.open(&key(SUB_A, "INV-LATE")), dec("500.00"));

    // Received on the issue date itself, it may pay the invoice.
    let on_the_day = scenario
        .when(payment(cny("200.00")).received("2026-06-20"))
        .then_payment_received();
    assert_eq!(
        on_the_day.allocations,
        vec![allocation(SUB_A, "INV-LATE", cny("200.00"))]
    );
}

// ---------------------------------------------------------------------------------------------
// apply: the hash chain
// ---------------------------------------------------------------------------------------------

#[test]
fn apply_rejects_an_event_changed_after_it_was_sealed() {
    let mut account = given([invoice("INV-1").event()]).into_account();
    let before = account.clone();
    let mut event = recorded_after(&account, invoice("INV-2").amount(cny("500.00")).event(), 2);
    // The amount is changed after sealing: 500.00 becomes 5.00.
    if let Event::InvoiceIssued(issued) = &mut event.envelope.event {
        issued.amount = cny("5.00");
    }

    let violation = account.apply(&event).expect_err("a changed event");

    assert!(violation.problem.contains("hashes to"), "{violation}");
    assert_eq!(account, before);
}

#[test]
fn apply_rejects_an_event_not_chained_to_the_last_one() {
    let mut account = given([invoice("INV-1").event()]).into_account();
    let before = account.clone();
    // Sealed, but chained to nothing (as if the first event of the customer): the previous
    // hash is the genesis hash, not INV-1's.
    let mut event = recorded(invoice("INV-2").event(), 2);
    event.envelope.sequence = 2;
    receivables_domain::chain::seal(&mut event.envelope).expect("sealed");

    let violation = account.apply(&event).expect_err("an unchained event");

    assert!(violation.problem.contains("prev_hash"), "{violation}");
    assert_eq!(account, before);
}

#[test]
fn a_decided_event_applies_as_it_would_read_back_and_its_link_is_still_checked() {
    let account = given([invoice("INV-1").event()]).into_account();
    // Given the next event, decided and sealed after the account
    let event = recorded_after(&account, invoice("INV-2").amount(cny("500.00")).event(), 2);
    // When the account applies it as its own decided event, and another copy applies it as
    // read back from the log, then both are the same account, of two events
    let mut decided = account.clone();
    decided.apply_decided(&event).expect("its own event");
    let mut read_back = account.clone();
    read_back.apply(&event).expect("the same event read back");
    assert_eq!(decided, read_back);
    assert_eq!(decided.event_count(), 2);
    // And an event chained to nothing is refused all the same
    let mut unchained = recorded(invoice("INV-3").event(), 3);
    unchained.envelope.sequence = 2;
    receivables_domain::chain::seal(&mut unchained.envelope).expect("sealed");
    let mut again = account.clone();
    let violation = again
        .apply_decided(&unchained)
        .expect_err("an unchained event");
    assert!(violation.problem.contains("prev_hash"), "{violation}");
    assert_eq!(again, account);
}

#[test]
fn apply_rejects_a_gap_in_the_customers_sequence() {
    let mut account = given([invoice("INV-1").event()]).into_account();
    let before = account.clone();
    let mut event = recorded_after(&account, invoice("INV-2").event(), 2);
    // Number 3 after number 1: number 2 is missing.
    event.envelope.sequence = 3;
    receivables_domain::chain::seal(&mut event.envelope).expect("sealed");

    let violation = account.apply(&event).expect_err("a gap");

    assert!(
        violation.problem.contains("sequence 3, not 2"),
        "{violation}"
    );
    assert_eq!(account, before);
}

#[test]
fn a_chain_verifier_names_the_first_broken_link() {
    use receivables_domain::chain::{Break, ChainVerifier};
    let scenario = given([
        invoice("INV-1").event(),
        invoice("INV-2").event(),
        invoice("INV-3").event(),
    ]);
    let log = scenario.history().to_vec();

    let mut clean = ChainVerifier::whole_log();
    for event in &log {
        clean
            .check(event.position, &event.envelope)
            .expect("a clean log");
    }
    assert_eq!(clean.checked(), 3);

    // The second event removed: the third is out of place in the log and in its chain.
    let mut verifier = ChainVerifier::whole_log();
    verifier
        .check(log[0].position, &log[0].envelope)
        .expect("first");
    let broken = verifier
        .check(log[2].position, &log[2].envelope)
        .expect_err("a gap");
    assert_eq!(
        (broken.kind, broken.position),
        (Break::PositionGap, Position::new(3))
    );

    // The same walk over part of the log (positions may skip): the chain still breaks.
    let mut verifier = ChainVerifier::part_of_log();
    verifier
        .check(log[0].position, &log[0].envelope)
        .expect("first");
    let broken = verifier
        .check(log[2].position, &log[2].envelope)
        .expect_err("a broken chain");
    assert_eq!(
        (broken.kind, broken.position),
        (Break::PreviousHashMismatch, Position::new(3))
    );

    // The second event changed: its hash no longer matches.
    let mut changed = log[1].clone();
    changed.envelope.effective_date = date("2026-01-02");
    let mut verifier = ChainVerifier::whole_log();
    verifier
        .check(log[0].position, &log[0].envelope)
        .expect("first");
    let broken = verifier
        .check(changed.position, &changed.envelope)
        .expect_err("a changed event");
    assert_eq!(
        (broken.kind, broken.position),
        (Break::HashMismatch, Position::new(2))
    );
}
