//! Customer records and collector assignments, one rule per test: given the account, when a
//! record is registered or updated or a collector assigned, then this event or this refusal.

mod support;

use receivables_domain::account::collector::{AssignCollector, CollectorAssigned};
use receivables_domain::account::customer::{
    CustomerRegistered, CustomerUpdated, RegisterCustomer, UpdateCustomer,
};
use receivables_domain::command::CommandBody;
use receivables_domain::customer::{Contact, CountryCode, CustomerProfile};
use receivables_domain::event::Event;
use receivables_domain::ids::CustomerId;
use receivables_domain::limits::{CONTACTS_PER_CUSTOMER_MAX, CUSTOMER_NAME_LENGTH_MAX};
use receivables_domain::refusal::{Reason, RefusalCode};
use support::*;

/// Hongda Trading of Shanghai, with its accounts-payable contact.
fn profile() -> CustomerProfile {
    CustomerProfile {
        name: "Hongda Trading".to_owned(),
        legal_name: "Shanghai Hongda Trading Co., Ltd.".to_owned(),
        tax_id: "91310000MA1FL0XX1X".to_owned(),
        country: Some(CountryCode::parse("CN").expect("an assigned code")),
        contacts: vec![Contact {
            name: person("Wang Fang"),
            email: "ap@hongda.example.cn".to_owned(),
            phone: "+86 21 5888 1234".to_owned(),
            role: "accounts payable".to_owned(),
        }],
        industry: "wholesale".to_owned(),
        notes: "pays on the 25th".to_owned(),
    }
}

fn register(profile: CustomerProfile) -> CommandBody {
    CommandBody::RegisterCustomer(RegisterCustomer { profile })
}

fn update(profile: CustomerProfile) -> CommandBody {
    CommandBody::UpdateCustomer(UpdateCustomer { profile })
}

fn registered(profile: CustomerProfile) -> Event {
    Event::CustomerRegistered(CustomerRegistered { profile })
}

fn assign(collector: Option<&str>) -> CommandBody {
    CommandBody::AssignCollector(AssignCollector {
        default_for: None,
        collector: collector.map(person),
    })
}

fn assign_default(subsidiary_id: &str, collector: Option<&str>) -> CommandBody {
    CommandBody::AssignCollector(AssignCollector {
        default_for: Some(subsidiary(subsidiary_id)),
        collector: collector.map(person),
    })
}

fn assigned(collector: &str) -> Event {
    Event::CollectorAssigned(CollectorAssigned {
        default_for: None,
        collector: Some(person(collector)),
    })
}

#[test]
fn a_new_customer_is_registered_with_its_whole_record() {
    let mut account = given([]);

    let recorded = account
        .when(register(profile()))
        .then_event(registered(profile()));

    assert_eq!(recorded.envelope.subsidiary_id, None);
    // A record has no business date: it applies from the day it is recorded.
    assert_eq!(recorded.envelope.effective_date, date("2026-06-30"));
    assert_eq!(account.account().state().profile(), Some(&profile()));
}

#[test]
fn a_customer_whose_invoices_came_first_is_registered_later() {
    let mut account = given([invoice("INV-1").event()]);

    account.when(register(profile())).then_accepted();

    assert_eq!(
        account.account().state().profile().map(|p| p.name.as_str()),
        Some("Hongda Trading")
    );
    assert_eq!(account.account().state().open_invoices().count(), 1);
}

#[test]
fn registering_a_registered_customer_is_refused() {
    let mut account = given([registered(profile())]);

    let refusal = account.when(register(profile())).then_refused(
        RefusalCode::FailedPrecondition,
        Reason::CustomerAlreadyRegistered,
    );

    assert_eq!(refusal.precondition_violations[0].subject, "customer/C-1");
    assert!(refusal.message.contains("UpdateCustomer"), "{refusal}");
}

#[test]
fn an_update_replaces_the_whole_record() {
    let mut account = given([registered(profile())]);
    let mut moved = profile();
    moved.contacts.clear();
    moved.contacts.push(Contact {
        name: person("Zhao Lei"),
        email: String::new(),
        phone: "021 6000 2000".to_owned(),
        role: String::new(),
    });
    moved.notes = String::new();

    account
        .when(update(moved.clone()))
        .then_event(Event::CustomerUpdated(CustomerUpdated {
            profile: moved.clone(),
        }));

    assert_eq!(account.account().state().profile(), Some(&moved));
}

#[test]
fn updating_an_unregistered_customer_is_refused() {
    let mut account = given([invoice("INV-1").event()]);

    account.when(update(profile())).then_refused(
        RefusalCode::FailedPrecondition,
        Reason::CustomerNotRegistered,
    );
}

#[test]
fn an_update_that_changes_nothing_is_refused() {
    let mut account = given([registered(profile())]);

    account
        .when(update(profile()))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CustomerUnchanged);
}

#[test]
fn every_bad_field_of_a_record_is_named_at_once() {
    let mut account = given([]);
    let mut bad = profile();
    bad.name = "   ".to_owned();
    bad.tax_id = "9131#0000".to_owned();
    bad.legal_name = "x".repeat(CUSTOMER_NAME_LENGTH_MAX + 1);
    bad.contacts = vec![
        Contact {
            name: person("Wang Fang"),
            email: "wang.fang".to_owned(),
            phone: "12".to_owned(),
            role: String::new(),
        },
        Contact {
            name: person("Li Na"),
            email: String::new(),
            phone: String::new(),
            role: "buyer".to_owned(),
        },
    ];

    let refusal = account.when(register(bad)).then_invalid("profile.name");

    let fields: Vec<&str> = refusal
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "profile.legal_name",
            "profile.name",
            "profile.tax_id",
            "profile.contacts[0].email",
            "profile.contacts[0].phone",
            "profile.contacts[1].email",
        ]
    );
}

#[test]
fn more_contacts_than_the_limit_are_refused() {
    let mut account = given([]);
    let mut crowded = profile();
    crowded.contacts = vec![crowded.contacts[0].clone(); CONTACTS_PER_CUSTOMER_MAX + 1];

    account
        .when(register(crowded))
        .then_invalid("profile.contacts");
}

#[test]
fn a_record_for_the_group_account_is_refused_naming_the_customer() {
    let mut group = given_group([]);

    group.when(register(profile())).then_invalid("customer_id");
}

#[test]
fn a_collector_is_assigned_to_the_customer_and_reassigned() {
    let mut account = given([]);

    account
        .when(assign(Some("Zhou Min")))
        .then_event(assigned("Zhou Min"));
    account.when(assign(Some("Sun Li"))).then_accepted();

    assert_eq!(
        account.account().state().collector(),
        Some(&person("Sun Li"))
    );
}

#[test]
fn assigning_the_same_collector_again_is_refused() {
    let mut account = given([assigned("Zhou Min")]);

    let refusal = account
        .when(assign(Some("Zhou Min")))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CollectorUnchanged);

    assert_eq!(
        refusal.precondition_violations[0].subject,
        "customer/C-1/collector"
    );
}

#[test]
fn an_assignment_is_removed_and_removing_none_is_refused() {
    let mut account = given([assigned("Zhou Min")]);

    account.when(assign(None)).then_accepted();
    assert_eq!(account.account().state().collector(), None);

    account
        .when(assign(None))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CollectorUnchanged);
}

#[test]
fn a_subsidiary_default_lives_in_the_group_account() {
    let mut group = given_group([]);

    let recorded = group
        .when(assign_default("S1", Some("Zhou Min")))
        .then_accepted();

    assert_eq!(recorded.envelope.customer_id, CustomerId::group());
    let state = group.account().state();
    assert_eq!(
        state.default_collector(&subsidiary("S1")),
        Some(&person("Zhou Min"))
    );
    assert_eq!(state.default_collector(&subsidiary("S2")), None);
}

#[test]
fn a_subsidiary_default_addressed_to_a_customer_is_refused_and_a_customer_assignment_to_the_group()
{
    let mut account = given([]);
    account
        .when(assign_default("S1", Some("Zhou Min")))
        .then_invalid("customer_id");

    let mut group = given_group([]);
    group
        .when(assign(Some("Zhou Min")))
        .then_invalid("customer_id");
}
