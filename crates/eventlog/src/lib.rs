//! The event log: where accepted facts are appended, one message per event, one subject per
//! customer, and read back in order.
//!
//! [`EventLog`] is what the command service needs from a log and nothing more; it says nothing
//! about JetStream so that an embedded backend can implement it too. [`jetstream::JetStreamLog`]
//! is the production backend; [`sqlite::SqliteLog`] is the embedded default, one SQLite file
//! with the same behaviour and no server.

pub mod backup;
pub mod codec;
pub mod error;
pub mod jetstream;
pub mod parallel;
pub mod snapshots;
pub mod sqlite;
pub mod transfer;

use async_trait::async_trait;
use futures::stream::BoxStream;
use receivables_domain::ids::NumberKey;
use receivables_domain::{
    CommandId, CustomerId, EventEnvelope, InvoiceKey, Position, RecordedEvent,
};
use serde::{Deserialize, Serialize};

pub use error::LogError;

/// The outcome of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The event is in the log at this position.
    New(Position),
    /// The log had already taken a message with this command id (within its deduplication
    /// window) at this position; nothing new was appended. The caller must check that the event
    /// there is its own.
    Duplicate(Position),
}

/// What came of appending a run of one customer's events ([`EventLog::append_run`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendedRun {
    /// The positions of the events appended, in the run's order: the first events of the run.
    pub positions: Vec<Position>,
    /// Why the log stopped before the end of the run, if it did: at the event after the last
    /// one appended.
    pub stopped: Option<RunStop>,
}

/// Why the log did not append an event of a run, nor any after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStop {
    /// The log had already taken the event's command id, at this position ([`Appended::Duplicate`]).
    Duplicate(Position),
    /// The customer's history moved ([`LogError::Conflict`]), or the log failed or refused.
    Failed(LogError),
}

/// An event as the log stores it, not decoded: what a check of the bytes themselves reads
/// ([`EventLog::follow_stored`], [`EventLog::load_stored`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub position: Position,
    /// The customer the log files the event under (the JetStream subject's last token, the
    /// embedded log's `customer_id` column): the event's own `customer_id` must be this one.
    pub filed_under: String,
    /// The event's encoding as stored ([`codec`]).
    pub bytes: bytes::Bytes,
}

/// An event to append by [`EventLog::append_in_order`], with the last position its customer's
/// history must have.
#[derive(Debug, Clone)]
pub struct Append {
    pub envelope: EventEnvelope,
    pub expected: Position,
}

/// Who holds a number: the command that reserved it, for which customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub command_id: CommandId,
    pub customer_id: CustomerId,
}

/// The outcome of reserving a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The number is now (or was already) held by the caller's claim.
    Held,
    /// Another command holds the number.
    TakenBy(Claim),
}

/// What the command service needs from an event log.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// The events of `customer` after position `after`, in log order. `after = ZERO` loads the
    /// whole history. Each backend reads it as stored ([`EventLog::load_stored`]); decoding it
    /// is the same for both.
    async fn load(
        &self,
        customer: &CustomerId,
        after: Position,
    ) -> Result<Vec<RecordedEvent>, LogError> {
        let stored = self.load_stored(customer, after).await?;
        decode_history(&stored, customer, after)
    }

    /// [`EventLog::load`] without decoding: each event's bytes as stored.
    async fn load_stored(
        &self,
        customer: &CustomerId,
        after: Position,
    ) -> Result<Vec<StoredEvent>, LogError>;

    /// The event of `customer` at `position`: the reply to a retried command, which its account
    /// remembers by position only. An event missing there, or of another customer, is
    /// [`LogError::Corrupt`]: the account saw it there.
    async fn event_at(
        &self,
        customer: &CustomerId,
        position: Position,
    ) -> Result<RecordedEvent, LogError>;

    /// The newest snapshot saved of `customer`'s account (`None`: none was): bytes that the
    /// domain reads and checks against this log (`AccountSnapshot`). Snapshots are a cache kept
    /// beside the log ([`snapshots`]); having none is always a correct answer.
    async fn load_snapshot(&self, customer: &CustomerId) -> Result<Option<Vec<u8>>, LogError>;

    /// Saves a snapshot of `customer`'s account whose last event is at `position`, in place of
    /// an older one. Larger than [`snapshots::SNAPSHOT_BYTES_MAX`] is refused.
    async fn save_snapshot(
        &self,
        customer: &CustomerId,
        position: Position,
        snapshot: Vec<u8>,
    ) -> Result<(), LogError>;

    /// Appends one event to its customer's history if the last position of that history is
    /// still `expected` (`ZERO`: the history must be empty). A different last position is
    /// [`LogError::Conflict`].
    async fn append(
        &self,
        envelope: &EventEnvelope,
        expected: Position,
    ) -> Result<Appended, LogError>;

    /// Appends a run of events of one customer, in order: the first if the customer's last
    /// position is still `expected`, each next one right after the one before. Stops at the
    /// first event it does not append as new (a conflict, a duplicate command id, a failure)
    /// and appends none after it.
    ///
    /// This default appends the events one by one, one round trip each. A log that can take a
    /// run in one write does (the embedded log, in one transaction).
    async fn append_run(&self, envelopes: &[EventEnvelope], expected: Position) -> AppendedRun {
        let mut positions = Vec::with_capacity(envelopes.len());
        let mut expected = expected;
        for envelope in envelopes {
            let stop = match self.append(envelope, expected).await {
                Ok(Appended::New(position)) => {
                    positions.push(position);
                    expected = position;
                    continue;
                }
                Ok(Appended::Duplicate(position)) => RunStop::Duplicate(position),
                Err(error) => RunStop::Failed(error),
            };
            return AppendedRun {
                positions,
                stopped: Some(stop),
            };
        }
        AppendedRun {
            positions,
            stopped: None,
        }
    }

    /// Appends events of any customers in order to a log whose last position is `last` and
    /// that nothing else writes meanwhile (a copy of another log, [`transfer`]): each only if its
    /// customer's last position is still its `expected`, the first at `last + 1`, each next
    /// right after; none after the first not appended as new.
    ///
    /// This default checks `last`, then appends one by one. The backends take the whole in one
    /// write: the embedded log in one transaction, JetStream as publishes in flight, each of
    /// which also expects the stream's last sequence, so that one lost fails every one after it
    /// and the log never holds a later event without the earlier ones.
    async fn append_in_order(&self, appends: &[Append], last: Position) -> AppendedRun {
        match self.last_position().await {
            Ok(found) if found == last => {}
            Ok(_) => {
                return AppendedRun {
                    positions: Vec::new(),
                    stopped: Some(RunStop::Failed(LogError::Conflict { expected: last })),
                };
            }
            Err(error) => {
                return AppendedRun {
                    positions: Vec::new(),
                    stopped: Some(RunStop::Failed(error)),
                };
            }
        }
        let mut positions = Vec::with_capacity(appends.len());
        for append in appends {
            let stop = match self.append(&append.envelope, append.expected).await {
                Ok(Appended::New(position)) => {
                    positions.push(position);
                    continue;
                }
                Ok(Appended::Duplicate(position)) => RunStop::Duplicate(position),
                Err(error) => RunStop::Failed(error),
            };
            return AppendedRun {
                positions,
                stopped: Some(stop),
            };
        }
        AppendedRun {
            positions,
            stopped: None,
        }
    }

    /// Every event after `after`, in log order, then each new one as it is appended: the feed of
    /// the projectors. The stream ends only with an error (the log went away), after which the
    /// caller follows again from the last position it has.
    async fn follow(
        &self,
        after: Position,
    ) -> Result<BoxStream<'static, Result<RecordedEvent, LogError>>, LogError>;

    /// [`EventLog::follow`] without decoding: each event's bytes as stored, read on the
    /// caller's task. A gap in the positions, or an event missing its position, still ends the
    /// stream with an error; what the bytes hold is the caller's to check.
    async fn follow_stored(
        &self,
        after: Position,
    ) -> Result<BoxStream<'static, Result<StoredEvent, LogError>>, LogError>;

    /// The position of the last event in the log (`ZERO` when empty).
    async fn last_position(&self) -> Result<Position, LogError>;

    /// The position of `customer`'s last event (`ZERO` when it has none): one cheap lookup,
    /// so that an account can tell it is caught up without reading its history.
    async fn last_position_of(&self, customer: &CustomerId) -> Result<Position, LogError>;

    /// Reserves a number (an invoice's, a credit note's; each kind its own key space) for a
    /// command, across all customers. Reserving a number the same claim holds already succeeds
    /// (a retried command carries on).
    async fn reserve_number(
        &self,
        number: &NumberKey,
        claim: &Claim,
    ) -> Result<Reservation, LogError>;

    /// Gives back a number this claim reserved but whose document was refused. A number held by
    /// another claim is left alone.
    async fn release_number(&self, number: &NumberKey, claim: &Claim) -> Result<(), LogError>;

    /// [`EventLog::reserve_number`] of an invoice number.
    async fn reserve_invoice_number(
        &self,
        invoice: &InvoiceKey,
        claim: &Claim,
    ) -> Result<Reservation, LogError> {
        self.reserve_number(&NumberKey::Invoice(invoice.clone()), claim)
            .await
    }

    /// [`EventLog::release_number`] of an invoice number.
    async fn release_invoice_number(
        &self,
        invoice: &InvoiceKey,
        claim: &Claim,
    ) -> Result<(), LogError> {
        self.release_number(&NumberKey::Invoice(invoice.clone()), claim)
            .await
    }
}

/// Decodes a stored event ([`codec::decode`]), checking that it is of the customer the log
/// files it under.
pub(crate) fn decode_stored(stored: &StoredEvent) -> Result<RecordedEvent, LogError> {
    let event = codec::decode(&stored.bytes, stored.position)?;
    if event.envelope.customer_id.as_str() != stored.filed_under {
        return Err(LogError::Corrupt {
            position: stored.position,
            problem: format!(
                "event of customer {} filed under customer {}",
                event.envelope.customer_id, stored.filed_under
            ),
        });
    }
    Ok(event)
}

/// A customer's history read by [`EventLog::load_stored`], decoded: what [`EventLog::load`]
/// answers.
fn decode_history(
    stored: &[StoredEvent],
    customer: &CustomerId,
    after: Position,
) -> Result<Vec<RecordedEvent>, LogError> {
    let events = stored
        .iter()
        .map(decode_stored)
        .collect::<Result<Vec<_>, _>>()?;
    tracing::debug!(%customer, after = after.get(), loaded = events.len(), "loaded history");
    Ok(events)
}

/// `event`, if it is `customer`'s: what [`EventLog::event_at`] answers on both backends.
pub(crate) fn owned_by(
    event: RecordedEvent,
    customer: &CustomerId,
) -> Result<RecordedEvent, LogError> {
    if event.envelope.customer_id != *customer {
        return Err(LogError::Corrupt {
            position: event.position,
            problem: format!(
                "an event of customer {}, where customer {customer} had one",
                event.envelope.customer_id
            ),
        });
    }
    Ok(event)
}
