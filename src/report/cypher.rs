//! The lineage of a commit as a Cypher script for Neo4j or Memgraph: `MERGE` statements only,
//! so running the script twice (or the script of a later commit) gives one node per dataset,
//! column and transformation and one edge per relation.
//!
//! Nodes: `Dataset {name}`, `Column {name, dataset}`, `Transformation {id, kind, file, line}`.
//! Edges: `(Dataset)-[:READ_BY]->(Transformation)-[:WRITES]->(Dataset)`,
//! `(Dataset)-[:HAS_COLUMN]->(Column)`, `(Column)-[:FEEDS {transformation}]->(Column)`,
//! `(Column)-[:DECIDES {kind, transformation}]->(Dataset or Column)` for indirect lineage and
//! `(Transformation)-[:RUNS_BEFORE]->(Transformation)` for ordering edges.

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::extract::{Fragment, IndirectKind};

/// A string literal of Cypher: double quotes, with backslashes and quotes escaped.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The dataset of a `dataset.column` name: everything before the last dot.
fn dataset_of(column: &str) -> Option<&str> {
    column.rfind('.').map(|i| &column[..i]).filter(|d| !d.is_empty())
}

fn kind_name(kind: IndirectKind) -> &'static str {
    match kind {
        IndirectKind::Filter => "filter",
        IndirectKind::Join => "join",
        IndirectKind::GroupBy => "group_by",
        IndirectKind::Sort => "sort",
        IndirectKind::Window => "window",
        IndirectKind::Conditional => "conditional",
    }
}

/// The script for the fragments of one commit (`commit`, when known, is set on each
/// transformation as `commit`).
pub fn write(out: &mut impl Write, fragments: &[Fragment], commit: Option<&str>) -> io::Result<()> {
    writeln!(
        out,
        "// git-lineage {}: lineage{}",
        env!("CARGO_PKG_VERSION"),
        commit.map(|c| format!(" of {c}")).unwrap_or_default()
    )?;
    let mut datasets: BTreeSet<&str> = BTreeSet::new();
    let mut columns: BTreeSet<&str> = BTreeSet::new();
    for t in fragments.iter().flat_map(|f| &f.transformations) {
        datasets.extend(t.reads.iter().chain(&t.writes).map(String::as_str));
        for edge in &t.columns {
            columns.extend([edge.source.as_str(), edge.target.as_str()]);
        }
        for edge in &t.indirect {
            columns.insert(edge.source.as_str());
            if edge.kind.is_column_level() {
                columns.insert(edge.target.as_str());
            }
        }
    }
    // A column's dataset is a node too, even when no transformation reads it whole.
    let columns: Vec<(&str, &str)> =
        columns.into_iter().filter_map(|c| Some((c, dataset_of(c)?))).collect();
    datasets.extend(columns.iter().map(|(_, d)| *d));
    for d in &datasets {
        writeln!(out, "MERGE (:Dataset {{name: {}}});", quoted(d))?;
    }
    for (c, d) in &columns {
        writeln!(
            out,
            "MERGE (d:Dataset {{name: {}}}) MERGE (c:Column {{name: {}}}) SET c.dataset = {} MERGE (d)-[:HAS_COLUMN]->(c);",
            quoted(d),
            quoted(c),
            quoted(d)
        )?;
    }
    for fragment in fragments {
        for t in &fragment.transformations {
            let id = quoted(&t.id);
            let kind = serde_json::to_value(t.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            write!(
                out,
                "MERGE (t:Transformation {{id: {id}}}) SET t.kind = {}, t.file = {}, t.line = {}",
                quoted(&kind),
                quoted(&fragment.path),
                t.line
            )?;
            if let Some(commit) = commit {
                write!(out, ", t.commit = {}", quoted(commit))?;
            }
            writeln!(out, ";")?;
            for read in &t.reads {
                writeln!(
                    out,
                    "MATCH (d:Dataset {{name: {}}}), (t:Transformation {{id: {id}}}) MERGE (d)-[:READ_BY]->(t);",
                    quoted(read)
                )?;
            }
            for write in &t.writes {
                writeln!(
                    out,
                    "MATCH (t:Transformation {{id: {id}}}), (d:Dataset {{name: {}}}) MERGE (t)-[:WRITES]->(d);",
                    quoted(write)
                )?;
            }
            for edge in &t.columns {
                if dataset_of(&edge.source).is_none() || dataset_of(&edge.target).is_none() {
                    continue;
                }
                writeln!(
                    out,
                    "MATCH (a:Column {{name: {}}}), (b:Column {{name: {}}}) MERGE (a)-[:FEEDS {{transformation: {id}}}]->(b);",
                    quoted(&edge.source),
                    quoted(&edge.target)
                )?;
            }
            for edge in &t.indirect {
                if dataset_of(&edge.source).is_none() || edge.target.is_empty() {
                    continue;
                }
                let target = if edge.kind.is_column_level() {
                    if dataset_of(&edge.target).is_none() {
                        continue;
                    }
                    format!("(b:Column {{name: {}}})", quoted(&edge.target))
                } else {
                    format!("(b:Dataset {{name: {}}})", quoted(&edge.target))
                };
                writeln!(
                    out,
                    "MATCH (a:Column {{name: {}}}), {target} MERGE (a)-[:DECIDES {{kind: {}, transformation: {id}}}]->(b);",
                    quoted(&edge.source),
                    quoted(kind_name(edge.kind))
                )?;
            }
        }
    }
    // Ordering edges last: both ends exist by then.
    for t in fragments.iter().flat_map(|f| &f.transformations) {
        for before in &t.after {
            writeln!(
                out,
                "MATCH (a:Transformation {{id: {}}}), (b:Transformation {{id: {}}}) MERGE (a)-[:RUNS_BEFORE]->(b);",
                quoted(before),
                quoted(&t.id)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Settings, extract};

    #[test]
    fn strings_are_escaped_and_statements_only_merge() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        let sql = "INSERT INTO mart.t SELECT a, b FROM raw.s WHERE c = 1";
        let fragments = [extract("etl/x.sql", sql.as_bytes(), &Settings::default())];
        let mut out = Vec::new();
        write(&mut out, &fragments, Some("abc")).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines().skip(1) {
            assert!(line.starts_with("MERGE ") || line.starts_with("MATCH "), "{line}");
            assert!(!line.contains("CREATE ") && line.ends_with(';'), "{line}");
        }
        assert!(text.contains(r#"MERGE (:Dataset {name: "raw.s"});"#));
        assert!(text.contains(r#"MERGE (a)-[:FEEDS {transformation: "etl/x.sql#1"}]->(b);"#));
        assert!(text.contains(
            r#"MERGE (a)-[:DECIDES {kind: "filter", transformation: "etl/x.sql#1"}]->(b);"#
        ));
        assert!(text.contains(r#"t.commit = "abc""#));
    }
}
