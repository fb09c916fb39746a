//! Balance confirmations, one rule per test: given the customer's history, when it confirms its
//! balance at the end of a day, then the event records what it confirmed and the balance the
//! account held for that day (open invoices less money on account), worked out by hand.

mod support;

use receivables_domain::account::CustomerAccount;
use receivables_domain::account::balance_confirmation::{BalanceConfirmed, ConfirmBalance};
use receivables_domain::command::CommandBody;
use receivables_domain::event::Event;
use receivables_domain::money::Money;
use support::*;

fn confirm(as_of: &str, confirmed: Money) -> CommandBody {
    CommandBody::ConfirmBalance(ConfirmBalance {
        as_of: date(as_of),
        confirmed,
        confirmed_by: person("Li Na"),
        note: "statement of June".to_owned(),
    })
}

fn confirmed_event(as_of: &str, confirmed: Money, balance: Money) -> Event {
    Event::BalanceConfirmed(BalanceConfirmed {
        as_of: date(as_of),
        confirmed,
        balance,
        confirmed_by: person("Li Na"),
        note: "statement of June".to_owned(),
    })
}

/// INV-1 1,000.00 issued 06-01 and a payment of 400.00 to it received 06-10.
fn invoice_partly_paid() -> Scenario {
    given([
        invoice("INV-1").event(),
        payment(cny("400.00"))
            .received("2026-06-10")
            .allocate(key(SUB_A, "INV-1"), cny("400.00"))
            .event(),
    ])
}

#[test]
fn a_confirmation_that_agrees_records_the_balance_held_and_no_difference() {
    let mut scenario = invoice_partly_paid();

    // 06-30: 1,000.00 - 400.00 = 600.00 owed, nothing on account.
    let recorded = scenario
        .when(confirm("2026-06-30", cny("600.00")))
        .then_event(confirmed_event("2026-06-30", cny("600.00"), cny("600.00")));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-30"));
    assert_eq!(recorded.envelope.subsidiary_id, None);
}

#[test]
fn the_balance_is_the_one_of_the_day_confirmed_not_of_today() {
    let mut scenario = invoice_partly_paid();

    // 06-05: the payment of 06-10 had not been received: 1,000.00 owed.
    scenario
        .when(confirm("2026-06-05", cny("1000.00")))
        .then_event(confirmed_event(
            "2026-06-05",
            cny("1000.00"),
            cny("1000.00"),
        ));
}

#[test]
fn a_confirmation_that_differs_is_recorded_with_its_difference() {
    let mut scenario = invoice_partly_paid();

    let recorded = scenario
        .when(confirm("2026-06-30", cny("550.00")))
        .then_event(confirmed_event("2026-06-30", cny("550.00"), cny("600.00")));

    let Event::BalanceConfirmed(event) = &recorded.envelope.event else {
        unreachable!()
    };
    // 550.00 - 600.00.
    assert_eq!(event.difference(), dec("-50.00"));
}

#[test]
fn money_on_account_makes_the_balance_negative() {
    // INV-1 1,000.00 and 1,500.00 received on account on 06-10: the group owes 500.00.
    let mut scenario = given([
        invoice("INV-1").event(),
        payment(cny("1500.00"))
            .received("2026-06-10")
            .on_account()
            .event(),
    ]);

    let owed_to_it = Money::of(dec("-500.00"), currency("CNY"));
    scenario
        .when(confirm("2026-06-30", owed_to_it))
        .then_event(confirmed_event("2026-06-30", owed_to_it, owed_to_it));
}

#[test]
fn a_currency_the_customer_has_nothing_in_has_a_zero_balance() {
    let mut scenario = invoice_partly_paid();

    scenario
        .when(confirm("2026-06-30", usd("0.00")))
        .then_event(confirmed_event("2026-06-30", usd("0.00"), usd("0.00")));
}

#[test]
fn a_confirmation_changes_nothing_the_account_decides_on() {
    let mut scenario = invoice_partly_paid();
    let before = scenario.account().state().clone();

    scenario
        .when(confirm("2026-06-30", cny("100.00")))
        .then_accepted();

    assert_eq!(scenario.account().state(), &before);
}

#[test]
fn a_day_after_the_service_date_plus_one_is_refused_naming_as_of() {
    let mut scenario = invoice_partly_paid();

    // The decision is made on 2026-06-30; a day that has not ended cannot be confirmed, and
    // 07-02 is beyond the one day ahead every business date is allowed.
    scenario
        .when(confirm("2026-07-02", cny("600.00")))
        .then_invalid("as_of");
}

#[test]
fn an_overlong_note_is_refused_naming_it() {
    let mut scenario = invoice_partly_paid();
    let CommandBody::ConfirmBalance(mut command) = confirm("2026-06-30", cny("600.00")) else {
        unreachable!()
    };
    command.note = "x".repeat(1_001);

    scenario
        .when(CommandBody::ConfirmBalance(command))
        .then_invalid("note");
}

#[test]
fn a_retried_confirmation_is_answered_with_its_first_event() {
    let mut scenario = invoice_partly_paid();
    let id = command_id();
    let first = scenario
        .when_command(id, confirm("2026-06-30", cny("600.00")))
        .then_accepted();

    let again = scenario
        .when_command(id, confirm("2026-06-30", cny("600.00")))
        .then_already_accepted();

    assert_eq!(again, first);
}

#[test]
fn a_confirmation_read_back_with_another_balance_breaks_the_invariants() {
    // The log says the account held 700.00 on 06-30; it held 600.00.
    let scenario = invoice_partly_paid();
    let mut account: CustomerAccount = scenario.into_account();
    let position = account.position().get() + 1;
    let forged = recorded_after(
        &account,
        confirmed_event("2026-06-30", cny("600.00"), cny("700.00")),
        position,
    );

    let violation = account.apply(&forged).expect_err("a forged balance");

    assert!(
        violation.problem.contains("the account held 600.00"),
        "{violation}"
    );
    assert_eq!(account.position().get(), position - 1);
}
