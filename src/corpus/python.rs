//! Accuracy of Python lineage against `../shared/corpus/python/` (issue 6): real third-party
//! PySpark, Glue, pandas, psycopg2 and Airflow files, with the datasets each one reads and writes
//! worked out by hand in `expected.jsonl` (its `SOURCES.md` says how).
//!
//! # What is scored
//!
//! A *unit* is one line of `expected.jsonl`: a `.py` file (`"unit": "file"`), or a pipeline
//! directory (`"unit": "pipeline"`: an entry point and the modules it uses). git-lineage's answer
//! for a unit is the union, over every transformation of its fragments, of `reads` (its inputs)
//! and of `writes` (its outputs); a pipeline's fragments are those of every `.py` file under its
//! directory, each extracted on its own. The expected `system`, `kind` and `format` are not
//! scored: the fragment names datasets and nothing more.
//!
//! **Temporary views are not datasets** (the corpus's convention). Names the unit's own code
//! registers as Spark temporary views (`createOrReplaceTempView("v")`, `createTempView`, the
//! global variants, `registerTempTable`, and SQL `CREATE … TEMP[ORARY] VIEW v` in its strings)
//! are removed from both roles, whether the extractor reports them or resolves through them.
//! The fragment's `intermediates` (written, then read later) are *not* removed: the corpus
//! lists a persistent dataset that a file writes and later reads (a CSV one Airflow task writes
//! and the next reads, a table inserted into and then queried) as both an input and an output,
//! and dropping it would make those answers wrong.
//!
//! # Names
//!
//! Both sides go through [`normalize`] before they are compared, so that only spellings of the
//! same dataset meet:
//! - URIs (`scheme://…`): the scheme is lower-cased; `s3a://` and `s3n://` become `s3://`
//!   (Hadoop's connectors to the same object store: `s3a://b/k` and `s3://b/k` are one object,
//!   and a lineage graph must join a job writing one to a job reading the other); `file:///p`
//!   becomes `/p`. The rest keeps its case (object keys are case-sensitive).
//! - Paths and URIs lose trailing slashes (`s3://b/dir/` and `s3://b/dir` are one prefix) and
//!   relative paths a leading `./`. Paths keep their case.
//! - Other names (tables, bare file names) are compared case-insensitively with identifier
//!   quotes (`"`, `` ` ``, `[ ]`) dropped per dotted part: the engines of the corpus (Spark's
//!   catalog, PostgreSQL's unquoted names, Glue) fold case, and a file never names two tables
//!   that differ only in case.
//!
//! An expected entry with a `resolved_path` (a relative path and what it resolves to) is found
//! by either spelling.
//!
//! # Unresolved names
//!
//! An expected entry with `"resolved": false` is a template whose holes (`{argv[1]}`,
//! `{param:NAME}`, `{NAME}`) stand for values known only at run time. git-lineage reports such
//! a value as a placeholder (`<dynamic:variable>`, possibly inside constant text:
//! `s3://bucket/<dynamic:key>`). A template is found by a placeholder name in the same role
//! whose constant text agrees with the template's: the text before the first hole of one is a
//! prefix of the other's, and the text after the last hole of one is a suffix of the other's.
//! The variable's name is not compared (the corpus names the value's origin, the extractor the
//! variable holding it). Placeholders and templates pair one to one (a maximum matching), so
//! two unknown outputs need two placeholders. A concrete name the template lists in
//! `allowed_values` (the code narrows the value to these) also finds it; `examples` do not
//! (they are illustrations, and a guessed value is wrong).
//!
//! A placeholder never *finds* a resolved name: the corpus worked the value out statically (a
//! config module, the caller's arguments in a pipeline), so the unit misses it and recall
//! counts it missing. But the placeholder's claim, that the code reads (or writes) something
//! there, is true: a placeholder left over that pairs (one to one, again a maximum matching)
//! with a resolved entry still missing, the entry's name starting with the placeholder's
//! constant text before its first hole and ending with the text after its last, is
//! **unresolved**: not scorable for precision (neither right nor wrong), listed apart.
//!
//! # Figures
//!
//! - A unit is **exact** when, in both roles, every expected entry is found and every name
//!   git-lineage gives is matched: a placeholder to a template, a concrete name to an entry (a
//!   second spelling of an entry already found, or a further allowed value of a template
//!   already found, counts as matched too).
//! - **Precision**: matched names / (names given - unresolved placeholders); **recall**:
//!   expected entries found / expected entries; both over every role of every unit (files and
//!   pipelines). Any other name that matches nothing counts against precision, placeholders
//!   included: it claims a read or write that is not there, or more of them than there are.
//!   With nothing scorable given, precision is undefined (printed `-`).
//!
//! Targets (issue 6): at least 90 % of units exact, precision at least 0.97.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Count;
use crate::extract::python::project::{Project, References};
use crate::extract::{Fragment, Settings, extract};

/// The issue's targets.
pub const TARGET_EXACT_PERCENT: f64 = 90.0;
pub const TARGET_PRECISION: f64 = 0.97;

/// Why the corpus could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("walking {path}")]
    Walk {
        path: PathBuf,
        #[source]
        source: walkdir::Error,
    },
    #[error("{path}, line {line}: not an expected-lineage entry")]
    Parse {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: no such {unit} in the corpus")]
    Missing { path: PathBuf, unit: Unit },
}

/// One line of `expected.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct PythonCase {
    /// Relative to the corpus folder; a pipeline's ends with `/`.
    pub file: String,
    pub unit: Unit,
    #[serde(default)]
    pub frameworks: Vec<String>,
    #[serde(default)]
    pub inputs: Vec<ExpectedDataset>,
    #[serde(default)]
    pub outputs: Vec<ExpectedDataset>,
    /// The answer depends on run-time values or on broken upstream code.
    #[serde(default)]
    pub uncertain: bool,
    #[serde(default)]
    pub notes: String,
}

/// What a line of `expected.jsonl` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// One `.py` file.
    File,
    /// A directory: an entry point and the modules it uses.
    Pipeline,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unit::File => "file",
            Unit::Pipeline => "pipeline",
        })
    }
}

/// An expected input or output.
#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedDataset {
    /// The literal name, or a template with `{…}` holes when `resolved` is false.
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default = "yes")]
    pub resolved: bool,
    /// The only values an unresolved name can take.
    #[serde(default)]
    pub allowed_values: Vec<String>,
    /// Values an unresolved name may take (not exhaustive; not scored).
    #[serde(default)]
    pub examples: Vec<String>,
    /// What a relative `name` resolves to, where the code says (another spelling).
    #[serde(default)]
    pub resolved_path: Option<String>,
}

fn yes() -> bool {
    true
}

/// A tool's answer for one unit: the names it reads and writes (as the tool spells them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub reads: BTreeSet<String>,
    pub writes: BTreeSet<String>,
}

/// The file the expected answers are in.
pub const EXPECTED: &str = "expected.jsonl";

/// Every unit of `dir/expected.jsonl`, in file order.
pub fn load(dir: &Path) -> Result<Vec<PythonCase>, Error> {
    let path = dir.join(EXPECTED);
    let text =
        fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case = serde_json::from_str(line).map_err(|source| Error::Parse {
            path: path.clone(),
            line: i + 1,
            source,
        })?;
        cases.push(case);
    }
    Ok(cases)
}

/// The `.py` files a unit is made of, relative to the corpus folder, sorted: the file itself,
/// or every `.py` file under a pipeline's directory.
pub fn sources(dir: &Path, case: &PythonCase) -> Result<Vec<String>, Error> {
    let path = dir.join(&case.file);
    match case.unit {
        Unit::File => {
            if path.is_file() {
                Ok(vec![case.file.clone()])
            } else {
                Err(Error::Missing { path, unit: case.unit })
            }
        }
        Unit::Pipeline => {
            if !path.is_dir() {
                return Err(Error::Missing { path, unit: case.unit });
            }
            let mut found = Vec::new();
            for entry in walkdir::WalkDir::new(&path).sort_by_file_name() {
                let entry = entry.map_err(|source| Error::Walk { path: path.clone(), source })?;
                let p = entry.path();
                if entry.file_type().is_file() && p.extension().is_some_and(|e| e == "py") {
                    let relative = p.strip_prefix(dir).unwrap_or(p);
                    found.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
            Ok(found)
        }
    }
}

/// git-lineage's answer for a unit: each of its files extracted (path relative to the corpus
/// folder) with the project's modules and configuration files it refers to (found on disk
/// beside it or above it, as `extract` does), then [`answer`] over the unit's entry points:
/// the files no other file of the unit imports (a pipeline's lineage is what running its
/// entry point does, calls into the other modules included).
pub fn predict(dir: &Path, case: &PythonCase, settings: &Settings) -> Result<Answer, Error> {
    let mut files = Vec::new();
    for relative in sources(dir, case)? {
        let path = dir.join(&relative);
        let bytes = fs::read(&path).map_err(|source| Error::Read { path, source })?;
        let fragment = extract(&relative, &bytes, settings);
        files.push((relative, fragment, String::from_utf8_lossy(&bytes).into_owned()));
    }
    let others: RefCell<BTreeMap<String, Option<References>>> = RefCell::default();
    let refers = |path: &str| -> Option<References> {
        if let Some((_, f, _)) = files.iter().find(|(p, _, _)| p == path) {
            return Some((f.imports.clone(), f.configs.clone()));
        }
        if let Some(known) = others.borrow().get(path) {
            return known.clone();
        }
        let found = fs::read(dir.join(path)).ok().map(|bytes| {
            let f = extract(path, &bytes, settings);
            (f.imports, f.configs)
        });
        others.borrow_mut().insert(path.to_string(), found.clone());
        found
    };
    let exists = |path: &str| dir.join(path).is_file();
    let read = |path: &str| fs::read_to_string(dir.join(path)).ok();
    let projects: Vec<Project> =
        files.iter().map(|(p, _, _)| Project::build(p, refers, exists, read)).collect();
    let imported: BTreeSet<&String> = projects.iter().flat_map(|p| p.links.values()).collect();
    let mut entries = Vec::new();
    for ((relative, fragment, text), project) in files.iter().zip(projects.iter()) {
        if imported.contains(relative) {
            continue;
        }
        let fragment = if project.is_empty() {
            fragment.clone()
        } else {
            let settings = Settings { python: Arc::new(project.clone()), ..settings.clone() };
            extract(relative, text.as_bytes(), &settings)
        };
        entries.push((fragment, text.clone()));
    }
    Ok(answer(&entries))
}

/// A unit's answer from its files' fragments and source texts: reads and writes united over
/// every transformation, less the temporary views the sources register.
pub fn answer(files: &[(Fragment, String)]) -> Answer {
    let temporary: BTreeSet<String> =
        files.iter().flat_map(|(_, source)| temp_views(source)).map(|v| normalize(&v)).collect();
    let mut answer = Answer::default();
    for (fragment, _) in files {
        for t in &fragment.transformations {
            answer
                .reads
                .extend(t.reads.iter().filter(|r| !temporary.contains(&normalize(r))).cloned());
            answer
                .writes
                .extend(t.writes.iter().filter(|w| !temporary.contains(&normalize(w))).cloned());
        }
    }
    answer
}

/// The expected answer in git-lineage's conventions: resolved names as they are, each hole of
/// a template as a `<dynamic:…>` placeholder. Scoring it gives 100 %.
pub fn expected_answer(case: &PythonCase) -> Answer {
    let spell = |d: &ExpectedDataset| {
        if d.resolved {
            return d.name.clone();
        }
        let mut out = String::new();
        for piece in pieces(&d.name, '{', '}') {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Hole(h) => {
                    let variable: String = h
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
                        .collect();
                    out.push_str(PLACEHOLDER);
                    out.push_str(&variable);
                    out.push('>');
                }
            }
        }
        out
    };
    Answer {
        reads: case.inputs.iter().map(spell).collect(),
        writes: case.outputs.iter().map(spell).collect(),
    }
}

/// Names registered as temporary views in Python source: the string literal given to Spark's
/// `createOrReplaceTempView`, `createTempView`, `createGlobalTempView`,
/// `createOrReplaceGlobalTempView` and `registerTempTable`, and the view of any
/// `CREATE [OR REPLACE] [GLOBAL] TEMP[ORARY] VIEW [IF NOT EXISTS] name` in the text. A global
/// view is also registered as `global_temp.name`, the name Spark reads it by.
pub fn temp_views(source: &str) -> BTreeSet<String> {
    let mut views = BTreeSet::new();
    for method in [
        "createOrReplaceTempView",
        "createTempView",
        "createGlobalTempView",
        "createOrReplaceGlobalTempView",
        "registerTempTable",
    ] {
        let call = format!(".{method}(");
        let mut rest = source;
        while let Some(at) = rest.find(&call) {
            rest = &rest[at + call.len()..];
            if let Some(name) = string_literal(rest) {
                if method.contains("Global") {
                    views.insert(format!("global_temp.{name}"));
                }
                views.insert(name);
            }
        }
    }
    let words: Vec<&str> = source
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | ';' | ','))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if !w.eq_ignore_ascii_case("view") || i == 0 {
            continue;
        }
        let before = words[i - 1];
        if !(before.eq_ignore_ascii_case("temp") || before.eq_ignore_ascii_case("temporary")) {
            continue;
        }
        let create = words[..i - 1].iter().rev().take(4).any(|w| w.eq_ignore_ascii_case("create"));
        if !create {
            continue;
        }
        let mut next = i + 1;
        if words.get(next).is_some_and(|w| w.eq_ignore_ascii_case("if"))
            && words.get(next + 1).is_some_and(|w| w.eq_ignore_ascii_case("not"))
            && words.get(next + 2).is_some_and(|w| w.eq_ignore_ascii_case("exists"))
        {
            next += 3;
        }
        if let Some(name) = words.get(next) {
            let global =
                words[..i - 1].iter().rev().take(2).any(|w| w.eq_ignore_ascii_case("global"));
            if global {
                views.insert(format!("global_temp.{name}"));
            }
            views.insert((*name).to_string());
        }
    }
    views
}

/// The contents of a Python string literal at the start of `text` (after white space; one
/// `r`/`u` prefix allowed), if it holds no escapes.
fn string_literal(text: &str) -> Option<String> {
    let text = text.trim_start();
    let text = text.strip_prefix(['r', 'u', 'R', 'U']).unwrap_or(text);
    let quote = text.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let body = &text[1..];
    let end = body.find(quote)?;
    let name = &body[..end];
    (!name.is_empty() && !name.contains('\\') && !name.contains('\n')).then(|| name.to_string())
}

/// The form names are compared in (see the module's documentation).
pub fn normalize(name: &str) -> String {
    let name = name.trim();
    if let Some((scheme, rest)) = name.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        let scheme = match scheme.as_str() {
            "s3a" | "s3n" => "s3",
            other => other,
        };
        if scheme == "file" && rest.starts_with('/') {
            return trim_slashes(rest).to_string();
        }
        return format!("{scheme}://{}", trim_slashes(rest));
    }
    if name.contains('/') {
        let mut path = name;
        while let Some(rest) = path.strip_prefix("./") {
            path = rest;
        }
        return trim_slashes(path).to_string();
    }
    crate::extract::sql::scope::split_name(name)
        .iter()
        .map(|part| {
            let part = part.trim();
            let part = part
                .strip_prefix('`')
                .and_then(|p| p.strip_suffix('`'))
                .or_else(|| part.strip_prefix('[').and_then(|p| p.strip_suffix(']')))
                .unwrap_or(part);
            part.to_lowercase()
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Without trailing slashes, unless nothing else is left.
fn trim_slashes(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { path } else { trimmed }
}

enum Piece<'a> {
    Text(&'a str),
    Hole(&'a str),
}

/// `text` cut into constant text and holes delimited by `open` … `close`.
fn pieces(text: &str, open: char, close: char) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let Some(len) = rest[start..].find(close) else { break };
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Hole(&rest[start + open.len_utf8()..start + len]));
        rest = &rest[start + len + close.len_utf8()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// The constant text before the first hole and after the last one; `None` without holes.
fn anchors(text: &str, open: &str, close: &str) -> Option<(String, String)> {
    let first = text.find(open)?;
    let last_open = text.rfind(open)?;
    let last = text[last_open..].find(close).map_or(text.len(), |l| last_open + l + close.len());
    Some((text[..first].to_string(), text[last..].to_string()))
}

const PLACEHOLDER: &str = "<dynamic:";

/// Whether a name given by a tool is (or holds) a placeholder for a run-time value.
pub fn is_placeholder(name: &str) -> bool {
    name.contains(PLACEHOLDER)
}

/// An expected entry, ready to match.
struct Want {
    /// Resolved: its spellings, normalized. Unresolved: the template's spelling, normalized.
    names: Vec<String>,
    resolved: bool,
    allowed: BTreeSet<String>,
    display: String,
}

impl Want {
    fn new(d: &ExpectedDataset) -> Self {
        let mut names = vec![normalize(&d.name)];
        if let Some(p) = &d.resolved_path {
            names.push(normalize(p));
        }
        Want {
            names,
            resolved: d.resolved,
            allowed: d.allowed_values.iter().map(|v| normalize(v)).collect(),
            display: d.name.clone(),
        }
    }

    /// Whether a given name (normalized) is one this entry accepts, and whether that pairing is
    /// one-to-one (placeholders) or a concrete spelling (which a found entry may absorb again).
    fn accepts(&self, given: &str) -> Option<Pairing> {
        if self.resolved {
            return self.names.iter().any(|n| n == given).then_some(Pairing::Concrete);
        }
        if is_placeholder(given) {
            let template = anchors(&self.names[0], "{", "}");
            let placeholder = anchors(given, PLACEHOLDER, ">");
            let ((tp, ts), (pp, ps)) = (template?, placeholder?);
            let prefix = tp.starts_with(&pp) || pp.starts_with(&tp);
            let suffix = ts.ends_with(&ps) || ps.ends_with(&ts);
            return (prefix && suffix).then_some(Pairing::Placeholder);
        }
        self.allowed.contains(given).then_some(Pairing::Concrete)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pairing {
    Concrete,
    Placeholder,
}

/// How one role (inputs or outputs) of one unit compares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleScore {
    /// Expected entries, and how many were found.
    pub expected: usize,
    pub found: usize,
    /// Names given (after temporary views are removed and spellings normalized), and how many
    /// matched an expected entry.
    pub given: usize,
    pub matched: usize,
    /// Expected entries not found, as the corpus spells them.
    pub missing: Vec<String>,
    /// Placeholders given that stand for a missing resolved entry (not scorable for
    /// precision), as the tool spells them.
    pub unresolved: Vec<String>,
    /// Names given that match nothing, as the tool spells them.
    pub extra: Vec<String>,
}

impl RoleScore {
    pub fn exact(&self) -> bool {
        self.found == self.expected && self.matched == self.given
    }
}

/// Compare the names a tool gives in one role with the expected entries of that role.
pub fn score_role(expected: &[ExpectedDataset], given: &BTreeSet<String>) -> RoleScore {
    let wants: Vec<Want> = expected.iter().map(Want::new).collect();
    // Given names by normalized spelling; two spellings of one name are one name.
    let mut spelled: BTreeMap<String, String> = BTreeMap::new();
    for g in given {
        spelled.entry(normalize(g)).or_insert_with(|| g.clone());
    }
    let names: Vec<&String> = spelled.keys().collect();
    let edges: Vec<Vec<(usize, Pairing)>> = names
        .iter()
        .map(|n| {
            wants.iter().enumerate().filter_map(|(i, w)| w.accepts(n).map(|p| (i, p))).collect()
        })
        .collect();
    // Maximum one-to-one matching of given names to expected entries (augmenting paths).
    let (owner, mut matched_given) = matching(&edges, wants.len());
    // A further concrete spelling or allowed value of an entry already found is right too.
    for (g, edge) in edges.iter().enumerate() {
        if !matched_given[g] {
            matched_given[g] =
                edge.iter().any(|(w, p)| *p == Pairing::Concrete && owner[*w].is_some());
        }
    }
    // Placeholders left over, paired with resolved entries still missing that they could
    // stand for: unresolved, not wrong.
    let stands_for: Vec<Vec<(usize, Pairing)>> = names
        .iter()
        .enumerate()
        .map(|(g, n)| {
            if matched_given[g] || !is_placeholder(n) {
                return Vec::new();
            }
            let Some((prefix, suffix)) = anchors(n, PLACEHOLDER, ">") else { return Vec::new() };
            wants
                .iter()
                .enumerate()
                .filter(|(w, want)| {
                    owner[*w].is_none()
                        && want.resolved
                        && want.names.iter().any(|name| {
                            name.len() >= prefix.len() + suffix.len()
                                && name.starts_with(&prefix)
                                && name.ends_with(&suffix)
                        })
                })
                .map(|(w, _)| (w, Pairing::Placeholder))
                .collect()
        })
        .collect();
    let (_, unresolved_given) = matching(&stands_for, wants.len());
    RoleScore {
        expected: wants.len(),
        found: owner.iter().filter(|o| o.is_some()).count(),
        given: names.len(),
        matched: matched_given.iter().filter(|m| **m).count(),
        missing: wants
            .iter()
            .zip(&owner)
            .filter(|(_, o)| o.is_none())
            .map(|(w, _)| w.display.clone())
            .collect(),
        unresolved: spelled
            .values()
            .zip(&unresolved_given)
            .filter(|(_, u)| **u)
            .map(|(g, _)| g.clone())
            .collect(),
        extra: spelled
            .values()
            .zip(matched_given.iter().zip(&unresolved_given))
            .filter(|(_, (m, u))| !**m && !**u)
            .map(|(g, _)| g.clone())
            .collect(),
    }
}

/// A maximum one-to-one matching of given names (`edges`, one list per name) to `wants`
/// expected entries: each entry's name, and for each name whether it is matched.
fn matching(edges: &[Vec<(usize, Pairing)>], wants: usize) -> (Vec<Option<usize>>, Vec<bool>) {
    let mut owner: Vec<Option<usize>> = vec![None; wants];
    for g in 0..edges.len() {
        let mut seen = vec![false; wants];
        augment(g, edges, &mut owner, &mut seen);
    }
    let mut matched = vec![false; edges.len()];
    for g in owner.iter().flatten() {
        matched[*g] = true;
    }
    (owner, matched)
}

/// Kuhn's augmenting path from given name `g`.
fn augment(
    g: usize,
    edges: &[Vec<(usize, Pairing)>],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &(w, _) in &edges[g] {
        if seen[w] {
            continue;
        }
        seen[w] = true;
        let free = match owner[w] {
            None => true,
            Some(other) => augment(other, edges, owner, seen),
        };
        if free {
            owner[w] = Some(g);
            return true;
        }
    }
    false
}

/// How one unit compares.
#[derive(Debug, Clone, Serialize)]
pub struct UnitScore {
    pub file: String,
    pub unit: Unit,
    pub uncertain: bool,
    pub inputs: RoleScore,
    pub outputs: RoleScore,
}

impl UnitScore {
    pub fn exact(&self) -> bool {
        self.inputs.exact() && self.outputs.exact()
    }
}

/// Score one unit's answer.
pub fn score_unit(case: &PythonCase, answer: &Answer) -> UnitScore {
    UnitScore {
        file: case.file.clone(),
        unit: case.unit,
        uncertain: case.uncertain,
        inputs: score_role(&case.inputs, &answer.reads),
        outputs: score_role(&case.outputs, &answer.writes),
    }
}

/// The figures over a corpus.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PythonReport {
    pub units: Vec<UnitScore>,
    /// Exact units: all, files, pipelines, and those the corpus marks uncertain.
    pub exact: Count,
    pub files: Count,
    pub pipelines: Count,
    pub uncertain: Count,
    pub expected: usize,
    pub found: usize,
    pub given: usize,
    pub matched: usize,
    /// Placeholders given for datasets the corpus resolves (not scorable for precision).
    pub unresolved: usize,
}

impl PythonReport {
    /// Matched names / names given less the unresolved placeholders; `None` when nothing
    /// scorable was given.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.matched, self.given - self.unresolved)
    }

    /// Expected entries found / expected entries; `None` when nothing was expected.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.found, self.expected)
    }

    /// Whether the issue's targets are met.
    pub fn meets_targets(&self) -> bool {
        self.exact.percent() >= TARGET_EXACT_PERCENT
            && self.precision().is_some_and(|p| p >= TARGET_PRECISION)
    }

    /// `python lineage: exact E% (k/n files and pipelines), precision P, recall R`.
    pub fn summary(&self) -> String {
        let show = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
        format!(
            "python lineage: exact {:.1}% ({}/{} files and pipelines), precision {}, recall {}",
            self.exact.percent(),
            self.exact.matched,
            self.exact.scored,
            show(self.precision()),
            show(self.recall())
        )
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (b > 0).then(|| a as f64 / b as f64)
}

/// Score answers (by unit `file`) against the cases; a unit without an answer answered
/// nothing.
pub fn score(cases: &[PythonCase], answers: &BTreeMap<String, Answer>) -> PythonReport {
    let mut report = PythonReport::default();
    let nothing = Answer::default();
    for case in cases {
        let unit = score_unit(case, answers.get(&case.file).unwrap_or(&nothing));
        let exact = unit.exact();
        report.exact.add(exact);
        match case.unit {
            Unit::File => report.files.add(exact),
            Unit::Pipeline => report.pipelines.add(exact),
        }
        if case.uncertain {
            report.uncertain.add(exact);
        }
        for role in [&unit.inputs, &unit.outputs] {
            report.expected += role.expected;
            report.found += role.found;
            report.given += role.given;
            report.matched += role.matched;
            report.unresolved += role.unresolved.len();
        }
        report.units.push(unit);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(name: &str, resolved: bool) -> ExpectedDataset {
        ExpectedDataset {
            name: name.into(),
            kind: String::new(),
            system: None,
            format: None,
            resolved,
            allowed_values: Vec::new(),
            examples: Vec::new(),
            resolved_path: None,
        }
    }

    fn given(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_string()).collect()
    }

    #[test]
    fn spellings_of_one_dataset_normalize_alike() {
        assert_eq!(normalize("s3a://Bucket/Key/"), "s3://Bucket/Key");
        assert_eq!(normalize("S3N://b/k"), "s3://b/k");
        assert_eq!(normalize("file:///home/u/data.csv"), "/home/u/data.csv");
        assert_eq!(normalize("./data/x.csv"), "data/x.csv");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("Chicago_DMV.\"Crash\""), "chicago_dmv.crash");
        assert_eq!(normalize("`db`.`T`"), "db.t");
        assert_eq!(normalize("data/Orders.csv"), "data/Orders.csv");
    }

    #[test]
    fn templates_match_placeholders_whose_constant_text_agrees() {
        let year = [dataset("s3://noaa-gsod-pds/{year}/", false)];
        for ok in ["<dynamic:input_path>", "s3a://noaa-gsod-pds/<dynamic:year>/"] {
            assert!(score_role(&year, &given(&[ok])).exact(), "{ok}");
        }
        for wrong in ["s3://other/<dynamic:year>", "s3://noaa-gsod-pds/2024/"] {
            assert!(!score_role(&year, &given(&[wrong])).exact(), "{wrong}");
        }
        // A placeholder never finds a resolved name; standing for it, it is unresolved, not
        // wrong; standing for nothing (or for a name with other constant text) it is wrong.
        let resolved = [dataset("data/in.csv", true)];
        let s = score_role(&resolved, &given(&["<dynamic:path>"]));
        assert_eq!((s.found, s.matched, s.unresolved.len(), s.extra.len()), (0, 0, 1, 0));
        assert!(!s.exact());
        let s = score_role(&resolved, &given(&["<dynamic:a>", "<dynamic:b>"]));
        assert_eq!((s.unresolved.len(), s.extra.len()), (1, 1));
        let s = score_role(&resolved, &given(&["s3://<dynamic:bucket>/in.csv"]));
        assert_eq!((s.unresolved.len(), s.extra.len()), (0, 1));
        let s = score_role(&[], &given(&["<dynamic:path>"]));
        assert_eq!((s.unresolved.len(), s.extra.len()), (0, 1));
    }

    #[test]
    fn placeholders_pair_one_to_one() {
        let two = [dataset("{argv[1]}", false), dataset("s3://b/{param:key}.csv", false)];
        // The narrow template needs the narrow placeholder: the matching finds it either way.
        let s = score_role(&two, &given(&["<dynamic:a>", "s3://b/<dynamic:k>.csv"]));
        assert!(s.exact(), "{s:?}");
        let s = score_role(&two, &given(&["<dynamic:a>"]));
        assert_eq!((s.found, s.matched, s.missing.len()), (1, 1, 1));
        let one = [dataset("{argv[1]}", false)];
        let s = score_role(&one, &given(&["<dynamic:a>", "<dynamic:b>"]));
        assert_eq!((s.found, s.matched, s.extra.len()), (1, 1, 1));
    }

    #[test]
    fn allowed_values_and_second_spellings_are_right_examples_are_not() {
        let mut table = dataset("{param:t}", false);
        table.allowed_values = vec!["s.a".into(), "s.b".into()];
        table.examples = vec!["s.c".into()];
        let table = [table];
        assert!(score_role(&table, &given(&["s.a", "S.B"])).exact());
        assert!(!score_role(&table, &given(&["s.c"])).exact());
        let mut path = dataset("data.csv", true);
        path.resolved_path = Some("/home/u/data.csv".into());
        let path = [path];
        assert!(score_role(&path, &given(&["/home/u/data.csv"])).exact());
        assert!(score_role(&path, &given(&["data.csv", "/home/u/data.csv"])).exact());
    }

    #[test]
    fn temp_views_are_found_in_calls_and_sql() {
        let source = r#"
df.createOrReplaceTempView("medicareTable")
people.createGlobalTempView('people')
spark.sql("CREATE OR REPLACE TEMPORARY VIEW IF NOT EXISTS recent AS SELECT 1")
df.createTempView(name)
"#;
        let views = temp_views(source);
        assert_eq!(
            views,
            BTreeSet::from(
                ["medicareTable", "people", "global_temp.people", "recent"].map(String::from)
            )
        );
    }

    #[test]
    fn expected_answers_score_perfectly() {
        let case = PythonCase {
            file: "x.py".into(),
            unit: Unit::File,
            frameworks: Vec::new(),
            inputs: vec![dataset("s3://{argv[1]}/in/", false), dataset("db.t", true)],
            outputs: vec![dataset("{param:table_name}", false)],
            uncertain: false,
            notes: String::new(),
        };
        let perfect = expected_answer(&case);
        assert!(perfect.reads.contains("s3://<dynamic:argv_1_>/in/"));
        let answers = BTreeMap::from([(case.file.clone(), perfect)]);
        let report = score(std::slice::from_ref(&case), &answers);
        assert_eq!(
            (report.exact.matched, report.precision(), report.recall()),
            (1, Some(1.0), Some(1.0))
        );
        let report = score(&[case], &BTreeMap::new());
        assert_eq!(
            (report.exact.matched, report.precision(), report.recall()),
            (0, None, Some(0.0))
        );
    }
}
