//! Bad input to `PublishExchangeRates`, and an invoice that cannot be converted, over real gRPC
//! against a real `nats-server` with JetStream that every case starts for itself: each case
//! sends one bad request, checks the refusal (every offending field named), then that nothing
//! was appended to the stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_tests::refusals::*;
use receivables_tests::*;

fn publication(base: &str, date: &str, rates: &[(&str, &str)]) -> pb::PublishExchangeRatesRequest {
    pb::PublishExchangeRatesRequest {
        command_id: command_id(),
        base: base.to_owned(),
        rate_date: date.to_owned(),
        rates: rates
            .iter()
            .map(|(currency, rate)| pb::ExchangeRateEntry {
                currency: (*currency).to_owned(),
                rate: (*rate).to_owned(),
            })
            .collect(),
        source: String::new(),
    }
}

/// The fields the refusal of `request` names, in its order.
async fn refused_fields(request: pb::PublishExchangeRatesRequest) -> Option<Vec<String>> {
    let world = RefusalWorld::start().await?;
    let status = world
        .refused(world.client.clone().publish_exchange_rates(request))
        .await;
    Some(
        field_violations(&status)
            .into_iter()
            .map(|v| v.field)
            .collect(),
    )
}

#[tokio::test]
async fn a_rate_of_zero_is_refused() {
    let Some(fields) = refused_fields(publication("CNY", "2026-03-01", &[("USD", "0")])).await
    else {
        return;
    };
    assert_eq!(fields, ["rates[0].rate"]);
}

#[tokio::test]
async fn a_negative_rate_is_refused() {
    let Some(fields) = refused_fields(publication("CNY", "2026-03-01", &[("USD", "-7.1")])).await
    else {
        return;
    };
    assert_eq!(fields, ["rates[0].rate"]);
}

#[tokio::test]
async fn a_rate_with_more_than_ten_decimals_is_refused() {
    let Some(fields) = refused_fields(publication(
        "CNY",
        "2026-03-01",
        &[("USD", "7.12345678901")],
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["rates[0].rate"]);
}

#[tokio::test]
async fn a_rate_in_exponent_notation_is_refused() {
    let Some(fields) = refused_fields(publication("CNY", "2026-03-01", &[("USD", "7e0")])).await
    else {
        return;
    };
    assert_eq!(fields, ["rates[0].rate"]);
}

#[tokio::test]
async fn an_unknown_currency_and_an_unknown_base_are_named_together() {
    let Some(fields) = refused_fields(publication("XYZ", "2026-03-01", &[("ABC", "7.1")])).await
    else {
        return;
    };
    assert_eq!(fields, ["base", "rates[0].currency"]);
}

#[tokio::test]
async fn the_base_among_the_rates_is_refused() {
    let Some(fields) = refused_fields(publication(
        "CNY",
        "2026-03-01",
        &[("USD", "7.1"), ("CNY", "1")],
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["rates[1].currency"]);
}

#[tokio::test]
async fn a_currency_listed_twice_is_refused() {
    let Some(fields) = refused_fields(publication(
        "CNY",
        "2026-03-01",
        &[("USD", "7.1"), ("USD", "7.2")],
    ))
    .await
    else {
        return;
    };
    assert_eq!(fields, ["rates[1].currency"]);
}

#[tokio::test]
async fn a_publication_without_rates_is_refused() {
    let Some(fields) = refused_fields(publication("CNY", "2026-03-01", &[])).await else {
        return;
    };
    assert_eq!(fields, ["rates"]);
}

#[tokio::test]
async fn a_date_that_does_not_exist_is_refused() {
    let Some(fields) = refused_fields(publication("CNY", "2026-02-30", &[("USD", "7.1")])).await
    else {
        return;
    };
    assert_eq!(fields, ["rate_date"]);
}

#[tokio::test]
async fn a_publication_to_another_base_than_the_groups_is_refused() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    world
        .client
        .clone()
        .publish_exchange_rates(publication("CNY", "2026-03-01", &[("USD", "7.1")]))
        .await
        .unwrap();

    let status = world
        .refused(world.client.clone().publish_exchange_rates(publication(
            "USD",
            "2026-03-02",
            &[("CNY", "0.14")],
        )))
        .await;
    let (_, metadata) = precondition_refused(
        &status,
        "BASE_CURRENCY_MISMATCH",
        "group/exchange_rates/base",
    );
    assert_eq!(metadata["base"], "CNY");
}

#[tokio::test]
async fn an_invoice_in_a_currency_without_a_rate_under_a_limit_is_refused() {
    let Some(world) = RefusalWorld::start().await else {
        return;
    };
    world
        .client
        .clone()
        .change_credit_limit(credit_limit("ACME", "10000", pb::CreditPolicy::Warn))
        .await
        .unwrap();

    let status = world
        .refused(world.client.clone().issue_invoice(pb::IssueInvoiceRequest {
            amount: money("100", "USD"),
            ..invoice("ACME", "SUB-SH", "INV-1", "100", "2026-03-01", "2026-03-31")
        }))
        .await;
    let (_, metadata) =
        precondition_refused(&status, "EXCHANGE_RATE_MISSING", "group/exchange_rates/USD");
    assert_eq!(metadata["limit_currency"], "CNY");
    assert_eq!(metadata["date"], "2026-03-01");
}
