//! Snapshots: the lineage of a whole commit, built from the files as committed and stored as
//! a versioned JSON note (see `docs/notes-format.md`).
//!
//! Byte-identical for the same commit: files are sorted by path, everything inside a fragment
//! is sorted, and nothing depends on time or the machine. Unchanged files come from the
//! fragment cache instead of being parsed again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Error;
use super::cache::Cache;
use super::repo::{Repo, TreeFile, hash};
use crate::config::{self, Config, Overrides};
use crate::extract::{Catalog, Fragment, Settings, extract};
use crate::graph;
use crate::workers;

/// The version of the note format; a note with a higher one is skipped, not misread.
pub const SCHEMA_VERSION: u32 = 1;

/// The lineage of one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    /// git-lineage's version that extracted it.
    pub extractor_version: String,
    /// Hash of the configuration in force (`.git-lineage.toml` as committed, and flags).
    pub config_hash: String,
    /// Every dataset read or written, sorted.
    pub datasets: Vec<String>,
    /// Every analyzed file's lineage, sorted by path.
    pub files: Vec<Fragment>,
}

/// A note that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    #[error("the lineage note is not valid JSON of the snapshot format: {0}")]
    Corrupt(String),
    #[error(
        "the lineage note has format version {found}; this git-lineage reads up to {SCHEMA_VERSION}: upgrade it"
    )]
    Newer { found: u64 },
}

impl Snapshot {
    /// The note text: indented JSON, one value a line, so that git's deltas between the
    /// notes of successive commits stay small.
    pub fn to_note(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn from_note(text: &str) -> Result<Snapshot, NoteError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| NoteError::Corrupt(e.to_string()))?;
        let version = value.get("schema_version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        if version > u64::from(SCHEMA_VERSION) {
            return Err(NoteError::Newer { found: version });
        }
        serde_json::from_value(value).map_err(|e| NoteError::Corrupt(e.to_string()))
    }

    /// Whether this snapshot was made by this git-lineage with this configuration.
    pub fn is_current(&self, config_hash: &str) -> bool {
        self.schema_version == SCHEMA_VERSION
            && self.extractor_version == env!("CARGO_PKG_VERSION")
            && self.config_hash == config_hash
    }
}

/// How a snapshot was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub files: usize,
    pub parsed: usize,
    pub cached: usize,
}

/// Folders whose SQL is generated or vendored, not the project's own.
const SKIPPED_DIRS: &[&str] = &["node_modules", "dbt_packages", "dbt_modules", "target", "logs"];

fn analyzed(path: &str) -> bool {
    let mut parts = path.split('/').collect::<Vec<_>>();
    let Some(file) = parts.pop() else { return false };
    Path::new(file).extension().is_some_and(|e| e.eq_ignore_ascii_case("sql"))
        && parts.iter().all(|d| !d.starts_with('.') && !SKIPPED_DIRS.contains(d))
}

/// What a snapshot is made of: files (path, content id, bytes) and the configuration that
/// applies to them, from a commit, the index or the work tree.
pub struct Source {
    pub files: Vec<(String, String, Vec<u8>)>,
    pub config: Config,
    pub config_hash: String,
}

impl Source {
    /// The pre-commit checks this source's configuration turns on.
    pub fn checks(&self) -> config::Checks {
        self.config.checks().clone()
    }
}

/// The configuration in force at a commit, and its hash.
pub fn config_at(
    repo: &Repo,
    commit: &str,
    overrides: Overrides,
) -> Result<(Config, String), SnapshotError> {
    let files = repo.files_at(commit)?;
    config_of(repo, &files, overrides)
}

/// `.git-lineage.toml` and the dbt projects among a tree's files.
fn config_of(
    repo: &Repo,
    files: &[TreeFile],
    overrides: Overrides,
) -> Result<(Config, String), SnapshotError> {
    let blobs: BTreeMap<&str, &str> =
        files.iter().map(|f| (f.path.as_str(), f.blob.as_str())).collect();
    let config_text = match blobs.get(config::FILE_NAME) {
        Some(blob) => Some(String::from_utf8_lossy(&repo.blob(blob)?).into_owned()),
        None => None,
    };
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let read = |p: &Path| -> std::io::Result<Vec<u8>> {
        let key = p.to_string_lossy();
        let blob = blobs
            .get(key.as_ref())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        repo.blob(blob).map_err(std::io::Error::other)
    };
    let hash_input = format!("{config_text:?}\n{overrides:?}");
    let config = Config::from_tree(config_text.as_deref(), overrides, &paths, &read)?;
    Ok((config, hash(hash_input.as_bytes())))
}

/// The files of a tree (a commit's or the index's) with their configuration.
fn tree_source(
    repo: &Repo,
    files: Vec<TreeFile>,
    overrides: Overrides,
) -> Result<Source, SnapshotError> {
    let (config, config_hash) = config_of(repo, &files, overrides)?;
    let mut out = Vec::new();
    for file in files.into_iter().filter(|f| analyzed(&f.path)) {
        let bytes = repo.blob(&file.blob)?;
        out.push((file.path, file.blob, bytes));
    }
    Ok(Source { files: out, config, config_hash })
}

/// A commit's files as committed.
pub fn commit_source(
    repo: &Repo,
    commit: &str,
    overrides: Overrides,
) -> Result<Source, SnapshotError> {
    tree_source(repo, repo.files_at(commit)?, overrides)
}

/// The staged files.
pub fn index_source(repo: &Repo, overrides: Overrides) -> Result<Source, SnapshotError> {
    tree_source(repo, repo.files_in_index()?, overrides)
}

/// The work tree's files as they are on disk (hidden and generated folders skipped). Their
/// content ids are git's blob ids, so the cache serves them as it serves commits.
pub fn worktree_source(repo: &Repo, overrides: Overrides) -> Result<Source, SnapshotError> {
    let root = repo.workdir().ok_or(SnapshotError::Bare)?;
    let mut files = Vec::new();
    let walk = walkdir::WalkDir::new(&root).sort_by_file_name().into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.depth() == 0
            || !(e.file_type().is_dir()
                && (name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref())))
    });
    for entry in walk.filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
        let Ok(relative) = entry.path().strip_prefix(&root) else { continue };
        let path = relative.to_string_lossy().replace('\\', "/");
        if analyzed(&path) || path == config::FILE_NAME || path.ends_with("dbt_project.yml") {
            let bytes = std::fs::read(entry.path())
                .map_err(|source| Error::Cache { path: entry.path().to_path_buf(), source })?;
            files.push((path, crate::store::repo::blob_id(&bytes), bytes));
        }
    }
    let config_text = files
        .iter()
        .find(|f| f.0 == config::FILE_NAME)
        .map(|f| String::from_utf8_lossy(&f.2).into_owned());
    let paths: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    let read = |p: &Path| std::fs::read(root.join(p));
    let hash_input = format!("{config_text:?}\n{overrides:?}");
    let config = Config::from_tree(config_text.as_deref(), overrides, &paths, &read)?;
    files.retain(|f| analyzed(&f.0));
    Ok(Source { files, config, config_hash: hash(hash_input.as_bytes()) })
}

/// Build the snapshot of a commit from its files as committed.
pub fn build(
    repo: &Repo,
    commit: &str,
    overrides: Overrides,
    jobs: usize,
) -> Result<(Snapshot, Stats), SnapshotError> {
    build_from(commit_source(repo, commit, overrides)?, &repo.git_dir(), jobs)
}

/// Build a snapshot from a source, with the fragment cache of the repository at `git_dir`.
pub fn build_from(
    source: Source,
    git_dir: &Path,
    jobs: usize,
) -> Result<(Snapshot, Stats), SnapshotError> {
    let Source { files: inputs, config, config_hash } = source;
    let cache = Cache::new(git_dir);
    let parsed = std::sync::atomic::AtomicUsize::new(0);
    let run = |input: &(String, String, Vec<u8>), inferred: &Catalog| -> Result<Fragment, Error> {
        let (path, blob, bytes) = input;
        let mut settings = config.settings_for(Path::new(path), false);
        if !inferred.is_empty() {
            let mut catalog = inferred.clone();
            catalog.extend(&settings.catalog);
            settings.catalog = catalog;
        }
        let key = Cache::key(&fingerprint(&settings), path, blob);
        if let Some(fragment) = cache.get(&key) {
            return Ok(fragment);
        }
        parsed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let fragment = extract(path, bytes, &settings);
        cache.put(&key, &fragment)?;
        Ok(fragment)
    };
    let first = collect(workers::map(&inputs, jobs, |i| run(i, &Catalog::new()))?)?;
    let fragments = graph::with_inferred_schemas(first, config.catalog(), |again, inferred| {
        collect(workers::map(again, jobs, |&i| run(&inputs[i], inferred))?)
    })?;
    let datasets: BTreeSet<String> = fragments
        .iter()
        .flat_map(|f| &f.transformations)
        .flat_map(|t| t.reads.iter().chain(&t.writes))
        .cloned()
        .collect();
    let parsed = parsed.into_inner();
    let stats =
        Stats { files: fragments.len(), parsed, cached: fragments.len().saturating_sub(parsed) };
    let snapshot = Snapshot {
        schema_version: SCHEMA_VERSION,
        extractor_version: env!("CARGO_PKG_VERSION").to_string(),
        config_hash,
        datasets: datasets.into_iter().collect(),
        files: fragments,
    };
    Ok((snapshot, stats))
}

/// The snapshot of a commit: its note when current, else built (and not stored).
pub fn of_commit(
    repo: &Repo,
    commit: &str,
    overrides: Overrides,
    jobs: usize,
) -> Result<Snapshot, SnapshotError> {
    let source = commit_source(repo, commit, overrides)?;
    if let Some(text) = repo.read_note(commit)?
        && let Ok(existing) = Snapshot::from_note(&text)
        && existing.is_current(&source.config_hash)
    {
        return Ok(existing);
    }
    Ok(build_from(source, &repo.git_dir(), jobs)?.0)
}

fn collect(results: Vec<Result<Fragment, Error>>) -> Result<Vec<Fragment>, SnapshotError> {
    results.into_iter().map(|r| r.map_err(SnapshotError::from)).collect()
}

/// Everything in the settings that changes what extraction gives.
fn fingerprint(settings: &Settings) -> String {
    let catalog: Vec<_> = settings.catalog.tables().collect();
    hash(
        format!(
            "{}|{:?}|{:?}|{}|{catalog:?}",
            settings.dialect, settings.default_schema, settings.dbt_model, settings.indirect
        )
        .as_bytes(),
    )
}

/// Why a snapshot could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Store(#[from] Error),
    #[error("configuration as committed")]
    Config(#[from] config::Error),
    #[error(transparent)]
    Workers(#[from] workers::Error),
    #[error("the repository has no work tree")]
    Bare,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_of_a_newer_format_or_corrupt_are_refused() {
        assert!(matches!(Snapshot::from_note("{not json"), Err(NoteError::Corrupt(_))));
        assert!(matches!(
            Snapshot::from_note(r#"{"schema_version": 99}"#),
            Err(NoteError::Newer { found: 99 })
        ));
        let snapshot = Snapshot {
            schema_version: SCHEMA_VERSION,
            extractor_version: "x".into(),
            config_hash: "h".into(),
            datasets: vec!["a".into()],
            files: vec![],
        };
        assert_eq!(Snapshot::from_note(&snapshot.to_note()).unwrap(), snapshot);
    }

    #[test]
    fn generated_and_hidden_folders_are_not_analyzed() {
        assert!(analyzed("models/a.sql"));
        assert!(analyzed("b.SQL"));
        assert!(!analyzed("target/compiled/a.sql"));
        assert!(!analyzed(".github/x.sql"));
        assert!(!analyzed("models/a.py"));
    }
}
