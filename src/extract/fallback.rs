//! Error-tolerant table recovery with tree-sitter. (in progress)
