//! Airflow DAG files: which calls are tasks, of which DAG, and which tasks run before which.
//! See: issue 6.
//!
//! The patterns of `grammars/python/airflow_dag.scm` name the parts (DAG constructors and the
//! `@dag` decorator, task groups, any call with `task_id=`, TaskFlow's `@task`, a callable's
//! `python_callable=`, the ordering helpers); this module walks the file once with them, keeps
//! the DAG (and task group) each part of the code is in, and reads the dependency expressions
//! (`a >> b`, `[a, b] >> c`, `a.set_downstream(b)`, `chain(…)`, `cross_downstream(…)`, a
//! TaskFlow call's arguments that are other tasks' results).
//!
//! Lineage stays the data flow's: the data flow gives an operator call's SQL to its task
//! (`Analyzer::tasks`), and [`Dags::attribute`] gives each task the lineage of the function it
//! runs (`python_callable=`, a `@task` function), which then stops being a transformation of
//! its own. Tasks are named `dag_id.task_id` (`dag_id.group.task_id` in a task group), as
//! Airflow's OpenLineage integration names their jobs. Values the walk cannot know (a
//! `task_id` from a loop variable) are `<dynamic:…>` placeholders, never guesses.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

use super::dataflow::{Unit, placeholder};
use super::queries::{Field, language};
use crate::extract::Operation;

/// The DAG structure patterns (roles and captures: `grammars/python/README.md`).
const PATTERNS: &str = include_str!("../../../grammars/python/airflow_dag.scm");

/// Deeper than this, the walk does not follow (the data flow has the same limit).
const MAX_DEPTH: usize = 120;

/// The operation kind of a `.sql` file a task runs; its dataset is the file's path.
pub const SQL_FILE: &str = "sql_file";

static QUERY: LazyLock<Query> = LazyLock::new(|| {
    Query::new(&language(), PATTERNS)
        .expect("grammars/python/airflow_dag.scm is compiled in and compiles (unit-tested)")
});

/// What the patterns say a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    Dag,
    Group,
    DagFunction,
    TaskFunction,
    Task,
    Depends,
}

impl Role {
    fn from_capture(name: &str) -> Option<Self> {
        Some(match name {
            "dag" => Self::Dag,
            "group" => Self::Group,
            "dag_function" => Self::DagFunction,
            "task_function" => Self::TaskFunction,
            "task" => Self::Task,
            "depends" => Self::Depends,
            _ => return None,
        })
    }
}

/// The captures and `order` property of the patterns of one role on one node.
#[derive(Debug, Default)]
struct Spec<'tree> {
    captures: Vec<(&'static str, Node<'tree>)>,
    order: Option<&'static str>,
}

impl<'tree> Spec<'tree> {
    fn capture(&self, name: &str) -> Option<Node<'tree>> {
        self.captures.iter().find(|(n, _)| *n == name).map(|(_, node)| *node)
    }
}

/// A file's DAGs as the rest of the analysis needs them.
#[derive(Debug, Default)]
pub struct Dags {
    /// Operator calls that are tasks, by node id: the task's name. The data flow gives what
    /// such a call runs (its SQL) to the task.
    pub calls: HashMap<usize, String>,
    /// Every task, by name: its line (the operator call, or the `@task` function).
    tasks: BTreeMap<String, usize>,
    /// (function, task): the task runs the file's function (qualified name) and takes its
    /// lineage.
    runs: BTreeSet<(String, String)>,
    /// Per task, the tasks that run before it.
    after: BTreeMap<String, BTreeSet<String>>,
}

impl Dags {
    /// Whether `name` is a task.
    pub fn is_task(&self, name: &str) -> bool {
        self.tasks.contains_key(name)
    }

    /// The tasks that run before the task `name`, sorted.
    pub fn after(&self, name: &str) -> impl Iterator<Item = &str> {
        self.after.get(name).into_iter().flatten().map(String::as_str)
    }

    /// Whether the task `name` is in an ordering edge, either end.
    fn is_ordered(&self, name: &str) -> bool {
        self.after.get(name).is_some_and(|a| !a.is_empty())
            || self.after.values().any(|a| a.contains(name))
    }

    /// Whether a unit is a transformation: it reads or writes, or it is a task that runs a
    /// `.sql` file or that other tasks are ordered with (a step the schedule needs).
    pub fn keeps(&self, unit: &Unit) -> bool {
        !unit.reads.is_empty()
            || !unit.writes.is_empty()
            || (self.is_task(&unit.name)
                && (self.is_ordered(&unit.name)
                    || unit.operations.iter().any(|o| o.kind == SQL_FILE)))
    }

    /// Hands each task the lineage of the function it runs (which stops being a
    /// transformation of its own), gives every task a unit, merges the units of one name
    /// (a call analyzed more than once) and resolves `.sql` paths against the DAG file's
    /// folder, as Airflow's template search does.
    pub fn attribute(&self, units: &mut Vec<Unit>, path: &str) {
        let taken: BTreeSet<&str> = self.runs.iter().map(|(f, _)| f.as_str()).collect();
        let mut merged: BTreeMap<String, Unit> = BTreeMap::new();
        for unit in std::mem::take(units) {
            for (_, task) in self.runs.iter().filter(|(f, _)| *f == unit.name) {
                add_to(&mut merged, task, &unit);
            }
            if !taken.contains(unit.name.as_str()) || self.is_task(&unit.name) {
                let name = unit.name.clone();
                add_to(&mut merged, &name, &unit);
            }
        }
        for (task, &line) in &self.tasks {
            let unit = merged
                .entry(task.clone())
                .or_insert_with(|| Unit { name: task.clone(), ..Unit::default() });
            unit.line = line;
        }
        let folder = path.rsplit_once('/').map_or("", |(folder, _)| folder);
        for unit in merged.values_mut() {
            for op in &mut unit.operations {
                if op.kind == SQL_FILE
                    && let Some(file) = &op.dataset
                {
                    op.dataset = Some(relative_to(folder, file));
                }
            }
        }
        *units = merged.into_values().collect();
    }
}

/// Adds `unit`'s lineage to the unit `name` of `merged`.
fn add_to(merged: &mut BTreeMap<String, Unit>, name: &str, unit: &Unit) {
    let into = merged.entry(name.to_string()).or_insert_with(|| Unit {
        name: name.to_string(),
        line: unit.line,
        ..Unit::default()
    });
    into.line = into.line.min(unit.line);
    into.reads.extend(unit.reads.iter().cloned());
    into.writes.extend(unit.writes.iter().cloned());
    into.columns.extend(unit.columns.iter().cloned());
    into.indirect.extend(unit.indirect.iter().cloned());
    for (dataset, columns) in &unit.outputs {
        super::dataflow::record_output(&mut into.outputs, dataset.clone(), columns.clone());
    }
    for op in &unit.operations {
        if !into.operations.contains(op) {
            into.operations.push(op.clone());
        }
    }
}

/// `file` as a path from the repository root, given relative to `folder` (absolute paths and
/// URIs stay as written).
fn relative_to(folder: &str, file: &str) -> String {
    if file.starts_with('/') || file.contains("://") || file.contains("<dynamic:") {
        return file.to_string();
    }
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in file.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The DAGs of a file. Files that never mention `airflow` have none, and cost nothing.
pub fn discover(root: Node<'_>, text: &str) -> Dags {
    if !text.contains("airflow") {
        return Dags::default();
    }
    let mut walker = Walker {
        text,
        specs: specs(root, text),
        constants: HashMap::new(),
        functions: HashMap::new(),
        task_functions: HashMap::new(),
        dag_vars: HashMap::new(),
        vars: HashMap::new(),
        taskflow: HashMap::new(),
        dags: Dags::default(),
        depth: 0,
    };
    walker.collect_definitions(root);
    walker.walk(root, &Context::default());
    walker.dags
}

/// Every match of the patterns over the file, by (node, role).
fn specs<'tree>(root: Node<'tree>, text: &str) -> HashMap<(usize, Role), Spec<'tree>> {
    let query: &'static Query = &QUERY;
    let names = query.capture_names();
    let mut found: HashMap<(usize, Role), Spec<'tree>> = HashMap::new();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(query, root, text.as_bytes());
    while let Some(m) = matches.next() {
        let Some((role, node)) = m.captures().iter().find_map(|c| {
            let name = names.get(c.index as usize)?;
            Some((Role::from_capture(name)?, c.node))
        }) else {
            continue;
        };
        let spec = found.entry((node.id(), role)).or_default();
        for c in m.captures() {
            let Some(&name) = names.get(c.index as usize) else { continue };
            // `(argument_list . (_) @dag_id)` means a positional argument.
            if name.starts_with('_')
                || Role::from_capture(name).is_some()
                || matches!(c.node.kind(), "keyword_argument" | "comment" | "list_splat")
            {
                continue;
            }
            if spec.capture(name).is_none() {
                spec.captures.push((name, c.node));
            }
        }
        for property in query.property_settings(m.pattern_index) {
            if &*property.key == "order" {
                let value: Option<&'static str> = property.value.as_deref();
                spec.order = spec.order.or(value);
            }
        }
    }
    found
}

/// Where a piece of code is: its DAG and task group, and its enclosing functions.
#[derive(Debug, Clone, Default)]
struct Context {
    dag: Option<String>,
    group: Option<String>,
    prefix: String,
}

impl Context {
    /// The task `task_id` of this context's DAG.
    fn task(&self, task_id: &str) -> Option<String> {
        let dag = self.dag.as_deref()?;
        Some(match &self.group {
            Some(group) => format!("{dag}.{group}.{task_id}"),
            None => format!("{dag}.{task_id}"),
        })
    }

    fn inside(&self, name: &str) -> Context {
        let prefix = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        Context { prefix, ..self.clone() }
    }
}

struct Walker<'a, 'tree> {
    text: &'a str,
    specs: HashMap<(usize, Role), Spec<'tree>>,
    /// Module-level string constants (`DAG_ID = "daily"`).
    constants: HashMap<String, String>,
    /// The file's functions: simple name -> qualified name (the data flow's unit names).
    functions: HashMap<String, String>,
    /// `@task` functions: simple name -> (qualified name, task_id).
    task_functions: HashMap<String, (String, String)>,
    /// Variables holding a DAG: its id.
    dag_vars: HashMap<String, String>,
    /// Variables holding tasks (an operator, a list of them, a TaskFlow call's result).
    vars: HashMap<String, Vec<String>>,
    /// TaskFlow calls made into tasks, by node id.
    taskflow: HashMap<usize, String>,
    dags: Dags,
    depth: usize,
}

impl<'a, 'tree> Walker<'a, 'tree> {
    fn spec(&self, node: Node<'tree>, role: Role) -> Option<&Spec<'tree>> {
        self.specs.get(&(node.id(), role))
    }

    fn node_text(&self, node: Node<'_>) -> &'a str {
        self.text.get(node.byte_range()).unwrap_or("")
    }

    /// Module constants, the file's functions (qualified as the data flow names them) and
    /// its `@task` functions.
    fn collect_definitions(&mut self, root: Node<'tree>) {
        let mut cursor = root.walk();
        for statement in root.named_children(&mut cursor) {
            if statement.kind() != "expression_statement" {
                continue;
            }
            let Some(assignment) = statement.named_child(0) else { continue };
            let (Some(left), Some(right)) = (assignment.field("left"), assignment.field("right"))
            else {
                continue;
            };
            if assignment.kind() == "assignment"
                && left.kind() == "identifier"
                && right.kind() == "string"
                && let Some(text) = self.literal(right)
            {
                self.constants.insert(self.node_text(left).to_string(), text);
            }
        }
        let mut stack = vec![(root, String::new(), 0usize)];
        while let Some((node, prefix, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                continue;
            }
            let mut prefix = prefix;
            if matches!(node.kind(), "function_definition" | "class_definition")
                && let Some(name) = node.field("name")
            {
                let name = self.node_text(name).to_string();
                prefix = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                if node.kind() == "function_definition" {
                    self.functions.entry(name).or_insert_with(|| prefix.clone());
                }
            }
            if let Some(spec) = self.spec(node, Role::TaskFunction)
                && let Some(definition) = node.field("definition")
                && let Some(name) = definition.field("name")
            {
                let name = self.node_text(name).to_string();
                let task_id =
                    spec.capture("task_id").map_or_else(|| name.clone(), |n| self.value(n));
                let qualified =
                    if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                self.task_functions.entry(name).or_insert((qualified, task_id));
            }
            let mut cursor = node.walk();
            let children: Vec<Node<'tree>> = node.named_children(&mut cursor).collect();
            for child in children.into_iter().rev() {
                stack.push((child, prefix.clone(), depth + 1));
            }
        }
    }

    fn walk(&mut self, node: Node<'tree>, context: &Context) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.walk_inner(node, context);
        self.depth -= 1;
    }

    fn walk_children(&mut self, node: Node<'tree>, context: &Context) {
        let mut cursor = node.walk();
        let children: Vec<Node<'tree>> = node.named_children(&mut cursor).collect();
        for child in children {
            self.walk(child, context);
        }
    }

    fn walk_inner(&mut self, node: Node<'tree>, context: &Context) {
        match node.kind() {
            "with_statement" => self.with_statement(node, context),
            "decorated_definition" => {
                let mut inner = context.clone();
                if let Some(spec) = self.spec(node, Role::DagFunction) {
                    let function = spec.capture("function").map(|f| self.node_text(f).to_string());
                    let id = spec.capture("dag_id").map(|n| self.value(n)).or(function);
                    inner.dag = id;
                    inner.group = None;
                }
                self.walk_children(node, &inner);
            }
            "function_definition" | "class_definition" => {
                let name = node.field("name").map_or("", |n| self.node_text(n));
                let inner = context.inside(name);
                if let Some(body) = node.field("body") {
                    self.walk(body, &inner);
                }
            }
            "assignment" => {
                let (Some(left), Some(right)) = (node.field("left"), node.field("right")) else {
                    return self.walk_children(node, context);
                };
                self.walk(right, context);
                if left.kind() != "identifier" {
                    return;
                }
                let name = self.node_text(left).to_string();
                if let Some(spec) = self.spec(right, Role::Dag) {
                    let id = spec
                        .capture("dag_id")
                        .map_or_else(|| placeholder(&name), |n| self.value(n));
                    self.dag_vars.insert(name, id);
                    return;
                }
                let tasks = self.tasks_of(right, context);
                self.vars.insert(name, tasks);
            }
            "call" => {
                self.call(node, context);
                self.walk_children(node, context);
            }
            "binary_operator" => {
                self.tasks_of(node, context);
                self.walk_children(node, context);
            }
            _ => self.walk_children(node, context),
        }
    }

    /// `with DAG(…) as dag:` and `with TaskGroup(…):` open a context for their body.
    fn with_statement(&mut self, node: Node<'tree>, context: &Context) {
        let mut inner = context.clone();
        let mut cursor = node.walk();
        let clauses: Vec<Node<'tree>> =
            node.named_children(&mut cursor).filter(|c| c.kind() == "with_clause").collect();
        for clause in clauses {
            let mut items = clause.walk();
            let values: Vec<Node<'tree>> =
                clause.named_children(&mut items).filter_map(|i| i.field("value")).collect();
            for value in values {
                let (expression, alias) = if value.kind() == "as_pattern" {
                    let alias = value.field("alias").map(|a| {
                        if a.kind() == "as_pattern_target" {
                            a.named_child(0).unwrap_or(a)
                        } else {
                            a
                        }
                    });
                    (value.named_child(0).unwrap_or(value), alias)
                } else {
                    (value, None)
                };
                if let Some(spec) = self.spec(expression, Role::Dag) {
                    let id = spec
                        .capture("dag_id")
                        .map_or_else(|| placeholder("dag_id"), |n| self.value(n));
                    if let Some(alias) = alias.filter(|a| a.kind() == "identifier") {
                        self.dag_vars.insert(self.node_text(alias).to_string(), id.clone());
                    }
                    inner.dag = Some(id);
                    inner.group = None;
                } else if let Some(spec) = self.spec(expression, Role::Group) {
                    let id = spec
                        .capture("group_id")
                        .map_or_else(|| placeholder("group_id"), |n| self.value(n));
                    inner.group = Some(match &context.group {
                        Some(outer) => format!("{outer}.{id}"),
                        None => id,
                    });
                } else {
                    self.walk(expression, context);
                }
            }
        }
        if let Some(body) = node.field("body") {
            self.walk(body, &inner);
        }
    }

    fn call(&mut self, node: Node<'tree>, context: &Context) {
        self.task(node, context);
        self.taskflow_call(node, context);
        let Some(order) = self.spec(node, Role::Depends).and_then(|s| s.order) else { return };
        let arguments: Vec<Node<'tree>> = node
            .field("arguments")
            .map(|a| {
                let mut cursor = a.walk();
                a.named_children(&mut cursor)
                    .filter(|c| !matches!(c.kind(), "keyword_argument" | "comment"))
                    .collect()
            })
            .unwrap_or_default();
        match order {
            "downstream" | "upstream" => {
                let receiver = node
                    .field("function")
                    .and_then(|f| f.field("object"))
                    .map(|o| self.tasks_of(o, context))
                    .unwrap_or_default();
                let others: Vec<String> =
                    arguments.iter().flat_map(|a| self.tasks_of(*a, context)).collect();
                if order == "downstream" {
                    self.edges(&receiver, &others);
                } else {
                    self.edges(&others, &receiver);
                }
            }
            "cross" => {
                let groups: Vec<Vec<String>> =
                    arguments.iter().map(|a| self.tasks_of(*a, context)).collect();
                if let [from, to, ..] = groups.as_slice() {
                    self.edges(from, to);
                }
            }
            _ => {
                // chain(a, [b, c], [d, e], f): consecutive arguments in order; two lists of
                // one length pair up (chain), or every task of one runs before every task of
                // the next (chain_linear, and chain otherwise). `*tasks` is its elements.
                let mut groups: Vec<(bool, Vec<String>)> = Vec::new();
                for argument in &arguments {
                    let tasks = self.tasks_of(*argument, context);
                    if argument.kind() == "list_splat" {
                        groups.extend(tasks.into_iter().map(|t| (false, vec![t])));
                    } else {
                        groups.push((matches!(argument.kind(), "list" | "tuple"), tasks));
                    }
                }
                for pair in groups.windows(2) {
                    let [(a_list, a), (b_list, b)] = pair else { continue };
                    if order == "chain" && *a_list && *b_list && a.len() == b.len() {
                        for (x, y) in a.iter().zip(b) {
                            self.edge(x, y);
                        }
                    } else {
                        self.edges(a, b);
                    }
                }
            }
        }
    }

    /// The task an operator call is, if it is one: a call with `task_id=` in a DAG's
    /// context or with `dag=`.
    fn task(&mut self, node: Node<'tree>, context: &Context) -> Option<String> {
        if let Some(name) = self.dags.calls.get(&node.id()) {
            return Some(name.clone());
        }
        if node.parent().is_some_and(|p| p.kind() == "decorator") {
            return None;
        }
        let spec = self.spec(node, Role::Task)?;
        let task_id = self.value(spec.capture("task_id")?);
        let mut context = context.clone();
        if let Some(dag) = spec.capture("dag_ref") {
            let dag = match dag.kind() {
                "identifier" => self.dag_vars.get(self.node_text(dag)).cloned(),
                _ => self
                    .spec(dag, Role::Dag)
                    .and_then(|s| s.capture("dag_id"))
                    .map(|n| self.value(n)),
            };
            if dag.is_some() {
                context.dag = dag;
            }
        }
        let name = context.task(&task_id)?;
        let callable = spec.capture("callable").map(|c| self.node_text(c).to_string());
        if let Some(function) = callable.and_then(|c| self.functions.get(&c)) {
            self.dags.runs.insert((function.clone(), name.clone()));
        }
        self.dags.tasks.entry(name.clone()).or_insert(node.start_position().row + 1);
        self.dags.calls.insert(node.id(), name.clone());
        Some(name)
    }

    /// A call of a `@task` function in a DAG: the task, after the tasks whose results it
    /// takes (XCom arguments).
    fn taskflow_call(&mut self, node: Node<'tree>, context: &Context) -> Option<String> {
        if let Some(name) = self.taskflow.get(&node.id()) {
            return Some(name.clone());
        }
        let function = node.field("function").filter(|f| f.kind() == "identifier")?;
        let (qualified, task_id) = self.task_functions.get(self.node_text(function))?.clone();
        let name = context.task(&task_id)?;
        self.taskflow.insert(node.id(), name.clone());
        let line = self
            .specs
            .iter()
            .find(|((_, role), spec)| {
                *role == Role::TaskFunction
                    && spec
                        .capture("function")
                        .is_some_and(|f| self.node_text(f) == self.node_text(function))
            })
            .and_then(|(_, spec)| spec.capture("function"))
            .map_or(node.start_position().row + 1, |f| f.start_position().row + 1);
        self.dags.tasks.entry(name.clone()).or_insert(line);
        self.dags.runs.insert((qualified, name.clone()));
        if let Some(arguments) = node.field("arguments") {
            let mut cursor = arguments.walk();
            let children: Vec<Node<'tree>> = arguments.named_children(&mut cursor).collect();
            for argument in children {
                let value = argument.field("value").unwrap_or(argument);
                let upstream = self.tasks_of(value, context);
                self.edges(&upstream, std::slice::from_ref(&name));
            }
        }
        Some(name)
    }

    /// The tasks an expression stands for; `>>` and `<<` record their edges on the way.
    fn tasks_of(&mut self, node: Node<'tree>, context: &Context) -> Vec<String> {
        if self.depth > MAX_DEPTH {
            return Vec::new();
        }
        self.depth += 1;
        let tasks = self.tasks_of_inner(node, context);
        self.depth -= 1;
        tasks
    }

    fn tasks_of_inner(&mut self, node: Node<'tree>, context: &Context) -> Vec<String> {
        match node.kind() {
            "identifier" => self.vars.get(self.node_text(node)).cloned().unwrap_or_default(),
            "list" | "tuple" | "expression_list" | "parenthesized_expression" | "list_splat" => {
                let mut cursor = node.walk();
                let children: Vec<Node<'tree>> = node.named_children(&mut cursor).collect();
                children.into_iter().flat_map(|c| self.tasks_of(c, context)).collect()
            }
            // `task.output` (an XCom of the task) stands for the task.
            "attribute" => {
                node.field("object").map(|o| self.tasks_of(o, context)).unwrap_or_default()
            }
            "call" => {
                let found = self.task(node, context).or_else(|| self.taskflow_call(node, context));
                found.into_iter().collect()
            }
            "binary_operator" => {
                let operator = node.field("operator").map_or("", |o| self.node_text(o));
                if operator != ">>" && operator != "<<" {
                    return Vec::new();
                }
                let left = node.field("left").map(|l| self.tasks_of(l, context));
                let right = node.field("right").map(|r| self.tasks_of(r, context));
                let (left, right) = (left.unwrap_or_default(), right.unwrap_or_default());
                if operator == ">>" {
                    self.edges(&left, &right);
                } else {
                    self.edges(&right, &left);
                }
                right
            }
            _ => Vec::new(),
        }
    }

    fn edges(&mut self, before: &[String], after: &[String]) {
        for b in before {
            for a in after {
                self.edge(b, a);
            }
        }
    }

    fn edge(&mut self, before: &str, after: &str) {
        if before != after {
            self.dags.after.entry(after.to_string()).or_default().insert(before.to_string());
        }
    }

    /// A DAG, group or task id: a string (f-string parts as placeholders), a module
    /// constant, or a placeholder named after the expression.
    fn value(&self, node: Node<'_>) -> String {
        match node.kind() {
            "string" => self.literal(node).unwrap_or_else(|| placeholder(self.node_text(node))),
            "identifier" => {
                let name = self.node_text(node);
                self.constants.get(name).cloned().unwrap_or_else(|| placeholder(name))
            }
            _ => placeholder(self.node_text(node)),
        }
    }

    /// A string literal's text, interpolations as placeholders; `None` for bytes.
    fn literal(&self, node: Node<'_>) -> Option<String> {
        let mut text = String::new();
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            match child.kind() {
                "string_start" if self.node_text(child).to_ascii_lowercase().contains('b') => {
                    return None;
                }
                "string_content" => text.push_str(self.node_text(child)),
                "interpolation" => {
                    let expression = child.field("expression").unwrap_or(child);
                    let name = self.node_text(expression);
                    match self.constants.get(name) {
                        Some(value) => text.push_str(value),
                        None => text.push_str(&placeholder(name)),
                    }
                }
                _ => {}
            }
        }
        Some(text)
    }
}

/// Jinja in SQL text (Airflow renders `sql=` as a template): each `{{ expression }}` becomes
/// the placeholder `<dynamic:expression>`, and `{% … %}` / `{# … #}` tags are dropped, so
/// that every branch's SQL is read. Nothing is evaluated.
pub fn jinja_placeholders(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let (close, keep) = match rest.get(start + 1..start + 2) {
            Some("{") => ("}}", true),
            Some("%") => ("%}", false),
            Some("#") => ("#}", false),
            _ => {
                out.push_str(&rest[..=start]);
                rest = &rest[start + 1..];
                continue;
            }
        };
        let Some(length) = rest[start + 2..].find(close) else { break };
        out.push_str(&rest[..start]);
        if keep {
            let expression = rest[start + 2..start + 2 + length].trim();
            let expression = expression.trim_start_matches('-').trim_end_matches('-').trim();
            out.push_str(&placeholder(expression));
        }
        rest = &rest[start + 2 + length + close.len()..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The `.sql` file operation of a unit: the path as written; [`Dags::attribute`] resolves it.
pub fn sql_file(line: usize, file: &str) -> Operation {
    Operation {
        line,
        kind: SQL_FILE.to_string(),
        dataset: Some(file.to_string()),
        sources: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dags(text: &str) -> Dags {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&language()).unwrap();
        let tree = parser.parse(text, None).unwrap();
        discover(tree.root_node(), text)
    }

    fn after(d: &Dags, task: &str) -> Vec<String> {
        d.after(task).map(str::to_string).collect()
    }

    #[test]
    fn the_patterns_compile_and_every_capture_is_known() {
        let known = ["dag_id", "group_id", "function", "task_id", "dag_ref", "callable"];
        for name in QUERY.capture_names() {
            assert!(
                name.starts_with('_') || Role::from_capture(name).is_some() || known.contains(name),
                "unknown capture @{name}"
            );
        }
    }

    #[test]
    fn shifts_lists_and_chains_order_tasks() {
        let d = dags(
            "from airflow import DAG\n\
             with DAG('d') as dag:\n\
             \x20   a = EmptyOperator(task_id='a')\n\
             \x20   b = EmptyOperator(task_id='b')\n\
             \x20   c = EmptyOperator(task_id='c')\n\
             \x20   e = EmptyOperator(task_id='e')\n\
             \x20   a >> [b, c] >> e\n\
             \x20   e << EmptyOperator(task_id='f')\n",
        );
        assert_eq!(after(&d, "d.b"), ["d.a"]);
        assert_eq!(after(&d, "d.c"), ["d.a"]);
        assert_eq!(after(&d, "d.e"), ["d.b", "d.c", "d.f"]);
        assert!(after(&d, "d.a").is_empty());
    }

    #[test]
    fn helpers_order_tasks() {
        let d = dags(
            "from airflow.models.baseoperator import chain, cross_downstream\n\
             dag = DAG(dag_id='d')\n\
             a = X(task_id='a', dag=dag)\n\
             b = X(task_id='b', dag=dag)\n\
             c = X(task_id='c', dag=dag)\n\
             e = X(task_id='e', dag=dag)\n\
             chain(a, [b, c], [e, a])\n\
             cross_downstream([a, b], [c, e])\n\
             c.set_upstream(e)\n\
             e.set_downstream(X(task_id='g', dag=dag))\n",
        );
        assert_eq!(after(&d, "d.b"), ["d.a"]);
        assert_eq!(after(&d, "d.e"), ["d.a", "d.b"]);
        assert_eq!(after(&d, "d.c"), ["d.a", "d.b", "d.e"]);
        assert_eq!(after(&d, "d.g"), ["d.e"]);
    }

    #[test]
    fn taskflow_tasks_are_named_by_function_or_task_id_and_ordered_by_arguments() {
        let d = dags(
            "from airflow.decorators import dag, task\n\
             @task\n\
             def extract():\n    return 1\n\
             @task(task_id='save')\n\
             def load(x):\n    pass\n\
             @dag(schedule=None)\n\
             def etl():\n    load(extract())\n\
             etl()\n",
        );
        assert!(d.is_task("etl.extract") && d.is_task("etl.save"));
        assert_eq!(after(&d, "etl.save"), ["etl.extract"]);
        assert!(d.runs.contains(&("extract".to_string(), "etl.extract".to_string())));
    }

    #[test]
    fn groups_prefix_task_ids_and_loops_give_placeholders() {
        let d = dags(
            "import airflow\n\
             with airflow.DAG('d'):\n\
             \x20   with TaskGroup('g'):\n\
             \x20       for t in tables:\n\
             \x20           X(task_id=f'load_{t}')\n",
        );
        assert!(d.is_task("d.g.load_<dynamic:t>"));
    }

    #[test]
    fn calls_outside_a_dag_are_not_tasks() {
        let d = dags("import airflow\nX(task_id='a')\n");
        assert!(d.tasks.is_empty());
        assert!(dags("X(task_id='a')\n").tasks.is_empty());
    }

    #[test]
    fn jinja_becomes_placeholders_and_tags_go() {
        assert_eq!(
            jinja_placeholders(
                "insert into {{ params.t }} select * from s {% if x %}where a{% endif %}{# c #}"
            ),
            "insert into <dynamic:params.t> select * from s where a"
        );
        assert_eq!(jinja_placeholders("select '{a}' {{ unclosed"), "select '{a}' {{ unclosed");
        assert_eq!(jinja_placeholders("{{-ds-}}"), "<dynamic:ds>");
    }

    #[test]
    fn sql_paths_resolve_against_the_dag_folder() {
        assert_eq!(relative_to("dags", "sql/load.sql"), "dags/sql/load.sql");
        assert_eq!(relative_to("dags/x", "../sql/./a.sql"), "dags/sql/a.sql");
        assert_eq!(relative_to("", "a.sql"), "a.sql");
        assert_eq!(relative_to("dags", "/abs/a.sql"), "/abs/a.sql");
    }
}
