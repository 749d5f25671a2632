//! Text output for terminals: one block per file, one per transformation.

use std::io::Write;

use crate::diagnostic::Severity;
use crate::extract::{Confidence, Fragment, Kind};

pub fn write_files(out: &mut impl Write, fragments: &[Fragment]) -> std::io::Result<()> {
    for fragment in fragments {
        writeln!(out, "{}", fragment.path)?;
        for t in &fragment.transformations {
            // Partial: the statement parsed only after dropping a word, or only its tables
            // were recovered; its diagnostic says which.
            let partial = if t.confidence == Confidence::Partial { " (partial)" } else { "" };
            let kind = serde_json::to_value(t.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            // A task is named by its DAG and task id, after the path.
            let name = match t.kind {
                Kind::Task => t.id.rsplit_once("::").map(|(_, n)| format!(" {n}")),
                _ => None,
            };
            writeln!(out, "  line {} {kind}{}{partial}", t.line, name.unwrap_or_default())?;
            if !t.reads.is_empty() {
                writeln!(out, "    reads   {}", t.reads.join(", "))?;
            }
            if !t.writes.is_empty() {
                writeln!(out, "    writes  {}", t.writes.join(", "))?;
            }
            if !t.after.is_empty() {
                writeln!(out, "    after   {}", t.after.join(", "))?;
            }
            for r in &t.renames {
                writeln!(out, "    renames {} -> {}", r.from, r.to)?;
            }
            if !t.drops.is_empty() {
                writeln!(out, "    drops   {}", t.drops.join(", "))?;
            }
            for c in &t.columns {
                writeln!(out, "    {} <- {}", c.target, c.source)?;
            }
        }
        if !fragment.intermediates.is_empty() {
            writeln!(out, "  intermediates: {}", fragment.intermediates.join(", "))?;
        }
        for d in &fragment.diagnostics {
            let severity = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            writeln!(
                out,
                "  {}:{}:{}: {severity}: {}",
                fragment.path, d.line, d.column, d.message
            )?;
        }
    }
    Ok(())
}
