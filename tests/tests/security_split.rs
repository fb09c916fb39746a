//! The production split deployment, secured: `serve-commands` and `serve-queries` run as two
//! in-process listeners over real TLS (a private CA of the test's own), against a real NATS
//! JetStream server and a real PostgreSQL database of the test's own, and share one token store,
//! a real key-value bucket (under a name that is not the default, so both services are seen to
//! honour `--tokens-bucket`). Tokens are issued straight into that bucket through a handle of
//! the test's own, as `receivables tokens create --nats-url` does.
//!
//! What it proves, over real gRPC:
//! - a subsidiary token posts for its own subsidiary on the command service, and a post for
//!   another subsidiary is `PERMISSION_DENIED` and appends nothing to the stream;
//! - the query service, in another process's place, accepts the tokens of the shared bucket: a
//!   reporting token reads the aging report with `min_position` and sees the invoice (the figure
//!   worked out by hand), but cannot replay the log; an auditor token can, and the one event
//!   records the subsidiary token's principal `token:<id>`;
//! - calls without a token are `UNAUTHENTICATED` on both services;
//! - a token revoked through yet another, separately opened handle on the bucket is refused on
//!   the very next call to each service (`UNAUTHENTICATED`, "revoked"), while the other tokens
//!   keep working;
//! - both services stop gracefully.
//!
//! Without `nats-server` or PostgreSQL the test skips, loudly (under `CI=true` it fails).

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use chrono::Utc;
use receivables::config::{QueryServiceArgs, SecurityArgs};
use receivables::read_app::ReadApplication;
use receivables_access::{KvTokenConfig, KvTokenStore, TokenId, TokenLabel, TokenStore, issue};
use receivables_api::pb;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_domain::Principal;
use receivables_domain::SubsidiaryId;
use receivables_domain::access::Role;
use receivables_tests::certificates::TestPki;
use receivables_tests::{
    NatsServer, TestDatabase, TestService, init_logging, invoice, last_sequence, service_args,
};
use rust_decimal::Decimal;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

/// The token bucket both services are told to use (not the default name).
const TOKENS_BUCKET: &str = "SPLIT_TEST_TOKENS";
const SUB: &str = "SUB-1";
const OTHER_SUB: &str = "SUB-2";
const CUSTOMER: &str = "ACME";

/// The query service (`serve-queries`: projector, queries, audit, admin) running in-process,
/// stopped on drop; [`QueryProcess::stop`] stops it gracefully and waits.
struct QueryProcess {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl QueryProcess {
    async fn start(args: &QueryServiceArgs) -> QueryProcess {
        let app = ReadApplication::build(args)
            .await
            .expect("the secured query service starts");
        let address = app.local_addr().expect("the query service's address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        QueryProcess {
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("query service task")
                .expect("the query service stopped cleanly");
        }
    }
}

impl Drop for QueryProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// TLS with the server's certificate and key, no client certificates, tokens required.
fn secured(pki: &TestPki) -> SecurityArgs {
    SecurityArgs {
        tls_cert: Some(pki.server_cert.clone()),
        tls_key: Some(pki.server_key.clone()),
        tls_client_ca: None,
        insecure: false,
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("PEM file")
}

/// A TLS channel to `address` trusting only the test CA, under the name `localhost`.
async fn channel(pki: &TestPki, address: SocketAddr) -> Channel {
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&pki.ca_cert)));
    Channel::from_shared(format!("https://localhost:{}", address.port()))
        .expect("URL")
        .tls_config(tls)
        .expect("client TLS settings")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("a TLS channel trusting the test CA")
}

/// A handle on the shared token bucket of its own: its own NATS connection, as `receivables
/// tokens --nats-url` opens it.
async fn open_token_bucket(nats_url: &str) -> KvTokenStore {
    let client = async_nats::connect(nats_url)
        .await
        .expect("a NATS connection for the token store");
    KvTokenStore::open(client, KvTokenConfig::with_bucket(TOKENS_BUCKET))
        .await
        .expect("the token bucket opens")
}

/// Issues a token for `role` straight into `store`; returns the bearer token and its id.
async fn issue_token(store: &KvTokenStore, role: Role, label: &str) -> (String, TokenId) {
    let (bearer, record) = issue(
        role,
        TokenLabel::parse(label).expect("label"),
        None,
        Principal::parse("local-admin").expect("principal"),
        Utc::now(),
    )
    .expect("token");
    store.insert(&record).await.expect("token stored");
    (bearer.expose().to_owned(), record.id)
}

/// `message` with `authorization: Bearer <token>`, or without the header.
fn authorized<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header value"),
        );
    }
    request
}

/// The ErrorInfo reason of a refusal ("" when there is none).
fn reason(status: &Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

/// Asserts `status` is `code` with ErrorInfo reason `why`, and its message holds `words`.
fn assert_refused(status: &Status, code: Code, why: &str, words: &str, what: &str) {
    assert_eq!(status.code(), code, "{what}: {status:?}");
    assert_eq!(reason(status), why, "{what}: {status:?}");
    assert!(status.message().contains(words), "{what}: {status:?}");
}

fn aging_request(min_position: u64) -> pb::GetAgingReportRequest {
    pb::GetAgingReportRequest {
        scope: Some(pb::AgingScope {
            as_of: "2026-04-15".to_owned(),
            ..pb::AgingScope::default()
        }),
        group_by: pb::AgingGroupBy::Subsidiary.into(),
        min_position,
    }
}

fn account_request() -> pb::GetAccountRequest {
    pb::GetAccountRequest {
        customer_id: CUSTOMER.to_owned(),
    }
}

/// Every event the log replays to the holder of `token`, or the refusal.
async fn replay(
    audit: &AuditServiceClient<Channel>,
    token: Option<&str>,
) -> Result<Vec<pb::AuditedEvent>, Status> {
    let mut stream = audit
        .clone()
        .replay_events(authorized(pb::ReplayEventsRequest::default(), token))
        .await?
        .into_inner();
    let mut events = Vec::new();
    while let Some(message) = stream.message().await? {
        if let Some(pb::replay_events_response::Item::Event(event)) = message.item {
            events.push(event);
        }
    }
    Ok(events)
}

fn decimal(money: Option<&pb::Money>) -> Decimal {
    let money = money.expect("an amount");
    assert_eq!(money.currency, "CNY");
    Decimal::from_str(&money.amount).expect("a decimal amount")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_split_deployment_over_tls_with_tokens_in_the_shared_bucket() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let pki = TestPki::create(directory.path());

    // 1. serve-commands, then serve-queries (it attaches to the stream the command service
    //    creates), both over TLS with tokens, on the same bucket of the same NATS server.
    let mut command_args = service_args(&nats.url());
    command_args.nats.tokens_bucket = TOKENS_BUCKET.to_owned();
    command_args.security = secured(&pki);
    let commands_service = TestService::start_with(command_args).await;
    let mut query_args =
        QueryServiceArgs::new("127.0.0.1:0".parse().unwrap(), nats.url(), database.url());
    query_args.nats.tokens_bucket = TOKENS_BUCKET.to_owned();
    query_args.security = secured(&pki);
    let queries_service = QueryProcess::start(&query_args).await;

    let command_channel = channel(&pki, commands_service.address).await;
    let query_channel = channel(&pki, queries_service.address).await;
    let mut commands = CommandServiceClient::new(command_channel);
    let mut queries = QueryServiceClient::new(query_channel.clone());
    let audit = AuditServiceClient::new(query_channel);

    // 2. Tokens issued straight into the bucket, through a handle of the test's own.
    let issuer = open_token_bucket(&nats.url()).await;
    let (subsidiary, subsidiary_id) = issue_token(
        &issuer,
        Role::Subsidiary(SubsidiaryId::parse(SUB).unwrap()),
        "SUB-1 ERP connector",
    )
    .await;
    let (reporting, reporting_id) = issue_token(&issuer, Role::Reporting, "board pack").await;
    let (auditor, _) = issue_token(&issuer, Role::Auditor, "external audit").await;

    // 3a. The subsidiary token posts for its own subsidiary.
    let position = commands
        .issue_invoice(authorized(
            invoice(
                CUSTOMER,
                SUB,
                "INV-1",
                "1250.40",
                "2026-03-01",
                "2026-03-31",
            ),
            Some(&subsidiary),
        ))
        .await
        .expect("the subsidiary posts for its own subsidiary")
        .into_inner()
        .receipt
        .expect("receipt")
        .position;
    assert!(position > 0);
    // The stream's last sequence is the receipt's position: the invoice is the only event.
    let before = last_sequence(&nats.url()).await;
    assert_eq!(before, position);

    // 3b. ... and not for another one: refused before anything is appended.
    let status = commands
        .issue_invoice(authorized(
            invoice(
                CUSTOMER,
                OTHER_SUB,
                "INV-2",
                "99",
                "2026-03-01",
                "2026-03-31",
            ),
            Some(&subsidiary),
        ))
        .await
        .expect_err("a post for another subsidiary");
    assert_refused(
        &status,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
        OTHER_SUB,
        "post for SUB-2",
    );
    assert_eq!(
        last_sequence(&nats.url()).await,
        before,
        "a refused post appended nothing"
    );

    // 3c. The reporting token reads the aging report from the query service, as soon as it has
    //     applied the invoice. Worked out by hand: 1250.40 CNY due 2026-03-31 is 15 days past
    //     due on 2026-04-15, so it is all in the bucket "1-30"; grouped by subsidiary, one line
    //     for SUB-1 (and none for SUB-2: nothing was posted there).
    let report = queries
        .get_aging_report(authorized(aging_request(position), Some(&reporting)))
        .await
        .expect("reporting reads the aging report")
        .into_inner();
    assert!(report.position >= position, "{report:?}");
    assert_eq!(report.lines.len(), 1, "{report:?}");
    let line = &report.lines[0];
    assert_eq!(line.group, SUB);
    assert_eq!(line.currency, "CNY");
    let invoice_amount = Decimal::new(125_040, 2);
    let labels: Vec<&str> = line.buckets.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(
        labels,
        ["current", "1-30", "31-60", "61-90", "91-120", "over 120"]
    );
    let amounts: Vec<Decimal> = line
        .buckets
        .iter()
        .map(|b| decimal(b.amount.as_ref()))
        .collect();
    assert_eq!(
        amounts,
        [
            Decimal::ZERO,
            invoice_amount,
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ZERO,
            Decimal::ZERO
        ]
    );
    assert_eq!(decimal(line.open_total.as_ref()), invoice_amount);
    assert_eq!(line.open_total.as_ref().unwrap().amount, "1250.40");

    // ... and reads the account on the command service, which keeps it in step by itself.
    let account = commands
        .get_account(authorized(account_request(), Some(&reporting)))
        .await
        .expect("reporting reads the account")
        .into_inner();
    assert_eq!(account.position, position);
    assert_eq!(account.open_invoices.len(), 1);
    assert_eq!(
        decimal(account.open_invoices[0].open_amount.as_ref()),
        invoice_amount
    );

    // 3d. Reporting may not replay the log; the auditor may, and sees who posted.
    let status = replay(&audit, Some(&reporting))
        .await
        .expect_err("reporting replays the log");
    assert_refused(
        &status,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
        "",
        "replay as reporting",
    );
    let events = replay(&audit, Some(&auditor))
        .await
        .expect("the auditor replays the log");
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.position, position);
    assert_eq!(event.subsidiary_id, SUB);
    assert_eq!(event.event_type, "InvoiceIssued");
    let envelope: serde_json::Value =
        serde_json::from_str(&event.envelope_json).expect("envelope JSON");
    let expected_principal = format!("token:{}", subsidiary_id.as_str());
    assert_eq!(envelope["principal"], expected_principal.as_str());
    assert_eq!(subsidiary_id.principal().as_str(), expected_principal);

    // 3e. No token: UNAUTHENTICATED on both services, for reads and writes alike.
    let refusals = [
        (
            "IssueInvoice",
            commands
                .issue_invoice(authorized(
                    invoice(CUSTOMER, SUB, "INV-3", "1", "2026-03-01", "2026-03-31"),
                    None,
                ))
                .await
                .map(drop),
        ),
        (
            "GetAccount",
            commands
                .get_account(authorized(account_request(), None))
                .await
                .map(drop),
        ),
        (
            "GetAgingReport",
            queries
                .get_aging_report(authorized(aging_request(0), None))
                .await
                .map(drop),
        ),
        ("ReplayEvents", replay(&audit, None).await.map(drop)),
    ];
    for (rpc, result) in refusals {
        let status = result.expect_err(rpc);
        assert_refused(&status, Code::Unauthenticated, "TOKEN_MISSING", "", rpc);
    }
    assert_eq!(last_sequence(&nats.url()).await, before);

    // 4. Revocation through a second, separately opened handle on the bucket (its own NATS
    //    connection): the very next call to each service is refused.
    let revoker = open_token_bucket(&nats.url()).await;
    let revoked = TokenStore::revoke(&revoker, &reporting_id, Utc::now())
        .await
        .expect("revocation")
        .expect("the reporting token exists");
    assert!(revoked.revoked_at.is_some());
    let status = queries
        .get_aging_report(authorized(aging_request(0), Some(&reporting)))
        .await
        .expect_err("a revoked token on the query service");
    assert_refused(
        &status,
        Code::Unauthenticated,
        "TOKEN_REVOKED",
        "revoked",
        "query service after revocation",
    );
    let status = commands
        .get_account(authorized(account_request(), Some(&reporting)))
        .await
        .expect_err("a revoked token on the command service");
    assert_refused(
        &status,
        Code::Unauthenticated,
        "TOKEN_REVOKED",
        "revoked",
        "command service after revocation",
    );
    // Only that token: the others still work on both services.
    queries
        .get_aging_report(authorized(aging_request(position), Some(&auditor)))
        .await
        .expect("the auditor still reads the aging report");
    commands
        .get_account(authorized(account_request(), Some(&auditor)))
        .await
        .expect("the auditor still reads the account");
    let status = commands
        .get_account(authorized(account_request(), Some(&subsidiary)))
        .await
        .expect_err("a subsidiary token reads a whole account");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    // 5. Both stop gracefully; the database goes.
    queries_service.stop().await;
    commands_service.stop().await;
    database.drop_database().await;
}
