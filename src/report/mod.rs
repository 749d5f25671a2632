//! Writers of results: the only code that formats output for people and machines.

pub mod json;
pub mod text;
