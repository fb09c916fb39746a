//! The list of event types is derived from the `Event` enum: every variant has a type, the type's
//! wire name is the `"type"` an encoded envelope carries, the name reads back as the type, and the
//! table of events in docs/ARCHITECTURE.md lists exactly these names.

use receivables_domain::EventType;
use receivables_domain::testing::{EnvelopeBuilder, sample};
use serde_json::Value;

#[test]
fn every_event_type_has_a_wire_name_that_the_encoding_carries() {
    for event_type in EventType::all() {
        let event = sample(event_type);
        assert_eq!(event.event_type(), event_type);
        assert_eq!(event.type_name(), event_type.as_str());
        let encoded = serde_json::to_value(EnvelopeBuilder::of("C-1", event).build())
            .expect("an envelope is JSON");
        assert_eq!(
            encoded.get("type"),
            Some(&Value::from(event_type.as_str())),
            "the wire name of {event_type:?}"
        );
        assert_eq!(EventType::parse(event_type.as_str()), Some(event_type));
        assert_eq!(event_type.to_string(), event_type.as_str());
    }
    assert_eq!(EventType::parse("InvoiceDeleted"), None);
    assert_eq!(EventType::parse("invoiceissued"), None);
}

/// The event names of the table under "## Events" in docs/ARCHITECTURE.md, in its order.
fn documented_events() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ARCHITECTURE.md");
    let text = std::fs::read_to_string(path).expect("docs/ARCHITECTURE.md");
    let section = text
        .split("\n## Events\n")
        .nth(1)
        .expect("a section \"## Events\"");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| line.split('`').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn the_documented_table_of_events_lists_every_type_in_order() {
    let listed: Vec<&str> = EventType::all().map(EventType::as_str).collect();
    assert_eq!(documented_events(), listed);
}

/// A copy of the log reserves each document's number again from its event: every event takes
/// the number its command reserved, and only those events take one.
#[test]
fn every_event_takes_the_number_its_command_reserved() {
    use receivables_domain::ids::NumberKey;
    use receivables_domain::testing::command_of;

    let mut taking = Vec::new();
    for event_type in EventType::all() {
        let event = sample(event_type);
        let command = command_of(&event);
        assert_eq!(
            event.rules().takes_number(),
            command.rules().reserves(),
            "{event_type:?}"
        );
        if let Some(number) = event.rules().takes_number() {
            taking.push(number);
        }
    }
    // Worked out from the samples: invoice SUB-A/INV-1, credit note SUB-A/CN-1, order
    // SUB-A/SO-1, each in its own key space.
    let names: Vec<String> = taking.iter().map(NumberKey::to_string).collect();
    assert_eq!(
        names,
        [
            "invoices/SUB-A/INV-1",
            "credit_notes/SUB-A/CN-1",
            "orders/SUB-A/SO-1"
        ]
    );
}
