//! What the projector runtime asks of a connection inside a batch's transaction, which each
//! engine does its own way (`postgres.rs`, `sqlite.rs`). The runtime runs the same code on
//! either engine's transaction (see [`crate::database::on_engine`]) and calls these.

use chrono::NaiveDate;
use receivables_domain::Position;

use crate::error::ProjectionError;
use crate::rows::TableRows;

/// A parameter of a statement run through [`WriteConnection::run`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bind {
    Date(NaiveDate),
    BigInt(i64),
    /// A text parameter left `NULL` (a filter that lets everything through).
    NullText,
}

pub(crate) trait WriteConnection {
    /// Reads a projection's checkpoint (`$1`) and holds it until the transaction ends, the
    /// engine's way: a second projector on the same read model waits.
    const LOCK_CHECKPOINT: &'static str;

    /// The projection's checkpoint, created at 0 when it has none, held until the transaction
    /// ends: a second projector on the same read model waits here.
    async fn lock_checkpoint(&mut self, projection: &str) -> Result<Position, ProjectionError>;

    /// Inserts the rows of one table in as few statements as the engine allows.
    async fn insert(&mut self, rows: &TableRows) -> Result<(), ProjectionError>;

    /// Refreshes the planner's statistics of a table the transaction has just filled, where the
    /// engine plans by them (PostgreSQL): the summaries' lists of what a batch changed, whose
    /// size decides between looking invoices up and reading them all.
    async fn refresh_statistics_of(&mut self, table: &str) -> Result<(), ProjectionError>;

    /// Empties a table that no query reads (the summaries' rows) the engine's quickest way:
    /// PostgreSQL's `TRUNCATE`, which leaves no dead rows behind for the inserts that follow in
    /// the same transaction to step over.
    async fn clear(&mut self, table: &str) -> Result<(), ProjectionError>;

    /// Runs a statement that returns nothing, with its parameters in order.
    async fn run(&mut self, sql: &str, binds: &[Bind]) -> Result<(), ProjectionError>;

    /// The one row of a statement returning a date and a number, if any (the summaries' state).
    async fn fetch_date_and_number(
        &mut self,
        sql: &str,
    ) -> Result<Option<(NaiveDate, i64)>, ProjectionError>;
}

/// [`WriteConnection::run`] on any engine.
pub(crate) async fn execute<DB>(
    connection: &mut DB::Connection,
    sql: &str,
    binds: &[Bind],
) -> Result<(), ProjectionError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut query = sqlx::query::<DB>(sql);
    for bind in binds {
        query = match *bind {
            Bind::Date(date) => query.bind(date),
            Bind::BigInt(number) => query.bind(number),
            Bind::NullText => query.bind(None::<&str>),
        };
    }
    query.execute(&mut *connection).await?;
    Ok(())
}

/// [`WriteConnection::fetch_date_and_number`] on any engine.
pub(crate) async fn fetch_date_and_number<DB>(
    connection: &mut DB::Connection,
    sql: &str,
) -> Result<Option<(NaiveDate, i64)>, ProjectionError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    (NaiveDate, i64): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    Ok(sqlx::query_as::<DB, (NaiveDate, i64)>(sql)
        .fetch_optional(&mut *connection)
        .await?)
}
