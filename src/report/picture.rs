//! The lineage graph as a picture description: Graphviz DOT and Mermaid. Datasets are boxes,
//! transformations are ellipses named by their id; edges go from what is read to what reads it
//! and from a transformation to what it writes.

use std::collections::BTreeSet;
use std::io::Write;

use crate::extract::Fragment;

/// What a picture shows: datasets, transformations with their kind, edges (from -> to).
struct Parts<'a> {
    datasets: BTreeSet<&'a str>,
    transformations: Vec<(&'a str, String)>,
    edges: BTreeSet<(&'a str, &'a str)>,
}

fn parts(files: &[Fragment]) -> Parts<'_> {
    let mut datasets = BTreeSet::new();
    let mut transformations = Vec::new();
    let mut edges = BTreeSet::new();
    for t in files.iter().flat_map(|f| &f.transformations) {
        if t.reads.is_empty() && t.writes.is_empty() {
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
    }
    Parts { datasets, transformations, edges }
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn write_dot(out: &mut impl Write, files: &[Fragment]) -> std::io::Result<()> {
    let Parts { datasets, transformations, edges } = parts(files);
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
    writeln!(out, "}}")
}

pub fn write_mermaid(out: &mut impl Write, files: &[Fragment]) -> std::io::Result<()> {
    let Parts { datasets, transformations, edges } = parts(files);
    // Mermaid ids must be plain words: number the nodes, label them with their names.
    let mut ids = std::collections::BTreeMap::new();
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
    Ok(())
}
