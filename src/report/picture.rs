//! The lineage graph as a picture description: Graphviz DOT and Mermaid. Datasets are boxes,
//! transformations are ellipses named by their id; edges go from what is read to what reads it
//! and from a transformation to what it writes; ordering edges (Airflow's `a >> b`) are
//! dashed, a task's link to the statements of the `.sql` file it runs dotted.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use crate::extract::Fragment;
use crate::extract::python::airflow::SQL_FILE;
use crate::graph::diff::{Change, GraphDiff};

/// What a picture shows: datasets, transformations with their kind, lineage edges (from ->
/// to), ordering edges (before -> after, Airflow's `a >> b`) and the statements of a `.sql`
/// file a task runs (task -> statement).
struct Parts<'a> {
    datasets: BTreeSet<&'a str>,
    transformations: Vec<(&'a str, String)>,
    edges: BTreeSet<(&'a str, &'a str)>,
    order: BTreeSet<(&'a str, &'a str)>,
    runs: BTreeSet<(&'a str, &'a str)>,
}

fn parts(files: &[Fragment]) -> Parts<'_> {
    let mut datasets = BTreeSet::new();
    let mut transformations = Vec::new();
    let mut edges = BTreeSet::new();
    let mut order = BTreeSet::new();
    let mut runs = BTreeSet::new();
    let all = || files.iter().flat_map(|f| &f.transformations);
    let ordered: BTreeSet<&str> = all().flat_map(|t| &t.after).map(String::as_str).collect();
    for fragment in files {
        for t in &fragment.transformations {
            let moves = !t.reads.is_empty() || !t.writes.is_empty();
            let files_run: Vec<&str> = t
                .operations
                .iter()
                .filter(|o| o.kind == SQL_FILE)
                .filter_map(|o| o.dataset.as_deref())
                .collect();
            if !moves
                && t.after.is_empty()
                && !ordered.contains(t.id.as_str())
                && files_run.is_empty()
            {
                continue;
            }
            let kind = serde_json::to_value(t.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            transformations.push((t.id.as_str(), kind));
            for r in &t.reads {
                datasets.insert(r.as_str());
                edges.insert((r.as_str(), t.id.as_str()));
            }
            for w in &t.writes {
                datasets.insert(w.as_str());
                edges.insert((t.id.as_str(), w.as_str()));
            }
            for before in &t.after {
                order.insert((before.as_str(), t.id.as_str()));
            }
            for file in files.iter().filter(|f| files_run.contains(&f.path.as_str())) {
                for statement in &file.transformations {
                    if !statement.reads.is_empty() || !statement.writes.is_empty() {
                        runs.insert((t.id.as_str(), statement.id.as_str()));
                    }
                }
            }
        }
    }
    Parts { datasets, transformations, edges, order, runs }
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn write_dot(out: &mut impl Write, files: &[Fragment]) -> std::io::Result<()> {
    let Parts { datasets, transformations, edges, order, runs } = parts(files);
    writeln!(out, "digraph lineage {{\n  rankdir=LR;")?;
    for d in &datasets {
        writeln!(out, "  {} [shape=box];", quoted(d))?;
    }
    for (id, kind) in &transformations {
        writeln!(
            out,
            "  {} [shape=ellipse, label={}];",
            quoted(id),
            quoted(&format!("{id}\n{kind}"))
        )?;
    }
    for (from, to) in &edges {
        writeln!(out, "  {} -> {};", quoted(from), quoted(to))?;
    }
    // Order, not lineage: dashed; a task running a file's statements: dotted.
    for (from, to) in &order {
        writeln!(out, "  {} -> {} [style=dashed];", quoted(from), quoted(to))?;
    }
    for (from, to) in &runs {
        writeln!(out, "  {} -> {} [style=dotted, label=\"runs\"];", quoted(from), quoted(to))?;
    }
    writeln!(out, "}}")
}

pub fn write_mermaid(out: &mut impl Write, files: &[Fragment]) -> std::io::Result<()> {
    let Parts { datasets, transformations, edges, order, runs } = parts(files);
    // Mermaid ids must be plain words: number the nodes, label them with their names.
    let mut ids = BTreeMap::new();
    writeln!(out, "flowchart LR")?;
    for (i, d) in datasets.iter().enumerate() {
        ids.insert(*d, format!("d{i}"));
        writeln!(out, "  d{i}[{}]", quoted(d))?;
    }
    for (i, (id, kind)) in transformations.iter().enumerate() {
        ids.insert(*id, format!("t{i}"));
        writeln!(out, "  t{i}([{}])", quoted(&format!("{id} ({kind})")))?;
    }
    for (from, to) in &edges {
        if let (Some(a), Some(b)) = (ids.get(from), ids.get(to)) {
            writeln!(out, "  {a} --> {b}")?;
        }
    }
    for (from, to) in &order {
        if let (Some(a), Some(b)) = (ids.get(from), ids.get(to)) {
            writeln!(out, "  {a} -.-> {b}")?;
        }
    }
    for (from, to) in &runs {
        if let (Some(a), Some(b)) = (ids.get(from), ids.get(to)) {
            writeln!(out, "  {a} -. runs .-> {b}")?;
        }
    }
    Ok(())
}

/// The graph as an SVG picture, laid out in Rust (layout-rs reads the DOT of [`write_dot`]):
/// no Graphviz needed. `None` when the layout library rejects the graph or fails on it.
pub fn svg(fragments: &[Fragment]) -> Option<String> {
    let mut dot = Vec::new();
    write_dot(&mut dot, fragments).ok()?;
    let dot = String::from_utf8(dot).ok()?;
    // layout-rs asserts on shapes it cannot place: a failed layout is reported, not a crash.
    std::panic::catch_unwind(|| {
        let mut parser = layout::gv::DotParser::new(&dot);
        let graph = parser.process().ok()?;
        let mut builder = layout::gv::GraphBuilder::new();
        builder.visit_graph(&graph);
        let mut visual = builder.get();
        let mut writer = layout::backends::svg::SVGWriter::new();
        visual.do_it(false, false, false, &mut writer);
        Some(writer.finalize())
    })
    .ok()
    .flatten()
}

/// The changed part of a lineage graph: what a change added, removed or changed, and its
/// neighbours one edge away (what `report` draws for a pull request).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChangedGraph {
    pub nodes: Vec<GraphNode>,
    /// (from, to) by node name: what is read to what reads it, what writes to what it writes.
    pub edges: Vec<(String, String)>,
    /// Nodes left out over the cap.
    pub omitted: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GraphNode {
    /// A dataset's name or a transformation's id.
    pub name: String,
    pub dataset: bool,
    /// A transformation's kind (`create_table_as`); empty for a dataset.
    pub kind: String,
    /// What the change did to it; `None` for a neighbour drawn for context.
    pub change: Option<Change>,
}

/// The changed transformations and datasets of `diff` (removed ones from `base`, the others
/// from `head`) and their neighbours, the changed ones first, at most `cap` nodes.
pub fn changed_graph(
    base: &[Fragment],
    head: &[Fragment],
    diff: &GraphDiff,
    cap: usize,
) -> ChangedGraph {
    let (old, new) = (parts(base), parts(head));
    let mut change: BTreeMap<&str, Change> = BTreeMap::new();
    for t in &diff.transformations {
        change.insert(&t.id, t.change);
    }
    for d in &diff.datasets_added {
        change.insert(d, Change::Added);
    }
    for d in &diff.datasets_removed {
        change.insert(d, Change::Removed);
    }
    let removed = |name: &str| change.get(name) == Some(&Change::Removed);
    // The head's edges, and the base's edges of what the change removed.
    let mut edges: BTreeSet<(&str, &str)> = new.edges.iter().copied().collect();
    edges.extend(old.edges.iter().filter(|(a, b)| removed(a) || removed(b)).copied());
    let kinds: BTreeMap<&str, &str> = old
        .transformations
        .iter()
        .chain(&new.transformations)
        .map(|(id, kind)| (*id, kind.as_str()))
        .collect();
    // The changed nodes first (transformations in the diff's order, then datasets), then
    // their neighbours.
    let mut order: Vec<&str> = Vec::new();
    let mut seen = BTreeSet::new();
    let seeds: Vec<&str> = diff
        .transformations
        .iter()
        .map(|t| t.id.as_str())
        .chain(diff.datasets_added.iter().chain(&diff.datasets_removed).map(String::as_str))
        .collect();
    for name in &seeds {
        if seen.insert(*name) {
            order.push(name);
        }
    }
    for name in &seeds {
        for (a, b) in &edges {
            let other = if a == name {
                b
            } else if b == name {
                a
            } else {
                continue;
            };
            if seen.insert(other) {
                order.push(other);
            }
        }
    }
    let omitted = order.len().saturating_sub(cap);
    order.truncate(cap);
    let shown: BTreeSet<&str> = order.iter().copied().collect();
    let nodes = order
        .iter()
        .map(|name| GraphNode {
            name: (*name).to_string(),
            dataset: !kinds.contains_key(name),
            kind: kinds.get(name).map(|k| (*k).to_string()).unwrap_or_default(),
            change: change.get(name).copied(),
        })
        .collect();
    let edges = edges
        .iter()
        .filter(|(a, b)| shown.contains(a) && shown.contains(b))
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect();
    ChangedGraph { nodes, edges, omitted }
}

/// A changed graph in Mermaid: datasets boxes, transformations stadiums, styled by change
/// (added green, removed red and dashed, changed yellow).
pub fn write_changed_mermaid(out: &mut impl Write, graph: &ChangedGraph) -> std::io::Result<()> {
    writeln!(out, "flowchart LR")?;
    writeln!(out, "  classDef added fill:#dafbe1,stroke:#1a7f37,color:#1f2328")?;
    writeln!(
        out,
        "  classDef removed fill:#ffebe9,stroke:#cf222e,color:#1f2328,stroke-dasharray:4 3"
    )?;
    writeln!(out, "  classDef changed fill:#fff8c5,stroke:#9a6700,color:#1f2328")?;
    let mut ids = BTreeMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        ids.insert(node.name.as_str(), format!("n{i}"));
        if node.dataset {
            writeln!(out, "  n{i}[{}]", quoted(&node.name))?;
        } else {
            writeln!(out, "  n{i}([{}])", quoted(&format!("{} ({})", node.name, node.kind)))?;
        }
    }
    for (from, to) in &graph.edges {
        if let (Some(a), Some(b)) = (ids.get(from.as_str()), ids.get(to.as_str())) {
            writeln!(out, "  {a} --> {b}")?;
        }
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        let class = match node.change {
            Some(Change::Added) => "added",
            Some(Change::Removed) => "removed",
            Some(Change::Changed) => "changed",
            None => continue,
        };
        writeln!(out, "  class n{i} {class}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Settings, extract};

    #[test]
    fn svg_is_laid_out_without_graphviz() {
        let sql = "INSERT INTO mart.daily SELECT day, sum(amount) FROM raw.orders GROUP BY day;\n\
                   INSERT INTO mart.top SELECT * FROM mart.daily";
        let fragments = [extract("etl/x.sql", sql.as_bytes(), &Settings::default())];
        let svg = svg(&fragments).expect("a layout");
        assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
        for name in ["raw.orders", "mart.daily", "mart.top"] {
            assert!(svg.contains(name), "{name} missing");
        }
    }

    #[test]
    fn ordering_is_dashed_and_a_task_runs_its_sql_file_dotted() {
        let dag = "from airflow import DAG\nwith DAG('d'):\n    a = X(task_id='a')\n    \
                   b = PostgresOperator(task_id='b', sql='checks/b.sql')\n    a >> b\n";
        let files = [
            extract("dags/d.py", dag.as_bytes(), &Settings::default()),
            extract("dags/checks/b.sql", b"insert into t select * from s", &Settings::default()),
        ];
        let mut dot = Vec::new();
        write_dot(&mut dot, &files).unwrap();
        let dot = String::from_utf8(dot).unwrap();
        assert!(dot.contains("\"dags/d.py::d.a\" -> \"dags/d.py::d.b\" [style=dashed];"), "{dot}");
        assert!(
            dot.contains("\"dags/d.py::d.b\" -> \"dags/checks/b.sql#1\" [style=dotted"),
            "{dot}"
        );
        let mut mermaid = Vec::new();
        write_mermaid(&mut mermaid, &files).unwrap();
        let mermaid = String::from_utf8(mermaid).unwrap();
        assert!(mermaid.contains(" -.-> ") && mermaid.contains(" -. runs .-> "), "{mermaid}");
    }

    #[test]
    fn the_changed_graph_keeps_the_changes_and_one_hop_under_a_cap() {
        let settings = Settings::default();
        let base = [
            extract("a.sql", b"create table s.a as select x from raw.r", &settings),
            extract("b.sql", b"create table s.b as select x from s.a", &settings),
            extract("old.sql", b"create table s.old as select x from raw.r", &settings),
        ];
        let head = [
            extract("a.sql", b"create table s.a as select x, y from raw.r", &settings),
            extract("b.sql", b"create table s.b as select x from s.a", &settings),
        ];
        let diff = crate::graph::diff::diff(&base, &head);
        let graph = changed_graph(&base, &head, &diff, 60);
        let names: Vec<&str> = graph.nodes.iter().map(|n| n.name.as_str()).collect();
        // The removed statement and the changed one (the diff's order), the removed table,
        // then the neighbours.
        assert_eq!(names, ["old.sql#1", "a.sql#1", "s.old", "raw.r", "s.a"], "{graph:?}");
        assert_eq!(graph.nodes[0].change, Some(Change::Removed));
        assert!(graph.edges.contains(&("raw.r".into(), "old.sql#1".into())), "{graph:?}");
        let mut mermaid = Vec::new();
        write_changed_mermaid(&mut mermaid, &graph).unwrap();
        let mermaid = String::from_utf8(mermaid).unwrap();
        assert!(mermaid.contains("class n0 removed") && mermaid.contains("class n1 changed"));
        let small = changed_graph(&base, &head, &diff, 2);
        assert_eq!((small.nodes.len(), small.omitted), (2, 3));
    }
}
