//! Currencies end to end: exchange rates published over gRPC, one credit limit across three
//! currencies checked on the converted sum (refused, then accepted after a rate change), a
//! missing rate, and the exposure and aging reports in the transaction currency and the group's
//! side by side. Posted to `receivables serve` on both backend pairs (the embedded SQLite log
//! and read model; NATS JetStream and PostgreSQL); every figure worked out by hand.
//!
//! Rates to CNY (the group's currency): 03-01 USD 7.1, EUR 7.8; 03-15 USD 7.2, JPY 0.048 (JPY's
//! first); 03-17 USD 7.0.
//!
//! M1 has a limit of 20,000.00 CNY under BLOCK (in force from 01-01):
//! - 03-01 CNY 6,000.00: 6,000.00.
//! - 03-05 USD 1,000.00 at 7.1 = 7,100.00: 13,100.00.
//! - 03-10 EUR 500.00 at 7.8 = 3,900.00: 17,000.00.
//! - 03-12 JPY 10,000: no JPY rate before 03-15, refused (EXCHANGE_RATE_MISSING).
//! - 03-16 USD 400.00: 1,400.00 USD at 7.2 = 10,080.00; 6,000 + 3,900 + 10,080 = 19,980.00.
//! - 03-16 CNY 100.00: 20,080.00 > 20,000.00 by 80.00, refused (CREDIT_LIMIT_EXCEEDED).
//! - after the 03-17 rates, 03-17 CNY 100.00: 6,100 + 3,900 + 1,400 x 7.0 = 9,800 -> 19,800.00.
//!
//! M2 has no limit: USD 1,234.56 issued 03-20, due 04-19.
//! M3's JPY 10,000 invoice (03-05) is posted before its limit of 1,000.00 CNY, so it is not
//! checked; its exposure as of 03-10 lacks the JPY rate, as of 03-20 counts 480.00.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::refusals::*;
use receivables_tests::*;
use tonic::transport::Channel;

type Write = CommandServiceClient<Channel>;
type Read = QueryServiceClient<Channel>;

fn publication(date: &str, rates: &[(&str, &str)]) -> pb::PublishExchangeRatesRequest {
    pb::PublishExchangeRatesRequest {
        command_id: command_id(),
        base: "CNY".to_owned(),
        rate_date: date.to_owned(),
        rates: rates
            .iter()
            .map(|(currency, rate)| pb::ExchangeRateEntry {
                currency: (*currency).to_owned(),
                rate: (*rate).to_owned(),
            })
            .collect(),
        source: "PBOC central parity".to_owned(),
    }
}

fn invoice_in(
    customer: &str,
    number: &str,
    amount: &str,
    currency: &str,
    issued: &str,
) -> pb::IssueInvoiceRequest {
    pb::IssueInvoiceRequest {
        amount: money(amount, currency),
        ..invoice(customer, "SUB-SH", number, amount, issued, "2026-04-30")
    }
}

fn amount(money: &Option<pb::Money>) -> String {
    let money = money.as_ref().expect("an amount");
    format!("{} {}", money.amount, money.currency)
}

fn conversions(list: &[pb::ExposureConversion]) -> Vec<String> {
    list.iter()
        .map(|c| {
            format!(
                "{} x {} = {}",
                amount(&c.exposure),
                c.rate,
                amount(&c.converted)
            )
        })
        .collect()
}

async fn exposure_after(write: &mut Write, request: pb::IssueInvoiceRequest) -> pb::CreditCheck {
    write
        .issue_invoice(request)
        .await
        .expect("an invoice")
        .into_inner()
        .credit_check
        .expect("checked")
}

async fn exposure(read: &mut Read, customer: &str, as_of: &str, at: u64) -> pb::Exposure {
    let mut lines = read
        .get_exposure(pb::GetExposureRequest {
            customer_id: customer.to_owned(),
            as_of: as_of.to_owned(),
            min_position: at,
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.remove(0)
}

/// `customer`'s one aging line as of `as_of`.
async fn aging_line(read: &mut Read, customer: &str, as_of: &str, at: u64) -> pb::AgingLine {
    let mut lines = read
        .get_aging_report(pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: as_of.to_owned(),
                customer_id: customer.to_owned(),
                ..Default::default()
            }),
            group_by: pb::AgingGroupBy::Customer.into(),
            min_position: at,
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    currencies_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    currencies_as_worked_out_by_hand(Backends::Servers).await;
}

async fn currencies_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut read = service.queries().await;

    for request in [
        publication("2026-03-01", &[("USD", "7.1"), ("EUR", "7.8")]),
        publication("2026-03-15", &[("USD", "7.2"), ("JPY", "0.048")]),
    ] {
        write.publish_exchange_rates(request).await.expect("rates");
    }
    write
        .change_credit_limit(credit_limit("M1", "20000", pb::CreditPolicy::Block))
        .await
        .unwrap();

    // The write side, invoice by invoice.
    let check = exposure_after(
        &mut write,
        invoice_in("M1", "A1", "6000", "CNY", "2026-03-01"),
    )
    .await;
    assert_eq!(amount(&check.exposure_after), "6000.00 CNY");
    assert!(check.conversions.is_empty());
    let check = exposure_after(
        &mut write,
        invoice_in("M1", "U1", "1000", "USD", "2026-03-05"),
    )
    .await;
    assert_eq!(amount(&check.exposure_after), "13100.00 CNY");
    assert_eq!(
        conversions(&check.conversions),
        ["1000.00 USD x 7.1 = 7100.00 CNY"]
    );
    let check = exposure_after(
        &mut write,
        invoice_in("M1", "E1", "500", "EUR", "2026-03-10"),
    )
    .await;
    assert_eq!(amount(&check.exposure_after), "17000.00 CNY");

    let status = write
        .issue_invoice(invoice_in("M1", "J1", "10000", "JPY", "2026-03-12"))
        .await
        .expect_err("no JPY rate on 03-12");
    let (_, metadata) =
        precondition_refused(&status, "EXCHANGE_RATE_MISSING", "group/exchange_rates/JPY");
    assert_eq!(metadata["date"], "2026-03-12");

    let check = exposure_after(
        &mut write,
        invoice_in("M1", "U2", "400", "USD", "2026-03-16"),
    )
    .await;
    assert_eq!(amount(&check.exposure_after), "19980.00 CNY");
    let status = write
        .issue_invoice(invoice_in("M1", "A2", "100", "CNY", "2026-03-16"))
        .await
        .expect_err("over the limit");
    let (_, metadata) = precondition_refused(
        &status,
        "CREDIT_LIMIT_EXCEEDED",
        "customers/M1/credit_limit",
    );
    assert_eq!(metadata["exposure"], "19980.00");
    assert_eq!(metadata["shortfall"], "80.00");
    assert_eq!(
        [
            &metadata["exposure_usd"],
            &metadata["rate_usd"],
            &metadata["converted_usd"]
        ],
        ["1400.00", "7.2", "10080.00"]
    );
    assert_eq!(
        [
            &metadata["exposure_eur"],
            &metadata["rate_eur"],
            &metadata["converted_eur"]
        ],
        ["500.00", "7.8", "3900.00"]
    );

    write
        .publish_exchange_rates(publication("2026-03-17", &[("USD", "7.0")]))
        .await
        .unwrap();
    let check = exposure_after(
        &mut write,
        invoice_in("M1", "A2", "100", "CNY", "2026-03-17"),
    )
    .await;
    assert_eq!(amount(&check.exposure_after), "19800.00 CNY");

    // M2 without a limit; M3's JPY before its limit.
    write
        .issue_invoice(pb::IssueInvoiceRequest {
            due: Some(pb::issue_invoice_request::Due::DueDate(
                "2026-04-19".to_owned(),
            )),
            ..invoice_in("M2", "N1", "1234.56", "USD", "2026-03-20")
        })
        .await
        .unwrap();
    write
        .issue_invoice(invoice_in("M3", "J3", "10000", "JPY", "2026-03-05"))
        .await
        .unwrap();
    let last = write
        .change_credit_limit(credit_limit("M3", "1000", pb::CreditPolicy::Block))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap()
        .position;

    // The read side: M1's limit line counts every currency at the as-of date's rates.
    // 03-31: 6,100.00 + 500.00 EUR x 7.8 (3,900.00) + 1,400.00 USD x 7.0 (9,800.00).
    let m1 = exposure(&mut read, "M1", "2026-03-31", last).await;
    assert_eq!(amount(&m1.exposure), "19800.00 CNY");
    assert_eq!(amount(&m1.open), "19800.00 CNY");
    assert_eq!(amount(&m1.available), "200.00 CNY");
    assert_eq!(m1.utilisation, "0.9900");
    assert_eq!(
        conversions(&m1.conversions),
        [
            "500.00 EUR x 7.8 = 3900.00 CNY",
            "1400.00 USD x 7.0 = 9800.00 CNY"
        ]
    );
    assert!(m1.missing_rates.is_empty());
    // The limit is in the group's currency: its line is its own conversion, at 1.
    let group = m1.in_group_currency.unwrap();
    assert_eq!(
        (group.rate.as_str(), amount(&group.converted)),
        ("1", "19800.00 CNY".to_owned())
    );
    // 03-10: only what was issued by then, at 03-10's rates: 6,000 + 7,100 + 3,900.
    let m1 = exposure(&mut read, "M1", "2026-03-10", last).await;
    assert_eq!(amount(&m1.exposure), "17000.00 CNY");

    // M3 on 03-10: the JPY rate is missing and named; on 03-20: 10,000 x 0.048 = 480.00.
    let m3 = exposure(&mut read, "M3", "2026-03-10", last).await;
    assert_eq!(m3.missing_rates, ["JPY"]);
    assert_eq!(amount(&m3.exposure), "0.00 CNY");
    let m3 = exposure(&mut read, "M3", "2026-03-20", last).await;
    assert!(m3.missing_rates.is_empty());
    assert_eq!(amount(&m3.exposure), "480.00 CNY");

    // M2 in USD, and beside it in CNY at 03-31's 7.0: 1,234.56 x 7 = 8,641.92.
    let m2 = exposure(&mut read, "M2", "2026-03-31", last).await;
    assert_eq!(amount(&m2.exposure), "1234.56 USD");
    let group = m2.in_group_currency.unwrap();
    assert_eq!(group.rate, "7.0");
    assert_eq!(amount(&group.converted), "8641.92 CNY");
    let line = aging_line(&mut read, "M2", "2026-03-31", last).await;
    assert_eq!(amount(&line.open_total), "1234.56 USD");
    let group = line.in_group_currency.as_ref().unwrap();
    assert_eq!(amount(&group.open_total), "8641.92 CNY");
    assert_eq!(amount(&group.buckets[0].amount), "8641.92 CNY");
    // M3's JPY line on 03-10 has no rate: no line in the group's currency.
    let line = aging_line(&mut read, "M3", "2026-03-10", last).await;
    assert_eq!(line.currency, "JPY");
    assert!(line.in_group_currency.is_none());

    service.stop().await;
    data.remove().await;
}
