//! P004: a WHERE condition on the columns of a subquery or CTE, applied inside it.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Cte, Distinct, Expr, GroupByExpr, JoinOperator, Query, Select, SelectItem,
    SetExpr, Statement, TableFactor, WindowType, visit_expressions, visit_relations,
};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use super::p001_filter_after_join::relation_name;
use crate::suggest::tokens::AFTER_WHERE;
use crate::suggest::walk::{self, conjuncts};
use crate::suggest::{Context, Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "P004",
    name: "filter-into-subquery",
    summary: "a WHERE condition on a subquery's or CTE's columns, applied after it",
    explanation: "\
## What it does
Finds a condition in WHERE (one of its AND-ed parts) whose columns all come from one derived
table or CTE (used once), when that subquery only selects and filters rows (no GROUP BY,
DISTINCT, LIMIT or set operation; window functions only when every column of the condition is
a PARTITION BY key of each of them) and is not the optional side of an outer join.

## Why is this slow?
The subquery produces every row it would for any reader, and the condition throws most of
them away afterwards. Optimizers push such conditions into inlined subqueries when they can,
but not into a CTE they materialize, and not through every construct; moving the condition
next to the rows it is about also makes the subquery's cost visible to whoever reads it.

## Example
    WITH paid AS (SELECT o.id, o.amount, o.status AS state FROM orders o WHERE o.amount > 0)
    SELECT id, amount FROM paid WHERE state = 'paid'

## Fix
Moves the condition into the subquery's WHERE, each column replaced by the expression the
subquery computes it from (`state` becomes `o.status`). Safe: a subquery that only projects
and filters gives, for each of its input rows, one row or none, so filtering before or after
keeps the same rows; below window functions, a condition on their common partition keys keeps
or drops whole partitions, so the windows' values in the kept ones do not change, and the
windows sort fewer rows. Not offered for conditions with a subquery or a volatile function
(`random()`), nor when the subquery's columns come from `*` over several tables.",
};

const VOLATILE: &[&str] = &["random", "rand", "uuid", "gen_random_uuid", "nextval", "newid"];

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (q, _) in walk::queries(ctx.statement) {
        let ctes: &[Cte] = q.with.as_ref().map_or(&[], |w| w.cte_tables.as_slice());
        for select in walk::selects(&q.body) {
            hits.extend(hit(ctx, ctes, select));
        }
    }
    hits
}

/// The relations of a FROM that a WHERE condition may be pushed into: their index (0 the
/// first, then each join's) when rows of the relation are kept, not null-filled.
fn preserved(select: &Select) -> Option<Vec<(usize, &TableFactor)>> {
    let [from] = select.from.as_slice() else { return None };
    let mut out = vec![(0, &from.relation)];
    for (i, join) in from.joins.iter().enumerate() {
        match &join.join_operator {
            JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::CrossJoin(_) => {
                out.push((i + 1, &join.relation));
            }
            // The joined side of a LEFT JOIN is null-filled: a WHERE on it is not a filter of
            // its rows. The first relation stays preserved.
            JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => {}
            _ => return None,
        }
    }
    Some(out)
}

fn hit(ctx: &Context<'_>, ctes: &[Cte], select: &Select) -> Option<Hit> {
    let selection = select.selection.as_ref()?;
    let [from] = select.from.as_slice() else { return None };
    let single = from.joins.is_empty();
    let names: Vec<Option<String>> = std::iter::once(&from.relation)
        .chain(from.joins.iter().map(|j| &j.relation))
        .map(relation_name)
        .collect();
    let keep = preserved(select)?;
    let parts = conjuncts(selection);
    let (where_start, _) = ctx.expr_range(selection)?;
    let where_at = ctx.tokens.keyword_before(where_start, Keyword::WHERE)?;
    let written = ctx.tokens.conjuncts(where_at, AFTER_WHERE);
    if written.len() != parts.len() {
        return None;
    }
    for (k, part) in parts.iter().enumerate() {
        let Some((side, columns)) = columns_of(part, &names, single) else { continue };
        let Some(&(_, relation)) = keep.iter().find(|(i, _)| *i == side) else { continue };
        let Some(inner) = inner_query(ctx.statement, ctes, relation) else { continue };
        let Some(rewrite) = push(ctx, written[k], names[side].as_deref(), &columns, inner, single)
        else {
            continue;
        };
        let remove = ctx.cut_conjunct(where_at, &written, k);
        let name = names[side].as_deref().unwrap_or("?");
        let (part_start, part_end) = written[k];
        let condition = ctx.tokens.text_of(part_start, part_end);
        return Some(Hit {
            offset: part_start,
            message: format!(
                "WHERE condition `{condition}` on `{name}`'s columns only: apply it inside `{name}`"
            ),
            fix: Some(Fix::safe(
                format!("Move the condition into `{name}`"),
                vec![rewrite, remove],
            )),
        });
    }
    None
}

/// The relation `part`'s columns all belong to, and those columns' names; `None` for a part
/// with a subquery, a volatile function, no column, or columns of several relations.
fn columns_of(part: &Expr, names: &[Option<String>], single: bool) -> Option<(usize, Vec<String>)> {
    let mut side: Option<usize> = None;
    let mut columns = Vec::new();
    let verdict = visit_expressions(part, |e| {
        let found = match e {
            Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => {
                return ControlFlow::Break(());
            }
            Expr::Function(f)
                if VOLATILE.contains(&f.name.to_string().to_ascii_lowercase().as_str()) =>
            {
                return ControlFlow::Break(());
            }
            Expr::Identifier(ident) if single => Some((0, ident.value.to_lowercase())),
            Expr::Identifier(_) => return ControlFlow::Break(()),
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                let qualifier = parts[0].value.to_lowercase();
                let Some(i) = names.iter().position(|n| n.as_deref() == Some(qualifier.as_str()))
                else {
                    return ControlFlow::Break(());
                };
                Some((i, parts[1].value.to_lowercase()))
            }
            Expr::CompoundIdentifier(_) => return ControlFlow::Break(()),
            _ => None,
        };
        if let Some((i, column)) = found {
            if side.is_some_and(|s| s != i) {
                return ControlFlow::Break(());
            }
            side = Some(i);
            columns.push(column);
        }
        ControlFlow::Continue(())
    });
    if verdict.is_break() {
        return None;
    }
    side.map(|s| (s, columns))
}

/// The query a relation stands for, when a condition may move into it: a derived table, or a
/// CTE of this query the statement reads once; a plain SELECT that neither groups, dedups,
/// windows, limits nor aggregates.
fn inner_query<'a>(
    statement: &Statement,
    ctes: &'a [Cte],
    relation: &'a TableFactor,
) -> Option<&'a Select> {
    let query: &Query = match relation {
        TableFactor::Derived { subquery, lateral: false, .. } => subquery,
        TableFactor::Table { name, args: None, .. } if name.0.len() == 1 => {
            let table = name.0.first()?.as_ident()?.value.to_lowercase();
            let cte = ctes.iter().find(|c| c.alias.name.value.to_lowercase() == table)?;
            if cte.materialized.is_some() || references(statement, &table) != 1 {
                return None;
            }
            &cte.query
        }
        _ => return None,
    };
    if query.with.is_some()
        || query.limit_clause.is_some()
        || query.fetch.is_some()
        || query.order_by.is_some()
    {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else { return None };
    let grouped =
        !matches!(&select.group_by, GroupByExpr::Expressions(k, m) if k.is_empty() && m.is_empty());
    if grouped
        || matches!(select.distinct, Some(Distinct::Distinct | Distinct::On(_)))
        || select.having.is_some()
        || select.qualify.is_some()
        || select.top.is_some()
        || !select.named_window.is_empty()
        || select.from.is_empty()
        || matches!(&select.selection, Some(Expr::BinaryOp { op: BinaryOperator::Or, .. }))
    {
        return None;
    }
    let aggregates = select.projection.iter().any(|item| {
        let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else {
            return false;
        };
        visit_expressions(e, |e| match e {
            Expr::Function(f) if walk::is_aggregate(f) => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        })
        .is_break()
    });
    (!aggregates).then_some(select.as_ref())
}

/// The PARTITION BY keys every window function of the select shares (`None` without a
/// window; an empty list when a window has none or uses a named window).
fn shared_partition_keys(select: &Select) -> Option<Vec<Expr>> {
    let mut shared: Option<Vec<Expr>> = None;
    for item in &select.projection {
        let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else {
            continue;
        };
        let _ = visit_expressions(e, |e| {
            if let Expr::Function(f) = e
                && let Some(over) = &f.over
            {
                let keys: Vec<Expr> = match over {
                    WindowType::WindowSpec(spec) => spec.partition_by.clone(),
                    WindowType::NamedWindow(_) => Vec::new(),
                };
                shared = Some(match shared.take() {
                    None => keys,
                    Some(before) => before.into_iter().filter(|k| keys.contains(k)).collect(),
                });
            }
            ControlFlow::<()>::Continue(())
        });
    }
    shared
}

/// How many times the statement reads a relation of this (one-part) name.
fn references(statement: &Statement, table: &str) -> usize {
    let mut count = 0;
    let _ = visit_relations(statement, |name| {
        if name.0.len() == 1
            && name
                .0
                .first()
                .and_then(|p| p.as_ident())
                .is_some_and(|i| i.value.to_lowercase() == table)
        {
            count += 1;
        }
        ControlFlow::<()>::Continue(())
    });
    count
}

/// The edit that adds the condition, its columns replaced by what the subquery computes them
/// from, to the subquery's WHERE.
fn push(
    ctx: &Context<'_>,
    (start, end): (usize, usize),
    name: Option<&str>,
    columns: &[String],
    inner: &Select,
    single: bool,
) -> Option<Edit> {
    // What each column is inside. Below a window, only a key every window partitions by may
    // filter: it keeps or drops whole partitions, so the values in the kept ones stay.
    let partition_keys = shared_partition_keys(inner);
    let mut sources: Vec<(String, String)> = Vec::new();
    for column in columns {
        if sources.iter().any(|(c, _)| c == column) {
            continue;
        }
        let (text, expr) = source_of(ctx, inner, column)?;
        if let Some(keys) = &partition_keys
            && !keys.iter().any(|k| same_column(k, expr, column))
        {
            return None;
        }
        sources.push((column.clone(), text));
    }
    // The condition's text with each column reference replaced, token by token.
    let first = ctx.tokens.index_at(start);
    let last = ctx.tokens.index_at(end);
    let tokens = ctx.tokens.list.get(first..last)?;
    let mut text = String::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let word = |j: usize| match tokens.get(j).map(|t| &t.token) {
            Some(Token::Word(w)) => Some(w.value.to_lowercase()),
            _ => None,
        };
        let is_period = |j: usize| matches!(tokens.get(j).map(|t| &t.token), Some(Token::Period));
        if let (Some(q), true, Some(c)) = (word(i), is_period(i + 1), word(i + 2))
            && name == Some(q.as_str())
            && let Some((_, source)) = sources.iter().find(|(col, _)| *col == c)
        {
            text.push_str(source);
            i += 3;
            continue;
        }
        let after_period = i > 0 && is_period(i - 1);
        let before_call = matches!(tokens.get(i + 1).map(|t| &t.token), Some(Token::LParen));
        if single
            && !after_period
            && !before_call
            && let Some(c) = word(i)
            && let Some((_, source)) = sources.iter().find(|(col, _)| *col == c)
        {
            text.push_str(source);
            i += 1;
            continue;
        }
        text.push_str(ctx.tokens.text_of(t.start, t.end));
        i += 1;
    }
    // Into the subquery's WHERE, or a new WHERE after its FROM clause.
    match &inner.selection {
        Some(selection) => {
            let (s, _) = ctx.expr_range(selection)?;
            let at = ctx.tokens.keyword_before(s, Keyword::WHERE)?;
            let &(_, last_end) = ctx.tokens.conjuncts(at, AFTER_WHERE).last()?;
            Some(Edit::replacement(last_end, last_end, format!(" AND {text}")))
        }
        None => {
            let relation = ctx.tokens.start_of(&inner.from.first()?.relation)?;
            let from_at = ctx.tokens.keyword_before(relation, Keyword::FROM)?;
            let from_end = ctx.tokens.clause_end(from_at, AFTER_WHERE);
            Some(Edit::replacement(from_end, from_end, format!(" WHERE {text}")))
        }
    }
}

/// The text of the expression a subquery's output column is computed from (parenthesized
/// unless it is a column or a constant); a column a `*` passes through keeps its name when the
/// subquery reads one relation.
fn source_of<'s>(
    ctx: &Context<'_>,
    inner: &'s Select,
    column: &str,
) -> Option<(String, Option<&'s Expr>)> {
    for item in &inner.projection {
        let expr = match item {
            SelectItem::ExprWithAlias { expr, alias } if alias.value.to_lowercase() == column => {
                expr
            }
            SelectItem::UnnamedExpr(e @ Expr::Identifier(i))
                if i.value.to_lowercase() == column =>
            {
                e
            }
            SelectItem::UnnamedExpr(e @ Expr::CompoundIdentifier(parts))
                if parts.last().is_some_and(|i| i.value.to_lowercase() == column) =>
            {
                e
            }
            _ => continue,
        };
        let (start, end) = ctx.expr_range(expr)?;
        let text = ctx.tokens.text_of(start, end);
        let text = match expr {
            Expr::Identifier(_)
            | Expr::CompoundIdentifier(_)
            | Expr::Value(_)
            | Expr::Nested(_) => text.to_string(),
            _ => format!("({text})"),
        };
        return Some((text, Some(expr)));
    }
    let star = inner
        .projection
        .iter()
        .any(|item| matches!(item, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)));
    let one_relation =
        inner.from.len() == 1 && inner.from.first().is_some_and(|f| f.joins.is_empty());
    (star && one_relation).then(|| (column.to_string(), None))
}

/// Whether a window key is the subquery's source of `column`: the same expression, or, for a
/// column `*` passes through, the column by its name.
fn same_column(key: &Expr, source: Option<&Expr>, column: &str) -> bool {
    match source {
        Some(expr) => key == expr,
        None => match key {
            Expr::Identifier(i) => i.value.to_lowercase() == column,
            Expr::CompoundIdentifier(parts) => {
                parts.last().is_some_and(|i| i.value.to_lowercase() == column)
            }
            _ => false,
        },
    }
}
