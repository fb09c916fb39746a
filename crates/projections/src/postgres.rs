//! What the read model does differently on PostgreSQL: batch writes as one `UNNEST` insert or
//! binary `COPY` per table, a row lock on the checkpoint, planner statistics, and generations
//! as schemas.
//!
//! Each generation lives in a schema of its own (`read_model_<n>`); connections of a
//! generation's pool have their `search_path` set to it, so the projector and the queries run the
//! same SQL against any generation. The control table `read_model_generations` lives in the
//! database's default schema, and changes to it are serialised by an advisory lock so that
//! processes starting at once on an empty database create one live generation between them.

use receivables_domain::Position;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor as _, PgConnection, PgPool};

use crate::checkpoint;
use crate::engine::{self, Bind, WriteConnection};
use crate::error::ProjectionError;
use crate::generations::{self as control, MIGRATOR};
use crate::rows::{Column, TableRows};

mod copy;

/// Rows of a table without a conflict clause from which a batch writes them with a binary
/// `COPY` rather than an `UNNEST` insert. COPY costs a round trip more (the server answers the
/// statement before it takes the data) and saves the arrays' parameter handling and the
/// executor's work per row; BENCHMARKS.md has the comparison.
pub const COPY_ROWS_FROM: usize = 1_000;

/// The schema that holds a generation.
pub fn schema(generation: i64) -> String {
    format!("read_model_{generation}")
}

impl WriteConnection for PgConnection {
    const LOCK_CHECKPOINT: &'static str =
        "SELECT position FROM projection_checkpoints WHERE projection = $1 FOR UPDATE";

    async fn lock_checkpoint(&mut self, projection: &str) -> Result<Position, ProjectionError> {
        checkpoint::lock::<sqlx::Postgres>(self, projection, Self::LOCK_CHECKPOINT).await
    }

    async fn refresh_statistics_of(&mut self, table: &str) -> Result<(), ProjectionError> {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn clear(&mut self, table: &str) -> Result<(), ProjectionError> {
        sqlx::query(&format!("TRUNCATE {table}"))
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn run(&mut self, sql: &str, binds: &[Bind]) -> Result<(), ProjectionError> {
        engine::execute::<sqlx::Postgres>(self, sql, binds).await
    }

    async fn fetch_date_and_number(
        &mut self,
        sql: &str,
    ) -> Result<Option<(chrono::NaiveDate, i64)>, ProjectionError> {
        engine::fetch_date_and_number::<sqlx::Postgres>(self, sql).await
    }

    /// One `INSERT ... SELECT * FROM UNNEST(...)` of the columns as arrays, whatever the number
    /// of rows; a binary `COPY` from [`COPY_ROWS_FROM`] rows of a table without a conflict
    /// clause.
    async fn insert(&mut self, rows: &TableRows) -> Result<(), ProjectionError> {
        if rows.is_empty() {
            return Ok(());
        }
        let table = rows.table();
        if table.on_conflict.is_none() && rows.len() >= COPY_ROWS_FROM {
            let data = copy::encode(rows)?;
            let mut copy_in = self.copy_in_raw(&copy::statement(rows)).await?;
            copy_in.send(data).await?;
            copy_in.finish().await?;
            return Ok(());
        }
        let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let arrays: Vec<String> = table
            .columns
            .iter()
            .enumerate()
            .map(|(index, (_, column_type))| format!("${}::{}[]", index + 1, column_type.sql()))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({}) {}",
            table.name,
            names.join(", "),
            arrays.join(", "),
            table.on_conflict.unwrap_or("")
        );
        let mut query = sqlx::query(&sql);
        for column in rows.columns() {
            query = match column {
                Column::Text(values) => query.bind(values),
                Column::BigInt(values) => query.bind(values),
                Column::Integer(values) => query.bind(values),
                Column::Date(values) => query.bind(values),
                Column::Boolean(values) => query.bind(values),
            };
        }
        query.execute(&mut *self).await?;
        Ok(())
    }
}

/// Refreshes the planner statistics of `tables`.
pub(crate) async fn refresh_statistics(
    pool: &PgPool,
    tables: &[&str],
) -> Result<(), ProjectionError> {
    sqlx::query(&format!("ANALYZE {}", tables.join(", ")))
        .execute(pool)
        .await?;
    Ok(())
}

/// Key of the advisory lock that serialises changes to the generations.
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
    sqlx::query(control::CREATE_TABLE)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(control::CREATE_ONE_LIVE_INDEX)
        .execute(&mut *transaction)
        .await?;
    Ok(transaction)
}

/// A pool whose connections work in `generation`'s schema.
pub(crate) async fn generation_pool(
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

/// One connection with `options`, never shared, that runs `statements` when it opens: the
/// search path and the temporary views through which it reads the read model as known at a
/// position (`known.rs`; PostgreSQL looks names up in the session's temporary schema first).
pub(crate) async fn known_pool(
    options: PgConnectOptions,
    statements: String,
) -> Result<PgPool, ProjectionError> {
    Ok(PgPoolOptions::new()
        .max_connections(1)
        .after_connect(move |connection, _| {
            let statements = statements.clone();
            Box::pin(async move {
                connection.execute(statements.as_str()).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
}

/// Records a new generation in `state` and creates its schema, in the caller's transaction:
/// the row and the schema exist together or not at all.
async fn create(transaction: &mut PgConnection, state: &str) -> Result<i64, ProjectionError> {
    let (generation,): (i64,) = sqlx::query_as(control::INSERT_NEXT)
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
    let pool = generation_pool(options, generation, 1).await?;
    let migrated = MIGRATOR.run(&pool).await;
    pool.close().await;
    migrated.map_err(|source| ProjectionError::Migration { generation, source })
}

pub(crate) async fn live_generation(
    admin: &PgPool,
    options: &PgConnectOptions,
) -> Result<i64, ProjectionError> {
    let mut transaction = lock_generations(admin).await?;
    let live: Option<(i64,)> = sqlx::query_as(control::SELECT_LIVE)
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

pub(crate) async fn begin_rebuild(
    admin: &PgPool,
    options: &PgConnectOptions,
) -> Result<i64, ProjectionError> {
    let mut transaction = lock_generations(admin).await?;
    sqlx::query(control::ABANDON_BUILDING)
        .execute(&mut *transaction)
        .await?;
    let generation = create(&mut transaction, "building").await?;
    transaction.commit().await?;
    migrate(options, generation).await?;
    Ok(generation)
}

pub(crate) async fn switch(admin: &PgPool, generation: i64) -> Result<(), ProjectionError> {
    let mut transaction = lock_generations(admin).await?;
    control::make_live::<sqlx::Postgres>(&mut transaction, generation).await?;
    transaction.commit().await?;
    Ok(())
}
