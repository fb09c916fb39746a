//! Security over real gRPC, with real tokens in the real token store and TLS with a private CA:
//! every role against every RPC, revoked and expired tokens, where a token's secret may and may
//! not appear, TLS with and without client certificates, and ids crafted to escape their
//! subject. The all-in-one service runs on the embedded backends; the policy is the same on
//! every listener (the split services build theirs from the same parts).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use receivables_access::{SqliteTokenStore, TokenLabel, TokenStore, issue};
use receivables_api::pb;
use receivables_api::pb::admin_service_client::AdminServiceClient;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::metrics_service_client::MetricsServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_domain::Principal;
use receivables_domain::SubsidiaryId;
use receivables_domain::access::Role;
use receivables_tests::certificates::TestPki;
use receivables_tests::{
    TestAllInOne, allocation, cny, command_id, credit_limit, invoice, invoice_ref, payment,
    promise, receivables_binary,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::{Code, Request, Status};

const SUB: &str = "SUB-1";
const OTHER_SUB: &str = "SUB-2";
const CUSTOMER: &str = "ACME";
const AS_OF: &str = "2026-03-31";

/// An all-in-one service over TLS with tokens, its data directory and PKI.
struct Secured {
    _directory: tempfile::TempDir,
    pki: TestPki,
    service: TestAllInOne,
    store: SqliteTokenStore,
}

impl Secured {
    /// Starts over TLS; with `client_certificates`, clients must present one signed by the CA.
    async fn start(client_certificates: bool) -> Secured {
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
            tls_client_ca: client_certificates.then(|| pki.ca_cert.clone()),
            insecure: false,
        };
        let service = TestAllInOne::start_with(&args).await;
        // A second handle on the same file, as `receivables tokens` opens it.
        let store = SqliteTokenStore::open(&data.join(receivables::config::TOKEN_STORE_FILE))
            .await
            .expect("token store");
        Secured {
            _directory: directory,
            pki,
            service,
            store,
        }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}", self.service.address.port())
    }

    /// Issues a token for `role` in the service's store; returns it and its principal.
    async fn token(&self, role: Role) -> (String, Principal) {
        let (bearer, record) = issue(
            role,
            TokenLabel::parse("security test").expect("label"),
            None,
            Principal::parse("local-admin").expect("principal"),
            Utc::now(),
        )
        .expect("token");
        self.store.insert(&record).await.expect("stored token");
        (bearer.expose().to_owned(), record.id.principal())
    }

    /// A channel trusting the test CA, with the client certificate if asked.
    async fn channel(&self, client_certificate: bool) -> Result<Channel, tonic::transport::Error> {
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&self.pki.ca_cert)));
        if client_certificate {
            tls = tls.identity(Identity::from_pem(
                read(&self.pki.client_cert),
                read(&self.pki.client_key),
            ));
        }
        connect(&self.url(), tls).await
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("PEM file")
}

async fn connect(url: &str, tls: ClientTlsConfig) -> Result<Channel, tonic::transport::Error> {
    Channel::from_shared(url.to_owned())
        .expect("URL")
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// `message` with `authorization: Bearer <token>` (or the raw header given).
fn authorized<T>(message: T, header: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(header) = header {
        request
            .metadata_mut()
            .insert("authorization", header.parse().expect("header value"));
    }
    request
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The clients of every service on one channel.
#[derive(Clone)]
struct Clients {
    commands: CommandServiceClient<Channel>,
    queries: QueryServiceClient<Channel>,
    metrics: MetricsServiceClient<Channel>,
    audit: AuditServiceClient<Channel>,
    admin: AdminServiceClient<Channel>,
    /// The id of a token that `RevokeToken` revokes (again and again: it is idempotent).
    victim: String,
}

impl Clients {
    fn on(channel: Channel) -> Clients {
        Clients {
            commands: CommandServiceClient::new(channel.clone()),
            queries: QueryServiceClient::new(channel.clone()),
            metrics: MetricsServiceClient::new(channel.clone()),
            audit: AuditServiceClient::new(channel.clone()),
            admin: AdminServiceClient::new(channel),
            victim: String::new(),
        }
    }
}

fn scope(subsidiary: &str) -> Option<pb::AgingScope> {
    Some(pb::AgingScope {
        as_of: AS_OF.to_owned(),
        subsidiary_id: subsidiary.to_owned(),
        ..pb::AgingScope::default()
    })
}

/// Every RPC of the contract, by name; `Ok(())` when the call got past authorisation (its
/// answer is checked to be a success: the requests are valid), else the status.
const RPCS: [&str; 60] = [
    "IssueInvoice(SUB-1)",
    "RecordPayment(SUB-1)",
    "RecordPromiseToPay(SUB-1)",
    "ChangeCreditLimit",
    "IssueCreditNote(SUB-1)",
    "WriteOffInvoice(SUB-1)",
    "ReversePayment(SUB-1)",
    "ApplyUnappliedCash(SUB-1)",
    "IssueRefund(SUB-1)",
    "OpenDispute(SUB-1)",
    "ResolveDispute(SUB-1)",
    "SetCollectionOnBehalf",
    "ConfirmBalance",
    "RegisterCustomer",
    "UpdateCustomer",
    "AssignCollector",
    "PublishExchangeRates",
    "DefinePaymentTerms",
    "AgreeInstalmentPlan(SUB-1)",
    "CancelInstalmentPlan(SUB-1)",
    "AllowDiscount(SUB-1)",
    "ReserveCredit(SUB-1)",
    "ReleaseCredit(SUB-1)",
    "RecordCollectionActivity(SUB-1)",
    "SetAlertThresholds",
    "CheckCredit",
    "GetAccount",
    "GetAgingReport(SUB-1)",
    "GetAgingReport(all)",
    "ListOpenItems(SUB-1)",
    "ListOpenItems(SUB-2)",
    "GetExposure",
    "ListExposures",
    "GetWorkQueue",
    "ListPromises",
    "GetStatement(SUB-1)",
    "GetStatement(all)",
    "ListBalanceConfirmations",
    "SearchCustomers",
    "ListUpcomingDue(SUB-1)",
    "ListUpcomingDue(all)",
    "ListCollectionActivities",
    "GetMetrics(SUB-1)",
    "GetMetrics(all)",
    "GetAllowance",
    "GetCollectionsForecast(SUB-1)",
    "GetCollectionsForecast(all)",
    "BacktestCollectionsForecast",
    "WatchAlerts(SUB-1)",
    "WatchAlerts(all)",
    "ReplayEvents",
    "VerifyLog",
    "GetAgingReportAsKnown",
    "ListExposuresAsKnown",
    "GetWorkQueueAsKnown",
    "GetMetricsAsKnown",
    "RebuildReadModel",
    "CreateToken",
    "ListTokens",
    "RevokeToken",
];

/// The invoice on terms with a discount issued before the matrix runs (10.00, 2 % within 10
/// days of 2026-03-01): each allowed `AllowDiscount` pays 0.98 of it and takes 0.02 off.
const DISCOUNTED: &str = "INV-D";

/// Payment terms `code`: due in 30 days, 2 % off within 10.
fn discount_terms(code: &str) -> pb::DefinePaymentTermsRequest {
    pb::DefinePaymentTermsRequest {
        command_id: command_id(),
        code: code.to_owned(),
        description: String::new(),
        lines: vec![pb::TermsLine {
            portion: "100".to_owned(),
            due: Some(pb::terms_line::Due::NetDays(30)),
        }],
        discount: Some(pb::EarlyPaymentDiscount {
            percent: "2".to_owned(),
            within_days: 10,
        }),
    }
}

/// An instalment plan for `number` (10.00, due 2026-03-05) agreed 2026-03-10.
fn instalment_plan(number: &str) -> pb::AgreeInstalmentPlanRequest {
    pb::AgreeInstalmentPlanRequest {
        command_id: command_id(),
        customer_id: CUSTOMER.to_owned(),
        invoice: invoice_ref(SUB, number),
        agreed_on: "2026-03-10".to_owned(),
        rows: vec![pb::ScheduleRow {
            due_date: "2026-04-10".to_owned(),
            amount: cny("10"),
        }],
        collector: "Li Wei".to_owned(),
        note: String::new(),
    }
}

/// The customer registered before the matrix runs, whose record `UpdateCustomer` changes.
const REGISTERED: &str = "REGISTERED";

/// A customer's record with `notes`.
fn profile(notes: &str) -> pb::CustomerProfile {
    pb::CustomerProfile {
        name: "Hongda Trading".to_owned(),
        contacts: vec![pb::Contact {
            name: "Wang Fang".to_owned(),
            email: "ap@hongda.example.cn".to_owned(),
            ..pb::Contact::default()
        }],
        notes: notes.to_owned(),
        ..pb::CustomerProfile::default()
    }
}

async fn call(clients: &Clients, rpc: &str, header: Option<&str>, n: usize) -> Result<(), Status> {
    let mut c = clients.clone();
    let number = format!("INV-M{n:04}");
    let known_at = Some(prost_types::Timestamp {
        seconds: Utc::now().timestamp(),
        nanos: 0,
    });
    match rpc {
        "IssueInvoice(SUB-1)" => c
            .commands
            .issue_invoice(authorized(
                invoice(CUSTOMER, SUB, &number, "10", "2026-03-01", "2026-03-31"),
                header,
            ))
            .await
            .map(drop),
        "RecordPayment(SUB-1)" => c
            .commands
            .record_payment(authorized(
                payment(CUSTOMER, SUB, "1", "2026-03-02"),
                header,
            ))
            .await
            .map(drop),
        "RecordPromiseToPay(SUB-1)" => c
            .commands
            .record_promise_to_pay(authorized(
                promise(CUSTOMER, SUB, "5", "2026-03-02", "2026-04-15"),
                header,
            ))
            .await
            .map(drop),
        "ChangeCreditLimit" => c
            .commands
            .change_credit_limit(authorized(
                credit_limit(CUSTOMER, "100000", pb::CreditPolicy::Block),
                header,
            ))
            .await
            .map(drop),
        "IssueCreditNote(SUB-1)" => c
            .commands
            .issue_credit_note(authorized(
                pb::IssueCreditNoteRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    subsidiary_id: SUB.to_owned(),
                    credit_note_number: format!("CN-M{n:04}"),
                    amount: cny("2"),
                    issue_date: "2026-03-02".to_owned(),
                    reason: "returned goods".to_owned(),
                    invoice: None,
                },
                header,
            ))
            .await
            .map(drop),
        "WriteOffInvoice(SUB-1)" => c
            .commands
            .write_off_invoice(authorized(
                pb::WriteOffInvoiceRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    invoice: invoice_ref(SUB, "INV-M0000"),
                    amount: cny("0.01"),
                    write_off_date: "2026-03-05".to_owned(),
                    reason: "customer insolvent".to_owned(),
                    approved_by: "Zhang Wei".to_owned(),
                },
                header,
            ))
            .await
            .map(drop),
        // A payment of its own first (the same caller may post it exactly when it may reverse
        // it), then its reversal.
        "ReversePayment(SUB-1)" => {
            let payment = payment(CUSTOMER, SUB, "1", "2026-03-02");
            let payment_command_id = payment.command_id.clone();
            let reverse = pb::ReversePaymentRequest {
                command_id: command_id(),
                customer_id: CUSTOMER.to_owned(),
                subsidiary_id: SUB.to_owned(),
                payment_command_id,
                reversal_date: "2026-03-04".to_owned(),
                reason: pb::ReversalReason::ReturnedByBank.into(),
            };
            if let Err(status) = c.commands.record_payment(authorized(payment, header)).await
                && status.code() != Code::PermissionDenied
            {
                return Err(status);
            }
            c.commands
                .reverse_payment(authorized(reverse, header))
                .await
                .map(drop)
        }
        "ApplyUnappliedCash(SUB-1)" => c
            .commands
            .apply_unapplied_cash(authorized(
                pb::ApplyUnappliedCashRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    subsidiary_id: SUB.to_owned(),
                    source: pb::UnappliedSource::Credit.into(),
                    amount: cny("0.5"),
                    application_date: "2026-03-03".to_owned(),
                    allocations: Vec::new(),
                },
                header,
            ))
            .await
            .map(drop),
        "IssueRefund(SUB-1)" => c
            .commands
            .issue_refund(authorized(
                pb::IssueRefundRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    subsidiary_id: SUB.to_owned(),
                    source: pb::UnappliedSource::Credit.into(),
                    amount: cny("0.5"),
                    refund_date: "2026-03-03".to_owned(),
                    method: pb::PaymentMethod::BankTransfer.into(),
                    reference: "REFUND".to_owned(),
                },
                header,
            ))
            .await
            .map(drop),
        "OpenDispute(SUB-1)" => c
            .commands
            .open_dispute(authorized(
                pb::OpenDisputeRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    invoice: invoice_ref(SUB, "INV-M0000"),
                    amount: cny("0.01"),
                    reason: pb::DisputeReason::Price.into(),
                    note: String::new(),
                    opened_on: "2026-03-05".to_owned(),
                    expires_on: String::new(),
                },
                header,
            ))
            .await
            .map(drop),
        "ResolveDispute(SUB-1)" => c
            .commands
            .resolve_dispute(authorized(
                pb::ResolveDisputeRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    invoice: invoice_ref(SUB, "INV-M0000"),
                    resolved_on: "2026-03-06".to_owned(),
                    outcome: pb::DisputeOutcome::Withdrawn.into(),
                    credit_note_number: String::new(),
                    note: String::new(),
                },
                header,
            ))
            .await
            .map(drop),
        "SetCollectionOnBehalf" => c
            .commands
            .set_collection_on_behalf(authorized(
                pb::SetCollectionOnBehalfRequest {
                    command_id: command_id(),
                    collector_id: SUB.to_owned(),
                    on_behalf_of_id: "SUB-2".to_owned(),
                    enabled: true,
                    reason: "treasury centralisation".to_owned(),
                    approved_by: "Chen Jing".to_owned(),
                },
                header,
            ))
            .await
            .map(drop),
        "ConfirmBalance" => c
            .commands
            .confirm_balance(authorized(
                pb::ConfirmBalanceRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    as_of: AS_OF.to_owned(),
                    confirmed: cny("10"),
                    confirmed_by: "Li Na".to_owned(),
                    note: String::new(),
                },
                header,
            ))
            .await
            .map(drop),
        "RegisterCustomer" => c
            .commands
            .register_customer(authorized(
                pb::RegisterCustomerRequest {
                    command_id: command_id(),
                    customer_id: format!("REG-{n:04}"),
                    profile: Some(profile("")),
                },
                header,
            ))
            .await
            .map(drop),
        // Each call states another note, so that no update is refused as unchanged.
        "UpdateCustomer" => c
            .commands
            .update_customer(authorized(
                pb::UpdateCustomerRequest {
                    command_id: command_id(),
                    customer_id: REGISTERED.to_owned(),
                    profile: Some(profile(&format!("call {n}"))),
                },
                header,
            ))
            .await
            .map(drop),
        "AssignCollector" => c
            .commands
            .assign_collector(authorized(
                pb::AssignCollectorRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    default_for_subsidiary_id: String::new(),
                    collector: format!("Collector {n}"),
                },
                header,
            ))
            .await
            .map(drop),
        "PublishExchangeRates" => c
            .commands
            .publish_exchange_rates(authorized(
                pb::PublishExchangeRatesRequest {
                    command_id: command_id(),
                    base: "CNY".to_owned(),
                    rate_date: AS_OF.to_owned(),
                    rates: vec![pb::ExchangeRateEntry {
                        currency: "USD".to_owned(),
                        rate: "7.1".to_owned(),
                    }],
                    source: String::new(),
                },
                header,
            ))
            .await
            .map(drop),
        "DefinePaymentTerms" => c
            .commands
            .define_payment_terms(authorized(discount_terms(&format!("T-{n}")), header))
            .await
            .map(drop),
        // An overdue invoice of its own first (the same caller may issue it exactly when it may
        // agree a plan), then the plan; for a cancellation, the plan too.
        "AgreeInstalmentPlan(SUB-1)" | "CancelInstalmentPlan(SUB-1)" => {
            let number = format!("INV-P{n:04}");
            let setup = [
                c.commands
                    .issue_invoice(authorized(
                        invoice(CUSTOMER, SUB, &number, "10", "2026-03-01", "2026-03-05"),
                        header,
                    ))
                    .await
                    .map(drop),
                if rpc.starts_with("Cancel") {
                    c.commands
                        .agree_instalment_plan(authorized(instalment_plan(&number), header))
                        .await
                        .map(drop)
                } else {
                    Ok(())
                },
            ];
            for result in setup {
                if let Err(status) = result
                    && status.code() != Code::PermissionDenied
                {
                    return Err(status);
                }
            }
            if rpc.starts_with("Agree") {
                return c
                    .commands
                    .agree_instalment_plan(authorized(instalment_plan(&number), header))
                    .await
                    .map(drop);
            }
            c.commands
                .cancel_instalment_plan(authorized(
                    pb::CancelInstalmentPlanRequest {
                        command_id: command_id(),
                        customer_id: CUSTOMER.to_owned(),
                        invoice: invoice_ref(SUB, &number),
                        cancelled_on: "2026-03-20".to_owned(),
                        reason: "the customer paid at once".to_owned(),
                    },
                    header,
                ))
                .await
                .map(drop)
        }
        // A payment of 0.98 to the discounted invoice first (the same caller may post it
        // exactly when it may allow the discount), then the 0.02 it earns (0.98 x 2 / 98).
        "AllowDiscount(SUB-1)" => {
            let payment = pb::RecordPaymentRequest {
                allocations: vec![allocation(SUB, DISCOUNTED, "0.98")],
                ..payment(CUSTOMER, SUB, "0.98", "2026-03-05")
            };
            let payment_id = payment.command_id.clone();
            if let Err(status) = c.commands.record_payment(authorized(payment, header)).await
                && status.code() != Code::PermissionDenied
            {
                return Err(status);
            }
            c.commands
                .allow_discount(authorized(
                    pb::AllowDiscountRequest {
                        command_id: command_id(),
                        customer_id: CUSTOMER.to_owned(),
                        invoice: invoice_ref(SUB, DISCOUNTED),
                        payment_id,
                        amount: cny("0.02"),
                        note: String::new(),
                    },
                    header,
                ))
                .await
                .map(drop)
        }
        "SearchCustomers" => c
            .queries
            .search_customers(authorized(pb::SearchCustomersRequest::default(), header))
            .await
            .map(drop),
        "ListUpcomingDue(SUB-1)" | "ListUpcomingDue(all)" => c
            .queries
            .list_upcoming_due(authorized(
                pb::ListUpcomingDueRequest {
                    as_of: AS_OF.to_owned(),
                    within_days: 30,
                    subsidiary_id: if rpc.contains("SUB-1") {
                        SUB.to_owned()
                    } else {
                        String::new()
                    },
                    ..pb::ListUpcomingDueRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "ListBalanceConfirmations" => c
            .queries
            .list_balance_confirmations(authorized(
                pb::ListBalanceConfirmationsRequest::default(),
                header,
            ))
            .await
            .map(drop),
        "RecordCollectionActivity(SUB-1)" => c
            .commands
            .record_collection_activity(authorized(
                pb::RecordCollectionActivityRequest {
                    command_id: command_id(),
                    customer_id: CUSTOMER.to_owned(),
                    subsidiary_id: SUB.to_owned(),
                    channel: pb::ContactChannel::Call.into(),
                    outcome: pb::ContactOutcome::Reached.into(),
                    occurred_on: "2026-03-02".to_owned(),
                    collector: "Wang Fang".to_owned(),
                    ..pb::RecordCollectionActivityRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "ListCollectionActivities" => c
            .queries
            .list_collection_activities(authorized(
                pb::ListCollectionActivitiesRequest {
                    from: "2026-03-01".to_owned(),
                    to: AS_OF.to_owned(),
                    ..pb::ListCollectionActivitiesRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "GetMetrics(SUB-1)" | "GetMetrics(all)" => c
            .metrics
            .get_metrics(authorized(
                pb::GetMetricsRequest {
                    month: "2026-03".to_owned(),
                    subsidiary_id: if rpc.contains("SUB-1") {
                        SUB.to_owned()
                    } else {
                        String::new()
                    },
                    ..pb::GetMetricsRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "GetCollectionsForecast(SUB-1)" | "GetCollectionsForecast(all)" => c
            .metrics
            .get_collections_forecast(authorized(
                pb::GetCollectionsForecastRequest {
                    as_of: AS_OF.to_owned(),
                    subsidiary_id: if rpc.contains("SUB-1") {
                        SUB.to_owned()
                    } else {
                        String::new()
                    },
                    ..pb::GetCollectionsForecastRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "SetAlertThresholds" => c
            .commands
            .set_alert_thresholds(authorized(
                pb::SetAlertThresholdsRequest {
                    command_id: command_id(),
                    thresholds: Some(pb::AlertThresholds {
                        days_past_due: Some(60),
                        ..pb::AlertThresholds::default()
                    }),
                    reason: "group credit policy".to_owned(),
                    approved_by: "Li Wei".to_owned(),
                    ..pb::SetAlertThresholdsRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        // The alerts raised so far, read to the end (the stream's own refusal comes first).
        "WatchAlerts(SUB-1)" | "WatchAlerts(all)" => {
            let mut stream = c
                .metrics
                .watch_alerts(authorized(
                    pb::WatchAlertsRequest {
                        no_follow: true,
                        subsidiary_id: if rpc.contains("SUB-1") {
                            SUB.to_owned()
                        } else {
                            String::new()
                        },
                        ..pb::WatchAlertsRequest::default()
                    },
                    header,
                ))
                .await?
                .into_inner();
            while stream.message().await?.is_some() {}
            Ok(())
        }
        "BacktestCollectionsForecast" => c
            .metrics
            .backtest_collections_forecast(authorized(
                pb::BacktestCollectionsForecastRequest {
                    as_of: "2026-03-01".to_owned(),
                    ..pb::BacktestCollectionsForecastRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "GetAllowance" => c
            .metrics
            .get_allowance(authorized(
                pb::GetAllowanceRequest {
                    as_of: AS_OF.to_owned(),
                    loss_rates: ["1", "5", "10", "20", "50", "100"]
                        .map(str::to_owned)
                        .to_vec(),
                    ..pb::GetAllowanceRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "ReserveCredit(SUB-1)" | "ReleaseCredit(SUB-1)" => {
            let order = format!("SO-M{n:04}");
            let reserved = c
                .commands
                .reserve_credit(authorized(
                    pb::ReserveCreditRequest {
                        command_id: command_id(),
                        customer_id: CUSTOMER.to_owned(),
                        subsidiary_id: SUB.to_owned(),
                        order_number: order.clone(),
                        amount: cny("1"),
                        reserved_on: "2026-03-01".to_owned(),
                        expires_on: "2026-03-31".to_owned(),
                    },
                    header,
                ))
                .await
                .map(drop);
            if rpc.starts_with("Reserve") {
                return reserved;
            }
            // The same caller reserved it first, exactly when it may release it.
            if let Err(status) = reserved
                && status.code() != Code::PermissionDenied
            {
                return Err(status);
            }
            c.commands
                .release_credit(authorized(
                    pb::ReleaseCreditRequest {
                        command_id: command_id(),
                        customer_id: CUSTOMER.to_owned(),
                        subsidiary_id: SUB.to_owned(),
                        order_number: order,
                        amount: None,
                        released_on: "2026-03-02".to_owned(),
                        reason: "order cancelled".to_owned(),
                    },
                    header,
                ))
                .await
                .map(drop)
        }
        "CheckCredit" => c
            .commands
            .check_credit(authorized(
                pb::CheckCreditRequest {
                    customer_id: CUSTOMER.to_owned(),
                    amount: cny("1"),
                    date: "2026-03-10".to_owned(),
                },
                header,
            ))
            .await
            .map(drop),
        "GetAccount" => c
            .commands
            .get_account(authorized(
                pb::GetAccountRequest {
                    customer_id: CUSTOMER.to_owned(),
                },
                header,
            ))
            .await
            .map(drop),
        "GetAgingReport(SUB-1)" | "GetAgingReport(all)" => c
            .queries
            .get_aging_report(authorized(
                pb::GetAgingReportRequest {
                    scope: scope(if rpc.contains("SUB-1") { SUB } else { "" }),
                    ..pb::GetAgingReportRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "ListOpenItems(SUB-1)" | "ListOpenItems(SUB-2)" => c
            .queries
            .list_open_items(authorized(
                pb::ListOpenItemsRequest {
                    scope: scope(if rpc.contains("SUB-1") {
                        SUB
                    } else {
                        OTHER_SUB
                    }),
                    ..pb::ListOpenItemsRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "GetExposure" => c
            .queries
            .get_exposure(authorized(
                pb::GetExposureRequest {
                    customer_id: CUSTOMER.to_owned(),
                    ..pb::GetExposureRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "ListExposures" => c
            .queries
            .list_exposures(authorized(
                pb::ListExposuresRequest {
                    as_of: AS_OF.to_owned(),
                    ..pb::ListExposuresRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "GetWorkQueue" => c
            .queries
            .get_work_queue(authorized(
                pb::GetWorkQueueRequest {
                    as_of: AS_OF.to_owned(),
                    ..pb::GetWorkQueueRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "ListPromises" => c
            .queries
            .list_promises(authorized(
                pb::ListPromisesRequest {
                    customer_id: CUSTOMER.to_owned(),
                    as_of: AS_OF.to_owned(),
                    ..pb::ListPromisesRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "GetStatement(SUB-1)" | "GetStatement(all)" => c
            .queries
            .get_statement(authorized(
                pb::GetStatementRequest {
                    customer_id: CUSTOMER.to_owned(),
                    from_date: "2026-01-01".to_owned(),
                    to_date: AS_OF.to_owned(),
                    subsidiary_id: if rpc.contains("SUB-1") { SUB } else { "" }.to_owned(),
                    ..pb::GetStatementRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "ReplayEvents" => {
            let mut stream = c
                .audit
                .replay_events(authorized(pb::ReplayEventsRequest::default(), header))
                .await?
                .into_inner();
            while stream.message().await?.is_some() {}
            Ok(())
        }
        "VerifyLog" => {
            let mut stream = c
                .audit
                .verify_log(authorized(pb::VerifyLogRequest::default(), header))
                .await?
                .into_inner();
            while stream.message().await?.is_some() {}
            Ok(())
        }
        "GetAgingReportAsKnown" => c
            .audit
            .get_aging_report_as_known(authorized(
                pb::GetAgingReportAsKnownRequest {
                    known_at,
                    report: Some(pb::GetAgingReportRequest {
                        scope: scope(""),
                        ..pb::GetAgingReportRequest::default()
                    }),
                },
                header,
            ))
            .await
            .map(drop),
        "ListExposuresAsKnown" => c
            .audit
            .list_exposures_as_known(authorized(
                pb::ListExposuresAsKnownRequest {
                    known_at,
                    report: Some(pb::ListExposuresRequest {
                        as_of: AS_OF.to_owned(),
                        ..pb::ListExposuresRequest::default()
                    }),
                },
                header,
            ))
            .await
            .map(drop),
        "GetMetricsAsKnown" => c
            .audit
            .get_metrics_as_known(authorized(
                pb::GetMetricsAsKnownRequest {
                    known_at,
                    report: Some(pb::GetMetricsRequest {
                        month: "2026-03".to_owned(),
                        ..pb::GetMetricsRequest::default()
                    }),
                },
                header,
            ))
            .await
            .map(drop),
        "GetWorkQueueAsKnown" => c
            .audit
            .get_work_queue_as_known(authorized(
                pb::GetWorkQueueAsKnownRequest {
                    known_at,
                    report: Some(pb::GetWorkQueueRequest {
                        as_of: AS_OF.to_owned(),
                        ..pb::GetWorkQueueRequest::default()
                    }),
                },
                header,
            ))
            .await
            .map(drop),
        "RebuildReadModel" => c
            .admin
            .rebuild_read_model(authorized(pb::RebuildReadModelRequest::default(), header))
            .await
            .map(drop),
        "CreateToken" => c
            .admin
            .create_token(authorized(
                pb::CreateTokenRequest {
                    role: "reporting".to_owned(),
                    label: "made over gRPC".to_owned(),
                    ..pb::CreateTokenRequest::default()
                },
                header,
            ))
            .await
            .map(drop),
        "ListTokens" => c
            .admin
            .list_tokens(authorized(pb::ListTokensRequest {}, header))
            .await
            .map(drop),
        "RevokeToken" => c
            .admin
            .revoke_token(authorized(
                pb::RevokeTokenRequest {
                    id: c.victim.clone(),
                },
                header,
            ))
            .await
            .map(drop),
        other => panic!("no such RPC {other}"),
    }
}

/// Events in the log, counted by the auditor's walk of the chain.
async fn events_in_log(clients: &Clients, auditor: &str) -> u64 {
    let mut stream = clients
        .audit
        .clone()
        .verify_log(authorized(
            pb::VerifyLogRequest::default(),
            Some(&bearer(auditor)),
        ))
        .await
        .expect("verify")
        .into_inner();
    while let Some(message) = stream.message().await.expect("verify message") {
        if let Some(pb::verify_log_response::Item::Result(result)) = message.item {
            assert!(result.first_broken.is_none(), "{result:?}");
            return result.events_checked;
        }
    }
    panic!("no result from VerifyLog");
}

/// Every role against every RPC, written out by hand from the issue: `Y` allowed, `.` denied.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_role_against_every_rpc() {
    let secured = Secured::start(false).await;
    let mut clients = Clients::on(secured.channel(false).await.expect("TLS channel"));
    let (victim, _) = secured.token(Role::Reporting).await;
    clients.victim = receivables_access::parse_bearer(&victim)
        .unwrap()
        .0
        .as_str()
        .to_owned();
    let sub = SubsidiaryId::parse(SUB).unwrap();
    let (subsidiary, _) = secured.token(Role::Subsidiary(sub)).await;
    let (credit, _) = secured.token(Role::Credit).await;
    let (treasury, _) = secured.token(Role::Treasury).await;
    let (reporting, _) = secured.token(Role::Reporting).await;
    let (auditor, _) = secured.token(Role::Auditor).await;
    let (admin, _) = secured.token(Role::Admin).await;
    // Something to read: an invoice of SUB-1 for ACME.
    call(
        &clients,
        "IssueInvoice(SUB-1)",
        Some(&bearer(&subsidiary)),
        0,
    )
    .await
    .expect("set-up invoice");
    // And a registered customer whose record can be updated.
    clients
        .commands
        .clone()
        .register_customer(authorized(
            pb::RegisterCustomerRequest {
                command_id: command_id(),
                customer_id: REGISTERED.to_owned(),
                profile: Some(profile("")),
            },
            Some(&bearer(&credit)),
        ))
        .await
        .expect("set-up registration");
    // And an invoice on terms with an early-payment discount, which payments may earn.
    clients
        .commands
        .clone()
        .define_payment_terms(authorized(
            discount_terms("2-10-NET30"),
            Some(&bearer(&credit)),
        ))
        .await
        .expect("set-up terms");
    clients
        .commands
        .clone()
        .issue_invoice(authorized(
            pb::IssueInvoiceRequest {
                due: Some(pb::issue_invoice_request::Due::PaymentTerms(
                    "2-10-NET30".to_owned(),
                )),
                ..invoice(CUSTOMER, SUB, DISCOUNTED, "10", "2026-03-01", "2026-03-01")
            },
            Some(&bearer(&subsidiary)),
        ))
        .await
        .expect("set-up invoice on terms");

    // Columns: subsidiary SUB-1, credit, treasury, reporting, auditor, admin. Money is moved
    // for a subsidiary by its own token and by the group's credit control and treasury;
    // write-offs are credit control's and an admin's; disputes are the invoicing subsidiary's;
    // the group's settings an admin's; balance confirmations credit control's and treasury's;
    // customers' records and collectors credit control's; exchange rates treasury's; payment
    // terms credit control's; instalment plans the invoicing subsidiary's; a discount, money
    // moved against the invoice, like a payment; credit reservations the ordering subsidiary's;
    // a credit check (nothing appended) any subsidiary's order system's and the group's
    // readers'; collection activities, like promises, the subsidiary's collectors'; the
    // metrics and the alerts like the reports they summarise; the alert thresholds credit
    // control's, like the limits they watch.
    let expected: [(&str, &str); 60] = [
        ("IssueInvoice(SUB-1)", "Y....."),
        ("RecordPayment(SUB-1)", "YYY..."),
        ("RecordPromiseToPay(SUB-1)", "Y....."),
        ("ChangeCreditLimit", ".Y...."),
        ("IssueCreditNote(SUB-1)", "YYY..."),
        ("WriteOffInvoice(SUB-1)", ".Y...Y"),
        ("ReversePayment(SUB-1)", "YYY..."),
        ("ApplyUnappliedCash(SUB-1)", "YYY..."),
        ("IssueRefund(SUB-1)", "YYY..."),
        ("OpenDispute(SUB-1)", "Y....."),
        ("ResolveDispute(SUB-1)", "Y....."),
        ("SetCollectionOnBehalf", ".....Y"),
        ("ConfirmBalance", ".YY..."),
        ("RegisterCustomer", ".Y...."),
        ("UpdateCustomer", ".Y...."),
        ("AssignCollector", ".Y...."),
        ("PublishExchangeRates", "..Y..."),
        ("DefinePaymentTerms", ".Y...."),
        ("AgreeInstalmentPlan(SUB-1)", "Y....."),
        ("CancelInstalmentPlan(SUB-1)", "Y....."),
        ("AllowDiscount(SUB-1)", "YYY..."),
        ("ReserveCredit(SUB-1)", "Y....."),
        ("ReleaseCredit(SUB-1)", "Y....."),
        ("RecordCollectionActivity(SUB-1)", "Y....."),
        ("SetAlertThresholds", ".Y...."),
        ("CheckCredit", "YYYYY."),
        ("GetAccount", ".YYYY."),
        ("GetAgingReport(SUB-1)", "YYYYY."),
        ("GetAgingReport(all)", ".YYYY."),
        ("ListOpenItems(SUB-1)", "YYYYY."),
        ("ListOpenItems(SUB-2)", ".YYYY."),
        ("GetExposure", ".YYYY."),
        ("ListExposures", ".YYYY."),
        ("GetWorkQueue", ".YYYY."),
        ("ListPromises", ".YYYY."),
        ("GetStatement(SUB-1)", "YYYYY."),
        ("GetStatement(all)", ".YYYY."),
        ("ListBalanceConfirmations", ".YYYY."),
        ("SearchCustomers", ".YYYY."),
        ("ListUpcomingDue(SUB-1)", "YYYYY."),
        ("ListUpcomingDue(all)", ".YYYY."),
        ("ListCollectionActivities", ".YYYY."),
        ("GetMetrics(SUB-1)", "YYYYY."),
        ("GetMetrics(all)", ".YYYY."),
        ("GetAllowance", ".YYYY."),
        ("GetCollectionsForecast(SUB-1)", "YYYYY."),
        ("GetCollectionsForecast(all)", ".YYYY."),
        ("BacktestCollectionsForecast", ".YYYY."),
        ("WatchAlerts(SUB-1)", "YYYYY."),
        ("WatchAlerts(all)", ".YYYY."),
        ("ReplayEvents", "....Y."),
        ("VerifyLog", "....Y."),
        ("GetAgingReportAsKnown", "....Y."),
        ("ListExposuresAsKnown", "....Y."),
        ("GetWorkQueueAsKnown", "....Y."),
        ("GetMetricsAsKnown", "....Y."),
        ("RebuildReadModel", ".....Y"),
        ("CreateToken", ".....Y"),
        ("ListTokens", ".....Y"),
        ("RevokeToken", ".....Y"),
    ];
    assert_eq!(expected.map(|(rpc, _)| rpc), RPCS);
    let tokens = [
        &subsidiary,
        &credit,
        &treasury,
        &reporting,
        &auditor,
        &admin,
    ];
    let before = events_in_log(&clients, &auditor).await;
    let mut appended = 0;
    let mut n = 1;
    for (rpc, row) in expected {
        for (token, allowed) in tokens.iter().zip(row.chars()) {
            n += 1;
            let result = call(&clients, rpc, Some(&bearer(token)), n).await;
            if allowed == 'Y' {
                assert!(result.is_ok(), "{rpc} with {token:.24}..: {result:?}");
                // Every allowed command appends one event; a reversal two (its payment too), a
                // plan two (its invoice), a discount two (its payment), a release two (its
                // reservation), a cancellation three; a credit check none.
                if rpc.starts_with("ReversePayment")
                    || rpc.starts_with("AgreeInstalmentPlan")
                    || rpc.starts_with("AllowDiscount")
                    || rpc.starts_with("ReleaseCredit")
                {
                    appended += 2;
                } else if rpc.starts_with("CancelInstalmentPlan") {
                    appended += 3;
                } else if !rpc.starts_with("Get") && !rpc.starts_with("List") {
                    appended += u64::from(matches!(
                        rpc.split('(').next(),
                        Some(
                            "IssueInvoice"
                                | "RecordPayment"
                                | "RecordPromiseToPay"
                                | "ChangeCreditLimit"
                                | "IssueCreditNote"
                                | "WriteOffInvoice"
                                | "ApplyUnappliedCash"
                                | "IssueRefund"
                                | "OpenDispute"
                                | "ResolveDispute"
                                | "SetCollectionOnBehalf"
                                | "ConfirmBalance"
                                | "RegisterCustomer"
                                | "UpdateCustomer"
                                | "AssignCollector"
                                | "PublishExchangeRates"
                                | "DefinePaymentTerms"
                                | "ReserveCredit"
                                | "RecordCollectionActivity"
                                | "SetAlertThresholds"
                        )
                    ));
                }
            } else {
                let status = result.expect_err(rpc);
                assert_eq!(
                    status.code(),
                    Code::PermissionDenied,
                    "{rpc} with {token:.24}..: {status:?}"
                );
            }
        }
        // No token at all, and a token that is not one.
        for header in [
            None,
            Some("Bearer rcv_0000000000000000_".to_owned() + &"0".repeat(64)),
        ] {
            let status = call(&clients, rpc, header.as_deref(), n)
                .await
                .expect_err("no valid token");
            assert_eq!(status.code(), Code::Unauthenticated, "{rpc}: {status:?}");
        }
    }
    // Exactly the allowed commands were appended; every refusal appended nothing: an invoice,
    // 3 payments, a promise, a credit limit, 3 credit notes, 2 write-offs, 3 reversals with
    // their payments, 3 applications, 3 refunds, a dispute and its resolution, the group's
    // setting, 2 balance confirmations, a registration, an update, an assignment, a
    // publication of rates, a template, a plan with its invoice, a cancellation with its plan
    // and invoice, 3 discounts with their payments, a reservation, a release with its
    // reservation, a collection activity and the alert thresholds (a credit check appends
    // nothing).
    assert_eq!(
        appended,
        1 + 3
            + 1
            + 1
            + 3
            + 2
            + 6
            + 3
            + 3
            + 1
            + 1
            + 1
            + 2
            + 1
            + 1
            + 1
            + 1
            + 1
            + 2
            + 3
            + 6
            + 1
            + 2
            + 1
            + 1
    );
    assert_eq!(events_in_log(&clients, &auditor).await, before + appended);
}

/// A subsidiary poster cannot post for, read, or replay another subsidiary's business, and
/// every refused post leaves the log as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subsidiary_stays_inside_its_own_subsidiary() {
    let secured = Secured::start(false).await;
    let clients = Clients::on(secured.channel(false).await.expect("TLS channel"));
    let (own, principal) = secured
        .token(Role::Subsidiary(SubsidiaryId::parse(SUB).unwrap()))
        .await;
    let (auditor, _) = secured.token(Role::Auditor).await;
    let own = bearer(&own);
    let mut commands = clients.commands.clone();
    let position = commands
        .issue_invoice(authorized(
            invoice(CUSTOMER, SUB, "INV-1", "100", "2026-03-01", "2026-03-31"),
            Some(&own),
        ))
        .await
        .expect("own invoice")
        .into_inner()
        .receipt
        .expect("receipt")
        .position;
    let before = events_in_log(&clients, &auditor).await;

    let refused = [
        commands
            .issue_invoice(authorized(
                invoice(
                    CUSTOMER,
                    OTHER_SUB,
                    "INV-2",
                    "100",
                    "2026-03-01",
                    "2026-03-31",
                ),
                Some(&own),
            ))
            .await
            .map(drop),
        commands
            .record_payment(authorized(
                payment(CUSTOMER, OTHER_SUB, "10", "2026-03-02"),
                Some(&own),
            ))
            .await
            .map(drop),
        commands
            .record_promise_to_pay(authorized(
                promise(CUSTOMER, OTHER_SUB, "10", "2026-03-02", "2026-04-01"),
                Some(&own),
            ))
            .await
            .map(drop),
    ];
    for result in refused {
        let status = result.expect_err("another subsidiary");
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        assert!(status.message().contains(OTHER_SUB), "{status:?}");
    }
    let status = clients
        .queries
        .clone()
        .list_open_items(authorized(
            pb::ListOpenItemsRequest {
                scope: scope(OTHER_SUB),
                ..pb::ListOpenItemsRequest::default()
            },
            Some(&own),
        ))
        .await
        .expect_err("another subsidiary's open items");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = clients
        .audit
        .clone()
        .replay_events(authorized(pb::ReplayEventsRequest::default(), Some(&own)))
        .await
        .expect_err("replaying the log");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(events_in_log(&clients, &auditor).await, before);

    // Its own open items it reads; and the event records who posted it.
    let items = clients
        .queries
        .clone()
        .list_open_items(authorized(
            pb::ListOpenItemsRequest {
                scope: scope(SUB),
                min_position: position,
                ..pb::ListOpenItemsRequest::default()
            },
            Some(&own),
        ))
        .await
        .expect("own open items")
        .into_inner();
    assert_eq!(items.items.len(), 1);
    let mut replay = clients
        .audit
        .clone()
        .replay_events(authorized(
            pb::ReplayEventsRequest::default(),
            Some(&bearer(&auditor)),
        ))
        .await
        .expect("replay")
        .into_inner();
    let mut principals = Vec::new();
    while let Some(message) = replay.message().await.expect("replay message") {
        if let Some(pb::replay_events_response::Item::Event(event)) = message.item {
            let envelope: serde_json::Value =
                serde_json::from_str(&event.envelope_json).expect("envelope JSON");
            principals.push(
                envelope["principal"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    assert_eq!(principals, [principal.as_str().to_owned()]);
    assert!(principal.as_str().starts_with("token:"), "{principal:?}");
}

/// Ids crafted to leave their subject (`<prefix>.<customer>`) are refused before anything is
/// written: by the policy when a subsidiary poster names them, by validation otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ids_crafted_to_escape_their_subject_are_refused() {
    let secured = Secured::start(false).await;
    let clients = Clients::on(secured.channel(false).await.expect("TLS channel"));
    let (poster, _) = secured
        .token(Role::Subsidiary(SubsidiaryId::parse(SUB).unwrap()))
        .await;
    let (credit, _) = secured.token(Role::Credit).await;
    let (auditor, _) = secured.token(Role::Auditor).await;
    let before = events_in_log(&clients, &auditor).await;
    let hostile = [
        "SUB-1.>",
        "SUB-1.*",
        ">",
        "*",
        "ar.events.ACME",
        "SUB-1 ",
        "SUB-1\u{0}",
        "SUB\u{2024}1",
    ];
    let mut commands = clients.commands.clone();
    for id in hostile {
        // As the subsidiary: it is not the poster's subsidiary, whatever it is.
        let status = commands
            .issue_invoice(authorized(
                invoice(CUSTOMER, id, "INV-X", "1", "2026-03-01", "2026-03-31"),
                Some(&bearer(&poster)),
            ))
            .await
            .expect_err(id);
        assert_eq!(status.code(), Code::PermissionDenied, "{id:?}: {status:?}");
        // As the customer: validation refuses it, for the poster and for credit control.
        let status = commands
            .issue_invoice(authorized(
                invoice(id, SUB, "INV-X", "1", "2026-03-01", "2026-03-31"),
                Some(&bearer(&poster)),
            ))
            .await
            .expect_err(id);
        assert_eq!(status.code(), Code::InvalidArgument, "{id:?}: {status:?}");
        let status = commands
            .change_credit_limit(authorized(
                credit_limit(id, "1000", pb::CreditPolicy::Block),
                Some(&bearer(&credit)),
            ))
            .await
            .expect_err(id);
        assert_eq!(status.code(), Code::InvalidArgument, "{id:?}: {status:?}");
    }
    assert_eq!(events_in_log(&clients, &auditor).await, before);
}

/// A revoked token is refused on the very next call, revoked through another handle on the
/// store (as `receivables tokens revoke` does); an expired one is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoked_and_expired_tokens_are_refused() {
    let secured = Secured::start(false).await;
    let clients = Clients::on(secured.channel(false).await.expect("TLS channel"));
    let (reporting, _) = secured.token(Role::Reporting).await;
    call(&clients, "ListExposures", Some(&bearer(&reporting)), 0)
        .await
        .expect("valid token");
    let id = receivables_access::parse_bearer(&reporting).unwrap().0;
    secured.store.revoke(&id, Utc::now()).await.unwrap();
    let status = call(&clients, "ListExposures", Some(&bearer(&reporting)), 0)
        .await
        .expect_err("revoked");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("revoked"), "{status:?}");

    // A token whose expiry has passed (stored directly: `issue` refuses a past expiry).
    let (bearer_token, mut record) = issue(
        Role::Reporting,
        TokenLabel::parse("expired").unwrap(),
        None,
        Principal::parse("local-admin").unwrap(),
        Utc::now(),
    )
    .unwrap();
    record.expires_at = Some(Utc::now() - chrono::Duration::seconds(1));
    secured.store.insert(&record).await.unwrap();
    let status = call(
        &clients,
        "ListExposures",
        Some(&bearer(bearer_token.expose())),
        0,
    )
    .await
    .expect_err("expired");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("expired"), "{status:?}");

    // A right id with a wrong secret, and an unknown id, get one answer that tells neither.
    let wrong_secret = format!("rcv_{}_{}", id.as_str(), "ab".repeat(32));
    let unknown = format!("rcv_{}_{}", "f".repeat(16), "ab".repeat(32));
    for token in [wrong_secret, unknown] {
        let status = call(&clients, "ListExposures", Some(&bearer(&token)), 0)
            .await
            .expect_err("not valid");
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.message(), "the token is not valid");
    }
}

/// Health checks pass without a token (load balancers probe them); nothing else does.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_needs_no_token() {
    let secured = Secured::start(false).await;
    let channel = secured.channel(false).await.expect("TLS channel");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let answer = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health without a token");
    assert_eq!(
        answer.into_inner().status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );
}

/// TLS: a client that does not trust the server's CA cannot connect; one that does can. In
/// client-certificate mode, a client without a certificate, or with one from another CA, is
/// turned away before any call, even with a valid token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_with_and_without_client_certificates() {
    let secured = Secured::start(false).await;
    let (reporting, _) = secured.token(Role::Reporting).await;
    // Without the CA (public roots only), and with another CA: the handshake fails.
    for tls in [
        ClientTlsConfig::new().with_webpki_roots(),
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&secured.pki.other_ca_cert))),
    ] {
        let reached = match connect(&secured.url(), tls).await {
            Err(_) => false,
            Ok(channel) => call(
                &Clients::on(channel),
                "ListExposures",
                Some(&bearer(&reporting)),
                0,
            )
            .await
            .is_ok(),
        };
        assert!(!reached, "a client that does not trust the CA got through");
    }
    // Plain text to the TLS port gets nowhere either.
    let plain = Channel::from_shared(format!(
        "http://127.0.0.1:{}",
        secured.service.address.port()
    ))
    .unwrap()
    .connect()
    .await;
    if let Ok(channel) = plain {
        let result = call(
            &Clients::on(channel),
            "ListExposures",
            Some(&bearer(&reporting)),
            0,
        )
        .await;
        assert!(result.is_err(), "plain text was answered");
    }
    let clients = Clients::on(secured.channel(false).await.expect("with the CA"));
    call(&clients, "ListExposures", Some(&bearer(&reporting)), 0)
        .await
        .expect("with the CA");

    let mutual = Secured::start(true).await;
    let (reporting, _) = mutual.token(Role::Reporting).await;
    let attempts: [(&str, Option<(PathBuf, PathBuf)>); 2] = [
        ("no client certificate", None),
        (
            "a certificate of another CA",
            Some((
                mutual.pki.stranger_cert.clone(),
                mutual.pki.stranger_key.clone(),
            )),
        ),
    ];
    for (what, identity) in attempts {
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&mutual.pki.ca_cert)));
        if let Some((cert, key)) = identity {
            tls = tls.identity(Identity::from_pem(read(&cert), read(&key)));
        }
        let reached = match connect(&mutual.url(), tls).await {
            Err(_) => false,
            Ok(channel) => call(
                &Clients::on(channel),
                "ListExposures",
                Some(&bearer(&reporting)),
                0,
            )
            .await
            .is_ok(),
        };
        assert!(!reached, "{what} got through");
    }
    let clients = Clients::on(
        mutual
            .channel(true)
            .await
            .expect("with a client certificate"),
    );
    call(&clients, "ListExposures", Some(&bearer(&reporting)), 0)
        .await
        .expect("with a client certificate");
    // The certificate alone is not enough: the token is still needed.
    let status = call(&clients, "ListExposures", None, 0)
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
}

/// End to end with the real binary: `receivables tokens create` prints a token once, `serve`
/// over TLS accepts it from the real CLI, a wrong one is refused; and the secret appears
/// nowhere but in that one output: not in the service's log (at debug level), not in any file
/// of the data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_secret_is_shown_once_and_kept_nowhere() {
    let directory = tempfile::tempdir().unwrap();
    let pki = TestPki::create(directory.path());
    let data = directory.path().join("data");
    let binary = receivables_binary();
    let created = tokio::process::Command::new(&binary)
        .args([
            "tokens",
            "create",
            "--role",
            "reporting",
            "--label",
            "board pack",
        ])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .await
        .expect("tokens create");
    assert!(created.status.success(), "{created:?}");
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let (id, secret) = receivables_access::parse_bearer(&token).expect("a well-formed token");
    let secret = secret.expose_hex().to_owned();

    let port = receivables_tests::free_port();
    let log_path = directory.path().join("serve.log");
    let mut server = tokio::process::Command::new(&binary)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(&data)
        .arg("--tls-cert")
        .arg(&pki.server_cert)
        .arg("--tls-key")
        .arg(&pki.server_key)
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("serve");
    let url = format!("https://localhost:{port}");
    let client = |token: &str| {
        let mut command = tokio::process::Command::new(&binary);
        command
            .args(["exposure", "--server", &url, "--token", token])
            .arg("--ca-cert")
            .arg(&pki.ca_cert);
        command
    };
    // Wait for the listener, then call with the token.
    let mut answered = None;
    for _ in 0..100 {
        let output = client(&token).output().await.expect("client");
        if output.status.code() != Some(3) {
            answered = Some(output);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answered = answered.expect("the service came up");
    assert!(answered.status.success(), "{answered:?}");
    // An admin token made on the store manages tokens through the service (`--remote`).
    let admin = tokio::process::Command::new(&binary)
        .args(["tokens", "create", "--role", "admin", "--label", "operator"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .await
        .expect("tokens create admin");
    let admin = String::from_utf8(admin.stdout).unwrap().trim().to_owned();
    let remote = |args: &[&str], token: &str| {
        let mut command = tokio::process::Command::new(&binary);
        command
            .arg("tokens")
            .args(args)
            .args(["--remote", "--server", &url, "--token", token])
            .arg("--ca-cert")
            .arg(&pki.ca_cert);
        command
    };
    let made = remote(
        &["create", "--role", "auditor", "--label", "external audit"],
        &admin,
    )
    .output()
    .await
    .expect("tokens create --remote");
    assert!(made.status.success(), "{made:?}");
    let auditor = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let auditor_id = receivables_access::parse_bearer(&auditor)
        .expect("a token")
        .0;
    let listed = remote(&["list"], &admin)
        .output()
        .await
        .expect("tokens list --remote");
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listing.contains(auditor_id.as_str()) && listing.contains("external audit"),
        "{listing}"
    );
    // A reporting token may not manage tokens.
    let denied = remote(&["list"], &token)
        .output()
        .await
        .expect("tokens list as reporting");
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("PERMISSION_DENIED"),
        "{denied:?}"
    );

    let wrong = format!("rcv_{}_{}", id.as_str(), "0".repeat(64));
    let refused = client(&wrong).output().await.expect("client");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not valid"),
        "{refused:?}"
    );
    // Revoked with the real command, refused at once.
    let revoked = tokio::process::Command::new(&binary)
        .args(["tokens", "revoke", id.as_str()])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .await
        .expect("tokens revoke");
    assert!(revoked.status.success(), "{revoked:?}");
    let after = client(&token).output().await.expect("client");
    assert!(!after.status.success());
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("revoked"),
        "{after:?}"
    );
    let listed = tokio::process::Command::new(&binary)
        .args(["tokens", "list"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .await
        .expect("tokens list");
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listing.contains(id.as_str()) && listing.contains("revoked"),
        "{listing}"
    );
    assert!(!listing.contains(&secret));

    let _ = tokio::process::Command::new("kill")
        .arg("-TERM")
        .arg(server.id().expect("pid").to_string())
        .status()
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(30), server.wait()).await;

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains(id.as_str()),
        "the log names the token by its id"
    );
    assert!(!log.contains(&secret), "the secret is in the service's log");
    let mut files = 0;
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is in {}",
            path.display()
        );
    }
    assert!(files >= 2, "the data directory holds the store and the log");
}

/// Without TLS flags and without `--insecure`, a listener does not start; the demo does not
/// start without `--insecure` either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_listener_starts_unsecured_by_accident() {
    let directory = tempfile::tempdir().unwrap();
    let binary = receivables_binary();
    let serve = tokio::process::Command::new(&binary)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(directory.path().join("data"))
        .output()
        .await
        .expect("serve");
    assert!(!serve.status.success());
    assert!(
        String::from_utf8_lossy(&serve.stderr).contains("--tls-cert"),
        "{serve:?}"
    );
    let demo = tokio::process::Command::new(&binary)
        .args([
            "demo",
            "--scale",
            "small",
            "--exit-after-load",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .await
        .expect("demo");
    assert!(!demo.status.success());
    assert!(
        String::from_utf8_lossy(&demo.stderr).contains("--insecure"),
        "{demo:?}"
    );
}

/// An admin manages tokens over gRPC: a token it issues works at once and names the admin as
/// its issuer, and one it revokes is refused on the next call. On a listener without tokens
/// there is nothing to manage.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_manages_tokens_over_grpc() {
    let secured = Secured::start(false).await;
    let clients = Clients::on(secured.channel(false).await.expect("TLS channel"));
    let (admin, admin_principal) = secured.token(Role::Admin).await;
    let mut admin_client = clients.admin.clone();
    let created = admin_client
        .create_token(authorized(
            pb::CreateTokenRequest {
                role: "subsidiary".to_owned(),
                subsidiary_id: SUB.to_owned(),
                label: "SUB-1 ERP".to_owned(),
                expires_at: None,
            },
            Some(&bearer(&admin)),
        ))
        .await
        .expect("create")
        .into_inner();
    let info = created.info.expect("info");
    assert_eq!(
        (
            info.role.as_str(),
            info.subsidiary_id.as_str(),
            info.created_by.as_str()
        ),
        ("subsidiary", SUB, admin_principal.as_str())
    );
    assert!(created.token.starts_with(&format!("rcv_{}_", info.id)));
    call(
        &clients,
        "IssueInvoice(SUB-1)",
        Some(&bearer(&created.token)),
        1,
    )
    .await
    .expect("the new token posts for SUB-1");

    // Bad requests name their fields.
    let status = admin_client
        .create_token(authorized(
            pb::CreateTokenRequest {
                role: "subsidiary".to_owned(),
                label: String::new(),
                ..pb::CreateTokenRequest::default()
            },
            Some(&bearer(&admin)),
        ))
        .await
        .expect_err("no subsidiary, no label");
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = tonic_types::StatusExt::get_details_bad_request(&status).expect("BadRequest");
    let fields: Vec<&str> = details
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, ["role", "label"]);

    let listed = admin_client
        .list_tokens(authorized(pb::ListTokensRequest {}, Some(&bearer(&admin))))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.tokens.iter().any(|t| t.id == info.id));
    assert!(
        listed
            .tokens
            .iter()
            .all(|t| !created.token.contains(&t.id) || t.id == info.id)
    );
    admin_client
        .revoke_token(authorized(
            pb::RevokeTokenRequest {
                id: info.id.clone(),
            },
            Some(&bearer(&admin)),
        ))
        .await
        .expect("revoke");
    let status = call(
        &clients,
        "IssueInvoice(SUB-1)",
        Some(&bearer(&created.token)),
        2,
    )
    .await
    .expect_err("revoked");
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = admin_client
        .revoke_token(authorized(
            pb::RevokeTokenRequest {
                id: "0123456789abcdef".to_owned(),
            },
            Some(&bearer(&admin)),
        ))
        .await
        .expect_err("unknown id");
    assert_eq!(status.code(), Code::NotFound);

    // An --insecure listener has no tokens to manage.
    let data = tempfile::tempdir().unwrap();
    let open = TestAllInOne::start_with(&receivables::config::ServeArgs::embedded(
        "127.0.0.1:0".parse().unwrap(),
        data.path(),
    ))
    .await;
    let status = open
        .admin()
        .await
        .create_token(pb::CreateTokenRequest {
            role: "admin".to_owned(),
            label: "x".to_owned(),
            ..pb::CreateTokenRequest::default()
        })
        .await
        .expect_err("no tokens");
    assert_eq!(status.code(), Code::FailedPrecondition);
}

/// A request larger than the service's message limit is refused by the transport before it is
/// read, and nothing is appended.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_oversized_request_is_refused_before_it_is_read() {
    let secured = Secured::start(false).await;
    let clients = Clients::on(secured.channel(false).await.expect("TLS channel"));
    let (poster, _) = secured
        .token(Role::Subsidiary(SubsidiaryId::parse(SUB).unwrap()))
        .await;
    let (auditor, _) = secured.token(Role::Auditor).await;
    let before = events_in_log(&clients, &auditor).await;
    let mut request = promise(CUSTOMER, SUB, "5", "2026-03-02", "2026-04-15");
    request.note = "x".repeat(receivables::limits::GRPC_MESSAGE_BYTES_MAX + 1);
    let status = clients
        .commands
        .clone()
        .record_promise_to_pay(authorized(request, Some(&bearer(&poster))))
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("too large"), "{status:?}");
    assert_eq!(events_in_log(&clients, &auditor).await, before);
}
