//! The difference between the lineage of two states of a repository (two commits, a commit
//! and the work tree or the index), and what each changed transformation touches downstream.
//!
//! Transformations are matched by file, kind and the datasets they write, not by id: an id
//! holds a line number, and a statement that only moved is not a change.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::LineageGraph;
use crate::extract::{ColumnEdge, Fragment, IndirectEdge, Kind, Transformation};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GraphDiff {
    pub datasets_added: Vec<String>,
    pub datasets_removed: Vec<String>,
    pub transformations: Vec<TransformationChange>,
}

impl GraphDiff {
    pub fn is_empty(&self) -> bool {
        self.datasets_added.is_empty()
            && self.datasets_removed.is_empty()
            && self.transformations.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// One transformation that appeared, disappeared or changed, with what changed in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransformationChange {
    pub change: Change,
    /// The id on the new side (on the old side for a removed one).
    pub id: String,
    pub kind: Kind,
    pub reads_added: Vec<String>,
    pub reads_removed: Vec<String>,
    pub writes_added: Vec<String>,
    pub writes_removed: Vec<String>,
    pub columns_added: Vec<ColumnEdge>,
    pub columns_removed: Vec<ColumnEdge>,
    pub indirect_added: Vec<IndirectEdge>,
    pub indirect_removed: Vec<IndirectEdge>,
    /// What depends on it downstream (on the new side; the old side for a removed one).
    pub impact: Impact,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub datasets: Vec<String>,
    pub columns: Vec<String>,
}

/// What changed from `base` to `head`.
pub fn diff(base: &[Fragment], head: &[Fragment]) -> GraphDiff {
    let base_graph = LineageGraph::from_fragments(base);
    let head_graph = LineageGraph::from_fragments(head);
    let datasets = |fragments: &[Fragment]| -> BTreeSet<String> {
        fragments
            .iter()
            .flat_map(|f| &f.transformations)
            .flat_map(|t| t.reads.iter().chain(&t.writes))
            .cloned()
            .collect()
    };
    let (base_sets, head_sets) = (datasets(base), datasets(head));
    let mut out = GraphDiff {
        datasets_added: head_sets.difference(&base_sets).cloned().collect(),
        datasets_removed: base_sets.difference(&head_sets).cloned().collect(),
        transformations: Vec::new(),
    };
    let (old, new) = (keyed(base), keyed(head));
    for (key, t) in &new {
        match old.get(key) {
            None => out.transformations.push(change(Change::Added, None, Some(t), &head_graph)),
            Some(before) if !same(before, t) => {
                out.transformations.push(change(
                    Change::Changed,
                    Some(before),
                    Some(t),
                    &head_graph,
                ));
            }
            Some(_) => {}
        }
    }
    for (key, t) in &old {
        if !new.contains_key(key) {
            out.transformations.push(change(Change::Removed, Some(t), None, &base_graph));
        }
    }
    out.transformations.sort_by(|a, b| (a.change, &a.id).cmp(&(b.change, &b.id)));
    out
}

/// (file, kind, writes, n-th such) -> transformation.
type Key = (String, Kind, Vec<String>, usize);

fn keyed(fragments: &[Fragment]) -> BTreeMap<Key, &Transformation> {
    let mut out = BTreeMap::new();
    for fragment in fragments {
        let mut seen: BTreeMap<(Kind, Vec<String>), usize> = BTreeMap::new();
        for t in &fragment.transformations {
            let n = seen.entry((t.kind, t.writes.clone())).or_insert(0);
            out.insert((fragment.path.clone(), t.kind, t.writes.clone(), *n), t);
            *n += 1;
        }
    }
    out
}

/// Whether two versions of a transformation have the same lineage: reads, writes, direct and
/// indirect column edges (its line and id may differ).
pub fn same(a: &Transformation, b: &Transformation) -> bool {
    a.reads == b.reads && a.writes == b.writes && a.columns == b.columns && a.indirect == b.indirect
}

fn added<T: Ord + Clone>(old: &[T], new: &[T]) -> Vec<T> {
    let old: BTreeSet<&T> = old.iter().collect();
    new.iter().filter(|x| !old.contains(x)).cloned().collect()
}

fn change(
    change: Change,
    before: Option<&Transformation>,
    after: Option<&Transformation>,
    graph: &LineageGraph,
) -> TransformationChange {
    let empty = Transformation {
        id: String::new(),
        kind: Kind::Select,
        line: 0,
        reads: vec![],
        writes: vec![],
        columns: vec![],
        indirect: vec![],
        confidence: crate::extract::Confidence::Full,
        drops: vec![],
        renames: vec![],
        procedure: None,
        output_columns: vec![],
        structure: crate::extract::Structure::default(),
        operations: vec![],
        after: vec![],
    };
    let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let this = after.or(before).unwrap_or(&empty);
    TransformationChange {
        change,
        id: this.id.clone(),
        kind: this.kind,
        reads_added: added(&b.reads, &a.reads),
        reads_removed: added(&a.reads, &b.reads),
        writes_added: added(&b.writes, &a.writes),
        writes_removed: added(&a.writes, &b.writes),
        columns_added: added(&b.columns, &a.columns),
        columns_removed: added(&a.columns, &b.columns),
        indirect_added: added(&b.indirect, &a.indirect),
        indirect_removed: added(&a.indirect, &b.indirect),
        impact: graph.impact_of(this),
    }
}

impl LineageGraph {
    /// Everything downstream of a transformation: the datasets fed by what it writes, and the
    /// columns fed by the columns it writes (through direct and indirect column edges).
    pub fn impact_of(&self, t: &Transformation) -> Impact {
        let mut datasets = BTreeSet::new();
        for written in &t.writes {
            datasets.extend(self.downstream(written));
        }
        let starts: BTreeSet<&str> = t
            .columns
            .iter()
            .map(|c| c.target.as_str())
            .chain(
                t.indirect.iter().filter(|e| e.kind.is_column_level()).map(|e| e.target.as_str()),
            )
            .collect();
        let mut columns = BTreeSet::new();
        let mut stack: Vec<&str> = starts.into_iter().collect();
        while let Some(column) = stack.pop() {
            for next in self.columns_fed_by(column) {
                if columns.insert(next.to_string()) {
                    stack.push(next);
                }
            }
        }
        Impact { datasets: datasets.into_iter().collect(), columns: columns.into_iter().collect() }
    }
}
