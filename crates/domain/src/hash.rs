//! The hash of an event: what links each event of a customer to the one before it (see
//! [`crate::chain`] for what it is taken over and how it is checked). The envelope carries it,
//! so it stands below both.

use std::fmt;

use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes of a SHA-256 hash.
pub const HASH_BYTES: usize = 32;

/// The SHA-256 hash of an event's canonical encoding, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventHash([u8; HASH_BYTES]);

impl EventHash {
    /// The `prev_hash` of a customer's first event.
    pub const GENESIS: EventHash = EventHash([0; HASH_BYTES]);

    pub fn from_bytes(bytes: [u8; HASH_BYTES]) -> Self {
        EventHash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; HASH_BYTES] {
        &self.0
    }

    /// Parses 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, ChainError> {
        from_hex_digits(text)
            .map(EventHash)
            .ok_or_else(|| ChainError::BadHash(text.chars().take(80).collect()))
    }
}

/// The 64 lowercase hex digits of 32 bytes, on the stack: two hashes and a digest are written
/// for every event encoded, and a `String` built by `hex::encode` for each was a measurable part
/// of hashing an event.
pub(crate) fn hex_digits(bytes: &[u8; HASH_BYTES]) -> [u8; 2 * HASH_BYTES] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0; 2 * HASH_BYTES];
    for (pair, byte) in digits.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    digits
}

/// The 32 bytes written as 64 hex digits (either case), `None` for anything else. Read for every
/// event read (its hash, the previous one and its command's digest), without an allocation.
pub(crate) fn from_hex_digits(text: &str) -> Option<[u8; HASH_BYTES]> {
    /// Each byte's value as a hex digit, `NOT_A_DIGIT` for the bytes that are none.
    const NOT_A_DIGIT: u8 = 0xff;
    const VALUES: [u8; 256] = {
        let mut values = [NOT_A_DIGIT; 256];
        let mut digit = 0;
        while digit < 10 {
            values[b'0' as usize + digit] = digit as u8;
            digit += 1;
        }
        let mut letter = 0;
        while letter < 6 {
            values[b'a' as usize + letter] = 10 + letter as u8;
            values[b'A' as usize + letter] = 10 + letter as u8;
            letter += 1;
        }
        values
    };
    let digits = text.as_bytes();
    if digits.len() != 2 * HASH_BYTES {
        return None;
    }
    let mut bytes = [0; HASH_BYTES];
    let mut invalid = 0;
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (VALUES[usize::from(pair[0])], VALUES[usize::from(pair[1])]);
        invalid |= (high | low) & 0xf0;
        *byte = (high << 4) | (low & 0x0f);
    }
    (invalid == 0).then_some(bytes)
}

/// Writes 32 bytes as their 64 lowercase hex digits.
pub(crate) fn serialize_hex<S: Serializer>(
    bytes: &[u8; HASH_BYTES],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let digits = hex_digits(bytes);
    serializer.serialize_str(std::str::from_utf8(&digits).map_err(serde::ser::Error::custom)?)
}

/// Reads 32 bytes from their 64 hex digits, borrowing the text where the format allows it.
pub(crate) fn deserialize_hex<'de, D: Deserializer<'de>>(
    deserializer: D,
    what: &'static str,
) -> Result<[u8; HASH_BYTES], D::Error> {
    struct Digits(&'static str);
    impl Visitor<'_> for Digits {
        type Value = [u8; HASH_BYTES];
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}: 64 hex digits", self.0)
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            from_hex_digits(text)
                .ok_or_else(|| E::custom(ChainError::BadHash(text.chars().take(80).collect())))
        }
    }
    deserializer.deserialize_str(Digits(what))
}

impl fmt::Display for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = hex_digits(&self.0);
        f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventHash({self})")
    }
}

impl Serialize for EventHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_hex(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for EventHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_hex(deserializer, "an event hash").map(EventHash)
    }
}

/// Why a hash could not be computed or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("not a SHA-256 hash in hex: {0:?}")]
    BadHash(String),
    #[error("the envelope cannot be encoded: {0}")]
    Unencodable(String),
    #[error("the envelope holds a number that is not an integer: {0}")]
    NotAnInteger(String),
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not an event of this service: {0}")]
    NotAnEvent(String),
    /// The event is of another customer than the one the log files it under (this one).
    #[error("an event of another customer than {0}, under whom the log files it")]
    FiledElsewhere(String),
}
