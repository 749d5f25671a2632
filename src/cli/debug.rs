//! `git-lineage debug …`: measurements for developers, hidden from the main help.
//!
//! `corpus` prints accuracy over the shared third-party corpora (and scores peer tools'
//! predictions with the same scorer), the Python corpus included; `throughput` prints SQL
//! statements per second, `python-throughput` megabytes of Python source per second.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};

use super::ExitStatus;
use crate::corpus::python::{self, PythonReport};
use crate::corpus::{self, Prediction, Report};
use crate::extract::{Settings, extract};
use crate::workers;

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Accuracy over ../shared/corpus: per corpus and dialect, table and column lineage.
    Corpus {
        /// The corpus folder (holds sqllineage/, tpch/, tpcds/).
        #[arg(long, default_value = "../shared/corpus")]
        corpus: PathBuf,
        /// Score a peer tool's predictions too: NAME=FILE (JSON lines of
        /// {"id", "sources", "targets", "columns", "error"}).
        #[arg(long, value_parser = parse_peer)]
        peer: Vec<(String, PathBuf)>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// List the ids of the cases git-lineage gets wrong, and for the Python corpus each
        /// unit's missing and extra datasets.
        #[arg(long, short = 'v', visible_alias = "verbose")]
        misses: bool,
        /// Only the Python corpus (`python/` under the corpus folder).
        #[arg(long)]
        python: bool,
        /// Only cases whose id contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Indirect-lineage fixtures (`<dialect>/<case>.sql` with expected edges in comments).
        #[arg(long, default_value = "fixtures/indirect")]
        fixtures: PathBuf,
    },
    /// The cost model on the repository's history: trained on the earlier commits, scored on
    /// the later ones against the baselines (`bench/predict`).
    Predict(super::evaluate::EvaluateArgs),
    /// Statements per second over SQL files (parse + table and column lineage, in process),
    /// on one thread and on every core.
    Throughput {
        files: Vec<PathBuf>,
        /// Repeat for at least this many seconds.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
    /// Write the synthetic lineage `view` is measured on (`bench/view`): DATASETS tables in 20
    /// SQL files under OUT.
    Synthetic {
        #[arg(default_value_t = 2000)]
        datasets: usize,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Megabytes of Python source per second on one core, extraction included (in process,
    /// the files read once beforehand), over `.py` files and the `.py` files under folders.
    PythonThroughput {
        #[arg(default_value = "../shared/corpus/python")]
        paths: Vec<PathBuf>,
        /// Repeat for at least this many seconds.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn parse_peer(text: &str) -> Result<(String, PathBuf), String> {
    let (name, file) = text.split_once('=').ok_or("expected NAME=FILE")?;
    Ok((name.to_string(), PathBuf::from(file)))
}

pub fn run(command: DebugCommand) -> anyhow::Result<ExitStatus> {
    match command {
        DebugCommand::Corpus { corpus: dir, format, misses, filter, python: true, .. } => {
            let outcome = python_corpus(&dir, filter.as_deref())?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "python": outcome.json() }))?
                ),
                Format::Text => outcome.print(misses),
            }
            Ok(ExitStatus::Success)
        }
        DebugCommand::Corpus { corpus: dir, peer, format, misses, filter, fixtures, python: _ } => {
            let indirect = if fixtures.is_dir() {
                let cases = corpus::load_indirect(&fixtures)
                    .with_context(|| format!("reading {}", fixtures.display()))?;
                let results = workers::map(&cases, workers::default_jobs(), |c| {
                    (c.id.clone(), corpus::predict_indirect(c) == c.expected)
                })?;
                Some(results)
            } else {
                None
            };
            if !dir.is_dir() {
                if let Some(results) = &indirect {
                    print_indirect(results, misses);
                }
                println!("corpus not found at {}: skipped", dir.display());
                return Ok(ExitStatus::Success);
            }
            let mut cases =
                corpus::load(&dir).with_context(|| format!("reading {}", dir.display()))?;
            if let Some(f) = &filter {
                cases.retain(|c| c.id.contains(f.as_str()));
            }
            let ours: BTreeMap<String, Prediction> =
                workers::map(&cases, workers::default_jobs(), |c| {
                    (c.id.clone(), corpus::predict(c))
                })?
                .into_iter()
                .collect();
            let mut reports: Vec<(String, Report)> =
                vec![("git-lineage".into(), corpus::score(&cases, &ours))];
            for (name, file) in &peer {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let predictions = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .filter_map(|l| serde_json::from_str::<Prediction>(l).ok())
                    .map(|p| (p.id.clone(), p))
                    .collect();
                reports.push((name.clone(), corpus::score(&cases, &predictions)));
            }
            let dbt = corpus::score_dbt(&dir)
                .with_context(|| format!("reading dbt projects in {}", dir.display()))?;
            let python = python_corpus(&dir, filter.as_deref())?;
            match format {
                Format::Json => print_json(&reports, &python)?,
                Format::Text => {
                    if let Some(results) = &indirect {
                        print_indirect(results, misses);
                    }
                    for project in &dbt {
                        println!(
                            "dbt project {}: model reads {} exact, model columns {} exact",
                            project.project,
                            cell(project.models),
                            cell(project.columns)
                        );
                        if misses {
                            for m in &project.misses {
                                println!("miss dbt {m}");
                            }
                        }
                    }
                    print_text(&reports, &python, misses);
                }
            }
            Ok(ExitStatus::Success)
        }
        DebugCommand::Throughput { files, seconds } => throughput(&files, seconds),
        DebugCommand::PythonThroughput { paths, seconds } => python_throughput(&paths, seconds),
        DebugCommand::Synthetic { datasets, out } => {
            for (path, sql) in crate::report::view::synthetic_files(datasets) {
                let path = out.join(path);
                std::fs::write(&path, sql)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            Ok(ExitStatus::Success)
        }
        DebugCommand::Predict(args) => super::evaluate::run(&args),
    }
}

/// Exact-match share of the indirect-lineage fixtures.
fn print_indirect(results: &[(String, bool)], misses: bool) {
    let mut count = corpus::Count::default();
    for (id, ok) in results {
        count.add(*ok);
        if misses && !ok {
            println!("miss indirect {id}");
        }
    }
    println!("indirect lineage, fixtures/indirect: {} exact", cell(count));
    println!();
}

fn print_json(reports: &[(String, Report)], python: &PythonOutcome) -> anyhow::Result<()> {
    let tools: BTreeMap<&str, serde_json::Value> = reports
        .iter()
        .map(|(name, r)| (name.as_str(), serde_json::to_value(&r.by_corpus).unwrap_or_default()))
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(
            &serde_json::json!({ "tools": tools, "python": python.json() })
        )?
    );
    Ok(())
}

/// The Python corpus scored, or why it was not.
enum PythonOutcome {
    Skipped(String),
    Scored(PythonReport),
}

impl PythonOutcome {
    fn json(&self) -> serde_json::Value {
        match self {
            PythonOutcome::Skipped(why) => serde_json::json!({ "skipped": why }),
            PythonOutcome::Scored(report) => serde_json::json!({
                "exact": report.exact,
                "files": report.files,
                "pipelines": report.pipelines,
                "uncertain": report.uncertain,
                "precision": report.precision(),
                "recall": report.recall(),
                "units": report.units,
            }),
        }
    }

    /// The figures, the last line `python lineage: exact E% (k/n files and pipelines), precision
    /// P, recall R`;
    /// with `misses`, each inexact unit's missing and extra datasets first.
    fn print(&self, misses: bool) {
        let report = match self {
            PythonOutcome::Skipped(why) => {
                println!("{why}");
                return;
            }
            PythonOutcome::Scored(report) => report,
        };
        if misses {
            for unit in report.units.iter().filter(|u| !u.exact()) {
                let mut parts = Vec::new();
                for (role, score) in [("inputs", &unit.inputs), ("outputs", &unit.outputs)] {
                    if !score.missing.is_empty() {
                        parts.push(format!("{role} missing {:?}", score.missing));
                    }
                    if !score.unresolved.is_empty() {
                        parts.push(format!("{role} unresolved {:?}", score.unresolved));
                    }
                    if !score.extra.is_empty() {
                        parts.push(format!("{role} extra {:?}", score.extra));
                    }
                }
                println!("miss python {} {}: {}", unit.unit, unit.file, parts.join("; "));
            }
        }
        println!(
            "python corpus: files {} exact, pipelines {} exact, marked uncertain {} exact; \
             {} datasets expected, {} found; {} given, {} matched, {} unresolved placeholders \
             (targets: exact >= {}%, precision >= {})",
            cell(report.files).trim(),
            cell(report.pipelines).trim(),
            cell(report.uncertain).trim(),
            report.expected,
            report.found,
            report.given,
            report.matched,
            report.unresolved,
            python::TARGET_EXACT_PERCENT,
            python::TARGET_PRECISION,
        );
        println!("{}", report.summary());
    }
}

/// Score git-lineage over `<corpus>/python/`, if it is there.
fn python_corpus(dir: &Path, filter: Option<&str>) -> anyhow::Result<PythonOutcome> {
    let folder = dir.join("python");
    if !folder.join(python::EXPECTED).is_file() {
        return Ok(PythonOutcome::Skipped(format!(
            "python corpus not found at {}: skipped",
            folder.display()
        )));
    }
    let mut cases =
        python::load(&folder).with_context(|| format!("reading {}", folder.display()))?;
    if let Some(f) = filter {
        cases.retain(|c| c.file.contains(f));
    }
    let settings = Settings::default();
    let answers = workers::map(&cases, workers::default_jobs(), |c| {
        python::predict(&folder, c, &settings).map(|a| (c.file.clone(), a))
    })?
    .into_iter()
    .collect::<Result<BTreeMap<_, _>, _>>()
    .with_context(|| format!("reading {}", folder.display()))?;
    Ok(PythonOutcome::Scored(python::score(&cases, &answers)))
}

fn cell(count: corpus::Count) -> String {
    if count.scored == 0 {
        "-".into()
    } else {
        format!("{:5.1}% ({}/{})", count.percent(), count.matched, count.scored)
    }
}

fn print_text(reports: &[(String, Report)], python: &PythonOutcome, misses: bool) {
    let Some((_, ours)) = reports.first() else { return };
    println!("git-lineage, by corpus and dialect:");
    println!("  {:<24} {:<22} {:<22}", "corpus/dialect", "table", "column");
    for (group, score) in &ours.by_dialect {
        println!("  {group:<24} {:<22} {:<22}", cell(score.table), cell(score.column));
    }
    println!();
    println!("by tool and corpus:");
    println!("  {:<18} {:<12} {:<22} {:<22}", "tool", "corpus", "table", "column");
    for (name, report) in reports {
        for (corpus, score) in &report.by_corpus {
            println!(
                "  {name:<18} {corpus:<12} {:<22} {:<22}",
                cell(score.table),
                cell(score.column)
            );
        }
    }
    if misses {
        println!();
        for id in &ours.misses {
            println!("miss {id}");
        }
    }
    // The Python figures come before the last line, which stays the SQL summary.
    println!();
    python.print(misses);
    let total = ours.total;
    println!(
        "table {:.1}% column {:.1}% ({} cases)",
        total.table.percent(),
        total.column.percent(),
        total.table.scored + total.column.scored
    );
}

fn throughput(files: &[PathBuf], seconds: f64) -> anyhow::Result<ExitStatus> {
    if files.is_empty() {
        bail!("no files given");
    }
    let mut texts = Vec::new();
    for f in files {
        texts.push((
            f.display().to_string(),
            std::fs::read(f).with_context(|| format!("reading {}", f.display()))?,
        ));
    }
    let statements: usize = texts
        .iter()
        .map(|(_, b)| crate::extract::sql::split::split(&String::from_utf8_lossy(b)).len())
        .sum();
    let bytes: usize = texts.iter().map(|(_, b)| b.len()).sum();
    #[allow(clippy::cast_precision_loss)]
    let bytes_rate = |passes: usize, secs: f64| (bytes * passes) as f64 / secs;
    let budget = Duration::from_secs_f64(seconds);
    // One pass over every file, repeated until the budget is spent: statements done, and
    // column edges found per pass (a check that lineage really was computed).
    let run = |indirect: bool, budget: Duration| {
        let settings = Settings { indirect, ..Settings::default() };
        let start = Instant::now();
        let (mut passes, mut edges) = (0usize, 0usize);
        while passes == 0 || start.elapsed() < budget {
            for (path, bytes) in &texts {
                let fragment = extract(path, bytes, &settings);
                edges += fragment.transformations.iter().map(|t| t.columns.len()).sum::<usize>();
            }
            passes += 1;
        }
        (passes, start.elapsed().as_secs_f64(), edges / passes)
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = |passes: usize, secs: f64| (statements * passes) as f64 / secs;
    // With and without indirect lineage, in alternating slices of the same run so that the
    // machine's drift hits both: the cost of indirect lineage is their ratio.
    let slices = 8;
    let slice = budget / slices;
    let (mut with, mut without) = ((0usize, 0.0f64), (0usize, 0.0f64));
    let mut edges = 0;
    for _ in 0..slices {
        let (p, s, e) = workers::map(&[false], 1, |&i| run(i, slice))?[0];
        without = (without.0 + p, without.1 + s);
        let (p, s, e2) = workers::map(&[true], 1, |&i| run(i, slice))?[0];
        with = (with.0 + p, with.1 + s);
        edges = e2.max(e);
    }
    let (passes, secs) = with;
    let cores = workers::default_jobs();
    let all: Vec<bool> = vec![true; cores];
    let parallel = workers::map(&all, cores, |&i| run(i, budget))?;
    let parallel_rate: f64 = parallel.iter().map(|(p, s, _)| rate(*p, *s)).sum();
    let direct_rate = rate(without.0, without.1);
    println!(
        "{}",
        serde_json::json!({
            "statements": statements * passes,
            "seconds": secs,
            "statements_per_second": rate(passes, secs),
            // Source bytes per second on one thread: the measure for Python files, which have
            // no statements to count.
            "bytes_per_second": bytes_rate(passes, secs),
            "statements_per_second_without_indirect": direct_rate,
            "indirect_cost_percent": 100.0 * (1.0 - rate(passes, secs) / direct_rate),
            "cores": cores,
            "statements_per_second_all_cores": parallel_rate,
            "column_edges_per_pass": edges,
        })
    );
    Ok(ExitStatus::Success)
}

/// Megabytes (10^6 bytes) of Python source per second on one thread, extraction included,
/// over every pass of the files until `seconds` have gone by. Last line:
/// `python: X MB/s on one core over N files (M KB)`.
fn python_throughput(paths: &[PathBuf], seconds: f64) -> anyhow::Result<ExitStatus> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry = entry.with_context(|| format!("walking {}", path.display()))?;
                if entry.file_type().is_file()
                    && entry.path().extension().is_some_and(|e| e == "py")
                {
                    files.push(entry.into_path());
                }
            }
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            println!("python: {} not found: skipped", path.display());
            return Ok(ExitStatus::Success);
        }
    }
    if files.is_empty() {
        bail!(
            "no .py files under {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let mut texts = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        texts.push((f.display().to_string(), bytes));
    }
    let bytes: usize = texts.iter().map(|(_, b)| b.len()).sum();
    let budget = Duration::from_secs_f64(seconds);
    let settings = Settings::default();
    // One worker, so that the figure is one core's; a first pass is not timed.
    let (times, secs, per_pass) = workers::map(&[()], 1, |()| {
        let pass = || {
            let mut found = (0usize, 0usize);
            for (path, b) in &texts {
                let fragment = extract(path, b, &settings);
                found.0 += fragment.transformations.len();
                found.1 += fragment
                    .transformations
                    .iter()
                    .map(|t| t.reads.len() + t.writes.len())
                    .sum::<usize>();
            }
            found
        };
        let first = pass();
        let start = Instant::now();
        let mut times = Vec::new();
        while times.is_empty() || start.elapsed() < budget {
            let begin = Instant::now();
            std::hint::black_box(pass());
            times.push(begin.elapsed().as_secs_f64());
        }
        (times, start.elapsed().as_secs_f64(), first)
    })?
    .swap_remove(0);
    let passes = times.len();
    // The headline is the median pass: the machines share their host, and a neighbour's burst
    // slows some passes several-fold (means of runs minutes apart moved by a fifth here); the
    // mean is printed too.
    let median = crate::ab::stats::median(&times).unwrap_or(secs);
    #[allow(clippy::cast_precision_loss)]
    let (mean_rate, rate) = ((bytes * passes) as f64 / secs / 1e6, bytes as f64 / median / 1e6);
    println!(
        "{}",
        serde_json::json!({
            "files": texts.len(),
            "bytes": bytes,
            "passes": passes,
            "seconds": secs,
            "median_pass_seconds": median,
            "megabytes_per_second": rate,
            "megabytes_per_second_mean": mean_rate,
            "transformations_per_pass": per_pass.0,
            "datasets_per_pass": per_pass.1,
        })
    );
    #[allow(clippy::cast_precision_loss)]
    let kilobytes = bytes as f64 / 1e3;
    println!(
        "python: {rate:.1} MB/s on one core over {} files ({kilobytes:.0} KB; median of {passes} passes, mean {mean_rate:.1})",
        texts.len()
    );
    Ok(ExitStatus::Success)
}
