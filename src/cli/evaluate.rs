//! `git-lineage debug predict`: how well the cost model predicts runs it never saw, against
//! the two baselines people use, on the repository's own history (`bench/predict` runs it on
//! the TPC-H workload); and `--write-default`, which trains the model that ships inside the
//! binary.
//!
//! The protocol: commits in the order they first ran; the model trains on the runs of the
//! earlier `1 - holdout` of them and predicts every run of the later ones, each with the
//! history before it (as `predict` would have just before the run) and the input rows the run
//! recorded. Baselines, on the same runs: the transformation's last duration, and its median
//! duration scaled linearly by input rows.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::ExitStatus;
use super::predict::{Lineage, examples, join_runs};
use crate::predict::features::{self, History, PastRun, RowsFrom};
use crate::predict::model::{self, Estimator, Example, TrainOptions, quantile};
use crate::predict::runtime::Runtime;
use crate::store::repo::Repo;

/// Arguments of `debug predict`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Share of the latest commits held out.
    #[arg(long, default_value_t = 0.3)]
    holdout: f64,
    /// Instead: train on every run and write the model files to this folder.
    #[arg(long)]
    write_default: Option<PathBuf>,
    /// What the default model was trained on, for its metadata.
    #[arg(long, default_value = "the TPC-H workload (bench/workload)")]
    trained_on: String,
}

type Indexed<'a> = Vec<(usize, &'a Example)>;

/// One held-out run's predictions.
struct Scored {
    key: String,
    code: String,
    commit: String,
    at: i64,
    actual: f64,
    model: f64,
    last: Option<f64>,
    scaled: Option<f64>,
    /// The reference alone (the model's starting point), when the run had history.
    reference: Option<f64>,
    has_history: bool,
    rows_in: Option<f64>,
    /// Predicted with only the history from before its commit's first run: what `diff` says
    /// before the change is merged.
    at_merge: f64,
    /// When its commit's first run started.
    commit_start: i64,
}

pub fn run(args: &EvaluateArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let mut lineage = Lineage::new(&repo);
    let (history, joined) = join_runs(&repo, &mut lineage)?;
    let all = examples(&mut lineage, &history, &joined);
    // Each run's transformation key and code (blob id), as the features saw them.
    let ids: Vec<(String, String)> = joined
        .iter()
        .map(|r| {
            lineage
                .commit(&r.commit)
                .map(|(p, _)| (p.nodes[r.node].key.clone(), p.nodes[r.node].code.clone()))
                .unwrap_or_default()
        })
        .collect();
    if let Some(dir) = &args.write_default {
        let trained = model::train(&all, &args.trained_on, &TrainOptions::default())?;
        std::fs::create_dir_all(dir)?;
        for (name, bytes) in trained.bundle.files() {
            std::fs::write(dir.join(name), bytes)?;
        }
        println!(
            "wrote {} ({} runs, {} commits, duration held-out median q {:.3})",
            dir.display(),
            trained.bundle.meta.examples,
            trained.bundle.meta.commits,
            trained
                .bundle
                .meta
                .ensembles
                .get("duration")
                .and_then(|e| e.validation_median_q)
                .unwrap_or(f64::NAN)
        );
        return Ok(ExitStatus::Success);
    }

    // Commits in the order they first ran; the latest share is held out.
    let mut commit_order: Vec<&str> = Vec::new();
    for e in &all {
        if !commit_order.contains(&e.commit.as_str()) {
            commit_order.push(&e.commit);
        }
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "a share of a count"
    )]
    let first_test =
        commit_order.len() - ((commit_order.len() as f64) * args.holdout).round() as usize;
    let test_commits: HashSet<&str> = commit_order[first_test..].iter().copied().collect();
    let (train, test): (Indexed<'_>, Indexed<'_>) =
        all.iter().enumerate().partition(|(_, e)| !test_commits.contains(e.commit.as_str()));
    let train: Vec<Example> = train.into_iter().map(|(_, e)| e.clone()).collect();
    eprintln!(
        "runs: {} ({} commits); training on {} runs of {} commits, predicting {} runs of {} later commits",
        all.len(),
        commit_order.len(),
        train.len(),
        first_test,
        test.len(),
        commit_order.len() - first_test
    );
    let trained = model::train(&train, "evaluation", &TrainOptions::default())?;
    let trees: Vec<String> = trained
        .bundle
        .meta
        .ensembles
        .iter()
        .map(|(name, e)| format!("{name} {} (work elasticity {:.2})", e.trees, e.work_elasticity))
        .collect();
    eprintln!("trees: {}", trees.join(", "));
    let runtime = Runtime::load()?;
    let mut estimator = Estimator::open(&runtime, &trained.bundle)?;
    let rows: Vec<features::Row> = test.iter().map(|(_, e)| e.row.clone()).collect();
    let estimates = estimator.predict(&rows)?;

    // ONNX Runtime against the trainer's own evaluation of the trees.
    let raw = estimator.raw(&rows, true)?;
    let max_diff = rows
        .iter()
        .zip(&raw)
        .filter_map(|(row, ort)| Some((trained.duration_output(row)? - (*ort)?).abs()))
        .fold(0.0f64, f64::max);

    // The same runs as predicted before their commit ran (no runs of the new code yet).
    let mut commit_start: BTreeMap<&str, i64> = BTreeMap::new();
    for e in &all {
        let start = commit_start.entry(&e.commit).or_insert(e.at);
        *start = (*start).min(e.at);
    }
    let merge_rows: Vec<features::Row> = test
        .iter()
        .map(|(i, e)| {
            let start = commit_start.get(e.commit.as_str()).copied().unwrap_or(e.at);
            match lineage.commit(&e.commit) {
                Some((pipeline, _)) => features::row(
                    pipeline,
                    joined[*i].node,
                    &history,
                    start,
                    e.row.basis.rows_in.filter(|_| e.row.basis.rows_in_from == RowsFrom::Run),
                ),
                None => e.row.clone(),
            }
        })
        .collect();
    let at_merge = estimator.predict(&merge_rows)?;

    let scored: Vec<Scored> = test
        .iter()
        .zip(estimates.iter().zip(&at_merge))
        .map(|((i, e), (estimate, merged))| {
            let (key, code) = ids[*i].clone();
            let (last, scaled) = baselines(&history, &key, e);
            Scored {
                key,
                code,
                commit: e.commit.clone(),
                at: e.at,
                actual: e.duration_ms,
                model: estimate.duration_ms,
                last,
                scaled,
                reference: (e.row.basis.runs > 0).then(|| e.row.reference_duration.exp()),
                has_history: e.row.basis.runs > 0,
                rows_in: e.row.basis.rows_in,
                at_merge: merged.duration_ms,
                commit_start: commit_start.get(e.commit.as_str()).copied().unwrap_or(e.at),
            }
        })
        .collect();
    let speed_ms = speed(&mut estimator, &rows)?;
    report(&scored, &history, max_diff, speed_ms)?;
    Ok(ExitStatus::Success)
}

/// The baselines for one run: the last duration of its transformation before it, and its
/// median duration (latest 20 runs) times the ratio of input rows.
fn baselines(history: &History, key: &str, e: &Example) -> (Option<f64>, Option<f64>) {
    let past = history.before(key, e.at);
    let recent = &past[past.len().saturating_sub(20)..];
    let last = recent.last().map(|r| r.wall_ms);
    let median_ms = features::median(recent.iter().map(|r| r.wall_ms).collect());
    let median_rows = features::median(recent.iter().filter_map(|r| r.rows_in).collect());
    let scaled = match (median_ms, median_rows, e.row.basis.rows_in) {
        (Some(ms), Some(then), Some(now)) if then > 0.0 => Some(ms * now / then),
        (Some(ms), _, _) => Some(ms),
        _ => None,
    };
    (last, scaled)
}

fn q(predicted: f64, actual: f64) -> f64 {
    (predicted / actual).max(actual / predicted)
}

fn rel(predicted: f64, actual: f64) -> f64 {
    (predicted - actual).abs() / actual
}

/// Milliseconds to predict 10,000 transformations (best of 5), rows repeated from `rows`.
fn speed(estimator: &mut Estimator, rows: &[features::Row]) -> anyhow::Result<f64> {
    if rows.is_empty() {
        return Ok(f64::NAN);
    }
    let many: Vec<features::Row> = rows.iter().cycle().take(10_000).cloned().collect();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let clock = Instant::now();
        let out = estimator.predict(&many)?;
        best = best.min(clock.elapsed().as_secs_f64() * 1000.0);

        anyhow::ensure!(out.len() == 10_000, "{} predictions for 10,000 rows", out.len());
    }
    Ok(best)
}

fn report(
    scored: &[Scored],
    history: &History,
    max_diff: f64,
    speed_ms: f64,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    // Runs all three can predict (the transformation ran before).
    let comparable: Vec<&Scored> =
        scored.iter().filter(|s| s.has_history && s.last.is_some()).collect();
    let new: Vec<&Scored> = scored.iter().filter(|s| !s.has_history).collect();
    let metric = |set: &[&Scored], f: &dyn Fn(&Scored) -> Option<f64>, level: f64| {
        quantile(&set.iter().filter_map(|s| f(s)).collect::<Vec<_>>(), level).unwrap_or(f64::NAN)
    };
    let model_q = |s: &Scored| Some(q(s.model, s.actual));
    let model_rel = |s: &Scored| Some(rel(s.model, s.actual));
    let last_rel = |s: &Scored| s.last.map(|p| rel(p, s.actual));
    let scaled_rel = |s: &Scored| s.scaled.map(|p| rel(p, s.actual));
    let last_q = |s: &Scored| s.last.map(|p| q(p, s.actual));
    let scaled_q = |s: &Scored| s.scaled.map(|p| q(p, s.actual));
    let reference_q = |s: &Scored| s.reference.map(|p| q(p, s.actual));
    let reference_rel = |s: &Scored| s.reference.map(|p| rel(p, s.actual));

    writeln!(
        out,
        "held-out runs: {} ({} of transformations that ran before, {} new)",
        scored.len(),
        comparable.len(),
        new.len()
    )?;
    writeln!(
        out,
        "{:<28} {:>9} {:>9} {:>12}",
        "per transformation", "median q", "p90 q", "median rel"
    )?;
    for (name, fq, fr) in [
        (
            "model",
            &model_q as &dyn Fn(&Scored) -> Option<f64>,
            &model_rel as &dyn Fn(&Scored) -> Option<f64>,
        ),
        ("baseline: last duration", &last_q, &last_rel),
        ("baseline: median x rows", &scaled_q, &scaled_rel),
        ("(the model's reference)", &reference_q, &reference_rel),
    ] {
        writeln!(
            out,
            "{name:<28} {:>9.3} {:>9.3} {:>12.3}",
            metric(&comparable, fq, 0.5),
            metric(&comparable, fq, 0.9),
            metric(&comparable, fr, 0.5)
        )?;
    }
    if !new.is_empty() {
        writeln!(
            out,
            "{:<28} {:>9.3} {:>9.3} {:>12.3}",
            "model, new transformations",
            metric(&new, &model_q, 0.5),
            metric(&new, &model_q, 0.9),
            metric(&new, &model_rel, 0.5)
        )?;
    }

    // Pipelines: the runs of one commit with the same input size of the whole run, summed.
    let pipelines = pipelines(&comparable);
    let pipe_q: Vec<f64> = pipelines.iter().map(|p| q(p.model, p.actual)).collect();
    let pipe_rel: Vec<f64> = pipelines.iter().map(|p| rel(p.model, p.actual)).collect();
    let pipe_last: Vec<f64> = pipelines.iter().map(|p| rel(p.last, p.actual)).collect();
    let pipe_scaled: Vec<f64> = pipelines.iter().map(|p| rel(p.scaled, p.actual)).collect();
    let m = |v: &[f64], l| quantile(v, l).unwrap_or(f64::NAN);
    writeln!(
        out,
        "pipelines: {} ; model median q {:.3} p90 {:.3} median rel {:.3} ; last-duration median rel {:.3} ; median-x-rows median rel {:.3}",
        pipelines.len(),
        m(&pipe_q, 0.5),
        m(&pipe_q, 0.9),
        m(&pipe_rel, 0.5),
        m(&pipe_last, 0.5),
        m(&pipe_scaled, 0.5)
    )?;

    // The sign of the predicted change, where the real change is over 20 %.
    let changes = changes(scored, history);
    write_moved(&mut out, &changes)?;
    let (right, total) = signs(&changes);
    writeln!(
        out,
        "sign of changes over 20 %, predicted before the merge: right for {right} of {total} changes of a transformation's code"
    )?;
    let commit_changes = commit_changes(&pipelines);
    write_moved(&mut out, &commit_changes)?;
    let (right, total) = signs(&commit_changes);
    writeln!(
        out,
        "sign of pipeline changes over 20 %, predicted before the merge: right for {right} of {total} commits"
    )?;
    writeln!(out, "ONNX Runtime vs the trainer's trees: max |difference| {max_diff:.2e} (log ms)")?;
    writeln!(out, "10,000 predictions in ONNX Runtime: {speed_ms:.1} ms")?;

    let model_median_q = metric(&comparable, &model_q, 0.5);
    let model_p90_q = metric(&comparable, &model_q, 0.9);
    let model_median_rel = metric(&comparable, &model_rel, 0.5);
    let baseline = metric(&comparable, &last_rel, 0.5).min(metric(&comparable, &scaled_rel, 0.5));
    writeln!(
        out,
        "median q-error {model_median_q:.3} p90 {model_p90_q:.3} median rel-error {model_median_rel:.3} baseline-median-rel-error {baseline:.3}"
    )?;
    Ok(())
}

struct PipelineRun {
    commit: String,
    start: i64,
    /// Input rows of all its runs.
    rows_in: Option<f64>,
    actual: f64,
    model: f64,
    at_merge: f64,
    last: f64,
    scaled: f64,
}

/// Runs grouped by commit and input size (rows rounded to 2 significant digits of their log),
/// each group one execution of the pipeline; only groups whose every run has both baselines.
fn pipelines(runs: &[&Scored]) -> Vec<PipelineRun> {
    let mut groups: BTreeMap<(String, i64), Vec<&Scored>> = BTreeMap::new();
    // A pipeline execution: runs of one commit, split where a transformation repeats.
    let mut by_commit: BTreeMap<&str, Vec<&Scored>> = BTreeMap::new();
    for s in runs {
        by_commit.entry(&s.commit).or_default().push(s);
    }
    for (commit, mut list) in by_commit {
        list.sort_by_key(|s| s.at);
        let mut seen: HashSet<&str> = HashSet::new();
        let mut execution = 0;
        for s in list {
            if !seen.insert(&s.key) {
                execution += 1;
                seen.clear();
                seen.insert(&s.key);
            }
            groups.entry((commit.to_string(), execution)).or_default().push(s);
        }
    }
    groups
        .values()
        .filter(|g| g.iter().all(|s| s.last.is_some() && s.scaled.is_some()))
        .map(|g| PipelineRun {
            commit: g[0].commit.clone(),
            start: g[0].commit_start,
            rows_in: g.iter().map(|s| s.rows_in).sum(),
            actual: g.iter().map(|s| s.actual).sum(),
            at_merge: g.iter().map(|s| s.at_merge).sum(),
            model: g.iter().map(|s| s.model).sum(),
            last: g.iter().filter_map(|s| s.last).sum(),
            scaled: g.iter().filter_map(|s| s.scaled).sum(),
        })
        .collect()
}

/// A change of cost as a reviewer meets it: the cost before (measured), the cost after
/// (measured), and what the model said before the change ran.
struct Change {
    what: String,
    before: f64,
    after: f64,
    predicted: f64,
}

/// Two input sizes are "the same" within 10 %.
fn same_size(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a.max(1.0) / b.max(1.0)).ln().abs() < 0.1,
        _ => true,
    }
}

/// Each held-out commit's new code of a transformation that ran before, once per input size:
/// before = the median of the latest (up to 5) runs of the code it replaced at that size;
/// after = the median of the new code's runs at that size; predicted = the first such run as
/// predicted with the history from before the commit.
fn changes(scored: &[Scored], history: &History) -> Vec<Change> {
    let mut seen: HashSet<(&str, &str, i64)> = HashSet::new();
    let mut out = Vec::new();
    for s in scored {
        let past = history.before(&s.key, s.commit_start);
        if past.is_empty() || past.iter().any(|r| r.code == s.code) {
            continue;
        }
        #[expect(clippy::cast_possible_truncation, reason = "a rounded log")]
        let size = s.rows_in.map_or(-1, |r| (r.max(1.0).ln() * 10.0).round() as i64);
        if !seen.insert((&s.commit, &s.key, size)) {
            continue;
        }
        let near = |r: &&PastRun| same_size(r.rows_in, s.rows_in);
        let Some(replaced) = past.iter().rev().find(near) else { continue };
        let old: Vec<f64> = past
            .iter()
            .filter(near)
            .filter(|r| r.code == replaced.code)
            .map(|r| r.wall_ms)
            .collect();
        let old = features::median(old[old.len().saturating_sub(5)..].to_vec());
        let new = features::median(
            history
                .before(&s.key, i64::MAX)
                .iter()
                .filter(|r| r.at >= s.commit_start && r.code == s.code)
                .filter(near)
                .map(|r| r.wall_ms)
                .collect(),
        );
        if let (Some(before), Some(after)) = (old, new) {
            out.push(Change {
                what: format!("{} at {}", s.key, &s.commit[..s.commit.len().min(10)]),
                before,
                after,
                predicted: s.at_merge,
            });
        }
    }
    out
}

/// Each held-out commit's pipeline executions against the latest execution of an earlier
/// commit with the same input rows (within 10 %).
fn commit_changes(pipelines: &[PipelineRun]) -> Vec<Change> {
    let mut out = Vec::new();
    for p in pipelines {
        let previous = pipelines
            .iter()
            .filter(|q| q.commit != p.commit && q.start < p.start)
            .filter(|q| same_size(q.rows_in, p.rows_in))
            .max_by_key(|q| q.start);
        if let Some(q) = previous {
            out.push(Change {
                what: format!("pipeline at {}", &p.commit[..p.commit.len().min(10)]),
                before: q.actual,
                after: p.actual,
                predicted: p.at_merge,
            });
        }
    }
    out
}

/// Whether the real cost moved by more than 20 %: the changes the sign is scored on.
fn moved(c: &Change) -> bool {
    (c.after / c.before - 1.0).abs() > 0.2
}

/// One line per change that moved: what it was, before and after, and what was predicted.
fn write_moved(out: &mut impl Write, changes: &[Change]) -> std::io::Result<()> {
    for c in changes.iter().filter(|c| moved(c)) {
        writeln!(
            out,
            "  {}: {} -> {} ms, predicted {} ms",
            c.what,
            c.before.round(),
            c.after.round(),
            c.predicted.round()
        )?;
    }
    Ok(())
}

/// Of the changes whose real cost moved by more than 20 %, how many the prediction puts on
/// the same side of the cost before (predicting no change at all is wrong).
fn signs(changes: &[Change]) -> (usize, usize) {
    let scored: Vec<&Change> = changes.iter().filter(|c| moved(c)).collect();
    let right = scored
        .iter()
        .filter(|c| (c.predicted / c.before - 1.0) * (c.after / c.before - 1.0) > 0.0)
        .count();
    (right, scored.len())
}
