//! The envelope on the wire. It is written byte for byte as serde's derived `#[serde(flatten)]`
//! wrote it (what the log already holds must not change), and it reads back from its stored
//! JSON whatever the order of its members: this service writes `type` before `data` and the
//! reader takes that path without buffering; other tools may write `data` first (a JSON
//! object's members have no order). Both must give the same envelope, and what is malformed is
//! refused with the member it concerns.

use chrono::{DateTime, NaiveDate, Utc};
use receivables_domain::ids::CommandDigest;
use receivables_domain::testing::{EnvelopeBuilder, sample};
use receivables_domain::{
    CommandId, CustomerId, Event, EventEnvelope, EventHash, EventId, EventType, Principal,
    SubsidiaryId,
};
use serde::Serialize;
use serde_json::{Map, Value};

/// The envelope as it was defined before it had a writer of its own: serde's derive, the
/// payload flattened into the envelope's members.
#[derive(Serialize)]
struct Derived<'a> {
    event_id: &'a EventId,
    schema_version: u32,
    customer_id: &'a CustomerId,
    subsidiary_id: &'a Option<SubsidiaryId>,
    command_id: &'a CommandId,
    command_digest: &'a CommandDigest,
    principal: &'a Principal,
    recorded_at: &'a DateTime<Utc>,
    effective_date: &'a NaiveDate,
    sequence: u64,
    prev_hash: &'a EventHash,
    hash: &'a EventHash,
    #[serde(flatten)]
    event: &'a Event,
}

fn derived(envelope: &EventEnvelope) -> Derived<'_> {
    Derived {
        event_id: &envelope.event_id,
        schema_version: envelope.schema_version,
        customer_id: &envelope.customer_id,
        subsidiary_id: &envelope.subsidiary_id,
        command_id: &envelope.command_id,
        command_digest: &envelope.command_digest,
        principal: &envelope.principal,
        recorded_at: &envelope.recorded_at,
        effective_date: &envelope.effective_date,
        sequence: envelope.sequence,
        prev_hash: &envelope.prev_hash,
        hash: &envelope.hash,
        event: &envelope.event,
    }
}

#[test]
fn every_event_type_is_written_as_the_derived_envelope_wrote_it() {
    for event_type in EventType::all() {
        let envelope = EnvelopeBuilder::of("C-1", sample(event_type)).build();
        assert_eq!(
            serde_json::to_string(&envelope).expect("an envelope is JSON"),
            serde_json::to_string(&derived(&envelope)).expect("an envelope is JSON"),
            "{event_type}"
        );
    }
}

/// The object's members written in the given order, as another tool could write them.
fn object_in_order(members: Vec<(&String, &Value)>) -> String {
    let written: Vec<String> = members
        .into_iter()
        .map(|(name, value)| format!("{}:{value}", Value::from(name.as_str())))
        .collect();
    format!("{{{}}}", written.join(","))
}

fn members(envelope: &EventEnvelope) -> Map<String, Value> {
    match serde_json::to_value(envelope).expect("an envelope is JSON") {
        Value::Object(members) => members,
        other => panic!("an envelope is an object, not {other}"),
    }
}

fn read(text: &str) -> Result<EventEnvelope, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn every_event_type_reads_back_whatever_the_order_of_its_members() {
    for event_type in EventType::all() {
        // Given an envelope of each type, as the service stores it
        let envelope = EnvelopeBuilder::of("C-1", sample(event_type)).build();
        let stored = serde_json::to_string(&envelope).expect("an envelope is JSON");
        let type_at = stored.find("\"type\"").expect("a type member");
        let data_at = stored.find("\"data\"").expect("a data member");
        assert!(
            type_at < data_at,
            "{event_type}: the service writes type, then data"
        );
        // When it is read as stored, in sorted order (data before type) and in reverse order
        let members = members(&envelope);
        let sorted: Vec<_> = members.iter().collect();
        let mut reversed = sorted.clone();
        reversed.reverse();
        for (order, text) in [
            ("as stored", stored.clone()),
            ("sorted", object_in_order(sorted)),
            ("reversed", object_in_order(reversed)),
        ] {
            // Then it is the same envelope
            assert_eq!(read(&text).as_ref(), Ok(&envelope), "{event_type}, {order}");
        }
    }
}

fn stored_invoice() -> Map<String, Value> {
    members(&EnvelopeBuilder::of("C-1", sample(EventType::InvoiceIssued)).build())
}

fn text_of(members: Map<String, Value>) -> String {
    Value::Object(members).to_string()
}

#[test]
fn unknown_members_are_ignored_and_a_missing_subsidiary_is_none() {
    let mut members = stored_invoice();
    let expected: EventEnvelope =
        serde_json::from_value(Value::Object(members.clone())).expect("reads");
    members.insert("annotated_by".into(), serde_json::json!({"tool": ["x", 1]}));
    assert_eq!(read(&text_of(members.clone())), Ok(expected.clone()));

    let mut credit_limit = members_of(EventType::CreditLimitChanged);
    assert_eq!(credit_limit.remove("subsidiary_id"), Some(Value::Null));
    let read_back = read(&text_of(credit_limit)).expect("a group-wide event without subsidiary");
    assert_eq!(read_back.subsidiary_id, None);
}

fn members_of(event_type: EventType) -> Map<String, Value> {
    members(&EnvelopeBuilder::of("C-1", sample(event_type)).build())
}

/// A change made to a stored envelope's members.
type Change = fn(&mut Map<String, Value>);

#[test]
fn malformed_envelopes_are_refused_naming_the_member() {
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "an unknown type",
            |m| {
                m.insert("type".into(), Value::from("InvoiceDeleted"));
            },
            "unknown variant `InvoiceDeleted`",
        ),
        (
            "no type",
            |m| {
                m.remove("type");
            },
            "missing field `type`",
        ),
        (
            "no data",
            |m| {
                m.remove("data");
            },
            "missing field `data`",
        ),
        (
            "no hash",
            |m| {
                m.remove("hash");
            },
            "missing field `hash`",
        ),
        (
            "data of another type",
            |m| {
                m.insert("type".into(), Value::from("CreditLimitChanged"));
            },
            "missing field",
        ),
        (
            "a sequence that is text",
            |m| {
                m.insert("sequence".into(), Value::from("1"));
            },
            "invalid type: string \"1\", expected u64",
        ),
    ];
    for (case, change, expected) in cases {
        let mut members = stored_invoice();
        change(&mut members);
        // Both orders: data after type (the text below reverses the sorted order) and before.
        let sorted: Vec<_> = members.iter().collect();
        let mut reversed = sorted.clone();
        reversed.reverse();
        for text in [object_in_order(sorted), object_in_order(reversed)] {
            match read(&text) {
                Err(message) => assert!(message.contains(expected), "{case}: {message}"),
                Ok(envelope) => panic!("{case}: read {envelope:?}"),
            }
        }
    }
}

#[test]
fn a_member_given_twice_is_refused() {
    let stored = text_of(stored_invoice());
    for (member, value) in [
        ("sequence", "1"),
        ("type", "\"InvoiceIssued\""),
        ("data", "{}"),
    ] {
        let text = format!("{{\"{member}\":{value},{}", &stored[1..]);
        let message = read(&text).expect_err(member);
        assert!(
            message.contains(&format!("duplicate field `{member}`")),
            "{member}: {message}"
        );
    }
}
