//! Bad input to credit at order time (`ReserveCredit`, `ReleaseCredit`, an invoice naming an
//! order, the overdue hold, `CheckCredit`), over real gRPC against a real `nats-server` with
//! JetStream that every case starts for itself: each case sends one bad request, checks the
//! refusal (every offending field named, or the precondition, its subject and its figures),
//! then that nothing was appended to the stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_tests::refusals::*;
use receivables_tests::*;
use tonic::Code;
use tonic_types::StatusExt;

const CUSTOMER: &str = "ACME";
const SUBSIDIARY: &str = "SUB-SH";

fn reserve(
    order: &str,
    amount: &str,
    reserved_on: &str,
    expires_on: &str,
) -> pb::ReserveCreditRequest {
    pb::ReserveCreditRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUBSIDIARY.to_owned(),
        order_number: order.to_owned(),
        amount: cny(amount),
        reserved_on: reserved_on.to_owned(),
        expires_on: expires_on.to_owned(),
    }
}

fn release(order: &str, amount: Option<&str>, released_on: &str) -> pb::ReleaseCreditRequest {
    pb::ReleaseCreditRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUBSIDIARY.to_owned(),
        order_number: order.to_owned(),
        amount: amount.and_then(cny),
        released_on: released_on.to_owned(),
        reason: "order cancelled".to_owned(),
    }
}

fn names(status: &tonic::Status) -> Vec<String> {
    field_violations(status)
        .into_iter()
        .map(|v| v.field)
        .collect()
}

async fn refused_reservation(request: pb::ReserveCreditRequest) -> Option<Vec<String>> {
    let world = RefusalWorld::start().await?;
    let status = world
        .refused(world.client.clone().reserve_credit(request))
        .await;
    Some(names(&status))
}

/// A world where `SO-1` holds 1,000.00 CNY for ACME from 2026-06-01 to 2026-06-30.
async fn with_reservation() -> Option<RefusalWorld> {
    let world = RefusalWorld::start().await?;
    world
        .client
        .clone()
        .reserve_credit(reserve("SO-1", "1000", "2026-06-01", "2026-06-30"))
        .await
        .unwrap();
    Some(world)
}

// ReserveCredit

#[tokio::test]
async fn every_bad_field_of_a_reservation_is_named_at_once() {
    let Some(fields) = refused_reservation(pb::ReserveCreditRequest {
        command_id: "not-a-uuid".to_owned(),
        customer_id: String::new(),
        subsidiary_id: "SUB SH".to_owned(),
        order_number: String::new(),
        amount: cny("-1"),
        reserved_on: "2026-02-30".to_owned(),
        expires_on: String::new(),
    })
    .await
    else {
        return;
    };
    assert_eq!(
        fields,
        [
            "command_id",
            "customer_id",
            "subsidiary_id",
            "order_number",
            "amount.amount",
            "reserved_on",
            "expires_on"
        ]
    );
}

#[tokio::test]
async fn an_expiry_before_the_reservation_is_refused() {
    let Some(fields) =
        refused_reservation(reserve("SO-1", "100", "2026-06-10", "2026-06-09")).await
    else {
        return;
    };
    assert_eq!(fields, ["expires_on"]);
}

#[tokio::test]
async fn an_expiry_more_than_366_days_after_the_reservation_is_refused() {
    // 2026-06-10 + 366 days = 2027-06-11.
    let Some(fields) =
        refused_reservation(reserve("SO-1", "100", "2026-06-10", "2027-06-12")).await
    else {
        return;
    };
    assert_eq!(fields, ["expires_on"]);
}

#[tokio::test]
async fn a_reservation_two_days_ahead_of_the_service_is_refused() {
    let Some(fields) = refused_reservation(reserve(
        "SO-1",
        "100",
        &date_from_today(2),
        &date_from_today(30),
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["reserved_on"]);
}

#[tokio::test]
async fn a_reservation_over_a_block_limit_is_refused_with_the_figures() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let mut client = world.client.clone();
    client
        .change_credit_limit(credit_limit(CUSTOMER, "5000", pb::CreditPolicy::Block))
        .await
        .unwrap();
    client
        .reserve_credit(reserve("SO-1", "3000", "2026-06-01", "2026-06-30"))
        .await
        .unwrap();
    // 3,000.00 reserved + 2,000.01 = 5,000.01: 0.01 above the limit.
    let status = world
        .refused(client.reserve_credit(reserve("SO-2", "2000.01", "2026-06-02", "2026-06-30")))
        .await;
    let (_, metadata) = precondition_refused(
        &status,
        "CREDIT_LIMIT_EXCEEDED",
        "customers/ACME/credit_limit",
    );
    assert_eq!(metadata["limit"], "5000.00");
    assert_eq!(metadata["exposure"], "3000.00");
    assert_eq!(metadata["reservation_amount"], "2000.01");
    assert_eq!(metadata["shortfall"], "0.01");
}

#[tokio::test]
async fn an_order_number_reserved_before_is_refused() {
    let Some(world) = with_reservation().await else {
        return;
    };
    let status = world
        .refused(world.client.clone().reserve_credit(reserve(
            "SO-1",
            "10",
            "2026-06-02",
            "2026-06-30",
        )))
        .await;
    let metadata = error_metadata(&status, Code::AlreadyExists, "DUPLICATE_ORDER_NUMBER");
    assert_eq!(metadata["order_number"], "SO-1");
    assert_eq!(metadata["subsidiary_id"], SUBSIDIARY);
}

#[tokio::test]
async fn an_order_number_of_another_customer_is_refused() {
    let Some(world) = with_reservation().await else {
        return;
    };
    // The subsidiary's order numbers are unique across every customer.
    let status = world
        .refused(
            world
                .client
                .clone()
                .reserve_credit(pb::ReserveCreditRequest {
                    customer_id: "BETA".to_owned(),
                    ..reserve("SO-1", "10", "2026-06-02", "2026-06-30")
                }),
        )
        .await;
    let metadata = error_metadata(&status, Code::AlreadyExists, "DUPLICATE_ORDER_NUMBER");
    assert_eq!(metadata["order_number"], "SO-1");
}

#[tokio::test]
async fn a_reservation_under_an_overdue_hold_is_refused_with_what_is_overdue() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let mut client = world.client.clone();
    client
        .change_credit_limit(pb::ChangeCreditLimitRequest {
            overdue_hold_days: Some(30),
            ..credit_limit(CUSTOMER, "50000", pb::CreditPolicy::Block)
        })
        .await
        .unwrap();
    client
        .issue_invoice(invoice(
            CUSTOMER,
            SUBSIDIARY,
            "INV-1",
            "1200",
            "2026-04-01",
            "2026-05-01",
        ))
        .await
        .unwrap();
    // On 2026-06-01 INV-1 is 31 days overdue, beyond the 30 days of the hold.
    let status = world
        .refused(client.reserve_credit(reserve("SO-1", "10", "2026-06-01", "2026-06-30")))
        .await;
    let (violation, metadata) =
        precondition_refused(&status, "CUSTOMER_OVERDUE", "customers/ACME/overdue_hold");
    assert!(
        violation.description.contains("1200.00 CNY"),
        "{violation:?}"
    );
    assert_eq!(metadata["overdue_cny"], "1200.00");
    assert_eq!(metadata["oldest_days"], "31");
    assert_eq!(metadata["hold_days"], "30");
}

// ReleaseCredit

#[tokio::test]
async fn every_bad_field_of_a_release_is_named_at_once() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .release_credit(pb::ReleaseCreditRequest {
                    reason: " ".to_owned(),
                    amount: cny("0"),
                    ..release("SO 1", None, "2026-13-01")
                }),
        )
        .await;
    assert_eq!(
        names(&status),
        ["order_number", "amount.amount", "released_on", "reason"]
    );
}

#[tokio::test]
async fn a_release_of_an_order_never_reserved_is_refused() {
    let Some(world) = with_reservation().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .release_credit(release("SO-9", None, "2026-06-10")),
        )
        .await;
    let (_, metadata) =
        precondition_refused(&status, "RESERVATION_NOT_FOUND", "orders/SUB-SH/SO-9");
    assert_eq!(metadata["order_number"], "SO-9");
}

#[tokio::test]
async fn a_release_above_what_the_reservation_holds_is_refused() {
    let Some(world) = with_reservation().await else {
        return;
    };
    let status = world
        .refused(world.client.clone().release_credit(release(
            "SO-1",
            Some("1000.01"),
            "2026-06-10",
        )))
        .await;
    let (_, metadata) =
        precondition_refused(&status, "RELEASE_EXCEEDS_RESERVATION", "orders/SUB-SH/SO-1");
    assert_eq!(metadata["open"], "1000.00");
    assert_eq!(metadata["amount"], "1000.01");
}

#[tokio::test]
async fn a_release_dated_before_the_reservation_is_refused() {
    let Some(world) = with_reservation().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .release_credit(release("SO-1", None, "2026-05-31")),
        )
        .await;
    let (_, metadata) = precondition_refused(&status, "RESERVATION_NOT_OPEN", "orders/SUB-SH/SO-1");
    assert_eq!(metadata["reserved_on"], "2026-06-01");
}

// Invoices naming an order

#[tokio::test]
async fn an_invoice_naming_an_expired_reservation_is_refused() {
    let Some(world) = with_reservation().await else {
        return;
    };
    let status = world
        .refused(world.client.clone().issue_invoice(pb::IssueInvoiceRequest {
            order_number: "SO-1".to_owned(),
            ..invoice(
                CUSTOMER,
                SUBSIDIARY,
                "INV-1",
                "500",
                "2026-07-01",
                "2026-07-31",
            )
        }))
        .await;
    let (_, metadata) = precondition_refused(&status, "RESERVATION_NOT_OPEN", "orders/SUB-SH/SO-1");
    assert_eq!(metadata["expires_on"], "2026-06-30");
}

#[tokio::test]
async fn an_invoice_naming_another_subsidiarys_order_is_refused() {
    let Some(world) = with_reservation().await else {
        return;
    };
    let status = world
        .refused(world.client.clone().issue_invoice(pb::IssueInvoiceRequest {
            order_number: "SO-1".to_owned(),
            ..invoice(
                CUSTOMER,
                "SUB-BJ",
                "INV-1",
                "500",
                "2026-06-10",
                "2026-07-10",
            )
        }))
        .await;
    precondition_refused(&status, "RESERVATION_NOT_FOUND", "orders/SUB-BJ/SO-1");
}

#[tokio::test]
async fn an_invoice_naming_a_malformed_order_number_is_refused() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let status = world
        .refused(world.client.clone().issue_invoice(pb::IssueInvoiceRequest {
            order_number: "SO 1".to_owned(),
            ..invoice(
                CUSTOMER,
                SUBSIDIARY,
                "INV-1",
                "500",
                "2026-06-10",
                "2026-07-10",
            )
        }))
        .await;
    assert_eq!(names(&status), ["order_number"]);
}

// The overdue hold

#[tokio::test]
async fn an_overdue_hold_beyond_ten_years_is_refused() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let status = world
        .refused(
            world
                .client
                .clone()
                .change_credit_limit(pb::ChangeCreditLimitRequest {
                    overdue_hold_days: Some(3651),
                    ..credit_limit(CUSTOMER, "1000", pb::CreditPolicy::Block)
                }),
        )
        .await;
    assert_eq!(names(&status), ["overdue_hold_days"]);
}

// CheckCredit

#[tokio::test]
async fn a_credit_check_with_bad_fields_names_every_one() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    let status = world
        .refused(world.client.clone().check_credit(pb::CheckCreditRequest {
            customer_id: "_group".to_owned(),
            amount: money("1", "XXY"),
            date: "2026-06-31".to_owned(),
        }))
        .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    assert_eq!(details.error_info().unwrap().reason, "INVALID_QUERY");
    let fields: Vec<String> = details
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(fields, ["customer_id", "amount.currency", "date"]);
}
