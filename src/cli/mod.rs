//! Commands: clap arguments and the wiring from them to the library. Nothing else lives here.

mod ab;
mod debug;
mod evaluate;
mod export;
mod extract;
mod hooks;
mod import;
mod predict;
mod progress;
mod report;
mod runs;
mod snapshot;
mod suggest;
mod view;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Data lineage from the ETL code in a git repository.
#[derive(Debug, Parser)]
#[command(name = "git-lineage", version, about, long_about = None)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Extract lineage from SQL files, folders of them, or standard input (`-`).
    Extract(extract::ExtractArgs),
    /// Extract the lineage of a commit as committed and store it as a note
    /// (`refs/notes/lineage`).
    Snapshot(snapshot::SnapshotArgs),
    /// Show the lineage note of a commit.
    Show(snapshot::ShowArgs),
    /// What a change does to the lineage: datasets, transformations, column and indirect
    /// edges added, removed or changed, and what depends on them downstream.
    Diff(snapshot::DiffArgs),
    /// What depends on a dataset or column (or, with --upstream, what it depends on),
    /// through direct and indirect lineage.
    Impact(snapshot::ImpactArgs),
    /// The commits that changed the lineage of a dataset or column, newest first.
    Log(snapshot::LogArgs),
    /// Snapshot every commit of a range that has no current lineage note.
    Backfill(snapshot::BackfillArgs),
    /// Make lineage notes travel with pushes and fetches, and follow amend and rebase.
    Sync(snapshot::SyncArgs),
    /// Run a command, pass its output and exit code through, and record what it cost (wall,
    /// CPU, peak memory, I/O) on HEAD under `refs/notes/lineage-runs`.
    Run(runs::RunArgs),
    /// Record runs that other tools measured: dbt's run results, OpenLineage events, CSV or
    /// JSON lines. Importing the same file twice records nothing new.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// The recorded runs of a transformation (or all), with whether its lineage changed
    /// between runs.
    History(runs::HistoryArgs),
    /// Runs whose duration or peak memory is far from their transformation's history, with
    /// what changed since the run before (exit code 1 when there are any).
    Anomalies(runs::AnomaliesArgs),
    /// A/B tests on real runs: `ab run` runs a command in two revisions, alternating, each in
    /// a temporary worktree, and records every run; `ab report` judges which one is faster;
    /// `ab list` lists the experiments.
    #[command(subcommand)]
    Ab(ab::AbCommand),
    /// Write the lineage of a revision as one self-contained HTML page: search, pan and zoom,
    /// a node's upstream and downstream, its code, last runs and predicted runtime; with
    /// --diff, what a change added, removed or changed.
    View(view::ViewArgs),
    /// Export a commit's lineage: a Cypher script for Neo4j / Memgraph (or sent over Bolt),
    /// OpenLineage events for lineage platforms (or POSTed to one).
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Everything a pull-request reviewer needs in one document: the lineage change (a
    /// Mermaid picture, what is affected downstream), the predicted cost change, anomalies in
    /// recent runs of what it touches and the suggestions for the changed files with their
    /// patches; as Markdown for a comment, JSON, or SARIF for code scanning.
    Report(report::ReportArgs),
    /// Train the cost model on the recorded runs joined with the lineage of their commits;
    /// stored in `refs/lineage/model`.
    Train(predict::TrainArgs),
    /// Predict each transformation's duration and peak memory (with a 90 % interval and the
    /// history it rests on) and the pipeline's makespan, CPU time and peak memory.
    Predict(predict::PredictArgs),
    /// Suggest optimizations of the SQL (rules like a linter's, each with a fix where it can;
    /// exit code 1 when there are any).
    Suggest(suggest::SuggestArgs),
    /// Apply the suggestions' fixes: a unified diff (default) or the files edited in place.
    Fix(suggest::FixArgs),
    /// What a suggestion rule finds, why it is slow and how it is fixed; without a code, the
    /// rules.
    Explain(suggest::ExplainArgs),
    /// Install the post-commit, pre-commit and post-rewrite hooks (existing hooks are kept and
    /// run first).
    Install(hooks::InstallArgs),
    /// What the installed hooks run.
    #[command(hide = true)]
    Hook(hooks::HookArgs),
    /// Tools for developers of git-lineage: accuracy and speed measurements.
    #[command(hide = true, subcommand)]
    Debug(debug::DebugCommand),
}

/// How a command ended: 0 clean, 1 findings (some input had errors), 2 the tool failed; `run`
/// passes its command's code through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    Failure,
    Error,
    Code(u8),
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
            ExitStatus::Code(code) => ExitCode::from(code),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitStatus> {
    match args.command {
        Command::Extract(a) => extract::run(a),
        Command::Snapshot(a) => snapshot::run_snapshot(&a),
        Command::Show(a) => snapshot::run_show(&a),
        Command::Diff(a) => snapshot::run_diff(&a),
        Command::Impact(a) => snapshot::run_impact(&a),
        Command::Backfill(a) => snapshot::run_backfill(&a),
        Command::Log(a) => snapshot::run_log(&a),
        Command::Sync(a) => snapshot::run_sync(&a),
        Command::Run(a) => runs::run_run(&a),
        Command::Import(c) => import::run(&c),
        Command::History(a) => runs::run_history(&a),
        Command::Anomalies(a) => runs::run_anomalies(&a),
        Command::Ab(c) => ab::run(&c),
        Command::View(a) => view::run_view(&a),
        Command::Export(c) => export::run(&c),
        Command::Report(a) => report::run_report(&a),
        Command::Train(a) => predict::run_train(&a),
        Command::Predict(a) => predict::run_predict(&a),
        Command::Suggest(a) => suggest::run_suggest(&a),
        Command::Fix(a) => suggest::run_fix(&a),
        Command::Explain(a) => suggest::run_explain(&a),
        Command::Install(a) => hooks::run_install(&a),
        Command::Hook(a) => Ok(hooks::run_hook(&a)),
        Command::Debug(d) => debug::run(d),
    }
}

/// Print an error with its causes, jj-style; a closed pipe is not an error.
pub fn report_error(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::from(0);
    }
    eprintln!("git-lineage: error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::from(2)
}
