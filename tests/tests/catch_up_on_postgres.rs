//! A PostgreSQL read model filled by a catch-up: batches of thousands of rows, which the
//! projector writes with a binary `COPY` where a table is only appended to, hold every row as
//! the events say; and the model gets its planner statistics as soon as the projector has
//! caught up, not only every `ANALYZE_AFTER_EVENTS` events (planned as for empty tables, the
//! exact aging of a fresh 100,000-event model ran for minutes instead of a second).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::event::CreditLimitChanged;
use receivables_domain::ids::PersonName;
use receivables_domain::testing::EnvelopeBuilder;
use receivables_domain::{Currency, CustomerId, Event, Money, Position};
use receivables_eventlog::EventLog;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_projections::runtime::{ANALYZE_AFTER_EVENTS, ANALYZE_WHEN_CAUGHT_UP_AFTER_EVENTS};
use receivables_tests::projecting::RunningProjector;
use receivables_tests::*;

/// Customers of the history, each with `CHANGES_EACH` credit-limit changes.
const CUSTOMERS: u64 = 1_200;
const CHANGES_EACH: u64 = 10;

/// How long the statistics view may take to show an `ANALYZE` that was run.
const STATISTICS_WAIT: Duration = Duration::from_secs(15);

fn limit_change(customer: &CustomerId, limit: u64) -> receivables_domain::EventEnvelope {
    let cny = Currency::parse("CNY").unwrap();
    let event = Event::CreditLimitChanged(CreditLimitChanged {
        limit: Money::non_negative(&format!("{limit}.00"), cny).unwrap(),
        policy: CreditPolicy::Block,
        grade: CreditGrade::B,
        reason: "annual review".to_owned(),
        approved_by: PersonName::parse("Li Wei").unwrap(),
        overdue_hold_days: None,
    });
    EnvelopeBuilder::new(customer.clone(), event).build()
}

/// When `credit_terms_history` was last analyzed by a command (not by autovacuum).
async fn analyzed(database: &TestDatabase) -> bool {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM pg_stat_user_tables
         WHERE relname = 'credit_terms_history' AND last_analyze IS NOT NULL",
    )
    .fetch_one(&database.pool)
    .await
    .unwrap();
    count > 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_writes_every_row_and_leaves_the_model_analyzed() {
    init_logging();
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    // Given an embedded log of 12,000 events, more than a catch-up's threshold and fewer than
    // the periodic one
    let events = CUSTOMERS * CHANGES_EACH;
    assert!((ANALYZE_WHEN_CAUGHT_UP_AFTER_EVENTS..ANALYZE_AFTER_EVENTS).contains(&events));
    let directory = tempfile::tempdir().unwrap();
    let log = Arc::new(
        SqliteLog::open(&directory.path().join("events.sqlite"))
            .await
            .unwrap(),
    );
    let appended = join_all((0..CUSTOMERS).map(|n| {
        let log = Arc::clone(&log);
        async move {
            let customer = CustomerId::parse(&format!("C-{n:05}")).unwrap();
            let run: Vec<_> = (1..=CHANGES_EACH)
                .map(|change| limit_change(&customer, 1_000 * change))
                .collect();
            log.append_run(&run, Position::ZERO).await
        }
    }))
    .await;
    assert!(appended.iter().all(|run| run.stopped.is_none()));
    let last = log.last_position().await.unwrap();
    assert_eq!(last.get(), events);
    assert!(
        !analyzed(&database).await,
        "a fresh database has no statistics"
    );

    // When a projector catches up with it
    let running = RunningProjector::follow(Arc::clone(&log), database.read.clone()).await;
    assert!(
        running
            .projector
            .wait_for(last, Duration::from_secs(120))
            .await,
        "the projector did not catch up"
    );

    // Then every change is a row of the history, as the events say: 1,200 customers, limits
    // of 1,000.00 to 10,000.00 (55,000.00 each, 5,500,000 fen), all in CNY, at positions 1 to
    // 12,000, effective on the day they were recorded
    let (rows, customers, total, first, last_position, in_cny, on_the_day): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT customer_id), SUM(limit_minor)::BIGINT,
                MIN(position), MAX(position),
                COUNT(*) FILTER (WHERE currency = 'CNY'),
                COUNT(*) FILTER (WHERE effective_date = DATE '2026-06-30')
         FROM credit_terms_history",
    )
    .fetch_one(&database.pool)
    .await
    .unwrap();
    assert_eq!(rows, 12_000);
    assert_eq!(customers, 1_200);
    assert_eq!(total, 1_200 * 5_500_000);
    assert_eq!((first, last_position), (1, 12_000));
    assert_eq!((in_cny, on_the_day), (12_000, 12_000));
    let (one_customer,): (String,) = sqlx::query_as(
        "SELECT string_agg(limit_minor::TEXT, ',' ORDER BY position)
         FROM credit_terms_history WHERE customer_id = 'C-00042'",
    )
    .fetch_one(&database.pool)
    .await
    .unwrap();
    assert_eq!(
        one_customer,
        "100000,200000,300000,400000,500000,600000,700000,800000,900000,1000000"
    );

    // And the read model's tables are analyzed
    let waited = Instant::now();
    while !analyzed(&database).await {
        assert!(
            waited.elapsed() < STATISTICS_WAIT,
            "credit_terms_history not analyzed after a catch-up of {events} events"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    running.stop().await;
    log.close().await.unwrap();
    database.drop_database().await;
}
