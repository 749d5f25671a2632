//! `git lineage export`: a commit's lineage in the formats of graph databases and lineage
//! platforms.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use super::ExitStatus;
use crate::config::Overrides;
use crate::report;
use crate::store::repo::Repo;
use crate::store::snapshot::Builder;
use crate::workers;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A Cypher script of MERGE statements (idempotent) that loads the commit's lineage into
    /// Neo4j or Memgraph: `git lineage export cypher | cypher-shell -a bolt://…`.
    Cypher(CypherArgs),
}

#[derive(Debug, Args)]
pub struct CypherArgs {
    /// The commit (default: HEAD); its note when current, else its lineage is built.
    #[arg(default_value = "HEAD")]
    rev: String,
    /// Write the script to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(command: &ExportCommand) -> anyhow::Result<ExitStatus> {
    match command {
        ExportCommand::Cypher(args) => cypher(args),
    }
}

fn cypher(args: &CypherArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let commit = repo.resolve_commit(&args.rev)?;
    let snapshot = Builder::new(&repo, workers::default_jobs())
        .of_commit(&commit, Overrides::default())
        .with_context(|| format!("the lineage of {}", args.rev))?;
    let mut script = Vec::new();
    report::cypher::write(&mut script, &snapshot.files, Some(&commit))?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &script).with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&script)?;
            stdout.flush()?;
        }
    }
    Ok(ExitStatus::Success)
}
