//! The query service over gRPC: read-your-writes with `min_position`, paging through open items,
//! and bad queries refused with precise errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use receivables_api::pb;
use receivables_tests::*;
use tonic::Code;
use tonic_types::StatusExt;

fn scope(as_of: &str) -> Option<pb::AgingScope> {
    Some(pb::AgingScope {
        as_of: as_of.to_owned(),
        ..Default::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_query_with_min_position_sees_the_command_just_accepted() {
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
    let mut read = queries.client().await;

    for round in 1..=5 {
        let receipt = write
            .issue_invoice(invoice(
                "C-1",
                "SUB-1",
                &format!("INV-{round}"),
                "100",
                "2026-05-01",
                "2026-05-31",
            ))
            .await
            .unwrap()
            .into_inner()
            .receipt
            .unwrap();
        // Right after the command: the report must already hold it.
        let report = read
            .get_aging_report(pb::GetAgingReportRequest {
                scope: scope("2026-06-15"),
                group_by: pb::AgingGroupBy::Customer.into(),
                min_position: receipt.position,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(report.position >= receipt.position);
        let line = &report.lines[0];
        // 2026-05-31 to 2026-06-15 is 15 days: bucket 1-30.
        assert_eq!(line.buckets[1].label, "1-30");
        assert_eq!(
            line.buckets[1].amount.as_ref().unwrap().amount,
            format!("{}.00", 100 * round)
        );
        assert_eq!(
            line.open_total.as_ref().unwrap().amount,
            format!("{}.00", 100 * round)
        );
    }

    // A position the log has not reached: the call's deadline passes first.
    let mut request = tonic::Request::new(pb::GetAgingReportRequest {
        scope: scope("2026-06-15"),
        group_by: 0,
        min_position: 1_000,
    });
    request.set_timeout(Duration::from_millis(300));
    let status = read.get_aging_report(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    let info = status.get_error_details().error_info().cloned().unwrap();
    assert_eq!(info.reason, "PROJECTION_BEHIND");
    assert_eq!(info.metadata["applied_position"], "5");

    queries.stop().await;
    commands.stop().await;
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_items_page_through_a_bucket() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let commands = TestService::start(&nats.url()).await;
    let queries = TestQueryService::start(&nats.url(), &database).await;
    let mut write = commands.client().await;
    // As of 2026-06-30: INV-1 and INV-2 are 31-60 days past due (due 05-20, 05-25), INV-3 is
    // 1-30 (due 06-10), INV-4 is not due (07-15).
    let mut last = 0;
    for (number, due) in [
        ("INV-1", "2026-05-20"),
        ("INV-2", "2026-05-25"),
        ("INV-3", "2026-06-10"),
        ("INV-4", "2026-07-15"),
    ] {
        last = write
            .issue_invoice(invoice("C-1", "SUB-1", number, "100", "2026-04-01", due))
            .await
            .unwrap()
            .into_inner()
            .receipt
            .unwrap()
            .position;
    }
    let mut read = queries.client().await;
    let page = |bucket: Option<u32>, page_size: u32, page_token: String| pb::ListOpenItemsRequest {
        scope: scope("2026-06-30"),
        bucket,
        page_size,
        page_token,
        min_position: last,
    };
    let numbers = |items: &[pb::OpenItem]| {
        items
            .iter()
            .map(|i| i.invoice.as_ref().unwrap().invoice_number.clone())
            .collect::<Vec<_>>()
    };
    let first = read
        .list_open_items(page(None, 3, String::new()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(numbers(&first.items), vec!["INV-1", "INV-2", "INV-3"]);
    assert_eq!(first.items[0].days, 41, "due 05-20, 41 days before 06-30");
    assert!(!first.next_page_token.is_empty());
    let second = read
        .list_open_items(page(None, 3, first.next_page_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(numbers(&second.items), vec!["INV-4"]);
    assert_eq!(second.items[0].days, -15);
    assert!(second.next_page_token.is_empty());

    let bucket = read
        .list_open_items(page(Some(2), 1, String::new()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(numbers(&bucket.items), vec!["INV-1"]);
    let bucket = read
        .list_open_items(page(Some(2), 1, bucket.next_page_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(numbers(&bucket.items), vec!["INV-2"]);
    assert!(
        bucket.next_page_token.is_empty(),
        "the bucket has two items"
    );
    let current = read
        .list_open_items(page(Some(0), 10, String::new()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(numbers(&current.items), vec!["INV-4"]);

    queries.stop().await;
    commands.stop().await;
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_queries_are_refused_with_the_field_named() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let commands = TestService::start(&nats.url()).await;
    let queries = TestQueryService::start(&nats.url(), &database).await;
    let mut read = queries.client().await;

    async fn field_of(status: tonic::Status) -> Vec<String> {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        status
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations
            .iter()
            .map(|v| v.field.clone())
            .collect()
    }
    let aging = |scope: pb::AgingScope, group_by: i32| pb::GetAgingReportRequest {
        scope: Some(scope),
        group_by,
        min_position: 0,
    };
    let cases: Vec<(pb::AgingScope, i32, Vec<&str>)> = vec![
        (
            pb::AgingScope {
                as_of: "2026-02-30".into(),
                ..Default::default()
            },
            0,
            vec!["scope.as_of"],
        ),
        (
            pb::AgingScope {
                as_of: "30/06/2026".into(),
                ..Default::default()
            },
            0,
            vec!["scope.as_of"],
        ),
        (
            pb::AgingScope {
                bucket_edges_days: vec![60, 30],
                ..Default::default()
            },
            0,
            vec!["scope.bucket_edges_days"],
        ),
        (
            pb::AgingScope {
                bucket_edges_days: vec![0, 30],
                ..Default::default()
            },
            0,
            vec!["scope.bucket_edges_days"],
        ),
        (
            pb::AgingScope {
                customer_id: "a.b".into(),
                ..Default::default()
            },
            0,
            vec!["scope.customer_id"],
        ),
        (
            pb::AgingScope {
                currency: "XYZ".into(),
                ..Default::default()
            },
            0,
            vec!["scope.currency"],
        ),
        (
            pb::AgingScope {
                basis: 9,
                ..Default::default()
            },
            0,
            vec!["scope.basis"],
        ),
        (pb::AgingScope::default(), 7, vec!["group_by"]),
        (
            pb::AgingScope {
                as_of: "x".into(),
                subsidiary_id: "S 1".into(),
                ..Default::default()
            },
            0,
            vec!["scope.as_of", "scope.subsidiary_id"],
        ),
    ];
    for (scope, group_by, fields) in cases {
        let status = read
            .get_aging_report(aging(scope, group_by))
            .await
            .unwrap_err();
        assert_eq!(field_of(status).await, fields);
    }
    for (page_size, page_token, bucket, field) in [
        (5_000, String::new(), None, "page_size"),
        (10, "not-a-token".to_owned(), None, "page_token"),
        (10, String::new(), Some(9), "bucket"),
    ] {
        let status = read
            .list_open_items(pb::ListOpenItemsRequest {
                scope: scope("2026-06-30"),
                bucket,
                page_size,
                page_token,
                min_position: 0,
            })
            .await
            .unwrap_err();
        assert_eq!(field_of(status).await, vec![field]);
    }
    // A well-formed customer that does not exist has nothing open: an empty report.
    let report = read
        .get_aging_report(aging(
            pb::AgingScope {
                customer_id: "NOBODY".into(),
                ..Default::default()
            },
            0,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(report.lines.is_empty());

    queries.stop().await;
    commands.stop().await;
    database.drop_database().await;
}

/// Three customers as of 2026-06-30, every figure worked out by hand:
/// - K1, limit 5000.00 WARN: K1-1 3000.00 due 05-01 (60 days late), K1-2 3000.00 due 07-01;
///   1000.00 paid on 06-15 goes to K1-1 (oldest due), leaving 2000.00 overdue. Exposure
///   2000 + 3000 = 5000.00, utilisation 1, not over (5000 is not above 5000), available 0.00.
/// - K2, no limit: K2-1 800.00 due 03-31 (91 days late); a promise of 400.00 for 04-20 with no
///   payment is broken (window closed 04-23).
/// - K3, limit 1000.00 BLOCK: K3-1 500.00 due 06-20 (10 days late); a promise of 500.00 for
///   07-05 made on 06-25 is open and snoozes K3 until 07-06. Utilisation 0.5.
///
/// Work queue (score = 0.001 x overdue + 1 x days + 25 x broken or partially kept promises):
/// K2: 0.8 + 91 + 25 = 116.8, legal or agency; K1: 2 + 60 + 0 = 62, demand letter; K3 snoozed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exposure_promises_and_the_work_queue_over_grpc() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let commands = TestService::start(&nats.url()).await;
    let queries = TestQueryService::start(&nats.url(), &database).await;
    let mut write = commands.client().await;
    write
        .change_credit_limit(credit_limit("K1", "5000", pb::CreditPolicy::Warn))
        .await
        .unwrap();
    write
        .change_credit_limit(credit_limit("K3", "1000", pb::CreditPolicy::Block))
        .await
        .unwrap();
    // K2's collector, whom the work queue names (whoever recorded its promises).
    write
        .assign_collector(pb::AssignCollectorRequest {
            command_id: command_id(),
            customer_id: "K2".to_owned(),
            default_for_subsidiary_id: String::new(),
            collector: "Wang Fang".to_owned(),
        })
        .await
        .unwrap();
    for request in [
        invoice("K1", "SUB-1", "K1-1", "3000", "2026-04-01", "2026-05-01"),
        invoice("K1", "SUB-1", "K1-2", "3000", "2026-06-01", "2026-07-01"),
        invoice("K2", "SUB-1", "K2-1", "800", "2026-03-01", "2026-03-31"),
        invoice("K3", "SUB-2", "K3-1", "500", "2026-06-01", "2026-06-20"),
    ] {
        write.issue_invoice(request).await.unwrap();
    }
    write
        .record_payment(payment("K1", "SUB-1", "1000", "2026-06-15"))
        .await
        .unwrap();
    write
        .record_promise_to_pay(promise("K2", "SUB-1", "400", "2026-04-05", "2026-04-20"))
        .await
        .unwrap();
    let last = write
        .record_promise_to_pay(promise("K3", "SUB-2", "500", "2026-06-25", "2026-07-05"))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap()
        .position;
    let mut read = queries.client().await;
    let amount = |money: &Option<pb::Money>| money.as_ref().unwrap().amount.clone();

    let k1 = read
        .get_exposure(pb::GetExposureRequest {
            customer_id: "K1".into(),
            as_of: "2026-06-30".into(),
            min_position: last,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(k1.lines.len(), 1);
    let line = &k1.lines[0];
    assert_eq!(amount(&line.limit), "5000.00");
    assert_eq!(line.policy(), pb::CreditPolicy::Warn);
    assert_eq!(amount(&line.open), "5000.00");
    assert_eq!(amount(&line.exposure), "5000.00");
    assert_eq!(amount(&line.overdue), "2000.00");
    assert_eq!(amount(&line.available), "0.00");
    assert_eq!(line.utilisation.parse::<f64>().unwrap().to_string(), "1");
    assert!(!line.over_limit);
    assert_eq!(line.oldest_days_past_due, Some(60));
    assert_eq!(line.last_payment_date, "2026-06-15");

    let status = read
        .get_exposure(pb::GetExposureRequest {
            customer_id: "NOBODY".into(),
            as_of: "2026-06-30".into(),
            min_position: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let list = read
        .list_exposures(pb::ListExposuresRequest {
            as_of: "2026-06-30".into(),
            sort: pb::ExposureSort::Utilisation.into(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let customers: Vec<&str> = list.lines.iter().map(|l| l.customer_id.as_str()).collect();
    assert_eq!(customers, vec!["K1", "K3"], "highest utilisation first");
    let rest = read
        .list_exposures(pb::ListExposuresRequest {
            as_of: "2026-06-30".into(),
            sort: pb::ExposureSort::Utilisation.into(),
            page_size: 2,
            page_token: list.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let customers: Vec<&str> = rest.lines.iter().map(|l| l.customer_id.as_str()).collect();
    assert_eq!(customers, vec!["K2"], "no limit, no utilisation: last");
    assert!(rest.next_page_token.is_empty());

    let queue = read
        .get_work_queue(pb::GetWorkQueueRequest {
            as_of: "2026-06-30".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let items: Vec<(&str, &str, pb::EscalationLevel, &str)> = queue
        .items
        .iter()
        .map(|i| {
            (
                i.customer_id.as_str(),
                i.score.as_str(),
                i.escalation(),
                i.collector.as_str(),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            (
                "K2",
                "116.8",
                pb::EscalationLevel::LegalOrAgency,
                "Wang Fang"
            ),
            ("K1", "62", pb::EscalationLevel::DemandLetter, ""),
        ]
    );
    assert_eq!(queue.items[0].broken_promises, 1);
    assert_eq!(queue.items[0].days_past_due, 91);
    let snoozed = read
        .get_work_queue(pb::GetWorkQueueRequest {
            as_of: "2026-06-30".into(),
            include_snoozed: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let k3 = snoozed
        .items
        .iter()
        .find(|i| i.customer_id == "K3")
        .unwrap();
    assert_eq!(k3.snoozed_until, "2026-07-06");
    assert_eq!(k3.escalation(), pb::EscalationLevel::Reminder);

    let k2_promises = read
        .list_promises(pb::ListPromisesRequest {
            customer_id: "K2".into(),
            as_of: "2026-06-30".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .promises;
    assert_eq!(k2_promises.len(), 1);
    assert_eq!(k2_promises[0].status(), pb::PromiseStatus::Broken);
    assert_eq!(amount(&k2_promises[0].paid), "0.00");
    assert_eq!(k2_promises[0].window_end, "2026-04-23");
    let k3_open = read
        .list_promises(pb::ListPromisesRequest {
            customer_id: "K3".into(),
            status: pb::PromiseStatus::Open.into(),
            as_of: "2026-06-30".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .promises;
    assert_eq!(k3_open.len(), 1);

    // Bad requests name their field.
    let status = read
        .get_work_queue(pb::GetWorkQueueRequest {
            weights: Some(pb::WorkQueueWeights {
                days: "-1".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "weights.days"
    );
    let status = read
        .list_exposures(pb::ListExposuresRequest {
            page_size: 1001,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        status
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "page_size"
    );

    queries.stop().await;
    commands.stop().await;
    database.drop_database().await;
}
