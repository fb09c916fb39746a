//! The write side end to end: two subsidiaries post to one customer over real gRPC, the command
//! service appends to a real JetStream server that the test starts, and the replies,
//! `GetAccount` and the raw events in the stream are checked against figures worked out by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::issue_invoice_request::Due;
use receivables_tests::*;
use sha2::Digest as _;
use tonic::Code;
use tonic_types::StatusExt;

fn amount(money: &Option<pb::Money>) -> (&str, &str) {
    let money = money.as_ref().expect("money");
    (money.amount.as_str(), money.currency.as_str())
}

#[tokio::test]
async fn two_subsidiaries_one_customer_from_invoices_to_promise() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;

    // Invoices: SH-001 1000.00 due 02-09 and SH-002 300.00 on 30 days' terms from SUB-SH,
    // BJ-001 500.00 due 02-14 from SUB-BJ.
    let sh1 = client
        .issue_invoice(invoice(
            "ACME",
            "SUB-SH",
            "SH-001",
            "1000",
            "2026-01-10",
            "2026-02-09",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sh1.receipt.as_ref().unwrap().position, 1);
    assert!(!sh1.receipt.as_ref().unwrap().replayed);
    assert!(!sh1.over_limit);
    assert!(sh1.credit_check.is_none(), "no limit set, nothing checked");
    let bj1 = client
        .issue_invoice(invoice(
            "ACME",
            "SUB-BJ",
            "BJ-001",
            "500.00",
            "2026-01-15",
            "2026-02-14",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bj1.receipt.unwrap().position, 2);
    let mut sh2 = invoice("ACME", "SUB-SH", "SH-002", "300", "2026-02-01", "");
    sh2.due = Some(Due::TermsDays(30));
    let sh2 = client.issue_invoice(sh2).await.unwrap().into_inner();
    assert_eq!(sh2.due_date, "2026-03-03", "2026-02-01 plus 30 days");

    // A partial payment of 400.00 at SUB-SH with explicit allocations, one to SUB-BJ's invoice.
    let mut explicit = payment("ACME", "SUB-SH", "400", "2026-02-20");
    explicit.allocations = vec![
        allocation("SUB-SH", "SH-002", "150"),
        allocation("SUB-BJ", "BJ-001", "250.00"),
    ];
    let explicit = client.record_payment(explicit).await.unwrap().into_inner();
    assert_eq!(explicit.allocation_rule(), pb::AllocationRule::Explicit);
    assert_eq!(explicit.allocations.len(), 2);
    assert_eq!(amount(&explicit.unapplied), ("0.00", "CNY"));
    // Open now: SH-001 1000.00, SH-002 150.00, BJ-001 250.00.

    // 1200.00 at SUB-SH without allocations: SH-001 (due 02-09) takes 1000.00, SH-002 (due 03-03)
    // its 150.00, 50.00 stays unapplied; SUB-BJ's BJ-001 is not touched.
    let auto = client
        .record_payment(payment("ACME", "SUB-SH", "1200", "2026-03-01"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(auto.allocation_rule(), pb::AllocationRule::OldestDueFirst);
    let allocated: Vec<(&str, &str)> = auto
        .allocations
        .iter()
        .map(|a| {
            (
                a.invoice.as_ref().unwrap().invoice_number.as_str(),
                a.amount.as_ref().unwrap().amount.as_str(),
            )
        })
        .collect();
    assert_eq!(allocated, vec![("SH-001", "1000.00"), ("SH-002", "150.00")]);
    assert_eq!(amount(&auto.unapplied), ("50.00", "CNY"));
    // Exposure: open 250.00 (BJ-001) - unapplied 50.00 = 200.00.

    // Limit 1000.00 under BLOCK: an invoice of 900.00 would take exposure to 1100.00.
    client
        .change_credit_limit(credit_limit("ACME", "1000", pb::CreditPolicy::Block))
        .await
        .unwrap();
    let refused = client
        .issue_invoice(invoice(
            "ACME",
            "SUB-BJ",
            "BJ-002",
            "900",
            "2026-03-01",
            "2026-03-31",
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let details = refused.get_error_details();
    let info = details.error_info().expect("error info");
    assert_eq!(info.reason, "CREDIT_LIMIT_EXCEEDED");
    assert_eq!(info.metadata["limit"], "1000.00");
    assert_eq!(info.metadata["exposure"], "200.00");
    assert_eq!(info.metadata["shortfall"], "100.00");
    assert_eq!(info.metadata["currency"], "CNY");
    let precondition = details
        .precondition_failure()
        .expect("precondition failure");
    assert_eq!(precondition.violations[0].r#type, "CREDIT_LIMIT_EXCEEDED");
    assert_eq!(
        precondition.violations[0].subject,
        "customers/ACME/credit_limit"
    );
    // The refused number is free again: 800.00 takes exposure to exactly the limit.
    let bj2 = client
        .issue_invoice(invoice(
            "ACME",
            "SUB-BJ",
            "BJ-002",
            "800",
            "2026-03-01",
            "2026-03-31",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!bj2.over_limit);
    assert_eq!(
        amount(&bj2.credit_check.unwrap().exposure_after),
        ("1000.00", "CNY")
    );

    // Under WARN the next invoice is accepted and flagged.
    client
        .change_credit_limit(credit_limit("ACME", "1000", pb::CreditPolicy::Warn))
        .await
        .unwrap();
    let bj3 = client
        .issue_invoice(invoice(
            "ACME",
            "SUB-BJ",
            "BJ-003",
            "100",
            "2026-03-05",
            "2026-04-04",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(bj3.over_limit);
    let check = bj3.credit_check.unwrap();
    assert_eq!(check.policy(), pb::CreditPolicy::Warn);
    assert_eq!(amount(&check.exposure_after), ("1100.00", "CNY"));

    let promise_request = promise("ACME", "SUB-BJ", "300", "2026-03-06", "2026-03-20");
    let promise_command = promise_request.command_id.clone();
    let promised = client
        .record_promise_to_pay(promise_request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(promised.promise_id, promise_command);
    assert_eq!(promised.receipt.unwrap().position, 10);

    // The account as the command service sees it.
    let account = client
        .get_account(pb::GetAccountRequest {
            customer_id: "ACME".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(account.position, 10);
    assert_eq!(account.event_count, 10);
    let credit = account.credit.unwrap();
    assert_eq!(amount(&credit.limit), ("1000.00", "CNY"));
    assert_eq!(credit.policy(), pb::CreditPolicy::Warn);
    assert_eq!(credit.grade(), pb::CreditGrade::B);
    assert_eq!(amount(&credit.exposure), ("1100.00", "CNY"));
    assert_eq!(amount(&credit.available), ("-100.00", "CNY"));
    assert!(credit.over_limit);
    assert_eq!(account.balances.len(), 1);
    let balance = &account.balances[0];
    assert_eq!(amount(&balance.open_invoices), ("1150.00", "CNY"));
    assert_eq!(amount(&balance.unapplied), ("50.00", "CNY"));
    assert_eq!(amount(&balance.exposure), ("1100.00", "CNY"));
    let open: Vec<(&str, &str)> = account
        .open_invoices
        .iter()
        .map(|i| {
            (
                i.invoice.as_ref().unwrap().invoice_number.as_str(),
                i.open_amount.as_ref().unwrap().amount.as_str(),
            )
        })
        .collect();
    assert_eq!(
        open,
        vec![
            ("BJ-001", "250.00"),
            ("BJ-002", "800.00"),
            ("BJ-003", "100.00")
        ]
    );
    assert_eq!(account.promises.len(), 1);
    assert_eq!(account.promises[0].promised_date, "2026-03-20");

    // The raw events in the stream: one message per accepted command, on the customer's
    // subject, with the command id as message id, in order.
    let events = raw_events(&nats.url()).await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e.json["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "InvoiceIssued",
            "InvoiceIssued",
            "InvoiceIssued",
            "PaymentReceived",
            "PaymentReceived",
            "CreditLimitChanged",
            "InvoiceIssued",
            "CreditLimitChanged",
            "InvoiceIssued",
            "PromiseToPay",
        ]
    );
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event.sequence, index as u64 + 1);
        assert_eq!(event.subject, "ar.events.ACME");
        assert_eq!(event.msg_id.as_deref(), event.json["command_id"].as_str());
        assert_eq!(event.json["schema_version"], 2);
        assert_eq!(event.json["customer_id"], "ACME");
        assert_eq!(event.json["principal"], "anonymous");
    }
    // The hash chain, checked the way an auditor with other tools would: each event's hash is
    // SHA-256 of its JSON without `hash`, keys sorted, no whitespace (serde_json's own map is
    // sorted and compact); each links to the previous one's hash, the first to zeros.
    let mut previous = "0".repeat(64);
    for (index, event) in events.iter().enumerate() {
        let mut content = event.json.clone();
        let recorded_hash = content.as_object_mut().unwrap().remove("hash").unwrap();
        let canonical = serde_json::to_vec(&content).unwrap();
        let computed = hex::encode(sha2::Sha256::digest(&canonical));
        assert_eq!(recorded_hash, computed.as_str(), "hash of event {index}");
        assert_eq!(
            event.json["prev_hash"],
            previous.as_str(),
            "link of event {index}"
        );
        assert_eq!(
            event.json["sequence"],
            index as u64 + 1,
            "number of event {index}"
        );
        previous = computed;
    }
    let auto_payment = &events[4].json;
    assert_eq!(auto_payment["effective_date"], "2026-03-01");
    assert_eq!(auto_payment["data"]["allocation_rule"], "OLDEST_DUE_FIRST");
    assert_eq!(auto_payment["data"]["unapplied"]["amount"], "50.00");
    assert_eq!(
        auto_payment["data"]["allocations"][0]["invoice"]["invoice_number"],
        "SH-001"
    );
    assert_eq!(
        auto_payment["data"]["allocations"][0]["amount"]["amount"],
        "1000.00"
    );
    assert_eq!(events[8].json["data"]["over_limit"], true);
    assert_eq!(events[2].json["data"]["due_date"], "2026-03-03");
    assert_eq!(events[2].json["data"]["terms_days"], 30);

    service.stop().await;
}

#[tokio::test]
async fn get_account_of_a_customer_without_events_is_not_found() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;
    let status = client
        .get_account(pb::GetAccountRequest {
            customer_id: "NOBODY".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(
        status.get_error_details().error_info().unwrap().reason,
        "CUSTOMER_NOT_FOUND"
    );
    let status = client
        .get_account(pb::GetAccountRequest {
            customer_id: "a.b".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn health_and_reflection_answer_standard_clients() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let endpoint = format!("http://{}", service.address);

    let channel = tonic::transport::Channel::from_shared(endpoint)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let answer = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "receivables.v1.CommandService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        answer.status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );

    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut reflection = ServerReflectionClient::new(channel);
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(futures::stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("unexpected reflection answer {answer:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"receivables.v1.CommandService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
}
