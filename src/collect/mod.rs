//! Execution history: what really happened when transformations ran, recorded on the commit
//! whose code ran, beside its lineage (`refs/notes/lineage-runs`, see `docs/runs-format.md`).
//!
//! `measure` runs a real process and takes the operating system's account of it; `record` is
//! the run record and its JSON-lines form.

pub mod anomaly;
pub mod import;
pub mod measure;
pub mod record;
