//! The token store in one SQLite file (`access.sqlite` in the embedded data directory).
//!
//! The file is shared between processes: the server reads it on every request while the
//! command line issues and revokes tokens in it. That works because:
//! - the journal is WAL, so readers never block the writer nor each other, and every statement
//!   outside a transaction reads the latest committed state: a revocation committed by another
//!   process is seen by the server's next `get`;
//! - every write is a single statement (an insert; an update that sets the revocation time
//!   only where none is set and returns the row), so no read-then-write transaction can be
//!   invalidated by another process's commit; a write that finds the file locked waits up to
//!   [`BUSY_TIMEOUT`];
//! - `synchronous = FULL`: an issued or revoked token is on disk when the call returns, so a
//!   revocation survives a power loss.
//!
//! The schema is one table created if missing, its version kept in `PRAGMA user_version`; a
//! file of a newer version is refused rather than misread.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use receivables_domain::outage::Outage;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqliteLockingMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tracing::info;

use crate::record::TokenRecord;
use crate::store::{LIST_TOKENS_MAX, StoreError, StoredFields, TokenStore, sort_listing};
use crate::token::TokenId;

/// The file's name in the embedded data directory.
pub const FILE_NAME: &str = "access.sqlite";

/// The schema version this code writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// How long a statement waits for a lock held by another connection or process (a writer, a
/// checkpoint) before failing as unavailable.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool. Every request of the server reads once; WAL readers run in
/// parallel, so a few connections serve many requests.
pub const CONNECTIONS_MAX: u32 = 4;

/// How long a call waits for a free connection.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL pages after which a commit copies the WAL back into the database (SQLite's own default,
/// stated so that it is a decision).
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 1000;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    secret_sha256 TEXT NOT NULL CHECK (length(secret_sha256) = 64),
    role TEXT NOT NULL,
    subsidiary_id TEXT,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    created_by TEXT NOT NULL
) STRICT";

/// The table's columns in the order of [`Row`], as a literal for `concat!`: every statement is a
/// constant string, prepared once per connection and cached.
macro_rules! columns {
    () => {
        "id, secret_sha256, role, subsidiary_id, label, created_at, expires_at, revoked_at, \
         created_by"
    };
}

/// The token store in one SQLite file.
pub struct SqliteTokenStore {
    path: PathBuf,
    pool: SqlitePool,
}

fn unavailable(path: &Path) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |error| StoreError::Unavailable(Outage::context(path.display(), error))
}

impl SqliteTokenStore {
    /// Opens the store at `path`, creating the file (and its directory) and the table if they
    /// are missing. Any number of processes may have the same file open.
    pub async fn open(path: &Path) -> Result<SqliteTokenStore, StoreError> {
        if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(directory).map_err(|e| {
                let what = format!("cannot create {}", directory.display());
                StoreError::Unavailable(Outage::context(what, e))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .locking_mode(SqliteLockingMode::Normal)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(CONNECTIONS_MAX)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A local file does not go stale: skip the ping before each use.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(unavailable(path))?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await
            .map_err(unavailable(path))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Refused(format!(
                "{} has schema version {version}, newer than this program's {SCHEMA_VERSION}",
                path.display()
            )));
        }
        sqlx::query(SCHEMA)
            .execute(&pool)
            .await
            .map_err(unavailable(path))?;
        if version < SCHEMA_VERSION {
            sqlx::query(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
                .execute(&pool)
                .await
                .map_err(unavailable(path))?;
        }
        info!(path = %path.display(), "token store open");
        Ok(SqliteTokenStore {
            path: path.to_owned(),
            pool,
        })
    }

    /// The store in `data_directory`, under its usual [`FILE_NAME`].
    pub async fn open_in(data_directory: &Path) -> Result<SqliteTokenStore, StoreError> {
        SqliteTokenStore::open(&data_directory.join(FILE_NAME)).await
    }

    /// The file the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection. Later calls fail as unavailable.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A row of the table, before its values are checked.
type Row = StoredFields;

/// The record a row holds, named by its own id when a value in it is not valid.
fn record(row: Row) -> Result<TokenRecord, StoreError> {
    let key = row.id.clone();
    row.into_record(&key)
}

#[async_trait]
impl TokenStore for SqliteTokenStore {
    async fn insert(&self, record: &TokenRecord) -> Result<(), StoreError> {
        let outcome = sqlx::query(concat!(
            "INSERT INTO tokens (",
            columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .bind(record.id.as_str())
        .bind(record.secret_sha256.to_hex())
        .bind(record.role.name().as_str())
        .bind(record.role.subsidiary().map(|s| s.as_str()))
        .bind(record.label.as_str())
        .bind(record.created_at)
        .bind(record.expires_at)
        .bind(record.revoked_at)
        .bind(record.created_by.as_str())
        .execute(&self.pool)
        .await;
        match outcome {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(StoreError::Duplicate {
                    id: record.id.clone(),
                })
            }
            Err(error) => Err(unavailable(&self.path)(error)),
        }
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        // The hot path: one lookup by primary key, a statement prepared once per connection.
        sqlx::query_as::<_, Row>(concat!("SELECT ", columns!(), " FROM tokens WHERE id = ?1"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable(&self.path))?
            .map(record)
            .transpose()
    }

    async fn revoke(
        &self,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError> {
        // One statement: atomic against any other process, and the first time stays.
        sqlx::query_as::<_, Row>(concat!(
            "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1 RETURNING ",
            columns!()
        ))
        .bind(id.as_str())
        .bind(at)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable(&self.path))?
        .map(record)
        .transpose()
    }

    async fn list(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let limit = i64::try_from(LIST_TOKENS_MAX + 1).unwrap_or(i64::MAX);
        let rows =
            sqlx::query_as::<_, Row>(concat!("SELECT ", columns!(), " FROM tokens LIMIT ?1"))
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable(&self.path))?;
        if rows.len() > LIST_TOKENS_MAX {
            return Err(StoreError::TooMany {
                max: LIST_TOKENS_MAX,
            });
        }
        let mut records = rows
            .into_iter()
            .map(record)
            .collect::<Result<Vec<_>, _>>()?;
        // Times are stored as text of varying precision, which does not sort as time does.
        sort_listing(&mut records);
        Ok(records)
    }
}
