//! The demo data set loaded into a real command service on a real `nats-server`: everything is
//! accepted except the planted over-limit invoices (credit notes, write-offs, reversals naming
//! payments by their command ids, applications, refunds and disputes included), the totals
//! agree with the accounts, and a second load records nothing new.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::str::FromStr;

use receivables_api::pb;
use receivables_demo::{DemoSize, KindCounts, REASON_CREDIT_LIMIT_EXCEEDED, generate, load};
use receivables_tests::{NatsServer, TestService, last_sequence};
use rust_decimal::Decimal;
use tonic::transport::{Channel, Endpoint};

/// Fixed, so that a failure can be replayed with `generate(SEED, &DemoSize::SMALL, today)`.
const SEED: u64 = 20_260_318;

async fn channel(service: &TestService) -> Channel {
    Endpoint::from_shared(format!("http://{}", service.address))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn amount(money: Option<&pb::Money>) -> (String, Decimal) {
    let money = money.unwrap();
    (
        money.currency.clone(),
        Decimal::from_str(&money.amount).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_small_demo_loads_once_and_only_once() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    // The service refuses payments received after its own date: end the data set there.
    let today = chrono::Utc::now().date_naive();
    let commands = generate(SEED, &DemoSize::SMALL, today);
    let planted = commands
        .iter()
        .filter(|c| c.is_planted_over_limit())
        .count();
    assert_eq!(planted, DemoSize::SMALL.over_limit_invoices);

    let first = load(channel(&service).await, commands.clone(), false)
        .await
        .unwrap();
    assert_eq!(first.unexpected, 0, "{first:#?}");
    assert_eq!(first.planted_refused, planted);
    assert_eq!(first.refused_total(), planted);
    assert_eq!(first.refused[REASON_CREDIT_LIMIT_EXCEEDED], planted);
    let mut expected = KindCounts::of(&commands);
    expected.invoices -= planted;
    assert_eq!(first.accepted, expected);
    assert_eq!(first.replayed, 0);
    let sequence = last_sequence(&nats.url()).await;
    assert_eq!(first.last_position, sequence);
    assert_eq!(
        u64::try_from(first.accepted.total()).unwrap(),
        sequence,
        "one event per accepted command"
    );

    // The totals agree with what the accounts hold.
    let mut client = service.client().await;
    let mut open: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut unapplied: BTreeMap<String, Decimal> = BTreeMap::new();
    // The customers' accounts; the group's own (its settings) holds no balance.
    let mut customers: Vec<&str> = commands
        .iter()
        .map(|c| c.customer_id())
        .filter(|customer| *customer != "_group")
        .collect();
    customers.sort_unstable();
    customers.dedup();
    for customer in customers {
        let account = client
            .get_account(pb::GetAccountRequest {
                customer_id: customer.to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        for balance in account.balances {
            let (currency, amount_open) = amount(balance.open_invoices.as_ref());
            *open.entry(currency.clone()).or_default() += amount_open;
            // Unapplied cash and unapplied credit (credit notes on account).
            let (_, amount_unapplied) = amount(balance.unapplied.as_ref());
            let (_, amount_credit) = amount(balance.unapplied_credit.as_ref());
            *unapplied.entry(currency).or_default() += amount_unapplied + amount_credit;
        }
    }
    for (currency, totals) in &first.totals {
        assert_eq!(
            open.get(currency).copied().unwrap_or_default(),
            totals.open(),
            "open {currency}"
        );
        assert_eq!(
            unapplied.get(currency).copied().unwrap_or_default(),
            totals.unapplied(),
            "unapplied {currency}"
        );
    }
    assert!(first.totals.values().any(|t| t.unapplied() > Decimal::ZERO));

    // Loading the same commands again records nothing and answers as the first time.
    let second = load(channel(&service).await, commands, false)
        .await
        .unwrap();
    assert_eq!(last_sequence(&nats.url()).await, sequence);
    assert_eq!(second.accepted, first.accepted);
    assert_eq!(second.replayed, second.accepted.total());
    assert_eq!(second.refused, first.refused);
    assert_eq!(second.totals, first.totals);
    assert_eq!(second.last_position, first.last_position);
    assert_eq!(second.unexpected, 0);

    service.stop().await;
}

/// The full data set, for a look at how long a demo takes to load: `cargo test -p
/// receivables-demo --test demo_data -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "loads about 11,500 commands; run by hand"]
async fn the_full_demo_loads() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let today = chrono::Utc::now().date_naive();
    let commands = generate(SEED, &DemoSize::FULL, today);
    let planted = commands
        .iter()
        .filter(|c| c.is_planted_over_limit())
        .count();
    let started = std::time::Instant::now();
    let summary = load(channel(&service).await, commands.clone(), false)
        .await
        .unwrap();
    println!(
        "{} commands in {:?}: {summary:#?}",
        commands.len(),
        started.elapsed()
    );
    assert_eq!(summary.unexpected, 0);
    assert_eq!(summary.planted_refused, planted);
    assert_eq!(summary.refused_total(), planted);
    let mut expected = KindCounts::of(&commands);
    expected.invoices -= planted;
    assert_eq!(summary.accepted, expected);
    assert_eq!(last_sequence(&nats.url()).await, summary.last_position);
    service.stop().await;
}
