//! The moments projection: when each event of the log was recorded (its envelope's
//! `recorded_at`), a row per event (migration `0015_known_positions.sql`).
//!
//! A report as known at a moment is the live query over the rows recorded at or before one
//! position (`known.rs`); this table is what turns the auditor's moment into that position.
//! It is a projection of its own so that a read model created before it fills it from the
//! first event while the others skip what they have applied.

use receivables_domain::{EventType, RecordedEvent};

use crate::error::ProjectionError;
use crate::projection::{Projection, stored_position};
use crate::rows::{ColumnType as T, RowSet, Table};

/// The projection's name, as its checkpoint is stored.
pub const NAME: &str = "moments";

pub static EVENT_MOMENTS: Table = Table {
    name: "event_moments",
    key: "position",
    columns: &[("position", T::BigInt), ("recorded_at_ns", T::BigInt)],
    on_conflict: None,
};

static TABLES: [&Table; 1] = [&EVENT_MOMENTS];

/// A moment as the table stores it: nanoseconds since 1970-01-01 UTC, which both engines
/// compare exactly (`None` after 2262, which no envelope reaches).
pub fn stored_moment(moment: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    moment.timestamp_nanos_opt()
}

/// The moments projection.
pub struct Moments;

impl Projection for Moments {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static Table] {
        &TABLES
    }

    fn reads(&self, _event_type: EventType) -> bool {
        true
    }

    fn add(&self, recorded: &RecordedEvent, rows: &mut RowSet) -> Result<(), ProjectionError> {
        let moment =
            stored_moment(recorded.envelope.recorded_at).ok_or_else(|| ProjectionError::Event {
                position: recorded.position,
                problem: format!(
                    "recorded at {}, past the last storable moment",
                    recorded.envelope.recorded_at
                ),
            })?;
        rows.of(&EVENT_MOMENTS)?
            .push([stored_position(recorded)?.into(), moment.into()])
    }
}
