//! Everything that touches git: reading files as committed, lineage snapshots as notes under
//! `refs/notes/lineage`, and the per-blob fragment cache under `.git/lineage/`.
//!
//! Why notes: a note is attached to a commit without changing it, travels with
//! `git push origin refs/notes/*`, and git's delta compression keeps successive snapshots of
//! a slowly changing graph small. See: #3, and `docs/notes-format.md` for the format.

pub mod ab;
pub mod cache;
pub mod hooks;
pub mod pack;
pub mod repo;
pub mod runs;
pub mod snapshot;

use std::path::{Path, PathBuf};

/// `.git/lineage/<name>`: local state (fragment cache, note packing), never in the work tree.
pub fn local_path(git_dir: &Path, name: &str) -> PathBuf {
    git_dir.join("lineage").join(name)
}

/// A git or cache operation that failed, naming what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no git repository at or above {path}")]
    Open { path: PathBuf, source: git2::Error },
    #[error("cannot resolve revision `{rev}` to a commit")]
    Resolve { rev: String, source: git2::Error },
    #[error("reading the files of commit {commit}")]
    Tree { commit: String, source: git2::Error },
    #[error("reading blob {blob}")]
    Blob { blob: String, source: git2::Error },
    #[error("reading the lineage note of {commit}")]
    ReadNote { commit: String, source: git2::Error },
    #[error("writing the lineage note of {commit}")]
    WriteNote { commit: String, source: git2::Error },
    #[error("packing lineage notes")]
    PackNotes { source: git2::Error },
    #[error("setting {name} in the repository's configuration")]
    Config { name: String, source: git2::Error },
    #[error("reading or writing {name}")]
    Ref { name: String, source: git2::Error },
    #[error("the temporary worktree {name}")]
    Worktree { name: String, source: git2::Error },
    #[error("the experiment {id} is unreadable: {problem}")]
    Experiment { id: String, problem: String },
    #[error("the fragment cache at {path}")]
    Cache { path: PathBuf, source: std::io::Error },
}
