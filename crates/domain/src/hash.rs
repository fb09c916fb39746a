//! The hash of an event: what links each event of a customer to the one before it (see
//! [`crate::chain`] for what it is taken over and how it is checked). The envelope carries it,
//! so it stands below both.

use std::fmt;

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
        let mut bytes = [0; HASH_BYTES];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| ChainError::BadHash(text.chars().take(80).collect()))?;
        Ok(EventHash(bytes))
    }

    /// The 64 lowercase hex digits, on the stack: two hashes are written for every event encoded
    /// (`prev_hash` and `hash`), and a `String` built by `hex::encode` for each was a measurable
    /// part of hashing an event.
    fn hex_digits(&self) -> [u8; 2 * HASH_BYTES] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0; 2 * HASH_BYTES];
        for (pair, byte) in digits.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        digits
    }
}

impl fmt::Display for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.hex_digits();
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
        let digits = self.hex_digits();
        serializer.serialize_str(std::str::from_utf8(&digits).map_err(serde::ser::Error::custom)?)
    }
}

impl<'de> Deserialize<'de> for EventHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EventHash::parse(&text).map_err(serde::de::Error::custom)
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
}
