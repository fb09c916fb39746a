//! The collections forecast and its backtest (`MetricsService.GetCollectionsForecast`,
//! `BacktestCollectionsForecast`), posted as real transactions to `receivables serve` on both
//! backend pairs, every weekly amount worked out by hand. Amounts CNY; invoices at SUB-SH
//! unless said; the forecast as of Monday 2026-06-01, four weeks: W1 06-01..06-07, W2
//! 06-08..06-14, W3 06-15..06-21, W4 06-22..06-28, later from 06-29.
//!
//! Habits (payments in the year before 06-01, applied to invoices):
//! - F1 (grade A) paid three invoices of 1,000, 1,000 and 2,000 two days early: delay
//!   (−2 × 4,000) / 4,000 = −2.
//! - F2 (grade C) paid 1,000 10 days late, 1,000 20 days late, 2,000 15 days late: (10,000 +
//!   20,000 + 30,000) / 4,000 = 15.
//! - F3 (grade C) never paid: its grade's average, F2's 15.
//! - F5 (grade B) paid 1,000 5 days late twice and 2,000 40 days late: (5,000 + 5,000 +
//!   80,000) / 4,000 = 22.5, rounded half away from zero: 23.
//! - F4 (grade D) never paid, nobody of grade D did: the group's, (−8,000 + 60,000 + 90,000) /
//!   12,000 = 11.83: 12.
//!
//! Open on 06-01 and where each goes:
//! - F1-1 3,000 due 06-05: 06-03, W1. F1-2 1,000 due 06-12, 400 disputed from 05-25: 600 on
//!   06-10, W2; 400 left out.
//! - F2 promised 1,500 on 05-30 for 06-09; it covers F2's rows in due order: F2-2 1,000 due
//!   05-20 whole, and 500 of F2-1 4,000 due 06-01: 1,500 in W2. The rest of F2-1, 3,500: 06-16,
//!   W3.
//! - F3's at SUB-BJ: F3-1 2,000 due 06-10: 06-25, W4; F3-2 500 due 06-20: 07-05, later.
//! - F5-1 1,000 due 05-02, 30 days past due: 05-25 with its delay, already past: W1. F5-2 600
//!   due 05-25: 06-17, W3.
//! - F4-1 800 due 02-20, 101 days past due: left out (legal). F4-2 1,000 due 05-01 with 300
//!   written off on 05-25: the 700 left is left out.
//!
//! SUB-SH: 4,000, 2,100, 4,100, 0, later 0; left out 400 disputed, 700 written off, 800 legal.
//! SUB-BJ: 0, 0, 0, 2,000, later 500.
//!
//! Collected afterwards: F1 3,000 on 06-03 (W1) and 600 on 06-11 (W2); F2 1,500 on 06-09 (W2)
//! and 3,500 on 06-17 (W3); F5 1,000 on 06-12 (W2) and 600 on 06-18 (W3); F3 1,500 on 06-24
//! (W4). Actual: 3,000, 3,100, 4,100, 1,500.
//! - Forecast 4,000, 2,100, 4,100, 2,000: errors 1,000 / 3,000 = 33.33, 1,000 / 3,100 = 32.26,
//!   0, 500 / 1,500 = 33.33; mean 98.92 / 4 = 24.73; total |12,200 − 11,700| / 11,700 = 4.27.
//! - Naive (every row on its due date, the late ones in W1, nothing left out): W1 3,000 +
//!   4,000 + 1,000 + 800 + 700 + 1,000 + 600 = 11,100; W2 1,000 + 2,000 = 3,000; W3 500; W4 0.
//!   Errors 8,100 / 3,000 = 270.00, 100 / 3,100 = 3.23, 3,600 / 4,100 = 87.80, 100.00; mean
//!   461.03 / 4 = 115.26; total |14,600 − 11,700| / 11,700 = 24.79.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::metrics_service_client::MetricsServiceClient;
use receivables_tests::*;
use tonic::transport::Channel;

type Write = CommandServiceClient<Channel>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    forecast_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    forecast_as_worked_out_by_hand(Backends::Servers).await;
}

async fn issue(
    write: &mut Write,
    customer: &str,
    sub: &str,
    number: &str,
    amount: &str,
    due: &str,
) {
    write
        .issue_invoice(invoice(customer, sub, number, amount, "2026-01-05", due))
        .await
        .unwrap();
}

async fn pay(
    write: &mut Write,
    customer: &str,
    sub: &str,
    number: &str,
    amount: &str,
    on: &str,
) -> u64 {
    write
        .record_payment(pb::RecordPaymentRequest {
            allocations: vec![allocation(sub, number, amount)],
            ..payment(customer, sub, amount, on)
        })
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap()
        .position
}

fn amounts(list: &[pb::Money]) -> Vec<String> {
    list.iter().map(|m| m.amount.clone()).collect()
}

fn amount(money: &Option<pb::Money>) -> &str {
    money.as_ref().unwrap().amount.as_str()
}

async fn forecast_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut metrics = MetricsServiceClient::new(service.channel().await);

    for (customer, grade) in [
        ("F1", pb::CreditGrade::A),
        ("F2", pb::CreditGrade::C),
        ("F3", pb::CreditGrade::C),
        ("F4", pb::CreditGrade::D),
        ("F5", pb::CreditGrade::B),
    ] {
        write
            .change_credit_limit(pb::ChangeCreditLimitRequest {
                grade: grade.into(),
                ..credit_limit(customer, "1000000", pb::CreditPolicy::Block)
            })
            .await
            .unwrap();
    }
    // The habits.
    for (customer, number, amount, due, paid) in [
        ("F1", "H1-1", "1000", "2026-03-10", "2026-03-08"),
        ("F1", "H1-2", "1000", "2026-04-10", "2026-04-08"),
        ("F1", "H1-3", "2000", "2026-05-10", "2026-05-08"),
        ("F2", "H2-1", "1000", "2026-03-10", "2026-03-20"),
        ("F2", "H2-2", "1000", "2026-04-10", "2026-04-30"),
        ("F2", "H2-3", "2000", "2026-05-01", "2026-05-16"),
        ("F5", "H5-1", "1000", "2026-03-10", "2026-03-15"),
        ("F5", "H5-2", "1000", "2026-04-10", "2026-04-15"),
        ("F5", "H5-3", "2000", "2026-04-01", "2026-05-11"),
    ] {
        issue(&mut write, customer, "SUB-SH", number, amount, due).await;
        pay(&mut write, customer, "SUB-SH", number, amount, paid).await;
    }
    // What is open on 06-01.
    for (customer, sub, number, amount, due) in [
        ("F1", "SUB-SH", "F1-1", "3000", "2026-06-05"),
        ("F1", "SUB-SH", "F1-2", "1000", "2026-06-12"),
        ("F2", "SUB-SH", "F2-1", "4000", "2026-06-01"),
        ("F2", "SUB-SH", "F2-2", "1000", "2026-05-20"),
        ("F3", "SUB-BJ", "F3-1", "2000", "2026-06-10"),
        ("F3", "SUB-BJ", "F3-2", "500", "2026-06-20"),
        ("F4", "SUB-SH", "F4-1", "800", "2026-02-20"),
        ("F4", "SUB-SH", "F4-2", "1000", "2026-05-01"),
        ("F5", "SUB-SH", "F5-1", "1000", "2026-05-02"),
        ("F5", "SUB-SH", "F5-2", "600", "2026-05-25"),
    ] {
        issue(&mut write, customer, sub, number, amount, due).await;
    }
    write
        .open_dispute(pb::OpenDisputeRequest {
            command_id: command_id(),
            customer_id: "F1".to_owned(),
            invoice: invoice_ref("SUB-SH", "F1-2"),
            amount: cny("400"),
            reason: pb::DisputeReason::Quality.into(),
            note: String::new(),
            opened_on: "2026-05-25".to_owned(),
            expires_on: "2026-07-31".to_owned(),
        })
        .await
        .unwrap();
    write
        .write_off_invoice(pb::WriteOffInvoiceRequest {
            command_id: command_id(),
            customer_id: "F4".to_owned(),
            invoice: invoice_ref("SUB-SH", "F4-2"),
            amount: cny("300"),
            write_off_date: "2026-05-25".to_owned(),
            reason: "partly uncollectible".to_owned(),
            approved_by: "Zhang Wei".to_owned(),
        })
        .await
        .unwrap();
    write
        .record_promise_to_pay(promise("F2", "SUB-SH", "1500", "2026-05-30", "2026-06-09"))
        .await
        .unwrap();
    // What was collected afterwards.
    pay(&mut write, "F1", "SUB-SH", "F1-1", "3000", "2026-06-03").await;
    pay(&mut write, "F2", "SUB-SH", "F2-2", "1000", "2026-06-09").await;
    pay(&mut write, "F2", "SUB-SH", "F2-1", "500", "2026-06-09").await;
    pay(&mut write, "F1", "SUB-SH", "F1-2", "600", "2026-06-11").await;
    pay(&mut write, "F5", "SUB-SH", "F5-1", "1000", "2026-06-12").await;
    pay(&mut write, "F5", "SUB-SH", "F5-2", "600", "2026-06-18").await;
    pay(&mut write, "F2", "SUB-SH", "F2-1", "3500", "2026-06-17").await;
    let last = pay(&mut write, "F3", "SUB-BJ", "F3-1", "1500", "2026-06-24").await;

    let reply = metrics
        .get_collections_forecast(pb::GetCollectionsForecastRequest {
            as_of: "2026-06-01".to_owned(),
            weeks: 4,
            explain: true,
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        reply.week_starts,
        ["2026-06-01", "2026-06-08", "2026-06-15", "2026-06-22"]
    );
    let lines: Vec<String> = reply
        .lines
        .iter()
        .map(|l| {
            format!(
                "{} {} {} later {} left out {} {} {}",
                l.subsidiary_id,
                l.currency,
                amounts(&l.weeks).join(" "),
                amount(&l.later),
                amount(&l.disputed_left_out),
                amount(&l.written_off_left_out),
                amount(&l.legal_left_out)
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "SUB-BJ CNY 0.00 0.00 0.00 2000.00 later 500.00 left out 0.00 0.00 0.00",
            "SUB-SH CNY 4000.00 2100.00 4100.00 0.00 later 0.00 left out 400.00 700.00 800.00",
        ]
    );
    let methods: Vec<String> = reply
        .methods
        .iter()
        .map(|m| {
            format!(
                "{} {} {} {} {} {} {}",
                m.customer_id,
                m.delay_days,
                m.delay_source,
                m.invoices_paid,
                m.amount_paid,
                m.own_delay,
                m.open_promises
            )
            .trim_end()
            .to_owned()
        })
        .collect();
    assert_eq!(
        methods,
        [
            "F1 -2 own 3 4000 -2 0",
            "F2 15 own 3 4000 15 1",
            "F3 15 grade C 0 0  0",
            "F4 12 group 0 0  0",
            "F5 23 own 3 4000 22.5 0",
        ]
    );
    // One subsidiary's forecast.
    let bj = metrics
        .get_collections_forecast(pb::GetCollectionsForecastRequest {
            as_of: "2026-06-01".to_owned(),
            weeks: 4,
            subsidiary_id: "SUB-BJ".to_owned(),
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bj.lines.len(), 1);
    assert_eq!(
        amounts(&bj.lines[0].weeks),
        ["0.00", "0.00", "0.00", "2000.00"]
    );

    // The backtest.
    let backtest = metrics
        .backtest_collections_forecast(pb::BacktestCollectionsForecastRequest {
            as_of: "2026-06-01".to_owned(),
            weeks: 4,
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(backtest.currencies.len(), 1);
    let cny = &backtest.currencies[0];
    let weeks: Vec<String> = cny
        .weeks
        .iter()
        .map(|w| {
            format!(
                "{} f {} n {} a {} ef {} en {}",
                w.start,
                amount(&w.forecast),
                amount(&w.naive),
                amount(&w.actual),
                w.forecast_error,
                w.naive_error
            )
        })
        .collect();
    assert_eq!(
        weeks,
        [
            "2026-06-01 f 4000.00 n 11100.00 a 3000.00 ef 33.33 en 270.00",
            "2026-06-08 f 2100.00 n 3000.00 a 3100.00 ef 32.26 en 3.23",
            "2026-06-15 f 4100.00 n 500.00 a 4100.00 ef 0.00 en 87.80",
            "2026-06-22 f 2000.00 n 0.00 a 1500.00 ef 33.33 en 100.00",
        ]
    );
    assert_eq!(
        (
            cny.forecast_mape.as_str(),
            cny.naive_mape.as_str(),
            cny.forecast_total_error.as_str(),
            cny.naive_total_error.as_str()
        ),
        ("24.73", "115.26", "4.27", "24.79")
    );

    service.stop().await;
    data.remove().await;
}
