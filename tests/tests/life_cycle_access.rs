//! Who may move money, end to end: the command service over TLS with tokens, against a real
//! `nats-server` with JetStream that every case starts for itself, the tokens issued straight
//! into the service's token bucket on that server (as `receivables tokens create --nats-url`
//! does).
//!
//! A subsidiary token moves money for its own subsidiary and against its own subsidiary's
//! invoices only: paying, crediting or applying cash to another subsidiary's invoice is a
//! decision of the group (credit control or treasury), and so is reversing for another
//! subsidiary, unless the group (an admin) has enabled that subsidiary to collect on behalf of
//! the other: a setting recorded as an event of the group's own account, directed, and
//! withdrawn by disabling it. Write-offs are credit control's, or an admin's. Every refusal is
//! `PERMISSION_DENIED` and appends nothing; the same request with a group token is accepted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use receivables::config::{SecurityArgs, TOKENS_BUCKET_DEFAULT};
use receivables_access::{KvTokenConfig, KvTokenStore, TokenLabel, TokenStore, issue};
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_domain::Principal;
use receivables_domain::SubsidiaryId;
use receivables_domain::access::Role;
use receivables_tests::certificates::TestPki;
use receivables_tests::{
    NatsServer, TestService, allocation, cny, command_id, init_logging, invoice, invoice_ref,
    last_sequence, payment, service_args,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

const CUSTOMER: &str = "ACME";
const SUB_A: &str = "SUB-A";
const SUB_B: &str = "SUB-B";
const ISSUED: &str = "2026-03-01";
const DUE: &str = "2026-03-31";

/// One case's world: a JetStream server, the command service over TLS with tokens, a handle on
/// its token bucket, and a client that trusts the test CA.
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
        let channel = channel(&pki.ca_cert, service.address.port()).await;
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

    /// Issues a token for `role` into the service's bucket; returns the bearer token.
    async fn token(&self, role: Role) -> String {
        let (bearer, record) = issue(
            role,
            TokenLabel::parse("life cycle access test").expect("label"),
            None,
            Principal::parse("local-admin").expect("principal"),
            Utc::now(),
        )
        .expect("token");
        self.tokens.insert(&record).await.expect("token stored");
        bearer.expose().to_owned()
    }

    async fn subsidiary_token(&self, subsidiary: &str) -> String {
        self.token(Role::Subsidiary(SubsidiaryId::parse(subsidiary).unwrap()))
            .await
    }

    /// The stream's last sequence.
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

    /// Issues `subsidiary`'s invoice `number` to `CUSTOMER` with `token`; it must be accepted.
    async fn issued(&mut self, token: &str, subsidiary: &str, number: &str, amount: &str) {
        self.commands
            .issue_invoice(authorized(
                invoice(CUSTOMER, subsidiary, number, amount, ISSUED, DUE),
                token,
            ))
            .await
            .unwrap_or_else(|status| panic!("invoice {number} was refused: {status:?}"));
    }

    /// Records a payment with `token`; it must be accepted.
    async fn paid(
        &mut self,
        token: &str,
        request: pb::RecordPaymentRequest,
    ) -> pb::RecordPaymentResponse {
        self.commands
            .record_payment(authorized(request, token))
            .await
            .unwrap_or_else(|status| panic!("payment was refused: {status:?}"))
            .into_inner()
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("PEM file")
}

/// A TLS channel to the service on `port`, trusting only the test CA, under `localhost`.
async fn channel(ca: &Path, port: u16) -> Channel {
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)));
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

/// Asserts `PERMISSION_DENIED` with reason `PERMISSION_DENIED` and a message holding `words`.
fn assert_denied(status: &Status, words: &str) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "PERMISSION_DENIED", "{status:?}");
    assert_eq!(info.domain, "receivables.v1");
    assert!(
        status.message().contains(words),
        "{:?} does not say {words:?}",
        status.message()
    );
}

/// A payment of `CUSTOMER` received by `subsidiary` on 2026-03-05.
fn payment_at(subsidiary: &str, amount: &str) -> pb::RecordPaymentRequest {
    payment(CUSTOMER, subsidiary, amount, "2026-03-05")
}

/// A payment of `CUSTOMER` received by `subsidiary` on account.
fn on_account(subsidiary: &str, amount: &str) -> pb::RecordPaymentRequest {
    let mut request = payment_at(subsidiary, amount);
    request.allocation_rule = pb::AllocationRule::OnAccount.into();
    request
}

/// A write-off of `subsidiary`'s invoice `number`.
fn write_off(subsidiary: &str, number: &str, amount: &str) -> pb::WriteOffInvoiceRequest {
    pb::WriteOffInvoiceRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        invoice: invoice_ref(subsidiary, number),
        amount: cny(amount),
        write_off_date: "2026-04-01".to_owned(),
        reason: "customer insolvent".to_owned(),
        approved_by: "Chen Jing".to_owned(),
    }
}

/// A payment received by `SUB_A` with one explicit allocation to `SUB_B`'s invoice `B-1`.
fn payment_to_b_invoice() -> pb::RecordPaymentRequest {
    let mut request = payment_at(SUB_A, "100");
    request.allocations = vec![allocation(SUB_B, "B-1", "100")];
    request
}

const MOVE_AGAINST_B: &str = "a token of subsidiary SUB-A cannot move money against documents of \
                              subsidiary SUB-B: that takes a group role (credit or treasury)";

// ---------------------------------------------------------------------------------------------
// Write-offs.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_off_with_a_subsidiary_token_is_denied() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let own = world.subsidiary_token(SUB_A).await;
    world.issued(&own, SUB_A, "A-1", "1000").await;
    let before = world.position().await;

    // Even its own subsidiary's invoice: write-offs are credit control's.
    let status = world
        .commands
        .write_off_invoice(authorized(write_off(SUB_A, "A-1", "100"), &own))
        .await
        .expect_err("a subsidiary wrote off an invoice");

    assert_denied(&status, "the subsidiary role may not write off invoices");
    world.assert_nothing_appended(before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_off_with_a_treasury_token_is_denied() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let own = world.subsidiary_token(SUB_A).await;
    let treasury = world.token(Role::Treasury).await;
    world.issued(&own, SUB_A, "A-1", "1000").await;
    let before = world.position().await;

    let status = world
        .commands
        .write_off_invoice(authorized(write_off(SUB_A, "A-1", "100"), &treasury))
        .await
        .expect_err("treasury wrote off an invoice");

    assert_denied(&status, "the treasury role may not write off invoices");
    world.assert_nothing_appended(before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_off_with_a_credit_or_admin_token_is_accepted() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let own = world.subsidiary_token(SUB_A).await;
    let credit = world.token(Role::Credit).await;
    let admin = world.token(Role::Admin).await;
    world.issued(&own, SUB_A, "A-1", "1000").await;
    let before = world.position().await;

    let by_credit = world
        .commands
        .write_off_invoice(authorized(write_off(SUB_A, "A-1", "100"), &credit))
        .await
        .expect("credit control writes off")
        .into_inner();
    let by_admin = world
        .commands
        .write_off_invoice(authorized(write_off(SUB_A, "A-1", "250"), &admin))
        .await
        .expect("an admin writes off")
        .into_inner();

    assert_eq!(by_credit.receipt.unwrap().position, before + 1);
    assert_eq!(by_admin.receipt.unwrap().position, before + 2);
    assert_eq!(world.position().await, before + 2);
    // 100.00 + 250.00 written off; 1000.00 - 350.00 = 650.00 open.
    let account = world
        .commands
        .get_account(authorized(
            pb::GetAccountRequest {
                customer_id: CUSTOMER.to_owned(),
            },
            &credit,
        ))
        .await
        .expect("credit control reads the account")
        .into_inner();
    let open = &account.open_invoices[0];
    assert_eq!(open.written_off.as_ref().unwrap().amount, "350.00");
    assert_eq!(open.open_amount.as_ref().unwrap().amount, "650.00");
}

// ---------------------------------------------------------------------------------------------
// Payments allocated to another subsidiary's invoice.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_allocated_to_another_subsidiarys_invoice_is_denied_to_a_subsidiary_token() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let a = world.subsidiary_token(SUB_A).await;
    let b = world.subsidiary_token(SUB_B).await;
    world.issued(&a, SUB_A, "A-1", "1000").await;
    world.issued(&b, SUB_B, "B-1", "1000").await;
    let before = world.position().await;

    let status = world
        .commands
        .record_payment(authorized(payment_to_b_invoice(), &a))
        .await
        .expect_err("SUB-A paid SUB-B's invoice");

    assert_denied(&status, MOVE_AGAINST_B);
    world.assert_nothing_appended(before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_allocated_to_another_subsidiarys_invoice_is_accepted_from_treasury() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let a = world.subsidiary_token(SUB_A).await;
    let b = world.subsidiary_token(SUB_B).await;
    let treasury = world.token(Role::Treasury).await;
    world.issued(&a, SUB_A, "A-1", "1000").await;
    world.issued(&b, SUB_B, "B-1", "1000").await;
    let before = world.position().await;

    let reply = world.paid(&treasury, payment_to_b_invoice()).await;

    assert_eq!(reply.receipt.as_ref().unwrap().position, before + 1);
    assert_eq!(reply.allocation_rule(), pb::AllocationRule::Explicit);
    assert_eq!(reply.allocations.len(), 1);
    assert_eq!(reply.allocations[0].invoice, invoice_ref(SUB_B, "B-1"));
    assert_eq!(reply.allocations[0].amount, cny("100.00"));
    assert_eq!(reply.unapplied, cny("0.00"));
    assert_eq!(world.position().await, before + 1);
}

// ---------------------------------------------------------------------------------------------
// Credit notes, applications and reversals across subsidiaries.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_note_against_another_subsidiarys_invoice_is_denied_to_a_subsidiary_token() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let a = world.subsidiary_token(SUB_A).await;
    let b = world.subsidiary_token(SUB_B).await;
    world.issued(&a, SUB_A, "A-1", "1000").await;
    world.issued(&b, SUB_B, "B-1", "1000").await;
    let before = world.position().await;
    let request = pb::IssueCreditNoteRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB_A.to_owned(),
        credit_note_number: "CN-A-1".to_owned(),
        amount: cny("100"),
        issue_date: "2026-03-05".to_owned(),
        reason: "price corrected".to_owned(),
        invoice: invoice_ref(SUB_B, "B-1"),
    };

    let status = world
        .commands
        .issue_credit_note(authorized(request.clone(), &a))
        .await
        .expect_err("SUB-A credited SUB-B's invoice");

    assert_denied(&status, MOVE_AGAINST_B);
    world.assert_nothing_appended(before).await;
    // The number was not taken by the refused request: SUB-A may still use it on account.
    let mut own = request;
    own.command_id = command_id();
    own.invoice = None;
    world
        .commands
        .issue_credit_note(authorized(own, &a))
        .await
        .expect("SUB-A credits on account");
    assert_eq!(world.position().await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_to_another_subsidiarys_invoice_is_denied_to_a_subsidiary_token() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let a = world.subsidiary_token(SUB_A).await;
    let b = world.subsidiary_token(SUB_B).await;
    world.issued(&a, SUB_A, "A-1", "1000").await;
    world.issued(&b, SUB_B, "B-1", "1000").await;
    world.paid(&a, on_account(SUB_A, "500")).await;
    let before = world.position().await;
    let request = pb::ApplyUnappliedCashRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB_A.to_owned(),
        source: pb::UnappliedSource::Cash.into(),
        amount: cny("100"),
        application_date: "2026-03-10".to_owned(),
        allocations: vec![allocation(SUB_B, "B-1", "100")],
    };

    let status = world
        .commands
        .apply_unapplied_cash(authorized(request, &a))
        .await
        .expect_err("SUB-A applied cash to SUB-B's invoice");

    assert_denied(&status, MOVE_AGAINST_B);
    world.assert_nothing_appended(before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reversal_for_another_subsidiary_is_denied_to_a_subsidiary_token() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let a = world.subsidiary_token(SUB_A).await;
    let b = world.subsidiary_token(SUB_B).await;
    world.issued(&b, SUB_B, "B-1", "1000").await;
    let paid = payment_at(SUB_B, "300");
    let payment_id = paid.command_id.clone();
    world.paid(&b, paid).await;
    let before = world.position().await;
    let request = pb::ReversePaymentRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB_B.to_owned(),
        payment_command_id: payment_id,
        reversal_date: "2026-03-10".to_owned(),
        reason: pb::ReversalReason::InsufficientFunds.into(),
    };

    let status = world
        .commands
        .reverse_payment(authorized(request.clone(), &a))
        .await
        .expect_err("SUB-A reversed SUB-B's payment");

    assert_denied(
        &status,
        "a token of subsidiary SUB-A cannot post for subsidiary SUB-B",
    );
    world.assert_nothing_appended(before).await;
    // The receiving subsidiary may.
    let reply = world
        .commands
        .reverse_payment(authorized(request, &b))
        .await
        .expect("SUB-B reverses its own payment")
        .into_inner();
    assert_eq!(reply.reopened.len(), 1);
    assert_eq!(reply.reopened[0].invoice, invoice_ref(SUB_B, "B-1"));
    assert_eq!(reply.reopened[0].amount, cny("300.00"));
    assert_eq!(reply.unapplied_removed, cny("0.00"));
    assert_eq!(world.position().await, before + 1);
}

/// A payment received by SUB-A that treasury allocated to SUB-B's invoice: reversing it
/// re-opens SUB-B's invoice, which moves money against SUB-B's documents as much as the payment
/// did (`access.rs` counts reversals among the money a subsidiary moves, and allows it against
/// its own subsidiary's documents only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reversal_reopening_another_subsidiarys_invoice_is_denied_to_a_subsidiary_token() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let a = world.subsidiary_token(SUB_A).await;
    let b = world.subsidiary_token(SUB_B).await;
    let treasury = world.token(Role::Treasury).await;
    world.issued(&b, SUB_B, "B-1", "1000").await;
    let paid = payment_to_b_invoice();
    let payment_id = paid.command_id.clone();
    world.paid(&treasury, paid).await;
    let before = world.position().await;
    let request = pb::ReversePaymentRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB_A.to_owned(),
        payment_command_id: payment_id,
        reversal_date: "2026-03-10".to_owned(),
        reason: pb::ReversalReason::ReturnedByBank.into(),
    };

    let result = world
        .commands
        .reverse_payment(authorized(request.clone(), &a))
        .await;

    let status = result.expect_err("SUB-A re-opened SUB-B's invoice by reversing a payment");
    assert_denied(&status, "SUB-B");
    world.assert_nothing_appended(before).await;
    // Treasury, which allocated it, may reverse it.
    let reply = world
        .commands
        .reverse_payment(authorized(request, &treasury))
        .await
        .expect("treasury reverses the payment")
        .into_inner();
    assert_eq!(reply.reopened.len(), 1);
    assert_eq!(reply.reopened[0].invoice, invoice_ref(SUB_B, "B-1"));
    assert_eq!(world.position().await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refund_for_another_subsidiary_is_denied_to_a_subsidiary_token() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let a = world.subsidiary_token(SUB_A).await;
    let b = world.subsidiary_token(SUB_B).await;
    world.paid(&b, on_account(SUB_B, "500")).await;
    let before = world.position().await;
    let request = pb::IssueRefundRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB_B.to_owned(),
        source: pb::UnappliedSource::Cash.into(),
        amount: cny("100"),
        refund_date: "2026-03-10".to_owned(),
        method: pb::PaymentMethod::BankTransfer.into(),
        reference: "REFUND-1".to_owned(),
    };

    let status = world
        .commands
        .issue_refund(authorized(request, &a))
        .await
        .expect_err("SUB-A refunded for SUB-B");

    assert_denied(
        &status,
        "a token of subsidiary SUB-A cannot post for subsidiary SUB-B",
    );
    world.assert_nothing_appended(before).await;
}

// ---------------------------------------------------------------------------------------------
// Collection on behalf: the group's setting, recorded as an event of the group's own account.

/// The group (an admin) enabling (or disabling) collection on behalf of `on_behalf_of` by
/// `collector`.
fn collection_on_behalf(
    collector: &str,
    on_behalf_of: &str,
    enabled: bool,
) -> pb::SetCollectionOnBehalfRequest {
    pb::SetCollectionOnBehalfRequest {
        command_id: command_id(),
        collector_id: collector.to_owned(),
        on_behalf_of_id: on_behalf_of.to_owned(),
        enabled,
        reason: "treasury centralisation".to_owned(),
        approved_by: "Chen Jing".to_owned(),
    }
}

impl Secured {
    /// The group's setting, posted with `token`; it must be accepted.
    async fn set(&mut self, token: &str, collector: &str, on_behalf_of: &str, enabled: bool) {
        self.commands
            .set_collection_on_behalf(authorized(
                collection_on_behalf(collector, on_behalf_of, enabled),
                token,
            ))
            .await
            .unwrap_or_else(|status| panic!("the setting was refused: {status:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collection_on_behalf_lets_a_subsidiary_token_move_money_against_the_other_only_while_enabled()
 {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let admin = world.token(Role::Admin).await;
    let a = world.subsidiary_token(SUB_A).await;
    let b = world.subsidiary_token(SUB_B).await;
    world.issued(&a, SUB_A, "A-1", "1000").await;
    world.issued(&b, SUB_B, "B-1", "1000").await;

    // Given nothing enabled, SUB-A's token may not pay SUB-B's invoice.
    let before = world.position().await;
    let status = world
        .commands
        .record_payment(authorized(payment_to_b_invoice(), &a))
        .await
        .expect_err("SUB-A paid SUB-B's invoice before the group allowed it");
    assert_denied(
        &status,
        "or the group enabling collection on behalf of SUB-B by SUB-A",
    );
    world.assert_nothing_appended(before).await;

    // When the group enables SUB-A to collect on behalf of SUB-B,
    world.set(&admin, SUB_A, SUB_B, true).await;
    let enabled_at = world.position().await;
    assert_eq!(enabled_at, before + 1, "the setting is one event");

    // then SUB-A's token pays SUB-B's invoice and credits it,
    let paid = world.paid(&a, payment_to_b_invoice()).await;
    assert_eq!(paid.receipt.unwrap().position, enabled_at + 1);
    let credit_note = pb::IssueCreditNoteRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        subsidiary_id: SUB_A.to_owned(),
        credit_note_number: "CN-A-1".to_owned(),
        amount: cny("50"),
        issue_date: "2026-03-05".to_owned(),
        reason: "price corrected".to_owned(),
        invoice: invoice_ref(SUB_B, "B-1"),
    };
    world
        .commands
        .issue_credit_note(authorized(credit_note, &a))
        .await
        .expect("SUB-A credits SUB-B's invoice on its behalf");

    // but SUB-B's token still may not pay SUB-A's invoice: the setting is directed.
    let before = world.position().await;
    let mut b_pays_a = payment_at(SUB_B, "100");
    b_pays_a.allocations = vec![allocation(SUB_A, "A-1", "100")];
    let status = world
        .commands
        .record_payment(authorized(b_pays_a, &b))
        .await
        .expect_err("SUB-B paid SUB-A's invoice");
    assert_denied(
        &status,
        "a token of subsidiary SUB-B cannot move money against documents of subsidiary SUB-A",
    );
    world.assert_nothing_appended(before).await;

    // When the group disables it again, SUB-A's token is refused again.
    world.set(&admin, SUB_A, SUB_B, false).await;
    let before = world.position().await;
    let status = world
        .commands
        .record_payment(authorized(payment_to_b_invoice(), &a))
        .await
        .expect_err("SUB-A paid SUB-B's invoice after the group stopped it");
    assert_denied(&status, MOVE_AGAINST_B);
    world.assert_nothing_appended(before).await;

    // B-1: 1,000.00 - 100.00 paid - 50.00 credited = 850.00 open.
    let account = world
        .commands
        .get_account(authorized(
            pb::GetAccountRequest {
                customer_id: CUSTOMER.to_owned(),
            },
            &world.token(Role::Credit).await,
        ))
        .await
        .expect("credit control reads the account")
        .into_inner();
    let b1 = account
        .open_invoices
        .iter()
        .find(|i| {
            i.invoice
                .as_ref()
                .is_some_and(|r| r.invoice_number == "B-1")
        })
        .expect("B-1 open");
    assert_eq!(b1.open_amount.as_ref().unwrap().amount, "850.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_admin_token_changes_the_groups_collection_on_behalf() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let before = world.position().await;
    for role in [
        Role::Subsidiary(SubsidiaryId::parse(SUB_A).unwrap()),
        Role::Credit,
        Role::Treasury,
        Role::Reporting,
        Role::Auditor,
    ] {
        let token = world.token(role.clone()).await;
        let status = world
            .commands
            .set_collection_on_behalf(authorized(collection_on_behalf(SUB_A, SUB_B, true), &token))
            .await
            .expect_err("a non-admin changed the group's setting");
        assert_denied(&status, "may not change the group's settings");
    }
    world.assert_nothing_appended(before).await;

    let admin = world.token(Role::Admin).await;
    world.set(&admin, SUB_A, SUB_B, true).await;
    assert_eq!(world.position().await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_setting_and_a_self_collection_are_refused_with_details() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let admin = world.token(Role::Admin).await;
    world.set(&admin, SUB_A, SUB_B, true).await;
    let before = world.position().await;

    let status = world
        .commands
        .set_collection_on_behalf(authorized(collection_on_behalf(SUB_A, SUB_B, true), &admin))
        .await
        .expect_err("enabled twice");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let details = status.get_error_details();
    assert_eq!(
        details.error_info().expect("ErrorInfo").reason,
        "COLLECTION_ON_BEHALF_UNCHANGED"
    );
    let violation = &details
        .precondition_failure()
        .expect("PreconditionFailure")
        .violations[0];
    assert_eq!(violation.subject, "group/collection_on_behalf/SUB-A/SUB-B");

    let mut request = collection_on_behalf(SUB_A, SUB_A, true);
    request.reason = String::new();
    request.approved_by = String::new();
    let status = world
        .commands
        .set_collection_on_behalf(authorized(request, &admin))
        .await
        .expect_err("a subsidiary on its own behalf");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .expect("BadRequest")
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(fields, ["approved_by", "on_behalf_of_id", "reason"]);
    world.assert_nothing_appended(before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_groups_own_account_takes_no_customer_command() {
    let Some(mut world) = Secured::start().await else {
        return;
    };
    let a = world.subsidiary_token(SUB_A).await;
    let before = world.position().await;

    let status = world
        .commands
        .issue_invoice(authorized(
            invoice("_group", SUB_A, "A-1", "1000", ISSUED, DUE),
            &a,
        ))
        .await
        .expect_err("an invoice to the group's own account");

    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let violations = &details.bad_request().expect("BadRequest").field_violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, "customer_id");
    assert!(
        violations[0]
            .description
            .contains("reserved for the group's own account"),
        "{violations:?}"
    );
    world.assert_nothing_appended(before).await;
}
