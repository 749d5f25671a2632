//! Python lineage: PySpark, pandas, AWS Glue, DB-API / SQLAlchemy SQL, boto3 and Airflow SQL
//! operators, through tree-sitter-python. See: issue 6.
//!
//! One parse, then the data flow (`dataflow`) that resolves names and carries lineage through
//! variables, asking the compiled patterns of `grammars/python/` (`queries`) about each call. Each
//! function that reads or writes is a transformation `path::function`; top-level code is
//! `path::<module>`; an Airflow task is `path::dag_id.task_id` (`airflow`), with the tasks it
//! runs after. The analyzed code is never imported or run.

pub mod airflow;
pub mod columns;
mod config;
pub mod dataflow;
pub mod project;
pub mod queries;

use tree_sitter::{Node, Parser, Tree};

use crate::diagnostic::Diagnostic;
use crate::extract::{Confidence, Kind, Settings, Structure, Transformation};

/// Syntax errors reported per file, at most: past a few, more lines say nothing new.
const MAX_SYNTAX_DIAGNOSTICS: usize = 5;

/// What the analysis of one Python file finds.
#[derive(Debug, Default)]
pub struct Analysis {
    pub transformations: Vec<Transformation>,
    pub diagnostics: Vec<Diagnostic>,
    /// Modules imported and configuration files loaded, as written, sorted.
    pub imports: Vec<String>,
    pub configs: Vec<String>,
}

/// The transformations and diagnostics of one Python file.
pub fn analyze(path: &str, text: &str, settings: &Settings) -> Analysis {
    let Some(tree) = parse(text) else {
        return Analysis {
            diagnostics: vec![Diagnostic::error(1, 1, "the Python parser gave up on this file")],
            ..Analysis::default()
        };
    };
    let root = tree.root_node();
    let mut diagnostics = syntax_errors(root);
    let dags = airflow::discover(root, text);
    let mut analyzer = dataflow::Analyzer::new(path, text, settings);
    analyzer.tasks.clone_from(&dags.calls);
    analyzer.run(root);
    diagnostics.append(&mut analyzer.diagnostics);
    let confidence = if root.has_error() { Confidence::Partial } else { Confidence::Full };
    let mut units = std::mem::take(&mut analyzer.units);
    dags.attribute(&mut units, path);
    units.retain(|u| dags.keeps(u));
    units.sort_by(|a, b| (a.line, &a.name).cmp(&(b.line, &b.name)));
    let transformations = units
        .into_iter()
        .map(|unit| {
            let kind = if dags.is_task(&unit.name) {
                Kind::Task
            } else if unit.name == "<module>" {
                Kind::Script
            } else {
                Kind::Function
            };
            let after = dags.after(&unit.name).map(|task| format!("{path}::{task}")).collect();
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
                after,
            }
        })
        .collect();
    Analysis {
        transformations,
        diagnostics,
        imports: std::mem::take(&mut analyzer.imports).into_iter().collect(),
        configs: std::mem::take(&mut analyzer.configs).into_iter().collect(),
    }
}

/// The syntax tree of a Python text, from the thread's parser (the suggestion rules and the
/// analysis of other modules parse through it too).
pub fn parse(text: &str) -> Option<Tree> {
    thread_local! {
        static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
    }
    crate::extract::with_parser(&PARSER, queries::language, |parser| parser.parse(text, None))
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::project::Project;
    use super::*;

    const PIPELINE: &str = "\
from etl.extract import extract_data
import etl.load as load
from settings import TABLE
import yaml

with open('config.yaml') as f:
    config = yaml.safe_load(f)

def run():
    orders = extract_data(config['paths']['orders'])
    customers = extract_data(config['paths']['customers'])
    load.save(orders.merge(customers), TABLE)

if __name__ == '__main__':
    run()
";
    const EXTRACT: &str = "\
import pandas as pd
from etl import load

def extract_data(path):
    return pd.read_csv(path)

if __name__ == '__main__':
    load.save(extract_data('debug.csv'), 'debug_table')
";
    const LOAD: &str = "\
from etl.extract import extract_data

def save(df, table):
    df.to_sql(table, engine)
";

    fn project() -> Project {
        let files = [
            ("app/pipeline.py", PIPELINE),
            ("app/etl/extract.py", EXTRACT),
            ("app/etl/load.py", LOAD),
            ("app/settings.py", "TABLE = 'mart.orders'\n"),
            (
                "app/config.yaml",
                "paths:\n  orders: data/orders.csv\n  customers: data/customers.csv\n",
            ),
        ];
        let settings = Settings::default();
        let refers = |path: &str| {
            let (_, text) = files.iter().find(|(p, _)| *p == path)?;
            let analysis = analyze(path, text, &settings);
            Some((analysis.imports, analysis.configs))
        };
        let text = |path: &str| files.iter().find(|(p, _)| *p == path).map(|(_, t)| t.to_string());
        Project::build("app/pipeline.py", refers, |p| text(p).is_some(), text)
    }

    fn lineage(t: &Transformation) -> (Vec<&str>, Vec<&str>) {
        (
            t.reads.iter().map(String::as_str).collect(),
            t.writes.iter().map(String::as_str).collect(),
        )
    }

    #[test]
    fn calls_into_the_projects_modules_are_followed_with_their_arguments() {
        let alone = analyze("app/pipeline.py", PIPELINE, &Settings::default());
        // `extract_data` may be a module of `etl.extract`; `TABLE` is not (upper case).
        assert_eq!(
            alone.imports,
            ["etl.extract", "etl.extract.extract_data", "etl.load", "settings", "yaml"]
        );
        assert_eq!(alone.configs, ["config.yaml"]);
        assert!(
            alone.transformations.iter().all(|t| t.writes.is_empty()),
            "without the project, nothing is known of the modules: {:?}",
            alone.transformations
        );

        let settings = Settings { python: Arc::new(project()), ..Settings::default() };
        let analysis = analyze("app/pipeline.py", PIPELINE, &settings);
        let run = analysis.transformations.iter().find(|t| t.id == "app/pipeline.py::run");
        // The imported module's `__main__` block (debug.csv) does not run.
        assert_eq!(
            run.map(lineage),
            Some((vec!["data/customers.csv", "data/orders.csv"], vec!["mart.orders"]))
        );
    }

    #[test]
    fn modules_that_import_each_other_stop() {
        // extract imports load, which imports extract: the analysis ends, with what it found.
        let settings = Settings { python: Arc::new(project()), ..Settings::default() };
        let analysis = analyze("app/etl/extract.py", EXTRACT, &settings);
        assert!(
            analysis.diagnostics.iter().all(|d| d.severity != crate::diagnostic::Severity::Error)
        );
    }

    #[test]
    fn a_function_called_by_another_gets_its_values_from_that_call() {
        let text = "\
import pandas as pd
def extract(path):
    return pd.read_csv(path)
def main():
    extract('in.csv').to_parquet('out.parquet')
";
        let analysis = analyze("job.py", text, &Settings::default());
        let reads: Vec<&str> = analysis
            .transformations
            .iter()
            .flat_map(|t| t.reads.iter().map(String::as_str))
            .collect();
        assert!(reads.iter().all(|r| !r.contains("<dynamic:")), "{reads:?}");
        assert!(reads.contains(&"in.csv"));
    }
}
