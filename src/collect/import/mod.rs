//! Importers: runs that other tools measured, read from the files they write. Each importer
//! is a pure function from a file's bytes to runs; placing them on commits and
//! transformations is the caller's (it needs the repository).
//!
//! A malformed file is refused whole, with every problem named by file, line and field:
//! nothing is recorded half.

pub mod dbt;
pub mod openlineage;
pub mod table;

use std::fmt;

use super::record::RunRecord;
use crate::extract::Fragment;

/// A run read from another tool's files, not yet placed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRun {
    /// The record, with `commit` empty until the caller places it.
    pub record: RunRecord,
    /// The file of the code that ran, as the tool names it (dbt: relative to the project).
    pub file: Option<String>,
    /// The datasets the run wrote, as the tool names them.
    pub writes: Vec<String>,
    /// The commit the tool says ran.
    pub commit: Option<CommitHint>,
}

/// A commit named by the imported file.
#[derive(Debug, Clone, PartialEq)]
pub enum CommitHint {
    /// Given by the user's own file (a `commit` column): it must resolve.
    Required(String),
    /// Given by the tool's metadata (OpenLineage `sourceCodeLocation.version`): used when it is
    /// a commit of this repository.
    Preferred(String),
}

/// What an importer read: the runs, and what it left out on purpose (e.g. dbt tests,
/// OpenLineage runs without an end), as counts by reason.
#[derive(Debug, Default)]
pub struct Imported {
    pub runs: Vec<ImportedRun>,
    pub left_out: Vec<(String, usize)>,
}

impl Imported {
    fn leave_out(&mut self, reason: &str) {
        match self.left_out.iter_mut().find(|(r, _)| r == reason) {
            Some((_, n)) => *n += 1,
            None => self.left_out.push((reason.to_string(), 1)),
        }
    }
}

/// A problem with an imported file: which file, where, which field, what.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Malformed {
    pub file: String,
    /// The line, for line-oriented files (and JSON syntax errors).
    pub line: Option<usize>,
    /// The field, as a path (`results[2].execution_time`), or a column name.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

impl Malformed {
    fn new(
        file: &str,
        line: Option<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Malformed { file: file.to_string(), line, field: field.into(), message: message.into() }
    }
}

/// Deserialize JSON, naming the field that did not fit (serde's path) and the line.
fn from_json<T: serde::de::DeserializeOwned>(
    file: &str,
    line: Option<usize>,
    text: &str,
) -> Result<T, Malformed> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        // A JSON file's own line, unless the caller knows the line (JSON lines).
        let line = line.or_else(|| (inner.line() > 0).then_some(inner.line()));
        let field = if field == "." { String::new() } else { field };
        Malformed::new(file, line, field, strip_position(&inner.to_string()))
    })
}

/// serde_json appends " at line L column C" to its messages; the line is said once, before.
fn strip_position(message: &str) -> String {
    message.find(" at line ").map_or(message, |i| &message[..i]).to_string()
}

/// Milliseconds between two times, to the microsecond.
fn millis_between(start: jiff::Timestamp, end: jiff::Timestamp) -> f64 {
    let micros = end.as_microsecond() - start.as_microsecond();
    #[allow(clippy::cast_precision_loss)]
    let ms = micros as f64 / 1000.0;
    ms
}

/// The transformation of `fragments` that a run maps to: the one in its file (the one that
/// writes a dataset the run wrote, when the file has several), else the one that writes a
/// dataset the run wrote, when exactly one does. Dataset names match when one's dotted
/// parts end the other's (`"shop"."main"."orders"` is `main.orders` and `orders`).
pub fn transformation_of(
    fragments: &[Fragment],
    file: Option<&str>,
    writes: &[String],
) -> Option<String> {
    let writes: Vec<Vec<String>> = writes.iter().map(|w| name_parts(w)).collect();
    let writes_any = |t: &crate::extract::Transformation| {
        t.writes.iter().any(|w| {
            let w = name_parts(w);
            writes.iter().any(|r| same_dataset(r, &w))
        })
    };
    if let Some(file) = file {
        let file = file.trim_start_matches("./");
        // The path from the repository's root, or from a folder in it (a dbt project's
        // paths are relative to the project) when only one file ends so.
        let nested = format!("/{file}");
        let mut ends = fragments.iter().filter(|f| f.path.ends_with(&nested));
        let fragment = fragments.iter().find(|f| f.path == file).or_else(|| {
            match (ends.next(), ends.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        });
        if let Some(fragment) = fragment {
            let writers: Vec<_> =
                fragment.transformations.iter().filter(|t| !t.writes.is_empty()).collect();
            let chosen = match writers.as_slice() {
                [one] => Some(*one),
                _ => writers.iter().copied().find(|t| writes_any(t)),
            };
            return chosen.or(fragment.transformations.first()).map(|t| t.id.clone());
        }
    }
    if writes.is_empty() {
        return None;
    }
    let mut found = fragments.iter().flat_map(|f| &f.transformations).filter(|t| writes_any(t));
    match (found.next(), found.next()) {
        (Some(one), None) => Some(one.id.clone()),
        _ => None,
    }
}

/// A dataset name's parts, unquoted and lowercased.
fn name_parts(name: &str) -> Vec<String> {
    name.split('.')
        .map(|p| p.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']')).to_lowercase())
        .filter(|p| !p.is_empty())
        .collect()
}

fn same_dataset(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    !short.is_empty() && long.ends_with(short)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Settings, extract};

    fn fragment(path: &str, sql: &str) -> Fragment {
        extract(path, sql.as_bytes(), &Settings::default())
    }

    #[test]
    fn runs_map_to_the_transformation_of_their_file_or_of_what_they_wrote() {
        let fragments = [
            fragment("models/orders.sql", "\n\ncreate table orders as select * from raw.o"),
            fragment(
                "etl/load.sql",
                "insert into raw.a select 1;\ninsert into mart.b select * from raw.a;",
            ),
        ];
        let map = |file: Option<&str>, writes: &[&str]| {
            let writes: Vec<String> = writes.iter().map(|w| (*w).to_string()).collect();
            transformation_of(&fragments, file, &writes)
        };
        assert_eq!(map(Some("models/orders.sql"), &[]).as_deref(), Some("models/orders.sql#3"));
        assert_eq!(
            map(Some("etl/load.sql"), &["\"db\".\"mart\".\"b\""]).as_deref(),
            Some("etl/load.sql#2")
        );
        assert_eq!(map(None, &["shop.main.orders"]).as_deref(), Some("models/orders.sql#3"));
        assert_eq!(map(None, &["b"]).as_deref(), Some("etl/load.sql#2"));
        assert_eq!(map(None, &["elsewhere.x"]), None);
        assert_eq!(map(Some("models/gone.sql"), &[]), None);
        assert_eq!(map(Some("orders.sql"), &[]).as_deref(), Some("models/orders.sql#3"));
    }
}
