//! A PostgreSQL server of a test's own, which the test may crash and restart without touching
//! the machine's server that every other test shares: `initdb` into a temporary directory and
//! `pg_ctl` on a free port, as the `postgres` user (PostgreSQL refuses to run as root), with
//! the machine's PostgreSQL binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{free_port, servers_required, skipped};

/// A PostgreSQL server in a temporary directory, stopped (immediately) on drop.
pub struct PostgresServer {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _directory: tempfile::TempDir,
}

/// The machine's PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`).
fn binaries() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").is_file())
        .collect();
    found.sort();
    found.pop()
}

/// Runs `program` as the `postgres` user.
fn as_postgres(program: &Path, args: &[&str]) -> Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

impl PostgresServer {
    /// Creates and starts one; `None` (said loudly; a failure under CI) without the binaries or
    /// the right to run them as `postgres`.
    pub fn start() -> Option<PostgresServer> {
        let Some(bin) = binaries() else {
            let why = "PostgreSQL's binaries (/usr/lib/postgresql/*/bin) were not found";
            assert!(!servers_required(), "{why}");
            skipped(why);
            return None;
        };
        let directory = tempfile::tempdir().expect("temporary directory");
        let owned = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(directory.path())
            .status();
        if !owned.is_ok_and(|status| status.success()) {
            let why = "cannot hand a directory to the postgres user (needs root)";
            assert!(!servers_required(), "{why}");
            skipped(why);
            return None;
        }
        let data = directory.path().join("data");
        let data_arg = data.to_str().expect("a UTF-8 path");
        let initialised = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data_arg,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        assert!(initialised.status.success(), "initdb: {initialised:?}");
        let server = PostgresServer {
            bin,
            data,
            port: free_port(),
            _directory: directory,
        };
        server.pg_ctl_start();
        Some(server)
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log");
        let started = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                self.data.to_str().expect("a UTF-8 path"),
                "-o",
                &options,
                "-l",
                log.to_str().expect("a UTF-8 path"),
                "-w",
                "start",
            ],
        );
        assert!(started.status.success(), "pg_ctl start: {started:?}");
    }

    fn pg_ctl_stop(&self, mode: &str) -> Output {
        as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                self.data.to_str().expect("a UTF-8 path"),
                "-m",
                mode,
                "-w",
                "stop",
            ],
        )
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server as a crash would (`immediate`: no checkpoint, every session cut; it
    /// recovers from its WAL when started again) and starts it again.
    pub fn crash_and_restart(&self) {
        let stopped = self.pg_ctl_stop("immediate");
        assert!(stopped.status.success(), "pg_ctl stop: {stopped:?}");
        self.pg_ctl_start();
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self.pg_ctl_stop("immediate");
    }
}
