//! The open-items projection and the aging report: a history posted over gRPC to a real
//! JetStream server, projected into a real PostgreSQL database, and the aging as of three
//! business dates (one before later payments) compared with figures worked out by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use receivables_domain::{Currency, Money, Position};
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_projections::aging::{self, AgingRequest, GroupBy};
use receivables_projections::runtime::Projector;
use receivables_tests::projecting::RunningProjector;
use receivables_tests::*;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A line as plain text: group, currency, buckets (current, 1-30, 31-60, 61-90, 91-120, >120),
/// unapplied.
fn lines(report: &[aging::AgingLine]) -> Vec<(String, String, Vec<String>, String)> {
    report
        .iter()
        .map(|line| {
            (
                line.group.clone(),
                line.currency.code().to_owned(),
                line.buckets
                    .iter()
                    .map(|m| m.amount().to_string())
                    .collect(),
                line.unapplied.amount().to_string(),
            )
        })
        .collect()
}

fn row(group: &str, buckets: [&str; 6], unapplied: &str) -> (String, String, Vec<String>, String) {
    (
        group.to_owned(),
        "CNY".to_owned(),
        buckets.iter().map(|b| (*b).to_owned()).collect(),
        unapplied.to_owned(),
    )
}

async fn open_log(nats: &NatsServer) -> Arc<JetStreamLog> {
    let client = async_nats::connect(nats.url()).await.unwrap();
    Arc::new(
        JetStreamLog::open(client, JetStreamConfig::default())
            .await
            .unwrap(),
    )
}

/// Posts the history of the test: two customers at two subsidiaries.
async fn post_history(service: &TestService) -> Position {
    let mut client = service.client().await;
    for request in [
        invoice("A", "SUB-1", "INV-A1", "1000", "2026-01-05", "2026-02-04"),
        invoice("A", "SUB-1", "INV-A2", "500", "2026-02-10", "2026-03-12"),
        invoice("B", "SUB-2", "INV-B1", "2000", "2026-01-20", "2026-02-19"),
        invoice("B", "SUB-2", "INV-B2", "300", "2026-04-01", "2026-05-01"),
    ] {
        client.issue_invoice(request).await.unwrap();
    }
    // A pays 600.00 on 03-20: oldest due first, all to INV-A1 (open 400.00 after).
    client
        .record_payment(payment("A", "SUB-1", "600", "2026-03-20"))
        .await
        .unwrap();
    // B pays 2500.00 on 05-15: INV-B1 2000.00, INV-B2 300.00, 200.00 unapplied.
    let last = client
        .record_payment(payment("B", "SUB-2", "2500", "2026-05-15"))
        .await
        .unwrap()
        .into_inner();
    Position::new(last.receipt.unwrap().position)
}

async fn aging_as_of_past_and_present_dates_matches_figures_worked_out_by_hand(engine: Engine) {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestReadModel::create(engine).await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let last = post_history(&service).await;

    let running = RunningProjector::follow(open_log(&nats).await, database.read.clone()).await;
    assert!(
        running
            .projector
            .wait_for(last, Duration::from_secs(10))
            .await,
        "projection caught up"
    );

    let pool = &database.read;
    // As of 2026-02-15: INV-A1 due 02-04 is 11 days past due; INV-A2 (due 03-12) and INV-B1
    // (due 02-19) are not yet due; INV-B2 is not issued yet.
    let report = aging::report(pool, &AgingRequest::new(date("2026-02-15")))
        .await
        .unwrap();
    assert_eq!(
        lines(&report),
        vec![
            row(
                "A",
                ["500.00", "1000.00", "0.00", "0.00", "0.00", "0.00"],
                "0.00"
            ),
            row(
                "B",
                ["2000.00", "0.00", "0.00", "0.00", "0.00", "0.00"],
                "0.00"
            ),
        ]
    );

    // As of 2026-03-31, before B's payment: INV-A1 400.00 open, 55 days (31-60); INV-A2 19 days
    // (1-30); INV-B1 40 days (31-60), still 2000.00 because B paid only on 05-15.
    let report = aging::report(pool, &AgingRequest::new(date("2026-03-31")))
        .await
        .unwrap();
    assert_eq!(
        lines(&report),
        vec![
            row(
                "A",
                ["0.00", "500.00", "400.00", "0.00", "0.00", "0.00"],
                "0.00"
            ),
            row(
                "B",
                ["0.00", "0.00", "2000.00", "0.00", "0.00", "0.00"],
                "0.00"
            ),
        ]
    );
    let mut group = AgingRequest::new(date("2026-03-31"));
    group.group_by = GroupBy::Group;
    assert_eq!(
        lines(&aging::report(pool, &group).await.unwrap()),
        vec![row(
            "GROUP",
            ["0.00", "500.00", "2400.00", "0.00", "0.00", "0.00"],
            "0.00"
        )]
    );

    // As of 2026-05-31: INV-A1 116 days (91-120), INV-A2 80 days (61-90); B settled with
    // 200.00 unapplied.
    let report = aging::report(pool, &AgingRequest::new(date("2026-05-31")))
        .await
        .unwrap();
    assert_eq!(
        lines(&report),
        vec![
            row(
                "A",
                ["0.00", "0.00", "0.00", "500.00", "400.00", "0.00"],
                "0.00"
            ),
            row(
                "B",
                ["0.00", "0.00", "0.00", "0.00", "0.00", "0.00"],
                "200.00"
            ),
        ]
    );
    let mut by_subsidiary = AgingRequest::new(date("2026-05-31"));
    by_subsidiary.group_by = GroupBy::Subsidiary;
    assert_eq!(
        lines(&aging::report(pool, &by_subsidiary).await.unwrap()),
        vec![
            row(
                "SUB-1",
                ["0.00", "0.00", "0.00", "500.00", "400.00", "0.00"],
                "0.00"
            ),
            row(
                "SUB-2",
                ["0.00", "0.00", "0.00", "0.00", "0.00", "0.00"],
                "200.00"
            ),
        ]
    );
    // Custom edges and a filter: A alone, buckets current / 1-60 / 61-100 / over 100.
    let mut custom = AgingRequest::new(date("2026-05-31"))
        .with_edges(vec![60, 100])
        .unwrap();
    custom.customer = Some(receivables_domain::CustomerId::parse("A").unwrap());
    let report = aging::report(pool, &custom).await.unwrap();
    assert_eq!(report.len(), 1);
    let cny = Currency::parse("CNY").unwrap();
    let money = |text: &str| Money::positive(text, cny).unwrap_or(Money::zero(cny));
    assert_eq!(
        report[0].buckets,
        vec![money("0"), money("0"), money("500"), money("400")]
    );
    assert_eq!(report[0].open_total, money("900"));

    running.stop().await;
    service.stop().await;
    database.remove().await;
}

async fn a_projector_resumes_from_its_checkpoint_and_equals_a_rebuild(engine: Engine) {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(resumed) = TestReadModel::create(engine).await else {
        return;
    };
    let Some(rebuilt) = TestReadModel::create(engine).await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let log = open_log(&nats).await;
    let first_part = post_history(&service).await;

    // Apply the first part in two batches, the second overlapping the first: events at or below
    // the checkpoint are skipped.
    let mut feed = log.follow(Position::ZERO).await.unwrap();
    let mut events = Vec::new();
    use futures::StreamExt;
    while events.len() < usize::try_from(first_part.get()).unwrap() {
        events.push(feed.next().await.unwrap().unwrap());
    }
    let projector = Projector::new(Arc::clone(&log), resumed.read.clone())
        .await
        .unwrap();
    assert_eq!(
        projector.apply_batch(&events[..3]).await.unwrap(),
        Position::new(3)
    );
    assert_eq!(
        projector.apply_batch(&events[1..]).await.unwrap(),
        first_part
    );
    drop(projector);

    // More history, then a new projector on the same database resumes from its checkpoint.
    let mut client = service.client().await;
    client
        .change_credit_limit(credit_limit(
            "A",
            "5000",
            receivables_api::pb::CreditPolicy::Warn,
        ))
        .await
        .unwrap();
    let last = client
        .record_promise_to_pay(promise("A", "SUB-1", "400", "2026-06-01", "2026-06-15"))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap()
        .position;
    let last = Position::new(last);
    for database in [&resumed, &rebuilt] {
        let running = RunningProjector::follow(Arc::clone(&log), database.read.clone()).await;
        assert!(
            running
                .projector
                .wait_for(last, Duration::from_secs(10))
                .await
        );
        running.stop().await;
    }
    let (a, b) = (
        read_model_rows_of(&resumed.read).await,
        read_model_rows_of(&rebuilt.read).await,
    );
    // 4 invoices, 2 payments, 3 allocations, the latest credit terms, 1 promise, the change
    // of credit terms in their history, a checkpoint per projection (ledger, customers,
    // receipts, moments), one document key per invoice (INV-A1 is only "INVA1": its other
    // forms, "A1" and "1", are shorter than a key's five letters and digits), the moment of
    // each of the 8 events, and where the kept history starts.
    assert_eq!(
        a.len(),
        4 + 2 + 3 + 1 + 1 + 1 + 4 + 4 + 8 + 1,
        "every row is there: {a:#?}"
    );
    assert_eq!(a, b, "resumed and rebuilt read models differ");
    service.stop().await;
    resumed.remove().await;
    rebuilt.remove().await;
}

on_both_engines!(
    aging_as_of_past_and_present_dates_matches_figures_worked_out_by_hand,
    a_projector_resumes_from_its_checkpoint_and_equals_a_rebuild,
);
