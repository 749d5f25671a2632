//! The cost model: training it on past runs, the files it is kept as, and predicting with it
//! in ONNX Runtime.
//!
//! A model is up to four tree ensembles written as ONNX: log duration and log peak memory,
//! each once for transformations with history (relative to the reference of
//! [`features`]) and once for those without (absolute); and `model.json`:
//! the feature names in order, what it was trained on, and each ensemble's held-out errors,
//! from which the prediction intervals come. `docs/model-format.md` describes the files.
//!
//! Why separate ensembles for the two kinds: their targets live on different scales (a ratio
//! near 1 against an absolute cost), and one ensemble early-stopped on both kept the trees that
//! reduced the large errors of new transformations at the expense of the small ones of known
//! transformations (bench/predict: median q-error 1.46 with one ensemble, where the reference
//! alone had 1.17).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Error;
use super::features::{self, Row};
use super::gbdt::{self, Params, Spread};
use super::onnx;
use super::runtime::{Predictor, Runtime};

/// The version of `model.json`'s layout.
pub const FORMAT: u32 = 1;

/// One past run to learn from: its features (with the history before it) and what it cost.
#[derive(Debug, Clone)]
pub struct Example {
    pub row: Row,
    pub duration_ms: f64,
    pub memory_bytes: Option<f64>,
    /// Start, ms since the epoch: the validation split is by time.
    pub at: i64,
    pub commit: String,
}

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The latest share of runs held out to stop boosting and measure the error (0 to 0.9).
    pub validation: f64,
    pub params: Params,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            validation: 0.2,
            // At most 120 trees of depth 4 per ensemble: ONNX Runtime evaluates a tree of a row
            // in about 18 ns here, and 10,000 transformations (duration and memory) must take
            // under 50 ms (bench/predict: 38 ms; 300 trees took 92 ms for the same accuracy). Huber loss: a run slowed by a busy machine is an outlier, and
            // with squared error a few of them shifted every prediction (bench/predict: median
            // q-error 1.26 with squared error, 1.18 with Huber at 0.2, on the same runs).
            params: Params {
                learning_rate: 0.2,
                max_trees: 120,
                min_samples_leaf: 5,
                patience: 30,
                huber: Some(0.2),
                ..Params::default()
            },
        }
    }
}

/// The ensembles a model has, by file stem: what they predict and for which rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensemble {
    /// ln(duration ms) minus the reference, for transformations with history.
    Duration,
    /// ln(duration ms), for transformations without history.
    DurationNew,
    /// ln(peak memory bytes) minus the reference, with history.
    Memory,
    /// ln(peak memory bytes), without history.
    MemoryNew,
}

impl Ensemble {
    pub const ALL: [Ensemble; 4] =
        [Ensemble::Duration, Ensemble::DurationNew, Ensemble::Memory, Ensemble::MemoryNew];

    /// The name in `model.json` and the file stem.
    pub fn name(self) -> &'static str {
        match self {
            Ensemble::Duration => "duration",
            Ensemble::DurationNew => "duration-new",
            Ensemble::Memory => "memory",
            Ensemble::MemoryNew => "memory-new",
        }
    }

    fn history(self) -> bool {
        matches!(self, Ensemble::Duration | Ensemble::Memory)
    }

    fn is_duration(self) -> bool {
        matches!(self, Ensemble::Duration | Ensemble::DurationNew)
    }

    /// The ensemble that predicts `row`'s duration or memory.
    fn for_row(duration: bool, row: &Row) -> Ensemble {
        match (duration, row.basis.runs > 0) {
            (true, true) => Ensemble::Duration,
            (true, false) => Ensemble::DurationNew,
            (false, true) => Ensemble::Memory,
            (false, false) => Ensemble::MemoryNew,
        }
    }

    /// What the ensemble's output is added to: the reference, moved by `elasticity` times
    /// the change of the work index since the reference's code ran.
    fn reference(self, row: &Row, elasticity: f64) -> f64 {
        let base = match self {
            Ensemble::Duration => row.reference_duration,
            Ensemble::Memory => row.reference_memory,
            Ensemble::DurationNew | Ensemble::MemoryNew => return 0.0,
        };
        base + elasticity * delta_work(row)
    }

    fn target(self, e: &Example) -> Option<f64> {
        if self.is_duration() { Some(e.duration_ms) } else { e.memory_bytes }
    }
}

/// The change of the work index since the reference's code ran (0 when unknown).
fn delta_work(row: &Row) -> f64 {
    static AT: std::sync::LazyLock<Option<usize>> =
        std::sync::LazyLock::new(|| features::index("delta_work"));
    AT.and_then(|k| row.values.get(k).copied()).filter(|v| v.is_finite()).unwrap_or(0.0)
}

/// How much ln(cost) moves per unit of `delta_work`, fitted on the training runs whose code
/// differed from their reference's: least squares through the origin on residuals clipped to
/// ±1 (a change rarely does more than e; a noisy run must not decide), kept within 0 and 1.5,
/// 0 with fewer than 3 such runs. One number, so that a few code changes can calibrate it
/// where the trees would need many of each kind.
fn elasticity(changed: &[(f64, f64)]) -> f64 {
    if changed.len() < 3 {
        return 0.0;
    }
    let sxy: f64 = changed.iter().map(|(x, y)| x * y.clamp(-1.0, 1.0)).sum();
    let sxx: f64 = changed.iter().map(|(x, _)| x * x).sum();
    if sxx <= 0.0 { 0.0 } else { (sxy / sxx).clamp(0.0, 1.5) }
}

/// What an ensemble is and how well it did on the held-out runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleInfo {
    pub trees: usize,
    pub training_rows: usize,
    pub validation_rows: usize,
    /// RMSE of the log target on the held-out runs.
    pub validation_rmse: Option<f64>,
    /// Median and 90th percentile of max(predicted / actual, actual / predicted) on them.
    pub validation_median_q: Option<f64>,
    pub validation_p90_q: Option<f64>,
    /// Their log residual quantiles at 0, 0.05, …, 1: where the 90 % intervals come from.
    pub residual_quantiles: Vec<f64>,
    /// ln(cost) per unit of the work index's change since the reference's code ran, added
    /// to the reference with the trees' output (ensembles with history; 0 otherwise).
    #[serde(default)]
    pub work_elasticity: f64,
}

/// `model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub format: u32,
    /// The git-lineage version that trained it.
    pub git_lineage: String,
    /// Where it was trained: `repository` or the name of the bundled workload.
    pub trained_on: String,
    /// Feature names, in the order of the model's input columns.
    pub features: Vec<String>,
    pub examples: usize,
    pub validation_examples: usize,
    pub commits: usize,
    /// The runs trained on: first and last start (RFC 3339).
    pub first_run: Option<String>,
    pub last_run: Option<String>,
    /// Per ensemble name (`duration`, `duration-new`, `memory`, `memory-new`): those trained.
    pub ensembles: BTreeMap<String, EnsembleInfo>,
}

/// A model as stored: its metadata and ONNX files (by ensemble name).
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub meta: Metadata,
    pub onnx: BTreeMap<String, Vec<u8>>,
}

const META_FILE: &str = "model.json";

impl Bundle {
    /// The files to store, by name.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let meta = serde_json::to_vec_pretty(&self.meta).unwrap_or_default();
        let mut files = vec![(META_FILE.to_string(), meta)];
        files.extend(self.onnx.iter().map(|(name, bytes)| (format!("{name}.onnx"), bytes.clone())));
        files
    }

    /// The model from its files, by name.
    pub fn from_files(files: &[(String, Vec<u8>)]) -> Result<Bundle, Error> {
        let file = |name: &str| files.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone());
        let meta = file(META_FILE).ok_or_else(|| missing(META_FILE))?;
        let meta: Metadata = serde_json::from_slice(&meta)
            .map_err(|e| Error::ModelFile { file: META_FILE, message: e.to_string() })?;
        if meta.format > FORMAT {
            return Err(Error::ModelFile {
                file: META_FILE,
                message: format!(
                    "format {} is newer than this git-lineage reads ({FORMAT})",
                    meta.format
                ),
            });
        }
        let mut onnx = BTreeMap::new();
        for name in meta.ensembles.keys() {
            let bytes = file(&format!("{name}.onnx")).ok_or_else(|| Error::ModelFile {
                file: META_FILE,
                message: format!("it lists the ensemble {name}, and {name}.onnx is missing"),
            })?;
            onnx.insert(name.clone(), bytes);
        }
        if !onnx.contains_key(Ensemble::DurationNew.name()) {
            return Err(missing("duration-new.onnx"));
        }
        Ok(Bundle { meta, onnx })
    }

    /// The model that ships inside git-lineage, trained on the bundled TPC-H workload
    /// (`bench/workload`), for repositories without their own.
    pub fn default_model() -> Result<Bundle, Error> {
        let files = [
            (META_FILE.to_string(), include_bytes!("default/model.json").to_vec()),
            ("duration.onnx".to_string(), include_bytes!("default/duration.onnx").to_vec()),
            ("duration-new.onnx".to_string(), include_bytes!("default/duration-new.onnx").to_vec()),
            ("memory.onnx".to_string(), include_bytes!("default/memory.onnx").to_vec()),
            ("memory-new.onnx".to_string(), include_bytes!("default/memory-new.onnx").to_vec()),
        ];
        Bundle::from_files(&files)
    }

    /// Whether the model takes the features this git-lineage computes.
    pub fn fits(&self) -> bool {
        self.meta.features == features::names()
    }
}

fn missing(file: &'static str) -> Error {
    Error::ModelFile { file, message: "missing".to_string() }
}

/// A trained model: the bundle to store, and the ensembles themselves (to check ONNX
/// Runtime's answers against).
#[derive(Debug, Clone)]
pub struct Trained {
    pub bundle: Bundle,
    pub ensembles: BTreeMap<String, gbdt::Model>,
}

impl Trained {
    /// The trainer's own evaluation of `row`'s duration ensemble (log, before the reference).
    pub fn duration_output(&self, row: &Row) -> Option<f64> {
        let ensemble = Ensemble::for_row(true, row);
        Some(self.ensembles.get(ensemble.name())?.predict(&row.values))
    }
}

/// Trains on `examples` (any order): the latest `options.validation` share of them, by start
/// time, is held out. Runs with history train the relative ensembles; every run, shown as a
/// new transformation would be (history features missing), trains the absolute ones.
pub fn train(
    examples: &[Example],
    trained_on: &str,
    options: &TrainOptions,
) -> Result<Trained, Error> {
    if !(0.0..=0.9).contains(&options.validation) {
        return Err(Error::Parameter {
            name: "validation",
            why: "must be within 0 and 0.9".into(),
        });
    }
    let mut order: Vec<&Example> =
        examples.iter().filter(|e| e.duration_ms.is_finite() && e.duration_ms > 0.0).collect();
    order.sort_by_key(|e| e.at);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "a share of a count"
    )]
    let held = (order.len() as f64 * options.validation).round() as usize;
    let first_held = order.len() - held;

    let mut ensembles = BTreeMap::new();
    let mut infos = BTreeMap::new();
    for ensemble in Ensemble::ALL {
        if let Some((model, info)) = fit(&order, first_held, options, ensemble)? {
            ensembles.insert(ensemble.name().to_string(), model);
            infos.insert(ensemble.name().to_string(), info);
        }
    }
    if !ensembles.contains_key(Ensemble::DurationNew.name()) {
        return Err(Error::NoTrainingRows);
    }
    let commits: std::collections::BTreeSet<&str> =
        order.iter().map(|e| e.commit.as_str()).collect();
    let time = |e: &&Example| {
        jiff::Timestamp::from_millisecond(e.at)
            .map(crate::collect::record::format_timestamp)
            .unwrap_or_default()
    };
    let meta = Metadata {
        format: FORMAT,
        git_lineage: env!("CARGO_PKG_VERSION").to_string(),
        trained_on: trained_on.to_string(),
        features: features::names().to_vec(),
        examples: order.len(),
        validation_examples: held,
        commits: commits.len(),
        first_run: order.first().map(time),
        last_run: order.last().map(time),
        ensembles: infos,
    };
    let onnx =
        ensembles.iter().map(|(name, model)| (name.clone(), onnx::to_bytes(model))).collect();
    Ok(Trained { bundle: Bundle { meta, onnx }, ensembles })
}

/// One ensemble, on the rows of the examples it is for; the held-out ones validate. `None`
/// when no example has its target (memory not recorded) or, for the relative ensembles, none
/// had history.
fn fit(
    order: &[&Example],
    first_held: usize,
    options: &TrainOptions,
    ensemble: Ensemble,
) -> Result<Option<(gbdt::Model, EnsembleInfo)>, Error> {
    let n_features = features::names().len();
    let rows: Vec<(usize, Row, f64)> = order
        .iter()
        .enumerate()
        .filter_map(|(k, e)| {
            let value = ensemble.target(e).filter(|v| v.is_finite() && *v > 0.0)?;
            if !ensemble.history() {
                return Some((k, e.row.without_history(), value));
            }
            (e.row.basis.runs > 0).then(|| (k, e.row.clone(), value))
        })
        .collect();
    let changed: Vec<(f64, f64)> = rows
        .iter()
        .filter(|(k, row, _)| *k < first_held && delta_work(row) != 0.0)
        .map(|(_, row, value)| (delta_work(row), value.ln() - ensemble.reference(row, 0.0)))
        .collect();
    let work_elasticity = if ensemble.history() { elasticity(&changed) } else { 0.0 };
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut validation = Vec::new();
    for (k, row, value) in &rows {
        if *k >= first_held {
            validation.push(y.len());
        }
        x.extend_from_slice(&row.values);
        y.push(value.ln() - ensemble.reference(row, work_elasticity));
    }
    if y.len() == validation.len() {
        return Ok(None);
    }
    let model = gbdt::train(&x, n_features, &y, &validation, &options.params)?;
    let residuals: Vec<f64> = validation
        .iter()
        .map(|&i| y[i] - model.predict(&x[i * n_features..(i + 1) * n_features]))
        .collect();
    let q: Vec<f64> = residuals.iter().map(|r| r.abs().exp()).collect();
    let info = EnsembleInfo {
        trees: model.trees.len(),
        training_rows: y.len() - validation.len(),
        validation_rows: validation.len(),
        validation_rmse: model.validation_rmse.iter().copied().reduce(f64::min),
        validation_median_q: quantile(&q, 0.5),
        validation_p90_q: quantile(&q, 0.9),
        residual_quantiles: Spread::of(residuals, true).residual_quantiles,
        work_elasticity,
    };
    Ok(Some((model, info)))
}

/// The `level` quantile (nearest rank) of `values`, `None` when empty.
pub fn quantile(values: &[f64], level: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index within the slice"
    )]
    let index = ((sorted.len() - 1) as f64 * level.clamp(0.0, 1.0)).round() as usize;
    Some(sorted[index])
}

/// A prediction for one transformation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub duration_ms: f64,
    /// A 90 % interval, from the held-out errors.
    pub duration_low_ms: Option<f64>,
    pub duration_high_ms: Option<f64>,
    pub memory_bytes: Option<f64>,
    pub memory_low_bytes: Option<f64>,
    pub memory_high_bytes: Option<f64>,
    /// CPU time: the duration times the transformation's usual CPU share (1 without history).
    pub cpu_ms: f64,
}

/// Intervals cover this share of held-out errors.
const COVERAGE: f64 = 0.9;

/// A model opened in ONNX Runtime.
pub struct Estimator {
    meta: Metadata,
    predictors: BTreeMap<String, Predictor>,
}

impl Estimator {
    /// Opens `bundle`'s ensembles; refuses a model trained on other features.
    pub fn open(runtime: &Runtime, bundle: &Bundle) -> Result<Estimator, Error> {
        if !bundle.fits() {
            return Err(Error::ModelFile {
                file: META_FILE,
                message: "the model was trained on other features than this git-lineage \
                          computes: train it again (`git lineage train`)"
                    .to_string(),
            });
        }
        let predictors = bundle
            .onnx
            .iter()
            .map(|(name, bytes)| Ok((name.clone(), runtime.open(bytes)?)))
            .collect::<Result<_, Error>>()?;
        Ok(Estimator { meta: bundle.meta.clone(), predictors })
    }

    pub fn meta(&self) -> &Metadata {
        &self.meta
    }

    /// Each row's output (log, before its reference) of its duration or memory ensemble,
    /// `None` where the model has no such ensemble. Rows go to ONNX Runtime in one batch per
    /// ensemble.
    pub fn raw(&mut self, rows: &[Row], duration: bool) -> Result<Vec<Option<f64>>, Error> {
        let mut out = vec![None; rows.len()];
        for ensemble in Ensemble::ALL.into_iter().filter(|e| e.is_duration() == duration) {
            // A model without the relative ensemble (no history when trained) predicts every
            // row with the absolute one.
            let fallback = ensemble.history() && !self.predictors.contains_key(ensemble.name());
            if fallback {
                continue;
            }
            let chosen: Vec<usize> = (0..rows.len())
                .filter(|&i| {
                    let wanted = Ensemble::for_row(duration, &rows[i]);
                    wanted == ensemble
                        || (!ensemble.history() && !self.predictors.contains_key(wanted.name()))
                })
                .collect();
            let Some(predictor) = self.predictors.get_mut(ensemble.name()) else { continue };
            if chosen.is_empty() {
                continue;
            }
            let x: Vec<f64> = chosen
                .iter()
                .flat_map(|&i| {
                    let row = &rows[i];
                    if ensemble.history() {
                        row.values.clone()
                    } else {
                        row.without_history().values
                    }
                })
                .collect();
            for (&i, value) in chosen.iter().zip(predictor.predict_f64(&x)?) {
                out[i] = Some(value);
            }
        }
        Ok(out)
    }

    /// Predictions for `rows`, in order.
    pub fn predict(&mut self, rows: &[Row]) -> Result<Vec<Estimate>, Error> {
        let duration = self.raw(rows, true)?;
        let memory = self.raw(rows, false)?;
        let meta = &self.meta;
        let cpu_share_at = features::index("cpu_share");
        // The value (log) and its 90 % interval, from the ensemble that made it.
        let finish = |row: &Row, duration: bool, raw: Option<f64>| {
            let mut ensemble = Ensemble::for_row(duration, row);
            if !meta.ensembles.contains_key(ensemble.name()) {
                ensemble = if duration { Ensemble::DurationNew } else { Ensemble::MemoryNew };
            }
            let info = meta.ensembles.get(ensemble.name())?;
            let value = ensemble.reference(row, info.work_elasticity) + raw?;
            let spread =
                Spread { residual_quantiles: info.residual_quantiles.clone(), held_out: true };
            let range = spread.interval(value, COVERAGE).map(|(lo, hi)| (lo.exp(), hi.exp()));
            Some((value.exp(), range))
        };
        Ok(rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let d = finish(row, true, duration[i]);
                let m = finish(row, false, memory[i]);
                let duration_ms = d.map_or(f64::NAN, |d| d.0);
                let cpu_share = cpu_share_at
                    .and_then(|k| row.values.get(k).copied())
                    .filter(|s| s.is_finite())
                    .unwrap_or(1.0);
                Estimate {
                    duration_ms,
                    duration_low_ms: d.and_then(|d| d.1).map(|r| r.0),
                    duration_high_ms: d.and_then(|d| d.1).map(|r| r.1),
                    memory_bytes: m.map(|m| m.0),
                    memory_low_bytes: m.and_then(|m| m.1).map(|r| r.0),
                    memory_high_bytes: m.and_then(|m| m.1).map(|r| r.1),
                    cpu_ms: duration_ms * cpu_share,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::elasticity;

    #[test]
    fn the_elasticity_is_a_clipped_slope_through_the_origin() {
        // ln(cost) moved by half the work index's change, one run 10x slower by noise.
        let changed = [(0.4, 0.2), (-0.2, -0.1), (0.6, 0.3), (0.2, 2.3)];
        let k = elasticity(&changed);
        assert!(k > 0.5 && k < 1.0, "{k}");
        assert!(elasticity(&changed[..2]).abs() < 1e-12, "fewer than 3 changes: no slope");
        // Work up, cost down: the index is no guide here, and it is not turned around.
        assert!(elasticity(&[(0.4, -0.2), (0.3, -0.3), (0.5, -0.1)]).abs() < 1e-12);
        assert!((elasticity(&[(0.1, 1.0), (0.1, 1.0), (0.1, 1.0)]) - 1.5).abs() < 1e-12);
    }
}
