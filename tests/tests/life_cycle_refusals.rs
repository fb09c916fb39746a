//! The invoice's life cycle after it is issued, end to end: credit notes, write-offs, payment
//! reversals, applications of unapplied cash or credit, refunds and payments on account, over
//! real gRPC against a real `nats-server` with JetStream that every case starts for itself.
//!
//! Refusals: each case posts the valid history it needs, sends one bad request, and checks the
//! refusal exactly (status code, `ErrorInfo` reason and metadata, the `BadRequest` field path or
//! the `PreconditionFailure` type and subject), then that nothing was appended to the stream.
//!
//! Acceptances: each new RPC once, with the figures of its reply worked out by hand, and the same
//! command sent again, which answers with the first receipt (`replayed`) and appends nothing.
//!
//! Business dates are in the first half of 2026 (in the past), except where a rule needs a date
//! in the future: those are built from today's UTC date, the service's own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr as _;

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_tests::refusals::*;
use receivables_tests::*;
use rust_decimal::Decimal;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::{PreconditionViolation, StatusExt};

const CUSTOMER: &str = "ACME";
const OTHER_CUSTOMER: &str = "BETA";
const SUB: &str = "SUB-SH";
const OTHER_SUB: &str = "SUB-BJ";
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

    /// Issues an invoice of `SUB` to `customer`, in CNY, that must be accepted.
    async fn issued(&mut self, customer: &str, number: &str, amount: &str) {
        self.issued_by(customer, SUB, number, amount).await;
    }

    /// Issues an invoice of `subsidiary` to `customer`, in CNY, that must be accepted.
    async fn issued_by(&mut self, customer: &str, subsidiary: &str, number: &str, amount: &str) {
        self.client
            .issue_invoice(invoice(customer, subsidiary, number, amount, ISSUED, DUE))
            .await
            .unwrap_or_else(|status| panic!("invoice {number} was refused: {status:?}"));
    }

    /// Records a payment that must be accepted.
    async fn paid(&mut self, request: pb::RecordPaymentRequest) -> pb::RecordPaymentResponse {
        self.client
            .record_payment(request)
            .await
            .unwrap_or_else(|status| panic!("payment was refused: {status:?}"))
            .into_inner()
    }

    /// Issues a credit note that must be accepted.
    async fn credited(&mut self, request: pb::IssueCreditNoteRequest) {
        self.client
            .issue_credit_note(request)
            .await
            .unwrap_or_else(|status| panic!("credit note was refused: {status:?}"));
    }

    /// Reverses a payment; the reversal must be accepted.
    async fn reversed(&mut self, request: pb::ReversePaymentRequest) {
        self.client
            .reverse_payment(request)
            .await
            .unwrap_or_else(|status| panic!("reversal was refused: {status:?}"));
    }

    /// Refunds unapplied money; the refund must be accepted.
    async fn refunded(&mut self, request: pb::IssueRefundRequest) {
        self.client
            .issue_refund(request)
            .await
            .unwrap_or_else(|status| panic!("refund was refused: {status:?}"));
    }

    /// The authoritative account of `CUSTOMER`.
    async fn account(&mut self) -> pb::GetAccountResponse {
        self.client
            .get_account(pb::GetAccountRequest {
                customer_id: CUSTOMER.to_owned(),
            })
            .await
            .expect("the account")
            .into_inner()
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

/// A payment of `CUSTOMER` at `SUB` received 2026-02-01, allocated as `allocations` say
/// (explicitly), or oldest due first when there are none.
fn payment_with(amount: &str, allocations: Vec<pb::Allocation>) -> pb::RecordPaymentRequest {
    let mut request = payment(CUSTOMER, SUB, amount, "2026-02-01");
    request.allocations = allocations;
    request
}

/// A payment of `CUSTOMER` at `SUB` taken on account: all of it unapplied cash.
fn on_account(amount: &str, received: &str) -> pb::RecordPaymentRequest {
    let mut request = payment(CUSTOMER, SUB, amount, received);
    request.allocation_rule = pb::AllocationRule::OnAccount.into();
    request
}

/// A credit note of `SUB` to `customer`, against `SUB`'s invoice `invoice` or on account.
fn credit_note(
    customer: &str,
    number: &str,
    amount: &str,
    issued: &str,
    invoice: Option<&str>,
) -> pb::IssueCreditNoteRequest {
    pb::IssueCreditNoteRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        subsidiary_id: SUB.to_owned(),
        credit_note_number: number.to_owned(),
        amount: cny(amount),
        issue_date: issued.to_owned(),
        reason: "returned goods".to_owned(),
        invoice: invoice.and_then(|number| invoice_ref(SUB, number)),
    }
}

/// A write-off of `SUB`'s invoice `number` of `CUSTOMER`.
fn write_off(number: &str, amount: &str, date: &str) -> pb::WriteOffInvoiceRequest {
    pb::WriteOffInvoiceRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        invoice: invoice_ref(SUB, number),
        amount: cny(amount),
        write_off_date: date.to_owned(),
        reason: "customer insolvent".to_owned(),
        approved_by: "Chen Jing".to_owned(),
    }
}

/// `SUB`'s reversal of the payment recorded by `payment_command_id`, returned by the bank.
fn reversal(payment_command_id: &str, date: &str) -> pb::ReversePaymentRequest {
    pb::ReversePaymentRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB.to_owned(),
        payment_command_id: payment_command_id.to_owned(),
        reversal_date: date.to_owned(),
        reason: pb::ReversalReason::ReturnedByBank.into(),
    }
}

/// `SUB` applies `CUSTOMER`'s unapplied money of `source`.
fn application(
    source: pb::UnappliedSource,
    amount: &str,
    date: &str,
    allocations: Vec<pb::Allocation>,
) -> pb::ApplyUnappliedCashRequest {
    pb::ApplyUnappliedCashRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB.to_owned(),
        source: source.into(),
        amount: cny(amount),
        application_date: date.to_owned(),
        allocations,
    }
}

/// `SUB` refunds `CUSTOMER`'s unapplied money of `source` by bank transfer.
fn refund(source: pb::UnappliedSource, amount: &str, date: &str) -> pb::IssueRefundRequest {
    pb::IssueRefundRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB.to_owned(),
        source: source.into(),
        amount: cny(amount),
        refund_date: date.to_owned(),
        method: pb::PaymentMethod::BankTransfer.into(),
        reference: "REFUND-1".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Then: the refusal, read from the status details.

/// Asserts an `INVALID_ARGUMENT` refusal with exactly one violation, of `field`, whose
/// description holds `mentions`.
fn assert_field_refused(status: &Status, field: &str, mentions: &str) {
    let violations = field_violations(status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, field, "{violations:?}");
    assert!(
        violations[0].description.contains(mentions),
        "{:?} does not mention {mentions:?}",
        violations[0]
    );
}

/// Asserts that `description` holds `words`.
fn assert_mentions(violation: &PreconditionViolation, words: &str) {
    assert!(
        violation.description.contains(words),
        "{violation:?} does not mention {words:?}"
    );
}

/// A figure of the wire as a decimal number.
fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("{text:?} is not a decimal"))
}

/// A reply's money, which must be set and in CNY; its amount as written.
fn amount_of(money: Option<&pb::Money>) -> String {
    let money = money.expect("an amount");
    assert_eq!(money.currency, "CNY", "{money:?}");
    money.amount.clone()
}

/// An allocation as `(subsidiary, invoice number, amount)`.
fn allocated(allocation: &pb::Allocation) -> (String, String, String) {
    let invoice = allocation.invoice.as_ref().expect("an invoice");
    (
        invoice.subsidiary_id.clone(),
        invoice.invoice_number.clone(),
        amount_of(allocation.amount.as_ref()),
    )
}

fn triple(subsidiary: &str, number: &str, amount: &str) -> (String, String, String) {
    (subsidiary.to_owned(), number.to_owned(), amount.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Credit notes.

#[tokio::test]
async fn credit_note_above_the_open_amount_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world
        .paid(payment_with("400", vec![allocation(SUB, "SH-001", "400")]))
        .await;
    let before = world.position().await;
    // 1000.00 - 400.00 = 600.00 is still open on SH-001; one fen more is too much.
    let request = credit_note(CUSTOMER, "CN-1", "600.01", "2026-02-05", Some("SH-001"));

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "CREDIT_NOTE_EXCEEDS_OPEN_AMOUNT",
        "invoices/SUB-SH/SH-001",
    );
    assert_mentions(
        &violation,
        "600.01 CNY is more than the 600.00 CNY the invoice owes on 2026-02-05 or after",
    );
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn backdated_credit_note_above_what_the_invoice_owes_later_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    // Paid 700.00 on 2026-02-01: the invoice owes 1000.00 until then, 300.00 from then on.
    world
        .paid(payment_with("700", vec![allocation(SUB, "SH-001", "700")]))
        .await;
    let before = world.position().await;
    // Dated 2026-01-20, when 1000.00 was open; but 400.00 off from then on would leave -100.00
    // from 2026-02-01.
    let request = credit_note(CUSTOMER, "CN-1", "400", "2026-01-20", Some("SH-001"));

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    let (violation, _) = precondition_refused(
        &status,
        "CREDIT_NOTE_EXCEEDS_OPEN_AMOUNT",
        "invoices/SUB-SH/SH-001",
    );
    assert_mentions(
        &violation,
        "the 300.00 CNY the invoice owes on 2026-01-20 or after",
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_note_dated_before_the_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = credit_note(CUSTOMER, "CN-1", "100", "2026-01-09", Some("SH-001"));

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "CREDIT_NOTE_BEFORE_INVOICE_DATE",
        "invoices/SUB-SH/SH-001",
    );
    assert_mentions(
        &violation,
        "the credit note is dated 2026-01-09, before the invoice was issued on 2026-01-10",
    );
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_note_against_an_unknown_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = credit_note(CUSTOMER, "CN-1", "100", "2026-02-01", Some("SH-404"));

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    let (violation, metadata) =
        precondition_refused(&status, "INVOICE_NOT_FOUND", "invoices/SUB-SH/SH-404");
    assert_mentions(&violation, "customer ACME has no such invoice");
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_note_in_another_currency_than_the_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut request = credit_note(CUSTOMER, "CN-1", "100", "2026-02-01", Some("SH-001"));
    request.amount = money("100", "USD");

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    let (violation, _) =
        precondition_refused(&status, "CURRENCY_MISMATCH", "invoices/SUB-SH/SH-001");
    assert_mentions(&violation, "the invoice is in CNY, the amount in USD");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_note_number_used_before_for_the_same_customer_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world
        .credited(credit_note(
            CUSTOMER,
            "CN-1",
            "100",
            "2026-02-01",
            Some("SH-001"),
        ))
        .await;
    let before = world.position().await;
    // Another command, on account this time, with the same number.
    let request = credit_note(CUSTOMER, "CN-1", "50", "2026-02-02", None);

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    let metadata = error_metadata(&status, Code::AlreadyExists, "DUPLICATE_CREDIT_NOTE_NUMBER");
    assert_eq!(metadata["subsidiary_id"], SUB);
    assert_eq!(metadata["credit_note_number"], "CN-1");
    assert!(
        status.get_error_details().precondition_failure().is_none(),
        "{status:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_note_number_used_before_for_another_customer_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(OTHER_CUSTOMER, "SH-900", "1000").await;
    world
        .credited(credit_note(
            OTHER_CUSTOMER,
            "CN-1",
            "100",
            "2026-02-01",
            Some("SH-900"),
        ))
        .await;
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    // ACME's account has never seen CN-1: the number's reservation refuses it.
    let request = credit_note(CUSTOMER, "CN-1", "100", "2026-02-01", Some("SH-001"));

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    let metadata = error_metadata(&status, Code::AlreadyExists, "DUPLICATE_CREDIT_NOTE_NUMBER");
    assert_eq!(metadata["subsidiary_id"], SUB);
    assert_eq!(metadata["credit_note_number"], "CN-1");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_note_refused_for_a_borrowed_command_id_leaves_its_number_free() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let first = credit_note(OTHER_CUSTOMER, "CN-1", "100", "2026-02-01", None);
    world.credited(first.clone()).await;
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut borrowed = credit_note(CUSTOMER, "CN-2", "100", "2026-02-01", Some("SH-001"));
    borrowed.command_id = first.command_id.clone();

    let status = world.client.issue_credit_note(borrowed).await.unwrap_err();

    let metadata = error_metadata(&status, Code::AlreadyExists, "COMMAND_ID_REUSED");
    assert_eq!(metadata["command_id"], first.command_id);
    world.assert_nothing_appended(before).await;
    // CN-2 was reserved for the refused command, and given back: a new command may take it.
    let retry = world
        .client
        .issue_credit_note(credit_note(
            CUSTOMER,
            "CN-2",
            "100",
            "2026-02-01",
            Some("SH-001"),
        ))
        .await;
    assert!(
        retry.is_ok(),
        "CN-2 is still reserved by the refused command: {retry:?}"
    );
}

#[tokio::test]
async fn credit_note_with_a_blank_reason_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut request = credit_note(CUSTOMER, "CN-1", "100", "2026-02-01", Some("SH-001"));
    request.reason = " \t ".to_owned();

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    assert_field_refused(&status, "reason", "is required");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_note_without_a_number_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = credit_note(CUSTOMER, "", "100", "2026-02-01", Some("SH-001"));

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    assert_field_refused(&status, "credit_note_number", "must not be empty");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn credit_note_dated_in_the_future_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    // One day ahead is tolerated (subsidiaries' time zones); three days is the future.
    let issued = date_from_today(3);
    let request = credit_note(CUSTOMER, "CN-1", "100", &issued, None);

    let status = world.client.issue_credit_note(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "issue_date",
        &format!(
            "cannot be in the future: {issued} is after {}",
            date_from_today(1)
        ),
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn every_bad_field_of_a_credit_note_is_reported_at_once() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = pb::IssueCreditNoteRequest {
        command_id: "not-a-uuid".to_owned(),
        customer_id: "ACME.*".to_owned(),
        subsidiary_id: String::new(),
        credit_note_number: "CN 1".to_owned(),
        amount: cny("10.001"),
        issue_date: "2026-13-01".to_owned(),
        reason: String::new(),
        invoice: Some(pb::InvoiceRef {
            subsidiary_id: "SUB SH".to_owned(),
            invoice_number: String::new(),
        }),
    };

    let status = world.client.issue_credit_note(request).await.unwrap_err();

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
            "credit_note_number",
            "amount.amount",
            "issue_date",
            "invoice.subsidiary_id",
            "invoice.invoice_number",
            "reason",
        ]
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Write-offs.

#[tokio::test]
async fn write_off_above_the_open_amount_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world
        .credited(credit_note(
            CUSTOMER,
            "CN-1",
            "300",
            "2026-02-01",
            Some("SH-001"),
        ))
        .await;
    let before = world.position().await;
    // 1000.00 - 300.00 credited = 700.00 open.
    let request = write_off("SH-001", "700.01", "2026-03-01");

    let status = world.client.write_off_invoice(request).await.unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "WRITE_OFF_EXCEEDS_OPEN_AMOUNT",
        "invoices/SUB-SH/SH-001",
    );
    assert_mentions(
        &violation,
        "700.01 CNY is more than the 700.00 CNY the invoice owes on 2026-03-01 or after",
    );
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn write_off_without_an_approver_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut request = write_off("SH-001", "100", "2026-03-01");
    request.approved_by = "  ".to_owned();

    let status = world.client.write_off_invoice(request).await.unwrap_err();

    assert_field_refused(&status, "approved_by", "must not be empty");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn write_off_dated_in_the_future_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let date = date_from_today(3);
    let request = write_off("SH-001", "100", &date);

    let status = world.client.write_off_invoice(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "write_off_date",
        &format!(
            "cannot be in the future: {date} is after {}",
            date_from_today(1)
        ),
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn write_off_dated_before_the_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let request = write_off("SH-001", "100", "2026-01-01");

    let status = world.client.write_off_invoice(request).await.unwrap_err();

    let (violation, _) = precondition_refused(
        &status,
        "WRITE_OFF_BEFORE_INVOICE_DATE",
        "invoices/SUB-SH/SH-001",
    );
    assert_mentions(
        &violation,
        "the write-off is dated 2026-01-01, before the invoice was issued on 2026-01-10",
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Reversals.

#[tokio::test]
async fn second_reversal_of_a_payment_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let paid = payment_with("300", Vec::new());
    let payment_id = paid.command_id.clone();
    world.paid(paid).await;
    world.reversed(reversal(&payment_id, "2026-02-10")).await;
    let before = world.position().await;

    let status = world
        .client
        .reverse_payment(reversal(&payment_id, "2026-02-11"))
        .await
        .unwrap_err();

    let subject = format!("payments/{payment_id}");
    let (violation, metadata) = precondition_refused(&status, "PAYMENT_ALREADY_REVERSED", &subject);
    assert_mentions(&violation, "the payment was reversed on 2026-02-10");
    assert_eq!(metadata["payment"], payment_id);
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn reversal_of_an_unknown_payment_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.paid(payment_with("300", Vec::new())).await;
    let before = world.position().await;
    let unknown = command_id();

    let status = world
        .client
        .reverse_payment(reversal(&unknown, "2026-02-10"))
        .await
        .unwrap_err();

    let (violation, metadata) =
        precondition_refused(&status, "PAYMENT_NOT_FOUND", &format!("payments/{unknown}"));
    assert_mentions(
        &violation,
        "customer ACME has no payment recorded by that command",
    );
    assert_eq!(metadata["payment"], unknown);
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn reversal_naming_an_invoices_command_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let issued = invoice(CUSTOMER, SUB, "SH-001", "1000", ISSUED, DUE);
    let invoice_id = issued.command_id.clone();
    world.client.issue_invoice(issued).await.unwrap();
    let before = world.position().await;

    let status = world
        .client
        .reverse_payment(reversal(&invoice_id, "2026-02-10"))
        .await
        .unwrap_err();

    let (_, metadata) = precondition_refused(
        &status,
        "PAYMENT_NOT_FOUND",
        &format!("payments/{invoice_id}"),
    );
    assert_eq!(metadata["payment"], invoice_id);
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn reversal_whose_payment_command_id_is_not_a_uuid_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.paid(payment_with("300", Vec::new())).await;
    let before = world.position().await;

    let status = world
        .client
        .reverse_payment(reversal("PAY-2026-17", "2026-02-10"))
        .await
        .unwrap_err();

    assert_field_refused(&status, "payment_command_id", "must be a UUID");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn reversal_without_a_reason_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let paid = payment_with("300", Vec::new());
    let payment_id = paid.command_id.clone();
    world.paid(paid).await;
    let before = world.position().await;
    let mut request = reversal(&payment_id, "2026-02-10");
    request.reason = pb::ReversalReason::Unspecified.into();

    let status = world.client.reverse_payment(request).await.unwrap_err();

    assert_field_refused(&status, "reason", "UNSPECIFIED is not a choice");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn reversal_dated_before_the_payment_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let paid = payment_with("300", Vec::new());
    let payment_id = paid.command_id.clone();
    world.paid(paid).await;
    let before = world.position().await;

    let status = world
        .client
        .reverse_payment(reversal(&payment_id, "2026-01-31"))
        .await
        .unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "REVERSAL_BEFORE_PAYMENT",
        &format!("payments/{payment_id}"),
    );
    assert_mentions(
        &violation,
        "the reversal is dated 2026-01-31, before the payment was received on 2026-02-01",
    );
    assert_eq!(metadata["payment"], payment_id);
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn reversal_by_another_subsidiary_than_the_receiving_one_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let paid = payment_with("300", Vec::new());
    let payment_id = paid.command_id.clone();
    world.paid(paid).await;
    let before = world.position().await;
    let mut request = reversal(&payment_id, "2026-02-10");
    request.subsidiary_id = OTHER_SUB.to_owned();

    let status = world.client.reverse_payment(request).await.unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "PAYMENT_NOT_FOUND",
        &format!("payments/{payment_id}"),
    );
    assert_mentions(
        &violation,
        "the payment was received by subsidiary SUB-SH, not SUB-BJ",
    );
    assert_eq!(metadata["payment"], payment_id);
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn reversal_of_a_payment_whose_unapplied_cash_was_refunded_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let paid = on_account("500", "2026-02-01");
    let payment_id = paid.command_id.clone();
    world.paid(paid).await;
    // 200.00 of the 500.00 on account went back to the customer: 300.00 is left.
    world
        .refunded(refund(pb::UnappliedSource::Cash, "200", "2026-02-03"))
        .await;
    let before = world.position().await;

    let status = world
        .client
        .reverse_payment(reversal(&payment_id, "2026-02-10"))
        .await
        .unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "UNAPPLIED_ALREADY_USED",
        &format!("payments/{payment_id}"),
    );
    assert_mentions(
        &violation,
        "the payment left 500.00 CNY unapplied, but only 300.00 CNY of unapplied cash is there \
         on 2026-02-10 and after",
    );
    assert_eq!(metadata["payment"], payment_id);
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn reversal_of_a_payment_whose_unapplied_cash_was_applied_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let paid = on_account("500", "2026-02-01");
    let payment_id = paid.command_id.clone();
    world.paid(paid).await;
    // All 500.00 applied to SH-001 on 2026-02-03: no unapplied cash is left.
    world
        .client
        .apply_unapplied_cash(application(
            pb::UnappliedSource::Cash,
            "500",
            "2026-02-03",
            vec![allocation(SUB, "SH-001", "500")],
        ))
        .await
        .expect("the application");
    let before = world.position().await;

    let status = world
        .client
        .reverse_payment(reversal(&payment_id, "2026-02-10"))
        .await
        .unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "UNAPPLIED_ALREADY_USED",
        &format!("payments/{payment_id}"),
    );
    assert_mentions(&violation, "the payment left 500.00 CNY unapplied");
    assert_eq!(metadata["payment"], payment_id);
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn every_bad_field_of_a_reversal_is_reported_at_once() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.paid(payment_with("300", Vec::new())).await;
    let before = world.position().await;
    let request = pb::ReversePaymentRequest {
        command_id: String::new(),
        customer_id: "AC ME".to_owned(),
        subsidiary_id: "SUB>".to_owned(),
        payment_command_id: "00000000-0000-0000-0000-000000000000".to_owned(),
        reversal_date: "10/02/2026".to_owned(),
        reason: 42,
    };

    let status = world.client.reverse_payment(request).await.unwrap_err();

    let violations = field_violations(&status);
    let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "command_id",
            "customer_id",
            "subsidiary_id",
            "payment_command_id",
            "reversal_date",
            "reason",
        ]
    );
    assert!(
        violations[3].description.contains("nil UUID"),
        "{violations:?}"
    );
    assert!(
        violations[5]
            .description
            .contains("42 is not a known value"),
        "{violations:?}"
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Applications of unapplied cash or credit.

#[tokio::test]
async fn application_above_the_unapplied_cash_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.paid(on_account("200", "2026-02-01")).await;
    let before = world.position().await;
    let request = application(
        pb::UnappliedSource::Cash,
        "200.01",
        "2026-02-05",
        vec![allocation(SUB, "SH-001", "200.01")],
    );

    let status = world
        .client
        .apply_unapplied_cash(request)
        .await
        .unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "EXCEEDS_UNAPPLIED",
        "customers/ACME/unapplied_cash",
    );
    assert_mentions(
        &violation,
        "200.01 CNY is more than the 200.00 CNY of unapplied cash on 2026-02-05 and after",
    );
    assert_eq!(metadata["unapplied"], "200.00");
    assert_eq!(metadata["currency"], "CNY");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn application_dated_before_the_cash_came_in_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    // 500.00 on account from 2026-02-10: none of it was there on 2026-02-05.
    world.paid(on_account("500", "2026-02-10")).await;
    let before = world.position().await;
    let request = application(pb::UnappliedSource::Cash, "100", "2026-02-05", Vec::new());

    let status = world
        .client
        .apply_unapplied_cash(request)
        .await
        .unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "EXCEEDS_UNAPPLIED",
        "customers/ACME/unapplied_cash",
    );
    assert_mentions(
        &violation,
        "100.00 CNY is more than the 0.00 CNY of unapplied cash on 2026-02-05 and after",
    );
    assert_eq!(
        decimal(&metadata["unapplied"]),
        Decimal::ZERO,
        "{metadata:?}"
    );
    assert_eq!(metadata["currency"], "CNY");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn application_to_another_customers_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.issued(OTHER_CUSTOMER, "SH-900", "1000").await;
    world.paid(on_account("500", "2026-02-01")).await;
    let before = world.position().await;
    let request = application(
        pb::UnappliedSource::Cash,
        "100",
        "2026-02-05",
        vec![allocation(SUB, "SH-900", "100")],
    );

    let status = world
        .client
        .apply_unapplied_cash(request)
        .await
        .unwrap_err();

    let (violation, metadata) =
        precondition_refused(&status, "INVOICE_NOT_FOUND", "invoices/SUB-SH/SH-900");
    assert_mentions(&violation, "customer ACME has no such invoice");
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn application_whose_allocations_do_not_add_up_to_its_amount_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.issued(CUSTOMER, "SH-002", "1000").await;
    world.paid(on_account("500", "2026-02-01")).await;
    let before = world.position().await;
    let request = application(
        pb::UnappliedSource::Cash,
        "100",
        "2026-02-05",
        vec![
            allocation(SUB, "SH-001", "60"),
            allocation(SUB, "SH-002", "20"),
        ],
    );

    let status = world
        .client
        .apply_unapplied_cash(request)
        .await
        .unwrap_err();

    assert_field_refused(
        &status,
        "allocations",
        "allocations add up to 80.00, not the 100.00 CNY to apply",
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn application_without_a_source_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.paid(on_account("500", "2026-02-01")).await;
    let before = world.position().await;
    let request = application(
        pb::UnappliedSource::Unspecified,
        "100",
        "2026-02-05",
        vec![allocation(SUB, "SH-001", "100")],
    );

    let status = world
        .client
        .apply_unapplied_cash(request)
        .await
        .unwrap_err();

    assert_field_refused(&status, "source", "UNSPECIFIED is not a choice");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn application_allocation_in_another_currency_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.paid(on_account("500", "2026-02-01")).await;
    let before = world.position().await;
    let request = application(
        pb::UnappliedSource::Cash,
        "100",
        "2026-02-05",
        vec![pb::Allocation {
            invoice: invoice_ref(SUB, "SH-001"),
            amount: money("100", "USD"),
        }],
    );

    let status = world
        .client
        .apply_unapplied_cash(request)
        .await
        .unwrap_err();

    let violations = field_violations(&status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, "allocations[0].amount.currency");
    assert!(
        violations[0].description.contains("USD") && violations[0].description.contains("CNY"),
        "{violations:?}"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn application_dated_before_the_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.paid(on_account("500", "2026-01-05")).await;
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    // The cash was there on 2026-01-08; the invoice only from 2026-01-10.
    let request = application(
        pb::UnappliedSource::Cash,
        "100",
        "2026-01-08",
        vec![allocation(SUB, "SH-001", "100")],
    );

    let status = world
        .client
        .apply_unapplied_cash(request)
        .await
        .unwrap_err();

    let (violation, _) = precondition_refused(
        &status,
        "ALLOCATION_BEFORE_INVOICE_DATE",
        "invoices/SUB-SH/SH-001",
    );
    assert_mentions(
        &violation,
        "the application is dated 2026-01-08, before the invoice was issued on 2026-01-10",
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Refunds.

#[tokio::test]
async fn refund_above_the_unapplied_cash_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    // 1300.00 oldest due first: 1000.00 to SH-001, 300.00 unapplied.
    let paid = world.paid(payment_with("1300", Vec::new())).await;
    assert_eq!(amount_of(paid.unapplied.as_ref()), "300.00");
    let before = world.position().await;
    let request = refund(pb::UnappliedSource::Cash, "300.01", "2026-02-05");

    let status = world.client.issue_refund(request).await.unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "EXCEEDS_UNAPPLIED",
        "customers/ACME/unapplied_cash",
    );
    assert_mentions(
        &violation,
        "300.01 CNY is more than the 300.00 CNY of unapplied cash on 2026-02-05 and after",
    );
    assert_eq!(metadata["unapplied"], "300.00");
    assert_eq!(metadata["currency"], "CNY");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn refund_of_credit_when_there_is_only_cash_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.paid(on_account("300", "2026-02-01")).await;
    let before = world.position().await;
    let request = refund(pb::UnappliedSource::Credit, "50", "2026-02-05");

    let status = world.client.issue_refund(request).await.unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "EXCEEDS_UNAPPLIED",
        "customers/ACME/unapplied_credit",
    );
    assert_mentions(
        &violation,
        "50.00 CNY is more than the 0.00 CNY of unapplied credit on 2026-02-05 and after",
    );
    assert_eq!(
        decimal(&metadata["unapplied"]),
        Decimal::ZERO,
        "{metadata:?}"
    );
    assert_eq!(metadata["currency"], "CNY");
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Payments: the allocation rule.

#[tokio::test]
async fn payment_on_account_with_allocations_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut request = on_account("300", "2026-02-01");
    request.allocations = vec![allocation(SUB, "SH-001", "300")];

    let status = world.client.record_payment(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "allocations",
        "allocation rules OLDEST_DUE_FIRST and ON_ACCOUNT take no allocations",
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn explicit_payment_without_allocations_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut request = payment_with("300", Vec::new());
    request.allocation_rule = pb::AllocationRule::Explicit.into();

    let status = world.client.record_payment(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "allocations",
        "allocation rule EXPLICIT needs allocations",
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn payment_with_an_unknown_allocation_rule_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let before = world.position().await;
    let mut request = payment_with("300", Vec::new());
    request.allocation_rule = 7;

    let status = world.client.record_payment(request).await.unwrap_err();

    assert_field_refused(&status, "allocation_rule", "7 is not a known value");
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Accepted, and the same command again: the first receipt, `replayed`, nothing appended.

#[tokio::test]
async fn payment_on_account_allocates_nothing_and_is_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let request = on_account("300", "2026-02-01");

    let first = world.paid(request.clone()).await;
    let position = world.position().await;
    let again = world.paid(request).await;

    assert_eq!(first.allocation_rule(), pb::AllocationRule::OnAccount);
    assert!(first.allocations.is_empty(), "{first:?}");
    assert_eq!(amount_of(first.unapplied.as_ref()), "300.00");
    assert_eq!(first.receipt.as_ref().unwrap().position, position);
    assert_replayed(first.receipt.as_ref(), again.receipt.as_ref());
    assert_eq!(again.unapplied, first.unapplied);
    world.assert_nothing_appended(position).await;
    // SH-001 still owes all of it; the 300.00 waits on account.
    let account = world.account().await;
    assert_eq!(account.open_invoices.len(), 1);
    assert_eq!(
        amount_of(account.open_invoices[0].open_amount.as_ref()),
        "1000.00"
    );
    assert_eq!(amount_of(account.balances[0].unapplied.as_ref()), "300.00");
    assert_eq!(amount_of(account.balances[0].exposure.as_ref()), "700.00");
}

#[tokio::test]
async fn credit_note_on_account_becomes_unapplied_credit_and_is_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    let request = credit_note(CUSTOMER, "CN-1", "150", "2026-02-01", None);

    let first = world
        .client
        .issue_credit_note(request.clone())
        .await
        .expect("the credit note")
        .into_inner();
    let position = world.position().await;
    let again = world
        .client
        .issue_credit_note(request)
        .await
        .expect("the retry")
        .into_inner();

    assert!(first.invoice.is_none(), "{first:?}");
    assert_eq!(amount_of(first.unapplied_credit.as_ref()), "150.00");
    assert_eq!(first.receipt.as_ref().unwrap().position, position);
    assert_replayed(first.receipt.as_ref(), again.receipt.as_ref());
    assert_eq!(again.unapplied_credit, first.unapplied_credit);
    world.assert_nothing_appended(position).await;
    // 1000.00 open, 150.00 unapplied credit: exposure 850.00.
    let account = world.account().await;
    let balance = &account.balances[0];
    assert_eq!(amount_of(balance.open_invoices.as_ref()), "1000.00");
    assert_eq!(amount_of(balance.unapplied_credit.as_ref()), "150.00");
    assert_eq!(amount_of(balance.unapplied.as_ref()), "0.00");
    assert_eq!(amount_of(balance.exposure.as_ref()), "850.00");
}

#[tokio::test]
async fn credit_note_against_an_invoice_reduces_it_and_is_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    // A credit note may carry an invoice's number: its numbers are a key space of their own.
    let request = credit_note(CUSTOMER, "SH-001", "250.50", "2026-02-01", Some("SH-001"));

    let first = world
        .client
        .issue_credit_note(request.clone())
        .await
        .expect("the credit note")
        .into_inner();
    let position = world.position().await;
    let again = world
        .client
        .issue_credit_note(request)
        .await
        .expect("the retry")
        .into_inner();

    assert_eq!(first.invoice, invoice_ref(SUB, "SH-001"));
    assert_eq!(amount_of(first.unapplied_credit.as_ref()), "0.00");
    assert_replayed(first.receipt.as_ref(), again.receipt.as_ref());
    world.assert_nothing_appended(position).await;
    // 1000.00 - 250.50 = 749.50 open, 250.50 credited.
    let account = world.account().await;
    let open = &account.open_invoices[0];
    assert_eq!(amount_of(open.open_amount.as_ref()), "749.50");
    assert_eq!(amount_of(open.credited.as_ref()), "250.50");
}

#[tokio::test]
async fn write_off_is_accepted_and_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world
        .paid(payment_with("400", vec![allocation(SUB, "SH-001", "400")]))
        .await;
    // All that is left: 1000.00 - 400.00 = 600.00.
    let request = write_off("SH-001", "600", "2026-03-01");

    let first = world
        .client
        .write_off_invoice(request.clone())
        .await
        .expect("the write-off")
        .into_inner();
    let position = world.position().await;
    let again = world
        .client
        .write_off_invoice(request)
        .await
        .expect("the retry")
        .into_inner();

    assert_eq!(first.receipt.as_ref().unwrap().position, position);
    assert_replayed(first.receipt.as_ref(), again.receipt.as_ref());
    world.assert_nothing_appended(position).await;
    let account = world.account().await;
    assert!(account.open_invoices.is_empty(), "{account:?}");
    assert_eq!(account.written_off_invoices.len(), 1);
    let written_off = &account.written_off_invoices[0];
    assert_eq!(written_off.invoice, invoice_ref(SUB, "SH-001"));
    assert_eq!(amount_of(written_off.written_off.as_ref()), "600.00");
    assert_eq!(amount_of(written_off.open_amount.as_ref()), "0.00");
}

#[tokio::test]
async fn reversal_reopens_the_allocations_and_removes_the_unapplied_cash_and_is_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.issued(CUSTOMER, "SH-002", "500").await;
    // 1300.00: 800.00 to SH-001, 300.00 to SH-002, 200.00 unapplied.
    let paid = payment_with(
        "1300",
        vec![
            allocation(SUB, "SH-001", "800"),
            allocation(SUB, "SH-002", "300"),
        ],
    );
    let payment_id = paid.command_id.clone();
    let received = world.paid(paid).await;
    assert_eq!(amount_of(received.unapplied.as_ref()), "200.00");
    let request = reversal(&payment_id, "2026-02-10");

    let first = world
        .client
        .reverse_payment(request.clone())
        .await
        .expect("the reversal")
        .into_inner();
    let position = world.position().await;
    let again = world
        .client
        .reverse_payment(request)
        .await
        .expect("the retry")
        .into_inner();

    let reopened: Vec<_> = first.reopened.iter().map(allocated).collect();
    assert_eq!(
        reopened,
        vec![
            triple(SUB, "SH-001", "800.00"),
            triple(SUB, "SH-002", "300.00")
        ]
    );
    assert_eq!(amount_of(first.unapplied_removed.as_ref()), "200.00");
    assert_eq!(first.receipt.as_ref().unwrap().position, position);
    assert_replayed(first.receipt.as_ref(), again.receipt.as_ref());
    assert_eq!(again.reopened, first.reopened);
    assert_eq!(again.unapplied_removed, first.unapplied_removed);
    world.assert_nothing_appended(position).await;
    // Both invoices owe all of it again; no cash is left; the payment shows its reversal.
    let account = world.account().await;
    let open: Vec<_> = account
        .open_invoices
        .iter()
        .map(|i| {
            (
                i.invoice.as_ref().unwrap().invoice_number.clone(),
                amount_of(i.open_amount.as_ref()),
            )
        })
        .collect();
    assert_eq!(
        open,
        vec![
            ("SH-001".to_owned(), "1000.00".to_owned()),
            ("SH-002".to_owned(), "500.00".to_owned())
        ]
    );
    assert_eq!(amount_of(account.balances[0].unapplied.as_ref()), "0.00");
    assert_eq!(account.payments.len(), 1);
    assert_eq!(account.payments[0].payment_command_id, payment_id);
    assert_eq!(account.payments[0].reversed_on, "2026-02-10");
}

#[tokio::test]
async fn application_allocates_the_unapplied_cash_and_is_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "300").await;
    world.issued(CUSTOMER, "SH-002", "400").await;
    world.paid(on_account("500", "2026-02-01")).await;
    let request = application(
        pb::UnappliedSource::Cash,
        "450",
        "2026-02-05",
        vec![
            allocation(SUB, "SH-002", "150"),
            allocation(SUB, "SH-001", "300"),
        ],
    );

    let first = world
        .client
        .apply_unapplied_cash(request.clone())
        .await
        .expect("the application")
        .into_inner();
    let position = world.position().await;
    let again = world
        .client
        .apply_unapplied_cash(request)
        .await
        .expect("the retry")
        .into_inner();

    assert_eq!(first.allocation_rule(), pb::AllocationRule::Explicit);
    let allocations: Vec<_> = first.allocations.iter().map(allocated).collect();
    assert_eq!(
        allocations,
        vec![
            triple(SUB, "SH-002", "150.00"),
            triple(SUB, "SH-001", "300.00")
        ]
    );
    assert_eq!(amount_of(first.applied.as_ref()), "450.00");
    assert_eq!(first.receipt.as_ref().unwrap().position, position);
    assert_replayed(first.receipt.as_ref(), again.receipt.as_ref());
    assert_eq!(again.allocations, first.allocations);
    assert_eq!(again.applied, first.applied);
    world.assert_nothing_appended(position).await;
    // SH-001 is paid; SH-002 owes 400.00 - 150.00 = 250.00; 500.00 - 450.00 = 50.00 is left.
    let account = world.account().await;
    assert_eq!(account.open_invoices.len(), 1);
    assert_eq!(account.open_invoices[0].invoice, invoice_ref(SUB, "SH-002"));
    assert_eq!(
        amount_of(account.open_invoices[0].open_amount.as_ref()),
        "250.00"
    );
    assert_eq!(amount_of(account.balances[0].unapplied.as_ref()), "50.00");
}

#[tokio::test]
async fn application_of_credit_oldest_due_first_is_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    // SH-001 due 2026-02-09; SH-002, issued the same day, due 2026-03-31: SH-001 comes first.
    world
        .client
        .issue_invoice(invoice(
            CUSTOMER,
            SUB,
            "SH-002",
            "400",
            ISSUED,
            "2026-03-31",
        ))
        .await
        .unwrap();
    world.issued(CUSTOMER, "SH-001", "300").await;
    world
        .credited(credit_note(CUSTOMER, "CN-1", "350", "2026-02-01", None))
        .await;
    let request = application(pb::UnappliedSource::Credit, "350", "2026-02-05", Vec::new());

    let first = world
        .client
        .apply_unapplied_cash(request.clone())
        .await
        .expect("the application")
        .into_inner();
    let position = world.position().await;
    let again = world
        .client
        .apply_unapplied_cash(request)
        .await
        .expect("the retry")
        .into_inner();

    assert_eq!(first.allocation_rule(), pb::AllocationRule::OldestDueFirst);
    let allocations: Vec<_> = first.allocations.iter().map(allocated).collect();
    assert_eq!(
        allocations,
        vec![
            triple(SUB, "SH-001", "300.00"),
            triple(SUB, "SH-002", "50.00")
        ]
    );
    assert_eq!(amount_of(first.applied.as_ref()), "350.00");
    assert_replayed(first.receipt.as_ref(), again.receipt.as_ref());
    world.assert_nothing_appended(position).await;
    let account = world.account().await;
    assert_eq!(
        amount_of(account.balances[0].unapplied_credit.as_ref()),
        "0.00"
    );
    assert_eq!(
        amount_of(account.balances[0].open_invoices.as_ref()),
        "350.00"
    );
}

#[tokio::test]
async fn refund_pays_back_unapplied_cash_and_is_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued(CUSTOMER, "SH-001", "1000").await;
    world.paid(on_account("500", "2026-02-01")).await;
    let request = refund(pb::UnappliedSource::Cash, "200", "2026-02-05");

    let first = world
        .client
        .issue_refund(request.clone())
        .await
        .expect("the refund")
        .into_inner();
    let position = world.position().await;
    let again = world
        .client
        .issue_refund(request)
        .await
        .expect("the retry")
        .into_inner();

    let receipt = first.receipt.as_ref().expect("a receipt");
    assert_eq!(receipt.position, position);
    assert!(!receipt.event_id.is_empty());
    assert!(receipt.recorded_at.is_some());
    assert_replayed(first.receipt.as_ref(), again.receipt.as_ref());
    world.assert_nothing_appended(position).await;
    // 500.00 - 200.00 = 300.00 unapplied; 1000.00 - 300.00 = 700.00 exposure.
    let account = world.account().await;
    assert_eq!(amount_of(account.balances[0].unapplied.as_ref()), "300.00");
    assert_eq!(amount_of(account.balances[0].exposure.as_ref()), "700.00");
}
