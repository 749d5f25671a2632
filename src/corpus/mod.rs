//! Accuracy against real third-party cases: the corpora in `../shared/corpus/` (sqllineage's
//! own test cases, TPC-H and TPC-DS with sqllineage's answers), scored the way sqllineage's
//! tests compare, for git-lineage and for any peer tool's predictions.
//!
//! sqllineage's conventions differ from git-lineage's output in three documented ways, and the
//! conversion here is the only place that knows them:
//! - unqualified names carry the placeholder schema `<default>` (file paths do not);
//! - a table both read and written in the SQL is an intermediate, in neither list, and column
//!   lineage runs from the first to the last column of each path through such tables;
//! - DELETE and CACHE TABLE statements count as no lineage (they only filter or cache data);
//! - CASE conditions and window keys count as column lineage of the column they decide (for
//!   git-lineage they are indirect lineage, `conditional` and `window`).
//!
//! Names are compared case-insensitively with white space folded, as sqllineage's own
//! equality does (it lower-cases names on construction).
//!
//! Python lineage (`python/`, hand-written answers per file and per pipeline) has its own
//! scorer and rules: [`python`].

pub mod python;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::extract::sql::Dialect;
use crate::extract::sql::scope::split_name;
use crate::extract::{Catalog, Fragment, Kind, Settings, extract};
use crate::graph::{column_paths, moves_data};

/// One case to score.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub id: String,
    /// Which corpus: `sqllineage`, `tpch`, `tpcds`.
    #[serde(default)]
    pub corpus: String,
    #[serde(default = "default_kind")]
    pub test_kind: String,
    #[serde(default = "default_dialect")]
    pub dialect: String,
    pub sql: String,
    pub sources: Option<Vec<String>>,
    pub targets: Option<Vec<String>>,
    pub columns: Option<Vec<(String, String)>>,
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, Vec<String>>>,
}

fn default_kind() -> String {
    "table".into()
}

fn default_dialect() -> String {
    "ansi".into()
}

/// What a tool answered for a case, in sqllineage's conventions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    pub id: String,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub columns: Vec<(String, String)>,
    #[serde(default)]
    pub error: Option<String>,
}

/// Read every case under a corpus folder; missing corpora are skipped.
pub fn load(corpus: &Path) -> Result<Vec<Case>, std::io::Error> {
    let mut cases = Vec::new();
    let sqllineage = corpus.join("sqllineage");
    if sqllineage.is_dir() {
        for file in entries(&sqllineage, |p| p.extension().is_some_and(|e| e == "jsonl"))? {
            for line in fs::read_to_string(&file)?.lines().filter(|l| !l.trim().is_empty()) {
                match serde_json::from_str::<Case>(line) {
                    Ok(mut case) => {
                        case.corpus = "sqllineage".into();
                        cases.push(case);
                    }
                    Err(e) => eprintln!("git-lineage: skipping a case of {}: {e}", file.display()),
                }
            }
        }
    }
    for name in ["tpch", "tpcds"] {
        let dir = corpus.join(name);
        let reference = dir.join("lineage_sqllineage.jsonl");
        if !reference.is_file() {
            continue;
        }
        for line in fs::read_to_string(&reference)?.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(r) = serde_json::from_str::<Reference>(line) else { continue };
            let file_name = r.file.rsplit('/').next().unwrap_or(&r.file).to_string();
            let Ok(sql) = fs::read_to_string(dir.join(&file_name)) else { continue };
            cases.push(Case {
                id: r.file.clone(),
                corpus: name.into(),
                test_kind: "table".into(),
                dialect: r.dialect.unwrap_or_else(default_dialect),
                sql,
                sources: Some(r.sources),
                targets: Some(r.targets),
                columns: None,
                metadata: None,
            });
        }
    }
    Ok(cases)
}

/// A line of `lineage_sqllineage.jsonl`: the reference answer for one TPC query file.
#[derive(Deserialize)]
struct Reference {
    file: String,
    dialect: Option<String>,
    sources: Vec<String>,
    targets: Vec<String>,
}

/// git-lineage's answer to a case, converted to sqllineage's conventions.
pub fn predict(case: &Case) -> Prediction {
    let mut settings = Settings {
        dialect: case.dialect.parse::<Dialect>().unwrap_or_default(),
        ..Settings::default()
    };
    if let Some(metadata) = &case.metadata {
        let json = serde_json::to_string(metadata).unwrap_or_default();
        settings.catalog = Catalog::from_json(&json).unwrap_or_default();
    }
    let fragment = extract("case.sql", case.sql.as_bytes(), &settings);
    to_sqllineage(&case.id, &fragment)
}

/// Convert a fragment to sqllineage's view of it. sqllineage takes a stored procedure as one
/// statement; within one statement a table both read and written is a source and a target
/// (a self-loop), across statements it is an intermediate, unless a SELECT reads it.
pub fn to_sqllineage(id: &str, fragment: &Fragment) -> Prediction {
    let counted: Vec<_> = fragment
        .transformations
        .iter()
        .filter(|t| moves_data(t.kind) && !matches!(t.kind, Kind::Delete | Kind::Cache))
        .collect();
    // Statements as sqllineage sees them: a procedure's statements are one.
    let mut statements: Vec<(BTreeSet<&String>, BTreeSet<&String>)> = Vec::new();
    let mut procedures: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &counted {
        let index = match t.procedure.as_deref() {
            Some(p) => *procedures.entry(p).or_insert_with(|| {
                statements.push(Default::default());
                statements.len() - 1
            }),
            None => {
                statements.push(Default::default());
                statements.len() - 1
            }
        };
        statements[index].0.extend(&t.reads);
        statements[index].1.extend(&t.writes);
    }
    let mut has_in: BTreeSet<&String> = BTreeSet::new();
    let mut has_out: BTreeSet<&String> = BTreeSet::new();
    let mut selfloop: BTreeSet<&String> = BTreeSet::new();
    for (reads, writes) in &statements {
        for r in reads {
            for w in writes {
                if r == w {
                    selfloop.insert(r);
                } else {
                    has_out.insert(r);
                    has_in.insert(w);
                }
            }
        }
    }
    let read: BTreeSet<&String> = statements.iter().flat_map(|s| s.0.iter().copied()).collect();
    let written: BTreeSet<&String> = statements.iter().flat_map(|s| s.1.iter().copied()).collect();
    // A table a statement only reads (a SELECT) stays a source even when an earlier
    // statement wrote it: sqllineage marks it "source only".
    let source_only: BTreeSet<&String> = statements
        .iter()
        .filter(|(_, writes)| writes.is_empty())
        .flat_map(|(reads, _)| reads.iter().copied())
        .collect();
    let sources = read
        .iter()
        .filter(|d| !has_in.contains(*d) || selfloop.contains(*d) || source_only.contains(*d));
    let targets = written.iter().filter(|d| !has_out.contains(*d) || selfloop.contains(*d));
    let datasets: BTreeSet<&String> = read.union(&written).copied().collect();
    let mut edges = BTreeSet::new();
    for t in &counted {
        for c in &t.columns {
            edges.insert((column_name(&c.source, &datasets), column_name(&c.target, &datasets)));
        }
        // sqllineage counts CASE conditions and window keys as lineage of the column they
        // decide; git-lineage keeps them apart, as indirect lineage of that column.
        for c in t.indirect.iter().filter(|c| c.kind.is_column_level()) {
            edges.insert((column_name(&c.source, &datasets), column_name(&c.target, &datasets)));
        }
    }
    // Columns of a query that writes nothing are not lineage between tables.
    let columns = column_paths(&edges).into_iter().filter(|(_, t)| t.contains('.')).collect();
    Prediction {
        id: id.to_string(),
        sources: sources.map(|d| table_name(d)).collect(),
        targets: targets.map(|d| table_name(d)).collect(),
        columns,
        error: None,
    }
}

/// The entries of a folder that `keep` accepts, sorted.
fn entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut found: Vec<PathBuf> =
        fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| keep(p)).collect();
    found.sort();
    Ok(found)
}

fn is_path(name: &str) -> bool {
    name.contains('/') || name.contains("://")
}

/// `orders` -> `<default>.orders`; quotes that keep dotted parts together are dropped.
fn table_name(dataset: &str) -> String {
    if is_path(dataset) {
        return dataset.to_string();
    }
    let parts = split_name(dataset);
    if parts.len() == 1 { format!("<default>.{}", parts[0]) } else { parts.join(".") }
}

/// `dataset.column` with the dataset in sqllineage's form; the dataset part is the longest
/// known dataset name the text starts with.
fn column_name(name: &str, datasets: &BTreeSet<&String>) -> String {
    let dataset = datasets
        .iter()
        .filter(|d| {
            name.len() > d.len() && name.starts_with(d.as_str()) && name.as_bytes()[d.len()] == b'.'
        })
        .max_by_key(|d| d.len());
    match dataset {
        Some(d) => format!("{}.{}", table_name(d), &name[d.len() + 1..]),
        None => name.to_string(),
    }
}

/// Case-insensitive, white-space-folded form for comparing names.
fn fold(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Whether a prediction matches a case exactly (table or column lineage, by the case's kind).
pub fn matches(case: &Case, prediction: &Prediction) -> bool {
    if prediction.error.is_some() {
        return false;
    }
    let set = |v: &[String]| v.iter().map(|s| fold(s)).collect::<BTreeSet<_>>();
    if case.test_kind == "column" {
        let expected: BTreeSet<(String, String)> =
            case.columns.iter().flatten().map(|(s, t)| (fold(s), fold(t))).collect();
        let got: BTreeSet<(String, String)> =
            prediction.columns.iter().map(|(s, t)| (fold(s), fold(t))).collect();
        expected == got
    } else {
        set(case.sources.as_deref().unwrap_or_default()) == set(&prediction.sources)
            && set(case.targets.as_deref().unwrap_or_default()) == set(&prediction.targets)
    }
}

/// Matched / scored counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    pub matched: usize,
    pub scored: usize,
}

impl Count {
    pub fn add(&mut self, matched: bool) {
        self.scored += 1;
        self.matched += usize::from(matched);
    }

    pub fn percent(self) -> f64 {
        if self.scored == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let p = 100.0 * self.matched as f64 / self.scored as f64;
        p
    }
}

/// Table and column counts for one group of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Score {
    pub table: Count,
    pub column: Count,
}

/// Scores by corpus, by (corpus, dialect), and overall; plus the cases that did not match.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub by_corpus: BTreeMap<String, Score>,
    pub by_dialect: BTreeMap<String, Score>,
    pub total: Score,
    pub misses: Vec<String>,
}

/// Score predictions (by case id) against the cases; a case with no prediction is a miss.
pub fn score(cases: &[Case], predictions: &BTreeMap<String, Prediction>) -> Report {
    let mut report = Report::default();
    for case in cases {
        let ok = predictions.get(&case.id).is_some_and(|p| matches(case, p));
        let column = case.test_kind == "column";
        for score in [
            report.by_corpus.entry(case.corpus.clone()).or_default(),
            report.by_dialect.entry(format!("{}/{}", case.corpus, case.dialect)).or_default(),
            &mut report.total,
        ] {
            if column { score.column.add(ok) } else { score.table.add(ok) }
        }
        if !ok {
            report.misses.push(case.id.clone());
        }
    }
    report
}

/// A dbt project of the corpus with its hand-written answer (`expected_lineage.json`): the
/// models each model reads, and each model column's direct sources.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DbtScore {
    pub project: String,
    /// Models whose reads match exactly.
    pub models: Count,
    /// Model columns whose direct sources match exactly.
    pub columns: Count,
    pub misses: Vec<String>,
}

/// Score every dbt project under the corpus folder that has an `expected_lineage.json`.
pub fn score_dbt(corpus: &Path) -> Result<Vec<DbtScore>, std::io::Error> {
    let mut scores = Vec::new();
    let projects = entries(corpus, |p| {
        p.join("dbt_project.yml").is_file() && p.join("expected_lineage.json").is_file()
    })?;
    for project in projects {
        let expected: DbtExpected =
            match serde_json::from_str(&fs::read_to_string(project.join("expected_lineage.json"))?)
            {
                Ok(e) => e,
                Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            };
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(project.join("models"))
            .into_iter()
            .filter_map(Result::ok)
            .map(walkdir::DirEntry::into_path)
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        let inputs: Vec<(String, Vec<u8>, Option<String>)> = files
            .iter()
            .map(|f| {
                let bytes = fs::read(f).unwrap_or_default();
                (f.display().to_string(), bytes, crate::config::dbt_model_name(f))
            })
            .collect();
        let run = |input: &(String, Vec<u8>, Option<String>), inferred: &Catalog| {
            let settings = Settings {
                dialect: Dialect::DuckDb,
                catalog: inferred.clone(),
                dbt_model: input.2.clone(),
                ..Settings::default()
            };
            extract(&input.0, &input.1, &settings)
        };
        let first: Vec<Fragment> = inputs.iter().map(|i| run(i, &Catalog::new())).collect();
        let fragments = crate::graph::with_inferred_schemas(first, &Catalog::new(), |again| {
            Ok::<_, std::convert::Infallible>(
                again.iter().map(|(i, inferred)| run(&inputs[*i], inferred)).collect(),
            )
        })
        .unwrap_or_default();
        let mut score = DbtScore {
            project: project
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            ..DbtScore::default()
        };
        let models: BTreeMap<&str, &crate::extract::Transformation> = fragments
            .iter()
            .flat_map(|f| &f.transformations)
            .filter(|t| t.kind == Kind::Model)
            .filter_map(|t| t.writes.first().map(|w| (w.as_str(), t)))
            .collect();
        for (name, node) in &expected.nodes {
            if node.kind != "model" {
                continue;
            }
            let got: Option<BTreeSet<&String>> =
                models.get(name.as_str()).map(|t| t.reads.iter().collect());
            let ok = got == Some(node.reads.iter().collect());
            score.models.add(ok);
            if !ok {
                score.misses.push(format!("{name}: reads"));
            }
        }
        for (model, columns) in &expected.column_lineage {
            for (column, sources) in columns {
                let target = format!("{model}.{column}");
                let got: BTreeSet<&str> = models
                    .get(model.as_str())
                    .map(|t| {
                        t.columns
                            .iter()
                            .filter(|c| c.target == target)
                            .map(|c| c.source.as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                let ok = got == sources.iter().map(String::as_str).collect();
                score.columns.add(ok);
                if !ok {
                    score.misses.push(format!("{target}: {got:?}"));
                }
            }
        }
        scores.push(score);
    }
    Ok(scores)
}

#[derive(Deserialize)]
struct DbtExpected {
    nodes: BTreeMap<String, DbtNode>,
    column_lineage: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
struct DbtNode {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    reads: Vec<String>,
}

/// A fixture of indirect lineage: a SQL file whose header comments state the expected
/// `indirect` edges, written by reading the SQL (`-- kind: source -> target`, `""` for the
/// anonymous result of a query, or `-- none`).
#[derive(Debug, Clone)]
pub struct IndirectCase {
    pub id: String,
    pub dialect: String,
    pub sql: String,
    pub expected: BTreeSet<(String, String, String)>,
}

/// Every `<dialect>/<case>.sql` under `dir`, sorted.
pub fn load_indirect(dir: &Path) -> Result<Vec<IndirectCase>, std::io::Error> {
    let mut cases = Vec::new();
    let dialects = entries(dir, Path::is_dir)?;
    for folder in dialects {
        let dialect =
            folder.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        for file in entries(&folder, |p| p.extension().is_some_and(|e| e == "sql"))? {
            let sql = fs::read_to_string(&file)?;
            let expected = sql.lines().filter_map(parse_expectation).collect();
            let name =
                file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            cases.push(IndirectCase {
                id: format!("{dialect}/{name}"),
                dialect: dialect.clone(),
                sql,
                expected,
            });
        }
    }
    Ok(cases)
}

/// `-- filter: raw.orders.status -> mart.orders` as (kind, source, target).
fn parse_expectation(line: &str) -> Option<(String, String, String)> {
    let rest = line.strip_prefix("-- ")?;
    let (kind, edge) = rest.split_once(": ")?;
    if !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return None;
    }
    let (source, target) = edge.split_once(" -> ")?;
    let target = if target.trim() == "\"\"" { String::new() } else { target.trim().to_string() };
    Some((kind.to_string(), source.trim().to_string(), target))
}

/// git-lineage's indirect edges for a fixture, as (kind, source, target).
pub fn predict_indirect(case: &IndirectCase) -> BTreeSet<(String, String, String)> {
    let settings = Settings {
        dialect: case.dialect.parse::<Dialect>().unwrap_or_default(),
        ..Settings::default()
    };
    let fragment = extract(&case.id, case.sql.as_bytes(), &settings);
    fragment
        .transformations
        .iter()
        .flat_map(|t| &t.indirect)
        .map(|e| {
            let kind = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (kind, e.source.clone(), e.target.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_the_default_placeholder_and_fold() {
        assert_eq!(table_name("tab1"), "<default>.tab1");
        assert_eq!(table_name("\"1.2.3.SomeTable\""), "<default>.1.2.3.SomeTable");
        assert_eq!(table_name("s3://b/p"), "s3://b/p");
        let d1 = "db.t".to_string();
        let datasets = BTreeSet::from([&d1]);
        assert_eq!(column_name("db.t.a + b.c", &datasets), "db.t.a + b.c");
        assert_eq!(column_name("x", &datasets), "x");
        assert_eq!(fold("CASE  WHEN x"), "case when x");
    }

    #[test]
    fn expectations_parse_from_comments() {
        assert_eq!(
            parse_expectation("-- filter: raw.t.a -> mart.t"),
            Some(("filter".into(), "raw.t.a".into(), "mart.t".into()))
        );
        assert_eq!(
            parse_expectation("-- sort: raw.t.a -> \"\""),
            Some(("sort".into(), "raw.t.a".into(), String::new()))
        );
        assert_eq!(
            parse_expectation(
                "-- Expected indirect lineage, written by reading the SQL (kind: x -> y):"
            ),
            None
        );
        assert_eq!(parse_expectation("-- none"), None);
    }
}
