//! `git lineage import` and `anomalies` on real repositories. The artifacts under
//! `fixtures/runs/` come from a real `dbt-ol run` of `fixtures/repos/shop` (see the README
//! there); the tests marked so run dbt and DuckDB for real when `tests/setup-python` made
//! their virtual environment, and say that they skip when it did not.

use super::common::repo::TestRepo;
use super::common::{python_venv, repo_root, run_with_env};

/// A repository holding the shop example as committed, with `fixtures/runs/` copied beside it
/// (untracked) so that imports can read them.
fn shop() -> (TestRepo, String) {
    let mut repo = TestRepo::new();
    repo.copy_dir(&repo_root().join("fixtures/repos/shop"), "");
    let head = repo.commit(&[], "shop");
    repo.copy_dir(&repo_root().join("fixtures/runs"), "artifacts");
    (repo, head)
}

fn runs(repo: &TestRepo) -> Vec<serde_json::Value> {
    let out = repo.lineage(&["history", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()["runs"].as_array().cloned().unwrap_or_default()
}

fn transformations(runs: &[serde_json::Value]) -> Vec<String> {
    let mut found: Vec<String> =
        runs.iter().filter_map(|r| r["transformation"].as_str().map(str::to_string)).collect();
    found.sort();
    found
}

const SHOP_MODELS: [&str; 3] = [
    "models/marts/customer_orders.sql#5",
    "models/staging/stg_customers.sql#3",
    "models/staging/stg_orders.sql#2",
];

#[test]
fn dbt_runs_map_to_their_models_and_a_second_import_records_nothing() {
    let (repo, head) = shop();
    let out = repo.lineage(&["import", "dbt", "artifacts/dbt-shop", "--project-dir", "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("recorded 3 of 3 runs"), "{}", out.stderr);
    let recorded = runs(&repo);
    assert_eq!(transformations(&recorded), SHOP_MODELS);
    for run in &recorded {
        assert_eq!(
            (run["source"].as_str(), run["commit"].as_str()),
            (Some("dbt"), Some(head.as_str()))
        );
        assert!(run["wall_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{run}");
        assert!(run["phases_ms"]["execute"].as_f64().is_some(), "{run}");
        assert!(run["job"].as_str().is_some_and(|j| j.starts_with("model.shop.")), "{run}");
    }
    let again = repo.lineage(&["import", "dbt", "artifacts/dbt-shop", "--project-dir", "."]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("recorded 0 of 3 runs"), "{}", again.stderr);
    assert_eq!(runs(&repo).len(), 3);
}

#[test]
fn a_malformed_run_results_file_is_named_and_nothing_is_recorded() {
    let (repo, _) = shop();
    let path = repo.path().join("artifacts/dbt-shop/run_results.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["results"][1]["execution_time"] = "slow".into();
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let out = repo.lineage(&["import", "dbt", "artifacts/dbt-shop"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("artifacts/dbt-shop/run_results.json"), "{}", out.stderr);
    assert!(out.stderr.contains("results[1].execution_time"), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was recorded"), "{}", out.stderr);
    assert!(runs(&repo).is_empty());
}

#[test]
fn openlineage_events_pair_into_runs_once() {
    let (repo, _) = shop();
    let out = repo.lineage(&["import", "openlineage", "artifacts/openlineage-shop.jsonl"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let recorded = runs(&repo);
    // Three models and the dbt invocation that ran them (a job, no transformation).
    assert_eq!(recorded.len(), 4, "{recorded:?}");
    assert_eq!(transformations(&recorded), SHOP_MODELS);
    assert!(recorded.iter().all(|r| r["source"] == "openlineage" && r["status"] == "success"));
    let again = repo.lineage(&["import", "openlineage", "artifacts/openlineage-shop.jsonl"]);
    assert!(again.stderr.contains("recorded 0 of 4 runs"), "{}", again.stderr);

    // One bad line anywhere: the whole file is refused, its line and field named.
    let path = repo.path().join("artifacts/openlineage-shop.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let bad: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 5 {
                l.replacen("\"eventTime\": \"", "\"eventTime\": \"at ", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(repo.path().join("bad.jsonl"), bad.join("\n")).unwrap();
    let out = repo.lineage(&["import", "openlineage", "bad.jsonl"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("bad.jsonl:6: eventTime"), "{}", out.stderr);
    assert_eq!(runs(&repo).len(), 4);
}

#[test]
fn csv_rows_land_on_their_commit_or_nothing_does() {
    let (mut repo, first) = shop();
    let second =
        repo.commit(&[("etl/extra.sql", "INSERT INTO mart.x SELECT id FROM raw.orders")], "x");
    let good = format!(
        "transformation,commit,started_at,wall_ms,max_rss_bytes\n\
         etl/extra.sql#1,{second},2026-11-20T10:00:00Z,812.5,104857600\n\
         ,{first},2026-11-19T10:00:00Z,700,\n"
    );
    repo.write("runs.csv", &good);
    let out = repo.lineage(&["import", "csv", "runs.csv"]);
    assert_eq!(out.code, 1, "a row without transformation, job or file: {}", out.stderr);
    assert!(out.stderr.contains("runs.csv:3: transformation: missing"), "{}", out.stderr);
    assert!(runs(&repo).is_empty());

    let fixed = good.replace(&format!(",{first},"), &format!("etl/extra.sql#1,{first},"));
    repo.write("runs.csv", &fixed.replace(&second, "feedface"));
    let out = repo.lineage(&["import", "csv", "runs.csv"]);
    assert!(out.code == 1 && out.stderr.contains("`feedface` is not a commit"), "{}", out.stderr);
    assert!(runs(&repo).is_empty());

    repo.write("runs.csv", &fixed);
    let out = repo.lineage(&["import", "csv", "runs.csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let recorded = runs(&repo);
    let commits: Vec<&str> = recorded.iter().filter_map(|r| r["commit"].as_str()).collect();
    assert_eq!(commits, [first.as_str(), second.as_str()]);
    assert_eq!(recorded[1]["max_rss_bytes"], 104_857_600);
    assert!(repo.lineage(&["import", "csv", "runs.csv"]).stderr.contains("recorded 0 of 2"));
}

/// Real runs: `dbt run` of the shop example under `git lineage run`, imported, with the
/// model runs mapped; and DuckDB queries of two sizes, where the big one is an anomaly.
#[test]
fn real_dbt_runs_are_measured_and_imported() {
    let Some(venv) = python_venv("real_dbt_runs_are_measured_and_imported") else { return };
    let (repo, head) = shop();
    let path =
        format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let events = repo.path().join("target/events.jsonl");
    let config = format!(
        "transport:\n  type: file\n  log_file_path: {}\n  append: true\n",
        events.display()
    );
    repo.write("target/openlineage.yml", &config);
    let config = repo.path().join("target/openlineage.yml");
    let env = [
        ("PATH", path.as_str()),
        ("DBT_SEND_ANONYMOUS_USAGE_STATS", "false"),
        ("OPENLINEAGE_CONFIG", config.to_str().unwrap()),
        ("OPENLINEAGE_NAMESPACE", "shop"),
    ];
    let lineage = |args: &[&str]| run_with_env(repo.path(), args, None, &env);
    let out =
        lineage(&["run", "--transformation", "dbt", "--", "dbt-ol", "run", "--profiles-dir", "."]);
    assert_eq!(out.code, 0, "dbt run: {}\n{}", out.stdout, out.stderr);
    let out = lineage(&["import", "dbt"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = lineage(&["import", "openlineage", "target/events.jsonl"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let recorded = runs(&repo);
    let by_source =
        |s: &str| recorded.iter().filter(|r| r["source"] == s).cloned().collect::<Vec<_>>();
    let measured = by_source("run");
    assert_eq!(measured.len(), 1);
    assert!(
        measured[0]["max_rss_bytes"].as_u64().is_some_and(|b| b > 10_000_000),
        "{}",
        measured[0]
    );
    assert_eq!(transformations(&by_source("dbt")), SHOP_MODELS);
    assert_eq!(transformations(&by_source("openlineage")), SHOP_MODELS);
    assert!(recorded.iter().all(|r| r["commit"] == head.as_str()));
}

#[test]
fn a_big_duckdb_query_among_small_ones_is_an_anomaly() {
    let Some(venv) = python_venv("a_big_duckdb_query_among_small_ones_is_an_anomaly") else {
        return;
    };
    let (repo, _) = shop();
    let python = venv.join("bin/python");
    let query = "import duckdb, sys; \
                 duckdb.sql(f'select count(distinct range) from range({sys.argv[1]})').fetchall()";
    let run = |rows: &str| {
        let out = repo.lineage(&[
            "run",
            "--transformation",
            "q",
            "--rows-in",
            rows,
            "--",
            python.to_str().unwrap(),
            "-c",
            query,
            rows,
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    };
    for _ in 0..6 {
        run("20000");
    }
    run("3000000");
    let out = repo.lineage(&["anomalies", "--format", "json"]);
    let found = out.json()["anomalies"].as_array().cloned().unwrap_or_default();
    // Only the big run is asserted: a small one slowed by the machine's other work may be
    // flagged too, and that is the detector doing its job, not a failure.
    let last = runs(&repo).last().cloned().unwrap();
    let big: Vec<&serde_json::Value> =
        found.iter().filter(|a| a["started_at"] == last["started_at"]).collect();
    assert!(!big.is_empty(), "{}", out.stdout);
    for anomaly in &big {
        assert!(anomaly["ratio"].as_f64().is_some_and(|r| r > 1.4), "{anomaly}");
        let causes = anomaly["causes"].to_string();
        assert!(causes.contains("input rows 150.0x the usual"), "{causes}");
    }
    assert_eq!(out.code, 1, "anomalies found exit 1");
}

/// The history report of the recorded fixture runs, as a reviewer reads it.
#[test]
fn history_of_imported_runs_snapshot() {
    let (repo, _) = shop();
    assert_eq!(
        repo.lineage(&["import", "dbt", "artifacts/dbt-shop", "--project-dir", "."]).code,
        0
    );
    assert_eq!(
        repo.lineage(&["import", "openlineage", "artifacts/openlineage-shop.jsonl"]).code,
        0
    );
    let out = repo.lineage(&["history"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
}

/// Real DuckDB runs of a SQL file, recorded on two commits: when the second commit makes the
/// query read a big table, its run is an anomaly whose likely cause names the code and the
/// lineage that changed.
#[test]
fn an_anomaly_after_a_code_change_names_the_change() {
    let Some(venv) = python_venv("an_anomaly_after_a_code_change_names_the_change") else {
        return;
    };
    let mut repo = TestRepo::new();
    let runner =
        "import duckdb, sys\nduckdb.connect(sys.argv[1]).execute(open(sys.argv[2]).read())\n";
    let setup = "CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS mart;\n\
                 CREATE OR REPLACE TABLE raw.small AS SELECT range AS id FROM range(20000);\n\
                 CREATE OR REPLACE TABLE raw.big AS SELECT range AS id FROM range(3000000);\n";
    let small =
        "CREATE OR REPLACE TABLE mart.counts AS SELECT count(DISTINCT id) AS n FROM raw.small";
    let first = repo.commit(
        &[
            ("run.py", runner),
            ("setup.sql", setup),
            ("counts.sql", small),
            (".gitignore", "*.db\n"),
        ],
        "counts from raw.small",
    );
    let python = venv.join("bin/python");
    let python = python.to_str().unwrap();
    let run = |repo: &TestRepo, file: &str, id: Option<&str>| {
        let mut args = vec!["run"];
        if let Some(id) = id {
            args.extend(["--transformation", id]);
        }
        args.extend(["--", python, "run.py", "w.db", file]);
        let out = repo.lineage(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
    };
    run(&repo, "setup.sql", None);
    for _ in 0..6 {
        run(&repo, "counts.sql", Some("counts.sql#1"));
    }
    let big = small.replace("raw.small", "raw.big");
    let second = repo.commit(&[("counts.sql", &big)], "counts from raw.big");
    run(&repo, "counts.sql", Some("counts.sql#1"));

    let out = repo.lineage(&["anomalies", "--transformation", "counts.sql#1", "--format", "json"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let found = out.json()["anomalies"].as_array().cloned().unwrap_or_default();
    // The run on the second commit; a small run slowed by other work may be flagged as well.
    let changed: Vec<&serde_json::Value> =
        found.iter().filter(|a| a["commit"] == second.as_str()).collect();
    assert!(!changed.is_empty(), "{}", out.stdout);
    for anomaly in changed {
        assert_eq!(anomaly["previous_commit"], first.as_str());
        assert!(anomaly["ratio"].as_f64().is_some_and(|r| r > 1.4), "{anomaly}");
        let causes = anomaly["causes"].to_string();
        assert!(causes.contains("code changed: counts.sql differs"), "{causes}");
        assert!(
            causes.contains("reads + raw.big") && causes.contains("reads - raw.small"),
            "{causes}"
        );
    }
}
