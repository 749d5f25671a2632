//! R001: an ORDER BY whose order nothing keeps.

use sqlparser::ast::{Distinct, OrderByKind, Query, SetExpr};
use sqlparser::keywords::Keyword;

use crate::suggest::walk::{self, Place};
use crate::suggest::{Context, Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "R001",
    name: "order-by-without-limit",
    summary: "ORDER BY without LIMIT where the order is not kept",
    explanation: "\
## What it does
Finds an ORDER BY without LIMIT, OFFSET or FETCH in a CTE, a derived table, an IN or EXISTS
subquery, a member of a UNION, a view's body, or the query an INSERT or CREATE TABLE AS writes.

## Why is this slow?
Sorting is one of the most expensive things a query does (it reads all its input before it
returns the first row, and spills to disk when the rows do not fit in memory). SQL does not
promise that the order of a subquery survives into the query around it, and a table or view
has no order: readers must sort again. Most engines sort anyway, because they cannot know
nobody relies on it.

## Example
    WITH recent AS (SELECT * FROM orders WHERE day > '2026-01-01' ORDER BY day)
    SELECT customer, count(*) FROM recent GROUP BY customer

## Fix
Removes the ORDER BY clause. Safe in a CTE, a subquery, a UNION member and a view: SQL gives
no order there. Unsafe for what an INSERT or CREATE TABLE AS writes: the rows are the same,
but the table's physical order changes, which some engines' zone maps, and readers that wrongly
rely on insertion order, notice. Not flagged: the outermost ORDER BY of a query whose result a
client reads, and a query with DISTINCT ON or TOP, where the order decides which rows stay.",
};

const STOPS: &[Keyword] = &[
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::FETCH,
    Keyword::FOR,
    Keyword::SETTINGS,
    Keyword::FORMAT,
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
];

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    walk::queries(ctx.statement).into_iter().filter_map(|(q, place)| hit(ctx, q, place)).collect()
}

fn hit(ctx: &Context<'_>, q: &Query, place: Place) -> Option<Hit> {
    let order_by = q.order_by.as_ref()?;
    let OrderByKind::Expressions(exprs) = &order_by.kind else { return None };
    let first = exprs.first()?;
    if q.limit_clause.is_some() || q.fetch.is_some() || order_by.interpolate.is_some() {
        return None;
    }
    // The order decides which rows DISTINCT ON or TOP keep.
    let decides_rows = walk::selects(&q.body)
        .iter()
        .any(|s| s.top.is_some() || matches!(s.distinct, Some(Distinct::On(_))));
    if decides_rows || matches!(*q.body, SetExpr::Values(_)) {
        return None;
    }
    let (where_, written) = match place {
        Place::Result | Place::Other => return None,
        Place::Inner => ("a CTE or subquery, where SQL keeps no order", false),
        Place::View => ("a view, which has no order", false),
        Place::Written => ("the rows a statement writes: a table has no order", true),
    };
    let expr_start = ctx.tokens.start_of(&first.expr)?;
    let order = ctx.tokens.keyword_before(expr_start, Keyword::ORDER)?;
    let start = ctx.tokens.space_before(order);
    let end = ctx.tokens.clause_end(order, STOPS);
    let offset = ctx.tokens.list[order].start;
    Some(Hit {
        offset,
        message: format!("ORDER BY without LIMIT in {where_}"),
        fix: Some(if written {
            Fix::unsafe_because(
                "Remove the ORDER BY",
                vec![Edit::deletion(start, end)],
                "nothing relies on the physical order the rows are written in",
            )
        } else {
            Fix::safe("Remove the ORDER BY", vec![Edit::deletion(start, end)])
        }),
    })
}
