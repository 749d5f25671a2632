//! The generic import: runs measured by anything else, as CSV (a header row, then one run a
//! row) or JSON lines (one object a run), with the columns of `docs/runs-format.md`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{CommitHint, Imported, ImportedRun, Malformed};
use crate::collect::record::{RunRecord, format_timestamp, parse_time};

/// The columns a row may have. `started_at` and `wall_ms` are required, and one of
/// `transformation`, `job` or `file`.
pub const COLUMNS: [&str; 20] = [
    "transformation",
    "file",
    "job",
    "variant",
    "commit",
    "dirty",
    "started_at",
    "wall_ms",
    "user_ms",
    "sys_ms",
    "max_rss_bytes",
    "read_bytes",
    "write_bytes",
    "rows_in",
    "rows_out",
    "status",
    "exit_code",
    "host",
    "message",
    "run_id",
];

/// A row: column -> text (empty cells and JSON nulls are absent).
type Row = BTreeMap<String, String>;

/// Runs from CSV.
pub fn read_csv(file: &str, text: &str) -> Result<Imported, Vec<Malformed>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| vec![Malformed::new(file, Some(1), "", e.to_string())])?
        .clone();
    let headers: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    let unknown: Vec<Malformed> = headers
        .iter()
        .filter(|h| !COLUMNS.contains(&h.as_str()))
        .map(|h| Malformed::new(file, Some(1), h.clone(), unknown_column()))
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map(|p| usize::try_from(p.line()).unwrap_or(0));
                let row: Row = headers
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, v)| !v.trim().is_empty())
                    .map(|(h, v)| (h.clone(), v.trim().to_string()))
                    .collect();
                rows.push((line, row));
            }
            Err(e) => {
                let line = e.position().map(|p| usize::try_from(p.line()).unwrap_or(0));
                problems.push(Malformed::new(file, line, "", e.to_string()));
            }
        }
    }
    finish(file, "csv", rows, problems)
}

/// Runs from JSON lines.
pub fn read_jsonl(file: &str, text: &str) -> Result<Imported, Vec<Malformed>> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = Some(n + 1);
        let object: BTreeMap<String, Value> = match super::from_json(file, line_no, line) {
            Ok(object) => object,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let mut row = Row::new();
        for (key, value) in object {
            if !COLUMNS.contains(&key.as_str()) {
                problems.push(Malformed::new(file, line_no, key, unknown_column()));
                continue;
            }
            match value {
                Value::Null => {}
                Value::String(s) if s.trim().is_empty() => {}
                Value::String(s) => {
                    row.insert(key, s);
                }
                Value::Number(_) | Value::Bool(_) => {
                    row.insert(key, value.to_string());
                }
                Value::Array(_) | Value::Object(_) => {
                    problems.push(Malformed::new(
                        file,
                        line_no,
                        key,
                        "a list or object, not a value",
                    ));
                }
            }
        }
        rows.push((line_no, row));
    }
    finish(file, "jsonl", rows, problems)
}

fn unknown_column() -> String {
    format!("not a known column (known: {})", COLUMNS.join(", "))
}

fn finish(
    file: &str,
    source: &str,
    rows: Vec<(Option<usize>, Row)>,
    mut problems: Vec<Malformed>,
) -> Result<Imported, Vec<Malformed>> {
    let mut imported = Imported::default();
    for (line, row) in rows {
        match run(file, line, source, &row) {
            Ok(run) => imported.runs.push(run),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() { Ok(imported) } else { Err(problems) }
}

fn run(file: &str, line: Option<usize>, source: &str, row: &Row) -> Result<ImportedRun, Malformed> {
    let bad = |column: &str, what: &str| Malformed::new(file, line, column, what);
    let text = |column: &str| row.get(column).cloned();
    let number = |column: &str| -> Result<Option<f64>, Malformed> {
        row.get(column)
            .map(|v| match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                _ => Err(bad(column, "not a non-negative number")),
            })
            .transpose()
    };
    let count = |column: &str| -> Result<Option<u64>, Malformed> {
        row.get(column)
            .map(|v| v.parse::<u64>().map_err(|_| bad(column, "not a whole non-negative number")))
            .transpose()
    };
    let started_at = row.get("started_at").ok_or_else(|| bad("started_at", "missing"))?;
    let started_at =
        parse_time(started_at).ok_or_else(|| bad("started_at", "not an RFC 3339 time"))?;
    let wall_ms = number("wall_ms")?.ok_or_else(|| bad("wall_ms", "missing"))?;
    if ["transformation", "job", "file"].iter().all(|c| !row.contains_key(*c)) {
        return Err(bad("transformation", "missing: a run needs a transformation, job or file"));
    }
    let mut record = RunRecord::new(source, String::new(), format_timestamp(started_at), wall_ms);
    record.transformation = text("transformation");
    record.job = text("job");
    record.variant = text("variant");
    record.host = text("host");
    record.message = text("message");
    record.user_ms = number("user_ms")?;
    record.sys_ms = number("sys_ms")?;
    record.max_rss_bytes = count("max_rss_bytes")?;
    record.read_bytes = count("read_bytes")?;
    record.write_bytes = count("write_bytes")?;
    record.rows_in = count("rows_in")?;
    record.rows_out = count("rows_out")?;
    record.dirty = match row.get("dirty").map(|v| v.to_lowercase()) {
        None => false,
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => true,
        Some(v) if matches!(v.as_str(), "false" | "0" | "no") => false,
        Some(_) => return Err(bad("dirty", "not true or false")),
    };
    if let Some(status) = row.get("status") {
        if !matches!(status.as_str(), "success" | "failed" | "killed") {
            return Err(bad("status", "not one of success, failed, killed"));
        }
        record.status.clone_from(status);
    }
    record.exit_code = row
        .get("exit_code")
        .map(|v| v.parse::<i32>().map_err(|_| bad("exit_code", "not a whole number")))
        .transpose()?;
    // Without an id of its own, a row is known by what it says: the same row imported again
    // is the same run.
    record.run_id = text("run_id").or_else(|| {
        let canonical: Vec<String> = row.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Some(sha1_smol::Sha1::from(canonical.join("\n")).digest().to_string())
    });
    Ok(ImportedRun {
        record,
        file: text("file"),
        writes: Vec::new(),
        commit: text("commit").map(CommitHint::Required),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_runs_with_stable_ids() {
        let text = "transformation,started_at,wall_ms,max_rss_bytes,rows_in,status\n\
                    etl/a.sql#1,2026-11-24 10:00:00,1500.5,1048576,10,success\n\
                    etl/a.sql#1,2026-11-25T10:00:00+01:00,1400,,,failed\n";
        let imported = read_csv("runs.csv", text).expect("valid");
        let [a, b] = imported.runs.as_slice() else { panic!("{:?}", imported.runs) };
        assert_eq!(a.record.started_at, "2026-11-24T10:00:00.000Z");
        assert_eq!(
            (a.record.wall_ms, a.record.max_rss_bytes, a.record.rows_in),
            (1500.5, Some(1_048_576), Some(10))
        );
        assert_eq!((b.record.status.as_str(), b.record.max_rss_bytes), ("failed", None));
        assert_eq!(b.record.started_at, "2026-11-25T09:00:00.000Z");
        let again = read_csv("copy.csv", text).expect("valid");
        assert_eq!(again.runs[0].record.run_id, a.record.run_id);
        assert_ne!(a.record.run_id, b.record.run_id);
    }

    #[test]
    fn bad_cells_and_columns_are_named_with_their_line() {
        let text = "transformation,started_at,wall_ms\nx,2026-11-24T10:00:00Z,fast\ny,,3\n";
        let problems = read_csv("runs.csv", text).expect_err("malformed");
        let named: Vec<_> = problems.iter().map(|p| (p.line, p.field.as_str())).collect();
        assert_eq!(named, [(Some(2), "wall_ms"), (Some(3), "started_at")]);
        let problems = read_csv("runs.csv", "transformation,wall_s\n").expect_err("unknown");
        assert_eq!(problems[0].field, "wall_s");
    }

    #[test]
    fn json_lines_take_numbers_and_strings() {
        let text = r#"{"job":"nightly","started_at":"2026-11-24T10:00:00Z","wall_ms":12,"dirty":true,"commit":"abc"}
{"job":"nightly","started_at":"2026-11-24T11:00:00Z","wall_ms":"13","run_id":"own"}"#;
        let imported = read_jsonl("runs.jsonl", text).expect("valid");
        assert_eq!(imported.runs.len(), 2);
        assert!(imported.runs[0].record.dirty);
        assert_eq!(imported.runs[0].commit, Some(CommitHint::Required("abc".into())));
        assert_eq!(imported.runs[1].record.run_id.as_deref(), Some("own"));
        let problems = read_jsonl(
            "runs.jsonl",
            r#"{"job":"j","started_at":"2026-11-24T10:00:00Z","wall_ms":[1]}"#,
        )
        .expect_err("malformed");
        assert_eq!((problems[0].line, problems[0].field.as_str()), (Some(1), "wall_ms"));
    }
}
