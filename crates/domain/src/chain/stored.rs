//! An event's links and hash read straight from the bytes the log stores: what the service's
//! verification of the chain checks, as an offline check of an export does line by line.
//!
//! The hash is taken over the stored text itself ([`CanonicalEncoder::encode_json`]), not over
//! the event as the domain reads it: reading ignores a member it does not know, so a member
//! added to a stored event would hash the same once read and written again. Nothing else of
//! the event is read: whether it keeps the ledger's rules is what reading it for use checks
//! (the log refuses such an event wherever it is loaded, naming its position), not the chain.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{CanonicalEncoder, ChainError, EventHash, HASH_MEMBER};
use crate::event::{Event, SCHEMA_VERSION};
use crate::ids::CustomerId;

/// The members of a stored event that link it into its customer's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLinks {
    pub customer_id: CustomerId,
    pub sequence: u64,
    pub prev_hash: EventHash,
    pub hash: EventHash,
}

/// The links of the event stored as `json` and the hash of its content (SHA-256 of its
/// canonical encoding without `hash`). `NotJson`, `NotAnEvent` (not an object, a member missing
/// or unreadable, a schema version or type this service does not write) and `NotAnInteger` say
/// why there is none.
pub fn read_stored(
    encoder: &mut CanonicalEncoder,
    json: &[u8],
) -> Result<(StoredLinks, EventHash), ChainError> {
    let canonical = encoder.encode_json(json, Some(HASH_MEMBER))?;
    let computed = EventHash::from_bytes(Sha256::digest(canonical).into());
    // The members the links need, each read from its canonical encoding, which the encoder
    // kept: a second pass over the whole text (the payload with it) cost half as much again.
    // An encoding that succeeded keeps them unless the text is not an object: the encoder
    // falls back to the definition only for values no object of an event holds, which the
    // definition refuses too.
    if !encoder.kept_outermost() {
        return Err(ChainError::NotAnEvent("not a JSON object".into()));
    }
    let schema_version: u32 = member(encoder, "schema_version")?;
    if schema_version != SCHEMA_VERSION {
        return Err(ChainError::NotAnEvent(format!(
            "schema version {schema_version} (this service writes {SCHEMA_VERSION})"
        )));
    }
    let event_type: std::borrow::Cow<'_, str> = member(encoder, "type")?;
    if !Event::TYPE_NAMES.contains(&event_type.as_ref()) {
        return Err(ChainError::NotAnEvent(format!(
            "unknown event type {event_type:?}"
        )));
    }
    let links = StoredLinks {
        customer_id: member(encoder, "customer_id")?,
        sequence: member(encoder, "sequence")?,
        prev_hash: member(encoder, "prev_hash")?,
        hash: member(encoder, "hash")?,
    };
    Ok((links, computed))
}

/// The outermost member `name` of the text the encoder last read, as `T`.
fn member<'a, T: Deserialize<'a>>(
    encoder: &'a CanonicalEncoder,
    name: &str,
) -> Result<T, ChainError> {
    let value = encoder
        .outermost_member(name)
        .ok_or_else(|| ChainError::NotAnEvent(format!("missing field `{name}`")))?;
    serde_json::from_slice(value)
        .map_err(|e| ChainError::NotAnEvent(format!("field `{name}`: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::Value;

    use super::*;
    use crate::chain::{Break, ChainVerifier, hash_of};
    use crate::event::EventType;
    use crate::ids::Position;
    use crate::testing::{EnvelopeBuilder, sample};

    /// Two events of ACME's chain as the log stores them, and their envelopes.
    fn stored_chain() -> Vec<(Vec<u8>, crate::EventEnvelope)> {
        let first = EnvelopeBuilder::of("ACME", sample(EventType::InvoiceIssued))
            .chained(1, EventHash::GENESIS)
            .build();
        let second = EnvelopeBuilder::of("ACME", sample(EventType::PaymentReceived))
            .chained(2, first.hash)
            .build();
        [first, second]
            .into_iter()
            .map(|envelope| (serde_json::to_vec(&envelope).unwrap(), envelope))
            .collect()
    }

    #[test]
    fn the_stored_text_hashes_as_the_event_it_holds() {
        // Given an event as the log stores it
        for (bytes, envelope) in stored_chain() {
            // When its links and hash are read from the bytes (by the fast path, not the
            // definition's)
            assert!(
                CanonicalEncoder::new()
                    .encode_json_fast(&bytes, Some(HASH_MEMBER))
                    .is_ok()
            );
            let (links, computed) = read_stored(&mut CanonicalEncoder::new(), &bytes).unwrap();
            // Then they are the sealed envelope's
            assert_eq!(computed, envelope.hash);
            assert_eq!(computed, hash_of(&envelope).unwrap());
            assert_eq!(
                links,
                StoredLinks {
                    customer_id: envelope.customer_id.clone(),
                    sequence: envelope.sequence,
                    prev_hash: envelope.prev_hash,
                    hash: envelope.hash,
                }
            );
        }
    }

    #[test]
    fn a_member_added_to_the_stored_text_changes_its_hash() {
        // Given a stored event with a member no type of the domain reads
        let (bytes, envelope) = stored_chain().remove(0);
        let mut json: Value = serde_json::from_slice(&bytes).unwrap();
        json["data"]["note"] = Value::from("paid in cash");
        let added = serde_json::to_vec(&json).unwrap();
        // When it is read the domain's way, the member is dropped and the hash still agrees
        let read: crate::EventEnvelope = serde_json::from_slice(&added).unwrap();
        assert_eq!(hash_of(&read).unwrap(), envelope.hash);
        // Then the stored text's hash does not
        let (links, computed) = read_stored(&mut CanonicalEncoder::new(), &added).unwrap();
        assert_eq!(links.hash, envelope.hash);
        assert_ne!(computed, envelope.hash);
        let mut verifier = ChainVerifier::whole_log();
        let broken = verifier
            .check_stored(Position::new(1), Ok(&(links, computed)))
            .unwrap_err();
        assert_eq!(broken.kind, Break::HashMismatch);
    }

    #[test]
    fn a_chain_read_from_its_stored_text_is_checked_link_by_link() {
        let chain = stored_chain();
        let mut encoder = CanonicalEncoder::new();
        let read: Vec<_> = chain
            .iter()
            .map(|(bytes, _)| read_stored(&mut encoder, bytes))
            .collect();
        // Given both events in order: both hold
        let mut verifier = ChainVerifier::whole_log();
        for (at, stored) in read.iter().enumerate() {
            verifier
                .check_stored(Position::new(at as u64 + 1), stored.as_ref())
                .unwrap();
        }
        assert_eq!(verifier.checked(), 2);
        // Given the second alone after a gap: its position and then its chain break
        let mut verifier = ChainVerifier::whole_log();
        let broken = verifier
            .check_stored(Position::new(2), read[1].as_ref())
            .unwrap_err();
        assert_eq!(broken.kind, Break::PositionGap);
        let mut verifier = ChainVerifier::part_of_log();
        let broken = verifier
            .check_stored(Position::new(2), read[1].as_ref())
            .unwrap_err();
        assert_eq!(broken.kind, Break::PreviousHashMismatch);
    }

    #[test]
    fn text_that_is_not_an_event_is_named_as_such() {
        let (bytes, _) = stored_chain().remove(0);
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        let changed = |member: &str, value: Option<Value>| {
            let mut json = json.clone();
            match value {
                Some(value) => json[member] = value,
                None => {
                    json.as_object_mut().unwrap().remove(member);
                }
            }
            serde_json::to_vec(&json).unwrap()
        };
        let read = |bytes: &[u8]| read_stored(&mut CanonicalEncoder::new(), bytes).unwrap_err();
        assert!(matches!(read(b"not an event"), ChainError::NotJson(_)));
        assert!(matches!(read(b"[1, 2]"), ChainError::NotAnEvent(_)));
        assert!(matches!(
            read(&bytes[..bytes.len() - 1]),
            ChainError::NotJson(_)
        ));
        for (member, value) in [
            ("sequence", None),
            ("customer_id", None),
            ("prev_hash", Some(Value::from("ab"))),
            ("hash", None),
            ("customer_id", Some(Value::from("no spaces allowed"))),
            ("schema_version", Some(Value::from(1))),
            ("type", Some(Value::from("InvoicePainted"))),
        ] {
            let error = read(&changed(member, value.clone()));
            assert!(
                matches!(error, ChainError::NotAnEvent(_)),
                "{member} {value:?}: {error:?}"
            );
        }
        // A fraction anywhere in it: no canonical encoding, so no hash.
        let mut fraction = json.clone();
        fraction["data"]["extra"] = Value::from(1.5);
        let error = read(&serde_json::to_vec(&fraction).unwrap());
        assert!(matches!(error, ChainError::NotAnInteger(_)), "{error:?}");
        let mut verifier = ChainVerifier::whole_log();
        let broken = verifier
            .check_stored(Position::new(1), Err(&error))
            .unwrap_err();
        assert_eq!(broken.kind, Break::Undecodable);
    }
}
