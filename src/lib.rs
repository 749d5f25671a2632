//! git-lineage: data lineage from the ETL code in a git repository.
//!
//! Data flows one way through the modules, in the order they are declared:
//! `extract` (bytes of one file -> its lineage fragment, pure) -> `graph` (fragments -> the
//! lineage graph) -> `store` (snapshots as git notes, the fragment cache) -> `report` (fragments or graph ->
//! JSON, text); `ab` judges A/B experiments on labelled runs; `predict` trains run-cost models and runs them with ONNX Runtime; `workers`
//! spreads files over the cores; `config` resolves the
//! settings that apply to a path, `cli` wires commands to all of it, and `corpus` measures
//! accuracy against third-party cases.

pub mod ab;
pub mod bolt;
pub mod cli;
pub mod collect;
pub mod config;
pub mod corpus;
pub mod diagnostic;
pub mod extract;
pub mod graph;
pub mod predict;
pub mod report;
pub mod source;
pub mod store;
pub mod suggest;
pub mod workers;
