//! The hash of every kind of event is taken over the canonical encoding as the README defines
//! it: the envelope as a `serde_json::Value`, its `hash` member removed, written by
//! `write_canonical`. The fast encoder the service uses must write exactly those bytes.

mod support;

use receivables_domain::chain::{self, CanonicalEncoder, HASH_MEMBER, write_canonical};
use receivables_domain::testing::sample;
use receivables_domain::{EventEnvelope, EventType};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::*;

fn by_definition(envelope: &EventEnvelope, leave_out: Option<&str>) -> Vec<u8> {
    let mut value = serde_json::to_value(envelope).expect("an envelope is a JSON value");
    if let (Value::Object(members), Some(name)) = (&mut value, leave_out) {
        members.remove(name);
    }
    let mut out = Vec::new();
    write_canonical(&value, &mut out).expect("an envelope is canonical JSON");
    out
}

fn envelopes() -> Vec<EventEnvelope> {
    let invoice = invoice("INV-1").amount(cny("1000.00"));
    let key = invoice.key();
    let mut envelopes = vec![
        envelope(invoice.event()),
        envelope(
            payment(cny("400.00"))
                .allocate(key.clone(), cny("400.00"))
                .event(),
        ),
        envelope(payment(usd("12.5")).at(SUB_B).event()),
        envelope(
            credit_limit(cny("50000.00"))
                .block()
                .reason("review \"Q3\"\n\tby é€ and \u{1}")
                .event(),
        ),
        envelope(promise(cny("10.00")).covering(key).event()),
    ];
    // And one of every type there is, so that a new type is covered without a new line here.
    envelopes.extend(EventType::all().map(|event_type| envelope(sample(event_type))));
    for envelope in &mut envelopes {
        chain::seal(envelope).expect("an envelope can be sealed");
    }
    envelopes
}

#[test]
fn every_kind_of_event_is_encoded_as_defined() {
    let mut encoder = CanonicalEncoder::new();
    for envelope in envelopes() {
        let defined = by_definition(&envelope, Some(HASH_MEMBER));
        assert_eq!(
            chain::canonical_bytes(&envelope).expect("encodable"),
            defined
        );
        assert_eq!(
            encoder.encode(&envelope, None).expect("encodable").to_vec(),
            by_definition(&envelope, None)
        );
        let digest: [u8; 32] = Sha256::digest(&defined).into();
        assert_eq!(envelope.hash.as_bytes(), &digest);
        assert_eq!(chain::hash_of(&envelope).expect("hashable"), envelope.hash);
    }
}
