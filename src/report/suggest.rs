//! Suggestions as text (one line a finding, ruff-style), JSON, and a rule's explanation.

use std::io::{self, Write};

use crate::predict::cost::human_ms;
use crate::suggest::{Applicability, Finding, Rule};

/// `path:line:column: CODE message`, with `[*]` when a safe fix is available and `[unsafe
/// fix]` when only an unsafe one is; then a summary line.
pub fn write_text(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        let mark = match f.fix.as_ref().map(|x| x.applicability) {
            Some(Applicability::Safe) => " [*]",
            Some(Applicability::Unsafe) => " [unsafe fix]",
            Some(Applicability::DisplayOnly) | None => "",
        };
        writeln!(out, "{}:{}:{}: {}{mark} {}", f.path, f.line, f.column, f.code, f.message)?;
        if let Some(p) = f.predicted {
            writeln!(
                out,
                "  predicted: {} -> {} ({}{})",
                human_ms(p.before_ms),
                human_ms(p.after_ms),
                if p.gain_ms() >= 0.0 { "-" } else { "+" },
                human_ms(p.gain_ms().abs())
            )?;
        }
        if let Some(why) = &f.fix_rejected {
            writeln!(out, "  (no fix: {why})")?;
        }
    }
    let safe = count(findings, Applicability::Safe);
    let unsafe_ = count(findings, Applicability::Unsafe);
    match findings.len() {
        0 => writeln!(out, "no suggestions")?,
        n => writeln!(
            out,
            "{n} suggestion{}; {safe} fixable with `git lineage fix`{}",
            if n == 1 { "" } else { "s" },
            if unsafe_ > 0 { format!(", {unsafe_} more with --unsafe") } else { String::new() }
        )?,
    }
    Ok(())
}

fn count(findings: &[Finding], applicability: Applicability) -> usize {
    findings
        .iter()
        .filter(|f| f.fix.as_ref().is_some_and(|x| x.applicability == applicability))
        .count()
}

pub fn write_json(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "suggestions": findings }))?;
    writeln!(out)
}

/// What `git lineage explain CODE` prints.
pub fn write_explanation(out: &mut impl Write, rule: &Rule) -> io::Result<()> {
    writeln!(out, "# {} ({}): {}\n", rule.code, rule.name, rule.summary)?;
    writeln!(out, "{}", rule.explanation)
}

/// The rules, a line each.
pub fn write_rules<'a>(
    out: &mut impl Write,
    rules: impl Iterator<Item = &'a Rule>,
) -> io::Result<()> {
    for rule in rules {
        writeln!(out, "{:<6} {:<24} {}", rule.code, rule.name, rule.summary)?;
    }
    Ok(())
}
