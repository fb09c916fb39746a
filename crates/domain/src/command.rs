//! Commands: what a subsidiary or the credit department asks the service to record.
//!
//! A command is built from validated parts (ids, money, dates), so most bad input never becomes
//! a command at all. What needs several fields at once (due date after issue date, allocations
//! within the payment) is checked by [`CommandBody::check`]. What needs the account's state is
//! decided by the aggregate. Each command is defined with its rules in its feature's module
//! (`account/invoice.rs`, ...); this module holds the sum of them (made from the list of
//! features, [`crate::features`]) and what every command has: an id and a digest of its content.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::account::feature::{CommandRules, Decide, DecisionContext};
use crate::account::state::AccountState;
use crate::event::Event;
use crate::features::features;
pub use crate::ids::CommandDigest;
use crate::ids::{CommandId, SubsidiaryId};
use crate::refusal::{FieldViolation, Refusal};

pub use crate::allocation::AllocationRequest;
pub use crate::ids::InvoiceKey;

/// The enum of every feature's command and its hand-over to the feature, from the list.
macro_rules! command_body {
    ($($(#[$doc:meta])* $command:ident($command_type:path) => $event:ident($event_type:path),)+) => {
        $(pub use $command_type;)+

        /// What a command asks for: the command of one feature.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum CommandBody {
            $($(#[$doc])* $command($command),)+
        }

        impl CommandBody {
            /// The rules of the command's feature.
            pub fn rules(&self) -> &dyn CommandRules {
                match self {
                    $(CommandBody::$command(command) => command,)+
                }
            }

            /// The event the command becomes on an account in `state`, as its feature decides.
            pub(crate) fn decide(
                &self,
                state: &AccountState,
                command_id: CommandId,
                context: &DecisionContext,
            ) -> Result<Event, Refusal> {
                match self {
                    $(CommandBody::$command(command) => command
                        .decide(state, command_id, context)
                        .map(Event::$event),)+
                }
            }
        }
    };
}

features!(command_body);

/// A command with its client-chosen id (the idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub id: CommandId,
    pub body: CommandBody,
}

impl CommandBody {
    /// The digest of this content. The JSON encoding of these types is deterministic (struct
    /// fields in declaration order, no maps), which is what makes it a fingerprint.
    pub fn digest(&self) -> CommandDigest {
        let bytes = serde_json::to_vec(self)
            .unwrap_or_else(|error| format!("unencodable command: {error}").into_bytes());
        CommandDigest::from_bytes(Sha256::digest(bytes).into())
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
