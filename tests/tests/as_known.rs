//! The read model as known at a position (`receivables_projections::known`) answers every
//! report as a replay of the events recorded by then does, on both read-model engines.
//!
//! A long random history (`receivables_tests::random_history`, plus what the history tables
//! keep: customers registered and renamed, collectors assigned to customers and as
//! subsidiaries' defaults, credit limits changed, promises to pay) is posted over gRPC to a real
//! command service on a real JetStream server, round by round; a real projector follows the
//! log into the live read model, keeping today's summaries. A moment is noted between rounds,
//! one before the first event and one exactly at an event's own `recorded_at` (an event
//! recorded at the moment is known at it).
//!
//! Then, for every moment, the expected answers come from an independent path: a fresh read
//! model of the same engine into which the test itself replays the log's events recorded at or
//! before the moment. The live read model, seen as known at the position the moment gives
//! (`known::position_at`, `known::pool`), must answer every aging (each basis, grouping and
//! filter), every exposure line and each customer's exposure, the whole work queue (snoozed
//! too), the forecast and the metrics exactly as it does, for a date under today's summaries
//! and for another; and the position must be the replay's last event.
//!
//! `AS_KNOWN_SEED` replays a run's history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, Utc};
use futures::StreamExt;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_domain::{CustomerId, Position, RecordedEvent};
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_projections::forecast::{self, FORECAST_WEEKS_DEFAULT, ForecastQuery};
use receivables_projections::metrics::{self, MetricsQuery};
use receivables_projections::promises::PROMISE_GRACE_DAYS_DEFAULT;
use receivables_projections::runtime::{self, Projector};
use receivables_projections::summaries::BusinessClock;
use receivables_projections::{ReadPool, aging, exposure, known};
use receivables_tests::projecting::RunningProjector;
use receivables_tests::random_history::*;
use receivables_tests::*;
use tonic::transport::Channel;

/// Rounds of history, a moment noted after each.
const ROUNDS: usize = 6;
/// Random ledger commands per round, and commands of the kept tables.
const LEDGER_COMMANDS: usize = 70;
const KEPT_COMMANDS: usize = 12;

/// Time left between a moment noted and the events on either side of it.
const BOUNDARY_GAP: Duration = Duration::from_millis(15);

/// The business date the live read model keeps today's summaries for: a report of it would
/// read them live, and must not as known.
fn business_date() -> NaiveDate {
    date("2026-06-30")
}

/// Another date, which every read model works out exactly.
fn other_date() -> NaiveDate {
    date("2026-04-15")
}

const COLLECTORS: [&str; 3] = ["Wang Fang", "Zhou Min", "Sun Li"];

/// Posts `count` commands of what the history tables keep: a customer registered or renamed,
/// a collector assigned to a customer or as a subsidiary's default, a credit limit changed, a
/// promise to pay. The service decides each; a refusal (the collector assigned already, a
/// promise of more than is owed) records nothing. Returns the last position.
async fn post_kept(
    client: &mut CommandServiceClient<Channel>,
    rng: &mut Rng,
    registered: &mut BTreeSet<String>,
    count: usize,
) -> u64 {
    let mut last = 0;
    for _ in 0..count {
        let customer_id = customer(rng.below(CUSTOMERS as u64));
        let subsidiary = SUBSIDIARIES[rng.below(3) as usize];
        let collector = *rng.pick(&COLLECTORS).unwrap();
        let receipt = match rng.below(5) {
            0 => {
                let profile = Some(pb::CustomerProfile {
                    name: format!("Customer {customer_id} v{}", rng.below(1_000)),
                    legal_name: format!("{customer_id} Trading Co., Ltd."),
                    ..Default::default()
                });
                if registered.insert(customer_id.clone()) {
                    let request = pb::RegisterCustomerRequest {
                        command_id: command_id(),
                        customer_id,
                        profile,
                    };
                    client
                        .register_customer(request)
                        .await
                        .ok()
                        .and_then(|reply| reply.into_inner().receipt)
                } else {
                    let request = pb::UpdateCustomerRequest {
                        command_id: command_id(),
                        customer_id,
                        profile,
                    };
                    client
                        .update_customer(request)
                        .await
                        .ok()
                        .and_then(|reply| reply.into_inner().receipt)
                }
            }
            1 => {
                let default_for = rng.below(3) == 0;
                let request = pb::AssignCollectorRequest {
                    command_id: command_id(),
                    customer_id: if default_for {
                        String::new()
                    } else {
                        customer_id
                    },
                    default_for_subsidiary_id: if default_for {
                        subsidiary.to_owned()
                    } else {
                        String::new()
                    },
                    collector: collector.to_owned(),
                };
                client
                    .assign_collector(request)
                    .await
                    .ok()
                    .and_then(|reply| reply.into_inner().receipt)
            }
            2 | 3 => {
                let limit = format!("{}.00", 5_000 * (1 + rng.below(40)));
                let policy = if rng.below(2) == 0 {
                    pb::CreditPolicy::Warn
                } else {
                    pb::CreditPolicy::Block
                };
                client
                    .change_credit_limit(credit_limit(&customer_id, &limit, policy))
                    .await
                    .ok()
                    .and_then(|reply| reply.into_inner().receipt)
            }
            _ => {
                let made_on = rng.day();
                let promised = made_on + Days::new(rng.below(40));
                let text = |day: NaiveDate| day.format("%Y-%m-%d").to_string();
                client
                    .record_promise_to_pay(promise(
                        &customer_id,
                        subsidiary,
                        &format!("{}.00", 100 + rng.below(5_000)),
                        &text(made_on),
                        &text(promised),
                    ))
                    .await
                    .ok()
                    .and_then(|reply| reply.into_inner().receipt)
            }
        };
        if let Some(receipt) = receipt {
            last = last.max(receipt.position);
        }
    }
    last
}

/// A moment between events: after the ones posted so far, before the next.
async fn note_moment() -> DateTime<Utc> {
    tokio::time::sleep(BOUNDARY_GAP).await;
    let moment = Utc::now();
    tokio::time::sleep(BOUNDARY_GAP).await;
    moment
}

/// Every event of the log up to `last`, in order.
async fn read_log(log: &JetStreamLog, last: Position) -> Vec<RecordedEvent> {
    let mut feed = log.follow(Position::ZERO).await.unwrap();
    let mut events = Vec::new();
    while let Some(event) = feed.next().await {
        let event = event.unwrap();
        let position = event.position;
        events.push(event);
        if position >= last {
            break;
        }
    }
    events
}

/// A fresh read model of `engine` into which the events recorded at or before `moment` are
/// replayed: the expected answers.
async fn replayed(
    engine: Engine,
    events: &[RecordedEvent],
    moment: DateTime<Utc>,
) -> TestReadModel {
    let model = TestReadModel::create(engine)
        .await
        .expect("a read model (its engine was there for the live one)");
    let known: Vec<RecordedEvent> = events
        .iter()
        .filter(|event| event.envelope.recorded_at <= moment)
        .cloned()
        .collect();
    for batch in known.chunks(runtime::BATCH_EVENTS_MAX) {
        runtime::apply_events(&model.read, batch).await.unwrap();
    }
    model
}

/// The live read model seen as known at `moment` answers as `replay` does, for `as_of`.
async fn compare(known: &ReadPool, replay: &ReadPool, as_of: NaiveDate, moment: &str) {
    for request in aging_requests(as_of) {
        assert_eq!(
            aging::report(known, &request).await.unwrap(),
            aging::report(replay, &request).await.unwrap(),
            "{moment}: the aging {request:?}"
        );
    }
    assert_eq!(
        all_exposures(known, as_of).await,
        all_exposures(replay, as_of).await,
        "{moment}: every exposure line"
    );
    for index in 0..CUSTOMERS as u64 {
        let customer = CustomerId::parse(&customer(index)).unwrap();
        assert_eq!(
            exposure::exposure(known, &customer, as_of).await.unwrap(),
            exposure::exposure(replay, &customer, as_of).await.unwrap(),
            "{moment}: the exposure of {customer}"
        );
    }
    for include_snoozed in [false, true] {
        assert_eq!(
            whole_queue(known, as_of, include_snoozed).await,
            whole_queue(replay, as_of, include_snoozed).await,
            "{moment}: the work queue (snoozed too: {include_snoozed})"
        );
    }
    let forecast_query =
        ForecastQuery::new(as_of, FORECAST_WEEKS_DEFAULT, PROMISE_GRACE_DAYS_DEFAULT).unwrap();
    assert_eq!(
        forecast::forecast(known, &forecast_query).await.unwrap(),
        forecast::forecast(replay, &forecast_query).await.unwrap(),
        "{moment}: the collections forecast"
    );
    let metrics_query =
        MetricsQuery::new(date("2026-01-01"), as_of, PROMISE_GRACE_DAYS_DEFAULT).unwrap();
    assert_eq!(
        metrics::metrics(known, &metrics_query).await.unwrap(),
        metrics::metrics(replay, &metrics_query).await.unwrap(),
        "{moment}: the metrics"
    );
}

async fn as_known_answers_as_a_replay_does(engine: Engine) {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(live) = TestReadModel::create(engine).await else {
        return;
    };
    let mut rng = Rng::seeded("AS_KNOWN_SEED", "as known");
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;
    let mut made = Made::default();
    let mut registered = BTreeSet::new();

    // Given the live read model following the log, its summaries kept for the business date
    let client_log = async_nats::connect(nats.url()).await.unwrap();
    let log = Arc::new(
        JetStreamLog::open(client_log, JetStreamConfig::default())
            .await
            .unwrap(),
    );
    let following = RunningProjector::start(
        Projector::new(Arc::clone(&log), live.read.clone())
            .await
            .unwrap()
            .with_clock(BusinessClock::new(Some(business_date()))),
    );
    // And a history posted round by round, a moment noted before it and after each round
    let mut moments = vec![("before the first event".to_owned(), note_moment().await)];
    let mut last = 0;
    for round in 0..ROUNDS {
        last = last.max(post(&mut client, &mut rng, &mut made, LEDGER_COMMANDS).await);
        last = last.max(post_kept(&mut client, &mut rng, &mut registered, KEPT_COMMANDS).await);
        moments.push((format!("after round {round}"), note_moment().await));
    }
    assert!(
        following
            .projector
            .wait_for(Position::new(last), Duration::from_secs(60))
            .await,
        "the projector reached {last}"
    );
    let events = read_log(&log, Position::new(last)).await;
    assert_eq!(events.last().map(|e| e.position.get()), Some(last));
    // And a moment exactly at an event's own recording, in the middle of the history
    let middle = &events[events.len() / 2];
    moments.push((
        format!("at the recording of position {}", middle.position),
        middle.envelope.recorded_at,
    ));
    eprintln!(
        "as known: {} events, accepted {:?}, refused {}, {} customers registered",
        events.len(),
        made.accepted,
        made.refused,
        registered.len()
    );

    for (name, moment) in &moments {
        // When the live read model is seen as known at the moment
        let position = known::position_at(&live.read, *moment, Position::new(last))
            .await
            .unwrap();
        let replay = replayed(engine, &events, *moment).await;
        let replayed_to = events
            .iter()
            .filter(|event| event.envelope.recorded_at <= *moment)
            .map(|event| event.position)
            .max()
            .unwrap_or(Position::ZERO);
        // Then the moment's position is the last event recorded by then
        assert_eq!(position, replayed_to, "{name}: the position known");
        let seen = known::pool(&live.read, position).await.unwrap();
        // And every report answers as the replay does, under today's summaries and not
        for as_of in [business_date(), other_date()] {
            compare(
                &seen,
                &replay.read,
                as_of,
                &format!("{name}, as of {as_of}"),
            )
            .await;
        }
        seen.close().await;
        replay.remove().await;
    }
    // And known at the last moment, a report of the business date is the live one, which the
    // summaries answer
    let (_, newest) = moments[ROUNDS];
    let position = known::position_at(&live.read, newest, Position::new(last))
        .await
        .unwrap();
    assert_eq!(position, Position::new(last));
    let seen = known::pool(&live.read, position).await.unwrap();
    for request in aging_requests(business_date()) {
        assert_eq!(
            aging::report(&seen, &request).await.unwrap(),
            aging::report(&live.read, &request).await.unwrap(),
            "known now: the aging {request:?}"
        );
    }
    seen.close().await;

    following.stop().await;
    service.stop().await;
    live.remove().await;
}

on_both_engines!(as_known_answers_as_a_replay_does);
