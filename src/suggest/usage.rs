//! Which columns of each dataset the repository's transformations read: what projection
//! pruning (S001) may drop. Pure: fragments in, usage out.

use std::collections::{BTreeMap, BTreeSet};

use crate::extract::{Confidence, Fragment};

/// How a dataset is read across the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Transformations that read it.
    pub readers: usize,
    /// Columns read (lower case), directly or to filter, join, group or sort.
    pub columns: BTreeSet<String>,
    /// A reader takes every column (`SELECT *` passed through) or cannot be analyzed fully:
    /// nothing may be dropped.
    pub all: bool,
}

/// The usage of every dataset some transformation reads.
pub fn usage(fragments: &[Fragment]) -> BTreeMap<String, Usage> {
    let mut out: BTreeMap<String, Usage> = BTreeMap::new();
    for t in fragments.iter().flat_map(|f| &f.transformations) {
        for dataset in &t.reads {
            let entry = out.entry(dataset.clone()).or_default();
            entry.readers += 1;
            if t.confidence == Confidence::Partial {
                entry.all = true;
            }
        }
        let edges = t
            .columns
            .iter()
            .map(|e| (&e.source, e.target.as_str()))
            .chain(t.indirect.iter().map(|e| (&e.source, e.target.as_str())));
        for (source, target) in edges {
            let Some((dataset, column)) = source.rsplit_once('.') else { continue };
            let Some(entry) = out.get_mut(dataset) else { continue };
            if column == "*" {
                // `d.*` into `t.*` passes every column on; into a named column it is
                // `count(*)` of a table whose columns are unknown, which needs none. (Where
                // the columns are known, `extract` lists each of them for `count(*)`: then
                // they all count as read, which keeps the rule on the safe side.)
                if target.ends_with(".*") || target == "*" {
                    entry.all = true;
                }
                continue;
            }
            entry.columns.insert(column.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Settings, extract};

    #[test]
    fn columns_read_downstream() {
        let sql = "CREATE TABLE x AS SELECT a, b, c FROM d;\n\
                   CREATE TABLE y AS SELECT a, max(b) AS m FROM x WHERE b > 0 GROUP BY a;\n\
                   CREATE TABLE z AS SELECT * FROM y;";
        let fragment = extract("m.sql", sql.as_bytes(), &Settings::default());
        let usage = usage(&[fragment]);
        let x = &usage["x"];
        assert_eq!((x.readers, x.all), (1, false));
        assert_eq!(x.columns.iter().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
        // y's columns are known in the script: its `*` expands to each of them.
        assert_eq!(usage["y"].columns.iter().map(String::as_str).collect::<Vec<_>>(), ["a", "m"]);
        let unknown = extract("n.sql", b"CREATE TABLE z AS SELECT * FROM w", &Settings::default());
        assert!(super::usage(&[unknown])["w"].all, "an unexpanded * takes every column");
        assert!(!usage.contains_key("z"), "nobody reads z");
    }
}
