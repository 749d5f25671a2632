//! S002: a pandas read of every column of a file when the code uses some of them.

use std::collections::BTreeSet;

use crate::suggest::python::{MethodCall, PyContext};
use crate::suggest::{Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "S002",
    name: "read-without-usecols",
    summary: "pandas reads every column of a file the code uses only some of",
    explanation: "\
## What it does
Finds `pd.read_csv`, `read_excel` and `read_table` without `usecols=`, and `read_parquet` and
`read_feather` without `columns=`, in a function whose column lineage (what it writes, from
which columns, filtered, joined and grouped by which) names only some columns of the file.

## Why is this slow?
pandas parses and keeps every column of a CSV: the time and memory go with the columns read,
and a wide file read for three columns costs many times what the three cost. Parquet and
Feather store columns apart: a reader that names its columns skips the others on disk.

## Example
    df = pd.read_csv('data/orders.csv')
    df[['customer_id', 'amount']].to_parquet('out/amounts.parquet')

## Fix
Adds `usecols=[…]` (or `columns=[…]`) with the columns the function's lineage uses (unsafe):
the same result under the assumption that the DataFrame is used only as the file's code
shows, not returned to, or passed into, code outside it that needs the other columns.",
};

/// Readers and the keyword that names the columns they read.
const READERS: &[(&str, &str)] = &[
    ("read_csv", "usecols"),
    ("read_table", "usecols"),
    ("read_excel", "usecols"),
    ("read_parquet", "columns"),
    ("read_feather", "columns"),
];

pub(crate) fn check(ctx: &PyContext<'_>) -> Vec<Hit> {
    let names: Vec<&str> = READERS.iter().map(|(r, _)| *r).collect();
    ctx.method_calls(&names).into_iter().filter_map(|c| hit(ctx, &c)).collect()
}

fn hit(ctx: &PyContext<'_>, call: &MethodCall<'_>) -> Option<Hit> {
    if !matches!(ctx.text_of(call.receiver), "pd" | "pandas") {
        return None;
    }
    let keyword = READERS.iter().find(|(r, _)| *r == call.method).map(|(_, k)| *k)?;
    let (positional, keywords) = ctx.arguments(call);
    if positional.is_empty() || keywords.iter().any(|(k, _)| *k == keyword) {
        return None;
    }
    let line = call.call.start_position().row + 1;
    // The function that reads it, and the dataset it reads.
    let (t, dataset) = ctx.transformations.iter().find_map(|t| {
        t.operations
            .iter()
            .find(|o| o.kind == "read" && o.line == line)
            .and_then(|o| o.dataset.as_deref())
            .map(|d| (t, d))
    })?;
    if t.writes.is_empty() || t.output_columns.is_empty() {
        return None;
    }
    let prefix = format!("{dataset}.");
    let used: BTreeSet<&str> = t
        .columns
        .iter()
        .map(|e| e.source.as_str())
        .chain(t.indirect.iter().map(|e| e.source.as_str()))
        .filter_map(|s| s.strip_prefix(prefix.as_str()))
        .collect();
    if used.is_empty() || used.iter().any(|c| c.contains('*') || c.is_empty()) {
        return None;
    }
    let list = used.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ");
    let arguments = call.arguments?;
    // Before the closing parenthesis (after a trailing comma, if there is one).
    let close = arguments.end_byte().checked_sub(1)?;
    let before = ctx.text.get(arguments.start_byte()..close)?.trim_end();
    let separator = if before.ends_with(',') { " " } else { ", " };
    let at = arguments.start_byte() + before.len();
    Some(Hit {
        offset: call.call.start_byte(),
        message: format!(
            "`{}` reads every column of `{dataset}`; the code uses {}: {list}",
            call.method,
            used.len()
        ),
        fix: Some(Fix::unsafe_because(
            format!("Read only the columns used (`{keyword}=`)"),
            vec![Edit::replacement(at, at, format!("{separator}{keyword}=[{list}]"))],
            "the DataFrame is used only as this file's code shows",
        )),
    })
}
