//! The per-blob fragment cache: `.git/lineage/fragments/<key>.json`. Extraction is a pure
//! function of (path, blob, settings), so its result is stored under a hash of all three (and
//! of the extractor's version): a file that did not change is never parsed again.
//!
//! A cache made [`Cache::remembering`] also keeps what it read or wrote in memory: a command
//! that goes through many commits (`backfill`, `log`) reads each unchanged file's entry once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use super::Error;
use super::repo::hash;
use crate::extract::Fragment;

pub struct Cache {
    dir: PathBuf,
    memory: Option<Mutex<HashMap<String, Fragment>>>,
}

impl Cache {
    pub fn new(git_dir: &Path) -> Self {
        Cache { dir: super::local_path(git_dir, "fragments"), memory: None }
    }

    /// The same cache, also kept in memory.
    #[must_use]
    pub fn remembering(self) -> Self {
        Cache { memory: Some(Mutex::default()), ..self }
    }

    /// The key of one extraction: the extractor's version, the settings' fingerprint, the
    /// path (ids contain it) and the blob.
    pub fn key(settings_fingerprint: &str, path: &str, blob: &str) -> String {
        hash(
            format!("{}\n{settings_fingerprint}\n{path}\n{blob}", env!("CARGO_PKG_VERSION"))
                .as_bytes(),
        )
    }

    /// A cached fragment, if any; an unreadable or stale entry is a miss.
    pub fn get(&self, key: &str) -> Option<Fragment> {
        if let Some(fragment) = self.memory().and_then(|m| m.get(key).cloned()) {
            return Some(fragment);
        }
        let text = std::fs::read(self.path(key)).ok()?;
        let fragment: Fragment = serde_json::from_slice(&text).ok()?;
        self.remember(key, &fragment);
        Some(fragment)
    }

    pub fn put(&self, key: &str, fragment: &Fragment) -> Result<(), Error> {
        let path = self.path(key);
        let err = |source| Error::Cache { path: path.clone(), source };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let text = serde_json::to_vec(fragment).map_err(|e| err(std::io::Error::other(e)))?;
        // Write then rename: a concurrent reader never sees half a file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)?;
        self.remember(key, fragment);
        Ok(())
    }

    fn remember(&self, key: &str, fragment: &Fragment) {
        if let Some(mut memory) = self.memory() {
            memory.insert(key.to_string(), fragment.clone());
        }
    }

    /// The entries in memory, if kept. A worker that panicked holding the lock left the map
    /// whole (inserts are single calls), so its poisoning is ignored.
    fn memory(&self) -> Option<std::sync::MutexGuard<'_, HashMap<String, Fragment>>> {
        self.memory.as_ref().map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn path(&self, key: &str) -> PathBuf {
        let (dir, file) = key.split_at(key.len().min(2));
        self.dir.join(dir).join(format!("{file}.json"))
    }
}
