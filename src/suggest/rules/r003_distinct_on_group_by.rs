//! R003: DISTINCT on rows that GROUP BY already made distinct.

use sqlparser::ast::{Distinct, Expr, GroupByExpr, Select, SelectItem, Value};
use sqlparser::keywords::Keyword;

use crate::suggest::walk;
use crate::suggest::{Context, Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "R003",
    name: "distinct-on-group-by",
    summary: "SELECT DISTINCT on a GROUP BY whose keys are all selected",
    explanation: "\
## What it does
Finds `SELECT DISTINCT … GROUP BY k1, k2, …` where every grouping key is one of the selected
columns.

## Why is this slow?
GROUP BY returns one row per combination of its keys; when the keys are all selected, no two
rows can be equal, and the DISTINCT is a second hash or sort of the whole result for nothing.

## Example
    SELECT DISTINCT customer_id, count(*) AS orders FROM orders GROUP BY customer_id

## Fix
Removes DISTINCT. Safe: the rows are already distinct. Not flagged with ROLLUP, CUBE or
GROUPING SETS, or when a key is not selected.",
};

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    walk::queries(ctx.statement)
        .into_iter()
        .flat_map(|(q, _)| walk::selects(&q.body))
        .filter(|s| redundant(s))
        .filter_map(|s| {
            let select_at = ctx.tokens.offset(s.select_token.0.span.start)?;
            let distinct = ctx.tokens.keyword_after(select_at, Keyword::DISTINCT)?;
            let token = &ctx.tokens.list[distinct];
            let end = ctx.tokens.space_after(token.end);
            Some(Hit {
                offset: token.start,
                message: "DISTINCT on rows GROUP BY already made distinct".to_string(),
                fix: Some(Fix::safe("Remove the DISTINCT", vec![Edit::deletion(token.start, end)])),
            })
        })
        .collect()
}

fn redundant(select: &Select) -> bool {
    if select.distinct != Some(Distinct::Distinct) {
        return false;
    }
    let GroupByExpr::Expressions(keys, modifiers) = &select.group_by else { return false };
    if keys.is_empty() || !modifiers.is_empty() {
        return false;
    }
    keys.iter().all(|key| selected(select, key))
}

/// Whether a grouping key is one of the selected columns: the same expression, the alias of
/// one, or its position.
fn selected(select: &Select, key: &Expr) -> bool {
    if matches!(key, Expr::Rollup(_) | Expr::Cube(_) | Expr::GroupingSets(_)) {
        return false;
    }
    let items = &select.projection;
    if let Expr::Value(v) = key
        && let Value::Number(n, _) = &v.value
    {
        return n.parse::<usize>().is_ok_and(|k| k >= 1 && k <= items.len());
    }
    items.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) => e == key,
        SelectItem::ExprWithAlias { expr, alias } => {
            expr == key
                || matches!(key, Expr::Identifier(i) if i.value.eq_ignore_ascii_case(&alias.value))
        }
        _ => false,
    })
}
