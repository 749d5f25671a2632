//! Runs far from their transformation's history: a robust score on log values (median and
//! MAD, so that one earlier outlier does not hide the next), adjusted for input rows when the
//! history shows how the cost grows with them.
//!
//! Each run is judged against the successful runs of the same transformation and variant
//! before it: an anomaly is what was unexpected when it happened.

use std::collections::HashMap;

use crate::collect::record::RunRecord;

/// Runs a baseline needs before anything is judged against it.
pub const MIN_HISTORY: usize = 5;
/// The most recent runs a baseline keeps (older ones may describe other data).
const WINDOW: usize = 50;
/// A score beyond this is an anomaly (Iglewicz and Hoaglin's cut-off for modified z-scores).
pub const THRESHOLD: f64 = 3.5;
/// The smallest spread assumed, in natural log units (about 10 %): a history of nearly equal
/// runs would otherwise make any small wobble an anomaly. With the threshold, a run must be
/// at least ~1.42x (or 1/1.42) its usual to be flagged.
const MIN_SCALE: f64 = 0.1;
/// MAD to standard deviation for normal data.
const MAD_TO_SIGMA: f64 = 1.4826;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Duration,
    Memory,
}

/// One run's metric far from its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    /// The run, as an index into the records given.
    pub run: usize,
    /// The latest run of its baseline (to say what changed since).
    pub previous: usize,
    pub metric: Metric,
    pub value: f64,
    /// What the history predicts for this run (for its input rows, when adjusted).
    pub expected: f64,
    /// Robust z-score: positive when slower or larger.
    pub score: f64,
    pub history_runs: usize,
    /// The elasticity of the metric in input rows used to adjust, when it was.
    pub rows_slope: Option<f64>,
}

/// An anomaly as reported (`anomalies`, `report`): the run, the metric and how far it is,
/// and what may explain it (found in the repository by the caller).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reported {
    pub transformation: String,
    pub variant: Option<String>,
    pub started_at: String,
    pub commit: String,
    pub source: String,
    pub run_id: Option<String>,
    pub metric: Metric,
    pub value: f64,
    pub expected: f64,
    pub ratio: f64,
    pub score: f64,
    pub history_runs: usize,
    pub adjusted_for_rows: bool,
    pub previous_commit: String,
    pub causes: Vec<String>,
}

/// The anomalies among `records` (oldest first) that started at or after `since` (RFC 3339
/// text compares in time order when all are UTC, as records are).
pub fn find(records: &[RunRecord], since: Option<&str>) -> Vec<Anomaly> {
    // The successful runs of each transformation and variant, in order.
    let mut groups: HashMap<(&str, Option<&str>), Vec<usize>> = HashMap::new();
    let mut found = Vec::new();
    for (i, run) in records.iter().enumerate() {
        let Some(subject) = run.subject() else { continue };
        // A warm-up run of an experiment is cold by design: neither judged nor history.
        if run.status != "success" || run.warmup {
            continue;
        }
        let group = groups.entry((subject, run.variant.as_deref())).or_default();
        if since.is_none_or(|s| run.started_at.as_str() >= s) {
            // The latest runs first.
            let history: Vec<usize> = group.iter().rev().take(WINDOW).copied().collect();
            for metric in [Metric::Duration, Metric::Memory] {
                if let Some(anomaly) = judge(records, i, &history, metric) {
                    found.push(anomaly);
                }
            }
        }
        group.push(i);
    }
    found
}

fn value(record: &RunRecord, metric: Metric) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    let v = match metric {
        Metric::Duration => Some(record.wall_ms),
        Metric::Memory => record.max_rss_bytes.map(|b| b as f64),
    };
    v.filter(|v| *v > 0.0 && v.is_finite())
}

#[allow(clippy::cast_precision_loss)]
fn log_rows(record: &RunRecord) -> Option<f64> {
    record.rows_in.filter(|r| *r > 0).map(|r| (r as f64).ln())
}

fn judge(records: &[RunRecord], run: usize, history: &[usize], metric: Metric) -> Option<Anomaly> {
    let x = value(&records[run], metric)?.ln();
    let past: Vec<(f64, Option<f64>)> = history
        .iter()
        .filter_map(|&j| Some((value(&records[j], metric)?.ln(), log_rows(&records[j]))))
        .collect();
    if past.len() < MIN_HISTORY {
        return None;
    }
    // Adjust for input rows when this run and enough of its history know them and the
    // history shows how the metric grows with them.
    let with_rows: Vec<(f64, f64)> = past.iter().filter_map(|&(v, r)| Some((r?, v))).collect();
    let slope = log_rows(&records[run])
        .filter(|_| with_rows.len() >= MIN_HISTORY)
        .and_then(|_| theil_sen(&with_rows))
        .map(|s| s.clamp(0.0, 2.0));
    let (baseline, y, shift) = match (slope, log_rows(&records[run])) {
        (Some(b), Some(rows)) => {
            (with_rows.iter().map(|&(r, v)| v - b * r).collect::<Vec<_>>(), x - b * rows, b * rows)
        }
        _ => (past.iter().map(|&(v, _)| v).collect(), x, 0.0),
    };
    let center = median(&baseline)?;
    let mad = median(&baseline.iter().map(|v| (v - center).abs()).collect::<Vec<_>>())?;
    let scale = (MAD_TO_SIGMA * mad).max(MIN_SCALE);
    let score = (y - center) / scale;
    (score.abs() > THRESHOLD).then(|| Anomaly {
        run,
        previous: history[0],
        metric,
        value: x.exp(),
        expected: (center + shift).exp(),
        score,
        history_runs: baseline.len(),
        rows_slope: slope,
    })
}

/// The median of pairwise slopes (Theil-Sen): robust to a few odd runs. `None` when the
/// inputs do not spread enough to tell a slope (fewer than three sizes, or within 20 %).
fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let mut sizes: Vec<f64> = points.iter().map(|p| p.0).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    if sizes.len() < 3 || sizes[sizes.len() - 1] - sizes[0] < 1.2f64.ln() {
        return None;
    }
    let mut slopes = Vec::new();
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            if (b.0 - a.0).abs() > 1e-9 {
                slopes.push((b.1 - a.1) / (b.0 - a.0));
            }
        }
    }
    median(&slopes)
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some(f64::midpoint(sorted[n / 2 - 1], sorted[n / 2])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &str, day: u32, wall_ms: f64, rss: Option<u64>, rows: Option<u64>) -> RunRecord {
        let mut r =
            RunRecord::new("csv", "c".into(), format!("2026-11-{day:02}T00:00:00.000Z"), wall_ms);
        r.transformation = Some(t.to_string());
        r.max_rss_bytes = rss;
        r.rows_in = rows;
        r
    }

    #[test]
    fn a_slow_run_stands_out_and_noise_does_not() {
        let walls = [100.0, 104.0, 97.0, 110.0, 95.0, 102.0, 99.0];
        let mut records: Vec<RunRecord> = walls
            .iter()
            .enumerate()
            .map(|(d, &w)| run("a", u32::try_from(d + 1).unwrap_or(0), w, Some(1 << 20), None))
            .collect();
        assert!(find(&records, None).is_empty());
        records.push(run("a", 20, 400.0, Some(1 << 20), None));
        records.push(run("b", 20, 400.0, None, None)); // no history of its own
        let found = find(&records, None);
        assert_eq!(found.len(), 1, "{found:?}");
        let a = &found[0];
        assert_eq!((a.run, a.previous, a.metric, a.history_runs), (7, 6, Metric::Duration, 7));
        assert!((a.expected - 100.0).abs() < 1e-9 && a.score > THRESHOLD);
        assert!(find(&records, Some("2026-11-21")).is_empty());
    }

    #[test]
    fn more_rows_explain_more_time_when_history_shows_the_growth() {
        // Time grows linearly in rows over the history; a run with 8x rows and ~8x time is
        // expected, one with the usual rows and 8x time is not.
        let mut records: Vec<RunRecord> = [
            (1_000, 10.0),
            (2_000, 21.0),
            (4_000, 39.0),
            (1_000, 11.0),
            (8_000, 82.0),
            (2_000, 19.0),
        ]
        .iter()
        .enumerate()
        .map(|(d, &(rows, w))| run("a", u32::try_from(d + 1).unwrap_or(0), w, None, Some(rows)))
        .collect();
        records.push(run("a", 10, 640.0, None, Some(64_000)));
        assert!(find(&records, None).is_empty(), "{:?}", find(&records, None));
        records.push(run("a", 11, 80.0, None, Some(1_000)));
        let found = find(&records, None);
        assert_eq!(found.len(), 1, "{found:?}");
        let slope = found[0].rows_slope.expect("adjusted");
        assert!((slope - 1.0).abs() < 0.1, "{slope}");
        assert!((found[0].expected - 10.0).abs() < 1.5, "{}", found[0].expected);
    }

    #[test]
    fn memory_is_judged_too_and_failed_runs_are_not() {
        let mut records: Vec<RunRecord> =
            (1..=6).map(|d| run("a", d, 100.0, Some(100 << 20), None)).collect();
        let mut failed = run("a", 7, 5.0, Some(1 << 20), None);
        failed.status = "failed".to_string();
        records.push(failed);
        records.push(run("a", 8, 100.0, Some(900 << 20), None));
        let found = find(&records, None);
        assert_eq!(
            found.iter().map(|a| (a.run, a.metric)).collect::<Vec<_>>(),
            [(7, Metric::Memory)]
        );
    }
}
