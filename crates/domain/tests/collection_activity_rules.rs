//! Collection activities, one rule per test: given the account's events, when a collector records
//! a contact, then this event or this refusal. The support module decides on the business date
//! 2026-06-30.

mod support;

use receivables_domain::account::collection_activity::{
    Channel, CollectionActivityRecorded, Outcome, RecordCollectionActivity,
};
use receivables_domain::command::CommandBody;
use receivables_domain::event::Event;
use receivables_domain::limits::{INVOICES_PER_ACTIVITY_MAX, NOTE_LENGTH_MAX};
use receivables_domain::refusal::{Reason, RefusalCode};
use support::*;

/// Wang Fang called about `SUB-A/INV-1` on `on`, reached the customer, and acts again on `next`.
fn call(on: &str, next: Option<&str>) -> RecordCollectionActivity {
    RecordCollectionActivity {
        subsidiary_id: subsidiary(SUB_A),
        channel: Channel::Call,
        outcome: Outcome::Reached,
        occurred_on: date(on),
        collector: person("Wang Fang"),
        contact: "Li Na, accounts payable".to_owned(),
        note: "payment approved".to_owned(),
        next_action_on: next.map(date),
        invoices: vec![key(SUB_A, "INV-1")],
    }
}

fn body(command: RecordCollectionActivity) -> CommandBody {
    CommandBody::RecordCollectionActivity(command)
}

#[test]
fn a_contact_about_an_issued_invoice_is_recorded_as_given() {
    let mut scenario = given([invoice("INV-1").event()]);
    let command = call("2026-06-29", Some("2026-07-06"));
    let event = scenario.when(body(command.clone())).then_accepted();
    assert_eq!(
        event.envelope.event,
        Event::CollectionActivityRecorded(CollectionActivityRecorded {
            subsidiary_id: command.subsidiary_id,
            channel: Channel::Call,
            outcome: Outcome::Reached,
            occurred_on: date("2026-06-29"),
            collector: person("Wang Fang"),
            contact: "Li Na, accounts payable".to_owned(),
            note: "payment approved".to_owned(),
            next_action_on: Some(date("2026-07-06")),
            invoices: vec![key(SUB_A, "INV-1")],
        })
    );
    assert_eq!(event.envelope.effective_date, date("2026-06-29"));
}

#[test]
fn a_contact_about_the_whole_account_without_a_plan_is_recorded() {
    let mut scenario = given([]);
    let command = RecordCollectionActivity {
        channel: Channel::Email,
        outcome: Outcome::NoAnswer,
        contact: String::new(),
        invoices: Vec::new(),
        ..call("2026-06-30", None)
    };
    scenario.when(body(command)).then_accepted();
}

#[test]
fn a_contact_about_an_invoice_the_account_never_issued_is_refused_naming_each() {
    let mut scenario = given([invoice("INV-1").event()]);
    let command = RecordCollectionActivity {
        invoices: vec![
            key(SUB_A, "INV-1"),
            key(SUB_A, "INV-9"),
            key(SUB_B, "INV-1"),
        ],
        ..call("2026-06-29", None)
    };
    let refusal = scenario
        .when(body(command))
        .then_refused(RefusalCode::FailedPrecondition, Reason::InvoiceNotFound);
    let subjects: Vec<&str> = refusal
        .precondition_violations
        .iter()
        .map(|v| v.subject.as_str())
        .collect();
    assert_eq!(subjects, ["invoices/SUB-A/INV-9", "invoices/SUB-B/INV-1"]);
}

#[test]
fn a_paid_invoice_can_still_be_talked_about() {
    let mut scenario = given([
        invoice("INV-1").amount(cny("1000.00")).event(),
        payment(cny("1000.00"))
            .allocate(key(SUB_A, "INV-1"), cny("1000.00"))
            .event(),
    ]);
    scenario
        .when(body(call("2026-06-30", None)))
        .then_accepted();
}

#[test]
fn a_contact_dated_after_tomorrow_is_refused() {
    let mut scenario = given([invoice("INV-1").event()]);
    // Today is 06-30; one day of clock difference is allowed, 07-02 is not.
    scenario
        .when(body(call("2026-07-01", None)))
        .then_accepted();
    scenario
        .when(body(call("2026-07-02", None)))
        .then_invalid("occurred_on");
}

#[test]
fn the_next_action_lies_from_the_day_of_the_contact_to_a_year_after() {
    let mut scenario = given([invoice("INV-1").event()]);
    scenario
        .when(body(call("2026-06-20", Some("2026-06-19"))))
        .then_invalid("next_action_on");
    // 366 days after 2026-06-20 is 2027-06-21 (no 29 February in between).
    scenario
        .when(body(call("2026-06-20", Some("2027-06-22"))))
        .then_invalid("next_action_on");
    scenario
        .when(body(call("2026-06-20", Some("2027-06-21"))))
        .then_accepted();
    scenario
        .when(body(call("2026-06-20", Some("2026-06-20"))))
        .then_accepted();
}

#[test]
fn every_bad_field_is_named_at_once() {
    let mut scenario = given([invoice("INV-1").event()]);
    let command = RecordCollectionActivity {
        contact: "x".repeat(201),
        note: "y".repeat(NOTE_LENGTH_MAX + 1),
        invoices: vec![key(SUB_A, "INV-1"), key(SUB_A, "INV-1")],
        ..call("2026-06-20", Some("2026-06-01"))
    };
    let refusal = scenario
        .when(body(command))
        .then_refused(RefusalCode::InvalidArgument, Reason::InvalidCommand);
    let fields: Vec<&str> = refusal
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, ["next_action_on", "invoices[1]", "contact", "note"]);
}

#[test]
fn more_invoices_than_the_limit_are_refused() {
    let mut scenario = given([]);
    let command = RecordCollectionActivity {
        invoices: (0..=INVOICES_PER_ACTIVITY_MAX)
            .map(|n| key(SUB_A, &format!("INV-{n}")))
            .collect(),
        ..call("2026-06-20", None)
    };
    scenario.when(body(command)).then_invalid("invoices");
}

#[test]
fn a_retried_contact_is_answered_with_its_first_event() {
    let mut scenario = given([invoice("INV-1").event()]);
    let id = command_id();
    let first = scenario
        .when_command(id, body(call("2026-06-29", None)))
        .then_accepted();
    let again = scenario
        .when_command(id, body(call("2026-06-29", None)))
        .then_already_accepted();
    assert_eq!(again.envelope.event_id, first.envelope.event_id);
}
