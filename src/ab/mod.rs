//! A/B experiments on real runs (`git lineage ab`): what an experiment is, as stored in
//! `refs/lineage/ab/<id>` (`docs/runs-format.md`), and its analysis from the run records that
//! carry its label. Pure: the runs are measured by `git lineage run` and stored by `store`;
//! this module only judges them. The statistics are in `stats`.
//!
//! The verdict rule, on wall time (and the same rule gives each metric its change): the
//! treatment is **faster** when the 95 % bootstrap interval of the ratio of medians
//! (treatment / control) lies entirely below 1 *and* both the Mann-Whitney U test and Welch's
//! t-test on log times reject equality at α = 0.05; **slower** when the interval lies entirely
//! above 1 and both tests reject; otherwise **no detectable difference**, with the runs per
//! side a t-test on log times would need to detect the observed effect with power 0.8. Fewer
//! than three successful runs on a side are **too few runs**. Requiring the three to agree
//! keeps false alarms under 5 % even where the bootstrap interval of small samples is too
//! narrow.

pub mod stats;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::collect::record::RunRecord;
use stats::{Interval, Rng, Summary, Test};

/// The variants' names, as run records carry them.
pub const CONTROL: &str = "control";
pub const TREATMENT: &str = "treatment";

/// The `source` of the record of one whole run of an experiment's command. Runs the command
/// itself records (a `git lineage run` or `import` inside it) keep their own source and carry
/// the experiment's label from the environment.
pub const SOURCE: &str = "ab";

/// The version of `experiment.json`.
pub const EXPERIMENT_VERSION: u32 = 1;

/// The significance level of both tests, and 1 − the level of the interval.
pub const ALPHA: f64 = 0.05;

/// Bootstrap resamples for the interval of the ratio.
const RESAMPLES: usize = 2_000;

/// The fewest successful runs per side a verdict rests on.
const MIN_RUNS: usize = 3;

/// One experiment: what was compared, how, and (once done) its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub schema_version: u32,
    pub id: String,
    pub control: Side,
    pub treatment: Side,
    /// The program that ran (its file name only: arguments may hold secrets, as in run
    /// records), and how many arguments it had.
    pub program: Option<String>,
    pub arguments: usize,
    /// Counted runs per variant, and warm-up runs per variant before them.
    pub runs: u32,
    pub warmup: u32,
    /// The variant that ran first; they alternate from there.
    pub first: String,
    /// The folder the command ran in, relative to the work tree's root (`""` for the root).
    #[serde(default)]
    pub folder: String,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    pub status: Status,
    #[serde(default)]
    pub host: Option<String>,
    /// The verdict on wall time, once the experiment is over.
    #[serde(default)]
    pub outcome: Option<Outcome>,
}

/// A variant: the revision as given and the commit it named then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    pub rev: String,
    pub commit: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Started, not finished (or the process died without a trace).
    Running,
    /// Every run was made.
    Done,
    /// Stopped by a signal (Ctrl-C): the runs made so far are recorded.
    Interrupted,
    /// git-lineage failed before every run was made (a worktree could not be made, the
    /// folder is missing in a variant, …): the runs made so far are recorded.
    Failed,
}

/// The summary of the verdict kept with the experiment, for `ab list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub verdict: Verdict,
    pub ratio: Option<f64>,
    pub interval: Option<Interval>,
    pub control_runs: usize,
    pub treatment_runs: usize,
    pub failed_runs: usize,
}

/// The experiment's answer, on wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Faster,
    Slower,
    NoDifference,
    TooFewRuns,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::NoDifference => "no detectable difference",
            Verdict::TooFewRuns => "too few runs",
        }
    }
}

/// What a metric did in the treatment, by the verdict rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Lower,
    Higher,
    None,
    TooFewRuns,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Wall-clock time, ms.
    Wall,
    /// User + system CPU time, ms.
    Cpu,
    /// Peak resident memory, bytes.
    Memory,
}

impl Metric {
    const ALL: [Metric; 3] = [Metric::Wall, Metric::Cpu, Metric::Memory];

    /// The metric's value in a record, when it has it.
    pub fn of(self, r: &RunRecord) -> Option<f64> {
        match self {
            Metric::Wall => Some(r.wall_ms),
            Metric::Cpu => Some(r.user_ms? + r.sys_ms?),
            #[allow(clippy::cast_precision_loss)]
            Metric::Memory => r.max_rss_bytes.map(|b| b as f64),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::Wall => "wall time",
            Metric::Cpu => "CPU time",
            Metric::Memory => "peak memory",
        }
    }

    /// The word for a change of this metric: faster / slower, less / more.
    pub fn change_words(self, change: Change) -> &'static str {
        match (self, change) {
            (Metric::Memory, Change::Lower) => "less",
            (Metric::Memory, Change::Higher) => "more",
            (_, Change::Lower) => "faster",
            (_, Change::Higher) => "slower",
            (_, Change::None) => "no detectable difference",
            (_, Change::TooFewRuns) => "too few runs",
        }
    }
}

/// One metric compared between the variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub metric: Metric,
    pub control: Summary,
    pub treatment: Summary,
    /// Median of the treatment / median of the control, with its 95 % bootstrap interval.
    pub ratio: Option<f64>,
    pub interval: Option<Interval>,
    /// Mann-Whitney U (the treatment's U) and Welch's t on log values (treatment − control).
    pub mann_whitney: Option<Test>,
    pub welch_log: Option<Test>,
    pub change: Change,
    /// When undecided: the runs per side that would detect the observed effect (t-test on
    /// log values, α = 0.05, power 0.8), and how many more than now that is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub runs_needed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub more_runs: Option<u64>,
}

/// Compare two samples of a metric by the verdict rule (module docs). `None` when a side has
/// no values.
pub fn compare(metric: Metric, control: &[f64], treatment: &[f64]) -> Option<Comparison> {
    let (cs, ts) = (stats::summarize(control)?, stats::summarize(treatment)?);
    // Logs of times: a process that used no measurable CPU counts as 1 µs.
    let log = |v: &[f64]| v.iter().map(|x| x.max(1e-3).ln()).collect::<Vec<_>>();
    let (lc, lt) = (log(control), log(treatment));
    let mut rng = Rng::new(0x005E_EDAB);
    let boot = stats::bootstrap_ratio(control, treatment, RESAMPLES, 1.0 - ALPHA, &mut rng);
    let mann_whitney = stats::mann_whitney(control, treatment);
    let welch_log = stats::welch(&lc, &lt);
    let enough = control.len() >= MIN_RUNS && treatment.len() >= MIN_RUNS;
    let significant = mann_whitney.is_some_and(|t| t.p_value < ALPHA)
        && welch_log.is_some_and(|t| t.p_value < ALPHA);
    let change = match boot {
        _ if !enough => Change::TooFewRuns,
        Some((ratio, ci)) if significant && ratio < 1.0 && ci.high < 1.0 => Change::Lower,
        Some((ratio, ci)) if significant && ratio > 1.0 && ci.low > 1.0 => Change::Higher,
        _ => Change::None,
    };
    let runs_needed = (change == Change::None)
        .then(|| {
            let effect = stats::mean(&lt)? - stats::mean(&lc)?;
            stats::runs_needed(effect, stats::pooled_sd(&lc, &lt)?)
        })
        .flatten();
    let now = control.len().min(treatment.len()) as u64;
    Some(Comparison {
        metric,
        control: cs,
        treatment: ts,
        ratio: boot.map(|b| b.0),
        interval: boot.map(|b| b.1),
        mann_whitney,
        welch_log,
        change,
        runs_needed,
        more_runs: runs_needed.map(|n| n.saturating_sub(now)),
    })
}

/// How many runs the analysis found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Successful, counted runs.
    pub control: usize,
    pub treatment: usize,
    /// Counted runs that failed or were killed (left out of the statistics).
    pub failed: usize,
    /// Warm-up runs (measured and recorded, never counted).
    pub warmup: usize,
}

/// The whole command's metrics, or one transformation's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// `None` for the whole command; else the transformation (or job) the runs recorded.
    pub transformation: Option<String>,
    pub runs: Counts,
    pub metrics: Vec<Comparison>,
    /// The wall-time verdict of this group.
    pub verdict: Verdict,
}

/// An experiment's report: the experiment, the whole command, and each transformation the
/// command recorded runs of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub experiment: Experiment,
    pub verdict: Verdict,
    pub whole: Group,
    pub transformations: Vec<Group>,
}

impl Report {
    /// The summary kept in `experiment.json`.
    pub fn outcome(&self) -> Outcome {
        let wall = self.whole.metrics.iter().find(|c| c.metric == Metric::Wall);
        Outcome {
            verdict: self.verdict,
            ratio: wall.and_then(|c| c.ratio),
            interval: wall.and_then(|c| c.interval),
            control_runs: self.whole.runs.control,
            treatment_runs: self.whole.runs.treatment,
            failed_runs: self.whole.runs.failed,
        }
    }
}

/// Judge an experiment on the run records that carry its label (others are ignored).
pub fn analyze(experiment: &Experiment, records: &[RunRecord]) -> Report {
    let ours: Vec<&RunRecord> = records
        .iter()
        .filter(|r| r.experiment.as_deref() == Some(experiment.id.as_str()))
        .collect();
    let whole: Vec<&RunRecord> = ours.iter().copied().filter(|r| r.source == SOURCE).collect();
    let whole = group(None, &whole);
    // transformation -> its runs inside the command.
    let mut inner: BTreeMap<&str, Vec<&RunRecord>> = BTreeMap::new();
    for r in ours.iter().filter(|r| r.source != SOURCE) {
        if let Some(subject) = r.subject() {
            inner.entry(subject).or_default().push(r);
        }
    }
    let transformations = inner.into_iter().map(|(id, runs)| group(Some(id), &runs)).collect();
    Report { experiment: experiment.clone(), verdict: whole.verdict, whole, transformations }
}

fn group(transformation: Option<&str>, records: &[&RunRecord]) -> Group {
    let mut runs = Counts::default();
    let (mut control, mut treatment) = (Vec::new(), Vec::new());
    for r in records {
        if r.warmup {
            runs.warmup += 1;
        } else if r.status != "success" {
            runs.failed += 1;
        } else if r.variant.as_deref() == Some(CONTROL) {
            runs.control += 1;
            control.push(*r);
        } else if r.variant.as_deref() == Some(TREATMENT) {
            runs.treatment += 1;
            treatment.push(*r);
        }
    }
    let values =
        |rs: &[&RunRecord], m: Metric| rs.iter().filter_map(|r| m.of(r)).collect::<Vec<_>>();
    let metrics: Vec<Comparison> = Metric::ALL
        .into_iter()
        .filter_map(|m| compare(m, &values(&control, m), &values(&treatment, m)))
        .collect();
    let verdict = match metrics.iter().find(|c| c.metric == Metric::Wall).map(|c| c.change) {
        Some(Change::Lower) => Verdict::Faster,
        Some(Change::Higher) => Verdict::Slower,
        Some(Change::None) => Verdict::NoDifference,
        Some(Change::TooFewRuns) | None => Verdict::TooFewRuns,
    };
    Group { transformation: transformation.map(str::to_string), runs, metrics, verdict }
}

/// The order of an experiment's runs: `warmup` then `runs` pairs, alternating from `first`
/// (A B A B …); `true` marks a warm-up run.
pub fn schedule(first: &str, runs: u32, warmup: u32) -> Vec<(&'static str, bool)> {
    let (a, b) = if first == TREATMENT { (TREATMENT, CONTROL) } else { (CONTROL, TREATMENT) };
    (0..warmup + runs).flat_map(|i| [(a, i < warmup), (b, i < warmup)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(variant: &str, source: &str, wall: f64) -> RunRecord {
        let mut r = RunRecord::new(source, "c".into(), "t".into(), wall);
        r.variant = Some(variant.into());
        r.experiment = Some("x".into());
        r.user_ms = Some(wall * 0.9);
        r.sys_ms = Some(1.0);
        r.max_rss_bytes = Some(1_000_000);
        r
    }

    fn experiment() -> Experiment {
        let side = |rev: &str| Side { rev: rev.into(), commit: "c".into() };
        Experiment {
            schema_version: EXPERIMENT_VERSION,
            id: "x".into(),
            control: side("main"),
            treatment: side("fix"),
            program: Some("sh".into()),
            arguments: 1,
            runs: 10,
            warmup: 1,
            first: CONTROL.into(),
            folder: String::new(),
            started_at: "t".into(),
            finished_at: None,
            status: Status::Done,
            host: None,
            outcome: None,
        }
    }

    #[test]
    fn a_clear_speedup_is_faster_and_noise_is_not() {
        let slow = [101.2, 98.7, 104.1, 99.9, 102.3, 97.8, 100.5, 103.9, 99.1, 100.8];
        let mut records: Vec<RunRecord> = slow
            .iter()
            .flat_map(|&w| [record(CONTROL, SOURCE, w), record(TREATMENT, SOURCE, w * 0.7)])
            .collect();
        let mut warm = record(CONTROL, SOURCE, 500.0);
        warm.warmup = true;
        let mut failed = record(TREATMENT, SOURCE, 1.0);
        failed.status = "failed".into();
        records.extend([warm, failed]);
        // A transformation the command recorded, with the same times on both sides.
        records.extend(slow.iter().flat_map(|&w| {
            let mut pair = [record(CONTROL, "run", w), record(TREATMENT, "run", w)];
            for r in &mut pair {
                r.transformation = Some("a.sql#1".into());
            }
            pair
        }));
        let report = analyze(&experiment(), &records);
        assert_eq!(report.verdict, Verdict::Faster);
        assert_eq!(report.whole.runs, Counts { control: 10, treatment: 10, failed: 1, warmup: 1 });
        let wall = &report.whole.metrics[0];
        assert!((wall.ratio.unwrap() - 0.7).abs() < 1e-9, "{wall:?}");
        let memory = &report.whole.metrics[2];
        assert_eq!((memory.metric, memory.change), (Metric::Memory, Change::None));
        assert_eq!(report.transformations.len(), 1);
        let t = &report.transformations[0];
        assert_eq!(
            (t.transformation.as_deref(), t.verdict),
            (Some("a.sql#1"), Verdict::NoDifference)
        );
        assert_eq!(report.outcome().failed_runs, 1);
    }

    #[test]
    fn an_undecided_experiment_says_how_many_runs_it_needs() {
        let c = [100.0, 104.0, 97.0, 103.0, 99.0];
        let t = [98.0, 101.0, 95.0, 100.0, 96.0];
        let cmp = compare(Metric::Wall, &c, &t).unwrap();
        assert_eq!(cmp.change, Change::None);
        assert!(cmp.runs_needed.unwrap() > 5 && cmp.more_runs.unwrap() > 0, "{cmp:?}");
        let cmp = compare(Metric::Wall, &c[..2], &t[..2]).unwrap();
        assert_eq!(cmp.change, Change::TooFewRuns);
    }

    /// A standard normal draw (Box-Muller).
    fn normal(rng: &mut Rng) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let unit = |rng: &mut Rng| ((rng.next_u64() >> 11) as f64 + 0.5) / (1_u64 << 53) as f64;
        let (u, v) = (unit(rng), unit(rng));
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Times of `n` runs: log-normal around `median` with a log spread `sd`.
    fn times(rng: &mut Rng, n: usize, median: f64, sd: f64) -> Vec<f64> {
        (0..n).map(|_| median * (sd * normal(rng)).exp()).collect()
    }

    #[test]
    fn the_verdict_rule_rarely_cries_wolf_and_finds_30_percent() {
        // A/A: 400 experiments of 10 runs per side from one log-normal distribution (11 false
        // alarms with this seed: 2.75 %).
        let mut rng = Rng::new(11);
        let alarms = (0..400)
            .filter(|_| {
                let (a, b) = (times(&mut rng, 10, 100.0, 0.15), times(&mut rng, 10, 100.0, 0.15));
                compare(Metric::Wall, &a, &b).unwrap().change != Change::None
            })
            .count();
        assert!(alarms <= 16, "{alarms} false alarms in 400");
        // A real 30 % speed-up under the same noise: found nearly always (99 of 100).
        let found = (0..100)
            .filter(|_| {
                let (a, b) = (times(&mut rng, 10, 100.0, 0.15), times(&mut rng, 10, 70.0, 0.15));
                compare(Metric::Wall, &a, &b).unwrap().change == Change::Lower
            })
            .count();
        assert!(found >= 95, "found {found} of 100");
    }

    #[test]
    fn runs_alternate_from_the_first() {
        let order = schedule(TREATMENT, 2, 1);
        assert_eq!(
            order,
            [
                (TREATMENT, true),
                (CONTROL, true),
                (TREATMENT, false),
                (CONTROL, false),
                (TREATMENT, false),
                (CONTROL, false)
            ]
        );
    }
}
