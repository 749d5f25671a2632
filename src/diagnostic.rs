//! Diagnostics: what went wrong in analyzed input, with where it went wrong.
//!
//! Analyzed input is never an `Err` (STYLE rule 4): unparseable SQL, invalid UTF-8, a binary
//! file or an unsupported construct becomes a `Diagnostic` with a line and column, and the
//! analysis of everything else goes on.

use serde::{Deserialize, Serialize};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something was not analyzed: lineage may be missing.
    Error,
    /// Analyzed, but the answer may be incomplete or ambiguous.
    Warning,
    /// For the record: nothing is missing.
    Info,
}

/// One finding about the analyzed input, located by 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn error(line: usize, column: usize, message: impl Into<String>) -> Self {
        Self { line, column, severity: Severity::Error, message: message.into() }
    }

    pub fn warning(line: usize, column: usize, message: impl Into<String>) -> Self {
        Self { line, column, severity: Severity::Warning, message: message.into() }
    }

    pub fn info(line: usize, column: usize, message: impl Into<String>) -> Self {
        Self { line, column, severity: Severity::Info, message: message.into() }
    }

    /// The same finding moved down by `lines` lines: statements are parsed one by one and
    /// their positions are relative to the statement's first line.
    #[must_use]
    pub fn shifted(mut self, lines: usize) -> Self {
        self.line += lines;
        self
    }
}
