//! The envelope as stored: one JSON object, the envelope's members, then the payload's `type`
//! and `data` (its event, adjacently tagged), amounts as decimal strings.
//!
//! serde's derived `#[serde(flatten)]` would write and read exactly that, but reads such an
//! object by first buffering every member into an intermediate tree and reading the tree
//! again, and writes it through a map with names known only at run time: a quarter of the time
//! of every reader of the log went there. This module writes the envelope as a struct, and
//! reads the members as they come, `data` straight into the payload of the `type` read before
//! it, which is the order this service writes. An object whose `data` comes before its `type`
//! (written by hand or by other tools: a JSON object's members have no order) still reads: its
//! `data` is kept as a JSON value until the type is known.
//!
//! Unknown members are ignored, as the derived reader ignored them; a member given twice is an
//! error; a missing `subsidiary_id` is `None`. The bytes written are those the derived writer
//! wrote, member for member, so that what the log holds does not change.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::{Event, EventEnvelope, EventType};

/// The envelope's members, as stored.
const MEMBERS: &[&str] = &[
    "event_id",
    "schema_version",
    "customer_id",
    "subsidiary_id",
    "command_id",
    "command_digest",
    "principal",
    "recorded_at",
    "effective_date",
    "sequence",
    "prev_hash",
    "hash",
    "type",
    "data",
];

/// One member's name, read without allocating.
enum Member {
    EventId,
    SchemaVersion,
    CustomerId,
    SubsidiaryId,
    CommandId,
    CommandDigest,
    Principal,
    RecordedAt,
    EffectiveDate,
    Sequence,
    PrevHash,
    Hash,
    Type,
    Data,
    Unknown,
}

impl Member {
    fn of(name: &[u8]) -> Member {
        match name {
            b"event_id" => Member::EventId,
            b"schema_version" => Member::SchemaVersion,
            b"customer_id" => Member::CustomerId,
            b"subsidiary_id" => Member::SubsidiaryId,
            b"command_id" => Member::CommandId,
            b"command_digest" => Member::CommandDigest,
            b"principal" => Member::Principal,
            b"recorded_at" => Member::RecordedAt,
            b"effective_date" => Member::EffectiveDate,
            b"sequence" => Member::Sequence,
            b"prev_hash" => Member::PrevHash,
            b"hash" => Member::Hash,
            b"type" => Member::Type,
            b"data" => Member::Data,
            _ => Member::Unknown,
        }
    }
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Member;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the name of an envelope's member")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
                Ok(Member::of(name.as_bytes()))
            }
            fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Member, E> {
                Ok(Member::of(name))
            }
        }
        deserializer.deserialize_identifier(Name)
    }
}

/// The event type named by `type`, read without allocating.
struct TypeName(EventType);

impl<'de> Deserialize<'de> for TypeName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = TypeName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the name of an event type")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<TypeName, E> {
                EventType::parse(name)
                    .map(TypeName)
                    .ok_or_else(|| E::unknown_variant(name, Event::TYPE_NAMES))
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// Sets `slot` from the map's next value, or fails if the member came before.
fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = EventEnvelope;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventEnvelope, A::Error> {
        let mut event_id = None;
        let mut schema_version = None;
        let mut customer_id = None;
        let mut subsidiary_id = None;
        let mut command_id = None;
        let mut command_digest = None;
        let mut principal = None;
        let mut recorded_at = None;
        let mut effective_date = None;
        let mut sequence = None;
        let mut prev_hash = None;
        let mut hash = None;
        let mut event_type: Option<EventType> = None;
        let mut event: Option<Event> = None;
        // `data` met before `type`: kept until the type is known.
        let mut early_data: Option<serde_json::Value> = None;
        while let Some(member) = map.next_key::<Member>()? {
            match member {
                Member::EventId => once(&mut map, &mut event_id, "event_id")?,
                Member::SchemaVersion => once(&mut map, &mut schema_version, "schema_version")?,
                Member::CustomerId => once(&mut map, &mut customer_id, "customer_id")?,
                Member::SubsidiaryId => once(&mut map, &mut subsidiary_id, "subsidiary_id")?,
                Member::CommandId => once(&mut map, &mut command_id, "command_id")?,
                Member::CommandDigest => once(&mut map, &mut command_digest, "command_digest")?,
                Member::Principal => once(&mut map, &mut principal, "principal")?,
                Member::RecordedAt => once(&mut map, &mut recorded_at, "recorded_at")?,
                Member::EffectiveDate => once(&mut map, &mut effective_date, "effective_date")?,
                Member::Sequence => once(&mut map, &mut sequence, "sequence")?,
                Member::PrevHash => once(&mut map, &mut prev_hash, "prev_hash")?,
                Member::Hash => once(&mut map, &mut hash, "hash")?,
                Member::Type => {
                    if event_type.is_some() {
                        return Err(de::Error::duplicate_field("type"));
                    }
                    let TypeName(read) = map.next_value()?;
                    event_type = Some(read);
                    if let Some(data) = early_data.take() {
                        event =
                            Some(Event::data_from_value(read, data).map_err(de::Error::custom)?);
                    }
                }
                Member::Data => {
                    if event.is_some() || early_data.is_some() {
                        return Err(de::Error::duplicate_field("data"));
                    }
                    match event_type {
                        Some(read) => event = Some(Event::next_data(read, &mut map)?),
                        None => early_data = Some(map.next_value()?),
                    }
                }
                Member::Unknown => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if event_type.is_none() {
            return Err(de::Error::missing_field("type"));
        }
        Ok(EventEnvelope {
            event_id: required(event_id, "event_id")?,
            schema_version: required(schema_version, "schema_version")?,
            customer_id: required(customer_id, "customer_id")?,
            subsidiary_id: subsidiary_id.flatten(),
            command_id: required(command_id, "command_id")?,
            command_digest: required(command_digest, "command_digest")?,
            principal: required(principal, "principal")?,
            recorded_at: required(recorded_at, "recorded_at")?,
            effective_date: required(effective_date, "effective_date")?,
            sequence: required(sequence, "sequence")?,
            prev_hash: required(prev_hash, "prev_hash")?,
            hash: required(hash, "hash")?,
            event: required(event, "data")?,
        })
    }
}

impl<'de> Deserialize<'de> for EventEnvelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("EventEnvelope", MEMBERS, EnvelopeVisitor)
    }
}

impl Serialize for EventEnvelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut envelope = serializer.serialize_struct("EventEnvelope", MEMBERS.len())?;
        envelope.serialize_field("event_id", &self.event_id)?;
        envelope.serialize_field("schema_version", &self.schema_version)?;
        envelope.serialize_field("customer_id", &self.customer_id)?;
        envelope.serialize_field("subsidiary_id", &self.subsidiary_id)?;
        envelope.serialize_field("command_id", &self.command_id)?;
        envelope.serialize_field("command_digest", &self.command_digest)?;
        envelope.serialize_field("principal", &self.principal)?;
        envelope.serialize_field("recorded_at", &self.recorded_at)?;
        envelope.serialize_field("effective_date", &self.effective_date)?;
        envelope.serialize_field("sequence", &self.sequence)?;
        envelope.serialize_field("prev_hash", &self.prev_hash)?;
        envelope.serialize_field("hash", &self.hash)?;
        envelope.serialize_field("type", self.event.type_name())?;
        self.event.serialize_data(&mut envelope)?;
        envelope.end()
    }
}
