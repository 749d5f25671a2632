//! What the model knows about a transformation before it runs: its place in the graph, the
//! shape of its code, the size of its inputs, and its own history. `docs/features.md` lists
//! every feature; the names here are the metadata's `features`, in order.
//!
//! Pure: the caller brings the pipeline (fragments of one revision, with each file's blob id)
//! and the history (past runs, each with the code it ran); nothing here reads git or the clock.
//!
//! The model's targets are relative: the log of the run's duration (and peak memory) minus the
//! log of a *reference* taken from the transformation's own comparable runs (the same code when
//! it has run before, at the input size nearest to this run's). The trees then learn how a
//! change of code or input moves the cost away from what was seen, which generalizes across
//! transformations, instead of each transformation's absolute level, which does not. Without
//! history the reference is 0 and the target is the absolute log cost, learned from the code
//! and input size alone; every training run is also shown to the trees that way (see
//! [`Row::without_history`]), so new and renamed transformations get a prediction too.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use crate::extract::python::airflow::SQL_FILE;
use crate::extract::{Fragment, Transformation};

/// A run of the past, as the features use it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    /// The transformation's [`key`].
    pub key: String,
    /// The blob id of its file at the run's commit: the code that ran.
    pub code: String,
    /// Milliseconds since the Unix epoch when it started.
    pub at: i64,
    pub wall_ms: f64,
    pub cpu_ms: Option<f64>,
    pub memory_bytes: Option<f64>,
    pub rows_in: Option<f64>,
    pub rows_out: Option<f64>,
    /// [`code_shape`] of the transformation as it was at the run's commit.
    pub shape: Vec<f64>,
}

/// What a transformation's history is kept under across commits: its file and the datasets it
/// writes. Its id (`path#line`) moves when a line is added above it; this does not. A renamed
/// file or a new target starts a new history.
pub fn key(file: &str, t: &Transformation) -> String {
    format!("{file}|{}", t.writes.join(","))
}

/// The past runs of every transformation, oldest first.
#[derive(Debug, Default, Clone)]
pub struct History {
    by_key: HashMap<String, Vec<PastRun>>,
}

impl History {
    /// Successful runs only: a failed run's time says nothing of the cost of finishing.
    pub fn new(mut runs: Vec<PastRun>) -> History {
        runs.sort_by_key(|r| r.at);
        let mut by_key: HashMap<String, Vec<PastRun>> = HashMap::new();
        for run in runs {
            if run.wall_ms.is_finite() && run.wall_ms > 0.0 {
                by_key.entry(run.key.clone()).or_default().push(run);
            }
        }
        History { by_key }
    }

    /// The runs of `key` that started before `before` (all with `i64::MAX`), oldest first.
    pub fn before(&self, key: &str, before: i64) -> &[PastRun] {
        let runs = self.by_key.get(key).map_or(&[][..], Vec::as_slice);
        &runs[..runs.partition_point(|r| r.at < before)]
    }

    pub fn len(&self) -> usize {
        self.by_key.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// A transformation of the pipeline.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub file: String,
    pub key: String,
    /// The blob id of its file.
    pub code: String,
    pub transformation: Transformation,
    /// Transformations that write what this one reads, or that its ordering edges (Airflow's
    /// `a >> b`) put before it (indices into `Pipeline::nodes`).
    pub upstream: Vec<usize>,
    pub downstream: Vec<usize>,
}

/// Per node, the nodes that must run before it without data between them: Airflow's ordering
/// edges (`after`). A task stands for itself when it writes, and for the statements of the
/// `.sql` files it runs (which run after what the task runs after); a task that writes
/// nothing (a sensor, an empty or bash step) passes its own `after` on, so that `a >> wait >>
/// c` still puts `a` before `c`.
fn ordering(fragments: &[Fragment], nodes: &[Node]) -> BTreeMap<usize, BTreeSet<usize>> {
    let by_id: BTreeMap<&str, &Transformation> =
        fragments.iter().flat_map(|f| &f.transformations).map(|t| (t.id.as_str(), t)).collect();
    let node_of: BTreeMap<&str, usize> =
        nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let by_file: BTreeMap<&str, Vec<usize>> =
        nodes.iter().enumerate().fold(BTreeMap::new(), |mut files, (i, n)| {
            files.entry(n.file.as_str()).or_default().push(i);
            files
        });
    let files_run = |t: &Transformation| -> Vec<usize> {
        t.operations
            .iter()
            .filter(|o| o.kind == SQL_FILE)
            .filter_map(|o| by_file.get(o.dataset.as_deref()?))
            .flatten()
            .copied()
            .collect()
    };
    // The nodes a transformation id stands for, through tasks that write nothing.
    let stands_for = |id: &str| -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(t) = by_id.get(id) else { continue };
            let mut found: Vec<usize> = files_run(t);
            found.extend(node_of.get(id).copied());
            if found.is_empty() {
                stack.extend(t.after.iter().map(String::as_str));
            }
            out.extend(found);
        }
        out
    };
    let mut before: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for t in fragments.iter().flat_map(|f| &f.transformations).filter(|t| !t.after.is_empty()) {
        let upstream: BTreeSet<usize> = t.after.iter().flat_map(|a| stands_for(a)).collect();
        let mut runs: Vec<usize> = files_run(t);
        runs.extend(node_of.get(t.id.as_str()).copied());
        for i in runs {
            before.entry(i).or_default().extend(upstream.iter().copied());
        }
    }
    before
}

/// The transformations of one revision that write data, with the edges between them.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    pub nodes: Vec<Node>,
    /// Dataset -> the nodes that write it.
    pub writers: BTreeMap<String, Vec<usize>>,
    /// Per node: depth, ancestors, descendants.
    reach: Vec<(usize, usize, usize)>,
}

impl Pipeline {
    /// The pipeline of `fragments`; `code` gives each file's blob id.
    pub fn new(fragments: &[Fragment], code: impl Fn(&str) -> String) -> Pipeline {
        let mut nodes = Vec::new();
        for fragment in fragments {
            let blob = code(&fragment.path);
            for t in fragment.transformations.iter().filter(|t| !t.writes.is_empty()) {
                nodes.push(Node {
                    id: t.id.clone(),
                    file: fragment.path.clone(),
                    key: key(&fragment.path, t),
                    code: blob.clone(),
                    transformation: t.clone(),
                    upstream: Vec::new(),
                    downstream: Vec::new(),
                });
            }
        }
        let mut writers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, node) in nodes.iter().enumerate() {
            for w in &node.transformation.writes {
                writers.entry(w.clone()).or_default().push(i);
            }
        }
        let before = ordering(fragments, &nodes);
        for i in 0..nodes.len() {
            let upstream: BTreeSet<usize> = nodes[i]
                .transformation
                .reads
                .iter()
                .flat_map(|d| writers.get(d).into_iter().flatten().copied())
                .chain(before.get(&i).into_iter().flatten().copied())
                .filter(|&u| u != i)
                .collect();
            for &u in &upstream {
                nodes[u].downstream.push(i);
            }
            nodes[i].upstream = upstream.into_iter().collect();
        }
        let mut pipeline = Pipeline { nodes, writers, reach: Vec::new() };
        pipeline.reach = pipeline.reach();
        pipeline
    }

    /// Node index by transformation id.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The longest chain of upstream transformations above each node (0 for those that read
    /// only sources), and the number of all their ancestors and descendants.
    fn reach(&self) -> Vec<(usize, usize, usize)> {
        let n = self.nodes.len();
        let mut depth = vec![None; n];
        (0..n)
            .map(|i| {
                let ancestors = self.closure(i, |node| &node.upstream);
                let descendants = self.closure(i, |node| &node.downstream);
                let d = self.longest_chain(i, &mut depth, &mut BTreeSet::new());
                (d, ancestors, descendants)
            })
            .collect()
    }

    /// How many nodes `next` reaches from `i`, transitively.
    fn closure(&self, i: usize, next: impl Fn(&Node) -> &Vec<usize>) -> usize {
        let mut seen = BTreeSet::new();
        let mut stack = vec![i];
        while let Some(x) = stack.pop() {
            for &y in next(&self.nodes[x]) {
                if y != i && seen.insert(y) {
                    stack.push(y);
                }
            }
        }
        seen.len()
    }

    /// Node `i`'s stage: the longest chain of upstream transformations above it (0 for one
    /// that reads only sources). Nodes of one stage can run at the same time.
    pub fn depth(&self, i: usize) -> usize {
        self.reach[i].0
    }

    /// Longest upstream chain; a cycle counts once.
    fn longest_chain(
        &self,
        i: usize,
        memo: &mut [Option<usize>],
        path: &mut BTreeSet<usize>,
    ) -> usize {
        if let Some(d) = memo[i] {
            return d;
        }
        path.insert(i);
        let mut best = 0;
        for &u in &self.nodes[i].upstream {
            if !path.contains(&u) {
                best = best.max(1 + self.longest_chain(u, memo, path));
            }
        }
        path.remove(&i);
        memo[i] = Some(best);
        best
    }
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn count(n: usize) -> f64 {
    n as f64
}

/// The code's own features: its reads and columns, the structure of its SQL, and the work
/// index that sums it up.
pub fn code_shape(t: &Transformation) -> Vec<f64> {
    let mut shape = vec![
        count(t.reads.len()),
        count(t.writes.len()),
        count(t.output_columns.len()),
        count(t.columns.len()),
        count(t.indirect.len()),
    ];
    let fields = t.structure.fields();
    shape.extend(fields.iter().map(|&(_, v)| f64::from(v)));
    shape.push(work_index(&fields));
    shape
}

/// ln of the passes a statement makes over its input, by what each operation costs an engine
/// relative to one scan: a hash join or an aggregation builds a table of one side, a window,
/// a DISTINCT or an ORDER BY without LIMIT sorts or hashes everything, a cross join multiplies.
/// Fixed weights, not learned: a repository's history has too few code changes of each kind
/// for the trees to learn each one's direction, but `delta_work` (new code against the code
/// of the reference runs) puts them all on one scale that a handful of changes can calibrate.
fn work_index(fields: &[(&'static str, u32)]) -> f64 {
    let weight = |name: &str| match name {
        "joins_inner"
        | "joins_outer"
        | "group_by"
        | "windows"
        | "distinct"
        | "order_by_without_limit"
        | "union_distinct" => 1.0,
        "joins_full" => 1.5,
        "joins_cross" => 4.0,
        "joins_semi" | "subqueries" => 0.5,
        "order_by" | "set_operations" | "select_star" => 0.3,
        "aggregates" | "filters" | "having" | "pattern_matches" => 0.1,
        "case_expressions" => 0.05,
        _ => 0.0,
    };
    let passes: f64 = fields.iter().map(|&(name, v)| weight(name) * f64::from(v)).sum();
    (1.0 + passes).ln()
}

/// The names of [`code_shape`]'s values.
fn code_names() -> Vec<String> {
    let mut names: Vec<String> =
        ["reads", "writes", "output_columns", "column_edges", "indirect_edges"]
            .map(String::from)
            .to_vec();
    names.extend(
        crate::extract::Structure::default().fields().iter().map(|(n, _)| (*n).to_string()),
    );
    names.push("work".to_string());
    names
}

const GRAPH: [&str; 5] = ["fan_in", "fan_out", "depth", "ancestors", "descendants"];
const SIZES: [&str; 4] = ["ln_rows_in", "ln_rows_in_max", "input_growth", "ln_rows_out_last"];
const HISTORY: [&str; 12] = [
    "history_runs",
    "same_code_runs",
    "reference_same_code",
    "reference_spread",
    "ln_reference_duration",
    "ln_last_duration",
    "ln_median_duration",
    "ln_reference_memory",
    "ln_last_memory",
    "ln_median_memory",
    "cpu_share",
    "ln_ms_per_krow",
];

/// Every feature's name, in the order of a row's values.
pub fn names() -> &'static [String] {
    static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
        let code = code_names();
        let mut names: Vec<String> = GRAPH.map(String::from).to_vec();
        names.extend(code.iter().cloned());
        names.extend(SIZES.map(String::from));
        names.extend(HISTORY.map(String::from));
        names.extend(code.iter().map(|n| format!("delta_{n}")));
        names
    });
    &NAMES
}

/// The index of feature `name`.
pub fn index(name: &str) -> Option<usize> {
    names().iter().position(|n| n == name)
}

/// The value of feature `name` in `row`.
pub fn value(row: &Row, name: &str) -> Option<f64> {
    row.values.get(index(name)?).copied()
}

/// Where the sizes and the history part of a row start: the history part (through the end)
/// is missing in [`Row::without_history`].
fn layout() -> (usize, usize) {
    static LAYOUT: LazyLock<(usize, usize)> = LazyLock::new(|| {
        let sizes = GRAPH.len() + code_names().len();
        (sizes, sizes + SIZES.len())
    });
    *LAYOUT
}

/// The features of every node of `pipeline`, with all of `history`.
pub fn rows(pipeline: &Pipeline, history: &History) -> Vec<Row> {
    (0..pipeline.nodes.len()).map(|i| row(pipeline, i, history, i64::MAX, None)).collect()
}

/// Which runs a prediction rests on, to say so beside it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Basis {
    /// Earlier runs of the transformation.
    pub runs: usize,
    /// Of those, runs of the same code.
    pub same_code_runs: usize,
    /// The runs the reference was taken from.
    pub reference_runs: usize,
    /// Their median duration, milliseconds.
    pub reference_ms: Option<f64>,
    /// Their median input rows.
    pub reference_rows_in: Option<f64>,
    /// When the latest run started (ms since the epoch).
    pub last_run_at: Option<i64>,
    /// The input rows the prediction assumes, and where that number comes from.
    pub rows_in: Option<f64>,
    pub rows_in_from: RowsFrom,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowsFrom {
    /// Recorded with the run itself.
    Run,
    /// The latest rows written by the transformations upstream.
    Upstream,
    /// The transformation's own latest run.
    LastRun,
    #[default]
    Unknown,
}

/// One transformation's features, the reference its targets are relative to, and its basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub values: Vec<f64>,
    /// ln(ms) and ln(bytes) that the model's outputs are added to (0 without history).
    pub reference_duration: f64,
    pub reference_memory: f64,
    pub basis: Basis,
}

impl Row {
    /// The same run as a transformation without history would show it: history features
    /// missing, reference 0 (absolute targets), and the input rows only when the run said.
    #[must_use]
    pub fn without_history(&self) -> Row {
        let mut values = self.values.clone();
        let (sizes, history) = layout();
        for v in &mut values[history..] {
            *v = f64::NAN;
        }
        // `history_runs` says "none" rather than "unknown".
        values[history] = 0.0;
        // Growth and last output rows are history too.
        values[sizes + 2] = f64::NAN;
        values[sizes + 3] = f64::NAN;
        if self.basis.rows_in_from == RowsFrom::LastRun {
            values[sizes] = f64::NAN;
        }
        Row {
            values,
            reference_duration: 0.0,
            reference_memory: 0.0,
            basis: Basis { rows_in: None, rows_in_from: RowsFrom::Unknown, ..Basis::default() },
        }
    }
}

/// How many of a transformation's latest runs the medians and the reference look at.
const RECENT: usize = 20;
/// Reference runs: those within this log distance of the nearest input size.
const NEAR_ROWS: f64 = 0.15;
/// At most this many of them (the latest).
const REFERENCE_RUNS: usize = 5;

/// The features of node `i` of `pipeline`, with the history before `before` (ms since the
/// epoch). `rows_in` is the input size when it is known for this run (recorded with it);
/// otherwise it is estimated from what the upstream transformations last wrote.
pub fn row(
    pipeline: &Pipeline,
    i: usize,
    history: &History,
    before: i64,
    rows_in: Option<f64>,
) -> Row {
    let node = &pipeline.nodes[i];
    let t = &node.transformation;
    let past = history.before(&node.key, before);
    let recent = &past[past.len().saturating_sub(RECENT)..];
    let shape = code_shape(t);

    // Input size: this run's, else what upstream last wrote, else this transformation's last.
    let upstream_rows: Vec<f64> = t
        .reads
        .iter()
        .filter_map(|d| dataset_rows(pipeline, history, d, before, Some(i)))
        .collect();
    let last_rows_in = recent.iter().rev().find_map(|r| r.rows_in);
    let (rows_now, rows_from) = match rows_in {
        Some(rows) => (Some(rows), RowsFrom::Run),
        None if !upstream_rows.is_empty() => (Some(upstream_rows.iter().sum()), RowsFrom::Upstream),
        None => match last_rows_in {
            Some(rows) => (Some(rows), RowsFrom::LastRun),
            None => (None, RowsFrom::Unknown),
        },
    };

    // The reference: the same code if it ran before, at the nearest input size.
    let same: Vec<&PastRun> = recent.iter().filter(|r| r.code == node.code).collect();
    let pool: Vec<&PastRun> = if same.is_empty() { recent.iter().collect() } else { same.clone() };
    let reference = reference_runs(&pool, rows_now);
    let ln = |x: f64| x.max(1e-3).ln();
    let ln_rows = |x: f64| (x.max(0.0) + 1.0).ln();
    let durations: Vec<f64> = reference.iter().map(|r| ln(r.wall_ms)).collect();
    let memories: Vec<f64> = reference.iter().filter_map(|r| r.memory_bytes.map(ln)).collect();
    let reference_rows = median(reference.iter().filter_map(|r| r.rows_in).collect());
    let reference_duration = median(durations.clone());
    let reference_memory = median(memories);
    let nan = f64::NAN;

    let (depth, ancestors, descendants) = pipeline.reach[i];
    let mut values = vec![
        count(node.upstream.len()),
        count(node.downstream.len()),
        count(depth),
        count(ancestors),
        count(descendants),
    ];
    values.extend(&shape);
    values.extend([
        rows_now.map_or(nan, ln_rows),
        upstream_rows.iter().copied().reduce(f64::max).map_or(nan, ln_rows),
        match (rows_now, reference_rows) {
            (Some(now), Some(then)) => ln_rows(now) - ln_rows(then),
            _ => nan,
        },
        recent.iter().rev().find_map(|r| r.rows_out).map_or(nan, ln_rows),
    ]);
    let cpu_share = median(
        recent.iter().filter_map(|r| r.cpu_ms.map(|cpu| cpu / r.wall_ms.max(1e-3))).collect(),
    );
    let ms_per_krow = median(
        recent
            .iter()
            .filter_map(|r| {
                r.rows_in.filter(|&rows| rows > 0.0).map(|rows| r.wall_ms * 1000.0 / rows)
            })
            .collect(),
    );
    values.extend([
        count(past.len()),
        count(past.iter().filter(|r| r.code == node.code).count()),
        if pool.is_empty() { nan } else { f64::from(u8::from(!same.is_empty())) },
        spread(&durations),
        reference_duration.unwrap_or(nan),
        recent.last().map_or(nan, |r| ln(r.wall_ms)),
        median(recent.iter().map(|r| ln(r.wall_ms)).collect()).unwrap_or(nan),
        reference_memory.unwrap_or(nan),
        recent.iter().rev().find_map(|r| r.memory_bytes).map_or(nan, ln),
        median(recent.iter().filter_map(|r| r.memory_bytes.map(ln)).collect()).unwrap_or(nan),
        cpu_share.unwrap_or(nan),
        ms_per_krow.map_or(nan, ln),
    ]);
    // What changed in the code since the reference ran (0 when it is the same code).
    let before_shape = reference.last().map(|r| r.shape.as_slice());
    values.extend(shape.iter().enumerate().map(|(k, now)| match before_shape {
        Some(then) => then.get(k).map_or(nan, |then| now - then),
        None => nan,
    }));

    Row {
        values,
        reference_duration: reference_duration.unwrap_or(0.0),
        reference_memory: reference_memory.unwrap_or(0.0),
        basis: Basis {
            runs: past.len(),
            same_code_runs: past.iter().filter(|r| r.code == node.code).count(),
            reference_runs: reference.len(),
            reference_ms: reference_duration.map(f64::exp),
            reference_rows_in: reference_rows,
            last_run_at: past.last().map(|r| r.at),
            rows_in: rows_now,
            rows_in_from: rows_from,
        },
    }
}

/// The rows of `dataset` as its writers (other than `except`) last wrote it before `before`.
pub fn dataset_rows(
    pipeline: &Pipeline,
    history: &History,
    dataset: &str,
    before: i64,
    except: Option<usize>,
) -> Option<f64> {
    pipeline
        .writers
        .get(dataset)?
        .iter()
        .filter(|&&w| Some(w) != except)
        .filter_map(|&w| {
            let runs = history.before(&pipeline.nodes[w].key, before);
            runs.iter().rev().find_map(|r| r.rows_out.map(|rows| (r.at, rows)))
        })
        .max_by_key(|&(at, _)| at)
        .map(|(_, rows)| rows)
}

/// The runs a prediction is relative to: among `pool`, those nearest `rows` in input size
/// (all of them when sizes are unknown), the latest few.
fn reference_runs<'a>(pool: &[&'a PastRun], rows: Option<f64>) -> Vec<&'a PastRun> {
    let distance = |r: &PastRun| match (rows, r.rows_in) {
        (Some(now), Some(then)) => Some(((now + 1.0).ln() - (then + 1.0).ln()).abs()),
        _ => None,
    };
    let nearest = pool.iter().filter_map(|r| distance(r)).reduce(f64::min);
    let near: Vec<&PastRun> = match nearest {
        Some(best) => pool
            .iter()
            .copied()
            .filter(|r| distance(r).is_some_and(|d| d <= best + NEAR_ROWS))
            .collect(),
        None => pool.to_vec(),
    };
    near[near.len().saturating_sub(REFERENCE_RUNS)..].to_vec()
}

/// The median, or `None` for no values.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        f64::midpoint(values[mid - 1], values[mid])
    })
}

/// The median absolute deviation (NaN with fewer than two values): how noisy the reference is.
fn spread(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return f64::NAN;
    }
    let Some(m) = median(values.to_vec()) else { return f64::NAN };
    median(values.iter().map(|v| (v - m).abs()).collect()).unwrap_or(f64::NAN)
}

#[cfg(test)]
#[expect(clippy::float_cmp, reason = "exact values are the point")]
mod tests {
    use super::*;
    use crate::extract::{Confidence, Kind};

    fn transformation(id: &str, reads: &[&str], writes: &[&str]) -> Transformation {
        Transformation {
            id: id.to_string(),
            kind: Kind::CreateTableAs,
            line: 1,
            reads: reads.iter().map(|s| (*s).to_string()).collect(),
            writes: writes.iter().map(|s| (*s).to_string()).collect(),
            columns: Vec::new(),
            indirect: Vec::new(),
            confidence: Confidence::Full,
            drops: Vec::new(),
            renames: Vec::new(),
            procedure: None,
            output_columns: Vec::new(),
            structure: crate::extract::Structure::default(),
            operations: Vec::new(),
            after: Vec::new(),
        }
    }

    fn fragment(path: &str, t: Transformation) -> Fragment {
        Fragment {
            path: path.to_string(),
            language: crate::extract::Language::Sql,
            transformations: vec![t],
            intermediates: Vec::new(),
            imports: Vec::new(),
            configs: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    fn pipeline() -> Pipeline {
        let fragments = [
            fragment("a.sql", transformation("a.sql#1", &["src.x"], &["raw.a"])),
            fragment("b.sql", transformation("b.sql#1", &["raw.a"], &["stg.b"])),
            fragment("c.sql", transformation("c.sql#1", &["raw.a", "stg.b"], &["mart.c"])),
        ];
        Pipeline::new(&fragments, |path| format!("blob-{path}"))
    }

    fn run(key: &str, code: &str, at: i64, wall_ms: f64, rows_in: f64, rows_out: f64) -> PastRun {
        PastRun {
            key: key.to_string(),
            code: code.to_string(),
            at,
            wall_ms,
            cpu_ms: Some(wall_ms / 2.0),
            memory_bytes: Some(1e8),
            rows_in: Some(rows_in),
            rows_out: Some(rows_out),
            shape: code_shape(&transformation("x", &["raw.a"], &["stg.b"])),
        }
    }

    fn value(row: &Row, name: &str) -> f64 {
        let i = names().iter().position(|n| n == name).unwrap();
        row.values[i]
    }

    #[test]
    fn the_graph_gives_fan_in_out_depth() {
        let p = pipeline();
        assert_eq!(p.nodes[2].upstream, [0, 1]);
        let rows = rows(&p, &History::default());
        assert!(rows.iter().all(|r| r.values.len() == names().len()));
        let c = &rows[2];
        assert_eq!((value(c, "fan_in"), value(c, "depth"), value(c, "ancestors")), (2.0, 2.0, 2.0));
        assert_eq!(value(&rows[0], "descendants"), 2.0);
        assert_eq!(value(c, "reads"), 2.0);
        assert_eq!(value(c, "history_runs"), 0.0);
        assert!(value(c, "ln_rows_in").is_nan());
        assert_eq!(c.reference_duration, 0.0);
    }

    #[test]
    fn airflow_ordering_is_upstream_through_steps_that_write_nothing_and_into_sql_files() {
        // dag.py: load >> wait >> run_file, where run_file runs sql/c.sql.
        let mut load = transformation("dag.py::d.load", &["src.x"], &["raw.a"]);
        load.kind = crate::extract::Kind::Task;
        let mut wait = transformation("dag.py::d.wait", &[], &[]);
        wait.after = vec!["dag.py::d.load".into()];
        let mut run_file = transformation("dag.py::d.run_file", &[], &[]);
        run_file.after = vec!["dag.py::d.wait".into()];
        run_file.operations = vec![crate::extract::Operation {
            line: 1,
            kind: SQL_FILE.into(),
            dataset: Some("sql/c.sql".into()),
            sources: Vec::new(),
        }];
        let mut dag = fragment("dag.py", load);
        dag.transformations.extend([wait, run_file]);
        let fragments = [dag, fragment("sql/c.sql", transformation("sql/c.sql#1", &["y"], &["z"]))];
        let p = Pipeline::new(&fragments, |path| format!("blob-{path}"));
        let c = p.find("sql/c.sql#1").unwrap();
        let load = p.find("dag.py::d.load").unwrap();
        assert_eq!(p.nodes[c].upstream, [load]);
        assert_eq!(p.nodes[load].downstream, [c]);
    }

    #[test]
    fn the_reference_is_the_same_code_at_the_nearest_input_size() {
        let p = pipeline();
        let b = &p.nodes[1].key;
        let a = &p.nodes[0].key;
        let history = History::new(vec![
            run(a, "blob-a.sql", 0, 100.0, 10.0, 1000.0),
            run(b, "old", 1, 50.0, 1000.0, 10.0),
            run(b, "blob-b.sql", 2, 200.0, 1000.0, 10.0),
            run(b, "blob-b.sql", 3, 20.0, 100.0, 10.0),
            run(b, "blob-b.sql", 4, 220.0, 1000.0, 10.0),
            run(a, "blob-a.sql", 5, 100.0, 10.0, 1000.0),
        ]);
        let row = row(&p, 1, &history, 10, None);
        assert_eq!(row.basis.rows_in_from, RowsFrom::Upstream);
        assert_eq!(row.basis.rows_in, Some(1000.0));
        assert_eq!((row.basis.runs, row.basis.same_code_runs, row.basis.reference_runs), (4, 3, 2));
        assert!(
            (row.reference_duration - f64::midpoint(200.0f64.ln(), 220.0f64.ln())).abs() < 1e-9
        );
        assert_eq!(value(&row, "input_growth"), 0.0);
        assert_eq!(value(&row, "reference_same_code"), 1.0);
        assert_eq!(value(&row, "delta_reads"), 0.0);
        // Only runs before the cut-off count.
        let early = super::row(&p, 1, &history, 3, Some(100.0));
        assert_eq!(early.basis.runs, 2);
        assert_eq!(early.basis.rows_in_from, RowsFrom::Run);
        assert!((value(&early, "input_growth") - (101.0f64.ln() - 1001.0f64.ln())).abs() < 1e-9);
        // Without history: the same graph and code, nothing from the past.
        let bare = row.without_history();
        assert_eq!(bare.reference_duration, 0.0);
        assert_eq!(value(&bare, "history_runs"), 0.0);
        assert!(value(&bare, "ln_last_duration").is_nan() && value(&bare, "input_growth").is_nan());
        assert_eq!(value(&bare, "reads"), 1.0);
    }

    #[test]
    fn the_work_index_weighs_what_an_engine_does() {
        let work = |edit: &dyn Fn(&mut crate::extract::Structure)| {
            let mut t = transformation("x", &["raw.a"], &["stg.b"]);
            edit(&mut t.structure);
            *code_shape(&t).last().expect("the work index")
        };
        let scan = work(&|_| {});
        assert!(scan.abs() < 1e-12, "a plain scan is one pass: ln 1");
        let window = work(&|s| s.windows = 1);
        let cross = work(&|s| s.joins_cross = 1);
        let comment = work(&|s| s.tokens = 500);
        assert!(window > scan && cross > window, "{scan} {window} {cross}");
        assert!(comment.abs() < 1e-12, "tokens alone are no work");
        assert_eq!(names().last().map(String::as_str), Some("delta_work"));
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, f64::NAN]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
    }
}
