//! The one integration test binary (STYLE: one binary, modules per area).

mod ab;
mod bad_input;
mod cli;
mod common;
mod corpus;
mod export;
mod fixtures;
mod hooks;
mod imports;
mod predict;
mod report;
mod runs;
mod store;
mod suggest;
mod view;

/// Every file under `tests/` must be reachable from this binary, or its tests never run.
#[test]
fn no_forgotten_test_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let is_module =
            path.extension().is_some_and(|e| e == "rs") || path.join("mod.rs").is_file();
        if stem == "main" || !is_module {
            continue;
        }
        assert!(
            main.contains(&format!("mod {stem};")),
            "tests/{stem} is not declared in tests/main.rs"
        );
    }
}

/// Dependencies point one way (ARCHITECTURE.md): extraction (and the suggestion rules, and the
/// A/B statistics) is pure, so it must not touch the
/// file system, git, or standard output outside its tests.
#[test]
fn extract_and_graph_do_no_io() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack =
        vec![root.join("extract"), root.join("graph"), root.join("suggest"), root.join("ab")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for forbidden in ["std::fs", "git2", "println!", "print!(", "std::process"] {
                assert!(!code.contains(forbidden), "{} uses {forbidden}", path.display());
            }
        }
    }
}
