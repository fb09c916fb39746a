//! The encoding of events in the log: one JSON object per message, the envelope's fields with
//! the payload under `type` and `data`, amounts as decimal strings. `schema_version` says how to
//! read it; this code writes version 1 and reads only what it knows.

use receivables_domain::event::SCHEMA_VERSION;
use receivables_domain::{EventEnvelope, Position, RecordedEvent};

use crate::LogError;

/// The largest encoded event accepted, in bytes (also the stream's `max_message_size`). Bounded
/// by the domain's field limits; a payment with the most allocations stays far below it.
pub const EVENT_BYTES_MAX: usize = 256 * 1024;

pub fn encode(envelope: &EventEnvelope) -> Result<Vec<u8>, LogError> {
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
        Ok(envelope) if envelope.schema_version == SCHEMA_VERSION => {
            Ok(RecordedEvent { position, envelope })
        }
        Ok(envelope) => Err(corrupt(format!(
            "schema version {} is not known to this service (it reads {SCHEMA_VERSION})",
            envelope.schema_version
        ))),
        Err(error) => Err(corrupt(error.to_string())),
    }
}
