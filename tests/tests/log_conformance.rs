#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The event log's conformance suite: every behaviour the command service and the projectors rely
//! on is one generic function over [`EventLog`], run against the embedded backend (`SqliteLog`
//! on a file in a temporary directory) and against JetStream (`JetStreamLog` on a `nats-server`
//! the test starts itself), so that the two backends cannot drift apart.
//!
//! Then the embedded backend's own promises: the file keeps every event at its position across a
//! reopen, a dropped log and a killed process; a second log on the same file is seen by
//! followers; closing finishes what was queued.
//!
//! Expected positions are worked out by hand: positions are log-wide, 1, 2, 3, ... in the order
//! of the appends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::event::CreditLimitChanged;
use receivables_domain::ids::PersonName;
use receivables_domain::testing::EnvelopeBuilder;
use receivables_domain::{
    CommandId, Currency, CustomerId, Event, EventEnvelope, EventId, InvoiceKey, InvoiceNumber,
    Money, Position, Principal, RecordedEvent, SubsidiaryId,
};
use receivables_eventlog::codec::EVENT_BYTES_MAX;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_eventlog::snapshots::SNAPSHOT_BYTES_MAX;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_eventlog::{
    Append, Appended, AppendedRun, Claim, EventLog, LogError, Reservation, RunStop,
};
use receivables_tests::{NatsServer, init_logging};
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

/// How long a follower may take to deliver an event that is already committed.
const FOLLOW_WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Events and claims
// ---------------------------------------------------------------------------------------------

fn customer(id: &str) -> CustomerId {
    CustomerId::parse(id).unwrap()
}

fn new_command_id() -> CommandId {
    CommandId::from_uuid(Uuid::new_v4()).unwrap()
}

fn at(position: u64) -> Position {
    Position::new(position)
}

/// A credit-limit change of `customer_id`, caused by `command_id`.
fn event_with(customer_id: &str, command_id: CommandId) -> EventEnvelope {
    let cny = Currency::parse("CNY").unwrap();
    let event = Event::CreditLimitChanged(CreditLimitChanged {
        limit: Money::non_negative("10000.00", cny).unwrap(),
        policy: CreditPolicy::Block,
        grade: CreditGrade::B,
        reason: "annual review".to_owned(),
        approved_by: PersonName::parse("Li Wei").unwrap(),
        overdue_hold_days: None,
    });
    // The log stores what it is given; the chain is the command service's concern.
    EnvelopeBuilder::new(customer(customer_id), event)
        .command_id(command_id)
        .principal(Principal::parse("credit@group").unwrap())
        .unsealed()
}

/// An event of `customer_id` with a command id of its own.
fn event(customer_id: &str) -> EventEnvelope {
    event_with(customer_id, new_command_id())
}

fn recorded(position: u64, envelope: &EventEnvelope) -> RecordedEvent {
    RecordedEvent {
        position: at(position),
        envelope: envelope.clone(),
    }
}

fn invoice_key(subsidiary: &str, number: &str) -> InvoiceKey {
    InvoiceKey {
        subsidiary_id: SubsidiaryId::parse(subsidiary).unwrap(),
        invoice_number: InvoiceNumber::parse(number).unwrap(),
    }
}

fn claim_of(customer_id: &str) -> Claim {
    Claim {
        command_id: new_command_id(),
        customer_id: customer(customer_id),
    }
}

fn positions(events: &[RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.position.get()).collect()
}

/// The next `count` events of a feed, each within [`FOLLOW_WAIT`].
async fn take(
    feed: &mut BoxStream<'static, Result<RecordedEvent, LogError>>,
    count: usize,
) -> Vec<RecordedEvent> {
    let mut events = Vec::with_capacity(count);
    for _ in 0..count {
        let next = tokio::time::timeout(FOLLOW_WAIT, feed.next())
            .await
            .expect("the follower delivered nothing in time")
            .expect("the feed ended")
            .expect("the feed broke");
        events.push(next);
    }
    events
}

/// Whether the feed stays quiet for a moment (nothing more than what was appended).
async fn quiet(feed: &mut BoxStream<'static, Result<RecordedEvent, LogError>>) -> bool {
    tokio::time::timeout(Duration::from_millis(300), feed.next())
        .await
        .is_err()
}

// ---------------------------------------------------------------------------------------------
// The behaviours, once, for any log
// ---------------------------------------------------------------------------------------------

async fn append_to_an_empty_history_and_load_it_back<L: EventLog>(log: &L) {
    let first = event("C-1");
    let second = event("C-1");
    assert_eq!(
        log.append(&first, Position::ZERO).await.unwrap(),
        Appended::New(at(1))
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![recorded(1, &first)]
    );
    assert_eq!(
        log.append(&second, at(1)).await.unwrap(),
        Appended::New(at(2))
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![recorded(1, &first), recorded(2, &second)]
    );
    assert_eq!(
        log.load(&customer("C-2"), Position::ZERO).await.unwrap(),
        vec![],
        "a customer without events has an empty history"
    );
}

async fn a_stale_expected_position_conflicts_and_appends_nothing<L: EventLog>(log: &L) {
    let first = event("C-1");
    assert_eq!(
        log.append(&first, Position::ZERO).await.unwrap(),
        Appended::New(at(1))
    );
    // The history is at 1: "empty" is stale, 5 was never reached.
    assert_eq!(
        log.append(&event("C-1"), Position::ZERO).await,
        Err(LogError::Conflict {
            expected: Position::ZERO
        })
    );
    assert_eq!(
        log.append(&event("C-1"), at(5)).await,
        Err(LogError::Conflict { expected: at(5) })
    );
    // Another customer's position is not this customer's.
    assert_eq!(
        log.append(&event("C-2"), Position::ZERO).await.unwrap(),
        Appended::New(at(2))
    );
    assert_eq!(
        log.append(&event("C-1"), at(2)).await,
        Err(LogError::Conflict { expected: at(2) })
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![recorded(1, &first)]
    );
    assert_eq!(log.last_position().await.unwrap(), at(2));
}

async fn a_retried_command_is_a_duplicate_at_its_first_position<L: EventLog>(log: &L) {
    let first = event("C-1");
    assert_eq!(
        log.append(&first, Position::ZERO).await.unwrap(),
        Appended::New(at(1))
    );
    // The reply was lost; the client sends the same command again, as it was.
    assert_eq!(
        log.append(&first, Position::ZERO).await.unwrap(),
        Appended::Duplicate(at(1))
    );
    // Decided again against the account at 1, with a new event id: still the same command.
    let mut again = first.clone();
    again.event_id = EventId::from_uuid(Uuid::new_v4()).unwrap();
    assert_eq!(
        log.append(&again, at(1)).await.unwrap(),
        Appended::Duplicate(at(1))
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![recorded(1, &first)]
    );
    assert_eq!(log.last_position().await.unwrap(), at(1));
    // The next command goes on from 1.
    assert_eq!(
        log.append(&event("C-1"), at(1)).await.unwrap(),
        Appended::New(at(2))
    );
}

async fn a_run_is_appended_in_order_each_event_after_the_one_before<L: EventLog>(log: &L) {
    // Given a customer at 1 and another customer at 2
    let first = event("C-1");
    log.append(&first, Position::ZERO).await.unwrap();
    log.append(&event("C-2"), Position::ZERO).await.unwrap();
    // When a run of three events of the first customer is appended expecting 1
    let run = [event("C-1"), event("C-1"), event("C-1")];
    let appended = log.append_run(&run, at(1)).await;
    // Then all three take the next positions, in order, and the customer's history holds them
    assert_eq!(
        appended,
        AppendedRun {
            positions: vec![at(3), at(4), at(5)],
            stopped: None
        }
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![
            recorded(1, &first),
            recorded(3, &run[0]),
            recorded(4, &run[1]),
            recorded(5, &run[2])
        ]
    );
    assert_eq!(log.last_position_of(&customer("C-1")).await.unwrap(), at(5));
    // And an empty run appends nothing
    assert_eq!(
        log.append_run(&[], at(5)).await,
        AppendedRun {
            positions: vec![],
            stopped: None
        }
    );
    assert_eq!(log.last_position().await.unwrap(), at(5));
}

async fn a_run_on_a_stale_position_conflicts_and_appends_nothing<L: EventLog>(log: &L) {
    // Given a customer at 1
    log.append(&event("C-1"), Position::ZERO).await.unwrap();
    // When a run is appended expecting an empty history
    let appended = log
        .append_run(&[event("C-1"), event("C-1")], Position::ZERO)
        .await;
    // Then nothing of it is appended, and the stop says why
    assert_eq!(
        appended,
        AppendedRun {
            positions: vec![],
            stopped: Some(RunStop::Failed(LogError::Conflict {
                expected: Position::ZERO
            }))
        }
    );
    assert_eq!(log.last_position().await.unwrap(), at(1));
}

async fn a_run_stops_at_a_command_id_the_log_has_taken<L: EventLog>(log: &L) {
    // Given a customer whose first event's command the log has taken
    let first = event("C-1");
    log.append(&first, Position::ZERO).await.unwrap();
    // When a run carries a new event, that command again, and another new event
    let (new, after) = (event("C-1"), event("C-1"));
    let appended = log
        .append_run(&[new.clone(), first.clone(), after], at(1))
        .await;
    // Then the event before it is appended and the run stops there, naming the first position
    assert_eq!(
        appended,
        AppendedRun {
            positions: vec![at(2)],
            stopped: Some(RunStop::Duplicate(at(1)))
        }
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![recorded(1, &first), recorded(2, &new)]
    );
    assert_eq!(log.last_position().await.unwrap(), at(2));
}

async fn events_in_order_go_in_at_the_next_positions_each_after_its_own<L: EventLog>(log: &L) {
    // Given a log whose last position is 1 (C-1's event)
    let first = event("C-1");
    log.append(&first, Position::ZERO).await.unwrap();
    // When C-2's first event, C-1's second and C-2's second are appended in order after 1,
    // each expecting its customer's position as the three before it leave it
    let (a, b, c) = (event("C-2"), event("C-1"), event("C-2"));
    let appends = [
        Append {
            envelope: a.clone(),
            expected: Position::ZERO,
        },
        Append {
            envelope: b.clone(),
            expected: at(1),
        },
        Append {
            envelope: c.clone(),
            expected: at(2),
        },
    ];
    let appended = log.append_in_order(&appends, at(1)).await;
    // Then they take positions 2, 3 and 4 in that order
    assert_eq!(
        appended,
        AppendedRun {
            positions: vec![at(2), at(3), at(4)],
            stopped: None
        }
    );
    assert_eq!(
        log.load(&customer("C-2"), Position::ZERO).await.unwrap(),
        vec![recorded(2, &a), recorded(4, &c)]
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![recorded(1, &first), recorded(3, &b)]
    );
}

async fn events_in_order_on_a_stale_last_position_append_nothing<L: EventLog>(log: &L) {
    // Given a log whose last position is 2
    log.append(&event("C-1"), Position::ZERO).await.unwrap();
    log.append(&event("C-2"), Position::ZERO).await.unwrap();
    // When events are appended in order as if the log ended at 1, each right for its customer
    let appends = [
        Append {
            envelope: event("C-3"),
            expected: Position::ZERO,
        },
        Append {
            envelope: event("C-1"),
            expected: at(1),
        },
    ];
    let appended = log.append_in_order(&appends, at(1)).await;
    // Then none is appended
    assert_eq!(appended.positions, vec![]);
    assert!(
        matches!(
            appended.stopped,
            Some(RunStop::Failed(LogError::Conflict { .. }))
        ),
        "{appended:?}"
    );
    assert_eq!(log.last_position().await.unwrap(), at(2));
}

async fn events_in_order_stop_at_the_first_not_appended<L: EventLog>(log: &L) {
    // Given C-1 at 1
    let first = event("C-1");
    log.append(&first, Position::ZERO).await.unwrap();
    // When a new event of C-2, then one of C-1 expecting an empty history, then another new
    // event of C-3 are appended in order after 1
    let new = event("C-2");
    let appends = [
        Append {
            envelope: new.clone(),
            expected: Position::ZERO,
        },
        Append {
            envelope: event("C-1"),
            expected: Position::ZERO,
        },
        Append {
            envelope: event("C-3"),
            expected: Position::ZERO,
        },
    ];
    let appended = log.append_in_order(&appends, at(1)).await;
    // Then the first is appended, the second conflicts, and the third, valid as it is, is not
    // appended after it
    assert_eq!(appended.positions, vec![at(2)]);
    assert!(
        matches!(
            appended.stopped,
            Some(RunStop::Failed(LogError::Conflict { .. }))
        ),
        "{appended:?}"
    );
    assert_eq!(log.last_position().await.unwrap(), at(2));
    assert_eq!(
        log.last_position_of(&customer("C-3")).await.unwrap(),
        Position::ZERO
    );
    // And a command the log has taken stops them at its position, none after it appended
    let appends = [
        Append {
            envelope: first.clone(),
            expected: at(1),
        },
        Append {
            envelope: event("C-3"),
            expected: Position::ZERO,
        },
    ];
    let appended = log.append_in_order(&appends, at(2)).await;
    assert_eq!(
        appended,
        AppendedRun {
            positions: vec![],
            stopped: Some(RunStop::Duplicate(at(1)))
        }
    );
    assert_eq!(log.last_position().await.unwrap(), at(2));
}

async fn an_event_is_read_back_by_its_position_for_its_customer_only<L: EventLog>(log: &L) {
    let first = event("C-1");
    let other = event("C-2");
    let second = event("C-1");
    log.append(&first, Position::ZERO).await.unwrap();
    log.append(&other, Position::ZERO).await.unwrap();
    log.append(&second, at(1)).await.unwrap();
    // The reply to a retried command is read back where its account saw it.
    assert_eq!(
        log.event_at(&customer("C-1"), at(1)).await.unwrap(),
        recorded(1, &first)
    );
    assert_eq!(
        log.event_at(&customer("C-1"), at(3)).await.unwrap(),
        recorded(3, &second)
    );
    assert_eq!(
        log.event_at(&customer("C-2"), at(2)).await.unwrap(),
        recorded(2, &other)
    );
    // Another customer's event, or none, where the account saw one: the log is not what the
    // account was built from.
    for (owner, position) in [("C-2", 1), ("C-1", 2), ("C-1", 4), ("C-9", 9)] {
        match log.event_at(&customer(owner), at(position)).await {
            Err(LogError::Corrupt {
                position: found, ..
            }) => assert_eq!(found, at(position)),
            other => panic!("{owner} at {position}: {other:?}"),
        }
    }
}

/// Bytes standing for a snapshot: the log keeps them as they are (the domain checks them).
fn snapshot_of(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn a_snapshot_is_kept_per_customer_and_only_a_newer_one_replaces_it<L: EventLog>(log: &L) {
    // Given no snapshot at all
    assert_eq!(log.load_snapshot(&customer("C-1")).await.unwrap(), None);
    // When two customers' snapshots are saved, then each reads back its own
    let first = snapshot_of(1_000, 1);
    log.save_snapshot(&customer("C-1"), at(5), first.clone())
        .await
        .unwrap();
    let other = snapshot_of(2_000, 2);
    log.save_snapshot(&customer("C-2"), at(3), other.clone())
        .await
        .unwrap();
    assert_eq!(
        log.load_snapshot(&customer("C-1")).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        log.load_snapshot(&customer("C-2")).await.unwrap(),
        Some(other)
    );
    // An older snapshot saved late does not replace the newer one
    log.save_snapshot(&customer("C-1"), at(4), snapshot_of(10, 3))
        .await
        .unwrap();
    assert_eq!(
        log.load_snapshot(&customer("C-1")).await.unwrap(),
        Some(first)
    );
    // A newer one of 3 MB (three times a NATS message's default limit) replaces it whole
    let large = snapshot_of(3 * 1024 * 1024, 4);
    log.save_snapshot(&customer("C-1"), at(9), large.clone())
        .await
        .unwrap();
    assert_eq!(
        log.load_snapshot(&customer("C-1")).await.unwrap(),
        Some(large.clone())
    );
    // One above the limit is refused and the saved one stays
    match log
        .save_snapshot(&customer("C-1"), at(10), vec![0; SNAPSHOT_BYTES_MAX + 1])
        .await
    {
        Err(LogError::Refused(_)) => {}
        other => panic!("a snapshot above the limit: {other:?}"),
    }
    assert_eq!(
        log.load_snapshot(&customer("C-1")).await.unwrap(),
        Some(large)
    );
}

async fn a_command_id_reused_for_another_customer_is_a_duplicate<L: EventLog>(log: &L) {
    let shared = new_command_id();
    let first = event_with("C-1", shared);
    assert_eq!(
        log.append(&first, Position::ZERO).await.unwrap(),
        Appended::New(at(1))
    );
    // The executor finds that position 1 is not in C-2's history and refuses the command.
    assert_eq!(
        log.append(&event_with("C-2", shared), Position::ZERO)
            .await
            .unwrap(),
        Appended::Duplicate(at(1))
    );
    assert_eq!(
        log.load(&customer("C-2"), Position::ZERO).await.unwrap(),
        vec![]
    );
    assert_eq!(log.last_position().await.unwrap(), at(1));
}

async fn positions_are_log_wide_and_increase_across_customers<L: EventLog>(log: &L) {
    let c1_a = event("C-1");
    let c2_a = event("C-2");
    let c1_b = event("C-1");
    let c3_a = event("C-3");
    let c2_b = event("C-2");
    assert_eq!(
        log.append(&c1_a, Position::ZERO).await.unwrap(),
        Appended::New(at(1))
    );
    assert_eq!(
        log.append(&c2_a, Position::ZERO).await.unwrap(),
        Appended::New(at(2))
    );
    assert_eq!(
        log.append(&c1_b, at(1)).await.unwrap(),
        Appended::New(at(3))
    );
    assert_eq!(
        log.append(&c3_a, Position::ZERO).await.unwrap(),
        Appended::New(at(4))
    );
    assert_eq!(
        log.append(&c2_b, at(2)).await.unwrap(),
        Appended::New(at(5))
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![recorded(1, &c1_a), recorded(3, &c1_b)]
    );
    assert_eq!(
        log.load(&customer("C-2"), Position::ZERO).await.unwrap(),
        vec![recorded(2, &c2_a), recorded(5, &c2_b)]
    );
    assert_eq!(
        log.load(&customer("C-3"), Position::ZERO).await.unwrap(),
        vec![recorded(4, &c3_a)]
    );
}

async fn load_after_a_position<L: EventLog>(log: &L) {
    // C-1 at 1, 2 and 4; C-2 at 3.
    let c1 = [event("C-1"), event("C-1"), event("C-1")];
    log.append(&c1[0], Position::ZERO).await.unwrap();
    log.append(&c1[1], at(1)).await.unwrap();
    log.append(&event("C-2"), Position::ZERO).await.unwrap();
    log.append(&c1[2], at(2)).await.unwrap();
    let c1_id = customer("C-1");
    assert_eq!(
        log.load(&c1_id, at(1)).await.unwrap(),
        vec![recorded(2, &c1[1]), recorded(4, &c1[2])]
    );
    assert_eq!(
        log.load(&c1_id, at(2)).await.unwrap(),
        vec![recorded(4, &c1[2])]
    );
    assert_eq!(
        log.load(&c1_id, at(3)).await.unwrap(),
        vec![recorded(4, &c1[2])],
        "a position of another customer is a valid starting point"
    );
    assert_eq!(log.load(&c1_id, at(4)).await.unwrap(), vec![]);
    assert_eq!(log.load(&c1_id, at(100)).await.unwrap(), vec![]);
}

async fn follow_from_zero_sees_the_history_then_new_appends<L: EventLog>(log: &L) {
    let history = [event("C-1"), event("C-2"), event("C-1")];
    log.append(&history[0], Position::ZERO).await.unwrap();
    log.append(&history[1], Position::ZERO).await.unwrap();
    log.append(&history[2], at(1)).await.unwrap();
    let mut feed = log.follow(Position::ZERO).await.unwrap();
    assert_eq!(
        take(&mut feed, 3).await,
        vec![
            recorded(1, &history[0]),
            recorded(2, &history[1]),
            recorded(3, &history[2])
        ]
    );
    assert!(quiet(&mut feed).await, "nothing beyond the history yet");
    let later = [event("C-2"), event("C-3")];
    assert_eq!(
        log.append(&later[0], at(2)).await.unwrap(),
        Appended::New(at(4))
    );
    assert_eq!(
        log.append(&later[1], Position::ZERO).await.unwrap(),
        Appended::New(at(5))
    );
    assert_eq!(
        take(&mut feed, 2).await,
        vec![recorded(4, &later[0]), recorded(5, &later[1])]
    );
    assert!(quiet(&mut feed).await);
}

async fn follow_from_a_middle_position<L: EventLog>(log: &L) {
    let history = [event("C-1"), event("C-2"), event("C-3"), event("C-4")];
    for envelope in &history {
        log.append(envelope, Position::ZERO).await.unwrap();
    }
    let mut feed = log.follow(at(2)).await.unwrap();
    assert_eq!(
        positions(&take(&mut feed, 2).await),
        vec![3, 4],
        "the events after 2"
    );
    let mut at_the_end = log.follow(at(4)).await.unwrap();
    assert!(quiet(&mut at_the_end).await, "nothing after the last event");
    let fifth = event("C-1");
    log.append(&fifth, at(1)).await.unwrap();
    assert_eq!(take(&mut feed, 1).await, vec![recorded(5, &fifth)]);
    assert_eq!(take(&mut at_the_end, 1).await, vec![recorded(5, &fifth)]);
}

async fn last_position_is_the_last_event_of_the_whole_log<L: EventLog>(log: &L) {
    assert_eq!(log.last_position().await.unwrap(), Position::ZERO);
    let first = event("C-1");
    log.append(&first, Position::ZERO).await.unwrap();
    log.append(&event("C-2"), Position::ZERO).await.unwrap();
    log.append(&event("C-1"), at(1)).await.unwrap();
    assert_eq!(log.last_position().await.unwrap(), at(3));
    // Neither a conflict nor a duplicate moves it.
    assert!(log.append(&event("C-1"), at(1)).await.is_err());
    assert_eq!(
        log.append(&first, at(3)).await.unwrap(),
        Appended::Duplicate(at(1))
    );
    assert_eq!(log.last_position().await.unwrap(), at(3));
}

async fn a_customers_last_position_is_its_own_last_event<L: EventLog>(log: &L) {
    assert_eq!(
        log.last_position_of(&customer("C-1")).await.unwrap(),
        Position::ZERO
    );
    let first = event("C-1");
    log.append(&first, Position::ZERO).await.unwrap();
    log.append(&event("C-2"), Position::ZERO).await.unwrap();
    log.append(&event("C-1"), at(1)).await.unwrap();
    log.append(&event("C-2"), at(2)).await.unwrap();
    assert_eq!(log.last_position_of(&customer("C-1")).await.unwrap(), at(3));
    assert_eq!(log.last_position_of(&customer("C-2")).await.unwrap(), at(4));
    // Neither a conflict nor a duplicate moves it; a customer without events has none.
    assert!(log.append(&event("C-1"), at(1)).await.is_err());
    assert_eq!(
        log.append(&first, at(3)).await.unwrap(),
        Appended::Duplicate(at(1))
    );
    assert_eq!(log.last_position_of(&customer("C-1")).await.unwrap(), at(3));
    assert_eq!(
        log.last_position_of(&customer("C-3")).await.unwrap(),
        Position::ZERO
    );
}

async fn invoice_numbers_are_reserved_once_across_customers<L: EventLog>(log: &L) {
    let number = invoice_key("SUB-A", "INV-2026-0001");
    let first = claim_of("C-1");
    let second = claim_of("C-2");
    assert_eq!(
        log.reserve_invoice_number(&number, &first).await.unwrap(),
        Reservation::Held
    );
    assert_eq!(
        log.reserve_invoice_number(&number, &first).await.unwrap(),
        Reservation::Held,
        "a retried command finds its own reservation"
    );
    assert_eq!(
        log.reserve_invoice_number(&number, &second).await.unwrap(),
        Reservation::TakenBy(first.clone())
    );
    // The same number at another subsidiary is another number.
    assert_eq!(
        log.reserve_invoice_number(&invoice_key("SUB-B", "INV-2026-0001"), &second)
            .await
            .unwrap(),
        Reservation::Held
    );
    // Numbers with '.' and '/' are numbers like any other.
    let dotted = invoice_key("SUB-A", "SO/2026.17");
    assert_eq!(
        log.reserve_invoice_number(&dotted, &second).await.unwrap(),
        Reservation::Held
    );
    assert_eq!(
        log.reserve_invoice_number(&dotted, &first).await.unwrap(),
        Reservation::TakenBy(second.clone())
    );
    // Another claim cannot release it; the holder can.
    log.release_invoice_number(&number, &second).await.unwrap();
    assert_eq!(
        log.reserve_invoice_number(&number, &second).await.unwrap(),
        Reservation::TakenBy(first.clone())
    );
    log.release_invoice_number(&number, &first).await.unwrap();
    assert_eq!(
        log.reserve_invoice_number(&number, &second).await.unwrap(),
        Reservation::Held,
        "a released number is free again"
    );
    assert_eq!(
        log.reserve_invoice_number(&number, &first).await.unwrap(),
        Reservation::TakenBy(second.clone())
    );
    // Releasing a number nobody holds, or twice, is harmless.
    let never = invoice_key("SUB-C", "NEVER-1");
    log.release_invoice_number(&never, &first).await.unwrap();
    log.release_invoice_number(&number, &second).await.unwrap();
    log.release_invoice_number(&number, &second).await.unwrap();
    assert_eq!(
        log.reserve_invoice_number(&number, &first).await.unwrap(),
        Reservation::Held,
        "the first claim can take it back once it is free"
    );
    assert_eq!(
        log.last_position().await.unwrap(),
        Position::ZERO,
        "reservations are not events"
    );
}

/// How many appends race for the same expected position.
const RACERS: usize = 8;

async fn concurrent_appends_with_the_same_expected_position_one_wins<L: EventLog>(log: &L) {
    log.append(&event("HOT"), Position::ZERO).await.unwrap();
    log.append(&event("COLD"), Position::ZERO).await.unwrap();
    // All sent before any is answered: on SQLite they land in one group commit.
    let racers: Vec<EventEnvelope> = (0..RACERS).map(|_| event("HOT")).collect();
    let outcomes =
        futures::future::join_all(racers.iter().map(|envelope| log.append(envelope, at(1)))).await;
    let winners: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, outcome)| matches!(outcome, Ok(Appended::New(_))))
        .map(|(index, _)| index)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one wins: {outcomes:?}");
    let winner = winners[0];
    assert_eq!(outcomes[winner], Ok(Appended::New(at(3))));
    for (index, outcome) in outcomes.iter().enumerate() {
        if index != winner {
            assert_eq!(*outcome, Err(LogError::Conflict { expected: at(1) }));
        }
    }
    assert_eq!(
        positions(&log.load(&customer("HOT"), Position::ZERO).await.unwrap()),
        vec![1, 3]
    );
    assert_eq!(log.last_position().await.unwrap(), at(3));
    // Two racers for two customers both win.
    let (left, right) = (event("HOT"), event("COLD"));
    let (left_outcome, right_outcome) =
        tokio::join!(log.append(&left, at(3)), log.append(&right, at(2)));
    let mut won = [left_outcome.unwrap(), right_outcome.unwrap()];
    won.sort_by_key(|appended| match appended {
        Appended::New(position) | Appended::Duplicate(position) => *position,
    });
    assert_eq!(won, [Appended::New(at(4)), Appended::New(at(5))]);
}

async fn an_oversized_event_is_refused_and_nothing_appended<L: EventLog>(log: &L) {
    let mut huge = event("C-1");
    if let Event::CreditLimitChanged(change) = &mut huge.event {
        change.reason = "x".repeat(EVENT_BYTES_MAX);
    }
    assert!(matches!(
        log.append(&huge, Position::ZERO).await,
        Err(LogError::Refused(_))
    ));
    assert_eq!(log.last_position().await.unwrap(), Position::ZERO);
}

// ---------------------------------------------------------------------------------------------
// Both backends
// ---------------------------------------------------------------------------------------------

/// A fresh embedded log in a directory that does not exist yet.
async fn fresh_sqlite() -> (SqliteLog, tempfile::TempDir) {
    let directory = tempfile::tempdir().unwrap();
    let log = SqliteLog::open(&directory.path().join("data").join("events.db"))
        .await
        .unwrap();
    (log, directory)
}

/// A JetStream log on a server of its own, or `None` (loudly) without a server binary.
async fn fresh_jetstream() -> Option<(JetStreamLog, NatsServer)> {
    let nats = NatsServer::start_default().await?;
    let client = async_nats::connect(nats.url()).await.unwrap();
    let log = JetStreamLog::open(client, JetStreamConfig::default())
        .await
        .unwrap();
    Some((log, nats))
}

macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    super::init_logging();
                    let (log, _directory) = super::fresh_sqlite().await;
                    super::$case(&log).await;
                    log.close().await.unwrap();
                }
            )+
        }

        mod jetstream {
            $(
                #[tokio::test]
                async fn $case() {
                    super::init_logging();
                    let Some((log, _nats)) = super::fresh_jetstream().await else {
                        return;
                    };
                    super::$case(&log).await;
                }
            )+
        }
    };
}

conformance!(
    append_to_an_empty_history_and_load_it_back,
    a_stale_expected_position_conflicts_and_appends_nothing,
    a_retried_command_is_a_duplicate_at_its_first_position,
    a_run_is_appended_in_order_each_event_after_the_one_before,
    a_run_on_a_stale_position_conflicts_and_appends_nothing,
    a_run_stops_at_a_command_id_the_log_has_taken,
    events_in_order_go_in_at_the_next_positions_each_after_its_own,
    events_in_order_on_a_stale_last_position_append_nothing,
    events_in_order_stop_at_the_first_not_appended,
    an_event_is_read_back_by_its_position_for_its_customer_only,
    a_command_id_reused_for_another_customer_is_a_duplicate,
    positions_are_log_wide_and_increase_across_customers,
    load_after_a_position,
    follow_from_zero_sees_the_history_then_new_appends,
    follow_from_a_middle_position,
    last_position_is_the_last_event_of_the_whole_log,
    a_customers_last_position_is_its_own_last_event,
    invoice_numbers_are_reserved_once_across_customers,
    concurrent_appends_with_the_same_expected_position_one_wins,
    an_oversized_event_is_refused_and_nothing_appended,
    a_snapshot_is_kept_per_customer_and_only_a_newer_one_replaces_it,
);

/// The snapshot bucket is an object store the log lays out itself: it works on the machine's
/// old server and on a current one.
#[tokio::test]
async fn jetstream_snapshots_on_every_server_version() {
    init_logging();
    for binary in receivables_tests::all_nats_server_binaries() {
        let nats = NatsServer::start(&binary).await;
        let client = async_nats::connect(nats.url()).await.unwrap();
        let log = JetStreamLog::open(client, JetStreamConfig::default())
            .await
            .unwrap();
        a_snapshot_is_kept_per_customer_and_only_a_newer_one_replaces_it(&log).await;
    }
}

/// The embedded log keeps snapshots in a file of their own beside its file, made by the first
/// snapshot saved: reading none creates nothing.
#[tokio::test]
async fn sqlite_snapshots_live_in_their_own_file_made_when_first_saved() {
    let (log, directory) = fresh_sqlite().await;
    let beside = directory
        .path()
        .join("data")
        .join("events.snapshots.sqlite");
    assert_eq!(log.load_snapshot(&customer("C-1")).await.unwrap(), None);
    assert!(!beside.exists());
    log.save_snapshot(&customer("C-1"), at(1), snapshot_of(10, 0))
        .await
        .unwrap();
    assert!(beside.exists());
    log.close().await.unwrap();
    // Reopened, the log reads what it saved
    let log = SqliteLog::open(&directory.path().join("data").join("events.db"))
        .await
        .unwrap();
    assert_eq!(
        log.load_snapshot(&customer("C-1")).await.unwrap(),
        Some(snapshot_of(10, 0))
    );
    log.close().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The embedded backend's own promises
// ---------------------------------------------------------------------------------------------

/// Every event in the log, read by following it from the start up to its last position.
async fn everything(log: &SqliteLog) -> Vec<RecordedEvent> {
    let last = log.last_position().await.unwrap();
    let count = usize::try_from(last.get()).unwrap();
    let mut feed = log.follow(Position::ZERO).await.unwrap();
    take(&mut feed, count).await
}

#[tokio::test]
async fn sqlite_reopening_the_file_keeps_every_event_at_its_position() {
    init_logging();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("events.db");
    let log = SqliteLog::open(&path).await.unwrap();
    let history = [event("C-1"), event("C-2"), event("C-1")];
    log.append(&history[0], Position::ZERO).await.unwrap();
    log.append(&history[1], Position::ZERO).await.unwrap();
    log.append(&history[2], at(1)).await.unwrap();
    let number = invoice_key("SUB-A", "INV-1");
    let holder = claim_of("C-1");
    log.reserve_invoice_number(&number, &holder).await.unwrap();
    log.close().await.unwrap();
    drop(log);

    let log = SqliteLog::open(&path).await.unwrap();
    assert_eq!(log.last_position().await.unwrap(), at(3));
    assert_eq!(
        everything(&log).await,
        vec![
            recorded(1, &history[0]),
            recorded(2, &history[1]),
            recorded(3, &history[2])
        ]
    );
    assert_eq!(
        log.load(&customer("C-1"), Position::ZERO).await.unwrap(),
        vec![recorded(1, &history[0]), recorded(3, &history[2])]
    );
    assert_eq!(
        log.reserve_invoice_number(&number, &claim_of("C-2"))
            .await
            .unwrap(),
        Reservation::TakenBy(holder)
    );
    // Deduplication outlives the process: no window to fall out of.
    assert_eq!(
        log.append(&history[0], Position::ZERO).await.unwrap(),
        Appended::Duplicate(at(1))
    );
    assert_eq!(
        log.append(&event("C-2"), at(2)).await.unwrap(),
        Appended::New(at(4)),
        "positions go on where they stopped"
    );
    log.close().await.unwrap();
}

/// Appenders running when the log is dropped, each appending its chain one event at a time.
const DROPPED_CHAINS: usize = 8;
const DROPPED_CHAIN_LENGTH: usize = 50;
/// Acknowledged appends after which the log is dropped, about a quarter of them all.
const ACKNOWLEDGED_BEFORE_DROP: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_events_survive_the_log_being_dropped_mid_stream() {
    init_logging();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("events.db");
    let log = Arc::new(SqliteLog::open(&path).await.unwrap());
    let mut sent: BTreeMap<CommandId, EventEnvelope> = BTreeMap::new();
    // Ten acknowledged one at a time: positions 1..=10.
    for index in 1..=10u64 {
        let envelope = event(&format!("SEQ-{index}"));
        sent.insert(envelope.command_id, envelope.clone());
        assert_eq!(
            log.append(&envelope, Position::ZERO).await.unwrap(),
            Appended::New(at(index))
        );
    }
    // Then several appenders at once, and the log is dropped (never closed) under them.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<RecordedEvent>::new()));
    let mut tasks = Vec::new();
    for chain in 0..DROPPED_CHAINS {
        let envelopes: Vec<EventEnvelope> = (0..DROPPED_CHAIN_LENGTH)
            .map(|index| event(&format!("FLY-{chain}-{index}")))
            .collect();
        sent.extend(envelopes.iter().map(|e| (e.command_id, e.clone())));
        let log = Arc::clone(&log);
        let acknowledged = Arc::clone(&acknowledged);
        tasks.push(tokio::spawn(async move {
            for envelope in envelopes {
                if let Ok(Appended::New(position)) = log.append(&envelope, Position::ZERO).await {
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(RecordedEvent { position, envelope });
                }
            }
        }));
    }
    let enough = async {
        while acknowledged.lock().unwrap().len() < ACKNOWLEDGED_BEFORE_DROP {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), enough)
        .await
        .expect("too few appends acknowledged in time");
    for task in &tasks {
        task.abort();
    }
    drop(log);
    for task in tasks {
        let _ = task.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let log = SqliteLog::open(&path).await.unwrap();
    // The dropped writer may still be finishing what was queued: wait until the file is still.
    let mut last = log.last_position().await.unwrap();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = log.last_position().await.unwrap();
        if now == last {
            break;
        }
        last = now;
    }
    let stored = everything(&log).await;
    assert_eq!(
        positions(&stored),
        (1..=last.get()).collect::<Vec<_>>(),
        "positions without gaps"
    );
    assert!(last.get() >= 10 + acknowledged.len() as u64);
    for event in &acknowledged {
        assert_eq!(
            stored[usize::try_from(event.position.get() - 1).unwrap()],
            *event,
            "an acknowledged append is in the file at its position"
        );
    }
    for event in &stored {
        assert_eq!(
            sent.get(&event.envelope.command_id),
            Some(&event.envelope),
            "only what was sent is in the file"
        );
    }
    eprintln!(
        "dropped mid-stream: {} acknowledged after the first 10, {} of {} stored",
        acknowledged.len(),
        stored.len(),
        sent.len()
    );
    log.close().await.unwrap();
}

/// Where the child process of the kill test writes, and that it should run at all.
const KILL_CHILD_PATH: &str = "RECEIVABLES_TEST_KILLED_WRITER_PATH";

/// How many appends the child must have acknowledged before it is killed.
const ACKNOWLEDGED_BEFORE_KILL: usize = 300;

/// The writer that `sqlite_a_killed_writer_loses_nothing_acknowledged` runs in a child process
/// and kills: appends without end, 32 at a time, printing each acknowledged position.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process by sqlite_a_killed_writer_loses_nothing_acknowledged"]
async fn sqlite_killed_writer_child() {
    let Some(path) = std::env::var_os(KILL_CHILD_PATH) else {
        return;
    };
    let log = Arc::new(SqliteLog::open(Path::new(&path)).await.unwrap());
    let mut index = 0usize;
    loop {
        let mut batch = Vec::new();
        for _ in 0..32 {
            index += 1;
            let log = Arc::clone(&log);
            batch.push(tokio::spawn(async move {
                let envelope = event(&format!("K-{index}"));
                let outcome = log.append(&envelope, Position::ZERO).await;
                if let Ok(Appended::New(position)) = outcome {
                    println!("ACK {} {}", position.get(), envelope.command_id);
                }
            }));
        }
        for task in batch {
            task.await.unwrap();
        }
    }
}

#[tokio::test]
async fn sqlite_a_killed_writer_loses_nothing_acknowledged() {
    init_logging();
    let directory = tempfile::tempdir().unwrap();
    let path: PathBuf = directory.path().join("events.db");
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sqlite_killed_writer_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL_CHILD_PATH, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged: BTreeMap<u64, String> = BTreeMap::new();
    let reading = async {
        while acknowledged.len() < ACKNOWLEDGED_BEFORE_KILL {
            let Some(line) = lines.next_line().await.unwrap() else {
                panic!("the child stopped before it was killed");
            };
            if let Some(rest) = line.strip_prefix("ACK ") {
                let (position, command_id) = rest.split_once(' ').unwrap();
                acknowledged.insert(position.parse().unwrap(), command_id.to_owned());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), reading)
        .await
        .expect("the child acknowledged too little in time");
    child.start_kill().unwrap(); // SIGKILL: no close, no drop, no flush.
    child.wait().await.unwrap();

    let log = SqliteLog::open(&path).await.unwrap();
    let stored = everything(&log).await;
    let last = stored.len() as u64;
    assert_eq!(
        positions(&stored),
        (1..=last).collect::<Vec<_>>(),
        "positions without gaps"
    );
    for (position, command_id) in &acknowledged {
        let index = usize::try_from(*position - 1).unwrap();
        assert!(
            index < stored.len(),
            "acknowledged position {position} lost"
        );
        assert_eq!(
            stored[index].envelope.command_id.to_string(),
            *command_id,
            "the event acknowledged at {position}"
        );
    }
    let customers: BTreeSet<&str> = stored
        .iter()
        .map(|e| e.envelope.customer_id.as_str())
        .collect();
    assert_eq!(customers.len(), stored.len(), "one event per customer");
    eprintln!(
        "killed writer: {} acknowledged before the kill, {} in the file",
        acknowledged.len(),
        stored.len()
    );
    log.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_a_second_log_on_the_same_file_is_seen_and_raced_safely() {
    init_logging();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("events.db");
    let one = SqliteLog::open(&path).await.unwrap();
    let other = SqliteLog::open(&path).await.unwrap();
    let mut feed = one.follow(Position::ZERO).await.unwrap();
    // `one`'s writer does not know about this append: the follower finds it by polling.
    let first = event("C-1");
    assert_eq!(
        other.append(&first, Position::ZERO).await.unwrap(),
        Appended::New(at(1))
    );
    assert_eq!(take(&mut feed, 1).await, vec![recorded(1, &first)]);
    assert_eq!(one.last_position().await.unwrap(), at(1));
    // Both writers start from what is in the file, not from what they wrote.
    assert_eq!(
        one.append(&event("C-2"), Position::ZERO).await.unwrap(),
        Appended::New(at(2))
    );
    // Two writers race for C-1 at 1: the file's write lock lets one in at a time.
    let (left, right) = (event("C-1"), event("C-1"));
    let (left_outcome, right_outcome) =
        tokio::join!(one.append(&left, at(1)), other.append(&right, at(1)));
    let outcomes = [left_outcome, right_outcome];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Ok(Appended::New(at(3))))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Err(LogError::Conflict { expected: at(1) }))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(positions(&take(&mut feed, 2).await), vec![2, 3]);
    // A reservation taken through one is seen through the other.
    let number = invoice_key("SUB-A", "INV-9");
    let holder = claim_of("C-1");
    assert_eq!(
        other
            .reserve_invoice_number(&number, &holder)
            .await
            .unwrap(),
        Reservation::Held
    );
    assert_eq!(
        one.reserve_invoice_number(&number, &claim_of("C-2"))
            .await
            .unwrap(),
        Reservation::TakenBy(holder)
    );
    other.close().await.unwrap();
    one.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_a_failed_batch_answers_every_request_in_it_with_the_error_and_keeps_nothing() {
    use sqlx::{ConnectOptions as _, Connection as _};
    init_logging();
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("events.db");
    let log = SqliteLog::open(&path).await.unwrap();
    let first = event("C-1");
    log.append(&first, Position::ZERO).await.unwrap();
    // Another connection to the file makes one customer's inserts fail.
    let mut saboteur = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.customer_id = 'POISON'
         BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
    )
    .execute(&mut saboteur)
    .await
    .unwrap();
    // A healthy append, a poisoned one and a reservation in one batch: all fail together.
    let healthy = event("C-2");
    let poisoned = event("POISON");
    let number = invoice_key("SUB-A", "INV-7");
    let claim = claim_of("C-2");
    let (healthy_outcome, poisoned_outcome, reserved) = tokio::join!(
        log.append(&healthy, Position::ZERO),
        log.append(&poisoned, Position::ZERO),
        log.reserve_invoice_number(&number, &claim)
    );
    assert!(
        matches!(healthy_outcome, Err(LogError::Unavailable(_))),
        "{healthy_outcome:?}"
    );
    assert!(
        matches!(poisoned_outcome, Err(LogError::Unavailable(_))),
        "{poisoned_outcome:?}"
    );
    assert!(
        matches!(reserved, Err(LogError::Unavailable(_))),
        "{reserved:?}"
    );
    assert_eq!(log.last_position().await.unwrap(), at(1));
    sqlx::query("DROP TRIGGER poison")
        .execute(&mut saboteur)
        .await
        .unwrap();
    saboteur.close().await.unwrap();
    // Retrying is safe: the healthy append takes the next position, the number is still free.
    assert_eq!(
        log.append(&healthy, Position::ZERO).await.unwrap(),
        Appended::New(at(2))
    );
    assert_eq!(
        log.reserve_invoice_number(&number, &claim_of("C-3"))
            .await
            .unwrap(),
        Reservation::Held
    );
    assert_eq!(
        everything(&log).await,
        vec![recorded(1, &first), recorded(2, &healthy)]
    );
    log.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_closing_finishes_queued_appends_then_refuses_and_ends_followers() {
    init_logging();
    let (log, _directory) = fresh_sqlite().await;
    let mut feed = log.follow(Position::ZERO).await.unwrap();
    let queued: Vec<EventEnvelope> = (0..50).map(|i| event(&format!("Q-{i}"))).collect();
    // The appends are queued before the close, so each is committed and answered.
    let (outcomes, closed) = tokio::join!(
        futures::future::join_all(queued.iter().map(|e| log.append(e, Position::ZERO))),
        log.close()
    );
    closed.unwrap();
    let mut answered: Vec<u64> = outcomes
        .into_iter()
        .map(|outcome| match outcome.unwrap() {
            Appended::New(position) => position.get(),
            duplicate => panic!("{duplicate:?}"),
        })
        .collect();
    answered.sort_unstable();
    assert_eq!(answered, (1..=50).collect::<Vec<_>>());
    assert!(matches!(
        log.append(&event("LATE"), Position::ZERO).await,
        Err(LogError::Unavailable(_))
    ));
    assert!(matches!(
        log.reserve_invoice_number(&invoice_key("SUB-A", "LATE-1"), &claim_of("LATE"))
            .await,
        Err(LogError::Unavailable(_))
    ));
    assert!(log.follow(Position::ZERO).await.is_err());
    // The follower that was open gets what was committed, then an error, then nothing.
    let mut delivered = 0usize;
    let ending = tokio::time::timeout(FOLLOW_WAIT, async {
        loop {
            match feed.next().await {
                Some(Ok(_)) => delivered += 1,
                Some(Err(error)) => break error,
                None => panic!("the feed ended without an error"),
            }
        }
    })
    .await
    .expect("the feed neither ended nor broke");
    assert!(matches!(ending, LogError::Unavailable(_)), "{ending:?}");
    assert!(delivered <= 50);
    assert!(feed.next().await.is_none());
    log.close().await.unwrap();
}
