//! Helpers shared by the integration tests: running the built binary, temporary repositories.

pub mod repo;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What a run of the binary gave.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `git-lineage ARGS` in `dir`, with `stdin` as standard input.
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_with_env(dir, args, stdin, &[])
}

/// The Python tools of `tests/setup-python` (dbt, dbt-duckdb, DuckDB, dbt-ol), or `None`
/// with a message saying the test that needed them is skipped and how to set them up.
/// Whether ONNX Runtime is installed where the binary looks; says so when it is not.
pub fn runtime_or_skip(test: &str) -> bool {
    let found = std::env::var_os("ORT_DYLIB_PATH").is_some()
        || repo_root().join(".ort/libonnxruntime.so.1.31.1").is_file();
    if !found {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: ONNX Runtime is not installed (run tests/setup-ort)"
        );
    }
    found
}

/// What the browser test drives: the system Chromium and Node.js with playwright-core (from
/// `tests/setup-browser`), or `None` with a message saying the test is skipped and why.
pub struct Browser {
    pub chromium: PathBuf,
    pub node: PathBuf,
}

pub fn browser_or_skip(test: &str) -> Option<Browser> {
    let on_path = |name: &str| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file())
        })
    };
    let chromium = std::env::var_os("GIT_LINEAGE_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| on_path("chromium"))
        .filter(|p| p.is_file());
    let node = on_path("node");
    let playwright =
        repo_root().join("tests/browser/node_modules/playwright-core/package.json").is_file();
    let missing = match (&chromium, &node, playwright) {
        (None, _, _) => Some("no Chromium (`chromium` on PATH or GIT_LINEAGE_CHROMIUM)"),
        (_, None, _) => Some("no Node.js (`node` on PATH)"),
        (_, _, false) => Some("no playwright-core in tests/browser/node_modules"),
        _ => None,
    };
    if let Some(what) = missing {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: {what} (run tests/setup-browser to install Debian's chromium and \
             playwright-core from npm)"
        );
        return None;
    }
    Some(Browser { chromium: chromium?, node: node? })
}

pub fn python_venv(test: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("GIT_LINEAGE_VENV")
        .map_or_else(|| repo_root().join(".venv"), PathBuf::from);
    let ready = ["bin/python", "bin/dbt", "bin/dbt-ol"].iter().all(|b| venv.join(b).is_file());
    if !ready {
        // Straight to the process's stderr: the test harness captures eprintln! of passing
        // tests, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: no Python tools at {} (run tests/setup-python to install dbt, \
             dbt-duckdb and DuckDB from PyPI)",
            venv.display()
        );
    }
    ready.then_some(venv)
}

/// Run `git-lineage ARGS` in `dir` with more environment variables.
pub fn run_with_env(
    dir: &Path,
    args: &[&str],
    stdin: Option<&[u8]>,
    env: &[(&str, &str)],
) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_git-lineage"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        if let Some(bytes) = stdin {
            pipe.write_all(bytes).expect("stdin takes the input");
        }
    }
    let out = child.wait_with_output().expect("the binary finishes");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn run(args: &[&str]) -> Output {
    run_in(&repo_root(), args, None)
}
