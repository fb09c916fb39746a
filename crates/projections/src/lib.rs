//! The read side: projectors that turn the event log into read models, in PostgreSQL or in the
//! embedded SQLite, and the queries over them.
//!
//! A projector reads the log from the checkpoint stored with its read model, applies a batch of
//! events and the new checkpoint in one database transaction, and so converges after a crash at
//! any point to the same state as a rebuild from the first event.

pub mod aging;
pub mod checkpoint;
pub mod database;
pub mod exposure;
pub mod minor_units;
pub mod open_items;
pub mod postgres;
pub mod promises;
pub mod runtime;
pub mod sqlite;
pub mod work_queue;

/// The read models' schema, as sqlx migrations: the same files for both engines.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why a projection could not apply an event or answer a query.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("read model database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Log(#[from] receivables_eventlog::LogError),
    #[error("event at position {position} cannot be projected: {problem}")]
    Event {
        position: receivables_domain::Position,
        problem: String,
    },
    #[error("stored value cannot be read back: {0}")]
    Stored(String),
}

pub use database::{ReadPool, ReadStore};
