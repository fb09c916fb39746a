//! Event decoding under hostile bytes: arbitrary bytes, valid encoded events cut, bit-flipped or
//! spliced, valid events with fields of their JSON changed, and JSON shaped like envelopes:
//! members of valid events kept, removed, replaced by hostile values or taken from events of
//! other types. Changed events are mostly sealed again, so that the hash chain is not what
//! refuses them.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::sample::{Index, select};
use receivables_domain::chain::{self, ChainVerifier};
use receivables_domain::event::{Event, EventEnvelope};
use receivables_domain::{CustomerAccount, EventHash, Position, RecordedEvent};
use receivables_eventlog::{LogError, codec};
use serde_json::Value;

use crate::validity;
use crate::values::{self, LeafEdit};

/// Inputs decoded as events across every case of a run: shows that the cases reach past the
/// parser.
pub static DECODED: AtomicU64 = AtomicU64::new(0);

/// The position every decoded case claims.
const POSITION: u64 = 7;

/// How hostile bytes are made.
#[derive(Clone)]
pub enum Input {
    Arbitrary(Vec<u8>),
    Truncated(Vec<u8>, Index),
    BitsFlipped(Vec<u8>, Vec<(Index, u8)>),
    Spliced(Vec<u8>, Index, Vec<u8>, Index),
    BytesInserted(Vec<u8>, Index, Vec<u8>),
    /// A seed's JSON with leaves edited; `reseal` recomputes its hash afterwards.
    Edited {
        seed: Vec<u8>,
        edits: Vec<(Index, LeafEdit)>,
        reseal: bool,
    },
    /// A member of the seed's top level given twice, the second time with another value.
    DuplicateMember(Vec<u8>, Index, Value),
    /// A seed's type tag swapped for another, its data left as it was.
    TypeSwapped(Vec<u8>, String),
    /// A seed with each member of the envelope and of its data kept, replaced by a hostile
    /// value, removed, or taken from another seed (of another type, perhaps), as `plan` says
    /// member by member; then sealed again.
    Mixed {
        base: Vec<u8>,
        donor: Vec<u8>,
        plan: Vec<(u8, Value)>,
    },
}

/// What happens to one member of a mixed envelope.
fn mix(
    members: &mut serde_json::Map<String, Value>,
    donor: &Value,
    plan: &[(u8, Value)],
    next: &mut usize,
) {
    let keys: Vec<String> = members.keys().cloned().collect();
    for key in keys {
        let (choice, leaf) = &plan[*next % plan.len()];
        *next += 1;
        match choice % 20 {
            0..=13 => {}
            14..=16 => {
                members.insert(key, leaf.clone());
            }
            17..=18 => {
                members.remove(&key);
            }
            _ => {
                if let Some(value) = donor.get(&key) {
                    members.insert(key, value.clone());
                }
            }
        }
    }
}

/// The bytes themselves, readable where they are text, and how they were made.
impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self {
            Input::Arbitrary(_) => "arbitrary bytes".to_owned(),
            Input::Truncated(..) => "a seed cut short".to_owned(),
            Input::BitsFlipped(_, flips) => format!("a seed with {} bits flipped", flips.len()),
            Input::Spliced(..) => "two seeds spliced".to_owned(),
            Input::BytesInserted(..) => "a seed with bytes inserted".to_owned(),
            Input::Edited { edits, reseal, .. } => {
                format!("a seed with {edits:?}, sealed again: {reseal}")
            }
            Input::DuplicateMember(_, _, value) => format!("a seed with a member again as {value}"),
            Input::TypeSwapped(_, name) => format!("a seed with type {name:?}"),
            Input::Mixed { .. } => "a seed mixed with hostile values and another seed".to_owned(),
        };
        write!(f, "{how}: {:?}", String::from_utf8_lossy(&self.bytes()))
    }
}

impl Input {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Input::Arbitrary(bytes) => bytes.clone(),
            Input::Truncated(seed, at) => seed[..at.index(seed.len() + 1)].to_vec(),
            Input::BitsFlipped(seed, flips) => {
                let mut bytes = seed.clone();
                if !bytes.is_empty() {
                    for (at, bit) in flips {
                        let index = at.index(bytes.len());
                        bytes[index] ^= 1 << (bit % 8);
                    }
                }
                bytes
            }
            Input::Spliced(a, at_a, b, at_b) => {
                let mut bytes = a[..at_a.index(a.len() + 1)].to_vec();
                bytes.extend_from_slice(&b[at_b.index(b.len() + 1)..]);
                bytes
            }
            Input::BytesInserted(seed, at, inserted) => {
                let mut bytes = seed.clone();
                let index = at.index(bytes.len() + 1);
                bytes.splice(index..index, inserted.iter().copied());
                bytes
            }
            Input::Edited {
                seed,
                edits,
                reseal,
            } => {
                let Ok(mut document) = serde_json::from_slice::<Value>(seed) else {
                    return seed.clone();
                };
                for (at, edit) in edits {
                    values::edit_leaf(&mut document, *at, edit);
                }
                if *reseal {
                    reseal_json(&mut document);
                }
                serde_json::to_vec(&document).unwrap_or_default()
            }
            Input::DuplicateMember(seed, at, value) => {
                let Ok(Value::Object(members)) = serde_json::from_slice::<Value>(seed) else {
                    return seed.clone();
                };
                let keys: Vec<&String> = members.keys().collect();
                if keys.is_empty() || seed.first() != Some(&b'{') {
                    return seed.clone();
                }
                let key = keys[at.index(keys.len())];
                // Written after the seed's own members, so the duplicate comes second.
                let mut bytes = seed[..seed.len() - 1].to_vec();
                bytes.extend_from_slice(
                    format!(
                        ",{}:{}}}",
                        Value::String(key.clone()),
                        serde_json::to_string(value).unwrap_or_default()
                    )
                    .as_bytes(),
                );
                bytes
            }
            Input::Mixed { base, donor, plan } => {
                let (Ok(mut document), Ok(donor)) = (
                    serde_json::from_slice::<Value>(base),
                    serde_json::from_slice::<Value>(donor),
                ) else {
                    return base.clone();
                };
                if plan.is_empty() {
                    return base.clone();
                }
                let mut next = 0;
                if let Some(Value::Object(data)) = document.get_mut("data") {
                    let donor_data = donor.get("data").cloned().unwrap_or(Value::Null);
                    mix(data, &donor_data, plan, &mut next);
                }
                if let Value::Object(members) = &mut document {
                    mix(members, &donor, plan, &mut next);
                }
                reseal_json(&mut document);
                serde_json::to_vec(&document).unwrap_or_default()
            }
            Input::TypeSwapped(seed, type_name) => {
                let Ok(mut document) = serde_json::from_slice::<Value>(seed) else {
                    return seed.clone();
                };
                if let Value::Object(members) = &mut document {
                    members.insert("type".to_owned(), Value::String(type_name.clone()));
                    reseal_json(&mut document);
                }
                serde_json::to_vec(&document).unwrap_or_default()
            }
        }
    }
}

/// Recomputes the hash of an envelope given as JSON, if it decodes at all; otherwise leaves it.
fn reseal_json(document: &mut Value) {
    let Ok(mut envelope) = serde_json::from_value::<EventEnvelope>(document.clone()) else {
        return;
    };
    if chain::seal(&mut envelope).is_ok()
        && let Value::Object(members) = document
    {
        members.insert("hash".to_owned(), Value::String(envelope.hash.to_string()));
    }
}

pub fn strategy(seeds: Vec<Vec<u8>>) -> BoxedStrategy<Input> {
    let seed = || select(seeds.clone());
    let type_names = &[
        "InvoiceIssued",
        "PaymentReceived",
        "CreditLimitChanged",
        "PromiseToPay",
        "CreditNoteIssued",
        "",
        "invoiceissued",
    ][..];
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..512).prop_map(Input::Arbitrary),
        1 => values::arbitrary_text(200).prop_map(|text| Input::Arbitrary(text.into_bytes())),
        2 => (seed(), any::<Index>()).prop_map(|(s, at)| Input::Truncated(s, at)),
        2 => (seed(), prop::collection::vec((any::<Index>(), any::<u8>()), 1..4))
            .prop_map(|(s, flips)| Input::BitsFlipped(s, flips)),
        2 => (seed(), any::<Index>(), seed(), any::<Index>())
            .prop_map(|(a, at_a, b, at_b)| Input::Spliced(a, at_a, b, at_b)),
        1 => (seed(), any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(s, at, bytes)| Input::BytesInserted(s, at, bytes)),
        8 => (
            seed(),
            prop::collection::vec((any::<Index>(), values::leaf_edit()), 1..3),
            prop::bool::weighted(0.8),
        )
            .prop_map(|(seed, edits, reseal)| Input::Edited { seed, edits, reseal }),
        1 => (seed(), any::<Index>(), values::json_leaf())
            .prop_map(|(s, at, value)| Input::DuplicateMember(s, at, value)),
        1 => (seed(), select(type_names))
            .prop_map(|(s, name)| Input::TypeSwapped(s, name.to_owned())),
        4 => (seed(), seed(), prop::collection::vec((any::<u8>(), values::json_leaf()), 1..40))
            .prop_map(|(base, donor, plan)| Input::Mixed { base, donor, plan }),
    ]
    .boxed()
}

/// Decoding never panics and only ever says `Corrupt`; whatever it accepts is a valid event
/// that encodes again, decodes to itself, chains, and (as the first event of a customer) is
/// applied by the account without an invariant violation.
pub fn check_bytes(bytes: &[u8]) -> Result<(), String> {
    let position = Position::new(POSITION);
    let recorded = match codec::decode(bytes, position) {
        Err(LogError::Corrupt { position: p, .. }) if p == position => return Ok(()),
        Err(other) => return Err(format!("decoding failed other than as corrupt: {other:?}")),
        Ok(recorded) => recorded,
    };
    DECODED.fetch_add(1, Ordering::Relaxed);
    if recorded.position != position {
        return Err("decoded at another position".to_owned());
    }
    let envelope = recorded.envelope;
    validity::check(&envelope).map_err(|problem| format!("decoding accepted {problem}"))?;
    let encoded = codec::encode(&envelope).map_err(|e| format!("does not encode again: {e}"))?;
    let again = codec::decode(&encoded, position)
        .map_err(|e| format!("its own encoding does not decode: {e}"))?;
    if again.envelope != envelope {
        return Err("its own encoding decodes to another event".to_owned());
    }
    chain::hash_of(&envelope).map_err(|e| format!("cannot be hashed: {e}"))?;

    // As the first event of its customer: the chain holds and the account takes it.
    let mut first = envelope.clone();
    first.sequence = 1;
    first.prev_hash = EventHash::GENESIS;
    chain::seal(&mut first).map_err(|e| e.to_string())?;
    ChainVerifier::whole_log()
        .check(Position::new(1), &first)
        .map_err(|broken| format!("a resealed event does not chain: {broken}"))?;
    let mut account = CustomerAccount::new(first.customer_id.clone());
    let applied = account.apply(&RecordedEvent {
        position: Position::new(1),
        envelope: first.clone(),
    });
    let may_refuse = matches!(&first.event, Event::PaymentReceived(p) if !p.allocations.is_empty());
    match applied {
        Err(violation) if !may_refuse => {
            Err(format!("a valid first event is not applied: {violation}"))
        }
        _ => Ok(()),
    }
}
