//! git-lineage: data lineage from the ETL code in a git repository.
//!
//! Data flows one way through the modules, in the order they are declared:
//! `extract` (bytes of one file -> its lineage fragment, pure) -> `graph` (fragments -> the
//! lineage graph) -> `report` (graph or fragments -> text, JSON); `config` resolves the
//! settings that apply to a path and `cli` wires it all to commands.

pub mod diagnostic;
pub mod source;
pub mod extract;
