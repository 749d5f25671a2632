//! `git lineage train` and `git lineage predict`, and the predicted cost change `diff` shows:
//! the wiring between the repository (runs, lineage of each commit, the stored model) and
//! `predict`'s pure parts.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::ExitStatus;
use crate::collect::record::{RunRecord, parse_time};
use crate::config::Overrides;
use crate::extract::Fragment;
use crate::predict::cost::{self, Change, CostDiff, Driver, PipelineCost};
use crate::predict::features::{self, History, PastRun, Pipeline, Row};
use crate::predict::model::{self, Bundle, Estimator, Example, TrainOptions};
use crate::predict::runtime::Runtime;
use crate::store::repo::{MODEL_REF, Repo};
use crate::store::snapshot;
use crate::workers;

/// Fewest runs `train` accepts: below that the bundled model predicts better.
const MIN_RUNS: usize = 30;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The latest share of runs held out for early stopping and the validation error.
    #[arg(long, default_value_t = 0.2)]
    validation: f64,
    /// Train and report, but do not store the model.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The revision whose pipeline is predicted (default: HEAD).
    rev: Option<String>,
    /// Transformations that run at once (0: no limit).
    #[arg(long, default_value_t = 1)]
    parallel: usize,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The lineage of the revisions that runs ran on, as pipelines, each commit built once.
pub struct Lineage<'r> {
    repo: &'r Repo,
    builder: snapshot::Builder<'r>,
    commits: HashMap<String, Option<(Pipeline, Vec<Fragment>)>>,
}

impl<'r> Lineage<'r> {
    pub fn new(repo: &'r Repo) -> Self {
        let builder = snapshot::Builder::new(repo, workers::default_jobs()).remembering();
        Lineage { repo, builder, commits: HashMap::new() }
    }

    /// The pipeline of a commit (`None` when its lineage cannot be built: said on stderr).
    pub fn commit(&mut self, commit: &str) -> Option<&(Pipeline, Vec<Fragment>)> {
        if !self.commits.contains_key(commit) {
            let built = match self.builder.of_commit(commit, Overrides::default()) {
                Ok(snapshot) => {
                    let repo = self.repo;
                    let code =
                        |path: &str| repo.blob_at(commit, path).ok().flatten().unwrap_or_default();
                    Some((Pipeline::new(&snapshot.files, code), snapshot.files))
                }
                Err(e) => {
                    eprintln!("git-lineage: the lineage of {commit}: {:#}", anyhow::Error::from(e));
                    None
                }
            };
            self.commits.insert(commit.to_string(), built);
        }
        self.commits.get(commit).and_then(Option::as_ref)
    }

    /// The pipeline of the index or the work tree.
    pub fn uncommitted(&self, cached: bool) -> anyhow::Result<(Pipeline, Vec<Fragment>)> {
        let source = if cached {
            snapshot::index_source(self.repo, Overrides::default())?
        } else {
            snapshot::worktree_source(self.repo, Overrides::default())?
        };
        let code: BTreeMap<String, String> =
            source.files.iter().map(|f| (f.path.clone(), f.blob.clone())).collect();
        let (snapshot, _) = self.builder.build(source)?;
        let pipeline = Pipeline::new(&snapshot.files, |p| code.get(p).cloned().unwrap_or_default());
        Ok((pipeline, snapshot.files))
    }
}

/// A recorded run placed in the lineage of its commit.
pub struct JoinedRun {
    pub record: RunRecord,
    pub commit: String,
    /// Index of its transformation in the commit's pipeline.
    pub node: usize,
    pub at: i64,
}

/// Every usable run (successful, on a clean work tree, of a transformation the lineage of its
/// commit has), oldest first, and the history they make.
pub fn join_runs(
    repo: &Repo,
    lineage: &mut Lineage<'_>,
) -> anyhow::Result<(History, Vec<JoinedRun>)> {
    Ok(join_records(super::runs::read_runs(repo)?, lineage))
}

/// `join_runs` on records already read.
pub fn join_records(
    records: Vec<RunRecord>,
    lineage: &mut Lineage<'_>,
) -> (History, Vec<JoinedRun>) {
    let mut joined = Vec::new();
    let mut past = Vec::new();
    for record in records {
        // A dirty run ran code that no commit has; a failed one did not finish; an A/B
        // experiment's warm-up run is cold on purpose.
        if record.dirty || record.status != "success" || record.warmup {
            continue;
        }
        let Some(id) = record.transformation.clone() else { continue };
        let Some(at) = parse_time(&record.started_at).map(jiff::Timestamp::as_millisecond) else {
            continue;
        };
        let commit = record.commit.clone();
        let Some((pipeline, _)) = lineage.commit(&commit) else { continue };
        let Some(node) = pipeline.find(&id) else { continue };
        let n = &pipeline.nodes[node];
        past.push(PastRun {
            key: n.key.clone(),
            code: n.code.clone(),
            at,
            wall_ms: record.wall_ms,
            cpu_ms: match (record.user_ms, record.sys_ms) {
                (Some(u), Some(s)) => Some(u + s),
                _ => None,
            },
            #[expect(clippy::cast_precision_loss, reason = "bytes and rows below 2^52")]
            memory_bytes: record.max_rss_bytes.map(|b| b as f64),
            #[expect(clippy::cast_precision_loss, reason = "rows below 2^52")]
            rows_in: record.rows_in.map(|r| r as f64),
            #[expect(clippy::cast_precision_loss, reason = "rows below 2^52")]
            rows_out: record.rows_out.map(|r| r as f64),
            shape: features::code_shape(&n.transformation),
        });
        joined.push(JoinedRun { record, commit, node, at });
    }
    (History::new(past), joined)
}

/// The training examples of `runs`: each with the features it had just before it started.
pub fn examples(lineage: &mut Lineage<'_>, history: &History, runs: &[JoinedRun]) -> Vec<Example> {
    runs.iter()
        .filter_map(|run| {
            let (pipeline, _) = lineage.commit(&run.commit)?;
            #[expect(clippy::cast_precision_loss, reason = "rows below 2^52")]
            let rows_in = run.record.rows_in.map(|r| r as f64);
            let row = features::row(pipeline, run.node, history, run.at, rows_in);
            #[expect(clippy::cast_precision_loss, reason = "bytes below 2^52")]
            let memory_bytes = run.record.max_rss_bytes.map(|b| b as f64);
            Some(Example {
                row,
                duration_ms: run.record.wall_ms,
                memory_bytes,
                at: run.at,
                commit: run.commit.clone(),
            })
        })
        .collect()
}

pub fn run_train(args: &TrainArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let mut lineage = Lineage::new(&repo);
    let (history, joined) = join_runs(&repo, &mut lineage)?;
    if joined.len() < MIN_RUNS {
        eprintln!(
            "git-lineage: {} usable runs (successful, clean work tree, of a transformation in the \
             lineage); training needs at least {MIN_RUNS}. The bundled model stays in use.",
            joined.len()
        );
        return Ok(ExitStatus::Failure);
    }
    let examples = examples(&mut lineage, &history, &joined);
    let options = TrainOptions { validation: args.validation, ..TrainOptions::default() };
    let trained = model::train(&examples, "repository", &options)?;
    let stored = if args.dry_run {
        None
    } else {
        let files = trained.bundle.files();
        let files: Vec<(&str, &[u8])> =
            files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let message = format!(
            "git-lineage model: {} runs on {} commits",
            trained.bundle.meta.examples, trained.bundle.meta.commits
        );
        Some(repo.commit_ref_files(MODEL_REF, &files, &message)?)
    };
    let mut out = std::io::stdout().lock();
    let meta = &trained.bundle.meta;
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({ "model": meta, "stored": stored.as_ref().map(|c| format!("{MODEL_REF} {c}")) });
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Text => {
            writeln!(
                out,
                "trained on {} runs of {} commits ({} to {}), {} held out",
                meta.examples,
                meta.commits,
                meta.first_run.as_deref().unwrap_or("?"),
                meta.last_run.as_deref().unwrap_or("?"),
                meta.validation_examples
            )?;
            let q = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
            for (name, e) in &meta.ensembles {
                writeln!(
                    out,
                    "{name}: {} trees on {} rows, held-out q-error median {} p90 {} ({} rows)",
                    e.trees,
                    e.training_rows,
                    q(e.validation_median_q),
                    q(e.validation_p90_q),
                    e.validation_rows
                )?;
            }
            match &stored {
                Some(c) => writeln!(out, "stored in {MODEL_REF} ({})", &c[..c.len().min(12)])?,
                None => writeln!(out, "not stored (--dry-run)")?,
            }
        }
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// The model to predict with: the repository's (`refs/lineage/model`) when it has one that
/// fits this git-lineage, else the bundled one. The second value says which, for people.
pub fn load_model(repo: &Repo) -> anyhow::Result<(Bundle, String)> {
    if let Some(files) = repo.ref_files(MODEL_REF)? {
        match Bundle::from_files(&files) {
            Ok(bundle) if bundle.fits() => {
                let what = format!(
                    "trained on this repository ({} runs, {} commits, to {})",
                    bundle.meta.examples,
                    bundle.meta.commits,
                    bundle.meta.last_run.as_deref().unwrap_or("?")
                );
                return Ok((bundle, what));
            }
            Ok(_) => eprintln!(
                "git-lineage: the model in {MODEL_REF} was trained on other features; using the \
                 bundled model (run `git lineage train` again)"
            ),
            Err(e) => {
                eprintln!("git-lineage: the model in {MODEL_REF}: {e}; using the bundled model");
            }
        }
    }
    let bundle = Bundle::default_model().context("the bundled model")?;
    let what = format!("bundled, trained on {}", bundle.meta.trained_on);
    Ok((bundle, what))
}

/// Opens a model in ONNX Runtime; a missing runtime is an error that says how to install it.
pub fn open(bundle: &Bundle) -> anyhow::Result<Estimator> {
    let runtime = Runtime::load()?;
    Ok(Estimator::open(&runtime, bundle)?)
}

/// A pipeline's predictions with the given history.
pub fn predict_pipeline(
    estimator: &mut Estimator,
    pipeline: &Pipeline,
    history: &History,
    parallel: usize,
) -> anyhow::Result<(PipelineCost, Vec<Row>)> {
    let rows = features::rows(pipeline, history);
    let estimates = estimator.predict(&rows)?;
    Ok((cost::pipeline_cost(pipeline, &rows, &estimates, parallel), rows))
}

pub fn run_predict(args: &PredictArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let rev = args.rev.clone().unwrap_or_else(|| "HEAD".to_string());
    let commit = repo.resolve_commit(&rev)?;
    // Nothing can be predicted without the runtime: say so (and how to install it) first.
    Runtime::load()?;
    let (bundle, model_name) = load_model(&repo)?;
    let mut estimator = open(&bundle)?;
    let mut lineage = Lineage::new(&repo);
    let (history, _) = join_runs(&repo, &mut lineage)?;
    let Some((pipeline, _)) = lineage.commit(&commit) else {
        anyhow::bail!("no lineage for {rev}");
    };
    let pipeline = pipeline.clone();
    let (cost, _) = predict_pipeline(&mut estimator, &pipeline, &history, args.parallel)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "revision": rev,
                "commit": commit,
                "model": model_name,
                "pipeline": cost,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        Format::Text => crate::report::cost::write_pipeline(&mut out, &rev, &model_name, &cost)?,
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// The predicted cost change from `base` to `head` with the repository's model (or the
/// bundled one) and its run history: what `diff` and `report` show.
pub fn predicted_change(
    repo: &Repo,
    lineage: &mut Lineage<'_>,
    base: &Pipeline,
    head: &Pipeline,
    parallel: usize,
) -> anyhow::Result<CostDiff> {
    let (bundle, model_name) = load_model(repo)?;
    let mut estimator = open(&bundle)?;
    let (history, _) = join_runs(repo, lineage)?;
    cost_diff(&mut estimator, &model_name, &history, base, head, parallel)
}

/// The predicted cost change from `base` to `head` (pipelines with the same history), with
/// what drove each transformation's change.
pub fn cost_diff(
    estimator: &mut Estimator,
    model_name: &str,
    history: &History,
    base: &Pipeline,
    head: &Pipeline,
    parallel: usize,
) -> anyhow::Result<CostDiff> {
    let (base_cost, base_rows) = predict_pipeline(estimator, base, history, parallel)?;
    let (head_cost, head_rows) = predict_pipeline(estimator, head, history, parallel)?;
    let mut changes = Vec::new();
    let base_by_key: HashMap<&str, usize> =
        base.nodes.iter().enumerate().map(|(i, n)| (n.key.as_str(), i)).collect();
    let mut seen = vec![false; base.nodes.len()];
    for (h, node) in head.nodes.iter().enumerate() {
        let head_estimate = &head_cost.transformations[h].estimate;
        let Some(&b) = base_by_key.get(node.key.as_str()) else {
            changes.push(Change {
                id: node.id.clone(),
                file: node.file.clone(),
                base_ms: None,
                head_ms: Some(head_estimate.duration_ms),
                base_memory_bytes: None,
                head_memory_bytes: head_estimate.memory_bytes,
                drivers: Vec::new(),
            });
            continue;
        };
        seen[b] = true;
        let base_estimate = &base_cost.transformations[b].estimate;
        let moved = (head_estimate.duration_ms / base_estimate.duration_ms - 1.0).abs() > 1e-6;
        if base.nodes[b].code == node.code && !moved {
            continue;
        }
        let drivers = drivers(
            estimator,
            history,
            &base_rows[b],
            &head_rows[h],
            base_estimate.duration_ms,
            base,
            head,
            b,
            h,
        )?;
        changes.push(Change {
            id: node.id.clone(),
            file: node.file.clone(),
            base_ms: Some(base_estimate.duration_ms),
            head_ms: Some(head_estimate.duration_ms),
            base_memory_bytes: base_estimate.memory_bytes,
            head_memory_bytes: head_estimate.memory_bytes,
            drivers,
        });
    }
    for (b, node) in base.nodes.iter().enumerate().filter(|(b, _)| !seen[*b]) {
        let e = &base_cost.transformations[b].estimate;
        changes.push(Change {
            id: node.id.clone(),
            file: node.file.clone(),
            base_ms: Some(e.duration_ms),
            head_ms: None,
            base_memory_bytes: e.memory_bytes,
            head_memory_bytes: None,
            drivers: Vec::new(),
        });
    }
    Ok(CostDiff {
        makespan_change: crate::predict::schedule::relative_change(
            base_cost.makespan_ms,
            head_cost.makespan_ms,
        ),
        base: (&base_cost).into(),
        head: (&head_cost).into(),
        changes,
        model: model_name.to_string(),
    })
}

/// The features that moved one transformation's prediction, largest effect first (at most 4),
/// and the datasets it newly reads, with their size when known.
#[expect(clippy::too_many_arguments, reason = "both sides of one comparison")]
fn drivers(
    estimator: &mut Estimator,
    history: &History,
    base_row: &Row,
    head_row: &Row,
    base_ms: f64,
    base: &Pipeline,
    head: &Pipeline,
    b: usize,
    h: usize,
) -> anyhow::Result<Vec<Driver>> {
    let names = features::names();
    let subs = cost::substitutions(base_row, head_row);
    let rows: Vec<Row> = subs.iter().map(|(_, r)| r.clone()).collect();
    let estimates = if rows.is_empty() { Vec::new() } else { estimator.predict(&rows)? };
    let mut drivers: Vec<Driver> = subs
        .iter()
        .zip(&estimates)
        .map(|((k, _), e)| Driver {
            feature: names[*k].clone(),
            base: base_row.values[*k],
            head: head_row.values[*k],
            effect: e.duration_ms / base_ms - 1.0,
            description: cost::describe(&names[*k], base_row.values[*k], head_row.values[*k]),
        })
        .collect();
    // Effects under 1 % are the model's rounding, not a reason.
    drivers.retain(|d| d.effect.abs() >= 0.01);
    drivers.sort_by(|a, b| b.effect.abs().total_cmp(&a.effect.abs()));
    drivers.truncate(4);
    // New reads, named: "new read raw.events (1.2 M rows)".
    let before = &base.nodes[b].transformation.reads;
    for read in head.nodes[h].transformation.reads.iter().filter(|r| !before.contains(r)) {
        let rows = features::dataset_rows(head, history, read, i64::MAX, Some(h));
        let size = rows.map(|r| format!(" ({} rows)", cost::human_count(r))).unwrap_or_default();
        drivers.push(Driver {
            feature: "reads".to_string(),
            base: 0.0,
            head: 1.0,
            effect: f64::NAN,
            description: format!("new read {read}{size}"),
        });
    }
    Ok(drivers)
}
