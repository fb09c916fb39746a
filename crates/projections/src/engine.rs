//! What the projector runtime asks of a connection inside a batch's transaction, which each
//! engine does its own way (`postgres.rs`, `sqlite.rs`). The runtime runs the same code on
//! either engine's transaction (see [`crate::database::on_engine`]) and calls these.

use receivables_domain::Position;

use crate::error::ProjectionError;
use crate::rows::TableRows;

pub(crate) trait WriteConnection {
    /// Reads a projection's checkpoint (`$1`) and holds it until the transaction ends, the
    /// engine's way: a second projector on the same read model waits.
    const LOCK_CHECKPOINT: &'static str;

    /// The projection's checkpoint, created at 0 when it has none, held until the transaction
    /// ends: a second projector on the same read model waits here.
    async fn lock_checkpoint(&mut self, projection: &str) -> Result<Position, ProjectionError>;

    /// Inserts the rows of one table in as few statements as the engine allows.
    async fn insert(&mut self, rows: &TableRows) -> Result<(), ProjectionError>;
}
