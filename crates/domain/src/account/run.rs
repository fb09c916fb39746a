//! A run: several commands of one customer decided one after another, each against the account
//! as the ones before it left it, and appended to the log together.
//!
//! Why: a customer's commands are decided one at a time under its lock, and with one append per
//! command a busy customer (a group's largest buyer) gets one log round trip per command. A run
//! takes the commands queued behind the lock, decides them all, and appends their events in one
//! call, which the embedded log commits in one transaction.
//!
//! The events of a run have no positions until the log takes them, yet each decision must see
//! the events before it. A [`Run`] therefore applies each decided event at a *provisional*
//! position (the account's last position plus its place in the run), which only the account's
//! bookkeeping holds: no state depends on positions. [`Run::settle`] puts in the positions the
//! log gave; they are never smaller than the provisional ones, since the log appends the run in
//! order after the account's last event. A run whose events were not all appended is dropped
//! with the account it holds, which is then loaded again: an account is never left holding an
//! event the log does not have.

use crate::event::{EventEnvelope, RecordedEvent};
use crate::ids::Position;

use super::{CustomerAccount, InvariantViolation};

/// An account with decided events not yet in the log. It can decide (through
/// [`Run::account`]) and take further decided events; it becomes an account again only with
/// the positions of all its events ([`Run::settle`]).
#[derive(Debug)]
pub struct Run {
    account: CustomerAccount,
    /// The account's position before the run: provisional positions follow it.
    settled: Position,
    /// The run's events, in order, sealed.
    envelopes: Vec<EventEnvelope>,
}

impl Run {
    pub fn new(account: CustomerAccount) -> Self {
        let settled = account.position();
        Run {
            account,
            settled,
            envelopes: Vec::new(),
        }
    }

    /// The account with the run's events applied: what the next command is decided against.
    pub fn account(&self) -> &CustomerAccount {
        &self.account
    }

    /// The account's position before the run: what the log must still have as the customer's
    /// last position for the run to be appended.
    pub fn expected(&self) -> Position {
        self.settled
    }

    /// The run's events, in order: what is appended.
    pub fn envelopes(&self) -> &[EventEnvelope] {
        &self.envelopes
    }

    pub fn len(&self) -> usize {
        self.envelopes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.envelopes.is_empty()
    }

    /// The place in the run of the event at a provisional position: what a
    /// [`super::Decision::AlreadyAccepted`] names for a command decided earlier in the run.
    /// `None` for a position in the log.
    pub fn index_of(&self, position: Position) -> Option<usize> {
        let offset = position.get().checked_sub(self.settled.get())?;
        let index = usize::try_from(offset).ok()?.checked_sub(1)?;
        (index < self.envelopes.len()).then_some(index)
    }

    /// Applies an event this account decided and the caller sealed (`chain::seal`), at the
    /// next provisional position. Its link is checked as any event's; on error nothing changes.
    pub fn push(&mut self, envelope: EventEnvelope) -> Result<(), InvariantViolation> {
        let offset = u64::try_from(self.envelopes.len() + 1).unwrap_or(u64::MAX);
        let recorded = RecordedEvent {
            position: Position::new(self.settled.get().saturating_add(offset)),
            envelope,
        };
        self.account.apply_decided(&recorded)?;
        self.envelopes.push(recorded.envelope);
        Ok(())
    }

    /// The account, with the positions the log gave the run's events (one for each event,
    /// increasing, after the account's position before the run), and the events as recorded.
    /// Anything else is an [`InvariantViolation`]: the account is then loaded again.
    pub fn settle(
        mut self,
        positions: &[Position],
    ) -> Result<(CustomerAccount, Vec<RecordedEvent>), InvariantViolation> {
        let violation = |position: Position, problem: String| InvariantViolation {
            customer_id: self.account.customer_id().clone(),
            position,
            problem,
        };
        if positions.len() != self.envelopes.len() {
            return Err(violation(
                self.settled,
                format!(
                    "a run of {} events settled with {} positions",
                    self.envelopes.len(),
                    positions.len()
                ),
            ));
        }
        let mut previous = self.settled;
        for (offset, &position) in (1u64..).zip(positions) {
            // A provisional position is the least the log can have given.
            if position <= previous || position.get() < self.settled.get().saturating_add(offset) {
                return Err(violation(
                    position,
                    format!("an event of a run appended at {position}, after {previous}"),
                ));
            }
            previous = position;
        }
        for (envelope, &position) in self.envelopes.iter().zip(positions) {
            // Only a provisional entry: a command is never both in the log and in the run.
            if let Some(accepted) = self.account.accepted.get_mut(&envelope.command_id)
                && accepted.position > self.settled
            {
                accepted.position = position;
            }
        }
        self.account.position = previous;
        Ok((self.account, recorded(self.envelopes, positions)))
    }

    /// The events of a run the log took only the first of, as recorded (`positions`: theirs).
    /// The account is dropped: it holds events the log does not.
    pub fn abandon(self, positions: &[Position]) -> Vec<RecordedEvent> {
        recorded(self.envelopes, positions)
    }
}

/// The first `positions.len()` events, at their positions.
fn recorded(envelopes: Vec<EventEnvelope>, positions: &[Position]) -> Vec<RecordedEvent> {
    envelopes
        .into_iter()
        .zip(positions)
        .map(|(envelope, &position)| RecordedEvent { position, envelope })
        .collect()
}
