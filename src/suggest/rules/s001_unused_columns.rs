//! S001: columns a table is built with that no transformation of the repository reads.

use sqlparser::ast::{Expr, SelectItem};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

use crate::suggest::walk::{self, Place};
use crate::suggest::{Context, Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "S001",
    name: "unused-columns",
    summary: "a table built with columns that nothing downstream reads",
    explanation: "\
## What it does
Finds a CREATE TABLE … AS SELECT whose table is read by other transformations of the
repository, none of which uses some of its columns (directly, or to filter, join, group or
sort), following column lineage across files. A `SELECT *` counts too, when the columns it
expands to are known (a `schema` in `.git-lineage.toml`, or tables other files create).

## Why is this slow?
Every column is read, carried through the query and written, in every run: wide text columns
cost the most. Columnar engines skip a column only when no query names it.

## Example
    CREATE TABLE raw.lineitem AS SELECT * FROM landing.lineitem   -- l_comment: read by nobody

## Fix
Writes the used columns instead of `*`, or removes the unused ones from the select list.
Unsafe: it assumes that nothing outside the repository (a dashboard, another team's job)
reads the removed columns. Not flagged for tables nothing in the repository reads, for INSERT
(its target's columns are fixed), or when a reader passes all columns on (`SELECT *`).",
};

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    hit(ctx).into_iter().collect()
}

fn hit(ctx: &Context<'_>) -> Option<Hit> {
    let (t, usage) = (ctx.lineage?, ctx.usage?);
    let [written] = t.writes.as_slice() else { return None };
    let used = usage.get(written)?;
    if used.readers == 0 || used.all || t.output_columns.is_empty() {
        return None;
    }
    let is_used = |c: &str| used.columns.contains(&c.to_lowercase());
    let unused: Vec<&str> =
        t.output_columns.iter().map(String::as_str).filter(|c| !is_used(c)).collect();
    if unused.is_empty() || unused.len() == t.output_columns.len() {
        return None;
    }
    let (query, place) = walk::queries(ctx.statement).into_iter().next()?;
    if place != Place::Written
        || !matches!(ctx.statement, sqlparser::ast::Statement::CreateTable(_))
    {
        return None;
    }
    let [select] = walk::selects(&query.body)[..] else { return None };
    // Without one of its columns, SELECT DISTINCT would return other rows.
    if select.distinct.is_some() || select.top.is_some() {
        return None;
    }
    let edits = match select.projection.as_slice() {
        [SelectItem::Wildcard(_)] => {
            let select_at = ctx.tokens.offset(select.select_token.0.span.start)?;
            let star = ctx.tokens.list[ctx.tokens.index_at(select_at)..]
                .iter()
                .find(|tok| tok.token == Token::Mul)?;
            let kept: Vec<&str> =
                t.output_columns.iter().map(String::as_str).filter(|c| is_used(c)).collect();
            vec![Edit::replacement(star.start, star.end, kept.join(", "))]
        }
        items => {
            let select_at = ctx.tokens.offset(select.select_token.0.span.end)?;
            let spans = ctx.tokens.list_items(ctx.tokens.index_at(select_at), Keyword::FROM);
            remove_items(items, &spans, &unused)?
        }
    };
    let offset = ctx.tokens.offset(select.select_token.0.span.start)?;
    Some(Hit {
        offset,
        message: format!(
            "`{written}` is built with {} column{} nothing in the repository reads: {}",
            unused.len(),
            if unused.len() == 1 { "" } else { "s" },
            unused.join(", ")
        ),
        fix: Some(Fix::unsafe_because(
            "Build the table with the columns that are read",
            edits,
            "nothing outside the repository reads the removed columns",
        )),
    })
}

/// Deletions of the select items named in `unused`, each with the comma that separates it.
fn remove_items(
    items: &[SelectItem],
    spans: &[(usize, usize)],
    unused: &[&str],
) -> Option<Vec<Edit>> {
    if spans.len() != items.len() {
        return None;
    }
    let drop: Vec<bool> = items
        .iter()
        .map(|item| {
            output_name(item).is_some_and(|n| unused.iter().any(|u| u.eq_ignore_ascii_case(&n)))
        })
        .collect();
    if drop.iter().all(|d| *d) {
        return None;
    }
    // Each run of dropped items goes with the comma after it, or, at the end of the list,
    // with the comma before it.
    let mut edits = Vec::new();
    let mut k = 0;
    while k < items.len() {
        if !drop[k] {
            k += 1;
            continue;
        }
        let first = k;
        while k < items.len() && drop[k] {
            k += 1;
        }
        let last = k - 1;
        edits.push(if k < items.len() {
            Edit::deletion(spans[first].0, spans[k].0)
        } else {
            Edit::deletion(spans[first - 1].1, spans[last].1)
        });
    }
    Some(edits)
}

/// The column name a select item produces, when it has a plain one.
fn output_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
        SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.clone()),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
            parts.last().map(|i| i.value.clone())
        }
        _ => None,
    }
}
