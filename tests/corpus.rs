//! Accuracy floors on the real third-party corpora in `../shared/corpus` (skipped with a
//! message when the folder is absent). The floors are the targets; `bench/sql-corpus`
//! prints the figures themselves.

use std::collections::BTreeMap;

use git_lineage::corpus;

#[test]
fn sqllineage_cases_meet_the_accuracy_targets() {
    let dir = common_corpus();
    if !dir.join("sqllineage").is_dir() {
        eprintln!("skipped: no corpus at {}", dir.display());
        return;
    }
    let cases: Vec<_> =
        corpus::load(&dir).unwrap().into_iter().filter(|c| c.corpus == "sqllineage").collect();
    assert!(cases.len() >= 300, "expected the visible sqllineage cases, found {}", cases.len());
    // Deep statements recurse: give the work the stack the CLI gives it.
    let report = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let predictions: BTreeMap<_, _> =
                cases.iter().map(|c| (c.id.clone(), corpus::predict(c))).collect();
            corpus::score(&cases, &predictions)
        })
        .unwrap()
        .join()
        .unwrap();
    let score = report.by_corpus["sqllineage"];
    assert!(
        score.table.percent() >= 97.0,
        "table lineage {:.1}% < 97%: misses {:?}",
        score.table.percent(),
        report.misses
    );
    assert!(
        score.column.percent() >= 90.0,
        "column lineage {:.1}% < 90%: misses {:?}",
        score.column.percent(),
        report.misses
    );
}

#[test]
fn tpc_queries_all_give_their_tables() {
    let dir = common_corpus();
    if !dir.join("tpch").is_dir() {
        eprintln!("skipped: no corpus at {}", dir.display());
        return;
    }
    let cases: Vec<_> =
        corpus::load(&dir).unwrap().into_iter().filter(|c| c.corpus != "sqllineage").collect();
    for case in &cases {
        let prediction = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(64 * 1024 * 1024)
                .spawn_scoped(s, || corpus::predict(case))
                .unwrap()
                .join()
                .unwrap()
        });
        assert!(!prediction.sources.is_empty(), "{}: no source table found", case.id);
    }
}

fn common_corpus() -> std::path::PathBuf {
    super::common::repo_root().join("../shared/corpus")
}

/// Issue #10's fixtures: every `fixtures/indirect/<dialect>/<case>.sql` states its expected
/// indirect lineage in its header; all of them must match exactly.
#[test]
fn indirect_fixtures_match_exactly() {
    let dir = super::common::repo_root().join("fixtures/indirect");
    let cases = corpus::load_indirect(&dir).unwrap();
    assert!(
        cases.len() >= 40,
        "expected at least 40 indirect-lineage fixtures, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let got = corpus::predict_indirect(case);
        if got != case.expected {
            let missing: Vec<_> = case.expected.difference(&got).collect();
            let extra: Vec<_> = got.difference(&case.expected).collect();
            failures.push(format!("{}: missing {missing:?}, extra {extra:?}", case.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The dbt project of the corpus (jaffle_shop on duckdb) against its hand-written lineage:
/// every model's reads and every model column's direct sources.
#[test]
fn dbt_project_lineage_matches_the_hand_written_answer() {
    let dir = common_corpus();
    if !dir.is_dir() {
        eprintln!("skipped: no corpus at {}", dir.display());
        return;
    }
    let scores = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || corpus::score_dbt(&dir).unwrap())
        .unwrap()
        .join()
        .unwrap();
    for score in scores {
        assert_eq!(
            score.models.matched, score.models.scored,
            "{}: {:?}",
            score.project, score.misses
        );
        assert_eq!(
            score.columns.matched, score.columns.scored,
            "{}: {:?}",
            score.project, score.misses
        );
    }
}
