//! `git lineage report`: the pull-request report on real repositories, in each format, and
//! the CI workflow examples that run it.
//!
//! The workload repository itself (`bench/out/workload/repo`) is built by running DuckDB with
//! a release build, which tests cannot do: the format snapshots are taken on its first commit
//! (`bench/workload/template`) and a pull request made of two of its changes
//! (`bench/workload/changes.py`: `drop_filter`, `add_window`, `order_by_no_limit`), without run history.

use super::common::repo::TestRepo;
use super::common::{Output, repo_root, run_in, run_with_env, runtime_or_skip};

const ORDER_LINES: &str = "models/intermediate/int_order_lines.sql";
const LTV: &str = "models/marts/mart_customer_ltv.sql";
const SUPPLIERS: &str = "models/marts/mart_supplier_performance.sql";

/// Replace the one occurrence of `old` in a file of the repository.
fn replace_once(repo: &TestRepo, path: &str, old: &str, new: &str) {
    let full = repo.path().join(path);
    let text = std::fs::read_to_string(&full).expect("the workload file is read");
    assert_eq!(text.matches(old).count(), 1, "{path}: `{old}` must occur once");
    std::fs::write(full, text.replacen(old, new, 1)).expect("the file is written");
}

/// The workload's initial pipeline, then a pull request with three of its changes: a filter
/// dropped from the order lines (every mart downstream), a window column in customer LTV (a
/// new output column) and an ORDER BY without LIMIT in a CTE of supplier performance (rule
/// R001). Returns (base, head).
pub(crate) fn workload_pull_request() -> (TestRepo, String, String) {
    let mut repo = TestRepo::new();
    repo.copy_dir(&repo_root().join("bench/workload/template"), "");
    let base = repo.commit(&[], "initial pipeline");
    // changes.py: drop_filter.
    replace_once(
        &repo,
        ORDER_LINES,
        "WHERE o.order_date >= DATE '1994-01-01'  -- history before 1994 is archived\n  AND \
         o.order_status <> 'P';",
        "WHERE o.order_status <> 'P';",
    );
    // changes.py: add_window.
    replace_once(
        &repo,
        LTV,
        "    max(co.order_date)       AS last_order_date\n",
        "    max(co.order_date)       AS last_order_date,\n    rank() OVER (PARTITION BY \
         c.nation_name ORDER BY sum(co.order_value) DESC) AS nation_rank\n",
    );
    // changes.py: order_by_no_limit.
    replace_once(
        &repo,
        SUPPLIERS,
        "CREATE OR REPLACE TABLE marts.mart_supplier_performance AS\n",
        "CREATE OR REPLACE TABLE marts.mart_supplier_performance AS\nWITH supplier_lines AS (\n    \
         SELECT part_key, supplier_key, quantity, net_amount, days_late, is_returned\n    \
         FROM intermediate.int_order_lines\n    ORDER BY supplier_key, ship_date\n)\n",
    );
    replace_once(
        &repo,
        SUPPLIERS,
        "FROM intermediate.int_order_lines AS ol\n",
        "FROM supplier_lines AS ol\n",
    );
    let head = repo.commit(&[], "full order history; ltv rank; supplier lines sorted");
    (repo, base, head)
}

/// Commit ids (full and as the report shortens them) replaced by `<base>` / `<head>`.
fn redact(text: &str, base: &str, head: &str) -> String {
    text.replace(base, "<base>")
        .replace(head, "<head>")
        .replace(&base[..10], "<base>")
        .replace(&head[..10], "<head>")
}

/// SARIF 2.1.0 as code scanning reads it: one run by git-lineage, every result with a rule of
/// the run and a location (uri and line) in a changed file.
fn check_sarif(doc: &serde_json::Value, changed: &[&str]) {
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().expect("SARIF has runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "git-lineage");
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .expect("the driver lists rules")
        .iter()
        .map(|r| r["id"].as_str().expect("a rule has an id"))
        .collect();
    assert!(rules.contains(&"LINEAGE-COST") && rules.contains(&"LINEAGE-ANOMALY"), "{rules:?}");
    for result in runs[0]["results"].as_array().expect("a run has results") {
        let rule = result["ruleId"].as_str().expect("a result has a ruleId");
        let index =
            usize::try_from(result["ruleIndex"].as_u64().expect("a result has a ruleIndex"))
                .expect("the index fits");
        assert_eq!(rules[index], rule, "{result}");
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().expect("a location has a uri");
        assert!(changed.contains(&uri), "{uri} is not a changed file: {result}");
        assert!(
            location["region"]["startLine"].as_u64().expect("a region has a startLine") >= 1,
            "{result}"
        );
    }
}

fn report(repo: &TestRepo, base: &str, head: &str, more: &[&str]) -> Output {
    let mut args = vec!["report", "--base", base, "--head", head];
    args.extend_from_slice(more);
    repo.lineage(&args)
}

#[test]
fn report_on_the_workload_in_each_format() {
    let (repo, base, head) = workload_pull_request();

    let markdown = report(&repo, &base, &head, &["--no-predict"]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    let text = &markdown.stdout;
    assert!(text.starts_with("<!-- git-lineage-report -->\n"), "{text}");
    assert!(text.contains("```mermaid\nflowchart LR\n"), "{text}");
    assert!(text.contains("class n0 changed"), "{text}");
    for section in ["Lineage", "Predicted cost", "Anomalies", "Suggestions"] {
        assert!(text.contains(&format!("<summary><b>{section}</b>")), "{section}: {text}");
    }
    assert_eq!(text.matches("<details").count(), text.matches("</details>").count());
    assert!(text.contains("not asked (--no-predict)"), "{text}");
    // The new column reaches what reads the mart; the rule finds the sorted CTE, with a patch.
    assert!(text.contains("decides marts.mart_customer_ltv.nation_rank"), "{text}");
    // Every mart reads the order lines whose filter was dropped.
    assert!(text.contains("· 5 datasets affected downstream ·"), "{text}");
    assert!(text.contains("R001"), "{text}");
    assert!(text.contains("```diff\n--- a/models/marts/mart_supplier_performance.sql"), "{text}");
    insta::assert_snapshot!("report_workload_markdown", redact(text, &base, &head));

    let json = report(&repo, &base, &head, &["--no-predict", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let doc = json.json();
    assert_eq!(doc["changed_files"], serde_json::json!([ORDER_LINES, LTV, SUPPLIERS]));
    assert!(doc["predicted_cost"].is_null());
    let suggestions = doc["suggestions"].as_array().unwrap();
    let r001 = suggestions.iter().find(|s| s["code"] == "R001").unwrap();
    assert_eq!(r001["path"], SUPPLIERS, "{r001}");
    assert!(r001["patch"].as_str().unwrap().contains("-    ORDER BY"), "{r001}");
    insta::assert_snapshot!("report_workload_json", redact(&json.stdout, &base, &head));

    let sarif = report(&repo, &base, &head, &["--no-predict", "--format", "sarif"]);
    assert_eq!(sarif.code, 0, "{}", sarif.stderr);
    let doc = sarif.json();
    check_sarif(&doc, &[ORDER_LINES, LTV, SUPPLIERS]);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "R001"), "{doc}");
    // The rules' help texts are long and tested elsewhere: the results are the shape here.
    insta::assert_json_snapshot!("report_workload_sarif_results", results);
}

const RAW: &str = "CREATE TABLE raw.a AS SELECT id, x, y FROM src.a";
const STG: &str = "CREATE TABLE stg.b AS SELECT id, x FROM raw.a";
const MART: &str = "CREATE TABLE mart.c AS SELECT id, sum(x) AS x FROM stg.b GROUP BY id";

/// A small pipeline, then a head whose stg.b reads one more column through a sorted CTE (which
/// the bundled model predicts about 10 % slower, and rule R001 flags).
fn small_pull_request() -> (TestRepo, String, String) {
    let mut repo = TestRepo::new();
    let base = repo.commit(&[("raw.sql", RAW), ("stg.sql", STG), ("mart.sql", MART)], "pipeline");
    let heavier = "CREATE TABLE stg.b AS WITH s AS (SELECT id, x, y FROM raw.a ORDER BY id) SELECT id, x - y AS x FROM s";
    let head = repo.commit(&[("stg.sql", heavier)], "heavier stg");
    (repo, base, head)
}

#[test]
fn report_fails_over_the_threshold_on_a_predicted_regression() {
    if !runtime_or_skip("report_fails_over_the_threshold_on_a_predicted_regression") {
        return;
    }
    let (repo, base, head) = small_pull_request();
    let json = report(&repo, &base, &head, &["--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let doc = json.json();
    let change = doc["predicted_cost"]["makespan_change"].as_f64().unwrap();
    assert!(change > 0.0, "{doc}");
    let stg = doc["predicted_cost"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "stg.sql#1")
        .unwrap();
    assert!(stg["head_memory_bytes"].as_f64().is_some(), "{stg}");

    let fail = report(&repo, &base, &head, &["--fail-over", "0%"]);
    assert_eq!(fail.code, 1, "{}", fail.stderr);
    assert!(fail.stderr.contains("over the 0.0 % allowed"), "{}", fail.stderr);
    // The document is printed all the same, saying so at the top.
    assert!(fail.stdout.starts_with("<!-- git-lineage-report -->"), "{}", fail.stdout);
    assert!(fail.stdout.contains("(over the 0.0 % allowed)"), "{}", fail.stdout);
    let sarif = report(&repo, &base, &head, &["--fail-over", "0%", "--format", "sarif"]);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let doc = sarif.json();
    check_sarif(&doc, &["stg.sql"]);
    let regression = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "LINEAGE-COST")
        .unwrap_or_else(|| panic!("no regression result: {doc}"));
    assert_eq!(regression["level"], "error");

    let pass = report(&repo, &base, &head, &["--fail-over", "10000%"]);
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    let bad = report(&repo, &base, &head, &["--fail-over", "ten"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn report_without_onnx_runtime_says_why_and_cannot_answer_fail_over() {
    let (repo, base, head) = small_pull_request();
    let env = [("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")];
    let args = ["report", "--base", base.as_str(), "--head", head.as_str()];
    let out = run_with_env(repo.path(), &args, None, &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("<b>Predicted cost</b>: not available"), "{}", out.stdout);
    assert!(out.stdout.contains("ONNX Runtime library not found"), "{}", out.stdout);
    // The rules still run; only their predicted gains are missing.
    assert!(out.stdout.contains("R001"), "{}", out.stdout);
    let mut check = args.to_vec();
    check.extend(["--fail-over", "10%"]);
    let out = run_with_env(repo.path(), &check, None, &env);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.starts_with("<!-- git-lineage-report -->"), "{}", out.stdout);
    assert!(out.stderr.contains("--fail-over needs it"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn report_shows_the_anomalies_of_the_touched_transformations_only() {
    let (repo, base, head) = small_pull_request();
    // Eight steady runs of stg and mart on the base, then one of each ten times slower.
    let mut lines = Vec::new();
    for i in 0..9u32 {
        for (id, ms) in [("stg.sql#1", 100.0), ("mart.sql#1", 50.0)] {
            let wobble = 1.0 + 0.02 * f64::from(i % 3);
            let wall = if i == 8 { ms * 10.0 } else { ms * wobble };
            lines.push(format!(
                r#"{{"transformation":"{id}","commit":"{base}","started_at":"2026-11-01T00:{i:02}:00Z","wall_ms":{wall}}}"#
            ));
        }
    }
    repo.write("runs.jsonl", &lines.join("\n"));
    let out = repo.lineage(&["import", "jsonl", "runs.jsonl"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::remove_file(repo.path().join("runs.jsonl")).unwrap();
    // Both are anomalies; only stg's file changed.
    let all = repo.lineage(&["anomalies", "--format", "json"]);
    assert_eq!(all.json()["anomalies"].as_array().unwrap().len(), 2, "{}", all.stdout);
    // Runs before --since are not judged (by default the last 30 days are).
    let old =
        report(&repo, &base, &head, &["--no-predict", "--format", "json", "--since", "2026-11-02"]);
    assert_eq!(old.json()["anomalies"], serde_json::json!([]), "{}", old.stdout);
    let out = report(&repo, &base, &head, &["--no-predict", "--format", "json", "--since", "all"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let anomalies = doc["anomalies"].as_array().unwrap();
    assert_eq!(anomalies.len(), 1, "{doc}");
    assert_eq!(anomalies[0]["transformation"], "stg.sql#1");
    assert_eq!(doc["runs_recorded"], 18);
    let markdown = report(&repo, &base, &head, &["--no-predict", "--since", "2026-01-01"]);
    assert!(markdown.stdout.contains("<b>Anomalies</b> in runs of the touched transformations: 1"));
    assert!(
        markdown.stdout.contains("| `stg.sql#1` | 2026-11-01T00:08:00.000Z"),
        "{}",
        markdown.stdout
    );
    let sarif =
        report(&repo, &base, &head, &["--no-predict", "--format", "sarif", "--since", "all"]);
    let doc = sarif.json();
    check_sarif(&doc, &["stg.sql"]);
    assert!(
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "LINEAGE-ANOMALY"
                && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 1)
    );
}

/// The `run:` scripts of a workflow's steps.
fn run_scripts(workflow: &yaml_rust2::Yaml) -> Vec<String> {
    let mut scripts = Vec::new();
    for (_, job) in workflow["jobs"].as_hash().expect("a workflow has jobs") {
        for step in job["steps"].as_vec().expect("a job has steps") {
            if let Some(run) = step["run"].as_str() {
                scripts.push(run.to_string());
            }
        }
    }
    scripts
}

/// Each `git lineage SUBCOMMAND …` of the scripts (continuation lines joined), as
/// (subcommand, its `--flags`).
fn lineage_calls(scripts: &[String]) -> Vec<(String, Vec<String>)> {
    let mut calls = Vec::new();
    for script in scripts {
        let joined = script.replace("\\\n", " ");
        for line in joined.lines() {
            let Some((_, rest)) = line.split_once("git lineage ") else { continue };
            let mut words = rest.split_whitespace();
            let mut sub =
                words.next().expect("`git lineage` is followed by a subcommand").to_string();
            // Commands with subcommands of their own: `export openlineage`, `ab run`, ….
            if ["export", "ab", "import"].contains(&sub.as_str())
                && let Some(inner) = words.next()
            {
                sub = format!("{sub} {inner}");
            }
            let flags = words
                .filter(|w| w.starts_with("--"))
                .map(|w| w.split('=').next().expect("split gives one piece at least").to_string())
                .collect();
            calls.push((sub, flags));
        }
    }
    calls
}

#[test]
fn ci_examples_parse_and_call_flags_that_exist() {
    let dir = repo_root().join("examples/ci/github-actions");
    let mut seen = Vec::new();
    for name in ["lineage-report.yml", "lineage-fix-branch.yml", "lineage-export.yml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let docs = yaml_rust2::YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("{name} is not YAML: {e}"));
        let workflow = &docs[0];
        let scripts = run_scripts(workflow);
        let calls = lineage_calls(&scripts);
        assert!(!calls.is_empty(), "{name} calls no git lineage command");
        for (sub, flags) in calls {
            let mut args: Vec<&str> = sub.split(' ').collect();
            args.push("--help");
            let help = run_in(&repo_root(), &args, None);
            assert_eq!(help.code, 0, "{name}: `git lineage {sub}` does not exist: {}", help.stderr);
            for flag in flags {
                assert!(
                    help.stdout.contains(&format!("{flag} "))
                        || help.stdout.contains(&format!("{flag}\n")),
                    "{name}: `git lineage {sub}` has no {flag}:\n{}",
                    help.stdout
                );
            }
            seen.push(sub);
        }
        if name == "lineage-report.yml" {
            // `on:` parses as a key; the checkout has the whole history; SARIF is uploaded;
            // the one comment is found by the report's marker.
            assert!(!workflow["on"]["pull_request"].is_badvalue(), "{name}: not on pull_request");
            assert!(text.contains("fetch-depth: 0") && text.contains("upload-sarif"), "{name}");
            assert!(text.contains("<!-- git-lineage-report -->"), "{name}");
        }
    }
    seen.sort();
    assert_eq!(seen, ["export cypher", "export openlineage", "fix", "report", "report"]);
}
