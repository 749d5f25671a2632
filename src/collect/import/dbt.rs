//! dbt's artifacts: `run_results.json` (what ran, how long, its status) and `manifest.json`
//! (which file each node comes from). One run per model, snapshot and seed; tests and hooks
//! are not transformations, and skipped nodes did not run.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::{Imported, ImportedRun, Malformed, from_json, millis_between};
use crate::collect::record::{RunRecord, format_timestamp, parse_time};

#[derive(Deserialize)]
struct RunResults {
    metadata: RunMetadata,
    results: Vec<NodeResult>,
}

#[derive(Deserialize)]
struct RunMetadata {
    invocation_id: String,
    generated_at: String,
}

#[derive(Deserialize)]
struct NodeResult {
    unique_id: String,
    status: String,
    execution_time: f64,
    #[serde(default)]
    timing: Vec<Timing>,
    #[serde(default)]
    adapter_response: Option<AdapterResponse>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    relation_name: Option<String>,
}

#[derive(Deserialize)]
struct Timing {
    name: String,
    started_at: Option<String>,
    completed_at: Option<String>,
}

#[derive(Deserialize)]
struct AdapterResponse {
    #[serde(default)]
    rows_affected: Option<i64>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    metadata: ManifestMetadata,
    #[serde(default)]
    nodes: HashMap<String, ManifestNode>,
}

#[derive(Deserialize, Default)]
struct ManifestMetadata {
    #[serde(default)]
    project_name: Option<String>,
}

#[derive(Deserialize)]
struct ManifestNode {
    #[serde(default)]
    original_file_path: Option<String>,
    #[serde(default)]
    package_name: Option<String>,
    #[serde(default)]
    relation_name: Option<String>,
}

/// The runs of one dbt invocation. `manifest` (name, text) maps nodes to their files; without
/// it runs are mapped by the relation they wrote only. File paths are relative to the dbt
/// project; nodes of installed packages get none.
pub fn read(
    run_results: (&str, &str),
    manifest: Option<(&str, &str)>,
) -> Result<Imported, Vec<Malformed>> {
    let (name, text) = run_results;
    let results: RunResults = from_json(name, None, text).map_err(|e| vec![e])?;
    let manifest: Option<Manifest> = match manifest {
        Some((manifest_name, text)) => {
            Some(from_json(manifest_name, None, text).map_err(|e| vec![e])?)
        }
        None => None,
    };
    let generated_at = parse_time(&results.metadata.generated_at).ok_or_else(|| {
        vec![Malformed::new(name, None, "metadata.generated_at", "not an RFC 3339 time")]
    })?;
    let mut imported = Imported::default();
    let mut problems = Vec::new();
    for (i, result) in results.results.iter().enumerate() {
        let kind = result.unique_id.split('.').next().unwrap_or_default();
        if !matches!(kind, "model" | "snapshot" | "seed") {
            imported.leave_out(&format!("{kind} results (not transformations)"));
            continue;
        }
        let Some(status) = status(&result.status) else {
            imported.leave_out(&format!("nodes with status {} (did not run)", result.status));
            continue;
        };
        match run(name, i, result, &results.metadata, generated_at, manifest.as_ref(), status) {
            Ok(run) => imported.runs.push(run),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() { Ok(imported) } else { Err(problems) }
}

/// dbt's node status as a record's, or `None` for nodes that did not run.
fn status(dbt: &str) -> Option<&'static str> {
    match dbt {
        "success" | "pass" | "warn" => Some("success"),
        "error" | "fail" | "runtime error" | "partial success" => Some("failed"),
        _ => None, // skipped, no-op
    }
}

fn run(
    file: &str,
    index: usize,
    result: &NodeResult,
    metadata: &RunMetadata,
    generated_at: jiff::Timestamp,
    manifest: Option<&Manifest>,
    status: &str,
) -> Result<ImportedRun, Malformed> {
    let field = |name: &str| format!("results[{index}].{name}");
    if !result.execution_time.is_finite() || result.execution_time < 0.0 {
        return Err(Malformed::new(
            file,
            None,
            field("execution_time"),
            "not a duration in seconds",
        ));
    }
    let mut phases = BTreeMap::new();
    let mut started = None;
    for (j, timing) in result.timing.iter().enumerate() {
        let time = |value: &Option<String>, name: &str| match value {
            None => Ok(None),
            Some(text) => parse_time(text).map(Some).ok_or_else(|| {
                Malformed::new(
                    file,
                    None,
                    field(&format!("timing[{j}].{name}")),
                    "not an RFC 3339 time",
                )
            }),
        };
        let (start, end) =
            (time(&timing.started_at, "started_at")?, time(&timing.completed_at, "completed_at")?);
        if let Some(start) = start {
            started = Some(started.map_or(start, |s: jiff::Timestamp| s.min(start)));
        }
        if let (Some(start), Some(end)) = (start, end) {
            phases.insert(timing.name.clone(), millis_between(start, end));
        }
    }
    let wall_ms = (result.execution_time * 1_000_000.0).round() / 1000.0;
    let started_at = format_timestamp(started.unwrap_or(generated_at));
    let mut record = RunRecord::new("dbt", String::new(), started_at, wall_ms);
    record.status = status.to_string();
    record.run_id = Some(format!("{}/{}", metadata.invocation_id, result.unique_id));
    record.job = Some(result.unique_id.clone());
    record.phases_ms = (!phases.is_empty()).then_some(phases);
    record.rows_out = result
        .adapter_response
        .as_ref()
        .and_then(|a| a.rows_affected)
        .and_then(|rows| u64::try_from(rows).ok());
    if status != "success" {
        record.message = result.message.as_deref().map(|m| m.chars().take(500).collect());
    }
    let node = manifest.and_then(|m| m.nodes.get(&result.unique_id));
    let project = manifest.and_then(|m| m.metadata.project_name.as_deref());
    let own =
        node.is_some_and(|n| n.package_name.is_none() || n.package_name.as_deref() == project);
    let file = node.filter(|_| own).and_then(|n| n.original_file_path.clone());
    let writes =
        result.relation_name.clone().or_else(|| node.and_then(|n| n.relation_name.clone()));
    Ok(ImportedRun { record, file, writes: writes.into_iter().collect(), commit: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN_RESULTS: &str = r#"{
      "metadata": {"invocation_id": "inv-1", "generated_at": "2026-11-24T15:18:28.160022Z"},
      "results": [
        {"unique_id": "model.shop.stg_orders", "status": "success", "execution_time": 0.1287,
         "timing": [
           {"name": "compile", "started_at": "2026-11-24T15:18:27.872429Z", "completed_at": "2026-11-24T15:18:27.883751Z"},
           {"name": "execute", "started_at": "2026-11-24T15:18:27.884360Z", "completed_at": "2026-11-24T15:18:27.993037Z"}],
         "adapter_response": {"_message": "INSERT 0 42", "rows_affected": 42},
         "message": "OK", "relation_name": "\"shop\".\"main\".\"stg_orders\""},
        {"unique_id": "model.shop.broken", "status": "error", "execution_time": 0.01, "timing": [],
         "message": "Binder Error: column x not found"},
        {"unique_id": "model.shop.after", "status": "skipped", "execution_time": 0, "timing": []},
        {"unique_id": "test.shop.not_null", "status": "pass", "execution_time": 0.02, "timing": []}
      ]
    }"#;

    const MANIFEST: &str = r#"{"metadata": {"project_name": "shop"}, "nodes": {
      "model.shop.stg_orders": {"original_file_path": "models/staging/stg_orders.sql", "package_name": "shop"},
      "model.shop.broken": {"original_file_path": "models/broken.sql", "package_name": "shop"}}}"#;

    #[test]
    fn one_run_per_model_with_phases_rows_and_status() {
        let imported = read(("run_results.json", RUN_RESULTS), Some(("manifest.json", MANIFEST)))
            .expect("valid");
        let [ok, failed] = imported.runs.as_slice() else { panic!("{:?}", imported.runs) };
        assert_eq!(ok.record.started_at, "2026-11-24T15:18:27.872Z");
        assert!((ok.record.wall_ms - 128.7).abs() < 1e-9);
        assert_eq!(ok.record.rows_out, Some(42));
        assert_eq!(ok.record.run_id.as_deref(), Some("inv-1/model.shop.stg_orders"));
        let phases = ok.record.phases_ms.as_ref().expect("phases");
        assert!((phases["execute"] - 108.677).abs() < 1e-6, "{phases:?}");
        assert_eq!(ok.file.as_deref(), Some("models/staging/stg_orders.sql"));
        assert_eq!(ok.writes, ["\"shop\".\"main\".\"stg_orders\""]);
        assert_eq!(failed.record.status, "failed");
        assert_eq!(failed.record.started_at, "2026-11-24T15:18:28.160Z");
        assert!(failed.record.message.as_deref().is_some_and(|m| m.contains("Binder Error")));
        assert_eq!(imported.left_out.len(), 2, "{:?}", imported.left_out);
    }

    #[test]
    fn a_malformed_file_names_the_field() {
        let bad =
            RUN_RESULTS.replacen("\"execution_time\": 0.1287", "\"execution_time\": \"fast\"", 1);
        let problems = read(("target/run_results.json", &bad), None).expect_err("malformed");
        let text = problems[0].to_string();
        assert!(text.starts_with("target/run_results.json:"), "{text}");
        assert!(text.contains("results[0].execution_time"), "{text}");

        let bad = RUN_RESULTS.replacen("2026-11-24T15:18:27.884360Z", "noon", 1);
        let problems = read(("run_results.json", &bad), None).expect_err("malformed");
        assert_eq!(problems[0].field, "results[0].timing[1].started_at");

        let problems = read(("run_results.json", "{\"results\": []"), None).expect_err("cut short");
        assert!(problems[0].line.is_some(), "{:?}", problems[0]);
    }
}
