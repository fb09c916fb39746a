//! Exchange rates and the credit limit across currencies, one rule per test: given the group's
//! rates and a customer's account, when an invoice is issued or rates are published, then this
//! event or this refusal. Every figure is worked out by hand in the comments.
//!
//! The group's rates (base CNY): on 2026-03-01 USD 7.1, EUR 7.8; on 2026-03-15 USD 7.2 and,
//! for the first time, JPY 0.048.

mod support;

use receivables_domain::account::exchange_rates::{ExchangeRatesPublished, PublishExchangeRates};
use receivables_domain::command::CommandBody;
use receivables_domain::event::Event;
use receivables_domain::exchange::{ExchangeRate, ExchangeRates, Rate};
use receivables_domain::ids::CustomerId;
use receivables_domain::refusal::{Reason, RefusalCode};
use support::*;

fn rate(text: &str) -> Rate {
    Rate::parse(text).expect("a rate")
}

fn rates_of(pairs: &[(&str, &str)]) -> Vec<ExchangeRate> {
    pairs
        .iter()
        .map(|(currency_code, value)| ExchangeRate {
            currency: currency(currency_code),
            rate: rate(value),
        })
        .collect()
}

/// The rates of the module's documentation.
fn march_rates() -> ExchangeRates {
    let mut rates = ExchangeRates::default();
    rates.publish(
        currency("CNY"),
        date("2026-03-01"),
        &rates_of(&[("USD", "7.1"), ("EUR", "7.8")]),
    );
    rates.publish(
        currency("CNY"),
        date("2026-03-15"),
        &rates_of(&[("USD", "7.2"), ("JPY", "0.048")]),
    );
    rates
}

/// A 20,000.00 CNY limit under BLOCK and a CNY invoice of 6,000.00 issued 03-01, with the
/// group's March rates.
fn customer_in_three_currencies() -> Scenario {
    given([
        credit_limit(cny("20000.00")).block().event(),
        invoice("INV-A1")
            .amount(cny("6000.00"))
            .issued("2026-03-01")
            .due("2026-03-31")
            .event(),
    ])
    .with_rates(march_rates())
}

fn issued(number: &str, amount: receivables_domain::Money, on: &str) -> InvoiceBuilder {
    invoice(number).amount(amount).issued(on).due("2026-04-30")
}

#[test]
fn exposure_in_other_currencies_counts_converted_at_the_rates_of_the_issue_date() {
    let mut scenario = customer_in_three_currencies();

    // 03-05: 1,000.00 USD at 7.1 = 7,100.00; 6,000.00 + 7,100.00 = 13,100.00.
    let usd_invoice = scenario
        .when(issued("INV-U1", usd("1000.00"), "2026-03-05"))
        .then_invoice_issued();
    let check = usd_invoice.credit_check.expect("checked");
    assert_eq!(check.exposure_after, cny("13100.00"));
    assert_eq!(check.conversions.len(), 1);
    assert_eq!(check.conversions[0].exposure, usd("1000.00"));
    assert_eq!(check.conversions[0].rate, rate("7.1"));
    assert_eq!(check.conversions[0].converted, cny("7100.00"));

    // 03-10: 500.00 EUR at 7.8 = 3,900.00; 6,000.00 + 3,900.00 + 7,100.00 = 17,000.00.
    let eur_invoice = scenario
        .when(issued("INV-E1", money("500.00", "EUR"), "2026-03-10"))
        .then_invoice_issued();
    let check = eur_invoice.credit_check.expect("checked");
    assert_eq!(check.exposure_after, cny("17000.00"));
    let parts: Vec<String> = check
        .conversions
        .iter()
        .map(|c| format!("{} x {} = {}", c.exposure, c.rate, c.converted))
        .collect();
    assert_eq!(
        parts,
        [
            "500.00 EUR x 7.8 = 3900.00 CNY",
            "1000.00 USD x 7.1 = 7100.00 CNY"
        ]
    );

    // 03-16: USD is 7.2 now: 1,400.00 USD x 7.2 = 10,080.00; 6,000.00 + 3,900.00 + 10,080.00
    // = 19,980.00, within 20,000.00.
    let check = scenario
        .when(issued("INV-U2", usd("400.00"), "2026-03-16"))
        .then_invoice_issued()
        .credit_check
        .expect("checked");
    assert_eq!(check.exposure_after, cny("19980.00"));
    assert!(!scenario.account().state().invoices().any(|i| i.over_limit));
}

#[test]
fn a_block_limit_refuses_on_the_converted_sum_with_each_currency_in_the_details() {
    let mut scenario = customer_in_three_currencies();
    scenario
        .when(issued("INV-U1", usd("1400.00"), "2026-03-05"))
        .then_invoice_issued();
    scenario
        .when(issued("INV-E1", money("500.00", "EUR"), "2026-03-10"))
        .then_invoice_issued();

    // 03-16: 6,000.00 + 100.00 + 3,900.00 (EUR) + 10,080.00 (1,400.00 USD x 7.2) = 20,080.00
    // > 20,000.00 by 80.00; before the invoice 19,980.00.
    let refusal = scenario
        .when(issued("INV-A2", cny("100.00"), "2026-03-16"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);

    assert_eq!(refusal.metadata("exposure"), Some("19980.00"));
    assert_eq!(refusal.metadata("shortfall"), Some("80.00"));
    assert_eq!(refusal.metadata("exposure_usd"), Some("1400.00"));
    assert_eq!(refusal.metadata("rate_usd"), Some("7.2"));
    assert_eq!(refusal.metadata("converted_usd"), Some("10080.00"));
    assert_eq!(refusal.metadata("exposure_eur"), Some("500.00"));
    assert_eq!(refusal.metadata("rate_eur"), Some("7.8"));
    assert_eq!(refusal.metadata("converted_eur"), Some("3900.00"));
    assert!(
        refusal
            .message
            .contains("1400.00 USD at 7.2 = 10080.00 CNY"),
        "{refusal}"
    );
}

#[test]
fn the_same_invoice_is_accepted_after_a_rate_change() {
    let mut rates = march_rates();
    // 03-17: USD 7.0.
    rates.publish(
        currency("CNY"),
        date("2026-03-17"),
        &rates_of(&[("USD", "7.0")]),
    );
    let mut scenario = given([
        credit_limit(cny("20000.00")).block().event(),
        issued("INV-A1", cny("6000.00"), "2026-03-01").event(),
        issued("INV-U1", usd("1400.00"), "2026-03-05").event(),
        issued("INV-E1", money("500.00", "EUR"), "2026-03-10").event(),
    ])
    .with_rates(rates);

    // On 03-16 (USD 7.2): 20,080.00, refused as above.
    scenario
        .when(issued("INV-A2", cny("100.00"), "2026-03-16"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::CreditLimitExceeded);
    // On 03-17 (USD 7.0): 6,000.00 + 100.00 + 3,900.00 + 9,800.00 = 19,800.00.
    let check = scenario
        .when(issued("INV-A2", cny("100.00"), "2026-03-17"))
        .then_invoice_issued()
        .credit_check
        .expect("checked");
    assert_eq!(check.exposure_after, cny("19800.00"));
}

#[test]
fn an_invoice_in_a_currency_without_a_rate_on_its_date_is_refused_under_a_limit() {
    let mut scenario = customer_in_three_currencies();

    // JPY's first rate is of 03-15.
    let refusal = scenario
        .when(issued("INV-J1", money("10000", "JPY"), "2026-03-12"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExchangeRateMissing);

    assert_eq!(refusal.metadata("currency"), Some("JPY"));
    assert_eq!(refusal.metadata("limit_currency"), Some("CNY"));
    assert_eq!(refusal.metadata("date"), Some("2026-03-12"));
    assert_eq!(
        refusal.precondition_violations[0].subject,
        "group/exchange_rates/JPY"
    );
    // From 03-15 on: 10,000 JPY x 0.048 = 480.00.
    let check = scenario
        .when(issued("INV-J1", money("10000", "JPY"), "2026-03-15"))
        .then_invoice_issued()
        .credit_check
        .expect("checked");
    assert_eq!(check.exposure_after, cny("6480.00"));
}

#[test]
fn a_missing_rate_refuses_under_warn_too_and_without_a_limit_nothing_is_converted() {
    let mut warned = given([credit_limit(cny("20000.00")).warn().event()]);
    warned
        .when(issued("INV-U1", usd("10.00"), "2026-03-05"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExchangeRateMissing);

    let mut unlimited = given([]);
    let issued = unlimited
        .when(issued("INV-U1", usd("10.00"), "2026-03-05"))
        .then_invoice_issued();
    assert_eq!(issued.credit_check, None);
}

#[test]
fn other_currency_exposure_already_on_the_account_needs_its_rate_too() {
    // A USD invoice issued before the limit was set, and no rates at all: a CNY invoice under
    // the new limit cannot count the USD exposure.
    let mut scenario = given([
        issued("INV-U1", usd("10.00"), "2026-03-05").event(),
        credit_limit(cny("20000.00")).block().event(),
    ]);

    let refusal = scenario
        .when(issued("INV-A1", cny("100.00"), "2026-03-06"))
        .then_refused(RefusalCode::FailedPrecondition, Reason::ExchangeRateMissing);
    assert_eq!(refusal.metadata("currency"), Some("USD"));
}

#[test]
fn a_limit_in_another_currency_than_the_base_converts_across() {
    let mut scenario =
        given([credit_limit(usd("1000.00")).block().event()]).with_rates(march_rates());

    // CNY to USD on 03-16: 1 / 7.2 = 0.13888888888... -> 0.1388888889; 1,000.00 CNY x
    // 0.1388888889 = 138.8888889 -> 138.89 USD.
    let check = scenario
        .when(issued("INV-A1", cny("1000.00"), "2026-03-16"))
        .then_invoice_issued()
        .credit_check
        .expect("checked");
    assert_eq!(check.exposure_after, usd("138.89"));
    assert_eq!(check.conversions[0].rate, rate("0.1388888889"));
}

fn publish(base: &str, on: &str, pairs: &[(&str, &str)]) -> CommandBody {
    CommandBody::PublishExchangeRates(PublishExchangeRates {
        base: currency(base),
        rate_date: date(on),
        rates: rates_of(pairs),
        source: "PBOC central parity".to_owned(),
    })
}

#[test]
fn a_publication_is_recorded_in_the_group_account_and_its_rates_apply() {
    let mut group = given_group([]);

    let recorded = group
        .when(publish(
            "CNY",
            "2026-03-01",
            &[("USD", "7.1"), ("EUR", "7.8")],
        ))
        .then_accepted();

    assert_eq!(recorded.envelope.customer_id, CustomerId::group());
    assert_eq!(recorded.envelope.effective_date, date("2026-03-01"));
    let rates = group.account().state().exchange_rates();
    assert_eq!(rates.base(), Some(currency("CNY")));
    assert_eq!(
        rates.rate_on(currency("EUR"), date("2026-06-30")),
        Ok(rate("7.8"))
    );
}

#[test]
fn a_publication_to_another_base_is_refused() {
    let mut group = given_group([Event::ExchangeRatesPublished(ExchangeRatesPublished {
        base: currency("CNY"),
        rate_date: date("2026-03-01"),
        rates: rates_of(&[("USD", "7.1")]),
        source: String::new(),
    })]);

    let refusal = group
        .when(publish("USD", "2026-03-02", &[("CNY", "0.14")]))
        .then_refused(
            RefusalCode::FailedPrecondition,
            Reason::BaseCurrencyMismatch,
        );
    assert_eq!(refusal.metadata("base"), Some("CNY"));
}

#[test]
fn the_base_listed_a_currency_twice_and_no_rates_are_refused_naming_the_fields() {
    let mut group = given_group([]);

    let refusal = group
        .when(publish(
            "CNY",
            "2026-03-01",
            &[("USD", "7.1"), ("CNY", "1"), ("USD", "7.2")],
        ))
        .then_invalid("rates[1].currency");
    let fields: Vec<&str> = refusal
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, ["rates[1].currency", "rates[2].currency"]);
    group
        .when(publish("CNY", "2026-03-01", &[]))
        .then_invalid("rates");
}

#[test]
fn a_publication_addressed_to_a_customer_is_refused() {
    let mut customer = given([]);

    customer
        .when(publish("CNY", "2026-03-01", &[("USD", "7.1")]))
        .then_invalid("customer_id");
}
