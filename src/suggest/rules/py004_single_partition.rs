//! PY004: a Spark DataFrame funnelled into one partition (`repartition(1)`).

use crate::extract::python::queries::Field;
use crate::suggest::python::PyContext;
use crate::suggest::{Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "PY004",
    name: "single-partition",
    summary: "repartition(1) / coalesce(1) funnels the data through one task",
    explanation: "\
## What it does
Finds `repartition(1)` and `coalesce(1)` on a Spark DataFrame.

## Why is this slow?
One partition is one task on one core: the whole dataset is shuffled to (for `repartition`) or
computed in (for `coalesce`, which also pulls the work before it into that one task) a single
executor, and written by it. The rest of the cluster waits; a large input spills or runs out
of memory.

## Example
    daily.repartition(1).write.mode('overwrite').parquet(out)

## Fix
Removes the `.repartition(1)` / `.coalesce(1)` call (unsafe): the rows written are the same,
but in several files instead of one. Applied with `--unsafe`, under the assumption that
nothing downstream needs the output to be a single file. To bound the number of files
without a single task, use `repartition(n)` with a larger n or the writer's `maxRecordsPerFile`.",
};

pub(crate) fn check(ctx: &PyContext<'_>) -> Vec<Hit> {
    if !ctx.spark {
        return Vec::new();
    }
    ctx.method_calls(&["repartition", "coalesce"])
        .into_iter()
        .filter(|c| matches!(ctx.arguments(c), (positional, keywords) if positional == ["1"] && keywords.is_empty()))
        .filter_map(|c| {
            // The edit removes `.method(1)`: from the end of the receiver to the end of the call.
            let function = c.call.field("function")?;
            let start = c.receiver.end_byte();
            let end = c.call.end_byte();
            (function.end_byte() <= end).then(|| Hit {
                offset: c.call.start_byte(),
                message: format!("`{}(1)` runs the work and the write in one task", c.method),
                fix: Some(Fix::unsafe_because(
                    format!("Remove `.{}(1)`", c.method),
                    vec![Edit::deletion(start, end)],
                    "nothing downstream needs the output in a single file",
                )),
            })
        })
        .collect()
}
