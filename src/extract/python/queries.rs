//! The read / write patterns of each library: the tree-sitter queries of `grammars/python/`,
//! each file compiled once, and what they say about each node of a file.
//!
//! Why queries and not Rust: a library's API is data (which method, which argument), and a
//! user adds a library by adding a `.scm` file. The Rust side only knows the roles and value
//! captures of `grammars/python/README.md`. See: issue 6.

use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, OnceLock};

use foldhash::fast::RandomState as Fast;
use tree_sitter::{Language, Node, Query, QueryCursor, StreamingIterator};

/// Each library's patterns, by file name.
pub const GRAMMARS: &[(&str, &str)] = &[
    ("pyspark.scm", include_str!("../../../grammars/python/pyspark.scm")),
    ("pandas.scm", include_str!("../../../grammars/python/pandas.scm")),
    ("dbapi.scm", include_str!("../../../grammars/python/dbapi.scm")),
    ("glue.scm", include_str!("../../../grammars/python/glue.scm")),
    ("boto3.scm", include_str!("../../../grammars/python/boto3.scm")),
    ("airflow.scm", include_str!("../../../grammars/python/airflow.scm")),
    ("files.scm", include_str!("../../../grammars/python/files.scm")),
    ("elasticsearch.scm", include_str!("../../../grammars/python/elasticsearch.scm")),
    ("dataframe.scm", include_str!("../../../grammars/python/dataframe.scm")),
    ("config.scm", include_str!("../../../grammars/python/config.scm")),
    ("columns.scm", include_str!("../../../grammars/python/columns.scm")),
];

/// Matches beyond this many in flight are dropped by tree-sitter rather than slowing down:
/// the patterns are shallow, so only pathological input comes near it.
const MATCH_LIMIT: u32 = 4096;

pub fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

/// The grammar's field ids by name, looked up once: tree-sitter finds a field by name with a
/// string comparison against each of the grammar's field names, a tenth of the data flow's
/// time when every evaluated node asks for its children that way.
static FIELD_IDS: LazyLock<HashMap<String, u16, Fast>> = LazyLock::new(|| {
    let language = language();
    (1..=language.field_count())
        .filter_map(|id| {
            let id = u16::try_from(id).ok()?;
            Some((language.field_name_for_id(id)?.to_string(), id))
        })
        .collect()
});

/// `child_by_field_name` through a table of the grammar's field ids, built once.
pub trait Field<'tree> {
    fn field(&self, name: &str) -> Option<Node<'tree>>;
}

impl<'tree> Field<'tree> for Node<'tree> {
    fn field(&self, name: &str) -> Option<Node<'tree>> {
        match FIELD_IDS.get(name) {
            Some(&id) => self.child_by_field_id(id),
            None => self.child_by_field_name(name),
        }
    }
}

/// What a pattern says a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Read,
    Write,
    Sql,
    View,
    Reader,
    Writer,
    Table,
    Pass,
    Op,
    Open,
    Config,
    Frame,
    Column,
}

impl Role {
    fn from_capture(name: &str) -> Option<Self> {
        Some(match name {
            "read" => Self::Read,
            "write" => Self::Write,
            "sql" => Self::Sql,
            "view" => Self::View,
            "reader" => Self::Reader,
            "writer" => Self::Writer,
            "table" => Self::Table,
            "pass" => Self::Pass,
            "op" => Self::Op,
            "open" => Self::Open,
            "config" => Self::Config,
            "frame" => Self::Frame,
            "column" => Self::Column,
            _ => return None,
        })
    }
}

/// Everything the patterns of one role say about one node: its value captures (`@name`,
/// `@data`, template parts …) and properties (`#set!`), merged over all matching patterns.
#[derive(Debug, Clone)]
pub struct Spec<'tree> {
    pub role: Role,
    pub captures: Vec<(&'static str, Node<'tree>)>,
    pub properties: Vec<(&'static str, &'static str)>,
}

impl<'tree> Spec<'tree> {
    pub fn capture(&self, name: &str) -> Option<Node<'tree>> {
        self.captures.iter().find(|(n, _)| *n == name).map(|(_, node)| *node)
    }

    pub fn property(&self, key: &str) -> Option<&'static str> {
        self.properties.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// The specs of a file's nodes, by node id.
pub type Specs<'tree> = HashMap<usize, Vec<Spec<'tree>>, Fast>;

struct Compiled {
    query: Query,
    /// Per capture index: its role, or `None` for a value capture.
    roles: Vec<Option<Role>>,
    /// Per capture index: its name, `None` for the `_`-prefixed ones predicates use.
    names: Vec<Option<String>>,
    /// Per pattern: its `#set!` properties.
    properties: Vec<Vec<(String, String)>>,
}

/// The patterns of one grammar file about one callee (or about each of a few names listed
/// together), as one query, compiled the first time a call of such a name is met.
struct Part {
    source: String,
    compiled: OnceLock<Compiled>,
}

impl Part {
    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| compile(&self.source))
    }
}

/// For each callee name, the patterns about it, file by file: a call runs only those.
///
/// Why not a query per file: tree-sitter starts every pattern whose first node fits, and
/// checks the name predicates only once a match is complete, so each call walked down its
/// arguments for every call pattern of the file. Compiled lazily, a short-lived process (a
/// hook's) compiles only what its files call: compiling every pattern was most of its time.
struct Grammars {
    parts: Vec<Part>,
    /// Per callee name: its parts, in file order.
    by_callee: HashMap<String, Vec<usize>, Fast>,
}

/// Captures that name the called method or function (or the attribute) in the patterns.
const CALLEE_CAPTURES: &[&str] = &["@_m", "@_f", "@_attr"];

/// Every name an `#eq?` or `#any-of?` predicate on a callee capture lists, in query source.
fn callee_names(source: &str) -> HashSet<String> {
    let mut names = HashSet::new();
    let mut rest = source;
    while let Some(start) = rest.find("(#") {
        let predicate = &rest[start..];
        let end = predicate.find(')').unwrap_or(predicate.len());
        let body = &predicate[..end];
        rest = &predicate[end..];
        let mut words = body[2..].split_whitespace();
        let (Some(kind), Some(capture)) = (words.next(), words.next()) else { continue };
        if !matches!(kind, "eq?" | "any-of?") || !CALLEE_CAPTURES.contains(&capture) {
            continue;
        }
        for quoted in body.split('"').skip(1).step_by(2) {
            names.insert(quoted.to_string());
        }
    }
    names
}

fn compile(source: &str) -> Compiled {
    let query = Query::new(&language(), source)
        .expect("grammars/python/*.scm are compiled in and compile (unit-tested)");
    let names: Vec<Option<String>> = query
        .capture_names()
        .iter()
        .map(|name| (!name.starts_with('_')).then(|| (*name).to_string()))
        .collect();
    let roles = names.iter().map(|n| n.as_deref().and_then(Role::from_capture)).collect();
    let properties = (0..query.pattern_count())
        .map(|i| {
            query
                .property_settings(i)
                .iter()
                .filter_map(|p| Some((p.key.to_string(), p.value.as_deref()?.to_string())))
                .collect()
        })
        .collect();
    Compiled { query, roles, names, properties }
}

static GRAMMARS_COMPILED: LazyLock<Grammars> = LazyLock::new(|| {
    // Per callee: per file, the indices of its patterns about the callee.
    let mut wanted: HashMap<String, Vec<(usize, Vec<usize>)>> = HashMap::new();
    let files: Vec<Vec<&'static str>> =
        GRAMMARS.iter().map(|(_, source)| split_patterns(source)).collect();
    for (file, patterns) in files.iter().enumerate() {
        for (index, pattern) in patterns.iter().enumerate() {
            for name in callee_names(pattern) {
                let per_file = wanted.entry(name).or_default();
                match per_file.last_mut() {
                    Some((f, indices)) if *f == file => indices.push(index),
                    _ => per_file.push((file, vec![index])),
                }
            }
        }
    }
    // Names listed together (`#any-of? @_m "read_csv" "read_parquet" …`) want the same
    // patterns: they share one query.
    let mut parts = Vec::new();
    let mut part_of: HashMap<(usize, Vec<usize>), usize> = HashMap::new();
    let mut by_callee = HashMap::default();
    for (name, per_file) in wanted {
        let ids = per_file
            .into_iter()
            .map(|key| {
                *part_of.entry(key).or_insert_with_key(|(file, indices)| {
                    let chosen: Vec<&str> = indices.iter().map(|&i| files[*file][i]).collect();
                    parts.push(Part { source: chosen.join("\n"), compiled: OnceLock::new() });
                    parts.len() - 1
                })
            })
            .collect();
        by_callee.insert(name, ids);
    }
    Grammars { parts, by_callee }
});

/// The top-level patterns of a query source, each with the predicates inside it: what
/// tree-sitter counts as one pattern (a bracketed group or alternation at depth 0; a group
/// that starts with `#` is a predicate and stays with the pattern before it). Comments and
/// strings may hold brackets.
fn split_patterns(source: &str) -> Vec<&str> {
    let bytes = source.as_bytes();
    let mut pieces = Vec::new();
    let mut start: Option<usize> = None;
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b';' => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'"' => {
                i += 1;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b'\\' => i += 1,
                        b'"' => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'(' | b'[' => {
                let predicate = source[i + 1..].trim_start().starts_with('#');
                if depth == 0 && !(predicate && start.is_some()) {
                    if let Some(s) = start {
                        pieces.push(source[s..i].trim_end());
                    }
                    start = Some(i);
                }
                depth += 1;
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = start {
        pieces.push(source[s..].trim_end());
    }
    pieces
}

/// Runs the patterns on the calls and attributes the data flow meets, once per node, and
/// only those whose name one of them is about.
///
/// Why not one query over the whole tree: tree-sitter matches structure only, so every call
/// would start every call pattern and the name predicates would throw the matches away
/// afterwards; that was most of the time spent on a file. Patterns start at the node
/// (`max_start_depth` 0), so each candidate costs only the patterns that name it, and nodes
/// the data flow never evaluates cost nothing.
pub struct Matcher<'tree> {
    cursor: QueryCursor,
    cache: Specs<'tree>,
}

impl<'tree> Matcher<'tree> {
    pub fn new() -> Self {
        let mut cursor = QueryCursor::new();
        cursor.set_match_limit(MATCH_LIMIT);
        cursor.set_max_start_depth(Some(0));
        Self { cursor, cache: HashMap::default() }
    }

    /// What the patterns say about `node`.
    pub fn specs(&mut self, node: Node<'tree>, text: &str) -> &[Spec<'tree>] {
        let grammars: &'static Grammars = &GRAMMARS_COMPILED;
        let Some(parts) = candidate(node, text, &grammars.by_callee) else { return &[] };
        if !self.cache.contains_key(&node.id()) {
            let mut found: Specs<'tree> = HashMap::default();
            for part in parts.iter().filter_map(|&i| grammars.parts.get(i)) {
                collect(part.compiled(), &mut self.cursor, node, text, &mut found);
            }
            self.cache.insert(node.id(), found.remove(&node.id()).unwrap_or_default());
        }
        self.cache.get(&node.id()).map_or(&[], Vec::as_slice)
    }
}

impl Default for Matcher<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// The grammars to run on a call or attribute: those that name its (method) name.
fn candidate<'g>(
    node: Node<'_>,
    text: &str,
    by_callee: &'g HashMap<String, Vec<usize>, Fast>,
) -> Option<&'g [usize]> {
    let name = match node.kind() {
        "call" => match node.field("function") {
            Some(f) if f.kind() == "identifier" => Some(f),
            Some(f) if f.kind() == "attribute" => f.field("attribute"),
            _ => None,
        },
        "attribute" => node.field("attribute"),
        _ => None,
    };
    let name = text.get(name?.byte_range())?;
    by_callee.get(name).map(Vec::as_slice)
}

fn collect<'tree>(
    compiled: &'static Compiled,
    cursor: &mut QueryCursor,
    node: Node<'tree>,
    text: &str,
    specs: &mut Specs<'tree>,
) {
    let mut matches = cursor.matches(&compiled.query, node, text.as_bytes());
    while let Some(m) = matches.next() {
        let Some((role, node)) = m.captures().iter().find_map(|c| {
            let role = compiled.roles.get(c.index as usize).copied().flatten()?;
            Some((role, c.node))
        }) else {
            continue;
        };
        let values = m.captures().iter().filter_map(|c| {
            let name = compiled.names.get(c.index as usize)?.as_deref()?;
            (compiled.roles.get(c.index as usize).copied().flatten().is_none())
                .then_some((name, c.node))
        });
        let properties: &'static [(String, String)] =
            compiled.properties.get(m.pattern_index).map_or(&[], Vec::as_slice);
        // Patterns merge when they agree on the receiver they need: a pattern without that
        // condition (spark.table) must not inherit one (spark.read.table).
        let receiver = properties.iter().find(|(k, _)| k == "receiver").map(|(_, v)| v.as_str());
        let list = specs.entry(node.id()).or_default();
        let spec = match list
            .iter_mut()
            .position(|s| s.role == role && s.property("receiver") == receiver)
        {
            Some(i) => &mut list[i],
            None => {
                list.push(Spec { role, captures: Vec::new(), properties: Vec::new() });
                let last = list.len() - 1;
                &mut list[last]
            }
        };
        for (name, value) in values {
            // `(argument_list . (_) @name)` means a positional argument: a keyword argument
            // (or a comment) in that place is not one, and its value has its own patterns.
            if matches!(
                value.kind(),
                "keyword_argument" | "comment" | "list_splat" | "dictionary_splat"
            ) {
                continue;
            }
            if spec.capture(name).is_none() {
                spec.captures.push((name, value));
            }
        }
        // An earlier pattern's property stands; one pattern may repeat a key to continue a
        // long list (columns.scm's effects).
        let before = spec.properties.len();
        for (key, value) in properties {
            if !spec.properties[..before].iter().any(|(k, _)| k == key) {
                spec.properties.push((key.as_str(), value.as_str()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grammar_compiles_alone_and_together() {
        for (name, text) in GRAMMARS {
            if let Err(e) = Query::new(&language(), text) {
                panic!("grammars/python/{name}: {e}");
            }
        }
        for part in &GRAMMARS_COMPILED.parts {
            assert!(part.compiled().query.pattern_count() > 0, "{}", part.source);
        }
    }

    #[test]
    fn every_pattern_names_its_callee() {
        // The pre-filter only queries calls and attributes named in a predicate on @_m,
        // @_f or @_attr: a pattern without one would never run.
        for (file, text) in GRAMMARS {
            let query = Query::new(&language(), text).unwrap();
            for i in 0..query.pattern_count() {
                let start = query.start_byte_for_pattern(i);
                let end = query.end_byte_for_pattern(i);
                let pattern = &text[start..end];
                assert!(
                    !callee_names(pattern).is_empty(),
                    "grammars/python/{file}: a pattern names no callee:\n{pattern}"
                );
            }
        }
        assert!(GRAMMARS_COMPILED.by_callee.contains_key("saveAsTable"));
        assert!(!GRAMMARS_COMPILED.by_callee.contains_key("path"));
    }

    #[test]
    fn patterns_split_where_tree_sitter_splits_them() {
        // Each piece is one of the file's patterns, in order, and compiles alone into one.
        for (file, text) in GRAMMARS {
            let query = Query::new(&language(), text).unwrap();
            let pieces = split_patterns(text);
            assert_eq!(pieces.len(), query.pattern_count(), "grammars/python/{file}");
            for (i, piece) in pieces.iter().enumerate() {
                let start = query.start_byte_for_pattern(i);
                assert_eq!(piece.as_ptr(), text[start..].as_ptr(), "{file} pattern {i}");
                let alone = Query::new(&language(), piece).unwrap();
                assert_eq!(alone.pattern_count(), 1, "{file}:\n{piece}");
            }
        }
        let text = "; (not a pattern\n((call) @c (#eq? @c \"(\"))\n[(a) (b)] @x\n";
        assert_eq!(split_patterns(text), ["((call) @c (#eq? @c \"(\"))", "[(a) (b)] @x"]);
    }

    #[test]
    fn every_capture_is_a_role_a_known_value_or_private() {
        let known = [
            "name",
            "namespace",
            "options",
            "data",
            "query",
            "value",
            "bucket",
            "key",
            "source",
            "columns",
        ];
        for part in GRAMMARS_COMPILED.parts.iter().map(Part::compiled) {
            for (i, name) in part.names.iter().enumerate() {
                if let Some(name) = name {
                    assert!(
                        part.roles[i].is_some() || known.contains(&name.as_str()),
                        "unknown capture @{name}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_column_effect_lists_exactly_the_names_its_pattern_is_about() {
        // columns.scm gives each callee its effect by listing it in a property: a name the
        // pattern matches but no effect lists would do nothing, and the reverse never run.
        let (_, text) = GRAMMARS.iter().find(|(f, _)| *f == "columns.scm").unwrap();
        let query = Query::new(&language(), text).unwrap();
        for i in 0..query.pattern_count() {
            let pattern = &text[query.start_byte_for_pattern(i)..query.end_byte_for_pattern(i)];
            let listed: HashSet<String> = query
                .property_settings(i)
                .iter()
                .filter(|p| &*p.key != "receiver")
                .filter_map(|p| p.value.as_deref())
                .flat_map(str::split_whitespace)
                .map(str::to_string)
                .collect();
            assert_eq!(callee_names(pattern), listed, "columns.scm:\n{pattern}");
        }
    }

    #[test]
    fn a_read_call_gets_its_name_capture() {
        let text = "df = spark.read.parquet('s3://b/x')\n";
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&language()).unwrap();
        let tree = parser.parse(text, None).unwrap();
        // module > expression_statement > assignment > call
        let call = tree
            .root_node()
            .child(0)
            .unwrap()
            .child(0)
            .unwrap()
            .child_by_field_name("right")
            .unwrap();
        let mut matcher = Matcher::new();
        let read = matcher.specs(call, text).iter().find(|s| s.role == Role::Read).unwrap().clone();
        assert_eq!(read.capture("name").unwrap().utf8_text(text.as_bytes()).unwrap(), "'s3://b/x'");
        assert_eq!(read.property("receiver"), Some("reader"));
    }
}
