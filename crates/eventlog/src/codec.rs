//! The encoding of events in the log: one JSON object per message, the envelope's fields with
//! the payload under `type` and `data`, amounts as decimal strings. `schema_version` says how to
//! read it; this code writes the current version and reads only what it knows.
//!
//! Both directions check the event against the rules every accepted event keeps
//! ([`EventEnvelope::check`]): an event that breaks them is neither written nor, when something
//! other than this service put it in the log, believed when read back.

use receivables_domain::event::SCHEMA_VERSION;
use receivables_domain::{EventEnvelope, Position, RecordedEvent};

use crate::LogError;

/// The largest encoded event accepted, in bytes (also the stream's `max_message_size`). Bounded
/// by the domain's field limits; a payment with the most allocations stays far below it.
pub const EVENT_BYTES_MAX: usize = 256 * 1024;

pub fn encode(envelope: &EventEnvelope) -> Result<Vec<u8>, LogError> {
    envelope
        .check()
        .map_err(|e| LogError::Refused(format!("the event breaks a rule of the ledger: {e}")))?;
    let bytes = serde_json::to_vec(envelope)
        .map_err(|e| LogError::Refused(format!("event cannot be encoded: {e}")))?;
    if bytes.len() > EVENT_BYTES_MAX {
        return Err(LogError::Refused(format!(
            "encoded event is {} bytes, more than {EVENT_BYTES_MAX}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

pub fn decode(bytes: &[u8], position: Position) -> Result<RecordedEvent, LogError> {
    let corrupt = |problem: String| LogError::Corrupt { position, problem };
    match serde_json::from_slice::<EventEnvelope>(bytes) {
        Ok(envelope) if envelope.schema_version == SCHEMA_VERSION => match envelope.check() {
            Ok(()) => Ok(RecordedEvent { position, envelope }),
            Err(invalid) => Err(corrupt(format!(
                "the event breaks a rule of the ledger: {invalid}"
            ))),
        },
        Ok(envelope) => Err(corrupt(format!(
            "schema version {} is not known to this service (it reads {SCHEMA_VERSION})",
            envelope.schema_version
        ))),
        Err(error) => Err(corrupt(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use receivables_domain::credit::CreditPolicy;
    use receivables_domain::event::{CreditCheckRecord, Event, InvoiceIssued};
    use receivables_domain::limits::AMOUNT_MAJOR_UNITS_MAX;
    use receivables_domain::testing::EnvelopeBuilder;
    use receivables_domain::{Currency, EventHash, InvoiceNumber, Money, SubsidiaryId};
    use rust_decimal::Decimal;
    use serde_json::Value;

    use super::*;
    use receivables_domain::testing::date;

    /// An invoice accepted under a WARN limit of 1 CNY, as the command service seals it.
    fn invoice(amount: &str, exposure_after: Decimal) -> EventEnvelope {
        let cny = Currency::parse("CNY").unwrap();
        let subsidiary = SubsidiaryId::parse("SH").unwrap();
        let event = Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: subsidiary,
            invoice_number: InvoiceNumber::parse("INV-2").unwrap(),
            amount: Money::positive(amount, cny).unwrap(),
            issue_date: date("2026-03-01"),
            due_date: date("2026-03-31"),
            terms_days: Some(30),
            payment_terms: None,
            schedule: Vec::new(),
            discount: None,
            over_limit: true,
            credit_check: Some(CreditCheckRecord {
                limit: Money::non_negative("1", cny).unwrap(),
                policy: CreditPolicy::Warn,
                exposure_after: Money::of(exposure_after, cny),
                currency_mismatch: false,
                conversions: Vec::new(),
            }),
            consumes: None,
        });
        EnvelopeBuilder::of("ACME", event)
            .recorded_at(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap())
            .chained(2, EventHash::from_bytes([7; 32]))
            .build()
    }

    #[test]
    fn an_exposure_above_the_largest_amount_reads_back() {
        // Two invoices of the largest amount under a WARN limit: the second one's exposure is
        // twice the largest amount. Such an event was written but could not be read back, and
        // the customer's history with it.
        let exposure = Decimal::from(2 * AMOUNT_MAJOR_UNITS_MAX);
        let envelope = invoice("1000000000000", exposure);
        let bytes = encode(&envelope).unwrap();
        let decoded = decode(&bytes, Position::new(9)).unwrap();
        assert_eq!(decoded.envelope, envelope);
        assert_eq!(encode(&decoded.envelope).unwrap(), bytes);
    }

    /// The envelope's JSON with one member of its data replaced, as someone who can publish to
    /// the log could write it (the hash, which anyone can compute, is not what decoding checks).
    fn forged(envelope: &EventEnvelope, member: &str, value: Value) -> Vec<u8> {
        let mut json = serde_json::to_value(envelope).unwrap();
        json["data"][member] = value;
        serde_json::to_vec(&json).unwrap()
    }

    #[test]
    fn events_that_break_the_ledgers_rules_are_neither_written_nor_read() {
        let envelope = invoice("100", Decimal::from(101));
        for (member, value, field) in [
            (
                "amount",
                serde_json::json!({"amount": "-100.00", "currency": "CNY"}),
                "data.amount",
            ),
            (
                "amount",
                serde_json::json!({"amount": "0.00", "currency": "CNY"}),
                "data.amount",
            ),
            ("due_date", Value::from("2026-02-28"), "data.due_date"),
            ("due_date", Value::from("+262142-01-01"), "data.due_date"),
            ("issue_date", Value::from("1900-03-01"), "data.issue_date"),
            ("terms_days", Value::from(4_000), "data.terms_days"),
            ("credit_check", Value::Null, "data.over_limit"),
        ] {
            let bytes = forged(&envelope, member, value);
            match decode(&bytes, Position::new(3)) {
                Err(LogError::Corrupt { position, problem }) => {
                    assert_eq!(position, Position::new(3));
                    assert!(problem.contains(field), "{member}: {problem}");
                }
                other => panic!("{member}: decoded {other:?}"),
            }
        }
        let mut negative = envelope.clone();
        if let Event::InvoiceIssued(invoice) = &mut negative.event {
            invoice.amount = Money::of(Decimal::from(-5), invoice.amount.currency());
        }
        assert!(matches!(encode(&negative), Err(LogError::Refused(_))));
    }

    #[test]
    fn a_principal_is_read_back_only_when_it_is_a_name() {
        let envelope = invoice("100", Decimal::from(101));
        let mut json = serde_json::to_value(&envelope).unwrap();
        json["principal"] = Value::from("ano\u{0}nymous");
        let bytes = serde_json::to_vec(&json).unwrap();
        assert!(matches!(
            decode(&bytes, Position::new(1)),
            Err(LogError::Corrupt { .. })
        ));
    }
}
