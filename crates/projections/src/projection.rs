//! What a projection is: a read model fed by the log. It says which events it reads and which
//! rows each becomes; the runtime (`runtime.rs`) owns the transaction, the checkpoint and the
//! engine, once for every projection and both engines.
//!
//! Adding a read model is the recipe in docs/ARCHITECTURE.md: its tables in a migration, a
//! module implementing [`Projection`], one line in the runtime's list.

use receivables_domain::{EventType, RecordedEvent};

use crate::error::ProjectionError;
use crate::rows::{RowSet, Table};

/// An event's log position as the read models store it (a `BIGINT`).
pub(crate) fn stored_position(event: &RecordedEvent) -> Result<i64, ProjectionError> {
    i64::try_from(event.position.get()).map_err(|_| ProjectionError::Event {
        position: event.position,
        problem: "position does not fit a BIGINT".into(),
    })
}

pub trait Projection: Send + Sync {
    /// The name its checkpoint is stored under.
    fn name(&self) -> &'static str;

    /// The tables it writes, in the order they are written: a table that another's foreign key
    /// refers to comes first.
    fn tables(&self) -> &'static [&'static Table];

    /// Whether events of `event_type` become rows of this projection. The others only move its
    /// checkpoint.
    fn reads(&self, event_type: EventType) -> bool;

    /// Adds the rows of one event of a type it reads.
    fn add(&self, event: &RecordedEvent, rows: &mut RowSet) -> Result<(), ProjectionError>;
}
