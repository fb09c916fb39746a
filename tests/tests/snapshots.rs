//! Snapshots of accounts through the real service, on both backends: a customer with a long
//! history is snapshotted as it goes; a service started again restores the account from the
//! snapshot and the events after it (the same account, answer for answer); a damaged snapshot
//! is passed over for the events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use receivables::accounts::SNAPSHOT_EVERY_EVENTS;
use receivables::config::EVENT_LOG_FILE;
use receivables_api::pb;
use receivables_domain::{AccountSnapshot, CustomerId, Position};
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_eventlog::sqlite::SqliteLog;
use receivables_tests::*;
use sha2::{Digest, Sha256};

/// Events of the customer beyond the first snapshot's.
const EVENTS_AFTER_THE_SNAPSHOT: u64 = 21;

/// The position a snapshot the test saves is filed under: above any the service saves, so that
/// the store keeps the test's (it keeps the newest of a customer by this position).
const ABOVE_ANY_POSITION: Position = Position::new(1_000_000_000);

fn get(customer: &str) -> pb::GetAccountRequest {
    pb::GetAccountRequest {
        customer_id: customer.to_owned(),
    }
}

/// A credit limit, then invoices of 100.00 and payments of 60.00 (oldest due first) by turns,
/// over gRPC, until the customer has `events` events.
async fn post_history(service: &TestAllInOne, customer: &str, events: u64) {
    let mut commands = service.commands().await;
    commands
        .change_credit_limit(credit_limit(customer, "100000000", pb::CreditPolicy::Warn))
        .await
        .unwrap();
    for n in 1..events {
        if n % 2 == 1 {
            let number = format!("{customer}-INV-{n:05}");
            commands
                .issue_invoice(invoice(
                    customer,
                    "SUB-A",
                    &number,
                    "100.00",
                    "2026-05-01",
                    "2026-05-31",
                ))
                .await
                .unwrap();
        } else {
            commands
                .record_payment(payment(customer, "SUB-A", "60.00", "2026-05-20"))
                .await
                .unwrap();
        }
    }
}

/// The snapshot the service saved of `customer`, read from the log as the service reads it.
async fn saved_snapshot<L: EventLog>(log: &L, customer: &CustomerId) -> Vec<u8> {
    // Saving runs in the background of the command that triggered it.
    for _ in 0..500 {
        if let Some(bytes) = log.load_snapshot(customer).await.unwrap() {
            return bytes;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no snapshot of {customer} was saved");
}

/// `bytes` with its content changed by `change` and its digest made to match, as a snapshot
/// written so would read.
fn rewritten(bytes: &[u8], change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut content: serde_json::Value = serde_json::from_slice(&bytes[32..]).unwrap();
    change(&mut content);
    let content = serde_json::to_vec(&content).unwrap();
    let mut bytes = Sha256::digest(&content).to_vec();
    bytes.extend_from_slice(&content);
    bytes
}

/// What the test does to the log while the service is stopped.
async fn on_the_log<T>(data: &TestData, act: impl AsyncLog<T>) -> T {
    match &data.nats {
        Some(nats) => {
            let client = async_nats::connect(nats.url()).await.unwrap();
            let log = JetStreamLog::attach(client, JetStreamConfig::default())
                .await
                .unwrap();
            act.run(&log).await
        }
        None => {
            let log = SqliteLog::open(&data.directory.path().join(EVENT_LOG_FILE))
                .await
                .unwrap();
            let result = act.run(&log).await;
            log.close().await.unwrap();
            result
        }
    }
}

/// Something done with either backend's log.
trait AsyncLog<T> {
    async fn run<L: EventLog>(self, log: &L) -> T;
}

/// Reads the saved snapshot; checks where it ends.
struct ReadSnapshot(CustomerId);

impl AsyncLog<(Vec<u8>, Position)> for ReadSnapshot {
    async fn run<L: EventLog>(self, log: &L) -> (Vec<u8>, Position) {
        let bytes = saved_snapshot(log, &self.0).await;
        let head = AccountSnapshot::decode(&bytes).unwrap().head();
        // Snapshotted when the account reached SNAPSHOT_EVERY_EVENTS events, at its event of
        // that number.
        assert_eq!(head.event_count, SNAPSHOT_EVERY_EVENTS);
        let events = log.load(&self.0, Position::ZERO).await.unwrap();
        let nth = usize::try_from(SNAPSHOT_EVERY_EVENTS).unwrap() - 1;
        assert_eq!(head.position, events[nth].position);
        (bytes, head.position)
    }
}

/// Saves `bytes` as the customer's newest snapshot.
struct SaveSnapshot(CustomerId, Position, Vec<u8>);

impl AsyncLog<()> for SaveSnapshot {
    async fn run<L: EventLog>(self, log: &L) {
        log.save_snapshot(&self.0, self.1, self.2).await.unwrap();
    }
}

async fn an_account_restored_from_its_snapshot_answers_as_the_account_of_every_event(
    backends: Backends,
) {
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let customer = CustomerId::parse("C-1").unwrap();
    // Given a customer with more events than make a snapshot, and one with a few
    let service = TestAllInOne::start(&data).await;
    post_history(
        &service,
        "C-1",
        SNAPSHOT_EVERY_EVENTS + EVENTS_AFTER_THE_SNAPSHOT,
    )
    .await;
    post_history(&service, "C-2", 5).await;
    let mut commands = service.commands().await;
    let whole = commands.get_account(get("C-1")).await.unwrap().into_inner();
    let short = commands.get_account(get("C-2")).await.unwrap().into_inner();
    assert_eq!(
        whole.event_count,
        SNAPSHOT_EVERY_EVENTS + EVENTS_AFTER_THE_SNAPSHOT
    );
    // 510 invoices of 100.00 less 510 payments of 60.00
    let open: Vec<_> = whole
        .balances
        .iter()
        .map(|b| b.open_invoices.clone())
        .collect();
    assert_eq!(open, vec![cny("20400.00")]);
    service.stop().await;
    // And the snapshot the service saved when it reached SNAPSHOT_EVERY_EVENTS events
    let (bytes, _) = on_the_log(&data, ReadSnapshot(customer.clone())).await;

    // When the service starts again, nothing cached
    let service = TestAllInOne::start(&data).await;
    let mut commands = service.commands().await;
    // Then both accounts answer as before, and take new commands from where they were
    assert_eq!(
        commands.get_account(get("C-1")).await.unwrap().into_inner(),
        whole
    );
    assert_eq!(
        commands.get_account(get("C-2")).await.unwrap().into_inner(),
        short
    );
    let next = commands
        .issue_invoice(invoice(
            "C-1",
            "SUB-A",
            "INV-NEXT",
            "1.00",
            "2026-05-01",
            "2026-05-31",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!next.receipt.unwrap().replayed);
    service.stop().await;

    // When the snapshot is replaced by one whose content names another collector, with a
    // digest that matches it and the same last event
    let marked = rewritten(&bytes, |content| {
        content["state"]["collector"] = serde_json::json!("Read From The Snapshot");
    });
    on_the_log(
        &data,
        SaveSnapshot(customer.clone(), ABOVE_ANY_POSITION, marked),
    )
    .await;
    let service = TestAllInOne::start(&data).await;
    let mut commands = service.commands().await;
    // Then the account was restored from it, not from the events: a snapshot that checks out
    // is believed (the log's event it names is there, with its hash)
    let restored = commands.get_account(get("C-1")).await.unwrap().into_inner();
    assert_eq!(restored.collector, "Read From The Snapshot");
    assert_eq!(restored.event_count, whole.event_count + 1);
    service.stop().await;

    // When the snapshot is damaged (a byte of its content changed, its digest not), or names
    // an event the log holds with another hash
    let damaged = {
        let mut damaged = bytes.clone();
        let last = damaged.len() - 2;
        damaged[last] ^= 0x01;
        damaged
    };
    let elsewhere = rewritten(&bytes, |content| {
        content["last_hash"] = serde_json::json!("00".repeat(32));
    });
    for (n, bad) in [damaged, elsewhere].into_iter().enumerate() {
        // Above the marked one and any the service saved since
        let newer = Position::new(ABOVE_ANY_POSITION.get() + 1 + n as u64);
        on_the_log(&data, SaveSnapshot(customer.clone(), newer, bad)).await;
        let service = TestAllInOne::start(&data).await;
        let mut commands = service.commands().await;
        // Then the account is loaded from its events: as it was, with the invoice after
        let account = commands.get_account(get("C-1")).await.unwrap().into_inner();
        assert_eq!(account.collector, whole.collector);
        assert_eq!(account.event_count, whole.event_count + 1);
        // 20,400.00 and the invoice of 1.00 after
        let open: Vec<_> = account
            .balances
            .iter()
            .map(|b| b.open_invoices.clone())
            .collect();
        assert_eq!(open, vec![cny("20401.00")]);
        service.stop().await;
    }
    data.remove().await;
}

on_both_backends!(an_account_restored_from_its_snapshot_answers_as_the_account_of_every_event);
