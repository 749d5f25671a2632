//! Snapshots: the lineage of a whole commit, built from the files as committed and stored as
//! a versioned JSON note (see `docs/notes-format.md`).
//!
//! Byte-identical for the same commit: files are sorted by path, everything inside a fragment
//! is sorted, and nothing depends on time or the machine. Unchanged files come from the
//! fragment cache instead of being parsed again.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Error;
use super::cache::Cache;
use super::pack::{Chain, ChainState};
use super::repo::{Repo, TreeFile, hash};
use crate::config::{self, Config, Overrides};
use crate::extract::python::project::{Project, with_projects};
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
    /// The tree the snapshot describes (empty for the index and the work tree). A note that
    /// git copied to a rebased commit describes the old tree, and is made again.
    #[serde(default)]
    pub tree: String,
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
    /// The note text: compact JSON with each file's entry on a line of its own, so that
    /// git's deltas between the notes of successive commits stay small (a changed file is a
    /// changed line) and the note stays half the size of indented JSON.
    pub fn to_note(&self) -> String {
        let mut text = format!(
            "{{\"schema_version\":{},\"extractor_version\":{},\"config_hash\":{},\"tree\":{},\n\"datasets\":{},\n\"files\":[",
            self.schema_version,
            json(&self.extractor_version),
            json(&self.config_hash),
            json(&self.tree),
            json(&self.datasets),
        );
        for (n, file) in self.files.iter().enumerate() {
            text.push_str(if n == 0 { "\n" } else { ",\n" });
            text.push_str(&json(file));
        }
        text.push_str("\n]}\n");
        text
    }

    pub fn from_note(text: &str) -> Result<Snapshot, NoteError> {
        let header = NoteHeader::of(text)?;
        if header.schema_version > u64::from(SCHEMA_VERSION) {
            return Err(NoteError::Newer { found: header.schema_version });
        }
        serde_json::from_str(text).map_err(|e| NoteError::Corrupt(e.to_string()))
    }
}

/// What a note says of itself, read without building the rest: enough to know whether the
/// note is current.
#[derive(Debug, Deserialize)]
pub struct NoteHeader {
    #[serde(default)]
    pub schema_version: u64,
    #[serde(default)]
    pub extractor_version: String,
    #[serde(default)]
    pub config_hash: String,
    #[serde(default)]
    pub tree: String,
}

impl NoteHeader {
    pub fn of(text: &str) -> Result<NoteHeader, NoteError> {
        serde_json::from_str(text).map_err(|e| NoteError::Corrupt(e.to_string()))
    }

    /// Whether the note was made by this git-lineage with this configuration, of this tree.
    pub fn is_current(&self, config_hash: &str, tree: &str) -> bool {
        self.schema_version == u64::from(SCHEMA_VERSION)
            && self.extractor_version == env!("CARGO_PKG_VERSION")
            && self.config_hash == config_hash
            && self.tree == tree
    }
}

/// Compact JSON of a value. Serializing the snapshot's types cannot fail: no maps with
/// non-string keys, no I/O.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
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
    crate::extract::is_supported(Path::new(file))
        && parts.iter().all(|d| !d.starts_with('.') && !SKIPPED_DIRS.contains(d))
}

/// The largest file of the work tree taken as a configuration file Python code may load.
const MAX_LOADABLE_BYTES: u64 = 256 * 1024;

/// A configuration file Python code may load, outside hidden and generated folders.
fn loadable(path: &str) -> bool {
    let mut parts = path.split('/').collect::<Vec<_>>();
    let Some(file) = parts.pop() else { return false };
    let extension = Path::new(file).extension().and_then(|e| e.to_str()).unwrap_or_default();
    matches!(extension, "yaml" | "yml" | "json" | "toml")
        && parts.iter().all(|d| !d.starts_with('.') && !SKIPPED_DIRS.contains(d))
}

/// What a snapshot is made of: files and the configuration that applies to them, from a
/// commit, the index or the work tree.
pub struct Source {
    pub files: Vec<SourceFile>,
    /// Configuration files Python code may load (`.yaml`, `.json`, `.toml`): not analyzed,
    /// read only when a Python file refers to one (`python::project`).
    pub data: Vec<SourceFile>,
    pub config: Config,
    pub config_hash: String,
    /// The commit's tree; empty for the index and the work tree.
    pub tree: String,
}

/// One file of a source. A tree's blobs are read only when the cache does not have the file:
/// most files of most commits did not change.
pub struct SourceFile {
    pub path: String,
    /// git's blob id of the content.
    pub blob: String,
    bytes: Option<Vec<u8>>,
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
    let (files, data): (Vec<SourceFile>, Vec<SourceFile>) = files
        .into_iter()
        .filter(|f| analyzed(&f.path) || loadable(&f.path))
        .map(|f| SourceFile { path: f.path, blob: f.blob, bytes: None })
        .partition(|f| analyzed(&f.path));
    Ok(Source { files, data, config, config_hash, tree: String::new() })
}

/// Whether a commit has a note made by this git-lineage with the configuration as committed:
/// then snapshotting it again would write the same note.
pub fn has_current_note(repo: &Repo, commit: &str) -> Result<bool, SnapshotError> {
    let Some(text) = repo.read_note(commit)? else { return Ok(false) };
    let Ok(header) = NoteHeader::of(&text) else { return Ok(false) };
    let (_, config_hash) = config_at(repo, commit, Overrides::default())?;
    Ok(header.is_current(&config_hash, &repo.tree_of(commit)?))
}

/// Notes written one at a time (by `snapshot` and the hooks) are packed as deltas against
/// earlier notes once this many have been written (see `pack.rs`).
const PACK_EVERY: usize = 50;

/// Store a snapshot as the note of a commit. The commit is listed in
/// `.git/lineage/unpacked-notes`; every `PACK_EVERY` (50) notes, those listed are packed.
pub fn store_note(repo: &Repo, commit: &str, snapshot: &Snapshot) -> Result<(), SnapshotError> {
    repo.write_note(commit, &snapshot.to_note())?;
    let journal = super::local_path(&repo.git_dir(), "unpacked-notes");
    let err = |source| Error::Cache { path: journal.clone(), source };
    if let Some(dir) = journal.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut file =
        std::fs::OpenOptions::new().create(true).append(true).open(&journal).map_err(err)?;
    std::io::Write::write_all(&mut file, format!("{commit}\n").as_bytes()).map_err(err)?;
    let listed = std::fs::read_to_string(&journal).map_err(err)?;
    let commits: Vec<String> = listed.lines().map(str::to_string).collect();
    if commits.len() >= PACK_EVERY {
        let mut chain = open_chain(repo);
        repo.chain_notes(&commits, &mut chain)?;
        close_chain(repo, &mut chain)?;
        std::fs::remove_file(&journal).map_err(err)?;
    }
    Ok(())
}

/// Where the chain of note deltas stands between packs: `.git/lineage/note-chain`.
fn chain_state_path(repo: &Repo) -> std::path::PathBuf {
    super::local_path(&repo.git_dir(), "note-chain")
}

/// The chain of note deltas, going on from the last pack written, so that the first note of
/// a pack is a delta too and not a whole note.
pub fn open_chain(repo: &Repo) -> Chain {
    let state = std::fs::read_to_string(chain_state_path(repo)).unwrap_or_default();
    repo.resume_chain(&ChainState::from_text(&state))
}

/// Pack the notes a chain holds and remember where it stands.
pub fn close_chain(repo: &Repo, chain: &mut Chain) -> Result<(), SnapshotError> {
    repo.write_pack(chain)?;
    let path = chain_state_path(repo);
    let err = |source| Error::Cache { path: path.clone(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    std::fs::write(&path, chain.state().to_text()).map_err(err)?;
    Ok(())
}

/// A commit's files as committed.
pub fn commit_source(
    repo: &Repo,
    commit: &str,
    overrides: Overrides,
) -> Result<Source, SnapshotError> {
    let source = tree_source(repo, repo.files_at(commit)?, overrides)?;
    Ok(Source { tree: repo.tree_of(commit)?, ..source })
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
        // Configuration files are small: a large `.json` is data, and reading it on every
        // pre-commit would cost the hook for nothing.
        let small = || entry.metadata().is_ok_and(|m| m.len() <= MAX_LOADABLE_BYTES);
        if analyzed(&path)
            || (loadable(&path) && small())
            || path == config::FILE_NAME
            || path.ends_with("dbt_project.yml")
        {
            let bytes = std::fs::read(entry.path())
                .map_err(|source| Error::Cache { path: entry.path().to_path_buf(), source })?;
            let blob = crate::store::repo::blob_id(&bytes);
            files.push(SourceFile { path, blob, bytes: Some(bytes) });
        }
    }
    let config_text = files
        .iter()
        .find(|f| f.path == config::FILE_NAME)
        .and_then(|f| f.bytes.as_deref())
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let read = |p: &Path| std::fs::read(root.join(p));
    let hash_input = format!("{config_text:?}\n{overrides:?}");
    let config = Config::from_tree(config_text.as_deref(), overrides, &paths, &read)?;
    let (files, data): (Vec<SourceFile>, Vec<SourceFile>) = files
        .into_iter()
        .filter(|f| analyzed(&f.path) || loadable(&f.path))
        .partition(|f| analyzed(&f.path));
    Ok(Source {
        files,
        data,
        config,
        config_hash: hash(hash_input.as_bytes()),
        tree: String::new(),
    })
}

/// Builds snapshots through the fragment cache.
pub struct Builder<'r> {
    repo: &'r Repo,
    cache: Cache,
    jobs: usize,
}

/// One extraction to find in the cache or to run: which file, with which settings.
struct Job {
    file: usize,
    settings: Settings,
    key: String,
}

impl<'r> Builder<'r> {
    pub fn new(repo: &'r Repo, jobs: usize) -> Self {
        Builder { repo, cache: Cache::new(&repo.git_dir()), jobs }
    }

    /// A builder for many commits (`backfill`, `log`): fragments read or made are kept in
    /// memory, so each unchanged file is read from the cache once, not once per commit.
    #[must_use]
    pub fn remembering(self) -> Self {
        Builder { cache: self.cache.remembering(), ..self }
    }

    /// The snapshot of a commit from its files as committed.
    pub fn commit(
        &self,
        commit: &str,
        overrides: Overrides,
    ) -> Result<(Snapshot, Stats), SnapshotError> {
        self.build(commit_source(self.repo, commit, overrides)?)
    }

    /// The snapshot of a commit: its note when current, else built (and not stored).
    pub fn of_commit(&self, commit: &str, overrides: Overrides) -> Result<Snapshot, SnapshotError> {
        let source = commit_source(self.repo, commit, overrides)?;
        if let Some(text) = self.repo.read_note(commit)?
            && NoteHeader::of(&text).is_ok_and(|h| h.is_current(&source.config_hash, &source.tree))
            && let Ok(existing) = Snapshot::from_note(&text)
        {
            return Ok(existing);
        }
        Ok(self.build(source)?.0)
    }

    /// The snapshot of a source.
    pub fn build(&self, source: Source) -> Result<(Snapshot, Stats), SnapshotError> {
        let Source { mut files, data, config, config_hash, tree } = source;
        let mut bytes: Vec<Option<Vec<u8>>> = files.iter_mut().map(|f| f.bytes.take()).collect();
        // The catalog's fingerprint is computed once, not per file: a large project's
        // catalog is large.
        let known = catalog_fingerprint(config.catalog());
        let job = |file: usize, inferred: &Catalog| {
            let mut settings = config.settings_for(Path::new(&files[file].path), false);
            let key = Cache::key(
                &fingerprint(&settings, &known, inferred),
                &files[file].path,
                &files[file].blob,
            );
            if !inferred.is_empty() {
                // What the user declared wins over what other files suggest.
                let mut catalog = inferred.clone();
                catalog.extend(&settings.catalog);
                settings.catalog = catalog;
            }
            Job { file, settings, key }
        };
        let mut parsed = 0;
        let first: Vec<Job> = (0..files.len()).map(|i| job(i, &Catalog::new())).collect();
        let first = self.resolve(&files, &mut bytes, &first, &mut parsed)?;
        let fragments = graph::with_inferred_schemas(first, config.catalog(), |again| {
            let again: Vec<Job> = again.iter().map(|(i, inferred)| job(*i, inferred)).collect();
            self.resolve(&files, &mut bytes, &again, &mut parsed)
        })?;
        // Python files that import the project's modules or load its configuration files
        // are analyzed again with their text; the cache key holds that text's hash.
        let blobs: BTreeMap<&str, &str> =
            files.iter().chain(&data).map(|f| (f.path.as_str(), f.blob.as_str())).collect();
        // Each module's text is read once, however many files import it.
        let texts: std::cell::RefCell<BTreeMap<String, Option<String>>> =
            std::cell::RefCell::default();
        let read = |path: &str| {
            if let Some(text) = texts.borrow().get(path) {
                return text.clone();
            }
            let text = blobs
                .get(path)
                .and_then(|blob| self.repo.blob(blob).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            texts.borrow_mut().insert(path.to_string(), text.clone());
            text
        };
        let fragments = with_projects(
            fragments,
            |path| blobs.contains_key(path),
            read,
            |again| {
                let again: Vec<Job> = again
                    .iter()
                    .map(|(i, project)| {
                        let mut j = job(*i, &Catalog::new());
                        j.key = Cache::key(
                            &format!("{}|{}", j.key, project_fingerprint(project)),
                            &files[*i].path,
                            &files[*i].blob,
                        );
                        j.settings.python = Arc::new(project.clone());
                        j
                    })
                    .collect();
                self.resolve(&files, &mut bytes, &again, &mut parsed)
            },
        )?;
        let datasets: BTreeSet<String> = fragments
            .iter()
            .flat_map(|f| &f.transformations)
            .flat_map(|t| t.reads.iter().chain(&t.writes))
            .cloned()
            .collect();
        let stats = Stats {
            files: fragments.len(),
            parsed,
            cached: fragments.len().saturating_sub(parsed),
        };
        let snapshot = Snapshot {
            schema_version: SCHEMA_VERSION,
            extractor_version: env!("CARGO_PKG_VERSION").to_string(),
            config_hash,
            tree,
            datasets: datasets.into_iter().collect(),
            files: fragments,
        };
        Ok((snapshot, stats))
    }

    /// The fragments of some jobs: from the cache, else extracted (and cached). Blobs are
    /// read here, on this thread, because a repository handle is not shared between threads.
    fn resolve(
        &self,
        files: &[SourceFile],
        bytes: &mut [Option<Vec<u8>>],
        jobs: &[Job],
        parsed: &mut usize,
    ) -> Result<Vec<Fragment>, SnapshotError> {
        let cache = &self.cache;
        let mut found = workers::map(jobs, self.jobs, |j| cache.get(&j.key))?;
        let missing: Vec<usize> = (0..jobs.len()).filter(|&n| found[n].is_none()).collect();
        for &n in &missing {
            let file = jobs[n].file;
            if bytes[file].is_none() {
                bytes[file] = Some(self.repo.blob(&files[file].blob)?);
            }
        }
        *parsed += missing.len();
        let bytes: &[Option<Vec<u8>>] = bytes;
        let extracted = workers::map(&missing, self.jobs, |&n| {
            let job = &jobs[n];
            let text = bytes[job.file].as_deref().unwrap_or_default();
            let fragment = extract(&files[job.file].path, text, &job.settings);
            cache.put(&job.key, &fragment).map(|()| fragment)
        })?;
        for (n, fragment) in missing.into_iter().zip(extracted) {
            found[n] = Some(fragment?);
        }
        // Every job has its fragment now: found in the cache or just extracted.
        Ok(found.into_iter().flatten().collect())
    }
}

/// The project files a Python file's analysis looked into: their paths and content hashes.
fn project_fingerprint(project: &Project) -> String {
    let mut text = String::new();
    for (path, content) in &project.files {
        text.push_str(path);
        text.push(' ');
        text.push_str(&hash(content.as_bytes()));
        text.push('\n');
    }
    for ((from, written), to) in &project.links {
        let _ = writeln!(text, "{from} {written} {to}");
    }
    text
}

/// Everything in the settings that changes what extraction gives.
/// Not hashed here: the cache key hashes it with the rest, one hash a file.
fn fingerprint(settings: &Settings, known_catalog: &str, inferred: &Catalog) -> String {
    // A file's inferred catalog holds only the datasets it names: small enough to spell out.
    let inferred: Vec<_> = inferred.tables().collect();
    format!(
        "{}|{:?}|{:?}|{}|{known_catalog}|{inferred:?}",
        settings.dialect, settings.default_schema, settings.dbt_model, settings.indirect
    )
}

/// A catalog's content hash.
fn catalog_fingerprint(catalog: &Catalog) -> String {
    if catalog.is_empty() {
        return String::new();
    }
    let tables: Vec<_> = catalog.tables().collect();
    hash(format!("{tables:?}").as_bytes())
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
            tree: "t".into(),
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
        // Python jobs are analyzed too (issue 6); other files are not.
        assert!(analyzed("jobs/etl.py"));
        assert!(!analyzed("dbt_packages/x/a.py"));
        assert!(!analyzed("models/schema.yml"));
    }
}
