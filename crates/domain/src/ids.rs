//! Identifiers of the domain, each validated when it is made.
//!
//! Customer and subsidiary ids end up inside NATS subjects (`<prefix>.<customer_id>`) and key-value
//! keys, so they are restricted to a safe alphabet: ASCII letters, digits, `-` and `_`. No `.`,
//! `*`, `>`, spaces or control characters can reach a subject, which makes subject injection
//! impossible by construction rather than by escaping.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::limits::{
    BANK_ACCOUNT_ID_LENGTH_MAX, BANK_LINE_ID_LENGTH_MAX, ID_LENGTH_MAX, INVOICE_NUMBER_LENGTH_MAX,
    NAME_LENGTH_MAX,
};

/// Why an identifier or a bounded text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {actual}")]
    TooLong { max: usize, actual: usize },
    #[error("character {character:?} at position {position} is not allowed ({allowed})")]
    BadCharacter {
        character: char,
        position: usize,
        allowed: &'static str,
    },
    #[error("must be a UUID: {0}")]
    NotUuid(String),
    #[error("must not be the nil UUID")]
    NilUuid,
}

const SAFE_ALPHABET: &str = "ASCII letters, digits, '-' and '_'";
const INVOICE_ALPHABET: &str = "ASCII letters, digits, '-', '_', '/' and '.'";

fn check_text(
    value: &str,
    max: usize,
    allowed: &'static str,
    accept: impl Fn(char) -> bool,
) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty);
    }
    let length = value.chars().count();
    if length > max {
        return Err(IdError::TooLong {
            max,
            actual: length,
        });
    }
    match value.chars().enumerate().find(|(_, c)| !accept(*c)) {
        Some((position, character)) => Err(IdError::BadCharacter {
            character,
            position,
            allowed,
        }),
        None => Ok(()),
    }
}

fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A text identifier checked when it is made: `parse` runs the check (which may also normalise,
/// for instance trim), serde goes through `parse` as well, and the type prints as its text.
macro_rules! validated_text {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, IdError> {
                let check: fn(&str) -> Result<String, IdError> = $check;
                check(value).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The bytes its text holds on the heap (`account/footprint.rs`).
            pub fn heap_bytes(&self) -> usize {
                self.0.capacity()
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The safe alphabet and [`ID_LENGTH_MAX`]: what may become a subject token or a key.
fn safe_id(value: &str) -> Result<String, IdError> {
    check_text(value, ID_LENGTH_MAX, SAFE_ALPHABET, is_safe)?;
    Ok(value.to_owned())
}

validated_text!(
    /// A customer of the group: one account, one aggregate, one subject in the log.
    CustomerId,
    safe_id
);
/// The id of the group's own account, which holds the group's settings instead of a customer's
/// business. It is a valid id so that the log keeps it like any account (its chain, its audit),
/// and it is reserved: no customer command may name it (`account/mod.rs`, and the wire mapping
/// before it).
pub const GROUP_ACCOUNT_ID: &str = "_group";

impl CustomerId {
    /// The group's own account (see [`crate::account::feature::Scope::Group`]).
    pub fn group() -> CustomerId {
        CustomerId(GROUP_ACCOUNT_ID.to_owned())
    }

    /// Whether this is the group's own account rather than a customer's.
    pub fn is_group(&self) -> bool {
        self.0 == GROUP_ACCOUNT_ID
    }

    /// The stream of one of the group's bank accounts (see
    /// [`crate::account::feature::Scope::BankAccount`]): `_bank-<id>`.
    pub fn bank_account(id: &BankAccountId) -> CustomerId {
        CustomerId(format!("{BANK_ACCOUNT_STREAM_PREFIX}{id}"))
    }

    /// The bank account whose stream this is, if it is one.
    pub fn bank_account_id(&self) -> Option<BankAccountId> {
        self.0
            .strip_prefix(BANK_ACCOUNT_STREAM_PREFIX)
            .and_then(|id| BankAccountId::parse(id).ok())
    }

    /// Whether this is a bank account's stream rather than a customer's.
    pub fn is_bank_account(&self) -> bool {
        self.0.starts_with(BANK_ACCOUNT_STREAM_PREFIX)
    }

    /// Whether the id is reserved for the group's own streams (its settings, its bank
    /// accounts), which no customer command may name.
    pub fn is_reserved(&self) -> bool {
        self.is_group() || self.is_bank_account()
    }
}

/// What a bank account's stream id starts with. Like [`GROUP_ACCOUNT_ID`], a valid customer id
/// kept by the log like any account (its chain, its audit), and reserved: no customer command
/// may name an id that starts with it.
pub const BANK_ACCOUNT_STREAM_PREFIX: &str = "_bank-";
const _: () =
    assert!(BANK_ACCOUNT_STREAM_PREFIX.len() + BANK_ACCOUNT_ID_LENGTH_MAX == ID_LENGTH_MAX);

validated_text!(
    /// One of the group's bank accounts, as the group names it (`ICBC-SH-001`): the safe
    /// alphabet, short enough that its stream id (`_bank-<id>`) is a valid customer id.
    BankAccountId,
    |value| {
        check_text(value, BANK_ACCOUNT_ID_LENGTH_MAX, SAFE_ALPHABET, is_safe)?;
        Ok(value.to_owned())
    }
);

validated_text!(
    /// The bank's own id of a transaction on a statement (camt.053's account servicer
    /// reference, MT940's bank reference, Alipay's or WeChat Pay's transaction number), by
    /// which a line imported again is recognised: printable, no spaces at either end, bounded.
    BankLineId,
    |value| {
        let trimmed = value.trim();
        check_text(trimmed, BANK_LINE_ID_LENGTH_MAX, "printable characters", |c| {
            !c.is_control()
        })?;
        Ok(trimmed.to_owned())
    }
);

validated_text!(
    /// A subsidiary (legal entity) of the group that sells on credit and posts transactions.
    SubsidiaryId,
    safe_id
);
validated_text!(
    /// An invoice number, unique per subsidiary across all customers.
    ///
    /// Invoice numbers come from subsidiaries' ERPs (`INV-2026-0001`, `SO/2026/17`), so `/` and
    /// `.` are allowed besides the safe alphabet; they never become subject tokens as they are.
    InvoiceNumber,
    |value| {
        check_text(value, INVOICE_NUMBER_LENGTH_MAX, INVOICE_ALPHABET, |c| {
            is_safe(c) || c == '/' || c == '.'
        })?;
        Ok(value.to_owned())
    }
);
validated_text!(
    /// A credit-note number, unique per subsidiary across all customers in a key space of its
    /// own (a credit note may carry the number of an invoice). The invoice number's alphabet.
    CreditNoteNumber,
    |value| {
        check_text(value, INVOICE_NUMBER_LENGTH_MAX, INVOICE_ALPHABET, |c| {
            is_safe(c) || c == '/' || c == '.'
        })?;
        Ok(value.to_owned())
    }
);
validated_text!(
    /// A sales-order number, unique per subsidiary across all customers in a key space of its
    /// own: the order a credit reservation is made for (`account/credit_reservation.rs`). The
    /// invoice number's alphabet, since both come from the same ERPs.
    OrderNumber,
    |value| {
        check_text(value, INVOICE_NUMBER_LENGTH_MAX, INVOICE_ALPHABET, |c| {
            is_safe(c) || c == '/' || c == '.'
        })?;
        Ok(value.to_owned())
    }
);
validated_text!(
    /// The code of a named payment-terms template (`NET30`, `30-50-20`, `2-10-NET30`): the safe
    /// alphabet, so that it may appear in keys and file names.
    TermsCode,
    safe_id
);
validated_text!(
    /// A person's name or login (approver, collector): printable, bounded, trimmed.
    PersonName,
    |value| {
        let trimmed = value.trim();
        check_text(trimmed, NAME_LENGTH_MAX, "printable characters", |c| {
            !c.is_control()
        })?;
        Ok(trimmed.to_owned())
    }
);

/// Bounded free text (a reason, a note, a payment reference). Control characters other than
/// line breaks and tabs are refused so that logs and CSV exports stay readable.
pub fn check_free_text(value: &str, max: usize) -> Result<(), IdError> {
    if value.chars().count() > max {
        return Err(IdError::TooLong {
            max,
            actual: value.chars().count(),
        });
    }
    match value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        Some((position, character)) => Err(IdError::BadCharacter {
            character,
            position,
            allowed: "printable characters, line breaks and tabs",
        }),
        None => Ok(()),
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Parses a UUID in any of its usual text forms; the nil UUID is refused.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                let uuid = Uuid::parse_str(value).map_err(|e| IdError::NotUuid(e.to_string()))?;
                Self::from_uuid(uuid)
            }

            pub fn from_uuid(uuid: Uuid) -> Result<Self, IdError> {
                if uuid.is_nil() {
                    return Err(IdError::NilUuid);
                }
                Ok(Self(uuid))
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// The client-chosen id of a command: the idempotency key of the whole write path.
    CommandId
);
uuid_id!(
    /// The id of an event, assigned by the command service when it decides.
    EventId
);
uuid_id!(
    /// The id of a promise to pay (the id of the command that recorded it).
    PromiseId
);

uuid_id!(
    /// The id of a dispute (the id of the command that opened it).
    DisputeId
);

impl From<CommandId> for DisputeId {
    fn from(id: CommandId) -> Self {
        DisputeId(id.0)
    }
}

impl From<CommandId> for PromiseId {
    fn from(id: CommandId) -> Self {
        PromiseId(id.0)
    }
}

/// Who issued a command, as the service authenticated it. Read back from an event through
/// [`Principal::parse`] like every other name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Principal(String);

impl TryFrom<String> for Principal {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        Principal::parse(&value)
    }
}

impl From<Principal> for String {
    fn from(principal: Principal) -> String {
        principal.0
    }
}

impl Principal {
    /// The principal recorded while the service runs without authentication.
    pub fn anonymous() -> Self {
        Principal("anonymous".to_owned())
    }

    pub fn parse(value: &str) -> Result<Self, IdError> {
        check_text(value, NAME_LENGTH_MAX, "printable characters", |c| {
            !c.is_control()
        })?;
        Ok(Principal(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An invoice of a customer, named by the subsidiary that issued it and its number there
/// (unique per subsidiary across all customers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InvoiceKey {
    pub subsidiary_id: SubsidiaryId,
    pub invoice_number: InvoiceNumber,
}

#[cfg(feature = "testing")]
impl InvoiceKey {
    /// The invoice the samples of the tests refer to: `SUB-A/INV-1`.
    pub fn sample() -> Self {
        InvoiceKey {
            subsidiary_id: SubsidiaryId::parse("SUB-A").expect("a valid subsidiary id"),
            invoice_number: InvoiceNumber::parse("INV-1").expect("a valid invoice number"),
        }
    }
}

impl fmt::Display for InvoiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invoices/{}/{}", self.subsidiary_id, self.invoice_number)
    }
}

/// A credit note of a customer, named by the subsidiary that issued it and its number there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CreditNoteKey {
    pub subsidiary_id: SubsidiaryId,
    pub credit_note_number: CreditNoteNumber,
}

impl fmt::Display for CreditNoteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "credit_notes/{}/{}",
            self.subsidiary_id, self.credit_note_number
        )
    }
}

/// A sales order of a customer, named by the subsidiary that took it and its number there
/// (unique per subsidiary across all customers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderKey {
    pub subsidiary_id: SubsidiaryId,
    pub order_number: OrderNumber,
}

impl fmt::Display for OrderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "orders/{}/{}", self.subsidiary_id, self.order_number)
    }
}

/// A number that is unique per subsidiary across all customers, in the key space of its kind:
/// what the command service reserves before it appends the event that uses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NumberKey {
    Invoice(InvoiceKey),
    CreditNote(CreditNoteKey),
    /// The sales order a credit reservation is made for.
    Order(OrderKey),
}

impl NumberKey {
    pub fn subsidiary_id(&self) -> &SubsidiaryId {
        match self {
            NumberKey::Invoice(key) => &key.subsidiary_id,
            NumberKey::CreditNote(key) => &key.subsidiary_id,
            NumberKey::Order(key) => &key.subsidiary_id,
        }
    }

    /// The number, as its subsidiary wrote it.
    pub fn number(&self) -> &str {
        match self {
            NumberKey::Invoice(key) => key.invoice_number.as_str(),
            NumberKey::CreditNote(key) => key.credit_note_number.as_str(),
            NumberKey::Order(key) => key.order_number.as_str(),
        }
    }
}

impl fmt::Display for NumberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberKey::Invoice(key) => key.fmt(f),
            NumberKey::CreditNote(key) => key.fmt(f),
            NumberKey::Order(key) => key.fmt(f),
        }
    }
}

/// SHA-256 of a command's content (everything but its id): two submissions with the same id are
/// "the same command" exactly when their digests are equal.
/// Written as 64 lowercase hex digits (read in either case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandDigest([u8; 32]);

impl CommandDigest {
    /// The digest of SHA-256 `bytes` (computed by [`crate::command::CommandBody::digest`]).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        CommandDigest(bytes)
    }
}

impl Serialize for CommandDigest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::hash::serialize_hex(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for CommandDigest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::hash::deserialize_hex(deserializer, "a command digest").map(CommandDigest)
    }
}

/// A position in the event log: the stream sequence of an event. `Position::ZERO` is "before the
/// first event" (an empty customer subject has last position zero).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Position(u64);

impl Position {
    pub const ZERO: Position = Position(0);

    pub const fn new(sequence: u64) -> Self {
        Position(sequence)
    }

    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_that_would_escape_a_subject_are_refused() {
        for bad in [
            "a.b",
            "a*",
            ">",
            "a b",
            "tab\there",
            "nul\0",
            "é",
            "a>b",
            "*",
        ] {
            assert!(CustomerId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(CustomerId::parse(""), Err(IdError::Empty));
        assert!(matches!(
            CustomerId::parse(&"x".repeat(65)),
            Err(IdError::TooLong {
                max: 64,
                actual: 65
            })
        ));
        assert!(CustomerId::parse(&"x".repeat(64)).is_ok());
        assert_eq!(
            CustomerId::parse("ACME_co-01").unwrap().as_str(),
            "ACME_co-01"
        );
    }

    #[test]
    fn invoice_numbers_allow_erp_separators_but_not_spaces() {
        assert!(InvoiceNumber::parse("SO/2026/17.1").is_ok());
        assert!(matches!(
            InvoiceNumber::parse("INV 1"),
            Err(IdError::BadCharacter {
                character: ' ',
                position: 3,
                ..
            })
        ));
    }

    #[test]
    fn nil_and_malformed_uuids_are_refused() {
        assert_eq!(
            CommandId::parse("00000000-0000-0000-0000-000000000000"),
            Err(IdError::NilUuid)
        );
        assert!(matches!(
            CommandId::parse("not-a-uuid"),
            Err(IdError::NotUuid(_))
        ));
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        let ok: Result<CustomerId, _> = serde_json::from_str("\"C-1\"");
        assert!(ok.is_ok());
        let bad: Result<CustomerId, _> = serde_json::from_str("\"a.b\"");
        assert!(bad.is_err());
        let principal: Principal = serde_json::from_str("\"credit@group\"").unwrap();
        assert_eq!(principal, Principal::parse("credit@group").unwrap());
        for bad in [
            "\"\"",
            "\"ano\\u0000nymous\"",
            &format!("\"{}\"", "p".repeat(65)),
        ] {
            let principal: Result<Principal, _> = serde_json::from_str(bad);
            assert!(principal.is_err(), "{bad} was read as a principal");
        }
    }
}
