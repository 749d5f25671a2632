//! Extraction: from one file's bytes to its lineage fragment.
//!
//! Pure functions only: no git, no file system, no process. The caller (the CLI, or the git
//! store in a later issue) reads the bytes and passes them in with the settings that apply to
//! the file's path; the answer depends on nothing else, so it can be cached per blob.

pub mod catalog;
pub mod fallback;
pub mod jinja;
pub mod python;
pub mod sql;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use catalog::Catalog;

use crate::diagnostic::Diagnostic;

/// Files larger than this are skipped with a diagnostic: no ETL model is this big, and a hook
/// must stay fast.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The lineage of one file: the `files[]` entry of `git-lineage extract --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    pub path: String,
    pub language: Language,
    pub transformations: Vec<Transformation>,
    /// Datasets a statement of this file writes and a later statement reads: the script's
    /// own intermediates (temporary tables, staging steps), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intermediates: Vec<String>,
    /// Python: the modules the file imports, as it writes them (`etl.extract`, `.load`), and
    /// the configuration files it loads (`config.yaml`): what the analysis of the file can
    /// look into once the caller gives their text (`python::project`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Sql,
    Python,
}

/// One statement (or dbt model) that reads and writes datasets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transformation {
    /// `path#line`: stable while the statement stays on its line.
    pub id: String,
    pub kind: Kind,
    /// 1-based line where the statement starts.
    pub line: usize,
    /// Datasets read, sorted.
    pub reads: Vec<String>,
    /// Datasets written, sorted.
    pub writes: Vec<String>,
    /// Direct column lineage: each output column and every column it is computed from.
    pub columns: Vec<ColumnEdge>,
    /// Indirect column lineage: the columns that decide the result without being copied into
    /// it (filters, join keys, grouping and sort keys, window keys, CASE conditions).
    pub indirect: Vec<IndirectEdge>,
    /// `full` when the statement was parsed; `partial` when only table names could be
    /// recovered by the error-tolerant fallback.
    pub confidence: Confidence,
    /// Datasets dropped or truncated, and tables renamed (`from` -> `to`): the graph needs them
    /// to know that a name stops (or starts) meaning the same data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drops: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renames: Vec<Rename>,
    /// The stored procedure whose body holds the statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
    /// The columns the statement produces, in order, when known: the schema of the dataset
    /// it creates (CTAS, view, dbt model) or of a query's result. Other files' queries use it
    /// to expand `*` and resolve columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_columns: Vec<String>,
    /// Counts that describe the shape of the statement's SQL (joins, aggregations, sorts, …):
    /// features of the run-cost model. Absent from notes written before 0.2.0.
    #[serde(default, skip_serializing_if = "Structure::is_empty")]
    pub structure: Structure,
    /// Python: the DataFrame operations of the function, in the order the code runs them
    /// (read, filter, join, aggregate, write, …), for suggestions that reorder them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
    /// Ids of the transformations that must run before this one without any dataset between
    /// them (Airflow's `a >> b`): ordering, not data lineage. Sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
}

/// One DataFrame operation of a Python transformation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// 1-based line of the call.
    pub line: usize,
    /// `read`, `write`, `sql`, or the `operation` a pattern of `grammars/python/` names
    /// (`filter`, `join`, `union`, `aggregate`, `select`, `derive`, `sort`, …).
    pub kind: String,
    /// The dataset a read or write names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// For a write: every dataset read whose data flows into what is written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// The shape of one statement's SQL, as counts over the whole statement (CTEs, subqueries and
/// set operations included). Statements only the fallback recovered (`partial`, kind
/// `unparsed`) have only `tables` and `tokens`. Zero counts are left out of the JSON.
///
/// Computed by one walk of the parsed statement (`extract::sql::structure`); the counts are
/// syntactic: they say what the SQL asks for, not what an engine's plan will do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Structure {
    /// Inner joins: `JOIN`, `INNER JOIN`, MySQL's `STRAIGHT_JOIN`, and a MERGE whose only
    /// clauses are `WHEN MATCHED`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub joins_inner: u32,
    /// Outer joins that keep one side: `LEFT` / `RIGHT [OUTER] JOIN`, `OUTER APPLY`, Snowflake's
    /// `ASOF JOIN`, ClickHouse's `LEFT ARRAY JOIN`, and a MERGE with `WHEN NOT MATCHED`
    /// clauses for one side only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub joins_outer: u32,
    /// `FULL [OUTER] JOIN`, and a MERGE with both `WHEN NOT MATCHED [BY TARGET]` and `WHEN NOT
    /// MATCHED BY SOURCE` clauses.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub joins_full: u32,
    /// Cross joins: `CROSS JOIN`, `CROSS APPLY`, Hive's `LATERAL VIEW`, ClickHouse's `[INNER]
    /// ARRAY JOIN`, and comma-separated FROM items beyond the first (of a SELECT, of UPDATE's
    /// FROM after its target, of DELETE's USING).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub joins_cross: u32,
    /// Semi and anti joins: `[LEFT | RIGHT] SEMI` / `ANTI JOIN`, and the `[NOT] IN (subquery)`,
    /// `[NOT] EXISTS (subquery)` and `= ANY / ALL (subquery)` predicates.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub joins_semi: u32,
    /// Aggregate function calls without OVER: known aggregates (count, sum, avg, min, max,
    /// array_agg, percentile_*, approx_*, …) and any call with FILTER or WITHIN GROUP.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub aggregates: u32,
    /// SELECTs with a GROUP BY.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub group_by: u32,
    /// Expressions in all GROUP BY lists, each one inside ROLLUP, CUBE and GROUPING SETS too.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub group_keys: u32,
    /// SELECTs with a HAVING.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub having: u32,
    /// Function calls with OVER (window functions and windowed aggregates), wherever they
    /// stand: select list, QUALIFY, ORDER BY.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub windows: u32,
    /// `SELECT DISTINCT` and `DISTINCT ON`, plus function calls with DISTINCT arguments
    /// (`count(DISTINCT x)`, windowed or not).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub distinct: u32,
    /// Queries with an ORDER BY (a window's ORDER BY is not one).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub order_by: u32,
    /// ORDER BYs without LIMIT, FETCH or TOP in a query whose rows go somewhere other than the
    /// client (a subquery, a CTE, the body of an INSERT, CTAS or view, a dbt model): a sort
    /// the engine may skip, or must do for nothing.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub order_by_without_limit: u32,
    /// Queries with a LIMIT, FETCH or TOP.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub limit: u32,
    /// Top-level AND-conjuncts of all WHERE clauses (of SELECT, UPDATE and DELETE).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filters: u32,
    /// Conjuncts of a WHERE whose SELECT (or UPDATE, DELETE) has at least one join, so they
    /// apply to the join's result (as far as the SQL says: an optimizer may push them down).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filters_after_join: u32,
    /// Conjuncts of a WHERE in a join-less SELECT that is the body of a derived table or of a
    /// CTE that a joining SELECT (or MERGE, UPDATE, DELETE) reads: rows filtered before they
    /// meet the join. Each such WHERE counts once however many joins read it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filters_before_join: u32,
    /// Derived tables (subqueries in FROM / JOIN) and scalar, IN and EXISTS subqueries.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub subqueries: u32,
    /// Common table expressions, in all WITH clauses.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ctes: u32,
    /// Set operations: UNION, INTERSECT, EXCEPT / MINUS, with or without ALL.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub set_operations: u32,
    /// Set operations without ALL, which remove duplicates (`UNION`, `UNION DISTINCT`,
    /// `INTERSECT`, `EXCEPT`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub union_distinct: u32,
    /// Wildcard projection items: `*` and `t.*` in a select list (not `count(*)`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub select_star: u32,
    /// Function calls that are neither aggregates nor windows, including the forms sqlparser
    /// gives their own syntax (CAST, CONVERT, EXTRACT, SUBSTRING, TRIM, POSITION, OVERLAY,
    /// CEIL, FLOOR).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub functions: u32,
    /// Calls of user-defined functions, also counted as aggregates, windows or functions: a
    /// heuristic, calls whose name is qualified (`schema.fn`; BigQuery's `SAFE.` prefix aside)
    /// or not in a list of common built-in functions across dialects.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub udfs: u32,
    /// CASE expressions.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub case_expressions: u32,
    /// Pattern matches: LIKE, ILIKE, SIMILAR TO, RLIKE / REGEXP (negated or not), and calls of
    /// `regexp*` and `rlike` functions (also counted as functions).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pattern_matches: u32,
    /// Table references in FROM, JOIN, USING and the targets of UPDATE, DELETE and MERGE: base
    /// tables and CTE references, each reference once (table functions are not counted). For
    /// a statement the fallback recovered: the distinct tables it found.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tables: u32,
    /// Tokens of the statement (sqlparser's tokenizer; comments and whitespace are not
    /// tokens): a measure of its size that formatting does not change.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tokens: u32,
}

/// How many counts a [`Structure`] has.
pub const STRUCTURE_FIELDS: usize = 28;

impl Structure {
    /// No count is set: a statement without structure, or a note written before there was one.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Every count with its JSON name, in declaration order: the feature columns of the
    /// run-cost model, which read the names from here instead of repeating them.
    pub fn fields(&self) -> [(&'static str, u32); STRUCTURE_FIELDS] {
        [
            ("joins_inner", self.joins_inner),
            ("joins_outer", self.joins_outer),
            ("joins_full", self.joins_full),
            ("joins_cross", self.joins_cross),
            ("joins_semi", self.joins_semi),
            ("aggregates", self.aggregates),
            ("group_by", self.group_by),
            ("group_keys", self.group_keys),
            ("having", self.having),
            ("windows", self.windows),
            ("distinct", self.distinct),
            ("order_by", self.order_by),
            ("order_by_without_limit", self.order_by_without_limit),
            ("limit", self.limit),
            ("filters", self.filters),
            ("filters_after_join", self.filters_after_join),
            ("filters_before_join", self.filters_before_join),
            ("subqueries", self.subqueries),
            ("ctes", self.ctes),
            ("set_operations", self.set_operations),
            ("union_distinct", self.union_distinct),
            ("select_star", self.select_star),
            ("functions", self.functions),
            ("udfs", self.udfs),
            ("case_expressions", self.case_expressions),
            ("pattern_matches", self.pattern_matches),
            ("tables", self.tables),
            ("tokens", self.tokens),
        ]
    }
}

// serde's `skip_serializing_if` passes the field by reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What a statement does, as a stable lower-case word in the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Select,
    Insert,
    CreateTableAs,
    CreateTable,
    CreateView,
    Merge,
    Update,
    Delete,
    Copy,
    Unload,
    Rename,
    Drop,
    Truncate,
    Cache,
    Use,
    /// A dbt model: the file as a whole writes the model's relation.
    Model,
    /// A statement the fallback recovered table names from.
    Unparsed,
    /// A Python function that reads or writes datasets.
    Function,
    /// A Python file's top-level code that reads or writes datasets.
    Script,
    /// An Airflow task (`dag_id.task_id`): an operator's SQL, its callable's lineage, or a
    /// step that other tasks run after.
    Task,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Full,
    Partial,
}

/// `source` feeds `target`. Names are `dataset.column`; a target of a query that writes no
/// dataset is the bare output column name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ColumnEdge {
    pub source: String,
    pub target: String,
}

/// `source` decides `target` without being copied into it. `target` is the dataset written
/// (`""` for a query that writes nothing) for `filter`, `join`, `group_by` and `sort`, which
/// decide every row; for `window` and `conditional` it is the output column whose value they
/// decide (`dataset.column`, or the bare name for a query that writes nothing), as in
/// OpenLineage's column-lineage facet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IndirectEdge {
    pub source: String,
    pub target: String,
    pub kind: IndirectKind,
}

/// How a column decides a result: OpenLineage's INDIRECT subtypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndirectKind {
    /// WHERE, HAVING, QUALIFY, a MERGE clause's condition: which rows are kept.
    Filter,
    /// A join condition or USING column: which rows meet.
    Join,
    /// A GROUP BY key.
    GroupBy,
    /// ORDER BY, SORT BY, CLUSTER BY, DISTRIBUTE BY.
    Sort,
    /// A window's PARTITION BY or ORDER BY key.
    Window,
    /// A CASE condition or operand, an aggregate's FILTER: which value is taken.
    Conditional,
}

impl IndirectKind {
    /// Kinds that decide one output column's value rather than which rows there are.
    pub fn is_column_level(self) -> bool {
        matches!(self, IndirectKind::Window | IndirectKind::Conditional)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

/// What applies to one file: the caller resolves it from `.git-lineage.toml` and flags.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dialect: sql::Dialect,
    /// Schema for unqualified dataset names; `None` leaves them unqualified.
    pub default_schema: Option<String>,
    pub catalog: Catalog,
    /// The file is the dbt model of this name: it writes the model's relation.
    pub dbt_model: Option<String>,
    /// Compute indirect lineage (the columns that filter, join, group, sort and decide).
    pub indirect: bool,
    /// Python: the project's modules and configuration files the file refers to.
    pub python: Arc<python::project::Project>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dialect: sql::Dialect::default(),
            default_schema: None,
            catalog: Catalog::default(),
            dbt_model: None,
            indirect: true,
            python: Arc::default(),
        }
    }
}

/// Runs `f` with this thread's tree-sitter parser of `slot`, set to `language` on first use:
/// setting a parser up costs as much as parsing a small file, so each thread keeps one per
/// grammar (the slot is the grammar's `thread_local!`).
pub(crate) fn with_parser<T>(
    slot: &'static std::thread::LocalKey<std::cell::RefCell<Option<tree_sitter::Parser>>>,
    language: impl FnOnce() -> tree_sitter::Language,
    f: impl FnOnce(&mut tree_sitter::Parser) -> Option<T>,
) -> Option<T> {
    slot.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&language()).ok()?;
            *slot = Some(parser);
        }
        f(slot.as_mut()?)
    })
}

/// The lineage of one file. Never fails: what cannot be analyzed becomes a diagnostic.
pub fn extract(path: &str, bytes: &[u8], settings: &Settings) -> Fragment {
    let mut fragment = Fragment {
        path: path.to_string(),
        language: Language::Sql,
        transformations: Vec::new(),
        intermediates: Vec::new(),
        imports: Vec::new(),
        configs: Vec::new(),
        diagnostics: Vec::new(),
    };
    if is_python(path) {
        fragment.language = Language::Python;
        let Some(text) = decode(bytes, &mut fragment.diagnostics) else { return fragment };
        let analysis = python::analyze(path, &text, settings);
        fragment.transformations = analysis.transformations;
        fragment.diagnostics = analysis.diagnostics;
        fragment.imports = analysis.imports;
        fragment.configs = analysis.configs;
        fragment.intermediates = intermediates(&fragment.transformations);
        fragment.diagnostics.sort();
        fragment.diagnostics.dedup();
        return fragment;
    }
    let Some(text) = decode(bytes, &mut fragment.diagnostics) else { return fragment };
    if !sql::split::has_code(&text) {
        fragment.diagnostics.push(Diagnostic::warning(1, 1, "no SQL statement in this file"));
        return fragment;
    }
    let statements = if jinja::is_templated(&text) || settings.dbt_model.is_some() {
        templated(&text, settings, &mut fragment.diagnostics)
    } else {
        let options = sql::SqlOptions {
            dialect: settings.dialect,
            indirect: settings.indirect,
            default_schema: settings.default_schema.clone(),
            catalog: Some(&settings.catalog),
        };
        let (statements, diagnostics) = sql::analyze(&text, &options);
        fragment.diagnostics.extend(diagnostics);
        statements
    };
    fragment.transformations = with_ids(path, statements);
    fragment.intermediates = intermediates(&fragment.transformations);
    fragment.diagnostics.sort();
    fragment.diagnostics.dedup();
    fragment
}

/// Files analyzed as Python rather than SQL, by extension.
pub fn is_python(path: &str) -> bool {
    std::path::Path::new(path).extension().is_some_and(|e| e.eq_ignore_ascii_case("py"))
}

/// Files `extract` analyzes: SQL and Python, by extension.
pub fn is_supported(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("sql") || e.eq_ignore_ascii_case("py"))
}

/// Bytes to text, or a diagnostic saying why the file is skipped. Invalid UTF-8 is
/// replaced and reported where it is, and the rest is analyzed.
fn decode(bytes: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
    if bytes.len() > MAX_FILE_BYTES {
        diagnostics.push(Diagnostic::error(
            1,
            1,
            format!(
                "file skipped: {} bytes is over the {} byte limit for one file",
                bytes.len(),
                MAX_FILE_BYTES
            ),
        ));
        return None;
    }
    if bytes[..bytes.len().min(8000)].contains(&0) {
        diagnostics.push(Diagnostic::error(1, 1, "file skipped: binary content (NUL bytes)"));
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text.to_string()),
        Err(error) => {
            let valid = &bytes[..error.valid_up_to()];
            let line = valid.split(|&b| b == b'\n').count();
            let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            diagnostics.push(Diagnostic::error(
                line,
                column,
                "invalid UTF-8: the bytes were replaced with U+FFFD and the rest analyzed",
            ));
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

/// dbt / Jinja SQL: rendered without executing anything, analyzed, and lines mapped back to
/// the template. A dbt model's final SELECT writes the model's relation.
fn templated(
    text: &str,
    settings: &Settings,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<sql::StatementLineage> {
    let model = settings.dbt_model.as_deref();
    let this = model.unwrap_or("this");
    let rendered = jinja::render(text, this);
    diagnostics.extend(rendered.diagnostics.iter().cloned());
    let relation = model.map(|name| {
        let object = rendered.config.alias.as_deref().unwrap_or(name);
        let mut parts: Vec<&str> = Vec::new();
        if let Some(db) = rendered.config.database.as_deref() {
            parts.push(db);
        }
        match (rendered.config.schema.as_deref(), settings.default_schema.as_deref()) {
            (Some(schema), _) | (None, Some(schema)) => parts.push(schema),
            (None, None) => {}
        }
        parts.push(object);
        sql::names::normalize_dotted(&parts.join("."))
    });
    let options = sql::SqlOptions {
        dialect: settings.dialect,
        indirect: settings.indirect,
        default_schema: settings.default_schema.clone(),
        catalog: Some(&settings.catalog),
    };
    let (mut statements, found) = sql::analyze(&rendered.sql, &options);
    let map_line =
        |line: usize| rendered.line_map.get(line.saturating_sub(1)).copied().unwrap_or(line);
    diagnostics.extend(found.into_iter().map(|mut d| {
        d.line = map_line(d.line);
        d
    }));
    for statement in &mut statements {
        statement.line = map_line(statement.line);
    }
    let extra: Vec<String> = rendered
        .extra_reads
        .iter()
        .map(|(name, _)| {
            let name = sql::names::normalize_dotted(name);
            match settings.default_schema.as_deref() {
                Some(schema) if !name.contains('.') => format!("{schema}.{name}"),
                _ => name,
            }
        })
        .collect();
    if let Some(relation) = relation {
        // The model is its last SELECT; hooks and other statements keep their own lineage.
        if let Some(last) =
            statements.iter_mut().rev().find(|s| s.kind == Kind::Select || s.kind == Kind::Unparsed)
        {
            last.kind = if last.kind == Kind::Unparsed { Kind::Unparsed } else { Kind::Model };
            // The model materializes the query: its ORDER BY orders rows no client receives.
            if last.result_order_without_limit {
                last.structure.order_by_without_limit += 1;
            }
            last.writes.insert(relation.clone());
            last.columns = std::mem::take(&mut last.columns)
                .into_iter()
                .map(|(source, target)| (source, format!("{relation}.{target}")))
                .collect();
            // The query's anonymous result is the model's relation now.
            last.indirect = std::mem::take(&mut last.indirect)
                .into_iter()
                .map(|(source, target, kind)| {
                    let target = if target.is_empty() {
                        relation.clone()
                    } else {
                        format!("{relation}.{target}")
                    };
                    (source, target, kind)
                })
                .collect();
            last.reads.remove(&relation);
            last.reads.extend(extra.into_iter().filter(|r| *r != relation));
        } else {
            diagnostics.push(Diagnostic::warning(
                1,
                1,
                format!("dbt model `{relation}`: no SELECT found"),
            ));
        }
    } else if let Some(first) = statements.first_mut() {
        first.reads.extend(extra);
    }
    statements
}

/// Datasets written by one transformation and read by a later one, in file order.
fn intermediates(transformations: &[Transformation]) -> Vec<String> {
    let mut written = std::collections::BTreeSet::new();
    let mut found = std::collections::BTreeSet::new();
    for t in transformations {
        found.extend(t.reads.iter().filter(|r| written.contains(*r)).cloned());
        written.extend(t.writes.iter());
    }
    found.into_iter().collect()
}

/// Ids are `path#line`; a second statement on the same line gets `path#line.2`.
fn with_ids(path: &str, statements: Vec<sql::StatementLineage>) -> Vec<Transformation> {
    let mut seen: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    statements
        .into_iter()
        .map(|s| {
            let n = seen.entry(s.line).or_insert(0);
            *n += 1;
            let id = if *n == 1 {
                format!("{path}#{}", s.line)
            } else {
                format!("{path}#{}.{}", s.line, n)
            };
            s.into_transformation(id)
        })
        .collect()
}
