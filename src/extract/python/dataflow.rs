//! Data flow through a Python file without running it: what each variable holds (a string,
//! a DataFrame and the datasets it came from, a reader or writer builder, …), statement by
//! statement, in each function and at module level.
//!
//! The patterns of `grammars/python/` say which calls read, write or run SQL; this module
//! works out their arguments (constants, f-strings, `+`, `os.path.join`, `%` and `.format`)
//! and which reads flow into each write (through joins, unions, chained calls and calls of
//! the file's own functions). What only running the code would tell (`sys.argv`, function
//! parameters, a config file) becomes a named placeholder `<dynamic:name>`, never a guess.
//!
//! Evaluation is recursive over the syntax tree, with a depth limit: a pathological nesting
//! gives an unknown value, not a stack overflow.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::rc::Rc;

use tree_sitter::Node;

use super::columns::{self, Data, Expr, Item, Sources};
use super::queries::{Field, Matcher, Role, Spec};
use crate::diagnostic::Diagnostic;
use crate::extract::sql::{self, Dialect};
use crate::extract::{ColumnEdge, IndirectEdge, IndirectKind, Operation};
use crate::extract::{Settings, sql::names::normalize_dotted};

/// Deeper than this, expressions and blocks are not followed.
const MAX_DEPTH: usize = 120;

/// Calls of one function analyzed with their own arguments; later calls reuse the summary.
const MAX_INSTANCES: usize = 8;

/// Functions of other modules followed, at most, in the analysis of one file (calls made
/// from those modules included): what bounds the cost of a file that imports a large project.
const MAX_CROSS_MODULE: usize = 64;

/// A module's function names and the values of its top-level names.
type ModuleValues = (HashSet<String>, HashMap<String, Value>);

/// A call's positional and keyword argument values.
type Arguments<'v> = (&'v [Value], &'v [(String, Value)]);

/// Datasets a DataFrame's rows come from.
pub type Lineage = BTreeSet<String>;

/// A DataFrame of what `value` already reads (when it is one) and of `reads`: several
/// patterns on one call (a read and its SQL) add to the same frame.
fn with_reads(value: Option<Value>, reads: Data) -> Value {
    match value {
        Some(Value::Frame(d)) => Value::frame(d.merge(&reads)),
        _ => Value::frame(reads),
    }
}

/// What an expression evaluates to, as far as lineage cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    /// Known only at run time; the name of the placeholder.
    Dynamic(String),
    /// Shared, as the column expression and the writer: a variable's value is cloned at each
    /// use, and a value is kept small, since every level of a deep expression holds some on
    /// the stack.
    Frame(Rc<Data>),
    /// A column expression (`col("x")`, `df["x"] * 2`): see [`columns`].
    Column(Rc<Expr>),
    /// `spark.read` and what its builder methods return.
    Reader,
    /// `df.write` and its builder methods: the data it will write.
    Writer(Rc<Data>),
    /// A handle on a table (`DeltaTable.forName`).
    Table(String),
    /// A module of the project (its path), bound by an `import`.
    Module(String),
    /// A function of another module of the project: the module's path and the name (boxed:
    /// every value is as large as its largest variant).
    Function(Box<(String, String)>),
    /// A handle on a local file (`open(path)`), as a configuration loader gets it.
    File(String),
    List(Vec<Value>),
    Dict(Vec<(String, Value)>),
    Unknown,
}

impl Value {
    pub fn frame(data: Data) -> Self {
        Value::Frame(Rc::new(data))
    }

    pub fn column(expr: Expr) -> Self {
        Value::Column(Rc::new(expr))
    }

    /// The datasets a value's data comes from, if it carries data.
    pub fn lineage(&self) -> Option<Lineage> {
        match self {
            Value::Frame(d) | Value::Writer(d) => Some(d.datasets.clone()),
            Value::Column(e) => (!e.datasets.is_empty()).then(|| e.datasets.clone()),
            Value::Table(name) => Some(std::iter::once(name.clone()).collect()),
            Value::List(items) => lineage_of(items),
            Value::Dict(pairs) => lineage_of(pairs.iter().map(|(_, item)| item)),
            Value::Str(_)
            | Value::Dynamic(_)
            | Value::Reader
            | Value::Module(_)
            | Value::Function(..)
            | Value::File(_)
            | Value::Unknown => None,
        }
    }

    /// The DataFrame a value holds or stands for, if it carries data: a column of a
    /// DataFrame is a DataFrame of that one column.
    pub fn data(&self) -> Option<Data> {
        match self {
            Value::Frame(d) | Value::Writer(d) => Some((**d).clone()),
            Value::Column(e) if e.datasets.is_empty() => None,
            Value::Column(e) => Some(match &e.name {
                Some(name) => Data {
                    datasets: e.datasets.clone(),
                    named: vec![(name.clone(), e.resolved.clone())],
                    ..Data::default()
                },
                None => Data::opaque(e.datasets.clone()),
            }),
            Value::Table(_) | Value::List(_) | Value::Dict(_) => self.lineage().map(Data::opaque),
            Value::Str(_)
            | Value::Dynamic(_)
            | Value::Reader
            | Value::Module(_)
            | Value::Function(..)
            | Value::File(_)
            | Value::Unknown => None,
        }
    }

    /// The value as text inside a name: constants as they are, the rest as placeholders.
    fn text(&self, fallback: &str) -> Option<String> {
        match self {
            Value::Str(s) | Value::File(s) => Some(s.clone()),
            Value::Dynamic(name) => Some(placeholder(name)),
            Value::Unknown if fallback.is_empty() => Some(placeholder("value")),
            Value::Unknown => Some(placeholder(fallback)),
            _ => None,
        }
    }
}

/// The datasets of every value that carries data, `None` when none does.
fn lineage_of<'v>(values: impl IntoIterator<Item = &'v Value>) -> Option<Lineage> {
    values.into_iter().filter_map(Value::lineage).reduce(|mut all, l| {
        all.extend(l);
        all
    })
}

pub fn placeholder(name: &str) -> String {
    format!("<dynamic:{name}>")
}

/// One function's (or the module's) lineage, before it becomes a transformation.
#[derive(Debug, Default)]
pub struct Unit {
    /// `function`, `Class.method`, or `<module>`.
    pub name: String,
    pub line: usize,
    pub reads: BTreeSet<String>,
    pub writes: BTreeSet<String>,
    pub operations: Vec<Operation>,
    /// Column lineage of what the unit writes.
    pub columns: BTreeSet<ColumnEdge>,
    pub indirect: BTreeSet<IndirectEdge>,
    /// Each dataset written, with its columns when all are known.
    pub outputs: HashMap<String, Option<Vec<String>>>,
}

/// The variables of one scope: locals over a snapshot of the module's.
struct Scope {
    unit: Unit,
    locals: HashMap<String, Value>,
    globals: HashMap<String, Value>,
    returns: Vec<Value>,
}

impl Scope {
    fn get(&self, name: &str) -> Option<&Value> {
        self.locals.get(name).or_else(|| self.globals.get(name))
    }
}

/// The file-wide state of one analysis.
pub struct Analyzer<'a, 'tree> {
    /// The file's path: how the project's links name it.
    path: &'a str,
    text: &'a str,
    matcher: Matcher<'tree>,
    settings: &'a Settings,
    /// The file's functions by simple name: their node and qualified name.
    functions: HashMap<String, (Node<'tree>, String)>,
    /// Return values of the functions analyzed without arguments so far.
    summaries: HashMap<String, Value>,
    /// Each analyzed function's unit (an index into `units`) and how many calls were analyzed
    /// with their arguments.
    instances: HashMap<String, (usize, usize)>,
    in_progress: HashSet<String>,
    /// Temporary views by normalized name: the DataFrame they stand for.
    views: HashMap<String, Data>,
    /// Airflow operator calls that are tasks (by node id): what they run is the task's
    /// lineage, a unit of that name (see `airflow.rs`).
    pub tasks: HashMap<usize, String>,
    pub units: Vec<Unit>,
    pub diagnostics: Vec<Diagnostic>,
    /// Modules the file imports, as written (`from m import n` adds `m`, and `m.n` when `n`
    /// is lower-case: it may be a module), and configuration files it loads.
    pub imports: BTreeSet<String>,
    pub configs: BTreeSet<String>,
    /// The modules whose analysis led to this one (this one last): another module's
    /// function is followed only when its module is not among them.
    modules: Vec<String>,
    /// Functions of other modules followed so far, shared with the analyses of those modules.
    cross_module: Rc<Cell<usize>>,
    /// Other modules' functions and top-level values, by path, once worked out.
    module_values: HashMap<String, ModuleValues>,
    depth: usize,
}

impl<'a, 'tree> Analyzer<'a, 'tree> {
    pub fn new(path: &'a str, text: &'a str, settings: &'a Settings) -> Self {
        Self {
            path,
            text,
            matcher: Matcher::new(),
            settings,
            functions: HashMap::new(),
            summaries: HashMap::new(),
            instances: HashMap::new(),
            in_progress: HashSet::new(),
            views: HashMap::new(),
            tasks: HashMap::new(),
            units: Vec::new(),
            diagnostics: Vec::new(),
            imports: BTreeSet::new(),
            configs: BTreeSet::new(),
            modules: vec![path.to_string()],
            cross_module: Rc::new(Cell::new(0)),
            module_values: HashMap::new(),
            depth: 0,
        }
    }

    /// Analyzes the module: top-level code first (calling into the file's functions as it
    /// meets their calls), then every function not called from it.
    pub fn run(&mut self, root: Node<'tree>) {
        let module = self.top_level(root);
        let globals = module.locals.clone();
        self.units.push(module.unit);
        let mut names: Vec<(usize, String)> = self
            .functions
            .iter()
            .map(|(name, (node, _))| (node.start_byte(), name.clone()))
            .collect();
        names.sort();
        // Functions that another function of the file calls are left to that call, which
        // gives their parameters values: callers first, then what is still not analyzed.
        let called = self.called_by_functions();
        let (roots, rest): (Vec<_>, Vec<_>) =
            names.into_iter().partition(|(_, name)| !called.contains(name));
        for (_, name) in roots.into_iter().chain(rest) {
            if !self.instances.contains_key(&name) {
                self.summary(&name, &globals, None);
            }
        }
    }

    /// The file's functions that some other function of the file calls by name.
    fn called_by_functions(&self) -> HashSet<String> {
        // By text, not by walking each body's syntax tree: on a hook's path that walk cost a
        // tenth of the analysis. A name in a comment or string only moves a function to the
        // second round, where it is analyzed as it was before.
        let mut called = HashSet::new();
        for (name, (node, _)) in &self.functions {
            let body = self.node_text(*node);
            for callee in self.functions.keys() {
                if callee != name && !called.contains(callee) && calls_by_name(body, callee) {
                    called.insert(callee.clone());
                }
            }
        }
        called
    }

    /// The file's functions collected, then its top-level code run in the module's scope.
    fn top_level(&mut self, root: Node<'tree>) -> Scope {
        self.collect_functions(root, "");
        let mut module = Scope {
            unit: Unit { name: "<module>".into(), line: 1, ..Unit::default() },
            locals: HashMap::new(),
            globals: HashMap::new(),
            returns: Vec::new(),
        };
        self.block(root, &mut module);
        module
    }

    fn collect_functions(&mut self, node: Node<'tree>, prefix: &str) {
        // Nesting past the limit is not followed (the recursion stays bounded).
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.collect_functions_in(node, prefix);
        self.depth -= 1;
    }

    fn collect_functions_in(&mut self, node: Node<'tree>, prefix: &str) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "function_definition" => {
                    let Some(name) = child.field("name") else { continue };
                    let name = self.node_text(name).to_string();
                    let qualified =
                        if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                    if let Some(body) = child.field("body") {
                        self.collect_functions(body, &qualified);
                    }
                    self.functions.entry(name).or_insert((child, qualified));
                }
                "class_definition" => {
                    let Some(name) = child.field("name") else { continue };
                    let name = self.node_text(name).to_string();
                    let qualified =
                        if prefix.is_empty() { name } else { format!("{prefix}.{name}") };
                    if let Some(body) = child.field("body") {
                        self.collect_functions(body, &qualified);
                    }
                }
                "decorated_definition"
                | "block"
                | "if_statement"
                | "else_clause"
                | "elif_clause"
                | "try_statement"
                | "with_statement"
                | "ERROR" => {
                    self.collect_functions(child, prefix);
                }
                _ => {}
            }
        }
    }

    /// The return value of a function of the file. A call with arguments is analyzed with
    /// them (parameters hold what the caller passed: its constants, DataFrames and
    /// placeholders), up to [`MAX_INSTANCES`] calls per function; a function no code of
    /// the file calls is analyzed once with every parameter a placeholder.
    fn summary(
        &mut self,
        name: &str,
        globals: &HashMap<String, Value>,
        arguments: Option<Arguments<'_>>,
    ) -> Value {
        if self.in_progress.contains(name) {
            return Value::Unknown;
        }
        let instances = self.instances.get(name).map_or(0, |(_, n)| *n);
        let arguments = arguments.filter(|_| instances < MAX_INSTANCES);
        if arguments.is_none()
            && let Some(value) = self.summaries.get(name)
        {
            return value.clone();
        }
        let Some((node, qualified)) = self.functions.get(name).cloned() else {
            return Value::Unknown;
        };
        self.in_progress.insert(name.to_string());
        let mut scope = Scope {
            unit: Unit { name: qualified, line: line_of(node), ..Unit::default() },
            locals: HashMap::new(),
            globals: globals.clone(),
            returns: Vec::new(),
        };
        if let Some(parameters) = node.field("parameters") {
            let mut cursor = parameters.walk();
            let mut position = 0usize;
            for p in parameters.named_children(&mut cursor) {
                let ident = match p.kind() {
                    "identifier" => Some(p),
                    "typed_parameter" | "list_splat_pattern" | "dictionary_splat_pattern" => {
                        first_identifier(p)
                    }
                    _ => p.field("name"),
                };
                let Some(ident) = ident else { continue };
                let param = self.node_text(ident).to_string();
                let passed = arguments.and_then(|(positional, keywords)| {
                    keywords
                        .iter()
                        .find(|(k, _)| *k == param)
                        .map(|(_, v)| v.clone())
                        .or_else(|| positional.get(position).cloned())
                });
                position += 1;
                let value = match passed {
                    Some(v) => named(v, &param),
                    None => Value::Dynamic(param.clone()),
                };
                scope.locals.insert(param, value);
            }
        }
        if let Some(body) = node.field("body") {
            self.block(body, &mut scope);
        }
        let value = scope
            .returns
            .iter()
            .cloned()
            .reduce(|a, b| merge(a, b, name))
            .unwrap_or(Value::Unknown);
        // Every analyzed call adds to the one transformation of the function.
        match self.instances.get_mut(name) {
            Some((index, count)) => {
                *count += 1;
                let index = *index;
                if let Some(unit) = self.units.get_mut(index) {
                    unit.reads.extend(scope.unit.reads);
                    unit.writes.extend(scope.unit.writes);
                    unit.columns.extend(scope.unit.columns);
                    unit.indirect.extend(scope.unit.indirect);
                    for (dataset, output) in scope.unit.outputs {
                        record_output(&mut unit.outputs, dataset, output);
                    }
                    for op in scope.unit.operations {
                        if !unit.operations.contains(&op) {
                            unit.operations.push(op);
                        }
                    }
                }
            }
            None => {
                self.instances.insert(name.to_string(), (self.units.len(), 1));
                self.units.push(scope.unit);
            }
        }
        self.in_progress.remove(name);
        if arguments.is_none() {
            self.summaries.insert(name.to_string(), value.clone());
        }
        value
    }

    // -----------------------------------------------------------------------------------------
    // Statements

    fn block(&mut self, node: Node<'tree>, scope: &mut Scope) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.statement(child, scope);
        }
        self.depth -= 1;
    }

    fn statement(&mut self, node: Node<'tree>, scope: &mut Scope) {
        match node.kind() {
            "expression_statement" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.expression_or_assignment(child, scope);
                }
            }
            "return_statement" => {
                let mut cursor = node.walk();
                let values: Vec<Value> =
                    node.named_children(&mut cursor).map(|c| self.eval(c, scope)).collect();
                let value = match values.len() {
                    0 => Value::Unknown,
                    1 => values.into_iter().next().unwrap_or(Value::Unknown),
                    _ => Value::List(values),
                };
                scope.returns.push(value);
            }
            "if_statement" => self.if_statement(node, scope),
            "for_statement" => {
                let iterable = node.field("right").map(|r| self.eval(r, scope));
                if let Some(left) = node.field("left") {
                    // An element of a list of DataFrames carries their lineage; anything
                    // else is a loop variable known only at run time.
                    let element = match &iterable {
                        Some(list @ Value::List(_)) => match list.lineage() {
                            Some(l) if !l.is_empty() => Value::frame(Data::opaque(l)),
                            _ => Value::Unknown,
                        },
                        _ => Value::Unknown,
                    };
                    self.bind(left, element, scope);
                }
                self.children_blocks(node, scope);
            }
            "while_statement" => {
                if let Some(c) = node.field("condition") {
                    self.eval(c, scope);
                }
                self.children_blocks(node, scope);
            }
            "with_statement" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if child.kind() == "with_clause" {
                        let mut items = child.walk();
                        for item in child.named_children(&mut items) {
                            if let Some(value) = item.field("value") {
                                self.with_item(value, scope);
                            }
                        }
                    }
                }
                self.children_blocks(node, scope);
            }
            "try_statement" | "else_clause" | "finally_clause" | "except_clause"
            | "match_statement" | "case_clause" => self.children_blocks(node, scope),
            "block" => self.block(node, scope),
            "decorated_definition" | "function_definition" | "class_definition" => {}
            "import_statement" => self.import(node, scope),
            "import_from_statement" => self.import_from(node, scope),
            "future_import_statement"
            | "comment"
            | "pass_statement"
            | "break_statement"
            | "continue_statement"
            | "global_statement"
            | "nonlocal_statement"
            | "type_alias_statement" => {}
            "ERROR" => {
                // What tree-sitter could not fit in a statement: its calls still count.
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.statement(child, scope);
                }
            }
            _ => {
                // Other statements (assert, del, raise, print …) and expressions that an
                // ERROR node left bare: their calls may read or write.
                self.expression_or_assignment(node, scope);
            }
        }
    }

    fn children_blocks(&mut self, node: Node<'tree>, scope: &mut Scope) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "block" => self.block(child, scope),
                "else_clause"
                | "finally_clause"
                | "except_clause"
                | "except_group_clause"
                | "case_clause" => self.children_blocks(child, scope),
                _ => {}
            }
        }
    }

    fn with_item(&mut self, value: Node<'tree>, scope: &mut Scope) {
        if value.kind() == "as_pattern" {
            let mut cursor = value.walk();
            let children: Vec<Node<'tree>> = value.named_children(&mut cursor).collect();
            if let Some(expr) = children.first() {
                let v = self.eval(*expr, scope);
                if let Some(target) = value.field("alias") {
                    let target = if target.kind() == "as_pattern_target" {
                        target.named_child(0).unwrap_or(target)
                    } else {
                        target
                    };
                    self.bind(target, v, scope);
                }
            }
        } else {
            self.eval(value, scope);
        }
    }

    fn if_statement(&mut self, node: Node<'tree>, scope: &mut Scope) {
        if let Some(c) = node.field("condition") {
            // An imported module's `if __name__ == "__main__":` block does not run.
            if self.modules.len() > 1 && is_main_guard(self.node_text(c)) {
                return;
            }
            self.eval(c, scope);
        }
        let before = scope.locals.clone();
        let mut branches: Vec<HashMap<String, Value>> = Vec::new();
        if let Some(consequence) = node.field("consequence") {
            self.block(consequence, scope);
        }
        branches.push(std::mem::replace(&mut scope.locals, before.clone()));
        let mut has_else = false;
        let mut cursor = node.walk();
        for alternative in node.children_by_field_name("alternative", &mut cursor) {
            if alternative.kind() == "elif_clause" {
                if let Some(c) = alternative.field("condition") {
                    self.eval(c, scope);
                }
                if let Some(consequence) = alternative.field("consequence") {
                    self.block(consequence, scope);
                }
            } else {
                has_else = true;
                if let Some(body) = alternative.field("body") {
                    self.block(body, scope);
                }
            }
            branches.push(std::mem::replace(&mut scope.locals, before.clone()));
        }
        if !has_else {
            branches.push(before);
        }
        scope.locals = merge_envs(branches);
    }

    fn expression_or_assignment(&mut self, node: Node<'tree>, scope: &mut Scope) {
        match node.kind() {
            "assignment" => {
                let value = match node.field("right") {
                    Some(right) if right.kind() == "assignment" => {
                        // a = b = value: evaluate the inner assignment, then bind its value.
                        self.expression_or_assignment(right, scope);
                        right.field("left").map_or(Value::Unknown, |l| self.eval(l, scope))
                    }
                    Some(right) => self.eval(right, scope),
                    None => return,
                };
                if let Some(left) = node.field("left") {
                    self.bind(left, value, scope);
                }
            }
            "augmented_assignment" => {
                let right = node.field("right").map(|r| self.eval(r, scope));
                if let (Some(left), Some(right)) = (node.field("left"), right) {
                    let current = self.eval(left, scope);
                    let operator = node.field("operator").map_or("", |o| self.node_text(o));
                    let combined =
                        if operator == "+=" { add(current, right) } else { Value::Unknown };
                    self.bind(left, combined, scope);
                }
            }
            _ => {
                self.eval(node, scope);
            }
        }
    }

    /// Assigns `value` to a target: a name, a tuple of names, an attribute or a subscript.
    fn bind(&mut self, target: Node<'tree>, value: Value, scope: &mut Scope) {
        match target.kind() {
            "identifier" => {
                let name = self.node_text(target).to_string();
                let value = named(value, &name);
                scope.locals.insert(name, value);
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" => {
                let mut cursor = target.walk();
                let targets: Vec<Node<'tree>> = target.named_children(&mut cursor).collect();
                match value {
                    Value::List(items) if items.len() == targets.len() => {
                        for (t, v) in targets.into_iter().zip(items) {
                            self.bind(t, v, scope);
                        }
                    }
                    other => {
                        let lineage = other.lineage();
                        for t in targets {
                            let v = lineage
                                .clone()
                                .map_or(Value::Unknown, |l| Value::frame(Data::opaque(l)));
                            self.bind(t, v, scope);
                        }
                    }
                }
            }
            "attribute" => {
                let name = self.node_text(target).to_string();
                let value = named(value, &name);
                scope.locals.insert(name, value);
            }
            "subscript" => {
                // df["c"] = other["x"]: df's data now also comes from other's.
                let Some(base) = target.field("value") else { return };
                if base.kind() != "identifier" {
                    return;
                }
                let name = self.node_text(base).to_string();
                let key = target
                    .field("subscript")
                    .map(|k| self.eval(k, scope))
                    .and_then(|k| if let Value::Str(s) = k { Some(s) } else { None });
                let updated = match (scope.get(&name).cloned(), key) {
                    (Some(Value::Dict(mut pairs)), Some(key)) => {
                        pairs.retain(|(k, _)| *k != key);
                        pairs.push((key, value));
                        Some(Value::Dict(pairs))
                    }
                    // df["c"] = df["a"] * 2: the column c of df, from a.
                    (Some(Value::Frame(data)), Some(key)) => {
                        Some(Value::frame(data.with_column(&key, &value)))
                    }
                    (Some(Value::Frame(mut data)), None) => {
                        Rc::make_mut(&mut data)
                            .datasets
                            .extend(value.lineage().unwrap_or_default());
                        Some(Value::Frame(data))
                    }
                    _ => None,
                };
                if let Some(updated) = updated {
                    scope.locals.insert(name, updated);
                }
            }
            _ => {}
        }
    }

    // -----------------------------------------------------------------------------------------
    // Other modules of the project

    /// `import a.b` binds `a.b`, `import a.b as c` binds `c`, to the module when the project
    /// has it; either way the module is recorded.
    fn import(&mut self, node: Node<'tree>, scope: &mut Scope) {
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            let (module, alias) = match name.kind() {
                "aliased_import" => (
                    name.field("name").map(|n| self.node_text(n)),
                    name.field("alias").map(|n| self.node_text(n)),
                ),
                _ => (Some(self.node_text(name)), None),
            };
            let Some(module) = module.map(compact) else { continue };
            self.imports.insert(module.clone());
            if let Some((path, _)) = self.settings.python.resolve(self.path, &module) {
                let bound = alias.map_or_else(|| module.clone(), str::to_string);
                scope.locals.insert(bound, Value::Module(path.to_string()));
            }
        }
    }

    /// `from m import n [as a]`: `n` is a module of the project (`m.n`), or a function or a
    /// value of module `m`.
    fn import_from(&mut self, node: Node<'tree>, scope: &mut Scope) {
        let Some(module) = node.field("module_name").map(|m| compact(self.node_text(m))) else {
            return;
        };
        self.imports.insert(module.clone());
        let mut cursor = node.walk();
        let names: Vec<(String, String)> = node
            .children_by_field_name("name", &mut cursor)
            .filter_map(|name| match name.kind() {
                "aliased_import" => Some((
                    self.node_text(name.field("name")?).to_string(),
                    self.node_text(name.field("alias")?).to_string(),
                )),
                _ => Some((self.node_text(name).to_string(), self.node_text(name).to_string())),
            })
            .collect();
        let mut values: Option<ModuleValues> = None;
        for (name, bound) in names {
            let submodule = if module.ends_with('.') {
                format!("{module}{name}")
            } else {
                format!("{module}.{name}")
            };
            // A name may be a module of the package; modules are lower-case by convention
            // (PEP 8), so `from pyspark.sql import SparkSession` records only the package.
            if name.starts_with(|c: char| c.is_lowercase() || c == '_') {
                self.imports.insert(submodule.clone());
            }
            if let Some((path, _)) = self.settings.python.resolve(self.path, &submodule) {
                scope.locals.insert(bound, Value::Module(path.to_string()));
                continue;
            }
            let Some((path, _)) = self.settings.python.resolve(self.path, &module) else {
                continue;
            };
            let path = path.to_string();
            if values.is_none() {
                values = Some(self.module_values(&path));
            }
            let Some((functions, globals)) = &values else { continue };
            if functions.contains(&name) {
                scope.locals.insert(bound, Value::Function(Box::new((path, name))));
            } else if let Some(value) = globals.get(&name) {
                scope.locals.insert(bound, value.clone());
            }
        }
    }

    /// A module's functions and the values its top-level code gives its names (its
    /// `if __name__ == "__main__":` block left out).
    fn module_values(&mut self, path: &str) -> ModuleValues {
        if let Some(values) = self.module_values.get(path) {
            return values.clone();
        }
        let values = self
            .nested(path)
            .and_then(|nested| {
                let tree = super::parse(nested.text)?;
                Some(nested.analyzer(tree.root_node(), |analyzer, root| {
                    let globals = analyzer.module_scope(root);
                    (analyzer.functions.keys().cloned().collect(), globals)
                }))
            })
            .unwrap_or_default();
        self.module_values.insert(path.to_string(), values.clone());
        values
    }

    /// Follows a call of another module's function into that module, with the call's
    /// arguments. What the function reads and writes (and the functions it calls) is the
    /// calling function's: in this file, that is where the data flows.
    fn cross_call(
        &mut self,
        module: &str,
        function: &str,
        arguments: Arguments<'_>,
        line: usize,
        unit: &mut Unit,
    ) -> Value {
        let Some(nested) = self.nested(module) else { return Value::Unknown };
        let Some(tree) = super::parse(nested.text) else { return Value::Unknown };
        let root = tree.root_node();
        let (value, units) = nested.analyzer(root, |analyzer, root| {
            let globals = analyzer.module_scope(root);
            let value = analyzer.summary(function, &globals, Some(arguments));
            (value, std::mem::take(&mut analyzer.units))
        });
        for other in units {
            for read in other.reads {
                if unit.reads.insert(read.clone()) {
                    unit.operations.push(Operation {
                        line,
                        kind: "read".into(),
                        dataset: Some(read),
                        sources: Vec::new(),
                    });
                }
            }
            for op in other.operations.into_iter().filter(|o| o.kind == "write") {
                Self::write(
                    op.dataset.as_deref().unwrap_or_default(),
                    &op.sources.into_iter().collect(),
                    line,
                    unit,
                );
            }
            // The column lineage of what it wrote is the caller's too.
            unit.columns.extend(other.columns);
            unit.indirect.extend(other.indirect);
            for (dataset, columns) in other.outputs {
                record_output(&mut unit.outputs, dataset, columns);
            }
        }
        value
    }

    /// What the analysis of another module of the project needs, unless that module is
    /// already being analyzed on the way here, the chain of modules is too long, or the
    /// file's budget of followed functions is spent.
    fn nested(&self, module: &str) -> Option<Nested<'a>> {
        if self.modules.iter().any(|m| m == module)
            || self.modules.len() > super::project::MAX_IMPORT_DEPTH
            || self.cross_module.get() >= MAX_CROSS_MODULE
        {
            return None;
        }
        self.cross_module.set(self.cross_module.get() + 1);
        let (path, text) = self.settings.python.files.get_key_value(module)?;
        let mut modules = self.modules.clone();
        modules.push(path.clone());
        Some(Nested {
            path: path.as_str(),
            text,
            settings: self.settings,
            modules,
            cross_module: Rc::clone(&self.cross_module),
        })
    }

    /// Runs the module's top-level code for the values it binds; what that code reads and
    /// writes is not kept (it is the module's own analysis's).
    fn module_scope(&mut self, root: Node<'tree>) -> HashMap<String, Value> {
        let module = self.top_level(root);
        self.units.clear();
        self.instances.clear();
        self.summaries.clear();
        module.locals
    }

    /// A configuration file's values, when the project gives its text.
    fn config(&mut self, spec: &Spec<'tree>, source: &Value, line: usize) -> Option<Value> {
        let written = match source {
            Value::File(path) | Value::Str(path) => path.clone(),
            _ => return None,
        };
        self.configs.insert(written.clone());
        let (_, text) = self.settings.python.resolve(self.path, &written)?;
        let parsed = match spec.property("format") {
            Some("yaml") => super::config::yaml(text),
            Some("json") => super::config::json(text),
            Some("toml") => super::config::toml(text),
            _ => None,
        };
        if parsed.is_none() {
            self.diagnostics.push(Diagnostic::info(
                line,
                1,
                format!("configuration `{written}` could not be read: its values stay unknown"),
            ));
        }
        parsed
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    fn eval(&mut self, node: Node<'tree>, scope: &mut Scope) -> Value {
        if self.depth > MAX_DEPTH {
            return Value::Unknown;
        }
        self.depth += 1;
        let value = self.eval_inner(node, scope);
        self.depth -= 1;
        value
    }

    fn eval_inner(&mut self, node: Node<'tree>, scope: &mut Scope) -> Value {
        match node.kind() {
            "string" => self.string(node, scope),
            "concatenated_string" => {
                let mut cursor = node.walk();
                let parts: Vec<Node<'tree>> = node.named_children(&mut cursor).collect();
                let mut text = String::new();
                for part in parts {
                    match self.eval(part, scope) {
                        Value::Str(s) => text.push_str(&s),
                        _ => return Value::Unknown,
                    }
                }
                Value::Str(text)
            }
            "integer" | "float" => Value::Str(self.node_text(node).to_string()),
            "identifier" => {
                let name = self.node_text(node);
                match scope.get(name) {
                    Some(value) => value.clone(),
                    None if self.functions.contains_key(name) => Value::Unknown,
                    None => Value::Dynamic(name.to_string()),
                }
            }
            "attribute" => self.attribute(node, scope),
            "subscript" => self.subscript(node, scope),
            "call" => self.call(node, scope),
            "binary_operator" => {
                // An unknown operand is named after its expression, so that a name built
                // from it says what is missing.
                let mut operand = |field: &str, this: &mut Self| {
                    node.field(field).map(|n| match this.eval(n, scope) {
                        Value::Unknown => Value::Dynamic(this.node_text(n).to_string()),
                        v => v,
                    })
                };
                let left = operand("left", self);
                let right = operand("right", self);
                let operator = node.field("operator").map_or("", |o| self.node_text(o));
                match (left, right) {
                    (Some(l @ Value::Column(_)), Some(r))
                    | (Some(l), Some(r @ Value::Column(_))) => {
                        Expr::combine([&l, &r]).map_or(Value::Unknown, Value::column)
                    }
                    (Some(l), Some(r)) => match operator {
                        "+" => add(l, r),
                        "/" => path_join(&[l, r]),
                        "%" => percent_format(l, r),
                        _ => union_or_unknown(&[l, r]),
                    },
                    _ => Value::Unknown,
                }
            }
            "parenthesized_expression" | "keyword_argument" | "await" => {
                let inner = node.field("value").or_else(|| node.named_child(0));
                inner.map_or(Value::Unknown, |n| self.eval(n, scope))
            }
            "list" | "tuple" | "set" | "expression_list" => {
                let mut cursor = node.walk();
                let children: Vec<Node<'tree>> = node.named_children(&mut cursor).collect();
                Value::List(children.into_iter().map(|c| self.eval(c, scope)).collect())
            }
            "dictionary" => {
                let mut cursor = node.walk();
                let children: Vec<Node<'tree>> = node.named_children(&mut cursor).collect();
                let mut pairs = Vec::new();
                for pair in children {
                    let (Some(k), Some(v)) = (pair.field("key"), pair.field("value")) else {
                        self.eval(pair, scope);
                        continue;
                    };
                    let key = self.eval(k, scope);
                    let value = self.eval(v, scope);
                    if let Value::Str(key) = key {
                        pairs.push((key, value));
                    }
                }
                Value::Dict(pairs)
            }
            "conditional_expression" => {
                let mut cursor = node.walk();
                let children: Vec<Node<'tree>> = node.named_children(&mut cursor).collect();
                let values: Vec<Value> =
                    children.into_iter().map(|c| self.eval(c, scope)).collect();
                match values.as_slice() {
                    [body, _, alternative] => merge(body.clone(), alternative.clone(), ""),
                    _ => Value::Unknown,
                }
            }
            "true" | "false" | "none" | "comment" | "ellipsis" | "lambda" => Value::Unknown,
            _ => {
                // Comprehensions, comparisons, boolean operators, ERROR nodes …: their calls
                // still run, and DataFrames in them still carry lineage.
                let mut cursor = node.walk();
                let children: Vec<Node<'tree>> = node.named_children(&mut cursor).collect();
                let values: Vec<Value> =
                    children.into_iter().map(|c| self.eval(c, scope)).collect();
                union_or_unknown(&values)
            }
        }
    }

    fn string(&mut self, node: Node<'tree>, scope: &mut Scope) -> Value {
        let mut raw = false;
        let mut text = String::new();
        let mut cursor = node.walk();
        let children: Vec<Node<'tree>> = node.children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                "string_start" => {
                    let prefix = self.node_text(child).to_ascii_lowercase();
                    raw = prefix.contains('r');
                    if prefix.contains('b') {
                        return Value::Unknown;
                    }
                }
                "string_content" => {
                    let content = self.node_text(child);
                    if raw {
                        text.push_str(content);
                    } else {
                        unescape_into(content, &mut text);
                    }
                }
                "interpolation" => {
                    let Some(expr) = child.field("expression") else {
                        return Value::Unknown;
                    };
                    let value = self.eval(expr, scope);
                    let fallback = self.node_text(expr).to_string();
                    match value.text(&fallback) {
                        Some(part) => text.push_str(&part),
                        None => text.push_str(&placeholder(&fallback)),
                    }
                }
                _ => {}
            }
        }
        Value::Str(text)
    }

    fn attribute(&mut self, node: Node<'tree>, scope: &mut Scope) -> Value {
        let full = self.node_text(node);
        if let Some(value) = scope.get(full) {
            return value.clone();
        }
        let object = node.field("object").map(|o| self.eval(o, scope));
        let mut keep = false;
        for spec in &self.specs_of(node) {
            match spec.role {
                Role::Reader => return Value::Reader,
                Role::Writer => {
                    if let Some(data) = object.as_ref().and_then(Value::data) {
                        return Value::Writer(Rc::new(data));
                    }
                    return Value::Writer(Rc::default());
                }
                Role::Frame => keep = true,
                _ => {}
            }
        }
        if let Some(Value::Module(module)) = &object
            && let Some(name) = node.field("attribute").map(|a| self.node_text(a))
        {
            let (functions, globals) = self.module_values(module);
            if functions.contains(name) {
                return Value::Function(Box::new((module.clone(), name.to_string())));
            }
            return globals.get(name).cloned().unwrap_or(Value::Unknown);
        }
        match object {
            // df.na, df.loc: the DataFrame; df.x: its column x.
            Some(Value::Frame(d)) if keep => Value::Frame(d),
            Some(Value::Frame(d)) => match node.field("attribute") {
                Some(a) => Value::column(Expr::of(&d, self.node_text(a))),
                None => Value::Frame(d),
            },
            Some(Value::Column(e)) => Value::column(Expr { name: None, ..(*e).clone() }),
            Some(v @ (Value::Reader | Value::Writer(_) | Value::Table(_))) => v,
            Some(Value::Dynamic(_) | Value::Unknown) | None => Value::Dynamic(full.to_string()),
            Some(_) => Value::Unknown,
        }
    }

    fn subscript(&mut self, node: Node<'tree>, scope: &mut Scope) -> Value {
        let base = node.field("value").map(|v| self.eval(v, scope));
        // `df.loc[rows, columns]` has two subscripts: a tuple of them.
        let mut cursor = node.walk();
        let keys: Vec<Node<'tree>> =
            node.children_by_field_name("subscript", &mut cursor).collect();
        let key = match keys.as_slice() {
            [] => None,
            [one] => Some(self.eval(*one, scope)),
            several => Some(Value::List(several.iter().map(|k| self.eval(*k, scope)).collect())),
        };
        match (base, key) {
            (Some(Value::Dict(pairs)), Some(Value::Str(key))) => {
                pairs.into_iter().find(|(k, _)| *k == key).map_or(Value::Unknown, |(_, v)| v)
            }
            (Some(Value::List(items)), Some(Value::Str(index))) => index
                .parse::<usize>()
                .ok()
                .and_then(|i| items.into_iter().nth(i))
                .unwrap_or(Value::Unknown),
            (Some(Value::Frame(d)), Some(key)) => frame_subscript(&d, &key),
            (Some(Value::Frame(d)), None) => Value::Frame(d),
            (Some(Value::Column(e)), _) => Value::column(Expr { name: None, ..(*e).clone() }),
            (Some(Value::Dynamic(_)) | None, _) => Value::Dynamic(self.node_text(node).to_string()),
            _ => Value::Unknown,
        }
    }

    fn call(&mut self, node: Node<'tree>, scope: &mut Scope) -> Value {
        let function = node.field("function");
        // The receiver of a method call, evaluated once.
        let (receiver, method) = match function {
            Some(f) if f.kind() == "attribute" => {
                let receiver = f.field("object").map(|o| self.eval(o, scope));
                let method = f.field("attribute").map(|a| self.node_text(a));
                (receiver, method)
            }
            _ => (None, None),
        };
        // Arguments, evaluated once; patterns find them by node.
        let mut evaluated: HashMap<usize, Value> = HashMap::new();
        let mut positional: Vec<Value> = Vec::new();
        let mut positional_text: Vec<&'a str> = Vec::new();
        let mut keywords: Vec<(String, Value)> = Vec::new();
        if let Some(arguments) = node.field("arguments") {
            let mut cursor = arguments.walk();
            let children: Vec<Node<'tree>> = arguments.named_children(&mut cursor).collect();
            for arg in children {
                if arg.kind() == "keyword_argument" {
                    let (Some(name), Some(value_node)) = (arg.field("name"), arg.field("value"))
                    else {
                        continue;
                    };
                    let value = self.eval(value_node, scope);
                    evaluated.insert(value_node.id(), value.clone());
                    evaluated.insert(arg.id(), value.clone());
                    keywords.push((self.node_text(name).to_string(), value));
                } else if arg.kind() == "comment" {
                } else {
                    let value = self.eval(arg, scope);
                    evaluated.insert(arg.id(), value.clone());
                    positional.push(value);
                    positional_text.push(self.node_text(arg));
                }
            }
        }
        let line = line_of(node);

        // A call of one of the file's own functions: its return value.
        if let Some(f) = function
            && f.kind() == "identifier"
        {
            let name = self.node_text(f);
            if self.functions.contains_key(name) {
                let globals = if scope.unit.name == "<module>" {
                    scope.locals.clone()
                } else {
                    scope.globals.clone()
                };
                let name = name.to_string();
                return self.summary(&name, &globals, Some((&positional, &keywords)));
            }
        }
        // A call of another module's function: `extract_data(…)` imported by name, or
        // `load.load_data(…)` through the module.
        let imported = match (function, &receiver, method) {
            (Some(f), _, _) if f.kind() == "identifier" => match scope.get(self.node_text(f)) {
                Some(Value::Function(f)) => Some((**f).clone()),
                _ => None,
            },
            (_, Some(Value::Module(module)), Some(name)) => {
                Some((module.clone(), name.to_string()))
            }
            _ => None,
        };
        if let Some((module, name)) = imported {
            return self.cross_call(
                &module,
                &name,
                (&positional, &keywords),
                line,
                &mut scope.unit,
            );
        }

        // The method's name, or the function's when it is called bare (`col("x")`).
        let callee = method
            .or_else(|| function.filter(|f| f.kind() == "identifier").map(|f| self.node_text(f)));
        let mut result: Option<Value> = None;
        let mut operation: Option<&'static str> = None;
        let specs: Vec<Spec<'tree>> = self.specs_of(node);
        // An Airflow task's call: what it runs goes to the task, not to the enclosing code.
        let outer = self.tasks.get(&node.id()).map(|task| {
            let unit = Unit { name: task.clone(), line, ..Unit::default() };
            std::mem::replace(&mut scope.unit, unit)
        });
        for spec in &specs {
            if let Some(kind) = spec.property("receiver") {
                let fits = matches!(
                    (kind, &receiver),
                    ("reader", Some(Value::Reader))
                        | ("writer", Some(Value::Writer(_)))
                        | ("table", Some(Value::Table(_)))
                        | ("frame", Some(Value::Frame(_)))
                        | ("column", Some(Value::Column(_)))
                );
                if !fits {
                    continue;
                }
            }
            match spec.role {
                Role::Pass => {
                    if let Some(v) = spec.capture("value") {
                        result = Some(self.value_of(v, &evaluated, scope));
                    }
                }
                Role::Table => {
                    if let Some(name) = self.names(spec, &evaluated, scope, line).into_iter().next()
                    {
                        result = Some(Value::Table(name));
                    }
                }
                Role::Read => {
                    let names = self.names(spec, &evaluated, scope, line);
                    let mut read: Option<Data> = None;
                    for name in names {
                        let lineage = self.read(&name, line, &mut scope.unit);
                        let data = if let Some(view) = self.views.get(&normalize_dotted(&name)) {
                            view.clone()
                        } else if lineage.len() == 1 && lineage.contains(&name) {
                            Data::read(&name, self.settings.catalog.columns(&name))
                        } else {
                            Data::opaque(lineage)
                        };
                        read = Some(match read {
                            Some(r) => r.union(&data, true),
                            None => data,
                        });
                    }
                    let mut read = read.unwrap_or_default();
                    // usecols=["a", "b"]: only those columns.
                    if let Some(c) = spec.capture("columns") {
                        let mut selected = Vec::new();
                        columns::items(&self.value_of(c, &evaluated, scope), "", &mut selected);
                        read = read.select(&selected);
                    }
                    result = Some(with_reads(result.take(), read));
                }
                Role::Sql => {
                    if let Some(q) = spec.capture("query") {
                        let query = self.value_of(q, &evaluated, scope);
                        let data = self.sql_data(spec, &query, q, &mut scope.unit);
                        result = Some(with_reads(result.take(), data));
                    }
                }
                Role::Write => {
                    let written = match spec.capture("data") {
                        Some(d) => self.value_of(d, &evaluated, scope).data(),
                        None => receiver.as_ref().and_then(Value::data),
                    };
                    let data = written.as_ref().map(|d| d.datasets.clone()).unwrap_or_default();
                    let mut names = self.names(spec, &evaluated, scope, line);
                    if names.is_empty()
                        && spec.capture("name").is_none()
                        && spec.capture("options").is_none()
                        && let Some(Value::Table(table)) = &receiver
                    {
                        names.push(table.clone());
                    }
                    for name in names {
                        Self::write(&name, &data, line, &mut scope.unit);
                        if let Some(written) = &written {
                            record_columns(&mut scope.unit, &name, written);
                        }
                    }
                    if result.is_none() {
                        result.clone_from(&receiver);
                    }
                }
                Role::View => {
                    let data = match spec.capture("data") {
                        Some(d) => self.value_of(d, &evaluated, scope).data(),
                        None => receiver.as_ref().and_then(Value::data),
                    }
                    .unwrap_or_default();
                    if let Some(Value::Str(name)) =
                        spec.capture("name").map(|n| self.value_of(n, &evaluated, scope))
                    {
                        self.views.insert(normalize_dotted(&name), data);
                    }
                }
                Role::Op => operation = spec.property("operation"),
                Role::Open => {
                    if let Some(Value::Str(path)) =
                        spec.capture("name").map(|n| self.value_of(n, &evaluated, scope))
                    {
                        result = Some(Value::File(path));
                    }
                }
                Role::Config => {
                    if let Some(source) =
                        spec.capture("source").map(|n| self.value_of(n, &evaluated, scope))
                        && let Some(values) = self.config(spec, &source, line)
                    {
                        result = Some(values);
                    }
                }
                Role::Frame => {
                    if let Some(value) = columns::frame_effect(
                        spec,
                        callee,
                        receiver.as_ref(),
                        &positional,
                        &positional_text,
                        &keywords,
                    ) {
                        result = Some(value);
                    }
                }
                Role::Column => {
                    if let Some(value) =
                        columns::column_effect(spec, callee, receiver.as_ref(), &positional)
                    {
                        result = Some(value);
                    }
                }
                Role::Reader | Role::Writer => {}
            }
        }
        if let Some(outer) = outer {
            let task = std::mem::replace(&mut scope.unit, outer);
            self.units.push(task);
        }

        let value = result.unwrap_or_else(|| {
            self.default_call(function, receiver.as_ref(), method, &positional, &keywords)
        });
        if let (Some(kind), Value::Frame(_)) = (operation, &value)
            // groupBy(…).agg(…) on one line is one aggregation.
            && !scope.unit.operations.last().is_some_and(|o| o.line == line && o.kind == kind)
        {
            scope.unit.operations.push(Operation {
                line,
                kind: kind.to_string(),
                dataset: None,
                sources: Vec::new(),
            });
        }
        value
    }

    /// What a call no pattern describes returns: builders stay builders, string helpers
    /// compute their string, and otherwise the data of every DataFrame that goes in comes
    /// out (joins, unions, `pd.concat`, user functions of other modules).
    fn default_call(
        &self,
        function: Option<Node<'tree>>,
        receiver: Option<&Value>,
        method: Option<&str>,
        positional: &[Value],
        keywords: &[(String, Value)],
    ) -> Value {
        let function_text = function.map_or("", |f| self.node_text(f));
        match receiver {
            Some(Value::Reader) => return Value::Reader,
            Some(Value::Writer(l)) => return Value::Writer(l.clone()),
            Some(Value::Table(t)) => return Value::Table(t.clone()),
            _ => {}
        }
        if function_text.ends_with("path.join") || method == Some("joinpath") {
            let mut parts: Vec<Value> = Vec::new();
            if method == Some("joinpath")
                && let Some(r) = receiver
            {
                parts.push(r.clone());
            }
            parts.extend(positional.iter().cloned());
            return path_join(&parts);
        }
        if matches!(function_text, "Path" | "pathlib.Path" | "PurePath" | "PosixPath")
            && !positional.is_empty()
        {
            return path_join(positional);
        }
        if let (Some(Value::Str(template)), Some("format")) = (receiver, method) {
            return str_format(template, positional, keywords);
        }
        if let (Some(Value::Dict(pairs)), Some("get")) = (receiver, method)
            && let Some(Value::Str(key)) = positional.first()
        {
            return pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .or_else(|| positional.get(1).cloned())
                .unwrap_or(Value::Unknown);
        }
        let mut all: Vec<Value> = Vec::with_capacity(positional.len() + keywords.len() + 1);
        if let Some(r) = receiver {
            all.push(r.clone());
        }
        all.extend(positional.iter().cloned());
        all.extend(keywords.iter().map(|(_, v)| v.clone()));
        union_or_unknown(&all)
    }

    /// The value of a captured node: the argument already evaluated, or evaluated now.
    fn value_of(
        &mut self,
        node: Node<'tree>,
        evaluated: &HashMap<usize, Value>,
        scope: &mut Scope,
    ) -> Value {
        match evaluated.get(&node.id()) {
            Some(v) => v.clone(),
            None => self.eval(node, scope),
        }
    }

    /// The dataset names a read or write spec gives.
    fn names(
        &mut self,
        spec: &Spec<'tree>,
        evaluated: &HashMap<usize, Value>,
        scope: &mut Scope,
        line: usize,
    ) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut namespace: Option<String> = None;
        if let Some(template) = spec.property("template") {
            let mut text = template.to_string();
            for &(capture, node) in &spec.captures {
                let pattern = format!("{{{capture}}}");
                if text.contains(&pattern) {
                    let value = self.value_of(node, evaluated, scope);
                    let part = value.text(self.node_text(node)).unwrap_or_default();
                    text = text.replace(&pattern, &part);
                }
            }
            if !text.contains('{') {
                names.push(text);
            }
        }
        if let Some(node) = spec.capture("name") {
            let value = self.value_of(node, evaluated, scope);
            names.extend(texts(&value, self.node_text(node)));
        }
        if let Some(node) = spec.capture("namespace") {
            let value = self.value_of(node, evaluated, scope);
            namespace = texts(&value, self.node_text(node)).into_iter().next();
        }
        if let Some(node) = spec.capture("options")
            && let Value::Dict(pairs) = self.value_of(node, evaluated, scope)
        {
            let lookup = |keys: &str| -> Option<&Value> {
                keys.split_whitespace().find_map(|key| {
                    pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
                })
            };
            if let Some(value) = spec.property("keys").and_then(lookup) {
                names.extend(texts(value, "option"));
            }
            if let Some(value) = spec.property("namespace_keys").and_then(lookup) {
                namespace = texts(value, "option").into_iter().next();
            }
        }
        if let Some(namespace) = namespace {
            names = names.into_iter().map(|n| format!("{namespace}.{n}")).collect();
        }
        names.retain(|n| !n.trim().is_empty());
        for name in &names {
            if name.contains("<dynamic:") {
                self.diagnostics.push(Diagnostic::info(
                    line,
                    1,
                    format!("`{name}`: part of this dataset name is known only at run time"),
                ));
            }
        }
        names
    }

    /// Records a read of `name` (or, for a temporary view, of what the view stands for).
    fn read(&mut self, name: &str, line: usize, unit: &mut Unit) -> Lineage {
        if let Some(view) = self.views.get(&normalize_dotted(name)) {
            return view.datasets.clone();
        }
        unit.reads.insert(name.to_string());
        unit.operations.push(Operation {
            line,
            kind: "read".into(),
            dataset: Some(name.to_string()),
            sources: Vec::new(),
        });
        std::iter::once(name.to_string()).collect()
    }

    fn write(name: &str, data: &Lineage, line: usize, unit: &mut Unit) {
        unit.writes.insert(name.to_string());
        // The data written comes from these reads: they are the transformation's inputs
        // even when the read happened in another function.
        unit.reads.extend(data.iter().filter(|d| *d != name).cloned());
        unit.operations.push(Operation {
            line,
            kind: "write".into(),
            dataset: Some(name.to_string()),
            sources: data.iter().cloned().collect(),
        });
    }

    /// Embedded SQL through the SQL extractor; returns the DataFrame of its last query
    /// (the datasets every statement reads), and adds the column lineage of its writes.
    fn sql_data(
        &mut self,
        spec: &Spec<'tree>,
        query: &Value,
        node: Node<'tree>,
        unit: &mut Unit,
    ) -> Data {
        let line = line_of(node);
        let text = match query {
            Value::Str(text) => text.clone(),
            Value::Dynamic(_) | Value::Unknown => {
                self.diagnostics.push(Diagnostic::info(
                    line,
                    1,
                    format!(
                        "SQL text `{}` is known only at run time: its lineage is not extracted",
                        self.node_text(node)
                    ),
                ));
                return Data::default();
            }
            // Airflow's `sql=[…]`: statements or files, run in turn.
            Value::List(items) => {
                let mut all = Data::default();
                for item in items {
                    all = all.merge(&self.sql_data(spec, item, node, unit));
                }
                return all;
            }
            _ => return Data::default(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Data::default();
        }
        let one_word = !trimmed.contains(char::is_whitespace);
        if one_word && trimmed.to_ascii_lowercase().ends_with(".sql") {
            self.diagnostics.push(Diagnostic::info(
                line,
                1,
                format!("SQL file `{trimmed}`: analyzed as a file of its own, not from here"),
            ));
            unit.operations.push(super::airflow::sql_file(line, trimmed));
            return Data::default();
        }
        if one_word && spec.property("table_if_one_word").is_some() {
            return Data::opaque(self.read(trimmed, line, unit));
        }
        if one_word {
            return Data::default();
        }
        // Placeholders become identifiers the SQL parser accepts, and back in the names.
        let text = super::airflow::jinja_placeholders(&text);
        let (text, placeholders) = sql_safe(&bind_parameters(&text));
        let dialect = match (self.settings.dialect, spec.property("dialect")) {
            (Dialect::Generic, Some(name)) => name.parse().unwrap_or(Dialect::Generic),
            (configured, _) => configured,
        };
        let options = sql::SqlOptions {
            dialect,
            indirect: self.settings.indirect,
            default_schema: self.settings.default_schema.clone(),
            catalog: Some(&self.settings.catalog),
        };
        let (statements, diagnostics) = sql::analyze(&text, &options);
        // A string's own lines start on the line of its opening quote.
        let shift = line.saturating_sub(1);
        self.diagnostics.extend(diagnostics.into_iter().map(|d| {
            let mut d = d.shifted(shift);
            // SQL with run-time parts often parses only once they are filled in: what the
            // fallback recovered is all there is to know, not an error in the code.
            if !placeholders.is_empty() && d.severity == crate::diagnostic::Severity::Error {
                d.severity = crate::diagnostic::Severity::Warning;
                d.message = format!("SQL built from run-time values: {}", d.message);
            }
            d
        }));
        let mut all = Lineage::new();
        let mut result: Option<Data> = None;
        for statement in statements {
            let statement_line = statement.line + shift;
            let mut reads = Lineage::new();
            for read in &statement.reads {
                let read = restore(read, &placeholders);
                reads.extend(self.read(&read, statement_line, unit));
            }
            unit.operations.push(Operation {
                line: statement_line,
                kind: "sql".into(),
                dataset: None,
                sources: Vec::new(),
            });
            // The columns that decided a temporary view's rows decide the rows read from it.
            let decided: BTreeSet<(String, IndirectKind)> = statement
                .reads
                .iter()
                .filter_map(|r| self.views.get(&normalize_dotted(&restore(r, &placeholders))))
                .flat_map(|view| view.indirect.iter().cloned())
                .collect();
            for write in &statement.writes {
                let write = restore(write, &placeholders);
                Self::write(&write, &reads, statement_line, unit);
                self.sql_columns(&statement, &placeholders, &write, unit);
                unit.indirect.extend(decided.iter().map(|(source, kind)| IndirectEdge {
                    source: source.clone(),
                    target: write.clone(),
                    kind: *kind,
                }));
            }
            if statement.writes.is_empty() {
                let mut data = self.sql_result(&statement, &placeholders, &reads);
                data.indirect.extend(decided);
                result = Some(data);
            }
            all.extend(reads);
        }
        let mut data = result.unwrap_or_else(|| Data::opaque(Lineage::new()));
        data.datasets.extend(all.iter().cloned());
        if let Some(rest) = &mut data.rest {
            rest.extend(all);
        }
        data
    }

    /// Where a column the SQL names comes from: through a temporary view, the columns of
    /// the DataFrame it stands for.
    fn sql_source(&self, dataset: Option<&str>, column: &str, placeholders: &[String]) -> Sources {
        let Some(dataset) = dataset else { return std::iter::once(column.to_string()).collect() };
        let dataset = restore(dataset, placeholders);
        match self.views.get(&normalize_dotted(&dataset)) {
            Some(view) if column == "*" => {
                let mut all: Sources =
                    view.named.iter().flat_map(|(_, s)| s.iter().cloned()).collect();
                all.extend(view.rest.iter().flatten().map(|d| format!("{d}.*")));
                all
            }
            Some(view) => view.resolve(column),
            None => std::iter::once(format!("{dataset}.{column}")).collect(),
        }
    }

    /// The column lineage of an SQL statement that writes `write`.
    fn sql_columns(
        &self,
        statement: &sql::StatementLineage,
        placeholders: &[String],
        write: &str,
        unit: &mut Unit,
    ) {
        for (source, target) in &statement.columns {
            let target = restore(target, placeholders);
            for s in self.sql_source(source.dataset.as_deref(), &source.column, placeholders) {
                unit.columns.insert(ColumnEdge { source: s, target: target.clone() });
            }
        }
        for (source, target, kind) in &statement.indirect {
            let target = restore(target, placeholders);
            for s in self.sql_source(source.dataset.as_deref(), &source.column, placeholders) {
                unit.indirect.insert(IndirectEdge {
                    source: s,
                    target: target.clone(),
                    kind: *kind,
                });
            }
        }
        let output =
            (!statement.output_columns.is_empty()).then(|| statement.output_columns.clone());
        record_output(&mut unit.outputs, write.to_string(), output);
    }

    /// The DataFrame of an SQL query's result: its columns when the SQL says them all.
    fn sql_result(
        &self,
        statement: &sql::StatementLineage,
        placeholders: &[String],
        reads: &Lineage,
    ) -> Data {
        if statement.output_columns.is_empty() {
            return Data::opaque(reads.clone());
        }
        let mut data = Data { datasets: reads.clone(), ..Data::default() };
        for name in &statement.output_columns {
            let mut sources = Sources::new();
            for (source, target) in &statement.columns {
                if target == name {
                    sources.extend(self.sql_source(
                        source.dataset.as_deref(),
                        &source.column,
                        placeholders,
                    ));
                }
            }
            data.named.push((name.clone(), sources));
        }
        for (source, target, kind) in &statement.indirect {
            if target.is_empty() && !kind.is_column_level() {
                for s in self.sql_source(source.dataset.as_deref(), &source.column, placeholders) {
                    data.indirect.insert((s, *kind));
                }
            }
        }
        data
    }

    fn specs_of(&mut self, node: Node<'tree>) -> Vec<Spec<'tree>> {
        self.matcher.specs(node, self.text).to_vec()
    }

    fn node_text(&self, node: Node<'tree>) -> &'a str {
        self.text.get(node.byte_range()).unwrap_or("")
    }
}

/// What the analysis of another module of the project starts from (see `Analyzer::nested`).
struct Nested<'a> {
    path: &'a str,
    text: &'a str,
    settings: &'a Settings,
    modules: Vec<String>,
    cross_module: Rc<Cell<usize>>,
}

impl<'a> Nested<'a> {
    fn analyzer<'tree, T>(
        self,
        root: Node<'tree>,
        run: impl FnOnce(&mut Analyzer<'a, 'tree>, Node<'tree>) -> T,
    ) -> T {
        let mut analyzer = Analyzer::new(self.path, self.text, self.settings);
        analyzer.modules = self.modules;
        analyzer.cross_module = self.cross_module;
        run(&mut analyzer, root)
    }
}

/// Whether `text` calls `name(…)` as a plain function (not a method, not its definition).
fn calls_by_name(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = &text[..i];
        let plain = !before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let called = text[i + name.len()..].trim_start().starts_with('(');
        plain && called && !before.trim_end().ends_with("def")
    })
}

/// A module name as written, without the spaces `from . import x` may hold.
fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `__name__ == "__main__"` (either quotes, either side).
fn is_main_guard(condition: &str) -> bool {
    let text = compact(condition).replace('\'', "\"");
    text == "__name__==\"__main__\"" || text == "\"__main__\"==__name__"
}

/// `df["x"]` (the column x), `df[["a", "b"]]` (those columns), `df[df["x"] > 0]` (the rows
/// the condition keeps), `df.loc[condition, columns]`.
fn frame_subscript(data: &Rc<Data>, key: &Value) -> Value {
    match key {
        Value::Str(name) if data.keys.is_some() => {
            // grouped["v"]: the keys and v.
            let mut out = data.select(&[Item::Expr(Expr::named(name), name.clone())]);
            out.keys.clone_from(&data.keys);
            Value::frame(out)
        }
        Value::Str(name) => Value::column(Expr::of(data, name)),
        Value::Column(condition) => Value::frame(data.decided(condition, IndirectKind::Filter)),
        Value::List(items) => match items.as_slice() {
            [Value::Column(condition), columns] => {
                let filtered = data.decided(condition, IndirectKind::Filter);
                match columns {
                    Value::Str(_) | Value::List(_) => {
                        let mut selected = Vec::new();
                        columns::items(columns, "", &mut selected);
                        Value::frame(filtered.select(&selected))
                    }
                    _ => Value::frame(filtered),
                }
            }
            _ if items.iter().all(|v| matches!(v, Value::Str(_))) => {
                let mut selected = Vec::new();
                columns::items(key, "", &mut selected);
                let mut out = data.select(&selected);
                out.keys.clone_from(&data.keys);
                Value::frame(out)
            }
            _ => Value::Frame(Rc::clone(data)),
        },
        _ => Value::Frame(Rc::clone(data)),
    }
}

/// SQL text with each `<dynamic:name>` replaced by an identifier `__dynamic_N__`, and the
/// placeholders by N.
fn sql_safe(text: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut placeholders = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<dynamic:") {
        let Some(len) = rest[start..].find('>') else { break };
        out.push_str(&rest[..start]);
        let _ = write!(out, "__dynamic_{}__", placeholders.len());
        placeholders.push(rest[start..=start + len].to_string());
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    (out, placeholders)
}

/// DB-API parameter markers (`%s`, `%(name)s`) as the `?` SQL parsers know; `%%` is `%`.
fn bind_parameters(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('s' | 'd') => {
                chars.next();
                out.push('?');
            }
            Some('%') => {
                chars.next();
                out.push('%');
            }
            Some('(') => {
                let rest: String = chars.clone().take_while(|&c| c != ')').collect();
                let mut lookahead = chars.clone().skip(rest.len() + 1);
                if lookahead.next() == Some('s')
                    && rest.chars().skip(1).all(|c| c.is_alphanumeric() || c == '_')
                {
                    for _ in 0..rest.len() + 2 {
                        chars.next();
                    }
                    out.push('?');
                } else {
                    out.push('%');
                }
            }
            _ => out.push('%'),
        }
    }
    out
}

/// A name from SQL made by [`sql_safe`], with its placeholders back.
fn restore(name: &str, placeholders: &[String]) -> String {
    let mut name = name.to_string();
    for (i, placeholder) in placeholders.iter().enumerate().rev() {
        name = name.replace(&format!("__dynamic_{i}__"), placeholder);
    }
    name
}

fn line_of(node: Node<'_>) -> usize {
    node.start_position().row + 1
}

fn first_identifier(node: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).find(|c| c.kind() == "identifier")
}

/// The names a value gives: one per string of a list.
fn texts(value: &Value, fallback: &str) -> Vec<String> {
    match value {
        Value::List(items) => items.iter().filter_map(|v| v.text(fallback)).collect(),
        other => other.text(fallback).into_iter().collect(),
    }
}

/// A value bound to a variable: what cannot be known is named after the variable.
fn named(value: Value, variable: &str) -> Value {
    match value {
        Value::Unknown => Value::Dynamic(variable.to_string()),
        Value::Dynamic(name) if !is_identifier(&name) => Value::Dynamic(variable.to_string()),
        other => other,
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Two values a variable may hold after different branches.
#[allow(clippy::needless_pass_by_value)] // callers hand over values they no longer need
fn merge(a: Value, b: Value, variable: &str) -> Value {
    if a == b {
        return a;
    }
    if let (Value::Column(_), Value::Column(_)) = (&a, &b) {
        return Expr::combine([&a, &b]).map_or(Value::Unknown, Value::column);
    }
    match (a.data(), b.data()) {
        (Some(x), Some(y)) => Value::frame(x.merge(&y)),
        (Some(x), None) | (None, Some(x)) => Value::frame(x),
        (None, None) if variable.is_empty() => Value::Unknown,
        (None, None) => Value::Dynamic(variable.to_string()),
    }
}

fn merge_envs(branches: Vec<HashMap<String, Value>>) -> HashMap<String, Value> {
    let mut iter = branches.into_iter();
    let Some(mut merged) = iter.next() else { return HashMap::new() };
    for branch in iter {
        let keys: BTreeSet<String> = merged.keys().chain(branch.keys()).cloned().collect();
        for key in keys {
            let value = match (merged.remove(&key), branch.get(&key)) {
                (Some(a), Some(b)) => merge(a, b.clone(), &key),
                (Some(a), None) => merge(a, Value::Unknown, &key),
                (None, Some(b)) => merge(Value::Unknown, b.clone(), &key),
                (None, None) => continue,
            };
            merged.insert(key, value);
        }
    }
    merged
}

fn add(left: Value, right: Value) -> Value {
    match (&left, &right) {
        (Value::Str(a), Value::Str(b)) => Value::Str(format!("{a}{b}")),
        (Value::Str(_) | Value::Dynamic(_), Value::Str(_) | Value::Dynamic(_)) => {
            let a = left.text("").unwrap_or_default();
            let b = right.text("").unwrap_or_default();
            Value::Str(format!("{a}{b}"))
        }
        (Value::List(a), Value::List(b)) => Value::List(a.iter().chain(b).cloned().collect()),
        _ => union_or_unknown(&[left, right]),
    }
}

/// `os.path.join` / `pathlib`'s `/` over constant parts; an absolute part starts over.
fn path_join(parts: &[Value]) -> Value {
    let mut path = String::new();
    for part in parts {
        let Some(text) = (match part {
            Value::Str(_) | Value::Dynamic(_) => part.text(""),
            _ => None,
        }) else {
            return union_or_unknown(parts);
        };
        if text.starts_with('/') || path.is_empty() {
            path = text;
        } else {
            if !path.ends_with('/') {
                path.push('/');
            }
            path.push_str(&text);
        }
    }
    Value::Str(path)
}

/// `"… %s …" % value` / `% (a, b)` with `%s`, `%d`, `%r` and `%%`.
fn percent_format(template: Value, args: Value) -> Value {
    let Value::Str(template) = template else { return union_or_unknown(&[template, args]) };
    let args: Vec<Value> = match args {
        Value::List(items) => items,
        other => vec![other],
    };
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s' | 'd' | 'r' | 'i' | 'f') => match next.next().and_then(|v| v.text("")) {
                Some(text) => out.push_str(&text),
                None => return Value::Unknown,
            },
            _ => return Value::Unknown,
        }
    }
    Value::Str(out)
}

/// `"…{}…{name}…".format(a, name=b)`.
fn str_format(template: &str, positional: &[Value], keywords: &[(String, Value)]) -> Value {
    let mut out = String::new();
    let mut auto = 0usize;
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        // A lone `}` is an error in Python: the string is not a template we can fill.
        if tail.starts_with('}') {
            return Value::Unknown;
        }
        let Some(close) = tail.find('}') else { return Value::Unknown };
        let field = tail.get(1..close).unwrap_or("").split([':', '!']).next().unwrap_or("");
        let value = if field.is_empty() {
            auto += 1;
            positional.get(auto - 1)
        } else if let Ok(i) = field.parse::<usize>() {
            positional.get(i)
        } else {
            keywords.iter().find(|(k, _)| k == field).map(|(_, v)| v)
        };
        match value.and_then(|v| v.text(field)) {
            Some(text) => out.push_str(&text),
            None => out.push_str(&placeholder(field)),
        }
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    Value::Str(out)
}

/// The data of every DataFrame among `values` (through code we cannot see, so its columns
/// are unknown), or the columns of column expressions combined (`x > 0`, `a & b`), or
/// unknown when none carries data.
fn union_or_unknown(values: &[Value]) -> Value {
    let frames: Vec<Data> =
        values.iter().filter(|v| !matches!(v, Value::Column(_))).filter_map(Value::data).collect();
    if frames.is_empty() {
        return Expr::combine(values).map_or(Value::Unknown, Value::column);
    }
    let mut through = Data::through(&frames.iter().collect::<Vec<_>>());
    for value in values {
        if let Some(l) = value.lineage() {
            through.datasets.extend(l.iter().cloned());
            through.rest.get_or_insert_with(Lineage::new).extend(l);
        }
    }
    Value::frame(through)
}

/// The column lineage of writing `data` to `dataset`.
fn record_columns(unit: &mut Unit, dataset: &str, data: &Data) {
    let (columns, indirect, output) = data.written(dataset);
    unit.columns.extend(columns);
    unit.indirect.extend(indirect);
    record_output(&mut unit.outputs, dataset.to_string(), output);
}

/// A dataset written once more: its columns are known if every write knows the same.
pub(super) fn record_output(
    outputs: &mut HashMap<String, Option<Vec<String>>>,
    dataset: String,
    output: Option<Vec<String>>,
) {
    match outputs.get_mut(&dataset) {
        Some(known) if *known != output => *known = None,
        Some(_) => {}
        None => {
            outputs.insert(dataset, output);
        }
    }
}

/// Python's common backslash escapes; others are kept as written.
fn unescape_into(content: &str, out: &mut String) {
    let mut chars = content.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_and_format_fill_constants() {
        let v = percent_format(Value::Str("select * from %s".into()), Value::Str("t".into()));
        assert_eq!(v, Value::Str("select * from t".into()));
        let v = str_format(
            "s3://{}/{key}",
            &[Value::Str("b".into())],
            &[("key".into(), Value::Dynamic("k".into()))],
        );
        assert_eq!(v, Value::Str("s3://b/<dynamic:k>".into()));
        // Found in the standard library: a stray `}` is not a template, never a panic.
        assert_eq!(str_format("{} secs} {", &[Value::Str("1".into())], &[]), Value::Unknown);
        assert_eq!(str_format("} x {}", &[], &[]), Value::Unknown);
        assert_eq!(str_format("{{}} {", &[], &[]), Value::Unknown);
    }

    #[test]
    fn db_api_markers_become_question_marks() {
        assert_eq!(
            bind_parameters("v = %s and w = %(w)s and x like 'a%%'"),
            "v = ? and w = ? and x like 'a%'"
        );
        assert_eq!(bind_parameters("100 % 7"), "100 % 7");
    }

    #[test]
    fn path_join_starts_over_at_an_absolute_part() {
        let parts = [Value::Str("data".into()), Value::Str("x.csv".into())];
        assert_eq!(path_join(&parts), Value::Str("data/x.csv".into()));
        let parts = [Value::Str("data/".into()), Value::Str("/abs".into())];
        assert_eq!(path_join(&parts), Value::Str("/abs".into()));
    }

    #[test]
    fn branches_that_disagree_give_a_placeholder_or_the_union_of_frames() {
        let a = Value::Str("a".into());
        let b = Value::Str("b".into());
        assert_eq!(merge(a, b, "x"), Value::Dynamic("x".into()));
        let f = Value::frame(Data::opaque(std::iter::once("t".to_string()).collect()));
        let g = Value::frame(Data::opaque(std::iter::once("u".to_string()).collect()));
        assert_eq!(merge(f, g, "df").lineage().unwrap().len(), 2);
    }
}
