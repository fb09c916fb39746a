//! Snapshots of an account: what a command service saves now and then so that loading a
//! customer with a long history reads one record and the events after it, instead of deciding
//! nothing until thousands of events are applied again.
//!
//! A snapshot is a cache, never a source of truth, and it is not believed on its word:
//!
//! - its bytes carry their own SHA-256, so a snapshot damaged in storage is refused;
//! - it names the position, sequence and hash of the last event it covers, and is restored only
//!   against that event as read from the log ([`CustomerAccount::restore`]): the event must be
//!   there, the customer's, with that sequence and that hash, and its content must hash to it. A
//!   snapshot of another log, or of a history rewritten since, is refused;
//! - it names the format and the release of the code that wrote it ([`SNAPSHOT_FORMAT`]): the
//!   state it holds is what that code's evolutions made of the events, so a snapshot written by
//!   another release is not restored (the account is loaded from its events, and a fresh
//!   snapshot saved).
//!
//! Every refusal is a [`SnapshotError`]; the caller then loads the account from its events,
//! which is always correct, only slower.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chain::{self, EventHash};
use crate::event::RecordedEvent;
use crate::ids::{CommandId, CustomerId, Position};

use super::state::AccountState;
use super::{AcceptedCommand, CustomerAccount};

/// The layout of a snapshot's content. Bump it when [`AccountState`] changes shape or an
/// evolution changes what it makes of an event; snapshots of other formats are not restored.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// The release of the code that writes snapshots: a snapshot holds what this release's
/// evolutions made of the events, so another release does not restore it.
const RELEASE: &str = env!("CARGO_PKG_VERSION");

/// Bytes of the SHA-256 that starts a snapshot's bytes.
const DIGEST_BYTES: usize = 32;

/// Why a snapshot was not restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("the snapshot's bytes do not match their digest: damaged in storage")]
    Damaged,
    #[error("the snapshot cannot be read: {0}")]
    Unreadable(String),
    #[error("the account cannot be written as a snapshot: {0}")]
    Unwritable(String),
    #[error(
        "the snapshot was written in format {format} by release {release}, not {SNAPSHOT_FORMAT} by {RELEASE}"
    )]
    OtherRelease { format: u32, release: String },
    #[error("the snapshot is of customer {found}, not {expected}")]
    OtherCustomer {
        expected: CustomerId,
        found: CustomerId,
    },
    #[error("the snapshot does not match the log's event at position {position}: {problem}")]
    NotInChain { position: Position, problem: String },
}

/// What a snapshot says of itself: enough to fetch the event it must be restored against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotHead {
    /// The position of the last event it covers.
    pub position: Position,
    /// How many events it covers.
    pub event_count: u64,
}

/// A snapshot read back and checked against its digest, not yet against the log.
#[derive(Debug, Deserialize)]
pub struct AccountSnapshot {
    format: u32,
    release: String,
    customer_id: CustomerId,
    position: Position,
    event_count: u64,
    last_hash: EventHash,
    accepted: Vec<(CommandId, AcceptedCommand)>,
    state: AccountState,
}

/// The content of a snapshot as written: borrowed from the account, which is not copied.
#[derive(Serialize)]
struct SnapshotContent<'a> {
    format: u32,
    release: &'a str,
    customer_id: &'a CustomerId,
    position: Position,
    event_count: u64,
    last_hash: EventHash,
    #[serde(serialize_with = "accepted_as_pairs")]
    accepted: &'a HashMap<CommandId, AcceptedCommand>,
    state: &'a AccountState,
}

fn accepted_as_pairs<S: serde::Serializer>(
    accepted: &&HashMap<CommandId, AcceptedCommand>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(accepted.iter())
}

impl AccountSnapshot {
    /// Reads a snapshot's bytes: checks the digest, then the content.
    pub fn decode(bytes: &[u8]) -> Result<AccountSnapshot, SnapshotError> {
        if bytes.len() < DIGEST_BYTES {
            return Err(SnapshotError::Damaged);
        }
        let (digest, content) = bytes.split_at(DIGEST_BYTES);
        if Sha256::digest(content).as_slice() != digest {
            return Err(SnapshotError::Damaged);
        }
        let snapshot: AccountSnapshot = serde_json::from_slice(content)
            .map_err(|error| SnapshotError::Unreadable(error.to_string()))?;
        if snapshot.format != SNAPSHOT_FORMAT || snapshot.release != RELEASE {
            return Err(SnapshotError::OtherRelease {
                format: snapshot.format,
                release: snapshot.release,
            });
        }
        Ok(snapshot)
    }

    /// Where the snapshot says it ends.
    pub fn head(&self) -> SnapshotHead {
        SnapshotHead {
            position: self.position,
            event_count: self.event_count,
        }
    }

    pub fn customer_id(&self) -> &CustomerId {
        &self.customer_id
    }
}

impl CustomerAccount {
    /// The account's snapshot: its digest, then its content. Empty accounts have nothing to
    /// save and are not asked.
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        let content = SnapshotContent {
            format: SNAPSHOT_FORMAT,
            release: RELEASE,
            customer_id: self.customer_id(),
            position: self.position,
            event_count: self.event_count,
            last_hash: self.last_hash,
            accepted: &self.accepted,
            state: &self.state,
        };
        let mut bytes = vec![0; DIGEST_BYTES];
        serde_json::to_writer(&mut bytes, &content)
            .map_err(|error| SnapshotError::Unwritable(error.to_string()))?;
        let digest = Sha256::digest(&bytes[DIGEST_BYTES..]);
        bytes[..DIGEST_BYTES].copy_from_slice(&digest);
        Ok(bytes)
    }

    /// The account a snapshot holds, for `customer`, restored against `anchor`: the event the
    /// log holds at the snapshot's position. The events after it are then applied as usual,
    /// each checked against the chain from the snapshot's last hash on.
    pub fn restore(
        customer: &CustomerId,
        snapshot: AccountSnapshot,
        anchor: &RecordedEvent,
    ) -> Result<CustomerAccount, SnapshotError> {
        if snapshot.state.customer_id() != &snapshot.customer_id {
            return Err(SnapshotError::Unreadable(format!(
                "it names customer {} and holds the state of customer {}",
                snapshot.customer_id,
                snapshot.state.customer_id()
            )));
        }
        if snapshot.customer_id != *customer {
            return Err(SnapshotError::OtherCustomer {
                expected: customer.clone(),
                found: snapshot.customer_id,
            });
        }
        let not_in_chain = |problem: String| SnapshotError::NotInChain {
            position: snapshot.position,
            problem,
        };
        let envelope = &anchor.envelope;
        if anchor.position != snapshot.position {
            return Err(not_in_chain(format!(
                "the log's event is at position {}",
                anchor.position
            )));
        }
        if envelope.customer_id != *customer {
            return Err(not_in_chain(format!(
                "the event is of customer {}",
                envelope.customer_id
            )));
        }
        if envelope.sequence != snapshot.event_count {
            return Err(not_in_chain(format!(
                "the event is the customer's event {}, the snapshot covers {}",
                envelope.sequence, snapshot.event_count
            )));
        }
        if envelope.hash != snapshot.last_hash {
            return Err(not_in_chain(format!(
                "the event's hash is {}, the snapshot names {}",
                envelope.hash, snapshot.last_hash
            )));
        }
        match chain::hash_of(envelope) {
            Ok(hash) if hash == envelope.hash => {}
            Ok(hash) => {
                return Err(not_in_chain(format!(
                    "the event's content hashes to {hash}, not to its hash {}",
                    envelope.hash
                )));
            }
            Err(error) => return Err(not_in_chain(error.to_string())),
        }
        Ok(CustomerAccount {
            position: snapshot.position,
            event_count: snapshot.event_count,
            last_hash: snapshot.last_hash,
            accepted: snapshot.accepted.into_iter().collect(),
            state: snapshot.state,
        })
    }
}
