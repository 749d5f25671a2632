//! Gradient-boosted regression trees, trained and evaluated in Rust.
//!
//! Squared loss on the target the caller gives (the caller picks the scale: log duration makes
//! errors relative). Splits are searched on histograms: each feature's values are cut into at
//! most `max_bins` bins at quantiles of the training rows, so a split costs one pass over the
//! rows of a node per feature, whatever the number of distinct values.
//!
//! Everything is computed in `f32` where the ONNX model will be (feature values, thresholds,
//! leaf values, the base value), because ONNX Runtime's `TreeEnsembleRegressor` compares float
//! inputs with float thresholds: a threshold chosen in `f64` could send a row one way here and
//! the other way there. Sums of leaf values are taken in `f64`; ONNX Runtime sums in `f32`, which
//! differs by rounding only (far below 1e-5 for targets of ordinary size).
//!
//! Missing values are NaN. Each split learns where they go (`default_left`): both directions
//! are tried and the better kept; when no training row of the node lacks the feature, they go
//! with the majority of the rows.
//!
//! Training is deterministic: the row subsampling uses a seeded splitmix64, the split search
//! visits features and bins in order and keeps the first best, and nothing depends on threads
//! or hashing.

use super::Error;

/// Training parameters. `Default` gives settings that suit a few hundred to a few hundred
/// thousand rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Trees trained at most; early stopping may keep fewer.
    pub max_trees: usize,
    /// Shrinkage applied to every leaf value.
    pub learning_rate: f64,
    /// Depth of the deepest leaf (a tree of depth 1 is one split).
    pub max_depth: usize,
    /// Fewest training rows a leaf may hold.
    pub min_samples_leaf: usize,
    /// L2 penalty on leaf values (added to the row count in the leaf's denominator).
    pub l2: f64,
    /// A split is taken only if it lowers the loss by more than this.
    pub min_split_gain: f64,
    /// Share of training rows each tree sees, drawn afresh per tree (1.0 = all rows).
    pub subsample: f64,
    /// Seed of the row subsampling.
    pub seed: u64,
    /// Bins per feature for the split search (2 to 4096).
    pub max_bins: usize,
    /// Early stopping: stop after this many trees without a better validation RMSE. Ignored
    /// without validation rows.
    pub patience: usize,
    /// Huber loss with this threshold instead of squared error: residuals beyond it pull with
    /// a constant force, and the base is the median target. Run times have outliers (a busy
    /// machine doubles a run): squared error lets a few of them shift every prediction.
    pub huber: Option<f64>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_trees: 500,
            learning_rate: 0.1,
            // Shallow trees and leaves of 10 rows or more: histories are small and noisy (on
            // the synthetic test function, depth 4 beats depth 6 by a third in RMSE).
            max_depth: 4,
            min_samples_leaf: 10,
            l2: 1.0,
            min_split_gain: 0.0,
            subsample: 0.8,
            seed: 0x006c_696e_6561_6765, // "lineage"
            max_bins: 255,
            patience: 20,
            huber: None,
        }
    }
}

/// One node of a tree. Children are indices into the same tree's `nodes`.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Rows with `feature as f32 <= threshold` go to `left`, others to `right`; rows where the
    /// feature is NaN (or absent) go left when `default_left`, else right. A threshold of +inf
    /// separates present values (left) from missing ones.
    Split { feature: usize, threshold: f32, left: usize, right: usize, default_left: bool },
    /// The value this tree adds to the prediction (learning rate already applied).
    Leaf { value: f32 },
}

/// One regression tree; `nodes[0]` is the root, and children always come after their parent.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The leaf value this tree gives a row of `f32` features. A malformed tree (built by hand
    /// with a child out of range or pointing backwards) gives 0 rather than a panic or a loop.
    pub fn evaluate(&self, row: &[f32]) -> f32 {
        let mut at = 0;
        loop {
            match self.nodes.get(at) {
                Some(&Node::Leaf { value }) => return value,
                Some(&Node::Split { feature, threshold, left, right, default_left }) => {
                    let x = row.get(feature).copied().unwrap_or(f32::NAN);
                    let next = if x.is_nan() {
                        if default_left { left } else { right }
                    } else if x <= threshold {
                        left
                    } else {
                        right
                    };
                    // Children come after their parent: this also bounds the walk.
                    if next <= at {
                        return 0.0;
                    }
                    at = next;
                }
                None => return 0.0,
            }
        }
    }
}

/// Quantiles of the residuals (target minus prediction) on the validation rows, or on the
/// training rows when there were none (then optimistic): the spread of the model's errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    /// Residual quantiles at levels 0, 0.05, …, 1 (21 values, ascending); empty if no rows.
    pub residual_quantiles: Vec<f64>,
    /// Whether the residuals come from held-out rows.
    pub held_out: bool,
}

impl Spread {
    const STEPS: usize = 20;

    /// A central interval around `prediction` expected to hold the target with probability
    /// `coverage` (e.g. 0.9 -> residual quantiles 0.05 and 0.95, interpolated). `None` when
    /// no residuals were measured or `coverage` is not in [0, 1].
    pub fn interval(&self, prediction: f64, coverage: f64) -> Option<(f64, f64)> {
        if self.residual_quantiles.len() != Self::STEPS + 1 || !(0.0..=1.0).contains(&coverage) {
            return None;
        }
        let low = self.quantile((1.0 - coverage) / 2.0)?;
        let high = self.quantile(f64::midpoint(1.0, coverage))?;
        Some((prediction + low, prediction + high))
    }

    /// The residual quantile at `level`, interpolated between the stored ones.
    fn quantile(&self, level: f64) -> Option<f64> {
        #[expect(clippy::cast_precision_loss, reason = "20 steps")]
        let position = level * Self::STEPS as f64;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "position is within 0..=20"
        )]
        let below = (position.floor() as usize).min(Self::STEPS - 1);
        #[expect(clippy::cast_precision_loss, reason = "below <= 20")]
        let weight = position - below as f64;
        let a = *self.residual_quantiles.get(below)?;
        let b = *self.residual_quantiles.get(below + 1)?;
        Some(a + (b - a) * weight)
    }

    /// The spread of `residuals` (target minus prediction), from held-out rows or not.
    pub fn of(mut residuals: Vec<f64>, held_out: bool) -> Spread {
        residuals.sort_by(f64::total_cmp);
        let residual_quantiles = if residuals.is_empty() {
            Vec::new()
        } else {
            (0..=Self::STEPS).map(|step| quantile_sorted(&residuals, step, Self::STEPS)).collect()
        };
        Spread { residual_quantiles, held_out }
    }
}

/// The `step / steps` quantile of sorted, non-empty `values`, linearly interpolated.
#[expect(clippy::cast_precision_loss, reason = "row counts are far below 2^52")]
fn quantile_sorted(values: &[f64], step: usize, steps: usize) -> f64 {
    let position = (values.len() - 1) as f64 * step as f64 / steps as f64;
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "within 0..len")]
    let below = position.floor() as usize;
    let above = (below + 1).min(values.len() - 1);
    let weight = position - below as f64;
    values[below] + (values[above] - values[below]) * weight
}

/// A trained ensemble: `base + sum of the trees' leaf values`.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Features each row must have.
    pub n_features: usize,
    /// The initial prediction: the mean training target.
    pub base: f32,
    pub trees: Vec<Tree>,
    /// Validation RMSE after 0, 1, 2, … trees (index 0: the base alone), for every tree
    /// trained, including those early stopping then dropped; empty without validation rows.
    pub validation_rmse: Vec<f64>,
    pub spread: Spread,
}

impl Model {
    /// The prediction for one row. Values are compared as `f32`, as ONNX Runtime does; NaN
    /// is a missing value, and so is a feature past the end of a short row.
    pub fn predict(&self, row: &[f64]) -> f64 {
        #[expect(clippy::cast_possible_truncation, reason = "the model works in f32 (see above)")]
        let row: Vec<f32> = row.iter().map(|&x| x as f32).collect();
        self.predict_f32(&row)
    }

    fn predict_f32(&self, row: &[f32]) -> f64 {
        self.trees
            .iter()
            .fold(f64::from(self.base), |sum, tree| sum + f64::from(tree.evaluate(row)))
    }
}

/// splitmix64 (Steele, Lea and Flood): tiny, fast, and good enough to draw row subsets; a
/// dependency would buy nothing here.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    fn next_f64(&mut self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "53 bits fit an f64 exactly")]
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit
    }
}

/// The bin of a missing value.
const MISSING: u16 = u16::MAX;

/// Features cut into bins: `thresholds[f]` ascending; the bin of `x` is the number of
/// thresholds below `x`, so `bin <= b` exactly when `x <= thresholds[f][b]`, the comparison
/// that the trees (and ONNX Runtime) make.
struct Binned {
    thresholds: Vec<Vec<f32>>,
    /// Column-major: `bins[f][row]`, over all rows (validation rows included, unused).
    bins: Vec<Vec<u16>>,
}

impl Binned {
    fn new(x: &[f32], n_features: usize, train: &[u32], max_bins: usize) -> Binned {
        let rows = x.len() / n_features.max(1);
        let mut thresholds = Vec::with_capacity(n_features);
        let mut bins = Vec::with_capacity(n_features);
        for f in 0..n_features {
            let mut values: Vec<f32> = train
                .iter()
                .map(|&r| x[r as usize * n_features + f])
                .filter(|v| v.is_finite())
                .collect();
            values.sort_by(f32::total_cmp);
            let cuts = cut_points(&values, max_bins);
            let column = (0..rows)
                .map(|r| {
                    let v = x[r * n_features + f];
                    if v.is_nan() {
                        MISSING
                    } else {
                        #[expect(clippy::cast_possible_truncation, reason = "at most 4095 cuts")]
                        let bin = cuts.partition_point(|&t| t < v) as u16;
                        bin
                    }
                })
                .collect();
            thresholds.push(cuts);
            bins.push(column);
        }
        Binned { thresholds, bins }
    }
}

/// Thresholds between the distinct values of sorted, finite `values`: all of them when there are
/// few, else at quantiles, at most `max_bins - 1`. Each lies halfway between two neighbouring
/// values (in `f32`), so that unseen values in the gap are split evenly.
fn cut_points(values: &[f32], max_bins: usize) -> Vec<f32> {
    let mut distinct = values.to_vec();
    distinct.dedup();
    let between = |i: usize| {
        let (a, b) = (distinct[i], distinct[i + 1]);
        #[expect(clippy::cast_possible_truncation, reason = "thresholds are f32 by design")]
        let mid = f64::midpoint(f64::from(a), f64::from(b)) as f32;
        // Rounding may land on b; a itself still separates a from b.
        if mid < b { mid } else { a }
    };
    if distinct.len() <= max_bins {
        return (0..distinct.len().saturating_sub(1)).map(between).collect();
    }
    let mut cuts: Vec<f32> = (1..max_bins)
        .filter_map(|j| {
            let value = values[j * values.len() / max_bins];
            let i = distinct.partition_point(|&d| d < value);
            (i + 1 < distinct.len()).then(|| between(i))
        })
        .collect();
    cuts.dedup();
    cuts
}

/// The best split of one node found so far.
struct Candidate {
    gain: f64,
    feature: usize,
    bin: usize,
    default_left: bool,
}

/// What a node's rows add up to: the sum of gradients, and the row count (the sum of
/// hessians, which are all 1 for squared loss).
#[derive(Clone, Copy, Default)]
struct Sums {
    gradient: f64,
    count: usize,
}

impl Sums {
    fn add(&mut self, gradient: f64) {
        self.gradient += gradient;
        self.count += 1;
    }

    fn minus(self, other: Sums) -> Sums {
        Sums { gradient: self.gradient - other.gradient, count: self.count - other.count }
    }

    fn plus(self, other: Sums) -> Sums {
        Sums { gradient: self.gradient + other.gradient, count: self.count + other.count }
    }

    /// How much a leaf over these rows lowers the loss (times 2), with the L2 penalty.
    #[expect(clippy::cast_precision_loss, reason = "row counts are far below 2^52")]
    fn score(self, l2: f64) -> f64 {
        self.gradient * self.gradient / (self.count as f64 + l2)
    }

    /// The loss-minimizing leaf value over these rows (before the learning rate).
    #[expect(clippy::cast_precision_loss, reason = "row counts are far below 2^52")]
    fn leaf(self, l2: f64) -> f64 {
        -self.gradient / (self.count as f64 + l2)
    }
}

struct Grower<'a> {
    binned: &'a Binned,
    gradients: &'a [f64],
    params: &'a Params,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    /// Grows the subtree over `rows` and returns its root's index.
    fn grow(&mut self, rows: Vec<u32>, depth: usize) -> usize {
        let mut total = Sums::default();
        for &r in &rows {
            total.add(self.gradients[r as usize]);
        }
        let at = self.nodes.len();
        let split =
            if depth < self.params.max_depth { self.best_split(&rows, total) } else { None };
        let Some(split) = split else {
            #[expect(clippy::cast_possible_truncation, reason = "leaf values are f32 by design")]
            let value = (total.leaf(self.params.l2) * self.params.learning_rate) as f32;
            self.nodes.push(Node::Leaf { value });
            return at;
        };
        let column = &self.binned.bins[split.feature];
        let (left_rows, right_rows): (Vec<u32>, Vec<u32>) = rows.into_iter().partition(|&r| {
            let bin = column[r as usize];
            if bin == MISSING { split.default_left } else { usize::from(bin) <= split.bin }
        });
        // Past the last cut: the split of present values (all left) from missing ones.
        let threshold =
            self.binned.thresholds[split.feature].get(split.bin).copied().unwrap_or(f32::INFINITY);
        // A placeholder until the children's indices are known; children follow their parent.
        self.nodes.push(Node::Leaf { value: 0.0 });
        let left = self.grow(left_rows, depth + 1);
        let right = self.grow(right_rows, depth + 1);
        self.nodes[at] = Node::Split {
            feature: split.feature,
            threshold,
            left,
            right,
            default_left: split.default_left,
        };
        at
    }

    fn best_split(&self, rows: &[u32], total: Sums) -> Option<Candidate> {
        let params = self.params;
        let min_leaf = params.min_samples_leaf.max(1);
        if total.count < 2 * min_leaf {
            return None;
        }
        let parent = total.score(params.l2);
        let mut best: Option<Candidate> = None;
        for (feature, cuts) in self.binned.thresholds.iter().enumerate() {
            let column = &self.binned.bins[feature];
            let mut histogram = vec![Sums::default(); cuts.len() + 1];
            let mut missing = Sums::default();
            for &r in rows {
                let bin = column[r as usize];
                let gradient = self.gradients[r as usize];
                if bin == MISSING {
                    missing.add(gradient);
                } else {
                    histogram[usize::from(bin)].add(gradient);
                }
            }
            let present = total.minus(missing);
            let mut left = Sums::default();
            for (bin, sums) in histogram.iter().enumerate() {
                left = left.plus(*sums);
                let right = present.minus(left);
                let directions: &[bool] = if bin == cuts.len() {
                    // Every value left (threshold +inf): only worth it with missing values right.
                    if missing.count > 0 { &[false] } else { &[] }
                } else if missing.count > 0 {
                    &[true, false]
                } else {
                    // Nothing to learn from: missing values later go with the majority.
                    if left.count >= right.count { &[true] } else { &[false] }
                };
                for &default_left in directions {
                    let (l, r) = if default_left {
                        (left.plus(missing), right)
                    } else {
                        (left, right.plus(missing))
                    };
                    if l.count < min_leaf || r.count < min_leaf {
                        continue;
                    }
                    let gain = l.score(params.l2) + r.score(params.l2) - parent;
                    if gain > params.min_split_gain && best.as_ref().is_none_or(|b| gain > b.gain) {
                        best = Some(Candidate { gain, feature, bin, default_left });
                    }
                }
            }
        }
        best
    }
}

fn check(params: &Params) -> Result<(), Error> {
    let bad = |name, why: &str| Err(Error::Parameter { name, why: why.to_string() });
    if !(params.learning_rate > 0.0 && params.learning_rate <= 1.0) {
        return bad("learning_rate", "must be in (0, 1]");
    }
    if !(1..=32).contains(&params.max_depth) {
        return bad("max_depth", "must be 1 to 32");
    }
    if !(params.l2 >= 0.0 && params.l2.is_finite()) {
        return bad("l2", "must be a finite number >= 0");
    }
    if !(params.min_split_gain >= 0.0 && params.min_split_gain.is_finite()) {
        return bad("min_split_gain", "must be a finite number >= 0");
    }
    if !(params.subsample > 0.0 && params.subsample <= 1.0) {
        return bad("subsample", "must be in (0, 1]");
    }
    if !(2..=4096).contains(&params.max_bins) {
        return bad("max_bins", "must be 2 to 4096");
    }
    if params.patience == 0 {
        return bad("patience", "must be at least 1");
    }
    if params.huber.is_some_and(|d| !(d > 0.0 && d.is_finite())) {
        return bad("huber", "must be a finite number > 0");
    }
    Ok(())
}

fn rmse(predictions: &[f64], targets: &[f64], rows: &[u32]) -> f64 {
    let sum: f64 = rows
        .iter()
        .map(|&r| {
            let e = predictions[r as usize] - targets[r as usize];
            e * e
        })
        .sum();
    #[expect(clippy::cast_precision_loss, reason = "row counts are far below 2^52")]
    let mean = sum / rows.len() as f64;
    mean.sqrt()
}

/// Trains an ensemble on rows of `n_features` values each, stored row after row in
/// `features` (NaN = missing), with one finite target per row. The rows listed in
/// `validation` are held out: never trained on, they decide early stopping and the spread.
pub fn train(
    features: &[f64],
    n_features: usize,
    targets: &[f64],
    validation: &[usize],
    params: &Params,
) -> Result<Model, Error> {
    check(params)?;
    if n_features == 0 || !features.len().is_multiple_of(n_features) {
        return Err(Error::Shape { features: features.len(), n_features });
    }
    let rows = features.len() / n_features;
    if targets.len() != rows {
        return Err(Error::TargetCount { targets: targets.len(), rows });
    }
    // Leaf and base values are f32 in the model: a target past f32's range would overflow.
    let out_of_range = |t: &f64| !t.is_finite() || t.abs() > f64::from(f32::MAX);
    if let Some((row, &value)) = targets.iter().enumerate().find(|(_, t)| out_of_range(t)) {
        return Err(Error::Target { row, value });
    }
    // Row indices are u32 to halve the memory of the per-node row lists.
    if u32::try_from(rows).is_err() {
        return Err(Error::Parameter { name: "rows", why: format!("{rows} rows is over 2^32") });
    }
    let mut held_out = vec![false; rows];
    for &index in validation {
        *held_out.get_mut(index).ok_or(Error::ValidationIndex { index, rows })? = true;
    }
    #[expect(clippy::cast_possible_truncation, reason = "rows fit u32, checked above")]
    let (train_rows, valid_rows): (Vec<u32>, Vec<u32>) =
        (0..rows as u32).partition(|&r| !held_out[r as usize]);
    if train_rows.is_empty() {
        return Err(Error::NoTrainingRows);
    }

    #[expect(clippy::cast_possible_truncation, reason = "the model works in f32 (module doc)")]
    let x: Vec<f32> = features.iter().map(|&v| v as f32).collect();
    let binned = Binned::new(&x, n_features, &train_rows, params.max_bins);

    #[expect(clippy::cast_precision_loss, reason = "row counts are far below 2^52")]
    let mean =
        train_rows.iter().map(|&r| targets[r as usize]).sum::<f64>() / train_rows.len() as f64;
    let start = match params.huber {
        Some(_) => {
            let mut sorted: Vec<f64> = train_rows.iter().map(|&r| targets[r as usize]).collect();
            sorted.sort_by(f64::total_cmp);
            sorted[sorted.len() / 2]
        }
        None => mean,
    };
    #[expect(clippy::cast_possible_truncation, reason = "the base is f32 in ONNX")]
    let base = start as f32;
    let mut predictions = vec![f64::from(base); rows];
    let mut gradients = vec![0.0; rows];
    let mut trees = Vec::new();
    let mut validation_rmse = Vec::new();
    let mut best = 0;
    if !valid_rows.is_empty() {
        validation_rmse.push(rmse(&predictions, targets, &valid_rows));
    }
    let mut rng = SplitMix64(params.seed);
    for _ in 0..params.max_trees {
        for &r in &train_rows {
            let residual = predictions[r as usize] - targets[r as usize];
            gradients[r as usize] = match params.huber {
                Some(delta) => residual.clamp(-delta, delta),
                None => residual,
            };
        }
        let mut sample: Vec<u32> = if params.subsample < 1.0 {
            train_rows.iter().copied().filter(|_| rng.next_f64() < params.subsample).collect()
        } else {
            train_rows.clone()
        };
        if sample.is_empty() {
            sample.clone_from(&train_rows);
        }
        let mut grower =
            Grower { binned: &binned, gradients: &gradients, params, nodes: Vec::new() };
        grower.grow(sample, 0);
        let tree = Tree { nodes: grower.nodes };
        // Predictions move by the tree as it will be evaluated (f32 features and thresholds),
        // so the next gradients are those of the model we ship.
        for (r, prediction) in predictions.iter_mut().enumerate() {
            *prediction += f64::from(tree.evaluate(&x[r * n_features..(r + 1) * n_features]));
        }
        trees.push(tree);
        if valid_rows.is_empty() {
            continue;
        }
        let score = rmse(&predictions, targets, &valid_rows);
        validation_rmse.push(score);
        if score < validation_rmse[best] {
            best = trees.len();
        } else if trees.len() - best >= params.patience {
            break;
        }
    }
    if !valid_rows.is_empty() {
        trees.truncate(best);
    }

    let mut model = Model {
        n_features,
        base,
        trees,
        validation_rmse,
        spread: Spread { residual_quantiles: Vec::new(), held_out: false },
    };
    let spread_rows = if valid_rows.is_empty() { &train_rows } else { &valid_rows };
    let residuals = spread_rows
        .iter()
        .map(|&r| {
            let r = r as usize;
            targets[r] - model.predict_f32(&x[r * n_features..(r + 1) * n_features])
        })
        .collect();
    model.spread = Spread::of(residuals, !valid_rows.is_empty());
    Ok(model)
}

#[cfg(test)]
#[expect(
    clippy::float_cmp,
    clippy::cast_precision_loss,
    reason = "exact values are the point where compared; test sizes are small"
)]
pub(crate) mod tests {
    use super::*;

    /// Synthetic rows: `n_features` uniform in [-1, 1), about `missing` of them NaN.
    pub(crate) fn rows(n: usize, n_features: usize, missing: f64, seed: u64) -> Vec<f64> {
        let mut rng = SplitMix64(seed);
        (0..n * n_features)
            .map(|_| if rng.next_f64() < missing { f64::NAN } else { rng.next_f64() * 2.0 - 1.0 })
            .collect()
    }

    /// A nonlinear target: an interaction, a sine, a step, and a shift when x2 is missing.
    pub(crate) fn target(row: &[f64]) -> f64 {
        let or_zero = |x: f64| if x.is_nan() { 0.0 } else { x };
        let x2 = if row[2].is_nan() { 1.5 } else { (3.0 * row[2]).sin() };
        3.0 + or_zero(row[0]) * or_zero(row[1]) * 2.0 + x2 + if row[3] > 0.2 { 1.0 } else { 0.0 }
    }

    fn dataset(n: usize, missing: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let x = rows(n, 5, missing, seed);
        let y = x.chunks(5).map(target).collect();
        (x, y)
    }

    #[test]
    fn learns_a_nonlinear_function_and_stops_early() {
        let (x, y) = dataset(4000, 0.05, 1);
        let validation: Vec<usize> = (3000..4000).collect();
        let params = Params { max_trees: 2000, ..Params::default() };
        let model = train(&x, 5, &y, &validation, &params).unwrap();

        // The target's standard deviation is 1.14 on these rows; the model gets 0.10 (R² 0.99).
        let (test_x, test_y) = dataset(2000, 0.05, 2);
        let errors: Vec<f64> =
            test_x.chunks(5).zip(&test_y).map(|(row, t)| model.predict(row) - t).collect();
        let rmse = (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt();
        assert!(rmse < 0.15, "test RMSE {rmse}");

        // Early stopping: fewer trees than allowed, the best validation score kept, and the
        // stop came `patience` trees after it.
        let trained = model.validation_rmse.len() - 1;
        assert!(trained < 2000, "trained all {trained} trees");
        assert_eq!(trained, model.trees.len() + params.patience);
        let kept = model.validation_rmse[model.trees.len()];
        assert!(model.validation_rmse.iter().all(|&s| s >= kept));

        // The spread of validation residuals is about the size of the error.
        let (low, high) = model.spread.interval(0.0, 0.9).unwrap();
        assert!(model.spread.held_out);
        assert!(low < 0.0 && high > 0.0 && high - low < 1.0, "{low} {high}");
        let inside = errors.iter().filter(|e| (low..=high).contains(&-**e)).count();
        assert!(inside > errors.len() * 8 / 10, "{inside} of {} inside", errors.len());
    }

    #[test]
    fn missing_values_take_the_learned_direction() {
        // Only missingness carries the signal: a model must route NaN away from the values.
        let x = rows(1000, 1, 0.3, 3);
        let y: Vec<f64> = x.iter().map(|v| if v.is_nan() { 5.0 } else { 1.0 }).collect();
        let params = Params { subsample: 1.0, max_depth: 1, max_trees: 50, ..Params::default() };
        let model = train(&x, 1, &y, &[], &params).unwrap();
        assert!((model.predict(&[f64::NAN]) - 5.0).abs() < 0.05);
        assert!((model.predict(&[0.3]) - 1.0).abs() < 0.05);
        assert!((model.predict(&[]) - 5.0).abs() < 0.05, "an absent feature is missing");
    }

    #[test]
    fn thresholds_split_rows_as_f32_comparisons_do() {
        // Two values one f32 step apart that are distinct in f64 only on one side.
        let a = 1.0_f32;
        let b = f32::from_bits(a.to_bits() + 1);
        let x = vec![f64::from(a), f64::from(b), f64::from(a), f64::from(b)];
        let y = vec![0.0, 10.0, 0.0, 10.0];
        let params = Params {
            subsample: 1.0,
            min_samples_leaf: 1,
            l2: 0.0,
            learning_rate: 1.0,
            max_trees: 1,
            ..Params::default()
        };
        let model = train(&x, 1, &y, &[], &params).unwrap();
        assert_eq!(model.predict(&[f64::from(a)]), 0.0);
        assert_eq!(model.predict(&[f64::from(b)]), 10.0);
    }

    #[test]
    fn deterministic() {
        let (x, y) = dataset(1500, 0.1, 4);
        let validation: Vec<usize> = (0..1500).filter(|i| i % 5 == 0).collect();
        let params = Params { max_trees: 60, ..Params::default() };
        let a = train(&x, 5, &y, &validation, &params).unwrap();
        let b = train(&x, 5, &y, &validation, &params).unwrap();
        assert_eq!(a, b);
        let other_seed = train(&x, 5, &y, &validation, &Params { seed: 7, ..params }).unwrap();
        assert_ne!(a.trees, other_seed.trees, "the seed should matter with subsampling");
    }

    #[test]
    fn bad_input_is_an_error() {
        let p = Params::default();
        assert!(matches!(train(&[1.0, 2.0, 3.0], 2, &[1.0], &[], &p), Err(Error::Shape { .. })));
        assert!(matches!(train(&[1.0, 2.0], 1, &[1.0], &[], &p), Err(Error::TargetCount { .. })));
        assert!(matches!(
            train(&[1.0, 2.0], 1, &[1.0, f64::NAN], &[], &p),
            Err(Error::Target { row: 1, .. })
        ));
        assert!(matches!(train(&[1.0], 1, &[1e300], &[], &p), Err(Error::Target { row: 0, .. })));
        assert!(matches!(
            train(&[1.0, 2.0], 1, &[1.0, 2.0], &[2], &p),
            Err(Error::ValidationIndex { index: 2, rows: 2 })
        ));
        assert!(matches!(train(&[1.0], 1, &[1.0], &[0], &p), Err(Error::NoTrainingRows)));
        let bad = Params { learning_rate: f64::NAN, ..Params::default() };
        assert!(matches!(train(&[1.0], 1, &[1.0], &[], &bad), Err(Error::Parameter { .. })));
    }

    #[test]
    fn constant_target_gives_single_leaf_trees() {
        let x = rows(100, 2, 0.0, 5);
        let model =
            train(&x, 2, &[2.5; 100], &[], &Params { max_trees: 3, ..Params::default() }).unwrap();
        assert!(model.trees.iter().all(|t| t.nodes.len() == 1));
        assert_eq!(model.predict(&[0.0, 0.0]), 2.5);
    }

    #[test]
    fn malformed_trees_do_not_panic_or_loop() {
        let tree = Tree {
            nodes: vec![Node::Split {
                feature: 9,
                threshold: 0.0,
                left: 0,
                right: 5,
                default_left: true,
            }],
        };
        assert_eq!(tree.evaluate(&[1.0]), 0.0);
    }
}
