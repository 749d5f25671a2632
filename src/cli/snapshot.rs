//! `git lineage snapshot [REV]` and `git lineage show [REV]`: the lineage of a commit as
//! committed, stored as a note, and read back.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::ExitStatus;
use crate::config::Overrides;
use crate::report;
use crate::store::repo::Repo;
use crate::store::snapshot::{self, Snapshot};
use crate::workers;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The commit (default: HEAD).
    #[arg(default_value = "HEAD")]
    rev: String,
    /// Snapshot again even when the note is current.
    #[arg(long)]
    force: bool,
    /// Files analyzed at once (default: one per core).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
}

pub fn run_snapshot(args: &SnapshotArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let commit = repo.resolve_commit(&args.rev)?;
    let short = &commit[..commit.len().min(10)];
    if !args.force
        && let Some(text) = repo.read_note(&commit)?
        && let Ok(existing) = Snapshot::from_note(&text)
    {
        let (_, config_hash) = snapshot::config_at(&repo, &commit, Overrides::default())?;
        if existing.is_current(&config_hash) {
            println!("{short}: lineage note is up to date");
            return Ok(ExitStatus::Success);
        }
    }
    let jobs = args.jobs.unwrap_or_else(workers::default_jobs);
    let (snapshot, stats) = snapshot::build(&repo, &commit, Overrides::default(), jobs)
        .with_context(|| format!("snapshotting {}", args.rev))?;
    repo.write_note(&commit, &snapshot.to_note())?;
    let transformations: usize = snapshot.files.iter().map(|f| f.transformations.len()).sum();
    println!(
        "{short}: {} files, {transformations} transformations, {} datasets ({} parsed, {} from cache)",
        stats.files,
        snapshot.datasets.len(),
        stats.parsed,
        stats.cached
    );
    Ok(ExitStatus::Success)
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The commit (default: HEAD).
    #[arg(default_value = "HEAD")]
    rev: String,
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    format: ShowFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ShowFormat {
    Text,
    Json,
}

pub fn run_show(args: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let commit = repo.resolve_commit(&args.rev)?;
    let Some(text) = repo.read_note(&commit)? else {
        eprintln!(
            "git-lineage: {} has no lineage note; run `git lineage snapshot {}`",
            args.rev, args.rev
        );
        return Ok(ExitStatus::Failure);
    };
    let snapshot = match Snapshot::from_note(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("git-lineage: {}: {e}; skipped", args.rev);
            return Ok(ExitStatus::Failure);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ShowFormat::Json => stdout.write_all(snapshot.to_note().as_bytes())?,
        ShowFormat::Text => {
            writeln!(stdout, "commit {commit}")?;
            writeln!(stdout, "datasets: {}", snapshot.datasets.join(", "))?;
            report::text::write_files(&mut stdout, &snapshot.files)?;
        }
    }
    stdout.flush()?;
    Ok(ExitStatus::Success)
}
