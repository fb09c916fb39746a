//! A benchmark's own place for its data, so that no run ever sees another run's: a temporary
//! directory for the embedded backends' files, removed afterwards unless asked to keep it (to
//! look at the files), and a database of its own on the PostgreSQL server.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sqlx::ConnectOptions as _;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// A fresh directory, removed when dropped unless kept.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    /// Creates `receivables-<run>-<process id>` in the system's temporary directory; it must not
    /// exist yet.
    pub fn create(run: &str, keep: bool) -> anyhow::Result<Scratch> {
        let path = std::env::temp_dir().join(format!("receivables-{run}-{}", std::process::id()));
        std::fs::create_dir(&path)
            .with_context(|| format!("cannot create the directory {}", path.display()))?;
        Ok(Scratch { path, keep })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            println!("kept: {}", self.path.display());
        } else if let Err(error) = std::fs::remove_dir_all(&self.path) {
            eprintln!("could not remove {}: {error}", self.path.display());
        }
    }
}

/// A database of a run's own on a PostgreSQL server, dropped by [`ScratchDatabase::remove`].
#[derive(Debug)]
pub struct ScratchDatabase {
    /// A connection to the server's own database, to drop this one from.
    admin: PgPool,
    name: String,
    /// How to connect to it.
    pub options: PgConnectOptions,
}

impl ScratchDatabase {
    /// Creates `<prefix>_<run>` on the server `server_url` names.
    pub async fn create(server_url: &str, prefix: &str, run: &str) -> anyhow::Result<Self> {
        let admin_options: PgConnectOptions = server_url
            .parse()
            .with_context(|| format!("the database URL {server_url} is not valid"))?;
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin_options.clone())
            .await?;
        let name = format!("{prefix}_{}", run.to_lowercase());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        Ok(ScratchDatabase {
            admin,
            options: admin_options.database(&name),
            name,
        })
    }

    /// The URL of the database.
    pub fn url(&self) -> String {
        self.options.to_url_lossy().to_string()
    }

    /// Drops the database, closing whatever is still connected to it.
    pub async fn remove(self) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&self.admin)
        .await?;
        Ok(())
    }
}
