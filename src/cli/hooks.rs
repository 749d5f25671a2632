//! `git lineage install` and the hidden `git lineage hook NAME` that the installed hooks run.
//!
//! Hooks fail open (STYLE rule 4): an internal error is one warning line and exit 0; only a
//! pre-commit check the user turned on in `.git-lineage.toml` can stop a commit, and then it
//! says exactly why.

use std::io::BufRead;
use std::path::Path;

use clap::Args;
use globset::{Glob, GlobSetBuilder};

use super::ExitStatus;
use crate::config::Overrides;
use crate::graph;
use crate::store::hooks::{self, Installed};
use crate::store::repo::Repo;
use crate::store::snapshot;
use crate::workers;

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Replace existing hooks instead of chaining to them.
    #[arg(long)]
    force: bool,
}

pub fn run_install(args: &InstallArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    for (path, action) in hooks::install(&repo, args.force)? {
        let what = match action {
            Installed::New => "installed",
            Installed::Updated => "updated",
            Installed::Chained => {
                "installed; the hook that was there runs first (kept as .pre-lineage)"
            }
            Installed::Replaced => "replaced the hook that was there (--force)",
        };
        println!("{}: {what}", path.display());
    }
    Ok(ExitStatus::Success)
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// post-commit, pre-commit or post-rewrite.
    name: String,
    /// What git passes the hook.
    args: Vec<String>,
}

/// Never an error: whatever goes wrong in a hook is a warning (fail open).
pub fn run_hook(args: &HookArgs) -> ExitStatus {
    let result = match args.name.as_str() {
        "post-commit" => post_commit(),
        "post-rewrite" => post_rewrite(),
        "pre-commit" => return pre_commit(),
        other => Err(anyhow::anyhow!("unknown hook `{other}`")),
    };
    if let Err(error) = result {
        // Fail open: the commit is made; lineage can be caught up with `git lineage backfill`.
        eprintln!("git-lineage: {} hook: {error:#} (the commit is not affected)", args.name);
    }
    ExitStatus::Success
}

fn snapshot_commit(repo: &Repo, commit: &str) -> anyhow::Result<()> {
    let builder = snapshot::Builder::new(repo, workers::default_jobs());
    let (snapshot, _) = builder.commit(commit, Overrides::default())?;
    snapshot::store_note(repo, commit, &snapshot)?;
    // The hook ends here: the kernel takes the memory back faster than freeing thousands of
    // fragments one by one would.
    std::mem::forget(snapshot);
    Ok(())
}

fn post_commit() -> anyhow::Result<()> {
    let repo = Repo::discover(Path::new("."))?;
    let head = repo.resolve_commit("HEAD")?;
    snapshot_commit(&repo, &head)
}

/// Amend and rebase: git copies notes when `notes.rewriteRef` says so (`git lineage sync`);
/// a rewritten commit whose note is missing or stale is snapshotted again.
fn post_rewrite() -> anyhow::Result<()> {
    let repo = Repo::discover(Path::new("."))?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let Some(new) = line.split_whitespace().nth(1) else { continue };
        if !snapshot::has_current_note(&repo, new)? {
            snapshot_commit(&repo, new)?;
        }
    }
    Ok(())
}

/// The staged lineage against HEAD, with the checks turned on; exit 1 with the reasons when
/// one fails, 0 otherwise (internal errors included: fail open).
fn pre_commit() -> ExitStatus {
    match pre_commit_problems() {
        Ok(problems) if problems.is_empty() => ExitStatus::Success,
        Ok(problems) => {
            eprintln!("git-lineage: commit stopped by the lineage checks of .git-lineage.toml:");
            for problem in &problems {
                eprintln!("  {problem}");
            }
            eprintln!("(declare sources under [checks] sources, or commit with --no-verify)");
            ExitStatus::Failure
        }
        Err(error) => {
            eprintln!("git-lineage: pre-commit hook: {error:#} (the commit goes on)");
            ExitStatus::Success
        }
    }
}

fn pre_commit_problems() -> anyhow::Result<Vec<String>> {
    let repo = Repo::discover(Path::new("."))?;
    let jobs = workers::default_jobs();
    let source = snapshot::index_source(&repo, Overrides::default())?;
    let checks = source.checks();
    if !checks.unknown_sources && !checks.cycles {
        return Ok(Vec::new());
    }
    let builder = snapshot::Builder::new(&repo, jobs);
    let (staged, _) = builder.build(source)?;
    // The first commit has no HEAD: everything it reads is new.
    let base = match repo.resolve_commit("HEAD") {
        Ok(head) => builder.of_commit(&head, Overrides::default())?.files,
        Err(_) => Vec::new(),
    };
    let mut problems = Vec::new();
    if checks.unknown_sources {
        let mut globs = GlobSetBuilder::new();
        for pattern in &checks.sources {
            globs.add(Glob::new(pattern)?);
        }
        let declared = globs.build()?;
        for (id, dataset) in
            graph::new_unknown_sources(&base, &staged.files, |d| declared.is_match(d))
        {
            problems.push(format!("{id} reads `{dataset}`, which no transformation writes and which is not a declared source"));
        }
    }
    if checks.cycles {
        for cycle in graph::cycles(&staged.files) {
            problems.push(format!("cycle: {} depend on each other", cycle.join(", ")));
        }
    }
    Ok(problems)
}
