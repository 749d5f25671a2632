//! SQL lineage: a script's statements, each one transformation with the datasets it reads
//! and writes and its column lineage.
//!
//! Each statement is parsed on its own (see `split`), with the file's dialect and then its
//! close relatives; what no parser accepts goes to the tree-sitter fallback, which recovers
//! table names at partial confidence. State that crosses statements lives in `Session`: the
//! default schema (`USE`) and the columns of tables created earlier in the script.

pub mod columns;
pub mod dialect;
pub mod names;
pub mod scope;
pub mod split;
pub mod structure;

use std::collections::BTreeSet;

use sqlparser::ast::{
    AlterTableOperation, Assignment, AssignmentTarget, CopySource, CopyTarget, CreateTableLikeKind,
    Expr, FromTable, MergeAction, MergeInsertKind, MergeUpdateKind, ObjectName, ObjectType, Query,
    RenameTableNameKind, SelectItem, SetExpr, Spanned, Statement, TableFactor, TableObject, Use,
};
use sqlparser::parser::{Parser, ParserError};

pub use dialect::Dialect;
use scope::{ColumnRef, Env, Relation, RelationKind, Scope, Shape, Walker, ident_name};

use crate::diagnostic::Diagnostic;
use crate::extract::fallback;
use crate::extract::{
    Catalog, ColumnEdge, Confidence, IndirectEdge, IndirectKind, Kind, Rename, Structure,
    Transformation,
};
use crate::source::LineIndex;

/// What applies to one SQL text.
#[derive(Debug, Clone)]
pub struct SqlOptions<'a> {
    pub dialect: Dialect,
    /// Compute indirect lineage too.
    pub indirect: bool,
    pub default_schema: Option<String>,
    pub catalog: Option<&'a Catalog>,
}

impl Default for SqlOptions<'_> {
    fn default() -> Self {
        Self { dialect: Dialect::default(), indirect: true, default_schema: None, catalog: None }
    }
}

/// The lineage of one statement, before it gets its id.
#[derive(Debug, Clone)]
pub struct StatementLineage {
    pub kind: Kind,
    /// 1-based line in the analyzed text.
    pub line: usize,
    pub reads: BTreeSet<String>,
    pub writes: BTreeSet<String>,
    pub columns: BTreeSet<(ColumnRef, String)>,
    /// Indirect lineage: source, target (a dataset, `""`, or an output column), and how.
    pub indirect: BTreeSet<(ColumnRef, String, IndirectKind)>,
    pub drops: BTreeSet<String>,
    pub renames: Vec<Rename>,
    pub confidence: Confidence,
    /// The procedure the statement is part of, if any.
    pub procedure: Option<String>,
    /// The columns of what the statement produces (the dataset it creates, or a query's
    /// result), in order, when known (no unexpanded `*`).
    pub output_columns: Vec<String>,
    /// The shape of the statement's SQL.
    pub structure: Structure,
    /// The statement is a query whose outermost ORDER BY has no LIMIT. `structure` does not
    /// count that sort as one for nothing, since a client receives the rows in order; a dbt
    /// model, which materializes the query, does.
    pub result_order_without_limit: bool,
}

impl StatementLineage {
    fn new(kind: Kind, line: usize) -> Self {
        Self {
            kind,
            line,
            reads: BTreeSet::new(),
            writes: BTreeSet::new(),
            columns: BTreeSet::new(),
            indirect: BTreeSet::new(),
            drops: BTreeSet::new(),
            renames: Vec::new(),
            confidence: Confidence::Full,
            procedure: None,
            output_columns: Vec::new(),
            structure: Structure::default(),
            result_order_without_limit: false,
        }
    }

    /// Into the JSON contract's shape; `id_base` is the file path.
    pub fn into_transformation(self, id: String) -> Transformation {
        Transformation {
            id,
            kind: self.kind,
            line: self.line,
            reads: self.reads.into_iter().collect(),
            writes: self.writes.into_iter().collect(),
            columns: self
                .columns
                .into_iter()
                .map(|(source, target)| ColumnEdge { source: source.render(), target })
                .collect(),
            indirect: self
                .indirect
                .into_iter()
                .map(|(source, target, kind)| IndirectEdge {
                    source: source.render(),
                    target,
                    kind,
                })
                .collect(),
            confidence: self.confidence,
            drops: self.drops.into_iter().collect(),
            renames: self.renames,
            procedure: self.procedure,
            output_columns: self.output_columns,
            structure: self.structure,
            after: Vec::new(),
            operations: Vec::new(),
        }
    }
}

/// State that one statement leaves for the next.
struct Session {
    default_schema: Option<String>,
    /// The caller's catalog plus the tables this script created.
    catalog: Catalog,
}

/// All statements of a SQL text, in order, and what went wrong.
pub fn analyze(text: &str, options: &SqlOptions<'_>) -> (Vec<StatementLineage>, Vec<Diagnostic>) {
    let file_lines = LineIndex::new(text);
    let mut session = Session {
        default_schema: options.default_schema.clone(),
        catalog: options.catalog.cloned().unwrap_or_default(),
    };
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    let chunks = split::split(text);
    let mut i = 0;
    while i < chunks.len() {
        let chunk = &chunks[i];
        let code = chunk.start + split::code_start(chunk.text);
        // Positions sqlparser reports count from the chunk's first line; the statement's
        // own line is where its code starts.
        let chunk_line = file_lines.line_of(chunk.start);
        let code_line = file_lines.line_of(code);
        let (parsed, used) = parse_chunks(text, &chunks[i..], options.dialect);
        match parsed {
            Parsed::Statements { statements, tokens } => {
                let lines = (chunk_line, code_line);
                out.extend(run_statements(
                    &statements,
                    (options.dialect, options.indirect, tokens),
                    lines,
                    &mut session,
                    &mut diagnostics,
                ));
            }
            Parsed::Repaired { statements, tokens, dropped, error } => {
                let lines = (chunk_line, code_line);
                // The dropped words were tokens of the statement as written.
                let tokens = tokens.saturating_add(u32::try_from(dropped.len()).unwrap_or(0));
                for mut lineage in run_statements(
                    &statements,
                    (options.dialect, options.indirect, tokens),
                    lines,
                    &mut session,
                    &mut diagnostics,
                ) {
                    lineage.confidence = Confidence::Partial;
                    out.push(lineage);
                }
                let words: Vec<String> = dropped.iter().map(|(_, _, w)| format!("`{w}`")).collect();
                let (line, column) =
                    dropped.first().map_or((code_line, 1), |(l, c, _)| (chunk_line + l - 1, *c));
                diagnostics.push(Diagnostic::warning(
                    line,
                    column,
                    format!(
                        "SQL not parsed ({}): {}; parsed after ignoring {}: lineage may be incomplete",
                        options.dialect,
                        error_message(&error),
                        words.join(", ")
                    ),
                ));
            }
            Parsed::Block { header, body, body_start } => {
                // A procedure no parser accepts as a whole: its body is a script of its own.
                let procedure = procedure_name(header);
                let body_line = file_lines.line_of(body_start);
                let inner_options = SqlOptions {
                    dialect: options.dialect,
                    indirect: options.indirect,
                    default_schema: session.default_schema.clone(),
                    catalog: Some(&session.catalog),
                };
                let (inner, inner_diagnostics) = analyze(body, &inner_options);
                for mut lineage in inner {
                    lineage.line += body_line - 1;
                    if lineage.procedure.is_none() {
                        lineage.procedure.clone_from(&procedure);
                    }
                    out.push(lineage);
                }
                diagnostics.extend(inner_diagnostics.into_iter().map(|d| d.shifted(body_line - 1)));
            }
            Parsed::Failed(error) => {
                // An error at the end of input carries no position: it is where the code ends.
                let end = chunk.start + chunk.text.trim_end().len();
                let end_position = file_lines.position(text, end);
                let (line, column) = error_position(&error, chunk_line, end_position);
                diagnostics.push(Diagnostic::error(
                    line,
                    column,
                    format!(
                        "SQL not parsed ({}): {}; tables recovered by the fallback parser",
                        options.dialect,
                        error_message(&error)
                    ),
                ));
                let tokens = structure::token_count(chunk.text, options.dialect);
                out.extend(recover(
                    chunk.text,
                    code_line,
                    session.default_schema.as_deref(),
                    tokens,
                ));
            }
        }
        i += used.max(1);
    }
    (out, diagnostics)
}

/// The lineage of parsed statements in order, each seeing the session the ones before left.
/// `tokens` counts the chunk's tokens; `lines` are the file lines of the chunk's start and of
/// its first code.
fn run_statements(
    statements: &[Statement],
    (dialect, indirect, tokens): (Dialect, bool, u32),
    (first_line, code_line): (usize, usize),
    session: &mut Session,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<StatementLineage> {
    let mut out = Vec::new();
    for statement in statements {
        let env = Env {
            dialect,
            catalog: &session.catalog,
            default_schema: session.default_schema.as_deref(),
            first_line,
            code_line,
            nested: statements.len() > 1,
            indirect,
            tokens,
        };
        let effects = statement_lineage(statement, &env, &[], &mut out, diagnostics);
        apply_effects(effects, session);
    }
    out
}

/// What the chunks at the head of a script parse to.
enum Parsed<'t> {
    /// The statements and how many tokens they are.
    Statements {
        statements: Vec<Statement>,
        tokens: u32,
    },
    /// Parsed once the words at (line, column) in the chunk were dropped.
    Repaired {
        statements: Vec<Statement>,
        tokens: u32,
        dropped: Vec<(usize, usize, String)>,
        error: ParserError,
    },
    /// A procedural block (`… BEGIN … END`) that no parser accepts whole: its header and
    /// the body between BEGIN and END, at `body_start` in the script.
    Block {
        header: &'t str,
        body: &'t str,
        body_start: usize,
    },
    Failed(ParserError),
}

/// Parse the chunk at the head of `chunks`. A chunk that opens a procedural block is joined
/// with the chunks up to the block's END first, since the block's semicolons split it.
/// Returns how many chunks were used.
fn parse_chunks<'t>(
    text: &'t str,
    chunks: &[split::Chunk<'t>],
    dialect: Dialect,
) -> (Parsed<'t>, usize) {
    let Some(first) = chunks.first() else {
        return (Parsed::Statements { statements: Vec::new(), tokens: 0 }, 0);
    };
    // Only BEGIN opens a block that spans statements; most chunks have none, and a byte
    // search is cheaper than the word scan.
    let has_begin = first.text.as_bytes().windows(5).any(|w| w.eq_ignore_ascii_case(b"begin"));
    if has_begin && block_depth(first.text) > 0 {
        let mut depth = 0;
        let mut last = chunks.len().min(MAX_BLOCK_CHUNKS) - 1;
        for (k, chunk) in chunks.iter().enumerate().take(MAX_BLOCK_CHUNKS) {
            depth += block_depth(chunk.text);
            if depth <= 0 {
                last = k;
                break;
            }
        }
        let end = chunks[last].start + chunks[last].text.len();
        let joined = &text[first.start..end];
        if let Ok((statements, tokens)) = parse_with_relatives(joined, dialect) {
            return (Parsed::Statements { statements, tokens }, last + 1);
        }
        if let Some((begin, body_end)) = block_body(joined) {
            let body = &joined[begin..body_end];
            return (
                Parsed::Block { header: &joined[..begin], body, body_start: first.start + begin },
                last + 1,
            );
        }
    }
    match parse_with_relatives(first.text, dialect) {
        Ok((statements, tokens)) => (Parsed::Statements { statements, tokens }, 1),
        Err(error) => match repair(first.text, dialect, &error) {
            Some((statements, tokens, dropped)) => {
                (Parsed::Repaired { statements, tokens, dropped, error }, 1)
            }
            None => (Parsed::Failed(error), 1),
        },
    }
}

/// A word dropped to make a statement parse: (line, column) in the chunk, and the word.
type DroppedWord = (usize, usize, String);

/// How many words a statement may lose to single-token deletion.
const MAX_DROPPED_WORDS: usize = 8;

/// Words that carry a statement's structure: dropping one would change which tables it
/// reads or writes, so a statement that fails on one goes to the fallback instead.
const STRUCTURAL_WORDS: &[&str] = &[
    "select",
    "from",
    "where",
    "join",
    "on",
    "using",
    "group",
    "order",
    "by",
    "having",
    "union",
    "intersect",
    "except",
    "minus",
    "insert",
    "into",
    "overwrite",
    "update",
    "set",
    "delete",
    "merge",
    "when",
    "then",
    "else",
    "end",
    "case",
    "with",
    "as",
    "and",
    "or",
    "not",
    "in",
    "exists",
    "values",
    "table",
    "create",
    "view",
    "inner",
    "left",
    "right",
    "full",
    "outer",
    "cross",
    "lateral",
    "limit",
    "distinct",
    "all",
    "is",
    "null",
    "between",
    "like",
    "window",
    "over",
    "partition",
    "qualify",
    "returning",
    "copy",
    "unload",
    "to",
    "cache",
    "drop",
];

/// Single-token deletion, the error recovery of parser generators: where the parser stops on
/// a word that carries no structure (the TPC template's `date + 30 days`, a stray keyword of
/// another dialect), blank that word out and parse again. Blanking keeps every position, so
/// lines and columns stay right. The words dropped are reported; the statement is then
/// lineage of partial confidence.
fn repair(
    text: &str,
    dialect: Dialect,
    error: &ParserError,
) -> Option<(Vec<Statement>, u32, Vec<DroppedWord>)> {
    let lines = LineIndex::new(text);
    let mut patched = text.to_string();
    let mut dropped = Vec::new();
    let mut error = error.clone();
    while dropped.len() < MAX_DROPPED_WORDS {
        let (line, column) = error_position(&error, 1, (0, 0));
        if line == 0 {
            return None;
        }
        let start = lines.offset(&patched, line, column);
        let word_len = patched[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(patched.len() - start);
        let word = &patched[start..start + word_len];
        if word.is_empty()
            || !word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            || STRUCTURAL_WORDS.contains(&word.to_ascii_lowercase().as_str())
        {
            return None;
        }
        dropped.push((line, column, word.to_string()));
        patched.replace_range(start..start + word_len, &" ".repeat(word_len));
        match parse(&patched, dialect) {
            Ok((statements, tokens)) => return Some((statements, tokens, dropped)),
            Err(next) => error = next,
        }
    }
    None
}

const MAX_BLOCK_CHUNKS: usize = 4096;

/// How many procedural blocks a text opens minus how many it closes. `BEGIN` opens one
/// (but not `BEGIN TRANSACTION`), so does `CASE`; `END` closes one, except `END IF` / `END
/// LOOP` / `END WHILE`, whose openers are not counted.
fn block_depth(text: &str) -> i64 {
    let words = split::words(text);
    let mut depth = 0;
    for (i, (_, word)) in words.iter().enumerate() {
        let next = words.get(i + 1).map(|(_, w)| w.to_ascii_lowercase());
        if word.eq_ignore_ascii_case("begin") {
            let transaction =
                matches!(next.as_deref(), Some("transaction" | "tran" | "work" | "distributed"));
            if !transaction && i + 1 < words.len() {
                depth += 1;
            }
        } else if word.eq_ignore_ascii_case("case") {
            depth += 1;
        } else if word.eq_ignore_ascii_case("end")
            && !matches!(next.as_deref(), Some("if" | "loop" | "while" | "repeat" | "for"))
        {
            depth -= 1;
        }
    }
    depth
}

/// The byte range of a block's body: after its first `BEGIN`, before its last `END`.
fn block_body(text: &str) -> Option<(usize, usize)> {
    let words = split::words(text);
    let begin =
        words.iter().find(|(_, w)| w.eq_ignore_ascii_case("begin")).map(|(o, w)| o + w.len())?;
    let end = words.iter().rev().find(|(_, w)| w.eq_ignore_ascii_case("end")).map(|(o, _)| *o)?;
    (begin < end).then_some((begin, end))
}

/// `CREATE [OR REPLACE] PROCEDURE db.name(…)` -> `db.name`.
fn procedure_name(header: &str) -> Option<String> {
    let words = split::words(header);
    let at = words
        .iter()
        .position(|(_, w)| w.eq_ignore_ascii_case("procedure") || w.eq_ignore_ascii_case("proc"))?;
    let (offset, word) = words.get(at + 1)?;
    let rest = &header[*offset..];
    let end = rest.find(|c: char| c.is_whitespace() || c == '(').unwrap_or(rest.len());
    let name = names::normalize_dotted(&rest[..end]);
    (!name.is_empty() && !word.is_empty()).then_some(name)
}

/// The dialect's own parser first, then its relatives; the first error is the one reported.
fn parse_with_relatives(
    text: &str,
    dialect: Dialect,
) -> Result<(Vec<Statement>, u32), ParserError> {
    let first = parse(text, dialect);
    if first.is_ok() {
        return first;
    }
    for relative in dialect.relatives() {
        if *relative == dialect {
            continue;
        }
        if let Ok(parsed) = parse(text, *relative) {
            return Ok(parsed);
        }
    }
    first
}

/// The statements of a text and how many tokens it has: the parser has tokenized it already,
/// so the count costs one pass over its tokens.
fn parse(text: &str, dialect: Dialect) -> Result<(Vec<Statement>, u32), ParserError> {
    let parser_dialect = dialect.parser();
    let mut parser = Parser::new(&*parser_dialect).try_with_sql(text)?;
    let statements = parser.parse_statements()?;
    let tokens = structure::count_tokens(parser.into_tokens().iter().map(|t| &t.token));
    Ok((statements, tokens))
}

fn error_message(error: &ParserError) -> String {
    let text = match error {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.clone(),
        ParserError::RecursionLimitExceeded => "nested too deeply".to_string(),
    };
    match text.find(" at Line: ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// sqlparser puts the position in the message: `… at Line: 3, Column: 10`.
/// Without one (an error at the end of input), the end of the statement.
fn error_position(error: &ParserError, first_line: usize, end: (usize, usize)) -> (usize, usize) {
    let text = error.to_string();
    let number_after = |key: &str| -> Option<usize> {
        let at = text.find(key)? + key.len();
        text[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
    };
    match (number_after("Line: "), number_after("Column: ")) {
        (Some(line), Some(column)) if line > 0 => (first_line + line - 1, column),
        _ => end,
    }
}

/// Table names from a statement no parser accepted, `tokens` long.
fn recover(
    chunk: &str,
    code_line: usize,
    default_schema: Option<&str>,
    tokens: u32,
) -> Option<StatementLineage> {
    let recovery = fallback::recover(chunk);
    if recovery.reads.is_empty() && recovery.writes.is_empty() {
        return None;
    }
    let qualify = |name: &str| match default_schema {
        Some(schema) if !name.contains('.') => format!("{schema}.{name}"),
        _ => name.to_string(),
    };
    // The statement's first word still says what it does to the tables it names.
    let first_word = split::words(chunk).first().map(|(_, w)| w.to_ascii_lowercase());
    let kind = match first_word.as_deref() {
        Some("delete") => Kind::Delete,
        Some("truncate") => Kind::Truncate,
        Some("drop") => Kind::Drop,
        _ => Kind::Unparsed,
    };
    let mut lineage = StatementLineage::new(kind, code_line);
    lineage.confidence = Confidence::Partial;
    // Without a tree, only the size and the tables are known of the statement's shape.
    lineage.structure.tokens = tokens;
    if matches!(kind, Kind::Truncate | Kind::Drop) {
        lineage.drops =
            recovery.writes.iter().chain(&recovery.reads).map(|r| qualify(&r.name)).collect();
        return Some(lineage);
    }
    lineage.writes = recovery.writes.iter().map(|r| qualify(&r.name)).collect();
    lineage.reads = recovery
        .reads
        .iter()
        .map(|r| qualify(&r.name))
        .filter(|r| !lineage.writes.contains(r))
        .collect();
    let found = recovery.reads.len() + recovery.writes.len();
    lineage.structure.tables = u32::try_from(found).unwrap_or(u32::MAX);
    Some(lineage)
}

/// What a statement changes for the statements after it.
#[derive(Default)]
struct Effects {
    default_schema: Option<String>,
    /// Tables created (with known columns) or dropped.
    created: Vec<(String, Vec<String>)>,
    dropped: Vec<String>,
}

fn apply_effects(effects: Effects, session: &mut Session) {
    if let Some(schema) = effects.default_schema {
        session.default_schema = Some(schema);
    }
    for (table, columns) in effects.created {
        session.catalog.insert(table, columns);
    }
    for table in effects.dropped {
        session.catalog.remove(&table);
    }
}

/// The lineage of one parsed statement (procedures give several), pushed to `out`.
fn statement_lineage(
    statement: &Statement,
    env: &Env<'_>,
    ctes: &[(String, Shape)],
    out: &mut Vec<StatementLineage>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Effects {
    let mut walker = Walker::new(env, ctes);
    // A statement alone in its chunk starts where the chunk's code does; asking sqlparser
    // for the span would walk the whole tree.
    let line = if env.nested { statement_line(statement, env) } else { env.code_line };
    let mut effects = Effects::default();
    // The structure of a query the statement holds as a string (Redshift's UNLOAD).
    let mut quoted: Option<Structure> = None;
    let lineage = match statement {
        Statement::Query(query) if query.with.is_some() && dml_body(query).is_some() => {
            // `WITH x AS (…) INSERT/UPDATE/MERGE …`: the statement sees the CTEs.
            if let (Some(with), Some(inner)) = (&query.with, dml_body(query)) {
                walker.define_ctes(with, None);
                let before = out.len();
                let inner_effects = statement_lineage(inner, env, walker.ctes(), out, diagnostics);
                effects = inner_effects;
                if let Some(last) = out[before..].last_mut() {
                    last.reads.extend(std::mem::take(&mut walker.reads));
                    add_row_deciders(last, std::mem::take(&mut walker.indirect));
                    // The inner statement's structure lacks the CTEs: walk the whole again.
                    last.structure = structure::of(statement, statement_tokens(statement, env));
                }
            }
            None
        }
        Statement::Query(query) => Some(query_statement(query, line, &mut walker, &mut effects)),
        Statement::Insert(insert) => {
            let target = match &insert.table {
                TableObject::TableName(name) => Some(walker.dataset_name(name)),
                TableObject::TableFunction(_) | TableObject::TableQuery(_) => None,
            };
            let columns: Vec<String> = insert
                .columns
                .iter()
                .filter_map(|c| c.0.last().and_then(|p| p.as_ident()).map(ident_name))
                .collect();
            let mut lineage = StatementLineage::new(Kind::Insert, line);
            if let Some(source) = &insert.source {
                let shape = walker.query(source, None);
                if let Some(target) = &target {
                    write_columns(&shape, target, &columns, env.catalog, &mut lineage);
                }
            }
            if !insert.assignments.is_empty()
                && let Some(target) = &target
            {
                let scope = Scope::new(None);
                assignment_columns(&insert.assignments, target, &mut walker, &scope, &mut lineage);
            }
            lineage.writes.extend(target);
            Some(lineage)
        }
        Statement::Directory { path, source, .. } => {
            let shape = walker.query(source, None);
            let mut lineage = StatementLineage::new(Kind::Insert, line);
            write_columns(&shape, path, &[], env.catalog, &mut lineage);
            lineage.writes.insert(path.clone());
            Some(lineage)
        }
        Statement::CreateTable(create) => {
            let target = walker.dataset_name(&create.name);
            let declared: Vec<String> =
                create.columns.iter().map(|c| ident_name(&c.name)).collect();
            let mut lineage;
            if let Some(query) = &create.query {
                lineage = StatementLineage::new(Kind::CreateTableAs, line);
                let shape = walker.query(query, None);
                write_columns(&shape, &target, &declared, env.catalog, &mut lineage);
                let names =
                    if declared.is_empty() { named_columns(&shape) } else { Some(declared) };
                if let Some(names) = names {
                    effects.created.push((target.clone(), names));
                }
            } else {
                lineage = StatementLineage::new(Kind::CreateTable, line);
                let template = match &create.like {
                    Some(CreateTableLikeKind::Parenthesized(t) | CreateTableLikeKind::Plain(t)) => {
                        Some(&t.name)
                    }
                    None => None,
                };
                if let Some(source) = template.or(create.clone.as_ref()) {
                    let source = walker.dataset_name(source);
                    if let Some(columns) = env.catalog.columns(&source) {
                        effects.created.push((target.clone(), columns.to_vec()));
                    }
                    walker.reads.insert(source);
                    lineage.kind = Kind::CreateTableAs;
                } else if !declared.is_empty() {
                    effects.created.push((target.clone(), declared));
                }
            }
            lineage.writes.insert(target);
            Some(lineage)
        }
        Statement::CreateView(view) => {
            let target = walker.dataset_name(&view.name);
            let declared: Vec<String> = view.columns.iter().map(|c| ident_name(&c.name)).collect();
            let mut lineage = StatementLineage::new(Kind::CreateView, line);
            let shape = walker.query(&view.query, None);
            write_columns(&shape, &target, &declared, env.catalog, &mut lineage);
            let names = if declared.is_empty() { named_columns(&shape) } else { Some(declared) };
            if let Some(names) = names {
                effects.created.push((target.clone(), names));
            }
            lineage.writes.insert(target);
            Some(lineage)
        }
        Statement::Merge(merge) => Some(merge_lineage(merge, line, &mut walker)),
        Statement::Update(update) => {
            let mut scope = Scope::new(None);
            let target = target_relation(&update.table.relation, &walker);
            let target_name = target.as_ref().and_then(|r| r.dataset.clone());
            scope.relations.extend(target);
            walker.joins(&update.table.joins, &mut scope);
            if let Some(from) = &update.from {
                let (sqlparser::ast::UpdateTableFromKind::BeforeSet(tables)
                | sqlparser::ast::UpdateTableFromKind::AfterSet(tables)) = from;
                for item in tables {
                    walker.table_with_joins(item, &mut scope);
                }
            }
            // T-SQL: `UPDATE t SET … FROM tab1 t JOIN …` names the target by an alias of FROM.
            let target_name = match (&target_name, &update.table.relation) {
                (Some(_), TableFactor::Table { name, alias: None, .. }) if name.0.len() == 1 => {
                    let key = name
                        .0
                        .last()
                        .and_then(|p| p.as_ident())
                        .map(ident_name)
                        .unwrap_or_default();
                    let aliased = scope
                        .relations
                        .iter()
                        .skip(1)
                        .find(|r| r.name == key)
                        .and_then(|r| r.dataset.clone());
                    match aliased {
                        Some(dataset) => {
                            walker.reads.remove(&dataset);
                            Some(dataset)
                        }
                        None => target_name,
                    }
                }
                _ => target_name,
            };
            let mut lineage = StatementLineage::new(Kind::Update, line);
            if let Some(target) = &target_name {
                assignment_columns(&update.assignments, target, &mut walker, &scope, &mut lineage);
                lineage.writes.insert(target.clone());
            }
            if let Some(selection) = &update.selection {
                walker.decide(selection, &scope, IndirectKind::Filter);
            }
            Some(lineage)
        }
        Statement::Delete(delete) => {
            let mut lineage = StatementLineage::new(Kind::Delete, line);
            let from = match &delete.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            let mut scope = Scope::new(None);
            let mut targets: Vec<String> =
                delete.tables.iter().map(|t| walker.dataset_name(t)).collect();
            for (i, item) in from.iter().enumerate() {
                if i == 0 && targets.is_empty() {
                    let target = target_relation(&item.relation, &walker);
                    targets.extend(target.as_ref().and_then(|r| r.dataset.clone()));
                    scope.relations.extend(target);
                } else {
                    walker.table_factor(&item.relation, &mut scope);
                }
                walker.joins(&item.joins, &mut scope);
            }
            for item in delete.using.iter().flatten() {
                walker.table_with_joins(item, &mut scope);
            }
            if let Some(selection) = &delete.selection {
                walker.decide(selection, &scope, IndirectKind::Filter);
            }
            for t in &targets {
                walker.reads.remove(t);
            }
            lineage.writes.extend(targets);
            Some(lineage)
        }
        Statement::Copy { source, to, target, .. } => {
            let mut lineage = StatementLineage::new(Kind::Copy, line);
            let file = match target {
                CopyTarget::File { filename } => Some(filename.clone()),
                CopyTarget::Stdin | CopyTarget::Stdout | CopyTarget::Program { .. } => None,
            };
            match source {
                CopySource::Table { table_name, .. } => {
                    let table = walker.dataset_name(table_name);
                    if *to {
                        walker.reads.insert(table);
                        lineage.writes.extend(file);
                    } else {
                        lineage.reads.extend(file);
                        lineage.writes.insert(table);
                    }
                }
                CopySource::Query(query) => {
                    walker.query(query, None);
                    lineage.writes.extend(file);
                }
            }
            Some(lineage)
        }
        Statement::CopyIntoSnowflake { into, from_obj, from_query, .. } => {
            let mut lineage = StatementLineage::new(Kind::Copy, line);
            let into_name = walker.dataset_name(into);
            if let Some(query) = from_query {
                walker.query(query, None);
            }
            if let Some(from) = from_obj {
                lineage.reads.insert(stage_or_dataset(from, &walker));
            }
            lineage.writes.insert(into_name);
            Some(lineage)
        }
        Statement::Unload { query, query_text, to, .. } => {
            let mut lineage = StatementLineage::new(Kind::Unload, line);
            if let Some(query) = query {
                walker.query(query, None);
            }
            if let Some(text) = query_text {
                // Redshift takes the query as a string: analyze it like any SQL.
                let options = SqlOptions {
                    dialect: env.dialect,
                    indirect: env.indirect,
                    default_schema: env.default_schema.map(str::to_string),
                    catalog: Some(env.catalog),
                };
                let (inner, _) = analyze(text, &options);
                quoted = inner.first().map(|s| s.structure.clone());
                lineage.reads.extend(inner.into_iter().flat_map(|s| s.reads));
            }
            lineage.writes.insert(to.value.clone());
            Some(lineage)
        }
        Statement::AlterTable(alter) => {
            let renamed = alter.operations.iter().find_map(|op| match op {
                AlterTableOperation::RenameTable {
                    table_name: RenameTableNameKind::As(n) | RenameTableNameKind::To(n),
                } => Some(n),
                _ => None,
            });
            renamed.map(|new| {
                let from = walker.dataset_name(&alter.name);
                let mut to = walker.dataset_name(new);
                // `ALTER TABLE s.t RENAME TO t2` keeps the table in its schema.
                if new.0.len() == 1
                    && alter.name.0.len() > 1
                    && env.default_schema.is_none()
                    && let Some((schema, _)) = from.rsplit_once('.')
                {
                    to = format!("{schema}.{to}");
                }
                rename_lineage(line, &from, &to, env, &mut effects)
            })
        }
        Statement::RenameTable(renames) => {
            let mut lineage = StatementLineage::new(Kind::Rename, line);
            for r in renames {
                let from = walker.dataset_name(&r.old_name);
                let to = walker.dataset_name(&r.new_name);
                let one = rename_lineage(line, &from, &to, env, &mut effects);
                lineage.renames.extend(one.renames);
            }
            Some(lineage)
        }
        Statement::Drop { object_type, names, .. } => {
            if matches!(
                object_type,
                ObjectType::Table | ObjectType::View | ObjectType::MaterializedView
            ) {
                let mut lineage = StatementLineage::new(Kind::Drop, line);
                for name in names {
                    let name = walker.dataset_name(name);
                    effects.dropped.push(name.clone());
                    lineage.drops.insert(name);
                }
                Some(lineage)
            } else {
                None
            }
        }
        Statement::Truncate(truncate) => {
            let mut lineage = StatementLineage::new(Kind::Truncate, line);
            for t in &truncate.table_names {
                lineage.drops.insert(walker.dataset_name(&t.name));
            }
            Some(lineage)
        }
        Statement::Cache { table_name, query: Some(query), .. } => {
            let mut lineage = StatementLineage::new(Kind::Cache, line);
            let target = walker.dataset_name(table_name);
            let shape = walker.query(query, None);
            write_columns(&shape, &target, &[], env.catalog, &mut lineage);
            lineage.writes.insert(target);
            Some(lineage)
        }
        Statement::Use(use_statement) => {
            let name = match use_statement {
                Use::Schema(n) | Use::Database(n) | Use::Object(n) | Use::Catalog(n) => Some(n),
                Use::Warehouse(_) | Use::Role(_) | Use::SecondaryRoles(_) | Use::Default => None,
            };
            if let Some(name) = name {
                let schema = name
                    .0
                    .iter()
                    .filter_map(|p| p.as_ident())
                    .map(ident_name)
                    .collect::<Vec<_>>()
                    .join(".");
                effects.default_schema = Some(schema);
            }
            None
        }
        Statement::CreateProcedure { body, name, .. } => {
            let inner = match body {
                sqlparser::ast::ConditionalStatements::Sequence { statements } => statements,
                sqlparser::ast::ConditionalStatements::BeginEnd(block) => &block.statements,
            };
            let before = out.len();
            nested_statements(inner, env, out, diagnostics);
            let procedure = walker.dataset_name(name);
            for lineage in &mut out[before..] {
                lineage.procedure.get_or_insert_with(|| procedure.clone());
            }
            None
        }
        Statement::If(if_statement) => {
            let blocks = std::iter::once(&if_statement.if_block)
                .chain(&if_statement.elseif_blocks)
                .chain(&if_statement.else_block);
            for block in blocks {
                nested_statements(block.conditional_statements.statements(), env, out, diagnostics);
            }
            None
        }
        Statement::While(w) => {
            nested_statements(
                w.while_block.conditional_statements.statements(),
                env,
                out,
                diagnostics,
            );
            None
        }
        other if no_lineage(other) => None,
        other => {
            let (l, c) = walker.position(other.span().start);
            let word = other.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            diagnostics.push(Diagnostic::info(
                l,
                c,
                format!("`{word} …` has no data lineage that git-lineage tracks"),
            ));
            None
        }
    };
    if let Some(mut lineage) = lineage {
        if let Some((_, columns)) = effects.created.iter().find(|(t, _)| lineage.writes.contains(t))
        {
            lineage.output_columns.clone_from(columns);
        }
        lineage.reads.extend(std::mem::take(&mut walker.reads));
        add_row_deciders(&mut lineage, std::mem::take(&mut walker.indirect));
        lineage.structure = structure::of(statement, statement_tokens(statement, env));
        if let Some(inner) = quoted {
            // The statement's work is the quoted query's: its shape, and its tokens in place
            // of the one string token.
            let tokens = lineage.structure.tokens.saturating_sub(1).saturating_add(inner.tokens);
            lineage.structure = Structure { tokens, ..inner };
        }
        lineage.result_order_without_limit = structure::sorts_result_without_limit(statement);
        out.push(lineage);
    }
    diagnostics.append(&mut walker.diagnostics);
    effects
}

/// The size of one statement in tokens: its chunk's, when it is alone in it. A statement of a
/// procedure body shares its chunk with the others, and spans would need a walk of the tree
/// and are not always set, so it is printed and tokenized again (procedures are few).
fn statement_tokens(statement: &Statement, env: &Env<'_>) -> u32 {
    if env.nested {
        structure::token_count(&statement.to_string(), env.dialect)
    } else {
        env.tokens
    }
}

fn nested_statements(
    statements: &[Statement],
    env: &Env<'_>,
    out: &mut Vec<StatementLineage>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let env = Env { nested: true, ..*env };
    for statement in statements {
        // Procedure bodies cannot change the session of the script around them for us:
        // they run later, if ever.
        let _ = statement_lineage(statement, &env, &[], out, diagnostics);
    }
}

/// Statements that move no data between datasets.
fn no_lineage(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::Set(_)
            | Statement::Analyze(_)
            | Statement::Msck(_)
            | Statement::UNCache { .. }
            | Statement::Cache { .. }
            | Statement::Explain { .. }
            | Statement::ExplainTable { .. }
            | Statement::ShowFunctions { .. }
            | Statement::ShowVariable { .. }
            | Statement::ShowStatus { .. }
            | Statement::ShowVariables { .. }
            | Statement::ShowCreate { .. }
            | Statement::ShowColumns { .. }
            | Statement::ShowCatalogs { .. }
            | Statement::ShowDatabases { .. }
            | Statement::ShowSchemas { .. }
            | Statement::ShowTables { .. }
            | Statement::ShowViews { .. }
            | Statement::ShowCollation { .. }
            | Statement::ShowObjects(_)
            | Statement::ShowCharset(_)
            | Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Savepoint { .. }
            | Statement::ReleaseSavepoint { .. }
            | Statement::Grant(_)
            | Statement::Revoke(_)
            | Statement::Deny(_)
            | Statement::Comment { .. }
            | Statement::CreateFunction(_)
            | Statement::DropFunction(_)
            | Statement::CreateIndex(_)
            | Statement::CreateSchema { .. }
            | Statement::CreateDatabase { .. }
            | Statement::CreateRole(_)
            | Statement::CreateSequence { .. }
            | Statement::CreateType { .. }
            | Statement::CreateExtension(_)
            | Statement::Declare { .. }
            | Statement::Kill { .. }
            | Statement::Pragma { .. }
            | Statement::LockTables { .. }
            | Statement::UnlockTables
            | Statement::Lock(_)
            | Statement::Install { .. }
            | Statement::Load { .. }
            | Statement::Deallocate { .. }
            | Statement::Prepare { .. }
            | Statement::Execute { .. }
            | Statement::Call(_)
            | Statement::Assert { .. }
            | Statement::Discard { .. }
            | Statement::Flush { .. }
            | Statement::OptimizeTable { .. }
            | Statement::AlterSession { .. }
            | Statement::AlterRole { .. }
            | Statement::AlterIndex { .. }
            | Statement::AlterSchema(_)
            | Statement::AlterView { .. }
            | Statement::DropProcedure { .. }
            | Statement::DropTrigger(_)
            | Statement::CreateTrigger(_)
            | Statement::Raise(_)
            | Statement::Open(_)
            | Statement::Close { .. }
            | Statement::Fetch { .. }
            | Statement::CreateMacro { .. }
            | Statement::CreateStage { .. }
            | Statement::CreateFileFormat { .. }
            | Statement::Case(_)
            | Statement::AttachDatabase { .. }
            | Statement::AttachDuckDBDatabase { .. }
            | Statement::DetachDuckDBDatabase { .. }
    )
}

fn query_statement(
    query: &Query,
    line: usize,
    walker: &mut Walker<'_>,
    effects: &mut Effects,
) -> StatementLineage {
    let shape = walker.query(query, None);
    // `SELECT … INTO t` writes `t`.
    let into = select_into(&query.body);
    match into {
        Some(name) => {
            let target = walker.dataset_name(&name);
            let mut lineage = StatementLineage::new(Kind::CreateTableAs, line);
            write_columns(&shape, &target, &[], walker.env().catalog, &mut lineage);
            if let Some(names) = named_columns(&shape) {
                effects.created.push((target.clone(), names));
            }
            lineage.writes.insert(target);
            lineage
        }
        None => {
            let mut lineage = StatementLineage::new(Kind::Select, line);
            lineage.output_columns = named_columns(&shape).unwrap_or_default();
            for column in &shape.columns {
                add_column(
                    &mut lineage,
                    &column.name,
                    column.sources.iter().cloned(),
                    column.indirect.iter().cloned(),
                );
            }
            lineage
        }
    }
}

fn rename_lineage(
    line: usize,
    from: &str,
    to: &str,
    env: &Env<'_>,
    effects: &mut Effects,
) -> StatementLineage {
    let mut lineage = StatementLineage::new(Kind::Rename, line);
    lineage.renames.push(Rename { from: from.to_string(), to: to.to_string() });
    if let Some(columns) = env.catalog.columns(from) {
        effects.created.push((to.to_string(), columns.to_vec()));
    }
    effects.dropped.push(from.to_string());
    lineage
}

/// Target of UPDATE / DELETE / MERGE: a relation in scope whose columns are written, not read.
fn target_relation(factor: &TableFactor, walker: &Walker<'_>) -> Option<Relation> {
    match factor {
        TableFactor::Table { name, alias, .. } => {
            let dataset = walker.dataset_name(name);
            let alias = alias.as_ref().map(|a| ident_name(&a.name));
            let mut rel = Relation::table(dataset, alias.clone(), walker.env().catalog);
            if alias.is_none() {
                rel.name =
                    name.0.last().and_then(|p| p.as_ident()).map(ident_name).unwrap_or_default();
            }
            Some(rel)
        }
        _ => None,
    }
}

/// `SET col = expr, …`: each target column from its value's sources.
fn assignment_columns(
    assignments: &[Assignment],
    target: &str,
    walker: &mut Walker<'_>,
    scope: &Scope<'_>,
    lineage: &mut StatementLineage,
) {
    for assignment in assignments {
        let sources = walker.expr_lineage(&assignment.value, scope);
        let names: Vec<&ObjectName> = match &assignment.target {
            AssignmentTarget::ColumnName(n) => vec![n],
            AssignmentTarget::Tuple(ns) => ns.iter().collect(),
        };
        for name in names {
            let Some(column) = name.0.last().and_then(|p| p.as_ident()).map(ident_name) else {
                continue;
            };
            let (direct, indirect) =
                (sources.direct.iter().cloned(), sources.indirect.iter().cloned());
            add_column(lineage, &format!("{target}.{column}"), direct, indirect);
        }
    }
}

fn merge_lineage(
    merge: &sqlparser::ast::Merge,
    line: usize,
    walker: &mut Walker<'_>,
) -> StatementLineage {
    let mut lineage = StatementLineage::new(Kind::Merge, line);
    let mut scope = Scope::new(None);
    let target = target_relation(&merge.table, walker);
    let target_name = target.as_ref().and_then(|r| r.dataset.clone());
    scope.relations.extend(target);
    walker.table_factor(&merge.source, &mut scope);
    walker.decide(&merge.on, &scope, IndirectKind::Join);
    let Some(target) = target_name else { return lineage };
    let source_star: BTreeSet<ColumnRef> = scope
        .relations
        .iter()
        .skip(1)
        .flat_map(|r| match &r.kind {
            RelationKind::Derived(shape) => {
                shape.columns.iter().flat_map(|c| c.sources.clone()).collect::<Vec<_>>()
            }
            RelationKind::Element(sources) => sources.iter().cloned().collect::<Vec<_>>(),
            RelationKind::Table { .. } => {
                vec![ColumnRef { dataset: r.dataset.clone(), column: "*".into() }]
            }
        })
        .collect();
    for clause in &merge.clauses {
        if let Some(predicate) = &clause.predicate {
            walker.decide(predicate, &scope, IndirectKind::Filter);
        }
        match &clause.action {
            MergeAction::Update(update) => match &update.kind {
                MergeUpdateKind::Set(assignments) => {
                    assignment_columns(assignments, &target, walker, &scope, &mut lineage);
                }
                MergeUpdateKind::Wildcard => {
                    for s in &source_star {
                        lineage.columns.insert((s.clone(), format!("{target}.*")));
                    }
                }
            },
            MergeAction::Insert(insert) => {
                let columns: Vec<String> = insert
                    .columns
                    .iter()
                    .filter_map(|c| c.0.last().and_then(|p| p.as_ident()).map(ident_name))
                    .collect();
                match &insert.kind {
                    MergeInsertKind::Values(values) => {
                        for row in &values.rows {
                            for (expr, column) in row.content.iter().zip(&columns) {
                                let sources = walker.expr_lineage(expr, &scope);
                                add_column(
                                    &mut lineage,
                                    &format!("{target}.{column}"),
                                    sources.direct,
                                    sources.indirect,
                                );
                            }
                        }
                    }
                    MergeInsertKind::Row | MergeInsertKind::Wildcard => {
                        for s in &source_star {
                            lineage.columns.insert((s.clone(), format!("{target}.*")));
                        }
                    }
                }
            }
            MergeAction::Delete { .. } | MergeAction::DoNothing { .. } => {}
        }
    }
    lineage.writes.insert(target);
    lineage
}

/// Column edges of a query written into `target`. An explicit column list (or the target's
/// known columns) names the outputs by position; otherwise they keep their own names.
fn write_columns(
    shape: &Shape,
    target: &str,
    declared: &[String],
    catalog: &Catalog,
    lineage: &mut StatementLineage,
) {
    let has_star = shape.columns.iter().any(scope::OutputColumn::is_star);
    let known = catalog.columns(target).map(<[String]>::to_vec).unwrap_or_default();
    let names: Option<&[String]> = if !declared.is_empty() && !has_star {
        Some(declared)
    } else if declared.is_empty()
        && !has_star
        && known.len() == shape.columns.len()
        && !known.is_empty()
    {
        Some(&known)
    } else {
        None
    };
    for (i, column) in shape.columns.iter().enumerate() {
        let name = names.and_then(|n| n.get(i)).unwrap_or(&column.name);
        add_column(
            lineage,
            &format!("{target}.{name}"),
            column.sources.iter().cloned(),
            column.indirect.iter().cloned(),
        );
    }
}

/// Columns that decide which rows a statement produces decide every dataset it writes (the
/// anonymous result `""` of a query that writes none).
fn add_row_deciders(lineage: &mut StatementLineage, deciders: BTreeSet<(ColumnRef, IndirectKind)>) {
    let targets: Vec<String> = if lineage.writes.is_empty() {
        vec![String::new()]
    } else {
        lineage.writes.iter().cloned().collect()
    };
    for (source, kind) in deciders {
        for target in &targets {
            lineage.indirect.insert((source.clone(), target.clone(), kind));
        }
    }
}

/// The edges into one output column: what it is computed from and what decides it.
fn add_column(
    lineage: &mut StatementLineage,
    target: &str,
    direct: impl IntoIterator<Item = ColumnRef>,
    indirect: impl IntoIterator<Item = (ColumnRef, IndirectKind)>,
) {
    for source in direct {
        lineage.columns.insert((source, target.to_string()));
    }
    for (source, kind) in indirect {
        lineage.indirect.insert((source, target.to_string(), kind));
    }
}

/// The output column names of a shape, when it has no unexpanded star.
fn named_columns(shape: &Shape) -> Option<Vec<String>> {
    if shape.columns.iter().any(scope::OutputColumn::is_star) || shape.columns.is_empty() {
        return None;
    }
    Some(shape.columns.iter().map(|c| c.name.clone()).collect())
}

/// A Snowflake stage (`@stage/path`) or a table to copy from.
fn stage_or_dataset(name: &ObjectName, walker: &Walker<'_>) -> String {
    let text = name.to_string();
    if text.starts_with('@') { text } else { walker.dataset_name(name) }
}

/// The file line where a statement starts: its span when sqlparser has one, else the line
/// of the chunk's first code.
fn statement_line(statement: &Statement, env: &Env<'_>) -> usize {
    let span = statement.span();
    if span.start.line == 0 {
        env.code_line
    } else {
        env.first_line + usize::try_from(span.start.line).unwrap_or(1) - 1
    }
}

/// Whether a select item list is a bare `*`.
pub fn is_bare_star(items: &[SelectItem]) -> bool {
    matches!(items, [SelectItem::Wildcard(_)])
}

/// The tables that CREATE TABLE (and CREATE VIEW, CTAS) statements in a text declare, with
/// their columns: a `--schema` file written as DDL.
pub fn declared_tables(text: &str, dialect: Dialect) -> Catalog {
    let mut catalog = Catalog::new();
    let mut session = Session { default_schema: None, catalog: Catalog::new() };
    for chunk in split::split(text) {
        let Ok((statements, _)) = parse_with_relatives(chunk.text, dialect) else { continue };
        for statement in &statements {
            let env = Env {
                dialect,
                catalog: &session.catalog,
                default_schema: None,
                first_line: 1,
                code_line: 1,
                nested: false,
                indirect: false,
                tokens: 0,
            };
            let effects = statement_lineage(statement, &env, &[], &mut Vec::new(), &mut Vec::new());
            for (table, columns) in &effects.created {
                catalog.insert(table.clone(), columns.clone());
            }
            apply_effects(effects, &mut session);
        }
    }
    catalog
}

/// The table of `SELECT … INTO t`, which in a UNION stands in the first SELECT.
fn select_into(body: &SetExpr) -> Option<ObjectName> {
    match body {
        SetExpr::Select(select) => {
            select.into.as_ref().and_then(|into| match into.targets.as_slice() {
                [Expr::Identifier(i)] => Some(ObjectName::from(vec![i.clone()])),
                [Expr::CompoundIdentifier(parts)] => Some(ObjectName::from(parts.clone())),
                _ => None,
            })
        }
        SetExpr::SetOperation { left, .. } => select_into(left),
        SetExpr::Query(q) => select_into(&q.body),
        _ => None,
    }
}

/// The data-modifying statement a query wraps (`WITH … INSERT …`).
fn dml_body(query: &Query) -> Option<&Statement> {
    match query.body.as_ref() {
        SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lineage(sql: &str, dialect: Dialect) -> Vec<StatementLineage> {
        let options = SqlOptions { dialect, ..SqlOptions::default() };
        analyze(sql, &options).0
    }

    fn edges(s: &StatementLineage) -> Vec<(String, String)> {
        s.columns.iter().map(|(c, t)| (c.render(), t.clone())).collect()
    }

    #[test]
    fn use_qualifies_later_statements_and_created_tables_expand_stars() {
        let out = lineage(
            "USE s; CREATE TABLE a (x INT, y INT); INSERT INTO b SELECT * FROM a;",
            Dialect::Generic,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].writes.iter().collect::<Vec<_>>(), ["s.b"]);
        assert_eq!(
            edges(&out[1]),
            [
                ("s.a.x".to_string(), "s.b.x".to_string()),
                ("s.a.y".to_string(), "s.b.y".to_string())
            ]
        );
    }

    #[test]
    fn with_before_insert_sees_its_ctes() {
        let out = lineage(
            "WITH c AS (SELECT id AS k FROM src) INSERT INTO dst SELECT k FROM c",
            Dialect::Generic,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, Kind::Insert);
        assert_eq!(out[0].reads.iter().collect::<Vec<_>>(), ["src"]);
        assert_eq!(edges(&out[0]), [("src.id".to_string(), "dst.k".to_string())]);
    }

    #[test]
    fn a_procedure_no_parser_accepts_is_analyzed_by_its_body() {
        let sql = "CREATE PROCEDURE p.load()\nBEGIN\n  INSERT INTO t2 SELECT a FROM t1;\n  INSERT INTO t3 SELECT a FROM t2;\nEND";
        let out = lineage(sql, Dialect::BigQuery);
        assert_eq!(out.iter().map(|s| s.line).collect::<Vec<_>>(), [3, 4]);
        assert!(out.iter().all(|s| s.procedure.as_deref() == Some("p.load")));
    }

    #[test]
    fn statements_keep_their_own_lines_and_errors_are_located() {
        let (out, diagnostics) = analyze(
            "-- c\nSELECT a FROM t;\n\nSELECT a FROM ((;\nSELECT b FROM u",
            &SqlOptions::default(),
        );
        assert_eq!(out.iter().map(|s| s.line).collect::<Vec<_>>(), [2, 5]);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].line, 4);
    }

    #[test]
    fn a_procedure_block_ends_at_its_end() {
        let sql = "CREATE PROCEDURE p() BEGIN\n INSERT INTO a SELECT x FROM b;\nEND;\nINSERT INTO c SELECT y FROM d;";
        let out = lineage(sql, Dialect::BigQuery);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].procedure.as_deref(), Some("p"));
        assert_eq!(out[1].procedure, None);
        assert_eq!(out[1].line, 4);
    }

    #[test]
    fn a_stray_word_is_dropped_and_the_rest_keeps_column_lineage() {
        let (out, diagnostics) =
            analyze("INSERT INTO t SELECT (d + 30 days) AS due FROM s", &SqlOptions::default());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].confidence, Confidence::Partial);
        assert_eq!(edges(&out[0]), [("s.d".to_string(), "t.due".to_string())]);
        assert!(diagnostics[0].message.contains("ignoring `days`"), "{diagnostics:?}");
        // A structural word is never dropped: that statement goes to the fallback.
        let (out, _) =
            analyze("SELECT a FROM t1 CROSS JOIN t2 ON t1.a = t2.a", &SqlOptions::default());
        assert_eq!(out[0].kind, Kind::Unparsed);
    }

    #[test]
    fn block_depth_counts_begin_case_and_end() {
        assert_eq!(
            block_depth("CREATE PROCEDURE p() BEGIN SELECT CASE WHEN a THEN 1 END FROM t"),
            1
        );
        assert_eq!(block_depth("BEGIN TRANSACTION"), 0);
        assert_eq!(block_depth("IF x THEN SELECT 1; END IF"), 0);
        assert_eq!(
            procedure_name("CREATE OR REPLACE PROCEDURE Db.Load_All(x INT) AS"),
            Some("db.load_all".into())
        );
    }
}
