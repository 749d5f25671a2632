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
