//! Writers of results: the only code that formats output for people and machines.

pub mod ab;
pub mod cost;
pub mod cypher;
pub mod diff;
pub mod json;
pub mod openlineage;
pub mod picture;
pub mod pr;
pub mod suggest;
pub mod text;
pub mod view;
