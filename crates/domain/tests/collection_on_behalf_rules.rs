//! The group's collection-on-behalf setting, one rule per test: given the group's settings,
//! when a setting is changed, then this event or this refusal; and the setting lives in the
//! group's own account only, never in a customer's.

mod support;

use receivables_domain::account::CustomerAccount;
use receivables_domain::account::collection_on_behalf::{
    CollectionOnBehalfSet, SetCollectionOnBehalf,
};
use receivables_domain::command::CommandBody;
use receivables_domain::event::{Event, RecordedEvent};
use receivables_domain::ids::{CustomerId, Position};
use receivables_domain::refusal::{Reason, RefusalCode};
use support::*;

/// "S2 collects on behalf of S1", enabled, approved by Chen Jing.
fn set(collector: &str, on_behalf_of: &str, enabled: bool) -> CommandBody {
    CommandBody::SetCollectionOnBehalf(SetCollectionOnBehalf {
        collector_id: subsidiary(collector),
        on_behalf_of_id: subsidiary(on_behalf_of),
        enabled,
        reason: "treasury centralisation".to_owned(),
        approved_by: person("Chen Jing"),
    })
}

fn enabled_event(collector: &str, on_behalf_of: &str) -> Event {
    Event::CollectionOnBehalfSet(CollectionOnBehalfSet {
        collector_id: subsidiary(collector),
        on_behalf_of_id: subsidiary(on_behalf_of),
        enabled: true,
        reason: "treasury centralisation".to_owned(),
        approved_by: person("Chen Jing"),
    })
}

#[test]
fn enabling_records_the_pair_with_its_reason_and_approver_in_the_group_account() {
    let mut group = given_group([]);

    let recorded = group
        .when(set("S2", "S1", true))
        .then_event(enabled_event("S2", "S1"));

    assert_eq!(recorded.envelope.customer_id, CustomerId::group());
    assert_eq!(recorded.envelope.subsidiary_id, None);
    // A setting has no business date of its own: it applies from the day it is recorded.
    assert_eq!(recorded.envelope.effective_date, date("2026-06-30"));
    let settings = group.account().state().collection_on_behalf();
    assert!(settings.permits(&subsidiary("S2"), &subsidiary("S1")));
    assert_eq!(
        settings.on_behalf_of(&subsidiary("S2")),
        vec![subsidiary("S1")]
    );
}

#[test]
fn the_setting_is_directed_s2_for_s1_is_not_s1_for_s2() {
    let group = given_group([enabled_event("S2", "S1")]);

    let settings = group.account().state().collection_on_behalf();
    assert!(!settings.permits(&subsidiary("S1"), &subsidiary("S2")));
    assert!(settings.on_behalf_of(&subsidiary("S1")).is_empty());
}

#[test]
fn pairs_are_kept_apart_s2_may_collect_for_s1_and_s3() {
    let mut group = given_group([enabled_event("S2", "S1")]);

    group.when(set("S2", "S3", true)).then_accepted();

    let settings = group.account().state().collection_on_behalf();
    assert_eq!(
        settings.on_behalf_of(&subsidiary("S2")),
        vec![subsidiary("S1"), subsidiary("S3")]
    );
    assert_eq!(settings.pairs().count(), 2);
}

#[test]
fn disabling_removes_only_that_pair() {
    let mut group = given_group([enabled_event("S2", "S1"), enabled_event("S2", "S3")]);

    group.when(set("S2", "S1", false)).then_accepted();

    let settings = group.account().state().collection_on_behalf();
    assert!(!settings.permits(&subsidiary("S2"), &subsidiary("S1")));
    assert!(settings.permits(&subsidiary("S2"), &subsidiary("S3")));
}

#[test]
fn enabling_what_is_enabled_is_refused_as_unchanged() {
    let mut group = given_group([enabled_event("S2", "S1")]);

    let refusal = group.when(set("S2", "S1", true)).then_refused(
        RefusalCode::FailedPrecondition,
        Reason::CollectionOnBehalfUnchanged,
    );

    assert_eq!(
        refusal.precondition_violations[0].subject,
        "group/collection_on_behalf/S2/S1"
    );
    assert!(refusal.message.contains("already enabled"), "{refusal}");
}

#[test]
fn disabling_what_was_never_enabled_is_refused_as_unchanged() {
    let mut group = given_group([]);

    let refusal = group.when(set("S2", "S1", false)).then_refused(
        RefusalCode::FailedPrecondition,
        Reason::CollectionOnBehalfUnchanged,
    );

    assert!(refusal.message.contains("already not enabled"), "{refusal}");
}

#[test]
fn a_subsidiary_collecting_on_its_own_behalf_is_refused_naming_the_field() {
    let mut group = given_group([]);

    group
        .when(set("S1", "S1", true))
        .then_invalid("on_behalf_of_id");
}

#[test]
fn a_blank_reason_is_refused_naming_the_field() {
    let mut group = given_group([]);
    let CommandBody::SetCollectionOnBehalf(mut command) = set("S2", "S1", true) else {
        unreachable!()
    };
    command.reason = "  ".to_owned();

    group
        .when(CommandBody::SetCollectionOnBehalf(command))
        .then_invalid("reason");
}

#[test]
fn a_retried_setting_is_answered_with_its_first_event() {
    let mut group = given_group([]);
    let id = command_id();
    let first = group
        .when_command(id, set("S2", "S1", true))
        .then_accepted();

    let again = group
        .when_command(id, set("S2", "S1", true))
        .then_already_accepted();

    assert_eq!(again, first);
}

#[test]
fn a_setting_addressed_to_a_customer_account_is_refused_naming_the_customer() {
    let mut customer = given([]);

    let refusal = customer
        .when(set("S2", "S1", true))
        .then_invalid("customer_id");

    assert!(refusal.message.contains("group's own account"), "{refusal}");
}

#[test]
fn a_customer_command_addressed_to_the_group_account_is_refused_naming_the_customer() {
    let mut group = given_group([]);

    group.when(invoice("INV-1")).then_invalid("customer_id");
    group
        .when(payment(cny("100.00")).on_account())
        .then_invalid("customer_id");
}

#[test]
fn a_setting_read_back_from_a_customer_log_breaks_the_invariants() {
    // A log where a group setting sits in customer C-1's history: the account refuses to
    // believe it and stays as it was.
    let mut account = CustomerAccount::new(customer_id());
    let forged: RecordedEvent = recorded_after(&account, enabled_event("S2", "S1"), 1);

    let violation = account.apply(&forged).expect_err("not a customer's event");

    assert!(
        violation.problem.contains("CollectionOnBehalfSet"),
        "{violation}"
    );
    assert_eq!(account.position(), Position::ZERO);
}

#[test]
fn an_invoice_read_back_from_the_group_log_breaks_the_invariants() {
    let mut group = CustomerAccount::new(CustomerId::group());
    let mut forged = recorded(invoice("INV-1").event(), 1);
    forged.envelope.customer_id = CustomerId::group();
    let forged = RecordedEvent {
        position: forged.position,
        envelope: chained(forged.envelope, &group),
    };

    let violation = group.apply(&forged).expect_err("not the group's event");

    assert!(
        violation.problem.contains("reserved for the group"),
        "{violation}"
    );
    assert_eq!(group.event_count(), 0);
}

#[test]
fn the_group_account_id_is_a_valid_id_that_no_customer_is_given() {
    // "_group" parses, so the log keeps it like any account; the wire mapping and the account
    // refuse it for customers (tested above and over gRPC).
    let group = CustomerId::parse("_group").expect("a valid id");
    assert!(group.is_group());
    assert_eq!(group, CustomerId::group());
    assert!(!customer_id().is_group());
}
