//! What the store tests share: a NATS server of their own, and the loud skip when there is none.
//!
//! A test that needs NATS starts `nats-server` (from `RECEIVABLES_NATS_SERVER`, `PATH` or
//! `/usr/sbin`) on a free port with JetStream and a temporary store. Without a binary it falls
//! back to a server at 127.0.0.1:4222 with a bucket of its own; without that either it says
//! `!!! SKIPPED` on standard error, or fails when `CI=true` (or `RECEIVABLES_REQUIRE_SERVERS=1`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// The shared development server, used when no binary can be started.
pub const FALLBACK_NATS_URL: &str = "nats://127.0.0.1:4222";

/// Whether a missing server must fail the test rather than skip it.
pub fn servers_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("RECEIVABLES_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// Says loudly that the calling test did not run, or fails it under CI.
pub fn skip_or_fail(why: &str) {
    if servers_required() {
        panic!("{why}, and under CI a missing server fails the test");
    }
    skipped(why);
}

/// Says loudly that the calling test did not run. Written straight to the process's standard
/// error: the test runner captures `eprintln!` and would show the line only for a failed test.
pub fn skipped(why: &str) {
    use std::io::Write as _;
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(std::io::stderr(), "!!! SKIPPED {test}: {why}");
}

fn find_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RECEIVABLES_NATS_SERVER") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("nats-server"))
                .find(|candidate| candidate.is_file())
        })
        .or_else(|| Some(PathBuf::from("/usr/sbin/nats-server")).filter(|p| p.is_file()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

/// A NATS server for one test: one it started (killed on drop) or the shared one.
pub struct Nats {
    pub url: String,
    child: Option<Child>,
    store: Option<tempfile::TempDir>,
}

impl Nats {
    /// A server to test against, or `None` (after skipping loudly) when there is none.
    pub async fn start() -> Option<Nats> {
        if let Some(binary) = find_binary() {
            return Some(Nats::spawn(&binary).await);
        }
        if async_nats::connect(FALLBACK_NATS_URL).await.is_ok() {
            return Some(Nats {
                url: FALLBACK_NATS_URL.to_owned(),
                child: None,
                store: None,
            });
        }
        skip_or_fail(&format!(
            "no nats-server binary found and none reachable at {FALLBACK_NATS_URL}"
        ));
        None
    }

    async fn spawn(binary: &Path) -> Nats {
        let port = free_port();
        let store = tempfile::tempdir().expect("temporary store");
        let child = Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let url = format!("nats://127.0.0.1:{port}");
        // JetStream is enabled before the server listens: ready once a client connects.
        for _ in 0..200 {
            if let Ok(client) = async_nats::connect(&url).await
                && client.flush().await.is_ok()
            {
                return Nats {
                    url,
                    child: Some(child),
                    store: Some(store),
                };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("nats-server on port {port} did not become ready");
    }

    /// The server's store directory, when this test started the server.
    pub fn store_dir(&self) -> Option<&Path> {
        self.store.as_ref().map(|s| s.path())
    }

    /// Deletes `bucket` from a shared server, which outlives the test; a server of the test's
    /// own is left alone (its store is a temporary directory).
    pub async fn remove_bucket(&self, bucket: &str) {
        if self.child.is_some() {
            return;
        }
        if let Ok(client) = async_nats::connect(&self.url).await {
            let _ = async_nats::jetstream::new(client)
                .delete_stream(format!("KV_{bucket}"))
                .await;
        }
    }

    /// Kills the server this test started; `false` for the shared one (it is not ours).
    pub async fn kill(&mut self) -> bool {
        match self.child.take() {
            Some(mut child) => {
                let _ = child.kill().await;
                true
            }
            None => false,
        }
    }
}

/// A bucket name no other test run uses.
pub fn unique_bucket() -> String {
    format!(
        "TEST_TOKENS_{}_{}",
        std::process::id(),
        hex::encode(rand_bytes())
    )
}

fn rand_bytes() -> [u8; 6] {
    // The token id generator is a CSPRNG; its first bytes are as good a nonce as any.
    let id = receivables_access::TokenId::generate();
    let mut bytes = [0u8; 6];
    hex::decode_to_slice(&id.as_str()[..12], &mut bytes).expect("hex");
    bytes
}

/// Every file under `dir`, recursively, with its bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                found.push((path, bytes));
            }
        }
    }
    found
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
