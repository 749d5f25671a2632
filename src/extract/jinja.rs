//! dbt / Jinja templates rendered without executing them. (in progress: another branch)
use crate::diagnostic::Diagnostic;
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelConfig { pub schema: Option<String>, pub alias: Option<String>, pub database: Option<String>, pub materialized: Option<String> }
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered { pub sql: String, pub line_map: Vec<usize>, pub config: ModelConfig, pub extra_reads: Vec<(String, usize)>, pub diagnostics: Vec<Diagnostic> }
pub fn is_templated(text: &str) -> bool { text.contains("{{") || text.contains("{%") || text.contains("{#") }
pub fn render(text: &str, _this: &str) -> Rendered { Rendered { sql: text.to_string(), line_map: (1..=text.lines().count()).collect(), config: ModelConfig::default(), extra_reads: vec![], diagnostics: vec![] } }
