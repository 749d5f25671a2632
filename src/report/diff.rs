//! A lineage diff as text for terminals and as Markdown for pull-request comments.

use std::io::Write;

use crate::graph::diff::{Change, GraphDiff, TransformationChange};

fn kind_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The lines that say what changed inside one transformation.
fn details(t: &TransformationChange) -> Vec<String> {
    let mut lines = Vec::new();
    for (sign, list, what) in [
        ('+', &t.reads_added, "reads"),
        ('-', &t.reads_removed, "reads"),
        ('+', &t.writes_added, "writes"),
        ('-', &t.writes_removed, "writes"),
    ] {
        if !list.is_empty() {
            lines.push(format!("{sign} {what} {}", list.join(", ")));
        }
    }
    for (sign, edges) in [('+', &t.columns_added), ('-', &t.columns_removed)] {
        lines.extend(edges.iter().map(|c| format!("{sign} column {} <- {}", c.target, c.source)));
    }
    for (sign, edges) in [('+', &t.indirect_added), ('-', &t.indirect_removed)] {
        lines.extend(edges.iter().map(|e| {
            format!(
                "{sign} {} {} decides {}",
                kind_name(&e.kind),
                e.source,
                display_target(&e.target)
            )
        }));
    }
    lines
}

fn display_target(target: &str) -> &str {
    if target.is_empty() { "(the query's result)" } else { target }
}

fn sign(change: Change) -> char {
    match change {
        Change::Added => '+',
        Change::Removed => '-',
        Change::Changed => '~',
    }
}

pub fn write_text(out: &mut impl Write, title: &str, diff: &GraphDiff) -> std::io::Result<()> {
    writeln!(out, "lineage diff {title}")?;
    if diff.is_empty() {
        return writeln!(out, "no lineage changes");
    }
    if !diff.datasets_added.is_empty() {
        writeln!(out, "datasets added: {}", diff.datasets_added.join(", "))?;
    }
    if !diff.datasets_removed.is_empty() {
        writeln!(out, "datasets removed: {}", diff.datasets_removed.join(", "))?;
    }
    for t in &diff.transformations {
        writeln!(out, "{} {} {}", sign(t.change), t.id, kind_name(&t.kind))?;
        for line in details(t) {
            writeln!(out, "    {line}")?;
        }
        if !t.impact.datasets.is_empty() || !t.impact.columns.is_empty() {
            writeln!(
                out,
                "    downstream: datasets [{}] columns [{}]",
                t.impact.datasets.join(", "),
                t.impact.columns.join(", ")
            )?;
        }
    }
    Ok(())
}

pub fn write_markdown(out: &mut impl Write, title: &str, diff: &GraphDiff) -> std::io::Result<()> {
    writeln!(out, "### Lineage changes ({title})\n")?;
    if diff.is_empty() {
        return writeln!(out, "No lineage changes.");
    }
    if !diff.datasets_added.is_empty() {
        writeln!(out, "- **Datasets added:** {}", code_list(&diff.datasets_added))?;
    }
    if !diff.datasets_removed.is_empty() {
        writeln!(out, "- **Datasets removed:** {}", code_list(&diff.datasets_removed))?;
    }
    if !diff.datasets_added.is_empty() || !diff.datasets_removed.is_empty() {
        writeln!(out)?;
    }
    writeln!(out, "| | transformation | what changed | downstream |\n| --- | --- | --- | --- |")?;
    for t in &diff.transformations {
        let what = details(t).join("<br>");
        let downstream = code_list(&t.impact.datasets);
        writeln!(
            out,
            "| {} | `{}` ({}) | {what} | {downstream} |",
            sign(t.change),
            t.id,
            kind_name(&t.kind)
        )?;
    }
    Ok(())
}

fn code_list(items: &[String]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}
