//! `git lineage view`: the page of the workload repository (`bench/workload/template`, as
//! `tests/report.rs` builds it), its embedded data checked against what `show`, `diff` and
//! `impact` say, and the page itself in a real browser: `tests/browser/view.test.mjs` drives
//! the system Chromium (skipped with a message when `tests/setup-browser` has not run), and
//! saves a screenshot to `target/test-artifacts/view.png`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::common::repo::TestRepo;
use super::common::{Browser, Output, browser_or_skip, repo_root, run_with_env, runtime_or_skip};
use super::report::workload_pull_request;

const ORDER_LINES: &str = "intermediate.int_order_lines";
const NO_RUNTIME: [(&str, &str); 1] = [("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")];

fn workload() -> (TestRepo, String) {
    let mut repo = TestRepo::new();
    repo.copy_dir(&repo_root().join("bench/workload/template"), "");
    let head = repo.commit(&[], "initial pipeline");
    (repo, head)
}

fn view(repo: &TestRepo, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec!["view"];
    all.extend_from_slice(args);
    run_with_env(repo.path(), &all, None, env)
}

/// The JSON the page carries.
fn embedded_model(html: &str) -> serde_json::Value {
    let start = html.find("id=\"lineage-data\">").expect("the data element") + 18;
    let end = start + html[start..].find("</script>").expect("the data element's end");
    serde_json::from_str(&html[start..end]).expect("the embedded data is JSON")
}

fn names_of(model: &serde_json::Value, kind: &str) -> Vec<String> {
    let nodes = model["nodes"].as_array().expect("nodes");
    let mut names: Vec<String> = nodes
        .iter()
        .filter(|n| n["kind"] == kind)
        .map(|n| n["name"].as_str().expect("a name").to_string())
        .collect();
    names.sort();
    names
}

/// What `git lineage impact` says is upstream or downstream of a dataset or a column.
fn impact(repo: &TestRepo, dataset: &str, upstream: bool) -> Vec<String> {
    let mut args = vec!["impact", dataset, "--format", "json"];
    if upstream {
        args.push("--upstream");
    }
    let out = repo.lineage(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let found = out.json()["found"].as_array().expect("found").clone();
    found.iter().map(|f| f["name"].as_str().expect("a name").to_string()).collect()
}

#[test]
fn view_writes_the_workload_page() {
    let (repo, _) = workload();
    let out = view(&repo, &[], &NO_RUNTIME);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("wrote lineage.html (28 datasets, 20 transformations, "),
        "{}",
        out.stdout
    );
    // No runtime: the page says why there is no prediction, and the command still succeeds.
    assert!(out.stderr.contains("no prediction: ONNX Runtime library not found"), "{}", out.stderr);
    let html = std::fs::read_to_string(repo.path().join("lineage.html")).unwrap();
    let model = embedded_model(&html);
    assert!(
        model["prediction"]["unavailable"].as_str().unwrap().contains("ONNX Runtime"),
        "{}",
        model["prediction"]
    );
    // The datasets are the lineage note's.
    assert_eq!(repo.lineage(&["snapshot"]).code, 0);
    let note = repo.lineage(&["show", "--format", "json"]).json();
    let datasets: Vec<String> = serde_json::from_value(note["datasets"].clone()).unwrap();
    assert_eq!(names_of(&model, "dataset"), datasets);
    // Each transformation is placed in its file, at its line.
    let nodes = model["nodes"].as_array().unwrap();
    let lines = nodes.iter().find(|n| n["id"] == "t:models/intermediate/int_order_lines.sql#1");
    let lines = lines.expect("the order lines' transformation");
    assert_eq!(lines["file"], "models/intermediate/int_order_lines.sql");
    assert_eq!(lines["line"], 1);
    // Standard output gets the same page.
    let stdout = view(&repo, &["--out", "-"], &NO_RUNTIME);
    assert_eq!(stdout.code, 0, "{}", stdout.stderr);
    assert_eq!(stdout.stdout, html);
    // Bad revisions are errors, said.
    let bad = view(&repo, &["nope"], &NO_RUNTIME);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("nope"), "{}", bad.stderr);
    let bad = view(&repo, &["--diff", "nope"], &NO_RUNTIME);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("nope"), "{}", bad.stderr);
}

#[test]
fn view_diff_marks_what_the_pull_request_changed() {
    let (repo, base, head) = workload_pull_request();
    let out = view(&repo, &["HEAD", "--diff", &base, "--out", "diff.html"], &NO_RUNTIME);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let model = embedded_model(&std::fs::read_to_string(repo.path().join("diff.html")).unwrap());
    assert_eq!(model["base"]["commit"], base.as_str());
    assert_eq!(model["commit"], head.as_str());
    // The transformations marked are those `diff` lists, each with its change.
    let diff = repo.lineage(&["diff", &base, &head, "--format", "json", "--no-predict"]).json();
    let expected: BTreeMap<String, String> = diff["transformations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (format!("t:{}", t["id"].as_str().unwrap()), t["change"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(expected.len(), 3, "{diff}");
    let marked: BTreeMap<String, String> = model["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "transformation" && n["status"].is_string())
        .map(|n| (n["id"].as_str().unwrap().to_string(), n["status"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(marked, expected);
    // What they write changed with them.
    let order_lines = model["nodes"].as_array().unwrap().iter().find(|n| n["name"] == ORDER_LINES);
    assert_eq!(order_lines.unwrap()["status"], "changed");
}

#[test]
fn view_predicts_each_transformation_with_onnx_runtime() {
    if !runtime_or_skip("view_predicts_each_transformation_with_onnx_runtime") {
        return;
    }
    let (repo, _) = workload();
    let out = view(&repo, &[], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let model = embedded_model(&std::fs::read_to_string(repo.path().join("lineage.html")).unwrap());
    assert!(model["prediction"]["model"].as_str().unwrap().starts_with("bundled"), "{model}");
    let transformations: Vec<&serde_json::Value> = model["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "transformation")
        .collect();
    assert_eq!(transformations.len(), 20);
    for t in transformations {
        let p = &t["prediction"];
        let (low, mid, high) = (
            p["duration_low_ms"].as_f64().unwrap(),
            p["duration_ms"].as_f64().unwrap(),
            p["duration_high_ms"].as_f64().unwrap(),
        );
        assert!(0.0 < low && low <= mid && mid <= high, "{t}");
    }
}

/// Runs the browser script with a configuration; panics with its output when a check fails.
fn in_browser(browser: &Browser, dir: &Path, config: &serde_json::Value) -> serde_json::Value {
    let file = dir.join("browser-test.json");
    std::fs::write(&file, config.to_string()).expect("the configuration is written");
    let out = Command::new(&browser.node)
        .arg(repo_root().join("tests/browser/view.test.mjs"))
        .arg(&file)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the browser test failed:\n{stdout}\n{stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn check(repo: &TestRepo, dataset: &str) -> serde_json::Value {
    serde_json::json!({
        "name": dataset,
        "upstream": impact(repo, dataset, true),
        "downstream": impact(repo, dataset, false),
    })
}

/// The same check, the match taken with the Enter key instead of a click.
fn enter(mut check: serde_json::Value) -> serde_json::Value {
    check["enter"] = serde_json::Value::Bool(true);
    check
}

#[test]
fn view_in_a_browser() {
    let Some(browser) = browser_or_skip("view_in_a_browser") else { return };
    let (repo, head) = workload();
    // Seven recorded runs of the order lines: the panel lists the last five.
    let runs: Vec<String> = (0..7)
        .map(|i| {
            format!(
                r#"{{"transformation":"models/intermediate/int_order_lines.sql#1","commit":"{head}","started_at":"2026-11-01T00:0{i}:00Z","wall_ms":{},"max_rss_bytes":104857600}}"#,
                1200 + 10 * i
            )
        })
        .collect();
    repo.write("runs.jsonl", &runs.join("\n"));
    assert_eq!(repo.lineage(&["import", "jsonl", "runs.jsonl"]).code, 0);
    std::fs::remove_file(repo.path().join("runs.jsonl")).unwrap();
    let out = view(&repo, &[], &NO_RUNTIME);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let artifacts = repo_root().join("target/test-artifacts");
    let screenshot = artifacts.join("view.png");
    let _ = std::fs::remove_file(&screenshot);
    let config = serde_json::json!({
        "page": repo.path().join("lineage.html"),
        "chromium": browser.chromium,
        "screenshot": screenshot,
        "datasets_drawn": 28,
        "datasets": [
            check(&repo, ORDER_LINES),
            check(&repo, "raw.orders"),
            enter(check(&repo, "marts.mart_customer_ltv")),
        ],
        "columns": [
            check(&repo, "intermediate.int_order_lines.net_amount"),
            check(&repo, "marts.mart_customer_ltv.lifetime_value"),
        ],
        "transformation": {
            "id": "models/intermediate/int_order_lines.sql#1",
            "location": "models/intermediate/int_order_lines.sql:1",
            "prediction": "none",
            "runs": 5,
        },
    });
    let result = in_browser(&browser, repo.path(), &config);
    assert_eq!(result["checks"], 7, "{result}");
    assert!(screenshot.is_file(), "no screenshot at {}", screenshot.display());

    // The pull request's page: what changed is drawn so.
    let (repo, base, _) = workload_pull_request();
    let out = view(&repo, &["--diff", &base, "--out", "diff.html"], &NO_RUNTIME);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let config = serde_json::json!({
        "page": repo.path().join("diff.html"),
        "chromium": browser.chromium,
        "overview_screenshot": artifacts.join("view-diff.png"),
        "datasets": [],
        "statuses": {
            "t:models/intermediate/int_order_lines.sql#1": "changed",
            "d:intermediate.int_order_lines": "changed",
        },
    });
    let result = in_browser(&browser, repo.path(), &config);
    assert_eq!(result["checks"], 3, "{result}");
}

/// `report::view::synthetic_files` committed.
fn synthetic_repo(datasets: usize) -> TestRepo {
    let mut repo = TestRepo::new();
    for (path, sql) in git_lineage::report::view::synthetic_files(datasets) {
        repo.write(&path, &sql);
    }
    repo.commit(&[], "2,000 datasets");
    repo
}

#[test]
fn view_of_two_thousand_datasets_in_a_browser() {
    let Some(browser) = browser_or_skip("view_of_two_thousand_datasets_in_a_browser") else {
        return;
    };
    let repo = synthetic_repo(2000);
    let artifacts = repo_root().join("target/test-artifacts");
    let out = view(&repo, &[], &NO_RUNTIME);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("(2040 datasets, 2000 transformations,"), "{}", out.stdout);
    // It opens with one box per schema (20 and the sources'); a dataset found by the search
    // opens its schema; expanded, every dataset is drawn.
    let config = serde_json::json!({
        "page": repo.path().join("lineage.html"),
        "chromium": browser.chromium,
        "overview_screenshot": artifacts.join("view-2000.png"),
        "screenshot": artifacts.join("view-2000-selected.png"),
        "groups_drawn": 21,
        "datasets": [check(&repo, "s5.t1005")],
        "expand_all": {
            "datasets_drawn": 2040,
            "screenshot": artifacts.join("view-2000-expanded.png"),
        },
    });
    let result = in_browser(&browser, repo.path(), &config);
    let bytes = std::fs::metadata(repo.path().join("lineage.html")).unwrap().len();
    // Measured, not asserted (shared machines): the page's own times, for people.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("2,000 datasets: {bytes} bytes of HTML, browser {result}\n").as_bytes(),
    );
    assert_eq!(result["checks"], 2, "{result}");
}
