//! Predicted costs for people: a revision's pipeline (`predict`) and the predicted change
//! between two revisions (`diff`), as text or Markdown.

use std::io::Write;

use crate::predict::cost::{
    CostDiff, PipelineCost, Predicted, human_bytes, human_count, human_ms, percent,
};
use crate::predict::features::RowsFrom;

/// `predict`'s text: one line per transformation, then the pipeline.
pub fn write_pipeline(
    out: &mut impl Write,
    rev: &str,
    model: &str,
    cost: &PipelineCost,
) -> std::io::Result<()> {
    writeln!(out, "predicted cost of {rev} (model: {model})")?;
    writeln!(out)?;
    let width = cost.transformations.iter().map(|t| t.id.len()).max().unwrap_or(0).max(14);
    writeln!(
        out,
        "{:width$}  {:>9}  {:>21}  {:>8}  rests on",
        "transformation", "duration", "90 % interval", "memory"
    )?;
    for t in &cost.transformations {
        let e = &t.estimate;
        let interval = match (e.duration_low_ms, e.duration_high_ms) {
            (Some(lo), Some(hi)) => format!("{} - {}", human_ms(lo), human_ms(hi)),
            _ => "-".to_string(),
        };
        let memory = e.memory_bytes.map_or_else(|| "-".to_string(), human_bytes);
        writeln!(
            out,
            "{:width$}  {:>9}  {:>21}  {:>8}  {}",
            t.id,
            human_ms(e.duration_ms),
            interval,
            memory,
            basis(t)
        )?;
    }
    writeln!(out)?;
    let workers =
        if cost.parallel == 0 { "no limit".to_string() } else { cost.parallel.to_string() };
    writeln!(
        out,
        "pipeline ({} transformations, {workers} at once): makespan {}, CPU {}, peak memory {}",
        cost.transformations.len(),
        human_ms(cost.makespan_ms),
        human_ms(cost.cpu_ms),
        human_bytes(cost.peak_memory_bytes)
    )?;
    writeln!(
        out,
        "critical path {}: {}",
        human_ms(cost.critical_path_ms),
        cost.critical_path.join(" -> ")
    )
}

/// What a prediction rests on, in a few words.
fn basis(t: &Predicted) -> String {
    let b = &t.basis;
    let rows = match (b.rows_in, b.rows_in_from) {
        (Some(r), RowsFrom::Upstream) => format!(", {} rows in (upstream's last)", human_count(r)),
        (Some(r), RowsFrom::LastRun) => format!(", {} rows in (its last run)", human_count(r)),
        (Some(r), RowsFrom::Run) => format!(", {} rows in", human_count(r)),
        _ => String::new(),
    };
    if b.runs == 0 {
        return format!("no runs: code and graph only{rows}");
    }
    let code = if b.same_code_runs == 0 {
        "code changed since".to_string()
    } else {
        format!("{} of this code", b.same_code_runs)
    };
    format!("{} runs ({code}){rows}", b.runs)
}

/// The predicted change of `diff`, as text.
pub fn write_cost_text(out: &mut impl Write, diff: &CostDiff) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "predicted pipeline time {} -> {} ({}), CPU {} -> {}, peak memory {} -> {}  [model: {}]",
        human_ms(diff.base.makespan_ms),
        human_ms(diff.head.makespan_ms),
        diff.makespan_change.map_or_else(|| "-".to_string(), percent),
        human_ms(diff.base.cpu_ms),
        human_ms(diff.head.cpu_ms),
        human_bytes(diff.base.peak_memory_bytes),
        human_bytes(diff.head.peak_memory_bytes),
        diff.model
    )?;
    for c in &diff.changes {
        writeln!(out, "  {} {}", c.id, side_change(c.base_ms, c.head_ms))?;
        for d in &c.drivers {
            let effect = if d.effect.is_finite() {
                format!(" ({})", percent(d.effect))
            } else {
                String::new()
            };
            writeln!(out, "      {}{effect}", d.description)?;
        }
    }
    Ok(())
}

/// The predicted change of `diff`, as Markdown (a table with each transformation's duration,
/// what drove it and its peak memory, then the model).
pub fn write_cost_markdown(out: &mut impl Write, diff: &CostDiff) -> std::io::Result<()> {
    writeln!(out, "\n### Predicted cost\n")?;
    write_cost_table(out, diff)?;
    writeln!(out, "\n_Model: {}._", diff.model)
}

/// The table of [`write_cost_markdown`]: the pipeline's time, CPU and peak memory, then a
/// row per transformation whose code or prediction changed.
pub fn write_cost_table(out: &mut impl Write, diff: &CostDiff) -> std::io::Result<()> {
    writeln!(out, "| | base | head | change | peak memory |")?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: |")?;
    writeln!(
        out,
        "| **pipeline time** | {} | {} | {} | |",
        human_ms(diff.base.makespan_ms),
        human_ms(diff.head.makespan_ms),
        diff.makespan_change.map_or_else(|| "-".to_string(), percent)
    )?;
    writeln!(out, "| CPU | {} | {} | | |", human_ms(diff.base.cpu_ms), human_ms(diff.head.cpu_ms))?;
    writeln!(
        out,
        "| peak memory | {} | {} | | |",
        human_bytes(diff.base.peak_memory_bytes),
        human_bytes(diff.head.peak_memory_bytes)
    )?;
    for c in &diff.changes {
        let drivers: Vec<String> = c.drivers.iter().map(|d| d.description.clone()).collect();
        let memory = match (c.base_memory_bytes, c.head_memory_bytes) {
            (Some(b), Some(h)) => format!("{} → {}", human_bytes(b), human_bytes(h)),
            (None, Some(h)) => human_bytes(h),
            (Some(b), None) => format!("{} → -", human_bytes(b)),
            (None, None) => "-".to_string(),
        };
        writeln!(
            out,
            "| `{}` | {} | {} | {}{} | {memory} |",
            c.id,
            c.base_ms.map_or_else(|| "-".to_string(), human_ms),
            c.head_ms.map_or_else(|| "-".to_string(), human_ms),
            match (c.base_ms, c.head_ms) {
                (None, Some(_)) => "new".to_string(),
                (Some(_), None) => "removed".to_string(),
                _ => c.relative().map_or_else(|| "-".to_string(), percent),
            },
            if drivers.is_empty() { String::new() } else { format!(": {}", drivers.join("; ")) }
        )?;
    }
    Ok(())
}

fn side_change(base: Option<f64>, head: Option<f64>) -> String {
    match (base, head) {
        (Some(b), Some(h)) => {
            let change = crate::predict::schedule::relative_change(b, h)
                .map_or_else(String::new, |c| format!(" ({})", percent(c)));
            format!("{} -> {}{change}", human_ms(b), human_ms(h))
        }
        (None, Some(h)) => format!("new: {}", human_ms(h)),
        (Some(b), None) => format!("removed: was {}", human_ms(b)),
        (None, None) => String::new(),
    }
}
