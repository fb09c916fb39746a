//! The hash chain that lets an auditor prove the log unaltered.
//!
//! Every event carries its number in its customer's history (`sequence`: 1, 2, 3, ...), the
//! hash of that customer's previous event (`prev_hash`; all zeros for the first) and its own
//! `hash`: SHA-256 of the event's canonical encoding. Changing an event changes its hash;
//! removing one breaks the next one's `prev_hash` and `sequence`; inserting one that the
//! service did not write breaks the chain where it is inserted. [`ChainVerifier`] walks a log
//! and names the first broken link.
//!
//! **The canonical encoding**, byte by byte, so that it can be checked with other tools: the
//! envelope as the log stores it (a JSON object: the envelope's fields, `type` and `data`)
//! without its `hash` member, written as RFC 8785 (JSON Canonicalization Scheme) writes it for
//! the values events hold: UTF-8; no whitespace; object members sorted by name (names are
//! ASCII, so by byte); strings with `"` and `\` escaped, control characters as `\b \f \n \r \t`
//! or `\u00xx` (lowercase hex), everything else as is; integers in plain decimal (events hold no
//! floating-point numbers: amounts are decimal strings). For example, with `jq`:
//! `jq -cS 'del(.hash)' | tr -d '\n' | sha256sum`.
//!
//! [`write_canonical`] is the definition, over a `serde_json::Value`; [`CanonicalEncoder`]
//! writes the same bytes straight from an envelope in about half the time, and is what hashing
//! and replaying use. It also writes them straight from an event's stored text
//! ([`CanonicalEncoder::encode_json`]), which is what the verification of the log hashes
//! ([`read_stored`]): the bytes the log holds, not the event as the domain reads it.

mod encoder;
mod stored;

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::event::EventEnvelope;
use crate::ids::{CustomerId, Position};

pub use crate::hash::{ChainError, EventHash, HASH_BYTES};
pub use encoder::CanonicalEncoder;
pub use stored::{StoredLinks, read_stored};

/// The envelope's member that holds its own hash, left out of what the hash is taken over.
pub const HASH_MEMBER: &str = "hash";

/// The canonical encoding of an envelope (see the module doc): what its hash is taken over.
pub fn canonical_bytes(envelope: &EventEnvelope) -> Result<Vec<u8>, ChainError> {
    Ok(CanonicalEncoder::new()
        .encode(envelope, Some(HASH_MEMBER))?
        .to_vec())
}

/// The canonical JSON of any value (the module doc's rules); used for the envelope and, by
/// exports, for whole lines.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), ChainError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            if !(number.is_i64() || number.is_u64()) {
                return Err(ChainError::NotAnInteger(number.to_string()));
            }
            out.extend_from_slice(number.to_string().as_bytes());
        }
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            // Sorted here, whatever order the map keeps (serde_json may preserve insertion
            // order when another crate asks it to).
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (index, (name, item)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_string(name, out);
                out.push(b':');
                write_canonical(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A JSON string as the module doc says. Only ASCII characters are ever escaped, and the bytes
/// of a UTF-8 sequence are never ASCII, so the text is scanned byte by byte and copied in runs.
fn write_string(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.push(b'"');
    // Most texts of an event (ids, dates, amounts, hashes) need no escape: one pass without
    // branches (which the compiler vectorises) tells, and they are copied whole.
    let plain = !bytes.iter().fold(false, |escaped, &byte| {
        escaped | (byte < 0x20) | (byte == b'"') | (byte == b'\\')
    });
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut run = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0x0f)],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..index]);
        out.extend_from_slice(escaped);
        run = index + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// SHA-256 of the envelope's canonical encoding.
pub fn hash_of(envelope: &EventEnvelope) -> Result<EventHash, ChainError> {
    hash_with(&mut CanonicalEncoder::new(), envelope)
}

/// [`hash_of`] with an encoder whose buffers are kept from one event to the next: what a
/// reader that hashes many events (on several threads, one encoder each) calls.
pub fn hash_with(
    encoder: &mut CanonicalEncoder,
    envelope: &EventEnvelope,
) -> Result<EventHash, ChainError> {
    let bytes = encoder.encode(envelope, Some(HASH_MEMBER))?;
    Ok(EventHash::from_bytes(Sha256::digest(bytes).into()))
}

/// Sets the envelope's `hash` (its `sequence` and `prev_hash` are set by the account that
/// decided it).
pub fn seal(envelope: &mut EventEnvelope) -> Result<(), ChainError> {
    envelope.hash = hash_of(envelope)?;
    Ok(())
}

/// What is wrong with a link of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    /// The event's content does not hash to its `hash`: it was changed after it was written.
    HashMismatch,
    /// The event's `prev_hash` is not the hash of its customer's previous event: an event was
    /// removed or replaced before it, or it was inserted from outside the service.
    PreviousHashMismatch,
    /// The event's `sequence` does not follow its customer's previous one.
    SequenceGap,
    /// The event's log position does not follow the previous event's: an event is missing
    /// from the log.
    PositionGap,
    /// The event cannot be read at all.
    Undecodable,
}

impl Break {
    pub fn as_str(self) -> &'static str {
        match self {
            Break::HashMismatch => "HASH_MISMATCH",
            Break::PreviousHashMismatch => "PREVIOUS_HASH_MISMATCH",
            Break::SequenceGap => "SEQUENCE_GAP",
            Break::PositionGap => "POSITION_GAP",
            Break::Undecodable => "UNDECODABLE",
        }
    }
}

/// The first broken link found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub position: Position,
    pub customer_id: Option<CustomerId>,
    pub kind: Break,
    /// What the chain says should be there, and what is.
    pub expected: String,
    pub found: String,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at position {}", self.kind.as_str(), self.position)?;
        if let Some(customer) = &self.customer_id {
            write!(f, " (customer {customer})")?;
        }
        write!(f, ": expected {}, found {}", self.expected, self.found)
    }
}

/// A broken link at `position`.
fn broken(
    position: Position,
    customer_id: Option<&CustomerId>,
    kind: Break,
    expected: String,
    found: String,
) -> BrokenLink {
    BrokenLink {
        position,
        customer_id: customer_id.cloned(),
        kind,
        expected,
        found,
    }
}

/// The members of an event that link it into its customer's chain, however it was read.
struct Links<'a> {
    customer_id: &'a CustomerId,
    sequence: u64,
    prev_hash: EventHash,
    hash: EventHash,
}

/// The last link of one customer's chain.
#[derive(Debug, Clone, Copy)]
struct Tip {
    sequence: u64,
    hash: EventHash,
}

/// Walks a log in order and checks every link: each event's hash, its customer's chain, and
/// (when the walk covers the whole log) that positions follow on without gaps.
#[derive(Debug)]
pub struct ChainVerifier {
    tips: HashMap<CustomerId, Tip>,
    last_position: Position,
    last_hash: Option<EventHash>,
    whole_log: bool,
    checked: u64,
    encoder: CanonicalEncoder,
}

impl ChainVerifier {
    /// A walk of the whole log from its first event: positions must be 1, 2, 3, ...
    pub fn whole_log() -> Self {
        ChainVerifier {
            tips: HashMap::new(),
            last_position: Position::ZERO,
            last_hash: None,
            whole_log: true,
            checked: 0,
            encoder: CanonicalEncoder::new(),
        }
    }

    /// A walk of part of the log (one customer's history, say): positions only have to
    /// increase.
    pub fn part_of_log() -> Self {
        ChainVerifier {
            whole_log: false,
            ..ChainVerifier::whole_log()
        }
    }

    /// Events checked so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The position of the last event checked.
    pub fn last_position(&self) -> Position {
        self.last_position
    }

    /// The hash of the last event checked (`None` before the first).
    pub fn last_hash(&self) -> Option<EventHash> {
        self.last_hash
    }

    /// The hash of the last event checked of `customer`.
    pub fn tip(&self, customer: &CustomerId) -> Option<EventHash> {
        self.tips.get(customer).map(|tip| tip.hash)
    }

    /// Each customer's last event checked: its sequence and hash (in no order).
    pub fn tips(&self) -> impl Iterator<Item = (&CustomerId, u64, EventHash)> {
        self.tips
            .iter()
            .map(|(customer, tip)| (customer, tip.sequence, tip.hash))
    }

    /// Checks the next event of the walk. The first error is the first broken link; the walk
    /// should stop there (the verifier's state is then undefined).
    pub fn check(
        &mut self,
        position: Position,
        envelope: &EventEnvelope,
    ) -> Result<(), BrokenLink> {
        let computed = hash_with(&mut self.encoder, envelope);
        self.check_hashed(position, envelope, computed)
    }

    /// [`ChainVerifier::check`] of an event whose hash was computed before, by [`hash_with`]
    /// (on another thread, say: each event's hash depends on itself alone, only the links
    /// between events have to be checked in order).
    pub fn check_hashed(
        &mut self,
        position: Position,
        envelope: &EventEnvelope,
        computed: Result<EventHash, ChainError>,
    ) -> Result<(), BrokenLink> {
        let links = Links {
            customer_id: &envelope.customer_id,
            sequence: envelope.sequence,
            prev_hash: envelope.prev_hash,
            hash: envelope.hash,
        };
        self.check_position(position, Some(links.customer_id))?;
        let computed = computed.map_err(|e| {
            broken(
                position,
                Some(links.customer_id),
                Break::Undecodable,
                "an encodable event".into(),
                e.to_string(),
            )
        })?;
        self.check_links(position, &links, computed)
    }

    /// [`ChainVerifier::check`] of an event read from its stored bytes by [`read_stored`] (on
    /// another thread, say): its links as stored and the hash of the stored text.
    pub fn check_stored(
        &mut self,
        position: Position,
        stored: Result<&(StoredLinks, EventHash), &ChainError>,
    ) -> Result<(), BrokenLink> {
        self.check_position(position, stored.ok().map(|(links, _)| &links.customer_id))?;
        let (links, computed) = stored.map_err(|e| self.undecodable(position, &e.to_string()))?;
        let links = Links {
            customer_id: &links.customer_id,
            sequence: links.sequence,
            prev_hash: links.prev_hash,
            hash: links.hash,
        };
        self.check_links(position, &links, *computed)
    }

    /// The event's position follows the last one checked: the next one on a walk of the whole
    /// log, any later one on a walk of part of it.
    fn check_position(
        &self,
        position: Position,
        customer_id: Option<&CustomerId>,
    ) -> Result<(), BrokenLink> {
        let expected_position = Position::new(self.last_position.get() + 1);
        if (self.whole_log && position != expected_position)
            || (!self.whole_log && position <= self.last_position)
        {
            return Err(broken(
                position,
                customer_id,
                Break::PositionGap,
                format!("position {expected_position}"),
                format!("position {position}"),
            ));
        }
        Ok(())
    }

    /// The event's content hashes to its `hash`, and it follows its customer's last event.
    fn check_links(
        &mut self,
        position: Position,
        links: &Links<'_>,
        computed: EventHash,
    ) -> Result<(), BrokenLink> {
        let customer_id = Some(links.customer_id);
        if computed != links.hash {
            return Err(broken(
                position,
                customer_id,
                Break::HashMismatch,
                format!("hash {computed} of the content"),
                format!("hash {}", links.hash),
            ));
        }
        let tip = self.tips.get(links.customer_id).copied();
        let (expected_sequence, expected_previous) = match tip {
            Some(tip) => (tip.sequence + 1, tip.hash),
            None => (1, EventHash::GENESIS),
        };
        if links.prev_hash != expected_previous {
            return Err(broken(
                position,
                customer_id,
                Break::PreviousHashMismatch,
                format!("prev_hash {expected_previous}"),
                format!("prev_hash {}", links.prev_hash),
            ));
        }
        if links.sequence != expected_sequence {
            return Err(broken(
                position,
                customer_id,
                Break::SequenceGap,
                format!("sequence {expected_sequence}"),
                format!("sequence {}", links.sequence),
            ));
        }
        let tip = Tip {
            sequence: links.sequence,
            hash: links.hash,
        };
        // Updated in place: the customer id is copied only for a customer's first event.
        match self.tips.get_mut(links.customer_id) {
            Some(known) => *known = tip,
            None => {
                self.tips.insert(links.customer_id.clone(), tip);
            }
        }
        self.last_position = position;
        self.last_hash = Some(links.hash);
        self.checked += 1;
        Ok(())
    }

    /// Records an event that could not be decoded: always a broken link.
    pub fn undecodable(&self, position: Position, problem: &str) -> BrokenLink {
        BrokenLink {
            position,
            customer_id: None,
            kind: Break::Undecodable,
            expected: "an event".into(),
            found: problem.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use serde::{Serialize, Serializer};

    fn canonical(value: Value) -> String {
        let mut out = Vec::new();
        write_canonical(&value, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn members_are_sorted_and_nothing_is_spaced() {
        let value = serde_json::json!({"b": 1, "a": {"d": [true, null], "c": "x"}});
        assert_eq!(canonical(value), r#"{"a":{"c":"x","d":[true,null]},"b":1}"#);
    }

    #[test]
    fn strings_escape_as_rfc_8785_does() {
        let value = Value::String("q\"b\\n\nt\tc\u{1}é/".to_owned());
        assert_eq!(canonical(value), "\"q\\\"b\\\\n\\nt\\tc\\u0001é/\"");
    }

    #[test]
    fn floats_are_refused() {
        let mut out = Vec::new();
        assert!(write_canonical(&serde_json::json!(1.5), &mut out).is_err());
    }

    #[test]
    fn hashes_read_back_and_bad_ones_are_refused() {
        let text = "ab".repeat(32);
        assert_eq!(EventHash::parse(&text).unwrap().to_string(), text);
        assert!(EventHash::parse("abc").is_err());
        assert!(EventHash::parse(&"zz".repeat(32)).is_err());
        // The bytes, worked out by hand: 0x00 then 0xff, sixteen times; 0xa0 in either case.
        let pairs: Vec<u8> = [0x00, 0xff].repeat(16);
        assert_eq!(
            EventHash::parse(&"00ff".repeat(16)).unwrap().as_bytes()[..],
            pairs[..]
        );
        assert_eq!(
            EventHash::parse(&"A0".repeat(32)).unwrap().as_bytes(),
            &[0xa0; 32]
        );
        // Either case reads; every position of every pair is checked.
        assert_eq!(
            EventHash::parse(&"AB".repeat(32)).unwrap().to_string(),
            text
        );
        for bad in ["g", "G", "/", ":", "@", "`", " ", "\u{0}"] {
            for at in [0, 1, 62, 63] {
                let mut digits = "ab".repeat(32);
                digits.replace_range(at..=at, bad);
                assert!(EventHash::parse(&digits).is_err(), "{digits}");
            }
        }
        // 64 bytes that are not 64 digits: a two-byte character in place of two digits.
        assert!(EventHash::parse(&format!("é{}", "a".repeat(62))).is_err());
        assert_eq!(EventHash::GENESIS.to_string(), "0".repeat(64));
    }

    /// What the definition writes for `value` without the outermost member `leave_out`.
    fn by_definition<T: Serialize>(
        value: &T,
        leave_out: Option<&str>,
    ) -> Result<Vec<u8>, ChainError> {
        let mut value =
            serde_json::to_value(value).map_err(|e| ChainError::Unencodable(e.to_string()))?;
        if let (Value::Object(members), Some(name)) = (&mut value, leave_out) {
            members.remove(name);
        }
        let mut out = Vec::new();
        write_canonical(&value, &mut out)?;
        Ok(out)
    }

    fn assert_as_defined<T: Serialize>(value: &T) {
        let mut encoder = CanonicalEncoder::new();
        for leave_out in [None, Some(HASH_MEMBER)] {
            let fast = encoder.encode(value, leave_out).map(<[u8]>::to_vec);
            let defined = by_definition(value, leave_out);
            assert_eq!(
                fast.as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
                defined
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
                "leaving out {leave_out:?}"
            );
            assert_eq!(fast, defined);
        }
    }

    #[derive(Serialize)]
    enum Variants {
        Unit,
        Newtype(u32),
        Tuple(i8, String),
        Struct { z: bool, hash: Option<u64> },
    }

    #[derive(Serialize)]
    #[serde(tag = "type", content = "data")]
    enum Tagged {
        Payment { hash: String, amount: String },
    }

    #[derive(Serialize)]
    struct Flattened {
        zeta: Vec<Variants>,
        hash: String,
        alpha: std::collections::BTreeMap<String, i64>,
        character: char,
        pair: (u8, &'static str),
        unit: (),
        missing: Option<u8>,
        negative: i64,
        #[serde(flatten)]
        tagged: Tagged,
    }

    fn flattened() -> Flattened {
        Flattened {
            zeta: vec![
                Variants::Unit,
                Variants::Newtype(7),
                Variants::Tuple(-3, "t\u{7f}\u{1f}".into()),
                Variants::Struct {
                    z: true,
                    hash: None,
                },
            ],
            hash: "ab".repeat(32),
            alpha: [
                ("b".to_owned(), 2),
                ("a\"".to_owned(), 1),
                ("é".to_owned(), 3),
            ]
            .into_iter()
            .collect(),
            character: '\n',
            pair: (255, "x"),
            unit: (),
            missing: None,
            negative: i64::MIN,
            tagged: Tagged::Payment {
                hash: "inner".into(),
                amount: "400.00".into(),
            },
        }
    }

    #[test]
    fn the_encoder_writes_what_the_definition_writes() {
        // Shaped like an envelope (a flattened, adjacently tagged event): no fallback.
        assert!(
            CanonicalEncoder::new()
                .encode_fast(&flattened(), Some(HASH_MEMBER))
                .is_ok()
        );
        assert_as_defined(&flattened());
        assert_as_defined(&Variants::Struct {
            z: false,
            hash: Some(u64::MAX),
        });
        assert_as_defined(&Variants::Tuple(1, "a".into()));
        assert_as_defined(&Variants::Newtype(1));
        assert_as_defined(&vec![flattened(), flattened()]);
        assert_as_defined(&"plain");
        assert_as_defined(&Option::<u8>::None);
    }

    /// A map that names a member twice: the last value counts, as in a `serde_json` map.
    struct Repeated;

    impl Serialize for Repeated {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("b", &1)?;
            map.serialize_entry("hash", "x")?;
            map.serialize_entry("a", &[2, 3])?;
            map.serialize_entry("b", &4)?;
            map.end()
        }
    }

    /// Values that events never hold, which the encoder leaves to the definition.
    #[derive(Serialize)]
    struct Unusual {
        float: f64,
    }

    struct Bytes;

    impl Serialize for Bytes {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(b"\x01\x02")
        }
    }

    #[derive(Serialize)]
    struct Wide {
        small: u128,
        large: i128,
    }

    #[test]
    fn what_events_never_hold_comes_out_as_the_definition_says() {
        assert_as_defined(&Repeated);
        assert_as_defined(&Unusual { float: 1.5 });
        assert_as_defined(&Unusual { float: f64::NAN });
        assert_as_defined(&Bytes);
        assert_as_defined(&Wide {
            small: 5,
            large: i128::MIN,
        });
        assert_as_defined(&Wide { small: 5, large: 6 });
        let numbered: std::collections::BTreeMap<u32, &str> = [(10, "x"), (9, "y")].into();
        assert_as_defined(&numbered);
        assert_as_defined(&serde_json::json!({"hash": 1.25}));
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[ -~\\t\\n\\u{1}\\u{1f}é€😀]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\"\\\\é]{0,4}|hash", inner, 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_encoder_agrees_with_the_definition_on_any_value(value in any_value()) {
            assert_as_defined(&value);
        }

        #[test]
        fn the_encoder_of_stored_text_agrees_with_the_definition(value in any_value()) {
            assert_text_as_defined(&serde_json::to_vec(&value).unwrap());
            assert_text_as_defined(&serde_json::to_vec_pretty(&value).unwrap());
        }
    }

    /// `encode_json` of `text` is the definition over the `Value` the text reads as, with and
    /// without `hash`, errors included.
    fn assert_text_as_defined(text: &[u8]) {
        let mut encoder = CanonicalEncoder::new();
        for leave_out in [None, Some(HASH_MEMBER)] {
            let fast = encoder.encode_json(text, leave_out).map(<[u8]>::to_vec);
            let defined = serde_json::from_slice::<Value>(text)
                .map_err(|e| ChainError::NotJson(e.to_string()))
                .and_then(|mut value| {
                    if let (Value::Object(members), Some(name)) = (&mut value, leave_out) {
                        members.remove(name);
                    }
                    let mut out = Vec::new();
                    write_canonical(&value, &mut out).map(|()| out)
                });
            assert_eq!(fast, defined, "leaving out {leave_out:?}");
        }
    }

    #[test]
    fn stored_text_is_written_canonically_as_it_is_read() {
        // Worked by hand: spaces dropped, members sorted, `hash` left out, the escapes `\u00e9`
        // and `\/` written as the characters, a control character as `\u001f`, the last `a`
        // of two kept.
        let text = br#" { "b" : [1, -2, true, null], "hash": "x", "a": "\u00e9\/\u001F",
                          "c": {"z": {}, "y": []}, "a": "kept" } "#;
        let mut encoder = CanonicalEncoder::new();
        let written = encoder
            .encode_json(text, Some(HASH_MEMBER))
            .unwrap()
            .to_vec();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            r#"{"a":"kept","b":[1,-2,true,null],"c":{"y":[],"z":{}}}"#
        );
        // Its outermost members stay readable, the one left out and the last of two included.
        assert!(encoder.kept_outermost());
        assert_eq!(encoder.outermost_member("a"), Some(&b"\"kept\""[..]));
        assert_eq!(encoder.outermost_member("hash"), Some(&b"\"x\""[..]));
        assert_eq!(
            encoder.outermost_member("c"),
            Some(&br#"{"y":[],"z":{}}"#[..])
        );
        assert_eq!(encoder.outermost_member("y"), None);
        encoder.encode_json(b"[1]", None).unwrap();
        assert!(!encoder.kept_outermost());
        encoder.encode_json(br#"{"hash": 1.5}"#, None).unwrap_err();
        assert!(!encoder.kept_outermost());
        let written = CanonicalEncoder::new()
            .encode_json(br#"["\u00e9\/\u001F", {"hash": 1}]"#, Some(HASH_MEMBER))
            .unwrap()
            .to_vec();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            "[\"é/\\u001f\",{\"hash\":1}]"
        );
        for (text, why) in [
            (&b"{\"a\": 1.5}"[..], "a fraction"),
            (b"{\"a\": 1e3}", "an exponent"),
            (b"{\"a\": 18446744073709551616}", "beyond 64 bits"),
            (b"{} trailing", "text after the value"),
            (b"{\"a\": }", "no value"),
            (b"", "nothing"),
        ] {
            assert_text_as_defined(text);
            assert!(
                CanonicalEncoder::new().encode_json(text, None).is_err(),
                "{why}"
            );
        }
        assert_text_as_defined(text);
    }

    #[test]
    fn the_hash_of_known_bytes_is_sha_256() {
        // SHA-256("abc"), from FIPS 180-2 appendix B.1.
        let digest: [u8; 32] = Sha256::digest(b"abc").into();
        assert_eq!(
            EventHash::from_bytes(digest).to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
