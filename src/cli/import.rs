//! `git lineage import`: runs that other tools measured (dbt, OpenLineage, any CSV or JSON
//! lines), placed on the commit that ran and mapped to its transformations.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use super::ExitStatus;
use crate::collect::import::{self, CommitHint, Imported, Malformed};
use crate::config::Overrides;
use crate::extract::Fragment;
use crate::store::repo::Repo;
use crate::store::{runs, snapshot};
use crate::workers;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// dbt's `run_results.json` and `manifest.json`: one run per model, snapshot and seed.
    Dbt {
        /// dbt's target folder (default: `target`).
        target_dir: Option<PathBuf>,
        /// The dbt project the models' paths are relative to (default: the target folder's
        /// parent).
        #[arg(long)]
        project_dir: Option<PathBuf>,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// OpenLineage run events (JSON lines): a START and its COMPLETE, FAIL or ABORT make a run.
    Openlineage {
        file: PathBuf,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Runs as CSV with a header row (columns: see docs/runs-format.md).
    Csv {
        file: PathBuf,
        #[command(flatten)]
        place: PlaceArgs,
    },
    /// Runs as JSON lines, one object a run (fields: see docs/runs-format.md).
    Jsonl {
        file: PathBuf,
        #[command(flatten)]
        place: PlaceArgs,
    },
}

#[derive(Debug, Args)]
pub struct PlaceArgs {
    /// The commit whose code ran, for runs that do not say (default: HEAD, and the work tree's
    /// state now).
    #[arg(long)]
    commit: Option<String>,
    /// Print the records as JSON lines instead of recording them.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(command: &ImportCommand) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let (read, place, base) = match command {
        ImportCommand::Dbt { target_dir, project_dir, place } => {
            let target = target_dir.clone().unwrap_or_else(|| PathBuf::from("target"));
            let project = project_dir.clone().unwrap_or_else(|| {
                target.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            });
            let results = target.join("run_results.json");
            let manifest = target.join("manifest.json");
            let results_text = read_text(&results)?;
            let manifest_text = match std::fs::read_to_string(&manifest) {
                Ok(text) => Some(text),
                Err(e) => {
                    eprintln!(
                        "git-lineage: {}: {e}; models are mapped by the relation they wrote only",
                        manifest.display()
                    );
                    None
                }
            };
            let (results_name, manifest_name) = (display(&results), display(&manifest));
            let read = import::dbt::read(
                (&results_name, &results_text),
                manifest_text.as_deref().map(|t| (manifest_name.as_str(), t)),
            );
            (read.map(|i| (i, results_name)), place, Some(project))
        }
        ImportCommand::Openlineage { file, place } => {
            (one_file(file, import::openlineage::read)?, place, None)
        }
        ImportCommand::Csv { file, place } => {
            (one_file(file, import::table::read_csv)?, place, None)
        }
        ImportCommand::Jsonl { file, place } => {
            (one_file(file, import::table::read_jsonl)?, place, None)
        }
    };
    let (imported, name) = match read {
        Ok(read) => read,
        Err(problems) => return Ok(refuse(&problems)),
    };
    let base = base.and_then(|project| relative_to_workdir(&repo, &project));
    place_and_record(&repo, imported, &name, place, base.as_deref())
}

/// What an importer of one file reads from it, with the name its diagnostics give the file.
type Read = Result<(Imported, String), Vec<Malformed>>;

/// Read one file with an importer of one file.
fn one_file(
    file: &Path,
    reader: fn(&str, &str) -> Result<Imported, Vec<Malformed>>,
) -> anyhow::Result<Read> {
    let name = display(file);
    Ok(reader(&name, &read_text(file)?).map(|imported| (imported, name)))
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Say every problem, and that nothing was recorded.
fn refuse(problems: &[Malformed]) -> ExitStatus {
    const SHOWN: usize = 20;
    for problem in problems.iter().take(SHOWN) {
        eprintln!("git-lineage: {problem}");
    }
    if problems.len() > SHOWN {
        eprintln!("git-lineage: … and {} more problems", problems.len() - SHOWN);
    }
    eprintln!("git-lineage: nothing was recorded");
    ExitStatus::Failure
}

/// A folder as a path from the repository's root (`""` for the root itself), when it is in
/// the work tree.
fn relative_to_workdir(repo: &Repo, folder: &Path) -> Option<String> {
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let folder = folder.canonicalize().ok()?;
    let relative = folder.strip_prefix(&workdir).ok()?;
    Some(relative.to_string_lossy().replace('\\', "/"))
}

fn place_and_record(
    repo: &Repo,
    imported: Imported,
    name: &str,
    place: &PlaceArgs,
    base: Option<&str>,
) -> anyhow::Result<ExitStatus> {
    let (default_commit, default_dirty) = match &place.commit {
        Some(rev) => (repo.resolve_commit(rev)?, false),
        None => {
            (repo.resolve_commit("HEAD").context("runs are recorded on HEAD")?, repo.is_dirty()?)
        }
    };
    let builder = snapshot::Builder::new(repo, workers::default_jobs()).remembering();
    let mut lineage: HashMap<String, Vec<Fragment>> = HashMap::new();
    let mut problems = Vec::new();
    let (mut records, mut unmapped) = (Vec::new(), Vec::new());
    for run in imported.runs {
        let mut record = run.record;
        record.label_from_env();
        let hinted = match &run.commit {
            Some(CommitHint::Required(rev)) => match repo.resolve_commit(rev) {
                Ok(commit) => Some(commit),
                Err(_) => {
                    let what = format!("`{rev}` is not a commit of this repository");
                    problems.push(Malformed {
                        file: name.to_string(),
                        line: None,
                        field: "commit".to_string(),
                        message: what,
                    });
                    continue;
                }
            },
            Some(CommitHint::Preferred(rev)) => repo.resolve_commit(rev).ok(),
            None => None,
        };
        record.dirty = record.dirty || (hinted.is_none() && default_dirty);
        record.commit = hinted.unwrap_or_else(|| default_commit.clone());
        let file = run.file.as_deref().map(|f| match base {
            Some(base) if !base.is_empty() => format!("{base}/{}", f.trim_start_matches("./")),
            _ => f.to_string(),
        });
        if record.transformation.is_none() {
            let fragments = lineage.entry(record.commit.clone()).or_insert_with(|| {
                builder
                    .of_commit(&record.commit, Overrides::default())
                    .map(|s| s.files)
                    .unwrap_or_default()
            });
            record.transformation =
                import::transformation_of(fragments, file.as_deref(), &run.writes);
            if record.transformation.is_none() {
                unmapped.push(record.job.clone().or_else(|| file.clone()).unwrap_or_default());
                if record.job.is_none() {
                    record.job.clone_from(&file);
                }
            }
        }
        records.push(record);
    }
    if !problems.is_empty() {
        return Ok(refuse(&problems));
    }
    if place.dry_run {
        for record in &records {
            println!("{}", record.to_line());
        }
        return Ok(ExitStatus::Success);
    }
    let added = runs::append(repo, &records)?;
    let commits: std::collections::BTreeSet<&str> =
        records.iter().map(|r| &r.commit[..r.commit.len().min(10)]).collect();
    eprintln!(
        "git-lineage: {name}: recorded {added} of {} runs on {} ({} already recorded)",
        records.len(),
        commits.into_iter().collect::<Vec<_>>().join(", "),
        records.len() - added
    );
    if !unmapped.is_empty() {
        eprintln!(
            "git-lineage: {} runs name no transformation git-lineage knows, kept by job: {}",
            unmapped.len(),
            unmapped.join(", ")
        );
    }
    for (reason, count) in &imported.left_out {
        eprintln!("git-lineage: left out {count} {reason}");
    }
    Ok(ExitStatus::Success)
}
