//! A PostgreSQL read model filled by a catch-up gets its planner statistics as soon as the
//! projector has caught up, not only every `ANALYZE_AFTER_EVENTS` events: planned as for empty
//! tables, the exact aging of a fresh 100,000-event model ran for minutes instead of a second.
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
use receivables_projections::runtime::{
    ANALYZE_AFTER_EVENTS, ANALYZE_WHEN_CAUGHT_UP_AFTER_EVENTS, Projector,
};
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
async fn a_read_model_filled_by_a_catch_up_is_analyzed_once_caught_up() {
    init_logging();
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    // Given an embedded log of 12,000 events, more than a catch-up's threshold and fewer than
    // the periodic one
    let events = CUSTOMERS * CHANGES_EACH;
    assert!(events >= ANALYZE_WHEN_CAUGHT_UP_AFTER_EVENTS && events < ANALYZE_AFTER_EVENTS);
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
    let projector = Arc::new(
        Projector::new(Arc::clone(&log), database.read.clone())
            .await
            .unwrap(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let projector = Arc::clone(&projector);
        tokio::spawn(async move {
            projector
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    assert!(
        projector.wait_for(last, Duration::from_secs(120)).await,
        "the projector did not catch up"
    );

    // Then the read model's tables are analyzed
    let waited = Instant::now();
    while !analyzed(&database).await {
        assert!(
            waited.elapsed() < STATISTICS_WAIT,
            "credit_terms_history not analyzed after a catch-up of {events} events"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    log.close().await.unwrap();
    database.drop_database().await;
}
