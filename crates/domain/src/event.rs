//! Events (schema version 2): the facts the service has accepted, with the decisions it made.
//!
//! Events are never edited or deleted; a mistake is corrected by a later event. A payment's event
//! records the allocations the command service decided, so that projections and auditors never
//! decide again. Each event is defined with its rules in its feature's module
//! (`account/invoice.rs`, ...); this module holds the sum of them, the one list of event types
//! derived from it ([`EventType`]), and the envelope every event travels in.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator as _;

use crate::account::feature::EventRules;
use crate::features::features;
use crate::hash::EventHash;
use crate::ids::{CommandDigest, CommandId, CustomerId, EventId, Position, Principal};
use crate::rules::{business_date, invalid};

mod wire;

pub use crate::account::invoice::CreditCheckRecord;
pub use crate::account::payment::AllocationRule;
pub use crate::allocation::Allocation;
pub use crate::rules::InvalidEvent;

/// The schema version of the envelope and payloads written by this code. Version 2 added the
/// hash chain (`sequence`, `prev_hash`, `hash`).
pub const SCHEMA_VERSION: u32 = 2;

/// The enum of every feature's event, its list of types and its hand-over to the feature, from
/// the list.
macro_rules! event_enum {
    ($($(#[$doc:meta])* $command:ident($command_type:path) => $event:ident($event_type:path),)+) => {
        $(pub use $event_type;)+

        /// The payload of an event: the event of one feature. The variant's name is its type on
        /// the wire (`"type"` of the envelope) and in [`EventType`].
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::EnumDiscriminants)]
        #[serde(tag = "type", content = "data")]
        #[strum_discriminants(
            name(EventType),
            vis(pub),
            derive(
                Hash,
                PartialOrd,
                Ord,
                strum::EnumIter,
                strum::IntoStaticStr,
                strum::EnumString
            ),
            doc = "The type of an event: the one list of them, derived from [`Event`]."
        )]
        pub enum Event {
            $($(#[$doc])* $event($event),)+
        }

        impl Event {
            /// Every event type's name on the wire, in the order of the variants.
            pub(crate) const TYPE_NAMES: &'static [&'static str] = &[$(stringify!($event)),+];

            /// Reads the `data` of an event whose `type` was read before it, straight into the
            /// type's payload.
            pub(crate) fn next_data<'de, A: serde::de::MapAccess<'de>>(
                event_type: EventType,
                map: &mut A,
            ) -> Result<Event, A::Error> {
                Ok(match event_type {
                    $(EventType::$event => Event::$event(map.next_value()?),)+
                })
            }

            /// Writes the event's payload as the member `data` of the envelope being written.
            pub(crate) fn serialize_data<S: serde::ser::SerializeStruct>(
                &self,
                envelope: &mut S,
            ) -> Result<(), S::Error> {
                match self {
                    $(Event::$event(data) => envelope.serialize_field("data", data),)+
                }
            }

            /// Reads the `data` of an event from a JSON value kept until its `type` was known.
            pub(crate) fn data_from_value(
                event_type: EventType,
                data: serde_json::Value,
            ) -> Result<Event, serde_json::Error> {
                Ok(match event_type {
                    $(EventType::$event => Event::$event(serde_json::from_value(data)?),)+
                })
            }

            /// The rules of the event's feature.
            pub fn rules(&self) -> &dyn EventRules {
                match self {
                    $(Event::$event(event) => event,)+
                }
            }
        }
    };
}

features!(event_enum);

impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        EventType::from(self)
    }

    /// The event's type name, as it appears in the envelope.
    pub fn type_name(&self) -> &'static str {
        self.event_type().as_str()
    }
}

impl EventType {
    /// Every event type, in the order of [`Event`]'s variants.
    pub fn all() -> impl Iterator<Item = EventType> {
        EventType::iter()
    }

    /// The type's name on the wire: the `"type"` of an encoded envelope, the names a replay
    /// filter takes.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The type called `name` on the wire.
    pub fn parse(name: &str) -> Option<EventType> {
        name.parse().ok()
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event with everything an auditor needs to know about where it came from. Written and
/// read by code of its own (`event/wire.rs`): the payload's `type` and `data` sit among the
/// envelope's members, and the derived `#[serde(flatten)]` was slow at both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    pub event_id: EventId,
    pub schema_version: u32,
    pub customer_id: CustomerId,
    pub subsidiary_id: Option<crate::ids::SubsidiaryId>,
    pub command_id: CommandId,
    /// The digest of the command's content, so that a retry can be recognised after a restart.
    pub command_digest: CommandDigest,
    pub principal: Principal,
    /// When the service recorded the event (server clock, UTC).
    pub recorded_at: DateTime<Utc>,
    /// The business date on which the fact takes effect.
    pub effective_date: NaiveDate,
    /// The event's number in its customer's history: 1 for the first, then without gaps.
    pub sequence: u64,
    /// The `hash` of the customer's previous event ([`EventHash::GENESIS`] for the first).
    pub prev_hash: EventHash,
    /// SHA-256 of this envelope's canonical encoding without this field (see [`crate::chain`]).
    pub hash: EventHash,
    pub event: Event,
}

/// An event as read back from the log, with its position there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub position: Position,
    pub envelope: EventEnvelope,
}

impl EventEnvelope {
    /// Checks what every event the command service writes satisfies whatever the account held:
    /// the rules of its command restated over the event (amounts, dates and their order, text
    /// lengths, allocations that add up to the payment) and an envelope that agrees with its
    /// payload. Ids, amounts' scale and size, and names are checked as they are read; this
    /// checks the rest. The codec checks it where an event is written and where it is read, so
    /// that an event breaking these rules is neither appended nor believed when read back,
    /// whatever its hash says (anyone can compute a SHA-256).
    pub fn check(&self) -> Result<(), InvalidEvent> {
        if self.sequence == 0 {
            return Err(invalid("sequence", "sequences start at 1"));
        }
        let rules = self.event.rules();
        if self.subsidiary_id.as_ref() != rules.subsidiary_id() {
            return Err(invalid(
                "subsidiary_id",
                "is not the subsidiary the event's data names",
            ));
        }
        business_date("effective_date", self.effective_date)?;
        rules.check()?;
        if let Some((name, date)) = rules.takes_effect()
            && self.effective_date != date
        {
            return Err(invalid(
                "effective_date",
                format!("{} is not the {name}, {date}", self.effective_date),
            ));
        }
        Ok(())
    }
}
