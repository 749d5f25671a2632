//! R002: a CTE that nothing reads.

use std::ops::ControlFlow;

use sqlparser::ast::{Query, visit_relations};
use sqlparser::keywords::Keyword;

use crate::suggest::walk;
use crate::suggest::{Context, Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "R002",
    name: "unused-cte",
    summary: "a CTE that nothing reads",
    explanation: "\
## What it does
Finds a common table expression (`WITH name AS (…)`) that neither the query nor another CTE
of the same WITH reads.

## Why is this slow?
Engines that materialize CTEs (PostgreSQL before 12 and with MATERIALIZED, Redshift, Spark
when the plan caches it, many others when a CTE is named twice) compute it and throw it away.
Where the optimizer drops it, it still costs a reader's attention, and its tables show up in
the lineage as if the result depended on them.

## Example
    WITH unused AS (SELECT * FROM raw.events), kept AS (SELECT id FROM raw.users)
    SELECT id FROM kept

## Fix
Removes the CTE (and the WITH, when it was the only one). Safe: nothing reads it. The
statement's reads lose the tables only the CTE read; its writes and column lineage stay.",
};

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    walk::queries(ctx.statement).into_iter().flat_map(|(q, _)| unused(ctx, q)).collect()
}

fn unused(ctx: &Context<'_>, q: &Query) -> Vec<Hit> {
    let Some(with) = &q.with else { return Vec::new() };
    let ctes = &with.cte_tables;
    let mut hits = Vec::new();
    for (i, cte) in ctes.iter().enumerate() {
        let name = &cte.alias.name.value;
        let read_by_body = reads(&*q.body, name);
        let read_by_cte =
            ctes.iter().enumerate().any(|(j, other)| j != i && reads(&*other.query, name));
        if read_by_body || read_by_cte {
            continue;
        }
        let Some(start) = ctx.tokens.offset(cte.alias.name.span.start) else { continue };
        let Some(close) = ctx.tokens.offset(cte.closing_paren_token.0.span.end) else { continue };
        let edit = if ctes.len() == 1 {
            // The whole WITH clause, up to the statement's body.
            let Some(with_at) = ctx.tokens.keyword_before(start, Keyword::WITH) else { continue };
            let from = ctx.tokens.list[with_at].start;
            let next = ctx.tokens.list[ctx.tokens.index_at(close)..]
                .iter()
                .find(|t| !t.is_trivia())
                .map_or(close, |t| t.start);
            Edit::deletion(from, next)
        } else if let Some(next) = ctes.get(i + 1) {
            let Some(next_start) = ctx.tokens.offset(next.alias.name.span.start) else { continue };
            Edit::deletion(start, next_start)
        } else {
            let Some(previous_end) = ctx.tokens.offset(ctes[i - 1].closing_paren_token.0.span.end)
            else {
                continue;
            };
            Edit::deletion(previous_end, close)
        };
        hits.push(Hit {
            offset: start,
            message: format!("CTE `{name}` is never read"),
            fix: Some(Fix::safe(format!("Remove the CTE `{name}`"), vec![edit])),
        });
    }
    hits
}

/// Whether `node` reads a relation named `name` (one part, compared as the engine would
/// compare an unquoted name: case-insensitively).
fn reads<V: sqlparser::ast::Visit>(node: &V, name: &str) -> bool {
    visit_relations(node, |relation| {
        let found = relation.0.len() == 1
            && relation.0[0].as_ident().is_some_and(|i| i.value.eq_ignore_ascii_case(name));
        if found { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })
    .is_break()
}
