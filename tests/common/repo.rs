//! `TestRepo`: a real git repository in a temporary folder, with pinned identity, dates and
//! configuration so that commit ids are the same on every machine.

use std::path::Path;
use std::process::Command;

use super::{Output, run_in};

pub struct TestRepo {
    pub dir: tempfile::TempDir,
    commits: u32,
}

impl TestRepo {
    pub fn new() -> Self {
        let repo = TestRepo { dir: tempfile::tempdir().expect("a temporary folder"), commits: 0 };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Run `git ARGS` in the repository; panics when it fails.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run `git ARGS` with the built git-lineage first on PATH, as installed hooks find it.
    pub fn git_output(&self, args: &[&str]) -> std::process::Output {
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_git-lineage"))
            .parent()
            .expect("the binary's folder");
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let date = format!("2026-01-01T00:00:{:02}Z", self.commits % 60);
        Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .env("GIT_EDITOR", ":")
            .env("PATH", path)
            .output()
            .expect("git runs")
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent folder")).expect("folders are made");
        std::fs::write(full, text).expect("the file is written");
    }

    /// Copy a folder's files (recursively) into the repository, under `into`.
    pub fn copy_dir(&self, from: &Path, into: &str) {
        for entry in std::fs::read_dir(from).expect("the folder is read") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().expect("a name").to_string_lossy().to_string();
            let target = if into.is_empty() { name } else { format!("{into}/{name}") };
            if path.is_dir() {
                self.copy_dir(&path, &target);
            } else {
                let bytes = std::fs::read(&path).expect("the file is read");
                self.write(&target, &String::from_utf8_lossy(&bytes));
            }
        }
    }

    /// Write the files and commit them.
    pub fn commit(&mut self, files: &[(&str, &str)], message: &str) -> String {
        for (path, text) in files {
            self.write(path, text);
        }
        self.commits += 1;
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Run `git-lineage ARGS` in the repository.
    pub fn lineage(&self, args: &[&str]) -> Output {
        run_in(self.path(), args, None)
    }
}
