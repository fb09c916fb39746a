//! What the read model does differently on SQLite, the embedded default: batch writes as
//! multi-row inserts, the connection settings, and generations as files of one directory.
//!
//! A generation is the file `read-model-<n>.sqlite`; the control table `read_model_generations`
//! is in `read-models.sqlite` beside them. SQLite has one writer at a time, which is all a
//! projector needs; queries read concurrently from the write-ahead log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use receivables_domain::Position;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::checkpoint;
use crate::engine::{self, Bind, WriteConnection};
use crate::error::ProjectionError;
use crate::generations::{self as control, MIGRATOR};
use crate::rows::{Column, TableRows};

/// Parameters SQLite binds at most in one statement.
const PARAMETERS_PER_STATEMENT_MAX: usize = 32_766;

/// Rows per insert statement at most, however narrow the table: longer statements bring
/// nothing more.
const ROWS_PER_INSERT_MAX: usize = 1_000;

/// Rows a query's connection hands over ahead of the task reading them. With the driver's
/// default (50), a listing that reads thousands of rows (the work queue reads one per overdue
/// customer) had the connection's thread and the reading task waking each other in 5 % of a
/// profile's samples; what the larger buffer saves did not show beyond the runs' noise
/// (BENCHMARKS.md, "the embedded engine's rows").
const ROWS_IN_FLIGHT_MAX: usize = 1_024;

/// How long a connection waits for another's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The control database of a data directory.
const CONTROL_FILE: &str = "read-models.sqlite";

/// The file of a generation.
pub fn generation_file(directory: &Path, generation: i64) -> PathBuf {
    directory.join(format!("read-model-{generation}.sqlite"))
}

fn options(file: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // The read model can always be rebuilt from the log, and a commit lost to a power cut
        // takes its checkpoint with it: NORMAL is crash-consistent in WAL mode.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .row_buffer_size(ROWS_IN_FLIGHT_MAX)
}

impl WriteConnection for SqliteConnection {
    /// The first statement of the lock writes (the checkpoint at 0 if missing), so the
    /// transaction holds SQLite's one write lock from there.
    const LOCK_CHECKPOINT: &'static str = checkpoint::SELECT;

    async fn lock_checkpoint(&mut self, projection: &str) -> Result<Position, ProjectionError> {
        checkpoint::lock::<sqlx::Sqlite>(self, projection, Self::LOCK_CHECKPOINT).await
    }

    async fn refresh_statistics_of(&mut self, table: &str) -> Result<(), ProjectionError> {
        // SQLite plans these lookups by their indexes without statistics.
        let _ = table;
        Ok(())
    }

    async fn clear(&mut self, table: &str) -> Result<(), ProjectionError> {
        // Without a condition, SQLite drops the table's pages at once.
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn run(&mut self, sql: &str, binds: &[Bind]) -> Result<(), ProjectionError> {
        engine::execute::<sqlx::Sqlite>(self, sql, binds).await
    }

    async fn fetch_date_and_number(
        &mut self,
        sql: &str,
    ) -> Result<Option<(chrono::NaiveDate, i64)>, ProjectionError> {
        engine::fetch_date_and_number::<sqlx::Sqlite>(self, sql).await
    }

    /// Multi-row `INSERT ... VALUES`, as many rows per statement as SQLite's parameter limit
    /// allows (at most [`ROWS_PER_INSERT_MAX`]).
    async fn insert(&mut self, rows: &TableRows) -> Result<(), ProjectionError> {
        let table = rows.table();
        let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let per_statement = (PARAMETERS_PER_STATEMENT_MAX / table.columns.len().max(1))
            .clamp(1, ROWS_PER_INSERT_MAX);
        for start in (0..rows.len()).step_by(per_statement) {
            let end = (start + per_statement).min(rows.len());
            let mut insert = QueryBuilder::<Sqlite>::new(format!(
                "INSERT INTO {} ({}) ",
                table.name,
                names.join(", ")
            ));
            insert.push_values(start..end, |mut row, k| {
                for column in rows.columns() {
                    match column {
                        Column::Text(values) => row.push_bind(&values[k]),
                        Column::BigInt(values) => row.push_bind(values[k]),
                        Column::Integer(values) => row.push_bind(values[k]),
                        Column::Date(values) => row.push_bind(values[k]),
                        Column::Boolean(values) => row.push_bind(values[k]),
                    };
                }
            });
            if let Some(on_conflict) = table.on_conflict {
                insert.push(" ").push(on_conflict);
            }
            insert.build().execute(&mut *self).await?;
        }
        Ok(())
    }
}

/// Refreshes the query planner's statistics.
pub(crate) async fn refresh_statistics(pool: &SqlitePool) -> Result<(), ProjectionError> {
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

async fn control(directory: &Path) -> Result<SqlitePool, ProjectionError> {
    let pool = pool_options()
        .max_connections(1)
        .connect_with(options(&directory.join(CONTROL_FILE)))
        .await?;
    sqlx::query(control::CREATE_TABLE).execute(&pool).await?;
    sqlx::query(control::CREATE_ONE_LIVE_INDEX)
        .execute(&pool)
        .await?;
    Ok(pool)
}

/// How every pool of the read model's files treats its connections: one that comes back still
/// inside a transaction is closed, not lent again. A transaction whose COMMIT failed (a full
/// disk) was rolled back by SQLite itself; the driver still counts it open, and every later
/// transaction on that connection would fail (`tests/tests/embedded_faults.rs`).
fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new().after_release(|connection, _| {
        Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(connection)) })
    })
}

/// A pool of connections to `generation`'s file.
pub(crate) async fn generation_pool(
    directory: &Path,
    generation: i64,
    max_connections: u32,
) -> Result<SqlitePool, ProjectionError> {
    Ok(pool_options()
        .max_connections(max_connections)
        .connect_with(options(&generation_file(directory, generation)))
        .await?)
}

/// One connection with `options` (a read model's file), never shared, that runs `statements`
/// when it opens: the temporary views through which it reads the read model as known at a
/// position (`known.rs`).
pub(crate) async fn known_pool(
    options: SqliteConnectOptions,
    statements: String,
) -> Result<SqlitePool, ProjectionError> {
    Ok(pool_options()
        .max_connections(1)
        .after_connect(move |connection, _| {
            let statements = statements.clone();
            Box::pin(async move {
                sqlx::Executor::execute(connection, statements.as_str()).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
}

/// A pool on the control database of `directory` (created if missing).
pub(crate) async fn control_pool(
    directory: &Path,
    max_connections: u32,
) -> Result<SqlitePool, ProjectionError> {
    Ok(pool_options()
        .max_connections(max_connections)
        .connect_with(options(&directory.join(CONTROL_FILE)))
        .await?)
}

/// Brings a generation's tables up to the current migrations (creating its file).
async fn migrate(directory: &Path, generation: i64) -> Result<(), ProjectionError> {
    let pool = generation_pool(directory, generation, 1).await?;
    let migrated = MIGRATOR.run(&pool).await;
    pool.close().await;
    migrated.map_err(|source| ProjectionError::Migration { generation, source })
}

pub(crate) async fn live_generation(directory: &Path) -> Result<i64, ProjectionError> {
    let control = control(directory).await?;
    let mut transaction = control.begin().await?;
    let live: Option<(i64,)> = sqlx::query_as(control::SELECT_LIVE)
        .fetch_optional(&mut *transaction)
        .await?;
    let generation = match live {
        Some((generation,)) => generation,
        None => {
            let (generation,): (i64,) = sqlx::query_as(control::INSERT_NEXT)
                .bind("live")
                .fetch_one(&mut *transaction)
                .await?;
            generation
        }
    };
    transaction.commit().await?;
    control.close().await;
    migrate(directory, generation).await?;
    Ok(generation)
}

pub(crate) async fn begin_rebuild(directory: &Path) -> Result<i64, ProjectionError> {
    let control = control(directory).await?;
    let mut transaction = control.begin().await?;
    sqlx::query(control::ABANDON_BUILDING)
        .execute(&mut *transaction)
        .await?;
    let (generation,): (i64,) = sqlx::query_as(control::INSERT_NEXT)
        .bind("building")
        .fetch_one(&mut *transaction)
        .await?;
    transaction.commit().await?;
    control.close().await;
    // A file left by an attempt that died before its row was committed is not this
    // generation's: start it empty.
    remove_generation_files(directory, generation);
    migrate(directory, generation).await?;
    Ok(generation)
}

pub(crate) async fn switch(directory: &Path, generation: i64) -> Result<(), ProjectionError> {
    let control = control(directory).await?;
    let mut transaction = control.begin().await?;
    control::make_live::<sqlx::Sqlite>(&mut transaction, generation).await?;
    transaction.commit().await?;
    control.close().await;
    Ok(())
}

/// Removes a generation's file and its write-ahead log, if any.
fn remove_generation_files(directory: &Path, generation: i64) {
    let file = generation_file(directory, generation);
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.clone().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use sqlx::Connection as _;

    use super::*;

    /// The workspace's cargo configuration builds SQLite without its count of allocations
    /// (`.cargo/config.toml`). A build that lost the setting would still work, only slower
    /// (BENCHMARKS.md, "the embedded engine's rows"), so nothing else would notice.
    #[tokio::test]
    async fn sqlite_is_built_without_counting_its_allocations() {
        let mut connection = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let (used,): (i64,) =
            sqlx::query_as("SELECT sqlite_compileoption_used('SQLITE_DEFAULT_MEMSTATUS=0')")
                .fetch_one(&mut connection)
                .await
                .unwrap();
        assert_eq!(used, 1);
    }
}
