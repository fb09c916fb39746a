//! Payment terms, one rule per test: the group's templates, invoices issued on a template or on
//! an explicit schedule, payments applied across schedule rows, instalment plans and
//! early-payment discounts. Given the account's events, when a command is decided, then this
//! event or this refusal, and the account after where it matters. Every figure and every date is
//! worked out by hand in the comments.
//!
//! The template `30-50-20`: 30 % on the issue date (net 0), 50 % in 60 days, 20 % in 90, and
//! 2 % off for a payment within 10 days of the issue date.
//!
//! The support module decides every command on the business date 2026-06-30 (recorded at noon
//! UTC), and a plan, a cancellation or a payment may be dated at most a day after the service's
//! date. The rules of plans, and of a payment across rows, are about July and August, so those
//! tests decide on a business date of their own with [`decide_on`], which hands the account the
//! support module's context with only `recorded_at` moved to noon of that day.

mod support;

use receivables_domain::DecisionContext;
use receivables_domain::account::discount::{AllowDiscount, DiscountAllowed};
use receivables_domain::account::instalment_plan::{
    AgreeInstalmentPlan, CancelInstalmentPlan, InstalmentPlanAgreed, InstalmentPlanCancelled,
};
use receivables_domain::account::payment_terms::{DefinePaymentTerms, PaymentTermsDefined};
use receivables_domain::account::state::InvoiceState;
use receivables_domain::account::{CustomerAccount, Decision};
use receivables_domain::chain;
use receivables_domain::command::{Command, CommandBody, InvoiceKey};
use receivables_domain::event::{
    Allocation, AllocationRule, Event, InvoiceIssued, PaymentReceived, RecordedEvent,
};
use receivables_domain::ids::{CommandId, Position, TermsCode};
use receivables_domain::money::Money;
use receivables_domain::payment::PaymentMethod;
use receivables_domain::refusal::{Reason, Refusal, RefusalCode};
use receivables_domain::terms::{
    DueRule, EarlyPaymentDiscount, PaymentTerms, PaymentTermsBook, ScheduleRow, TermsLine,
    TermsTemplate,
};
use support::*;

// ---------------------------------------------------------------------------------------------
// Terms and templates
// ---------------------------------------------------------------------------------------------

const THIRTY_FIFTY_TWENTY: &str = "30-50-20";
const THIRTY_FIFTY_TWENTY_TEXT: &str =
    "30 % on the issue date, 50 % in 60 days, 20 % in 90; 2 % off within 10 days";

fn code(text: &str) -> TermsCode {
    TermsCode::parse(text).expect("a terms code")
}

fn line(portion: &str, due: DueRule) -> TermsLine {
    TermsLine {
        portion: dec(portion),
        due,
    }
}

fn two_percent_within_ten_days() -> EarlyPaymentDiscount {
    EarlyPaymentDiscount {
        percent: dec("2"),
        within_days: 10,
    }
}

/// 30 % net 0, 50 % net 60, 20 % net 90, 2 % off within 10 days.
fn thirty_fifty_twenty() -> PaymentTerms {
    PaymentTerms {
        lines: vec![
            line("30", DueRule::NetDays(0)),
            line("50", DueRule::NetDays(60)),
            line("20", DueRule::NetDays(90)),
        ],
        discount: Some(two_percent_within_ten_days()),
    }
}

fn define(code_text: &str, description: &str, terms: PaymentTerms) -> CommandBody {
    CommandBody::DefinePaymentTerms(DefinePaymentTerms {
        code: code(code_text),
        description: description.to_owned(),
        terms,
    })
}

fn defined(code_text: &str, description: &str, terms: PaymentTerms, replaced: bool) -> Event {
    Event::PaymentTermsDefined(PaymentTermsDefined {
        code: code(code_text),
        description: description.to_owned(),
        terms,
        replaced,
    })
}

/// The group's templates as the command service hands them to a customer's decisions.
fn book(templates: &[(&str, PaymentTerms)]) -> PaymentTermsBook {
    let mut book = PaymentTermsBook::default();
    for (code_text, terms) in templates {
        book.define(
            code(code_text),
            TermsTemplate {
                description: format!("the terms {code_text}"),
                terms: terms.clone(),
            },
        );
    }
    book
}

fn row(due: &str, amount: Money) -> ScheduleRow {
    ScheduleRow {
        due_date: date(due),
        amount,
    }
}

fn inv(number: &str) -> InvoiceKey {
    key(SUB_A, number)
}

fn invoice_state<'a>(scenario: &'a Scenario, number: &str) -> &'a InvoiceState {
    scenario
        .account()
        .invoice(&inv(number))
        .expect("the invoice is on the account")
}

fn invoice_of<'a>(account: &'a CustomerAccount, number: &str) -> &'a InvoiceState {
    account
        .invoice(&inv(number))
        .expect("the invoice is on the account")
}

/// What `number` has overdue at the end of `day` on `account`.
fn overdue(account: &CustomerAccount, number: &str, day: &str) -> rust_decimal::Decimal {
    invoice_of(account, number).overdue_on(date(day))
}

// ---------------------------------------------------------------------------------------------
// Deciding on another business date than the support module's
// ---------------------------------------------------------------------------------------------

/// The support module's decision context, recorded at noon UTC of `today` instead of
/// 2026-06-30: a service whose business date is `today`.
fn context_on(today: &str) -> DecisionContext {
    DecisionContext {
        recorded_at: date(today)
            .and_hms_opt(12, 0, 0)
            .expect("noon is a time of day")
            .and_utc(),
        ..context()
    }
}

/// Decides `body` under command id `id` on the business date `today`; an accepted event is
/// sealed, applied to `account` at the next position (as the service would) and returned.
fn decide_command_on(
    account: &mut CustomerAccount,
    today: &str,
    id: CommandId,
    body: impl IntoBody,
) -> Result<RecordedEvent, Refusal> {
    let command = Command {
        id,
        body: body.into_body(),
    };
    let context = context_on(today);
    let mut envelope = match account.decide(&command, &context)? {
        Decision::Append(envelope) => envelope,
        Decision::AlreadyAccepted(position) => {
            panic!("expected a new event, got the retry answer at {position}")
        }
    };
    assert_eq!(envelope.command_id, id, "command id");
    assert_eq!(envelope.recorded_at, context.recorded_at, "recorded at");
    assert_eq!(envelope.sequence, account.event_count() + 1, "sequence");
    chain::seal(&mut envelope).expect("an envelope can be sealed");
    let recorded = RecordedEvent {
        position: Position::new(account.position().get() + 1),
        envelope,
    };
    if let Err(violation) = account.apply(&recorded) {
        panic!("the account rejected the event it decided: {violation}");
    }
    Ok(recorded)
}

/// [`decide_command_on`] under a fresh command id.
fn decide_on(
    account: &mut CustomerAccount,
    today: &str,
    body: impl IntoBody,
) -> Result<RecordedEvent, Refusal> {
    decide_command_on(account, today, command_id(), body)
}

/// `body` decided on `today` was refused as a failed precondition with `reason`.
fn refused_on(
    account: &mut CustomerAccount,
    today: &str,
    body: impl IntoBody,
    reason: Reason,
) -> Refusal {
    match decide_on(account, today, body) {
        Err(refusal) => {
            assert_eq!(
                (refusal.code, refusal.reason),
                (RefusalCode::FailedPrecondition, reason),
                "refused, but not as expected: {refusal}"
            );
            refusal
        }
        Ok(recorded) => panic!(
            "expected a refusal ({reason}), got {:?}",
            recorded.envelope.event
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Templates are the group's
// ---------------------------------------------------------------------------------------------

#[test]
fn defining_a_new_template_records_it_as_replacing_none() {
    let mut group = given_group([]);

    let recorded = group
        .when(define(
            THIRTY_FIFTY_TWENTY,
            THIRTY_FIFTY_TWENTY_TEXT,
            thirty_fifty_twenty(),
        ))
        .then_event(defined(
            THIRTY_FIFTY_TWENTY,
            THIRTY_FIFTY_TWENTY_TEXT,
            thirty_fifty_twenty(),
            false,
        ));

    // A setting of the whole group: no subsidiary, and in effect from the service's date.
    assert_eq!(recorded.envelope.subsidiary_id, None);
    assert_eq!(recorded.envelope.effective_date, date("2026-06-30"));
    assert_eq!(
        group
            .account()
            .state()
            .payment_terms()
            .get(&code(THIRTY_FIFTY_TWENTY)),
        Some(&TermsTemplate {
            description: THIRTY_FIFTY_TWENTY_TEXT.to_owned(),
            terms: thirty_fifty_twenty(),
        })
    );
}

#[test]
fn defining_a_code_again_with_other_terms_replaces_its_template() {
    let mut group = given_group([defined(
        THIRTY_FIFTY_TWENTY,
        THIRTY_FIFTY_TWENTY_TEXT,
        thirty_fifty_twenty(),
        false,
    )]);
    // The same lines, 3 % off instead of 2 %.
    let mut three_percent = thirty_fifty_twenty();
    three_percent.discount = Some(EarlyPaymentDiscount {
        percent: dec("3"),
        within_days: 10,
    });
    let text = "30 % on the issue date, 50 % in 60 days, 20 % in 90; 3 % off within 10 days";

    group
        .when(define(THIRTY_FIFTY_TWENTY, text, three_percent.clone()))
        .then_event(defined(
            THIRTY_FIFTY_TWENTY,
            text,
            three_percent.clone(),
            true,
        ));

    let book = group.account().state().payment_terms();
    assert_eq!(book.iter().count(), 1, "replaced, not added");
    assert_eq!(
        book.get(&code(THIRTY_FIFTY_TWENTY)).map(|t| &t.terms),
        Some(&three_percent)
    );
}

#[test]
fn defining_a_template_exactly_as_it_stands_is_refused_as_unchanged() {
    let mut group = given_group([defined(
        THIRTY_FIFTY_TWENTY,
        THIRTY_FIFTY_TWENTY_TEXT,
        thirty_fifty_twenty(),
        false,
    )]);

    let refusal = group
        .when(define(
            THIRTY_FIFTY_TWENTY,
            THIRTY_FIFTY_TWENTY_TEXT,
            thirty_fifty_twenty(),
        ))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::PaymentTermsUnchanged,
        );

    assert_eq!(
        refusal.precondition_violations[0].subject,
        "group/payment_terms/30-50-20"
    );
    assert_eq!(group.account().event_count(), 1, "nothing appended");
}

#[test]
fn a_template_whose_portions_add_up_to_99_percent_is_refused_naming_its_lines() {
    let mut group = given_group([]);
    // 30 + 49 + 20 = 99 %.
    let short = PaymentTerms {
        lines: vec![
            line("30", DueRule::NetDays(0)),
            line("49", DueRule::NetDays(60)),
            line("20", DueRule::NetDays(90)),
        ],
        discount: None,
    };

    let refusal = group
        .when(define("30-49-20", "one per cent short", short))
        .then_invalid("terms.lines");

    assert_eq!(refusal.field_violations.len(), 1, "{refusal}");
    assert!(
        refusal.field_violations[0].description.contains("99 %"),
        "{refusal}"
    );
    assert!(
        group
            .account()
            .state()
            .payment_terms()
            .iter()
            .next()
            .is_none()
    );
}

#[test]
fn a_template_is_defined_in_the_group_account_not_a_customers() {
    let mut customer = given([]);

    customer
        .when(define(
            THIRTY_FIFTY_TWENTY,
            THIRTY_FIFTY_TWENTY_TEXT,
            thirty_fifty_twenty(),
        ))
        .then_invalid("customer_id");
}

// ---------------------------------------------------------------------------------------------
// 2. Invoices on a template
// ---------------------------------------------------------------------------------------------

#[test]
fn an_invoice_on_a_template_records_the_schedule_due_date_and_discount_it_was_given() {
    let mut scenario =
        given([]).with_payment_terms(book(&[(THIRTY_FIFTY_TWENTY, thirty_fifty_twenty())]));

    // 1,000.00 issued 2026-01-31:
    //   30 % = 300.00 net 0: 2026-01-31;
    //   50 % = 500.00 net 60: 01-31 + 28 (February 2026) = 02-28, + 31 = 03-31, + 1 = 04-01;
    //   20 % = 200.00 net 90: 04-01 + 30 = 05-01 (1,000.00 - 300.00 - 500.00 = 200.00).
    scenario
        .when(
            invoice("INV-1")
                .amount(cny("1000.00"))
                .issued("2026-01-31")
                .on_terms(THIRTY_FIFTY_TWENTY),
        )
        .then_event(Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: subsidiary(SUB_A),
            invoice_number: number("INV-1"),
            amount: cny("1000.00"),
            issue_date: date("2026-01-31"),
            due_date: date("2026-05-01"),
            terms_days: None,
            payment_terms: Some(code(THIRTY_FIFTY_TWENTY)),
            schedule: vec![
                row("2026-01-31", cny("300.00")),
                row("2026-04-01", cny("500.00")),
                row("2026-05-01", cny("200.00")),
            ],
            discount: Some(two_percent_within_ten_days()),
            over_limit: false,
            credit_check: None,
            consumes: None,
        }));

    let issued = invoice_state(&scenario, "INV-1");
    assert_eq!(issued.due_date, date("2026-05-01"));
    assert_eq!(issued.discount, Some(two_percent_within_ten_days()));
    // Each row is overdue from the day after its due date: 300.00 from 02-01, 300.00 + 500.00
    // = 800.00 from 04-02, everything from 05-02.
    assert_eq!(issued.overdue_on(date("2026-01-31")), dec("0"));
    assert_eq!(issued.overdue_on(date("2026-02-01")), dec("300.00"));
    assert_eq!(issued.overdue_on(date("2026-04-01")), dec("300.00"));
    assert_eq!(issued.overdue_on(date("2026-04-02")), dec("800.00"));
    assert_eq!(issued.overdue_on(date("2026-05-02")), dec("1000.00"));
}

#[test]
fn the_last_row_of_a_template_schedule_takes_what_rounding_left_over() {
    let thirds = PaymentTerms {
        lines: vec![
            line("33.33", DueRule::NetDays(30)),
            line("33.33", DueRule::NetDays(60)),
            line("33.34", DueRule::NetDays(90)),
        ],
        discount: None,
    };
    let mut scenario = given([]).with_payment_terms(book(&[("THIRDS", thirds)]));

    // 100.01 x 33.33 % = 33.333333 -> 33.33 for each of the first two rows; the last row takes
    // 100.01 - 33.33 - 33.33 = 33.35 (not 100.01 x 33.34 % = 33.343334 -> 33.34).
    // Issued 2026-03-01: + 30 = 03-31, + 60 = 04-30, + 90 = 05-30.
    let issued = scenario
        .when(
            invoice("INV-1")
                .amount(cny("100.01"))
                .issued("2026-03-01")
                .on_terms("THIRDS"),
        )
        .then_invoice_issued();

    assert_eq!(
        issued.schedule,
        [
            row("2026-03-31", cny("33.33")),
            row("2026-04-30", cny("33.33")),
            row("2026-05-30", cny("33.35")),
        ]
    );
    assert_eq!(issued.due_date, date("2026-05-30"));
    assert_eq!(issued.discount, None);
}

#[test]
fn an_invoice_on_a_template_the_group_has_not_defined_is_refused() {
    let mut scenario =
        given([]).with_payment_terms(book(&[(THIRTY_FIFTY_TWENTY, thirty_fifty_twenty())]));

    let refusal = scenario
        .when(invoice("INV-1").on_terms("NET45"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::PaymentTermsUnknown);

    assert_eq!(refusal.metadata("payment_terms"), Some("NET45"));
    assert_eq!(
        refusal.precondition_violations[0].subject,
        "group/payment_terms/NET45"
    );
    assert_eq!(scenario.account().invoices().count(), 0);
}

#[test]
fn month_end_and_next_month_rules_reach_the_leap_day_and_lines_due_the_same_day_are_one_row() {
    // Given out of due order on purpose.
    let mixed = PaymentTerms {
        lines: vec![
            line("25", DueRule::DaysAfterMonthEnd(30)),
            line("20", DueRule::DayOfNextMonth(31)),
            line("25", DueRule::DayOfNextMonth(10)),
            line("30", DueRule::DaysAfterMonthEnd(29)),
        ],
        discount: None,
    };
    let mut scenario = given([]).with_payment_terms(book(&[("EOM-MIX", mixed)]));

    // Issued 2024-01-31 (2024 is a leap year: February has 29 days), 1,000.00:
    //   day 10 of next month: 2024-02-10, 25 % = 250.00;
    //   day 31 of next month: February's last day, 2024-02-29, 20 % = 200.00;
    //   29 days after the month end: 01-31 + 29 = 02-29, 30 % = 300.00 - the same day as the
    //   line above, so one row of 200.00 + 300.00 = 500.00;
    //   30 days after the month end: 01-31 + 30 = 03-01, 25 %: the last row takes
    //   1,000.00 - 250.00 - 500.00 = 250.00.
    let issued = scenario
        .when(
            invoice("INV-1")
                .amount(cny("1000.00"))
                .issued("2024-01-31")
                .on_terms("EOM-MIX"),
        )
        .then_invoice_issued();

    assert_eq!(
        issued.schedule,
        [
            row("2024-02-10", cny("250.00")),
            row("2024-02-29", cny("500.00")),
            row("2024-03-01", cny("250.00")),
        ]
    );
    assert_eq!(issued.due_date, date("2024-03-01"));
}

#[test]
fn redefining_a_template_changes_no_invoice_already_issued_on_it() {
    // The group defines 30-50-20, a customer's invoice is issued on it, then the group makes
    // it 50 % net 0, 50 % net 30 with no discount.
    let mut group = given_group([defined(
        THIRTY_FIFTY_TWENTY,
        THIRTY_FIFTY_TWENTY_TEXT,
        thirty_fifty_twenty(),
        false,
    )]);
    let mut customer =
        given([]).with_payment_terms(group.account().state().payment_terms().as_ref().clone());
    customer
        .when(
            invoice("INV-1")
                .issued("2026-06-01")
                .on_terms(THIRTY_FIFTY_TWENTY),
        )
        .then_invoice_issued();
    let halves = PaymentTerms {
        lines: vec![
            line("50", DueRule::NetDays(0)),
            line("50", DueRule::NetDays(30)),
        ],
        discount: None,
    };
    group
        .when(define(THIRTY_FIFTY_TWENTY, "now halves", halves))
        .then_accepted();
    let mut customer =
        customer.with_payment_terms(group.account().state().payment_terms().as_ref().clone());

    // A later invoice of 1,000.00 on 06-10 is due 500.00 on 06-10 and 500.00 on 07-10.
    let later = customer
        .when(
            invoice("INV-2")
                .issued("2026-06-10")
                .on_terms(THIRTY_FIFTY_TWENTY),
        )
        .then_invoice_issued();
    assert_eq!(
        later.schedule,
        [
            row("2026-06-10", cny("500.00")),
            row("2026-07-10", cny("500.00")),
        ]
    );
    assert_eq!(later.discount, None);

    // The first keeps what it was given on 06-01: 300.00 on 06-01, 500.00 on 06-01 + 60 =
    // 07-31 (29 days to 06-30, 31 more), 200.00 on 07-31 + 30 = 08-30, and its 2 % discount.
    let first = invoice_state(&customer, "INV-1");
    assert_eq!(
        first.schedule,
        [
            row("2026-06-01", cny("300.00")),
            row("2026-07-31", cny("500.00")),
            row("2026-08-30", cny("200.00")),
        ]
    );
    assert_eq!(first.discount, Some(two_percent_within_ten_days()));
}

// ---------------------------------------------------------------------------------------------
// 3. Invoices on an explicit schedule
// ---------------------------------------------------------------------------------------------

#[test]
fn an_explicit_schedule_is_recorded_as_given_and_its_last_row_is_the_due_date() {
    let mut scenario = given([]);

    scenario
        .when(
            invoice("INV-1")
                .scheduled(&[("2026-06-30", cny("400.00")), ("2026-07-31", cny("600.00"))]),
        )
        .then_event(Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: subsidiary(SUB_A),
            invoice_number: number("INV-1"),
            amount: cny("1000.00"),
            issue_date: date("2026-06-01"),
            due_date: date("2026-07-31"),
            terms_days: None,
            payment_terms: None,
            schedule: vec![
                row("2026-06-30", cny("400.00")),
                row("2026-07-31", cny("600.00")),
            ],
            discount: None,
            over_limit: false,
            credit_check: None,
            consumes: None,
        }));

    let issued = invoice_state(&scenario, "INV-1");
    // 400.00 overdue from 07-01, all 1,000.00 from 08-01.
    assert_eq!(issued.overdue_on(date("2026-06-30")), dec("0"));
    assert_eq!(issued.overdue_on(date("2026-07-01")), dec("400.00"));
    assert_eq!(issued.overdue_on(date("2026-08-01")), dec("1000.00"));
}

#[test]
fn a_schedule_whose_rows_do_not_add_up_to_the_amount_is_refused() {
    let mut scenario = given([]);

    // 400.00 + 599.99 = 999.99, not 1,000.00.
    let refusal = scenario
        .when(
            invoice("INV-1")
                .scheduled(&[("2026-06-30", cny("400.00")), ("2026-07-31", cny("599.99"))]),
        )
        .then_invalid("schedule");

    assert_eq!(refusal.field_violations.len(), 1, "{refusal}");
    assert!(
        refusal.field_violations[0].description.contains("999.99"),
        "{refusal}"
    );
}

#[test]
fn a_schedule_row_in_another_currency_than_the_invoice_is_refused_naming_its_amount() {
    let mut scenario = given([]);

    let refusal = scenario
        .when(
            invoice("INV-1")
                .scheduled(&[("2026-06-30", cny("400.00")), ("2026-07-31", usd("600.00"))]),
        )
        .then_invalid("schedule[1].amount");

    // Rows in two currencies are not summed: the currency is the one fault.
    assert_eq!(refusal.field_violations.len(), 1, "{refusal}");
}

#[test]
fn a_schedule_row_of_nothing_is_refused_naming_its_amount() {
    let mut scenario = given([]);

    scenario
        .when(
            invoice("INV-1")
                .scheduled(&[("2026-06-30", cny("1000.00")), ("2026-07-31", cny("0.00"))]),
        )
        .then_invalid("schedule[1].amount");
}

#[test]
fn a_schedule_row_due_before_the_issue_date_is_refused_naming_its_due_date() {
    let mut scenario = given([]);

    // Issued 2026-06-01; the first row is due the day before.
    let refusal = scenario
        .when(
            invoice("INV-1")
                .scheduled(&[("2026-05-31", cny("400.00")), ("2026-07-31", cny("600.00"))]),
        )
        .then_invalid("schedule[0].due_date");

    assert_eq!(refusal.field_violations.len(), 1, "{refusal}");
}

#[test]
fn two_schedule_rows_on_the_same_date_are_refused_naming_the_second() {
    let mut scenario = given([]);

    let refusal = scenario
        .when(
            invoice("INV-1")
                .scheduled(&[("2026-06-30", cny("400.00")), ("2026-06-30", cny("600.00"))]),
        )
        .then_invalid("schedule[1].due_date");

    assert_eq!(refusal.field_violations.len(), 1, "{refusal}");
}

#[test]
fn an_invoice_says_when_it_is_due_in_exactly_one_way() {
    let mut scenario =
        given([]).with_payment_terms(book(&[(THIRTY_FIFTY_TWENTY, thirty_fifty_twenty())]));
    let rows = [("2026-06-30", cny("400.00")), ("2026-07-31", cny("600.00"))];

    // A schedule and a due date.
    scenario
        .when(invoice("INV-1").scheduled(&rows).due("2026-07-31"))
        .then_invalid("due");
    // A schedule and a template.
    let mut both = invoice("INV-1")
        .on_terms(THIRTY_FIFTY_TWENTY)
        .scheduled(&rows);
    assert_eq!(both.0.payment_terms, Some(code(THIRTY_FIFTY_TWENTY)));
    scenario.when(both.clone()).then_invalid("due");
    // Neither.
    both.0.payment_terms = None;
    both.0.schedule.clear();
    assert_eq!(both.0.due_date, None);
    scenario.when(both).then_invalid("due");
    // Terms in days come only with the due date they give.
    let mut with_days = invoice("INV-1").scheduled(&rows);
    with_days.0.terms_days = Some(60);
    scenario.when(with_days).then_invalid("terms_days");

    assert_eq!(scenario.account().invoices().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// 4. Oldest due first, row by row
// ---------------------------------------------------------------------------------------------

#[test]
fn a_payment_without_allocations_pays_schedule_rows_and_invoices_oldest_due_first() {
    // A: 1,000.00 due 300.00 on 06-10 and 700.00 on 08-10; B: 500.00 due 07-10; both SUB-A.
    let mut account = given([
        invoice("INV-A")
            .scheduled(&[("2026-06-10", cny("300.00")), ("2026-08-10", cny("700.00"))])
            .event(),
        invoice("INV-B")
            .amount(cny("500.00"))
            .due("2026-07-10")
            .event(),
    ])
    .into_account();
    // Before the payment A has its first row overdue, B all of it.
    assert_eq!(overdue(&account, "INV-A", "2026-07-20"), dec("300.00"));
    assert_eq!(overdue(&account, "INV-B", "2026-07-20"), dec("500.00"));

    // 900.00 on 07-20: A's row of 06-10 takes 300.00, B (07-10) 500.00, A's row of 08-10 the
    // last 900.00 - 300.00 - 500.00 = 100.00. One allocation per invoice, in the order of its
    // first row taken: A 300.00 + 100.00 = 400.00, then B 500.00; nothing unapplied.
    let recorded = decide_on(
        &mut account,
        "2026-07-20",
        payment(cny("900.00")).at(SUB_A).received("2026-07-20"),
    )
    .expect("accepted");

    assert_eq!(
        recorded.envelope.event,
        Event::PaymentReceived(PaymentReceived {
            subsidiary_id: subsidiary(SUB_A),
            amount: cny("900.00"),
            received_date: date("2026-07-20"),
            method: PaymentMethod::BankTransfer,
            reference: "BANK-REF-0001".to_owned(),
            allocation_rule: AllocationRule::OldestDueFirst,
            allocations: vec![
                Allocation {
                    invoice: inv("INV-A"),
                    amount: cny("400.00"),
                },
                Allocation {
                    invoice: inv("INV-B"),
                    amount: cny("500.00"),
                },
            ],
            unapplied: cny("0.00"),
        })
    );
    // A owes 1,000.00 - 400.00 = 600.00, all of it in the row of 08-10, so nothing overdue;
    // B owes nothing.
    assert_eq!(invoice_of(&account, "INV-A").open, dec("600.00"));
    assert_eq!(
        invoice_of(&account, "INV-A").open_rows(date("2026-07-20"), dec("600.00")),
        [
            (date("2026-06-10"), dec("0")),
            (date("2026-08-10"), dec("600.00"))
        ]
    );
    assert_eq!(overdue(&account, "INV-A", "2026-07-20"), dec("0"));
    assert_eq!(invoice_of(&account, "INV-B").open, dec("0"));
    assert_eq!(account.unapplied_cash(currency("CNY")), dec("0"));
}

// ---------------------------------------------------------------------------------------------
// 5. Instalment plans
// ---------------------------------------------------------------------------------------------

fn agree(agreed_on: &str, rows: &[(&str, Money)]) -> CommandBody {
    CommandBody::AgreeInstalmentPlan(AgreeInstalmentPlan {
        invoice: inv("INV-1"),
        agreed_on: date(agreed_on),
        rows: rows.iter().map(|(due, amount)| row(due, *amount)).collect(),
        collector: person("Wang Fang"),
        note: "agreed by phone with the treasurer".to_owned(),
    })
}

fn cancel(cancelled_on: &str) -> CommandBody {
    CommandBody::CancelInstalmentPlan(CancelInstalmentPlan {
        invoice: inv("INV-1"),
        cancelled_on: date(cancelled_on),
        reason: "first instalment missed".to_owned(),
    })
}

/// 400.00 on 07-31 and 600.00 on 08-31.
const PLAN_ROWS: [(&str, &str); 2] = [("2026-07-31", "400.00"), ("2026-08-31", "600.00")];

fn plan_rows() -> Vec<(&'static str, Money)> {
    PLAN_ROWS
        .iter()
        .map(|(due, amount)| (*due, cny(amount)))
        .collect()
}

/// The plan of 07-15 for the builder's INV-1 (1,000.00, issued 06-01, due 07-01), as the
/// service recorded it (`given` records it under its plan id, the id of its command).
fn plan_agreed(plan_id: CommandId) -> Event {
    Event::InstalmentPlanAgreed(InstalmentPlanAgreed {
        plan_id,
        invoice: inv("INV-1"),
        agreed_on: date("2026-07-15"),
        open_amount: cny("1000.00"),
        overdue_amount: cny("1000.00"),
        rows: vec![
            row("2026-07-31", cny("400.00")),
            row("2026-08-31", cny("600.00")),
        ],
        collector: person("Wang Fang"),
        note: "agreed by phone with the treasurer".to_owned(),
    })
}

#[test]
fn a_plan_may_be_dated_at_most_a_day_after_the_services_date() {
    // The support module's service date is 2026-06-30: 07-01 at the latest.
    let mut scenario = given([invoice("INV-1")
        .issued("2026-05-01")
        .due("2026-05-31")
        .event()]);

    scenario
        .when(agree("2026-07-02", &[("2026-07-31", cny("1000.00"))]))
        .then_invalid("agreed_on");
    scenario
        .when(agree("2026-07-01", &[("2026-07-31", cny("1000.00"))]))
        .then_accepted();
}

#[test]
fn a_plan_for_an_overdue_invoice_reschedules_what_it_owes_and_a_missed_instalment_is_overdue() {
    let mut account = given([invoice("INV-1").event()]).into_account();
    let plan_id = command_id();

    // On 07-15 the invoice (due 07-01) owes all 1,000.00, all of it overdue; the instalments
    // add up to 400.00 + 600.00 = 1,000.00.
    let recorded = decide_command_on(
        &mut account,
        "2026-07-15",
        plan_id,
        agree("2026-07-15", &plan_rows()),
    )
    .expect("accepted");

    assert_eq!(recorded.envelope.event, plan_agreed(plan_id));
    assert_eq!(recorded.envelope.effective_date, date("2026-07-15"));
    let invoice = invoice_of(&account, "INV-1");
    assert_eq!(invoice.plans.len(), 1);
    assert_eq!(
        *invoice.schedule_on(date("2026-07-20")),
        [
            row("2026-07-31", cny("400.00")),
            row("2026-08-31", cny("600.00")),
        ]
    );
    // Before the plan the invoice was overdue as it was: the history does not change.
    assert_eq!(overdue(&account, "INV-1", "2026-07-10"), dec("1000.00"));
    // Under the plan nothing is due before 07-31.
    assert_eq!(overdue(&account, "INV-1", "2026-07-20"), dec("0"));
    assert_eq!(overdue(&account, "INV-1", "2026-07-31"), dec("0"));
    // The instalment of 07-31 missed: its 400.00 is overdue from 08-01.
    assert_eq!(overdue(&account, "INV-1", "2026-08-01"), dec("400.00"));
    assert_eq!(overdue(&account, "INV-1", "2026-08-05"), dec("400.00"));
    // Both missed: 400.00 + 600.00 from 09-01.
    assert_eq!(overdue(&account, "INV-1", "2026-09-01"), dec("1000.00"));
}

#[test]
fn an_instalment_paid_leaves_nothing_of_the_plan_overdue() {
    let plan_id = command_id();
    let mut account = given([invoice("INV-1").event(), plan_agreed(plan_id)]).into_account();

    // 400.00 received 08-02 for INV-1: two days late, but paid.
    decide_on(
        &mut account,
        "2026-08-02",
        payment(cny("400.00"))
            .received("2026-08-02")
            .allocate(inv("INV-1"), cny("400.00")),
    )
    .expect("accepted");

    // 1,000.00 - 400.00 = 600.00 owed, settling the plan's rows in due order: the row of 07-31
    // is paid, the 600.00 left is the row of 08-31.
    assert_eq!(invoice_of(&account, "INV-1").open, dec("600.00"));
    assert_eq!(overdue(&account, "INV-1", "2026-08-01"), dec("400.00"));
    assert_eq!(overdue(&account, "INV-1", "2026-08-02"), dec("0"));
    assert_eq!(overdue(&account, "INV-1", "2026-08-05"), dec("0"));
    assert_eq!(overdue(&account, "INV-1", "2026-09-01"), dec("600.00"));
}

#[test]
fn a_plan_for_an_invoice_not_yet_overdue_is_refused() {
    // INV-1 is due 07-01: on its due date it is not yet overdue (within the support module's
    // service date, 06-30, plus a day).
    let mut scenario = given([invoice("INV-1").event()]);

    for day in ["2026-06-30", "2026-07-01"] {
        let refusal = scenario
            .when(agree(day, &[("2026-07-31", cny("1000.00"))]))
            .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotOverdue);
        assert_eq!(
            refusal.precondition_violations[0].subject,
            "invoices/SUB-A/INV-1"
        );
    }
    assert!(invoice_state(&scenario, "INV-1").plans.is_empty());
}

#[test]
fn a_plan_whose_instalments_do_not_add_up_to_the_open_amount_is_refused() {
    let mut account = given([invoice("INV-1").event()]).into_account();

    // 400.00 + 500.00 = 900.00, but INV-1 owes 1,000.00 on 07-15.
    let refusal = refused_on(
        &mut account,
        "2026-07-15",
        agree(
            "2026-07-15",
            &[("2026-07-31", cny("400.00")), ("2026-08-31", cny("500.00"))],
        ),
        Reason::PlanAmountMismatch,
    );

    assert_eq!(refusal.metadata("open_amount"), Some("1000.00"));
    assert_eq!(refusal.metadata("instalments_total"), Some("900.00"));
    assert!(invoice_of(&account, "INV-1").plans.is_empty());
}

#[test]
fn a_second_plan_while_one_holds_is_refused_naming_the_plan_in_force() {
    let plan_id = command_id();
    let mut account = given([invoice("INV-1").event(), plan_agreed(plan_id)]).into_account();

    // On 08-05 the plan of 07-15 holds, with 400.00 of it overdue.
    let refusal = refused_on(
        &mut account,
        "2026-08-05",
        agree("2026-08-05", &[("2026-09-30", cny("1000.00"))]),
        Reason::PlanAlreadyInForce,
    );

    assert_eq!(
        refusal.metadata("plan_id"),
        Some(plan_id.to_string().as_str())
    );
    assert_eq!(invoice_of(&account, "INV-1").plans.len(), 1);
}

#[test]
fn cancelling_where_no_plan_holds_is_refused() {
    let mut scenario = given([invoice("INV-1").event()]);

    let refusal = scenario
        .when(cancel("2026-06-30"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::NoPlanInForce);

    assert_eq!(
        refusal.precondition_violations[0].subject,
        "invoices/SUB-A/INV-1"
    );
}

#[test]
fn cancelling_a_plan_makes_the_invoice_due_by_its_own_date_again() {
    let plan_id = command_id();
    let mut account = given([invoice("INV-1").event(), plan_agreed(plan_id)]).into_account();
    assert_eq!(overdue(&account, "INV-1", "2026-08-12"), dec("400.00"));

    let recorded = decide_on(&mut account, "2026-08-10", cancel("2026-08-10")).expect("accepted");

    assert_eq!(
        recorded.envelope.event,
        Event::InstalmentPlanCancelled(InstalmentPlanCancelled {
            plan_id,
            invoice: inv("INV-1"),
            agreed_on: date("2026-07-15"),
            cancelled_on: date("2026-08-10"),
            reason: "first instalment missed".to_owned(),
        })
    );
    assert_eq!(recorded.envelope.effective_date, date("2026-08-10"));
    // The plan held to 08-09: 400.00 overdue then (the row of 07-31). From 08-10 the invoice's
    // own due date, 07-01, applies again: all 1,000.00 it owes is overdue.
    assert_eq!(overdue(&account, "INV-1", "2026-08-09"), dec("400.00"));
    assert_eq!(overdue(&account, "INV-1", "2026-08-10"), dec("1000.00"));
    assert_eq!(overdue(&account, "INV-1", "2026-08-12"), dec("1000.00"));
    assert_eq!(
        *invoice_of(&account, "INV-1").schedule_on(date("2026-08-12")),
        [row("2026-07-01", cny("1000.00"))]
    );
}

#[test]
fn after_a_cancellation_all_still_owed_is_overdue_and_a_new_plan_may_follow() {
    let plan_id = command_id();
    let mut account = given([
        invoice("INV-1").event(),
        plan_agreed(plan_id),
        // 400.00 received 08-02 for INV-1 (the instalment of 07-31).
        payment(cny("400.00"))
            .received("2026-08-02")
            .allocate(inv("INV-1"), cny("400.00"))
            .event(),
    ])
    .into_account();
    assert_eq!(overdue(&account, "INV-1", "2026-08-12"), dec("0"));

    decide_on(&mut account, "2026-08-10", cancel("2026-08-10")).expect("accepted");

    // Back on its own due date 07-01: the 1,000.00 - 400.00 = 600.00 it owes is all overdue.
    assert_eq!(overdue(&account, "INV-1", "2026-08-12"), dec("600.00"));

    // A new plan for those 600.00 may be agreed once the first no longer holds.
    let second_id = command_id();
    let recorded = decide_command_on(
        &mut account,
        "2026-08-12",
        second_id,
        agree(
            "2026-08-12",
            &[("2026-08-31", cny("300.00")), ("2026-09-30", cny("300.00"))],
        ),
    )
    .expect("accepted");
    let Event::InstalmentPlanAgreed(second) = recorded.envelope.event else {
        panic!(
            "expected InstalmentPlanAgreed, got {:?}",
            recorded.envelope.event
        );
    };
    assert_eq!(second.plan_id, second_id);
    assert_eq!(second.open_amount, cny("600.00"));
    assert_eq!(second.overdue_amount, cny("600.00"));
    assert_eq!(overdue(&account, "INV-1", "2026-08-20"), dec("0"));
}

#[test]
fn a_cancellation_dated_before_the_plan_was_agreed_is_refused() {
    let plan_id = command_id();
    let mut account = given([invoice("INV-1").event(), plan_agreed(plan_id)]).into_account();

    let refusal = refused_on(
        &mut account,
        "2026-07-15",
        cancel("2026-07-10"),
        Reason::PlanBeforeAgreement,
    );

    assert_eq!(refusal.metadata("agreed_on"), Some("2026-07-15"));
}

// ---------------------------------------------------------------------------------------------
// 6. Early-payment discounts
// ---------------------------------------------------------------------------------------------

/// INV-1 as issued on 30-50-20: 1,000.00 on 2026-06-01, rows 300.00 on 06-01, 500.00 on
/// 06-01 + 60 = 07-31 (29 days to 06-30, 31 more), 200.00 on 07-31 + 30 = 08-30; 2 % off within
/// 10 days, so for a payment received by 06-11.
fn invoice_on_thirty_fifty_twenty() -> Event {
    Event::InvoiceIssued(InvoiceIssued {
        subsidiary_id: subsidiary(SUB_A),
        invoice_number: number("INV-1"),
        amount: cny("1000.00"),
        issue_date: date("2026-06-01"),
        due_date: date("2026-08-30"),
        terms_days: None,
        payment_terms: Some(code(THIRTY_FIFTY_TWENTY)),
        schedule: vec![
            row("2026-06-01", cny("300.00")),
            row("2026-07-31", cny("500.00")),
            row("2026-08-30", cny("200.00")),
        ],
        discount: Some(two_percent_within_ten_days()),
        over_limit: false,
        credit_check: None,
        consumes: None,
    })
}

/// `amount` received on `received` and applied to `number` whole.
fn paid(amount: &str, received: &str, number: &str) -> Event {
    payment(cny(amount))
        .received(received)
        .allocate(inv(number), cny(amount))
        .event()
}

/// The id of the command that recorded the event given at `index`: `given` records every
/// payment under a fresh command id, and a discount names its payment by it.
fn command_id_at(scenario: &Scenario, index: usize) -> CommandId {
    let recorded = &scenario.history()[index];
    assert!(
        matches!(recorded.envelope.event, Event::PaymentReceived(_)),
        "event {index} is not a payment"
    );
    recorded.envelope.command_id
}

fn allow(number: &str, payment_id: CommandId, amount: &str) -> CommandBody {
    CommandBody::AllowDiscount(AllowDiscount {
        invoice: inv(number),
        payment_id,
        amount: cny(amount),
        note: "paid within 10 days".to_owned(),
    })
}

#[test]
fn a_discount_for_a_payment_within_the_window_settles_the_invoice_from_the_payments_date() {
    // 980.00 received 06-08 (within 06-01 + 10 = 06-11).
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("980.00", "2026-06-08", "INV-1"),
    ]);
    let payment_id = command_id_at(&scenario, 1);

    // 2 % of 1,000.00 = 20.00.
    let recorded = scenario
        .when(allow("INV-1", payment_id, "20.00"))
        .then_event(Event::DiscountAllowed(DiscountAllowed {
            invoice: inv("INV-1"),
            payment_id,
            amount: cny("20.00"),
            allowed_on: date("2026-06-08"),
            terms: two_percent_within_ten_days(),
            most_off: cny("20.00"),
            note: "paid within 10 days".to_owned(),
        }));

    assert_eq!(recorded.envelope.effective_date, date("2026-06-08"));
    let invoice = invoice_state(&scenario, "INV-1");
    // 1,000.00 - 980.00 - 20.00 = 0, from 06-08 on.
    assert_eq!(invoice.open, dec("0"));
    assert_eq!(invoice.discounted, dec("20.00"));
    assert_eq!(invoice.open_on(date("2026-06-07")), dec("1000.00"));
    assert_eq!(invoice.open_on(date("2026-06-08")), dec("0"));
    assert_eq!(invoice.overdue_on(date("2026-09-01")), dec("0"));
    assert_eq!(scenario.unapplied_cash(), dec("0"));
}

#[test]
fn a_payment_on_the_windows_last_day_still_earns_the_discount() {
    // 06-01 + 10 days = 06-11.
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("980.00", "2026-06-11", "INV-1"),
    ]);
    let payment_id = command_id_at(&scenario, 1);

    let recorded = scenario
        .when(allow("INV-1", payment_id, "20.00"))
        .then_accepted();

    assert_eq!(recorded.envelope.effective_date, date("2026-06-11"));
    assert_eq!(scenario.open(&inv("INV-1")), dec("0"));
}

#[test]
fn a_payment_received_after_the_windows_last_day_earns_no_discount() {
    // Received 06-12, the day after the last day 06-01 + 10 = 06-11.
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("980.00", "2026-06-12", "INV-1"),
    ]);
    let payment_id = command_id_at(&scenario, 1);

    let refusal = scenario
        .when(allow("INV-1", payment_id, "20.00"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::DiscountWindowClosed,
        );

    assert_eq!(refusal.metadata("last_day"), Some("2026-06-11"));
    assert_eq!(refusal.metadata("received_date"), Some("2026-06-12"));
    assert_eq!(scenario.open(&inv("INV-1")), dec("20.00"));
}

#[test]
fn a_discount_above_the_terms_percentage_is_refused() {
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("980.00", "2026-06-08", "INV-1"),
    ]);
    let payment_id = command_id_at(&scenario, 1);

    // 20.01 > 2 % of 1,000.00 = 20.00.
    let refusal = scenario
        .when(allow("INV-1", payment_id, "20.01"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::DiscountExceedsTerms,
        );

    assert_eq!(refusal.metadata("most_off"), Some("20.00"));
    assert_eq!(refusal.metadata("allowed"), Some("20.00"));
    assert_eq!(invoice_state(&scenario, "INV-1").discounted, dec("0"));
}

#[test]
fn the_discounts_of_an_invoice_together_never_exceed_the_terms() {
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("980.00", "2026-06-08", "INV-1"),
    ]);
    let payment_id = command_id_at(&scenario, 1);
    scenario
        .when(allow("INV-1", payment_id, "10.00"))
        .then_accepted();

    // 10.00 + 10.01 = 20.01 > 20.00: at most 20.00 - 10.00 = 10.00 more.
    let refusal = scenario
        .when(allow("INV-1", payment_id, "10.01"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::DiscountExceedsTerms,
        );
    assert_eq!(refusal.metadata("most_off"), Some("20.00"));
    assert_eq!(refusal.metadata("allowed"), Some("10.00"));
    assert_eq!(refusal.metadata("already_discounted"), Some("10.00"));

    // 10.00 more is exactly the rest: 1,000.00 - 980.00 - 10.00 - 10.00 = 0.
    scenario
        .when(allow("INV-1", payment_id, "10.00"))
        .then_accepted();
    let invoice = invoice_state(&scenario, "INV-1");
    assert_eq!(invoice.discounted, dec("20.00"));
    assert_eq!(invoice.open, dec("0"));
}

#[test]
fn a_discount_on_an_invoice_whose_terms_allow_none_is_refused() {
    // The builder's INV-2: 1,000.00 due 07-01, no discount terms.
    let mut scenario = given([
        invoice("INV-2").event(),
        paid("980.00", "2026-06-08", "INV-2"),
    ]);
    let payment_id = command_id_at(&scenario, 1);

    let refusal = scenario
        .when(allow("INV-2", payment_id, "20.00"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::NoDiscountTerms);

    assert_eq!(
        refusal.precondition_violations[0].subject,
        "invoices/SUB-A/INV-2"
    );
    assert_eq!(scenario.open(&inv("INV-2")), dec("20.00"));
}

#[test]
fn a_payment_not_applied_to_the_invoice_earns_it_no_discount() {
    // 980.00 received 06-08, applied to INV-2, not to INV-1.
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        invoice("INV-2").event(),
        paid("980.00", "2026-06-08", "INV-2"),
    ]);
    let payment_id = command_id_at(&scenario, 2);

    scenario
        .when(allow("INV-1", payment_id, "20.00"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::PaymentNotOnInvoice);

    assert_eq!(scenario.open(&inv("INV-1")), dec("1000.00"));
}

#[test]
fn a_discount_naming_a_payment_the_customer_never_made_is_refused() {
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("980.00", "2026-06-08", "INV-1"),
    ]);

    scenario
        .when(allow("INV-1", command_id(), "20.00"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::PaymentNotFound);
}

#[test]
fn a_reversed_payment_earns_no_discount() {
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("980.00", "2026-06-08", "INV-1"),
    ]);
    let payment_id = command_id_at(&scenario, 1);
    scenario.when(reversal(payment_id)).then_accepted();

    scenario
        .when(allow("INV-1", payment_id, "20.00"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::PaymentAlreadyReversed,
        );
}

#[test]
fn a_token_payment_earns_only_its_share_of_the_discount() {
    // 1.00 received 06-08 earns 1 x 2 / 98 = 0.0204... -> 0.02 (rounded down), not 20.00.
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("1.00", "2026-06-08", "INV-1"),
    ]);
    let payment_id = command_id_at(&scenario, 1);

    let refusal = scenario
        .when(allow("INV-1", payment_id, "20.00"))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::DiscountExceedsTerms,
        );
    assert_eq!(refusal.metadata("paid"), Some("1.00"));
    assert_eq!(refusal.metadata("allowed"), Some("0.02"));
    scenario
        .when(allow("INV-1", payment_id, "0.02"))
        .then_accepted();
    // 1,000.00 - 1.00 - 0.02.
    assert_eq!(invoice_state(&scenario, "INV-1").open, dec("998.98"));
}

#[test]
fn reversing_a_payment_voids_the_discount_it_earned() {
    let mut scenario = given([
        invoice_on_thirty_fifty_twenty(),
        paid("980.00", "2026-06-08", "INV-1"),
    ]);
    let payment_id = command_id_at(&scenario, 1);
    scenario
        .when(allow("INV-1", payment_id, "20.00"))
        .then_accepted();
    assert_eq!(invoice_state(&scenario, "INV-1").open, dec("0"));

    let recorded = scenario.when(reversal(payment_id)).then_accepted();

    let Event::PaymentReversed(reversed) = &recorded.envelope.event else {
        panic!("a reversal: {:?}", recorded.envelope.event);
    };
    assert_eq!(reversed.discounts.len(), 1);
    assert_eq!(reversed.discounts[0].amount, cny("20.00"));
    // The 980.00 and the 20.00 discount are owed again, from the reversal's date.
    let invoice = invoice_state(&scenario, "INV-1");
    assert_eq!(invoice.open, dec("1000.00"));
    assert_eq!(invoice.discounted, dec("0.00"));
}

#[test]
fn a_plan_cancelled_already_cannot_be_cancelled_again_at_an_earlier_date() {
    let plan_id = command_id();
    let mut account = given([invoice("INV-1").event(), plan_agreed(plan_id)]).into_account();
    decide_on(&mut account, "2026-08-10", cancel("2026-08-10")).expect("accepted");

    let refusal = refused_on(
        &mut account,
        "2026-08-10",
        cancel("2026-08-05"),
        Reason::NoPlanInForce,
    );

    assert_eq!(refusal.metadata("cancelled_on"), Some("2026-08-10"));
}
