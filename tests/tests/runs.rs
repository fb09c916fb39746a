//! Many clients post to one customer at once, on both backends. The service decides the
//! commands queued behind the customer's lock in runs and appends each run together; every
//! command must still be answered as it would be one at a time: a block limit never exceeded,
//! an invoice number taken once, a command sent twice at once answered twice with its one
//! event, and the log one unbroken chain with one event per accepted command.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use receivables::config::EVENT_LOG_FILE;
use receivables_api::pb;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_tests::*;
use tonic::Code;

/// Invoices of 700.00 under a block limit of 10,000.00: 14 fit (9,800.00), a 15th would not.
const LIMITED_INVOICES: usize = 20;
const INVOICES_THAT_FIT: usize = 14;
/// Invoices of a customer without a limit, each sent twice at once with the same command id.
const TWICE_SENT_INVOICES: usize = 10;
/// Invoices of that customer reusing a number of the twice-sent ones under another command id.
const REUSED_NUMBERS: usize = 4;

/// What a client was answered: the event's position, or the refusal's code and reason.
type Answer = Result<u64, (Code, String)>;

/// Invoice number `n` of `customer` (numbered `<customer>-<n>`) at SUB-A, with a command id of
/// its own.
fn invoice_of(customer: &str, n: usize, amount: &str) -> pb::IssueInvoiceRequest {
    invoice(
        customer,
        "SUB-A",
        &format!("{customer}-{n:03}"),
        amount,
        "2026-05-01",
        "2026-05-31",
    )
}

async fn issue(service: &TestAllInOne, request: pb::IssueInvoiceRequest) -> Answer {
    let client = service.commands().await;
    with_retries(|| {
        let mut client = client.clone();
        let request = request.clone();
        async move { client.issue_invoice(request).await }
    })
    .await
    .map(|reply| reply.receipt.unwrap().position)
}

async fn concurrent_commands_of_one_customer_are_answered_as_one_at_a_time(backends: Backends) {
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    // Given a customer with a block limit of 10,000.00
    service
        .commands()
        .await
        .change_credit_limit(credit_limit("HOT", "10000", pb::CreditPolicy::Block))
        .await
        .unwrap();

    // When, all at once: 20 invoices of 700.00 for it; for another customer 10 invoices each
    // sent twice with the same command id, and 4 more reusing their numbers
    let mut tasks = Vec::new();
    for n in 0..LIMITED_INVOICES {
        tasks.push(("limited", n, invoice_of("HOT", n, "700")));
    }
    for n in 0..TWICE_SENT_INVOICES {
        let request = invoice_of("BUSY", n, "100");
        tasks.push(("twice", n, request.clone()));
        tasks.push(("twice", n, request));
    }
    for n in 0..REUSED_NUMBERS {
        tasks.push(("reused", n, invoice_of("BUSY", n, "100")));
    }
    let service = std::sync::Arc::new(service);
    let mut running = Vec::new();
    for (kind, n, request) in tasks {
        let service = std::sync::Arc::clone(&service);
        running.push(tokio::spawn(async move {
            (
                kind,
                n,
                request.command_id.clone(),
                issue(&service, request).await,
            )
        }));
    }
    let mut answers: Vec<(&str, usize, String, Answer)> = Vec::new();
    for task in running {
        answers.push(task.await.unwrap());
    }

    // Then the limit held: 14 invoices accepted, 6 refused for the limit
    let limited: Vec<&Answer> = answers
        .iter()
        .filter(|(kind, ..)| *kind == "limited")
        .map(|(.., answer)| answer)
        .collect();
    let refusals = |answers: &[&Answer]| {
        let mut counted: HashMap<(Code, String), usize> = HashMap::new();
        for answer in answers {
            if let Err(refusal) = answer {
                *counted.entry(refusal.clone()).or_default() += 1;
            }
        }
        counted
    };
    assert_eq!(
        limited.iter().filter(|answer| answer.is_ok()).count(),
        INVOICES_THAT_FIT,
        "{backends:?}: refusals {:?}",
        refusals(&limited)
    );
    assert_eq!(
        refusals(&limited).get(&(Code::FailedPrecondition, "CREDIT_LIMIT_EXCEEDED".into())),
        Some(&(LIMITED_INVOICES - INVOICES_THAT_FIT)),
        "{backends:?}"
    );

    // And each twice-sent command got one answer, twice: the same position, or the same
    // refusal; each reused number went to exactly one command
    let mut by_command: BTreeMap<&str, Vec<&Answer>> = BTreeMap::new();
    for (kind, _, command_id, answer) in &answers {
        if *kind == "twice" {
            by_command.entry(command_id).or_default().push(answer);
        }
    }
    for (command_id, answers) in &by_command {
        assert_eq!(answers.len(), 2);
        assert_eq!(answers[0], answers[1], "{backends:?}: command {command_id}");
    }
    let mut accepted_numbers = BTreeSet::new();
    for (kind, n, _, answer) in &answers {
        if *kind == "twice" || *kind == "reused" {
            match answer {
                Ok(_) => {
                    accepted_numbers.insert(*n);
                }
                Err(refusal) => assert_eq!(
                    refusal,
                    &(Code::AlreadyExists, "DUPLICATE_INVOICE_NUMBER".to_owned()),
                    "{backends:?}: number {n}"
                ),
            }
        }
    }
    assert_eq!(accepted_numbers.len(), TWICE_SENT_INVOICES, "{backends:?}");
    let busy_positions: BTreeSet<u64> = answers
        .iter()
        .filter(|(kind, ..)| *kind != "limited")
        .filter_map(|(.., answer)| answer.as_ref().ok().copied())
        .collect();
    assert_eq!(busy_positions.len(), TWICE_SENT_INVOICES, "{backends:?}");

    // And each customer's history is one unbroken chain of exactly its accepted events
    let mut audit = AuditServiceClient::new(service.channel().await);
    for (customer, events, last) in [
        ("HOT", 1 + INVOICES_THAT_FIT as u64, None),
        (
            "BUSY",
            TWICE_SENT_INVOICES as u64,
            busy_positions.last().copied(),
        ),
    ] {
        let verified = verify_log(&mut audit, customer).await;
        assert_eq!(verified.first_broken, None, "{backends:?}: {customer}");
        assert_eq!(verified.events_checked, events, "{backends:?}: {customer}");
        if let Some(last) = last {
            assert_eq!(verified.last_position, last, "{backends:?}: {customer}");
        }
    }

    std::sync::Arc::into_inner(service)
        .expect("the clients are done")
        .stop()
        .await;
    // And on the embedded log, where a transaction's events share their time of appending,
    // some transaction took more than one event of one customer: a run, since one customer's
    // single commands wait for each other's append
    if backends == Backends::Embedded {
        let file = data.directory.path().join(EVENT_LOG_FILE);
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&file)
            .read_only(true);
        let mut connection = sqlx::ConnectOptions::connect(&options).await.unwrap();
        let (largest,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(n), 0) FROM
               (SELECT COUNT(*) AS n FROM events GROUP BY customer_id, appended_at)",
        )
        .fetch_one(&mut connection)
        .await
        .unwrap();
        assert!(
            largest > 1,
            "no run formed: every transaction took at most one event of a customer"
        );
    }
    data.remove().await;
}

on_both_backends!(concurrent_commands_of_one_customer_are_answered_as_one_at_a_time);
