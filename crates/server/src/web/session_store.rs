//! The open sessions of the dashboard, in this process's memory: a random id (the cookie's
//! value) to the token it was opened with and the CSRF token of its forms, closed when unused
//! or old (see `session.rs` for how they are opened and checked).

use std::sync::Arc;
use std::time::Duration;

/// The session cookie's name: the `__Host-` prefix binds it to this host and path `/`, Secure.
pub const SESSION_COOKIE: &str = "__Host-receivables-session";
/// A session unused this long is closed.
pub const SESSION_IDLE_MAX: Duration = Duration::from_secs(8 * 3600);
/// A session is closed this long after its login, used or not.
pub const SESSION_LIFETIME_MAX: Duration = Duration::from_secs(12 * 3600);
/// Most sessions open at once in one process; past it the least recently used are closed.
pub const SESSIONS_MAX: u64 = 10_000;
/// Bytes of randomness in a session id and in a CSRF token.
const SECRET_BYTES: usize = 32;

/// One login.
pub struct Session {
    /// The `Authorization` header the token makes (`Bearer <token>`), checked on every request.
    pub(super) authorization: String,
    /// What every form of this session carries back.
    pub csrf: String,
}

/// The open sessions, by id.
#[derive(Clone)]
pub struct Sessions {
    open: moka::sync::Cache<String, Arc<Session>>,
}

impl Sessions {
    pub fn new() -> Sessions {
        Sessions {
            open: moka::sync::Cache::builder()
                .max_capacity(SESSIONS_MAX)
                .time_to_idle(SESSION_IDLE_MAX)
                .time_to_live(SESSION_LIFETIME_MAX)
                .build(),
        }
    }

    pub(super) fn open(&self, authorization: String) -> String {
        let id = secret();
        let session = Session {
            authorization,
            csrf: secret(),
        };
        self.open.insert(id.clone(), Arc::new(session));
        id
    }

    pub(super) fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.open.get(id)
    }

    pub(super) fn close(&self, id: &str) {
        self.open.invalidate(id);
    }
}

fn secret() -> String {
    hex::encode(rand::random::<[u8; SECRET_BYTES]>())
}
