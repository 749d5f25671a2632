//! The run record: one JSON object a line in the note of the commit that ran
//! (`refs/notes/lineage-runs`). The format is `docs/runs-format.md`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::measure::{Measured, Outcome};

/// The version of the record format; records of a higher one are skipped, not misread.
pub const RECORD_VERSION: u32 = 1;

/// One run of a transformation (or of any command), measured or imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema_version: u32,
    /// The transformation that ran (`path#line`), when known.
    pub transformation: Option<String>,
    /// The variant that ran (A/B tests), when named.
    pub variant: Option<String>,
    /// The commit whose code ran.
    pub commit: String,
    /// Whether the work tree had uncommitted changes to tracked files.
    pub dirty: bool,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub wall_ms: f64,
    pub user_ms: Option<f64>,
    pub sys_ms: Option<f64>,
    pub max_rss_bytes: Option<u64>,
    pub read_bytes: Option<u64>,
    pub write_bytes: Option<u64>,
    pub rows_in: Option<u64>,
    pub rows_out: Option<u64>,
    /// `success`, `failed` (a non-zero exit) or `killed` (a signal).
    pub status: String,
    /// The exit code, or the signal that ended the run.
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Where the record comes from: `run`, `dbt`, `openlineage`, `csv`, `jsonl`.
    pub source: String,
    /// The machine that ran it, when known.
    #[serde(default)]
    pub host: Option<String>,
    /// The program that ran (its file name only: arguments may hold secrets).
    #[serde(default)]
    pub program: Option<String>,
    /// The source tool's identity of this run (dbt: invocation and node, OpenLineage: the
    /// run id); an import skips a record whose (`source`, `run_id`) is already recorded.
    #[serde(default)]
    pub run_id: Option<String>,
    /// The source tool's name for what ran (a dbt node's `unique_id`, an OpenLineage job's
    /// `namespace/name`).
    #[serde(default)]
    pub job: Option<String>,
    /// Time per phase, in milliseconds (dbt: `compile`, `execute`).
    #[serde(default)]
    pub phases_ms: Option<BTreeMap<String, f64>>,
    /// What the tool said about a failure.
    #[serde(default)]
    pub message: Option<String>,
    /// The A/B experiment the run belongs to (`git lineage ab`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// A warm-up run of an experiment: measured and recorded, never counted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warmup: bool,
}

/// What `git lineage run` knows besides the measurement.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    pub transformation: Option<String>,
    pub variant: Option<String>,
    pub commit: String,
    pub dirty: bool,
    pub rows_in: Option<u64>,
    pub rows_out: Option<u64>,
    pub host: Option<String>,
    pub program: Option<String>,
    /// The A/B experiment and whether this is one of its warm-up runs.
    pub experiment: Option<String>,
    pub warmup: bool,
}

/// The environment variables through which an A/B experiment's run labels the runs its
/// command records itself (a `git lineage run` or `import` inside it): the experiment, the
/// variant, and `1` during warm-up runs.
pub const EXPERIMENT_ENV: &str = "GIT_LINEAGE_EXPERIMENT";
pub const VARIANT_ENV: &str = "GIT_LINEAGE_VARIANT";
pub const WARMUP_ENV: &str = "GIT_LINEAGE_WARMUP";

/// The experiment label the environment gives: (experiment, variant, warm-up), when an
/// experiment's run started this process.
pub fn experiment_from_env() -> Option<(String, Option<String>, bool)> {
    let experiment = std::env::var(EXPERIMENT_ENV).ok().filter(|e| !e.is_empty())?;
    let variant = std::env::var(VARIANT_ENV).ok().filter(|v| !v.is_empty());
    let warmup = std::env::var(WARMUP_ENV).is_ok_and(|w| w == "1");
    Some((experiment, variant, warmup))
}

impl RunRecord {
    /// Label the record with the experiment of the environment, if any: its variant is the
    /// one the experiment ran (over a `--variant` of the inner command), so that the
    /// experiment's report finds it.
    pub fn label_from_env(&mut self) {
        if let Some((experiment, variant, warmup)) = experiment_from_env() {
            self.experiment = Some(experiment);
            if variant.is_some() {
                self.variant = variant;
            }
            self.warmup |= warmup;
        }
    }
}

/// The environment variable that names the facts file of `git lineage run`: the measured
/// command may write there what only it knows (see [`Facts`]), the way CI runners hand steps a
/// file for their outputs.
pub const FACTS_ENV: &str = "GIT_LINEAGE_RUN_FACTS";

/// What a measured command reported about itself in its facts file: a JSON object such as
/// `{"rows_in": 1200, "rows_out": 40}`. Rows out are only known once the command has run, so a
/// flag given before the run cannot carry them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub rows_in: Option<u64>,
    pub rows_out: Option<u64>,
}

impl Facts {
    /// The facts in `text`; an empty file (the command wrote nothing) has none.
    pub fn parse(text: &str) -> Result<Facts, String> {
        if text.trim().is_empty() {
            return Ok(Facts::default());
        }
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

impl RunContext {
    /// The context with what the command reported; its facts win over flags given before.
    #[must_use]
    pub fn with_facts(mut self, facts: Facts) -> RunContext {
        self.rows_in = facts.rows_in.or(self.rows_in);
        self.rows_out = facts.rows_out.or(self.rows_out);
        self
    }
}

impl RunRecord {
    /// The record of a measured run.
    pub fn measured(context: RunContext, m: &Measured) -> RunRecord {
        let (status, exit_code, signal) = match m.outcome {
            Outcome::Exited(0) => ("success", Some(0), None),
            Outcome::Exited(code) => ("failed", Some(code), None),
            Outcome::Signaled(signal) => ("killed", None, Some(signal)),
        };
        RunRecord {
            transformation: context.transformation,
            variant: context.variant,
            dirty: context.dirty,
            user_ms: Some(millis(m.user)),
            sys_ms: Some(millis(m.sys)),
            max_rss_bytes: Some(m.max_rss_bytes),
            read_bytes: Some(m.read_bytes),
            write_bytes: Some(m.write_bytes),
            rows_in: context.rows_in,
            rows_out: context.rows_out,
            status: status.to_string(),
            exit_code,
            signal,
            host: context.host,
            program: context.program,
            experiment: context.experiment,
            warmup: context.warmup,
            ..RunRecord::new("run", context.commit, rfc3339(m.started_at), millis(m.wall))
        }
    }

    /// A successful run of `source` with only its time known; measurements and importers
    /// fill in what else they know.
    pub fn new(source: &str, commit: String, started_at: String, wall_ms: f64) -> RunRecord {
        RunRecord {
            schema_version: RECORD_VERSION,
            transformation: None,
            variant: None,
            commit,
            dirty: false,
            started_at,
            wall_ms,
            user_ms: None,
            sys_ms: None,
            max_rss_bytes: None,
            read_bytes: None,
            write_bytes: None,
            rows_in: None,
            rows_out: None,
            status: "success".to_string(),
            exit_code: None,
            signal: None,
            source: source.to_string(),
            host: None,
            program: None,
            run_id: None,
            job: None,
            phases_ms: None,
            message: None,
            experiment: None,
            warmup: false,
        }
    }

    /// What identifies the run across imports, when its source gives an identity.
    pub fn identity(&self) -> Option<(&str, &str)> {
        Some((self.source.as_str(), self.run_id.as_deref()?))
    }

    /// What the run's history is kept under: its transformation, else its job in the
    /// source tool.
    pub fn subject(&self) -> Option<&str> {
        self.transformation.as_deref().or(self.job.as_deref())
    }

    /// The JSON line (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The records of a note, in order. A line that is not a record of a known version is
/// reported with its line number and skipped: one bad line costs only itself.
pub fn parse_lines(text: &str) -> (Vec<RunRecord>, Vec<(usize, String)>) {
    let (mut records, mut problems) = (Vec::new(), Vec::new());
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<RunRecord>(line) {
            Ok(r) if r.schema_version <= RECORD_VERSION => records.push(r),
            Ok(r) => problems.push((
                n + 1,
                format!("record format {} is newer than this git-lineage reads", r.schema_version),
            )),
            Err(e) => problems.push((n + 1, e.to_string())),
        }
    }
    (records, problems)
}

/// Milliseconds, to the microsecond.
fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// RFC 3339 in UTC to the millisecond: `2026-11-24T13:05:09.123Z`.
pub fn rfc3339(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time).map_or_else(|_| String::new(), format_timestamp)
}

/// The one spelling of a time in records: UTC, milliseconds, `Z`.
pub fn format_timestamp(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A time as tools write it: RFC 3339 with any offset (`Z`, `+02:00`), or a date and time
/// without one, taken as UTC (`2026-11-24 13:05:09`, what CSV exports often hold).
pub fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    let civil = text.parse::<jiff::civil::DateTime>().ok()?;
    jiff::tz::Offset::UTC.to_timestamp(civil).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::UNIX_EPOCH;

    #[test]
    fn facts_from_the_command_win_over_flags() {
        let context = RunContext { rows_in: Some(5), rows_out: Some(6), ..RunContext::default() };
        let facts = Facts::parse(r#"{"rows_out": 40}"#).unwrap();
        let context = context.with_facts(facts);
        assert_eq!((context.rows_in, context.rows_out), (Some(5), Some(40)));
        assert_eq!(Facts::parse(" \n"), Ok(Facts::default()));
        let typo = Facts::parse(r#"{"rows": 1}"#).unwrap_err();
        assert!(typo.contains("unknown field `rows`"), "{typo}");
        assert!(Facts::parse(r#"{"rows_in": -1}"#).is_err());
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_957_509_123);
        assert_eq!(rfc3339(t), "2026-11-29T13:05:09.123Z");
        let leap = UNIX_EPOCH + Duration::from_hours(264_384);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn times_from_tools_are_read_with_their_offsets() {
        let same = [
            "2026-11-24T15:18:27.872429Z",
            "2026-11-24T17:18:27.872429+02:00",
            "2026-11-24 15:18:27.872429",
        ];
        for text in same {
            let t = parse_time(text).expect(text);
            assert_eq!(format_timestamp(t), "2026-11-24T15:18:27.872Z", "{text}");
        }
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn records_round_trip_and_bad_lines_are_reported() {
        let m = Measured {
            started_at: UNIX_EPOCH,
            wall: Duration::from_micros(1500),
            user: Duration::from_millis(1),
            sys: Duration::ZERO,
            max_rss_bytes: 4096,
            read_bytes: 0,
            write_bytes: 512,
            outcome: Outcome::Signaled(15),
        };
        let context =
            RunContext { commit: "c".into(), host: Some("h".into()), ..RunContext::default() };
        let record = RunRecord::measured(context, &m);
        assert_eq!(
            (record.status.as_str(), record.signal, record.wall_ms),
            ("killed", Some(15), 1.5)
        );
        let text = format!(
            "{}\nnot json\n{}\n",
            record.to_line(),
            record.to_line().replace("\"schema_version\":1", "\"schema_version\":9")
        );
        let (records, problems) = parse_lines(&text);
        assert_eq!(records, vec![record]);
        assert_eq!(problems.iter().map(|p| p.0).collect::<Vec<_>>(), [2, 3]);
    }
}
