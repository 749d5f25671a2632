//! `git lineage snapshot [REV]` and `git lineage show [REV]`: the lineage of a commit as
//! committed, stored as a note, and read back.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::ExitStatus;
use super::progress::Progress;
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
    if !args.force && snapshot::has_current_note(&repo, &commit)? {
        println!("{short}: lineage note is up to date");
        return Ok(ExitStatus::Success);
    }
    let jobs = args.jobs.unwrap_or_else(workers::default_jobs);
    let (snapshot, stats) = snapshot::Builder::new(&repo, jobs)
        .commit(&commit, Overrides::default())
        .with_context(|| format!("snapshotting {}", args.rev))?;
    snapshot::store_note(&repo, &commit, &snapshot)?;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ShowFormat {
    Text,
    Json,
    Dot,
    Mermaid,
    Svg,
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
    if snapshot.tree != repo.tree_of(&commit)? {
        eprintln!(
            "git-lineage: the lineage note of {} describes another tree (a note copied by a rebase or an amend); run `git lineage snapshot {}`",
            args.rev, args.rev
        );
        return Ok(ExitStatus::Failure);
    }
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ShowFormat::Json => stdout.write_all(snapshot.to_note().as_bytes())?,
        ShowFormat::Dot => report::picture::write_dot(&mut stdout, &snapshot.files)?,
        ShowFormat::Mermaid => report::picture::write_mermaid(&mut stdout, &snapshot.files)?,
        ShowFormat::Svg => match report::picture::svg(&snapshot.files) {
            Some(svg) => stdout.write_all(svg.as_bytes())?,
            None => {
                eprintln!("git-lineage: the graph could not be laid out as SVG; try --format dot");
                return Ok(ExitStatus::Error);
            }
        },
        ShowFormat::Text => {
            writeln!(stdout, "commit {commit}")?;
            writeln!(stdout, "datasets: {}", snapshot.datasets.join(", "))?;
            report::text::write_files(&mut stdout, &snapshot.files)?;
        }
    }
    stdout.flush()?;
    Ok(ExitStatus::Success)
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old side (default: HEAD).
    base: Option<String>,
    /// The new side (default: the work tree).
    head: Option<String>,
    /// Compare HEAD (or BASE) with the staged files instead of the work tree.
    #[arg(long)]
    cached: bool,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Exit with code 1 when the predicted pipeline time grows by more than this (`10%`):
    /// the pre-commit and pull-request check.
    #[arg(long, value_parser = parse_percent)]
    fail_over: Option<f64>,
    /// Transformations that run at once, for the predicted pipeline time (0: no limit).
    #[arg(long, default_value_t = 1)]
    parallel: usize,
    /// Lineage only: no predicted cost (which needs ONNX Runtime).
    #[arg(long, conflicts_with = "fail_over")]
    no_predict: bool,
}

/// `10%`, `10` or `0.5%` -> 0.10, 0.10, 0.005.
pub(super) fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p / 100.0),
        _ => Err(format!("`{text}` is not a percentage like 10%")),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Markdown,
}

pub fn run_diff(args: &DiffArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let base_rev = args.base.clone().unwrap_or_else(|| "HEAD".to_string());
    let base_commit = repo.resolve_commit(&base_rev)?;
    let mut lineage = super::predict::Lineage::new(&repo);
    let (base, base_pipeline) = match lineage.commit(&base_commit) {
        Some((pipeline, files)) => (files.clone(), pipeline.clone()),
        None => anyhow::bail!("no lineage for {base_rev}"),
    };
    let (head, head_pipeline, head_name) = match (&args.head, args.cached) {
        (Some(rev), _) => {
            let commit = repo.resolve_commit(rev)?;
            match lineage.commit(&commit) {
                Some((pipeline, files)) => (files.clone(), pipeline.clone(), rev.clone()),
                None => anyhow::bail!("no lineage for {rev}"),
            }
        }
        (None, cached) => {
            let (pipeline, files) = lineage.uncommitted(cached)?;
            let name = if cached { "the index" } else { "the work tree" };
            (files, pipeline, name.to_string())
        }
    };
    let diff = crate::graph::diff::diff(&base, &head);
    // The predicted cost: when ONNX Runtime is missing, the lineage diff still stands, unless
    // the caller asked to fail on the prediction.
    let cost = if args.no_predict {
        None
    } else {
        match super::predict::predicted_change(
            &repo,
            &mut lineage,
            &base_pipeline,
            &head_pipeline,
            args.parallel,
        ) {
            Ok(cost) => Some(cost),
            Err(e) if args.fail_over.is_some() => return Err(e.context("the predicted cost")),
            Err(e) => {
                eprintln!("git-lineage: no predicted cost: {e:#}");
                None
            }
        }
    };
    let title = format!("{base_rev} -> {head_name}");
    let mut stdout = std::io::stdout().lock();
    match args.format {
        DiffFormat::Text => {
            report::diff::write_text(&mut stdout, &title, &diff)?;
            if let Some(cost) = &cost {
                report::cost::write_cost_text(&mut stdout, cost)?;
            }
        }
        DiffFormat::Markdown => {
            report::diff::write_markdown(&mut stdout, &title, &diff)?;
            if let Some(cost) = &cost {
                report::cost::write_cost_markdown(&mut stdout, cost)?;
            }
        }
        DiffFormat::Json => {
            let mut doc = serde_json::to_value(&diff)?;
            if let (Some(cost), Some(map)) = (&cost, doc.as_object_mut()) {
                map.insert("predicted_cost".to_string(), serde_json::to_value(cost)?);
            }
            serde_json::to_writer_pretty(&mut stdout, &doc)?;
            writeln!(stdout)?;
        }
    }
    stdout.flush()?;
    Ok(fail_over_status(args.fail_over, cost.as_ref()))
}

/// `--fail-over`'s verdict, as `diff` and `report` give it: failure (said on stderr) when the
/// predicted pipeline time grows by more than `limit` (a fraction).
pub(super) fn fail_over_status(
    limit: Option<f64>,
    cost: Option<&crate::predict::cost::CostDiff>,
) -> ExitStatus {
    if let (Some(limit), Some(change)) = (limit, cost.and_then(|c| c.makespan_change))
        && change > limit
    {
        eprintln!(
            "git-lineage: the predicted pipeline time grows by {:.1} %, over the {:.1} % allowed",
            change * 100.0,
            limit * 100.0
        );
        return ExitStatus::Failure;
    }
    ExitStatus::Success
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// A dataset (`schema.table`) or a column (`schema.table.column`).
    name: String,
    /// What it depends on, instead of what depends on it.
    #[arg(long, conflicts_with = "downstream")]
    upstream: bool,
    /// What depends on it (the default).
    #[arg(long)]
    downstream: bool,
    /// The commit whose lineage is asked (default: HEAD).
    #[arg(long, default_value = "HEAD")]
    rev: String,
    #[arg(long, value_enum, default_value_t = ImpactFormat::Text)]
    format: ImpactFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ImpactFormat {
    Text,
    Json,
}

pub fn run_impact(args: &ImpactArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let commit = repo.resolve_commit(&args.rev)?;
    let snapshot = snapshot::Builder::new(&repo, workers::default_jobs())
        .of_commit(&commit, Overrides::default())?;
    let graph = crate::graph::LineageGraph::from_fragments(&snapshot.files);
    let direction = if args.upstream { "upstream" } else { "downstream" };
    let name = crate::extract::sql::names::normalize_dotted(&args.name);
    // A dataset, else a column: each found with how it is related.
    let found: Vec<(String, String)> = if graph.has_dataset(&name) {
        let datasets = if args.upstream { graph.upstream(&name) } else { graph.downstream(&name) };
        datasets.into_iter().map(|d| (d, "dataset".to_string())).collect()
    } else {
        let columns = if args.upstream {
            graph.column_upstream(&name)
        } else {
            graph.column_downstream(&name)
        };
        if columns.is_empty()
            && !snapshot.files.iter().flat_map(|f| &f.transformations).any(|t| {
                t.columns.iter().any(|c| c.source == name || c.target == name)
                    || t.indirect.iter().any(|e| e.source == name)
            })
        {
            eprintln!(
                "git-lineage: `{}` is neither a dataset nor a column of the lineage at {}",
                args.name, args.rev
            );
            return Ok(ExitStatus::Failure);
        }
        columns.into_iter().collect()
    };
    let mut stdout = std::io::stdout().lock();
    match args.format {
        ImpactFormat::Json => {
            let items: Vec<serde_json::Value> =
                found.iter().map(|(n, how)| serde_json::json!({"name": n, "via": how})).collect();
            let doc = serde_json::json!({"name": name, "direction": direction, "rev": args.rev, "found": items});
            writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        ImpactFormat::Text => {
            writeln!(stdout, "{direction} of {name} at {}:", args.rev)?;
            if found.is_empty() {
                writeln!(stdout, "  nothing")?;
            }
            for (n, how) in &found {
                writeln!(stdout, "  {n} ({how})")?;
            }
        }
    }
    stdout.flush()?;
    Ok(ExitStatus::Success)
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Commits to snapshot: `A..B`, or a revision and its history (default: HEAD's history).
    #[arg(default_value = "HEAD")]
    range: String,
    /// Files analyzed at once (default: one per core).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
}

/// Notes a backfill packs at once.
const PACK_BATCH: usize = 500;

/// Snapshot every commit of a range that has no current note, oldest first. Resumable by
/// construction: what was done has its note. Unchanged files come from the cache, so each
/// commit costs only what it changed. Notes are written on a thread of their own while the
/// next commit is built: writing a large project's note costs as much as building it.
pub fn run_backfill(args: &BackfillArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let commits = repo.commits(&args.range)?;
    let jobs = args.jobs.unwrap_or_else(workers::default_jobs);
    let builder = snapshot::Builder::new(&repo, jobs).remembering();
    let mut todo = Vec::new();
    for commit in commits {
        if !snapshot::has_current_note(&repo, &commit)? {
            todo.push(commit);
        }
    }
    let total = todo.len();
    let started = std::time::Instant::now();
    let (mut parsed, mut files) = (0, 0);
    let mut progress = Progress::new("backfill", "commits", total);
    let git_dir = repo.git_dir();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Two snapshots in flight at most: memory stays that of three commits.
        let (notes, to_write) = std::sync::mpsc::sync_channel::<(String, Snapshot)>(2);
        let writer = scope.spawn(move || -> anyhow::Result<()> {
            let repo = Repo::discover(&git_dir)?;
            // The notes are also packed as deltas against each other, in history order:
            // that is what keeps them small after `git gc` (see store/pack.rs).
            let mut chain = snapshot::open_chain(&repo);
            for (commit, snapshot) in to_write {
                let text = snapshot.to_note();
                if let Some(id) = repo.write_note(&commit, &text)? {
                    chain.push(id, text.into_bytes());
                }
                // A pack every so often: an interrupted backfill leaves few notes unpacked.
                if chain.len() >= PACK_BATCH {
                    snapshot::close_chain(&repo, &mut chain)?;
                }
            }
            snapshot::close_chain(&repo, &mut chain)?;
            Ok(())
        });
        for (done, commit) in todo.iter().enumerate() {
            let (snapshot, stats) = builder
                .commit(commit, Overrides::default())
                .with_context(|| format!("snapshotting {commit}"))?;
            parsed += stats.parsed;
            files += stats.files;
            if notes.send((commit.clone(), snapshot)).is_err() {
                // The writer stopped: its error says why.
                break;
            }
            progress.update(done + 1);
        }
        drop(notes);
        writer.join().map_err(|_| anyhow::anyhow!("the note writer panicked"))?
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "backfill: {total} commits snapshotted in {elapsed:.2} s ({files} files, {parsed} parsed, the rest from cache)"
    );
    Ok(ExitStatus::Success)
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The remote (default: origin).
    #[arg(default_value = "origin")]
    remote: String,
}

/// Make lineage notes travel with the repository: fetch and push refspecs for
/// `refs/notes/lineage`, and notes that follow commits through amend and rebase.
pub fn run_sync(args: &SyncArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let notes = crate::store::repo::NOTES_REF;
    let remote = &args.remote;
    let mut changed = Vec::new();
    let fetch = format!("+{notes}:{notes}");
    if repo.add_config(&format!("remote.{remote}.fetch"), &fetch)? {
        changed.push(format!("remote.{remote}.fetch {fetch}"));
    }
    // A push refspec replaces git's default push of the current branch: keep that default
    // explicitly when adding the first one.
    let push_key = format!("remote.{remote}.push");
    if !repo.has_config(&push_key) && repo.add_config(&push_key, "HEAD")? {
        changed.push(format!("{push_key} HEAD"));
    }
    if repo.add_config(&push_key, notes)? {
        changed.push(format!("{push_key} {notes}"));
    }
    if repo.add_config("notes.rewriteRef", notes)? {
        changed.push(format!("notes.rewriteRef {notes}"));
    }
    if changed.is_empty() {
        println!("lineage notes already travel with {remote}");
    } else {
        for line in changed {
            println!("set {line}");
        }
    }
    Ok(ExitStatus::Success)
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// A dataset (`schema.table`) or a column (`schema.table.column`).
    name: String,
    /// Where the history starts (default: HEAD).
    #[arg(long, default_value = "HEAD")]
    rev: String,
    /// At most this many commits.
    #[arg(long, short = 'n')]
    max_count: Option<usize>,
}

/// `git log` for data: the commits that changed the lineage of a dataset or column, newest
/// first, with what changed. Each commit is compared with its first parent, from their notes
/// (or extracted, with the cache, when a note is missing).
pub fn run_log(args: &LogArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let builder = snapshot::Builder::new(&repo, workers::default_jobs()).remembering();
    let name = crate::extract::sql::names::normalize_dotted(&args.name);
    let mut commits = repo.commits(&args.rev)?;
    commits.reverse();
    let mut stdout = std::io::stdout().lock();
    let mut shown = 0;
    let mut cache: std::collections::HashMap<String, Vec<crate::extract::Fragment>> =
        std::collections::HashMap::new();
    let mut files_of = |commit: &str| -> anyhow::Result<Vec<crate::extract::Fragment>> {
        if let Some(files) = cache.get(commit) {
            return Ok(files.clone());
        }
        let files = builder.of_commit(commit, Overrides::default())?.files;
        cache.insert(commit.to_string(), files.clone());
        Ok(files)
    };
    for commit in &commits {
        if args.max_count.is_some_and(|n| shown >= n) {
            break;
        }
        let (parent, summary) = repo.commit_info(commit)?;
        let base = match &parent {
            Some(p) => files_of(p)?,
            None => Vec::new(),
        };
        let head = files_of(commit)?;
        let diff = crate::graph::diff::diff(&base, &head);
        let touching: Vec<_> = diff.transformations.iter().filter(|t| touches(t, &name)).collect();
        if touching.is_empty() {
            continue;
        }
        shown += 1;
        writeln!(stdout, "commit {commit}  {summary}")?;
        for t in touching {
            let single = crate::graph::diff::GraphDiff {
                transformations: vec![t.clone()],
                ..Default::default()
            };
            let mut lines = Vec::new();
            report::diff::write_text(&mut lines, "", &single)?;
            for line in String::from_utf8_lossy(&lines).lines().skip(1) {
                writeln!(stdout, "  {line}")?;
            }
        }
    }
    if shown == 0 {
        writeln!(stdout, "no commit changed the lineage of {name}")?;
    }
    stdout.flush()?;
    Ok(ExitStatus::Success)
}

/// Whether a change touches a dataset (or one of its columns) or a column.
fn touches(t: &crate::graph::diff::TransformationChange, name: &str) -> bool {
    let column_prefix = format!("{name}.");
    let hit = |s: &str| s == name || s.starts_with(&column_prefix);
    t.reads_added
        .iter()
        .chain(&t.reads_removed)
        .chain(&t.writes_added)
        .chain(&t.writes_removed)
        .any(|d| hit(d))
        || t.columns_added
            .iter()
            .chain(&t.columns_removed)
            .any(|c| hit(&c.source) || hit(&c.target))
        || t.indirect_added
            .iter()
            .chain(&t.indirect_removed)
            .any(|e| hit(&e.source) || hit(&e.target))
}
