//! Corpus-driven extraction tests: every `fixtures/sql/<dialect>/<case>.sql` is a test whose
//! expected lineage is a reviewed insta snapshot. Adding a file adds a test.

use git_lineage::extract::{Settings, extract};

#[test]
fn sql_fixtures() {
    insta::glob!("../fixtures/sql", "**/*.sql", |path| {
        let dialect = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap();
        let settings = Settings { dialect: dialect.parse().unwrap(), ..Settings::default() };
        let bytes = std::fs::read(path).unwrap();
        let name = format!("{dialect}/{}", path.file_name().unwrap().to_string_lossy());
        let fragment = extract(&name, &bytes, &settings);
        insta::assert_json_snapshot!(fragment);
    });
}

/// Every `fixtures/python/<library>/<case>.py` states the datasets the file reads and writes
/// in its first lines (`# reads: a, b` / `# writes: c`); the whole fragment is a snapshot.
#[test]
fn python_fixtures() {
    insta::glob!("../fixtures/python", "**/*.py", |path| {
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let library = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap();
        let name = format!("{library}/{}", path.file_name().unwrap().to_string_lossy());
        let fragment = extract(&name, &bytes, &Settings::default());
        let stated = |key: &str| -> Vec<String> {
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("# {key}:")))
                .unwrap_or_else(|| panic!("{name}: no `# {key}:` line"));
            let mut names: Vec<String> =
                line.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            names.sort();
            names
        };
        let found = |pick: fn(&git_lineage::extract::Transformation) -> &Vec<String>| {
            let mut all: Vec<String> =
                fragment.transformations.iter().flat_map(pick).cloned().collect();
            all.sort();
            all.dedup();
            all
        };
        assert_eq!(found(|t| &t.reads), stated("reads"), "{name}: reads");
        assert_eq!(found(|t| &t.writes), stated("writes"), "{name}: writes");
        insta::assert_json_snapshot!(fragment);
    });
}

/// A Python file with no data access has no transformation and nothing to say about it.
#[test]
fn python_without_data_access_is_quiet() {
    let fragment =
        extract("util.py", b"import os\n\ndef f(x):\n    return x + 1\n", &Settings::default());
    assert!(fragment.transformations.is_empty());
    assert!(fragment.diagnostics.is_empty());
    assert_eq!(fragment.language, git_lineage::extract::Language::Python);
}
