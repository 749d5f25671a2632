//! `git lineage view`'s page: the lineage of a revision as one self-contained HTML file.
//!
//! Two pure steps. [`model`] turns the lineage (fragments), the recorded runs, the
//! predictions and, with a base revision, the diff into a [`Model`]: the nodes (datasets with
//! their schema and columns, transformations with their code location, last runs and
//! predicted runtime), the edges and what a change did to each. [`page`] embeds that model as
//! JSON in the hand-written page of `view/` (`page.html`, `view.css`, `view.js`), so that the
//! file opens from disk with no network: no CDN, no font, no fetch. The layout is the page's:
//! collapsing or expanding a schema lays the graph out again, which a layout fixed here could
//! not follow. See: issue 9.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::collect::record::RunRecord;
use crate::extract::python::airflow::SQL_FILE;
use crate::extract::{Fragment, Operation, Transformation};
use crate::graph::diff::{Change, GraphDiff, TransformationChange};
use crate::predict::model::Estimate;

/// Runs the page lists per transformation, newest first.
pub const LAST_RUNS: usize = 5;

/// The page, with `{{STYLE}}`, `{{TITLE}}`, `{{DATA}}` and `{{SCRIPT}}` to fill.
const TEMPLATE: &str = include_str!("view/page.html");
const STYLE: &str = include_str!("view/view.css");
const SCRIPT: &str = include_str!("view/view.js");

/// The other side of a comparison (`view --diff BASE`).
pub struct Base<'a> {
    pub revision: &'a str,
    pub commit: &'a str,
    pub files: &'a [Fragment],
    pub diff: &'a GraphDiff,
}

/// The predicted runtimes, or why there are none (the page says it; the command goes on).
pub enum Predictions {
    Available {
        /// Which model, for people ("bundled, trained on …").
        model: String,
        /// Per transformation id.
        estimates: BTreeMap<String, Estimate>,
        makespan_ms: f64,
    },
    Unavailable(String),
}

/// What the page is made from.
pub struct Inputs<'a> {
    pub revision: &'a str,
    pub commit: &'a str,
    pub files: &'a [Fragment],
    pub base: Option<Base<'a>>,
    /// Every recorded run, oldest first (`store::runs::read_all`).
    pub runs: &'a [RunRecord],
    pub predictions: Predictions,
}

/// The page's data: what `view.js` reads from the embedded JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub revision: String,
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<Revision>,
    pub prediction: PredictionInfo,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Column lineage, for a column's panel.
    pub columns: Vec<ColumnLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub revision: String,
    pub commit: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PredictionInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub makespan_ms: Option<f64>,
    /// Why nothing is predicted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// What a change did to a node or an edge (`--diff`); absent when it did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Added,
    Removed,
    Changed,
}

impl From<Change> for Status {
    fn from(change: Change) -> Self {
        match change {
            Change::Added => Status::Added,
            Change::Removed => Status::Removed,
            Change::Changed => Status::Changed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Node {
    Dataset(Dataset),
    Transformation(Box<TransformationNode>),
}

impl Node {
    pub fn id(&self) -> &str {
        match self {
            Node::Dataset(d) => &d.id,
            Node::Transformation(t) => &t.id,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    /// `d:` and the name: unique among the nodes.
    pub id: String,
    pub name: String,
    /// What "collapse by schema" groups it under.
    pub group: String,
    /// Its columns as the lineage knows them (written, read, or in column edges), in order of
    /// first appearance.
    pub columns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransformationNode {
    /// `t:` and the transformation's id (`t-:` for a removed one whose id the new side reuses).
    pub id: String,
    pub name: String,
    pub group: String,
    /// The statement's kind (`create_table_as`, `model`, `function`, …).
    pub op: String,
    pub file: String,
    pub line: usize,
    pub confidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
    /// The SQL's shape (joins, aggregates, …): counts that are not zero.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub structure: serde_json::Value,
    /// Python's DataFrame operations, in the order the code runs them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
    /// The last runs recorded under this id, newest first.
    pub runs: Vec<Run>,
    pub runs_total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Estimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub started_at: String,
    pub wall_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rss_bytes: Option<u64>,
    pub status: String,
    /// The commit that ran, shortened.
    pub commit: String,
}

/// What changed inside a changed transformation, as the diff says it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangeSummary {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reads_added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reads_removed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub writes_added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub writes_removed: Vec<String>,
    /// `source -> target`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns_added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns_removed: Vec<String>,
    /// `source -> target (kind)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indirect_added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indirect_removed: Vec<String>,
    /// Datasets downstream of it.
    pub impact: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// A read or a write: lineage, which highlighting follows.
    Data,
    /// Airflow's `a >> b`: order without data.
    Order,
    /// A task runs the statements of a `.sql` file.
    Runs,
}

/// An edge between two nodes, by index into [`Model::nodes`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// A column edge: `from` feeds (`direct`) or decides (an indirect kind) `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ColumnLink {
    pub from: String,
    pub to: String,
    pub how: String,
}

/// What "collapse by schema" groups a dataset under: the part of its name before the last
/// dot (`raw.orders` -> `raw`), the folder of a path (`s3://b/x/y.csv` -> `s3://b/x`), or a
/// group of its own for unqualified names and placeholders, which share no schema.
pub fn group_of(dataset: &str) -> String {
    if dataset.starts_with("<dynamic") {
        return "(dynamic)".to_string();
    }
    if let Some((folder, _)) = dataset.rsplit_once('/') {
        return folder.to_string();
    }
    match dataset.rsplit_once('.') {
        Some((schema, _)) if !schema.is_empty() => schema.to_string(),
        _ => "(no schema)".to_string(),
    }
}

fn kind_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Whether the page draws a transformation: it moves data or is ordered with others (DDL
/// housekeeping and plain queries that write nothing and read nothing are left out).
fn drawn(t: &Transformation, ordered: &BTreeSet<&str>) -> bool {
    !t.reads.is_empty()
        || !t.writes.is_empty()
        || !t.after.is_empty()
        || ordered.contains(t.id.as_str())
        || t.operations.iter().any(|o| o.kind == SQL_FILE)
}

/// Builds the nodes and edges in a stable order: datasets by name, then transformations by
/// file and line, then what only the base has.
struct Builder<'a> {
    nodes: Vec<Node>,
    index: BTreeMap<String, usize>,
    edges: BTreeMap<(usize, usize, EdgeKind), Option<Status>>,
    columns: BTreeMap<String, Vec<String>>,
    runs: BTreeMap<&'a str, Vec<&'a RunRecord>>,
}

impl Builder<'_> {
    fn dataset(&mut self, name: &str, status: Option<Status>) -> usize {
        let id = format!("d:{name}");
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        self.nodes.push(Node::Dataset(Dataset {
            id: id.clone(),
            name: name.to_string(),
            group: group_of(name),
            columns: self.columns.remove(name).unwrap_or_default(),
            status,
        }));
        self.index.insert(id, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    fn transformation(
        &mut self,
        file: &str,
        t: &Transformation,
        id: String,
        prediction: Option<Estimate>,
    ) -> usize {
        let runs: &[&RunRecord] = self.runs.get(t.id.as_str()).map_or(&[], Vec::as_slice);
        let last = runs
            .iter()
            .rev()
            .take(LAST_RUNS)
            .map(|r| Run {
                started_at: r.started_at.clone(),
                wall_ms: r.wall_ms,
                max_rss_bytes: r.max_rss_bytes,
                status: r.status.clone(),
                commit: r.commit.chars().take(10).collect(),
            })
            .collect();
        let group = t.writes.first().or(t.reads.first()).map_or_else(
            || file.rsplit_once('/').map_or(".", |(dir, _)| dir).to_string(),
            |d| group_of(d),
        );
        let structure = if t.structure.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::to_value(&t.structure).unwrap_or(serde_json::Value::Null)
        };
        self.nodes.push(Node::Transformation(Box::new(TransformationNode {
            id: id.clone(),
            name: t.id.clone(),
            group,
            op: kind_name(&t.kind),
            file: file.to_string(),
            line: t.line,
            confidence: kind_name(&t.confidence),
            procedure: t.procedure.clone(),
            structure,
            operations: t.operations.clone(),
            runs: last,
            runs_total: runs.len(),
            prediction,
            status: None,
            change: None,
        })));
        self.index.insert(id, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, kind: EdgeKind, status: Option<Status>) {
        self.edges.insert((from, to, kind), status);
    }
}

/// The columns of each dataset, in order of first appearance: what its writers produce, then
/// what column edges name. A column edge's end `dataset.column` is split at the last dot when
/// what is before it is a known dataset.
fn columns_by_dataset(
    files: &[&[Fragment]],
    datasets: &BTreeSet<String>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |dataset: &str, column: &str| {
        let list = out.entry(dataset.to_string()).or_default();
        if !list.iter().any(|c| c == column) {
            list.push(column.to_string());
        }
    };
    let all = || files.iter().flat_map(|f| f.iter()).flat_map(|f| &f.transformations);
    for t in all() {
        if let [written] = t.writes.as_slice() {
            for c in &t.output_columns {
                add(written, c);
            }
        }
    }
    for t in all() {
        let ends = t.columns.iter().flat_map(|c| [&c.source, &c.target]);
        let indirect = t.indirect.iter().flat_map(|e| [&e.source, &e.target]);
        for end in ends.chain(indirect) {
            if let Some((dataset, column)) = end.rsplit_once('.')
                && datasets.contains(dataset)
            {
                add(dataset, column);
            }
        }
    }
    out
}

fn change_summary(change: &TransformationChange) -> ChangeSummary {
    let arrow = |s: &str, t: &str| format!("{s} -> {t}");
    ChangeSummary {
        reads_added: change.reads_added.clone(),
        reads_removed: change.reads_removed.clone(),
        writes_added: change.writes_added.clone(),
        writes_removed: change.writes_removed.clone(),
        columns_added: change.columns_added.iter().map(|c| arrow(&c.source, &c.target)).collect(),
        columns_removed: change
            .columns_removed
            .iter()
            .map(|c| arrow(&c.source, &c.target))
            .collect(),
        indirect_added: change
            .indirect_added
            .iter()
            .map(|e| format!("{} ({})", arrow(&e.source, &e.target), kind_name(&e.kind)))
            .collect(),
        indirect_removed: change
            .indirect_removed
            .iter()
            .map(|e| format!("{} ({})", arrow(&e.source, &e.target), kind_name(&e.kind)))
            .collect(),
        impact: change.impact.datasets.len(),
    }
}

/// The page's model of a revision's lineage, its runs and predictions, and with a base what
/// the change did: nodes and edges a change added or changed are marked so, and what it
/// removed is taken from the base and marked removed.
pub fn model(inputs: &Inputs<'_>) -> Model {
    let head_all = || inputs.files.iter().flat_map(|f| &f.transformations);
    let ordered: BTreeSet<&str> = head_all().flat_map(|t| &t.after).map(String::as_str).collect();
    let mut datasets: BTreeSet<String> =
        head_all().flat_map(|t| t.reads.iter().chain(&t.writes)).cloned().collect();
    let (removed_datasets, added_datasets, changes): (BTreeSet<&str>, BTreeSet<&str>, _) =
        match &inputs.base {
            Some(base) => (
                base.diff.datasets_removed.iter().map(String::as_str).collect(),
                base.diff.datasets_added.iter().map(String::as_str).collect(),
                base.diff.transformations.iter().collect::<Vec<_>>(),
            ),
            None => (BTreeSet::new(), BTreeSet::new(), Vec::new()),
        };
    datasets.extend(removed_datasets.iter().map(|d| (*d).to_string()));
    let mut sides: Vec<&[Fragment]> = vec![inputs.files];
    if let Some(base) = &inputs.base {
        sides.push(base.files);
    }
    let mut runs: BTreeMap<&str, Vec<&RunRecord>> = BTreeMap::new();
    for run in inputs.runs {
        if let Some(id) = &run.transformation {
            runs.entry(id.as_str()).or_default().push(run);
        }
    }
    let mut b = Builder {
        nodes: Vec::new(),
        index: BTreeMap::new(),
        edges: BTreeMap::new(),
        columns: columns_by_dataset(&sides, &datasets),
        runs,
    };
    for name in &datasets {
        let status = if removed_datasets.contains(name.as_str()) {
            Some(Status::Removed)
        } else if added_datasets.contains(name.as_str()) {
            Some(Status::Added)
        } else {
            None
        };
        b.dataset(name, status);
    }
    let estimate = |id: &str| match &inputs.predictions {
        Predictions::Available { estimates, .. } => estimates.get(id).copied(),
        Predictions::Unavailable(_) => None,
    };
    // Changes by the id they have on their side: added and changed ones on the new side.
    let head_changes: BTreeMap<&str, &TransformationChange> = changes
        .iter()
        .filter(|c| c.change != Change::Removed)
        .map(|c| (c.id.as_str(), *c))
        .collect();
    let mut columns = BTreeSet::new();
    for fragment in inputs.files {
        for t in fragment.transformations.iter().filter(|t| drawn(t, &ordered)) {
            let node = b.transformation(&fragment.path, t, format!("t:{}", t.id), estimate(&t.id));
            let change = head_changes.get(t.id.as_str()).copied();
            let added = |dataset: &str, list: fn(&TransformationChange) -> &Vec<String>| {
                change.and_then(|c| match c.change {
                    Change::Added => Some(Status::Added),
                    _ => list(c).iter().any(|d| d == dataset).then_some(Status::Added),
                })
            };
            for read in &t.reads {
                let d = b.dataset(read, None);
                b.edge(d, node, EdgeKind::Data, added(read, |c| &c.reads_added));
            }
            for write in &t.writes {
                let d = b.dataset(write, None);
                b.edge(node, d, EdgeKind::Data, added(write, |c| &c.writes_added));
            }
            if let Some(change) = change {
                // Edges the change took away, to datasets still drawn (from either side).
                for read in &change.reads_removed {
                    let d = b.dataset(read, Some(Status::Removed));
                    b.edge(d, node, EdgeKind::Data, Some(Status::Removed));
                }
                for write in &change.writes_removed {
                    let d = b.dataset(write, Some(Status::Removed));
                    b.edge(node, d, EdgeKind::Data, Some(Status::Removed));
                }
                if let Node::Transformation(n) = &mut b.nodes[node] {
                    n.status = Some(change.change.into());
                    n.change = Some(change_summary(change));
                }
                // What the change wrote to a dataset changes the dataset.
                for write in &t.writes {
                    let Some(&i) = b.index.get(&format!("d:{write}")) else { continue };
                    if let Node::Dataset(d) = &mut b.nodes[i]
                        && d.status.is_none()
                    {
                        d.status = Some(Status::Changed);
                    }
                }
            }
            columns.extend(links(t));
        }
    }
    // Ordering edges, and a task's link to the statements of the `.sql` file it runs.
    for fragment in inputs.files {
        for t in fragment.transformations.iter().filter(|t| drawn(t, &ordered)) {
            let Some(&node) = b.index.get(&format!("t:{}", t.id)) else { continue };
            for before in &t.after {
                if let Some(&from) = b.index.get(&format!("t:{before}")) {
                    b.edge(from, node, EdgeKind::Order, None);
                }
            }
            let files_run = t.operations.iter().filter(|o| o.kind == SQL_FILE);
            for path in files_run.filter_map(|o| o.dataset.as_deref()) {
                let statements = inputs.files.iter().filter(|f| f.path == path);
                for s in statements.flat_map(|f| &f.transformations) {
                    if let Some(&to) = b.index.get(&format!("t:{}", s.id)) {
                        b.edge(node, to, EdgeKind::Runs, None);
                    }
                }
            }
        }
    }
    // What the base had and the change removed.
    if let Some(base) = &inputs.base {
        let removed: BTreeMap<&str, &TransformationChange> = changes
            .iter()
            .filter(|c| c.change == Change::Removed)
            .map(|c| (c.id.as_str(), *c))
            .collect();
        for fragment in base.files {
            for t in &fragment.transformations {
                let Some(change) = removed.get(t.id.as_str()) else { continue };
                let id = if b.index.contains_key(&format!("t:{}", t.id)) {
                    format!("t-:{}", t.id)
                } else {
                    format!("t:{}", t.id)
                };
                let node = b.transformation(&fragment.path, t, id, None);
                if let Node::Transformation(n) = &mut b.nodes[node] {
                    n.status = Some(Status::Removed);
                    n.change = Some(change_summary(change));
                }
                for read in &t.reads {
                    let d = b.dataset(read, Some(Status::Removed));
                    b.edge(d, node, EdgeKind::Data, Some(Status::Removed));
                }
                for write in &t.writes {
                    let d = b.dataset(write, Some(Status::Removed));
                    b.edge(node, d, EdgeKind::Data, Some(Status::Removed));
                }
            }
        }
    }
    let prediction = match &inputs.predictions {
        Predictions::Available { model, makespan_ms, .. } => PredictionInfo {
            model: Some(model.clone()),
            makespan_ms: Some(*makespan_ms),
            unavailable: None,
        },
        Predictions::Unavailable(why) => {
            PredictionInfo { unavailable: Some(why.clone()), ..PredictionInfo::default() }
        }
    };
    Model {
        revision: inputs.revision.to_string(),
        commit: inputs.commit.to_string(),
        base: inputs.base.as_ref().map(|base| Revision {
            revision: base.revision.to_string(),
            commit: base.commit.to_string(),
        }),
        prediction,
        nodes: b.nodes,
        edges: b
            .edges
            .into_iter()
            .map(|((from, to, kind), status)| Edge { from, to, kind, status })
            .collect(),
        columns: columns.into_iter().collect(),
    }
}

/// A transformation's column edges: direct ones, and indirect ones with their kind.
fn links(t: &Transformation) -> impl Iterator<Item = ColumnLink> + '_ {
    let direct = t.columns.iter().map(|c| ColumnLink {
        from: c.source.clone(),
        to: c.target.clone(),
        how: "direct".to_string(),
    });
    let indirect = t.indirect.iter().map(|e| ColumnLink {
        from: e.source.clone(),
        to: e.target.clone(),
        how: kind_name(&e.kind),
    });
    direct.chain(indirect)
}

/// JSON that can sit inside a `<script>` element: every `<` written as `\u003c`, so that no
/// name can close the element (`</script>`) or open a comment (`<!--`) that changes how the
/// HTML parser reads the rest. JSON.parse reads the escape back as `<`.
pub fn script_safe_json(json: &str) -> String {
    json.replace('<', "\\u003c")
}

/// Text for HTML content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills the `{{NAME}}` places of a template in one pass: a value is never searched for
/// places itself (a dataset named `{{SCRIPT}}` stays a name).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let extra: usize = values.iter().map(|(_, v)| v.len()).sum();
    let mut out = String::with_capacity(template.len() + extra);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let found = after.find("}}").and_then(|end| {
            let name = &after[..end];
            values.iter().find(|(n, _)| *n == name).map(|(_, v)| (end, *v))
        });
        match found {
            Some((end, value)) => {
                out.push_str(&rest[..start]);
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The HTML page of a model: one file, its style, script and data inside it.
pub fn page(model: &Model) -> String {
    let json = serde_json::to_string(model).unwrap_or_else(|_| "{}".to_string());
    let short = |text: &str| -> String { text.chars().take(10).collect() };
    // A revision given as a commit id is shortened as git shortens it.
    let said = |revision: &str, commit: &str| {
        if revision == commit { short(commit) } else { revision.to_string() }
    };
    let head = said(&model.revision, &model.commit);
    let title = match &model.base {
        Some(base) => format!(
            "lineage: {} -> {head} ({})",
            said(&base.revision, &base.commit),
            short(&model.commit)
        ),
        None => format!("lineage: {head} ({})", short(&model.commit)),
    };
    fill(
        TEMPLATE,
        &[
            ("TITLE", &html_escape(&title)),
            ("STYLE", STYLE),
            ("DATA", &script_safe_json(&json)),
            ("SCRIPT", SCRIPT),
        ],
    )
}

/// A lineage of `datasets` tables in 20 schemas (`schema0.sql` … `schema19.sql`), each made from
/// two earlier ones and the first 40 from sources: the page at scale, for its tests and
/// `bench/view` (through `git lineage debug synthetic`).
pub fn synthetic_files(datasets: usize) -> Vec<(String, String)> {
    (0..20)
        .map(|schema| {
            let mut sql = String::new();
            for i in (schema..datasets).step_by(20) {
                let (a, b) = (i / 2, i / 3);
                let from = if i < 40 {
                    format!("src.t{i}")
                } else {
                    format!("s{}.t{a} JOIN s{}.t{b} USING (id)", a % 20, b % 20)
                };
                // Writing to a String cannot fail.
                let _ =
                    writeln!(sql, "CREATE TABLE s{schema}.t{i} AS SELECT id, v{i} FROM {from};");
            }
            (format!("schema{schema}.sql"), sql)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Settings, extract};
    use crate::graph::diff::diff;

    fn fragments(files: &[(&str, &str)]) -> Vec<Fragment> {
        files.iter().map(|(p, s)| extract(p, s.as_bytes(), &Settings::default())).collect()
    }

    fn inputs<'a>(files: &'a [Fragment], runs: &'a [RunRecord]) -> Inputs<'a> {
        Inputs {
            revision: "HEAD",
            commit: "0123456789abcdef",
            files,
            base: None,
            runs,
            predictions: Predictions::Unavailable("ONNX Runtime library not found".to_string()),
        }
    }

    const RAW: &str = "CREATE TABLE raw.a AS SELECT id, x, y FROM src.a";
    const STG: &str = "CREATE TABLE stg.b AS SELECT id, x FROM raw.a WHERE y > 0";

    fn run(id: &str, at: &str, ms: f64) -> RunRecord {
        let mut record = RunRecord::new("test", "abcdef0123456789".to_string(), at.to_string(), ms);
        record.transformation = Some(id.to_string());
        record.max_rss_bytes = Some(1_048_576);
        record
    }

    #[test]
    fn groups_are_schemas_folders_or_their_own() {
        assert_eq!(group_of("raw.orders"), "raw");
        assert_eq!(group_of("db.raw.orders"), "db.raw");
        assert_eq!(group_of("s3://bucket/x/y.csv"), "s3://bucket/x");
        assert_eq!(group_of("orders"), "(no schema)");
        assert_eq!(group_of("<dynamic:path>"), "(dynamic)");
    }

    #[test]
    fn model_of_a_small_pipeline() {
        let files = fragments(&[("raw.sql", RAW), ("stg.sql", STG)]);
        let runs: Vec<RunRecord> = (0..7)
            .map(|i| {
                run("stg.sql#1", &format!("2026-01-0{}T00:00:00Z", i + 1), 100.0 + f64::from(i))
            })
            .collect();
        let model = model(&inputs(&files, &runs));
        insta::assert_json_snapshot!("view_model_small", model);
        // The last runs, newest first, and how many there are in all.
        let Node::Transformation(stg) = &model.nodes[4] else { panic!("{:?}", model.nodes[4]) };
        assert_eq!(stg.runs.len(), LAST_RUNS);
        assert_eq!(stg.runs[0].started_at, "2026-01-07T00:00:00Z");
        assert_eq!(stg.runs_total, 7);
    }

    #[test]
    fn a_diff_marks_what_was_added_removed_and_changed() {
        let base = fragments(&[
            ("raw.sql", RAW),
            ("stg.sql", STG),
            ("old.sql", "CREATE TABLE old.o AS SELECT id FROM raw.a"),
        ]);
        let head = fragments(&[
            ("raw.sql", RAW),
            (
                "stg.sql",
                "CREATE TABLE stg.b AS SELECT a.id, a.x FROM raw.a AS a JOIN src.c AS c ON a.id = c.id",
            ),
            ("new.sql", "CREATE TABLE mart.n AS SELECT id FROM stg.b"),
        ]);
        let change = diff(&base, &head);
        let mut input = inputs(&head, &[]);
        input.base = Some(Base { revision: "main", commit: "fedcba", files: &base, diff: &change });
        let model = model(&input);
        let status = |id: &str| {
            let node = model.nodes.iter().find(|n| n.id() == id).unwrap_or_else(|| panic!("{id}"));
            match node {
                Node::Dataset(d) => d.status,
                Node::Transformation(t) => t.status,
            }
        };
        assert_eq!(status("d:mart.n"), Some(Status::Added));
        assert_eq!(status("d:src.c"), Some(Status::Added));
        assert_eq!(status("d:old.o"), Some(Status::Removed));
        assert_eq!(status("d:stg.b"), Some(Status::Changed));
        assert_eq!(status("d:raw.a"), None);
        assert_eq!(status("t:new.sql#1"), Some(Status::Added));
        assert_eq!(status("t:stg.sql#1"), Some(Status::Changed));
        assert_eq!(status("t:old.sql#1"), Some(Status::Removed));
        assert_eq!(status("t:raw.sql#1"), None);
        let index = |id: &str| model.nodes.iter().position(|n| n.id() == id).unwrap();
        let edge = |from: &str, to: &str| {
            model
                .edges
                .iter()
                .find(|e| e.from == index(from) && e.to == index(to))
                .unwrap_or_else(|| panic!("{from} -> {to}"))
                .status
        };
        assert_eq!(edge("d:src.c", "t:stg.sql#1"), Some(Status::Added));
        assert_eq!(edge("d:raw.a", "t:stg.sql#1"), None);
        assert_eq!(edge("d:raw.a", "t:old.sql#1"), Some(Status::Removed));
        assert_eq!(edge("t:old.sql#1", "d:old.o"), Some(Status::Removed));
        assert_eq!(edge("t:new.sql#1", "d:mart.n"), Some(Status::Added));
        insta::assert_json_snapshot!("view_model_diff", model);
    }

    #[test]
    fn a_name_cannot_close_the_data_element() {
        let evil =
            "CREATE TABLE \"x</script><script>alert(1)</script><!--\".t AS SELECT a FROM s.u";
        let files = fragments(&[("evil.sql", evil)]);
        let model = model(&inputs(&files, &[]));
        assert!(
            model.nodes.iter().any(|n| n.id().contains("</script>")),
            "the name is kept as it is: {:?}",
            model.nodes
        );
        let html = page(&model);
        // One data element and one script: no name opened or closed another.
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
        assert!(!html.contains("<!--"));
        let start = html.find("id=\"lineage-data\">").expect("the data element") + 18;
        let end = start + html[start..].find("</script>").expect("its end");
        let back: serde_json::Value = serde_json::from_str(&html[start..end]).expect("JSON");
        let names: Vec<&str> =
            back["nodes"].as_array().unwrap().iter().filter_map(|n| n["name"].as_str()).collect();
        assert!(names.iter().any(|n| n.contains("</script><script>alert(1)")), "{names:?}");
    }

    #[test]
    fn the_page_is_self_contained() {
        let files = fragments(&[("raw.sql", RAW)]);
        let html = page(&model(&inputs(&files, &[])));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("{{"), "a place was left unfilled");
        for outside in ["http://", "https://", "src=", "@import", "fetch(", "XMLHttpRequest"] {
            assert!(!html.contains(outside), "the page refers outside itself: {outside}");
        }
        // The script and style are the files' own, whole.
        assert!(html.contains(SCRIPT) && html.contains(STYLE));
        assert!(!SCRIPT.contains("</script") && !STYLE.contains("</style"));
    }

    #[test]
    fn fill_does_not_search_values() {
        let out = fill("<{{A}}|{{B}}|{{C}}>", &[("A", "{{B}}"), ("B", "b")]);
        assert_eq!(out, "<{{B}}|b|{{C}}>");
    }

    /// The lineage of `synthetic_files`.
    pub(crate) fn synthetic(datasets: usize) -> Vec<Fragment> {
        let files = synthetic_files(datasets);
        files.iter().map(|(p, s)| extract(p, s.as_bytes(), &Settings::default())).collect()
    }

    #[test]
    fn two_thousand_datasets_make_one_page() {
        let files = synthetic(2000);
        let model = model(&inputs(&files, &[]));
        let datasets = model.nodes.iter().filter(|n| matches!(n, Node::Dataset(_))).count();
        // 2,000 written and the 40 sources the first ones read.
        assert_eq!(datasets, 2040);
        let html = page(&model);
        assert!(html.len() < 4 * 1024 * 1024, "{} bytes", html.len());
        assert_eq!(html.matches("\"kind\":\"dataset\"").count(), 2040);
    }
}
