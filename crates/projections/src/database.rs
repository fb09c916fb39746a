//! The read-model database, on either engine: PostgreSQL for production, SQLite for the embedded
//! default (README, "Architecture"; docs/ARCHITECTURE.md).
//!
//! The read models' SQL is written once for both engines: dates are bound as parameters (bucket
//! edges and as-of cut-offs are computed in Rust), amounts are integer minor units, and only
//! standard SQL is used (`CAST`, `COALESCE`, `FILTER`, row values, upserts). `on_engine!` runs
//! one piece of sqlx code against whichever pool it is given; it is type-checked once per engine.
//! What must differ (connections, the generic multi-row insert, locking, generations) lives in
//! [`crate::postgres`] and [`crate::sqlite`].

use std::path::PathBuf;

use sqlx::postgres::PgConnectOptions;
use sqlx::{PgPool, SqlitePool};

use crate::error::ProjectionError;
use crate::{postgres, sqlite};

/// A pool of connections to one generation of the read model.
#[derive(Debug, Clone)]
pub enum ReadPool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// Runs `$body` with `$pool` bound to the engine's own sqlx pool. The body is compiled once for
/// each engine, so the same query text and bindings serve both.
macro_rules! on_engine {
    ($read_pool:expr, $pool:ident => $body:expr) => {
        match $read_pool {
            $crate::database::ReadPool::Postgres($pool) => $body,
            $crate::database::ReadPool::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_engine;

impl ReadPool {
    /// Closes every connection of the pool.
    pub async fn close(&self) {
        on_engine!(self, pool => pool.close().await);
    }
}

impl From<PgPool> for ReadPool {
    fn from(pool: PgPool) -> Self {
        ReadPool::Postgres(pool)
    }
}

impl From<SqlitePool> for ReadPool {
    fn from(pool: SqlitePool) -> Self {
        ReadPool::Sqlite(pool)
    }
}

/// Where the generations of the read model live: schemas of one PostgreSQL database, or files
/// of one directory.
///
/// Exactly one generation is live; a rebuild fills a new one from the first event while the
/// live one keeps answering, then switches readers over in one transaction of the control table
/// `read_model_generations`.
#[derive(Debug, Clone)]
pub enum ReadStore {
    Postgres {
        /// Connections to the database's default schema, where the control table is.
        admin: PgPool,
        options: Box<PgConnectOptions>,
    },
    Sqlite {
        /// The data directory: `read-models.sqlite` (control) and `read-model-<n>.sqlite`.
        directory: PathBuf,
    },
}

impl ReadStore {
    /// The read model on a PostgreSQL database.
    pub async fn postgres(options: PgConnectOptions) -> Result<Self, ProjectionError> {
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone())
            .await?;
        Ok(ReadStore::Postgres {
            admin,
            options: Box::new(options),
        })
    }

    /// The read model in SQLite files in `directory` (created if missing).
    pub fn sqlite(directory: impl Into<PathBuf>) -> Result<Self, ProjectionError> {
        let directory = directory.into();
        std::fs::create_dir_all(&directory).map_err(|source| ProjectionError::Directory {
            path: directory.clone(),
            source,
        })?;
        Ok(ReadStore::Sqlite { directory })
    }

    /// The live generation, created (empty) when there is none yet, its tables brought up to
    /// the current migrations.
    pub async fn live(&self) -> Result<i64, ProjectionError> {
        match self {
            ReadStore::Postgres { admin, options } => {
                postgres::live_generation(admin, options).await
            }
            ReadStore::Sqlite { directory } => sqlite::live_generation(directory).await,
        }
    }

    /// A pool of connections to `generation`.
    pub async fn pool(
        &self,
        generation: i64,
        max_connections: u32,
    ) -> Result<ReadPool, ProjectionError> {
        match self {
            ReadStore::Postgres { options, .. } => {
                postgres::generation_pool(options, generation, max_connections)
                    .await
                    .map(ReadPool::Postgres)
            }
            ReadStore::Sqlite { directory } => {
                sqlite::generation_pool(directory, generation, max_connections)
                    .await
                    .map(ReadPool::Sqlite)
            }
        }
    }

    /// A pool on the control database (PostgreSQL's default schema, SQLite's
    /// `read-models.sqlite`): what outlives every generation is kept there, the alerts
    /// (`alerts.rs`).
    pub async fn control_pool(&self, max_connections: u32) -> Result<ReadPool, ProjectionError> {
        match self {
            ReadStore::Postgres { options, .. } => Ok(ReadPool::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(max_connections)
                    .connect_with((**options).clone())
                    .await?,
            )),
            ReadStore::Sqlite { directory } => sqlite::control_pool(directory, max_connections)
                .await
                .map(ReadPool::Sqlite),
        }
    }

    /// Starts a rebuild: a new, empty generation in state `building`. A rebuild that died
    /// half-way is abandoned, not resumed: it is cheaper to start again.
    pub async fn begin_rebuild(&self) -> Result<i64, ProjectionError> {
        match self {
            ReadStore::Postgres { admin, options } => postgres::begin_rebuild(admin, options).await,
            ReadStore::Sqlite { directory } => sqlite::begin_rebuild(directory).await,
        }
    }

    /// Makes `generation` the live one and retires the previous, in one transaction.
    pub async fn switch(&self, generation: i64) -> Result<(), ProjectionError> {
        match self {
            ReadStore::Postgres { admin, .. } => postgres::switch(admin, generation).await,
            ReadStore::Sqlite { directory } => sqlite::switch(directory, generation).await,
        }
    }

    /// Closes the control connections.
    pub async fn close(&self) {
        if let ReadStore::Postgres { admin, .. } = self {
            admin.close().await;
        }
    }
}
