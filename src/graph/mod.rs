//! The lineage graph: datasets and transformations as nodes of a petgraph graph, read and
//! write edges between them, and the column graph beside it.
//!
//! Built from fragments by merging them: a dataset written by one transformation and read by
//! another is one node, which is how a table written and then read in the same script becomes
//! an intermediate. Knows nothing of git.

pub mod diff;

use std::collections::{BTreeMap, BTreeSet};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{EdgeFiltered, EdgeRef};

use crate::extract::python::airflow::SQL_FILE;
use crate::extract::{Catalog, Fragment, IndirectKind, Kind, Transformation};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Dataset(String),
    Transformation(String),
}

/// What an edge says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edge {
    /// A read (dataset -> transformation) or a write (transformation -> dataset): lineage.
    Data,
    /// Transformation -> transformation: the second runs after the first (Airflow's `a >> b`,
    /// a transformation's `after`). Order, not lineage: no data is known to flow.
    Order,
    /// Task -> transformation: the task runs the statements of a `.sql` file (its `sql_file`
    /// operation), when that file is among the fragments.
    Runs,
}

/// Datasets and transformations; a [`Edge::Data`] edge dataset -> transformation is a read,
/// transformation -> dataset a write. Transformations are also joined by ordering edges
/// ([`Edge::Order`], [`Edge::Runs`]) that walks over lineage do not follow.
#[derive(Debug, Default)]
pub struct LineageGraph {
    graph: DiGraph<Node, Edge>,
    index: BTreeMap<Node, NodeIndex>,
    /// Column edges `dataset.column -> dataset.column` of every transformation.
    columns: BTreeSet<(String, String)>,
    /// The same edges the other way round, (target, source): walks upstream look them up.
    columns_into: BTreeSet<(String, String)>,
    /// Indirect edges, marked with how the source decides the target.
    indirect: BTreeSet<(String, String, IndirectKind)>,
    /// The same the other way round, (target, source, kind).
    indirect_into: BTreeSet<(String, String, IndirectKind)>,
}

/// The pairs of a sorted set whose first part is `key`, by their second part.
fn pairs_from<'s>(
    set: &'s BTreeSet<(String, String)>,
    key: &'s str,
) -> impl Iterator<Item = &'s str> + 's {
    set.range((key.to_string(), String::new())..)
        .take_while(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The triples of a sorted set whose first part is `key`, by their other parts.
fn triples_from<'s>(
    set: &'s BTreeSet<(String, String, IndirectKind)>,
    key: &'s str,
) -> impl Iterator<Item = (&'s str, IndirectKind)> + 's {
    // `Filter` is the least kind: the range starts before every triple of the key.
    set.range((key.to_string(), String::new(), IndirectKind::Filter)..)
        .take_while(move |(k, _, _)| k == key)
        .map(|(_, v, kind)| (v.as_str(), *kind))
}

impl LineageGraph {
    /// Merge the fragments of many files into one graph.
    pub fn from_fragments<'a>(fragments: impl IntoIterator<Item = &'a Fragment>) -> Self {
        let mut graph = Self::default();
        let fragments: Vec<&Fragment> = fragments.into_iter().collect();
        for fragment in &fragments {
            for t in &fragment.transformations {
                graph.add(t);
            }
        }
        // A task that runs a `.sql` file runs that file's statements.
        let by_path: BTreeMap<&str, &Fragment> =
            fragments.iter().map(|f| (f.path.as_str(), *f)).collect();
        for t in fragments.iter().flat_map(|f| &f.transformations) {
            let files = t.operations.iter().filter(|o| o.kind == SQL_FILE);
            for file in files.filter_map(|o| by_path.get(o.dataset.as_deref()?)) {
                let task = graph.node(Node::Transformation(t.id.clone()));
                for statement in &file.transformations {
                    let run = graph.node(Node::Transformation(statement.id.clone()));
                    graph.graph.update_edge(task, run, Edge::Runs);
                }
            }
        }
        graph
    }

    /// Ordering edges (before, after) of one kind, by transformation id.
    pub fn ordering(&self, kind: Edge) -> BTreeSet<(String, String)> {
        self.graph
            .edge_references()
            .filter(|e| *e.weight() == kind && kind != Edge::Data)
            .filter_map(|e| match (&self.graph[e.source()], &self.graph[e.target()]) {
                (Node::Transformation(a), Node::Transformation(b)) => Some((a.clone(), b.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn add(&mut self, t: &Transformation) {
        let node = self.node(Node::Transformation(t.id.clone()));
        for read in &t.reads {
            let d = self.node(Node::Dataset(read.clone()));
            self.graph.update_edge(d, node, Edge::Data);
        }
        for write in &t.writes {
            let d = self.node(Node::Dataset(write.clone()));
            self.graph.update_edge(node, d, Edge::Data);
        }
        for before in &t.after {
            let b = self.node(Node::Transformation(before.clone()));
            self.graph.update_edge(b, node, Edge::Order);
        }
        for c in &t.columns {
            self.columns.insert((c.source.clone(), c.target.clone()));
            self.columns_into.insert((c.target.clone(), c.source.clone()));
        }
        for e in &t.indirect {
            self.indirect.insert((e.source.clone(), e.target.clone(), e.kind));
            self.indirect_into.insert((e.target.clone(), e.source.clone(), e.kind));
        }
    }

    /// Datasets downstream of one: written by transformations that read it, and so on.
    pub fn downstream(&self, dataset: &str) -> BTreeSet<String> {
        self.reachable(dataset, Direction::Outgoing)
    }

    /// Datasets upstream of one: read by transformations that write it, and so on.
    pub fn upstream(&self, dataset: &str) -> BTreeSet<String> {
        self.reachable(dataset, Direction::Incoming)
    }

    /// The datasets reachable from one, following edges one way.
    fn reachable(&self, dataset: &str, direction: Direction) -> BTreeSet<String> {
        let Some(&start) = self.index.get(&Node::Dataset(dataset.to_string())) else {
            return BTreeSet::new();
        };
        let mut seen = BTreeSet::from([start]);
        let mut stack = vec![start];
        let mut out = BTreeSet::new();
        while let Some(node) = stack.pop() {
            let data =
                self.graph.edges_directed(node, direction).filter(|e| *e.weight() == Edge::Data);
            let next_nodes = data
                .map(|e| if direction == Direction::Outgoing { e.target() } else { e.source() });
            for next in next_nodes {
                if seen.insert(next) {
                    if let Node::Dataset(name) = &self.graph[next] {
                        out.insert(name.clone());
                    }
                    stack.push(next);
                }
            }
        }
        out
    }

    /// Whether a dataset of this name is in the graph.
    pub fn has_dataset(&self, dataset: &str) -> bool {
        self.index.contains_key(&Node::Dataset(dataset.to_string()))
    }

    /// Columns downstream of a column, each with how it depends on it: `direct` when values
    /// flow all the way, else the kind of the first indirect step (a filter column decides
    /// every column of the dataset it filters).
    pub fn column_downstream(&self, column: &str) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        let mut stack: Vec<(String, String)> = vec![(column.to_string(), "direct".to_string())];
        while let Some((current, how)) = stack.pop() {
            let direct = pairs_from(&self.columns, &current).map(|t| (t.to_string(), how.clone()));
            let indirect = triples_from(&self.indirect, &current).flat_map(|(t, k)| {
                let kind = if how == "direct" { kind_name(k) } else { how.clone() };
                // A dataset-level target stands for every column written to that dataset.
                let targets: Vec<String> = if k.is_column_level() {
                    vec![t.to_string()]
                } else {
                    self.columns_of(t).map(str::to_string).collect()
                };
                targets.into_iter().map(move |c| (c, kind.clone()))
            });
            for (next, next_how) in direct.chain(indirect).collect::<Vec<_>>() {
                if !out.contains_key(&next) && next != column {
                    out.insert(next.clone(), next_how.clone());
                    stack.push((next, next_how));
                }
            }
        }
        out
    }

    /// Columns upstream of a column: what it is computed from or decided by, all the way up.
    pub fn column_upstream(&self, column: &str) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        let mut stack: Vec<(String, String)> = vec![(column.to_string(), "direct".to_string())];
        while let Some((current, how)) = stack.pop() {
            let dataset = current.rsplit_once('.').map(|(d, _)| d.to_string()).unwrap_or_default();
            let direct =
                pairs_from(&self.columns_into, &current).map(|s| (s.to_string(), how.clone()));
            let named = |k: IndirectKind| if how == "direct" { kind_name(k) } else { how.clone() };
            let on_column = triples_from(&self.indirect_into, &current);
            // A dataset-level edge (a filter) decides every column of its dataset.
            let on_dataset =
                triples_from(&self.indirect_into, &dataset).filter(|(_, k)| !k.is_column_level());
            let indirect = on_column.chain(on_dataset).map(|(s, k)| (s.to_string(), named(k)));
            for (next, next_how) in direct.chain(indirect).collect::<Vec<_>>() {
                if !out.contains_key(&next) && next != column {
                    out.insert(next.clone(), next_how.clone());
                    stack.push((next, next_how));
                }
            }
        }
        out
    }

    /// Columns a column feeds in one step: through direct edges and through the indirect
    /// edges that decide a column's value (window keys, CASE conditions).
    fn columns_fed_by<'s>(&'s self, column: &'s str) -> impl Iterator<Item = &'s str> + 's {
        let direct = pairs_from(&self.columns, column);
        let indirect = triples_from(&self.indirect, column)
            .filter(|(_, k)| k.is_column_level())
            .map(|(t, _)| t);
        direct.chain(indirect)
    }

    /// The columns of a dataset that column edges write.
    fn columns_of<'s>(&'s self, dataset: &str) -> impl Iterator<Item = &'s str> + 's {
        let prefix = format!("{dataset}.");
        self.columns_into
            .range((prefix.clone(), String::new())..)
            .map(|(t, _)| t.as_str())
            .take_while(move |t| t.starts_with(&prefix))
    }

    /// What a column decides, directly or not: the datasets and columns downstream of it
    /// through indirect edges (a filter column decides the dataset it filters), with how.
    pub fn decided_by(&self, column: &str) -> BTreeSet<(String, IndirectKind)> {
        triples_from(&self.indirect, column).map(|(t, k)| (t.to_string(), k)).collect()
    }

    fn node(&mut self, node: Node) -> NodeIndex {
        if let Some(&i) = self.index.get(&node) {
            return i;
        }
        let i = self.graph.add_node(node.clone());
        self.index.insert(node, i);
        i
    }

    fn datasets_where(&self, read: bool, written: bool) -> BTreeSet<String> {
        self.index
            .iter()
            .filter_map(|(node, &i)| match node {
                Node::Dataset(name) => {
                    let is_read =
                        self.graph.neighbors_directed(i, Direction::Outgoing).next().is_some();
                    let is_written =
                        self.graph.neighbors_directed(i, Direction::Incoming).next().is_some();
                    (is_read == read && is_written == written).then(|| name.clone())
                }
                Node::Transformation(_) => None,
            })
            .collect()
    }

    /// Datasets read and never written here: the inputs of the whole.
    pub fn sources(&self) -> BTreeSet<String> {
        self.datasets_where(true, false)
    }

    /// Datasets written and never read here: the outputs of the whole.
    pub fn targets(&self) -> BTreeSet<String> {
        self.datasets_where(false, true)
    }

    /// Datasets both written and read here.
    pub fn intermediates(&self) -> BTreeSet<String> {
        self.datasets_where(true, true)
    }

    /// End-to-end column lineage: every (first, last) pair of a path in the column graph,
    /// from columns nothing feeds to columns that feed nothing.
    pub fn column_paths(&self) -> BTreeSet<(String, String)> {
        column_paths(&self.columns)
    }
}

/// The columns of datasets that the fragments create (CTAS, views, dbt models) and that
/// `known` does not already describe: what one file's query needs to expand another file's
/// `SELECT *`. A dataset created twice keeps its first description (by transformation id).
pub fn infer_catalog<'a>(
    fragments: impl IntoIterator<Item = &'a Fragment>,
    known: &Catalog,
) -> Catalog {
    let mut found: BTreeMap<&str, (&str, &[String])> = BTreeMap::new();
    for t in fragments.into_iter().flat_map(|f| &f.transformations) {
        let [dataset] = t.writes.as_slice() else { continue };
        if t.output_columns.is_empty() || known.columns(dataset).is_some() {
            continue;
        }
        let entry = found.entry(dataset).or_insert((&t.id, &t.output_columns));
        if t.id.as_str() < entry.0 {
            *entry = (&t.id, &t.output_columns);
        }
    }
    let mut catalog = Catalog::new();
    for (dataset, (_, columns)) in found {
        catalog.insert(dataset.to_string(), columns.to_vec());
    }
    catalog
}

fn kind_name(kind: IndirectKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Datasets that depend on themselves through other datasets: each cycle's datasets, sorted.
/// A statement that reads and writes one table (an incremental insert) is not a cycle.
pub fn cycles(fragments: &[Fragment]) -> Vec<Vec<String>> {
    let graph = LineageGraph::from_fragments(fragments);
    // Lineage only: tasks ordered around a dataset do not make it depend on itself.
    let data = EdgeFiltered::from_fn(&graph.graph, |e| *e.weight() == Edge::Data);
    let mut found: Vec<Vec<String>> = petgraph::algo::tarjan_scc(&data)
        .into_iter()
        .map(|component| {
            let mut datasets: Vec<String> = component
                .into_iter()
                .filter_map(|i| match &graph.graph[i] {
                    Node::Dataset(name) => Some(name.clone()),
                    Node::Transformation(_) => None,
                })
                .collect();
            datasets.sort();
            datasets
        })
        .filter(|datasets| datasets.len() > 1)
        .collect();
    found.sort();
    found
}

/// Reads that `head` has and `base` had not, of datasets no transformation of `head` writes
/// and that `declared` does not accept: (transformation id, dataset).
pub fn new_unknown_sources(
    base: &[Fragment],
    head: &[Fragment],
    declared: impl Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let written: BTreeSet<&String> =
        head.iter().flat_map(|f| &f.transformations).flat_map(|t| &t.writes).collect();
    let read_before: BTreeSet<&String> =
        base.iter().flat_map(|f| &f.transformations).flat_map(|t| &t.reads).collect();
    let mut out = Vec::new();
    for t in head.iter().flat_map(|f| &f.transformations) {
        for read in &t.reads {
            if !written.contains(read) && !read_before.contains(read) && !declared(read) {
                out.push((t.id.clone(), read.clone()));
            }
        }
    }
    out
}

/// How many times files are re-analyzed with the columns other files create: the length of
/// the longest chain of `SELECT *` models that gets fully expanded.
pub const MAX_SCHEMA_ROUNDS: usize = 8;

/// Files read what other files create: once the created datasets' columns are known (see
/// [`infer_catalog`]), the files that read them are analyzed again, by `reanalyze`, so that
/// their `SELECT *` expands. Each round reaches one step further down a chain of models.
///
/// `reanalyze` gets, for each file to analyze again, its index and the learned columns of the
/// datasets that file names (not the whole catalog): the result of a file then depends only on
/// what it reads, so a cache keyed by that catalog stays valid when an unrelated model changes.
pub fn with_inferred_schemas<E>(
    mut fragments: Vec<Fragment>,
    known: &Catalog,
    mut reanalyze: impl FnMut(&[(usize, Catalog)]) -> Result<Vec<Fragment>, E>,
) -> Result<Vec<Fragment>, E> {
    let mut inferred = Catalog::new();
    for _ in 0..MAX_SCHEMA_ROUNDS {
        let next = infer_catalog(&fragments, known);
        let changed = next.changed(&inferred);
        if changed.is_empty() {
            break;
        }
        inferred = next;
        let reach = inferred.reach();
        let again: Vec<(usize, Catalog)> = fragments
            .iter()
            .enumerate()
            .filter_map(|(i, fragment)| {
                let transformations = &fragment.transformations;
                let reads_changed =
                    transformations.iter().flat_map(|t| &t.reads).any(|r| changed.contains(r));
                let named = transformations.iter().flat_map(|t| t.reads.iter().chain(&t.writes));
                reads_changed.then(|| (i, reach.restricted_to(named.map(String::as_str))))
            })
            .collect();
        for ((i, _), fragment) in again.iter().zip(reanalyze(&again)?) {
            fragments[*i] = fragment;
        }
    }
    Ok(fragments)
}

/// Transformations that move data between datasets (not DDL housekeeping such as DROP).
pub fn moves_data(kind: Kind) -> bool {
    !matches!(kind, Kind::Drop | Kind::Truncate | Kind::Rename | Kind::Use)
}

/// (first, last) node of every path in a directed graph given by its edges, from nodes with
/// no incoming edge to nodes with no outgoing edge. Cycles are cut where a path would meet a
/// node again.
pub fn column_paths(edges: &BTreeSet<(String, String)>) -> BTreeSet<(String, String)> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut has_in: BTreeSet<&str> = BTreeSet::new();
    for (s, t) in edges {
        if s == t {
            continue;
        }
        out.entry(s).or_default().push(t);
        has_in.insert(t);
    }
    let mut paths = BTreeSet::new();
    for &start in out.keys().filter(|s| !has_in.contains(*s)) {
        // Iterative depth-first search: column graphs of generated SQL can be deep.
        let mut seen: BTreeSet<&str> = BTreeSet::from([start]);
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            match out.get(node) {
                Some(next) if !next.is_empty() => {
                    for &n in next {
                        if seen.insert(n) {
                            stack.push(n);
                        }
                    }
                }
                _ => {
                    paths.insert((start.to_string(), node.to_string()));
                }
            }
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Settings;

    fn edges(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        list.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect()
    }

    #[test]
    fn paths_run_from_roots_to_leaves_through_intermediates() {
        let e = edges(&[("a.x", "b.x"), ("b.x", "c.y"), ("a.z", "c.z"), ("b.x", "d.x")]);
        assert_eq!(column_paths(&e), edges(&[("a.x", "c.y"), ("a.x", "d.x"), ("a.z", "c.z")]));
    }

    #[test]
    fn indirect_edges_are_kept_with_their_kind() {
        let sql = b"INSERT INTO mart.t SELECT id FROM raw.s WHERE status = 'x'";
        let fragment = crate::extract::extract("a.sql", sql, &crate::extract::Settings::default());
        let graph = LineageGraph::from_fragments([&fragment]);
        assert_eq!(
            graph.decided_by("raw.s.status"),
            BTreeSet::from([("mart.t".to_string(), IndirectKind::Filter)])
        );
        assert!(graph.decided_by("raw.s.id").is_empty());
    }

    #[test]
    fn cycles_do_not_loop() {
        let e = edges(&[("a", "b"), ("b", "c"), ("c", "b"), ("c", "d")]);
        assert_eq!(column_paths(&e), edges(&[("a", "d")]));
    }

    #[test]
    fn ordering_edges_join_tasks_and_carry_no_lineage() {
        let text = "from airflow import DAG\n\
            with DAG('d'):\n\
            \x20   a = PostgresOperator(task_id='a', sql='insert into t select * from s')\n\
            \x20   b = PostgresOperator(task_id='b', sql='insert into u select * from v')\n\
            \x20   c = PostgresOperator(task_id='c', sql='sql/c.sql')\n\
            \x20   a >> b >> c\n";
        let dag = crate::extract::extract("dags/d.py", text.as_bytes(), &Settings::default());
        let sql = crate::extract::extract(
            "dags/sql/c.sql",
            b"insert into w select * from u",
            &Settings::default(),
        );
        let fragments = [dag, sql];
        let graph = LineageGraph::from_fragments(&fragments);
        assert_eq!(
            graph.ordering(Edge::Order),
            edges(&[("dags/d.py::d.a", "dags/d.py::d.b"), ("dags/d.py::d.b", "dags/d.py::d.c")])
        );
        assert_eq!(graph.ordering(Edge::Runs), edges(&[("dags/d.py::d.c", "dags/sql/c.sql#1")]));
        assert!(graph.ordering(Edge::Data).is_empty());
        // a runs before b, but t does not feed u: lineage walks ignore ordering edges.
        assert_eq!(graph.downstream("s"), BTreeSet::from(["t".to_string()]));
        assert_eq!(graph.upstream("u"), BTreeSet::from(["v".to_string()]));
        assert_eq!(graph.downstream("v"), BTreeSet::from(["u".to_string(), "w".to_string()]));
        assert!(cycles(&fragments).is_empty());
    }
}
