//! Why a projection could not apply an event or answer a query, with the cause kept for the
//! operator.

use receivables_domain::Position;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("read model database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Log(#[from] receivables_eventlog::LogError),
    #[error("migrating the read model's generation {generation}: {source}")]
    Migration {
        generation: i64,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("cannot create the read model's directory {path}: {source}")]
    Directory {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("event at position {position} cannot be projected: {problem}")]
    Event { position: Position, problem: String },
    #[error("stored value cannot be read back: {0}")]
    Stored(String),
    /// A projection's rows do not fit the table it declared: a programming error, caught before
    /// anything is written.
    #[error("rows of table {table} do not fit it: {problem}")]
    Rows {
        table: &'static str,
        problem: String,
    },
}
