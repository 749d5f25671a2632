//! Python lineage: PySpark, pandas, AWS Glue, DB-API / SQLAlchemy SQL, boto3 and Airflow SQL
//! operators, through tree-sitter-python. See: issue 6.
//!
//! One parse, then the data flow (`dataflow`) that resolves names and carries lineage through
//! variables, asking the compiled patterns of `grammars/python/` (`queries`) about each call. Each
//! function that reads or writes is a transformation `path::function`; top-level code is
//! `path::<module>`. The analyzed code is never imported or run.

pub mod columns;
pub mod dataflow;
pub mod queries;

use tree_sitter::{Node, Parser, Tree};

use crate::diagnostic::Diagnostic;
use crate::extract::{Confidence, Kind, Settings, Structure, Transformation};

/// Syntax errors reported per file, at most: past a few, more lines say nothing new.
const MAX_SYNTAX_DIAGNOSTICS: usize = 5;

/// The transformations and diagnostics of one Python file.
pub fn analyze(
    path: &str,
    text: &str,
    settings: &Settings,
) -> (Vec<Transformation>, Vec<Diagnostic>) {
    let Some(tree) = parse(text) else {
        return (
            Vec::new(),
            vec![Diagnostic::error(1, 1, "the Python parser gave up on this file")],
        );
    };
    let root = tree.root_node();
    let mut diagnostics = syntax_errors(root);
    let mut analyzer = dataflow::Analyzer::new(text, settings);
    analyzer.run(root);
    diagnostics.append(&mut analyzer.diagnostics);
    let confidence = if root.has_error() { Confidence::Partial } else { Confidence::Full };
    let mut units = std::mem::take(&mut analyzer.units);
    units.retain(|u| !u.reads.is_empty() || !u.writes.is_empty());
    units.sort_by(|a, b| (a.line, &a.name).cmp(&(b.line, &b.name)));
    let transformations = units
        .into_iter()
        .map(|unit| {
            let kind = if unit.name == "<module>" { Kind::Script } else { Kind::Function };
            let mut operations = unit.operations;
            operations.sort_by_key(|o| o.line);
            // The written dataset's columns, when the function writes one and knows them all.
            let output_columns = match unit.writes.iter().next() {
                Some(only) if unit.writes.len() == 1 => {
                    unit.outputs.get(only).cloned().flatten().unwrap_or_default()
                }
                _ => Vec::new(),
            };
            let indirect =
                if settings.indirect { unit.indirect.into_iter().collect() } else { Vec::new() };
            Transformation {
                id: format!("{path}::{}", unit.name),
                kind,
                line: unit.line,
                reads: unit.reads.into_iter().collect(),
                writes: unit.writes.into_iter().collect(),
                columns: unit.columns.into_iter().collect(),
                indirect,
                confidence,
                drops: Vec::new(),
                renames: Vec::new(),
                procedure: None,
                output_columns,
                structure: Structure::default(),
                operations,
            }
        })
        .collect();
    (transformations, diagnostics)
}

fn parse(text: &str) -> Option<Tree> {
    thread_local! {
        // One parser per thread: setting one up costs as much as parsing a small file.
        static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
    }
    PARSER.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&queries::language()).ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(text, None)
    })
}

/// A warning per syntax error (ERROR and MISSING nodes), first ones only: the rest of the
/// file is analyzed all the same.
fn syntax_errors(root: Node<'_>) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if !root.has_error() {
        return found;
    }
    let mut cursor = root.walk();
    let mut descend = true;
    loop {
        let node = cursor.node();
        if descend && (node.is_error() || node.is_missing()) {
            let position = node.start_position();
            let message = if node.is_missing() {
                format!("Python syntax error: missing `{}`", node.kind())
            } else {
                "Python syntax error: this part is analyzed as far as it can be".to_string()
            };
            found.push(Diagnostic::warning(position.row + 1, position.column + 1, message));
            if found.len() == MAX_SYNTAX_DIAGNOSTICS {
                break;
            }
            descend = false;
        }
        if descend && node.has_error() && cursor.goto_first_child() {
            continue;
        }
        descend = true;
        if cursor.goto_next_sibling() {
            continue;
        }
        loop {
            if !cursor.goto_parent() {
                return found;
            }
            if cursor.goto_next_sibling() {
                break;
            }
        }
    }
    found
}
