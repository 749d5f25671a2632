//! P002: a HAVING condition that only looks at grouping keys, moved to WHERE.

use std::ops::ControlFlow;

use sqlparser::ast::{BinaryOperator, Expr, GroupByExpr, Select, SelectItem, visit_expressions};
use sqlparser::keywords::Keyword;

use crate::suggest::tokens::{AFTER_HAVING, AFTER_WHERE};
use crate::suggest::walk::{self, conjuncts};
use crate::suggest::{Context, Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "P002",
    name: "having-on-group-key",
    summary: "a HAVING condition on grouping keys only, which WHERE can apply before grouping",
    explanation: "\
## What it does
Finds a condition in HAVING (one of its AND-ed parts) that uses only columns the query groups
by, and no aggregate.

## Why is this slow?
HAVING filters groups after every row has been grouped and aggregated; the same condition in
WHERE drops the rows before, so the aggregation hashes and sums fewer of them. Optimizers
often push such conditions down themselves, but not all do, and not through every construct.

## Example
    SELECT region, sum(amount) FROM orders GROUP BY region HAVING region <> 'TEST'

## Fix
Moves the condition to WHERE (added with AND to an existing WHERE). Safe: a condition on the
grouping keys alone is true or false for all rows of a group at once, so dropping the rows
first or the group afterwards keeps the same groups. Only plain column conditions without any
function call are moved (a function might be an aggregate), and not when the key is an alias
of a computed column, which WHERE cannot see.",
};

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    walk::queries(ctx.statement)
        .into_iter()
        .flat_map(|(q, _)| walk::selects(&q.body))
        .filter_map(|s| hit(ctx, s))
        .collect()
}

fn hit(ctx: &Context<'_>, select: &Select) -> Option<Hit> {
    let having = select.having.as_ref()?;
    let GroupByExpr::Expressions(keys, modifiers) = &select.group_by else { return None };
    if keys.is_empty() || !modifiers.is_empty() {
        return None;
    }
    let parts = conjuncts(having);
    let k = parts.iter().position(|part| on_keys_only(part, keys, select))?;
    // The parts as written, from the tokens (a `NOT x`'s span starts at `x`).
    let (having_start, _) = ctx.expr_range(having)?;
    let having_at = ctx.tokens.keyword_before(having_start, Keyword::HAVING)?;
    let written = ctx.tokens.conjuncts(having_at, AFTER_HAVING);
    if written.len() != parts.len() {
        return None;
    }
    let (part_start, part_end) = written[k];
    let condition = ctx.tokens.text_of(part_start, part_end);

    // Out of HAVING: the part with its AND, or the whole clause.
    let remove = ctx.cut_conjunct(having_at, &written, k);
    // Into WHERE: after the existing condition, or a new WHERE before GROUP BY.
    let add = match &select.selection {
        Some(selection) => {
            if matches!(selection, Expr::BinaryOp { op: BinaryOperator::Or, .. }) {
                return None;
            }
            let (start, _) = ctx.expr_range(selection)?;
            let where_at = ctx.tokens.keyword_before(start, Keyword::WHERE)?;
            let &(_, end) = ctx.tokens.conjuncts(where_at, AFTER_WHERE).last()?;
            Edit::replacement(end, end, format!(" AND {condition}"))
        }
        None => {
            let (first_key, _) = ctx.expr_range(keys.first()?)?;
            let group = ctx.tokens.keyword_before(first_key, Keyword::GROUP)?;
            let at = ctx.tokens.list[group].start;
            Edit::replacement(at, at, format!("WHERE {condition}\n"))
        }
    };
    Some(Hit {
        offset: part_start,
        message: format!(
            "HAVING condition `{condition}` uses grouping keys only: WHERE can apply it before grouping"
        ),
        fix: Some(Fix::safe("Move the condition to WHERE", vec![add, remove])),
    })
}

/// No function call, no subquery, and every column one of the grouping keys (and not the
/// alias of a selected expression, which WHERE cannot see).
fn on_keys_only(part: &Expr, keys: &[Expr], select: &Select) -> bool {
    let aliases: Vec<&str> = select
        .projection
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, expr } if !matches!(expr, Expr::Identifier(i) if i.value == alias.value) => {
                Some(alias.value.as_str())
            }
            _ => None,
        })
        .collect();
    let mut columns = 0;
    let verdict = visit_expressions(part, |e| {
        match e {
            Expr::Function(_)
            | Expr::Subquery(_)
            | Expr::InSubquery { .. }
            | Expr::Exists { .. } => {
                return ControlFlow::Break(());
            }
            Expr::Identifier(ident) => {
                columns += 1;
                let is_alias = aliases.iter().any(|a| a.eq_ignore_ascii_case(&ident.value));
                if is_alias || !keys.contains(e) {
                    return ControlFlow::Break(());
                }
            }
            Expr::CompoundIdentifier(_) => {
                columns += 1;
                if !keys.contains(e) {
                    return ControlFlow::Break(());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    verdict.is_continue() && columns > 0
}
