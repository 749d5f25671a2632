//! Snapshots as git notes, in real temporary repositories (issue #3).

use super::common::repo::TestRepo;

const MODEL: &str =
    "INSERT INTO mart.orders SELECT id, amount FROM raw.orders WHERE status = 'paid'";

#[test]
fn snapshot_stores_a_note_that_show_reads_back_byte_identical() {
    let mut repo = TestRepo::new();
    repo.commit(&[("etl/orders.sql", MODEL)], "orders");
    let out = repo.lineage(&["snapshot"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("1 files, 1 transformations, 2 datasets (1 parsed, 0 from cache)"),
        "{}",
        out.stdout
    );
    let note = repo.git(&["notes", "--ref", "lineage", "show", "HEAD"]);
    let json: serde_json::Value = serde_json::from_str(&note).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["datasets"], serde_json::json!(["mart.orders", "raw.orders"]));
    assert_eq!(json["files"][0]["transformations"][0]["indirect"][0]["kind"], "filter");

    // Current: nothing to do. Forced: the same bytes, from the cache.
    assert!(repo.lineage(&["snapshot"]).stdout.contains("up to date"));
    let again = repo.lineage(&["snapshot", "--force"]);
    assert!(again.stdout.contains("(0 parsed, 1 from cache)"), "{}", again.stdout);
    assert_eq!(repo.git(&["notes", "--ref", "lineage", "show", "HEAD"]), note);

    let shown = repo.lineage(&["show", "--format", "json"]);
    assert_eq!(shown.code, 0);
    assert_eq!(shown.stdout, note);
    let text = repo.lineage(&["show"]);
    assert!(text.stdout.contains("mart.orders.amount <- raw.orders.amount"), "{}", text.stdout);
}

#[test]
fn files_are_read_as_committed_not_from_the_work_tree() {
    let mut repo = TestRepo::new();
    let first = repo.commit(&[("a.sql", "INSERT INTO t1 SELECT x FROM s1")], "one");
    repo.commit(&[("a.sql", "INSERT INTO t2 SELECT x FROM s2")], "two");
    repo.write("a.sql", "INSERT INTO uncommitted SELECT x FROM nowhere");
    assert_eq!(repo.lineage(&["snapshot", &first]).code, 0);
    assert_eq!(repo.lineage(&["snapshot"]).code, 0);
    let one = repo.lineage(&["show", &first, "--format", "json"]).stdout;
    let two = repo.lineage(&["show", "--format", "json"]).stdout;
    assert!(one.contains("\"t1\"") && !one.contains("uncommitted"), "{one}");
    assert!(two.contains("\"t2\"") && !two.contains("uncommitted"), "{two}");
}

#[test]
fn configuration_and_dbt_projects_are_read_from_the_commit() {
    let mut repo = TestRepo::new();
    repo.commit(
        &[
            (".git-lineage.toml", "[extract]\ndefault_schema = \"analytics\"\n"),
            ("dbt/dbt_project.yml", "name: x\nmodel-paths: [\"models\"]\n"),
            ("dbt/models/stg.sql", "select id from {{ source('raw', 'users') }}"),
            ("dbt/models/users.sql", "select * from {{ ref('stg') }}"),
        ],
        "dbt",
    );
    assert_eq!(repo.lineage(&["snapshot"]).code, 0);
    let json: serde_json::Value =
        serde_json::from_str(&repo.lineage(&["show", "--format", "json"]).stdout).unwrap();
    let users = &json["files"][1]["transformations"][0];
    assert_eq!(users["kind"], "model");
    assert_eq!(users["writes"], serde_json::json!(["analytics.users"]));
    // The columns the other model creates expand its `select *`.
    assert_eq!(users["columns"][0]["source"], "analytics.stg.id");
}

#[test]
fn corrupt_and_newer_notes_are_reported_and_skipped() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", MODEL)], "one");
    repo.git(&["notes", "--ref", "lineage", "add", "-f", "-m", "{broken", "HEAD"]);
    let out = repo.lineage(&["show"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not valid JSON"), "{}", out.stderr);
    repo.git(&["notes", "--ref", "lineage", "add", "-f", "-m", "{\"schema_version\": 7}", "HEAD"]);
    let out = repo.lineage(&["show"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("format version 7") && out.stderr.contains("upgrade"),
        "{}",
        out.stderr
    );
    // A snapshot replaces what it cannot read.
    assert_eq!(repo.lineage(&["snapshot"]).code, 0);
    assert_eq!(repo.lineage(&["show"]).code, 0);
    assert_eq!(repo.lineage(&["show", "main~0"]).code, 0);
    assert_eq!(repo.lineage(&["show", "no-such-rev"]).code, 2);
}
