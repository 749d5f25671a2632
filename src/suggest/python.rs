//! Suggestions for Python ETL code: the rules of `rules/y*.rs` over the file's syntax tree
//! (tree-sitter-python, as `extract` parses it). The code is never imported or run.
//!
//! The rules look at calls (`df.iterrows()`, `.repartition(1)`, …) and at what is around
//! them (a loop, the chain of methods a DataFrame went through); their fixes, where they have
//! one, are byte-range edits like the SQL rules', checked the same way: the rewritten file
//! parses as well as before and has the same lineage.

use tree_sitter::Node;

use super::{Hit, Rule};
use crate::extract::Transformation;
use crate::extract::python::queries::Field;

/// What a Python rule's check sees: the file's text and syntax tree, and whether it uses
/// Spark (some calls mean different things in pandas and in Spark).
pub(crate) struct PyContext<'a> {
    pub text: &'a str,
    pub root: Node<'a>,
    pub spark: bool,
    /// The file's lineage as `extract` gives it (its functions' reads, writes and columns).
    pub transformations: &'a [Transformation],
}

/// A Python rule's check: what it finds in one file.
pub(crate) type PyCheck = fn(&PyContext<'_>) -> Vec<Hit>;

impl<'a> PyContext<'a> {
    pub fn new(text: &'a str, root: Node<'a>, transformations: &'a [Transformation]) -> Self {
        let spark = text.contains("pyspark") || text.contains("SparkSession");
        PyContext { text, root, spark, transformations }
    }

    pub fn text_of(&self, node: Node<'_>) -> &'a str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    /// Every call of a method named one of `names` (`x.name(…)`), in file order.
    pub fn method_calls(&self, names: &[&str]) -> Vec<MethodCall<'a>> {
        let mut found = Vec::new();
        let mut stack = vec![self.root];
        while let Some(node) = stack.pop() {
            if node.kind() == "call"
                && let Some(function) = node.field("function")
                && function.kind() == "attribute"
                && let (Some(object), Some(attribute)) =
                    (function.field("object"), function.field("attribute"))
                && names.contains(&self.text_of(attribute))
            {
                found.push(MethodCall {
                    call: node,
                    receiver: object,
                    method: self.text_of(attribute),
                    arguments: node.field("arguments"),
                });
            }
            let mut cursor = node.walk();
            let children: Vec<Node<'a>> = node.named_children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
        found.sort_by_key(|c| c.call.start_byte());
        found
    }

    /// The positional arguments and keyword arguments of a call, as text.
    pub fn arguments(&self, call: &MethodCall<'_>) -> (Vec<&'a str>, Vec<(&'a str, &'a str)>) {
        let mut positional = Vec::new();
        let mut keywords = Vec::new();
        let Some(arguments) = call.arguments else { return (positional, keywords) };
        let mut cursor = arguments.walk();
        for arg in arguments.named_children(&mut cursor) {
            match arg.kind() {
                "keyword_argument" => {
                    if let (Some(k), Some(v)) = (arg.field("name"), arg.field("value")) {
                        keywords.push((self.text_of(k), self.text_of(v)));
                    }
                }
                "comment" => {}
                _ => positional.push(self.text_of(arg)),
            }
        }
        (positional, keywords)
    }

    /// The methods called along a chain ending at `node` (`a.b().c()` gives `c`, `b`), and,
    /// when the chain starts at a name, the methods of that name's latest assignment before
    /// `node` in the same function, once.
    pub fn chain(&self, node: Node<'a>) -> Vec<&'a str> {
        let mut methods = Vec::new();
        let mut current = node;
        let mut followed = false;
        loop {
            match current.kind() {
                "call" => {
                    let Some(function) = current.field("function") else { break };
                    if function.kind() == "attribute"
                        && let Some(attribute) = function.field("attribute")
                    {
                        methods.push(self.text_of(attribute));
                    }
                    current = match function.kind() {
                        "attribute" => match function.field("object") {
                            Some(o) => o,
                            None => break,
                        },
                        _ => break,
                    };
                }
                "attribute" => {
                    if let Some(attribute) = current.field("attribute") {
                        methods.push(self.text_of(attribute));
                    }
                    match current.field("object") {
                        Some(o) => current = o,
                        None => break,
                    }
                }
                "parenthesized_expression" => match current.named_child(0) {
                    Some(inner) => current = inner,
                    None => break,
                },
                "identifier" if !followed => {
                    followed = true;
                    match self.assignment_before(self.text_of(current), node) {
                        Some(value) => current = value,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        methods
    }

    /// The value last assigned to `name` before `at`, in the function (or module) around it.
    fn assignment_before(&self, name: &str, at: Node<'a>) -> Option<Node<'a>> {
        let scope = enclosing(at, &["function_definition", "module"])?;
        let mut best: Option<Node<'a>> = None;
        let mut stack = vec![scope];
        while let Some(node) = stack.pop() {
            if node.start_byte() >= at.start_byte() {
                continue;
            }
            if node.kind() == "assignment"
                && node.field("left").is_some_and(|l| self.text_of(l) == name)
                && let Some(right) = node.field("right")
                && best.is_none_or(|b| b.start_byte() < right.start_byte())
            {
                best = Some(right);
            }
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                // A nested function's assignments are its own.
                if child.kind() != "function_definition" || child.id() == scope.id() {
                    stack.push(child);
                }
            }
        }
        best
    }
}

/// One call of a method: `receiver.method(arguments)`.
#[derive(Clone, Copy)]
pub(crate) struct MethodCall<'a> {
    pub call: Node<'a>,
    pub receiver: Node<'a>,
    pub method: &'a str,
    pub arguments: Option<Node<'a>>,
}

/// The nearest node above `node` (itself excluded) of one of `kinds`.
pub(crate) fn enclosing<'a>(node: Node<'a>, kinds: &[&str]) -> Option<Node<'a>> {
    let mut current = node.parent();
    while let Some(n) = current {
        if kinds.contains(&n.kind()) {
            return Some(n);
        }
        current = n.parent();
    }
    None
}

/// Whether `node` runs once per iteration of a loop of its function (a `for` or `while` body,
/// a comprehension).
pub(crate) fn in_loop(node: Node<'_>) -> bool {
    let mut current = node.parent();
    while let Some(n) = current {
        match n.kind() {
            "for_statement" | "while_statement" => {
                // The iterable of a `for` is evaluated once.
                let in_iterable = n.field("right").is_some_and(|r| {
                    r.start_byte() <= node.start_byte() && node.end_byte() <= r.end_byte()
                });
                if !in_iterable {
                    return true;
                }
            }
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => return true,
            "function_definition" | "class_definition" | "lambda" => return false,
            _ => {}
        }
        current = n.parent();
    }
    false
}

/// The rules of this kind, with their checks (see `registry`).
pub(crate) fn hits(
    rules: &[(Rule, PyCheck)],
    ctx: &PyContext<'_>,
    wants: impl Fn(&Rule) -> bool,
) -> Vec<(Rule, Hit)> {
    let mut out = Vec::new();
    for (rule, check) in rules {
        if wants(rule) {
            out.extend(check(ctx).into_iter().map(|h| (*rule, h)));
        }
    }
    out
}
