//! The command ids the service derives: the same for every process that would send the same
//! command, so that two importers of one file, or two matchers of one line, send one command.

use receivables_domain::{CommandId, CustomerId};
use uuid::Uuid;

/// The namespace of the command ids the service derives (imports and automatic matches), its
/// own so that no other derivation can produce them.
const DERIVED_NAMESPACE: Uuid = Uuid::from_u128(0x2b8e_41c9_5d07_4f6a_b3e1_7c90_a5d2_6e18);

/// A command id derived from the bank account's stream, what the command does and its
/// subject: the same for every process that would send the same command, so that two
/// importers of one file, or two matchers of one line, send one command.
pub(crate) fn derived_id(stream: &CustomerId, what: &str, subject: &str) -> CommandId {
    let name = format!("{stream}\u{1f}{what}\u{1f}{subject}");
    let uuid = Uuid::new_v5(&DERIVED_NAMESPACE, name.as_bytes());
    // A version 5 UUID has its version bits set: never the nil UUID.
    CommandId::from_uuid(uuid).unwrap_or_else(|_| unreachable!("a v5 UUID is not nil"))
}
