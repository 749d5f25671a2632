//! `train`, `predict` and the predicted cost in `diff`, on real repositories with recorded
//! runs, through ONNX Runtime (skipped with a message when `tests/setup-ort` has not run).

use super::common::repo::TestRepo;
use super::common::{run_with_env, runtime_or_skip};

const RAW: &str = "CREATE TABLE raw.a AS SELECT id, x FROM src.a";
const STG: &str = "CREATE TABLE stg.b AS SELECT id, sum(x) AS x FROM raw.a GROUP BY id";
const MART: &str =
    "CREATE TABLE mart.c AS SELECT b.id, b.x FROM stg.b b JOIN raw.a a ON a.id = b.id";

/// A three-step pipeline with 20 recorded executions on each of two commits (the second
/// makes the aggregate DISTINCT), durations growing with the rows.
fn repo_with_history() -> TestRepo {
    let mut repo = TestRepo::new();
    let first = repo.commit(&[("raw.sql", RAW), ("stg.sql", STG), ("mart.sql", MART)], "pipeline");
    let distinct = STG.replace("SELECT id", "SELECT DISTINCT id");
    let second = repo.commit(&[("stg.sql", &distinct)], "distinct");
    let mut lines = Vec::new();
    let mut minute = 0;
    for (commit, slower) in [(&first, 1.0), (&second, 1.3)] {
        for execution in 0..20u32 {
            let rows = 1000.0 * f64::from(1 + execution % 7);
            // A deterministic wobble of a few percent, as real runs have.
            let wobble = 1.0 + 0.03 * f64::from((execution * 7) % 5) / 4.0;
            for (id, ms_per_krow, rows_out) in [
                ("raw.sql#1", 2.0, rows),
                ("stg.sql#1", 5.0 * slower, rows / 10.0),
                ("mart.sql#1", 8.0, rows / 10.0),
            ] {
                minute += 1;
                lines.push(format!(
                    r#"{{"transformation":"{id}","commit":"{commit}","started_at":"2026-11-01T{:02}:{:02}:00Z","wall_ms":{},"rows_in":{rows},"rows_out":{rows_out},"max_rss_bytes":{}}}"#,
                    minute / 60,
                    minute % 60,
                    (20.0 + ms_per_krow * rows / 1000.0) * wobble,
                    50_000_000.0 + rows * 1000.0
                ));
            }
        }
    }
    repo.write("runs.jsonl", &lines.join("\n"));
    let out = repo.lineage(&["import", "jsonl", "runs.jsonl"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::remove_file(repo.path().join("runs.jsonl")).expect("the import file is ours");
    repo
}

#[test]
fn train_stores_a_model_and_predict_uses_it() {
    if !runtime_or_skip("train_stores_a_model_and_predict_uses_it") {
        return;
    }
    let repo = repo_with_history();
    let out = repo.lineage(&["train"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("trained on 120 runs of 2 commits"), "{}", out.stdout);
    assert!(out.stdout.contains("stored in refs/lineage/model"), "{}", out.stdout);
    // In the repository's git data, not in the work tree.
    let files = repo.git(&["ls-tree", "--name-only", "refs/lineage/model"]);
    let files: Vec<&str> = files.lines().collect();
    assert_eq!(
        files,
        ["duration-new.onnx", "duration.onnx", "memory-new.onnx", "memory.onnx", "model.json"]
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    let out = repo.lineage(&["predict", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert!(doc["model"].as_str().unwrap().starts_with("trained on this repository"), "{doc}");
    let pipeline = &doc["pipeline"];
    let steps = pipeline["transformations"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    let mut sum = 0.0;
    for t in steps {
        let ms = t["duration_ms"].as_f64().unwrap();
        let (low, high) =
            (t["duration_low_ms"].as_f64().unwrap(), t["duration_high_ms"].as_f64().unwrap());
        assert!(low <= ms && ms <= high, "{t}");
        assert_eq!(t["basis"]["runs"], 40, "{t}");
        let same = if t["id"] == "stg.sql#1" { 20 } else { 40 };
        assert_eq!(t["basis"]["same_code_runs"], same, "{t}");
        sum += ms;
    }
    // The last runs read 7,000 rows (raw) and wrote 700 (stg): the model is near them.
    let stg = steps.iter().find(|t| t["id"] == "stg.sql#1").unwrap();
    let stg_ms = stg["duration_ms"].as_f64().unwrap();
    assert!((20.0..120.0).contains(&stg_ms), "{stg}");
    // One at a time, the makespan is the sum; with no limit it is the critical path.
    assert!((pipeline["makespan_ms"].as_f64().unwrap() - sum).abs() < 1e-6 * sum, "{pipeline}");
    assert_eq!(
        pipeline["critical_path"],
        serde_json::json!(["raw.sql#1", "stg.sql#1", "mart.sql#1"])
    );

    let text = repo.lineage(&["predict", "--parallel", "0"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("40 runs (20 of this code)"), "{}", text.stdout);
    assert!(text.stdout.contains("critical path"), "{}", text.stdout);
    // Training is seeded and the runs are fixed: the report is the same every time.
    let text = repo.lineage(&["predict"]);
    insta::assert_snapshot!("predict_text", text.stdout);
}

#[test]
fn diff_predicts_the_change_and_fails_over_the_threshold() {
    if !runtime_or_skip("diff_predicts_the_change_and_fails_over_the_threshold") {
        return;
    }
    let repo = repo_with_history();
    assert_eq!(repo.lineage(&["train"]).code, 0);
    // A new model in the work tree: the pipeline can only take longer.
    repo.write("extra.sql", "CREATE TABLE mart.d AS SELECT a.id, count(*) AS n FROM raw.a a CROSS JOIN stg.b b GROUP BY a.id");
    let out = repo.lineage(&["diff", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let cost = &out.json()["predicted_cost"];
    assert!(cost["makespan_change"].as_f64().unwrap() > 0.0, "{cost}");
    let new =
        cost["changes"].as_array().unwrap().iter().find(|c| c["id"] == "extra.sql#1").unwrap();
    assert!(new["base_ms"].is_null() && new["head_ms"].as_f64().unwrap() > 0.0, "{new}");

    let markdown = repo.lineage(&["diff", "--format", "markdown"]);
    insta::assert_snapshot!("diff_predicted_markdown", markdown.stdout);

    let fail = repo.lineage(&["diff", "--fail-over", "0%"]);
    assert_eq!(fail.code, 1, "{}", fail.stderr);
    assert!(fail.stderr.contains("over the 0.0 % allowed"), "{}", fail.stderr);
    assert!(fail.stdout.contains("predicted pipeline time"), "{}", fail.stdout);
    let pass = repo.lineage(&["diff", "--fail-over", "10000%"]);
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    let bad = repo.lineage(&["diff", "--fail-over", "ten"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn without_onnx_runtime_predict_says_how_to_install_it() {
    let repo = repo_with_history();
    let env = [("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")];
    let out = run_with_env(repo.path(), &["predict"], None, &env);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("ONNX Runtime library not found"), "{}", out.stderr);
    assert!(out.stderr.contains("tests/setup-ort"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    // The lineage diff still stands; asking to fail on the prediction cannot be answered.
    let diff = run_with_env(repo.path(), &["diff", "HEAD~1", "HEAD"], None, &env);
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    assert!(diff.stderr.contains("no predicted cost"), "{}", diff.stderr);
    let check =
        run_with_env(repo.path(), &["diff", "HEAD~1", "HEAD", "--fail-over", "10%"], None, &env);
    assert_eq!(check.code, 2, "{}", check.stderr);
}

#[test]
fn train_refuses_a_history_too_short() {
    let mut repo = TestRepo::new();
    repo.commit(&[("raw.sql", RAW)], "one");
    let out = repo.lineage(&["train"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("training needs at least 30"), "{}", out.stderr);
}

#[test]
fn suggest_predicts_each_fix_and_leaves_out_those_that_do_not_help() {
    if !runtime_or_skip("suggest_predicts_each_fix_and_leaves_out_those_that_do_not_help") {
        return;
    }
    let repo = repo_with_history();
    assert_eq!(repo.lineage(&["train"]).code, 0);
    // HEAD's stg.sql is `SELECT DISTINCT id, sum(x) … GROUP BY id` (R003), and an ORDER BY
    // in a CTE of a new model (R001).
    repo.write(
        "top.sql",
        "CREATE TABLE mart.top AS WITH s AS (SELECT id, x FROM stg.b ORDER BY x) SELECT id FROM s",
    );
    let all = repo.lineage(&["suggest", "--all", "--format", "json"]);
    assert_eq!(all.code, 1, "{}", all.stderr);
    assert!(
        all.stderr.contains("predicted gains from the cost model (trained on this repository"),
        "{}",
        all.stderr
    );
    let doc = all.json();
    let findings = doc["suggestions"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{doc}");
    // The three transformations with runs get resource advice; the pipeline's stages.
    let resources = doc["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 3, "{doc}");
    assert!(resources.iter().all(|r| r["memory_request_bytes"].as_f64().unwrap() > 50e6));
    // raw -> stg -> (mart, top): top and mart are independent.
    assert_eq!(doc["parallelism"]["stages"].as_array().unwrap().len(), 3, "{doc}");
    assert_eq!(doc["parallelism"]["recommended"], 2, "{doc}");
    let gains: Vec<f64> = findings
        .iter()
        .map(|f| {
            let (before, after) = (
                f["predicted"]["before_ms"].as_f64().unwrap(),
                f["predicted"]["after_ms"].as_f64().unwrap(),
            );
            assert!(before > 0.0 && after > 0.0, "{f}");
            before - after
        })
        .collect();
    assert!(gains[0] >= gains[1], "most predicted gain first: {gains:?}");
    // Without --all, only those predicted to help; the others are counted.
    let helpful = gains.iter().filter(|&&g| g > 0.0).count();
    let shown = repo.lineage(&["suggest", "--format", "json"]);
    assert_eq!(shown.json()["suggestions"].as_array().unwrap().len(), helpful);
    if helpful < 2 {
        assert!(shown.stderr.contains("not predicted to help left out"), "{}", shown.stderr);
    }
    let none = repo.lineage(&["suggest", "--no-predict", "--format", "json"]);
    assert!(none.json()["suggestions"][0]["predicted"].is_null());
    assert_eq!(none.json()["suggestions"].as_array().unwrap().len(), 2);
}
