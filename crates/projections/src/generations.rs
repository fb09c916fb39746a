//! Generations of the read model: each lives in a PostgreSQL schema of its own
//! (`read_model_<n>`), exactly one is live, and a rebuild fills a new one from the first event
//! while the live one keeps answering, then switches readers over in one transaction.
//!
//! The control table `read_model_generations` (in the database's default schema) says which
//! generation is live. Connections of a generation's pool have their `search_path` set to its
//! schema, so the projector and the queries run the same SQL against any generation.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor as _, PgPool};

use crate::{MIGRATOR, ProjectionError};

/// The schema that holds a generation.
pub fn schema(generation: i64) -> String {
    format!("read_model_{generation}")
}

/// Key of the advisory lock that serialises changes to the generations, so that processes
/// starting at once on an empty database create one live generation between them.
const GENERATIONS_LOCK_KEY: i64 = 0x5245_4345_4956_4142; // "RECEIVAB"

/// Opens a transaction holding the generations lock, with the control table in place.
async fn lock_generations(
    admin: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, ProjectionError> {
    let mut transaction = admin.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(GENERATIONS_LOCK_KEY)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS read_model_generations (
             generation  BIGINT PRIMARY KEY CHECK (generation > 0),
             state       TEXT NOT NULL CHECK (state IN ('building', 'live', 'retired')),
             created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
             switched_at TIMESTAMPTZ
         )",
    )
    .execute(&mut *transaction)
    .await?;
    sqlx::query(
        "CREATE UNIQUE INDEX IF NOT EXISTS read_model_generations_one_live
         ON read_model_generations (state) WHERE state = 'live'",
    )
    .execute(&mut *transaction)
    .await?;
    Ok(transaction)
}

/// A pool whose connections work in `generation`'s schema.
pub async fn pool(
    options: &PgConnectOptions,
    generation: i64,
    max_connections: u32,
) -> Result<PgPool, ProjectionError> {
    let search_path = format!("SET search_path TO {}", schema(generation));
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .after_connect(move |connection, _| {
            let search_path = search_path.clone();
            Box::pin(async move {
                connection.execute(search_path.as_str()).await?;
                Ok(())
            })
        })
        .connect_with(options.clone())
        .await?)
}

/// Records a new generation in `state` and creates its schema, in the caller's transaction:
/// the row and the schema exist together or not at all.
async fn create(transaction: &mut sqlx::PgConnection, state: &str) -> Result<i64, ProjectionError> {
    let (generation,): (i64,) = sqlx::query_as(
        "INSERT INTO read_model_generations (generation, state)
         SELECT COALESCE(MAX(generation), 0) + 1, $1 FROM read_model_generations
         RETURNING generation",
    )
    .bind(state)
    .fetch_one(&mut *transaction)
    .await?;
    sqlx::query(&format!("CREATE SCHEMA {}", schema(generation)))
        .execute(&mut *transaction)
        .await?;
    Ok(generation)
}

/// Brings a generation's tables up to the current migrations.
async fn migrate(options: &PgConnectOptions, generation: i64) -> Result<(), ProjectionError> {
    let pool = pool(options, generation, 1).await?;
    let migrated = MIGRATOR.run(&pool).await;
    pool.close().await;
    migrated.map_err(|e| ProjectionError::Stored(format!("migrating generation {generation}: {e}")))
}

/// The live generation, created (empty) when there is none yet. Its schema is brought up to
/// the current migrations.
pub async fn live(admin: &PgPool, options: &PgConnectOptions) -> Result<i64, ProjectionError> {
    let mut transaction = lock_generations(admin).await?;
    let live: Option<(i64,)> =
        sqlx::query_as("SELECT generation FROM read_model_generations WHERE state = 'live'")
            .fetch_optional(&mut *transaction)
            .await?;
    let generation = match live {
        Some((generation,)) => {
            // Versions before the row and the schema were created together could leave the
            // row alone.
            sqlx::query(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                schema(generation)
            ))
            .execute(&mut *transaction)
            .await?;
            generation
        }
        None => create(&mut transaction, "live").await?,
    };
    transaction.commit().await?;
    migrate(options, generation).await?;
    Ok(generation)
}

/// Starts a rebuild: a new, empty generation in state building.
pub async fn begin_rebuild(
    admin: &PgPool,
    options: &PgConnectOptions,
) -> Result<i64, ProjectionError> {
    let mut transaction = lock_generations(admin).await?;
    // A rebuild that died half-way is abandoned, not resumed: it is cheaper to start again.
    sqlx::query("UPDATE read_model_generations SET state = 'retired' WHERE state = 'building'")
        .execute(&mut *transaction)
        .await?;
    let generation = create(&mut transaction, "building").await?;
    transaction.commit().await?;
    migrate(options, generation).await?;
    Ok(generation)
}

/// Makes `generation` the live one and retires the previous, in one transaction.
pub async fn switch(admin: &PgPool, generation: i64) -> Result<(), ProjectionError> {
    let mut transaction = lock_generations(admin).await?;
    sqlx::query(
        "UPDATE read_model_generations SET state = 'retired', switched_at = now()
         WHERE state = 'live'",
    )
    .execute(&mut *transaction)
    .await?;
    let switched = sqlx::query(
        "UPDATE read_model_generations SET state = 'live', switched_at = now()
         WHERE generation = $1 AND state = 'building'",
    )
    .bind(generation)
    .execute(&mut *transaction)
    .await?;
    if switched.rows_affected() != 1 {
        return Err(ProjectionError::Stored(format!(
            "generation {generation} is not being built"
        )));
    }
    transaction.commit().await?;
    Ok(())
}
