//! Where token records live: [`TokenStore`], implemented on an SQLite file
//! ([`crate::sqlite::SqliteTokenStore`], the embedded default) and on a NATS key-value bucket
//! ([`crate::nats::KvTokenStore`], beside the JetStream event log).
//!
//! The server asks the store on every request (there is no cache), so that a revocation takes
//! effect on the very next call, whichever process or instance made it. `get` is therefore the
//! hot path and is kept to one indexed read or one direct get.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::record::TokenRecord;
use crate::token::TokenId;

/// Most records [`TokenStore::list`] returns. Tokens are issued by hand to systems and people,
/// so a store holding more is taken to be a mistake worth stopping at rather than paging through.
pub const LIST_TOKENS_MAX: usize = 10_000;

/// Why the store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or did not answer in time: the caller should answer
    /// "unavailable", not "unauthenticated".
    #[error("the token store is unavailable: {0}")]
    Unavailable(String),
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
