//! Credit at order time, one rule per test: credit reserved for sales orders, consumed by their
//! invoices and released; reservations in the exposure until they expire; the overdue hold; and
//! the credit check an order system asks for without appending anything. Given the account's
//! events, when a command is decided, then this event or this refusal. Every figure is worked
//! out by hand in the comments.
//!
//! The support module decides on the business date 2026-06-30; the customer's limit is
//! 10,000.00 CNY unless a test says otherwise.

mod support;

use receivables_domain::account::credit_check::{CreditDecision, assess};
use receivables_domain::account::credit_reservation::{
    CreditReleased, CreditReserved, ReleaseCredit, ReservationConsumed, ReserveCredit,
};
use receivables_domain::command::CommandBody;
use receivables_domain::event::Event;
use receivables_domain::exchange::{ExchangeRate, ExchangeRates, Rate};
use receivables_domain::ids::{OrderKey, OrderNumber};
use receivables_domain::money::Money;
use receivables_domain::refusal::{Reason, RefusalCode};
use support::*;

fn order(text: &str) -> OrderNumber {
    OrderNumber::parse(text).expect("an order number")
}

fn order_key(subsidiary_id: &str, number: &str) -> OrderKey {
    OrderKey {
        subsidiary_id: subsidiary(subsidiary_id),
        order_number: order(number),
    }
}

/// `SUB-A` reserves `amount` for `number` on `on`, until `expires`.
fn reserve(number: &str, amount: Money, on: &str, expires: &str) -> ReserveCredit {
    ReserveCredit {
        subsidiary_id: subsidiary(SUB_A),
        order_number: order(number),
        amount,
        reserved_on: date(on),
        expires_on: date(expires),
    }
}

/// The event of a reservation accepted without a limit to check.
fn reserved(number: &str, amount: Money, on: &str, expires: &str) -> Event {
    let command = reserve(number, amount, on, expires);
    Event::CreditReserved(CreditReserved {
        subsidiary_id: command.subsidiary_id,
        order_number: command.order_number,
        amount: command.amount,
        reserved_on: command.reserved_on,
        expires_on: command.expires_on,
        over_limit: false,
        credit_check: None,
    })
}

fn release(number: &str, amount: Option<Money>, on: &str) -> ReleaseCredit {
    ReleaseCredit {
        subsidiary_id: subsidiary(SUB_A),
        order_number: order(number),
        amount,
        released_on: date(on),
        reason: "order cancelled".to_owned(),
    }
}

fn body(command: ReserveCredit) -> CommandBody {
    CommandBody::ReserveCredit(command)
}

fn release_body(command: ReleaseCredit) -> CommandBody {
    CommandBody::ReleaseCredit(command)
}

fn credit_reserved(event: &receivables_domain::RecordedEvent) -> CreditReserved {
    match &event.envelope.event {
        Event::CreditReserved(reserved) => reserved.clone(),
        other => panic!("expected CreditReserved, got {other:?}"),
    }
}

fn credit_released(event: &receivables_domain::RecordedEvent) -> CreditReleased {
    match &event.envelope.event {
        Event::CreditReleased(released) => released.clone(),
        other => panic!("expected CreditReleased, got {other:?}"),
    }
}

/// A 10,000.00 CNY limit under BLOCK and 6,000.00 CNY open on `INV-1` (due 2026-07-01).
fn limit_with_six_thousand_open() -> Scenario {
    given([
        credit_limit(cny("10000.00")).block().event(),
        invoice("INV-1").amount(cny("6000.00")).event(),
    ])
}

fn open_reserved(scenario: &Scenario, subsidiary_id: &str, number: &str) -> Money {
    scenario
        .account()
        .state()
        .reservation(&order_key(subsidiary_id, number))
        .expect("the reservation")
        .open_money()
}

// ---------------------------------------------------------------------------------------------
// Reserving
// ---------------------------------------------------------------------------------------------

#[test]
fn a_reservation_within_the_limit_is_accepted_with_its_check() {
    let mut scenario = limit_with_six_thousand_open();
    // 6,000.00 open + 3,000.00 reserved = 9,000.00, within 10,000.00.
    let event = scenario
        .when(body(reserve(
            "SO-1",
            cny("3000.00"),
            "2026-06-10",
            "2026-07-10",
        )))
        .then_accepted();
    let reserved = credit_reserved(&event);
    assert!(!reserved.over_limit);
    let check = reserved.credit_check.expect("checked against the limit");
    assert_eq!(check.exposure_after, cny("9000.00"));
    assert_eq!(check.limit, cny("10000.00"));
    assert_eq!(open_reserved(&scenario, SUB_A, "SO-1"), cny("3000.00"));
}

#[test]
fn a_reservation_over_a_block_limit_is_refused_with_the_figures() {
    let mut scenario = limit_with_six_thousand_open();
    // 6,000.00 + 4,000.01 = 10,000.01: 0.01 above the limit.
    let refusal = scenario
        .when(body(reserve(
            "SO-1",
            cny("4000.01"),
            "2026-06-10",
            "2026-07-10",
        )))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    assert_eq!(refusal.metadata("exposure"), Some("6000.00"));
    assert_eq!(refusal.metadata("shortfall"), Some("0.01"));
    assert_eq!(refusal.metadata("reservation_amount"), Some("4000.01"));
    assert!(
        refusal.message.contains("reservation of 4000.01 CNY"),
        "{}",
        refusal.message
    );
}

#[test]
fn under_warn_a_reservation_over_the_limit_is_accepted_and_flagged() {
    let mut scenario = given([
        credit_limit(cny("10000.00")).warn().event(),
        invoice("INV-1").amount(cny("6000.00")).event(),
    ]);
    // 6,000.00 + 5,000.00 = 11,000.00 > 10,000.00.
    let event = scenario
        .when(body(reserve(
            "SO-1",
            cny("5000.00"),
            "2026-06-10",
            "2026-07-10",
        )))
        .then_accepted();
    let reserved = credit_reserved(&event);
    assert!(reserved.over_limit);
    assert_eq!(
        reserved.credit_check.expect("checked").exposure_after,
        cny("11000.00")
    );
}

#[test]
fn two_subsidiaries_cannot_both_reserve_what_only_one_fits() {
    let mut scenario = given([credit_limit(cny("10000.00")).block().event()]);
    scenario
        .when(body(reserve(
            "SO-1",
            cny("6000.00"),
            "2026-06-10",
            "2026-07-10",
        )))
        .then_accepted();
    // SUB-B's order of 6,000.00 would take 6,000.00 reserved to 12,000.00: 2,000.00 over.
    let mut other = reserve("SO-1", cny("6000.00"), "2026-06-11", "2026-07-11");
    other.subsidiary_id = subsidiary(SUB_B);
    let refusal = scenario
        .when(body(other))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    assert_eq!(refusal.metadata("exposure"), Some("6000.00"));
    assert_eq!(refusal.metadata("shortfall"), Some("2000.00"));
}

#[test]
fn reservations_count_in_the_next_invoice_check() {
    let mut scenario = limit_with_six_thousand_open();
    scenario
        .when(body(reserve(
            "SO-1",
            cny("3000.00"),
            "2026-06-10",
            "2026-07-10",
        )))
        .then_accepted();
    // SUB-B invoices 1,500.00 not against the order: 6,000.00 + 3,000.00 + 1,500.00 =
    // 10,500.00, 500.00 over.
    let refusal = scenario
        .when(
            invoice("INV-2")
                .at(SUB_B)
                .amount(cny("1500.00"))
                .issued("2026-06-12")
                .due("2026-07-12"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    assert_eq!(refusal.metadata("exposure"), Some("9000.00"));
    assert_eq!(refusal.metadata("shortfall"), Some("500.00"));
}

#[test]
fn an_order_number_is_reserved_once_per_subsidiary() {
    let mut scenario = given([reserved("SO-1", cny("100.00"), "2026-06-01", "2026-06-30")]);
    let refusal = scenario
        .when(body(reserve(
            "SO-1",
            cny("200.00"),
            "2026-06-02",
            "2026-06-30",
        )))
        .then_refused(RefusalCode::AlreadyExists, Reason::DuplicateOrderNumber);
    assert_eq!(refusal.metadata("order_number"), Some("SO-1"));
    // Another subsidiary's order of the same number is another order.
    let mut other = reserve("SO-1", cny("200.00"), "2026-06-02", "2026-06-30");
    other.subsidiary_id = subsidiary(SUB_B);
    scenario.when(body(other)).then_accepted();
}

#[test]
fn the_expiry_is_on_or_after_the_reservation_and_within_a_year_and_a_day() {
    let mut scenario = given([]);
    scenario
        .when(body(reserve(
            "SO-1",
            cny("100.00"),
            "2026-06-10",
            "2026-06-09",
        )))
        .then_invalid("expires_on");
    // 2026-06-10 + 366 days = 2027-06-11.
    scenario
        .when(body(reserve(
            "SO-1",
            cny("100.00"),
            "2026-06-10",
            "2027-06-12",
        )))
        .then_invalid("expires_on");
    scenario
        .when(body(reserve(
            "SO-1",
            cny("100.00"),
            "2026-06-10",
            "2027-06-11",
        )))
        .then_accepted();
}

#[test]
fn a_reservation_of_nothing_or_in_the_future_is_invalid() {
    let mut scenario = given([]);
    let refusal = scenario
        .when(body(reserve(
            "SO-1",
            cny("0.00"),
            "2026-06-10",
            "2026-06-20",
        )))
        .then_invalid("amount.amount");
    assert_eq!(refusal.field_violations.len(), 1);
    // The service's date is 2026-06-30: a day ahead is allowed, two are not.
    scenario
        .when(body(reserve(
            "SO-1",
            cny("10.00"),
            "2026-07-02",
            "2026-07-20",
        )))
        .then_invalid("reserved_on");
}

// ---------------------------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------------------------

#[test]
fn a_reservation_stops_counting_the_day_after_it_expires() {
    let mut scenario = given([
        credit_limit(cny("10000.00")).block().event(),
        reserved("SO-1", cny("9000.00"), "2026-06-01", "2026-06-20"),
    ]);
    // On its expiry date it still counts: 9,000.00 + 2,000.00 = 11,000.00.
    let refusal = scenario
        .when(
            invoice("INV-1")
                .at(SUB_B)
                .amount(cny("2000.00"))
                .issued("2026-06-20")
                .due("2026-07-20"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    assert_eq!(refusal.metadata("exposure"), Some("9000.00"));
    // The day after, it does not: 2,000.00 alone.
    let issued = scenario
        .when(
            invoice("INV-1")
                .at(SUB_B)
                .amount(cny("2000.00"))
                .issued("2026-06-21")
                .due("2026-07-21"),
        )
        .then_invoice_issued();
    assert_eq!(
        issued.credit_check.expect("checked").exposure_after,
        cny("2000.00")
    );
}

#[test]
fn an_expired_reservation_cannot_be_consumed() {
    let mut scenario = given([reserved("SO-1", cny("900.00"), "2026-06-01", "2026-06-20")]);
    let refusal = scenario
        .when(
            invoice("INV-1")
                .amount(cny("500.00"))
                .issued("2026-06-21")
                .due("2026-07-21")
                .for_order("SO-1"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::ReservationNotOpen);
    assert_eq!(refusal.metadata("expires_on"), Some("2026-06-20"));
}

// ---------------------------------------------------------------------------------------------
// Invoices consuming reservations
// ---------------------------------------------------------------------------------------------

#[test]
fn invoices_consume_a_reservation_in_parts() {
    let mut scenario = limit_with_six_thousand_open();
    scenario
        .when(body(reserve(
            "SO-1",
            cny("3000.00"),
            "2026-06-10",
            "2026-07-10",
        )))
        .then_accepted();
    // A first delivery of 1,000.00: 1,000.00 of the reservation becomes the invoice;
    // exposure 6,000.00 + 2,000.00 reserved + 1,000.00 = 9,000.00.
    let first = scenario
        .when(
            invoice("INV-2")
                .amount(cny("1000.00"))
                .issued("2026-06-12")
                .due("2026-07-12")
                .for_order("SO-1"),
        )
        .then_invoice_issued();
    assert_eq!(
        first.consumes,
        Some(ReservationConsumed {
            order_number: order("SO-1"),
            amount: cny("1000.00"),
        })
    );
    assert_eq!(
        first.credit_check.expect("checked").exposure_after,
        cny("9000.00")
    );
    assert_eq!(open_reserved(&scenario, SUB_A, "SO-1"), cny("2000.00"));
    // The rest ships for 2,500.00: it consumes the 2,000.00 left and adds 500.00;
    // 9,000.00 - 2,000.00 + 2,500.00 = 9,500.00.
    let second = scenario
        .when(
            invoice("INV-3")
                .amount(cny("2500.00"))
                .issued("2026-06-14")
                .due("2026-07-14")
                .for_order("SO-1"),
        )
        .then_invoice_issued();
    assert_eq!(second.consumes.expect("consumed").amount, cny("2000.00"));
    assert_eq!(
        second.credit_check.expect("checked").exposure_after,
        cny("9500.00")
    );
    assert_eq!(open_reserved(&scenario, SUB_A, "SO-1"), cny("0.00"));
    // Nothing is left for a third.
    scenario
        .when(
            invoice("INV-4")
                .amount(cny("10.00"))
                .issued("2026-06-15")
                .due("2026-07-15")
                .for_order("SO-1"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::ReservationNotOpen);
}

#[test]
fn an_invoice_wholly_inside_its_reservation_passes_a_limit_lowered_since() {
    let mut scenario = given([
        credit_limit(cny("10000.00")).block().event(),
        reserved("SO-1", cny("5000.00"), "2026-06-01", "2026-07-31"),
        credit_limit(cny("4000.00")).block().event(),
    ]);
    // 5,000.00 reserved against a 4,000.00 limit: the invoice of 5,000.00 for the order adds
    // nothing, so it passes; exposure stays 5,000.00.
    let issued = scenario
        .when(
            invoice("INV-1")
                .amount(cny("5000.00"))
                .issued("2026-06-15")
                .due("2026-07-15")
                .for_order("SO-1"),
        )
        .then_invoice_issued();
    assert!(!issued.over_limit);
    assert_eq!(
        issued.credit_check.expect("checked").exposure_after,
        cny("5000.00")
    );
    // Anything beyond it is checked: 5,000.00 + 0.01 is above 4,000.00.
    scenario
        .when(
            invoice("INV-2")
                .amount(cny("0.01"))
                .issued("2026-06-15")
                .due("2026-07-15"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
}

#[test]
fn an_invoice_names_a_reservation_of_its_own_subsidiary_in_its_currency() {
    let mut scenario = given([reserved("SO-1", cny("900.00"), "2026-06-01", "2026-07-31")]);
    // SUB-B has no order SO-1.
    let refusal = scenario
        .when(
            invoice("INV-1")
                .at(SUB_B)
                .amount(cny("100.00"))
                .issued("2026-06-10")
                .due("2026-07-10")
                .for_order("SO-1"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::ReservationNotFound);
    assert_eq!(refusal.metadata("subsidiary_id"), Some(SUB_B));
    scenario
        .when(
            invoice("INV-1")
                .amount(usd("100.00"))
                .issued("2026-06-10")
                .due("2026-07-10")
                .for_order("SO-1"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::CurrencyMismatch);
    // Issued before the order was taken.
    scenario
        .when(
            invoice("INV-1")
                .amount(cny("100.00"))
                .issued("2026-05-31")
                .due("2026-06-30")
                .for_order("SO-1"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::ReservationNotOpen);
}

// ---------------------------------------------------------------------------------------------
// Releasing
// ---------------------------------------------------------------------------------------------

#[test]
fn a_release_frees_the_credit_it_held() {
    let mut scenario = given([
        credit_limit(cny("10000.00")).block().event(),
        reserved("SO-1", cny("3000.00"), "2026-06-01", "2026-07-31"),
    ]);
    let event = scenario
        .when(release_body(release(
            "SO-1",
            Some(cny("1200.00")),
            "2026-06-15",
        )))
        .then_accepted();
    let released = credit_released(&event);
    assert_eq!(released.amount, cny("1200.00"));
    // 3,000.00 - 1,200.00 = 1,800.00 still reserved.
    assert_eq!(released.remaining, cny("1800.00"));
    // 1,800.00 + 8,200.00 = 10,000.00: exactly the limit, within it.
    scenario
        .when(
            invoice("INV-1")
                .at(SUB_B)
                .amount(cny("8200.00"))
                .issued("2026-06-16")
                .due("2026-07-16"),
        )
        .then_invoice_issued();
    // One cent more is not.
    scenario
        .when(
            invoice("INV-2")
                .at(SUB_B)
                .amount(cny("0.01"))
                .issued("2026-06-16")
                .due("2026-07-16"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
}

#[test]
fn a_release_without_an_amount_releases_everything_left() {
    let mut scenario = given([reserved("SO-1", cny("3000.00"), "2026-06-01", "2026-07-31")]);
    scenario
        .when(
            invoice("INV-1")
                .amount(cny("1000.00"))
                .issued("2026-06-05")
                .due("2026-07-05")
                .for_order("SO-1"),
        )
        .then_invoice_issued();
    // 3,000.00 - 1,000.00 invoiced = 2,000.00 left to release.
    let released = credit_released(
        &scenario
            .when(release_body(release("SO-1", None, "2026-06-15")))
            .then_accepted(),
    );
    assert_eq!(released.amount, cny("2000.00"));
    assert_eq!(released.remaining, cny("0.00"));
    // Released whole, it takes nothing more.
    scenario
        .when(release_body(release("SO-1", None, "2026-06-16")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ReservationNotOpen);
}

#[test]
fn a_release_above_what_the_reservation_holds_is_refused() {
    let mut scenario = given([reserved("SO-1", cny("300.00"), "2026-06-01", "2026-07-31")]);
    let refusal = scenario
        .when(release_body(release(
            "SO-1",
            Some(cny("300.01")),
            "2026-06-15",
        )))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::ReleaseExceedsReservation,
        );
    assert_eq!(refusal.metadata("open"), Some("300.00"));
    scenario
        .when(release_body(release("SO-2", None, "2026-06-15")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ReservationNotFound);
    scenario
        .when(release_body(release(
            "SO-1",
            Some(usd("1.00")),
            "2026-06-15",
        )))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CurrencyMismatch);
    let mut no_reason = release("SO-1", None, "2026-06-15");
    no_reason.reason = "  ".to_owned();
    scenario
        .when(release_body(no_reason))
        .then_invalid("reason");
}

#[test]
fn a_release_that_disagrees_with_the_account_is_not_believed_when_read_back() {
    let scenario = given([reserved("SO-1", cny("300.00"), "2026-06-01", "2026-07-31")]);
    let mut account = scenario.into_account();
    // 300.00 - 100.00 leaves 200.00, not 250.00.
    let event = Event::CreditReleased(CreditReleased {
        subsidiary_id: subsidiary(SUB_A),
        order_number: order("SO-1"),
        amount: cny("100.00"),
        released_on: date("2026-06-10"),
        reason: "order shrunk".to_owned(),
        remaining: cny("250.00"),
    });
    let recorded = recorded_after(&account, event, 2);
    assert!(account.apply(&recorded).is_err());
}

// ---------------------------------------------------------------------------------------------
// The overdue hold
// ---------------------------------------------------------------------------------------------

/// A limit with a 30-day overdue hold, and 1,000.00 CNY due 2026-05-01, unpaid.
fn overdue_since_may() -> Scenario {
    given([
        credit_limit(cny("10000.00"))
            .block()
            .overdue_hold(30)
            .event(),
        invoice("INV-1")
            .amount(cny("1000.00"))
            .issued("2026-04-01")
            .due("2026-05-01")
            .event(),
    ])
}

#[test]
fn the_overdue_hold_allows_debts_up_to_its_days_overdue() {
    let mut scenario = overdue_since_may();
    // On 05-31 the invoice is 30 days overdue: not more than 30.
    scenario
        .when(body(reserve(
            "SO-1",
            cny("100.00"),
            "2026-05-31",
            "2026-06-30",
        )))
        .then_accepted();
}

#[test]
fn the_overdue_hold_refuses_reservations_and_invoices_beyond_its_days() {
    let mut scenario = overdue_since_may();
    // On 06-01 it is 31 days overdue.
    let refusal = scenario
        .when(body(reserve(
            "SO-1",
            cny("100.00"),
            "2026-06-01",
            "2026-06-30",
        )))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CustomerOverdue);
    assert_eq!(refusal.metadata("overdue_cny"), Some("1000.00"));
    assert_eq!(refusal.metadata("oldest_days"), Some("31"));
    assert_eq!(refusal.metadata("hold_days"), Some("30"));
    let refusal = scenario
        .when(
            invoice("INV-2")
                .amount(cny("1.00"))
                .issued("2026-06-01")
                .due("2026-07-01"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::CustomerOverdue);
    assert!(refusal.message.contains("invoice"), "{}", refusal.message);
}

#[test]
fn once_the_overdue_debt_is_paid_the_hold_lets_orders_through() {
    let mut scenario = overdue_since_may();
    scenario
        .when(
            payment(cny("1000.00"))
                .received("2026-06-20")
                .allocate(key(SUB_A, "INV-1"), cny("1000.00")),
        )
        .then_accepted();
    scenario
        .when(body(reserve(
            "SO-1",
            cny("100.00"),
            "2026-06-20",
            "2026-06-30",
        )))
        .then_accepted();
}

#[test]
fn an_overdue_hold_beyond_ten_years_is_invalid() {
    let mut scenario = given([]);
    scenario
        .when(credit_limit(cny("1000.00")).overdue_hold(3651))
        .then_invalid("overdue_hold_days");
}

// ---------------------------------------------------------------------------------------------
// The credit check without appending (CheckCredit)
// ---------------------------------------------------------------------------------------------

#[test]
fn without_a_limit_there_is_nothing_to_check() {
    let scenario = given([invoice("INV-1").amount(cny("500.00")).event()]);
    let answer = assess(
        scenario.account().state(),
        cny("100.00"),
        date("2026-06-10"),
        &ExchangeRates::default(),
    )
    .expect("an answer");
    assert_eq!(answer.decision, CreditDecision::NoLimit);
    assert!(answer.would_accept);
    assert_eq!(answer.exposure, None);
    assert_eq!(answer.lines.len(), 1);
    assert_eq!(answer.lines[0].open_invoices, dec("500.00"));
}

/// 10,000.00 CNY under BLOCK; 6,000.00 open, 500.00 paid on account, 1,000.00 reserved.
fn six_open_five_hundred_on_account_a_thousand_reserved() -> Scenario {
    let mut scenario = limit_with_six_thousand_open();
    scenario
        .when(payment(cny("500.00")).received("2026-06-05").on_account())
        .then_accepted();
    scenario
        .when(body(reserve(
            "SO-1",
            cny("1000.00"),
            "2026-06-06",
            "2026-07-06",
        )))
        .then_accepted();
    scenario
}

#[test]
fn the_check_counts_open_invoices_less_money_on_account_plus_reservations() {
    let scenario = six_open_five_hundred_on_account_a_thousand_reserved();
    let answer = assess(
        scenario.account().state(),
        cny("2000.00"),
        date("2026-06-10"),
        &ExchangeRates::default(),
    )
    .expect("an answer");
    // 6,000.00 - 500.00 + 1,000.00 = 6,500.00; available 3,500.00; after 8,500.00.
    assert_eq!(answer.decision, CreditDecision::WithinLimit);
    assert!(answer.would_accept);
    assert_eq!(answer.exposure, Some(cny("6500.00")));
    assert_eq!(answer.available, Some(cny("3500.00")));
    assert_eq!(answer.exposure_after, Some(cny("8500.00")));
    let line = answer.lines[0];
    assert_eq!(
        (
            line.open_invoices,
            line.unapplied,
            line.reserved,
            line.exposure
        ),
        (
            dec("6000.00"),
            dec("500.00"),
            dec("1000.00"),
            dec("6500.00")
        )
    );
    // Nothing is overdue on 06-10 (due 07-01).
    assert_eq!(line.overdue, dec("0"));
    assert_eq!(answer.oldest_overdue_days, None);
}

#[test]
fn the_check_says_over_limit_and_whether_the_policy_would_accept() {
    let scenario = six_open_five_hundred_on_account_a_thousand_reserved();
    // 6,500.00 + 3,500.01 = 10,000.01.
    let answer = assess(
        scenario.account().state(),
        cny("3500.01"),
        date("2026-06-10"),
        &ExchangeRates::default(),
    )
    .expect("an answer");
    assert_eq!(answer.decision, CreditDecision::OverLimit);
    assert!(!answer.would_accept);
    assert!(
        answer.explanation.contains("by 0.01 CNY"),
        "{}",
        answer.explanation
    );
    // Exactly the available amount fits.
    let answer = assess(
        scenario.account().state(),
        cny("3500.00"),
        date("2026-06-10"),
        &ExchangeRates::default(),
    )
    .expect("an answer");
    assert_eq!(answer.decision, CreditDecision::WithinLimit);
}

#[test]
fn the_check_says_customer_overdue_under_a_hold() {
    let scenario = overdue_since_may();
    let answer = assess(
        scenario.account().state(),
        cny("1.00"),
        date("2026-06-10"),
        &ExchangeRates::default(),
    )
    .expect("an answer");
    // Due 05-01, on 06-10: 40 days overdue, beyond the 30-day hold.
    assert_eq!(answer.decision, CreditDecision::CustomerOverdue);
    assert!(!answer.would_accept);
    assert_eq!(answer.oldest_overdue_days, Some(40));
    assert_eq!(answer.overdue_beyond_hold, vec![cny("1000.00")]);
    assert_eq!(answer.lines[0].overdue, dec("1000.00"));
}

#[test]
fn the_check_converts_other_currencies_as_an_invoice_would() {
    let scenario = given([
        credit_limit(cny("10000.00")).block().event(),
        invoice("INV-1").amount(usd("1000.00")).event(),
    ]);
    let mut rates = ExchangeRates::default();
    rates.publish(
        currency("CNY"),
        date("2026-06-01"),
        &[ExchangeRate {
            currency: currency("USD"),
            rate: Rate::parse("7.2").expect("a rate"),
        }],
    );
    // 1,000.00 USD at 7.2 = 7,200.00 CNY; a further 500.00 USD makes 1,500.00 USD = 10,800.00.
    let answer = assess(
        scenario.account().state(),
        usd("500.00"),
        date("2026-06-10"),
        &rates,
    )
    .expect("an answer");
    assert_eq!(answer.exposure, Some(cny("7200.00")));
    assert_eq!(answer.exposure_after, Some(cny("10800.00")));
    assert_eq!(answer.available, Some(cny("2800.00")));
    assert_eq!(answer.decision, CreditDecision::OverLimit);
    assert_eq!(answer.conversions.len(), 1);
    assert_eq!(answer.conversions[0].converted, cny("10800.00"));
    // Without the rate it cannot be measured.
    let refusal = assess(
        scenario.account().state(),
        usd("500.00"),
        date("2026-06-10"),
        &ExchangeRates::default(),
    )
    .expect_err("no rate");
    assert_eq!(refusal.reason, Reason::ExchangeRateMissing);
}

#[test]
fn a_reservation_in_another_currency_counts_converted_like_an_invoice() {
    let mut rates = ExchangeRates::default();
    rates.publish(
        currency("CNY"),
        date("2026-06-01"),
        &[ExchangeRate {
            currency: currency("USD"),
            rate: Rate::parse("7.2").expect("a rate"),
        }],
    );
    let mut scenario = given([credit_limit(cny("10000.00")).block().event()]).with_rates(rates);
    // 1,000.00 USD at 7.2 = 7,200.00 CNY.
    let event = scenario
        .when(body(reserve(
            "SO-1",
            usd("1000.00"),
            "2026-06-10",
            "2026-07-10",
        )))
        .then_accepted();
    let check = credit_reserved(&event).credit_check.expect("checked");
    assert_eq!(check.exposure_after, cny("7200.00"));
    assert_eq!(check.conversions.len(), 1);
    // A CNY invoice of 2,800.01 on top: 7,200.00 + 2,800.01 = 10,000.01, 0.01 over.
    let refusal = scenario
        .when(
            invoice("INV-1")
                .at(SUB_B)
                .amount(cny("2800.01"))
                .issued("2026-06-12")
                .due("2026-07-12"),
        )
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    assert_eq!(refusal.metadata("exposure_usd"), Some("1000.00"));
    assert_eq!(refusal.metadata("shortfall"), Some("0.01"));
}
