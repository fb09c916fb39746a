//! The dashboard under test: an all-in-one service over TLS with tokens and its HTTP listener,
//! a scripted history posted over gRPC, an HTTPS client that trusts the test CA, and the
//! figures of that history worked out by hand.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use receivables_access::{SqliteTokenStore, TokenId, TokenLabel, TokenStore, issue};
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_domain::access::Role;
use receivables_domain::{Principal, SubsidiaryId};
use rustls::pki_types::pem::PemObject as _;
use tonic::Request;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::certificates::TestPki;
use crate::{TestAllInOne, credit_limit, invoice, payment, promise};

pub const SUB_1: &str = "SUB-1";
pub const SUB_2: &str = "SUB-2";
pub const ACME: &str = "ACME";
pub const BETA: &str = "BETA";
/// The date the scripted history's reports are asked as of.
pub const AS_OF: &str = "2026-03-31";

/// A token of the service: its bearer text and its id.
pub struct Token {
    pub bearer: String,
    pub id: TokenId,
}

impl Token {
    pub fn header(&self) -> String {
        format!("Bearer {}", self.bearer)
    }
}

/// The service, its PKI and its token store.
pub struct Dashboard {
    _directory: tempfile::TempDir,
    pub pki: TestPki,
    pub service: TestAllInOne,
    pub store: SqliteTokenStore,
    pub http: SocketAddr,
}

impl Dashboard {
    /// Starts the all-in-one service over TLS with tokens, its dashboard on a free port.
    pub async fn start() -> Dashboard {
        let directory = tempfile::tempdir().expect("temporary directory");
        let pki = TestPki::create(directory.path());
        let data = directory.path().join("data");
        let mut args = receivables::config::ServeArgs::embedded(
            "127.0.0.1:0".parse().expect("address"),
            &data,
        );
        args.security = receivables::config::SecurityArgs {
            tls_cert: Some(pki.server_cert.clone()),
            tls_key: Some(pki.server_key.clone()),
            tls_client_ca: None,
            insecure: false,
        };
        args.web.http_listen = Some("127.0.0.1:0".parse().expect("address"));
        let service = TestAllInOne::start_with(&args).await;
        let http = service.http.expect("the dashboard's address");
        let store = SqliteTokenStore::open(&data.join(receivables::config::TOKEN_STORE_FILE))
            .await
            .expect("token store");
        Dashboard {
            _directory: directory,
            pki,
            service,
            store,
            http,
        }
    }

    /// The dashboard's base URL (`https://localhost:<port>`).
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.http.port())
    }

    /// Issues a token for `role`.
    pub async fn token(&self, role: Role) -> Token {
        let (bearer, record) = issue(
            role,
            TokenLabel::parse("dashboard test").expect("label"),
            None,
            Principal::parse("local-admin").expect("principal"),
            Utc::now(),
        )
        .expect("token");
        self.store.insert(&record).await.expect("stored token");
        Token {
            bearer: bearer.expose().to_owned(),
            id: record.id,
        }
    }

    pub async fn subsidiary_token(&self, subsidiary: &str) -> Token {
        self.token(Role::Subsidiary(
            SubsidiaryId::parse(subsidiary).expect("subsidiary"),
        ))
        .await
    }

    pub async fn revoke(&self, token: &Token) {
        self.store
            .revoke(&token.id, Utc::now())
            .await
            .expect("revoked");
    }

    /// A gRPC channel trusting the test CA.
    pub async fn channel(&self) -> Channel {
        let tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&self.pki.ca_cert)));
        Channel::from_shared(format!("https://localhost:{}", self.service.address.port()))
            .expect("URL")
            .tls_config(tls)
            .expect("TLS")
            .connect()
            .await
            .expect("gRPC channel")
    }

    pub async fn queries(&self) -> QueryServiceClient<Channel> {
        QueryServiceClient::new(self.channel().await)
    }

    /// An HTTPS client trusting the test CA, keeping cookies, not following redirects.
    pub fn client(&self) -> reqwest::Client {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in
            rustls::pki_types::CertificateDer::pem_slice_iter(&read(&self.pki.ca_cert))
        {
            roots
                .add(certificate.expect("CA certificate"))
                .expect("root");
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTPS client")
    }

    /// Posts the scripted history (see [`expected_by_customer`]) with the tokens of the roles
    /// that post it, waits until the read model has applied it, and returns the last position.
    pub async fn post_history(&self) -> u64 {
        let credit = self.token(Role::Credit).await;
        let sub_1 = self.subsidiary_token(SUB_1).await;
        let sub_2 = self.subsidiary_token(SUB_2).await;
        let mut commands = CommandServiceClient::new(self.channel().await);
        let mut last = 0;
        for (customer, limit, policy) in [
            (ACME, "10000.00", pb::CreditPolicy::Block),
            (BETA, "1000.00", pb::CreditPolicy::Warn),
        ] {
            let reply = commands
                .change_credit_limit(as_token(credit_limit(customer, limit, policy), &credit))
                .await
                .expect("credit limit");
            last = position(reply.get_ref().receipt.as_ref());
        }
        for (token, request) in [
            (
                &sub_1,
                invoice(ACME, SUB_1, "A-1", "3000.00", "2026-01-05", "2026-02-04"),
            ),
            (
                &sub_2,
                invoice(ACME, SUB_2, "B-1", "2000.00", "2026-03-01", "2026-03-31"),
            ),
            (
                &sub_1,
                invoice(BETA, SUB_1, "A-2", "1500.00", "2026-01-10", "2026-01-20"),
            ),
        ] {
            let reply = commands
                .issue_invoice(as_token(request, token))
                .await
                .expect("invoice");
            last = position(reply.get_ref().receipt.as_ref());
        }
        let reply = commands
            .record_payment(as_token(
                payment(ACME, SUB_1, "1000.00", "2026-02-20"),
                &sub_1,
            ))
            .await
            .expect("payment");
        last = last.max(position(reply.get_ref().receipt.as_ref()));
        let reply = commands
            .record_promise_to_pay(as_token(
                promise(ACME, SUB_1, "1000.00", "2026-03-20", "2026-04-02"),
                &sub_1,
            ))
            .await
            .expect("promise");
        last = last.max(position(reply.get_ref().receipt.as_ref()));
        self.queries()
            .await
            .get_aging_report(as_token(
                pb::GetAgingReportRequest {
                    min_position: last,
                    ..Default::default()
                },
                &credit,
            ))
            .await
            .expect("the read model applied the history");
        last
    }
}

fn position(receipt: Option<&pb::CommandReceipt>) -> u64 {
    receipt.map_or(0, |r| r.position)
}

/// `message` with `token`'s authorization header.
pub fn as_token<T>(message: T, token: &Token) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", token.header().parse().expect("header"));
    request
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("PEM file")
}

/// The aging of the scripted history as of [`AS_OF`] by customer, worked out by hand: each
/// customer's CNY line as (customer, current, 1-30, 31-60, 61-90, 91-120, over 120, open).
///
/// - ACME: A-1 (SUB-1) 3,000.00 due 2026-02-04, paid 1,000.00 on 2026-02-20 (oldest due
///   first): 2,000.00 open, 55 days past due on 03-31: 31-60. B-1 (SUB-2) 2,000.00 due
///   2026-03-31: due that day, current. Open 4,000.00.
/// - BETA: A-2 (SUB-1) 1,500.00 due 2026-01-20: 70 days past due: 61-90. Over its 1,000.00
///   limit (WARN lets the invoice through).
pub fn expected_by_customer() -> Vec<[&'static str; 8]> {
    vec![
        [
            ACME, "2000.00", "0.00", "2000.00", "0.00", "0.00", "0.00", "4000.00",
        ],
        [
            BETA, "0.00", "0.00", "0.00", "1500.00", "0.00", "0.00", "1500.00",
        ],
    ]
}

/// The same by subsidiary: SUB-1 holds A-1's 2,000.00 (31-60) and A-2's 1,500.00 (61-90),
/// SUB-2 B-1's 2,000.00 (current).
pub fn expected_by_subsidiary() -> Vec<[&'static str; 8]> {
    vec![
        [
            SUB_1, "0.00", "0.00", "2000.00", "1500.00", "0.00", "0.00", "3500.00",
        ],
        [
            SUB_2, "2000.00", "0.00", "0.00", "0.00", "0.00", "0.00", "2000.00",
        ],
    ]
}
