//! `git lineage run` and `git lineage history`: the execution history kept beside the lineage.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::ExitStatus;
use crate::ab;
use crate::collect::record::{
    EXPERIMENT_ENV, FACTS_ENV, Facts, RunContext, RunRecord, VARIANT_ENV, WARMUP_ENV,
};
use crate::collect::{anomaly, measure};
use crate::config::Overrides;
use crate::extract::{Fragment, Transformation};
use crate::graph;
use crate::store::repo::{RUNS_REF, Repo};
use crate::store::{runs, snapshot};
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
    /// Rows written, when the caller knows. The command itself may report rows in and out
    /// once it knows them: it writes `{"rows_in": N, "rows_out": M}` to the file named by
    /// `$GIT_LINEAGE_RUN_FACTS`, and those win over the flags.
    #[arg(long)]
    rows_out: Option<u64>,
    /// The A/B experiment this run is one whole run of (`git lineage ab run` gives it): the
    /// record's source is `ab`, and the command's own runs are labelled through
    /// `$GIT_LINEAGE_EXPERIMENT`, `$GIT_LINEAGE_VARIANT` and `$GIT_LINEAGE_WARMUP`.
    #[arg(long, hide = true)]
    experiment: Option<String>,
    /// A warm-up run of the experiment: recorded, never counted.
    #[arg(long, hide = true, requires = "experiment")]
    warmup: bool,
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
    // A fresh file the command may write its facts to (rows out are known only after it ran).
    let facts_file = tempfile::NamedTempFile::new()
        .map_err(|e| eprintln!("git-lineage: no facts file for this run: {e}"))
        .ok();
    let mut env: Vec<(&str, &std::ffi::OsStr)> =
        facts_file.iter().map(|f| (FACTS_ENV, f.path().as_os_str())).collect();
    if let Some(experiment) = &args.experiment {
        env.push((EXPERIMENT_ENV, experiment.as_ref()));
        env.push((VARIANT_ENV, args.variant.as_deref().unwrap_or_default().as_ref()));
        env.push((WARMUP_ENV, if args.warmup { "1" } else { "0" }.as_ref()));
    }
    let measured = match measure::run(&args.command, &env) {
        Ok(measured) => measured,
        Err(e @ measure::MeasureError::Spawn { .. }) => {
            // As a shell says it: 127, the command could not be run.
            eprintln!("git-lineage: {:#}", anyhow::Error::from(e));
            return Ok(ExitStatus::Code(127));
        }
        Err(e) => return Err(e.into()),
    };
    if let Ok((context, repo)) = target {
        let context = match facts_file.as_ref().map(|f| read_facts(f.path())) {
            Some(Ok(facts)) => context.with_facts(facts),
            Some(Err(problem)) => {
                eprintln!("git-lineage: {FACTS_ENV}: {problem}; the run is recorded without them");
                context
            }
            None => context,
        };
        let mut record = RunRecord::measured(context, &measured);
        if args.experiment.is_some() {
            record.source = ab::SOURCE.to_string();
        } else {
            record.label_from_env();
        }
        if let Err(e) = repo.append_note_line(RUNS_REF, &record.commit, &record.to_line()) {
            eprintln!("git-lineage: the run was not recorded: {:#}", anyhow::Error::from(e));
        }
    }
    let code = measured.outcome.exit_code().clamp(0, 255);
    Ok(ExitStatus::Code(u8::try_from(code).unwrap_or(1)))
}

/// The facts the command wrote to its facts file, if any.
fn read_facts(path: &Path) -> Result<Facts, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    Facts::parse(&text)
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
        experiment: args.experiment.clone(),
        warmup: args.warmup,
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
    let mut records = read_runs(&repo)?;
    if let Some(t) = &args.transformation {
        records.retain(|r| r.subject() == Some(t.as_str()));
    }
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

/// Every recorded run, oldest first; lines that cannot be read are said (commit, line, what is
/// wrong) and skipped. Every command that reads the runs reads them through this.
pub(super) fn read_runs(repo: &Repo) -> anyhow::Result<Vec<RunRecord>> {
    let (records, unreadable) = runs::read_all(repo)?;
    for u in unreadable {
        eprintln!("git-lineage: run note of {}, line {}: {}; skipped", u.commit, u.line, u.problem);
    }
    Ok(records)
}

/// Transformations as the lineage of a commit has them, each file's read once per commit.
struct LineageAt<'r> {
    builder: snapshot::Builder<'r>,
    /// (commit, file) -> that file's lineage at that commit, if it has any.
    files: RefCell<HashMap<(String, String), Option<Fragment>>>,
}

impl<'r> LineageAt<'r> {
    fn new(repo: &'r Repo) -> Self {
        let builder = snapshot::Builder::new(repo, workers::default_jobs()).remembering();
        LineageAt { builder, files: RefCell::new(HashMap::new()) }
    }

    /// The transformation `id` (`path#line`) at `commit`.
    fn transformation(&self, commit: &str, id: &str) -> Option<Transformation> {
        let file = file_of(id);
        let mut files = self.files.borrow_mut();
        let fragment = files.entry((commit.to_string(), file.to_string())).or_insert_with(|| {
            let snapshot = self.builder.of_commit(commit, Overrides::default()).ok();
            snapshot.and_then(|s| s.files.into_iter().find(|f| f.path == file))
        });
        fragment.as_ref()?.transformations.iter().find(|t| t.id == id).cloned()
    }
}

/// The file of a transformation id (`path#line`).
pub(super) fn file_of(id: &str) -> &str {
    id.split_once('#').map_or(id, |(f, _)| f)
}

/// Compare each run's transformation with its previous run's, on their commits' lineage.
fn with_lineage_changes(repo: &Repo, records: Vec<RunRecord>) -> Vec<HistoryRun> {
    let lineage = LineageAt::new(repo);
    // transformation -> its lineage at its previous run.
    let mut last: HashMap<String, Transformation> = HashMap::new();
    let mut out = Vec::new();
    for record in records {
        let Some(id) = record.transformation.clone() else {
            out.push(HistoryRun { record, lineage_change: "unknown" });
            continue;
        };
        let now = lineage.transformation(&record.commit, &id);
        let change = match (last.get(&id), &now) {
            (_, None) => "unknown",
            (None, Some(_)) => "first",
            (Some(before), Some(now)) if graph::diff::same(before, now) => "same",
            (Some(_), Some(_)) => "changed",
        };
        if let Some(now) = now {
            last.insert(id, now);
        }
        out.push(HistoryRun { record, lineage_change: change });
    }
    out
}

const CSV_COLUMNS: [&str; 24] = [
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
    "job",
    "run_id",
    "experiment",
    "warmup",
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
                Some(serde_json::Value::Null) | None if *c == "warmup" => "false".to_string(),
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
            "{} {}{} {} {} ({}){} wall {:.0} ms, cpu {} + {}, peak {}, lineage {}",
            r.started_at,
            &r.commit[..r.commit.len().min(10)],
            if r.dirty { "+dirty" } else { "" },
            r.subject().unwrap_or("-"),
            r.status,
            r.source,
            r.variant
                .as_deref()
                .map(|v| format!(" [{v}{}]", if r.warmup { ", warm-up" } else { "" }))
                .unwrap_or_default(),
            r.wall_ms,
            ms(r.user_ms),
            ms(r.sys_ms),
            mb(r.max_rss_bytes),
            run.lineage_change,
        )?;
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct AnomaliesArgs {
    /// Judge runs that started at or after this time: a date (`2026-11-01`), an RFC 3339 time,
    /// or a span back from now (`7d`, `36h`, `2w`). Default: every run.
    #[arg(long)]
    since: Option<String>,
    /// Only this transformation (`path#line`) or job.
    #[arg(long)]
    transformation: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: AnomalyFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AnomalyFormat {
    Text,
    Json,
}

/// Runs far from their transformation's history, with what changed since the run before.
/// Exit code 1 when there are any.
pub fn run_anomalies(args: &AnomaliesArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let wanted = args.transformation.as_deref();
    let (reported, runs) =
        find_anomalies(&repo, since.as_deref(), |subject| wanted.is_none_or(|t| t == subject))?;
    let mut out = std::io::stdout().lock();
    match args.format {
        AnomalyFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "anomalies": reported }))?
        )?,
        AnomalyFormat::Text => write_anomalies(&mut out, &reported, runs)?,
    }
    out.flush()?;
    Ok(if reported.is_empty() { ExitStatus::Success } else { ExitStatus::Failure })
}

/// The anomalies among the recorded runs that started at or after `since` (record time
/// text) of the transformations (or jobs) `keep` accepts, each with its likely causes; and
/// how many runs are recorded.
pub(super) fn find_anomalies(
    repo: &Repo,
    since: Option<&str>,
    keep: impl Fn(&str) -> bool,
) -> anyhow::Result<(Vec<anomaly::Reported>, usize)> {
    let records = read_runs(repo)?;
    let mut found = anomaly::find(&records, since);
    found.retain(|a| records[a.run].subject().is_some_and(&keep));
    let lineage = LineageAt::new(repo);
    let reported = found
        .iter()
        .map(|a| {
            let (run, previous) = (&records[a.run], &records[a.previous]);
            anomaly::Reported {
                transformation: run.subject().unwrap_or_default().to_string(),
                variant: run.variant.clone(),
                started_at: run.started_at.clone(),
                commit: run.commit.clone(),
                source: run.source.clone(),
                run_id: run.run_id.clone(),
                metric: a.metric,
                value: round3(a.value),
                expected: round3(a.expected),
                ratio: round3(a.value / a.expected),
                score: (a.score * 10.0).round() / 10.0,
                history_runs: a.history_runs,
                adjusted_for_rows: a.rows_slope.is_some(),
                previous_commit: previous.commit.clone(),
                causes: causes(repo, &lineage, &records, a),
            }
        })
        .collect();
    Ok((reported, records.len()))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `--since` as record time text (UTC, so that it compares with `started_at` as text).
pub(super) fn parse_since(text: &str) -> anyhow::Result<String> {
    use crate::collect::record::{format_timestamp, parse_time};
    let text = text.trim();
    if let Some(t) = parse_time(text) {
        return Ok(format_timestamp(t));
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        let t =
            jiff::tz::Offset::UTC.to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))?;
        return Ok(format_timestamp(t));
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let hours = match unit.trim() {
        "h" => 1,
        "d" => 24,
        "w" => 24 * 7,
        _ => anyhow::bail!("--since `{text}`: not a date, an RFC 3339 time or a span like 7d"),
    };
    let n: i64 = number.parse().with_context(|| format!("--since `{text}`"))?;
    let span = jiff::SignedDuration::from_hours(n.saturating_mul(hours));
    Ok(format_timestamp(jiff::Timestamp::now().checked_sub(span)?))
}

/// What may explain an anomaly: what differs between the run and the latest run before it.
fn causes(
    repo: &Repo,
    lineage: &LineageAt,
    records: &[RunRecord],
    a: &anomaly::Anomaly,
) -> Vec<String> {
    let (run, previous) = (&records[a.run], &records[a.previous]);
    let short = |c: &str| c[..c.len().min(10)].to_string();
    let mut causes = Vec::new();
    if run.commit != previous.commit
        && let Some(id) = run.transformation.as_deref()
    {
        let file = file_of(id);
        let blob = |commit: &str| repo.blob_at(commit, file).ok().flatten();
        if blob(&run.commit) != blob(&previous.commit) {
            causes.push(format!(
                "code changed: {file} differs between {} and {}",
                short(&previous.commit),
                short(&run.commit)
            ));
        }
        if let (Some(before), Some(now)) =
            (lineage.transformation(&previous.commit, id), lineage.transformation(&run.commit, id))
            && !graph::diff::same(&before, &now)
        {
            causes.push(format!("lineage changed: {}", lineage_change(&before, &now)));
        }
    }
    if run.dirty {
        causes.push("the work tree had uncommitted changes when it ran".to_string());
    }
    if a.rows_slope.is_none()
        && let (Some(rows), Some(usual)) = (run.rows_in, usual_rows(records, a))
    {
        #[allow(clippy::cast_precision_loss)]
        let ratio = rows as f64 / usual;
        if !(1.0 / 1.5..=1.5).contains(&ratio) {
            causes.push(format!("input rows {ratio:.1}x the usual ({rows} against {usual:.0})"));
        }
    }
    if run.host.is_some() && run.host != previous.host {
        causes.push(format!(
            "ran on {} (the run before on {})",
            run.host.as_deref().unwrap_or("-"),
            previous.host.as_deref().unwrap_or("an unknown host")
        ));
    }
    if causes.is_empty() {
        causes.push(
            "no change recorded in code, lineage, inputs or host since the run before".into(),
        );
    }
    causes
}

/// The median input rows of the runs before, when they were recorded.
fn usual_rows(records: &[RunRecord], a: &anomaly::Anomaly) -> Option<f64> {
    let subject = records[a.run].subject();
    #[allow(clippy::cast_precision_loss)]
    let mut rows: Vec<f64> = records[..a.run]
        .iter()
        .filter(|r| r.subject() == subject && r.status == "success")
        .filter_map(|r| r.rows_in.map(|n| n as f64))
        .collect();
    rows.sort_by(f64::total_cmp);
    rows.get(rows.len() / 2).copied()
}

/// The reads and writes a change added or removed, or that only column edges changed.
fn lineage_change(before: &Transformation, now: &Transformation) -> String {
    let mut parts = Vec::new();
    for (what, old, new) in
        [("reads", &before.reads, &now.reads), ("writes", &before.writes, &now.writes)]
    {
        let added: Vec<&str> =
            new.iter().filter(|d| !old.contains(d)).map(String::as_str).collect();
        let removed: Vec<&str> =
            old.iter().filter(|d| !new.contains(d)).map(String::as_str).collect();
        if !added.is_empty() {
            parts.push(format!("{what} + {}", added.join(", ")));
        }
        if !removed.is_empty() {
            parts.push(format!("{what} - {}", removed.join(", ")));
        }
    }
    if parts.is_empty() { "column or indirect edges differ".to_string() } else { parts.join("; ") }
}

fn write_anomalies(
    out: &mut impl Write,
    found: &[anomaly::Reported],
    runs: usize,
) -> std::io::Result<()> {
    if found.is_empty() {
        return writeln!(out, "no anomalies in {runs} recorded runs");
    }
    for a in found {
        let (value, expected) = match a.metric {
            anomaly::Metric::Duration => {
                (format!("{:.0} ms", a.value), format!("{:.0} ms", a.expected))
            }
            anomaly::Metric::Memory => {
                (format!("{:.1} MB", a.value / 1e6), format!("{:.1} MB", a.expected / 1e6))
            }
        };
        let what = match a.metric {
            anomaly::Metric::Duration => "duration",
            anomaly::Metric::Memory => "peak memory",
        };
        writeln!(
            out,
            "{} {} {}{}",
            a.started_at,
            &a.commit[..a.commit.len().min(10)],
            a.transformation,
            a.variant.as_ref().map(|v| format!(" [{v}]")).unwrap_or_default()
        )?;
        writeln!(
            out,
            "  {what} {value}, {:.2}x the expected {expected} (score {:+.1} over {} earlier runs{})",
            a.ratio,
            a.score,
            a.history_runs,
            if a.adjusted_for_rows { ", adjusted for input rows" } else { "" }
        )?;
        for cause in &a.causes {
            writeln!(out, "  likely cause: {cause}")?;
        }
    }
    Ok(())
}
