//! Query scopes: which relations a SELECT sees, what each output column is computed from,
//! resolved down to the columns of base datasets.
//!
//! Explicit recursion over the query with a stack of CTE frames and a chain of SELECT scopes
//! (STYLE rule 7). A column reference is resolved in its own SELECT's scope first (FROM
//! relations, then earlier select-list aliases where the dialect allows them) and then in the
//! enclosing scopes, which is what makes correlated subqueries work.
//!
//! Without a catalog, a table's columns are unknown: `SELECT *` stays one `*` column whose
//! source is `table.*`, and a reference through it (`cte.col` where the CTE selected `*` from
//! `t`) resolves to `t.col`. With a catalog, stars expand and unqualified columns in joins go to
//! the one table that has them.

use std::collections::BTreeSet;

use sqlparser::ast::{
    Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, ObjectName, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Spanned, TableAlias, TableFactor, TableWithJoins,
};

use super::columns::{NestedUse, Role, references};
use super::dialect::Dialect;
use super::names::normalize_part;
use crate::diagnostic::Diagnostic;
use crate::extract::{Catalog, IndirectKind};

/// A column of a dataset. `dataset` is `None` when the column could not be attributed to one
/// relation (an unqualified column in a join, without a catalog to decide).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnRef {
    pub dataset: Option<String>,
    pub column: String,
}

impl ColumnRef {
    pub fn new(dataset: &str, column: &str) -> Self {
        Self { dataset: Some(dataset.to_string()), column: column.to_string() }
    }

    /// `dataset.column`, or the bare column when unattributed.
    pub fn render(&self) -> String {
        match &self.dataset {
            Some(d) => format!("{d}.{}", self.column),
            None => self.column.clone(),
        }
    }
}

/// One output column of a query and every base column it is computed from. A column named
/// `*` stands for all the columns of its sources' datasets (an unexpanded star).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputColumn {
    pub name: String,
    pub sources: BTreeSet<ColumnRef>,
    /// Base columns that decide this column's value without being copied into it (CASE
    /// conditions, window keys), with how.
    pub indirect: BTreeSet<(ColumnRef, IndirectKind)>,
}

impl OutputColumn {
    pub fn new(name: impl Into<String>, sources: BTreeSet<ColumnRef>) -> Self {
        Self { name: name.into(), sources, indirect: BTreeSet::new() }
    }

    fn with(name: impl Into<String>, lineage: Sources) -> Self {
        Self { name: name.into(), sources: lineage.direct, indirect: lineage.indirect }
    }

    fn lineage(&self) -> Sources {
        Sources { direct: self.sources.clone(), indirect: self.indirect.clone() }
    }

    pub fn is_star(&self) -> bool {
        self.name == "*"
    }
}

/// What an expression is computed from (`direct`) and what decides it (`indirect`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub direct: BTreeSet<ColumnRef>,
    pub indirect: BTreeSet<(ColumnRef, IndirectKind)>,
}

impl Sources {
    fn direct(direct: BTreeSet<ColumnRef>) -> Self {
        Self { direct, indirect: BTreeSet::new() }
    }

    pub fn extend(&mut self, other: Sources) {
        self.direct.extend(other.direct);
        self.indirect.extend(other.indirect);
    }

    /// Everything here, taking part in another expression in `role`: a value keeps its
    /// lineage; a condition or window key makes all of it decide, keeping the kinds that
    /// already decided.
    fn in_role(self, role: Role) -> Sources {
        let kind = match role {
            Role::Value => return self,
            Role::Conditional => IndirectKind::Conditional,
            Role::Window => IndirectKind::Window,
        };
        let mut indirect = self.indirect;
        indirect.extend(self.direct.into_iter().map(|c| (c, kind)));
        Sources { direct: BTreeSet::new(), indirect }
    }

    /// Every column that takes part, however.
    pub fn all(self) -> impl Iterator<Item = ColumnRef> {
        self.direct.into_iter().chain(self.indirect.into_iter().map(|(c, _)| c))
    }
}

/// The columns a query produces, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    pub columns: Vec<OutputColumn>,
}

/// What stays fixed while one statement is walked.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub dialect: Dialect,
    pub catalog: &'a Catalog,
    pub default_schema: Option<&'a str>,
    /// 1-based line of `text`'s first line in the file.
    pub first_line: usize,
    /// 1-based file line where the statement's code starts (after comments).
    pub code_line: usize,
    /// The statement is one of several in a chunk (a procedure body): its own line comes
    /// from its span, not from the chunk.
    pub nested: bool,
    /// Compute indirect lineage (filters, keys, conditions) too.
    pub indirect: bool,
    /// Tokens of the chunk the statement was parsed from (comments and whitespace left out).
    pub tokens: u32,
}

/// A relation visible in a SELECT: a table, or a derived table (subquery, CTE, function).
#[derive(Debug, Clone)]
pub struct Relation {
    /// The name columns are qualified with: the alias, else the table's last name part.
    pub name: String,
    /// The full dataset name, for references qualified with it (`schema.table.col`).
    pub dataset: Option<String>,
    pub kind: RelationKind,
}

#[derive(Debug, Clone)]
pub enum RelationKind {
    Table {
        columns: Option<Vec<String>>,
    },
    Derived(Shape),
    /// The element of an array (`UNNEST(o.items) AS item`, `explode(tags)`): it and every
    /// field of it (`item.sku`) come from the array.
    Element(BTreeSet<ColumnRef>),
}

/// Whether a relation has a column of some name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Has {
    Yes,
    Maybe,
    No,
}

impl Relation {
    /// A base table, with its columns from the catalog when known.
    pub fn table(dataset: String, alias: Option<String>, catalog: &Catalog) -> Self {
        let columns = catalog.columns(&dataset).map(<[String]>::to_vec);
        let name = alias.unwrap_or_else(|| last_part(&dataset));
        Relation { name, dataset: Some(dataset), kind: RelationKind::Table { columns } }
    }

    fn has(&self, column: &str) -> Has {
        match &self.kind {
            RelationKind::Table { columns: Some(columns) } => {
                if columns.iter().any(|c| c == column) { Has::Yes } else { Has::No }
            }
            RelationKind::Table { columns: None } => Has::Maybe,
            RelationKind::Element(_) => {
                if column == self.name {
                    Has::Yes
                } else {
                    Has::Maybe
                }
            }
            RelationKind::Derived(shape) => {
                if shape.columns.iter().any(|c| c.name == column) {
                    Has::Yes
                } else if shape.columns.iter().any(OutputColumn::is_star) {
                    Has::Maybe
                } else {
                    Has::No
                }
            }
        }
    }

    /// The base columns behind `column` of this relation, and what decides it.
    fn column(&self, column: &str, catalog: &Catalog) -> Sources {
        match &self.kind {
            RelationKind::Table { .. } => {
                let dataset = self.dataset.clone();
                Sources::direct(BTreeSet::from([ColumnRef { dataset, column: column.to_string() }]))
            }
            RelationKind::Derived(shape) => {
                if let Some(out) = shape.columns.iter().find(|c| c.name == column) {
                    return out.lineage();
                }
                Sources::direct(through_stars(shape, column, catalog))
            }
            RelationKind::Element(sources) => Sources::direct(sources.clone()),
        }
    }

    /// The output columns `*` or `name.*` gives for this relation.
    fn star(&self) -> Vec<OutputColumn> {
        match &self.kind {
            RelationKind::Table { columns: Some(columns) } => columns
                .iter()
                .map(|c| {
                    let source = ColumnRef { dataset: self.dataset.clone(), column: c.clone() };
                    OutputColumn::new(c.clone(), BTreeSet::from([source]))
                })
                .collect(),
            RelationKind::Table { columns: None } => {
                let source = ColumnRef { dataset: self.dataset.clone(), column: "*".into() };
                vec![OutputColumn::new("*", BTreeSet::from([source]))]
            }
            RelationKind::Derived(shape) => shape.columns.clone(),
            RelationKind::Element(sources) => {
                vec![OutputColumn::new(self.name.clone(), sources.clone())]
            }
        }
    }
}

/// `column` of a shape that has no column of that name but selected `*` from datasets: the
/// column of those datasets that can have it.
fn through_stars(shape: &Shape, column: &str, catalog: &Catalog) -> BTreeSet<ColumnRef> {
    let candidates: Vec<&ColumnRef> = shape
        .columns
        .iter()
        .filter(|c| c.is_star())
        .flat_map(|c| &c.sources)
        .filter(|s| s.column == "*")
        .collect();
    let known: Vec<&&ColumnRef> = candidates
        .iter()
        .filter(|s| {
            s.dataset
                .as_deref()
                .and_then(|d| catalog.columns(d))
                .is_none_or(|cols| cols.iter().any(|c| c == column))
        })
        .collect();
    let chosen: Vec<&&ColumnRef> =
        if known.is_empty() { candidates.iter().collect() } else { known };
    chosen
        .into_iter()
        .map(|s| ColumnRef { dataset: s.dataset.clone(), column: column.to_string() })
        .collect()
}

fn last_part(dataset: &str) -> String {
    split_name(dataset).pop().unwrap_or_default()
}

/// Split a rendered dataset name into its parts (parts with dots are double-quoted).
pub fn split_name(name: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in name.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

/// The relations of one SELECT, its select-list aliases so far, and the enclosing scope.
pub struct Scope<'p> {
    pub relations: Vec<Relation>,
    aliases: Vec<(String, Sources)>,
    /// The SELECT's named windows (`WINDOW w AS (PARTITION BY …)`) and their keys.
    windows: Vec<(String, Sources)>,
    parent: Option<&'p Scope<'p>>,
}

impl<'p> Scope<'p> {
    pub fn new(parent: Option<&'p Scope<'p>>) -> Self {
        Scope { relations: Vec::new(), aliases: Vec::new(), windows: Vec::new(), parent }
    }

    fn relation(&self, name: &str) -> Option<&Relation> {
        // The last one wins: in `FROM a x JOIN b x` engines refuse; we take the nearest.
        self.relations
            .iter()
            .rev()
            .find(|r| r.name == name)
            .or_else(|| self.relations.iter().rev().find(|r| r.dataset.as_deref() == Some(name)))
    }
}

/// Walks the queries of one statement, collecting what they read.
pub struct Walker<'a> {
    env: &'a Env<'a>,
    /// CTEs visible at this point, innermost last.
    ctes: Vec<(String, Shape)>,
    /// Datasets read, by canonical name.
    pub reads: BTreeSet<String>,
    /// Columns that decide which rows the statement produces (filters, join and grouping
    /// keys, sort keys), anywhere in its queries.
    pub indirect: BTreeSet<(ColumnRef, IndirectKind)>,
    pub diagnostics: Vec<Diagnostic>,
    /// Unattributed column names already reported.
    ambiguous: BTreeSet<String>,
    /// Whether indirect lineage is computed (`Settings::indirect`).
    with_indirect: bool,
}

impl<'a> Walker<'a> {
    pub fn new(env: &'a Env<'a>, ctes: &[(String, Shape)]) -> Self {
        Walker {
            env,
            ctes: ctes.to_vec(),
            reads: BTreeSet::new(),
            indirect: BTreeSet::new(),
            diagnostics: Vec::new(),
            ambiguous: BTreeSet::new(),
            with_indirect: env.indirect,
        }
    }

    pub fn env(&self) -> &Env<'a> {
        self.env
    }

    /// The canonical name of a dataset as written, with the default schema applied to
    /// unqualified names. File paths (Spark's ``parquet.`s3://b/p` ``) become the path.
    pub fn dataset_name(&self, name: &ObjectName) -> String {
        let idents: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
        if let [format, path] = idents.as_slice()
            && path.quote_style.is_some()
            && is_path(&path.value)
            && FILE_FORMATS.contains(&format.value.to_lowercase().as_str())
        {
            return path.value.clone();
        }
        if let [only] = idents.as_slice()
            && only.quote_style.is_some()
            && is_path(&only.value)
            && only.value.contains("://")
        {
            return only.value.clone();
        }
        let mut parts: Vec<String> =
            idents.iter().map(|i| quote_dots(normalize_part(&i.value, i.quote_style))).collect();
        if parts.len() == 1
            && let Some(schema) = self.env.default_schema
        {
            parts.insert(0, schema.to_string());
        }
        parts.join(".")
    }

    fn cte(&self, name: &ObjectName) -> Option<&Shape> {
        let [only] = name.0.as_slice() else { return None };
        let ident = only.as_ident()?;
        let key = normalize_part(&ident.value, ident.quote_style);
        self.ctes.iter().rev().find(|(n, _)| *n == key).map(|(_, s)| s)
    }

    /// Whether a name refers to a CTE in scope (and so is no dataset).
    pub fn is_cte(&self, name: &ObjectName) -> bool {
        self.cte(name).is_some()
    }

    /// Make the CTEs of a WITH clause visible to what follows (until the caller truncates
    /// `ctes` again), reading what they read.
    pub fn define_ctes(&mut self, with: &sqlparser::ast::With, outer: Option<&Scope<'_>>) {
        for cte in &with.cte_tables {
            let name = normalize_part(&cte.alias.name.value, cte.alias.name.quote_style);
            if with.recursive {
                // The recursive part reads the CTE itself: a first pass gives the shape the
                // second pass sees.
                self.ctes.push((name.clone(), Shape::default()));
                let anchor = self.query(&cte.query, outer);
                self.ctes.pop();
                self.ctes.push((name.clone(), anchor));
            }
            let shape = self.query(&cte.query, outer);
            let shape = rename_columns(shape, &cte.alias);
            if with.recursive {
                self.ctes.pop();
            }
            self.ctes.push((name, shape));
        }
    }

    /// The CTEs visible now, for a statement nested in a WITH (`WITH x AS (…) INSERT …`).
    pub fn ctes(&self) -> &[(String, Shape)] {
        &self.ctes
    }

    /// The shape of a query, reading what it reads.
    pub fn query(&mut self, query: &Query, outer: Option<&Scope<'_>>) -> Shape {
        let frames = self.ctes.len();
        if let Some(with) = &query.with {
            self.define_ctes(with, outer);
        }
        let order_by: &[sqlparser::ast::OrderByExpr] = match &query.order_by {
            Some(sqlparser::ast::OrderBy {
                kind: sqlparser::ast::OrderByKind::Expressions(exprs),
                ..
            }) => exprs,
            _ => &[],
        };
        let shape = match query.body.as_ref() {
            // ORDER BY of a plain SELECT may use the SELECT's relations: resolve it there.
            SetExpr::Select(select) => self.select(select, outer, order_by),
            body => {
                let shape = self.set_expr(body, outer);
                let scope = Scope::new(outer);
                for e in order_by {
                    self.decide_key(&e.expr, &shape.columns, &scope, IndirectKind::Sort);
                }
                shape
            }
        };
        self.ctes.truncate(frames);
        shape
    }

    fn set_expr(&mut self, body: &SetExpr, outer: Option<&Scope<'_>>) -> Shape {
        match body {
            SetExpr::Select(select) => self.select(select, outer, &[]),
            SetExpr::Query(query) => self.query(query, outer),
            SetExpr::SetOperation { left, right, .. } => {
                let left = self.set_expr(left, outer);
                let right = self.set_expr(right, outer);
                union_by_position(left, right)
            }
            SetExpr::Values(values) => {
                let scope = Scope::new(outer);
                let width = values.rows.first().map_or(0, |r| r.content.len());
                let mut columns: Vec<OutputColumn> = (1..=width)
                    .map(|i| OutputColumn::new(format!("column{i}"), BTreeSet::new()))
                    .collect();
                for row in &values.rows {
                    for (i, e) in row.content.iter().enumerate() {
                        let sources = self.expr_sources(e, &scope);
                        if let Some(c) = columns.get_mut(i) {
                            c.sources.extend(sources);
                        }
                    }
                }
                Shape { columns }
            }
            SetExpr::Table(table) => {
                let Some(name) = &table.table_name else { return Shape::default() };
                let mut parts = Vec::new();
                if let Some(schema) = &table.schema_name {
                    parts.push(Ident::new(schema));
                }
                parts.push(Ident::new(name));
                let object = ObjectName::from(parts);
                let rel = self.named_relation(&object, None);
                Shape { columns: rel.star() }
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                let (line, column) = self.position(body.span().start);
                self.diagnostics.push(Diagnostic::warning(
                    line,
                    column,
                    "data-modifying statement inside a query: not analyzed",
                ));
                Shape::default()
            }
        }
    }

    fn select(
        &mut self,
        select: &Select,
        outer: Option<&Scope<'_>>,
        order_by: &[sqlparser::ast::OrderByExpr],
    ) -> Shape {
        let mut scope = Scope::new(outer);
        for item in &select.from {
            self.table_with_joins(item, &mut scope);
        }
        for sqlparser::ast::NamedWindowDefinition(name, window) in &select.named_window {
            if let sqlparser::ast::NamedWindowExpr::WindowSpec(spec) = window {
                let mut keys = Sources::default();
                for e in spec.partition_by.iter().chain(spec.order_by.iter().map(|o| &o.expr)) {
                    keys.extend(self.expr_lineage(e, &scope));
                }
                scope.windows.push((ident_name(name), keys));
            }
        }
        for view in &select.lateral_views {
            // `LATERAL VIEW explode(col) t AS a, b`: a relation `t` whose columns come from
            // the exploded expression.
            let sources = self.expr_sources(&view.lateral_view, &scope);
            let name = view
                .lateral_view_name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map_or_else(String::new, ident_name);
            let columns = view
                .lateral_col_alias
                .iter()
                .map(|a| OutputColumn::new(ident_name(a), sources.clone()))
                .collect();
            scope.relations.push(Relation {
                name,
                dataset: None,
                kind: RelationKind::Derived(Shape { columns }),
            });
        }

        let mut columns = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    let lineage = self.expr_lineage(expr, &scope);
                    let name = Self::output_name(expr);
                    self.push_alias(&mut scope, &name, &lineage);
                    columns.push(OutputColumn::with(name, lineage));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let lineage = self.expr_lineage(expr, &scope);
                    let name = ident_name(alias);
                    self.push_alias(&mut scope, &name, &lineage);
                    columns.push(OutputColumn::with(name, lineage));
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let lineage = self.expr_lineage(expr, &scope);
                    for alias in aliases {
                        columns.push(OutputColumn::with(ident_name(alias), lineage.clone()));
                    }
                }
                SelectItem::Wildcard(_) => {
                    for rel in &scope.relations {
                        columns.extend(rel.star());
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => match kind {
                    SelectItemQualifiedWildcardKind::ObjectName(name) => {
                        let key = qualifier_key(name);
                        match scope.relation(&key) {
                            Some(rel) => columns.extend(rel.star()),
                            None => {
                                let (line, column) = self.position(name.span().start);
                                self.diagnostics.push(Diagnostic::warning(
                                    line,
                                    column,
                                    format!("`{name}.*` names no relation of this SELECT"),
                                ));
                            }
                        }
                    }
                    SelectItemQualifiedWildcardKind::Expr(expr) => {
                        let sources = self.expr_sources(expr, &scope);
                        columns.push(OutputColumn::new("*", sources));
                    }
                },
            }
        }

        // Clauses that decide which rows there are and in what order, not what values.
        let filters = select
            .selection
            .iter()
            .chain(&select.prewhere)
            .chain(&select.having)
            .chain(&select.qualify);
        for e in filters {
            self.decide(e, &scope, IndirectKind::Filter);
        }
        if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
            for e in exprs {
                self.decide_key(e, &columns, &scope, IndirectKind::GroupBy);
            }
        }
        let sorts = select
            .sort_by
            .iter()
            .map(|o| &o.expr)
            .chain(&select.cluster_by)
            .chain(&select.distribute_by);
        for e in sorts.chain(order_by.iter().map(|o| &o.expr)) {
            self.decide_key(e, &columns, &scope, IndirectKind::Sort);
        }
        Shape { columns: dedup_star_covered(columns) }
    }

    fn push_alias(&self, scope: &mut Scope<'_>, name: &str, sources: &Sources) {
        if self.env.dialect.supports_lateral_column_alias() {
            scope.aliases.push((name.to_string(), sources.clone()));
        }
    }

    /// Add the relations of `a JOIN b ON …` to the scope; join conditions are walked once
    /// both sides are in it.
    pub fn table_with_joins(&mut self, item: &TableWithJoins, scope: &mut Scope<'_>) {
        self.table_factor(&item.relation, scope);
        self.joins(&item.joins, scope);
    }

    /// Add joined relations to the scope; each join condition is walked once both of its
    /// sides are in it, and its columns decide the result as join keys.
    pub fn joins(&mut self, joins: &[sqlparser::ast::Join], scope: &mut Scope<'_>) {
        for join in joins {
            self.table_factor(&join.relation, scope);
            match join_constraint(&join.join_operator) {
                Some(JoinConstraint::On(on)) => self.decide(on, scope, IndirectKind::Join),
                Some(JoinConstraint::Using(names)) => {
                    // `USING (id)`: the column of that name on both sides.
                    for name in names {
                        let Some(column) = name.0.last().and_then(|p| p.as_ident()).map(ident_name)
                        else {
                            continue;
                        };
                        for rel in scope.relations.iter().filter(|r| r.has(&column) != Has::No) {
                            let keys = rel.column(&column, self.env.catalog);
                            if self.with_indirect {
                                self.indirect.extend(keys.all().map(|c| (c, IndirectKind::Join)));
                            }
                        }
                    }
                }
                Some(JoinConstraint::Natural | JoinConstraint::None) | None => {}
            }
            if let JoinOperator::AsOf { match_condition, .. } = &join.join_operator {
                self.decide(match_condition, scope, IndirectKind::Join);
            }
        }
    }

    pub fn table_factor(&mut self, factor: &TableFactor, scope: &mut Scope<'_>) {
        match factor {
            TableFactor::Table { name, alias, args, .. } => {
                if let Some(args) = args.as_ref().filter(|a| !is_table_hints(a)) {
                    // A table-valued function: `generate_series(…)`, `TABLE(FLATTEN(…))`.
                    let mut sources = BTreeSet::new();
                    for arg in &args.args {
                        if let sqlparser::ast::FunctionArg::Unnamed(
                            sqlparser::ast::FunctionArgExpr::Expr(e),
                        ) = arg
                        {
                            sources.extend(self.expr_sources(e, scope));
                        }
                    }
                    scope.relations.push(function_relation(
                        alias.as_ref(),
                        &last_ident(name),
                        sources,
                    ));
                    return;
                }
                let alias_name = alias.as_ref().map(|a| ident_name(&a.name));
                let rel = self.named_relation(name, alias_name);
                let rel = match alias {
                    Some(a) if !a.columns.is_empty() => {
                        let shape = Shape { columns: rel.star() };
                        Relation { kind: RelationKind::Derived(rename_columns(shape, a)), ..rel }
                    }
                    _ => rel,
                };
                scope.relations.push(rel);
            }
            TableFactor::Derived { subquery, alias, lateral, .. } => {
                let shape = if *lateral {
                    // A LATERAL subquery sees the relations to its left.
                    let outer_view = Scope {
                        relations: scope.relations.clone(),
                        aliases: Vec::new(),
                        windows: Vec::new(),
                        parent: scope.parent,
                    };
                    self.query(subquery, Some(&outer_view))
                } else {
                    self.query(subquery, scope.parent)
                };
                let (name, shape) = match alias {
                    Some(a) => (ident_name(&a.name), rename_columns(shape, a)),
                    None => (String::new(), shape),
                };
                scope.relations.push(Relation {
                    name,
                    dataset: None,
                    kind: RelationKind::Derived(shape),
                });
            }
            TableFactor::NestedJoin { table_with_joins, .. } => {
                self.table_with_joins(table_with_joins, scope);
            }
            TableFactor::Function { name, args, alias, .. } => {
                let mut sources = BTreeSet::new();
                for arg in args {
                    if let sqlparser::ast::FunctionArg::Unnamed(
                        sqlparser::ast::FunctionArgExpr::Expr(e),
                    ) = arg
                    {
                        sources.extend(self.expr_sources(e, scope));
                    }
                }
                scope.relations.push(function_relation(alias.as_ref(), &last_ident(name), sources));
            }
            TableFactor::TableFunction { expr, alias } => {
                let sources = self.expr_sources(expr, scope);
                scope.relations.push(function_relation(alias.as_ref(), "", sources));
            }
            TableFactor::UNNEST { alias, array_exprs, .. } => {
                let mut sources = BTreeSet::new();
                for e in array_exprs {
                    sources.extend(self.expr_sources(e, scope));
                }
                scope.relations.push(function_relation(alias.as_ref(), "unnest", sources));
            }
            TableFactor::JsonTable { json_expr, alias, .. }
            | TableFactor::OpenJsonTable { json_expr, alias, .. } => {
                let sources = self.expr_sources(json_expr, scope);
                scope.relations.push(function_relation(alias.as_ref(), "json_table", sources));
            }
            TableFactor::Pivot { table, alias, .. }
            | TableFactor::Unpivot { table, alias, .. }
            | TableFactor::MatchRecognize { table, alias, .. } => {
                // The inner relation is read; the reshaped columns are left as its star.
                let mut inner = Scope::new(scope.parent);
                self.table_factor(table, &mut inner);
                let columns = inner.relations.iter().flat_map(Relation::star).collect();
                let name = alias.as_ref().map_or_else(
                    || inner.relations.first().map(|r| r.name.clone()).unwrap_or_default(),
                    |a| ident_name(&a.name),
                );
                scope.relations.push(Relation {
                    name,
                    dataset: None,
                    kind: RelationKind::Derived(Shape { columns }),
                });
            }
            other => {
                let (line, column) = self.position(other.span().start);
                self.diagnostics.push(Diagnostic::warning(
                    line,
                    column,
                    "table expression not analyzed for lineage",
                ));
            }
        }
    }

    /// A relation by name: a CTE in scope, else a dataset (which is read).
    pub fn named_relation(&mut self, name: &ObjectName, alias: Option<String>) -> Relation {
        if let Some(shape) = self.cte(name) {
            let shape = shape.clone();
            let name = alias.unwrap_or_else(|| qualifier_key(name));
            return Relation { name, dataset: None, kind: RelationKind::Derived(shape) };
        }
        let dataset = self.dataset_name(name);
        self.reads.insert(dataset.clone());
        let mut rel = Relation::table(dataset, alias.clone(), self.env.catalog);
        if alias.is_none() {
            // Columns may be qualified with the table name as written, before the default
            // schema was applied.
            rel.name = last_ident(name);
        }
        rel
    }

    /// The base columns an expression's value is computed from. Nested queries are walked
    /// (what they read is read); the value of a scalar subquery comes from its output column.
    pub fn expr_sources(&mut self, expr: &Expr, scope: &Scope<'_>) -> BTreeSet<ColumnRef> {
        self.expr_lineage(expr, scope).direct
    }

    /// What an expression's value is computed from, and what decides it (CASE conditions,
    /// window keys, the subqueries of `IN` / `EXISTS` tests).
    pub fn expr_lineage(&mut self, expr: &Expr, scope: &Scope<'_>) -> Sources {
        let mut lineage = Sources::default();
        let refs = references(expr, &mut |query, nested_use, role| {
            let shape = self.query(query, Some(scope));
            let role = if nested_use == NestedUse::Predicate { Role::Conditional } else { role };
            for column in shape.columns {
                lineage.extend(column.lineage().in_role(role));
            }
        });
        for (parts, role) in &refs.columns {
            let found = self.resolve(parts, scope);
            lineage.extend(found.in_role(*role));
        }
        for (star, role) in &refs.stars {
            let relations: Vec<&Relation> = match star {
                None => scope.relations.iter().collect(),
                Some(parts) => {
                    let key = parts.iter().map(ident_name).collect::<Vec<_>>().join(".");
                    scope.relation(&key).into_iter().collect()
                }
            };
            for rel in relations {
                for column in rel.star() {
                    lineage.extend(column.lineage().in_role(*role));
                }
            }
        }
        for name in &refs.named_windows {
            let key = ident_name(name);
            if let Some((_, keys)) = scope.windows.iter().find(|(n, _)| *n == key) {
                lineage.extend(keys.clone().in_role(Role::Window));
            }
        }
        lineage
    }

    /// Every column an expression uses decides the result as `kind` (a WHERE, a join
    /// condition, a grouping key): recorded for the statement, as are what its subqueries
    /// read and decide.
    pub fn decide(&mut self, expr: &Expr, scope: &Scope<'_>, kind: IndirectKind) {
        if !self.with_indirect {
            // Still walk the subqueries: what they read is read.
            references(expr, &mut |query, _, _| {
                self.query(query, Some(scope));
            });
            return;
        }
        let lineage = self.expr_lineage(expr, scope);
        self.indirect.extend(lineage.all().map(|c| (c, kind)));
    }

    /// A key given by position or output name (`GROUP BY 1`, `ORDER BY total`) stands for
    /// that output column; anything else is an expression over the scope.
    fn decide_key(
        &mut self,
        expr: &Expr,
        columns: &[OutputColumn],
        scope: &Scope<'_>,
        kind: IndirectKind,
    ) {
        let output = match expr {
            Expr::Value(v) => match &v.value {
                sqlparser::ast::Value::Number(n, _) => n
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| i.checked_sub(1))
                    .and_then(|i| columns.get(i)),
                _ => None,
            },
            Expr::Identifier(ident) => {
                let name = ident_name(ident);
                // A column of a relation wins over an output name (SQL's GROUP BY rule).
                let is_input = resolve_in(std::slice::from_ref(&name), scope, self.env).is_some();
                columns.iter().find(|c| c.name == name).filter(|_| !is_input)
            }
            _ => None,
        };
        match output {
            Some(column) => {
                let lineage = column.lineage();
                self.indirect.extend(lineage.all().map(|c| (c, kind)));
            }
            None => self.decide(expr, scope, kind),
        }
    }

    /// Resolve a column reference in a scope chain.
    fn resolve(&mut self, parts: &[Ident], scope: &Scope<'_>) -> Sources {
        let names: Vec<String> = parts.iter().map(ident_name).collect();
        if let Some(found) = resolve_in(&names, scope, self.env) {
            return found;
        }
        match names.as_slice() {
            [column] => {
                // Several relations may have it and no catalog says which. Said once per
                // column and statement: a query repeats its columns in every clause.
                if scope.relations.len() > 1 && self.ambiguous.insert(column.clone()) {
                    let (line, col) = self.ident_position(parts);
                    self.diagnostics.push(Diagnostic::warning(
                        line,
                        col,
                        format!("column `{column}` could belong to several relations; give a --schema or qualify it"),
                    ));
                }
                Sources::direct(BTreeSet::from([ColumnRef {
                    dataset: None,
                    column: column.clone(),
                }]))
            }
            _ => {
                // `a.b` with no relation `a`: a struct field, or a table the query does not name.
                let column = names.last().cloned().unwrap_or_default();
                let qualifier = names[..names.len() - 1].join(".");
                let (line, col) = self.ident_position(parts);
                self.diagnostics.push(Diagnostic::warning(
                    line,
                    col,
                    format!("`{qualifier}.{column}`: no relation `{qualifier}` in scope"),
                ));
                Sources::default()
            }
        }
    }

    /// The name of an unaliased output column: a column's own name, else the expression
    /// as sqlparser prints it (keywords upper-cased, white space normalized): engines name
    /// such columns after the expression text, and a canonical print keeps the name stable
    /// across formatting changes.
    fn output_name(expr: &Expr) -> String {
        match expr {
            Expr::Identifier(ident) => ident_name(ident),
            Expr::CompoundIdentifier(idents) => idents.last().map(ident_name).unwrap_or_default(),
            // `col::type` keeps the column's name (Postgres names it so).
            Expr::Cast { kind: sqlparser::ast::CastKind::DoubleColon, expr: inner, .. }
                if matches!(inner.as_ref(), Expr::Identifier(_) | Expr::CompoundIdentifier(_)) =>
            {
                Self::output_name(inner)
            }
            _ => expr.to_string(),
        }
    }

    /// File position of a column reference: its first identifier's.
    fn ident_position(&self, parts: &[Ident]) -> (usize, usize) {
        match parts.first() {
            Some(ident) => self.position(ident.span.start),
            None => (self.env.code_line, 1),
        }
    }

    /// File position (line, column) of a location in the statement.
    pub fn position(&self, location: sqlparser::tokenizer::Location) -> (usize, usize) {
        if location.line == 0 {
            return (self.env.code_line, 1);
        }
        (self.env.first_line + to_usize(location.line) - 1, to_usize(location.column))
    }
}

pub fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Resolve `names` (a column reference, normalized) in a scope and its parents.
fn resolve_in(names: &[String], scope: &Scope<'_>, env: &Env<'_>) -> Option<Sources> {
    match names {
        [column] => {
            let mut definite = scope.relations.iter().filter(|r| r.has(column) == Has::Yes);
            if let Some(rel) = definite.next() {
                return Some(rel.column(column, env.catalog));
            }
            // An earlier select-list alias wins over tables that may or may not have the
            // column: the query names the alias; the tables' columns are unknown.
            if let Some((_, sources)) = scope.aliases.iter().rev().find(|(n, _)| n == column) {
                return Some(sources.clone());
            }
            let maybe: Vec<&Relation> =
                scope.relations.iter().filter(|r| r.has(column) == Has::Maybe).collect();
            match maybe.as_slice() {
                [rel] => Some(rel.column(column, env.catalog)),
                // No relation here has it: an outer query's column (correlation).
                [] => scope.parent.and_then(|p| resolve_in(names, p, env)),
                // Ambiguous here; an outer relation that surely has it decides, else the
                // caller reports it unattributed.
                _ => scope.parent.and_then(|p| resolve_in(names, p, env)),
            }
        }
        [qualifier @ .., column] => {
            let key = qualifier.join(".");
            if let Some(rel) = scope.relation(&key) {
                if rel.has(column) == Has::No {
                    return Some(Sources::default());
                }
                return Some(rel.column(column, env.catalog));
            }
            if let Some(found) = scope.parent.and_then(|p| resolve_in(names, p, env)) {
                return Some(found);
            }
            // A struct field `col.field` (or `t.col.field`): the column is the first part
            // that resolves.
            if env.dialect.supports_struct_fields() && scope.parent.is_none() {
                for cut in (1..names.len()).rev() {
                    if let Some(found) = resolve_in(&names[..cut], scope, env)
                        && !found.direct.iter().all(|c| c.dataset.is_none())
                    {
                        return Some(found);
                    }
                }
            }
            None
        }
        [] => Some(Sources::default()),
    }
}

fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c)
        | JoinOperator::StraightJoin(c)
        | JoinOperator::AsOf { constraint: c, .. } => Some(c),
        JoinOperator::CrossApply
        | JoinOperator::OuterApply
        | JoinOperator::ArrayJoin
        | JoinOperator::LeftArrayJoin
        | JoinOperator::InnerArrayJoin => None,
    }
}

fn function_relation(
    alias: Option<&TableAlias>,
    default_name: &str,
    sources: BTreeSet<ColumnRef>,
) -> Relation {
    let name = alias.as_ref().map_or_else(|| default_name.to_string(), |a| ident_name(&a.name));
    let columns = match alias {
        Some(a) if !a.columns.is_empty() => a
            .columns
            .iter()
            .map(|c| OutputColumn::new(ident_name(&c.name), sources.clone()))
            .collect(),
        // `UNNEST(arr) AS x` in BigQuery names the element after the alias.
        _ => return Relation { name, dataset: None, kind: RelationKind::Element(sources) },
    };
    Relation { name, dataset: None, kind: RelationKind::Derived(Shape { columns }) }
}

/// Rename a shape's columns by position after `alias (c1, c2, …)`.
fn rename_columns(mut shape: Shape, alias: &TableAlias) -> Shape {
    if alias.columns.is_empty() {
        return shape;
    }
    if shape.columns.iter().any(OutputColumn::is_star) {
        // Positions are unknown behind a star: name the listed columns after all the
        // sources.
        let sources: BTreeSet<ColumnRef> =
            shape.columns.iter().flat_map(|c| c.sources.clone()).collect();
        shape.columns = alias
            .columns
            .iter()
            .map(|c| OutputColumn::new(ident_name(&c.name), sources.clone()))
            .collect();
        return shape;
    }
    for (column, new) in shape.columns.iter_mut().zip(&alias.columns) {
        column.name = ident_name(&new.name);
    }
    shape
}

/// UNION / INTERSECT / EXCEPT: columns pair by position and take the left side's names.
fn union_by_position(mut left: Shape, right: Shape) -> Shape {
    let left_star = left.columns.iter().any(OutputColumn::is_star);
    let right_star = right.columns.iter().any(OutputColumn::is_star);
    if left_star || right_star || left.columns.len() != right.columns.len() {
        // Positions cannot be paired: keep named columns and merge stars.
        for column in right.columns {
            match left.columns.iter_mut().find(|c| c.name == column.name) {
                Some(existing) => {
                    existing.sources.extend(column.sources);
                    existing.indirect.extend(column.indirect);
                }
                None if column.is_star() => left.columns.push(column),
                None => {}
            }
        }
        return left;
    }
    for (l, r) in left.columns.iter_mut().zip(right.columns) {
        l.sources.extend(r.sources);
        l.indirect.extend(r.indirect);
    }
    left
}

/// `SELECT f1, * FROM t`: `f1` is one of the columns `*` already carries from the same
/// dataset; listing it twice would make `t.f1` look like a separate lineage path.
fn dedup_star_covered(columns: Vec<OutputColumn>) -> Vec<OutputColumn> {
    let starred: BTreeSet<Option<String>> = columns
        .iter()
        .filter(|c| c.is_star())
        .flat_map(|c| c.sources.iter().map(|s| s.dataset.clone()))
        .collect();
    if starred.is_empty() {
        return columns;
    }
    columns
        .into_iter()
        .filter(|c| {
            c.is_star()
                || !(c.sources.len() == 1
                    && c.sources.iter().all(|s| s.column == c.name && starred.contains(&s.dataset)))
        })
        .collect()
}

/// `"a.b"` names one part with a dot in it: keep it apart from two parts.
fn quote_dots(part: String) -> String {
    if part.contains('.') { format!("\"{part}\"") } else { part }
}

const FILE_FORMATS: &[&str] = &[
    "parquet",
    "csv",
    "json",
    "orc",
    "delta",
    "text",
    "avro",
    "binaryfile",
    "iceberg",
    "hudi",
    "jdbc",
];

fn is_path(value: &str) -> bool {
    value.contains('/') || value.contains("://")
}

pub fn ident_name(ident: &Ident) -> String {
    normalize_part(&ident.value, ident.quote_style)
}

fn last_ident(name: &ObjectName) -> String {
    name.0.last().and_then(|p| p.as_ident()).map(ident_name).unwrap_or_default()
}

/// The key a qualified reference uses for a relation: `a` or `schema.t`.
fn qualifier_key(name: &ObjectName) -> String {
    name.0.iter().filter_map(|p| p.as_ident()).map(ident_name).collect::<Vec<_>>().join(".")
}

/// T-SQL's `FROM t (NOLOCK)`: table hints written like arguments of a table function.
fn is_table_hints(args: &sqlparser::ast::TableFunctionArgs) -> bool {
    const HINTS: &[&str] = &[
        "nolock",
        "readuncommitted",
        "readcommitted",
        "repeatableread",
        "serializable",
        "updlock",
        "holdlock",
        "rowlock",
        "paglock",
        "tablock",
        "tablockx",
        "nowait",
        "readpast",
        "xlock",
        "snapshot",
        "noexpand",
    ];
    !args.args.is_empty()
        && args.args.iter().all(|a| {
            matches!(a, sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(Expr::Identifier(i)))
                if HINTS.contains(&i.value.to_lowercase().as_str()))
        })
}
