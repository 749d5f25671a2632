//! The `git-lineage` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = git_lineage::cli::Args::parse();
    match git_lineage::cli::run(args) {
        Ok(status) => status.into(),
        Err(error) => git_lineage::cli::report_error(&error),
    }
}
