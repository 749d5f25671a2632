//! The pull-request report (`git lineage report`): one document with everything a reviewer
//! needs about a change: its lineage (a Mermaid picture of the changed part, what is affected
//! downstream), its predicted cost, the anomalies of recent runs of what it touches and the
//! suggestions for the files it changes, with their patches. As Markdown for a GitHub or
//! GitLab comment, JSON for machines, SARIF for code-scanning annotations on changed files.
//!
//! The parts are built elsewhere (`graph::diff`, `predict::cost`, `collect::anomaly`,
//! `suggest`) and written here with the writers of `diff`, `predict` and `suggest`.
//! See: issue 8.

use std::collections::BTreeSet;
use std::io::{self, Write};

use serde::Serialize;

use super::picture::ChangedGraph;
use crate::collect::anomaly::{Metric, Reported};
use crate::graph::diff::GraphDiff;
use crate::predict::cost::{CostDiff, human_bytes, human_ms, percent};
use crate::suggest::{Finding, Rule};

/// The comment marker a CI job finds its one comment by (to update it instead of adding one).
pub const MARKER: &str = "<!-- git-lineage-report -->";

/// A transformation's predicted growth that SARIF reports when no `--fail-over` is given.
pub const DEFAULT_REGRESSION: f64 = 0.10;

/// Anomalies the Markdown lists (the newest).
const ANOMALY_ROWS: usize = 10;

/// A SARIF rule id: a transformation predicted to take longer.
pub const REGRESSION_RULE: &str = "LINEAGE-COST";
/// A SARIF rule id: a recent run far from its transformation's history.
pub const ANOMALY_RULE: &str = "LINEAGE-ANOMALY";

/// One side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// As the user named it.
    pub rev: String,
    pub commit: String,
}

/// A suggestion with its fix as a unified diff.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    #[serde(flatten)]
    pub finding: Finding,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

/// What the change touches downstream: every changed transformation's impact, together.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Affected {
    pub datasets: Vec<String>,
    pub columns: Vec<String>,
}

/// The whole report, as the JSON format writes it.
#[derive(Debug, Clone, Serialize)]
pub struct PrReport {
    pub base: Side,
    pub head: Side,
    /// Files added or modified from base to head.
    pub changed_files: Vec<String>,
    pub lineage: GraphDiff,
    pub affected: Affected,
    /// The changed part of the graph (what the Mermaid picture shows).
    pub graph: ChangedGraph,
    /// The predicted cost change, or why there is none.
    pub predicted_cost: Option<CostDiff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_cost_absent: Option<String>,
    /// `--fail-over` as a fraction, and whether the predicted pipeline time grows more.
    pub fail_over: Option<f64>,
    pub over_threshold: bool,
    /// Anomalies among the recent runs of the transformations of the changed files.
    pub anomalies: Vec<Reported>,
    pub runs_recorded: usize,
    pub suggestions: Vec<Suggestion>,
    /// Which model predicted the suggestions' gains, or why none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gains_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gains_absent: Option<String>,
}

impl PrReport {
    /// What the change touches downstream, from each changed transformation's impact.
    pub fn affected_by(diff: &GraphDiff) -> Affected {
        let mut datasets = BTreeSet::new();
        let mut columns = BTreeSet::new();
        for t in &diff.transformations {
            datasets.extend(t.impact.datasets.iter().cloned());
            columns.extend(t.impact.columns.iter().cloned());
        }
        Affected {
            datasets: datasets.into_iter().collect(),
            columns: columns.into_iter().collect(),
        }
    }

    /// The transformations predicted to grow by more than the threshold (`--fail-over`, else
    /// [`DEFAULT_REGRESSION`]), in changed files, with their growth.
    pub fn regressions(&self) -> Vec<(&crate::predict::cost::Change, f64)> {
        let limit = self.fail_over.unwrap_or(DEFAULT_REGRESSION);
        let Some(cost) = &self.predicted_cost else { return Vec::new() };
        cost.changes
            .iter()
            .filter(|c| self.changed_files.contains(&c.file))
            .filter_map(|c| c.relative().filter(|r| *r > limit).map(|r| (c, r)))
            .collect()
    }
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The line of a transformation id `path#line` (1 when it has none: a Python task's id).
fn line_of(id: &str) -> usize {
    id.rsplit_once('#').and_then(|(_, l)| l.parse().ok()).unwrap_or(1)
}

/// The file of a transformation id `path#line` or `path::task`.
fn file_of(id: &str) -> &str {
    let id = id.split_once('#').map_or(id, |(f, _)| f);
    id.split_once("::").map_or(id, |(f, _)| f)
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The one line at the top: the predicted pipeline change and how much the change touches.
fn summary(report: &PrReport) -> String {
    let cost = match &report.predicted_cost {
        Some(c) => format!(
            "predicted pipeline time **{}** ({} → {})",
            c.makespan_change.map_or_else(|| "-".to_string(), percent),
            human_ms(c.base.makespan_ms),
            human_ms(c.head.makespan_ms)
        ),
        None => "no predicted cost".to_string(),
    };
    let over = match report.fail_over {
        Some(limit) if report.over_threshold => {
            format!(" (over the {:.1} % allowed)", limit * 100.0)
        }
        _ => String::new(),
    };
    format!(
        "{cost}{over} · {} changed · {} affected downstream · {} · {}",
        plural(report.lineage.transformations.len(), "transformation", "transformations"),
        plural(report.affected.datasets.len(), "dataset", "datasets"),
        plural(report.suggestions.len(), "suggestion", "suggestions"),
        plural(report.anomalies.len(), "anomaly", "anomalies")
    )
}

/// The longest comment written: GitHub refuses comments over 65,536 characters.
pub const COMMENT_LIMIT: usize = 65_000;

/// Markdown for a pull-request comment: the marker, a summary line, then a collapsible section
/// per part; cut (and said so) where it would be longer than a comment can be.
pub fn write_markdown(out: &mut impl Write, report: &PrReport) -> io::Result<()> {
    let mut text = Vec::new();
    write_full_markdown(&mut text, report)?;
    let text = String::from_utf8_lossy(&text);
    out.write_all(fit_comment(&text, COMMENT_LIMIT).as_bytes())
}

/// `text` whole when it fits in `limit` bytes, else cut at a line end, with the open code
/// fence and `<details>` closed and a note saying where the rest is.
fn fit_comment(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= limit {
        return text.into();
    }
    // Room for the closing tags and the note.
    let budget = limit.saturating_sub(600);
    let mut end = 0;
    for (i, _) in text.match_indices('\n') {
        if i + 1 > budget {
            break;
        }
        end = i + 1;
    }
    let mut cut = text[..end].to_string();
    let mut fence: Option<String> = None;
    for line in cut.lines() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match &fence {
            Some(open) if ticks >= open.len() && line.trim_end().len() == ticks => fence = None,
            None if ticks >= 3 => fence = Some("`".repeat(ticks)),
            _ => {}
        }
    }
    if let Some(open) = fence {
        cut.push_str(&open);
        cut.push('\n');
    }
    cut.push_str("\n_The report is cut here: it is longer than a comment holds. ");
    cut.push_str("`git lineage report --format json` has all of it._\n");
    let open = cut.matches("<details").count().saturating_sub(cut.matches("</details>").count());
    for _ in 0..open {
        cut.push_str("\n</details>\n");
    }
    cut.into()
}

fn write_full_markdown(out: &mut impl Write, report: &PrReport) -> io::Result<()> {
    writeln!(out, "{MARKER}")?;
    writeln!(
        out,
        "## git-lineage: `{}` → `{}`\n",
        short(&report.base.commit),
        short(&report.head.commit)
    )?;
    writeln!(out, "{}\n", summary(report))?;
    write_lineage_section(out, report)?;
    write_cost_section(out, report)?;
    write_anomaly_section(out, report)?;
    write_suggestion_section(out, report)
}

fn write_lineage_section(out: &mut impl Write, report: &PrReport) -> io::Result<()> {
    let diff = &report.lineage;
    writeln!(
        out,
        "<details open>\n<summary><b>Lineage</b>: {} changed, {} and {} affected downstream</summary>\n",
        plural(diff.transformations.len(), "transformation", "transformations"),
        plural(report.affected.datasets.len(), "dataset", "datasets"),
        plural(report.affected.columns.len(), "column", "columns")
    )?;
    if diff.is_empty() {
        writeln!(out, "No lineage changes.\n\n</details>\n")?;
        return Ok(());
    }
    writeln!(out, "```mermaid")?;
    super::picture::write_changed_mermaid(out, &report.graph)?;
    writeln!(out, "```")?;
    if report.graph.omitted > 0 {
        writeln!(
            out,
            "\n_{} more not drawn (the picture keeps the changes first, then their neighbours)._",
            plural(report.graph.omitted, "node", "nodes")
        )?;
    }
    writeln!(out)?;
    let title = format!("{} → {}", short(&report.base.commit), short(&report.head.commit));
    super::diff::write_markdown(out, &title, diff)?;
    if !report.affected.columns.is_empty() {
        writeln!(
            out,
            "\n**Columns affected downstream:** {}",
            report.affected.columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        )?;
    }
    writeln!(out, "\n</details>\n")
}

fn write_cost_section(out: &mut impl Write, report: &PrReport) -> io::Result<()> {
    let Some(cost) = &report.predicted_cost else {
        let why = report.predicted_cost_absent.as_deref().unwrap_or("not asked");
        writeln!(out, "<details>\n<summary><b>Predicted cost</b>: not available</summary>\n")?;
        return writeln!(out, "No prediction: {}\n\n</details>\n", cell(why));
    };
    writeln!(
        out,
        "<details>\n<summary><b>Predicted cost</b>: pipeline time {}, peak memory {} → {}</summary>\n",
        cost.makespan_change.map_or_else(|| "-".to_string(), percent),
        human_bytes(cost.base.peak_memory_bytes),
        human_bytes(cost.head.peak_memory_bytes)
    )?;
    super::cost::write_cost_table(out, cost)?;
    let regressions = report.regressions();
    if !regressions.is_empty() {
        writeln!(
            out,
            "\n**Over {:.1} %:** {}",
            report.fail_over.unwrap_or(DEFAULT_REGRESSION) * 100.0,
            regressions
                .iter()
                .map(|(c, r)| format!("`{}` ({})", c.id, percent(*r)))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(out, "\n_Model: {}._\n\n</details>\n", cost.model)
}

fn write_anomaly_section(out: &mut impl Write, report: &PrReport) -> io::Result<()> {
    writeln!(
        out,
        "<details>\n<summary><b>Anomalies</b> in runs of the touched transformations: {}</summary>\n",
        report.anomalies.len()
    )?;
    if report.anomalies.is_empty() {
        let what = if report.runs_recorded == 0 {
            "No runs recorded (`git lineage run` or `git lineage import` records them).".to_string()
        } else {
            format!("None among {}.", plural(report.runs_recorded, "recorded run", "recorded runs"))
        };
        return writeln!(out, "{what}\n\n</details>\n");
    }
    writeln!(out, "| transformation | run | metric | value | expected | likely causes |")?;
    writeln!(out, "| --- | --- | --- | ---: | ---: | --- |")?;
    // The newest first, as many as a reviewer reads.
    for a in report.anomalies.iter().rev().take(ANOMALY_ROWS) {
        let (metric, value, expected) = match a.metric {
            Metric::Duration => ("duration", human_ms(a.value), human_ms(a.expected)),
            Metric::Memory => ("peak memory", human_bytes(a.value), human_bytes(a.expected)),
        };
        writeln!(
            out,
            "| `{}`{} | {} `{}` | {metric} | {value} | {expected} ({:.2}x) | {} |",
            a.transformation,
            a.variant.as_ref().map(|v| format!(" [{v}]")).unwrap_or_default(),
            a.started_at,
            short(&a.commit),
            a.ratio,
            cell(&a.causes.join("; "))
        )?;
    }
    if report.anomalies.len() > ANOMALY_ROWS {
        writeln!(
            out,
            "\n_{} older not shown (`--format json` has them all)._",
            report.anomalies.len() - ANOMALY_ROWS
        )?;
    }
    writeln!(out, "\n</details>\n")
}

fn write_suggestion_section(out: &mut impl Write, report: &PrReport) -> io::Result<()> {
    writeln!(
        out,
        "<details>\n<summary><b>Suggestions</b> for the changed files: {}</summary>\n",
        report.suggestions.len()
    )?;
    let findings: Vec<Finding> = report.suggestions.iter().map(|s| s.finding.clone()).collect();
    super::suggest::write_markdown(out, &findings)?;
    match (&report.gains_model, &report.gains_absent) {
        (Some(model), _) => writeln!(out, "\n_Predicted gains: {}._", cell(model))?,
        (None, Some(why)) if !findings.is_empty() => {
            writeln!(out, "\n_No predicted gains: {}._", cell(why))?;
        }
        _ => {}
    }
    for s in report.suggestions.iter().filter(|s| s.patch.is_some()) {
        let f = &s.finding;
        writeln!(
            out,
            "\n<details>\n<summary>Patch for {} at <code>{}:{}</code></summary>\n",
            f.code, f.path, f.line
        )?;
        // A fence longer than any run of backticks in the patch.
        let patch = s.patch.as_deref().unwrap_or_default();
        let fence = "`".repeat(3.max(longest_backtick_run(patch) + 1));
        writeln!(out, "{fence}diff\n{patch}{fence}\n\n</details>")?;
    }
    writeln!(out, "\n</details>")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// The report as one JSON document.
pub fn write_json(out: &mut impl Write, report: &PrReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// SARIF 2.1.0: the suggestions at their lines, the transformations predicted to grow over
/// the threshold and the anomalies of recent runs at their transformation's line; only in
/// changed files (code scanning annotates the pull request's diff).
pub fn write_sarif(out: &mut impl Write, report: &PrReport) -> io::Result<()> {
    let suggestion_rules: Vec<&Rule> = crate::suggest::registry::all().collect();
    let mut rules: Vec<serde_json::Value> =
        suggestion_rules.iter().map(|r| super::suggest::sarif_rule(r)).collect();
    let regression_index = rules.len();
    rules.push(serde_json::json!({
        "id": REGRESSION_RULE,
        "name": "predicted-regression",
        "shortDescription": { "text": "A transformation is predicted to take longer" },
        "help": { "text": "The cost model predicts this transformation takes longer after the change than before (git lineage diff BASE HEAD shows what drove the prediction)." },
        "defaultConfiguration": { "level": "warning" },
    }));
    let anomaly_index = rules.len();
    rules.push(serde_json::json!({
        "id": ANOMALY_RULE,
        "name": "run-anomaly",
        "shortDescription": { "text": "A recent run was far from its transformation's history" },
        "help": { "text": "A recorded run's duration or peak memory was far from the runs before it (git lineage anomalies lists them with their likely causes)." },
        "defaultConfiguration": { "level": "note" },
    }));
    let changed = |path: &str| report.changed_files.iter().any(|f| f == path);
    let mut results: Vec<serde_json::Value> = report
        .suggestions
        .iter()
        .filter(|s| changed(&s.finding.path))
        .map(|s| super::suggest::sarif_result(&s.finding, &suggestion_rules))
        .collect();
    let level = if report.fail_over.is_some() { "error" } else { "warning" };
    for (c, growth) in report.regressions() {
        results.push(serde_json::json!({
            "ruleId": REGRESSION_RULE,
            "ruleIndex": regression_index,
            "level": level,
            "message": { "text": format!(
                "{} is predicted to take {} ({} -> {})",
                c.id,
                percent(growth),
                c.base_ms.map_or_else(|| "-".to_string(), human_ms),
                c.head_ms.map_or_else(|| "-".to_string(), human_ms),
            )},
            "locations": [location(&c.file, line_of(&c.id))],
        }));
    }
    for a in report.anomalies.iter().filter(|a| changed(file_of(&a.transformation))) {
        let what = match a.metric {
            Metric::Duration => "duration",
            Metric::Memory => "peak memory",
        };
        results.push(serde_json::json!({
            "ruleId": ANOMALY_RULE,
            "ruleIndex": anomaly_index,
            "level": "note",
            "message": { "text": format!(
                "the run of {} at {} had a {what} {:.2}x the expected; likely: {}",
                a.transformation, a.started_at, a.ratio, a.causes.join("; ")
            )},
            "locations": [location(file_of(&a.transformation), line_of(&a.transformation))],
        }));
    }
    let doc = super::suggest::sarif_log(&rules, &results);
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn location(path: &str, line: usize) -> serde_json::Value {
    serde_json::json!({ "physicalLocation": {
        "artifactLocation": { "uri": path },
        "region": { "startLine": line },
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_report() -> PrReport {
        let side = |c: &str| Side { rev: c.to_string(), commit: c.repeat(40) };
        PrReport {
            base: side("a"),
            head: side("b"),
            changed_files: vec!["x.sql".to_string()],
            lineage: GraphDiff::default(),
            affected: Affected::default(),
            graph: ChangedGraph::default(),
            predicted_cost: None,
            predicted_cost_absent: Some("no runtime".to_string()),
            fail_over: None,
            over_threshold: false,
            anomalies: Vec::new(),
            runs_recorded: 0,
            suggestions: Vec::new(),
            gains_model: None,
            gains_absent: None,
        }
    }

    #[test]
    fn a_change_without_lineage_changes_still_has_every_section() {
        let mut out = Vec::new();
        write_markdown(&mut out, &empty_report()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(MARKER), "{text}");
        assert!(text.contains("no predicted cost · 0 transformations changed"), "{text}");
        assert!(text.contains("No lineage changes.") && !text.contains("mermaid"), "{text}");
        assert!(text.contains("No prediction: no runtime"), "{text}");
        assert_eq!(text.matches("<details").count(), text.matches("</details>").count());
    }

    #[test]
    fn a_report_too_long_for_a_comment_is_cut_with_its_fence_and_details_closed() {
        let mut report = empty_report();
        let line = "x".repeat(100);
        report.suggestions.push(Suggestion {
            finding: Finding {
                code: "R001",
                name: "order-by-without-limit",
                path: "x.sql".to_string(),
                line: 1,
                column: 1,
                message: "m".to_string(),
                fix: None,
                fix_rejected: None,
                predicted: None,
            },
            patch: Some(format!("{line}\n").repeat(2000)),
        });
        let mut out = Vec::new();
        write_markdown(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.len() <= COMMENT_LIMIT, "{}", text.len());
        assert!(text.contains("The report is cut here"), "{text}");
        assert_eq!(text.matches("<details").count(), text.matches("</details>").count());
        assert_eq!(text.lines().filter(|l| l.starts_with("```")).count() % 2, 0);
    }

    #[test]
    fn ids_give_their_file_and_line() {
        assert_eq!((file_of("models/a.sql#12"), line_of("models/a.sql#12")), ("models/a.sql", 12));
        assert_eq!((file_of("dags/d.py::d.a"), line_of("dags/d.py::d.a")), ("dags/d.py", 1));
        assert_eq!(longest_backtick_run("a ``` b `` c"), 3);
    }
}
