//! Where token records live: [`TokenStore`], implemented on an SQLite file
//! ([`crate::sqlite::SqliteTokenStore`], the embedded default) and on a NATS key-value bucket
//! ([`crate::nats::KvTokenStore`], beside the JetStream event log).
//!
//! The server asks the store on every request (there is no cache), so that a revocation takes
//! effect on the very next call, whichever process or instance made it. `get` is therefore the
//! hot path and is kept to one indexed read or one direct get.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use receivables_domain::Principal;
use receivables_domain::access::Role;
use receivables_domain::outage::Outage;
use serde::{Deserialize, Serialize};

use crate::record::{TokenLabel, TokenRecord};
use crate::token::{SecretHash, TokenId};

/// Most records [`TokenStore::list`] returns. Tokens are issued by hand to systems and people,
/// so a store holding more is taken to be a mistake worth stopping at rather than paging through.
pub const LIST_TOKENS_MAX: usize = 10_000;

/// Why the store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or did not answer in time: the caller should answer
    /// "unavailable", not "unauthenticated". The error underneath is kept as the source.
    #[error("the token store is unavailable: {0}")]
    Unavailable(#[source] Outage),
    /// A token with this id is stored already (ids are random; issue again).
    #[error("a token with id {id} exists already")]
    Duplicate { id: TokenId },
    /// A stored record cannot be read back.
    #[error("the stored token {key} is unreadable: {problem}")]
    Corrupt { key: String, problem: String },
    /// The store holds more tokens than [`LIST_TOKENS_MAX`].
    #[error("the token store holds more than {max} tokens")]
    TooMany { max: usize },
    /// The store refused for a reason that retrying will not fix (a bad configuration, a file
    /// written by a newer version).
    #[error("the token store refused: {0}")]
    Refused(String),
}

/// What the service needs from a token store. Held by the server as `Arc<dyn TokenStore>`.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a new record; [`StoreError::Duplicate`] if its id is taken.
    async fn insert(&self, record: &TokenRecord) -> Result<(), StoreError>;

    /// The record of `id` as stored now, or `None` if there is none.
    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError>;

    /// Marks the token revoked at `at` and returns the record as it now stands; `None` if
    /// there is no such token. Revoking a revoked token changes nothing: the first revocation's
    /// time stays.
    async fn revoke(
        &self,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError>;

    /// Every record, oldest first (by creation time, then id); at most [`LIST_TOKENS_MAX`].
    async fn list(&self) -> Result<Vec<TokenRecord>, StoreError>;
}

/// Orders a listing: oldest first, ties by id.
pub(crate) fn sort_listing(records: &mut [TokenRecord]) {
    records.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// A record as both backends store it: plain text and times, the hash of the secret and never
/// the secret. Every value is checked again when it is read back ([`StoredFields::into_record`]).
#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
pub(crate) struct StoredFields {
    pub id: String,
    pub secret_sha256: String,
    pub role: String,
    pub subsidiary_id: Option<String>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: String,
}

impl StoredFields {
    pub fn of(record: &TokenRecord) -> StoredFields {
        StoredFields {
            id: record.id.as_str().to_owned(),
            secret_sha256: record.secret_sha256.to_hex(),
            role: record.role.name().as_str().to_owned(),
            subsidiary_id: record.role.subsidiary().map(|s| s.as_str().to_owned()),
            label: record.label.as_str().to_owned(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
            created_by: record.created_by.as_str().to_owned(),
        }
    }

    /// The record, every value checked; `key` names it in the error when one is not valid.
    pub fn into_record(self, key: &str) -> Result<TokenRecord, StoreError> {
        let corrupt = |problem: String| StoreError::Corrupt {
            key: key.to_owned(),
            problem,
        };
        Ok(TokenRecord {
            id: TokenId::parse(&self.id).map_err(|e| corrupt(e.to_string()))?,
            secret_sha256: SecretHash::parse_hex(&self.secret_sha256)
                .map_err(|e| corrupt(e.to_string()))?,
            role: Role::parse(&self.role, self.subsidiary_id.as_deref())
                .map_err(|e| corrupt(e.to_string()))?,
            label: TokenLabel::parse(&self.label).map_err(|e| corrupt(e.to_string()))?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            created_by: Principal::parse(&self.created_by)
                .map_err(|e| corrupt(format!("created_by: {e}")))?,
        })
    }
}
