//! Commands: what a subsidiary or the credit department asks the service to record.
//!
//! A command is built from validated parts (ids, money, dates), so most bad input never becomes
//! a command at all. What needs several fields at once (due date after issue date, allocations
//! within the payment) is checked by [`CommandBody::check`]. What needs the account's state is
//! decided by the aggregate. Each command is defined with its rules in its feature's module
//! (`account/invoice.rs`, ...); this module holds the sum of them and what every command has:
//! an id and a digest of its content.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::account::feature::CommandRules;
use crate::ids::{CommandId, SubsidiaryId};
use crate::refusal::FieldViolation;

pub use crate::account::credit_limit::ChangeCreditLimit;
pub use crate::account::invoice::IssueInvoice;
pub use crate::account::payment::{AllocationRequest, RecordPayment};
pub use crate::account::promise::RecordPromiseToPay;
pub use crate::ids::InvoiceKey;

/// What a command asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CommandBody {
    IssueInvoice(IssueInvoice),
    RecordPayment(RecordPayment),
    ChangeCreditLimit(ChangeCreditLimit),
    RecordPromiseToPay(RecordPromiseToPay),
}

/// A command with its client-chosen id (the idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub id: CommandId,
    pub body: CommandBody,
}

/// SHA-256 of a command's content (everything but its id): two submissions with the same id are
/// "the same command" exactly when their digests are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct CommandDigest([u8; 32]);

impl From<CommandDigest> for String {
    fn from(digest: CommandDigest) -> String {
        hex::encode(digest.0)
    }
}

impl TryFrom<String> for CommandDigest {
    type Error = hex::FromHexError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)?;
        Ok(CommandDigest(bytes))
    }
}

impl CommandBody {
    /// The digest of this content. The JSON encoding of these types is deterministic (struct
    /// fields in declaration order, no maps), which is what makes it a fingerprint.
    pub fn digest(&self) -> CommandDigest {
        let bytes = serde_json::to_vec(self)
            .unwrap_or_else(|error| format!("unencodable command: {error}").into_bytes());
        CommandDigest(Sha256::digest(bytes).into())
    }

    /// The rules of the command's feature.
    pub fn rules(&self) -> &dyn CommandRules {
        match self {
            CommandBody::IssueInvoice(c) => c,
            CommandBody::RecordPayment(c) => c,
            CommandBody::ChangeCreditLimit(c) => c,
            CommandBody::RecordPromiseToPay(c) => c,
        }
    }

    /// The rules that need several fields of the command but nothing of the account.
    pub fn check(&self) -> Vec<FieldViolation> {
        self.rules().check()
    }

    /// The subsidiary the command is posted for, if any.
    pub fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        self.rules().subsidiary_id()
    }
}
