//! R004: one table scanned by several parts of one statement.

use std::collections::BTreeMap;

use sqlparser::ast::{ObjectName, Query, SetExpr, TableFactor, TableWithJoins};

use crate::suggest::walk;
use crate::suggest::{Context, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "R004",
    name: "repeated-scan",
    summary: "one table scanned by several CTEs or subqueries of a statement",
    explanation: "\
## What it does
Finds a table that two or more SELECTs of one statement (its CTEs, subqueries, members of a
UNION) read, each on its own. A self-join inside one FROM is not flagged.

## Why is this slow?
Each SELECT scans the table again: for a large table the scans dominate the statement, and
engines rarely share them (a CTE read twice may be materialized, but two CTEs over the same
table are two scans).

## Example
    WITH years AS (SELECT DISTINCT year(order_date) AS y FROM order_lines),
         delays AS (SELECT year(order_date) AS y, avg(days_late) AS late
                    FROM order_lines GROUP BY 1)
    SELECT * FROM years LEFT JOIN delays USING (y)

## Fix
None is applied: whether one scan can serve both depends on what each does with the rows.
Often one CTE can be derived from the other (`years` from `delays`), or one CTE can read the
table once with the columns and conditions both need, and the others read that CTE.",
};

pub(crate) fn check(ctx: &Context<'_>) -> Vec<Hit> {
    let queries = walk::queries(ctx.statement);
    let ctes: Vec<String> = queries
        .iter()
        .filter_map(|(q, _)| q.with.as_ref())
        .flat_map(|w| &w.cte_tables)
        .map(|c| c.alias.name.value.to_lowercase())
        .collect();
    // Each table, and the SELECTs (by position) that read it.
    let mut scans: BTreeMap<String, Vec<(usize, &ObjectName)>> = BTreeMap::new();
    let mut select_index = 0;
    for (q, _) in &queries {
        for select in selects_of(q) {
            for from in &select.from {
                for name in tables(from) {
                    let key = name.to_string().to_lowercase();
                    if !ctes.contains(&key) {
                        scans.entry(key).or_default().push((select_index, name));
                    }
                }
            }
            select_index += 1;
        }
    }
    scans
        .into_iter()
        .filter_map(|(table, reads)| {
            let first = reads.first()?.0;
            let (_, again) = reads.iter().find(|(s, _)| *s != first)?;
            let selects = {
                let mut s: Vec<usize> = reads.iter().map(|(s, _)| *s).collect();
                s.dedup();
                s.len()
            };
            Some(Hit {
                offset: ctx.tokens.start_of(*again)?,
                message: format!(
                    "`{table}` is scanned by {selects} parts of this statement: one scan could serve them"
                ),
                fix: None,
            })
        })
        .collect()
}

fn selects_of(q: &Query) -> Vec<&sqlparser::ast::Select> {
    match q.body.as_ref() {
        SetExpr::Select(_) | SetExpr::SetOperation { .. } => walk::selects(&q.body),
        _ => Vec::new(),
    }
}

/// The tables a FROM item names directly (not through a subquery, which is a SELECT of its own).
fn tables(from: &TableWithJoins) -> Vec<&ObjectName> {
    let mut out = Vec::new();
    for factor in std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)) {
        match factor {
            TableFactor::Table { name, args: None, .. } => out.push(name),
            TableFactor::NestedJoin { table_with_joins, .. } => {
                out.extend(tables(table_with_joins));
            }
            _ => {}
        }
    }
    out
}
