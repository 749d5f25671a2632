//! The queries of a statement and where each sits, which decides what its ORDER BY means: a
//! client sees the order of the statement's own result, a table may keep the order it was
//! written in, and nothing else keeps any order at all.

use sqlparser::ast::{
    BinaryOperator, Expr, Query, SetExpr, Statement, TableFactor, TableWithJoins, With,
};

/// Where a query sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The result a client receives.
    Result,
    /// What an INSERT or CREATE TABLE AS writes: rows land in the order they come.
    Written,
    /// A view's body: a view has no order.
    View,
    /// A CTE body, a derived table, an IN / EXISTS subquery, a member of a set operation.
    Inner,
    /// A scalar subquery or one whose place the walk does not know.
    Other,
}

/// Every query of `statement` that the walk reaches, outermost first.
pub fn queries(statement: &Statement) -> Vec<(&Query, Place)> {
    let mut out = Vec::new();
    match statement {
        Statement::Query(q) => query(q, Place::Result, &mut out),
        Statement::Insert(insert) => {
            if let Some(source) = &insert.source {
                query(source, Place::Written, &mut out);
            }
        }
        Statement::CreateTable(create) => {
            if let Some(q) = &create.query {
                query(q, Place::Written, &mut out);
            }
        }
        Statement::CreateView(view) => query(&view.query, Place::View, &mut out),
        _ => {}
    }
    out
}

fn query<'a>(q: &'a Query, place: Place, out: &mut Vec<(&'a Query, Place)>) {
    out.push((q, place));
    if let Some(With { cte_tables, .. }) = &q.with {
        for cte in cte_tables {
            query(&cte.query, Place::Inner, out);
        }
    }
    set_expr(&q.body, out);
}

fn set_expr<'a>(body: &'a SetExpr, out: &mut Vec<(&'a Query, Place)>) {
    match body {
        SetExpr::Select(select) => {
            for from in &select.from {
                tables(from, out);
            }
            for item in &select.projection {
                if let sqlparser::ast::SelectItem::UnnamedExpr(e)
                | sqlparser::ast::SelectItem::ExprWithAlias { expr: e, .. } = item
                {
                    expr(e, out);
                }
            }
            for e in select.selection.iter().chain(&select.having) {
                expr(e, out);
            }
        }
        SetExpr::Query(q) => query(q, Place::Inner, out),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr(left, out);
            set_expr(right, out);
        }
        _ => {}
    }
}

fn tables<'a>(from: &'a TableWithJoins, out: &mut Vec<(&'a Query, Place)>) {
    table_factor(&from.relation, out);
    for join in &from.joins {
        table_factor(&join.relation, out);
    }
}

fn table_factor<'a>(factor: &'a TableFactor, out: &mut Vec<(&'a Query, Place)>) {
    match factor {
        TableFactor::Derived { subquery, .. } => query(subquery, Place::Inner, out),
        TableFactor::NestedJoin { table_with_joins, .. } => tables(table_with_joins, out),
        _ => {}
    }
}

fn expr<'a>(e: &'a Expr, out: &mut Vec<(&'a Query, Place)>) {
    match e {
        Expr::InSubquery { expr: left, subquery, .. } => {
            expr(left, out);
            query(subquery, Place::Inner, out);
        }
        Expr::Exists { subquery, .. } => query(subquery, Place::Inner, out),
        Expr::Subquery(q) => query(q, Place::Other, out),
        Expr::BinaryOp { left, right, .. } => {
            expr(left, out);
            expr(right, out);
        }
        Expr::UnaryOp { expr: inner, .. } | Expr::Nested(inner) => expr(inner, out),
        _ => {}
    }
}

/// The SELECT blocks of a query's own body (not of its nested queries).
pub fn selects(body: &SetExpr) -> Vec<&sqlparser::ast::Select> {
    match body {
        SetExpr::Select(select) => vec![select],
        SetExpr::SetOperation { left, right, .. } => {
            let mut out = selects(left);
            out.extend(selects(right));
            out
        }
        _ => Vec::new(),
    }
}

/// The AND-ed parts of a condition.
pub fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        _ => vec![e],
    }
}

/// Functions that aggregate rows (without OVER: a query that calls one without GROUP BY gives
/// one row).
const AGGREGATES: &[&str] = &[
    "sum",
    "count",
    "avg",
    "min",
    "max",
    "any_value",
    "first",
    "last",
    "arbitrary",
    "string_agg",
    "array_agg",
    "list",
    "median",
    "stddev",
    "variance",
    "bool_and",
    "bool_or",
    "listagg",
    "count_if",
    "group_concat",
    "approx_count_distinct",
    "quantile_cont",
    "quantile_disc",
];

/// Whether a function call aggregates (by its name; a window function is not).
pub fn is_aggregate(f: &sqlparser::ast::Function) -> bool {
    f.over.is_none() && AGGREGATES.contains(&f.name.to_string().to_ascii_lowercase().as_str())
}
