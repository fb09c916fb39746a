//! Disputes end to end: `OpenDispute` and `ResolveDispute` over real gRPC against a real
//! `nats-server` with JetStream that every case starts for itself.
//!
//! Refusals: each case posts the valid history it needs, sends one bad request, and checks the
//! refusal exactly (status code, `ErrorInfo` reason and metadata, the `BadRequest` field path or
//! the `PreconditionFailure` type and subject), then that nothing was appended to the stream.
//! Access: a subsidiary's token posts disputes on its own subsidiary's invoices only; the case
//! runs the service over TLS with tokens issued into its token bucket.
//!
//! Acceptances: a dispute opened (its id is the command's), shown on the account, resolved as
//! upheld by a real credit note against the invoice, shown with its outcome; every command sent
//! again answers with its first receipt (`replayed`) and appends nothing.
//!
//! Business dates are in the first half of 2026 (in the past), except where a rule needs a date
//! in the future: those are built from today's UTC date, the service's own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use receivables::config::{SecurityArgs, TOKENS_BUCKET_DEFAULT};
use receivables_access::{KvTokenConfig, KvTokenStore, TokenLabel, TokenStore, issue};
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_domain::access::Role;
use receivables_domain::{Principal, SubsidiaryId};
use receivables_tests::certificates::TestPki;
use receivables_tests::refusals::*;
use receivables_tests::*;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

const CUSTOMER: &str = "ACME";
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

    /// Issues `SUB`'s invoice `number` to `CUSTOMER`, in CNY, issued 2026-01-10 and due
    /// 2026-02-09; it must be accepted.
    async fn issued(&mut self, number: &str, amount: &str) {
        self.client
            .issue_invoice(invoice(CUSTOMER, SUB, number, amount, ISSUED, DUE))
            .await
            .unwrap_or_else(|status| panic!("invoice {number} was refused: {status:?}"));
    }

    /// Opens a dispute that must be accepted.
    async fn disputed(&mut self, request: pb::OpenDisputeRequest) -> pb::OpenDisputeResponse {
        self.client
            .open_dispute(request)
            .await
            .unwrap_or_else(|status| panic!("the dispute was refused: {status:?}"))
            .into_inner()
    }

    /// Resolves a dispute; the resolution must be accepted.
    async fn resolved(&mut self, request: pb::ResolveDisputeRequest) -> pb::ResolveDisputeResponse {
        self.client
            .resolve_dispute(request)
            .await
            .unwrap_or_else(|status| panic!("the resolution was refused: {status:?}"))
            .into_inner()
    }

    /// Issues a credit note that must be accepted.
    async fn credited(&mut self, request: pb::IssueCreditNoteRequest) {
        self.client
            .issue_credit_note(request)
            .await
            .unwrap_or_else(|status| panic!("credit note was refused: {status:?}"));
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

/// `CUSTOMER` disputes `amount` of `SUB`'s invoice `number` on price from `opened_on`, until
/// `expires_on` (empty: until resolved).
fn open_dispute(
    number: &str,
    amount: &str,
    opened_on: &str,
    expires_on: &str,
) -> pb::OpenDisputeRequest {
    pb::OpenDisputeRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        invoice: invoice_ref(SUB, number),
        amount: cny(amount),
        reason: pb::DisputeReason::Price.into(),
        note: "unit price differs from the order".to_owned(),
        opened_on: opened_on.to_owned(),
        expires_on: expires_on.to_owned(),
    }
}

/// `SUB` resolves the dispute on its invoice `number` on `resolved_on` with `outcome`, naming
/// `credit_note` (empty: none).
fn resolve(
    number: &str,
    resolved_on: &str,
    outcome: pb::DisputeOutcome,
    credit_note: &str,
) -> pb::ResolveDisputeRequest {
    pb::ResolveDisputeRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        invoice: invoice_ref(SUB, number),
        resolved_on: resolved_on.to_owned(),
        outcome: outcome.into(),
        credit_note_number: credit_note.to_owned(),
        note: "agreed with the customer".to_owned(),
    }
}

/// A credit note of `SUB` to `CUSTOMER` against `SUB`'s invoice `invoice`.
fn credit_note(
    number: &str,
    amount: &str,
    issued: &str,
    invoice: &str,
) -> pb::IssueCreditNoteRequest {
    pb::IssueCreditNoteRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB.to_owned(),
        credit_note_number: number.to_owned(),
        amount: cny(amount),
        issue_date: issued.to_owned(),
        reason: "price corrected".to_owned(),
        invoice: invoice_ref(SUB, invoice),
    }
}

// ---------------------------------------------------------------------------------------------
// Then: the refusal, read from the status details.

/// Asserts an `INVALID_ARGUMENT` refusal with exactly one violation, of `field`, described as
/// `description`.
fn assert_field_refused(status: &Status, field: &str, description: &str) {
    let violations = field_violations(status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, field, "{violations:?}");
    assert_eq!(violations[0].description, description, "{violations:?}");
}

/// A reply's money, which must be set and in CNY; its amount as written.
fn amount_of(money: Option<&pb::Money>) -> String {
    let money = money.expect("an amount");
    assert_eq!(money.currency, "CNY", "{money:?}");
    money.amount.clone()
}

// ---------------------------------------------------------------------------------------------
// Opening.

#[tokio::test]
async fn a_second_dispute_while_one_holds_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let first = open_dispute("SH-001", "300", "2026-02-15", "");
    world.disputed(first.clone()).await;
    let before = world.position().await;
    // The first holds until resolved: on 03-01 too.
    let request = open_dispute("SH-001", "100", "2026-03-01", "");

    let status = world.client.open_dispute(request).await.unwrap_err();

    let (violation, metadata) =
        precondition_refused(&status, "DISPUTE_ALREADY_OPEN", "invoices/SUB-SH/SH-001");
    assert_eq!(
        violation.description,
        format!(
            "dispute {} opened on 2026-02-15 holds on 2026-03-01 or later",
            first.command_id
        )
    );
    assert_eq!(
        metadata,
        HashMap::from([("dispute_id".to_owned(), first.command_id.clone())])
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_dispute_above_the_open_amount_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    // 400.00 paid on 02-01: 1000.00 - 400.00 = 600.00 open from then on.
    let mut paid = payment(CUSTOMER, SUB, "400", "2026-02-01");
    paid.allocations = vec![allocation(SUB, "SH-001", "400")];
    world.client.record_payment(paid).await.unwrap();
    let before = world.position().await;
    // One fen more than the 600.00 owed on 02-15.
    let request = open_dispute("SH-001", "600.01", "2026-02-15", "");

    let status = world.client.open_dispute(request).await.unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "DISPUTE_EXCEEDS_OPEN_AMOUNT",
        "invoices/SUB-SH/SH-001",
    );
    assert_eq!(
        violation.description,
        "600.01 CNY is more than the 600.00 CNY the invoice owes on 2026-02-15"
    );
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_dispute_on_an_unknown_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let before = world.position().await;

    let status = world
        .client
        .open_dispute(open_dispute("SH-404", "100", "2026-02-15", ""))
        .await
        .unwrap_err();

    let (violation, metadata) =
        precondition_refused(&status, "INVOICE_NOT_FOUND", "invoices/SUB-SH/SH-404");
    assert_eq!(violation.description, "customer ACME has no such invoice");
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_dispute_in_another_currency_than_its_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let before = world.position().await;
    let mut request = open_dispute("SH-001", "100", "2026-02-15", "");
    request.amount = money("100", "USD");

    let status = world.client.open_dispute(request).await.unwrap_err();

    let (violation, _) =
        precondition_refused(&status, "CURRENCY_MISMATCH", "invoices/SUB-SH/SH-001");
    assert_eq!(
        violation.description,
        "the invoice is in CNY, the dispute in USD"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_dispute_dated_before_its_invoice_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let before = world.position().await;
    // Issued 01-10; 01-09 is a day early.
    let request = open_dispute("SH-001", "100", "2026-01-09", "");

    let status = world.client.open_dispute(request).await.unwrap_err();

    let (violation, _) = precondition_refused(
        &status,
        "DISPUTE_BEFORE_INVOICE_DATE",
        "invoices/SUB-SH/SH-001",
    );
    assert_eq!(
        violation.description,
        "the dispute is dated 2026-01-09, before the invoice was issued on 2026-01-10"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_dispute_without_a_reason_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let before = world.position().await;
    let mut request = open_dispute("SH-001", "100", "2026-02-15", "");
    request.reason = pb::DisputeReason::Unspecified.into();

    let status = world.client.open_dispute(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "reason",
        "is required (UNSPECIFIED is not a choice)",
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_dispute_expiring_before_it_opens_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let before = world.position().await;
    let request = open_dispute("SH-001", "100", "2026-02-15", "2026-02-10");

    let status = world.client.open_dispute(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "expires_on",
        "2026-02-10 is not after the day the dispute was opened, 2026-02-15",
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_dispute_opened_more_than_a_day_ahead_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let before = world.position().await;
    let ahead = date_from_today(2);
    let request = open_dispute("SH-001", "100", &ahead, "");

    let status = world.client.open_dispute(request).await.unwrap_err();

    let violations = field_violations(&status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, "opened_on");
    assert_eq!(
        violations[0].description,
        format!(
            "cannot be in the future: {ahead} is after {}",
            date_from_today(1)
        )
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_dispute_under_the_id_of_another_command_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let first = open_dispute("SH-001", "300", "2026-02-15", "");
    world.disputed(first.clone()).await;
    let before = world.position().await;
    let mut changed = first.clone();
    changed.amount = cny("301");

    let status = world.client.open_dispute(changed).await.unwrap_err();

    let metadata = error_metadata(&status, Code::AlreadyExists, "COMMAND_ID_REUSED");
    assert_eq!(metadata["command_id"], first.command_id);
    assert_eq!(metadata["position"], before.to_string());
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Resolving.

#[tokio::test]
async fn resolving_when_no_dispute_is_open_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let before = world.position().await;
    let request = resolve("SH-001", "2026-03-01", pb::DisputeOutcome::Withdrawn, "");

    let status = world.client.resolve_dispute(request).await.unwrap_err();

    let (violation, metadata) =
        precondition_refused(&status, "DISPUTE_NOT_OPEN", "invoices/SUB-SH/SH-001");
    assert_eq!(
        violation.description,
        "no dispute holds on the invoice on 2026-03-01"
    );
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn resolving_a_dispute_after_its_expiry_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    // Holds from 02-15 to its last day 02-28.
    world
        .disputed(open_dispute("SH-001", "300", "2026-02-15", "2026-02-28"))
        .await;
    let before = world.position().await;
    let request = resolve("SH-001", "2026-03-01", pb::DisputeOutcome::Withdrawn, "");

    let status = world.client.resolve_dispute(request).await.unwrap_err();

    let (violation, _) =
        precondition_refused(&status, "DISPUTE_NOT_OPEN", "invoices/SUB-SH/SH-001");
    assert_eq!(
        violation.description,
        "no dispute holds on the invoice on 2026-03-01"
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn an_upheld_dispute_naming_an_unknown_credit_note_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    world
        .disputed(open_dispute("SH-001", "300", "2026-02-15", ""))
        .await;
    let before = world.position().await;
    let request = resolve("SH-001", "2026-03-01", pb::DisputeOutcome::Upheld, "CN-404");

    let status = world.client.resolve_dispute(request).await.unwrap_err();

    let (violation, metadata) = precondition_refused(
        &status,
        "CREDIT_NOTE_NOT_FOUND",
        "credit_notes/SUB-SH/CN-404",
    );
    assert_eq!(
        violation.description,
        "customer ACME has no such credit note"
    );
    assert!(metadata.is_empty(), "{metadata:?}");
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn an_upheld_dispute_without_a_credit_note_number_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    world
        .disputed(open_dispute("SH-001", "300", "2026-02-15", ""))
        .await;
    let before = world.position().await;
    let request = resolve("SH-001", "2026-03-01", pb::DisputeOutcome::Upheld, "");

    let status = world.client.resolve_dispute(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "credit_note_number",
        "an upheld dispute names the credit note that credited the customer",
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_withdrawn_dispute_naming_a_credit_note_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    world
        .disputed(open_dispute("SH-001", "300", "2026-02-15", ""))
        .await;
    world
        .credited(credit_note("CN-1", "300", "2026-03-01", "SH-001"))
        .await;
    let before = world.position().await;
    let request = resolve(
        "SH-001",
        "2026-03-01",
        pb::DisputeOutcome::Withdrawn,
        "CN-1",
    );

    let status = world.client.resolve_dispute(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "credit_note_number",
        "a withdrawn dispute names no credit note",
    );
    world.assert_nothing_appended(before).await;
}

#[tokio::test]
async fn a_resolution_without_an_outcome_is_refused() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    world
        .disputed(open_dispute("SH-001", "300", "2026-02-15", ""))
        .await;
    let before = world.position().await;
    let request = resolve("SH-001", "2026-03-01", pb::DisputeOutcome::Unspecified, "");

    let status = world.client.resolve_dispute(request).await.unwrap_err();

    assert_field_refused(
        &status,
        "outcome",
        "is required (UNSPECIFIED is not a choice)",
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Accepted: open, show, resolve as upheld, show; retries replayed.

#[tokio::test]
async fn a_dispute_is_opened_shown_upheld_by_a_credit_note_and_replayed() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let opening = open_dispute("SH-001", "300", "2026-02-15", "");

    // Open: the dispute's id is the command's.
    let opened = world.disputed(opening.clone()).await;
    let position = world.position().await;
    assert_eq!(opened.dispute_id, opening.command_id);
    assert_eq!(opened.receipt.as_ref().unwrap().position, position);
    let again = world.disputed(opening.clone()).await;
    assert_replayed(opened.receipt.as_ref(), again.receipt.as_ref());
    assert_eq!(again.dispute_id, opening.command_id);
    world.assert_nothing_appended(position).await;

    // The account shows it on the invoice, unresolved; the invoice still owes 1000.00.
    let account = world.account().await;
    assert_eq!(account.open_invoices.len(), 1);
    let open = &account.open_invoices[0];
    assert_eq!(open.invoice, invoice_ref(SUB, "SH-001"));
    assert_eq!(amount_of(open.open_amount.as_ref()), "1000.00");
    assert_eq!(
        open.disputes,
        vec![pb::AccountDispute {
            dispute_id: opening.command_id.clone(),
            amount: cny("300.00"),
            reason: pb::DisputeReason::Price.into(),
            opened_on: "2026-02-15".to_owned(),
            expires_on: String::new(),
            resolved_on: String::new(),
            outcome: pb::DisputeOutcome::Unspecified.into(),
        }]
    );

    // SUB-SH credits the 300.00 against SH-001 on 03-10, and resolves the dispute as upheld.
    world
        .credited(credit_note("CN-1", "300", "2026-03-10", "SH-001"))
        .await;
    let resolution = resolve("SH-001", "2026-03-10", pb::DisputeOutcome::Upheld, "CN-1");
    let resolved = world.resolved(resolution.clone()).await;
    let position = world.position().await;
    assert_eq!(resolved.dispute_id, opening.command_id);
    assert_eq!(resolved.receipt.as_ref().unwrap().position, position);
    let again = world.resolved(resolution).await;
    assert_replayed(resolved.receipt.as_ref(), again.receipt.as_ref());
    assert_eq!(again.dispute_id, opening.command_id);
    world.assert_nothing_appended(position).await;

    // 1000.00 - 300.00 = 700.00 open, 300.00 credited; the dispute shows its outcome.
    let account = world.account().await;
    assert_eq!(account.open_invoices.len(), 1);
    let open = &account.open_invoices[0];
    assert_eq!(amount_of(open.open_amount.as_ref()), "700.00");
    assert_eq!(amount_of(open.credited.as_ref()), "300.00");
    assert_eq!(
        open.disputes,
        vec![pb::AccountDispute {
            dispute_id: opening.command_id.clone(),
            amount: cny("300.00"),
            reason: pb::DisputeReason::Price.into(),
            opened_on: "2026-02-15".to_owned(),
            expires_on: String::new(),
            resolved_on: "2026-03-10".to_owned(),
            outcome: pb::DisputeOutcome::Upheld.into(),
        }]
    );
}

#[tokio::test]
async fn a_dispute_with_an_expiry_is_withdrawn_and_a_new_one_opened_after() {
    let Some(mut world) = World::start().await else {
        return;
    };
    world.issued("SH-001", "1000").await;
    let first = open_dispute("SH-001", "250.50", "2026-02-15", "2026-03-31");
    world.disputed(first.clone()).await;
    world
        .resolved(resolve(
            "SH-001",
            "2026-03-05",
            pb::DisputeOutcome::Withdrawn,
            "",
        ))
        .await;
    // From the resolution date on, another dispute may hold.
    let mut second = open_dispute("SH-001", "1000", "2026-03-05", "");
    second.reason = pb::DisputeReason::NotDelivered.into();
    let reply = world.disputed(second.clone()).await;
    assert_eq!(reply.dispute_id, second.command_id);

    let account = world.account().await;
    let disputes = &account.open_invoices[0].disputes;
    assert_eq!(
        disputes,
        &vec![
            pb::AccountDispute {
                dispute_id: first.command_id.clone(),
                amount: cny("250.50"),
                reason: pb::DisputeReason::Price.into(),
                opened_on: "2026-02-15".to_owned(),
                expires_on: "2026-03-31".to_owned(),
                resolved_on: "2026-03-05".to_owned(),
                outcome: pb::DisputeOutcome::Withdrawn.into(),
            },
            pb::AccountDispute {
                dispute_id: second.command_id.clone(),
                amount: cny("1000.00"),
                reason: pb::DisputeReason::NotDelivered.into(),
                opened_on: "2026-03-05".to_owned(),
                expires_on: String::new(),
                resolved_on: String::new(),
                outcome: pb::DisputeOutcome::Unspecified.into(),
            },
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Access: the invoicing subsidiary's token posts its disputes, no other subsidiary's.

/// A case's world with security: a JetStream server, the command service over TLS with tokens,
/// a handle on its token bucket, and a client that trusts the test CA.
struct Secured {
    commands: CommandServiceClient<Channel>,
    tokens: KvTokenStore,
    _service: TestService,
    _pki_directory: tempfile::TempDir,
    nats: NatsServer,
}

impl Secured {
    /// Starts everything; `None` when no `nats-server` is available (outside CI).
    async fn start() -> Option<Secured> {
        init_logging();
        let nats = NatsServer::start_default().await?;
        let directory = tempfile::tempdir().expect("temporary directory");
        let pki = TestPki::create(directory.path());
        let mut args = service_args(&nats.url());
        args.security = SecurityArgs {
            tls_cert: Some(pki.server_cert.clone()),
            tls_key: Some(pki.server_key.clone()),
            tls_client_ca: None,
            insecure: false,
        };
        let service = TestService::start_with(args).await;
        let channel = tls_channel(&pki.ca_cert, service.address.port()).await;
        let client = async_nats::connect(nats.url())
            .await
            .expect("a NATS connection for the token store");
        let tokens = KvTokenStore::open(client, KvTokenConfig::with_bucket(TOKENS_BUCKET_DEFAULT))
            .await
            .expect("the token bucket opens");
        Some(Secured {
            commands: CommandServiceClient::new(channel),
            tokens,
            _service: service,
            _pki_directory: directory,
            nats,
        })
    }

    /// Issues a token of `subsidiary` into the service's bucket; returns the bearer token.
    async fn subsidiary_token(&self, subsidiary: &str) -> String {
        let (bearer, record) = issue(
            Role::Subsidiary(SubsidiaryId::parse(subsidiary).unwrap()),
            TokenLabel::parse("dispute access test").expect("label"),
            None,
            Principal::parse("local-admin").expect("principal"),
            Utc::now(),
        )
        .expect("token");
        self.tokens.insert(&record).await.expect("token stored");
        bearer.expose().to_owned()
    }

    async fn position(&self) -> u64 {
        last_sequence(&self.nats.url()).await
    }
}

/// A TLS channel to the service on `port`, trusting only the test CA, under `localhost`.
async fn tls_channel(ca: &Path, port: u16) -> Channel {
    let pem = std::fs::read(ca).expect("PEM file");
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
    let endpoint = Channel::from_shared(format!("https://localhost:{port}"))
        .expect("URL")
        .tls_config(tls)
        .expect("client TLS settings")
        .connect_timeout(Duration::from_secs(5));
    for _ in 0..100 {
        if let Ok(channel) = endpoint.connect().await {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cannot connect to the command service on port {port}");
}

/// `message` with `authorization: Bearer <token>`.
fn authorized<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header value"),
    );
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_on_another_subsidiarys_invoice_is_denied_to_a_subsidiary_token() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let own = world.subsidiary_token(SUB).await;
    let other = world.subsidiary_token(OTHER_SUB).await;
    world
        .commands
        .issue_invoice(authorized(
            invoice(CUSTOMER, SUB, "SH-001", "1000", ISSUED, DUE),
            &own,
        ))
        .await
        .expect("SUB-SH issues its invoice");
    let before = world.position().await;
    let request = open_dispute("SH-001", "300", "2026-02-15", "");

    let status = world
        .commands
        .open_dispute(authorized(request.clone(), &other))
        .await
        .expect_err("SUB-BJ opened a dispute on SUB-SH's invoice");

    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "PERMISSION_DENIED", "{status:?}");
    assert_eq!(info.domain, ERROR_DOMAIN);
    assert!(
        status
            .message()
            .contains("a token of subsidiary SUB-BJ cannot post for subsidiary SUB-SH"),
        "{:?}",
        status.message()
    );
    assert_eq!(world.position().await, before, "a denied command appended");

    // The same request with the invoicing subsidiary's token is accepted.
    let reply = world
        .commands
        .open_dispute(authorized(request.clone(), &own))
        .await
        .expect("SUB-SH opens the dispute on its own invoice")
        .into_inner();
    assert_eq!(reply.dispute_id, request.command_id);
    assert_eq!(world.position().await, before + 1);

    // Nor may the other subsidiary resolve it.
    let status = world
        .commands
        .resolve_dispute(authorized(
            resolve("SH-001", "2026-03-01", pb::DisputeOutcome::Withdrawn, ""),
            &other,
        ))
        .await
        .expect_err("SUB-BJ resolved SUB-SH's dispute");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(
        world.position().await,
        before + 1,
        "a denied command appended"
    );
}
