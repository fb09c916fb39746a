//! The early-warning metrics (`MetricsService.GetMetrics`) of March 2026, posted as real
//! transactions to `receivables serve` on both backend pairs (the embedded SQLite log and read
//! model; NATS JetStream and PostgreSQL), every figure worked out by hand below. The formulas
//! themselves are checked against published worked examples in
//! `crates/domain/tests/metrics_formulas.rs`; this checks that the read model feeds them the
//! right aggregates.
//!
//! History (CNY unless said; SUB-SH unless said):
//! - INV-1 M1 6,000.00 issued 02-10 due 03-12; INV-4 M2 2,000.00 issued 01-15 due 02-14;
//!   INV-2 M1 3,000.00 issued 03-05 due 04-04; INV-5 M2 500.00 at SUB-BJ issued 03-10 due 03-20;
//!   INV-3 M2 9,000.00 issued 03-20 due 04-19; INV-6 M3 1,000.00 USD issued 03-02 due 04-01.
//! - Payments: M1 4,000.00 on INV-1 on 03-22; M2 500.00 on INV-5 on 03-30.
//! - INV-4 written off 1,000.00 on 03-25; INV-3 disputed 900.00 from 03-28.
//! - Promises (grace 3 days): M1 2,000.00 made 03-15 for 03-20 by Wang Fang, kept by the
//!   payment of 03-22 (window to 03-23); M2 1,000.00 made 03-01 for 03-10 by Li Na, broken
//!   (nothing paid to 03-13).
//! - Activities: Li Na called M2 on 03-11 (no answer) and emailed on 03-12 (refused); Wang Fang
//!   called M1 on 03-14 (reached).
//! - Collectors: M1's is Wang Fang; SUB-BJ's default is Li Na. Rates: USD 7.0 CNY from 03-01.
//!
//! CNY as of 03-31: open INV-1 2,000 (overdue), INV-2 3,000, INV-3 9,000 (current), INV-4 1,000
//! (overdue): closing 15,000, current 12,000, overdue 3,000. Opening (02-28): INV-1 6,000 and
//! INV-4 2,000 = 8,000. March credit sales: 3,000 + 500 + 9,000 = 12,500; 31 days.
//! - overdue rate 3,000 / 15,000 = 20.00 %
//! - DSO 15,000 / 12,500 × 31 = 37.20; best possible 12,000 / 12,500 × 31 = 29.76; ADD 7.44
//! - countback: March's 12,500 covers 31 days, 2,500 left of February's 6,000 × 28 days =
//!   11.666…: 42.67
//! - CEI (8,000 + 12,500 − 15,000) / (8,000 + 12,500 − 12,000) = 5,500 / 8,500 = 64.71 %
//! - bad debt 1,000 / 12,500 = 8.00 %; dispute 900 / 12,500 = 7.20 %; promises 1 of 2 = 50.00 %
//! - days to pay (4,000 × 40 + 500 × 20) / 4,500 = 37.78; days late (4,000 × 10 + 500 × 10) /
//!   4,500 = 10.00
//!
//! USD: closing 1,000, all current, sales 1,000: overdue rate 0.00 %, DSO 31.00.
//! In CNY at 7.0: closing 22,000, current 19,000, sales 19,500: overdue rate 3,000 / 22,000 =
//! 13.64 %, DSO 22,000 / 19,500 × 31 = 34.97.
//!
//! M1 alone: closing 5,000 (INV-1 2,000 overdue, INV-2 3,000 current), sales 3,000: overdue
//! rate 40.00 %, DSO 5,000 / 3,000 × 31 = 51.67.
//!
//! The allowance as of 03-31 at loss rates 1, 5, 0.1235, 20, 50 and 100 % (CNY aging by payment
//! terms: current 12,000, 1-30 days 2,000 (INV-1, 19 days), 31-60 days 1,000 (INV-4, 45 days)):
//! 120.00 + 100.00 + 1.235 → 1.24 (half away from zero) = 221.24 required; against a credit
//! balance of 500.00, a release of 278.76; net receivables 15,000 − 221.24 = 14,778.76. USD:
//! 1,000 current × 1 % = 10.00 from nothing: a charge of 10.00, net 990.00.
//!
//! Wang Fang's portfolio (M1, hers): M1's figures, and M1's kept promise: 100.00 %. Li Na's
//! (SUB-BJ's default, for customers without a collector of their own: M2's INV-5; M3's invoice
//! is at SUB-SH, which has no default): nothing open on 03-31, so no overdue rate; sales 500,
//! DSO 0.00; paid 20 days after issue: 20.00 days to pay.
//!
//! February (the series' eleventh month-end): closing 8,000 (INV-4 2,000 overdue), sales 6,000,
//! 28 days: overdue rate 25.00 %, DSO 8,000 / 6,000 × 28 = 37.33.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::metrics_service_client::MetricsServiceClient;
use receivables_tests::*;
use rust_decimal::Decimal;
use tonic::Code;
use tonic::transport::Channel;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    metrics_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    metrics_as_worked_out_by_hand(Backends::Servers).await;
}

/// The value of `metric` among `figures`, as a decimal (its scale aside); `None` undefined.
fn value(figures: &pb::CurrencyFigures, metric: &str) -> Option<Decimal> {
    let figure = figures
        .figures
        .iter()
        .find(|f| f.metric == metric)
        .unwrap_or_else(|| panic!("no {metric} in {figures:?}"));
    (!figure.value.is_empty()).then(|| figure.value.parse().unwrap())
}

fn d(text: &str) -> Option<Decimal> {
    Some(text.parse().unwrap())
}

fn of<'a>(reply: &'a pb::GetMetricsResponse, currency: &str) -> &'a pb::CurrencyFigures {
    reply
        .currencies
        .iter()
        .find(|c| c.currency == currency)
        .unwrap()
}

async fn get(
    metrics: &mut MetricsServiceClient<Channel>,
    request: pb::GetMetricsRequest,
) -> pb::GetMetricsResponse {
    metrics.get_metrics(request).await.unwrap().into_inner()
}

async fn metrics_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut metrics = MetricsServiceClient::new(service.channel().await);

    write
        .publish_exchange_rates(pb::PublishExchangeRatesRequest {
            command_id: command_id(),
            base: "CNY".to_owned(),
            rate_date: "2026-03-01".to_owned(),
            rates: vec![pb::ExchangeRateEntry {
                currency: "USD".to_owned(),
                rate: "7.0".to_owned(),
            }],
            source: "PBOC central parity".to_owned(),
        })
        .await
        .unwrap();
    for (customer, default_for, collector) in [("M1", "", "Wang Fang"), ("", "SUB-BJ", "Li Na")] {
        write
            .assign_collector(pb::AssignCollectorRequest {
                command_id: command_id(),
                customer_id: customer.to_owned(),
                default_for_subsidiary_id: default_for.to_owned(),
                collector: collector.to_owned(),
            })
            .await
            .unwrap();
    }
    for (customer, subsidiary, number, amount, issued, due) in [
        ("M2", "SUB-SH", "INV-4", "2000", "2026-01-15", "2026-02-14"),
        ("M1", "SUB-SH", "INV-1", "6000", "2026-02-10", "2026-03-12"),
        ("M1", "SUB-SH", "INV-2", "3000", "2026-03-05", "2026-04-04"),
        ("M2", "SUB-BJ", "INV-5", "500", "2026-03-10", "2026-03-20"),
        ("M2", "SUB-SH", "INV-3", "9000", "2026-03-20", "2026-04-19"),
    ] {
        write
            .issue_invoice(invoice(customer, subsidiary, number, amount, issued, due))
            .await
            .unwrap();
    }
    write
        .issue_invoice(pb::IssueInvoiceRequest {
            amount: money("1000", "USD"),
            ..invoice("M3", "SUB-SH", "INV-6", "1000", "2026-03-02", "2026-04-01")
        })
        .await
        .unwrap();
    write
        .record_promise_to_pay(promise("M1", "SUB-SH", "2000", "2026-03-15", "2026-03-20"))
        .await
        .unwrap();
    write
        .record_promise_to_pay(pb::RecordPromiseToPayRequest {
            collector: "Li Na".to_owned(),
            ..promise("M2", "SUB-SH", "1000", "2026-03-01", "2026-03-10")
        })
        .await
        .unwrap();
    for (customer, on, channel, outcome, collector) in [
        (
            "M2",
            "2026-03-11",
            pb::ContactChannel::Call,
            pb::ContactOutcome::NoAnswer,
            "Li Na",
        ),
        (
            "M2",
            "2026-03-12",
            pb::ContactChannel::Email,
            pb::ContactOutcome::Refused,
            "Li Na",
        ),
        (
            "M1",
            "2026-03-14",
            pb::ContactChannel::Call,
            pb::ContactOutcome::Reached,
            "Wang Fang",
        ),
    ] {
        write
            .record_collection_activity(pb::RecordCollectionActivityRequest {
                command_id: command_id(),
                customer_id: customer.to_owned(),
                subsidiary_id: "SUB-SH".to_owned(),
                channel: channel.into(),
                outcome: outcome.into(),
                occurred_on: on.to_owned(),
                collector: collector.to_owned(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    write
        .record_payment(pb::RecordPaymentRequest {
            allocations: vec![allocation("SUB-SH", "INV-1", "4000")],
            ..payment("M1", "SUB-SH", "4000", "2026-03-22")
        })
        .await
        .unwrap();
    write
        .record_payment(pb::RecordPaymentRequest {
            allocations: vec![allocation("SUB-BJ", "INV-5", "500")],
            ..payment("M2", "SUB-BJ", "500", "2026-03-30")
        })
        .await
        .unwrap();
    write
        .write_off_invoice(pb::WriteOffInvoiceRequest {
            command_id: command_id(),
            customer_id: "M2".to_owned(),
            invoice: invoice_ref("SUB-SH", "INV-4"),
            amount: cny("1000"),
            write_off_date: "2026-03-25".to_owned(),
            reason: "customer in liquidation".to_owned(),
            approved_by: "Zhang Wei".to_owned(),
        })
        .await
        .unwrap();
    let last = write
        .open_dispute(pb::OpenDisputeRequest {
            command_id: command_id(),
            customer_id: "M2".to_owned(),
            invoice: invoice_ref("SUB-SH", "INV-3"),
            amount: cny("900"),
            reason: pb::DisputeReason::Quality.into(),
            note: String::new(),
            opened_on: "2026-03-28".to_owned(),
            expires_on: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap()
        .position;

    let march = pb::GetMetricsRequest {
        month: "2026-03".to_owned(),
        min_position: last,
        ..Default::default()
    };
    let reply = get(&mut metrics, march.clone()).await;
    assert_eq!(
        (reply.from.as_str(), reply.to.as_str()),
        ("2026-03-01", "2026-03-31")
    );
    let cny = of(&reply, "CNY");
    for (metric, expected) in [
        ("overdue_rate", "20.00"),
        ("dso_simple", "37.20"),
        ("dso_countback", "42.67"),
        ("best_possible_dso", "29.76"),
        ("average_days_delinquent", "7.44"),
        ("cei", "64.71"),
        ("bad_debt_rate", "8.00"),
        ("promise_kept_rate", "50.00"),
        ("average_days_to_pay", "37.78"),
        ("average_days_late", "10.00"),
        ("dispute_rate", "7.20"),
    ] {
        assert_eq!(value(cny, metric), d(expected), "{metric}: {cny:?}");
    }
    // Every figure shows its inputs: the DSO's are the closing receivables, the sales and the
    // days.
    let dso = cny
        .figures
        .iter()
        .find(|f| f.metric == "dso_simple")
        .unwrap();
    let inputs: Vec<(&str, Decimal)> = dso
        .inputs
        .iter()
        .map(|i| (i.name.as_str(), i.value.parse().unwrap()))
        .collect();
    assert_eq!(
        inputs.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        [d("15000").unwrap(), d("12500").unwrap(), d("31").unwrap()],
        "{inputs:?}"
    );
    assert!(!dso.formula.is_empty());

    let usd = of(&reply, "USD");
    assert_eq!(value(usd, "overdue_rate"), d("0.00"));
    assert_eq!(value(usd, "dso_simple"), d("31.00"));
    // Nothing written off, disputed or promised in USD: the rates without a denominator.
    assert_eq!(value(usd, "bad_debt_rate"), d("0.00"));
    assert_eq!(value(usd, "promise_kept_rate"), None);
    let group = reply.in_group_currency.as_ref().expect("rates exist");
    assert_eq!(group.currency, "CNY");
    assert_eq!(value(group, "overdue_rate"), d("13.64"));
    assert_eq!(value(group, "dso_simple"), d("34.97"));

    // Each collector's March.
    let collectors: Vec<String> = reply
        .collectors
        .iter()
        .map(|c| {
            let collected: Vec<String> = c
                .collected
                .iter()
                .map(|m| format!("{} {}", m.amount, m.currency))
                .collect();
            format!(
                "{} {} {} {} {} {} {}",
                c.collector,
                c.activities,
                c.reached,
                c.promises_obtained,
                c.promises_kept,
                c.promises_broken,
                collected.join(",")
            )
        })
        .collect();
    assert_eq!(
        collectors,
        [
            "Li Na 2 1 1 0 1 500.00 CNY",
            "Wang Fang 1 1 1 1 0 4000.00 CNY"
        ]
    );

    // One customer.
    let m1 = get(
        &mut metrics,
        pb::GetMetricsRequest {
            customer_id: "M1".to_owned(),
            ..march.clone()
        },
    )
    .await;
    assert_eq!(m1.currencies.len(), 1);
    assert_eq!(value(&m1.currencies[0], "overdue_rate"), d("40.00"));
    assert_eq!(value(&m1.currencies[0], "dso_simple"), d("51.67"));

    // One collector's portfolio.
    let wang = get(
        &mut metrics,
        pb::GetMetricsRequest {
            collector: "Wang Fang".to_owned(),
            ..march.clone()
        },
    )
    .await;
    assert_eq!(wang.currencies.len(), 1);
    assert_eq!(value(&wang.currencies[0], "overdue_rate"), d("40.00"));
    assert_eq!(value(&wang.currencies[0], "dso_simple"), d("51.67"));
    assert_eq!(value(&wang.currencies[0], "promise_kept_rate"), d("100.00"));
    let names: Vec<&str> = wang
        .collectors
        .iter()
        .map(|c| c.collector.as_str())
        .collect();
    assert_eq!(names, ["Wang Fang"]);
    let li = get(
        &mut metrics,
        pb::GetMetricsRequest {
            collector: "Li Na".to_owned(),
            ..march.clone()
        },
    )
    .await;
    assert_eq!(li.currencies.len(), 1);
    assert_eq!(value(&li.currencies[0], "overdue_rate"), None);
    assert_eq!(value(&li.currencies[0], "dso_simple"), d("0.00"));
    assert_eq!(value(&li.currencies[0], "average_days_to_pay"), d("20.00"));

    // The series: twelve month-ends to March, February's worked out above, March's the period's.
    let series = get(
        &mut metrics,
        pb::GetMetricsRequest {
            series: true,
            ..march.clone()
        },
    )
    .await
    .series;
    let ends: Vec<&str> = series.iter().map(|m| m.month_end.as_str()).collect();
    assert_eq!(ends.len(), 12);
    assert_eq!(
        (ends[0], ends[10], ends[11]),
        ("2025-04-30", "2026-02-28", "2026-03-31")
    );
    let february = series[10]
        .currencies
        .iter()
        .find(|c| c.currency == "CNY")
        .unwrap();
    assert_eq!(value(february, "overdue_rate"), d("25.00"));
    assert_eq!(value(february, "dso_simple"), d("37.33"));
    let march_in_series = series[11]
        .currencies
        .iter()
        .find(|c| c.currency == "CNY")
        .unwrap();
    assert_eq!(march_in_series, cny);

    // The allowance by aging.
    let allowance = metrics
        .get_allowance(pb::GetAllowanceRequest {
            as_of: "2026-03-31".to_owned(),
            loss_rates: ["1", "5", "0.1235", "20", "50", "100"]
                .map(str::to_owned)
                .to_vec(),
            allowance_balances: vec![pb::Money {
                amount: "500".to_owned(),
                currency: "CNY".to_owned(),
            }],
            min_position: last,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let shown: Vec<String> = allowance
        .currencies
        .iter()
        .map(|c| {
            let amount = |m: &Option<pb::Money>| m.as_ref().unwrap().amount.clone();
            let lines: Vec<String> = c
                .lines
                .iter()
                .map(|l| {
                    format!(
                        "{}:{}x{}={}",
                        l.bucket,
                        amount(&l.balance),
                        l.loss_rate,
                        amount(&l.provision)
                    )
                })
                .collect();
            format!(
                "{} {} required {} before {} {} {} net {}",
                c.currency,
                lines.join(" "),
                amount(&c.required_allowance),
                amount(&c.current_allowance_balance),
                c.entry,
                amount(&c.adjustment),
                amount(&c.net_receivables)
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "CNY current:12000.00x1=120.00 1-30:2000.00x5=100.00 31-60:1000.00x0.1235=1.24 \
             61-90:0.00x20=0.00 91-120:0.00x50=0.00 over 120:0.00x100=0.00 required 221.24 \
             before 500.00 release -278.76 net 14778.76",
            "USD current:1000.00x1=10.00 1-30:0.00x5=0.00 31-60:0.00x0.1235=0.00 \
             61-90:0.00x20=0.00 91-120:0.00x50=0.00 over 120:0.00x100=0.00 required 10.00 \
             before 0.00 charge 10.00 net 990.00"
        ]
    );
    let status = metrics
        .get_allowance(pb::GetAllowanceRequest {
            loss_rates: ["1", "5", "101", "20", "-1", "x"]
                .map(str::to_owned)
                .to_vec(),
            allowance_balances: vec![pb::Money {
                amount: "1".to_owned(),
                currency: "XYZ".to_owned(),
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    let named = bad_fields(&status);
    assert_eq!(
        named,
        [
            "loss_rates[2]",
            "loss_rates[4]",
            "loss_rates[5]",
            "allowance_balances[0].currency"
        ]
    );

    // Bad periods, each field named.
    let status = metrics
        .get_metrics(pb::GetMetricsRequest {
            from: "2026-01-01".to_owned(),
            to: "2027-01-02".to_owned(),
            subsidiary_id: "bad id!".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let named = bad_fields(&status);
    assert_eq!(named, ["subsidiary_id", "to"]);

    service.stop().await;
    data.remove().await;
}
