//! Suggestions: rules like a linter's over each SQL statement, each finding with a fix as
//! byte-range edits (issue 7).
//!
//! Pure, as `extract` is: a file's text and settings in, findings out. Every fix is checked
//! before it is offered: the rewritten file must parse as well as before, and its lineage must
//! be the same (writes and direct column lineage; reads too, except for a rule that removes a
//! read nothing used), and a fix that moves a condition must keep every one of its tokens. A
//! fix that fails the check is dropped and the finding says so.

pub mod fix;
mod python;
pub mod registry;
mod rules;
pub(crate) mod tokens;
pub mod usage;
mod walk;

use serde::Serialize;
use sqlparser::ast::Statement;
use sqlparser::parser::Parser;

pub use fix::{Applicability, Edit, Fix};

use crate::diagnostic::Severity;
use crate::extract::{self, Settings, Transformation, jinja, sql::split};
use crate::source::LineIndex;
use tokens::Tokens;

/// What a rule is: its code, name and the text `git lineage explain` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    #[serde(skip)]
    pub explanation: &'static str,
}

/// What a rule's check sees: one parsed statement, its tokens, its lineage, and how the
/// repository reads each dataset (when the caller knows the other files).
pub(crate) struct Context<'a> {
    pub statement: &'a Statement,
    pub tokens: &'a Tokens<'a>,
    pub lineage: Option<&'a Transformation>,
    pub usage: Option<&'a Usages>,
}

/// Per dataset, how the repository's transformations read it.
pub type Usages = std::collections::BTreeMap<String, usage::Usage>;

impl Context<'_> {
    /// The bytes an expression covers, when the parser placed it; a parenthesized one with
    /// its parentheses (the parser's span stops inside them), so that moving it keeps them.
    pub fn expr_range(&self, e: &sqlparser::ast::Expr) -> Option<(usize, usize)> {
        use sqlparser::ast::Spanned;
        let span = e.span();
        let (start, end) = (self.tokens.offset(span.start)?, self.tokens.offset(span.end)?);
        if matches!(e, sqlparser::ast::Expr::Nested(_)) {
            return Some(self.tokens.widen_to_parens(start, end));
        }
        Some((start, end))
    }

    /// The edit that takes part `k` of `parts` (the AND-ed parts of [`Tokens::conjuncts`]
    /// after the keyword at token `keyword_at`) out of its clause: with the AND that joins it
    /// to the next part (or, for the last, to the one before), or with the keyword itself
    /// when it is the only part.
    pub fn cut_conjunct(&self, keyword_at: usize, parts: &[(usize, usize)], k: usize) -> Edit {
        let (start, end) = parts[k];
        if parts.len() == 1 {
            Edit::deletion(self.tokens.space_before(keyword_at), end)
        } else if k == 0 {
            Edit::deletion(start, parts[1].0)
        } else {
            Edit::deletion(parts[k - 1].1, end)
        }
    }
}

/// What a rule's check finds, in the statement's own offsets.
pub(crate) struct Hit {
    pub offset: usize,
    pub message: String,
    pub fix: Option<Fix>,
}

/// One finding in a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The rewrite, when the rule has one and it passed the check.
    pub fix: Option<Fix>,
    /// Why a fix the rule made was dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_rejected: Option<String>,
    /// The transformation's predicted duration before and after the fix, when a cost model
    /// could predict it (the caller fills this in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted: Option<Predicted>,
}

impl Finding {
    fn new(
        rule: &Rule,
        path: &str,
        (line, column): (usize, usize),
        message: String,
        fix: Option<Fix>,
    ) -> Finding {
        Finding {
            code: rule.code,
            name: rule.name,
            path: path.to_string(),
            line,
            column,
            message,
            fix,
            fix_rejected: None,
            predicted: None,
        }
    }
}

/// A fix's predicted effect on its transformation's duration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Predicted {
    pub before_ms: f64,
    pub after_ms: f64,
}

impl Predicted {
    /// Milliseconds saved (negative: the fix is predicted to cost time).
    pub fn gain_ms(&self) -> f64 {
        self.before_ms - self.after_ms
    }
}

/// Which rules run, and what they may know of the rest of the repository.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Codes or names; empty for every rule.
    pub rules: Vec<String>,
    /// How every file of the repository reads each dataset ([`usage::usage`]); the rules
    /// across files (S001) need it.
    pub usage: Option<Usages>,
}

impl Selection {
    fn wants(&self, rule: &Rule) -> bool {
        self.rules.is_empty()
            || self
                .rules
                .iter()
                .any(|r| r.eq_ignore_ascii_case(rule.code) || r.eq_ignore_ascii_case(rule.name))
    }
}

/// The findings of one file, in order of position. Templated files (dbt models) are not
/// checked: their fixes would have to be edits of the template, not of the SQL it renders.
pub fn check(path: &str, text: &str, settings: &Settings, selection: &Selection) -> Vec<Finding> {
    let python = extract::is_python(path);
    if !python && (jinja::is_templated(text) || settings.dbt_model.is_some()) {
        return Vec::new();
    }
    let before = extract::extract(path, text.as_bytes(), settings);
    let mut findings = if python {
        python_findings(path, text, selection, &before)
    } else {
        raw_findings(path, text, settings, selection, &before)
    };
    if findings.iter().any(|f| f.fix.is_some()) {
        for finding in &mut findings {
            let Some(fix) = &finding.fix else { continue };
            if let Err(why) = verify(path, text, settings, &before, finding.code, fix) {
                finding.fix = None;
                finding.fix_rejected = Some(why);
            }
        }
    }
    findings
}

fn raw_findings(
    path: &str,
    text: &str,
    settings: &Settings,
    selection: &Selection,
    fragment: &extract::Fragment,
) -> Vec<Finding> {
    let lines = LineIndex::new(text);
    let dialect = settings.dialect.parser();
    let mut findings = Vec::new();
    for chunk in split::split(text) {
        // Statements the file's dialect does not parse get no suggestions: `extract` has
        // already said what is wrong with them.
        let Ok(statements) = Parser::new(dialect.as_ref())
            .try_with_sql(chunk.text)
            .and_then(|mut p| p.parse_statements())
        else {
            continue;
        };
        let Some(tokens) = Tokens::new(chunk.text, dialect.as_ref()) else { continue };
        // The chunk's statement as `extract` saw it (one statement a chunk, found by line).
        let line = lines.line_of(chunk.start + split::code_start(chunk.text));
        let lineage = match statements.as_slice() {
            [_] => fragment.transformations.iter().find(|t| t.line == line),
            _ => None,
        };
        for statement in &statements {
            let ctx =
                Context { statement, tokens: &tokens, lineage, usage: selection.usage.as_ref() };
            for (rule, check) in registry::RULES {
                if !selection.wants(rule) {
                    continue;
                }
                for hit in check(&ctx) {
                    let position = lines.position(text, chunk.start + hit.offset);
                    let fix = hit.fix.map(|f| f.shifted(chunk.start));
                    findings.push(Finding::new(rule, path, position, hit.message, fix));
                }
            }
        }
    }
    findings.sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
    findings
}

fn python_findings(
    path: &str,
    text: &str,
    selection: &Selection,
    fragment: &extract::Fragment,
) -> Vec<Finding> {
    let Some(tree) = extract::python::parse(text) else { return Vec::new() };
    let ctx = python::PyContext::new(text, tree.root_node(), &fragment.transformations);
    let lines = LineIndex::new(text);
    let mut findings: Vec<Finding> =
        python::hits(registry::PYTHON_RULES, &ctx, |rule| selection.wants(rule))
            .into_iter()
            .map(|(rule, hit)| {
                let position = lines.position(text, hit.offset);
                Finding::new(&rule, path, position, hit.message, hit.fix)
            })
            .collect();
    findings.sort_by(|a, b| (a.line, a.column, a.code).cmp(&(b.line, b.column, b.code)));
    findings
}

/// Rules whose fix moves a condition: every token of the file must still be there, but for
/// the WHERE, HAVING and AND keywords around the moved condition (lineage alone would not
/// notice a lost NOT).
const MOVES: &[&str] = &["P001", "P002"];

/// Rules whose fix removes reads or columns that nothing used: their lineage may shrink.
const SHRINKS: &[&str] = &["R002", "S001", "S002"];

/// The rewritten file parses as well as the original and has the same lineage.
fn verify(
    path: &str,
    text: &str,
    settings: &Settings,
    before: &extract::Fragment,
    code: &str,
    fix: &Fix,
) -> Result<(), String> {
    let (rewritten, applied) = fix::apply(text, [fix]);
    if applied.is_empty() {
        return Err("its edits do not fit the file".into());
    }
    if MOVES.contains(&code) && !same_tokens(text, &rewritten, settings) {
        return Err("the rewrite does not keep every token of the condition it moves".into());
    }
    let after = extract::extract(path, rewritten.as_bytes(), settings);
    let errors = |f: &extract::Fragment| {
        f.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
    };
    if errors(&after) > errors(before) {
        return Err("the rewritten SQL does not parse".into());
    }
    if after.transformations.len() != before.transformations.len() {
        return Err("the rewrite changes the number of statements".into());
    }
    for (old, new) in before.transformations.iter().zip(&after.transformations) {
        same_lineage(old, new, SHRINKS.contains(&code))?;
    }
    Ok(())
}

/// Whether two texts have the same tokens (as a multiset, white space and comments left out),
/// but for WHERE, HAVING and AND.
fn same_tokens(old: &str, new: &str, settings: &Settings) -> bool {
    use sqlparser::keywords::Keyword;
    let dialect = settings.dialect.parser();
    let tokens = |text: &str| -> Option<Vec<String>> {
        let list = Tokens::new(text, dialect.as_ref())?.list;
        let mut out: Vec<String> = list
            .iter()
            .filter(|t| !t.is_trivia())
            .filter(|t| {
                ![Keyword::WHERE, Keyword::HAVING, Keyword::AND].iter().any(|k| t.is_keyword(*k))
            })
            .map(|t| t.token.to_string())
            .collect();
        out.sort();
        Some(out)
    };
    matches!((tokens(old), tokens(new)), (Some(a), Some(b)) if a == b)
}

/// The same writes; the same reads and column lineage, or (for a rule that removes what
/// nothing used) fewer of them and nothing new.
fn same_lineage(
    old: &Transformation,
    new: &Transformation,
    may_shrink: bool,
) -> Result<(), String> {
    if old.writes != new.writes {
        return Err("the rewrite changes what the statement writes".into());
    }
    let reads_ok = if may_shrink {
        new.reads.iter().all(|r| old.reads.contains(r))
    } else {
        old.reads == new.reads
    };
    if !reads_ok {
        return Err("the rewrite changes what the statement reads".into());
    }
    let columns_ok = if may_shrink {
        new.columns.iter().all(|c| old.columns.contains(c))
    } else {
        old.columns == new.columns
    };
    if !columns_ok {
        return Err("the rewrite changes the column lineage".into());
    }
    Ok(())
}

/// `text` with every applicable fix applied (unsafe ones only when allowed), checked again
/// and applied again until nothing changes (at most 10 rounds), and the findings whose fixes
/// were applied, in order.
pub fn fix_all(
    path: &str,
    text: &str,
    settings: &Settings,
    selection: &Selection,
    allow_unsafe: bool,
) -> (String, Vec<Finding>) {
    let mut current = text.to_string();
    let mut applied = Vec::new();
    for _ in 0..10 {
        let findings: Vec<Finding> = check(path, &current, settings, selection)
            .into_iter()
            .filter(|f| {
                f.fix.as_ref().is_some_and(|fix| {
                    fix.applicability == Applicability::Safe
                        || (allow_unsafe && fix.applicability == Applicability::Unsafe)
                })
            })
            .collect();
        let (next, taken) = fix::apply(&current, findings.iter().filter_map(|f| f.fix.as_ref()));
        if taken.is_empty() || next == current {
            break;
        }
        applied.extend(taken.into_iter().map(|k| findings[k].clone()));
        current = next;
    }
    (current, applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::sql::Dialect;

    fn run(sql: &str) -> Vec<Finding> {
        let settings = Settings { dialect: Dialect::DuckDb, ..Settings::default() };
        check("m.sql", sql, &settings, &Selection::default())
    }

    fn fixed(sql: &str) -> String {
        let settings = Settings { dialect: Dialect::DuckDb, ..Settings::default() };
        fix_all("m.sql", sql, &settings, &Selection::default(), true).0
    }

    #[test]
    fn order_by_in_a_cte_is_removed_and_the_outer_one_kept() {
        let sql = "WITH r AS (SELECT a, b FROM t ORDER BY b DESC NULLS LAST)\nSELECT a FROM r ORDER BY a;";
        let findings = run(sql);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!((findings[0].code, findings[0].line, findings[0].column), ("R001", 1, 31));
        assert_eq!(fixed(sql), "WITH r AS (SELECT a, b FROM t)\nSELECT a FROM r ORDER BY a;");
    }

    #[test]
    fn a_line_comment_keeps_its_line_break() {
        let sql = "INSERT INTO s SELECT a FROM t\nWHERE a > 0  -- why\nORDER BY a;\nSELECT 1;";
        assert_eq!(fixed(sql), "INSERT INTO s SELECT a FROM t\nWHERE a > 0  -- why\n;\nSELECT 1;");
    }

    #[test]
    fn order_by_that_decides_rows_is_left_alone() {
        assert!(run("SELECT * FROM (SELECT a FROM t ORDER BY a LIMIT 5) x").is_empty());
        assert!(
            run("SELECT * FROM (SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b) x").is_empty()
        );
        assert!(run("SELECT a FROM t ORDER BY a").is_empty());
    }

    #[test]
    fn a_written_order_is_an_unsafe_fix() {
        let findings = run("INSERT INTO s SELECT a FROM t ORDER BY a");
        let fix = findings[0].fix.as_ref().expect("a fix");
        assert_eq!(fix.applicability, Applicability::Unsafe);
        assert!(fix.assumes.is_some());
    }

    #[test]
    fn unused_ctes_go_with_their_comma_or_their_with() {
        assert_eq!(
            fixed("WITH a AS (SELECT 1 AS x FROM t), b AS (SELECT x FROM u)\nSELECT x FROM b"),
            "WITH b AS (SELECT x FROM u)\nSELECT x FROM b"
        );
        assert_eq!(
            fixed("WITH a AS (SELECT x FROM t), b AS (SELECT x FROM u)\nSELECT x FROM a"),
            "WITH a AS (SELECT x FROM t)\nSELECT x FROM a"
        );
        assert_eq!(
            fixed("WITH a AS (SELECT x FROM t)\nSELECT 1 AS y FROM u"),
            "SELECT 1 AS y FROM u"
        );
        assert!(
            run("WITH a AS (SELECT x FROM t), b AS (SELECT x FROM a) SELECT x FROM b").is_empty()
        );
    }

    #[test]
    fn distinct_on_grouped_rows() {
        assert_eq!(
            fixed("SELECT DISTINCT c, count(*) AS n FROM t GROUP BY c"),
            "SELECT c, count(*) AS n FROM t GROUP BY c"
        );
        assert!(run("SELECT DISTINCT c FROM t GROUP BY c, d").is_empty());
        assert!(run("SELECT DISTINCT c, d FROM t GROUP BY ROLLUP (c, d)").is_empty());
        assert_eq!(run("SELECT DISTINCT c AS k FROM t GROUP BY 1").len(), 1);
    }

    #[test]
    fn moved_conditions_keep_their_parentheses() {
        assert_eq!(
            fixed("SELECT o.a FROM o JOIN c ON c.k = o.k WHERE (c.r = 1 OR c.r = 2) AND o.a > c.k"),
            "SELECT o.a FROM o JOIN c ON c.k = o.k AND (c.r = 1 OR c.r = 2) WHERE o.a > c.k"
        );
        assert_eq!(
            fixed("SELECT k, count(*) AS n FROM t GROUP BY k HAVING (k = 1 OR k = 2)"),
            "SELECT k, count(*) AS n FROM t WHERE (k = 1 OR k = 2)\nGROUP BY k"
        );
    }

    #[test]
    fn pruned_select_items_keep_the_others_whole() {
        let text = "CREATE TABLE s AS\nSELECT\n    a AS k,\n    -- why\n    regexp_replace(p, '[^0-9]', '', 'g') AS digits,\n    CAST(c AS DECIMAL(12, 2))  AS bal,  -- note\n    lower(d) AS seg\nFROM raw.t;\nCREATE TABLE u AS SELECT k, seg FROM s;";
        let settings = Settings { dialect: Dialect::DuckDb, ..Settings::default() };
        let fragment = extract::extract("m.sql", text.as_bytes(), &settings);
        let selection =
            Selection { rules: vec!["S001".into()], usage: Some(usage::usage(&[fragment])) };
        let (out, applied) = fix_all("m.sql", text, &settings, &selection, true);
        assert_eq!(applied.len(), 1);
        assert_eq!(
            out,
            "CREATE TABLE s AS\nSELECT\n    a AS k,\n    -- why\n    lower(d) AS seg\nFROM raw.t;\nCREATE TABLE u AS SELECT k, seg FROM s;"
        );
        let distinct = text.replace("SELECT\n", "SELECT DISTINCT\n");
        assert!(
            check("m.sql", &distinct, &settings, &selection).is_empty(),
            "DISTINCT rows change"
        );
    }

    #[test]
    fn a_move_must_keep_every_token() {
        let settings = Settings { dialect: Dialect::DuckDb, ..Settings::default() };
        let old = "SELECT a FROM t JOIN u ON u.k = t.k WHERE NOT u.f";
        assert!(same_tokens(old, "SELECT a FROM t JOIN u ON u.k = t.k AND NOT u.f", &settings));
        assert!(!same_tokens(old, "SELECT a FROM t JOIN u ON u.k = t.k AND u.f", &settings));
    }

    #[test]
    fn broken_and_templated_sql_get_no_findings() {
        assert!(run("SELECT FROM WHERE (").is_empty());
        assert!(run("SELECT DISTINCT c FROM {{ ref('t') }} GROUP BY c").is_empty());
    }
}
