//! `git lineage run` and `git lineage history`: the execution history kept beside the lineage.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::ExitStatus;
use crate::collect::measure;
use crate::collect::record::{RunContext, RunRecord, parse_lines};
use crate::config::Overrides;
use crate::extract::{Fragment, Transformation};
use crate::graph;
use crate::store::repo::{RUNS_REF, Repo};
use crate::store::snapshot;
use crate::workers;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The transformation that runs (`path#line`, as `extract` and `show` name it).
    #[arg(long)]
    transformation: Option<String>,
    /// The variant that runs, for A/B tests.
    #[arg(long)]
    variant: Option<String>,
    /// Rows read, when the caller knows.
    #[arg(long)]
    rows_in: Option<u64>,
    /// Rows written, when the caller knows.
    #[arg(long)]
    rows_out: Option<u64>,
    /// The command, after `--`.
    #[arg(last = true, required = true)]
    command: Vec<OsString>,
}

/// Run a command with its standard streams and exit code passed through, measure it, and
/// append its record to the note of HEAD under `refs/notes/lineage-runs`. The command's
/// result comes first: when recording fails, that is a warning and the exit code is still
/// the command's.
pub fn run_run(args: &RunArgs) -> anyhow::Result<ExitStatus> {
    // Where the run will be recorded (HEAD, and whether the work tree is dirty) is settled
    // before it starts: that is the code that runs.
    let target = Repo::discover(Path::new("."))
        .map_err(anyhow::Error::from)
        .and_then(|repo| Ok((context(&repo, args)?, repo)));
    if let Err(e) = &target {
        eprintln!("git-lineage: this run will not be recorded: {e:#}");
    }
    let measured = match measure::run(&args.command) {
        Ok(measured) => measured,
        Err(e @ measure::MeasureError::Spawn { .. }) => {
            // As a shell says it: 127, the command could not be run.
            eprintln!("git-lineage: {:#}", anyhow::Error::from(e));
            return Ok(ExitStatus::Code(127));
        }
        Err(e) => return Err(e.into()),
    };
    if let Ok((context, repo)) = target {
        let record = RunRecord::measured(context, &measured);
        if let Err(e) = repo.append_note_line(RUNS_REF, &record.commit, &record.to_line()) {
            eprintln!("git-lineage: the run was not recorded: {:#}", anyhow::Error::from(e));
        }
    }
    let code = measured.outcome.exit_code().clamp(0, 255);
    Ok(ExitStatus::Code(u8::try_from(code).unwrap_or(1)))
}

fn context(repo: &Repo, args: &RunArgs) -> anyhow::Result<RunContext> {
    let commit = repo.resolve_commit("HEAD").context("the run is recorded on HEAD")?;
    Ok(RunContext {
        transformation: args.transformation.clone(),
        variant: args.variant.clone(),
        commit,
        dirty: repo.is_dirty()?,
        rows_in: args.rows_in,
        rows_out: args.rows_out,
        host: nix::unistd::gethostname().ok().map(|h| h.to_string_lossy().into_owned()),
        program: args
            .command
            .first()
            .and_then(|p| Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned())),
    })
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The transformation (`path#line`); all runs when absent.
    transformation: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: HistoryFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum HistoryFormat {
    Text,
    Json,
    Csv,
}

/// One run as `history` shows it: the record, and whether the transformation's lineage
/// changed since its run before.
#[derive(Debug, serde::Serialize)]
struct HistoryRun {
    #[serde(flatten)]
    record: RunRecord,
    /// `same`, `changed` (reads, writes or column edges differ from the previous run's
    /// commit), `first`, or `unknown` (no transformation named, or not in the lineage).
    lineage_change: &'static str,
}

/// The runs of a transformation (or all), oldest first, with the commit each ran on and
/// whether its lineage changed since the run before.
pub fn run_history(args: &HistoryArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let mut records = Vec::new();
    for (commit, bytes) in repo.all_notes(RUNS_REF)? {
        let (found, problems) = parse_lines(&String::from_utf8_lossy(&bytes));
        for (line, problem) in problems {
            eprintln!("git-lineage: run note of {commit}, line {line}: {problem}; skipped");
        }
        records.extend(found);
    }
    if let Some(t) = &args.transformation {
        records.retain(|r| r.transformation.as_deref() == Some(t.as_str()));
    }
    records.sort_by(|a, b| (&a.started_at, &a.commit).cmp(&(&b.started_at, &b.commit)));
    let runs = with_lineage_changes(&repo, records);
    let mut out = std::io::stdout().lock();
    match args.format {
        HistoryFormat::Json => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "runs": runs }))?
            )?;
        }
        HistoryFormat::Csv => write_csv(&mut out, &runs)?,
        HistoryFormat::Text => write_text(&mut out, &runs)?,
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// Compare each run's transformation with its previous run's, on their commits' lineage.
fn with_lineage_changes(repo: &Repo, records: Vec<RunRecord>) -> Vec<HistoryRun> {
    let builder = snapshot::Builder::new(repo, workers::default_jobs()).remembering();
    // (commit, file) -> that file's lineage at that commit, if it has any.
    let mut lineage: HashMap<(String, String), Option<Fragment>> = HashMap::new();
    // transformation -> its lineage at its previous run.
    let mut last: HashMap<String, Transformation> = HashMap::new();
    let mut out = Vec::new();
    for record in records {
        let Some(id) = record.transformation.clone() else {
            out.push(HistoryRun { record, lineage_change: "unknown" });
            continue;
        };
        let file = id.split_once('#').map_or(id.as_str(), |(f, _)| f);
        let fragment =
            lineage.entry((record.commit.clone(), file.to_string())).or_insert_with(|| {
                let snapshot = builder.of_commit(&record.commit, Overrides::default()).ok();
                snapshot.and_then(|s| s.files.into_iter().find(|f| f.path == file))
            });
        let now = fragment.as_ref().and_then(|f| f.transformations.iter().find(|t| t.id == id));
        let change = match (last.get(&id), now) {
            (_, None) => "unknown",
            (None, Some(_)) => "first",
            (Some(before), Some(now)) if graph::diff::same(before, now) => "same",
            (Some(_), Some(_)) => "changed",
        };
        if let Some(now) = now {
            last.insert(id.clone(), now.clone());
        }
        out.push(HistoryRun { record, lineage_change: change });
    }
    out
}

const CSV_COLUMNS: [&str; 20] = [
    "started_at",
    "commit",
    "dirty",
    "transformation",
    "variant",
    "status",
    "exit_code",
    "signal",
    "wall_ms",
    "user_ms",
    "sys_ms",
    "max_rss_bytes",
    "read_bytes",
    "write_bytes",
    "rows_in",
    "rows_out",
    "source",
    "host",
    "program",
    "lineage_change",
];

fn write_csv(out: &mut impl Write, runs: &[HistoryRun]) -> std::io::Result<()> {
    writeln!(out, "{}", CSV_COLUMNS.join(","))?;
    for run in runs {
        let value = serde_json::to_value(run).unwrap_or_default();
        let cells: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|c| match value.get(c) {
                Some(serde_json::Value::String(s)) => csv_cell(s),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            })
            .collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// A CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn write_text(out: &mut impl Write, runs: &[HistoryRun]) -> std::io::Result<()> {
    if runs.is_empty() {
        return writeln!(out, "no runs recorded");
    }
    for run in runs {
        let r = &run.record;
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.0} ms"));
        let mb = |v: Option<u64>| {
            #[allow(clippy::cast_precision_loss)]
            v.map_or_else(|| "-".to_string(), |v| format!("{:.1} MB", v as f64 / 1e6))
        };
        writeln!(
            out,
            "{} {}{} {} {}{} wall {:.0} ms, cpu {} + {}, peak {}, lineage {}",
            r.started_at,
            &r.commit[..r.commit.len().min(10)],
            if r.dirty { "+dirty" } else { "" },
            r.transformation.as_deref().unwrap_or("-"),
            r.status,
            r.variant.as_deref().map(|v| format!(" [{v}]")).unwrap_or_default(),
            r.wall_ms,
            ms(r.user_ms),
            ms(r.sys_ms),
            mb(r.max_rss_bytes),
            run.lineage_change,
        )?;
    }
    Ok(())
}
