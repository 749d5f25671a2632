//! The `extract` command as a user runs it: exit codes, formats, standard input, folders.

use super::common::{repo_root, run, run_in};

#[test]
fn extract_walks_the_example_repository() {
    let out = run(&["extract", "fixtures/repos/shop"]);
    // etl/broken.sql has a statement no parser accepts: reported, exit 1, the rest analyzed.
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.json();
    let files: Vec<&str> =
        json["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        files,
        [
            "fixtures/repos/shop/etl/broken.sql",
            "fixtures/repos/shop/etl/daily_revenue.sql",
            "fixtures/repos/shop/models/marts/customer_orders.sql",
            "fixtures/repos/shop/models/staging/stg_customers.sql",
            "fixtures/repos/shop/models/staging/stg_orders.sql",
        ]
    );
    let broken = &json["files"][0];
    assert_eq!(broken["transformations"][0]["confidence"], "partial");
    assert_eq!(broken["transformations"][0]["writes"][0], "mart.audit_log");
    assert_eq!(broken["diagnostics"][0]["severity"], "error");
    assert_eq!(broken["diagnostics"][0]["line"], 3);
}

#[test]
fn text_format_snapshot() {
    let out = run(&["extract", "--format", "text", "fixtures/repos/shop/etl/daily_revenue.sql"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn standard_input_and_the_json_contract() {
    let sql = b"INSERT INTO mart.orders SELECT o.amount AS total FROM raw.orders o JOIN raw.customers c ON o.cid = c.id";
    let out = run_in(&repo_root(), &["extract", "--dialect", "postgres", "-"], Some(sql));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let t = &json["files"][0]["transformations"][0];
    assert_eq!(json["files"][0]["path"], "-");
    assert_eq!(json["files"][0]["language"], "sql");
    assert_eq!(t["id"], "-#1");
    assert_eq!(t["kind"], "insert");
    assert_eq!(t["line"], 1);
    assert_eq!(t["reads"], serde_json::json!(["raw.customers", "raw.orders"]));
    assert_eq!(t["writes"], serde_json::json!(["mart.orders"]));
    assert_eq!(
        t["columns"],
        serde_json::json!([{"source": "raw.orders.amount", "target": "mart.orders.total"}])
    );
}

#[test]
fn bare_select_targets_are_output_names_and_default_schema_qualifies() {
    let out = run_in(
        &repo_root(),
        &["extract", "--default-schema", "raw", "-"],
        Some(b"SELECT amount AS total FROM orders"),
    );
    let t = &out.json()["files"][0]["transformations"][0];
    assert_eq!(t["reads"], serde_json::json!(["raw.orders"]));
    assert_eq!(
        t["columns"],
        serde_json::json!([{"source": "raw.orders.amount", "target": "total"}])
    );
}

#[test]
fn schema_file_expands_stars_and_resolves_join_columns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.sql"),
        "CREATE TABLE raw.a (id INT, x INT); CREATE TABLE raw.b (id INT, y INT);",
    )
    .unwrap();
    let sql = b"INSERT INTO out.t SELECT * FROM raw.a; INSERT INTO out.u SELECT y FROM raw.a JOIN raw.b ON a.id = b.id";
    let out = run_in(dir.path(), &["extract", "--schema", "schema.sql", "-"], Some(sql));
    let ts = &out.json()["files"][0]["transformations"];
    assert_eq!(
        ts[0]["columns"],
        serde_json::json!([{"source": "raw.a.id", "target": "out.t.id"}, {"source": "raw.a.x", "target": "out.t.x"}])
    );
    assert_eq!(ts[1]["columns"], serde_json::json!([{"source": "raw.b.y", "target": "out.u.y"}]));
}

#[test]
fn config_file_sets_the_dialect_per_glob() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".git-lineage.toml"),
        "[extract.dialects]\n\"spark/**\" = \"spark\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("spark")).unwrap();
    // Backticks quote identifiers in Spark; in the generic dialect they are refused.
    std::fs::write(dir.path().join("spark/job.sql"), "INSERT INTO `db`.`t` SELECT a FROM `db`.`s`")
        .unwrap();
    let out = run_in(dir.path(), &["extract", "."], None);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.json()["files"][0]["transformations"][0]["writes"][0], "db.t");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["extract", "--dialect", "postgress", "-"]).code, 2);
    let missing = run(&["extract", "no/such/file.sql"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no such file"), "{}", missing.stderr);
    let bad_config = tempfile::tempdir().unwrap();
    std::fs::write(bad_config.path().join(".git-lineage.toml"), "[extract]\ndialect = \"nope\"\n")
        .unwrap();
    std::fs::write(bad_config.path().join("a.sql"), "select 1").unwrap();
    let out = run_in(bad_config.path(), &["extract", "a.sql"], None);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown SQL dialect `nope`"), "{}", out.stderr);
}

#[test]
fn columns_created_in_one_file_expand_stars_in_another() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a_view.sql"),
        "CREATE VIEW v AS SELECT id, amount * 100 AS cents FROM raw.t",
    )
    .unwrap();
    std::fs::write(dir.path().join("b_out.sql"), "INSERT INTO out SELECT * FROM v").unwrap();
    std::fs::write(dir.path().join("c_chain.sql"), "CREATE TABLE w AS SELECT * FROM out").unwrap();
    let out = run_in(dir.path(), &["extract", "."], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!(
        json["files"][1]["transformations"][0]["columns"],
        serde_json::json!([{"source": "v.cents", "target": "out.cents"}, {"source": "v.id", "target": "out.id"}])
    );
    // Two steps down the chain: `out` has no declared columns, but an INSERT of known ones.
    assert_eq!(json["files"][2]["transformations"][0]["columns"][0]["source"], "out.*");
}

/// See: issue 6. A folder's `.py` files are analyzed beside its `.sql` files; one without
/// data access is listed with no transformation and no diagnostic.
#[test]
fn issue_6_folders_give_python_files_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.sql"), "INSERT INTO mart.t SELECT * FROM raw.t").unwrap();
    std::fs::write(
        dir.path().join("job.py"),
        "import pandas as pd\n\ndef run():\n    pd.read_csv('in.csv').to_parquet('out.parquet')\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("util.py"), "def add(a, b):\n    return a + b\n").unwrap();
    let out = run_in(dir.path(), &["extract", "--format", "json", "."], None);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let json = out.json();
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[1]["language"], "python");
    let t = &files[1]["transformations"][0];
    assert_eq!(t["id"], "job.py::run");
    assert_eq!(t["reads"], serde_json::json!(["in.csv"]));
    assert_eq!(t["writes"], serde_json::json!(["out.parquet"]));
    assert_eq!(files[2]["transformations"], serde_json::json!([]));
    assert_eq!(files[2]["diagnostics"], serde_json::json!([]));
}
