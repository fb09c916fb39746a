//! Checkpoints: the last log position a projection has applied, kept in the read model's own
//! database and written in the same transaction as the rows.

use receivables_domain::Position;

use crate::error::ProjectionError;

/// Creates a projection's checkpoint at 0 if it has none.
pub(crate) const INSERT_ZERO: &str =
    "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, 0)
     ON CONFLICT (projection) DO NOTHING";

/// Reads a projection's checkpoint.
pub(crate) const SELECT: &str = "SELECT position FROM projection_checkpoints WHERE projection = $1";

/// Moves a checkpoint forward (never back: a lower position changes no row).
pub(crate) const STORE: &str =
    "INSERT INTO projection_checkpoints (projection, position) VALUES ($1, $2)
     ON CONFLICT (projection) DO UPDATE
         SET position = EXCLUDED.position, updated_at = CURRENT_TIMESTAMP
     WHERE projection_checkpoints.position < EXCLUDED.position";

/// A position as stored.
pub(crate) fn stored(position: Position) -> Result<i64, ProjectionError> {
    i64::try_from(position.get())
        .map_err(|_| ProjectionError::Stored(format!("position {position} is too large")))
}

/// A stored position, checked.
pub(crate) fn position(stored: i64) -> Result<Position, ProjectionError> {
    u64::try_from(stored)
        .map(Position::new)
        .map_err(|_| ProjectionError::Stored(format!("negative checkpoint {stored}")))
}

/// [`STORE`] changes exactly one row, or the caller tried to move the checkpoint back.
pub(crate) fn check_moved(rows_affected: u64, position: Position) -> Result<(), ProjectionError> {
    if rows_affected != 1 {
        return Err(ProjectionError::Stored(format!(
            "checkpoint would not move forward to {position}"
        )));
    }
    Ok(())
}

/// Creates the projection's checkpoint at 0 if it has none, then reads it with `select` (the
/// engine's locking read), in the caller's transaction.
pub(crate) async fn lock<DB>(
    connection: &mut DB::Connection,
    projection: &str,
    select: &'static str,
) -> Result<Position, ProjectionError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    i64: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query(INSERT_ZERO)
        .bind(projection)
        .execute(&mut *connection)
        .await?;
    let (stored,): (i64,) = sqlx::query_as(select)
        .bind(projection)
        .fetch_one(&mut *connection)
        .await?;
    position(stored)
}
