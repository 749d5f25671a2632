//! `git lineage run` and `history` on real repositories, around real processes.

use super::common::repo::TestRepo;

fn runs(repo: &TestRepo) -> Vec<serde_json::Value> {
    let out = repo.lineage(&["history", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()["runs"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_run_passes_its_streams_and_exit_code_through_and_is_recorded() {
    let mut repo = TestRepo::new();
    let head = repo.commit(&[("a.sql", "INSERT INTO mart.a SELECT x FROM raw.a")], "one");
    let out = repo.lineage(&[
        "run",
        "--transformation",
        "a.sql#1",
        "--rows-in",
        "10",
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (3, "out\n", "err\n"));
    let runs = runs(&repo);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run["commit"], head.as_str());
    assert_eq!(run["status"], "failed");
    assert_eq!(run["exit_code"], 3);
    assert_eq!(run["rows_in"], 10);
    assert_eq!(run["source"], "run");
    assert_eq!(run["dirty"], false);
    assert_eq!(run["lineage_change"], "first");
    for field in
        ["started_at", "wall_ms", "user_ms", "sys_ms", "max_rss_bytes", "read_bytes", "write_bytes"]
    {
        assert!(!run[field].is_null(), "{field} in {run}");
    }
    // The record sits in the note of HEAD, one JSON line.
    let note = repo.git(&["notes", "--ref", "lineage-runs", "show", "HEAD"]);
    assert_eq!(note.lines().count(), 1, "{note}");
}

#[test]
fn the_command_reports_rows_in_its_facts_file() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", "INSERT INTO mart.a SELECT x FROM raw.a")], "one");
    let write = r#"printf '{"rows_in": 120, "rows_out": 7}' > "$GIT_LINEAGE_RUN_FACTS""#;
    let out = repo.lineage(&["run", "--rows-in", "5", "--", "sh", "-c", write]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A typo in the facts is said, and the run is still recorded with the flags' values.
    let typo = r#"printf '{"rows_ot": 7}' > "$GIT_LINEAGE_RUN_FACTS""#;
    let out = repo.lineage(&["run", "--rows-in", "5", "--", "sh", "-c", typo]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("GIT_LINEAGE_RUN_FACTS: unknown field `rows_ot`"),
        "{}",
        out.stderr
    );
    let runs = runs(&repo);
    let rows: Vec<_> =
        runs.iter().map(|r| (r["rows_in"].as_u64(), r["rows_out"].as_u64())).collect();
    assert_eq!(rows, [(Some(120), Some(7)), (Some(5), None)]);
}

#[test]
fn a_killed_command_is_recorded_with_its_signal() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", "SELECT 1")], "one");
    repo.write("a.sql", "SELECT 2");
    let out = repo.lineage(&["run", "--", "sh", "-c", "kill -9 $$"]);
    assert_eq!(out.code, 137, "{}", out.stderr);
    let runs = runs(&repo);
    assert_eq!((runs[0]["status"].as_str(), runs[0]["signal"].as_i64()), (Some("killed"), Some(9)));
    assert_eq!(runs[0]["dirty"], true);
}

#[test]
fn eight_runs_at_once_all_land() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", "SELECT 1")], "one");
    let path = repo.path().to_path_buf();
    let handles: Vec<_> = (0..8)
        .map(|n| {
            let path = path.clone();
            std::thread::spawn(move || {
                let variant = format!("v{n}");
                super::common::run_in(&path, &["run", "--variant", &variant, "--", "true"], None)
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap().code, 0);
    }
    let mut variants: Vec<String> =
        runs(&repo).iter().map(|r| r["variant"].as_str().unwrap_or_default().to_string()).collect();
    variants.sort();
    assert_eq!(variants, (0..8).map(|n| format!("v{n}")).collect::<Vec<_>>());
}

#[test]
fn history_says_when_the_lineage_changed_between_runs() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", "INSERT INTO mart.a SELECT x FROM raw.a")], "one");
    let run = |repo: &TestRepo| {
        assert_eq!(repo.lineage(&["run", "--transformation", "a.sql#1", "--", "true"]).code, 0);
    };
    run(&repo);
    repo.commit(&[("b.sql", "SELECT 1")], "unrelated");
    run(&repo);
    repo.commit(&[("a.sql", "INSERT INTO mart.a SELECT x FROM raw.b")], "reads raw.b");
    run(&repo);
    let changes: Vec<String> = runs(&repo)
        .iter()
        .map(|r| r["lineage_change"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(changes, ["first", "same", "changed"]);
    let csv = repo.lineage(&["history", "a.sql#1", "--format", "csv"]).stdout;
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("started_at,commit,dirty,transformation"), "{csv}");
    let text = repo.lineage(&["history"]).stdout;
    assert!(text.contains("a.sql#1 success (run)") && text.contains("lineage changed"), "{text}");
}

#[test]
fn outside_a_repository_the_command_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = super::common::run_in(dir.path(), &["run", "--", "sh", "-c", "exit 4"], None);
    assert_eq!(out.code, 4);
    assert!(out.stderr.contains("will not be recorded"), "{}", out.stderr);
    let out = super::common::run_in(dir.path(), &["run", "--", "/no/such/program"], None);
    assert_eq!(out.code, 127, "{}", out.stderr);
}
