//! `git-lineage extract`: files, folders or standard input to lineage, as JSON or text.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::ExitStatus;
use crate::config::{Config, Overrides, load_schema};
use crate::diagnostic::Severity;
use crate::extract::python::project::{Project, with_projects};
use crate::extract::sql::Dialect;
use crate::extract::{Catalog, Fragment, extract};
use crate::graph;
use crate::report;
use crate::workers;

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Files or folders (walked for `.sql` and `.py` files); `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// SQL dialect: generic, ansi, postgres, mysql, sqlite, snowflake, bigquery, redshift,
    /// mssql, hive, spark, databricks, duckdb, clickhouse (also oracle, teradata).
    #[arg(long, value_parser = parse_dialect)]
    dialect: Option<Dialect>,
    /// Known table columns: JSON `{"schema.table": ["col", …]}` or a file of CREATE TABLE
    /// statements.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Schema that unqualified dataset names belong to.
    #[arg(long)]
    default_schema: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Leave out indirect lineage (the columns that filter, join, group, sort and decide).
    #[arg(long)]
    no_indirect: bool,
    /// Files analyzed at once (default: one per core).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Text,
}

fn parse_dialect(name: &str) -> Result<Dialect, String> {
    name.parse::<Dialect>().map_err(|e| e.to_string())
}

/// Folders that hold generated or vendored SQL, not the project's own.
const SKIPPED_DIRS: &[&str] = &["node_modules", "dbt_packages", "dbt_modules", "target", "logs"];

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitStatus> {
    let dialect_flag = args.dialect.is_some();
    let mut overrides = Overrides {
        dialect: args.dialect,
        default_schema: args.default_schema,
        catalog: None,
        no_indirect: args.no_indirect,
    };
    if let Some(schema) = &args.schema {
        let catalog = load_schema(schema, args.dialect.unwrap_or_default())
            .with_context(|| format!("loading --schema {}", schema.display()))?;
        overrides.catalog = Some(catalog);
    }
    let config = discover_config(&args.paths, overrides)?;

    let mut inputs: Vec<Input> = Vec::new();
    for path in &args.paths {
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
            inputs.push(Input {
                path: PathBuf::from("-"),
                display: "-".into(),
                bytes: Some(bytes),
            });
        } else if path.is_dir() {
            inputs.extend(walk(path));
        } else if path.is_file() {
            inputs.push(Input { path: path.clone(), display: display(path), bytes: None });
        } else {
            bail!("{}: no such file or folder", path.display());
        }
    }

    let jobs = args.jobs.unwrap_or_else(workers::default_jobs);
    let extract_one = |input: &Input, inferred: &Catalog, project: Option<&Project>| {
        let mut settings = config.settings_for(&input.path, dialect_flag);
        if let Some(project) = project {
            settings.python = Arc::new(project.clone());
        }
        if !inferred.is_empty() {
            // What the user declared wins over what other files suggest.
            let mut catalog = inferred.clone();
            catalog.extend(&settings.catalog);
            settings.catalog = catalog;
        }
        match &input.bytes {
            Some(bytes) => extract(&input.display, bytes, &settings),
            None => match std::fs::read(&input.path) {
                Ok(bytes) => extract(&input.display, &bytes, &settings),
                Err(e) => unreadable(&input.display, &e),
            },
        }
    };
    let first = workers::map(&inputs, jobs, |input| extract_one(input, &Catalog::new(), None))?;
    let fragments = graph::with_inferred_schemas(first, config.catalog(), |again| {
        workers::map(again, jobs, |(i, inferred)| extract_one(&inputs[*i], inferred, None))
    })?;
    // Python files that import the project's modules or load its configuration files are
    // analyzed again with their text (read from disk, as the paths name them).
    let fragments = with_projects(
        fragments,
        |path| path != "-" && Path::new(path).is_file(),
        |path| std::fs::read_to_string(path).ok(),
        |again| {
            workers::map(again, jobs, |(i, project)| {
                let mut settings = config.settings_for(&inputs[*i].path, dialect_flag);
                settings.python = std::sync::Arc::new(project.clone());
                match &inputs[*i].bytes {
                    Some(bytes) => extract(&inputs[*i].display, bytes, &settings),
                    None => match std::fs::read(&inputs[*i].path) {
                        Ok(bytes) => extract(&inputs[*i].display, &bytes, &settings),
                        Err(e) => unreadable(&inputs[*i].display, &e),
                    },
                }
            })
        },
    )?;

    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => report::json::write_files(&mut stdout, &fragments)?,
        Format::Text => report::text::write_files(&mut stdout, &fragments)?,
    }
    stdout.flush()?;
    let failed =
        fragments.iter().flat_map(|f| &f.diagnostics).any(|d| d.severity == Severity::Error);
    Ok(if failed { ExitStatus::Failure } else { ExitStatus::Success })
}

/// The configuration that applies to the first path given (its folder or a parent's
/// `.git-lineage.toml`).
pub(super) fn discover_config(paths: &[PathBuf], overrides: Overrides) -> anyhow::Result<Config> {
    let start = paths
        .iter()
        .find(|p| p.as_os_str() != "-")
        .map_or_else(|| PathBuf::from("."), Clone::clone);
    let start = if start.is_dir() {
        start
    } else {
        start.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    Ok(Config::discover(
        if start.as_os_str().is_empty() { Path::new(".") } else { &start },
        overrides,
    )?)
}

pub(super) struct Input {
    pub(super) path: PathBuf,
    pub(super) display: String,
    bytes: Option<Vec<u8>>,
}

fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

/// `.sql` and `.py` files under a folder, sorted, hidden and generated folders skipped.
pub(super) fn walk(root: &Path) -> Vec<Input> {
    let walker = walkdir::WalkDir::new(root).sort_by_file_name().into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.depth() == 0
            || !(e.file_type().is_dir()
                && (name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref())))
    });
    walker
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && crate::extract::is_supported(e.path()))
        .map(|e| Input { path: e.path().to_path_buf(), display: display(e.path()), bytes: None })
        .collect()
}

fn unreadable(path: &str, error: &std::io::Error) -> Fragment {
    Fragment {
        path: path.to_string(),
        language: if crate::extract::is_python(path) {
            crate::extract::Language::Python
        } else {
            crate::extract::Language::Sql
        },
        transformations: Vec::new(),
        intermediates: Vec::new(),
        imports: Vec::new(),
        configs: Vec::new(),
        diagnostics: vec![crate::diagnostic::Diagnostic::error(
            1,
            1,
            format!("cannot read the file: {error}"),
        )],
    }
}
