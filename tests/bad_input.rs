//! Bad input: each file gets a diagnostic with a line, nothing panics or overflows, and the
//! other files are still analyzed.

use super::common::run_in;

#[test]
fn every_kind_of_bad_file_is_reported_and_the_rest_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("a_good.sql"), "INSERT INTO t SELECT a FROM s").unwrap();
    std::fs::write(
        p.join("b_invalid_utf8.sql"),
        b"SELECT 1;\nINSERT INTO t2 SELECT \xff\xfe FROM s2",
    )
    .unwrap();
    std::fs::write(p.join("c_binary.sql"), b"\x00\x01\x02binary\x00").unwrap();
    let mut big = String::with_capacity(50 * 1024 * 1024 + 64);
    while big.len() < 50 * 1024 * 1024 {
        big.push_str("INSERT INTO big SELECT a, b, c FROM small WHERE x = 1;\n");
    }
    std::fs::write(p.join("d_huge.sql"), &big).unwrap();
    let deep = format!("SELECT {}1{} FROM deep_t", "(".repeat(10_000), ")".repeat(10_000));
    std::fs::write(p.join("e_deep.sql"), &deep).unwrap();
    let deep_query =
        format!("SELECT * FROM {}deep_q{}", "(SELECT * FROM ".repeat(10_000), ")".repeat(10_000));
    std::fs::write(p.join("f_deep_query.sql"), &deep_query).unwrap();
    std::fs::write(p.join("g_unterminated.sql"), "SELECT 'abc FROM t;\nSELECT 1").unwrap();
    std::fs::write(p.join("h_empty.sql"), "").unwrap();
    std::fs::write(p.join("z_good.sql"), "INSERT INTO t3 SELECT a FROM s3").unwrap();

    let out = run_in(p, &["extract", "."], None);
    assert_eq!(out.code, 1, "stderr: {}", out.stderr);
    let json = out.json();
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 9);
    let by_name =
        |name: &str| files.iter().find(|f| f["path"].as_str().unwrap().ends_with(name)).unwrap();
    assert_eq!(by_name("a_good.sql")["transformations"][0]["writes"][0], "t");
    assert_eq!(by_name("z_good.sql")["transformations"][0]["writes"][0], "t3");
    for name in [
        "b_invalid_utf8.sql",
        "c_binary.sql",
        "d_huge.sql",
        "e_deep.sql",
        "f_deep_query.sql",
        "g_unterminated.sql",
        "h_empty.sql",
    ] {
        let diagnostics = by_name(name)["diagnostics"].as_array().unwrap();
        assert!(!diagnostics.is_empty(), "{name}: no diagnostic");
        assert!(
            diagnostics.iter().all(|d| d["line"].as_u64().unwrap() >= 1),
            "{name}: {diagnostics:?}"
        );
    }
    let utf8 = by_name("b_invalid_utf8.sql");
    assert_eq!(utf8["diagnostics"][0]["line"], 2);
    let writes: Vec<&serde_json::Value> = utf8["transformations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["writes"].as_array().unwrap())
        .collect();
    assert_eq!(writes, [&serde_json::json!("t2")]);
}

/// See: issue 6. Python that is broken, deep or strange still gives what the rest shows,
/// without a panic or a stack overflow.
#[test]
fn issue_6_bad_python_is_analyzed_as_far_as_it_goes() {
    use git_lineage::extract::{Settings, extract};
    let settings = Settings::default();
    let deep_parens = format!("x = {}1{}\n", "(".repeat(5_000), ")".repeat(5_000));
    let deep_calls =
        format!("df = {}pd.read_csv('a.csv'){}\n", "f(".repeat(3_000), ")".repeat(3_000));
    let mut deep_blocks = String::new();
    for i in 0..400 {
        deep_blocks.push_str(&" ".repeat(i));
        deep_blocks.push_str("if x:\n");
    }
    deep_blocks.push_str(&" ".repeat(400));
    deep_blocks.push_str("def g():\n");
    deep_blocks.push_str(&" ".repeat(401));
    deep_blocks.push_str("pass\n");
    let chained = format!("spark.read{}.parquet('p')\n", ".option('a', 1)".repeat(20_000));
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("deep_parens.py", deep_parens.into_bytes()),
        ("deep_calls.py", deep_calls.into_bytes()),
        ("deep_blocks.py", deep_blocks.into_bytes()),
        ("chained.py", chained.into_bytes()),
        ("garbage.py", b"def (:\n  ))) ]] spark.read.csv('x.csv' \n\tclass\n".to_vec()),
        ("latin1.py", b"name = '\xe9t\xe9'\nimport pandas as pd\npd.read_csv(name)\n".to_vec()),
        ("binary.py", b"\x00\x01binary".to_vec()),
        ("empty.py", Vec::new()),
    ];
    for (name, bytes) in &inputs {
        let fragment = extract(name, bytes, &settings);
        assert_eq!(fragment.language, git_lineage::extract::Language::Python, "{name}");
    }
    let garbage = extract("garbage.py", inputs[4].1.as_slice(), &settings);
    assert!(garbage.diagnostics.iter().any(|d| d.message.contains("syntax error")));
    let latin1 = extract("latin1.py", inputs[5].1.as_slice(), &settings);
    assert_eq!(latin1.transformations[0].reads, vec!["\u{fffd}t\u{fffd}".to_string()]);
}
