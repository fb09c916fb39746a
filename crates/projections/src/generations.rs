//! The generations of a read model: exactly one is live; a rebuild fills a new one from the
//! first event while the live one keeps answering, then switches readers over in one transaction
//! of the control table `read_model_generations`. The control table's statements are the same on
//! both engines; where the generations live (schemas, files) is each engine's own.

use crate::error::ProjectionError;

/// The read models' schema, as sqlx migrations: the same files for both engines, run on every
/// generation when it is created or opened.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS read_model_generations (
         generation  BIGINT PRIMARY KEY CHECK (generation > 0),
         state       TEXT NOT NULL CHECK (state IN ('building', 'live', 'retired')),
         created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
         switched_at TIMESTAMP
     )";
pub(crate) const CREATE_ONE_LIVE_INDEX: &str =
    "CREATE UNIQUE INDEX IF NOT EXISTS read_model_generations_one_live
     ON read_model_generations (state) WHERE state = 'live'";
pub(crate) const SELECT_LIVE: &str =
    "SELECT generation FROM read_model_generations WHERE state = 'live'";
pub(crate) const INSERT_NEXT: &str = "INSERT INTO read_model_generations (generation, state)
     SELECT COALESCE(MAX(generation), 0) + 1, $1 FROM read_model_generations
     RETURNING generation";
pub(crate) const ABANDON_BUILDING: &str =
    "UPDATE read_model_generations SET state = 'retired' WHERE state = 'building'";
const RETIRE_LIVE: &str = "UPDATE read_model_generations
     SET state = 'retired', switched_at = CURRENT_TIMESTAMP WHERE state = 'live'";
const MAKE_LIVE: &str = "UPDATE read_model_generations
     SET state = 'live', switched_at = CURRENT_TIMESTAMP
     WHERE generation = $1 AND state = 'building'
     RETURNING generation";

/// Retires the live generation and makes `generation` live, in the caller's transaction on the
/// control table; refused, and the transaction left to roll back, when `generation` is not the
/// one being built.
pub(crate) async fn make_live<DB>(
    control: &mut DB::Connection,
    generation: i64,
) -> Result<(), ProjectionError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query(RETIRE_LIVE).execute(&mut *control).await?;
    let switched: Option<(i64,)> = sqlx::query_as(MAKE_LIVE)
        .bind(generation)
        .fetch_optional(&mut *control)
        .await?;
    if switched.is_none() {
        return Err(ProjectionError::Stored(format!(
            "generation {generation} is not being built"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use sqlx::migrate::Migrator;
    use sqlx::sqlite::SqlitePoolOptions;

    use super::MIGRATOR;

    /// A read model made before the ledger projection had its name keeps its place in the log.
    #[tokio::test]
    async fn the_checkpoint_of_an_older_read_model_becomes_the_ledgers() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let first = Migrator {
            migrations: Cow::Owned(MIGRATOR.migrations[..1].to_vec()),
            ..Migrator::DEFAULT
        };
        first.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO projection_checkpoints (projection, position) VALUES ('open_items', 41)",
        )
        .execute(&pool)
        .await
        .unwrap();
        MIGRATOR.run(&pool).await.unwrap();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT projection, position FROM projection_checkpoints")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(rows, [(crate::ledger::NAME.to_owned(), 41)]);
    }
}
