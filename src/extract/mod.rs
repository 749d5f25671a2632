//! Extraction: from one file's bytes to its lineage fragment.
//!
//! Pure functions only: no git, no file system, no process. The caller (the CLI, or the git
//! store in a later issue) reads the bytes and passes them in with the settings that apply to
//! the file's path; the answer depends on nothing else, so it can be cached per blob.

pub mod catalog;
pub mod fallback;
pub mod jinja;
pub mod sql;

use serde::{Deserialize, Serialize};

pub use catalog::Catalog;

use crate::diagnostic::Diagnostic;

/// Files larger than this are skipped with a diagnostic: no ETL model is this big, and a hook
/// must stay fast.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The lineage of one file: the `files[]` entry of `git-lineage extract --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    pub path: String,
    pub language: Language,
    pub transformations: Vec<Transformation>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Sql,
    Python,
}

/// One statement (or dbt model) that reads and writes datasets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transformation {
    /// `path#line`: stable while the statement stays on its line.
    pub id: String,
    pub kind: Kind,
    /// 1-based line where the statement starts.
    pub line: usize,
    /// Datasets read, sorted.
    pub reads: Vec<String>,
    /// Datasets written, sorted.
    pub writes: Vec<String>,
    /// Direct column lineage: each output column and every column it is computed from.
    pub columns: Vec<ColumnEdge>,
    /// `full` when the statement was parsed; `partial` when only table names could be
    /// recovered by the error-tolerant fallback.
    pub confidence: Confidence,
    /// Datasets dropped or truncated, and tables renamed (`from` -> `to`): the graph needs them
    /// to know that a name stops (or starts) meaning the same data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drops: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renames: Vec<Rename>,
}

/// What a statement does, as a stable lower-case word in the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Select,
    Insert,
    CreateTableAs,
    CreateTable,
    CreateView,
    Merge,
    Update,
    Delete,
    Copy,
    Unload,
    Rename,
    Drop,
    Truncate,
    Cache,
    Use,
    /// A dbt model: the file as a whole writes the model's relation.
    Model,
    /// A statement the fallback recovered table names from.
    Unparsed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Full,
    Partial,
}

/// `source` feeds `target`. Names are `dataset.column`; a target of a query that writes no
/// dataset is the bare output column name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ColumnEdge {
    pub source: String,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
}
