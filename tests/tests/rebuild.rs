//! Rebuilding the read model while queries run: every query keeps being answered, the rebuilt
//! generation answers exactly what the live one did, and writes after the switch show up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use receivables_api::pb;
use receivables_api::pb::admin_service_client::AdminServiceClient;
use receivables_tests::*;

fn report_request(min_position: u64) -> pb::GetAgingReportRequest {
    pb::GetAgingReportRequest {
        scope: Some(pb::AgingScope {
            as_of: "2026-06-30".into(),
            ..Default::default()
        }),
        group_by: pb::AgingGroupBy::Customer.into(),
        min_position,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebuild_while_queries_run_answers_the_same_and_switches_readers() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let commands = TestService::start(&nats.url()).await;
    let queries = TestQueryService::start(&nats.url(), &database).await;
    let mut write = commands.client().await;
    let mut last = 0;
    for customer in 0..20 {
        for n in 0..10 {
            let request = invoice(
                &format!("C-{customer:02}"),
                "SUB-1",
                &format!("INV-{customer:02}-{n}"),
                "100",
                "2026-04-01",
                "2026-05-01",
            );
            write.issue_invoice(request).await.unwrap();
        }
        // The payment is the customer's last event: the report below waits for it too.
        last = write
            .record_payment(payment(
                &format!("C-{customer:02}"),
                "SUB-1",
                "250",
                "2026-06-01",
            ))
            .await
            .unwrap()
            .into_inner()
            .receipt
            .unwrap()
            .position;
    }
    let mut read = queries.client().await;
    let before = read
        .get_aging_report(report_request(last))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.lines.len(), 20);

    // Queries hammer the service during the rebuild; every one must be answered in full.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut client = queries.client().await;
        let (stop, answered, expected) = (
            Arc::clone(&stop),
            Arc::clone(&answered),
            before.lines.clone(),
        );
        readers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let report = client
                    .get_aging_report(report_request(0))
                    .await
                    .unwrap()
                    .into_inner();
                assert_eq!(
                    report.lines, expected,
                    "a query during the rebuild saw other figures"
                );
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", queries.address))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut admin = AdminServiceClient::new(channel);
    let rebuilt = admin
        .rebuild_read_model(pb::RebuildReadModelRequest {
            timeout_seconds: 60,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rebuilt.retired_generation, 1);
    assert_eq!(rebuilt.live_generation, 2);
    assert!(rebuilt.position >= last);
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    assert!(
        answered.load(Ordering::Relaxed) > 0,
        "queries ran during the rebuild"
    );

    // The rebuilt generation answers what the live one did, and follows new writes.
    let after = read
        .get_aging_report(report_request(0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.lines, before.lines);
    let receipt = write
        .issue_invoice(invoice(
            "C-NEW",
            "SUB-1",
            "INV-NEW",
            "70",
            "2026-06-01",
            "2026-07-01",
        ))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    let newest = read
        .get_aging_report(report_request(receipt.position))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(newest.lines.len(), 21);
    let added = newest.lines.iter().find(|l| l.group == "C-NEW").unwrap();
    assert_eq!(added.open_total.as_ref().unwrap().amount, "70.00");

    // The generations as the database records them.
    let states: Vec<(i64, String)> =
        sqlx::query_as("SELECT generation, state FROM read_model_generations ORDER BY generation")
            .fetch_all(&database.pool)
            .await
            .unwrap();
    assert_eq!(
        states,
        vec![(1, "retired".to_owned()), (2, "live".to_owned())]
    );

    queries.stop().await;
    commands.stop().await;
    database.drop_database().await;
}
