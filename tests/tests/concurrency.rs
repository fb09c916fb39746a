//! Many clients issue invoices for one customer at once under a BLOCK limit, through one service
//! instance and through two instances on the same stream, on the machine's NATS server and on a
//! current one. Afterwards the stream itself is checked: exposure never went above the limit and
//! every accepted command has exactly one event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};

use receivables_api::pb;
use receivables_tests::*;
use tonic::Code;

const CLIENTS: usize = 40;
const INVOICE_AMOUNT_FEN: i64 = 70_000; // 700.00
const LIMIT_FEN: i64 = 1_000_000; // 10000.00
/// 14 invoices of 700.00 make 9800.00; a 15th would make 10500.00.
const INVOICES_THAT_FIT: usize = 14;
async fn run_contention(binary: &ServerBinary, instances: usize) {
    let nats = NatsServer::start(binary).await;
    let services: Vec<TestService> = {
        let mut started = Vec::new();
        for _ in 0..instances {
            started.push(TestService::start(&nats.url()).await);
        }
        started
    };
    let mut setup = services[0].client().await;
    setup
        .change_credit_limit(credit_limit("HOT", "10000", pb::CreditPolicy::Block))
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for index in 0..CLIENTS {
        let client = services[index % instances].client().await;
        let request = invoice(
            "HOT",
            if index % 2 == 0 { "SUB-A" } else { "SUB-B" },
            &format!("INV-{index:03}"),
            "700",
            "2026-05-01",
            "2026-05-31",
        );
        tasks.push(tokio::spawn(async move {
            let id = request.command_id.clone();
            (
                id.clone(),
                with_retries(|| {
                    let mut client = client.clone();
                    let request = request.clone();
                    async move { client.issue_invoice(request).await }
                })
                .await,
            )
        }));
    }
    let mut accepted = BTreeSet::new();
    let mut refusals: HashMap<(Code, String), usize> = HashMap::new();
    for task in tasks {
        let (id, result) = task.await.unwrap();
        match result {
            Ok(_) => {
                accepted.insert(id);
            }
            Err(code_reason) => *refusals.entry(code_reason).or_default() += 1,
        }
    }
    let label = format!("{} server, {instances} instance(s)", nats.label());
    assert_eq!(
        accepted.len(),
        INVOICES_THAT_FIT,
        "{label}: accepted; refusals {refusals:?}"
    );
    assert_eq!(
        refusals.get(&(Code::FailedPrecondition, "CREDIT_LIMIT_EXCEEDED".into())),
        Some(&(CLIENTS - INVOICES_THAT_FIT)),
        "{label}: every other invoice refused for the limit; refusals {refusals:?}"
    );

    // The stream is the truth: replay it.
    let events = raw_events(&nats.url()).await;
    let mut exposure = 0;
    let mut limit = None;
    let mut invoice_commands = Vec::new();
    for event in &events {
        assert_eq!(event.subject, "ar.events.HOT");
        match event.json["type"].as_str().unwrap() {
            "CreditLimitChanged" => {
                limit = Some(fen(event.json["data"]["limit"]["amount"].as_str().unwrap()));
            }
            "InvoiceIssued" => {
                exposure += fen(event.json["data"]["amount"]["amount"].as_str().unwrap());
                assert_eq!(
                    exposure,
                    fen(
                        event.json["data"]["credit_check"]["exposure_after"]["amount"]
                            .as_str()
                            .unwrap()
                    )
                );
                assert!(
                    exposure <= limit.unwrap(),
                    "{label}: exposure {exposure} above the limit at sequence {}",
                    event.sequence
                );
                invoice_commands.push(event.json["command_id"].as_str().unwrap().to_owned());
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(limit, Some(LIMIT_FEN));
    assert_eq!(exposure, INVOICE_AMOUNT_FEN * INVOICES_THAT_FIT as i64);
    let distinct: BTreeSet<String> = invoice_commands.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        invoice_commands.len(),
        "{label}: a command appended twice"
    );
    assert_eq!(
        distinct, accepted,
        "{label}: accepted commands and events differ"
    );
    for service in services {
        service.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invoices_through_one_instance_never_exceed_a_block_limit() {
    init_logging();
    for binary in all_nats_server_binaries() {
        run_contention(&binary, 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invoices_through_two_instances_never_exceed_a_block_limit() {
    init_logging();
    for binary in all_nats_server_binaries() {
        run_contention(&binary, 2).await;
    }
}
