//! PY006: a PySpark filter on one side of an inner join, applied after the join.

use tree_sitter::Node;

use crate::extract::python::queries::Field;
use crate::suggest::python::{MethodCall, PyContext};
use crate::suggest::{Edit, Fix, Hit, Rule};

pub(crate) const RULE: Rule = Rule {
    code: "PY006",
    name: "filter-after-join",
    summary: "a PySpark filter on one side of an inner join, applied after the join",
    explanation: "\
## What it does
Finds `left.join(right, …).filter(cond)` (or `.where`) where the join is inner and `cond`
names columns of one side only, through that DataFrame's variable (`right.region`,
`right[\"region\"]`).

## Why is this slow?
Written after the join, the condition reads as if every pair of rows were joined first and
the result filtered. Spark's optimizer usually pushes such a filter below the join, but not
through every construct (a UDF in between, a cached or checkpointed side, a join hint), and a
reader of the code cannot tell what the join really sees.

## Example
    orders.join(customers, 'customer_id').filter(customers.region == 'EU')

## Fix
Filters the side before the join: `orders.join(customers.filter(customers.region == 'EU'),
'customer_id')`. Safe: for an inner join, dropping a side's rows before joining or the joined
rows after keeps the same rows. Not offered for outer, semi or anti joins, nor for conditions
on columns named only by a string (`col('region')`, `\"region = 'EU'\"`), whose side the code
does not say.",
};

pub(crate) fn check(ctx: &PyContext<'_>) -> Vec<Hit> {
    if !ctx.spark {
        return Vec::new();
    }
    ctx.method_calls(&["filter", "where"]).into_iter().filter_map(|c| hit(ctx, &c)).collect()
}

fn hit(ctx: &PyContext<'_>, filter: &MethodCall<'_>) -> Option<Hit> {
    // The receiver is the join call itself: `left.join(right, …)`.
    let join = filter.receiver;
    if join.kind() != "call" {
        return None;
    }
    let function = join.field("function")?;
    if function.kind() != "attribute" || ctx.text_of(function.field("attribute")?) != "join" {
        return None;
    }
    let left = function.field("object")?;
    let arguments = join.field("arguments")?;
    let mut cursor = arguments.walk();
    let args: Vec<Node<'_>> = arguments.named_children(&mut cursor).collect();
    let right = *args.first().filter(|a| a.kind() == "identifier")?;
    if left.kind() != "identifier" || !inner(ctx, &args) {
        return None;
    }
    let condition = filter.arguments.and_then(|a| a.named_child(0))?;
    if filter.arguments.is_some_and(|a| a.named_child_count() != 1)
        || condition.kind() == "keyword_argument"
    {
        return None;
    }
    let (left_name, right_name) = (ctx.text_of(left), ctx.text_of(right));
    let side = one_side(ctx, condition, left_name, right_name)?;
    let condition_text = ctx.text_of(condition);
    let (side_node, side_name) =
        if side == left_name { (left, left_name) } else { (right, right_name) };
    Some(Hit {
        offset: filter.call.start_byte(),
        message: format!(
            "`.{}({condition_text})` looks at `{side_name}` only: filter it before the join",
            filter.method
        ),
        fix: Some(Fix::safe(
            format!("Filter `{side_name}` before the join"),
            vec![
                Edit::replacement(
                    side_node.start_byte(),
                    side_node.end_byte(),
                    format!("{side_name}.{}({condition_text})", filter.method),
                ),
                Edit::deletion(join.end_byte(), filter.call.end_byte()),
            ],
        )),
    })
}

/// An inner join: no `how`, or `how` (third positional or keyword) `"inner"`.
fn inner(ctx: &PyContext<'_>, args: &[Node<'_>]) -> bool {
    let how = args.iter().enumerate().find_map(|(i, a)| {
        if a.kind() == "keyword_argument" {
            let name = a.field("name").map(|n| ctx.text_of(n));
            return (name == Some("how")).then(|| a.field("value")).flatten();
        }
        (i == 2).then_some(*a)
    });
    match how {
        None => true,
        Some(value) => matches!(ctx.text_of(value), "'inner'" | "\"inner\""),
    }
}

/// The one join side (`left` or `right`) whose columns the condition names through the
/// side's variable; `None` when it names both, neither, or columns by string only.
fn one_side<'t>(
    ctx: &PyContext<'t>,
    condition: Node<'t>,
    left: &'t str,
    right: &'t str,
) -> Option<&'t str> {
    let mut side: Option<&str> = None;
    let mut stack = vec![condition];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "attribute" | "subscript" => {
                let base = node.field("object").or_else(|| node.field("value"))?;
                if base.kind() == "identifier" {
                    let name = ctx.text_of(base);
                    if name == left || name == right {
                        if side.is_some_and(|s| s != name) {
                            return None;
                        }
                        side = Some(if name == left { left } else { right });
                    }
                }
            }
            // `col("x")`, `F.col("x")`, `expr("…")`: a column whose side the code does not say.
            "string" if node.parent().is_some_and(|p| p.kind() == "argument_list") => {
                let call = node.parent().and_then(|p| p.parent());
                let callee = call.and_then(|c| c.field("function")).map(|f| ctx.text_of(f));
                if callee.is_some_and(|c| {
                    c.ends_with("col") || c.ends_with("expr") || c.ends_with("column")
                }) {
                    return None;
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    side
}
