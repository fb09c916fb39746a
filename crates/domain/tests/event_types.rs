//! The list of event types is derived from the `Event` enum: every variant has a type, the type's
//! wire name is the `"type"` an encoded envelope carries, and the name reads back as the type.

use receivables_domain::EventType;
use receivables_domain::testing::{EnvelopeBuilder, sample};
use serde_json::Value;

#[test]
fn every_event_type_has_a_wire_name_that_the_encoding_carries() {
    let names: Vec<&str> = EventType::all().map(EventType::as_str).collect();
    // Written out by hand: a type added to the enum must be added here on purpose, with the
    // name clients will filter by.
    assert_eq!(
        names,
        [
            "InvoiceIssued",
            "PaymentReceived",
            "CreditLimitChanged",
            "PromiseToPay"
        ]
    );
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
