//! Checkpoints: the last log position a projection has applied, kept in the read model's own
//! database and written in the same transaction as the rows.

use receivables_domain::Position;
use sqlx::{PgConnection, PgPool};

use crate::ProjectionError;

/// The projection's checkpoint (`ZERO` when it has applied nothing yet).
pub async fn load(pool: &PgPool, projection: &str) -> Result<Position, ProjectionError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT position FROM projection_checkpoints WHERE projection = $1")
            .bind(projection)
            .fetch_optional(pool)
            .await?;
    position(row.map_or(0, |(p,)| p))
}

/// The projection's checkpoint, locked for the rest of the caller's transaction, so that two
/// projectors on one database never apply the same batch.
pub async fn lock(
    connection: &mut PgConnection,
    projection: &str,
) -> Result<Position, ProjectionError> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0)
         ON CONFLICT (projection) DO NOTHING",
    )
    .bind(projection)
    .execute(&mut *connection)
    .await?;
    let (stored,): (i64,) = sqlx::query_as(
        "SELECT position FROM projection_checkpoints WHERE projection = $1 FOR UPDATE",
    )
    .bind(projection)
    .fetch_one(&mut *connection)
    .await?;
    position(stored)
}

/// Moves the checkpoint to `position`, inside the caller's transaction. The checkpoint never
/// moves back: a lower position is an error of the caller.
pub async fn store(
    connection: &mut PgConnection,
    projection: &str,
    position: Position,
) -> Result<(), ProjectionError> {
    let stored = i64::try_from(position.get())
        .map_err(|_| ProjectionError::Stored(format!("position {position} is too large")))?;
    let moved = sqlx::query(
        "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, $2)
         ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, updated_at = now()
         WHERE projection_checkpoints.position < EXCLUDED.position",
    )
    .bind(projection)
    .bind(stored)
    .execute(connection)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(ProjectionError::Stored(format!(
            "checkpoint of {projection} would not move forward to {position}"
        )));
    }
    Ok(())
}

fn position(stored: i64) -> Result<Position, ProjectionError> {
    u64::try_from(stored)
        .map(Position::new)
        .map_err(|_| ProjectionError::Stored(format!("negative checkpoint {stored}")))
}
