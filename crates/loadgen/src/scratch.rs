//! A temporary directory for a benchmark's files on the embedded backends.
//!
//! The embedded event log and read model are SQLite files; a benchmark writes them into a
//! directory of its own under the system's temporary directory, so that no run ever sees another
//! run's data, and removes it afterwards unless asked to keep it (to look at the files).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

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
