//! The one file that opens repositories (STYLE rule 3): every git call goes through `Repo`
//! and names its operation in the error. Not found becomes `Ok(None)`.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, ObjectType, Oid, Repository, Signature, TreeWalkMode, TreeWalkResult};

use super::Error;
use super::pack::{Chain, ChainState};

/// The notes ref that holds lineage snapshots.
pub const NOTES_REF: &str = "refs/notes/lineage";

/// The notes ref that holds run records (JSON lines, appended).
pub const RUNS_REF: &str = "refs/notes/lineage-runs";

/// The ref whose commits hold the trained cost model (`git lineage train`): its files are
/// `model.json` and the ONNX ensembles.
pub const MODEL_REF: &str = "refs/lineage/model";

/// The refs of A/B experiments: `refs/lineage/ab/<id>`, each a commit whose tree holds
/// `experiment.json` (`git lineage ab`).
pub const AB_REF_PREFIX: &str = "refs/lineage/ab/";

/// How often a note write is tried again when another writer moved the notes ref.
const NOTE_RETRIES: u32 = 50;

/// A file by name and its bytes.
pub type NamedFile = (String, Vec<u8>);

/// A file of a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TreeFile {
    /// Path from the repository root, `/`-separated.
    pub path: String,
    /// The blob's id (hex).
    pub blob: String,
}

pub struct Repo {
    inner: Repository,
}

impl Repo {
    /// The repository at or above `path`.
    pub fn discover(path: &Path) -> Result<Self, Error> {
        // git itself does not re-hash every object it reads; libgit2 does by default, which
        // costs a snapshot of a large project a third of its time.
        git2::opts::strict_hash_verification(false);
        Repository::discover(path)
            .map(|inner| Repo { inner })
            .map_err(|source| Error::Open { path: path.to_path_buf(), source })
    }

    /// `.git` (or the worktree's git dir), where local caches live.
    pub fn git_dir(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    /// The commit a revision names, as a hex id.
    pub fn resolve_commit(&self, rev: &str) -> Result<String, Error> {
        let resolve = || -> Result<Oid, git2::Error> {
            Ok(self.inner.revparse_single(rev)?.peel_to_commit()?.id())
        };
        resolve()
            .map(|oid| oid.to_string())
            .map_err(|source| Error::Resolve { rev: rev.to_string(), source })
    }

    /// The id of a commit's tree: what a note describes.
    pub fn tree_of(&self, commit: &str) -> Result<String, Error> {
        let err = |source| Error::Tree { commit: commit.to_string(), source };
        let oid = Oid::from_str(commit).map_err(err)?;
        let commit = self.inner.find_commit(oid).map_err(err)?;
        Ok(commit.tree_id().to_string())
    }

    /// The blob id (hex) of one file at a commit, if the commit has it.
    pub fn blob_at(&self, commit: &str, path: &str) -> Result<Option<String>, Error> {
        let err = |source| Error::Tree { commit: commit.to_string(), source };
        let oid = Oid::from_str(commit).map_err(err)?;
        let tree = self.inner.find_commit(oid).and_then(|c| c.tree()).map_err(err)?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) => Ok(Some(entry.id().to_string())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// Every file of a commit's tree, sorted by path.
    pub fn files_at(&self, commit: &str) -> Result<Vec<TreeFile>, Error> {
        let err = |source| Error::Tree { commit: commit.to_string(), source };
        let oid = Oid::from_str(commit).map_err(err)?;
        let tree = self.inner.find_commit(oid).and_then(|c| c.tree()).map_err(err)?;
        let mut files = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |root, entry| {
            if entry.kind() == Some(ObjectType::Blob)
                && let Ok(name) = entry.name()
            {
                files
                    .push(TreeFile { path: format!("{root}{name}"), blob: entry.id().to_string() });
            }
            TreeWalkResult::Ok
        })
        .map_err(err)?;
        files.sort();
        Ok(files)
    }

    /// Every file of the index (the staged state), sorted by path.
    pub fn files_in_index(&self) -> Result<Vec<TreeFile>, Error> {
        let err = |source| Error::Tree { commit: "the index".to_string(), source };
        let index = self.inner.index().map_err(err)?;
        let mut files: Vec<TreeFile> = index
            .iter()
            .map(|e| TreeFile {
                path: String::from_utf8_lossy(&e.path).into_owned(),
                blob: e.id.to_string(),
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// The work tree's root, if the repository has one.
    pub fn workdir(&self) -> Option<PathBuf> {
        self.inner.workdir().map(Path::to_path_buf)
    }

    /// The commits of a range (`A..B`, or one revision and its history), oldest first.
    pub fn commits(&self, range: &str) -> Result<Vec<String>, Error> {
        let err = |source| Error::Resolve { rev: range.to_string(), source };
        let mut walk = self.inner.revwalk().map_err(err)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE).map_err(err)?;
        if range.contains("..") {
            walk.push_range(range).map_err(err)?;
        } else {
            let oid = self
                .inner
                .revparse_single(range)
                .and_then(|o| o.peel_to_commit())
                .map_err(err)?
                .id();
            walk.push(oid).map_err(err)?;
        }
        walk.map(|oid| oid.map(|o| o.to_string()).map_err(err)).collect()
    }

    /// A commit's first parent and the first line of its message.
    pub fn commit_info(&self, commit: &str) -> Result<(Option<String>, String), Error> {
        let err = |source| Error::Resolve { rev: commit.to_string(), source };
        let oid = Oid::from_str(commit).map_err(err)?;
        let c = self.inner.find_commit(oid).map_err(err)?;
        let parent = c.parent_ids().next().map(|p| p.to_string());
        let summary = c.summary().ok().flatten().unwrap_or_default().to_string();
        Ok((parent, summary))
    }

    /// A commit's committer time, in seconds since the epoch.
    pub fn commit_time(&self, commit: &str) -> Result<i64, Error> {
        let err = |source| Error::Resolve { rev: commit.to_string(), source };
        let oid = Oid::from_str(commit).map_err(err)?;
        Ok(self.inner.find_commit(oid).map_err(err)?.time().seconds())
    }

    /// The URL of a remote (`origin`), when the repository has it.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        self.inner.find_remote(name).ok().and_then(|r| r.url().ok().map(str::to_string))
    }

    /// Add `value` to a multi-valued configuration key of the repository, unless it is there.
    /// Returns whether it was added.
    pub fn add_config(&self, name: &str, value: &str) -> Result<bool, Error> {
        let err = |source| Error::Config { name: name.to_string(), source };
        let mut config = self.inner.config().map_err(err)?;
        let mut present = false;
        if let Ok(entries) = config.multivar(name, None) {
            entries.for_each(|e| present |= e.value().is_ok_and(|v| v == value)).map_err(err)?;
        }
        if present {
            return Ok(false);
        }
        // A regexp that matches nothing adds a new value instead of replacing one.
        config.set_multivar(name, "^$a", value).map_err(err)?;
        Ok(true)
    }

    /// Where git runs hooks from: `core.hooksPath` (relative to the work tree) or
    /// `.git/hooks`.
    pub fn hooks_dir(&self) -> PathBuf {
        let configured = self.inner.config().ok().and_then(|c| c.get_path("core.hooksPath").ok());
        match (configured, self.inner.workdir()) {
            (Some(path), _) if path.is_absolute() => path,
            (Some(path), Some(workdir)) => workdir.join(path),
            _ => self.inner.path().join("hooks"),
        }
    }

    /// Whether a configuration key has any value.
    pub fn has_config(&self, name: &str) -> bool {
        self.inner
            .config()
            .ok()
            .is_some_and(|c| c.multivar(name, None).is_ok_and(|mut e| e.next().is_some()))
    }

    /// A blob's bytes.
    pub fn blob(&self, blob: &str) -> Result<Vec<u8>, Error> {
        let err = |source| Error::Blob { blob: blob.to_string(), source };
        let oid = Oid::from_str(blob).map_err(err)?;
        self.inner.find_blob(oid).map(|b| b.content().to_vec()).map_err(err)
    }

    /// The lineage note of a commit, if it has one.
    pub fn read_note(&self, commit: &str) -> Result<Option<String>, Error> {
        let err = |source| Error::ReadNote { commit: commit.to_string(), source };
        let oid = Oid::from_str(commit).map_err(err)?;
        match self.inner.find_note(Some(NOTES_REF), oid) {
            Ok(note) => Ok(Some(String::from_utf8_lossy(note.message_bytes()).into_owned())),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// Attach (or replace) the lineage note of a commit.
    ///
    /// Notes are kept under two-hex-digit folders (`ab/cdef…`), as git lays out a notes tree
    /// that has many notes: each notes commit then rewrites a folder of a few entries and a
    /// root of at most 256, instead of one tree listing every note.
    ///
    /// Returns the note's blob id, raw, for [`Chain::push`].
    pub fn write_note(&self, commit: &str, text: &str) -> Result<Option<[u8; 20]>, Error> {
        let err = |source| Error::WriteNote { commit: commit.to_string(), source };
        let blob = self.inner.blob(text.as_bytes()).map_err(err)?;
        let target = Oid::from_str(commit).map_err(err)?;
        self.update_notes(NOTES_REF, &[target], |_, _| Ok(blob)).map_err(err)?;
        Ok(raw_id(blob))
    }

    /// Append a line to a commit's note under another notes ref (run records). Writers at
    /// once all land: each append reads the note again when the ref moved under it.
    pub fn append_note_line(&self, notes_ref: &str, commit: &str, line: &str) -> Result<(), Error> {
        self.edit_notes(notes_ref, &[commit.to_string()], |_, existing| {
            let mut text = existing.map(<[u8]>::to_vec).unwrap_or_default();
            if !text.is_empty() && !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
            text
        })
    }

    /// Rewrite the notes of several commits under a notes ref in one notes commit: all of
    /// them change, or (on an error) none. `edit` gets each commit and its current note and
    /// returns the new text; it runs again on the new notes when another writer moved the
    /// ref first.
    pub fn edit_notes(
        &self,
        notes_ref: &str,
        commits: &[String],
        edit: impl Fn(&str, Option<&[u8]>) -> Vec<u8>,
    ) -> Result<(), Error> {
        let first = commits.first().cloned().unwrap_or_default();
        let err = |source| Error::WriteNote { commit: first.clone(), source };
        let targets = commits
            .iter()
            .map(|c| {
                Oid::from_str(c).map_err(|source| Error::WriteNote { commit: c.clone(), source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.update_notes(notes_ref, &targets, |target, existing| {
            self.inner.blob(&edit(&target.to_string(), existing))
        })
        .map_err(err)
    }

    /// The files of the commit a ref (outside `refs/heads`, e.g. `refs/lineage/model`) points
    /// at, by name (a flat tree), or `None` when the ref does not exist.
    pub fn ref_files(&self, name: &str) -> Result<Option<Vec<NamedFile>>, Error> {
        let err = |source| Error::Ref { name: name.to_string(), source };
        let commit = match self.inner.find_reference(name) {
            Ok(reference) => reference.peel_to_commit().map_err(err)?,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(err(e)),
        };
        let tree = commit.tree().map_err(err)?;
        let mut files = Vec::new();
        for entry in &tree {
            if entry.kind() != Some(ObjectType::Blob) {
                continue;
            }
            let blob = self.inner.find_blob(entry.id()).map_err(err)?;
            files.push((
                String::from_utf8_lossy(entry.name_bytes()).into_owned(),
                blob.content().to_vec(),
            ));
        }
        Ok(Some(files))
    }

    /// Commit `files` (a flat tree) on the ref `name`, after its current commit: the ref keeps
    /// the history of what was stored there. Returns the new commit's id.
    pub fn commit_ref_files(
        &self,
        name: &str,
        files: &[(&str, &[u8])],
        message: &str,
    ) -> Result<String, Error> {
        let err = |source| Error::Ref { name: name.to_string(), source };
        let signature = self
            .inner
            .signature()
            .or_else(|_| Signature::now("git-lineage", "git-lineage@localhost"))
            .map_err(err)?;
        let mut builder = self.inner.treebuilder(None).map_err(err)?;
        for (file, bytes) in files {
            let blob = self.inner.blob(bytes).map_err(err)?;
            builder.insert(file, blob, 0o100_644).map_err(err)?;
        }
        let tree = self.inner.find_tree(builder.write().map_err(err)?).map_err(err)?;
        let parent = match self.inner.find_reference(name) {
            Ok(reference) => Some(reference.peel_to_commit().map_err(err)?),
            Err(e) if e.code() == ErrorCode::NotFound => None,
            Err(e) => return Err(err(e)),
        };
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let commit = self
            .inner
            .commit(Some(name), &signature, &signature, message, &tree, &parents)
            .map_err(err)?;
        Ok(commit.to_string())
    }

    /// A commit on top of `parent` with `files` (paths from the root) replaced, on the new
    /// branch `branch`: the work tree, the index and HEAD are not touched. Fails when the
    /// branch exists.
    pub fn commit_on_new_branch(
        &self,
        branch: &str,
        parent: &str,
        files: &[(&str, &[u8])],
        message: &str,
    ) -> Result<String, Error> {
        let name = format!("refs/heads/{branch}");
        let err = |source| Error::Ref { name: name.clone(), source };
        let parent = self.inner.find_commit(Oid::from_str(parent).map_err(err)?).map_err(err)?;
        let base = parent.tree().map_err(err)?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, bytes) in files {
            let blob = self.inner.blob(bytes).map_err(err)?;
            update.upsert(*path, blob, git2::FileMode::Blob);
        }
        let tree = self
            .inner
            .find_tree(update.create_updated(&self.inner, &base).map_err(err)?)
            .map_err(err)?;
        let signature = self
            .inner
            .signature()
            .or_else(|_| Signature::now("git-lineage", "git-lineage@localhost"))
            .map_err(err)?;
        let commit = self
            .inner
            .commit(None, &signature, &signature, message, &tree, &[&parent])
            .map_err(err)?;
        self.inner.reference(&name, commit, false, "git lineage fix --branch").map_err(err)?;
        Ok(commit.to_string())
    }

    /// The refs whose names start with `prefix`, sorted.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let err = |source| Error::Ref { name: format!("{prefix}*"), source };
        let mut names = Vec::new();
        for reference in self.inner.references_glob(&format!("{prefix}*")).map_err(err)? {
            if let Ok(name) = reference.map_err(err)?.name() {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Check `commit` out, detached, in a new linked worktree called `name` at `path` (which
    /// must not exist yet), as `git worktree add --detach` does: the repository's own work
    /// tree, index and HEAD are not touched.
    ///
    /// libgit2 adds worktrees on a branch only, so a branch called `name` is made for the
    /// moment it takes: once the worktree's HEAD is detached at the commit, it is deleted.
    pub fn add_worktree(&self, name: &str, path: &Path, commit: &str) -> Result<(), Error> {
        let err = |source| Error::Worktree { name: name.to_string(), source };
        let oid = Oid::from_str(commit).map_err(err)?;
        let target = self.inner.find_commit(oid).map_err(err)?;
        let mut branch = self.inner.branch(name, &target, false).map_err(err)?;
        let added = (|| {
            let mut options = git2::WorktreeAddOptions::new();
            options.reference(Some(branch.get()));
            let worktree = self.inner.worktree(name, path, Some(&options))?;
            Repository::open_from_worktree(&worktree)?.set_head_detached(oid)
        })();
        let deleted = branch.delete();
        added.map_err(err)?;
        deleted.map_err(err)
    }

    /// Remove the linked worktree `name`: its folder and git's record of it (`git worktree
    /// remove --force`). A worktree that is already gone is not an error.
    pub fn remove_worktree(&self, name: &str) -> Result<(), Error> {
        let err = |source| Error::Worktree { name: name.to_string(), source };
        let worktree = match self.inner.find_worktree(name) {
            Ok(worktree) => worktree,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(()),
            Err(e) => return Err(err(e)),
        };
        let mut options = git2::WorktreePruneOptions::new();
        options.valid(true).locked(true).working_tree(true);
        worktree.prune(Some(&mut options)).map_err(err)
    }

    /// Forget the linked worktrees whose names start with `prefix` and whose folders are gone
    /// (`git worktree prune` for those only): what a process killed outright leaves.
    pub fn prune_stale_worktrees(&self, prefix: &str) -> Result<(), Error> {
        let err = |source| Error::Worktree { name: format!("{prefix}*"), source };
        let names = self.inner.worktrees().map_err(err)?;
        for name in names.iter().flatten().flatten().filter(|n| n.starts_with(prefix)) {
            let worktree = self.inner.find_worktree(name).map_err(err)?;
            if worktree.is_prunable(None).map_err(err)? {
                worktree.prune(None).map_err(err)?;
            }
        }
        Ok(())
    }

    /// Whether tracked files differ from HEAD, staged or not (untracked files do not count).
    pub fn is_dirty(&self) -> Result<bool, Error> {
        let err = |source| Error::Tree { commit: "the work tree".to_string(), source };
        let mut options = git2::StatusOptions::new();
        options.include_untracked(false).include_ignored(false);
        let statuses = self.inner.statuses(Some(&mut options)).map_err(err)?;
        Ok(!statuses.is_empty())
    }

    /// Every note under a notes ref: (annotated commit, note bytes), in no particular order.
    pub fn all_notes(&self, notes_ref: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let err = |source| Error::ReadNote { commit: notes_ref.to_string(), source };
        let notes = match self.inner.notes(Some(notes_ref)) {
            Ok(notes) => notes,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(err(e)),
        };
        let mut out = Vec::new();
        for note in notes {
            let (blob, commit) = note.map_err(err)?;
            let blob = self.inner.find_blob(blob).map_err(err)?;
            out.push((commit.to_string(), blob.content().to_vec()));
        }
        Ok(out)
    }

    /// Replace the notes of `targets` under `notes_ref` with the blobs `make` gives from
    /// their current notes (if any), in one notes commit. The notes ref moves with every note
    /// written: another writer may have moved it (or hold its lock) between our read and our
    /// update; then the notes are read and made again.
    fn update_notes(
        &self,
        notes_ref: &str,
        targets: &[Oid],
        make: impl Fn(Oid, Option<&[u8]>) -> Result<Oid, git2::Error>,
    ) -> Result<(), git2::Error> {
        if targets.is_empty() {
            return Ok(());
        }
        // A repository without user.name still gets notes: they are the tool's, not a person's.
        let signature = self
            .inner
            .signature()
            .or_else(|_| Signature::now("git-lineage", "git-lineage@localhost"))?;
        let mut attempt = 0;
        loop {
            match self.commit_notes(notes_ref, targets, &make, &signature) {
                Ok(()) => return Ok(()),
                Err(e)
                    if attempt < NOTE_RETRIES
                        && matches!(
                            e.code(),
                            ErrorCode::Locked | ErrorCode::Modified | ErrorCode::Exists
                        ) =>
                {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10 * u64::from(attempt)));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One notes commit: the notes tree with the blobs `make` gives as the notes of
    /// `targets`, the ref moved only if nobody moved it since it was read.
    fn commit_notes(
        &self,
        notes_ref: &str,
        targets: &[Oid],
        make: &impl Fn(Oid, Option<&[u8]>) -> Result<Oid, git2::Error>,
        signature: &Signature,
    ) -> Result<(), git2::Error> {
        let parent = match self.inner.find_reference(notes_ref) {
            Ok(reference) => Some(reference.peel_to_commit()?),
            Err(e) if e.code() == ErrorCode::NotFound => None,
            Err(e) => return Err(e),
        };
        let mut root = parent.as_ref().map(git2::Commit::tree).transpose()?;
        for &target in targets {
            let tree = self.with_note(root.as_ref(), target, make)?;
            root = Some(self.inner.find_tree(tree)?);
        }
        let Some(tree) = root else { return Ok(()) };
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let message = "Notes added by 'git lineage'\n";
        let id = self.inner.commit(None, signature, signature, message, &tree, &parents)?;
        match &parent {
            Some(p) => self.inner.reference_matching(notes_ref, id, true, p.id(), "git lineage")?,
            None => self.inner.reference(notes_ref, id, false, "git lineage")?,
        };
        Ok(())
    }

    /// A notes tree: `root` with the note of `target` replaced by what `make` gives.
    fn with_note(
        &self,
        root: Option<&git2::Tree>,
        target: Oid,
        make: &impl Fn(Oid, Option<&[u8]>) -> Result<Oid, git2::Error>,
    ) -> Result<Oid, git2::Error> {
        let hex = target.to_string();
        let (folder, name) = hex.split_at(2);
        let mut top = self.inner.treebuilder(root)?;
        let subtree = match top.get(folder)? {
            Some(entry) if entry.kind() == Some(ObjectType::Tree) => {
                Some(self.inner.find_tree(entry.id())?)
            }
            _ => None,
        };
        // The current note: in its folder, or flat (as git writes few notes, and libgit2 any).
        let current = match subtree.as_ref().and_then(|t| t.get_name(name)) {
            Some(entry) => Some(entry.id()),
            None => top.get(&hex)?.map(|entry| entry.id()),
        };
        let current = current.map(|id| self.inner.find_blob(id)).transpose()?;
        let blob = make(target, current.as_ref().map(git2::Blob::content))?;
        if top.get(&hex)?.is_some() {
            top.remove(&hex)?;
        }
        let mut sub = self.inner.treebuilder(subtree.as_ref())?;
        sub.insert(name, blob, 0o100_644)?;
        top.insert(folder, sub.write()?, 0o040_000)?;
        top.write()
    }

    /// A chain of note deltas that goes on from an earlier one (see [`ChainState`]); a fresh
    /// chain when a head note is gone.
    pub fn resume_chain(&self, state: &ChainState) -> Chain {
        let mut heads: [Option<([u8; 20], Vec<u8>)>; 3] = Default::default();
        for (head, id) in heads.iter_mut().zip(&state.heads) {
            let blob = id.as_deref().and_then(|id| Oid::from_str(id).ok());
            let found = blob.and_then(|oid| self.inner.find_blob(oid).ok());
            *head = found.and_then(|b| Some((raw_id(b.id())?, b.content().to_vec())));
        }
        Chain::resume(state.count, heads)
    }

    /// Add the notes of these commits (oldest first) to a chain; commits without a note are
    /// skipped.
    pub fn chain_notes(&self, commits: &[String], chain: &mut Chain) -> Result<(), Error> {
        for commit in commits {
            let Ok(oid) = Oid::from_str(commit) else { continue };
            let note = match self.inner.find_note(Some(NOTES_REF), oid) {
                Ok(note) => note,
                Err(e) if e.code() == ErrorCode::NotFound => continue,
                Err(e) => return Err(Error::PackNotes { source: e }),
            };
            if let Some(id) = raw_id(note.id()) {
                chain.push(id, note.message_bytes().to_vec());
            }
        }
        Ok(())
    }

    /// Write the notes a chain holds as a pack into the object database (see `pack.rs`).
    /// The loose copies stay until git prunes them; what `git gc` keeps is the deltas.
    pub fn write_pack(&self, chain: &mut Chain) -> Result<(), Error> {
        if chain.is_empty() {
            return Ok(());
        }
        let err = |source| Error::PackNotes { source };
        let odb = self.inner.odb().map_err(err)?;
        let mut writer = odb.packwriter().map_err(err)?;
        std::io::Write::write_all(&mut writer, &chain.take_pack())
            .map_err(|e| err(git2::Error::from_str(&e.to_string())))?;
        writer.commit().map_err(err)?;
        Ok(())
    }
}

/// The raw 20 bytes of a SHA-1 object id (none for other hashes: such notes are not packed).
fn raw_id(oid: Oid) -> Option<[u8; 20]> {
    oid.as_bytes().try_into().ok()
}

/// The id git gives a blob of these bytes.
pub fn blob_id(bytes: &[u8]) -> String {
    hash(bytes)
}

/// A stable content hash (git's SHA-1 of a blob), for cache keys.
pub fn hash(bytes: &[u8]) -> String {
    Oid::hash_object(ObjectType::Blob, bytes).map_or_else(|_| String::new(), |oid| oid.to_string())
}
