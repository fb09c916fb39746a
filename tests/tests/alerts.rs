//! Early-warning alerts (`WatchAlerts`, `SetAlertThresholds`): a scripted history posted to
//! `receivables serve` on both backend pairs, the service restarted on later business dates,
//! a client disconnected and resumed in the middle; and the split deployment (`serve-commands`,
//! `serve-queries`) restarted, with the alerts published on NATS. Every alert is worked out by
//! hand below.
//!
//! Thresholds: the group's overdue rate 30 %, DSO 100 days, utilisation 100 %, 45 days past due,
//! unapplied cash above 5,000.00 CNY for more than 10 days, disputes 7 days before expiry; S1's
//! own overdue rate 50 % and DSO 200 days. Every invoice is S1's, every amount CNY.
//!
//! History (posted while the business date is 2026-01-15, before anything it records):
//! - K1: limit 10,000.00 WARN; K1-1 8,000.00 issued 06-01 due 07-01; K1-2 4,000.00 issued 06-05
//!   due 07-05, accepted over the limit (exposure 12,000.00).
//! - K2: K2-1 3,000.00 issued 04-01 due 05-01; a promise of 3,000.00 made 06-01 for 06-05,
//!   nothing paid (the window closes 06-08 with the default 3 days' grace).
//! - K3: K3-1 2,000.00 issued 03-01 due 03-31, all of it disputed from 05-01 until resolved:
//!   paused, never alerted.
//! - K4: 6,000.00 received 05-20 with nothing to pay: unapplied cash.
//! - K5: K5-1 1,000.00 issued 06-01 due 07-01, 500.00 of it disputed from 06-02 to 06-14.
//! - K6: K6-1 6,000.00 issued 02-01 due 03-03; a plan agreed 05-01: 2,000.00 each on 05-15,
//!   06-05 and 07-05; 2,000.00 received 05-15 (the first instalment).
//! - K7: K7-1 1,000.00 issued 02-01 due 03-10.
//!
//! Business date 2026-01-15: only the invoice over the limit (an event, not a date, raises it):
//! 1. invoice_over_limit/K1/S1/K1-2, at K1-2's position.
//!
//! Business date 2026-06-10, at the history's last position:
//! 2. utilisation/K1/2026-06-10: 12,000 / 10,000 = 120 % > 100 %.
//! 3. aged_31_60/K2/2026-06-01: due 05-01, 40 days past due, entered on 05-01 + 31.
//! 4. promise_broken/K2/<promise>: 0.00 of 3,000.00 paid by 06-08.
//! 5. dispute_expiring/K5/<dispute>: holds until 06-14, 4 days away (<= 7).
//! 6. unapplied_cash/K4/CNY/2026-05-20: 6,000 > 5,000 since 05-20, 21 days > 10.
//! 7. instalment_missed/K6/<plan>/2: 2,000.00 due 06-05 unpaid (the first was paid).
//! 8. aged_over_90/K7/2026-06-09: due 03-10, 92 days, entered on 03-10 + 91.
//! 9. days_past_due/K7/2026-04-25: 92 > 45 days, crossed on 03-10 + 46.
//! 10. overdue_rate/_group/_group/CNY/2026-06-10: open 8,000 + 4,000 + 3,000 + 2,000 + 1,000 +
//!     4,000 + 1,000 = 23,000.00, overdue K2 3,000 + K3 2,000 + K6's second row 2,000 + K7
//!     1,000 = 8,000.00: 34.78 % > 30 % (S1: 34.78 % <= its own 50 %).
//! 11. dso/_group/_group/CNY/2026-06-10: credit sales 03-13..06-10 (90 days) 8,000 + 4,000 +
//!     3,000 + 1,000 = 16,000.00; 23,000 × 90 / 16,000 = 129.375, 129.38 > 100 (S1: <= 200).
//!     K3 is 71 days past due but wholly disputed: no aging alert.
//!
//! Business date 2026-07-15 (nothing posted since):
//! 12. aged_61_90/K2/2026-07-01: 75 days, entered on 05-01 + 61.
//! 13. days_past_due/K2/2026-06-16: 75 > 45, crossed on 05-01 + 46.
//! 14. aged_31_60/K6/2026-07-06: the 06-05 row is 40 days past due.
//! 15. instalment_missed/K6/<plan>/3: 2,000.00 due 07-05 unpaid.
//! 16. overdue_rate/_group/S1/CNY/2026-07-15: everything (23,000.00) is overdue: 100 % > S1's
//!     50 %. The group's overdue rate, DSO (23,000 × 90 / 13,000 = 159.23, under S1's 200),
//!     K1's utilisation, K4's unapplied cash and K7 go on: nothing new. K5's dispute has
//!     expired and its invoice is 14 days past due: nothing. K3 is still paused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt as _;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::metrics_service_client::MetricsServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_domain::testing::date;
use receivables_tests::*;
use tonic::Code;
use tonic::transport::Channel;

type Write = CommandServiceClient<Channel>;
type Watch = MetricsServiceClient<Channel>;

on_both_backends!(each_alert_once_across_dates_restarts_and_a_resumed_client);

/// How long a test waits for alerts it expects.
const ALERT_WAIT: Duration = Duration::from_secs(30);

/// How long a test watches for alerts it does not expect, after the expected ones came.
const QUIET: Duration = Duration::from_millis(1_500);

const D0: &str = "2026-01-15";
const D1: &str = "2026-06-10";
const D2: &str = "2026-07-15";

/// What the alerts name of the history: the promise, dispute and plan (by the command ids that
/// became theirs), and the positions of the invoice over the limit and of the last event.
struct Ids {
    promise: String,
    dispute: String,
    plan: String,
    over_limit_position: u64,
    last_position: u64,
}

async fn thresholds(write: &mut Write) {
    write
        .set_alert_thresholds(pb::SetAlertThresholdsRequest {
            command_id: command_id(),
            subsidiary_id: String::new(),
            thresholds: Some(pb::AlertThresholds {
                overdue_rate_percent: "30".to_owned(),
                dso_days: Some(100),
                utilisation_percent: "100".to_owned(),
                days_past_due: Some(45),
                unapplied_cash: cny("5000"),
                unapplied_cash_days: Some(10),
                dispute_expiry_days: Some(7),
            }),
            reason: "group credit policy".to_owned(),
            approved_by: "Chen Jing".to_owned(),
        })
        .await
        .unwrap();
    write
        .set_alert_thresholds(pb::SetAlertThresholdsRequest {
            command_id: command_id(),
            subsidiary_id: "S1".to_owned(),
            thresholds: Some(pb::AlertThresholds {
                overdue_rate_percent: "50".to_owned(),
                dso_days: Some(200),
                ..Default::default()
            }),
            reason: "S1 sells on long terms".to_owned(),
            approved_by: "Chen Jing".to_owned(),
        })
        .await
        .unwrap();
}

/// K1's limit of 10,000.00 under WARN, K1-1 8,000.00 and K1-2 4,000.00 (over the limit): the
/// reply to K1-2.
async fn k1_over_its_limit(write: &mut Write) -> pb::IssueInvoiceResponse {
    write
        .change_credit_limit(credit_limit("K1", "10000", pb::CreditPolicy::Warn))
        .await
        .unwrap();
    write
        .issue_invoice(invoice(
            "K1",
            "S1",
            "K1-1",
            "8000",
            "2026-06-01",
            "2026-07-01",
        ))
        .await
        .unwrap();
    let over = write
        .issue_invoice(invoice(
            "K1",
            "S1",
            "K1-2",
            "4000",
            "2026-06-05",
            "2026-07-05",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(over.over_limit, "K1-2 goes over K1's limit under WARN");
    over
}

async fn history(write: &mut Write) -> Ids {
    thresholds(write).await;
    let over = k1_over_its_limit(write).await;
    for (customer, number, amount, issued, due) in [
        ("K2", "K2-1", "3000", "2026-04-01", "2026-05-01"),
        ("K3", "K3-1", "2000", "2026-03-01", "2026-03-31"),
        ("K5", "K5-1", "1000", "2026-06-01", "2026-07-01"),
        ("K6", "K6-1", "6000", "2026-02-01", "2026-03-03"),
        ("K7", "K7-1", "1000", "2026-02-01", "2026-03-10"),
    ] {
        write
            .issue_invoice(invoice(customer, "S1", number, amount, issued, due))
            .await
            .unwrap();
    }
    let promised = promise("K2", "S1", "3000", "2026-06-01", "2026-06-05");
    let promise_id = promised.command_id.clone();
    write.record_promise_to_pay(promised).await.unwrap();
    let dispute =
        |number: &str, amount: &str, opened: &str, expires: &str| pb::OpenDisputeRequest {
            command_id: command_id(),
            customer_id: number[..2].to_owned(),
            invoice: invoice_ref("S1", number),
            amount: cny(amount),
            reason: pb::DisputeReason::Quality.into(),
            note: String::new(),
            opened_on: opened.to_owned(),
            expires_on: expires.to_owned(),
        };
    write
        .open_dispute(dispute("K3-1", "2000", "2026-05-01", ""))
        .await
        .unwrap();
    let expiring = dispute("K5-1", "500", "2026-06-02", "2026-06-14");
    let dispute_id = expiring.command_id.clone();
    write.open_dispute(expiring).await.unwrap();
    write
        .record_payment(payment("K4", "S1", "6000", "2026-05-20"))
        .await
        .unwrap();
    let row = |due: &str| pb::ScheduleRow {
        due_date: due.to_owned(),
        amount: cny("2000"),
    };
    let plan = pb::AgreeInstalmentPlanRequest {
        command_id: command_id(),
        customer_id: "K6".to_owned(),
        invoice: invoice_ref("S1", "K6-1"),
        agreed_on: "2026-05-01".to_owned(),
        rows: vec![row("2026-05-15"), row("2026-06-05"), row("2026-07-05")],
        collector: "Wang Fang".to_owned(),
        note: String::new(),
    };
    let plan_id = plan.command_id.clone();
    write.agree_instalment_plan(plan).await.unwrap();
    let last = write
        .record_payment(payment("K6", "S1", "2000", "2026-05-15"))
        .await
        .unwrap()
        .into_inner();
    Ids {
        promise: promise_id,
        dispute: dispute_id,
        plan: plan_id,
        over_limit_position: over.receipt.unwrap().position,
        last_position: last.receipt.unwrap().position,
    }
}

/// The alerts raised so far (the stream's `no_follow`).
async fn raised(watch: &mut Watch, request: pb::WatchAlertsRequest) -> Vec<pb::Alert> {
    let request = pb::WatchAlertsRequest {
        no_follow: true,
        ..request
    };
    let mut stream = watch.watch_alerts(request).await.unwrap().into_inner();
    let mut alerts = Vec::new();
    while let Some(alert) = stream.message().await.unwrap() {
        alerts.push(alert);
    }
    alerts
}

/// The next `count` alerts of a followed stream, within [`ALERT_WAIT`].
async fn next(stream: &mut tonic::Streaming<pb::Alert>, count: usize) -> Vec<pb::Alert> {
    let mut alerts = Vec::new();
    while alerts.len() < count {
        let alert = tokio::time::timeout(ALERT_WAIT, stream.message())
            .await
            .unwrap_or_else(|_| panic!("only {} of {count} alerts came: {alerts:?}", alerts.len()))
            .unwrap()
            .expect("the stream went on");
        alerts.push(alert);
    }
    alerts
}

/// Nothing more comes on a followed stream for [`QUIET`].
async fn quiet(stream: &mut tonic::Streaming<pb::Alert>) {
    if let Ok(more) = tokio::time::timeout(QUIET, stream.message()).await {
        panic!("an alert nobody expected: {more:?}");
    }
}

fn follow(after: u64) -> pb::WatchAlertsRequest {
    pb::WatchAlertsRequest {
        after_seq: after,
        ..Default::default()
    }
}

async fn open(watch: &mut Watch, after: u64) -> tonic::Streaming<pb::Alert> {
    watch
        .watch_alerts(follow(after))
        .await
        .unwrap()
        .into_inner()
}

fn ids(alerts: &[pb::Alert]) -> Vec<String> {
    let mut ids: Vec<String> = alerts.iter().map(|alert| alert.id.clone()).collect();
    ids.sort();
    ids
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

fn seqs(alerts: &[pb::Alert]) -> Vec<u64> {
    alerts.iter().map(|alert| alert.seq).collect()
}

fn find<'a>(alerts: &'a [pb::Alert], id: &str) -> &'a pb::Alert {
    alerts
        .iter()
        .find(|alert| alert.id == id)
        .unwrap_or_else(|| panic!("no alert {id} in {alerts:?}"))
}

async fn start(data: &TestData, business_date: &str) -> TestAllInOne {
    let mut args = data.args("127.0.0.1:0".parse().unwrap());
    args.alerts.business_date = Some(date(business_date));
    args.shutdown_grace_secs = 5;
    TestAllInOne::start_with(&args).await
}

/// Waits until the read model has applied `position`.
async fn caught_up(read: &mut QueryServiceClient<Channel>, position: u64) {
    read.get_aging_report(pb::GetAgingReportRequest {
        min_position: position,
        ..Default::default()
    })
    .await
    .unwrap();
}

async fn each_alert_once_across_dates_restarts_and_a_resumed_client(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };

    // Given the history posted on a business date before anything it records
    let service = start(&data, D0).await;
    let mut write = service.commands().await;
    let ids_of = history(&mut write).await;
    let mut watch = MetricsServiceClient::new(service.channel().await);
    let mut followed = open(&mut watch, 0).await;
    // Then only the invoice accepted over the limit is alerted, at its own position
    let first = next(&mut followed, 1).await;
    assert_eq!(ids(&first), ["invoice_over_limit/K1/S1/K1-2"]);
    assert_eq!(first[0].seq, 1);
    assert_eq!(first[0].position, ids_of.over_limit_position);
    assert_eq!(first[0].raised_on, D0);
    assert_eq!(first[0].subsidiary_id, "S1");
    caught_up(&mut service.queries().await, ids_of.last_position).await;
    quiet(&mut followed).await;

    // When the service stops, the followed stream ends with it
    service.stop().await;
    let ended = tokio::time::timeout(ALERT_WAIT, followed.message()).await;
    assert!(
        matches!(ended, Ok(Ok(None)) | Ok(Err(_))),
        "the stream ends when the service stops: {ended:?}"
    );

    // And it comes back on 2026-06-10: the client resumes after the one it saw
    let service = start(&data, D1).await;
    let mut watch = MetricsServiceClient::new(service.channel().await);
    let mut followed = open(&mut watch, 1).await;
    let mut second = next(&mut followed, 4).await;
    // The client goes away in the middle and comes back after the fourth
    drop(followed);
    let mut followed = open(&mut watch, second[3].seq).await;
    second.extend(next(&mut followed, 6).await);
    quiet(&mut followed).await;
    let expected_d1 = [
        "utilisation/K1/2026-06-10".to_owned(),
        "aged_31_60/K2/2026-06-01".to_owned(),
        format!("promise_broken/K2/{}", ids_of.promise),
        format!("dispute_expiring/K5/{}", ids_of.dispute),
        "unapplied_cash/K4/CNY/2026-05-20".to_owned(),
        format!("instalment_missed/K6/{}/2", ids_of.plan),
        "aged_over_90/K7/2026-06-09".to_owned(),
        "days_past_due/K7/2026-04-25".to_owned(),
        "overdue_rate/_group/_group/CNY/2026-06-10".to_owned(),
        "dso/_group/_group/CNY/2026-06-10".to_owned(),
    ];
    assert_eq!(ids(&second), sorted(&expected_d1));
    assert_eq!(seqs(&second), (2..=11).collect::<Vec<u64>>());
    for alert in &second {
        assert_eq!(alert.raised_on, D1, "{}", alert.id);
        assert_eq!(alert.position, ids_of.last_position, "{}", alert.id);
    }
    let rate = find(&second, "overdue_rate/_group/_group/CNY/2026-06-10");
    assert_eq!(
        (rate.value.as_str(), rate.threshold.as_str()),
        ("34.78", "30")
    );
    assert_eq!(rate.subsidiary_id, "");
    let dso = find(&second, "dso/_group/_group/CNY/2026-06-10");
    assert_eq!(
        (dso.value.as_str(), dso.threshold.as_str()),
        ("129.38", "100")
    );
    let used = find(&second, "utilisation/K1/2026-06-10");
    assert_eq!(
        (used.value.as_str(), used.threshold.as_str()),
        ("120", "100")
    );
    let aged = find(&second, "aged_over_90/K7/2026-06-09");
    assert_eq!(aged.value, "92");
    let expiring = find(&second, &format!("dispute_expiring/K5/{}", ids_of.dispute));
    assert_eq!(
        (expiring.value.as_str(), expiring.threshold.as_str()),
        ("4", "7")
    );
    let unapplied = find(&second, "unapplied_cash/K4/CNY/2026-05-20");
    assert_eq!(unapplied.value, "6000.00");
    // A filtered watcher sees only what it asked for
    let of_k2 = raised(
        &mut watch,
        pb::WatchAlertsRequest {
            customer_id: "K2".to_owned(),
            kinds: vec!["promise_broken".to_owned()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        ids(&of_k2),
        [format!("promise_broken/K2/{}", ids_of.promise)]
    );

    // When the business date moves to 2026-07-15 (the service restarted on it)
    service.stop().await;
    let service = start(&data, D2).await;
    let mut watch = MetricsServiceClient::new(service.channel().await);
    let mut followed = open(&mut watch, 11).await;
    let third = next(&mut followed, 5).await;
    quiet(&mut followed).await;
    let expected_d2 = [
        "aged_61_90/K2/2026-07-01".to_owned(),
        "days_past_due/K2/2026-06-16".to_owned(),
        "aged_31_60/K6/2026-07-06".to_owned(),
        format!("instalment_missed/K6/{}/3", ids_of.plan),
        "overdue_rate/_group/S1/CNY/2026-07-15".to_owned(),
    ];
    assert_eq!(ids(&third), sorted(&expected_d2));
    assert_eq!(seqs(&third), (12..=16).collect::<Vec<u64>>());
    let s1 = find(&third, "overdue_rate/_group/S1/CNY/2026-07-15");
    assert_eq!((s1.value.as_str(), s1.threshold.as_str()), ("100", "50"));
    assert_eq!(s1.subsidiary_id, "S1");

    // Then every alert was raised once, and the paused customer never
    let all = raised(&mut watch, follow(0)).await;
    assert_eq!(seqs(&all), (1..=16).collect::<Vec<u64>>());
    let mut unique = ids(&all);
    unique.dedup();
    assert_eq!(unique.len(), 16);
    assert!(all.iter().all(|alert| alert.customer_id != "K3"), "{all:?}");

    // And bad requests are refused, every bad field named
    let refused = watch
        .watch_alerts(pb::WatchAlertsRequest {
            kinds: vec!["aged_31_60".to_owned(), "aged_121_150".to_owned()],
            customer_id: "K 1".to_owned(),
            subsidiary_id: "S.1".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&refused),
        ["kinds[1]", "customer_id", "subsidiary_id"]
    );
    let mut write = service.commands().await;
    let refused = write
        .set_alert_thresholds(pb::SetAlertThresholdsRequest {
            command_id: command_id(),
            subsidiary_id: String::new(),
            thresholds: Some(pb::AlertThresholds {
                overdue_rate_percent: "120".to_owned(),
                dso_days: Some(0),
                unapplied_cash_days: Some(5),
                dispute_expiry_days: Some(400),
                ..Default::default()
            }),
            reason: String::new(),
            approved_by: "Chen Jing".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        bad_fields(&refused),
        [
            "thresholds.unapplied_cash",
            "thresholds.overdue_rate_percent",
            "thresholds.dso_days",
            "thresholds.dispute_expiry_days",
            "reason"
        ]
    );
    service.stop().await;
    data.remove().await;
}

/// The split deployment: the command service and the query service, the query service
/// restarted under two following clients (a gRPC one that resumes by hand, the real
/// `receivables alerts --follow` that reconnects by itself) and on a later date; every alert
/// published once on `ar.alerts.<kind>.<customer>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_split_deployment_resumes_and_publishes_each_alert_once() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let commands = TestService::start(&nats.url()).await;
    let mut write = commands.client().await;
    // The query service comes back on the same address, where the CLI reconnects.
    let listen: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let queries = |date_text: &str| {
        let mut args =
            receivables::config::QueryServiceArgs::new(listen, nats.url(), database.url());
        args.alerts.business_date = Some(date(date_text));
        args.shutdown_grace_secs = 5;
        args
    };
    // Given K1 over its limit and K2's invoice 40 days past due on 06-10
    let over = k1_over_its_limit(&mut write).await;
    write
        .issue_invoice(invoice(
            "K2",
            "S1",
            "K2-1",
            "3000",
            "2026-04-01",
            "2026-05-01",
        ))
        .await
        .unwrap();
    let over_position = over.receipt.unwrap().position;

    // When the query service starts on 06-10 and a client follows
    let read = TestQueryService::start_with(queries(D1)).await;
    let mut watch =
        MetricsServiceClient::new(channel_to(&format!("http://{}", read.address)).await);
    let mut followed = open(&mut watch, 0).await;
    let mut cli = Cli::follow(
        &format!("http://{}", commands.address),
        &format!("http://{listen}"),
    );
    let mut seen = next(&mut followed, 3).await;
    // Then the three alerts of 06-10 come (utilisation 12,000 / 10,000 = 120 %)
    assert_eq!(
        ids(&seen),
        [
            "aged_31_60/K2/2026-06-01",
            "invoice_over_limit/K1/S1/K1-2",
            "utilisation/K1/2026-06-10"
        ]
    );
    assert_eq!(
        find(&seen, "invoice_over_limit/K1/S1/K1-2").position,
        over_position
    );
    let printed = cli.lines(3).await;

    // When the query service restarts on 07-15 under the following client
    read.stop().await;
    let ended = tokio::time::timeout(ALERT_WAIT, followed.message()).await;
    assert!(matches!(ended, Ok(Ok(None)) | Ok(Err(_))), "{ended:?}");
    let read = TestQueryService::start_with(queries(D2)).await;
    let mut watch =
        MetricsServiceClient::new(channel_to(&format!("http://{}", read.address)).await);
    let mut followed = open(&mut watch, seen.last().unwrap().seq).await;
    // Then only what 07-15 raises comes: K2 75 days past due; K1's two invoices 14 and 10
    seen.extend(next(&mut followed, 1).await);
    quiet(&mut followed).await;
    assert_eq!(seen[3].id, "aged_61_90/K2/2026-07-01");
    assert_eq!(seqs(&seen), [1, 2, 3, 4]);

    // And each was published once, under its kind and customer, with its id
    let mut published = Vec::new();
    for _ in 0..100 {
        published = raw_messages(&nats.url(), "RECEIVABLES_ALERTS").await;
        if published.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut subjects: Vec<(String, Option<String>, u64)> = published
        .iter()
        .map(|m| {
            (
                m.subject.clone(),
                m.msg_id.clone(),
                m.json["seq"].as_u64().unwrap(),
            )
        })
        .collect();
    subjects.sort_by_key(|(_, _, seq)| *seq);
    let expected: Vec<(String, Option<String>, u64)> = seen
        .iter()
        .map(|alert| {
            (
                format!("ar.alerts.{}.{}", alert.kind, alert.customer_id),
                Some(alert.id.clone()),
                alert.seq,
            )
        })
        .collect();
    assert_eq!(subjects, expected);

    // And a subscriber of the subjects gets the next one as it is raised
    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut subscriber = client
        .subscribe("ar.alerts.promise_broken.>")
        .await
        .unwrap();
    write
        .record_promise_to_pay(promise("K2", "S1", "3000", "2026-07-01", "2026-07-05"))
        .await
        .unwrap();
    let message = tokio::time::timeout(ALERT_WAIT, subscriber.next())
        .await
        .expect("the broken promise is published")
        .unwrap();
    assert_eq!(message.subject.as_str(), "ar.alerts.promise_broken.K2");
    let body: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(body["seq"], 5);
    assert_eq!(body["raised_on"], D2);

    // And the CLI, reconnected by itself, printed each of the five once, in order
    let mut printed = printed;
    printed.extend(cli.lines(2).await);
    let ids_printed: Vec<(u64, String)> = printed
        .iter()
        .map(|line| {
            (
                line["seq"].as_u64().unwrap(),
                line["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected: Vec<(u64, String)> = seen
        .iter()
        .map(|alert| (alert.seq, alert.id.clone()))
        .collect();
    expected.push((5, body["id"].as_str().unwrap().to_owned()));
    assert_eq!(ids_printed, expected);
    cli.quiet().await;

    drop(cli);
    read.stop().await;
    commands.stop().await;
    database.drop_database().await;
}

/// `receivables alerts --follow --format json` running as a process, its lines read as they
/// come.
struct Cli {
    child: tokio::process::Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<serde_json::Value>,
}

impl Cli {
    fn follow(server: &str, query_server: &str) -> Cli {
        use tokio::io::AsyncBufReadExt as _;
        let mut child = tokio::process::Command::new(receivables_binary())
            .args([
                "alerts",
                "--follow",
                "--format",
                "json",
                "--server",
                server,
                "--query-server",
                query_server,
            ])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the receivables binary runs");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                if sender.send(value).is_err() {
                    return;
                }
            }
        });
        Cli { child, lines }
    }

    /// The next `count` lines, within [`ALERT_WAIT`].
    async fn lines(&mut self, count: usize) -> Vec<serde_json::Value> {
        let mut lines = Vec::new();
        while lines.len() < count {
            let line = tokio::time::timeout(ALERT_WAIT, self.lines.recv())
                .await
                .unwrap_or_else(|_| panic!("the CLI printed {} of {count} lines", lines.len()))
                .expect("the CLI follows");
            lines.push(line);
        }
        lines
    }

    /// Nothing more printed for [`QUIET`].
    async fn quiet(&mut self) {
        if let Ok(more) = tokio::time::timeout(QUIET, self.lines.recv()).await {
            panic!("the CLI printed more: {more:?}");
        }
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
