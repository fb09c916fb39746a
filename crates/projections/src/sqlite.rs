//! What the read model does differently on SQLite, the embedded default: batch writes as
//! multi-row inserts, the connection settings, and generations as files of one directory.
//!
//! A generation is the file `read-model-<n>.sqlite`; the control table `read_model_generations`
//! is in `read-models.sqlite` beside them. SQLite has one writer at a time, which is all a
//! projector needs; queries read concurrently from the write-ahead log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::database::control;
use crate::open_items::{self, Batch, Rows};
use crate::{MIGRATOR, ProjectionError, checkpoint};

/// Rows per insert statement: SQLite binds at most 32,766 parameters per statement, and the
/// widest table has 9 columns.
const ROWS_PER_INSERT: usize = 1_000;

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
}

/// Applies a batch and its checkpoint in one transaction; events at or below the checkpoint
/// are skipped.
pub(crate) async fn apply_batch(
    pool: &SqlitePool,
    events: &[receivables_domain::RecordedEvent],
) -> Result<Batch, ProjectionError> {
    let mut transaction = pool.begin().await?;
    // The first statement writes, so the transaction holds SQLite's one write lock from here:
    // a second projector on the same file waits.
    sqlx::query(checkpoint::INSERT_ZERO)
        .bind(open_items::NAME)
        .execute(&mut *transaction)
        .await?;
    let (stored,): (i64,) =
        sqlx::query_as("SELECT position FROM projection_checkpoints WHERE projection = $1")
            .bind(open_items::NAME)
            .fetch_one(&mut *transaction)
            .await?;
    let batch = open_items::batch(events, checkpoint::position(stored)?)?;
    if batch.moved() {
        write(&mut transaction, batch.rows()).await?;
        let moved = sqlx::query(checkpoint::STORE)
            .bind(open_items::NAME)
            .bind(checkpoint::stored(batch.to)?)
            .execute(&mut *transaction)
            .await?;
        checkpoint::check_moved(moved.rows_affected(), batch.to)?;
        transaction.commit().await?;
    }
    Ok(batch)
}

/// Writes rows in the caller's transaction; invoices first, since allocations refer to them.
pub(crate) async fn write(
    connection: &mut SqliteConnection,
    rows: &Rows,
) -> Result<(), ProjectionError> {
    let i = &rows.invoices;
    for chunk in chunks(i.position.len()) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO invoices (subsidiary_id, invoice_number, customer_id, currency,
                 amount_minor, issue_date, due_date, over_limit, position) ",
        );
        insert.push_values(chunk, |mut row, k| {
            row.push_bind(&i.subsidiary[k])
                .push_bind(&i.number[k])
                .push_bind(&i.customer[k])
                .push_bind(&i.currency[k])
                .push_bind(i.amount[k])
                .push_bind(i.issued[k])
                .push_bind(i.due[k])
                .push_bind(i.over_limit[k])
                .push_bind(i.position[k]);
        });
        insert.build().execute(&mut *connection).await?;
    }
    let p = &rows.payments;
    for chunk in chunks(p.position.len()) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO payments (position, customer_id, subsidiary_id, currency,
                 amount_minor, unapplied_minor, received_date) ",
        );
        insert.push_values(chunk, |mut row, k| {
            row.push_bind(p.position[k])
                .push_bind(&p.customer[k])
                .push_bind(&p.subsidiary[k])
                .push_bind(&p.currency[k])
                .push_bind(p.amount[k])
                .push_bind(p.unapplied[k])
                .push_bind(p.received[k]);
        });
        insert.build().execute(&mut *connection).await?;
    }
    let a = &rows.allocations;
    for chunk in chunks(a.position.len()) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO allocations (position, line, subsidiary_id, invoice_number,
                 amount_minor, received_date) ",
        );
        insert.push_values(chunk, |mut row, k| {
            row.push_bind(a.position[k])
                .push_bind(a.line[k])
                .push_bind(&a.subsidiary[k])
                .push_bind(&a.number[k])
                .push_bind(a.amount[k])
                .push_bind(a.received[k]);
        });
        insert.build().execute(&mut *connection).await?;
    }
    for (customer, c) in &rows.credit {
        sqlx::query(open_items::UPSERT_CREDIT_TERMS)
            .bind(customer)
            .bind(&c.currency)
            .bind(c.limit)
            .bind(&c.policy)
            .bind(&c.grade)
            .bind(c.effective)
            .bind(c.position)
            .execute(&mut *connection)
            .await?;
    }
    let r = &rows.promises;
    for chunk in chunks(r.position.len()) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO promises (promise_id, customer_id, subsidiary_id, currency,
                 amount_minor, made_on, promised_date, collector, position) ",
        );
        insert.push_values(chunk, |mut row, k| {
            row.push_bind(&r.id[k])
                .push_bind(&r.customer[k])
                .push_bind(&r.subsidiary[k])
                .push_bind(&r.currency[k])
                .push_bind(r.amount[k])
                .push_bind(r.made_on[k])
                .push_bind(r.promised[k])
                .push_bind(&r.collector[k])
                .push_bind(r.position[k]);
        });
        insert.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// The row indexes `0..rows`, a statement's worth at a time.
fn chunks(rows: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..rows)
        .step_by(ROWS_PER_INSERT)
        .map(move |start| start..(start + ROWS_PER_INSERT).min(rows))
}

/// Refreshes the query planner's statistics.
pub(crate) async fn refresh_statistics(pool: &SqlitePool) -> Result<(), ProjectionError> {
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

async fn control(directory: &Path) -> Result<SqlitePool, ProjectionError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options(&directory.join(CONTROL_FILE)))
        .await?;
    sqlx::query(control::CREATE_TABLE).execute(&pool).await?;
    sqlx::query(control::CREATE_ONE_LIVE_INDEX)
        .execute(&pool)
        .await?;
    Ok(pool)
}

/// A pool of connections to `generation`'s file.
pub(crate) async fn generation_pool(
    directory: &Path,
    generation: i64,
    max_connections: u32,
) -> Result<SqlitePool, ProjectionError> {
    Ok(SqlitePoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options(&generation_file(directory, generation)))
        .await?)
}

/// Brings a generation's tables up to the current migrations (creating its file).
async fn migrate(directory: &Path, generation: i64) -> Result<(), ProjectionError> {
    let pool = generation_pool(directory, generation, 1).await?;
    let migrated = MIGRATOR.run(&pool).await;
    pool.close().await;
    migrated.map_err(|e| ProjectionError::Stored(format!("migrating generation {generation}: {e}")))
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
    sqlx::query(control::RETIRE_LIVE)
        .execute(&mut *transaction)
        .await?;
    let switched = sqlx::query(control::MAKE_LIVE)
        .bind(generation)
        .execute(&mut *transaction)
        .await?;
    if switched.rows_affected() != 1 {
        return Err(ProjectionError::Stored(format!(
            "generation {generation} is not being built"
        )));
    }
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
