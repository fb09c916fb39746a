//! The token store in a NATS JetStream key-value bucket, for deployments on NATS: every command
//! and query service instance reads the same bucket, so a token revoked through one instance is
//! refused by all of them on their next request.
//!
//! One key per token (its id, which is lowercase hex and so always a valid key); the value is the
//! record as JSON with the SHA-256 of the secret, never the secret. A revocation is a
//! compare-and-set on the key's last revision, so two concurrent revocations keep the first
//! time. Reads are direct gets of the key's last value (no consumer, no cache).
//!
//! The bucket is created when missing with the settings of [`KvTokenConfig`]; an existing bucket
//! is used as it is (with a warning when its history or replicas differ), because changing a
//! shared bucket is an operator's decision.

use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::kv;
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use receivables_domain::outage::Outage;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::record::TokenRecord;
use crate::store::{LIST_TOKENS_MAX, StoreError, StoredFields, TokenStore, sort_listing};
use crate::token::TokenId;

/// The bucket's name unless configured otherwise.
pub const DEFAULT_BUCKET: &str = "RECEIVABLES_TOKENS";

/// Values kept per key unless configured otherwise: the record as it stands. More keeps the
/// record as issued beside its revocation.
pub const DEFAULT_HISTORY: i64 = 1;

/// Most values per key a NATS key-value bucket can keep.
pub const HISTORY_MAX: i64 = 64;

/// Replicas unless configured otherwise (a single server); production clusters use 3.
pub const DEFAULT_REPLICAS: usize = 1;

/// Most replicas a JetStream stream can have.
pub const REPLICAS_MAX: usize = 5;

/// How long one request to JetStream may take before the store is reported unavailable.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest stored record in bytes (a label of [`crate::record::LABEL_LENGTH_MAX`] characters
/// of four bytes each fits with room to spare); also the bucket's value size limit.
pub const RECORD_BYTES_MAX: i32 = 4096;

/// Compare-and-set rounds of one revocation before giving up (only concurrent writes to the
/// same token make a round fail).
pub const REVOKE_ATTEMPTS_MAX: usize = 5;

/// The version of the stored JSON.
const RECORD_FORMAT: u32 = 1;

/// Where and how the bucket lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvTokenConfig {
    pub bucket: String,
    /// Servers holding a copy, 1 to [`REPLICAS_MAX`].
    pub replicas: usize,
    /// Values kept per key, 1 to [`HISTORY_MAX`].
    pub history: i64,
    pub request_timeout: Duration,
}

impl Default for KvTokenConfig {
    fn default() -> Self {
        KvTokenConfig {
            bucket: DEFAULT_BUCKET.to_owned(),
            replicas: DEFAULT_REPLICAS,
            history: DEFAULT_HISTORY,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl KvTokenConfig {
    /// The defaults, in the bucket `bucket`.
    pub fn with_bucket(bucket: impl Into<String>) -> Self {
        KvTokenConfig {
            bucket: bucket.into(),
            ..KvTokenConfig::default()
        }
    }

    fn check(&self) -> Result<(), StoreError> {
        if !(1..=REPLICAS_MAX).contains(&self.replicas) {
            return Err(StoreError::Refused(format!(
                "replicas must be 1 to {REPLICAS_MAX}, got {}",
                self.replicas
            )));
        }
        if !(1..=HISTORY_MAX).contains(&self.history) {
            return Err(StoreError::Refused(format!(
                "history must be 1 to {HISTORY_MAX}, got {}",
                self.history
            )));
        }
        let valid_name = !self.bucket.is_empty()
            && self
                .bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_name {
            return Err(StoreError::Refused(format!(
                "bucket name {:?} may hold only ASCII letters, digits, '-' and '_'",
                self.bucket
            )));
        }
        Ok(())
    }

    /// The stream behind the bucket, laid out exactly as a key-value bucket. It is created as a
    /// stream rather than through the client's bucket creation, which asks for account
    /// information in a form that servers before 2.10 do not give.
    fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: format!("KV_{}", self.bucket),
            description: Some(
                "Receivables: bearer tokens, token id -> record with the SHA-256 of the secret"
                    .to_owned(),
            ),
            subjects: vec![format!("$KV.{}.>", self.bucket)],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::New,
            max_messages_per_subject: self.history,
            max_messages: -1,
            max_bytes: -1,
            max_age: Duration::ZERO,
            max_message_size: RECORD_BYTES_MAX,
            num_replicas: self.replicas,
            allow_rollup: true,
            deny_delete: true,
            deny_purge: false,
            allow_direct: true,
            ..Default::default()
        }
    }
}

/// The record as JSON in the bucket, with the version of its format.
#[derive(Debug, Serialize, Deserialize)]
struct StoredRecord {
    format: u32,
    #[serde(flatten)]
    fields: StoredFields,
}

fn encode(record: &TokenRecord) -> Result<Vec<u8>, StoreError> {
    let stored = StoredRecord {
        format: RECORD_FORMAT,
        fields: StoredFields::of(record),
    };
    let bytes = serde_json::to_vec(&stored).map_err(|e| StoreError::Corrupt {
        key: record.id.to_string(),
        problem: format!("cannot encode: {e}"),
    })?;
    if bytes.len() > usize::try_from(RECORD_BYTES_MAX).unwrap_or(usize::MAX) {
        return Err(StoreError::Refused(format!(
            "the record of token {} is {} bytes, more than {RECORD_BYTES_MAX}",
            record.id,
            bytes.len()
        )));
    }
    Ok(bytes)
}

fn decode(key: &str, value: &[u8]) -> Result<TokenRecord, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt {
        key: key.to_owned(),
        problem,
    };
    let stored: StoredRecord =
        serde_json::from_slice(value).map_err(|e| corrupt(format!("not a token record: {e}")))?;
    if stored.format != RECORD_FORMAT {
        return Err(corrupt(format!(
            "record format {} is not {RECORD_FORMAT}",
            stored.format
        )));
    }
    if stored.fields.id != key {
        return Err(corrupt(format!(
            "the record names token {}",
            stored.fields.id
        )));
    }
    stored.fields.into_record(key)
}

fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Outage::caused_by(error))
}

/// The token store in a JetStream key-value bucket.
#[derive(Clone)]
pub struct KvTokenStore {
    client: async_nats::Client,
    bucket: kv::Store,
    config: KvTokenConfig,
}

impl KvTokenStore {
    /// Opens the bucket, creating it when missing (an existing bucket is used as it is).
    pub async fn open(
        client: async_nats::Client,
        config: KvTokenConfig,
    ) -> Result<KvTokenStore, StoreError> {
        config.check()?;
        let mut context = async_nats::jetstream::new(client.clone());
        context.set_timeout(config.request_timeout);
        context
            .get_or_create_stream(config.stream_config())
            .await
            .map_err(|e| {
                let what = format!("cannot open or create the token bucket {}", config.bucket);
                StoreError::Unavailable(Outage::context(what, e))
            })?;
        let bucket = context.get_key_value(&config.bucket).await.map_err(|e| {
            let what = format!("cannot open the token bucket {}", config.bucket);
            StoreError::Unavailable(Outage::context(what, e))
        })?;
        check_existing(&bucket, &config).await;
        info!(bucket = %config.bucket, "token store open");
        Ok(KvTokenStore {
            client,
            bucket,
            config,
        })
    }

    pub fn config(&self) -> &KvTokenConfig {
        &self.config
    }

    /// Fails at once while the client is disconnected, rather than after a request timeout:
    /// the server answers "unavailable" quickly instead of holding every call.
    fn ensure_connected(&self) -> Result<(), StoreError> {
        match self.client.connection_state() {
            State::Connected => Ok(()),
            state => Err(StoreError::Unavailable(
                format!("not connected to NATS ({state:?})").into(),
            )),
        }
    }
}

async fn check_existing(bucket: &kv::Store, config: &KvTokenConfig) {
    match bucket.status().await {
        Ok(status) => {
            let replicas = status.info.config.num_replicas;
            if status.history() != config.history || replicas != config.replicas {
                warn!(
                    bucket = %config.bucket,
                    history = status.history(),
                    replicas,
                    wanted_history = config.history,
                    wanted_replicas = config.replicas,
                    "the token bucket exists with other settings; using it as it is"
                );
            }
        }
        Err(error) => {
            warn!(bucket = %config.bucket, %error, "cannot read the token bucket's settings")
        }
    }
}

#[async_trait]
impl TokenStore for KvTokenStore {
    async fn insert(&self, record: &TokenRecord) -> Result<(), StoreError> {
        self.ensure_connected()?;
        let value = encode(record)?;
        match self.bucket.create(record.id.as_str(), value.into()).await {
            Ok(_) => Ok(()),
            Err(error) if error.kind() == kv::CreateErrorKind::AlreadyExists => {
                Err(StoreError::Duplicate {
                    id: record.id.clone(),
                })
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn get(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        self.ensure_connected()?;
        match self.bucket.get(id.as_str()).await.map_err(unavailable)? {
            Some(value) => decode(id.as_str(), &value).map(Some),
            None => Ok(None),
        }
    }

    async fn revoke(
        &self,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError> {
        self.ensure_connected()?;
        for _ in 0..REVOKE_ATTEMPTS_MAX {
            let Some(entry) = self.bucket.entry(id.as_str()).await.map_err(unavailable)? else {
                return Ok(None);
            };
            if entry.operation != kv::Operation::Put {
                return Ok(None);
            }
            let mut record = decode(id.as_str(), &entry.value)?;
            if record.revoked_at.is_some() {
                return Ok(Some(record));
            }
            record.revoked_at = Some(at);
            match self
                .bucket
                .update(id.as_str(), encode(&record)?.into(), entry.revision)
                .await
            {
                Ok(_) => return Ok(Some(record)),
                // Someone wrote the token meanwhile (most likely revoked it): read it again.
                Err(error) if error.kind() == kv::UpdateErrorKind::WrongLastRevision => {}
                Err(error) => return Err(unavailable(error)),
            }
        }
        Err(StoreError::Unavailable(
            format!("token {id} kept changing during {REVOKE_ATTEMPTS_MAX} attempts to revoke it")
                .into(),
        ))
    }

    async fn list(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.ensure_connected()?;
        let mut keys = self.bucket.keys().await.map_err(unavailable)?;
        let mut names = Vec::new();
        while let Some(key) = keys.next().await {
            names.push(key.map_err(unavailable)?);
            if names.len() > LIST_TOKENS_MAX {
                return Err(StoreError::TooMany {
                    max: LIST_TOKENS_MAX,
                });
            }
        }
        let mut records = Vec::with_capacity(names.len());
        for key in names {
            // A key deleted since the listing is simply gone.
            if let Some(value) = self.bucket.get(key.as_str()).await.map_err(unavailable)? {
                records.push(decode(&key, &value)?);
            }
        }
        sort_listing(&mut records);
        Ok(records)
    }
}
