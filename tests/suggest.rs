//! Rule tests, ruff-style: every `fixtures/suggest/<CODE>.sql` holds flagged cases first and,
//! after a `-- OK` line, near-misses that must not be flagged. Each gets a snapshot of the
//! findings and of the unified diff of its fixes (applied until they converge, unsafe ones
//! too); the fixed file must give the same results as the original in DuckDB.

use std::path::Path;

use git_lineage::extract::Settings;
use git_lineage::extract::sql::Dialect;
use git_lineage::suggest::{self, Selection, fix};

use crate::common::{python_venv, repo_root, run_in};

/// DuckDB, with the columns of the tables `fixtures/suggest/setup.sql` creates.
fn settings() -> Settings {
    let setup = std::fs::read(repo_root().join("fixtures/suggest/setup.sql")).expect("setup.sql");
    let base = Settings { dialect: Dialect::DuckDb, ..Settings::default() };
    let tables = git_lineage::extract::extract("setup.sql", &setup, &base);
    let catalog = git_lineage::graph::infer_catalog([&tables], &base.catalog);
    Settings { catalog, ..base }
}

/// The rules `code` names, knowing how the fixture's own statements read each table.
fn selection(code: &str, text: &str) -> Selection {
    let fragment = git_lineage::extract::extract("f.sql", text.as_bytes(), &settings());
    Selection {
        rules: vec![code.to_string()],
        usage: Some(git_lineage::suggest::usage::usage(&[fragment])),
    }
}

/// `(code, file name, text)` of every fixture but `setup.sql`, by code.
fn fixtures() -> Vec<(String, String, String)> {
    let dir = repo_root().join("fixtures/suggest");
    let mut out: Vec<(String, String, String)> = std::fs::read_dir(&dir)
        .expect("fixtures/suggest")
        .map(|e| e.expect("a fixture").path())
        .filter(|p| p.file_stem().is_some_and(|s| s != "setup"))
        .map(|p| {
            let code = p.file_stem().expect("a file name").to_string_lossy().to_string();
            let name = p.file_name().expect("a file name").to_string_lossy().to_string();
            (code, name, std::fs::read_to_string(&p).expect("a readable fixture"))
        })
        .collect();
    out.sort();
    out
}

/// The SQL fixtures: the ones DuckDB runs.
fn sql_fixtures() -> Vec<(String, String)> {
    fixtures()
        .into_iter()
        .filter(|(_, name, _)| Path::new(name).extension().is_some_and(|e| e == "sql"))
        .map(|(code, _, text)| (code, text))
        .collect()
}

#[test]
fn every_rule_has_a_fixture_and_flags_only_before_ok() {
    let codes: Vec<String> = fixtures().into_iter().map(|(c, _, _)| c).collect();
    for rule in suggest::registry::all() {
        assert!(codes.contains(&rule.code.to_string()), "no fixtures/suggest/{}.*", rule.code);
    }
    for (code, name, text) in fixtures() {
        let sql = Path::new(&name).extension().is_some_and(|e| e == "sql");
        let marker = if sql { "-- OK" } else { "# OK" };
        let ok_line = text.lines().position(|l| l.trim() == marker).expect("an OK line") + 1;
        let selection = selection(&code, &text);
        let findings = suggest::check(&name, &text, &settings(), &selection);
        assert!(!findings.is_empty(), "{code}: nothing flagged");
        for f in &findings {
            assert!(
                f.line < ok_line,
                "{code}: flagged a near-miss at line {}: {}",
                f.line,
                f.message
            );
            // A rule with a fix has it for every finding (the suggestion-only rules, R004 and
            // most Python rules, say what to do instead).
            assert!(
                f.fix.is_some() || findings.iter().all(|g| g.fix.is_none()),
                "{code}: no fix at line {}: {:?}",
                f.line,
                f.fix_rejected
            );
            assert!(f.fix_rejected.is_none(), "{code}: fix rejected: {:?}", f.fix_rejected);
        }
        let mut report = Vec::new();
        git_lineage::report::suggest::write_text(&mut report, &findings).unwrap();
        let (fixed, _) = suggest::fix_all(&name, &text, &settings(), &selection, true);
        let snapshot = format!(
            "{}\n{}",
            String::from_utf8(report).unwrap(),
            fix::unified_diff(&name, &text, &fixed)
        );
        insta::assert_snapshot!(format!("suggest_{code}"), snapshot);
        // Fixed once, nothing is left to fix.
        let again = suggest::check(&name, &fixed, &settings(), &selection);
        assert!(again.iter().all(|f| f.fix.is_none()), "{code}: fixes do not converge: {again:?}");
    }
}

#[test]
fn fixes_give_the_same_results_in_duckdb() {
    let Some(venv) = python_venv("fixes_give_the_same_results_in_duckdb") else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    for (code, text) in sql_fixtures() {
        let selection = selection(&code, &text);
        let (fixed, applied) =
            suggest::fix_all(&format!("{code}.sql"), &text, &settings(), &selection, true);
        if applied.is_empty() {
            // A suggestion-only rule: nothing to compare.
            continue;
        }
        let (before, after) =
            (dir.path().join(format!("{code}.sql")), dir.path().join(format!("{code}.fixed.sql")));
        std::fs::write(&before, &text).unwrap();
        std::fs::write(&after, &fixed).unwrap();
        let out = std::process::Command::new(venv.join("bin/python"))
            .arg(root.join("tests/suggest-equivalence.py"))
            .args([
                root.join("fixtures/suggest/setup.sql").as_path(),
                before.as_path(),
                after.as_path(),
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{code}: results differ after the fixes:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn suggest_fix_and_explain_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let sql = "WITH r AS (SELECT a FROM t ORDER BY a)\nSELECT DISTINCT a FROM r GROUP BY a;\n";
    std::fs::write(dir.path().join("m.sql"), sql).unwrap();
    let out = run_in(dir.path(), &["suggest"], None);
    assert_eq!(out.code, 1, "findings exit 1");
    let text = out.stdout.clone();
    assert!(
        text.contains("m.sql:1:28: R001 [*]") && text.contains("m.sql:2:8: R003 [*]"),
        "{text}"
    );

    let out = run_in(dir.path(), &["suggest", "--format", "json", "--select", "R003"], None);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["suggestions"].as_array().unwrap().len(), 1);
    assert_eq!(json["suggestions"][0]["fix"]["applicability"], "safe");

    let out = run_in(dir.path(), &["suggest", "--no-predict", "--format", "sarif"], None);
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    assert!(results[0]["fixes"][0]["artifactChanges"][0]["replacements"].is_array());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let index = usize::try_from(results[0]["ruleIndex"].as_u64().unwrap()).unwrap();
    assert_eq!(rules[index]["id"], results[0]["ruleId"]);
    let out = run_in(dir.path(), &["suggest", "--no-predict", "--format", "markdown"], None);
    insta::assert_snapshot!("suggest_markdown", out.stdout);

    let out = run_in(dir.path(), &["fix"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.clone().contains("-WITH r AS (SELECT a FROM t ORDER BY a)"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("m.sql")).unwrap(),
        sql,
        "--diff leaves the file"
    );
    let out = run_in(dir.path(), &["fix", "--apply"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("m.sql")).unwrap(),
        "WITH r AS (SELECT a FROM t)\nSELECT a FROM r GROUP BY a;\n"
    );
    assert_eq!(run_in(dir.path(), &["suggest"], None).code, 0);

    let out = run_in(Path::new("."), &["explain", "R002"], None);
    assert!(out.stdout.clone().contains("## Why is this slow?"));
    assert_eq!(run_in(Path::new("."), &["explain", "X999"], None).code, 2);
}

#[test]
fn fix_branch_commits_the_fixes_without_touching_the_work_tree() {
    let mut repo = crate::common::repo::TestRepo::new();
    let sql = "CREATE TABLE mart.c AS\nWITH r AS (SELECT a FROM raw.t ORDER BY a)\nSELECT DISTINCT a FROM r GROUP BY a;\n";
    let head = repo.commit(
        &[("models/c.sql", sql), ("models/ok.sql", "CREATE TABLE mart.d AS SELECT a FROM raw.t")],
        "models",
    );
    // Work in progress that the branch must not pick up, nor lose.
    repo.write("models/c.sql", &format!("-- editing\n{sql}"));
    let status = repo.git(&["status", "--porcelain"]);

    let out = repo.lineage(&["fix", "--branch", "lineage/fixes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("lineage/fixes "), "{}", out.stdout);
    assert_eq!(repo.git(&["status", "--porcelain"]), status, "work tree and index untouched");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]).trim(), head);
    assert_eq!(repo.git(&["rev-parse", "lineage/fixes^"]).trim(), head);
    assert_eq!(
        repo.git(&["show", "lineage/fixes:models/c.sql"]),
        "CREATE TABLE mart.c AS\nWITH r AS (SELECT a FROM raw.t)\nSELECT a FROM r GROUP BY a;\n"
    );
    assert_eq!(repo.git(&["diff", "--name-only", "HEAD", "lineage/fixes"]).trim(), "models/c.sql");
    let message = repo.git(&["log", "-1", "--format=%B", "lineage/fixes"]);
    // The predicted gains need ONNX Runtime (the bundled model, here): the rest must not.
    let without_gains: String = message
        .lines()
        .map(|l| l.split(", predicted ").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("fix_branch_message", without_gains);
    if repo_root().join(".ort").is_dir() || std::env::var_os("ORT_DYLIB_PATH").is_some() {
        assert!(message.contains(", predicted "), "{message}");
    }

    // `suggest --rev` sees the files as a revision has them: the branch has nothing left.
    let at_head = repo.lineage(&["suggest", "--rev", "HEAD", "--no-predict", "--format", "json"]);
    assert_eq!(at_head.json()["suggestions"].as_array().unwrap().len(), 2, "{}", at_head.stdout);
    assert_eq!(at_head.json()["suggestions"][0]["path"], "models/c.sql");
    let fixed = repo.lineage(&["suggest", "--rev", "lineage/fixes", "--no-predict"]);
    assert_eq!(fixed.code, 0, "{}", fixed.stdout);

    let again = repo.lineage(&["fix", "--branch", "lineage/fixes"]);
    assert_eq!(again.code, 2, "an existing branch is not overwritten: {}", again.stderr);
}
