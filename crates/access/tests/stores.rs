//! The same conformance cases on both token stores: the SQLite file and the NATS key-value
//! bucket, each real (a file in a temporary directory; a `nats-server` of the test's own).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use receivables_access::authenticate::MalformedHeader;
use receivables_access::nats::KvTokenConfig;
use receivables_access::token::TokenPart;
use receivables_access::{
    AuthError, Bearer, KvTokenStore, MalformedToken, SqliteTokenStore, StoreError, TokenId,
    TokenLabel, TokenRecord, TokenStore, authenticate, issue, parse_bearer,
};
use receivables_domain::access::Role;
use receivables_domain::{Principal, SubsidiaryId};

use support::{Nats, contains, files_under};

fn t0() -> DateTime<Utc> {
    // Sub-second digits on purpose: they must survive both backends.
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::nanoseconds(123_456_789)
}

fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

fn new_token(
    role: Role,
    label: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (Bearer, TokenRecord) {
    issue(
        role,
        TokenLabel::parse(label).unwrap(),
        expires_at,
        Principal::parse("local-admin").unwrap(),
        now,
    )
    .unwrap()
}

fn header(bearer: &Bearer) -> String {
    format!("Bearer {}", bearer.expose())
}

/// One backend under test: how to open a handle on it (each call a separate one, as another
/// process would) and what it holds on disk or on the wire.
enum Backend {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Kv {
        nats: Box<Nats>,
        bucket: String,
    },
}

impl Backend {
    fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        let path = dir
            .path()
            .join("data")
            .join(receivables_access::sqlite::FILE_NAME);
        Backend::Sqlite { _dir: dir, path }
    }

    async fn kv() -> Option<Backend> {
        Some(Backend::Kv {
            nats: Box::new(Nats::start().await?),
            bucket: support::unique_bucket(),
        })
    }

    /// A new, separately opened handle on the same file or bucket.
    async fn open(&self) -> Arc<dyn TokenStore> {
        match self {
            Backend::Sqlite { path, .. } => Arc::new(SqliteTokenStore::open(path).await.unwrap()),
            Backend::Kv { nats, bucket } => {
                let client = async_nats::connect(&nats.url).await.unwrap();
                Arc::new(
                    KvTokenStore::open(client, KvTokenConfig::with_bucket(bucket.clone()))
                        .await
                        .unwrap(),
                )
            }
        }
    }

    /// Deletes the test's bucket when the server is shared (a server of the test's own goes
    /// away with its store).
    async fn remove_bucket(&self) {
        if let Backend::Kv { nats, bucket } = self {
            nats.remove_bucket(bucket).await;
        }
    }

    /// Every stored byte that could hold the token's secret: the SQLite file and its WAL; the
    /// key's raw value in the bucket (and every file of the server's store, when the test
    /// started the server).
    async fn stored_bytes(&self, id: &TokenId) -> Vec<(String, Vec<u8>)> {
        match self {
            Backend::Sqlite { path, .. } => ["", "-wal", "-shm"]
                .into_iter()
                .filter_map(|suffix| {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let file = PathBuf::from(file);
                    std::fs::read(&file)
                        .ok()
                        .map(|bytes| (file.display().to_string(), bytes))
                })
                .collect(),
            Backend::Kv { nats, bucket } => {
                let client = async_nats::connect(&nats.url).await.unwrap();
                let kv = async_nats::jetstream::new(client)
                    .get_key_value(bucket.as_str())
                    .await
                    .unwrap();
                let entry = kv.entry(id.as_str()).await.unwrap().expect("the entry");
                let mut found = vec![(format!("{bucket}/{id}"), entry.value.to_vec())];
                if let Some(dir) = nats.store_dir() {
                    found.extend(
                        files_under(dir)
                            .into_iter()
                            .map(|(path, bytes)| (path.display().to_string(), bytes)),
                    );
                }
                found
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The conformance cases.

async fn insert_get_list(backend: &Backend) {
    let store = backend.open().await;
    let subsidiary = Role::Subsidiary(SubsidiaryId::parse("SH-TRADING").unwrap());
    let (_, first) = new_token(subsidiary, "SH-TRADING ERP", None, t0());
    let (_, second) = new_token(
        Role::Credit,
        "credit desk: J. Wang",
        Some(t0() + minutes(90)),
        t0() + minutes(1),
    );
    let (_, third) = new_token(Role::Admin, "operations", None, t0() + minutes(2));
    assert_eq!(store.list().await.unwrap(), vec![]);
    // Inserted out of order: the listing is by creation time.
    for record in [&third, &first, &second] {
        store.insert(record).await.unwrap();
    }
    for record in [&first, &second, &third] {
        assert_eq!(store.get(&record.id).await.unwrap().as_ref(), Some(record));
    }
    assert_eq!(
        store.list().await.unwrap(),
        vec![first.clone(), second.clone(), third.clone()]
    );
    assert_eq!(store.get(&TokenId::generate()).await.unwrap(), None);
    assert_eq!(
        store.insert(&first).await,
        Err(StoreError::Duplicate {
            id: first.id.clone()
        })
    );
    // A second handle sees the same.
    let other = backend.open().await;
    assert_eq!(other.list().await.unwrap().len(), 3);
}

async fn revoke_is_idempotent(backend: &Backend) {
    let store = backend.open().await;
    let (_, record) = new_token(Role::Reporting, "reports", None, t0());
    store.insert(&record).await.unwrap();
    assert_eq!(
        store.revoke(&TokenId::generate(), t0()).await.unwrap(),
        None
    );
    let first = t0() + minutes(5);
    let revoked = store.revoke(&record.id, first).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(first));
    assert_eq!(
        revoked,
        TokenRecord {
            revoked_at: Some(first),
            ..record.clone()
        }
    );
    // Again, later, through another handle: the first time stays.
    let other = backend.open().await;
    let again = other
        .revoke(&record.id, first + minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(first));
    assert_eq!(
        store.get(&record.id).await.unwrap().unwrap().revoked_at,
        Some(first)
    );
    assert_eq!(store.list().await.unwrap(), vec![revoked]);
}

async fn authenticate_checks_everything(backend: &Backend) {
    let store = backend.open().await;
    let subsidiary = Role::Subsidiary(SubsidiaryId::parse("HK-SERVICES").unwrap());
    let (bearer, record) = new_token(subsidiary.clone(), "HK ERP", None, t0());
    store.insert(&record).await.unwrap();
    let now = t0() + minutes(1);

    let ok = authenticate(store.as_ref(), Some(&header(&bearer)), now)
        .await
        .unwrap();
    assert_eq!(ok.id, record.id);
    assert_eq!(ok.role, subsidiary);
    assert_eq!(ok.principal.as_str(), format!("token:{}", record.id));
    let lower = format!("bearer {}", bearer.expose());
    assert!(
        authenticate(store.as_ref(), Some(&lower), now)
            .await
            .is_ok()
    );

    // A wrong secret for a real id.
    let (_, wrong) = parse_bearer(new_token(Role::Admin, "x", None, t0()).0.expose()).unwrap();
    let forged = format!("Bearer rcv_{}_{}", record.id, wrong.expose_hex());
    let refused = authenticate(store.as_ref(), Some(&forged), now)
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        AuthError::WrongSecret {
            id: record.id.clone()
        }
    );
    assert!(!refused.to_string().contains(wrong.expose_hex()));

    // An id the store does not know.
    let (unknown, _) = new_token(Role::Admin, "never stored", None, t0());
    assert_eq!(
        authenticate(store.as_ref(), Some(&header(&unknown)), now).await,
        Err(AuthError::Unknown {
            id: unknown.id().clone()
        })
    );

    // Missing and malformed headers.
    assert_eq!(
        authenticate(store.as_ref(), None, now).await,
        Err(AuthError::Missing)
    );
    assert_eq!(
        authenticate(store.as_ref(), Some(bearer.expose()), now).await,
        Err(AuthError::Malformed(MalformedHeader::MissingScheme))
    );
    assert_eq!(
        authenticate(
            store.as_ref(),
            Some(&format!("Basic {}", bearer.expose())),
            now
        )
        .await,
        Err(AuthError::Malformed(MalformedHeader::NotBearer))
    );
    let truncated = &header(&bearer)[..header(&bearer).len() - 1];
    let refused = authenticate(store.as_ref(), Some(truncated), now)
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        AuthError::Malformed(MalformedHeader::Token(MalformedToken::WrongLength {
            part: TokenPart::Secret,
            expected: 64,
            actual: 63,
        }))
    );
    assert!(!refused.to_string().contains(&truncated[28..]));
}

async fn expired_tokens_are_refused(backend: &Backend) {
    let store = backend.open().await;
    let expires = t0() + minutes(30);
    let (bearer, record) = new_token(Role::Auditor, "audit", Some(expires), t0());
    store.insert(&record).await.unwrap();
    let just_before = expires - chrono::Duration::nanoseconds(1);
    assert!(
        authenticate(store.as_ref(), Some(&header(&bearer)), just_before)
            .await
            .is_ok()
    );
    for now in [expires, expires + minutes(1)] {
        assert_eq!(
            authenticate(store.as_ref(), Some(&header(&bearer)), now).await,
            Err(AuthError::Expired {
                id: record.id.clone(),
                at: expires
            })
        );
    }
}

async fn revocation_takes_effect_on_the_next_call(backend: &Backend) {
    let server = backend.open().await;
    let (bearer, record) = new_token(Role::Credit, "credit desk", None, t0());
    server.insert(&record).await.unwrap();
    let now = t0() + minutes(1);
    assert!(
        authenticate(server.as_ref(), Some(&header(&bearer)), now)
            .await
            .is_ok()
    );
    // Revoked through a separately opened handle (as the command line would)...
    let admin = backend.open().await;
    let at = t0() + minutes(2);
    admin.revoke(&record.id, at).await.unwrap().unwrap();
    // ...and refused by the first handle on its very next call.
    assert_eq!(
        authenticate(server.as_ref(), Some(&header(&bearer)), now + minutes(2)).await,
        Err(AuthError::Revoked {
            id: record.id.clone(),
            at
        })
    );
    // Revocation is told only to the holder of the secret.
    let (_, other) = parse_bearer(new_token(Role::Admin, "x", None, t0()).0.expose()).unwrap();
    let forged = format!("Bearer rcv_{}_{}", record.id, other.expose_hex());
    assert_eq!(
        authenticate(server.as_ref(), Some(&forged), now).await,
        Err(AuthError::WrongSecret {
            id: record.id.clone()
        })
    );
}

async fn the_secret_is_never_stored(backend: &Backend) {
    let store = backend.open().await;
    let (bearer, record) = new_token(Role::Admin, "operations", None, t0());
    store.insert(&record).await.unwrap();
    store.revoke(&record.id, t0() + minutes(1)).await.unwrap();
    let (_, secret) = parse_bearer(bearer.expose()).unwrap();
    let secret_hex = secret.expose_hex().as_bytes().to_vec();
    let hash_hex = record.secret_sha256.to_hex().into_bytes();
    let stored = backend.stored_bytes(&record.id).await;
    assert!(!stored.is_empty());
    for (name, bytes) in &stored {
        assert!(!contains(bytes, &secret_hex), "the secret is in {name}");
        assert!(
            !contains(bytes, bearer.expose().as_bytes()),
            "the token is in {name}"
        );
    }
    assert!(
        stored.iter().any(|(_, bytes)| contains(bytes, &hash_hex)),
        "the secret's hash is stored"
    );
}

/// Runs one conformance case on both backends, as two tests.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&Backend::sqlite()).await;
                }
            )*
        }
        mod nats_kv {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(backend) = Backend::kv().await {
                        super::$case(&backend).await;
                        backend.remove_bucket().await;
                    }
                }
            )*
        }
    };
}

conformance!(
    insert_get_list,
    revoke_is_idempotent,
    authenticate_checks_everything,
    expired_tokens_are_refused,
    revocation_takes_effect_on_the_next_call,
    the_secret_is_never_stored,
);

// ---------------------------------------------------------------------------------------------
// What only one backend has.

/// Set in a child process of [`sqlite_revocation_by_another_process`]: `<file>\n<token id>`.
const CHILD_REVOKES: &str = "RECEIVABLES_ACCESS_TEST_CHILD_REVOKES";

/// The other process: revokes a token in the given file. Runs only when started by
/// [`sqlite_revocation_by_another_process`].
#[tokio::test]
#[ignore = "run as a child process by sqlite_revocation_by_another_process"]
async fn child_revokes() {
    let Ok(spec) = std::env::var(CHILD_REVOKES) else {
        return;
    };
    let (path, id) = spec.split_once('\n').unwrap();
    let store = SqliteTokenStore::open(PathBuf::from(path).as_path())
        .await
        .unwrap();
    let id = TokenId::parse(id).unwrap();
    store.revoke(&id, t0() + minutes(3)).await.unwrap().unwrap();
    store.close().await;
}

#[tokio::test]
async fn sqlite_revocation_by_another_process() {
    let backend = Backend::sqlite();
    let Backend::Sqlite { path, .. } = &backend else {
        unreachable!()
    };
    let server = backend.open().await;
    let (bearer, record) = new_token(Role::Credit, "credit desk", None, t0());
    server.insert(&record).await.unwrap();
    assert!(
        authenticate(server.as_ref(), Some(&header(&bearer)), t0())
            .await
            .is_ok()
    );
    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["child_revokes", "--exact", "--ignored", "--test-threads=1"])
        .env(CHILD_REVOKES, format!("{}\n{}", path.display(), record.id))
        .output()
        .await
        .unwrap();
    assert!(
        child.status.success(),
        "the child process failed: {}\n{}\n{}",
        child.status,
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    assert_eq!(
        authenticate(server.as_ref(), Some(&header(&bearer)), t0() + minutes(4)).await,
        Err(AuthError::Revoked {
            id: record.id.clone(),
            at: t0() + minutes(3)
        })
    );
}

#[tokio::test]
async fn sqlite_refuses_a_file_of_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.sqlite");
    let store = SqliteTokenStore::open(&path).await.unwrap();
    store.close().await;
    {
        use sqlx::ConnectOptions;
        let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .unwrap();
        sqlx::query("PRAGMA user_version = 99")
            .execute(&mut connection)
            .await
            .unwrap();
    }
    assert!(matches!(
        SqliteTokenStore::open(&path).await,
        Err(StoreError::Refused(_))
    ));
}

#[tokio::test]
async fn sqlite_store_failure_is_not_an_authentication_failure() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteTokenStore::open_in(dir.path()).await.unwrap();
    let (bearer, record) = new_token(Role::Admin, "ops", None, t0());
    store.insert(&record).await.unwrap();
    store.close().await;
    let refused = authenticate(&store, Some(&header(&bearer)), t0())
        .await
        .unwrap_err();
    assert!(refused.is_unavailable(), "{refused:?}");
    assert!(matches!(
        refused,
        AuthError::Store(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn nats_store_failure_is_not_an_authentication_failure() {
    let Some(mut nats) = Nats::start().await else {
        return;
    };
    if nats.store_dir().is_none() {
        // Not a missing server: this case cannot be played on a server shared with others.
        support::skipped("the shared NATS server is not this test's to kill");
        return;
    }
    let client = async_nats::connect(&nats.url).await.unwrap();
    let store = KvTokenStore::open(
        client.clone(),
        KvTokenConfig::with_bucket(support::unique_bucket()),
    )
    .await
    .unwrap();
    let (bearer, record) = new_token(Role::Admin, "ops", None, t0());
    store.insert(&record).await.unwrap();
    assert!(nats.kill().await, "the server is this test's own");
    // Once the client knows the server is gone, every check fails at once as unavailable.
    for _ in 0..200 {
        if client.connection_state() != async_nats::connection::State::Connected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = std::time::Instant::now();
    let refused = authenticate(&store, Some(&header(&bearer)), t0())
        .await
        .unwrap_err();
    assert!(refused.is_unavailable(), "{refused:?}");
    assert!(matches!(
        refused,
        AuthError::Store(StoreError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn nats_bucket_settings_are_checked() {
    let Some(nats) = Nats::start().await else {
        return;
    };
    let client = async_nats::connect(&nats.url).await.unwrap();
    for config in [
        KvTokenConfig {
            history: 0,
            ..KvTokenConfig::default()
        },
        KvTokenConfig {
            replicas: 0,
            ..KvTokenConfig::default()
        },
        KvTokenConfig::with_bucket("TOKENS.ALL"),
    ] {
        assert!(matches!(
            KvTokenStore::open(client.clone(), config).await,
            Err(StoreError::Refused(_))
        ));
    }
    // A bucket created with a longer history, then opened again as it is.
    let config = KvTokenConfig {
        history: 5,
        ..KvTokenConfig::with_bucket(support::unique_bucket())
    };
    KvTokenStore::open(client.clone(), config.clone())
        .await
        .unwrap();
    let again = KvTokenStore::open(client.clone(), config.clone())
        .await
        .unwrap();
    let status = async_nats::jetstream::new(client)
        .get_key_value(config.bucket.as_str())
        .await
        .unwrap()
        .status()
        .await
        .unwrap();
    assert_eq!(status.history(), 5);
    assert_eq!(again.list().await.unwrap(), vec![]);
    nats.remove_bucket(&config.bucket).await;
}
