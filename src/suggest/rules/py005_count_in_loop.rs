//! PY005: a Spark action (`count()`) run once per iteration of a loop.

use crate::suggest::python::{PyContext, in_loop};
use crate::suggest::{Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "PY005",
    name: "count-in-loop",
    summary: "Spark count() inside a loop runs a job per iteration",
    explanation: "\
## What it does
Finds `df.count()` on a Spark DataFrame inside a `for` or `while` loop or a comprehension.

## Why is this slow?
`count()` is an action: each call runs a Spark job that computes the DataFrame from its
sources again (nothing is cached unless asked), so a loop of n iterations reads the input n
times. Progress logging and `if df.count() > 0` checks are the usual culprits.

## Example
    for day in days:
        batch = events.filter(col('day') == day)
        if batch.count() > 0:
            batch.write.mode('append').saveAsTable('mart.events')

## Fix
None is applied. Count once for all iterations (`groupBy('day').count()` before the loop), use
`isEmpty()` (or `limit(1).count()`) for an emptiness check, or `cache()` the DataFrame the loop
counts.",
};

pub(crate) fn check(ctx: &PyContext<'_>) -> Vec<Hit> {
    if !ctx.spark {
        return Vec::new();
    }
    ctx.method_calls(&["count"])
        .into_iter()
        .filter(|c| c.arguments.is_none_or(|a| a.named_child_count() == 0))
        .filter(|c| in_loop(c.call))
        // `groupBy(…).count()` is a transformation, not an action; a Python list's
        // `.count(x)` takes an argument.
        .filter(|c| !ctx.chain(c.receiver).iter().any(|m| matches!(*m, "groupBy" | "groupby")))
        .map(|c| Hit {
            offset: c.call.start_byte(),
            message: format!(
                "`{}.count()` inside a loop runs a Spark job every iteration",
                ctx.text_of(c.receiver)
            ),
            fix: None,
        })
        .collect()
}
