//! Today's summaries answer as the exact computation does, for every customer, after a long
//! randomized history posted over gRPC to a real command service on a real JetStream server.
//!
//! Two read models of the engine under test follow the same log: the *live* one keeps its
//! summaries for the business date D (2026-06-30) while the history is posted, batch by batch;
//! the *exact* one keeps them for a date no query asks about (2031-01-01), so that every one of
//! its answers is the exact computation. The history moves invoices in every way the summaries
//! must follow (payments oldest due first and on account, credit notes against invoices and on
//! account, write-offs, disputes opened and resolved, payments reversed, unapplied cash applied
//! and refunded, invoices due in schedules, instalment plans agreed and cancelled), dated before
//! and after D, in two currencies, at three subsidiaries. At checkpoints along the way and at
//! the end, the aging (every basis, every grouping, filtered), every customer's exposure,
//! every page of the work queue and the collections forecast are compared. Then the business
//! date moves on (the summaries follow it), more history follows, and they are compared again;
//! then the date is set back, then the summaries are lost and worked out whole, and last, a read
//! model projected from scratch compares equal too.
//!
//! The history and the questions are `receivables_tests::random_history`'s. `SUMMARIES_SEED`
//! replays a run's history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use receivables_domain::{CustomerId, Position};
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_projections::ReadPool;
use receivables_projections::aging;
use receivables_projections::exposure;
use receivables_projections::forecast::{self, FORECAST_WEEKS_DEFAULT, ForecastQuery};
use receivables_projections::promises::PROMISE_GRACE_DAYS_DEFAULT;
use receivables_projections::runtime::Projector;
use receivables_projections::summaries::{self, BusinessClock};
use receivables_tests::projecting::RunningProjector;
use receivables_tests::random_history::*;
use receivables_tests::*;

/// Commands posted before the date moves on, and after.
const COMMANDS_BEFORE: usize = 900;
const COMMANDS_AFTER: usize = 300;
/// Commands between two comparisons.
const CHECK_EVERY: usize = 300;

fn business_date() -> NaiveDate {
    date("2026-06-30")
}

/// The date the business date moves on to.
fn later_business_date() -> NaiveDate {
    date("2026-08-12")
}

/// A date the exact read model keeps its summaries for, which no comparison asks about.
fn never_asked() -> NaiveDate {
    date("2031-01-01")
}

/// A projector following the log into `read`, keeping its summaries for `today`.
struct Following {
    projector: Arc<Projector<JetStreamLog>>,
    running: RunningProjector<JetStreamLog>,
}

impl Following {
    async fn start(nats: &NatsServer, read: &ReadPool, today: NaiveDate) -> Following {
        let client = async_nats::connect(nats.url()).await.unwrap();
        let log = Arc::new(
            JetStreamLog::open(client, JetStreamConfig::default())
                .await
                .unwrap(),
        );
        let running = RunningProjector::start(
            Projector::new(log, read.clone())
                .await
                .unwrap()
                .with_clock(BusinessClock::new(Some(today))),
        );
        Following {
            projector: Arc::clone(&running.projector),
            running,
        }
    }

    async fn reach(&self, position: u64) {
        assert!(
            self.projector
                .wait_for(Position::new(position), Duration::from_secs(60))
                .await,
            "the projector reached {position}"
        );
    }

    async fn stop(self) {
        self.running.stop().await;
    }
}

/// The summarised read model answers every query of `as_of` as the exact one does; returns how
/// many customers' lines were compared.
async fn compare(summarised: &ReadPool, exact: &ReadPool, as_of: NaiveDate, moment: &str) -> usize {
    assert!(
        summaries::covers(summarised, as_of).await.unwrap(),
        "{moment}: the summaries answer for {as_of}"
    );
    assert!(
        !summaries::covers(exact, as_of).await.unwrap(),
        "{moment}: the exact read model has no summaries for {as_of}"
    );
    for request in aging_requests(as_of) {
        assert_eq!(
            aging::report(summarised, &request).await.unwrap(),
            aging::report(exact, &request).await.unwrap(),
            "{moment}: the aging {request:?}"
        );
    }
    let exposures = all_exposures(exact, as_of).await;
    assert_eq!(
        all_exposures(summarised, as_of).await,
        exposures,
        "{moment}: every exposure line"
    );
    for index in 0..CUSTOMERS as u64 {
        let customer = CustomerId::parse(&customer(index)).unwrap();
        assert_eq!(
            exposure::exposure(summarised, &customer, as_of)
                .await
                .unwrap(),
            exposure::exposure(exact, &customer, as_of).await.unwrap(),
            "{moment}: the exposure of {customer}"
        );
    }
    let forecast_query =
        ForecastQuery::new(as_of, FORECAST_WEEKS_DEFAULT, PROMISE_GRACE_DAYS_DEFAULT).unwrap();
    assert_eq!(
        forecast::forecast(summarised, &forecast_query)
            .await
            .unwrap(),
        forecast::forecast(exact, &forecast_query).await.unwrap(),
        "{moment}: the collections forecast"
    );
    for include_snoozed in [false, true] {
        assert_eq!(
            whole_queue(summarised, as_of, include_snoozed).await,
            whole_queue(exact, as_of, include_snoozed).await,
            "{moment}: the work queue (snoozed too: {include_snoozed})"
        );
    }
    exposures.len()
}

/// Removes the summaries' state, as a read model made before them has none.
async fn forget_summaries(read: &ReadPool) {
    const FORGET: &str = "DELETE FROM summary_state";
    match read {
        ReadPool::Postgres(pool) => {
            sqlx::query(FORGET).execute(pool).await.unwrap();
        }
        ReadPool::Sqlite(pool) => {
            sqlx::query(FORGET).execute(pool).await.unwrap();
        }
    }
}

async fn summaries_answer_as_the_exact_computation_does(engine: Engine) {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(live) = TestReadModel::create(engine).await else {
        return;
    };
    let Some(exact) = TestReadModel::create(engine).await else {
        return;
    };
    let mut rng = Rng::seeded("SUMMARIES_SEED", "summaries");
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;
    let mut made = Made::default();

    // Given both read models following the log while the history is posted
    let following = Following::start(&nats, &live.read, business_date()).await;
    let exact_following = Following::start(&nats, &exact.read, never_asked()).await;
    let mut last = 0;
    for round in 0..COMMANDS_BEFORE / CHECK_EVERY {
        last = last.max(post(&mut client, &mut rng, &mut made, CHECK_EVERY).await);
        following.reach(last).await;
        exact_following.reach(last).await;
        // Then the summaries, kept batch by batch, answer as the exact computation
        compare(
            &live.read,
            &exact.read,
            business_date(),
            &format!("after round {round}"),
        )
        .await;
    }
    following.stop().await;

    // When the business date moves on: the summaries are worked out whole for it
    let following = Following::start(&nats, &live.read, later_business_date()).await;
    following.projector.roll_forward().await.unwrap();
    compare(
        &live.read,
        &exact.read,
        later_business_date(),
        "on the new date",
    )
    .await;
    // And kept again batch by batch
    last = last.max(post(&mut client, &mut rng, &mut made, COMMANDS_AFTER).await);
    following.reach(last).await;
    exact_following.reach(last).await;
    let customers = compare(
        &live.read,
        &exact.read,
        later_business_date(),
        "after more history on the new date",
    )
    .await;
    following.stop().await;
    exact_following.stop().await;

    // When the business date is set back (a service restarted with an earlier one)
    let earlier = date("2026-07-20");
    summaries::roll_forward(&live.read, earlier).await.unwrap();
    compare(&live.read, &exact.read, earlier, "on a date set back").await;

    // When the summaries are gone: they are worked out whole
    forget_summaries(&live.read).await;
    assert!(!summaries::covers(&live.read, earlier).await.unwrap());
    assert_eq!(
        summaries::roll_forward(&live.read, earlier).await.unwrap(),
        summaries::Maintained::Whole
    );
    compare(&live.read, &exact.read, earlier, "worked out whole").await;

    // And a read model projected from scratch (its summaries worked out whole) agrees too
    let Some(scratch) = TestReadModel::create(engine).await else {
        return;
    };
    let from_scratch = Following::start(&nats, &scratch.read, later_business_date()).await;
    from_scratch.reach(last).await;
    compare(
        &scratch.read,
        &exact.read,
        later_business_date(),
        "projected from scratch",
    )
    .await;
    from_scratch.stop().await;

    // The history did move money in every way the summaries follow
    eprintln!(
        "summaries: accepted {:?}, refused {}, {customers} exposure lines compared",
        made.accepted, made.refused
    );
    for kind in [
        "invoice",
        "payment",
        "credit note",
        "write-off",
        "dispute",
        "resolution",
        "reversal",
        "application",
        "refund",
        "plan",
        "plan cancelled",
    ] {
        assert!(
            made.accepted.get(kind).copied().unwrap_or(0) >= 2,
            "at least two of {kind} accepted: {:?}",
            made.accepted
        );
    }
    assert!(customers >= CUSTOMERS, "every customer has exposure lines");

    service.stop().await;
    scratch.remove().await;
    live.remove().await;
    exact.remove().await;
}

on_both_engines!(summaries_answer_as_the_exact_computation_does);
