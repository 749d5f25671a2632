//! Configuration: `.git-lineage.toml` at the repository root, all optional, and the command
//! line flags over it, resolved into the `Settings` that apply to one file.
//!
//! ```toml
//! [extract]
//! dialect = "snowflake"          # default for every SQL file
//! default_schema = "analytics"   # qualifies unqualified names
//! schema = "warehouse.json"      # known table columns (JSON or CREATE TABLE statements)
//!
//! [extract.dialects]             # per path glob, relative to the repository root
//! "jobs/spark/**" = "spark"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::extract::sql::Dialect;
use crate::extract::sql::dialect::UnknownDialect;
use crate::extract::{Catalog, Settings};

pub const FILE_NAME: &str = ".git-lineage.toml";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid configuration")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("{path}: {source}")]
    Dialect { path: PathBuf, source: UnknownDialect },
    #[error("{path}: bad glob `{glob}`")]
    Glob { path: PathBuf, glob: String, source: globset::Error },
    #[error("schema file {path}")]
    Schema { path: PathBuf, source: crate::extract::catalog::SchemaError },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    extract: ExtractConfig,
    #[serde(default)]
    checks: Checks,
    #[serde(default)]
    resources: Resources,
}

/// Prices and today's requests, for `suggest`'s resource advice (`[resources]` in
/// `.git-lineage.toml`); all optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// The price of one CPU for an hour (any currency).
    pub cpu_hour: Option<f64>,
    /// The price of one GB of memory for an hour.
    pub gb_hour: Option<f64>,
    /// What the runner requests for each transformation today: memory (GB) and CPUs.
    pub requested_memory_gb: Option<f64>,
    pub requested_cpus: Option<f64>,
    /// Requests of particular transformations, by file (`models/big.sql`) or transformation
    /// id, over the ones above: `[resources.requests."models/big.sql"]`.
    #[serde(default)]
    pub requests: std::collections::BTreeMap<String, Request>,
}

/// What the runner requests for one transformation.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub memory_gb: Option<f64>,
    pub cpus: Option<f64>,
}

impl Resources {
    /// What the runner requests for a transformation (its own request, else the default),
    /// as (memory GB, CPUs).
    pub fn requested(&self, file: &str, id: &str) -> (Option<f64>, Option<f64>) {
        let own = self.requests.get(id).or_else(|| self.requests.get(file));
        (
            own.and_then(|r| r.memory_gb).or(self.requested_memory_gb),
            own.and_then(|r| r.cpus).or(self.requested_cpus),
        )
    }
}

/// The pre-commit checks a user turns on (`[checks]` in `.git-lineage.toml`); all off by
/// default, so that the hook never blocks a commit unasked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// Fail when a transformation starts reading a dataset that no transformation writes and
    /// that is not a declared source.
    #[serde(default)]
    pub unknown_sources: bool,
    /// Declared sources: datasets (globs, e.g. `raw.*`) that come from outside.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Fail when a dataset depends on itself.
    #[serde(default)]
    pub cycles: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtractConfig {
    dialect: Option<String>,
    default_schema: Option<String>,
    schema: Option<PathBuf>,
    #[serde(default)]
    dialects: BTreeMap<String, String>,
}

/// The configuration in force: defaults, then the file, then flags.
#[derive(Debug)]
pub struct Config {
    /// Where relative globs start: the folder of the configuration file.
    root: PathBuf,
    dialect: Dialect,
    default_schema: Option<String>,
    catalog: Catalog,
    globs: GlobSet,
    glob_dialects: Vec<Dialect>,
    indirect: bool,
    /// dbt projects of a commit's tree (folder -> model paths); `None` on the file system,
    /// where they are looked up beside each file.
    dbt_projects: Option<BTreeMap<String, Vec<String>>>,
    checks: Checks,
    resources: Resources,
}

/// What the command line says, over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub dialect: Option<Dialect>,
    pub default_schema: Option<String>,
    pub catalog: Option<Catalog>,
    /// Leave indirect lineage out (it costs about a tenth of the extraction time).
    pub no_indirect: bool,
}

impl Config {
    /// Find `.git-lineage.toml` in `start` or a parent (stopping at a repository root) and
    /// apply the overrides. No file is fine: everything has a default.
    pub fn discover(start: &Path, overrides: Overrides) -> Result<Self, Error> {
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        let mut dir = Some(start.as_path());
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Self::load(&candidate, overrides);
            }
            if d.join(".git").exists() {
                break;
            }
            dir = d.parent();
        }
        Self::from_parts(start, ExtractConfig::default(), overrides, Path::new(""), &|p: &Path| {
            std::fs::read(p)
        })
    }

    pub fn load(path: &Path, overrides: Overrides) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Read { path: path.into(), source })?;
        let file: FileConfig =
            toml::from_str(&text).map_err(|source| Error::Parse { path: path.into(), source })?;
        let root = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut config =
            Self::from_parts(root, file.extract, overrides, path, &|p: &Path| std::fs::read(p))?;
        config.checks = file.checks;
        config.resources = file.resources;
        Ok(config)
    }

    /// The configuration as committed: `.git-lineage.toml` (if any) and the files it names are
    /// read from a commit's tree through `read` (paths from the repository root); dbt projects
    /// are found among the tree's `paths`.
    pub fn from_tree(
        config_text: Option<&str>,
        overrides: Overrides,
        paths: &[String],
        read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    ) -> Result<Self, Error> {
        let path = Path::new(FILE_NAME);
        let file: FileConfig = match config_text {
            Some(text) => {
                toml::from_str(text).map_err(|source| Error::Parse { path: path.into(), source })?
            }
            None => FileConfig::default(),
        };
        let mut config = Self::from_parts(PathBuf::new(), file.extract, overrides, path, read)?;
        config.checks = file.checks;
        config.resources = file.resources;
        let mut projects = BTreeMap::new();
        for project in
            paths.iter().filter(|p| *p == "dbt_project.yml" || p.ends_with("/dbt_project.yml"))
        {
            let dir = project
                .strip_suffix("dbt_project.yml")
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string();
            let text = read(Path::new(project))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            projects.insert(dir, model_paths(&text));
        }
        config.dbt_projects = Some(projects);
        Ok(config)
    }

    fn from_parts(
        root: PathBuf,
        file: ExtractConfig,
        overrides: Overrides,
        path: &Path,
        read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    ) -> Result<Self, Error> {
        let parse_dialect = |name: &str| {
            name.parse::<Dialect>().map_err(|source| Error::Dialect { path: path.into(), source })
        };
        let dialect = match (overrides.dialect, &file.dialect) {
            (Some(d), _) => d,
            (None, Some(name)) => parse_dialect(name)?,
            (None, None) => Dialect::default(),
        };
        let mut builder = GlobSetBuilder::new();
        let mut glob_dialects = Vec::new();
        for (glob, name) in &file.dialects {
            let compiled = Glob::new(glob).map_err(|source| Error::Glob {
                path: path.into(),
                glob: glob.clone(),
                source,
            })?;
            builder.add(compiled);
            glob_dialects.push(parse_dialect(name)?);
        }
        let globs = builder.build().map_err(|source| Error::Glob {
            path: path.into(),
            glob: String::new(),
            source,
        })?;
        let mut catalog = match &file.schema {
            Some(schema) => load_schema_with(&root.join(schema), dialect, read)?,
            None => Catalog::new(),
        };
        if let Some(extra) = overrides.catalog {
            catalog.extend(&extra);
        }
        Ok(Config {
            root,
            dialect,
            default_schema: overrides.default_schema.or(file.default_schema),
            catalog,
            globs,
            glob_dialects,
            indirect: !overrides.no_indirect,
            dbt_projects: None,
            checks: Checks::default(),
            resources: Resources::default(),
        })
    }

    /// The settings for one file. A `--dialect` flag wins over the file's globs.
    pub fn settings_for(&self, path: &Path, dialect_flag: bool) -> Settings {
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        let dialect = if dialect_flag {
            self.dialect
        } else {
            self.globs.matches(relative).last().map_or(self.dialect, |&i| self.glob_dialects[i])
        };
        Settings {
            dialect,
            default_schema: self.default_schema.clone(),
            catalog: self.catalog.clone(),
            dbt_model: match &self.dbt_projects {
                Some(projects) => dbt_model_in_tree(path, projects),
                None => dbt_model_name(path),
            },
            indirect: self.indirect,
            python: std::sync::Arc::default(),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    pub fn checks(&self) -> &Checks {
        &self.checks
    }
}

/// A `--schema` file: JSON `{"schema.table": [cols]}`, or SQL whose CREATE TABLE statements
/// declare the columns.
pub fn load_schema(path: &Path, dialect: Dialect) -> Result<Catalog, Error> {
    load_schema_with(path, dialect, &|p: &Path| std::fs::read(p))
}

fn load_schema_with(
    path: &Path,
    dialect: Dialect,
    read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Catalog, Error> {
    let bytes = read(path).map_err(|source| Error::Read { path: path.into(), source })?;
    let text = String::from_utf8_lossy(&bytes);
    if text.trim_start().starts_with('{') {
        return Catalog::from_json(&text)
            .map_err(|source| Error::Schema { path: path.into(), source });
    }
    Ok(crate::extract::sql::declared_tables(&text, dialect))
}

/// If `path` is a model of a dbt project (under the project's `models/` folder, beside a
/// `dbt_project.yml`), the model's name: its file stem.
pub fn dbt_model_name(path: &Path) -> Option<String> {
    if path.extension().is_none_or(|e| e != "sql") {
        return None;
    }
    let absolute = path.canonicalize().ok()?;
    let mut dir = absolute.parent();
    while let Some(d) = dir {
        if d.join("dbt_project.yml").is_file() {
            let relative = absolute.strip_prefix(d).ok()?;
            let first = relative.components().next()?.as_os_str().to_str()?;
            let text = std::fs::read_to_string(d.join("dbt_project.yml")).unwrap_or_default();
            let model_paths = model_paths(&text);
            return model_paths
                .iter()
                .any(|m| m == first)
                .then(|| path.file_stem().and_then(|s| s.to_str()).map(str::to_string))
                .flatten();
        }
        dir = d.parent();
    }
    None
}

/// The dbt model a tree path is, given the tree's dbt projects (folder -> model paths): the
/// nearest project above it, when the file is under one of its model paths.
fn dbt_model_in_tree(path: &Path, projects: &BTreeMap<String, Vec<String>>) -> Option<String> {
    if path.extension().is_none_or(|e| e != "sql") {
        return None;
    }
    let text = path.to_str()?;
    let (dir, model_paths) = projects
        .iter()
        .filter(|(dir, _)| dir.is_empty() || text.starts_with(&format!("{dir}/")))
        .max_by_key(|(dir, _)| dir.len())?;
    let relative = if dir.is_empty() { text } else { &text[dir.len() + 1..] };
    let first = relative.split('/').next()?;
    model_paths
        .iter()
        .any(|m| m == first)
        .then(|| path.file_stem()?.to_str().map(str::to_string))
        .flatten()
}

/// `model-paths: ["models", …]` from `dbt_project.yml`, read with a line scan (the one key we
/// need does not justify a YAML parser); `models` by default.
fn model_paths(text: &str) -> Vec<String> {
    text.lines()
        .find_map(|line| line.trim().strip_prefix("model-paths:"))
        .map(|list| {
            list.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec!["models".to_string()])
}
