//! A run of decided events held by an account before the log takes them: settled with the
//! log's positions it is the very account that applying the events one at a time makes; a
//! command decided again within the run is recognised by its provisional position; positions
//! the log cannot have given are refused.

use std::sync::Arc;

use receivables_domain::account::CustomerAccount;
use receivables_domain::account::feature::DecisionContext;
use receivables_domain::command::Command;
use receivables_domain::event::{EventEnvelope, RecordedEvent};
use receivables_domain::ids::{CommandId, CustomerId, EventId, Position, Principal};
use receivables_domain::testing::{
    EnvelopeBuilder, command_of, recorded_at_default, sample, sample_history,
};
use receivables_domain::{Decision, Run};
use uuid::Uuid;

fn customer() -> CustomerId {
    CustomerId::parse("C-1").expect("a valid id")
}

/// The sample history's event number `index`, sealed as the next link of `account`.
fn next_of(account: &CustomerAccount, index: usize) -> EventEnvelope {
    EnvelopeBuilder::new(customer(), sample(sample_history()[index]))
        .after(account)
        .build()
}

/// An account that took the sample history's first `events` events, at positions 2, 4, 6, ...
fn account_of(events: usize) -> CustomerAccount {
    let mut account = CustomerAccount::new(customer());
    for index in 0..events {
        let recorded = RecordedEvent {
            position: Position::new(2 * (index as u64 + 1)),
            envelope: next_of(&account, index),
        };
        account
            .apply(&recorded)
            .expect("the sample history applies");
    }
    account
}

fn positions(values: &[u64]) -> Vec<Position> {
    values.iter().copied().map(Position::new).collect()
}

/// A run on an account of two events (at 2 and 4), holding the next `events` of the sample
/// history.
fn run_of(events: usize) -> Run {
    run_on(account_of(2), events)
}

/// A run on `account` (of two events), holding the next `events` of the sample history.
fn run_on(account: CustomerAccount, events: usize) -> Run {
    let mut run = Run::new(account);
    for index in 2..2 + events {
        let envelope = next_of(run.account(), index);
        run.push(envelope).expect("the next sample event applies");
    }
    run
}

#[test]
fn a_settled_run_is_the_account_that_applying_its_events_one_at_a_time_makes() {
    let events = sample_history().len() - 2;
    // Given a run holding the rest of the sample history after two events
    let before = account_of(2);
    let run = run_on(before.clone(), events);
    assert_eq!(run.len(), events);
    assert_eq!(run.expected(), Position::new(4));
    // When the log took them at positions with gaps (other customers' events between)
    let taken: Vec<Position> = (0..events as u64)
        .map(|i| Position::new(7 + 3 * i))
        .collect();
    let envelopes = run.envelopes().to_vec();
    let (settled, recorded) = run.settle(&taken).expect("positions after the account's");
    // Then the account is the one the same events make applied one at a time from the log
    let mut one_at_a_time = before;
    for (envelope, position) in envelopes.iter().zip(&taken) {
        one_at_a_time
            .apply(&RecordedEvent {
                position: *position,
                envelope: envelope.clone(),
            })
            .expect("the events apply from the log");
    }
    assert_eq!(settled, one_at_a_time);
    assert_eq!(settled.position(), *taken.last().expect("events"));
    // And the events are answered at the positions the log gave
    let answered: Vec<Position> = recorded.iter().map(|event| event.position).collect();
    assert_eq!(answered, taken);
}

#[test]
fn a_command_decided_again_within_the_run_names_its_provisional_position() {
    // Given a run holding one event, recorded for command `id`
    let id = CommandId::from_uuid(Uuid::new_v4()).expect("not nil");
    let mut run = Run::new(account_of(2));
    let event = sample(sample_history()[2]);
    let envelope = EnvelopeBuilder::new(customer(), event.clone())
        .command_id(id)
        .after(run.account())
        .build();
    run.push(envelope).expect("the event applies");
    // When the same command is decided against the run
    let context = DecisionContext {
        event_id: EventId::from_uuid(Uuid::new_v4()).expect("not nil"),
        recorded_at: recorded_at_default(),
        principal: Principal::anonymous(),
        rates: Arc::default(),
        payment_terms: Arc::default(),
    };
    let command = Command {
        id,
        body: command_of(&event),
    };
    let decision = run.account().decide(&command, &context);
    // Then it was accepted at the first provisional position (after the account's 4), the
    // run's first event; a position in the log is not the run's
    assert_eq!(decision, Ok(Decision::AlreadyAccepted(Position::new(5))));
    assert_eq!(run.index_of(Position::new(5)), Some(0));
    assert_eq!(run.index_of(Position::new(4)), None);
    assert_eq!(run.index_of(Position::new(6)), None);
    // And once settled, the account names the position the log gave
    let (settled, _) = run.settle(&positions(&[9])).expect("a later position");
    assert_eq!(
        settled.accepted(&id).map(|a| a.position),
        Some(Position::new(9))
    );
}

#[test]
fn positions_the_log_cannot_have_given_are_refused() {
    // Given runs of two events on an account at 4
    let cases: [(&[u64], &str); 5] = [
        (&[5], "one position for two events"),
        (&[5, 6, 7], "three positions for two events"),
        (&[4, 6], "a position not after the account's"),
        (&[6, 6], "a position not after the one before"),
        (&[8, 7], "positions going back"),
    ];
    for (given, case) in cases {
        // When the run is settled with them
        let settled = run_of(2).settle(&positions(given));
        // Then it is refused
        assert!(settled.is_err(), "{case}: {given:?}");
    }
    // And consecutive positions right after the account's are accepted
    assert!(run_of(2).settle(&positions(&[5, 6])).is_ok());
}

#[test]
fn an_abandoned_run_answers_the_events_the_log_took_at_their_positions() {
    // Given a run of three events
    let run = run_of(3);
    let envelopes = run.envelopes().to_vec();
    // When the log took only the first two
    let taken = run.abandon(&positions(&[11, 12]));
    // Then those two are answered at their positions, and nothing else
    assert_eq!(
        taken,
        vec![
            RecordedEvent {
                position: Position::new(11),
                envelope: envelopes[0].clone()
            },
            RecordedEvent {
                position: Position::new(12),
                envelope: envelopes[1].clone()
            },
        ]
    );
}

#[test]
fn an_event_that_is_not_the_next_link_is_not_pushed() {
    // Given a run holding one event
    // When an event chained after the account before the run is pushed
    let before = account_of(2);
    let mut run = run_on(before.clone(), 1);
    let stale = next_of(&before, 3);
    let pushed = run.push(stale);
    // Then it is refused and the run is unchanged
    assert!(pushed.is_err());
    assert_eq!(run.len(), 1);
}
