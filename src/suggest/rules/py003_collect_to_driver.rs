//! PY003: a whole Spark DataFrame brought to the driver (`collect()`, `toPandas()`).

use crate::suggest::python::PyContext;
use crate::suggest::{Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "PY003",
    name: "collect-to-driver",
    summary: "collect() / toPandas() of a Spark DataFrame that nothing reduced",
    explanation: "\
## What it does
Finds `collect()` and `toPandas()` on a Spark DataFrame whose chain of operations (followed
back through the variable it was assigned to) has no aggregation, limit or sample: every row of
the input goes to the driver.

## Why is this slow?
The driver is one process: the rows are serialized on the executors, sent over the network
and rebuilt in the driver's memory, which is the first thing to run out when the input grows
(`OutOfMemoryError`, or a driver killed by its container). What follows in Python runs on one
core.

## Example
    rows = spark.table('raw.events').filter(col('day') == day).collect()
    total = sum(r['amount'] for r in rows)

## Fix
None is applied. Do the work in Spark (`agg`, `groupBy`, `join`) and collect only its result;
bring a bounded amount with `limit(n)`, `take(n)` or `sample`; write large results with
`df.write` instead of converting them.",
};

/// Methods after which a DataFrame is small (or bounded) enough to collect.
const REDUCING: &[&str] = &[
    "agg",
    "count",
    "groupBy",
    "groupby",
    "limit",
    "sample",
    "take",
    "head",
    "first",
    "distinct",
    "describe",
    "summary",
    "approxQuantile",
    "rollup",
    "cube",
    "pivot",
    "tail",
];

pub(crate) fn check(ctx: &PyContext<'_>) -> Vec<Hit> {
    if !ctx.spark {
        return Vec::new();
    }
    ctx.method_calls(&["collect", "toPandas"])
        .into_iter()
        .filter(|c| c.arguments.is_none_or(|a| a.named_child_count() == 0))
        .filter(|c| {
            let chain = ctx.chain(c.receiver);
            // `.rdd.collect()` of a reduced frame, or anything reduced on the way.
            !chain.is_empty() && !chain.iter().any(|m| REDUCING.contains(m))
        })
        .map(|c| Hit {
            offset: c.call.start_byte(),
            message: format!(
                "`{}()` brings every row of a DataFrame nothing reduced to the driver",
                c.method
            ),
            fix: None,
        })
        .collect()
}
