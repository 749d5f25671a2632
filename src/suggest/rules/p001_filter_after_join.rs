//! P001: a WHERE condition on one side of inner joins, applied at the join instead.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, JoinConstraint, JoinOperator, Select, TableFactor, visit_expressions,
};
use sqlparser::keywords::Keyword;

use crate::suggest::tokens::{AFTER_ON, AFTER_WHERE};
use crate::suggest::walk::{self, conjuncts};
use crate::suggest::{Context, Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "P001",
    name: "filter-after-join",
    summary: "a WHERE condition on one side of an inner join, applied after the join",
    explanation: "\
## What it does
Finds a condition in WHERE (one of its AND-ed parts) whose columns all belong to one table of
a chain of inner joins (qualified by that table's name or alias).

## Why is this slow?
Written in WHERE, the condition reads as if every pair of rows were joined first and the
result filtered afterwards. Engines with a cost-based optimizer push such a condition below
the join themselves; others (and every engine when the condition hides behind a view, a
UDF or a nested query they do not see through) join rows that are thrown away. Putting the
condition where it applies says so to the engine and to the reader.

## Example
    SELECT o.id, c.name
    FROM orders o JOIN customers c ON c.id = o.customer_id
    WHERE c.region = 'EU'

## Fix
Moves the condition into the ON clause of the join that brings its table in (for the first
table, of the first join). Safe: for an inner join, a condition in ON and the same condition in
WHERE keep the same rows. Only when every join of the FROM is an inner join with ON, and the
condition has no subquery.",
};

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    walk::queries(ctx.statement)
        .into_iter()
        .flat_map(|(q, _)| walk::selects(&q.body))
        .flat_map(|s| hits(ctx, s))
        .collect()
}

fn hits(ctx: &Context<'_>, select: &Select) -> Vec<Hit> {
    let (Some(selection), [from]) = (&select.selection, select.from.as_slice()) else {
        return Vec::new();
    };
    // The ON condition of each join, all inner.
    let mut ons: Vec<&Expr> = Vec::new();
    for join in &from.joins {
        match &join.join_operator {
            JoinOperator::Join(JoinConstraint::On(on))
            | JoinOperator::Inner(JoinConstraint::On(on)) => {
                ons.push(on);
            }
            _ => return Vec::new(),
        }
    }
    if ons.is_empty() {
        return Vec::new();
    }
    // Names of the relations, in order: the first table, then each join's.
    let names: Vec<Option<String>> = std::iter::once(&from.relation)
        .chain(from.joins.iter().map(|j| &j.relation))
        .map(relation_name)
        .collect();
    let parts = conjuncts(selection);
    // The parts as written, from the tokens (a `NOT x`'s span starts at `x`).
    let Some((where_start, _)) = ctx.expr_range(selection) else { return Vec::new() };
    let Some(where_at) = ctx.tokens.keyword_before(where_start, Keyword::WHERE) else {
        return Vec::new();
    };
    let written = ctx.tokens.conjuncts(where_at, AFTER_WHERE);
    if written.len() != parts.len() {
        return Vec::new();
    }
    for (k, part) in parts.iter().enumerate() {
        let Some(side) = one_side(part, &names) else { continue };
        let on = ons[side.saturating_sub(1)];
        if matches!(on, Expr::BinaryOp { op: BinaryOperator::Or, .. }) {
            continue;
        }
        let Some((on_start, _)) = ctx.expr_range(on) else { continue };
        let Some(on_at) = ctx.tokens.keyword_before(on_start, Keyword::ON) else { continue };
        let Some(&(_, on_end)) = ctx.tokens.conjuncts(on_at, AFTER_ON).last() else { continue };
        let (part_start, part_end) = written[k];
        let condition = ctx.tokens.text_of(part_start, part_end);
        let remove = ctx.cut_conjunct(where_at, &written, k);
        let add = Edit::replacement(on_end, on_end, format!(" AND {condition}"));
        let table = names[side].as_deref().unwrap_or("?");
        return vec![Hit {
            offset: part_start,
            message: format!(
                "WHERE condition `{condition}` on `{table}` alone: apply it at the join"
            ),
            fix: Some(Fix::safe(
                format!("Move the condition into the ON clause that joins `{table}`"),
                vec![add, remove],
            )),
        }];
    }
    Vec::new()
}

/// The name a relation's columns are qualified with: its alias, else its table name.
pub(crate) fn relation_name(factor: &TableFactor) -> Option<String> {
    match factor {
        TableFactor::Table { alias: Some(alias), .. }
        | TableFactor::Derived { alias: Some(alias), .. } => Some(alias.name.value.to_lowercase()),
        TableFactor::Table { name, alias: None, .. } => {
            name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_lowercase())
        }
        _ => None,
    }
}

/// The relation (index into `names`) whose columns are the only ones `part` uses; `None` when
/// it uses none, several, unqualified ones, or a subquery.
fn one_side(part: &Expr, names: &[Option<String>]) -> Option<usize> {
    let mut side: Option<usize> = None;
    let verdict = visit_expressions(part, |e| {
        match e {
            Expr::Subquery(_)
            | Expr::InSubquery { .. }
            | Expr::Exists { .. }
            | Expr::Identifier(_) => {
                return ControlFlow::Break(());
            }
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let qualifier = parts[parts.len() - 2].value.to_lowercase();
                let found = names.iter().position(|n| n.as_deref() == Some(qualifier.as_str()));
                match (found, side) {
                    (Some(i), None) => side = Some(i),
                    (Some(i), Some(j)) if i == j => {}
                    _ => return ControlFlow::Break(()),
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    if verdict.is_break() { None } else { side }
}
