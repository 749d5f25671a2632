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

#[test]
fn diff_shows_changed_lineage_and_what_depends_on_it() {
    let mut repo = TestRepo::new();
    let base = repo.commit(
        &[
            ("etl/a.sql", "INSERT INTO stage.a SELECT id, amount FROM raw.orders"),
            ("etl/b.sql", "INSERT INTO mart.b SELECT id, amount * 2 AS double FROM stage.a"),
        ],
        "base",
    );
    // A new filter column in the work tree: it decides stage.a, and so mart.b downstream.
    repo.write(
        "etl/a.sql",
        "INSERT INTO stage.a SELECT id, amount FROM raw.orders WHERE status = 'paid'",
    );
    let out = repo.lineage(&["diff", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let change = &json["transformations"][0];
    assert_eq!(change["change"], "changed");
    assert_eq!(change["id"], "etl/a.sql#1");
    assert_eq!(
        change["indirect_added"],
        serde_json::json!([{"source": "raw.orders.status", "target": "stage.a", "kind": "filter"}])
    );
    assert_eq!(change["impact"]["datasets"], serde_json::json!(["mart.b"]));
    assert_eq!(change["impact"]["columns"], serde_json::json!(["mart.b.double", "mart.b.id"]));

    insta::assert_snapshot!("diff_work_tree_text", repo.lineage(&["diff", "--no-predict"]).stdout);
    insta::assert_snapshot!(
        "diff_work_tree_markdown",
        repo.lineage(&["diff", "--no-predict", "--format", "markdown"]).stdout
    );

    // Nothing staged yet: the index has no change.
    assert!(repo.lineage(&["diff", "--cached"]).stdout.contains("no lineage changes"));
    repo.git(&["add", "-A"]);
    assert!(
        repo.lineage(&["diff", "--cached"])
            .stdout
            .contains("+ filter raw.orders.status decides stage.a")
    );

    // Between two commits: a new dataset and a removed transformation, moved lines ignored.
    let head =
        repo.commit(&[("etl/c.sql", "\n\nINSERT INTO mart.c SELECT id FROM stage.a")], "head");
    std::fs::remove_file(repo.path().join("etl/b.sql")).unwrap();
    let head2 = repo.commit(&[], "drop b");
    let text = repo.lineage(&["diff", &base, &head2]).stdout;
    assert!(text.contains("datasets added: mart.c"), "{text}");
    assert!(text.contains("datasets removed: mart.b"), "{text}");
    assert!(text.contains("+ etl/c.sql#3 insert"), "{text}");
    assert!(text.contains("- etl/b.sql#1 insert"), "{text}");
    assert!(
        repo.lineage(&["diff", &head, &head, "--no-predict", "--format", "markdown"])
            .stdout
            .contains("No lineage changes.")
    );
}

#[test]
fn impact_follows_direct_and_indirect_lineage() {
    let mut repo = TestRepo::new();
    repo.commit(
        &[
            (
                "a.sql",
                "INSERT INTO stage.a SELECT id, amount FROM raw.orders WHERE status = 'paid'",
            ),
            ("b.sql", "INSERT INTO mart.b SELECT id, amount AS total FROM stage.a"),
        ],
        "two steps",
    );
    let down = repo.lineage(&["impact", "raw.orders"]);
    assert_eq!(
        down.stdout,
        "downstream of raw.orders at HEAD:\n  mart.b (dataset)\n  stage.a (dataset)\n"
    );
    // A filter column decides every column downstream of what it filters.
    let status = repo.lineage(&["impact", "raw.orders.status", "--format", "json"]).json();
    let found: Vec<(String, String)> = status["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), f["via"].as_str().unwrap().to_string()))
        .collect();
    assert!(found.contains(&("mart.b.total".to_string(), "filter".to_string())), "{found:?}");
    let up = repo.lineage(&["impact", "mart.b.total", "--upstream"]).stdout;
    assert!(
        up.contains("raw.orders.amount (direct)") && up.contains("raw.orders.status (filter)"),
        "{up}"
    );
    assert_eq!(repo.lineage(&["impact", "no.such.thing"]).code, 1);
}

#[test]
fn backfill_snapshots_the_history_and_resumes() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", "INSERT INTO t SELECT x FROM s")], "one");
    repo.commit(&[("b.sql", "INSERT INTO u SELECT x FROM t")], "two");
    repo.commit(&[("a.sql", "INSERT INTO t SELECT x, y FROM s")], "three");
    assert_eq!(repo.lineage(&["snapshot", "HEAD~1"]).code, 0);
    let out = repo.lineage(&["backfill"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Two were missing; only the file the last commit changed is parsed (the rest was
    // parsed for HEAD~1 and comes from the cache).
    assert!(out.stdout.contains("backfill: 2 commits snapshotted"), "{}", out.stdout);
    assert!(out.stdout.contains("(3 files, 1 parsed"), "{}", out.stdout);
    for rev in ["HEAD", "HEAD~1", "HEAD~2"] {
        assert_eq!(repo.lineage(&["show", rev]).code, 0, "{rev}");
    }
    assert!(repo.lineage(&["backfill"]).stdout.contains("backfill: 0 commits"));
}

#[test]
fn sync_configures_refspecs_and_notes_follow_an_amend() {
    let mut repo = TestRepo::new();
    repo.git(&["remote", "add", "origin", "https://example.invalid/repo.git"]);
    repo.commit(&[("a.sql", "INSERT INTO t SELECT x FROM s")], "one");
    let out = repo.lineage(&["sync"]);
    assert!(
        out.stdout.contains("set remote.origin.fetch +refs/notes/lineage:refs/notes/lineage"),
        "{}",
        out.stdout
    );
    assert_eq!(
        repo.git(&["config", "--get-all", "remote.origin.push"]),
        "HEAD\nrefs/notes/lineage\n"
    );
    assert!(repo.lineage(&["sync"]).stdout.contains("already travel"));
    assert_eq!(repo.lineage(&["snapshot"]).code, 0);
    let note = repo.git(&["notes", "--ref", "lineage", "show", "HEAD"]);
    repo.git(&["commit", "-q", "--amend", "-m", "one, amended"]);
    assert_eq!(repo.git(&["notes", "--ref", "lineage", "show", "HEAD"]), note);
}

#[test]
fn log_lists_the_commits_that_changed_a_dataset_or_column() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", "INSERT INTO stage.a SELECT id FROM raw.orders")], "create a");
    repo.commit(&[("other.sql", "INSERT INTO x SELECT y FROM z")], "unrelated");
    repo.commit(
        &[("a.sql", "INSERT INTO stage.a SELECT id FROM raw.orders WHERE status = 'paid'")],
        "filter a",
    );
    let log = repo.lineage(&["log", "raw.orders.status"]).stdout;
    assert!(
        log.contains("filter a") && log.contains("+ filter raw.orders.status decides stage.a"),
        "{log}"
    );
    assert!(!log.contains("create a"), "{log}");
    let log = repo.lineage(&["log", "stage.a"]).stdout;
    let subjects: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("commit "))
        .map(|l| l.rsplit("  ").next().unwrap())
        .collect();
    assert_eq!(subjects, ["filter a", "create a"]);
    assert!(repo.lineage(&["log", "nothing.here"]).stdout.contains("no commit changed"));
}

#[test]
fn show_draws_the_graph_as_dot_and_mermaid() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", "INSERT INTO stage.a SELECT id FROM raw.orders")], "one");
    assert_eq!(repo.lineage(&["snapshot"]).code, 0);
    insta::assert_snapshot!("show_dot", repo.lineage(&["show", "--format", "dot"]).stdout);
    insta::assert_snapshot!("show_mermaid", repo.lineage(&["show", "--format", "mermaid"]).stdout);
}

#[test]
fn concurrent_snapshots_of_one_commit_leave_one_good_note() {
    let mut repo = TestRepo::new();
    let files: Vec<(String, String)> = (0..40)
        .map(|i| (format!("m/{i}.sql"), format!("INSERT INTO t{i} SELECT x FROM s{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    repo.commit(&refs, "forty models");
    let runs: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_git-lineage"))
                .args(["snapshot", "--force"])
                .current_dir(repo.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<i32> = runs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().status.code().unwrap_or(-1))
        .collect();
    // Every writer lands: a writer that finds the notes ref moved tries again.
    assert_eq!(codes, [0, 0, 0, 0]);
    let shown = repo.lineage(&["show", "--format", "json"]);
    assert_eq!(shown.code, 0);
    assert_eq!(shown.json()["files"].as_array().unwrap().len(), 40);
    assert!(repo.lineage(&["snapshot"]).stdout.contains("up to date"));
}

#[test]
fn backfill_packs_notes_as_deltas_against_the_note_before() {
    let mut repo = TestRepo::new();
    let models: Vec<String> =
        (0..40).map(|n| format!("INSERT INTO mart.m{n} SELECT a, b FROM raw.t{n};")).collect();
    let models = models.join("\n");
    repo.commit(&[("models.sql", &models)], "many models");
    for n in 0..6 {
        let changed = models.replace(&format!("raw.t{n};"), &format!("raw.changed{n};"));
        repo.commit(&[("models.sql", &changed)], &format!("change {n}"));
    }
    // Two runs: the second goes on from the first one's chain of deltas (its first note is a
    // delta against a note of the first pack).
    assert_eq!(repo.lineage(&["backfill", "HEAD~3"]).code, 0);
    assert_eq!(repo.lineage(&["backfill"]).code, 0);
    // Written as fanout folders, readable by git itself, and intact.
    let tree = repo.git(&["ls-tree", "refs/notes/lineage"]);
    assert!(tree.lines().all(|l| l.contains(" tree ")), "{tree}");
    let out = repo.git_output(&["fsck", "--no-dangling"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(repo.git(&["notes", "--ref", "lineage", "show", "HEAD"]).contains("raw.changed5"));

    // The notes are in a pack, each a delta against the note before it (git's own reading of
    // the pack: `verify-pack -v` lists a delta with its depth and base).
    let packs = std::fs::read_dir(repo.path().join(".git/objects/pack")).unwrap();
    let mut deltas = 0;
    for pack in packs.filter_map(Result::ok) {
        let path = pack.path();
        if path.extension().is_some_and(|e| e == "idx") {
            let listed = repo.git(&["verify-pack", "-v", path.to_str().unwrap()]);
            deltas += listed
                .lines()
                .filter(|l| {
                    l.split_whitespace().nth(1) == Some("blob") && l.split_whitespace().count() == 7
                })
                .count();
        }
    }
    let listed = deltas;
    // Seven notes: the first whole, the six after it deltas.
    assert_eq!(listed, 6);
}

#[test]
fn python_pipelines_are_resolved_across_modules_and_configuration_per_commit() {
    let mut repo = TestRepo::new();
    let pipeline = "\
from etl.extract import read
import yaml

with open('config.yaml') as f:
    config = yaml.safe_load(f)

def main():
    read(config['source']).to_parquet(config['target'])

if __name__ == '__main__':
    main()
";
    let extract = "import pandas as pd\n\ndef read(path):\n    return pd.read_csv(path)\n";
    repo.commit(
        &[
            ("app/pipeline.py", pipeline),
            ("app/etl/extract.py", extract),
            ("app/config.yaml", "source: data/in.csv\ntarget: data/out.parquet\n"),
        ],
        "pipeline",
    );
    let writes_of_main = |repo: &TestRepo| {
        let out = repo.lineage(&["snapshot", "--force"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let note: serde_json::Value =
            serde_json::from_str(&repo.git(&["notes", "--ref", "lineage", "show", "HEAD"]))
                .unwrap();
        let file = note["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "app/pipeline.py")
            .cloned()
            .unwrap();
        assert_eq!(file["imports"], serde_json::json!(["etl.extract", "etl.extract.read", "yaml"]));
        let main = &file["transformations"][0];
        (main["reads"].clone(), main["writes"].clone())
    };
    assert_eq!(
        writes_of_main(&repo),
        (serde_json::json!(["data/in.csv"]), serde_json::json!(["data/out.parquet"]))
    );
    // Only the configuration changes: the pipeline's lineage follows it (not a stale cache).
    repo.commit(&[("app/config.yaml", "source: data/in.csv\ntarget: data/v2.parquet\n")], "v2");
    assert_eq!(
        writes_of_main(&repo),
        (serde_json::json!(["data/in.csv"]), serde_json::json!(["data/v2.parquet"]))
    );
    // `extract` over the folder gives the same.
    let out = repo.lineage(&["extract", "--format", "json", "app"]);
    assert!(out.stdout.contains("data/v2.parquet"), "{}", out.stdout);
}

#[test]
fn export_cypher_merges_the_commits_lineage_and_is_the_same_twice() {
    let mut repo = TestRepo::new();
    repo.commit(&[("etl/orders.sql", MODEL)], "orders");
    let out = repo.lineage(&["export", "cypher"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let head = repo.git(&["rev-parse", "HEAD"]);
    assert!(out.stdout.contains(&format!("t.commit = \"{}\"", head.trim())), "{}", out.stdout);
    assert!(out.stdout.contains(r#"MERGE (:Dataset {name: "mart.orders"});"#), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            r#"MATCH (a:Column {name: "raw.orders.amount"}), (b:Column {name: "mart.orders.amount"}) MERGE (a)-[:FEEDS {transformation: "etl/orders.sql#1"}]->(b);"#
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(r#"[:DECIDES {kind: "filter""#), "{}", out.stdout);
    assert_eq!(repo.lineage(&["export", "cypher"]).stdout, out.stdout);
}
