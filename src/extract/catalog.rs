//! Known table columns. (in progress)
#[derive(Debug, Clone, Default)]
pub struct Catalog;
