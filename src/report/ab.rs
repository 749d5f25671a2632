//! A/B experiments for people: an experiment's report as text or Markdown, and the list of
//! experiments. (JSON is the report's own serialization.)

use std::fmt::Write as _;
use std::io::Write;

use crate::ab::{Comparison, Experiment, Group, Metric, Report, Status, Verdict};

/// A metric's value for people: milliseconds to a tenth under a second, megabytes to a tenth.
fn value(metric: Metric, v: f64) -> String {
    match metric {
        Metric::Memory => format!("{:.1} MB", v / 1e6),
        _ if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
        _ => format!("{v:.1} ms"),
    }
}

fn p_value(p: Option<f64>) -> String {
    match p {
        None => "-".to_string(),
        Some(p) if p < 0.0001 => "< 0.0001".to_string(),
        Some(p) => format!("{p:.4}"),
    }
}

/// The first ten characters of a commit id (the whole text when it is not a hex id).
fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

/// The cells of a comparison: metric, control, treatment, ratio, interval, the two p-values
/// and the change.
fn cells(c: &Comparison) -> [String; 8] {
    let spread = |s: &crate::ab::stats::Summary| {
        format!("{} ± {}", value(c.metric, s.median), value(c.metric, s.mad))
    };
    [
        c.metric.name().to_string(),
        spread(&c.control),
        spread(&c.treatment),
        c.ratio.map_or_else(|| "-".to_string(), |r| format!("{r:.3}")),
        c.interval.map_or_else(|| "-".to_string(), |i| format!("{:.3} - {:.3}", i.low, i.high)),
        p_value(c.mann_whitney.map(|t| t.p_value)),
        p_value(c.welch_log.map(|t| t.p_value)),
        c.metric.change_words(c.change).to_string(),
    ]
}

const HEADER: [&str; 8] = [
    "metric",
    "control (median ± MAD)",
    "treatment (median ± MAD)",
    "ratio",
    "95 % CI",
    "Mann-Whitney p",
    "Welch p (log)",
    "",
];

/// What the experiment ran, in a line.
fn ran(e: &Experiment) -> String {
    let arguments = match e.arguments {
        0 => String::new(),
        1 => " with 1 argument".to_string(),
        n => format!(" with {n} arguments"),
    };
    let folder = if e.folder.is_empty() { String::new() } else { format!(" in {}/", e.folder) };
    format!(
        "`{}`{arguments}{folder}, {} runs per variant after {} warm-up, alternating from the {}",
        e.program.as_deref().unwrap_or("?"),
        e.runs,
        e.warmup,
        e.first
    )
}

fn status(e: &Experiment) -> &'static str {
    match e.status {
        Status::Running => "running",
        Status::Done => "done",
        Status::Interrupted => "interrupted",
        Status::Failed => "failed",
    }
}

/// The verdict in a sentence, with the figures it rests on.
fn verdict_line(group: &Group) -> String {
    let Some(wall) = group.metrics.iter().find(|c| c.metric == Metric::Wall) else {
        return "too few runs: no successful run on a side".to_string();
    };
    let figures = match (wall.ratio, wall.interval) {
        (Some(r), Some(i)) => format!(
            "wall time {r:.3}x the control's (95 % CI {:.3} - {:.3}; Mann-Whitney p {}, Welch p {})",
            i.low,
            i.high,
            p_value(wall.mann_whitney.map(|t| t.p_value)),
            p_value(wall.welch_log.map(|t| t.p_value))
        ),
        _ => "no ratio".to_string(),
    };
    let mut line = format!("{}: {figures}", group.verdict.words());
    if group.verdict == Verdict::NoDifference {
        match (wall.runs_needed, wall.ratio) {
            (Some(n), Some(r)) => {
                let more = match wall.more_runs.unwrap_or(0) {
                    0 => "as many as were made".to_string(),
                    more => format!("{more} more"),
                };
                let _ = write!(
                    line,
                    "; the observed {:+.1} % would need about {n} runs per side to detect ({more})",
                    (r - 1.0) * 100.0,
                );
            }
            _ => line.push_str("; no difference observed at all"),
        }
    }
    line
}

fn write_table(out: &mut impl Write, indent: &str, rows: &[[String; 8]]) -> std::io::Result<()> {
    let mut widths = HEADER.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 8]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("{indent}{}", padded.join("  ").trim_end())
    };
    writeln!(out, "{}", line(HEADER))?;
    for row in rows {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
    }
    Ok(())
}

/// The report as text.
pub fn write_text(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    let e = &report.experiment;
    writeln!(out, "experiment {} ({}): {}", e.id, status(e), ran(e))?;
    writeln!(out, "  control    {} ({})", e.control.rev, short(&e.control.commit))?;
    writeln!(out, "  treatment  {} ({})", e.treatment.rev, short(&e.treatment.commit))?;
    let n = &report.whole.runs;
    writeln!(
        out,
        "  runs       {} control + {} treatment counted, {} warm-up, {} failed",
        n.control, n.treatment, n.warmup, n.failed
    )?;
    writeln!(out)?;
    writeln!(out, "verdict: {}", verdict_line(&report.whole))?;
    writeln!(out)?;
    let rows: Vec<[String; 8]> = report.whole.metrics.iter().map(cells).collect();
    write_table(out, "", &rows)?;
    if !report.transformations.is_empty() {
        writeln!(out)?;
        writeln!(out, "transformations the command recorded:")?;
        for t in &report.transformations {
            writeln!(
                out,
                "  {} ({} + {} runs): {}",
                t.transformation.as_deref().unwrap_or("-"),
                t.runs.control,
                t.runs.treatment,
                verdict_line(t)
            )?;
            let rows: Vec<[String; 8]> = t.metrics.iter().map(cells).collect();
            write_table(out, "    ", &rows)?;
        }
    }
    Ok(())
}

/// The report as Markdown, for a pull-request comment.
pub fn write_markdown(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    let e = &report.experiment;
    writeln!(out, "### A/B experiment `{}`: **{}**", e.id, report.verdict.words())?;
    writeln!(out)?;
    writeln!(
        out,
        "Treatment `{}` (`{}`) against control `{}` (`{}`): {} ({}). Counted runs: {} control, \
         {} treatment; {} failed, {} warm-up.",
        e.treatment.rev,
        short(&e.treatment.commit),
        e.control.rev,
        short(&e.control.commit),
        ran(e),
        status(e),
        report.whole.runs.control,
        report.whole.runs.treatment,
        report.whole.runs.failed,
        report.whole.runs.warmup
    )?;
    writeln!(out)?;
    writeln!(out, "{}", verdict_line(&report.whole))?;
    writeln!(out)?;
    let row = |cells: &[String]| format!("| {} |", cells.join(" | "));
    let mut header: Vec<String> = HEADER[..7].iter().map(|h| (*h).to_string()).collect();
    header.push("verdict".to_string());
    writeln!(out, "{}", row(&header))?;
    writeln!(out, "|{}", " --- |".repeat(8))?;
    for c in &report.whole.metrics {
        writeln!(out, "{}", row(&cells(c)))?;
    }
    if !report.transformations.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Transformations")?;
        writeln!(out)?;
        writeln!(out, "| transformation | runs {}", row(&header))?;
        writeln!(out, "|{}", " --- |".repeat(10))?;
        for t in &report.transformations {
            for c in &t.metrics {
                writeln!(
                    out,
                    "| `{}` | {} + {} {}",
                    t.transformation.as_deref().unwrap_or("-"),
                    t.runs.control,
                    t.runs.treatment,
                    row(&cells(c))
                )?;
            }
        }
    }
    Ok(())
}

/// `ab list`: one line per experiment.
pub fn write_list(out: &mut impl Write, experiments: &[Experiment]) -> std::io::Result<()> {
    if experiments.is_empty() {
        return writeln!(out, "no experiments");
    }
    for e in experiments {
        let verdict = match &e.outcome {
            Some(o) => {
                let ratio = match (o.ratio, o.interval) {
                    (Some(r), Some(i)) => format!(" {r:.3}x ({:.3} - {:.3})", i.low, i.high),
                    _ => String::new(),
                };
                format!("{}{ratio}", o.verdict.words())
            }
            None => "-".to_string(),
        };
        writeln!(
            out,
            "{}  {}  {} ({}) -> {} ({})  {} runs  {}  {}",
            e.id,
            e.started_at,
            e.control.rev,
            short(&e.control.commit),
            e.treatment.rev,
            short(&e.treatment.commit),
            e.runs,
            status(e),
            verdict
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_for_people() {
        assert_eq!(value(Metric::Wall, 71.04), "71.0 ms");
        assert_eq!(value(Metric::Cpu, 1234.0), "1.23 s");
        assert_eq!(value(Metric::Memory, 3_250_000.0), "3.2 MB");
        assert_eq!(p_value(Some(0.00001)), "< 0.0001");
        assert_eq!(p_value(Some(0.0432)), "0.0432");
    }
}
