//! PY001: a pandas DataFrame walked row by row with `iterrows`.

use crate::suggest::python::PyContext;
use crate::suggest::{Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "PY001",
    name: "iterrows",
    summary: "pandas rows walked one by one with iterrows()",
    explanation: "\
## What it does
Finds `for … in df.iterrows()`: a pandas DataFrame walked one row at a time.

## Why is this slow?
`iterrows` builds a pandas Series for every row (boxing each value into a Python object and
losing the column types), and the loop body runs in the Python interpreter: typically 100 to
1,000 times slower than the same computation on whole columns, which pandas runs in compiled
code.

## Example
    for _, row in orders.iterrows():
        orders.loc[_, 'total'] = row['price'] * row['quantity']

## Fix
None is applied: the vectorized form depends on the loop's body. Write the computation on
columns (`orders['total'] = orders['price'] * orders['quantity']`, `np.where` for a condition,
`merge` for a lookup, `groupby` for a running state); where a loop is really needed,
`itertuples()` is several times faster than `iterrows()`.",
};

pub(crate) fn check(ctx: &PyContext<'_>) -> Vec<Hit> {
    ctx.method_calls(&["iterrows"])
        .into_iter()
        .filter(|c| c.arguments.is_none_or(|a| a.named_child_count() == 0))
        .map(|c| Hit {
            offset: c.call.start_byte(),
            message: format!(
                "`{}.iterrows()` runs Python code for every row: compute on whole columns instead",
                ctx.text_of(c.receiver)
            ),
            fix: None,
        })
        .collect()
}
