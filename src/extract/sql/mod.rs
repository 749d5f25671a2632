//! SQL lineage. (in progress)
pub mod names;
