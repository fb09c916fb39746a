//! Where each backend keeps snapshots of accounts ([`EventLog::save_snapshot`]): beside the
//! log, never in it. A snapshot is a cache the command service may lose at any time (it then
//! loads an account from its events); what it holds is checked by the domain against the log
//! when it is read (`receivables_domain::account::snapshot`), so the stores only keep bytes.
//!
//! - Embedded: a second SQLite file next to the log's (`events.snapshots.sqlite` beside
//!   `events.sqlite`), so that writing a snapshot of a few megabytes never holds the log's write
//!   lock, and deleting the file loses nothing. It is created by the first snapshot saved.
//! - JetStream: an object store bucket (snapshots are larger than a message may be; the object
//!   store cuts them into chunks), with the stream's replicas, so that every command service of
//!   a cluster starts warm from what another saved.
//!
//! Both keep the newest snapshot of a customer only; an older one saved late does not replace a
//! newer one (JetStream: unless both are saved at once, when either may stay; both are valid).
//!
//! [`EventLog::save_snapshot`]: crate::EventLog::save_snapshot

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::jetstream::context::Context;
use async_nats::jetstream::object_store::{self, GetErrorKind, InfoErrorKind, ObjectMetadata};
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use receivables_domain::{CustomerId, Position};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;

use crate::LogError;
use crate::error::Outage;

/// The largest snapshot kept, in bytes. An account whose snapshot is larger is loaded from its
/// events (it is far beyond the histories the service is measured with: 4.6 MB at 10,000
/// events).
pub const SNAPSHOT_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Connections to the embedded snapshot file: one reads while another writes.
const SNAPSHOT_CONNECTIONS_MAX: u32 = 2;

/// How long a statement on the snapshot file waits for the other connection's lock.
const SNAPSHOT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn too_large(customer: &CustomerId, bytes: usize) -> LogError {
    LogError::Refused(format!(
        "the snapshot of {customer} is {bytes} bytes, more than {SNAPSHOT_BYTES_MAX}"
    ))
}

/// Refuses a snapshot above [`SNAPSHOT_BYTES_MAX`] before either store is asked to keep it.
fn within_limit(customer: &CustomerId, snapshot: &[u8]) -> Result<(), LogError> {
    if snapshot.len() > SNAPSHOT_BYTES_MAX {
        return Err(too_large(customer, snapshot.len()));
    }
    Ok(())
}

fn unavailable(what: String, error: impl std::error::Error + Send + Sync + 'static) -> LogError {
    LogError::Unavailable(Outage::context(what, error))
}

/// The embedded log's snapshots: one SQLite file beside the log's, opened when first needed.
pub(crate) struct SqliteSnapshots {
    path: PathBuf,
    pool: OnceCell<SqlitePool>,
}

impl SqliteSnapshots {
    /// The snapshot file of the log at `log_path`: `events.sqlite` keeps its snapshots in
    /// `events.snapshots.sqlite`.
    pub(crate) fn beside(log_path: &Path) -> Self {
        SqliteSnapshots {
            path: log_path.with_extension("snapshots.sqlite"),
            pool: OnceCell::new(),
        }
    }

    /// The file's connections; `None` when there is no file and `create` is false (nothing was
    /// ever saved: reading creates nothing).
    async fn pool(&self, create: bool) -> Result<Option<&SqlitePool>, LogError> {
        if let Some(pool) = self.pool.get() {
            return Ok(Some(pool));
        }
        if !create && !self.path.exists() {
            return Ok(None);
        }
        let pool = self
            .pool
            .get_or_try_init(|| async {
                let options = SqliteConnectOptions::new()
                    .filename(&self.path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // A cache: a snapshot lost to a power cut is saved again later.
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SNAPSHOT_BUSY_TIMEOUT);
                let pool = SqlitePoolOptions::new()
                    .max_connections(SNAPSHOT_CONNECTIONS_MAX)
                    .min_connections(0)
                    .connect_with(options)
                    .await
                    .map_err(|e| unavailable(format!("cannot open {}", self.path.display()), e))?;
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS account_snapshots (
                         customer_id TEXT PRIMARY KEY,
                         position INTEGER NOT NULL CHECK (position > 0),
                         snapshot BLOB NOT NULL
                     ) STRICT",
                )
                .execute(&pool)
                .await
                .map_err(|e| unavailable(format!("cannot set up {}", self.path.display()), e))?;
                Ok::<_, LogError>(pool)
            })
            .await?;
        Ok(Some(pool))
    }

    pub(crate) async fn load(&self, customer: &CustomerId) -> Result<Option<Vec<u8>>, LogError> {
        let Some(pool) = self.pool(false).await? else {
            return Ok(None);
        };
        sqlx::query_scalar::<_, Vec<u8>>(
            "SELECT snapshot FROM account_snapshots WHERE customer_id = ?1",
        )
        .bind(customer.as_str())
        .fetch_optional(pool)
        .await
        .map_err(|e| unavailable(format!("cannot read {}", self.path.display()), e))
    }

    pub(crate) async fn save(
        &self,
        customer: &CustomerId,
        position: Position,
        snapshot: Vec<u8>,
    ) -> Result<(), LogError> {
        within_limit(customer, &snapshot)?;
        let Some(pool) = self.pool(true).await? else {
            return Ok(());
        };
        let position = i64::try_from(position.get())
            .map_err(|_| LogError::Refused(format!("position {position} is beyond SQLite's")))?;
        sqlx::query(
            "INSERT INTO account_snapshots (customer_id, position, snapshot) VALUES (?1, ?2, ?3)
             ON CONFLICT (customer_id) DO UPDATE
                 SET position = excluded.position, snapshot = excluded.snapshot
                 WHERE excluded.position > account_snapshots.position",
        )
        .bind(customer.as_str())
        .bind(position)
        .bind(snapshot)
        .execute(pool)
        .await
        .map_err(|e| unavailable(format!("cannot write {}", self.path.display()), e))?;
        Ok(())
    }

    pub(crate) async fn close(&self) {
        if let Some(pool) = self.pool.get() {
            pool.close().await;
        }
    }
}

/// The stream behind the snapshot bucket `bucket`, laid out as the client's object store lays
/// it out, every setting explicit (as the log's own stream).
pub(crate) fn bucket_stream_config(bucket: &str, replicas: usize) -> stream::Config {
    stream::Config {
        name: format!("OBJ_{bucket}"),
        description: Some("Receivables: snapshots of accounts (a cache of the log)".into()),
        subjects: vec![format!("$O.{bucket}.C.>"), format!("$O.{bucket}.M.>")],
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::New,
        max_messages: -1,
        max_bytes: -1,
        max_age: Duration::ZERO,
        num_replicas: replicas,
        allow_rollup: true,
        allow_direct: true,
        // Replacing an object purges its old chunks.
        deny_purge: false,
        deny_delete: false,
        ..Default::default()
    }
}

/// The JetStream log's snapshots: one object per customer, named by its id, its description
/// the position of the last event it covers.
#[derive(Clone)]
pub(crate) struct ObjectSnapshots {
    store: object_store::ObjectStore,
}

impl ObjectSnapshots {
    /// Creates the bucket's stream if it is missing and opens the bucket.
    pub(crate) async fn create(
        context: &Context,
        bucket: &str,
        replicas: usize,
    ) -> Result<Self, LogError> {
        context
            .get_or_create_stream(bucket_stream_config(bucket, replicas))
            .await
            .map_err(|e| unavailable(format!("cannot create the bucket {bucket}"), e))?;
        Self::attach(context, bucket).await
    }

    /// Opens a bucket that exists.
    pub(crate) async fn attach(context: &Context, bucket: &str) -> Result<Self, LogError> {
        let store = context
            .get_object_store(bucket)
            .await
            .map_err(|e| unavailable(format!("cannot open the bucket {bucket}"), e))?;
        Ok(ObjectSnapshots { store })
    }

    pub(crate) async fn load(&self, customer: &CustomerId) -> Result<Option<Vec<u8>>, LogError> {
        let mut object = match self.store.get(customer.as_str()).await {
            Ok(object) => object,
            Err(error) if error.kind() == GetErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(unavailable(format!("cannot read {customer}'s"), error)),
        };
        if object.info().size > SNAPSHOT_BYTES_MAX {
            return Err(too_large(customer, object.info().size));
        }
        let mut bytes = Vec::with_capacity(object.info().size);
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| unavailable(format!("cannot read {customer}'s"), e))?;
        Ok(Some(bytes))
    }

    pub(crate) async fn save(
        &self,
        customer: &CustomerId,
        position: Position,
        snapshot: Vec<u8>,
    ) -> Result<(), LogError> {
        within_limit(customer, &snapshot)?;
        match self.store.info(customer.as_str()).await {
            Ok(saved) => {
                let saved_at = saved
                    .description
                    .as_deref()
                    .and_then(|d| d.parse::<u64>().ok());
                if saved_at.is_some_and(|saved_at| saved_at >= position.get()) {
                    return Ok(());
                }
            }
            Err(error) if error.kind() == InfoErrorKind::NotFound => {}
            Err(error) => return Err(unavailable(format!("cannot look up {customer}'s"), error)),
        }
        let metadata = ObjectMetadata {
            name: customer.as_str().to_owned(),
            description: Some(position.get().to_string()),
            ..Default::default()
        };
        self.store
            .put(metadata, &mut snapshot.as_slice())
            .await
            .map_err(|e| unavailable(format!("cannot save {customer}'s"), e))?;
        Ok(())
    }
}
