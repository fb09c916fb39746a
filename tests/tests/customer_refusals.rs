//! Bad input to `RegisterCustomer`, `UpdateCustomer` and `AssignCollector` over real gRPC
//! against a real `nats-server` with JetStream that every case starts for itself: each case
//! sends one bad request, checks the refusal (every offending field named), then that nothing
//! was appended to the stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_tests::refusals::*;
use receivables_tests::*;

fn profile() -> pb::CustomerProfile {
    pb::CustomerProfile {
        name: "Hongda Trading".to_owned(),
        legal_name: "Shanghai Hongda Trading Co., Ltd.".to_owned(),
        tax_id: "91310000MA1FL0XX1X".to_owned(),
        country: "CN".to_owned(),
        contacts: vec![pb::Contact {
            name: "Wang Fang".to_owned(),
            email: "ap@hongda.example.cn".to_owned(),
            phone: "+86 21 5888 1234".to_owned(),
            role: "accounts payable".to_owned(),
        }],
        industry: "wholesale".to_owned(),
        notes: String::new(),
    }
}

fn register(profile: pb::CustomerProfile) -> pb::RegisterCustomerRequest {
    pb::RegisterCustomerRequest {
        command_id: command_id(),
        customer_id: "HONGDA".to_owned(),
        profile: Some(profile),
    }
}

fn assign(customer: &str, default_for: &str, collector: &str) -> pb::AssignCollectorRequest {
    pb::AssignCollectorRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        default_for_subsidiary_id: default_for.to_owned(),
        collector: collector.to_owned(),
    }
}

/// The fields a refusal names, in its order.
fn fields(status: &tonic::Status) -> Vec<String> {
    field_violations(status)
        .into_iter()
        .map(|v| v.field)
        .collect()
}

/// The fields the refusal of registering `profile` names.
async fn refused_registration(profile: pb::CustomerProfile) -> Option<Vec<String>> {
    refused_request(register(profile)).await
}

/// The fields the refusal of `request` names, sent to a fresh service.
async fn refused_request(request: pb::RegisterCustomerRequest) -> Option<Vec<String>> {
    let world = RefusalWorld::start().await?;
    let status = world
        .refused(world.client.clone().register_customer(request))
        .await;
    Some(fields(&status))
}

/// The fields the refusal of assigning as `request` asks names, sent to a fresh service.
async fn refused_assignment(request: pb::AssignCollectorRequest) -> Option<Vec<String>> {
    let world = RefusalWorld::start().await?;
    let status = world
        .refused(world.client.clone().assign_collector(request))
        .await;
    Some(fields(&status))
}

#[tokio::test]
async fn a_blank_name_is_refused() {
    let Some(fields) = refused_registration(pb::CustomerProfile {
        name: "  ".to_owned(),
        ..profile()
    })
    .await
    else {
        return;
    };
    assert_eq!(fields, ["profile.name"]);
}

#[tokio::test]
async fn a_country_that_is_not_an_assigned_code_is_refused() {
    let Some(fields) = refused_registration(pb::CustomerProfile {
        country: "UK".to_owned(),
        ..profile()
    })
    .await
    else {
        return;
    };
    assert_eq!(fields, ["profile.country"]);
}

#[tokio::test]
async fn a_malformed_e_mail_address_is_refused() {
    let mut bad = profile();
    bad.contacts[0].email = "wang.fang at hongda".to_owned();
    let Some(fields) = refused_registration(bad).await else {
        return;
    };
    assert_eq!(fields, ["profile.contacts[0].email"]);
}

#[tokio::test]
async fn a_contact_without_an_address_or_a_number_is_refused() {
    let mut bad = profile();
    bad.contacts[0].email = String::new();
    bad.contacts[0].phone = String::new();
    let Some(fields) = refused_registration(bad).await else {
        return;
    };
    assert_eq!(fields, ["profile.contacts[0].email"]);
}

#[tokio::test]
async fn more_than_twenty_contacts_are_refused() {
    let mut bad = profile();
    bad.contacts = vec![bad.contacts[0].clone(); 21];
    let Some(fields) = refused_registration(bad).await else {
        return;
    };
    assert_eq!(fields, ["profile.contacts"]);
}

#[tokio::test]
async fn an_overlong_legal_name_and_a_bad_tax_id_are_named_together() {
    let Some(fields) = refused_registration(pb::CustomerProfile {
        legal_name: "x".repeat(201),
        tax_id: "9131#0000".to_owned(),
        ..profile()
    })
    .await
    else {
        return;
    };
    assert_eq!(fields, ["profile.legal_name", "profile.tax_id"]);
}

#[tokio::test]
async fn a_contact_without_a_name_and_with_a_short_number_names_both() {
    let mut bad = profile();
    bad.contacts[0].name = String::new();
    bad.contacts[0].phone = "1234".to_owned();
    let Some(fields) = refused_registration(bad).await else {
        return;
    };
    assert_eq!(
        fields,
        ["profile.contacts[0].name", "profile.contacts[0].phone"]
    );
}

#[tokio::test]
async fn a_registration_without_a_record_is_refused() {
    let Some(fields) = refused_request(pb::RegisterCustomerRequest {
        profile: None,
        ..register(profile())
    })
    .await
    else {
        return;
    };
    assert_eq!(fields, ["profile"]);
}

#[tokio::test]
async fn the_group_account_cannot_be_registered_as_a_customer() {
    let Some(fields) = refused_request(pb::RegisterCustomerRequest {
        customer_id: "_group".to_owned(),
        ..register(profile())
    })
    .await
    else {
        return;
    };
    assert_eq!(fields, ["customer_id"]);
}

#[tokio::test]
async fn registering_twice_is_refused_and_so_is_updating_an_unregistered_customer() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let mut client = world.client.clone();
    client.register_customer(register(profile())).await.unwrap();

    let status = world
        .refused(client.clone().register_customer(register(profile())))
        .await;
    precondition_refused(&status, "CUSTOMER_ALREADY_REGISTERED", "customer/HONGDA");
    let status = world
        .refused(client.clone().update_customer(pb::UpdateCustomerRequest {
            command_id: command_id(),
            customer_id: "NEWCO".to_owned(),
            profile: Some(profile()),
        }))
        .await;
    precondition_refused(&status, "CUSTOMER_NOT_REGISTERED", "customer/NEWCO");
    let status = world
        .refused(client.clone().update_customer(pb::UpdateCustomerRequest {
            command_id: command_id(),
            customer_id: "HONGDA".to_owned(),
            profile: Some(profile()),
        }))
        .await;
    precondition_refused(&status, "CUSTOMER_UNCHANGED", "customer/HONGDA");
}

#[tokio::test]
async fn an_assignment_for_a_customer_and_a_subsidiary_at_once_is_refused() {
    let Some(fields) = refused_assignment(assign("HONGDA", "SUB-SH", "Zhou Min")).await else {
        return;
    };
    assert_eq!(fields, ["default_for_subsidiary_id"]);
}

#[tokio::test]
async fn an_assignment_for_nobody_is_refused() {
    let Some(fields) = refused_assignment(assign("", "", "Zhou Min")).await else {
        return;
    };
    assert_eq!(fields, ["customer_id"]);
}

#[tokio::test]
async fn a_default_for_a_malformed_subsidiary_and_a_bad_collector_name_are_named_together() {
    let Some(fields) = refused_assignment(assign("", "SUB SH", "Zhou\u{7}Min")).await else {
        return;
    };
    assert_eq!(fields, ["collector", "default_for_subsidiary_id"]);
}

#[tokio::test]
async fn removing_a_collector_that_was_never_assigned_is_refused() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .assign_collector(assign("HONGDA", "", "")),
        )
        .await;
    precondition_refused(&status, "COLLECTOR_UNCHANGED", "customer/HONGDA/collector");
}
