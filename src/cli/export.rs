//! `git lineage export`: a commit's lineage in the formats of graph databases and lineage
//! platforms, to a file, standard output, or a server (Bolt for Neo4j and Memgraph, HTTP for
//! OpenLineage backends such as Marquez).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::ExitStatus;
use crate::bolt;
use crate::collect::record::format_timestamp;
use crate::config::Overrides;
use crate::report;
use crate::report::openlineage::{Export, default_namespace, web_url};
use crate::store::repo::Repo;
use crate::store::snapshot::{Builder, Snapshot};
use crate::workers;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A Cypher script of MERGE statements (idempotent) that loads the commit's lineage into
    /// Neo4j or Memgraph: `git lineage export cypher | cypher-shell -a bolt://…`, or sent
    /// directly with `--bolt`.
    Cypher(CypherArgs),
    /// OpenLineage events (spec 2-0-2), one JSON object a line: a job event per
    /// transformation (inputs, outputs, schema and column-lineage facets) and start and end
    /// events for each run recorded on the commit; to a file, standard output, or POSTed to
    /// an OpenLineage endpoint (`--url http://localhost:5000/api/v1/lineage` for Marquez).
    #[command(name = "openlineage")]
    OpenLineage(OpenLineageArgs),
}

#[derive(Debug, Args)]
pub struct CypherArgs {
    /// The commit (default: HEAD); its note when current, else its lineage is built.
    #[arg(default_value = "HEAD")]
    rev: String,
    /// Write the script to this file instead of standard output.
    #[arg(long, conflicts_with = "bolt")]
    out: Option<PathBuf>,
    /// Send the statements to this Bolt server (`bolt://host:7687`) in one transaction,
    /// instead of printing them.
    #[arg(long, value_name = "URI")]
    bolt: Option<String>,
    /// The user to log in as (default: NEO4J_USERNAME; the password comes from
    /// NEO4J_PASSWORD); no login without one.
    #[arg(long, requires = "bolt")]
    user: Option<String>,
    /// The database to load into (default: NEO4J_DATABASE, else the server's default).
    #[arg(long, requires = "bolt")]
    database: Option<String>,
}

#[derive(Debug, Args)]
pub struct OpenLineageArgs {
    /// The commit (default: HEAD); its note when current, else its lineage is built.
    #[arg(default_value = "HEAD")]
    rev: String,
    /// Write the events to this file instead of standard output.
    #[arg(long, conflicts_with = "url")]
    out: Option<PathBuf>,
    /// POST each event to this OpenLineage endpoint (Marquez: `http://host:5000/api/v1/lineage`).
    #[arg(long)]
    url: Option<String>,
    /// Sent as `Authorization: Bearer …` with `--url` (default: OPENLINEAGE_API_KEY).
    #[arg(long, requires = "url")]
    api_key: Option<String>,
    /// The jobs' namespace (default: the `origin` remote as `host/org/repo`, else the
    /// repository folder's name). One per repository.
    #[arg(long)]
    namespace: Option<String>,
    /// The namespace of tables and views; give every repository the same one (e.g.
    /// `postgres://db.example.com:5432`) so that their datasets join up. Files are in `file`,
    /// URLs in their scheme and host.
    #[arg(long, default_value = "warehouse")]
    dataset_namespace: String,
}

pub fn run(command: &ExportCommand) -> anyhow::Result<ExitStatus> {
    match command {
        ExportCommand::Cypher(args) => cypher(args),
        ExportCommand::OpenLineage(args) => openlineage(args),
    }
}

fn lineage(repo: &Repo, rev: &str) -> anyhow::Result<(String, Snapshot)> {
    let commit = repo.resolve_commit(rev)?;
    let snapshot = Builder::new(repo, workers::default_jobs())
        .of_commit(&commit, Overrides::default())
        .with_context(|| format!("the lineage of {rev}"))?;
    Ok((commit, snapshot))
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn output(out: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
        }
    }
    Ok(())
}

fn cypher(args: &CypherArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let (commit, snapshot) = lineage(&repo, &args.rev)?;
    let mut script = Vec::new();
    report::cypher::write(&mut script, &snapshot.files, Some(&commit))?;
    let Some(uri) = &args.bolt else {
        output(args.out.as_deref(), &script)?;
        return Ok(ExitStatus::Success);
    };
    // The script has one statement a line, each ending in `;`, and `//` comment lines.
    let statements: Vec<String> = String::from_utf8_lossy(&script)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("//"))
        .map(|l| l.trim_end().trim_end_matches(';').to_string())
        .collect();
    let credentials = bolt::Credentials {
        user: args.user.clone().or_else(|| env("NEO4J_USERNAME")),
        password: env("NEO4J_PASSWORD"),
    };
    let database = args.database.clone().or_else(|| env("NEO4J_DATABASE"));
    let sent = bolt::send(uri, &credentials, database.as_deref(), &statements)
        .with_context(|| format!("loading the lineage of {} into {uri}", args.rev))?;
    eprintln!(
        "git-lineage: {} statements committed in one transaction (Bolt {}.{})",
        sent.statements, sent.version.0, sent.version.1
    );
    Ok(ExitStatus::Success)
}

fn openlineage(args: &OpenLineageArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let (commit, snapshot) = lineage(&repo, &args.rev)?;
    let records = super::runs::read_runs(&repo)?;
    let remote = repo.remote_url("origin");
    let workdir = repo.workdir().unwrap_or_else(|| repo.git_dir());
    let folder = workdir.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
    let namespace =
        args.namespace.clone().unwrap_or_else(|| default_namespace(remote.as_deref(), &folder));
    let repo_url = remote.as_deref().and_then(web_url);
    let time = jiff::Timestamp::from_second(repo.commit_time(&commit)?)
        .context("the commit's time is out of range")?;
    let commit_time = format_timestamp(time);
    let repo_path = workdir.to_string_lossy();
    let export = Export {
        namespace: &namespace,
        dataset_namespace: &args.dataset_namespace,
        commit: &commit,
        commit_time: &commit_time,
        repo_url: repo_url.as_deref(),
        repo_path: &repo_path,
    };
    let report::openlineage::Events { events, unplaced, from_openlineage } =
        report::openlineage::events(&snapshot.files, &records, &export);
    if from_openlineage > 0 {
        eprintln!(
            "git-lineage: {from_openlineage} run(s) recorded on {} were imported from OpenLineage events and are left out (their producer's backend has them)",
            args.rev
        );
    }
    if unplaced > 0 {
        eprintln!(
            "git-lineage: {unplaced} run(s) recorded on {} name no transformation of it (whole commands, or code since moved) and are left out",
            args.rev
        );
    }
    match &args.url {
        Some(url) => {
            let key = args.api_key.clone().or_else(|| env("OPENLINEAGE_API_KEY"));
            post(url, key.as_deref(), &events)?;
            eprintln!("git-lineage: {} events sent to {url}", events.len());
        }
        None => {
            let mut bytes = Vec::new();
            report::openlineage::write(&mut bytes, &events)?;
            output(args.out.as_deref(), &bytes)?;
        }
    }
    Ok(ExitStatus::Success)
}

/// POST each event, in order; the first refusal stops the export and is reported with the
/// server's answer.
fn post(url: &str, api_key: Option<&str>, events: &[serde_json::Value]) -> anyhow::Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_mins(1)))
        .build()
        .into();
    for (n, event) in events.iter().enumerate() {
        let body = serde_json::to_vec(event)?;
        let mut request = agent.post(url).header("Content-Type", "application/json");
        if let Some(key) = api_key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = request
            .send(&body[..])
            .with_context(|| format!("sending event {} of {} to {url}", n + 1, events.len()))?;
        let status = response.status();
        if !status.is_success() {
            let answer = response.body_mut().read_to_string().unwrap_or_default();
            bail!(
                "{url} refused event {} of {} ({status}): {}",
                n + 1,
                events.len(),
                answer.trim()
            );
        }
    }
    Ok(())
}
