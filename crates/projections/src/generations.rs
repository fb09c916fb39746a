//! The generations of a read model: exactly one is live; a rebuild fills a new one from the
//! first event while the live one keeps answering, then switches readers over in one transaction
//! of the control table `read_model_generations`. The control table's statements are the same on
//! both engines; where the generations live (schemas, files) is each engine's own.

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
pub(crate) const RETIRE_LIVE: &str = "UPDATE read_model_generations
     SET state = 'retired', switched_at = CURRENT_TIMESTAMP WHERE state = 'live'";
pub(crate) const MAKE_LIVE: &str = "UPDATE read_model_generations
     SET state = 'live', switched_at = CURRENT_TIMESTAMP
     WHERE generation = $1 AND state = 'building'";

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
