//! The all-in-one service (`receivables serve`) over real gRPC, each case on both backend pairs:
//! the embedded SQLite event log and read model, and NATS JetStream with PostgreSQL. Append,
//! idempotent retry, refusals that append nothing, read-your-writes with `min_position`, a
//! rebuild, and a restart on the same data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_tests::*;
use tonic::Code;

/// The group aging as of `as_of`, once the read model has applied `position`: one line per
/// currency as (currency, bucket amounts, open total, unapplied).
async fn group_aging(
    service: &TestAllInOne,
    as_of: &str,
    position: u64,
) -> Vec<(String, Vec<String>, String, String)> {
    let report = service
        .queries()
        .await
        .get_aging_report(pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: as_of.to_owned(),
                ..Default::default()
            }),
            group_by: pb::AgingGroupBy::Group.into(),
            min_position: position,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(report.position >= position, "read your writes");
    report
        .lines
        .into_iter()
        .map(|line| {
            (
                line.currency,
                line.buckets
                    .into_iter()
                    .map(|b| b.amount.unwrap().amount)
                    .collect(),
                line.open_total.unwrap().amount,
                line.unapplied.unwrap().amount,
            )
        })
        .collect()
}

fn receipt_position(receipt: Option<pb::CommandReceipt>) -> u64 {
    receipt.expect("a receipt").position
}

/// The history of the cases: two customers at two subsidiaries.
///
/// - A: INV-1 1000.00 issued 03-01 due 03-31; INV-2 500.00 issued 04-01 due 05-01.
/// - B: limit 2000.00 BLOCK; INV-3 1500.00 issued 04-10 due 05-10.
/// - A pays 1200.00 on 05-05, oldest due first: INV-1 1000.00, INV-2 200.00 (300.00 left).
///
/// Positions 1 to 5 in that order.
async fn post_history(service: &TestAllInOne) -> u64 {
    let mut commands = service.commands().await;
    let mut last = 0;
    for request in [
        invoice("A", "SUB-1", "INV-1", "1000.00", "2026-03-01", "2026-03-31"),
        invoice("A", "SUB-1", "INV-2", "500.00", "2026-04-01", "2026-05-01"),
    ] {
        last = receipt_position(
            commands
                .issue_invoice(request)
                .await
                .unwrap()
                .into_inner()
                .receipt,
        );
    }
    last = receipt_position(
        commands
            .change_credit_limit(credit_limit("B", "2000.00", pb::CreditPolicy::Block))
            .await
            .unwrap()
            .into_inner()
            .receipt,
    )
    .max(last);
    last = receipt_position(
        commands
            .issue_invoice(invoice(
                "B",
                "SUB-2",
                "INV-3",
                "1500.00",
                "2026-04-10",
                "2026-05-10",
            ))
            .await
            .unwrap()
            .into_inner()
            .receipt,
    )
    .max(last);
    last = receipt_position(
        commands
            .record_payment(payment("A", "SUB-1", "1200.00", "2026-05-05"))
            .await
            .unwrap()
            .into_inner()
            .receipt,
    )
    .max(last);
    last
}

/// As of 05-31 (edges 30/60/90/120): INV-2 300.00 open, due 05-01, 30 days: bucket 1-30;
/// INV-3 1500.00 due 05-10, 21 days: bucket 1-30. Group: 1-30 = 1800.00, open 1800.00, no
/// unapplied cash.
fn expected_may_aging() -> Vec<(String, Vec<String>, String, String)> {
    vec![(
        "CNY".to_owned(),
        ["0.00", "1800.00", "0.00", "0.00", "0.00", "0.00"]
            .map(str::to_owned)
            .to_vec(),
        "1800.00".to_owned(),
        "0.00".to_owned(),
    )]
}

async fn appends_are_read_back_with_min_position(backends: Backends) {
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let last = post_history(&service).await;
    assert_eq!(last, 5, "one event per accepted command, positions 1 to 5");
    assert_eq!(
        group_aging(&service, "2026-05-31", last).await,
        expected_may_aging()
    );
    // As of 03-15 only INV-1 is issued, not yet due, and nothing is paid yet.
    assert_eq!(
        group_aging(&service, "2026-03-15", last).await,
        vec![(
            "CNY".to_owned(),
            ["1000.00", "0.00", "0.00", "0.00", "0.00", "0.00"]
                .map(str::to_owned)
                .to_vec(),
            "1000.00".to_owned(),
            "0.00".to_owned(),
        )]
    );
    service.stop().await;
    data.remove().await;
}

async fn a_retry_is_answered_once_and_refusals_append_nothing(backends: Backends) {
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let last = post_history(&service).await;
    let mut commands = service.commands().await;

    // The same command twice: the first reply again, marked replayed, nothing appended.
    let request = invoice("A", "SUB-1", "INV-4", "10.00", "2026-05-20", "2026-06-19");
    let first = commands
        .issue_invoice(request.clone())
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    assert_eq!(first.position, last + 1);
    assert!(!first.replayed);
    let again = commands
        .issue_invoice(request.clone())
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    assert_eq!(
        (again.position, again.event_id.as_str(), again.replayed),
        (first.position, first.event_id.as_str(), true)
    );
    // The same id with other content is refused.
    let mut changed = request.clone();
    changed.amount = cny("11.00");
    let refused = commands.issue_invoice(changed).await.unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);

    // B's limit is 2000.00 BLOCK with 1500.00 open: 600.00 more is refused with the figures.
    let refused = commands
        .issue_invoice(invoice(
            "B",
            "SUB-2",
            "INV-5",
            "600.00",
            "2026-05-20",
            "2026-06-19",
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let details = tonic_types::StatusExt::get_error_details(&refused);
    assert_eq!(
        details.error_info().unwrap().reason,
        "CREDIT_LIMIT_EXCEEDED"
    );
    // An invoice number is unique per subsidiary across customers.
    let refused = commands
        .issue_invoice(invoice(
            "B",
            "SUB-1",
            "INV-1",
            "5.00",
            "2026-05-20",
            "2026-06-19",
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);

    // Nothing was appended by the refusals or the retry: the next event follows INV-4.
    let next = commands
        .record_promise_to_pay(promise("A", "SUB-1", "100.00", "2026-05-20", "2026-06-01"))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    assert_eq!(next.position, first.position + 1);
    service.stop().await;
    data.remove().await;
}

async fn a_rebuild_answers_the_same_and_a_restart_keeps_everything(backends: Backends) {
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let last = post_history(&service).await;
    let before = group_aging(&service, "2026-05-31", last).await;
    assert_eq!(before, expected_may_aging());

    let rebuilt = service
        .admin()
        .await
        .rebuild_read_model(pb::RebuildReadModelRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (rebuilt.retired_generation, rebuilt.live_generation),
        (1, 2)
    );
    assert_eq!(group_aging(&service, "2026-05-31", last).await, before);
    service.stop().await;

    // Restarted on the same data: the log and the rebuilt read model are there, and positions
    // go on from where they were.
    let service = TestAllInOne::start(&data).await;
    assert_eq!(group_aging(&service, "2026-05-31", last).await, before);
    let next = service
        .commands()
        .await
        .issue_invoice(invoice(
            "A",
            "SUB-1",
            "INV-6",
            "250.00",
            "2026-05-30",
            "2026-06-29",
        ))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    assert_eq!(next.position, last + 1);
    // INV-6 is current on 05-31: the current bucket and the total grow by 250.00.
    let after = group_aging(&service, "2026-05-31", next.position).await;
    assert_eq!(
        after[0].1,
        ["250.00", "1800.00", "0.00", "0.00", "0.00", "0.00"].map(str::to_owned)
    );
    assert_eq!(after[0].2, "2050.00");
    service.stop().await;
    data.remove().await;
}

on_both_backends!(
    appends_are_read_back_with_min_position,
    a_retry_is_answered_once_and_refusals_append_nothing,
    a_rebuild_answers_the_same_and_a_restart_keeps_everything,
);
