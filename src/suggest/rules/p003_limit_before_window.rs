//! P003: a LIMIT applied after a window function that only its first rows need.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Distinct, Expr, Function, FunctionArguments, GroupByExpr, LimitClause, OrderByKind, Query,
    Select, SelectItem, SetExpr, TableFactor, WindowType, visit_expressions,
};
use sqlparser::keywords::Keyword;

use crate::suggest::walk;
use crate::suggest::{Context, Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "P003",
    name: "limit-before-window",
    summary: "ORDER BY … LIMIT n after a window that only the first n rows need",
    explanation: "\
## What it does
Finds a query over one table (or subquery) that computes `row_number()`, `rank()` or
`dense_rank()` over the same order it then sorts and limits by, without PARTITION BY:
`SELECT …, rank() OVER (ORDER BY revenue DESC) FROM t ORDER BY revenue DESC LIMIT 100`.

## Why is this slow?
The window is computed for every row of the input, which means sorting all of them, and only
then does LIMIT keep the first n. Optimizers do not move a LIMIT below a window function
(DuckDB, PostgreSQL and Spark all sort the whole input here); a top-n sort of the input, which
keeps only n rows in memory, is much cheaper than a full sort.

## Example
    SELECT customer_key, lifetime_value,
           rank() OVER (ORDER BY lifetime_value DESC) AS position
    FROM marts.customer_ltv
    ORDER BY lifetime_value DESC
    LIMIT 100

## Fix
Takes the first n rows in a subquery before the window: `FROM (SELECT * FROM marts.customer_ltv
ORDER BY lifetime_value DESC LIMIT 100) AS customer_ltv`. Safe: the row number, rank and dense
rank of a row depend only on the rows before it in that order, which are all among the first n.
(Rows that tie at the n-th place are picked arbitrarily by both forms.) Not offered with
PARTITION BY, other window functions (their values depend on rows after the n-th), GROUP BY,
DISTINCT, OFFSET, joins, or an ORDER BY on a computed column.",
};

/// The window functions whose value for a row depends only on the rows before it.
const PREFIX_FUNCTIONS: &[&str] = &["row_number", "rank", "dense_rank"];

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    walk::queries(ctx.statement).into_iter().filter_map(|(q, _)| hit(ctx, q)).collect()
}

fn hit(ctx: &Context<'_>, q: &Query) -> Option<Hit> {
    let SetExpr::Select(select) = q.body.as_ref() else { return None };
    let Some(LimitClause::LimitOffset { limit: Some(limit), offset: None, limit_by }) =
        &q.limit_clause
    else {
        return None;
    };
    if !limit_by.is_empty() || q.fetch.is_some() || !matches!(limit, Expr::Value(_)) {
        return None;
    }
    let order_by = q.order_by.as_ref()?;
    let OrderByKind::Expressions(keys) = &order_by.kind else { return None };
    if keys.is_empty() || !plain(select) {
        return None;
    }
    let [from] = select.from.as_slice() else { return None };
    if !from.joins.is_empty() {
        return None;
    }
    let alias = match &from.relation {
        TableFactor::Table { name, alias: None, .. } => name.0.last()?.as_ident()?.value.clone(),
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            a.name.value.clone()
        }
        _ => return None,
    };
    // The sort keys must be columns of the table, not what the select computes.
    let computed: Vec<&str> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, expr } if !same_name(expr, &alias.value) => {
                Some(alias.value.as_str())
            }
            _ => None,
        })
        .collect();
    if keys.iter().any(|k| mentions(&k.expr, &computed)) {
        return None;
    }
    // Every window of the select is a prefix function over exactly that order, and there is one.
    let mut windows = 0;
    let mut fits = true;
    for item in &select.projection {
        let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item else {
            continue;
        };
        let _ = visit_expressions(e, |e| {
            if let Expr::Function(f) = e {
                match &f.over {
                    Some(over) => {
                        windows += 1;
                        fits &= prefix_window(f, over, keys);
                    }
                    None => fits &= !walk::is_aggregate(f),
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
    if windows == 0 || !fits {
        return None;
    }
    // Edits: `(SELECT * FROM ` before the relation, ` ORDER BY … LIMIT n) AS alias` after the
    // WHERE (or the relation), just before the query's own ORDER BY.
    let relation_start = ctx.tokens.start_of(&from.relation)?;
    let first_key = ctx.tokens.start_of(&keys.first()?.expr)?;
    let order = ctx.tokens.keyword_before(first_key, Keyword::ORDER)?;
    if ctx.tokens.list.get(order)?.start < relation_start {
        return None;
    }
    let end = ctx.tokens.space_before(order);
    let inner = format!(" {order_by} LIMIT {limit}) AS {alias}");
    Some(Hit {
        offset: ctx.tokens.list.get(order)?.start,
        message: format!(
            "LIMIT {limit} after a window over the same order: take the first {limit} rows before computing it"
        ),
        fix: Some(Fix::safe(
            "Limit the rows before the window",
            vec![
                Edit::replacement(relation_start, relation_start, "(SELECT * FROM "),
                Edit::replacement(end, end, inner),
            ],
        )),
    })
}

/// No DISTINCT, GROUP BY, HAVING, QUALIFY, named windows, TOP or INTO.
fn plain(select: &Select) -> bool {
    let no_group = matches!(&select.group_by, GroupByExpr::Expressions(keys, m) if keys.is_empty() && m.is_empty());
    !matches!(select.distinct, Some(Distinct::Distinct | Distinct::On(_)))
        && no_group
        && select.having.is_none()
        && select.qualify.is_none()
        && select.named_window.is_empty()
        && select.top.is_none()
        && select.into.is_none()
}

fn prefix_window(f: &Function, over: &WindowType, keys: &[sqlparser::ast::OrderByExpr]) -> bool {
    let WindowType::WindowSpec(spec) = over else { return false };
    let name = f.name.to_string().to_ascii_lowercase();
    let no_arguments = match &f.args {
        FunctionArguments::None => true,
        FunctionArguments::List(list) => list.args.is_empty(),
        FunctionArguments::Subquery(_) => false,
    };
    PREFIX_FUNCTIONS.contains(&name.as_str())
        && no_arguments
        && f.filter.is_none()
        && spec.window_name.is_none()
        && spec.partition_by.is_empty()
        && spec.window_frame.is_none()
        && spec.order_by == keys
}

fn same_name(expr: &Expr, alias: &str) -> bool {
    match expr {
        Expr::Identifier(i) => i.value.eq_ignore_ascii_case(alias),
        Expr::CompoundIdentifier(parts) => {
            parts.last().is_some_and(|i| i.value.eq_ignore_ascii_case(alias))
        }
        _ => false,
    }
}

/// Whether `expr` names one of `names` as a bare column.
fn mentions(expr: &Expr, names: &[&str]) -> bool {
    visit_expressions(expr, |e| match e {
        Expr::Identifier(i) if names.iter().any(|n| n.eq_ignore_ascii_case(&i.value)) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}
