//! What the read model does differently on PostgreSQL: batch writes as one `UNNEST` insert per
//! table, a row lock on the checkpoint, planner statistics, and generations as schemas.
//!
//! Each generation lives in a schema of its own (`read_model_<n>`); connections of a
//! generation's pool have their `search_path` set to it, so the projector and the queries run the
//! same SQL against any generation. The control table `read_model_generations` lives in the
//! database's default schema, and changes to it are serialised by an advisory lock so that
//! processes starting at once on an empty database create one live generation between them.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor as _, PgConnection, PgPool};

use crate::database::control;
use crate::open_items::{self, Batch, Rows};
use crate::{MIGRATOR, ProjectionError, checkpoint};

/// The schema that holds a generation.
pub fn schema(generation: i64) -> String {
    format!("read_model_{generation}")
}

/// Applies a batch and its checkpoint in one transaction; events at or below the checkpoint
/// are skipped.
pub(crate) async fn apply_batch(
    pool: &PgPool,
    events: &[receivables_domain::RecordedEvent],
) -> Result<Batch, ProjectionError> {
    let mut transaction = pool.begin().await?;
    // Read under the transaction: a second projector on the same database waits here.
    sqlx::query(checkpoint::INSERT_ZERO)
        .bind(open_items::NAME)
        .execute(&mut *transaction)
        .await?;
    let (stored,): (i64,) = sqlx::query_as(
        "SELECT position FROM projection_checkpoints WHERE projection = $1 FOR UPDATE",
    )
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
    connection: &mut PgConnection,
    rows: &Rows,
) -> Result<(), ProjectionError> {
    let i = &rows.invoices;
    if !i.position.is_empty() {
        sqlx::query(
            "INSERT INTO invoices (subsidiary_id, invoice_number, customer_id, currency,
                 amount_minor, issue_date, due_date, over_limit, position)
             SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                 $5::BIGINT[], $6::DATE[], $7::DATE[], $8::BOOLEAN[], $9::BIGINT[])",
        )
        .bind(&i.subsidiary)
        .bind(&i.number)
        .bind(&i.customer)
        .bind(&i.currency)
        .bind(&i.amount)
        .bind(&i.issued)
        .bind(&i.due)
        .bind(&i.over_limit)
        .bind(&i.position)
        .execute(&mut *connection)
        .await?;
    }
    let p = &rows.payments;
    if !p.position.is_empty() {
        sqlx::query(
            "INSERT INTO payments (position, customer_id, subsidiary_id, currency,
                 amount_minor, unapplied_minor, received_date)
             SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                 $5::BIGINT[], $6::BIGINT[], $7::DATE[])",
        )
        .bind(&p.position)
        .bind(&p.customer)
        .bind(&p.subsidiary)
        .bind(&p.currency)
        .bind(&p.amount)
        .bind(&p.unapplied)
        .bind(&p.received)
        .execute(&mut *connection)
        .await?;
    }
    let a = &rows.allocations;
    if !a.position.is_empty() {
        sqlx::query(
            "INSERT INTO allocations (position, line, subsidiary_id, invoice_number,
                 amount_minor, received_date)
             SELECT * FROM UNNEST($1::BIGINT[], $2::INTEGER[], $3::TEXT[], $4::TEXT[],
                 $5::BIGINT[], $6::DATE[])",
        )
        .bind(&a.position)
        .bind(&a.line)
        .bind(&a.subsidiary)
        .bind(&a.number)
        .bind(&a.amount)
        .bind(&a.received)
        .execute(&mut *connection)
        .await?;
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
    if !r.position.is_empty() {
        sqlx::query(
            "INSERT INTO promises (promise_id, customer_id, subsidiary_id, currency,
                 amount_minor, made_on, promised_date, collector, position)
             SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[],
                 $5::BIGINT[], $6::DATE[], $7::DATE[], $8::TEXT[], $9::BIGINT[])",
        )
        .bind(&r.id)
        .bind(&r.customer)
        .bind(&r.subsidiary)
        .bind(&r.currency)
        .bind(&r.amount)
        .bind(&r.made_on)
        .bind(&r.promised)
        .bind(&r.collector)
        .bind(&r.position)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Refreshes the planner statistics of the projection's tables.
pub(crate) async fn refresh_statistics(pool: &PgPool) -> Result<(), ProjectionError> {
    sqlx::query(&format!("ANALYZE {}", open_items::TABLES.join(", ")))
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
    migrated.map_err(|e| ProjectionError::Stored(format!("migrating generation {generation}: {e}")))
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
    Ok(())
}
