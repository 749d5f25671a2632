//! Prediction of run costs (issue 5): the model, its file format and the runtime that serves it.
//!
//! - `gbdt` trains gradient-boosted regression trees in Rust on whatever target the caller gives
//!   (log duration, log peak memory) and evaluates them itself;
//! - `onnx` writes a trained ensemble as an ONNX `TreeEnsembleRegressor`, with hand-written
//!   protobuf messages (no protoc, no generated code);
//! - `runtime` runs such a model with ONNX Runtime; it is the only file that imports `ort`.
//!
//! Why train in Rust and serve with ONNX Runtime: training must run anywhere git-lineage runs,
//! on the repository's own history, without Python; the ONNX file is a portable artifact that
//! other tools (Python's onnxruntime, a CI job) can run and check against our own evaluation.
//! Features and the CLI (`git lineage train`, `predict`) come later.

pub mod cost;
pub mod features;
pub mod gbdt;
pub mod model;
pub mod onnx;
pub mod resources;
pub mod runtime;
pub mod schedule;

use std::path::PathBuf;

/// What can go wrong when training or running a model. Bad training data is refused with the
/// row or parameter named, never a panic.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no training rows (every row is in the validation set, or there are none)")]
    NoTrainingRows,
    #[error("{features} feature values do not make rows of {n_features} features")]
    Shape { features: usize, n_features: usize },
    #[error("{targets} targets for {rows} rows")]
    TargetCount { targets: usize, rows: usize },
    #[error("target of row {row} is not a finite number in f32's range ({value})")]
    Target { row: usize, value: f64 },
    #[error("validation index {index} is out of range ({rows} rows)")]
    ValidationIndex { index: usize, rows: usize },
    #[error("parameter {name}: {why}")]
    Parameter { name: &'static str, why: String },
    /// The ONNX Runtime library is not where we looked; `hint` says how to install it.
    #[error("ONNX Runtime library not found at {}\n  hint: {hint}", path.display())]
    RuntimeMissing { path: PathBuf, hint: String },
    /// A file was there but ONNX Runtime would not load from it (not a library, too old, …).
    #[error("could not load ONNX Runtime from {}: {message}\n  hint: {hint}", path.display())]
    RuntimeLoad { path: PathBuf, message: String, hint: String },
    /// A stored model's file is missing or unreadable.
    #[error("model file {file}: {message}")]
    ModelFile { file: &'static str, message: String },
    /// ONNX Runtime refused a model or a run; `during` names the step.
    #[error("ONNX Runtime failed while {during}: {message}")]
    Runtime { during: &'static str, message: String },
}
