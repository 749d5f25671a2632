//! `git lineage ab run | report | list`: A/B experiments on real runs. Each variant is checked
//! out in a temporary worktree of its own; runs alternate between them; every run is a
//! `git lineage run` of the command in its variant's worktree, labelled with the experiment.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::ExitStatus;
use crate::ab::{self, CONTROL, Experiment, Side, Status, TREATMENT, stats::Rng};
use crate::collect::record::rfc3339;
use crate::report;
use crate::store::repo::Repo;
use crate::store::{ab as stored, runs};

#[derive(Debug, Subcommand)]
pub enum AbCommand {
    /// Run a command in two revisions, alternating, and judge which one is faster.
    Run(RunArgs),
    /// The report of an experiment: per variant the median and spread of wall time, CPU time
    /// and peak memory, the ratio with its 95 % interval, the tests and the verdict.
    Report(ReportArgs),
    /// The experiments of this repository, oldest first, with their verdicts.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The revision to compare against (the A side).
    #[arg(long)]
    control: String,
    /// The revision or branch under test (the B side).
    #[arg(long)]
    treatment: String,
    /// Counted runs per variant.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    runs: u32,
    /// Warm-up runs per variant before them: measured and recorded (`"warmup": true`), never
    /// counted.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=1000))]
    warmup: u32,
    /// The experiment's id (default: the time it starts and a random suffix).
    #[arg(long)]
    name: Option<String>,
    /// Show the command's standard output (by default it is discarded; its standard error
    /// always shows).
    #[arg(long)]
    show_output: bool,
    /// The report printed at the end.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The command, after `--`. It runs in each variant's worktree, in the folder that
    /// corresponds to the current one, so relative paths name the variant's files.
    #[arg(last = true, required = true)]
    command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The experiment's id (or a prefix of one id).
    experiment: String,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value = "text")]
    format: ListFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

pub fn run(command: &AbCommand) -> anyhow::Result<ExitStatus> {
    match command {
        AbCommand::Run(a) => run_experiment(a),
        AbCommand::Report(a) => run_report(a),
        AbCommand::List(a) => run_list(a),
    }
}

/// The prefix of the temporary worktrees' (and their moment's branches') names.
const WORKTREE_PREFIX: &str = "git-lineage-ab-";

/// The signals that stop an experiment between runs (the running command gets them too).
const STOP_SIGNALS: [i32; 3] =
    [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP];

/// Run the experiment: the runs alternate from a random first variant, each a `git lineage
/// run` in its variant's worktree. Exit 0 when every run succeeded, 1 when some failed
/// (they are recorded and left out of the statistics), 130 when a signal stopped it; the
/// worktrees are removed in every case.
fn run_experiment(args: &RunArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let side = |rev: &str| -> anyhow::Result<Side> {
        Ok(Side { rev: rev.to_string(), commit: repo.resolve_commit(rev)? })
    };
    let (control, treatment) = (side(&args.control)?, side(&args.treatment)?);
    let workdir = repo.workdir().context("an A/B experiment needs a work tree")?;
    let folder = folder_in(&workdir)?;
    let mut rng = Rng::new(seed());
    let id = match &args.name {
        Some(name) => name.clone(),
        None => format!(
            "{}-{:04x}",
            jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S"),
            rng.next_u64() & 0xffff
        ),
    };
    if !stored::valid_id(&id) {
        bail!("`{id}` cannot name an experiment: letters, digits, `-`, `_` and `.` only");
    }
    if stored::load(&repo, &id)?.is_some() {
        bail!("the experiment `{id}` exists already (see `git lineage ab list`)");
    }
    let first = if rng.below(2) == 0 { CONTROL } else { TREATMENT };
    let program = args
        .command
        .first()
        .and_then(|p| Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned()));
    let mut experiment = Experiment {
        schema_version: ab::EXPERIMENT_VERSION,
        id: id.clone(),
        control,
        treatment,
        program,
        arguments: args.command.len().saturating_sub(1),
        runs: args.runs,
        warmup: args.warmup,
        first: first.to_string(),
        folder: folder.to_string_lossy().into_owned(),
        started_at: rfc3339(std::time::SystemTime::now()),
        finished_at: None,
        status: Status::Running,
        host: nix::unistd::gethostname().ok().map(|h| h.to_string_lossy().into_owned()),
        outcome: None,
    };
    stored::save(&repo, &experiment).context("storing the experiment")?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in STOP_SIGNALS {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("catching signals to clean up")?;
    }
    if let Err(e) = repo.prune_stale_worktrees(WORKTREE_PREFIX) {
        eprintln!("git-lineage: {:#}", anyhow::Error::from(e));
    }
    let made = run_in_worktrees(&repo, &experiment, args, &folder, &stop);
    experiment.finished_at = Some(rfc3339(std::time::SystemTime::now()));
    let (failed, interrupted) = match made {
        Ok(made) => made,
        Err(e) => {
            experiment.status = Status::Failed;
            if let Err(store) = stored::save(&repo, &experiment) {
                eprintln!("git-lineage: {:#}", anyhow::Error::from(store));
            }
            return Err(e);
        }
    };
    experiment.status = if interrupted { Status::Interrupted } else { Status::Done };
    let (records, _) = runs::read_all(&repo)?;
    let mut report = ab::analyze(&experiment, &records);
    experiment.outcome = Some(report.outcome());
    report.experiment = experiment.clone();
    stored::save(&repo, &experiment).context("storing the experiment's verdict")?;
    let counted =
        report.whole.runs.control + report.whole.runs.treatment + report.whole.runs.failed;
    if !interrupted && counted < 2 * args.runs as usize {
        eprintln!(
            "git-lineage: {} of {} runs were recorded; the report rests on those",
            counted,
            2 * args.runs
        );
    }
    write_report(&report, args.format)?;
    Ok(if interrupted {
        ExitStatus::Code(130)
    } else if failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// The current folder relative to the work tree's root.
fn folder_in(workdir: &Path) -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir()?.canonicalize()?;
    let root = workdir.canonicalize()?;
    Ok(here.strip_prefix(&root).map(Path::to_path_buf).unwrap_or_default())
}

/// A seed for the random start and the id: the time and the process.
fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    #[allow(clippy::cast_possible_truncation)]
    let low = nanos as u64;
    low ^ (u64::from(std::process::id()) << 32)
}

/// The temporary worktrees of one experiment; removed when dropped, whatever happened.
struct Worktrees<'r> {
    repo: &'r Repo,
    /// Holds the worktrees' folders; removed last.
    root: tempfile::TempDir,
    names: Vec<String>,
}

impl<'r> Worktrees<'r> {
    fn new(repo: &'r Repo) -> anyhow::Result<Self> {
        let root = tempfile::Builder::new()
            .prefix(WORKTREE_PREFIX)
            .tempdir()
            .context("making a folder for the worktrees")?;
        Ok(Worktrees { repo, root, names: Vec::new() })
    }

    /// Check `commit` out in a new worktree; its folder.
    fn add(&mut self, name: &str, commit: &str) -> anyhow::Result<PathBuf> {
        let path = self.root.path().join(name);
        self.names.push(name.to_string());
        self.repo
            .add_worktree(name, &path, commit)
            .with_context(|| format!("checking {commit} out in a temporary worktree"))?;
        Ok(path)
    }
}

impl Drop for Worktrees<'_> {
    fn drop(&mut self) {
        for name in &self.names {
            if let Err(e) = self.repo.remove_worktree(name) {
                eprintln!("git-lineage: {:#}", anyhow::Error::from(e));
            }
        }
    }
}

/// Make the runs. Returns how many counted runs failed and whether a signal stopped them.
fn run_in_worktrees(
    repo: &Repo,
    experiment: &Experiment,
    args: &RunArgs,
    folder: &Path,
    stop: &AtomicBool,
) -> anyhow::Result<(usize, bool)> {
    let mut trees = Worktrees::new(repo)?;
    let mut dirs = Vec::new();
    for (variant, side) in [(CONTROL, &experiment.control), (TREATMENT, &experiment.treatment)] {
        let name = format!("{WORKTREE_PREFIX}{}-{variant}", experiment.id);
        let dir = trees.add(&name, &side.commit)?.join(folder);
        if !dir.is_dir() {
            bail!("the folder {} does not exist in {variant}", folder.display());
        }
        dirs.push((variant, dir));
    }
    let me = std::env::current_exe().context("finding git-lineage itself")?;
    let order = ab::schedule(&experiment.first, experiment.runs, experiment.warmup);
    let total = order.len();
    let mut failed = 0;
    for (i, (variant, warmup)) in order.into_iter().enumerate() {
        if stop.load(Ordering::SeqCst) {
            return Ok((failed, true));
        }
        let dir = dirs.iter().find(|(v, _)| *v == variant).map(|(_, d)| d.as_path());
        let dir = dir.context("a variant without a worktree")?;
        let mut run = Command::new(&me);
        run.arg("run").args(["--variant", variant, "--experiment", &experiment.id]);
        if warmup {
            run.arg("--warmup");
        }
        run.arg("--").args(&args.command).current_dir(dir).stdin(Stdio::null());
        if !args.show_output {
            run.stdout(Stdio::null());
        }
        let status = run.status().context("starting git-lineage run")?;
        let code = status.code().unwrap_or(-1);
        if code != 0 && !warmup {
            failed += 1;
        }
        eprintln!(
            "git-lineage: ab {}: run {}/{total} {variant}{}{}",
            experiment.id,
            i + 1,
            if warmup { " (warm-up)" } else { "" },
            if code == 0 { String::new() } else { format!(": exit code {code}") }
        );
    }
    Ok((failed, stop.load(Ordering::SeqCst)))
}

fn write_report(report: &ab::Report, format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Text => report::ab::write_text(&mut out, report)?,
        Format::Markdown => report::ab::write_markdown(&mut out, report)?,
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(report)?)?,
    }
    out.flush()?;
    Ok(())
}

/// The experiment an id or a prefix of one names.
fn find(repo: &Repo, wanted: &str) -> anyhow::Result<Experiment> {
    if let Some(experiment) = stored::load(repo, wanted)? {
        return Ok(experiment);
    }
    let ids = stored::ids(repo)?;
    let matching: Vec<&String> = ids.iter().filter(|id| id.starts_with(wanted)).collect();
    match matching.as_slice() {
        [one] => stored::load(repo, one)?.context("the experiment went away"),
        [] if ids.is_empty() => bail!("no experiment `{wanted}`: this repository has none"),
        [] => bail!("no experiment `{wanted}` (known: {})", ids.join(", ")),
        many => bail!(
            "`{wanted}` names {} experiments: {}",
            many.len(),
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn run_report(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let experiment = find(&repo, &args.experiment)?;
    let (records, _) = runs::read_all(&repo)?;
    write_report(&ab::analyze(&experiment, &records), args.format)?;
    Ok(ExitStatus::Success)
}

fn run_list(args: &ListArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let mut experiments = Vec::new();
    for found in stored::list(&repo)? {
        match found {
            Ok(experiment) => experiments.push(experiment),
            Err(e) => eprintln!("git-lineage: {e}; skipped"),
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        ListFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "experiments": experiments }))?
        )?,
        ListFormat::Text => report::ab::write_list(&mut out, &experiments)?,
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}
