//! PY002: a function applied to each row of a pandas DataFrame (`apply(…, axis=1)`).

use crate::suggest::python::PyContext;
use crate::suggest::{Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "PY002",
    name: "row-wise-apply",
    summary: "pandas apply(…, axis=1) calls Python once per row",
    explanation: "\
## What it does
Finds `df.apply(f, axis=1)` (or `axis='columns'`): a Python function called once for each row
of a pandas DataFrame.

## Why is this slow?
Each call builds a Series for the row and runs the function in the interpreter, so the cost
grows with the rows at Python speed; the same arithmetic, comparison or string operation on
whole columns runs in compiled code, typically 50 to 500 times faster.

## Example
    orders['total'] = orders.apply(lambda r: r['price'] * r['quantity'], axis=1)

## Fix
None is applied: the vectorized form depends on the function. Column arithmetic
(`orders['price'] * orders['quantity']`), `np.where` / `np.select` for conditions, the `.str`
and `.dt` accessors for strings and dates, `merge` for lookups.",
};

pub(crate) fn check(ctx: &PyContext<'_>) -> Vec<Hit> {
    ctx.method_calls(&["apply"])
        .into_iter()
        .filter(|c| {
            let (_, keywords) = ctx.arguments(c);
            keywords
                .iter()
                .any(|(k, v)| *k == "axis" && matches!(*v, "1" | "'columns'" | "\"columns\""))
        })
        .map(|c| Hit {
            offset: c.call.start_byte(),
            message: format!(
                "`{}.apply(…, axis=1)` calls Python for every row: compute on whole columns instead",
                ctx.text_of(c.receiver)
            ),
            fix: None,
        })
        .collect()
}
