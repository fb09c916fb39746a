//! Bad input end to end: every case starts its own `nats-server` and command service, posts the
//! valid history it needs, sends one bad request over real gRPC and checks the refusal exactly
//! (status code, `ErrorInfo` reason and metadata, the `BadRequest` field path or the
//! `PreconditionFailure` type and subject), and then that nothing was appended to the stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::issue_invoice_request::Due;
use receivables_tests::refusals::*;
use receivables_tests::*;
use tonic::Code;
use tonic::transport::Channel;

const CUSTOMER: &str = "ACME";
const OTHER_CUSTOMER: &str = "BETA";
const SUB: &str = "SUB-SH";
const ISSUED: &str = "2026-01-10";
const DUE: &str = "2026-02-09";

// ---------------------------------------------------------------------------------------------
// Given: a server, a service, and valid history.

/// One case's world: its own JetStream server and command service, and a client.
struct World {
    client: CommandServiceClient<Channel>,
    _service: TestService,
    nats: NatsServer,
}

impl World {
    /// Starts a server and a service; `None` when no `nats-server` is available (outside CI).
    async fn start() -> Option<World> {
        init_logging();
        let nats = NatsServer::start_default().await?;
        let service = TestService::start(&nats.url()).await;
        let client = service.client().await;
        Some(World {
            client,
            _service: service,
            nats,
        })
    }

    /// Issues an invoice to `customer` from `SUB`, in CNY, that must be accepted.
    async fn issued(&mut self, customer: &str, number: &str, amount: &str) {
        self.client
            .issue_invoice(invoice(customer, SUB, number, amount, ISSUED, DUE))
            .await
            .unwrap_or_else(|status| panic!("invoice {number} was refused: {status:?}"));
    }

    /// Records a payment that must be accepted.
    async fn paid(&mut self, request: pb::RecordPaymentRequest) {
        self.client
            .record_payment(request)
            .await
            .unwrap_or_else(|status| panic!("payment was refused: {status:?}"));
    }

    /// The stream's last sequence, to compare with after the bad request.
    async fn position(&self) -> u64 {
        last_sequence(&self.nats.url()).await
    }

    /// Then: the refused command appended nothing.
    async fn assert_nothing_appended(&self, before: u64) {
        assert_eq!(
            self.position().await,
            before,
            "a refused command appended to the stream"
        );
    }
}

fn invoice_for(customer: &str, number: &str, amount: &str) -> pb::IssueInvoiceRequest {
    invoice(customer, SUB, number, amount, ISSUED, DUE)
}

fn payment_with(amount: &str, allocations: Vec<pb::Allocation>) -> pb::RecordPaymentRequest {
    let mut request = payment(CUSTOMER, SUB, amount, "2026-02-01");
    request.allocations = allocations;
    request
}

// ---------------------------------------------------------------------------------------------
// Then: the refusal, read from the status details.

/// Asserts a refusal of an invoice whose customer id is not in the safe alphabet.
async fn assert_customer_id_refused(customer: &str, description: &str) {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;

    let status = world
        .client
        .issue_invoice(invoice_for(customer, "INV-2", "100"))
        .await
        .expect_err("the bad customer id was accepted");

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "customer_id");
    assert!(violation.description.contains(description), "{violation:?}");
    world.assert_nothing_appended(before).await;
}

/// Asserts a refusal of an invoice amount: one violation of `field` that mentions `mentions`.
async fn assert_invoice_amount_refused(amount: Option<pb::Money>, field: &str, mentions: &str) {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = invoice_for(CUSTOMER, "INV-2", "1");
    request.amount = amount;

    let status = world
        .client
        .issue_invoice(request)
        .await
        .expect_err("the bad amount was accepted");

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, field);
    assert!(violation.description.contains(mentions), "{violation:?}");
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Money.

#[tokio::test]
async fn unknown_currency_is_refused() {
    assert_invoice_amount_refused(money("100", "XYZ"), "amount.currency", "\"XYZ\"").await;
}

#[tokio::test]
async fn lower_case_currency_is_refused() {
    assert_invoice_amount_refused(money("100", "cny"), "amount.currency", "\"cny\"").await;
}

#[tokio::test]
async fn metal_currency_code_is_refused() {
    assert_invoice_amount_refused(
        money("100", "XAU"),
        "amount.currency",
        "fund, metal or special code",
    )
    .await;
}

#[tokio::test]
async fn three_decimals_in_cny_are_refused() {
    assert_invoice_amount_refused(
        money("10.001", "CNY"),
        "amount.amount",
        "CNY has 2 decimal places",
    )
    .await;
}

#[tokio::test]
async fn decimals_in_jpy_are_refused() {
    assert_invoice_amount_refused(
        money("10.5", "JPY"),
        "amount.amount",
        "JPY has 0 decimal places",
    )
    .await;
}

#[tokio::test]
async fn zero_amount_is_refused() {
    assert_invoice_amount_refused(cny("0"), "amount.amount", "greater than zero").await;
}

#[tokio::test]
async fn negative_amount_is_refused() {
    assert_invoice_amount_refused(cny("-5.00"), "amount.amount", "greater than zero").await;
}

#[tokio::test]
async fn amount_in_exponent_notation_is_refused() {
    assert_invoice_amount_refused(cny("1e3"), "amount.amount", "not a plain decimal").await;
}

#[tokio::test]
async fn amount_with_thousands_separator_is_refused() {
    assert_invoice_amount_refused(cny("1,000"), "amount.amount", "not a plain decimal").await;
}

#[tokio::test]
async fn amount_above_the_maximum_is_refused() {
    // AMOUNT_MAJOR_UNITS_MAX is 1,000,000,000,000; one fen more is too much.
    assert_invoice_amount_refused(
        cny("1000000000000.01"),
        "amount.amount",
        "at most 1000000000000",
    )
    .await;
}

#[tokio::test]
async fn missing_amount_is_refused() {
    assert_invoice_amount_refused(None, "amount", "is required").await;
}

#[tokio::test]
async fn credit_limit_in_an_unknown_currency_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = credit_limit(CUSTOMER, "1000", pb::CreditPolicy::Block);
    request.limit = money("1000", "RMB");

    let status = world.client.change_credit_limit(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "limit.currency");
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Dates and terms.

#[tokio::test]
async fn due_date_before_issue_date_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let request = invoice(CUSTOMER, SUB, "INV-2", "100", "2026-03-10", "2026-03-09");

    let status = world.client.issue_invoice(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "due_date");
    assert!(
        violation.description.contains("before the issue date"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn impossible_issue_date_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let request = invoice(CUSTOMER, SUB, "INV-2", "100", "2026-02-30", "2026-03-31");

    let status = world.client.issue_invoice(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "issue_date");
    assert!(
        violation.description.contains("\"2026-02-30\""),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn malformed_due_date_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let request = invoice(CUSTOMER, SUB, "INV-2", "100", ISSUED, "09/02/2026");

    let status = world.client.issue_invoice(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "due_date");
    assert!(
        violation.description.contains("YYYY-MM-DD"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn received_date_out_of_the_accepted_range_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let request = payment(CUSTOMER, SUB, "50", "1989-12-31");

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "received_date");
    assert!(
        violation.description.contains("outside the accepted range"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn invoice_without_due_date_or_terms_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = invoice_for(CUSTOMER, "INV-2", "100");
    request.due = None;

    let status = world.client.issue_invoice(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "due");
    assert!(
        violation
            .description
            .contains("due_date, terms_days, payment_terms or a schedule"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn terms_above_the_maximum_are_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = invoice_for(CUSTOMER, "INV-2", "100");
    request.due = Some(Due::TermsDays(3_651));

    let status = world.client.issue_invoice(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "terms_days");
    assert!(
        violation
            .description
            .contains("at most 3650 days, got 3651"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn payment_received_in_the_future_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    // One day ahead is tolerated (subsidiaries' time zones); three days is the future.
    let received = date_from_today(3);
    let request = payment(CUSTOMER, SUB, "50", &received);

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "received_date");
    assert!(
        violation.description.contains(&received) && violation.description.contains("future"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Invoice numbers.

#[tokio::test]
async fn invoice_number_used_before_for_the_same_customer_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "100").await;
    let before = world.position().await;

    let status = world
        .client
        .issue_invoice(invoice_for(CUSTOMER, "SH-001", "250"))
        .await
        .unwrap_err();

    let metadata = error_metadata(&status, Code::AlreadyExists, "DUPLICATE_INVOICE_NUMBER");
    assert_eq!(metadata["subsidiary_id"], SUB);
    assert_eq!(metadata["invoice_number"], "SH-001");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn invoice_number_used_before_for_another_customer_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(OTHER_CUSTOMER, "SH-001", "100").await;
    world.issued(CUSTOMER, "SH-002", "100").await;
    let before = world.position().await;

    let status = world
        .client
        .issue_invoice(invoice_for(CUSTOMER, "SH-001", "250"))
        .await
        .unwrap_err();

    let metadata = error_metadata(&status, Code::AlreadyExists, "DUPLICATE_INVOICE_NUMBER");
    assert_eq!(metadata["subsidiary_id"], SUB);
    assert_eq!(metadata["invoice_number"], "SH-001");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn oversized_invoice_number_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let number = "N".repeat(65);

    let status = world
        .client
        .issue_invoice(invoice_for(CUSTOMER, &number, "100"))
        .await
        .unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "invoice_number");
    assert!(
        violation
            .description
            .contains("at most 64 characters, got 65"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Customer ids: they become subject tokens, so only a safe alphabet gets through.

#[tokio::test]
async fn customer_id_with_a_dot_is_refused() {
    assert_customer_id_refused("ACME.EVIL", "'.'").await;
}

#[tokio::test]
async fn customer_id_with_a_star_is_refused() {
    assert_customer_id_refused("*", "'*'").await;
}

#[tokio::test]
async fn customer_id_with_a_greater_than_is_refused() {
    assert_customer_id_refused("ACME>", "'>'").await;
}

#[tokio::test]
async fn customer_id_with_a_space_is_refused() {
    assert_customer_id_refused("AC ME", "' '").await;
}

#[tokio::test]
async fn customer_id_longer_than_64_characters_is_refused() {
    assert_customer_id_refused(&"C".repeat(65), "at most 64 characters, got 65").await;
}

// ---------------------------------------------------------------------------------------------
// Free text.

#[tokio::test]
async fn oversized_payment_reference_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = payment(CUSTOMER, SUB, "50", "2026-02-01");
    request.reference = "R".repeat(129);

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "reference");
    assert!(
        violation
            .description
            .contains("at most 128 characters, got 129"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn oversized_promise_note_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = promise(CUSTOMER, SUB, "50", "2026-02-01", "2026-02-15");
    request.note = "n".repeat(1_001);

    let status = world
        .client
        .record_promise_to_pay(request)
        .await
        .unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "note");
    assert!(
        violation
            .description
            .contains("at most 1000 characters, got 1001"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn oversized_credit_limit_reason_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = credit_limit(CUSTOMER, "1000", pb::CreditPolicy::Block);
    request.reason = "r".repeat(501);

    let status = world.client.change_credit_limit(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "reason");
    assert!(
        violation
            .description
            .contains("at most 500 characters, got 501"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_limit_without_a_reason_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = credit_limit(CUSTOMER, "1000", pb::CreditPolicy::Block);
    request.reason = String::new();

    let status = world.client.change_credit_limit(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "reason");
    assert!(violation.description.contains("required"), "{violation:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_limit_with_a_blank_reason_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = credit_limit(CUSTOMER, "1000", pb::CreditPolicy::Block);
    request.reason = " \t ".to_owned();

    let status = world.client.change_credit_limit(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "reason");
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Command ids.

#[tokio::test]
async fn malformed_command_id_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = invoice_for(CUSTOMER, "INV-2", "100");
    request.command_id = "order-17".to_owned();

    let status = world.client.issue_invoice(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "command_id");
    assert!(violation.description.contains("UUID"), "{violation:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn nil_command_id_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = invoice_for(CUSTOMER, "INV-2", "100");
    request.command_id = "00000000-0000-0000-0000-000000000000".to_owned();

    let status = world.client.issue_invoice(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "command_id");
    assert!(violation.description.contains("nil UUID"), "{violation:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn missing_command_id_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = payment(CUSTOMER, SUB, "50", "2026-02-01");
    request.command_id = String::new();

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "command_id");
    assert!(violation.description.contains("required"), "{violation:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn command_id_reused_with_other_content_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let first = invoice_for(CUSTOMER, "INV-1", "100");
    world.client.issue_invoice(first.clone()).await.unwrap();
    let before = world.position().await;
    let mut changed = first.clone();
    changed.amount = cny("101");

    let status = world.client.issue_invoice(changed).await.unwrap_err();

    let metadata = error_metadata(&status, Code::AlreadyExists, "COMMAND_ID_REUSED");
    assert_eq!(metadata["command_id"], first.command_id);
    assert_eq!(metadata["position"], before.to_string());
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn command_id_of_another_customers_command_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let first = invoice_for(OTHER_CUSTOMER, "BETA-1", "100");
    world.client.issue_invoice(first.clone()).await.unwrap();
    let before = world.position().await;
    let mut borrowed = invoice_for(CUSTOMER, "ACME-1", "100");
    borrowed.command_id = first.command_id.clone();

    let status = world.client.issue_invoice(borrowed).await.unwrap_err();

    let metadata = error_metadata(&status, Code::AlreadyExists, "COMMAND_ID_REUSED");
    assert_eq!(metadata["command_id"], first.command_id);
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn invoice_refused_for_a_borrowed_command_id_leaves_its_number_free() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let first = invoice_for(OTHER_CUSTOMER, "BETA-1", "100");
    world.client.issue_invoice(first.clone()).await.unwrap();
    let before = world.position().await;
    let mut borrowed = invoice_for(CUSTOMER, "ACME-1", "100");
    borrowed.command_id = first.command_id.clone();
    let status = world.client.issue_invoice(borrowed).await.unwrap_err();
    error_metadata(&status, Code::AlreadyExists, "COMMAND_ID_REUSED");
    world.assert_nothing_appended(before).await;

    // The number was never used: a new command may take it.
    let retry = world
        .client
        .issue_invoice(invoice_for(CUSTOMER, "ACME-1", "100"))
        .await;
    assert!(
        retry.is_ok(),
        "ACME-1 is still reserved by the refused command: {retry:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Enumerations.

#[tokio::test]
async fn unknown_payment_method_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let mut request = payment(CUSTOMER, SUB, "50", "2026-02-01");
    request.method = 99;

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "method");
    assert!(
        violation.description.contains("99 is not a known value"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn unspecified_credit_policy_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let request = credit_limit(CUSTOMER, "1000", pb::CreditPolicy::Unspecified);

    let status = world.client.change_credit_limit(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "policy");
    assert!(
        violation.description.contains("UNSPECIFIED"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Allocations.

#[tokio::test]
async fn allocation_to_another_customers_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.issued(OTHER_CUSTOMER, "SH-900", "1000").await;
    let before = world.position().await;
    let request = payment_with("100", vec![allocation(SUB, "SH-900", "100")]);

    let status = world.client.record_payment(request).await.unwrap_err();

    let (violation, metadata) = single_precondition_violation(&status, "INVOICE_NOT_FOUND");
    assert_eq!(violation.subject, "invoices/SUB-SH/SH-900");
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn allocation_beyond_the_open_amount_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world
        .paid(payment_with("400", vec![allocation(SUB, "SH-001", "400")]))
        .await;
    let before = world.position().await;
    // 600.00 is still open on SH-001.
    let request = payment_with("700", vec![allocation(SUB, "SH-001", "600.01")]);

    let status = world.client.record_payment(request).await.unwrap_err();

    let (violation, _) = single_precondition_violation(&status, "ALLOCATION_EXCEEDS_OPEN_AMOUNT");
    assert_eq!(violation.subject, "invoices/SUB-SH/SH-001");
    assert!(
        violation.description.contains("600.00 CNY"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn allocation_to_an_invoice_in_another_currency_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut request = payment_with("100", Vec::new());
    request.amount = money("100", "USD");
    request.allocations = vec![pb::Allocation {
        invoice: invoice_ref(SUB, "SH-001"),
        amount: money("100", "USD"),
    }];

    let status = world.client.record_payment(request).await.unwrap_err();

    let (violation, _) = single_precondition_violation(&status, "CURRENCY_MISMATCH");
    assert_eq!(violation.subject, "invoices/SUB-SH/SH-001");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn allocations_adding_up_to_more_than_the_payment_are_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.issued(CUSTOMER, "SH-002", "500").await;
    let before = world.position().await;
    let request = payment_with(
        "600",
        vec![
            allocation(SUB, "SH-001", "400"),
            allocation(SUB, "SH-002", "300"),
        ],
    );

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "allocations");
    assert!(
        violation.description.contains("add up to 700.00"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn same_invoice_allocated_twice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = payment_with(
        "300",
        vec![
            allocation(SUB, "SH-001", "100"),
            allocation(SUB, "SH-001", "100"),
        ],
    );

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    // The whole reference is repeated; naming its number field would do as well.
    assert!(
        [
            "allocations[1].invoice",
            "allocations[1].invoice.invoice_number"
        ]
        .contains(&violation.field.as_str()),
        "not a field path of the request: {violation:?}"
    );
    assert!(
        violation.description.contains("invoices/SUB-SH/SH-001"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn allocation_in_another_currency_than_the_payment_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = payment_with(
        "300",
        vec![pb::Allocation {
            invoice: invoice_ref(SUB, "SH-001"),
            amount: money("100", "USD"),
        }],
    );

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "allocations[0].amount.currency");
    assert!(
        violation.description.contains("USD") && violation.description.contains("CNY"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn more_allocations_than_the_maximum_are_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let allocations = (0..101)
        .map(|n| allocation(SUB, &format!("SH-{n:03}"), "1"))
        .collect();
    let request = payment_with("1000", allocations);

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "allocations");
    assert!(
        violation
            .description
            .contains("at most 100 allocations per payment, got 101"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn allocation_with_a_bad_invoice_reference_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = payment_with(
        "300",
        vec![
            allocation(SUB, "SH-001", "100"),
            allocation(SUB, "SH 002", "100"),
        ],
    );

    let status = world.client.record_payment(request).await.unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "allocations[1].invoice.invoice_number");
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Promises.

#[tokio::test]
async fn promise_above_the_balance_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = promise(CUSTOMER, SUB, "1000.01", "2026-02-01", "2026-02-15");

    let status = world
        .client
        .record_promise_to_pay(request)
        .await
        .unwrap_err();

    let (violation, metadata) = single_precondition_violation(&status, "PROMISE_EXCEEDS_BALANCE");
    assert_eq!(violation.subject, "customers/ACME/balance");
    assert_eq!(metadata["balance"], "1000.00");
    assert_eq!(metadata["currency"], "CNY");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn promise_when_nothing_is_owed_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "100").await;
    world
        .paid(payment(CUSTOMER, SUB, "100", "2026-02-01"))
        .await;
    let before = world.position().await;
    let request = promise(CUSTOMER, SUB, "10", "2026-02-02", "2026-02-15");

    let status = world
        .client
        .record_promise_to_pay(request)
        .await
        .unwrap_err();

    let (violation, _) = single_precondition_violation(&status, "NOTHING_OWED");
    assert_eq!(violation.subject, "customers/ACME/balance");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn promised_date_before_the_promise_was_made_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = promise(CUSTOMER, SUB, "100", "2026-02-10", "2026-02-09");

    let status = world
        .client
        .record_promise_to_pay(request)
        .await
        .unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "promised_date");
    assert!(
        violation
            .description
            .contains("before the date the promise was made"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn promise_naming_more_invoices_than_the_maximum_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut request = promise(CUSTOMER, SUB, "100", "2026-02-01", "2026-02-15");
    request.invoices = (0..150)
        .map(|n| invoice_ref(SUB, &format!("SH-{n:03}")).unwrap())
        .collect();

    let status = world
        .client
        .record_promise_to_pay(request)
        .await
        .unwrap_err();

    let violation = single_field_violation(&status);
    assert_eq!(violation.field, "invoices");
    assert!(
        violation
            .description
            .contains("at most 100 invoices per promise, got 150"),
        "{violation:?}"
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Several problems at once: every one of them is reported, in one BadRequest.

#[tokio::test]
async fn every_bad_field_of_an_invoice_is_reported_at_once() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "INV-1", "100").await;
    let before = world.position().await;
    let request = pb::IssueInvoiceRequest {
        command_id: "not-a-uuid".to_owned(),
        customer_id: "ACME.*".to_owned(),
        subsidiary_id: "SUB SH".to_owned(),
        invoice_number: String::new(),
        amount: money("100", "cny"),
        issue_date: "2026-02-30".to_owned(),
        due: None,
        schedule: Vec::new(),
        order_number: String::new(),
    };

    let status = world.client.issue_invoice(request).await.unwrap_err();

    let fields: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        vec![
            "command_id",
            "customer_id",
            "subsidiary_id",
            "invoice_number",
            "amount.currency",
            "issue_date",
            "due",
        ]
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn every_cross_field_problem_of_a_payment_is_reported_at_once() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.issued(CUSTOMER, "SH-002", "1000").await;
    let before = world.position().await;
    let mut request = payment_with(
        "100",
        vec![
            allocation(SUB, "SH-001", "80"),
            pb::Allocation {
                invoice: invoice_ref(SUB, "SH-002"),
                amount: money("50", "USD"),
            },
        ],
    );
    request.reference = "R".repeat(129);

    let status = world.client.record_payment(request).await.unwrap_err();

    let fields: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        vec!["reference", "allocations[1].amount.currency", "allocations"]
    );
    world.assert_nothing_appended(before).await;
}
