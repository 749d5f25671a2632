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

pub fn write_json(
    out: &mut impl Write,
    findings: &[Finding],
    parallelism: Option<&crate::predict::cost::Parallelism>,
    resources: &[crate::predict::resources::Allocation],
) -> io::Result<()> {
    let doc = serde_json::json!({
        "suggestions": findings,
        "parallelism": parallelism,
        "resources": resources,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
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

/// A Markdown table for a pull-request comment, most predicted gain first as given.
pub fn write_markdown(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "No suggestions.");
    }
    writeln!(out, "| where | rule | suggestion | fix | predicted |")?;
    writeln!(out, "| --- | --- | --- | --- | --- |")?;
    for f in findings {
        let fix = match &f.fix {
            Some(x) if x.applicability == Applicability::Safe => format!("{} (safe)", x.title),
            Some(x) => format!(
                "{} (unsafe: assumes {})",
                x.title,
                x.assumes.as_deref().unwrap_or("what the rule states")
            ),
            None => "-".to_string(),
        };
        let predicted = f.predicted.map_or("-".to_string(), |p| {
            format!("{} → {}", human_ms(p.before_ms), human_ms(p.after_ms))
        });
        writeln!(
            out,
            "| `{}:{}` | {} `{}` | {} | {} | {} |",
            f.path,
            f.line,
            f.code,
            f.name,
            cell(&f.message),
            cell(&fix),
            predicted
        )?;
    }
    Ok(())
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// SARIF 2.1.0, for code-scanning annotations: every rule, each finding at its line, and
/// each fix as byte-range replacements.
pub fn write_sarif(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    let rules: Vec<&Rule> = crate::suggest::registry::all().collect();
    let results: Vec<serde_json::Value> =
        findings.iter().map(|f| sarif_result(f, &rules)).collect();
    let rules: Vec<serde_json::Value> = rules.iter().map(|r| sarif_rule(r)).collect();
    let doc = sarif_log(&rules, &results);
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A SARIF 2.1.0 log of one run of git-lineage.
pub fn sarif_log(rules: &[serde_json::Value], results: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "git-lineage",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A suggestion rule as a SARIF `reportingDescriptor`.
pub fn sarif_rule(r: &Rule) -> serde_json::Value {
    serde_json::json!({
        "id": r.code,
        "name": r.name,
        "shortDescription": { "text": r.summary },
        "help": { "text": r.explanation, "markdown": r.explanation },
        "defaultConfiguration": { "level": "warning" },
    })
}

/// A finding as a SARIF `result` at its line, its fix as byte-range replacements; `rules` in
/// the order of the log's rules.
pub fn sarif_result(f: &Finding, rules: &[&Rule]) -> serde_json::Value {
    let mut result = serde_json::json!({
        "ruleId": f.code,
        "ruleIndex": rules.iter().position(|r| r.code == f.code),
        "level": "warning",
        "message": { "text": f.message },
        "locations": [{ "physicalLocation": {
            "artifactLocation": { "uri": f.path },
            "region": { "startLine": f.line, "startColumn": f.column },
        }}],
    });
    if let Some(fix) = &f.fix {
        result["fixes"] = serde_json::json!([{
            "description": { "text": fix.title },
            "artifactChanges": [{
                "artifactLocation": { "uri": f.path },
                "replacements": fix.edits.iter().map(|e| serde_json::json!({
                    "deletedRegion": { "byteOffset": e.start, "byteLength": e.end - e.start },
                    "insertedContent": { "text": e.content },
                })).collect::<Vec<_>>(),
            }],
        }]);
    }
    if let Some(p) = f.predicted {
        result["properties"] = serde_json::json!({
            "predicted_before_ms": p.before_ms,
            "predicted_after_ms": p.after_ms,
        });
    }
    result
}

/// The parallelism block of `suggest`'s text: makespan by workers and what to give the runner.
pub fn write_parallelism(
    out: &mut impl Write,
    p: &crate::predict::cost::Parallelism,
) -> io::Result<()> {
    let count: usize = p.stages.iter().map(Vec::len).sum();
    let widest = p.stages.iter().map(Vec::len).max().unwrap_or(0);
    writeln!(
        out,
        "\nparallelism: {count} transformations in {} stages (widest {widest})",
        p.stages.len()
    )?;
    writeln!(out, "  {:>7}  {:>10}  {:>12}", "workers", "makespan", "peak memory")?;
    for (workers, makespan, memory) in &p.by_workers {
        let memory =
            if *memory > 0.0 { crate::predict::cost::human_bytes(*memory) } else { "-".into() };
        writeln!(out, "  {workers:>7}  {:>10}  {memory:>12}", human_ms(*makespan))?;
    }
    let n = p.recommended;
    writeln!(
        out,
        "  {n} worker{} come within 5 % of the fastest: `dbt run --threads {n}`, or an Airflow pool of {n} slot{}",
        if n == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" }
    )
}

/// The resources block of `suggest`'s text: what to request per transformation.
pub fn write_resources(
    out: &mut impl Write,
    allocations: &[crate::predict::resources::Allocation],
) -> io::Result<()> {
    use crate::predict::cost::human_bytes;
    if allocations.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nresources (from the latest runs: p95 peak memory + 25 %, p95 CPU / wall time):"
    )?;
    let width = allocations.iter().map(|a| a.id.len()).max().unwrap_or(0);
    writeln!(
        out,
        "  {:<width$}  {:>6}  {:>10}  {:>8}  {:>5}  {:>10}",
        "transformation", "runs", "median", "memory", "CPUs", "cost/run"
    )?;
    for a in allocations {
        let memory = a.memory_request_bytes.map_or("-".to_string(), human_bytes);
        let cost = a.cost_per_run.map_or("-".to_string(), crate::predict::resources::price_text);
        writeln!(
            out,
            "  {:<width$}  {:>6}  {:>10}  {:>8}  {:>5}  {:>10}",
            a.id,
            a.runs,
            human_ms(a.wall_ms),
            memory,
            a.cpus,
            cost
        )?;
        if let Some(why) = &a.over_provisioned {
            writeln!(out, "    over-provisioned: {why}")?;
        }
    }
    Ok(())
}
