//! Predicted costs put together: a revision's pipeline (each transformation and the schedule
//! of all of them), and the change between two revisions with what drove it.

use serde::Serialize;

use super::features::{self, Basis, Pipeline, Row};
use super::model::Estimate;
use super::schedule::{self, Schedule, Task};

/// One transformation's prediction and what it rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Predicted {
    pub id: String,
    pub file: String,
    #[serde(flatten)]
    pub estimate: Estimate,
    pub basis: Basis,
}

/// The pipeline of a revision, predicted.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineCost {
    pub transformations: Vec<Predicted>,
    /// Workers the schedule assumes.
    pub parallel: usize,
    pub makespan_ms: f64,
    /// The longest chain (transformation ids) and its length: the makespan with unlimited
    /// workers.
    pub critical_path: Vec<String>,
    pub critical_path_ms: f64,
    pub cpu_ms: f64,
    /// The most memory that transformations running together hold (0 when unknown).
    pub peak_memory_bytes: f64,
}

/// The schedule's tasks: each transformation with its estimate, after its upstream.
fn tasks(pipeline: &Pipeline, estimates: &[Estimate]) -> Vec<Task> {
    pipeline
        .nodes
        .iter()
        .zip(estimates)
        .map(|(node, e)| Task {
            duration: e.duration_ms,
            cpu: e.cpu_ms,
            memory: e.memory_bytes.unwrap_or(0.0),
            after: node.upstream.clone(),
        })
        .collect()
}

/// Puts `estimates` (one per node of `pipeline`) on a schedule of `parallel` workers.
pub fn pipeline_cost(
    pipeline: &Pipeline,
    rows: &[Row],
    estimates: &[Estimate],
    parallel: usize,
) -> PipelineCost {
    let tasks = tasks(pipeline, estimates);
    let Schedule { makespan, critical_path, critical_length, cpu_total, peak_memory, .. } =
        schedule::schedule(&tasks, parallel);
    PipelineCost {
        transformations: pipeline
            .nodes
            .iter()
            .zip(estimates)
            .zip(rows)
            .map(|((node, e), row)| Predicted {
                id: node.id.clone(),
                file: node.file.clone(),
                estimate: *e,
                basis: row.basis.clone(),
            })
            .collect(),
        parallel,
        makespan_ms: makespan,
        critical_path: critical_path.iter().map(|&i| pipeline.nodes[i].id.clone()).collect(),
        critical_path_ms: critical_length,
        cpu_ms: cpu_total,
        peak_memory_bytes: peak_memory,
    }
}

/// How a pipeline runs with more workers: the stages of independent transformations and the
/// predicted makespan for 1 to N workers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Parallelism {
    /// Transformations by stage: a stage's transformations read nothing that another of the
    /// same stage or a later one writes, so they can run at once.
    pub stages: Vec<Vec<String>>,
    /// (workers, makespan ms, peak memory bytes), from 1 to the widest stage.
    pub by_workers: Vec<(usize, f64, f64)>,
    /// The fewest workers whose makespan is within 5 % of the best.
    pub recommended: usize,
}

/// Within this share of the best makespan, more workers are not worth their memory.
const GOOD_ENOUGH: f64 = 1.05;

/// [`Parallelism`] of `pipeline` with these estimates (one per node).
pub fn parallelism(pipeline: &Pipeline, estimates: &[Estimate]) -> Parallelism {
    let mut stages: Vec<Vec<String>> = Vec::new();
    for (i, node) in pipeline.nodes.iter().enumerate() {
        let d = pipeline.depth(i);
        if stages.len() <= d {
            stages.resize(d + 1, Vec::new());
        }
        stages[d].push(node.id.clone());
    }
    let widest = stages.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let tasks = tasks(pipeline, estimates);
    let by_workers: Vec<(usize, f64, f64)> = (1..=widest)
        .map(|w| {
            let s = schedule::schedule(&tasks, w);
            (w, s.makespan, s.peak_memory)
        })
        .collect();
    let best = by_workers.iter().map(|b| b.1).fold(f64::INFINITY, f64::min);
    let recommended = by_workers.iter().find(|b| b.1 <= best * GOOD_ENOUGH).map_or(1, |b| b.0);
    Parallelism { stages, by_workers, recommended }
}

/// How one transformation's predicted cost moves between two revisions.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The head's id (the base's when it was removed).
    pub id: String,
    pub file: String,
    pub base_ms: Option<f64>,
    pub head_ms: Option<f64>,
    pub base_memory_bytes: Option<f64>,
    pub head_memory_bytes: Option<f64>,
    /// What moved the prediction most, largest effect first.
    pub drivers: Vec<Driver>,
}

impl Change {
    /// head / base - 1, when both sides exist.
    pub fn relative(&self) -> Option<f64> {
        schedule::relative_change(self.base_ms?, self.head_ms?)
    }
}

/// A feature whose value differs between the two revisions, and how much the prediction
/// moves when only it changes.
#[derive(Debug, Clone, Serialize)]
pub struct Driver {
    pub feature: String,
    pub base: f64,
    pub head: f64,
    /// Relative change of the predicted duration from this feature alone.
    pub effect: f64,
    /// For people: `joins_inner 1 -> 2`, `new read raw.events (1.2 M rows)`.
    pub description: String,
}

/// The predicted change of a whole pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct CostDiff {
    pub base: PipelineSummary,
    pub head: PipelineSummary,
    /// head / base - 1 of the makespan.
    pub makespan_change: Option<f64>,
    /// Transformations whose code or prediction changed, added or removed.
    pub changes: Vec<Change>,
    /// Which model predicted, for people.
    pub model: String,
}

/// A pipeline's totals.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineSummary {
    pub makespan_ms: f64,
    pub cpu_ms: f64,
    pub peak_memory_bytes: f64,
    pub transformations: usize,
}

impl From<&PipelineCost> for PipelineSummary {
    fn from(p: &PipelineCost) -> Self {
        PipelineSummary {
            makespan_ms: p.makespan_ms,
            cpu_ms: p.cpu_ms,
            peak_memory_bytes: p.peak_memory_bytes,
            transformations: p.transformations.len(),
        }
    }
}

/// The rows to evaluate to see what drove a change: `base` with one differing feature set
/// to its `head` value, for each feature that differs (history features excepted: they are
/// the same history on both sides, but the reference can differ with the code).
pub fn substitutions(base: &Row, head: &Row) -> Vec<(usize, Row)> {
    let names = features::names();
    base.values
        .iter()
        .zip(&head.values)
        .enumerate()
        .filter(|(_, (b, h))| !same(**b, **h))
        .filter(|(k, _)| !names[*k].starts_with("delta_"))
        .map(|(k, (_, h))| {
            let mut row = base.clone();
            row.values[k] = *h;
            (k, row)
        })
        .collect()
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// Says a feature's move the way people read it.
pub fn describe(feature: &str, base: f64, head: f64) -> String {
    let show = |x: f64| {
        if x.is_nan() {
            "unknown".to_string()
        } else if let Some(rest) = feature.strip_prefix("ln_rows") {
            let _ = rest;
            human_count((x.exp() - 1.0).max(0.0))
        } else if feature.starts_with("ln_") {
            format!("{:.3}", x.exp())
        } else if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.2}")
        }
    };
    let name = match feature {
        "ln_rows_in" => "input rows",
        "ln_rows_in_max" => "largest input's rows",
        other => other,
    };
    format!("{name} {} -> {}", show(base), show(head))
}

/// 1234567 -> `1.2 M`.
pub fn human_count(x: f64) -> String {
    match x.round() {
        x if x >= 1e9 => format!("{:.1} G", x / 1e9),
        x if x >= 1e6 => format!("{:.1} M", x / 1e6),
        x if x >= 1e3 => format!("{:.1} k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

/// Milliseconds for people: `850 ms`, `2.31 s`, `4 min 12 s`.
pub fn human_ms(ms: f64) -> String {
    match ms {
        ms if ms >= 60_000.0 => {
            let s = (ms / 1000.0).round();
            format!("{:.0} min {:.0} s", (s / 60.0).floor(), s % 60.0)
        }
        ms if ms >= 1000.0 => format!("{:.2} s", ms / 1000.0),
        ms => format!("{ms:.0} ms"),
    }
}

/// Bytes for people: `412 MB`.
pub fn human_bytes(bytes: f64) -> String {
    match bytes {
        b if b >= 1e9 => format!("{:.2} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.0} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.0} KB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}

/// `+12.3 %`.
pub fn percent(change: f64) -> String {
    format!("{:+.1} %", change * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_read_numbers() {
        assert_eq!(human_ms(850.4), "850 ms");
        assert_eq!(human_ms(2314.0), "2.31 s");
        assert_eq!(human_ms(252_000.0), "4 min 12 s");
        assert_eq!(human_count(1_234_567.0), "1.2 M");
        assert_eq!(human_bytes(412e6), "412 MB");
        assert_eq!(percent(0.123), "+12.3 %");
        assert_eq!(describe("joins_inner", 1.0, 2.0), "joins_inner 1 -> 2");
        assert_eq!(describe("ln_rows_in", 0.0, (1e6f64 + 1.0).ln()), "input rows 0 -> 1.0 M");
    }

    #[test]
    fn parallelism_groups_independent_transformations_and_advises_workers() {
        use crate::extract::{Settings, extract};
        // raw.a and raw.b are independent (stage 0); c reads both (stage 1).
        let sql = "CREATE TABLE raw.a AS SELECT x FROM src.a;\n\
                   CREATE TABLE raw.b AS SELECT x FROM src.b;\n\
                   CREATE TABLE mart.c AS SELECT a.x FROM raw.a a JOIN raw.b b ON a.x = b.x;";
        let fragment = extract("p.sql", sql.as_bytes(), &Settings::default());
        let pipeline = Pipeline::new(&[fragment], |_| String::new());
        let estimate = |ms: f64| Estimate {
            duration_ms: ms,
            duration_low_ms: None,
            duration_high_ms: None,
            memory_bytes: Some(1e6),
            memory_low_bytes: None,
            memory_high_bytes: None,
            cpu_ms: ms,
        };
        let p = parallelism(&pipeline, &[estimate(100.0), estimate(100.0), estimate(50.0)]);
        assert_eq!(p.stages, [vec!["p.sql#1", "p.sql#2"], vec!["p.sql#3"]]);
        assert_eq!(p.by_workers, [(1, 250.0, 1e6), (2, 150.0, 2e6)]);
        assert_eq!(p.recommended, 2);
    }
}
