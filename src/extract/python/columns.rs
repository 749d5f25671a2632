//! Column lineage of DataFrames: what the data flow knows of a DataFrame's columns (each
//! output column and the `dataset.column`s it comes from) and of the columns that decided its
//! rows (filters, join keys, grouping and sort keys), and what each DataFrame operation does to
//! them. See: issues 6 and 10.
//!
//! Which method does what is data (`grammars/python/columns.scm`: the `@frame` and `@column`
//! roles and their `effect`); this module is what each effect means. What the code does not
//! say stays unknown: a DataFrame read without a schema has columns nobody named, kept as
//! `dataset.*` (SQL's convention for a star without a schema), and a column it names resolves
//! to `dataset.column`.

use std::collections::BTreeSet;
use std::rc::Rc;

use sqlparser::ast::{Expr as SqlExpr, SelectItem, visit_expressions};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::dataflow::{Lineage, Value};
use super::queries::Spec;
use crate::extract::{ColumnEdge, IndirectEdge, IndirectKind};

/// The `dataset.column`s (or `dataset.*`) a column comes from.
pub type Sources = BTreeSet<String>;

/// A DataFrame: the datasets its rows come from, what is known of its columns, and which
/// columns decided its rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Data {
    pub datasets: Lineage,
    /// Columns the code named, in order, with what each is computed from.
    pub named: Vec<(String, Sources)>,
    /// `None` when `named` are all the columns; otherwise the datasets whose other columns
    /// pass through unchanged (empty when they come from nowhere known).
    pub rest: Option<Lineage>,
    /// Columns that decided which rows there are.
    pub indirect: BTreeSet<(String, IndirectKind)>,
    /// A grouped DataFrame's keys (`groupBy`), which its aggregation keeps.
    pub keys: Option<Vec<(String, Sources)>>,
}

/// A column expression: `col("x")`, `df["x"] * 2`, `F.sum("v").alias("total")`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expr {
    /// The column's name when the code gives it (`col("x")`, `df.x`, `.alias("z")`).
    pub name: Option<String>,
    /// Columns named without a DataFrame (`col("x")`): resolved where the expression is used.
    pub names: BTreeSet<String>,
    /// Columns of a DataFrame (`df["x"]`), already `dataset.column`.
    pub resolved: Sources,
    /// The datasets of those DataFrames.
    pub datasets: Lineage,
}

impl Expr {
    /// A column named without a DataFrame.
    pub fn named(name: &str) -> Self {
        Self {
            name: Some(name.to_string()),
            names: std::iter::once(name.to_string()).collect(),
            ..Self::default()
        }
    }

    /// The column `name` of a DataFrame (`df["x"]`, `df.x`).
    pub fn of(data: &Data, name: &str) -> Self {
        Self {
            name: Some(name.to_string()),
            resolved: data.resolve(name),
            datasets: data.datasets.clone(),
            ..Self::default()
        }
    }

    /// Every column of `values` that is a column expression, under no name.
    pub fn combine<'v>(values: impl IntoIterator<Item = &'v Value>) -> Option<Self> {
        let mut out: Option<Self> = None;
        for value in values {
            if let Value::Column(e) = value {
                let all = out.get_or_insert_with(Self::default);
                all.names.extend(e.names.iter().cloned());
                all.resolved.extend(e.resolved.iter().cloned());
                all.datasets.extend(e.datasets.iter().cloned());
            }
        }
        out
    }

    /// The columns an SQL expression names (`F.expr`, `filter("x > 0")`, `query`).
    /// With an alias (`F.expr("x + 1 AS y")`), the column is named after it.
    pub fn sql(text: &str) -> Self {
        let mut e = Self::default();
        if let Some(expr) = parse_sql_expr(text) {
            e.names = identifiers(&expr);
            if let SqlExpr::Identifier(i) = &expr {
                e.name = Some(i.value.clone());
            }
        } else if let Item::Expr(aliased, name) = sql_select_item(text) {
            e.names = aliased.names;
            e.name = Some(name);
        }
        e
    }
}

/// An item of a select, a grouping or a sort: a column by name, an expression, or `*`.
#[derive(Debug, Clone)]
pub enum Item {
    Star,
    /// An expression and the name of the column it makes (its code when it has none).
    Expr(Expr, String),
    /// Something only running the code would tell.
    Unknown,
}

/// The items a value names: strings are column names, lists are flattened.
pub fn items(value: &Value, text: &str, out: &mut Vec<Item>) {
    match value {
        Value::Str(s) if s == "*" => out.push(Item::Star),
        Value::Str(s) => out.push(Item::Expr(Expr::named(s), s.clone())),
        Value::Column(e) => {
            let name = e.name.clone().unwrap_or_else(|| squeeze(text));
            if e.name.as_deref() == Some("*") {
                out.push(Item::Star);
            } else {
                out.push(Item::Expr((**e).clone(), name));
            }
        }
        Value::List(values) => {
            for v in values {
                items(v, "", out);
            }
        }
        _ => out.push(Item::Unknown),
    }
}

/// Code as a column name: its whitespace squeezed.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Data {
    /// A DataFrame of the rows of `datasets`, columns unknown.
    pub fn opaque(datasets: Lineage) -> Self {
        Self { rest: Some(datasets.clone()), datasets, ..Self::default() }
    }

    /// A DataFrame of `datasets` whose rows and columns came through code we cannot see:
    /// the columns that decided rows so far still did.
    pub fn through(values: &[&Data]) -> Self {
        let mut out = Self::opaque(Lineage::new());
        for d in values {
            out.datasets.extend(d.datasets.iter().cloned());
            out.indirect.extend(d.indirect.iter().cloned());
        }
        out.rest = Some(out.datasets.clone());
        out
    }

    /// The DataFrame read from `dataset`, with its columns when a schema says them.
    pub fn read(dataset: &str, columns: Option<&[String]>) -> Self {
        let datasets: Lineage = std::iter::once(dataset.to_string()).collect();
        match columns {
            Some(columns) if !columns.is_empty() => Self {
                named: columns
                    .iter()
                    .map(|c| (c.clone(), std::iter::once(format!("{dataset}.{c}")).collect()))
                    .collect(),
                rest: None,
                datasets,
                ..Self::default()
            },
            _ => Self::opaque(datasets),
        }
    }

    /// Where the column `name` comes from: a named column's sources, `dataset.name` when one
    /// dataset's unnamed columns pass through, the bare name when several could hold it (as
    /// SQL does for an ambiguous column), nothing when no column of that name is known.
    pub fn resolve(&self, name: &str) -> Sources {
        if let Some((_, sources)) = self.named.iter().find(|(n, _)| n == name) {
            return sources.clone();
        }
        match &self.rest {
            Some(rest) if rest.len() == 1 => rest.iter().map(|d| format!("{d}.{name}")).collect(),
            Some(rest) if rest.len() > 1 => std::iter::once(name.to_string()).collect(),
            _ => Sources::new(),
        }
    }

    pub fn sources(&self, e: &Expr) -> Sources {
        let mut out = e.resolved.clone();
        for name in &e.names {
            out.extend(self.resolve(name));
        }
        out
    }

    fn decide(&mut self, sources: Sources, kind: IndirectKind) {
        self.indirect.extend(sources.into_iter().map(|s| (s, kind)));
    }

    fn set(&mut self, name: &str, sources: Sources) {
        match self.named.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = sources,
            None => self.named.push((name.to_string(), sources)),
        }
    }

    /// The columns named by the items, only them (with `*`, the others too).
    #[must_use]
    pub fn select(&self, items: &[Item]) -> Self {
        let mut out = Self {
            datasets: self.datasets.clone(),
            indirect: self.indirect.clone(),
            ..Self::default()
        };
        for item in items {
            match item {
                Item::Star => {
                    for (n, s) in &self.named {
                        out.set(n, s.clone());
                    }
                    out.rest = merge_rest(out.rest.take(), self.rest.clone());
                }
                Item::Expr(e, name) => {
                    let sources = self.sources(e);
                    out.set(name, sources);
                    out.datasets.extend(e.datasets.iter().cloned());
                }
                Item::Unknown => out.rest = merge_rest(out.rest.take(), Some(Lineage::new())),
            }
        }
        out
    }

    /// The column `name` set to `value` (added, or replaced).
    #[must_use]
    pub fn with_column(&self, name: &str, value: &Value) -> Self {
        let mut out = self.clone();
        out.keys = None;
        let sources = match value {
            Value::Column(e) => {
                out.datasets.extend(e.datasets.iter().cloned());
                self.sources(e)
            }
            // A column of another DataFrame's data: its columns, not known by name.
            other => match other.lineage() {
                Some(l) => l.iter().map(|d| format!("{d}.*")).collect(),
                None => Sources::new(),
            },
        };
        if let Some(l) = value.lineage() {
            out.datasets.extend(l);
        }
        out.set(name, sources);
        out
    }

    /// Columns renamed (`from`, `to`).
    #[must_use]
    pub fn rename(&self, pairs: &[(String, String)]) -> Self {
        let mut out = self.clone();
        for (from, to) in pairs {
            let sources = self.resolve(from);
            // In its place; one that was among the unnamed ones is named from now on.
            if out.named.iter().any(|(n, _)| n == from) {
                out.named.retain(|(n, _)| n != to || n == from);
                if let Some(slot) = out.named.iter_mut().find(|(n, _)| n == from) {
                    *slot = (to.clone(), sources);
                }
            } else {
                out.set(to, sources);
            }
        }
        out
    }

    #[must_use]
    pub fn drop(&self, names: &[String]) -> Self {
        let mut out = self.clone();
        out.named.retain(|(n, _)| !names.contains(n));
        out
    }

    /// `groupBy(keys)`: the keys decide the rows, and the aggregation keeps them.
    #[must_use]
    pub fn group(&self, items: &[Item]) -> Self {
        let mut out = self.clone();
        let mut keys = Vec::new();
        for item in items {
            if let Item::Expr(e, name) = item {
                let sources = self.sources(e);
                out.decide(sources.clone(), IndirectKind::GroupBy);
                keys.push((name.clone(), sources));
            }
        }
        out.keys = Some(keys);
        out
    }

    /// An aggregation: the grouping keys, then the aggregated columns.
    #[must_use]
    pub fn aggregate(&self, items: &[Item]) -> Self {
        let mut out = Self {
            datasets: self.datasets.clone(),
            indirect: self.indirect.clone(),
            named: self.keys.clone().unwrap_or_default(),
            ..Self::default()
        };
        for item in items {
            match item {
                Item::Expr(e, name) => {
                    let sources = self.sources(e);
                    out.set(name, sources);
                }
                Item::Star | Item::Unknown => {
                    out.rest = merge_rest(out.rest.take(), Some(Lineage::new()));
                }
            }
        }
        out
    }

    /// `count()`, `sum()` … of a grouped DataFrame: its keys and its other columns, each
    /// reduced under its own name; of an ungrouped one, values the code cannot see.
    #[must_use]
    pub fn reduce(&self, method: &str) -> Self {
        let Some(keys) = &self.keys else { return Self::through(&[self]) };
        let mut out = Self {
            datasets: self.datasets.clone(),
            indirect: self.indirect.clone(),
            named: keys.clone(),
            ..Self::default()
        };
        if method == "count" || method == "size" {
            out.set(method, Sources::new());
            return out;
        }
        for (n, s) in &self.named {
            out.set(n, s.clone());
        }
        out.rest.clone_from(&self.rest);
        out
    }

    /// Rows filtered (or sorted, …) by these columns.
    #[must_use]
    pub fn decided(&self, e: &Expr, kind: IndirectKind) -> Self {
        let mut out = self.clone();
        out.datasets.extend(e.datasets.iter().cloned());
        out.decide(self.sources(e), kind);
        out
    }

    /// A join with `other` on the columns `on` (both sides' columns of that name meet and
    /// make one column), or on a condition `condition` (columns of either side).
    #[must_use]
    pub fn join(
        &self,
        other: &Data,
        on: &[String],
        left_on: &[String],
        right_on: &[String],
        condition: Option<&Expr>,
    ) -> Self {
        let mut out = Self {
            datasets: self.datasets.union(&other.datasets).cloned().collect(),
            indirect: self.indirect.union(&other.indirect).cloned().collect(),
            rest: match (&self.rest, &other.rest) {
                (None, None) => None,
                (a, b) => merge_rest(a.clone(), b.clone()),
            },
            ..Self::default()
        };
        for key in on {
            let mut sources = self.resolve(key);
            sources.extend(other.resolve(key));
            out.decide(sources.clone(), IndirectKind::Join);
            out.set(key, sources);
        }
        for key in left_on {
            out.decide(self.resolve(key), IndirectKind::Join);
        }
        for key in right_on {
            out.decide(other.resolve(key), IndirectKind::Join);
        }
        if let Some(e) = condition {
            let mut sources = e.resolved.clone();
            for name in &e.names {
                sources.extend(both(self, other, name));
            }
            out.decide(sources, IndirectKind::Join);
        }
        for (n, s) in self.named.iter().chain(&other.named) {
            if on.contains(n) {
                continue;
            }
            match out.named.iter_mut().find(|(m, _)| m == n) {
                Some(slot) => slot.1.extend(s.iter().cloned()),
                None => out.named.push((n.clone(), s.clone())),
            }
        }
        out
    }

    /// The rows of both: columns by position when both are fully known, else by name.
    #[must_use]
    pub fn union(&self, other: &Data, by_name: bool) -> Self {
        let mut out = self.clone();
        out.keys = None;
        out.datasets.extend(other.datasets.iter().cloned());
        out.indirect.extend(other.indirect.iter().cloned());
        let positional = !by_name
            && self.rest.is_none()
            && other.rest.is_none()
            && self.named.len() == other.named.len();
        if positional {
            for (slot, (_, s)) in out.named.iter_mut().zip(&other.named) {
                slot.1.extend(s.iter().cloned());
            }
            return out;
        }
        for (n, s) in &other.named {
            match out.named.iter_mut().find(|(m, _)| m == n) {
                Some(slot) => slot.1.extend(s.iter().cloned()),
                None => out.named.push((n.clone(), s.clone())),
            }
        }
        out.rest = match (&self.rest, &other.rest) {
            (None, None) => None,
            (a, b) => merge_rest(a.clone(), b.clone()),
        };
        out
    }

    /// The DataFrame of either branch.
    #[must_use]
    pub fn merge(&self, other: &Data) -> Self {
        if self == other {
            return self.clone();
        }
        let mut out = self.union(other, true);
        out.keys = None;
        out
    }

    /// What writing this DataFrame to `target` says: column edges, indirect edges, and the
    /// target's columns when they are all known.
    pub fn written(
        &self,
        target: &str,
    ) -> (Vec<ColumnEdge>, Vec<IndirectEdge>, Option<Vec<String>>) {
        let mut columns = Vec::new();
        for (name, sources) in &self.named {
            for source in sources {
                columns.push(ColumnEdge {
                    source: source.clone(),
                    target: format!("{target}.{name}"),
                });
            }
        }
        for dataset in self.rest.iter().flatten() {
            columns
                .push(ColumnEdge { source: format!("{dataset}.*"), target: format!("{target}.*") });
        }
        let indirect = self
            .indirect
            .iter()
            .map(|(source, kind)| IndirectEdge {
                source: source.clone(),
                target: target.to_string(),
                kind: *kind,
            })
            .collect();
        let output = (self.rest.is_none() && !self.named.is_empty())
            .then(|| self.named.iter().map(|(n, _)| n.clone()).collect());
        (columns, indirect, output)
    }
}

/// The effect a `@frame` or `@column` pattern gives the callee `name`: the property (other
/// than `receiver`) whose value lists it.
fn effect(spec: &Spec<'_>, name: Option<&str>) -> Option<&'static str> {
    let name = name?;
    spec.properties
        .iter()
        .find(|(key, value)| {
            *key != "receiver"
                && value.contains(name)
                && value.split_whitespace().any(|w| w == name)
        })
        .map(|(key, _)| *key)
}

/// What the `@frame` pattern `spec` says a call returns: the receiver DataFrame (or, for
/// `pd.merge` / `pd.concat`, the argument DataFrames) after the operation its `effect` names.
/// `None` when the call is not one on DataFrames after all.
pub fn frame_effect(
    spec: &Spec<'_>,
    callee: Option<&str>,
    receiver: Option<&Value>,
    positional: &[Value],
    texts: &[&str],
    keywords: &[(String, Value)],
) -> Option<Value> {
    let effect = effect(spec, callee)?;
    let keyword = |k: &str| keywords.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    match (effect, receiver) {
        ("join", _) => return join(callee, receiver, positional, keywords).map(Value::frame),
        ("union_by_name", Some(Value::Frame(_))) => {}
        ("union_by_name", _) => {
            // pd.concat([a, b]): the frames of a list.
            let Some(Value::List(frames)) = positional.first().or_else(|| keyword("objs")) else {
                return None;
            };
            let mut all = frames.iter().filter_map(Value::data);
            let first = all.next()?;
            return Some(Value::frame(all.fold(first, |acc, d| acc.union(&d, true))));
        }
        _ => {}
    }
    let Some(Value::Frame(shared)) = receiver else { return None };
    if effect == "keep" {
        return Some(Value::Frame(Rc::clone(shared)));
    }
    let data: &Data = shared;
    let listed = |values: &[Value], texts: &[&str]| -> Vec<Item> {
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            items(v, texts.get(i).copied().unwrap_or(""), &mut out);
        }
        out
    };
    let out = match effect {
        "select" => data.select(&listed(positional, texts)),
        "select_sql" => {
            let mut selected = Vec::new();
            for v in positional {
                match v {
                    Value::Str(text) => selected.push(sql_select_item(text)),
                    Value::List(list) => selected.extend(list.iter().map(|v| match v {
                        Value::Str(text) => sql_select_item(text),
                        _ => Item::Unknown,
                    })),
                    _ => selected.push(Item::Unknown),
                }
            }
            data.select(&selected)
        }
        "with" => match positional {
            [Value::Str(name), value, ..] => data.with_column(name, value),
            _ => data.select(&[Item::Star, Item::Unknown]),
        },
        "with_all" => {
            let pairs: Vec<(String, Value)> = match positional.first() {
                Some(Value::Dict(pairs)) => pairs.clone(),
                _ => keywords.to_vec(),
            };
            pairs.iter().fold(data.clone(), |acc, (name, value)| acc.with_column(name, value))
        }
        "rename" => {
            let pairs: Vec<(String, String)> = match (positional, keyword("columns")) {
                ([Value::Str(from), Value::Str(to), ..], _) => vec![(from.clone(), to.clone())],
                (_, Some(Value::Dict(map))) | ([Value::Dict(map), ..], None) => map
                    .iter()
                    .filter_map(|(from, to)| match to {
                        Value::Str(to) => Some((from.clone(), to.clone())),
                        _ => None,
                    })
                    .collect(),
                _ => return Some(Value::Frame(Rc::clone(shared))),
            };
            data.rename(&pairs)
        }
        "drop" => {
            let named = |v: &Value| -> Vec<String> {
                let mut out = Vec::new();
                names_of(v, &mut out);
                out
            };
            let columns = match (keyword("columns"), keyword("axis")) {
                (Some(v), _) => named(v),
                (None, Some(Value::Str(axis))) if axis == "1" || axis == "columns" => {
                    positional.iter().flat_map(named).collect()
                }
                // pandas' rows (axis 0, index=): the columns stay.
                (None, Some(_)) => Vec::new(),
                _ if keyword("index").is_some() => Vec::new(),
                _ => positional.iter().flat_map(named).collect(),
            };
            data.drop(&columns)
        }
        "group" => {
            let by = keyword("by").map_or_else(
                || listed(positional, texts),
                |v| listed(std::slice::from_ref(v), &[]),
            );
            data.group(&by)
        }
        "agg" => aggregate(data, positional, texts, keywords),
        "reduce" => data.reduce(callee.unwrap_or("")),
        "union" | "union_by_name" => {
            let other = positional.first().and_then(Value::data)?;
            data.union(&other, effect == "union_by_name")
        }
        "filter" => match (positional.first(), keyword("items")) {
            // pandas' filter(items=[…]) / filter([…]): columns, not rows.
            (Some(list @ Value::List(_)), _) | (None, Some(list)) => {
                data.select(&listed(std::slice::from_ref(list), &[]))
            }
            (Some(Value::Column(condition)), _) => data.decided(condition, IndirectKind::Filter),
            (Some(Value::Str(sql)), _) => data.decided(&Expr::sql(sql), IndirectKind::Filter),
            _ => data.clone(),
        },
        "sort" => {
            let by = keyword("by").map_or_else(
                || listed(positional, texts),
                |v| listed(std::slice::from_ref(v), &[]),
            );
            let mut out = data.clone();
            for item in &by {
                if let Item::Expr(e, _) = item {
                    out = out.decided(e, IndirectKind::Sort);
                }
            }
            out
        }
        _ => return None,
    };
    Some(Value::frame(out))
}

/// The column names a value lists.
fn names_of(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Str(s) => out.push(s.clone()),
        Value::Column(e) => out.extend(e.name.iter().cloned()),
        Value::List(values) => {
            for v in values {
                names_of(v, out);
            }
        }
        _ => {}
    }
}

/// `agg(F.sum("v").alias("total"))`, pandas' `agg({"v": "sum"})` (named after the column)
/// and `agg(total=("v", "sum"))`; `agg("sum")` reduces every column.
fn aggregate(
    data: &Data,
    positional: &[Value],
    texts: &[&str],
    keywords: &[(String, Value)],
) -> Data {
    let mut aggregated = Vec::new();
    for (i, value) in positional.iter().enumerate() {
        match value {
            Value::Dict(pairs) => {
                for (column, _) in pairs {
                    aggregated.push(Item::Expr(Expr::named(column), column.clone()));
                }
            }
            Value::Str(_) => return data.reduce("agg"),
            other => items(other, texts.get(i).copied().unwrap_or(""), &mut aggregated),
        }
    }
    for (name, value) in keywords {
        match value {
            Value::List(parts) => match parts.first() {
                Some(Value::Str(column)) => {
                    aggregated.push(Item::Expr(Expr::named(column), name.clone()));
                }
                _ => aggregated.push(Item::Unknown),
            },
            Value::Column(e) => aggregated.push(Item::Expr((**e).clone(), name.clone())),
            _ => aggregated.push(Item::Unknown),
        }
    }
    data.aggregate(&aggregated)
}

/// A join: `left.join(right, on)`, `left.merge(right, on=…)`, `pd.merge(left, right, …)`.
fn join(
    method: Option<&str>,
    receiver: Option<&Value>,
    positional: &[Value],
    keywords: &[(String, Value)],
) -> Option<Data> {
    let (left, right, rest) = match receiver {
        Some(Value::Frame(left)) => {
            ((**left).clone(), positional.first()?.data()?, positional.get(1..))
        }
        Some(Value::Dynamic(_) | Value::Unknown) | None => {
            let [left, right, ..] = positional else { return None };
            (left.data()?, right.data()?, positional.get(2..))
        }
        _ => return None,
    };
    let keyword = |k: &str| keywords.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    // Spark's join takes `on` second; pandas' merge takes `how` there.
    let on = keyword("on")
        .or_else(|| (method == Some("join")).then(|| rest.and_then(<[Value]>::first)).flatten());
    let names = |v: Option<&Value>| -> Vec<String> {
        let mut out = Vec::new();
        if let Some(v @ (Value::Str(_) | Value::List(_))) = v {
            names_of(v, &mut out);
        }
        out
    };
    let condition = match on {
        Some(Value::Column(e)) => Some((**e).clone()),
        Some(Value::List(items)) if items.iter().any(|v| matches!(v, Value::Column(_))) => {
            Expr::combine(items)
        }
        _ => None,
    };
    let on_names = if condition.is_some() { Vec::new() } else { names(on) };
    Some(left.join(
        &right,
        &on_names,
        &names(keyword("left_on")),
        &names(keyword("right_on")),
        condition.as_ref(),
    ))
}

/// What the `@column` pattern `spec` says a call returns: a column expression.
pub fn column_effect(
    spec: &Spec<'_>,
    callee: Option<&str>,
    receiver: Option<&Value>,
    positional: &[Value],
) -> Option<Value> {
    let effect = effect(spec, callee)?;
    if effect == "alias" {
        let (Some(Value::Column(e)), Some(Value::Str(name))) = (receiver, positional.first())
        else {
            return None;
        };
        return Some(Value::column(Expr { name: Some(name.clone()), ..(**e).clone() }));
    }
    // Functions of columns are called on a module (`F.sum`) or bare (`col`), not on data.
    if !matches!(receiver, None | Some(Value::Dynamic(_) | Value::Unknown)) {
        return None;
    }
    let as_column = |v: &Value| match v {
        Value::Str(name) => Some(Value::column(Expr::named(name))),
        Value::Column(_) => Some(v.clone()),
        _ => None,
    };
    let expr = match effect {
        "ref" => match positional.first()? {
            Value::Str(name) if name == "*" => Expr { name: Some(name.clone()), ..Expr::default() },
            Value::Str(name) => Expr::named(name),
            _ => return None,
        },
        "first" => {
            let mut parts: Vec<Value> =
                positional.first().and_then(as_column).into_iter().collect();
            parts.extend(
                positional.iter().skip(1).filter(|v| matches!(v, Value::Column(_))).cloned(),
            );
            Expr { name: None, ..Expr::combine(&parts)? }
        }
        "all" => {
            let parts: Vec<Value> = positional.iter().filter_map(as_column).collect();
            Expr { name: None, ..Expr::combine(&parts)? }
        }
        "sql" => match positional.first()? {
            Value::Str(text) => Expr::sql(text),
            _ => return None,
        },
        _ => return None,
    };
    Some(Value::column(expr))
}

/// A column named in a join condition: the side that has it, or both when either may.
fn both(left: &Data, right: &Data, name: &str) -> Sources {
    let has = |d: &Data| d.named.iter().any(|(n, _)| n == name);
    match (has(left), has(right)) {
        (true, false) => left.resolve(name),
        (false, true) => right.resolve(name),
        _ if left.rest.is_none() => right.resolve(name),
        _ if right.rest.is_none() => left.resolve(name),
        _ => {
            let mut s = left.resolve(name);
            s.extend(right.resolve(name));
            s
        }
    }
}

fn merge_rest(a: Option<Lineage>, b: Option<Lineage>) -> Option<Lineage> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        (Some(a), None) | (None, Some(a)) => Some(a),
        (None, None) => None,
    }
}

/// An SQL expression, or `None` when the SQL parser refuses it.
fn parse_sql_expr(text: &str) -> Option<SqlExpr> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect).try_with_sql(text).ok()?;
    let expr = parser.parse_expr().ok()?;
    // Trailing text means the whole was not one expression.
    parser.peek_token().token.eq(&sqlparser::tokenizer::Token::EOF).then_some(expr)
}

/// An SQL select item (`selectExpr("a", "b + 1 AS c")`): its expression's columns and its name.
pub fn sql_select_item(text: &str) -> Item {
    let dialect = GenericDialect {};
    let Some(item) =
        Parser::new(&dialect).try_with_sql(text).ok().and_then(|mut p| p.parse_select_item().ok())
    else {
        return Item::Unknown;
    };
    match item {
        SelectItem::UnnamedExpr(expr) => {
            let name = match &expr {
                SqlExpr::Identifier(i) => i.value.clone(),
                SqlExpr::CompoundIdentifier(parts) => {
                    parts.last().map_or_else(|| squeeze(text), |i| i.value.clone())
                }
                _ => squeeze(text),
            };
            Item::Expr(Expr { names: identifiers(&expr), ..Expr::default() }, name)
        }
        SelectItem::ExprWithAlias { expr, alias } => {
            Item::Expr(Expr { names: identifiers(&expr), ..Expr::default() }, alias.value)
        }
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => Item::Star,
        SelectItem::ExprWithAliases { .. } => Item::Unknown,
    }
}

/// The column names an SQL expression refers to (a qualified name by its last part; not
/// pandas' `@variable`s).
fn identifiers(expr: &SqlExpr) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let _ = visit_expressions(expr, |e| {
        match e {
            SqlExpr::Identifier(i) => {
                names.insert(i.value.clone());
            }
            SqlExpr::CompoundIdentifier(parts) => {
                if let Some(last) = parts.last() {
                    names.insert(last.value.clone());
                }
            }
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    names.retain(|n| !n.starts_with('@'));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn a_named_column_of_an_unknown_read_resolves_to_its_dataset() {
        let a = Data::read("raw.a", None);
        assert_eq!(a.resolve("x"), set(&["raw.a.x"]));
        let selected = a.select(&[
            Item::Expr(Expr::named("x"), "x".into()),
            Item::Expr(Expr::named("y"), "z".into()),
        ]);
        let (edges, _, output) = selected.written("out");
        let edges: Vec<(String, String)> =
            edges.into_iter().map(|e| (e.source, e.target)).collect();
        assert_eq!(edges, [("raw.a.x".into(), "out.x".into()), ("raw.a.y".into(), "out.z".into())]);
        assert_eq!(output, Some(vec!["x".to_string(), "z".to_string()]));
    }

    #[test]
    fn unknown_columns_pass_through_as_a_star() {
        let a = Data::read("raw.a", None);
        let derived = a.with_column("n", &Value::column(Expr::named("x")));
        let (edges, _, output) = derived.written("out");
        assert!(edges.iter().any(|e| e.source == "raw.a.*" && e.target == "out.*"));
        assert!(edges.iter().any(|e| e.source == "raw.a.x" && e.target == "out.n"));
        assert_eq!(output, None);
    }

    #[test]
    fn join_keys_come_from_both_sides_and_decide_rows() {
        let a = Data::read("a", None);
        let b = Data::read("b", Some(&["id".to_string(), "v".to_string()]));
        let joined = a.join(&b, &["id".to_string()], &[], &[], None);
        assert_eq!(joined.resolve("id"), set(&["a.id", "b.id"]));
        assert_eq!(joined.resolve("v"), set(&["b.v"]));
        // `w` is not b's (b is fully known): it is a's.
        assert_eq!(joined.resolve("w"), set(&["a.w"]));
        let (_, indirect, _) = joined.written("out");
        assert_eq!(indirect.len(), 2);
        assert!(indirect.iter().all(|e| e.kind == IndirectKind::Join && e.target == "out"));
    }

    #[test]
    fn group_and_aggregate_keep_the_keys() {
        let a = Data::read("a", None);
        let grouped = a.group(&[Item::Expr(Expr::named("k"), "k".into())]);
        let total = Expr { names: set(&["v"]), ..Expr::default() };
        let agg = grouped.aggregate(&[Item::Expr(total, "total".into())]);
        let (_, indirect, output) = agg.written("out");
        assert_eq!(output, Some(vec!["k".to_string(), "total".to_string()]));
        assert_eq!(agg.resolve("total"), set(&["a.v"]));
        assert_eq!(indirect[0].kind, IndirectKind::GroupBy);
        assert_eq!(indirect[0].source, "a.k");
    }

    #[test]
    fn sql_expressions_name_their_columns() {
        assert_eq!(Expr::sql("amount > 0 AND t.status = 'x'").names, set(&["amount", "status"]));
        let aliased = Expr::sql("x + 1 AS y");
        assert_eq!((aliased.names, aliased.name), (set(&["x"]), Some("y".to_string())));
        assert!(Expr::sql("this is not sql (").names.is_empty());
        assert_eq!(Expr::sql("x > @threshold").names, set(&["x"]));
        match sql_select_item("price * qty AS revenue") {
            Item::Expr(e, name) => {
                assert_eq!(name, "revenue");
                assert_eq!(e.names, set(&["price", "qty"]));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn union_by_position_when_both_sides_are_known() {
        let a = Data::read("a", Some(&["x".to_string()]));
        let b = Data::read("b", Some(&["y".to_string()]));
        assert_eq!(a.union(&b, false).resolve("x"), set(&["a.x", "b.y"]));
        assert_eq!(a.union(&b, true).named.len(), 2);
    }

    /// The column and indirect edges of a Python snippet's transformations, as text.
    fn edges(code: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
        let transformations =
            crate::extract::python::analyze("t.py", code, &crate::extract::Settings::default())
                .transformations;
        let mut columns = Vec::new();
        let mut indirect = Vec::new();
        let mut outputs = Vec::new();
        for t in transformations {
            columns.extend(t.columns.iter().map(|e| format!("{} -> {}", e.source, e.target)));
            indirect.extend(
                t.indirect.iter().map(|e| format!("{:?} {} -> {}", e.kind, e.source, e.target)),
            );
            outputs.extend(t.output_columns);
        }
        indirect.sort();
        (columns, indirect, outputs)
    }

    #[test]
    fn pyspark_select_with_column_and_rename() {
        let (columns, _, outputs) = edges(
            "df = spark.read.table('a').select('x', F.col('y').alias('z'), col('w'))\n\
             df = df.withColumn('n', F.col('x') + F.col('z')).withColumnRenamed('w', 'v')\n\
             df.drop('x').write.saveAsTable('b')\n",
        );
        assert_eq!(columns, ["a.w -> b.v", "a.x -> b.n", "a.y -> b.n", "a.y -> b.z"]);
        assert_eq!(outputs, ["z", "v", "n"]);
    }

    #[test]
    fn pyspark_filter_join_group_and_sort_decide_rows() {
        let (columns, indirect, outputs) = edges(
            "o = spark.table('orders').filter('amount > 0')\n\
             c = spark.table('customers').select('id', 'region')\n\
             t = o.join(c, o.customer_id == c.id).groupBy('region')\n\
             t.agg(F.sum('amount').alias('total')).orderBy(F.desc('total')).write.saveAsTable('r')\n",
        );
        assert_eq!(columns, ["customers.region -> r.region", "orders.amount -> r.total"]);
        assert_eq!(
            indirect,
            [
                "Filter orders.amount -> r",
                "GroupBy customers.region -> r",
                "Join customers.id -> r",
                "Join orders.customer_id -> r",
                "Sort orders.amount -> r",
            ]
        );
        assert_eq!(outputs, ["region", "total"]);
    }

    #[test]
    fn pandas_columns_through_subscripts_rename_and_groupby() {
        let (columns, indirect, outputs) = edges(
            "import pandas as pd\n\
             df = pd.read_csv('in.csv', usecols=['a', 'b', 'k'])\n\
             df['c'] = df['a'] * 2\n\
             df = df.rename(columns={'b': 'bb'})\n\
             out = df[df['a'] > 0].groupby('k').agg(total=('c', 'sum'))\n\
             out.to_parquet('out.parquet')\n",
        );
        assert_eq!(columns, ["in.csv.a -> out.parquet.total", "in.csv.k -> out.parquet.k"]);
        assert_eq!(indirect, ["Filter in.csv.a -> out.parquet", "GroupBy in.csv.k -> out.parquet"]);
        assert_eq!(outputs, ["k", "total"]);
    }

    #[test]
    fn pandas_merge_and_query() {
        let (columns, indirect, _) = edges(
            "import pandas as pd\n\
             a = pd.read_csv('a.csv', usecols=['id', 'x'])\n\
             b = pd.read_csv('b.csv', usecols=['aid', 'y'])\n\
             m = pd.merge(a, b, left_on='id', right_on='aid').query('y > 3')\n\
             m[['x', 'y']].sort_values(by='x').to_csv('m.csv')\n",
        );
        assert_eq!(columns, ["a.csv.x -> m.csv.x", "b.csv.y -> m.csv.y"]);
        assert_eq!(
            indirect,
            [
                "Filter b.csv.y -> m.csv",
                "Join a.csv.id -> m.csv",
                "Join b.csv.aid -> m.csv",
                "Sort a.csv.x -> m.csv",
            ]
        );
    }

    #[test]
    fn unknown_code_keeps_columns_unknown() {
        // A function of another module: what comes out has the data, columns unknown.
        let (columns, _, outputs) = edges(
            "df = spark.table('a').select('x')\n\
             clean(df).withColumn('n', F.lit(1)).write.saveAsTable('b')\n",
        );
        assert_eq!(columns, ["a.* -> b.*"]);
        assert!(outputs.is_empty());
    }

    #[test]
    fn sql_through_a_temporary_view_resolves_to_the_view_s_columns() {
        let (columns, indirect, outputs) = edges(
            "df = spark.table('a').filter(col('ok')).select('k', col('v').alias('w'))\n\
             df.createOrReplaceTempView('t')\n\
             spark.sql('SELECT k, sum(w) AS total FROM t GROUP BY k').write.saveAsTable('b')\n",
        );
        assert_eq!(columns, ["a.k -> b.k", "a.v -> b.total"]);
        assert_eq!(indirect, ["Filter a.ok -> b", "GroupBy a.k -> b"]);
        assert_eq!(outputs, ["k", "total"]);
    }
}
