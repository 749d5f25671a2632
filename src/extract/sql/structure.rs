//! The shape of a statement's SQL as counts (`Structure`): joins by kind, aggregations,
//! windows, sorts, filters and where they stand relative to joins, subqueries, set operations,
//! stars, function calls. They are features of the run-cost model (issue 5), so they must be
//! cheap: one pass with sqlparser's `Visitor` over the parsed statement, which already holds
//! everything (STYLE rule 7: visitors for flat collection). The few counts that need to look
//! around a node (which derived tables feed a join) read the AST under that node directly; a
//! CTE, read by name elsewhere, is remembered when the visit meets its definition.
//!
//! Counts are syntactic: `SELECT … FROM a, b WHERE a.k = b.k` has a cross join and a filter
//! after it, as written, whatever plan an engine makes of it.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Distinct, DuplicateTreatment, Expr, Function, FunctionArguments, GroupByExpr,
    Ident, JoinOperator, LimitClause, MergeClauseKind, ObjectName, Query, Select, SelectItem,
    SetExpr, SetQuantifier, Statement, TableFactor, TableWithJoins, UpdateTableFromKind, Visit,
    Visitor,
};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::dialect::Dialect;
use super::scope::ident_name;
use crate::extract::Structure;

/// The structure of one parsed statement. `tokens` is its size in tokens, which the caller
/// knows from parsing it (see [`token_count`]).
pub fn of(statement: &Statement, tokens: u32) -> Structure {
    let mut counter = Counter {
        structure: Structure { tokens, ..Structure::default() },
        result: result_query(statement).map(address),
        ctes: Vec::new(),
    };
    let _ = statement.visit(&mut counter);
    counter.structure
}

/// Whether the statement is a query whose outermost ORDER BY has no LIMIT: it orders only the
/// rows a client receives, so [`of`] does not count it as a sort for nothing. A dbt model
/// materializes that query, and then it is one.
pub fn sorts_result_without_limit(statement: &Statement) -> bool {
    result_query(statement).is_some_and(|q| q.order_by.is_some() && !is_limited(q))
}

/// Tokens of a SQL text as sqlparser's tokenizer sees them (comments and whitespace left out),
/// or its whitespace-separated words when the tokenizer refuses it (an unterminated string in
/// a statement only the fallback could read).
pub fn token_count(text: &str, dialect: Dialect) -> u32 {
    let parser_dialect = dialect.parser();
    // Through the parser, as statements that parse are counted: the same tokenizer options,
    // so the same text gives the same count on either path.
    match Parser::new(&*parser_dialect).try_with_sql(text) {
        Ok(parser) => count_tokens(parser.into_tokens().iter().map(|t| &t.token)),
        Err(_) => saturate(text.split_whitespace().count()),
    }
}

/// The tokens that are code: not whitespace, not comments (sqlparser's whitespace tokens), not
/// the end of input.
pub fn count_tokens<'t>(tokens: impl Iterator<Item = &'t Token>) -> u32 {
    saturate(tokens.filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF)).count())
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The query whose rows a statement returns to its client: a SELECT statement's outermost
/// query, unless it is `SELECT … INTO t` or wraps a data-modifying statement.
fn result_query(statement: &Statement) -> Option<&Query> {
    match statement {
        Statement::Query(query)
            if super::select_into(&query.body).is_none() && super::dml_body(query).is_none() =>
        {
            Some(query)
        }
        _ => None,
    }
}

fn address(query: &Query) -> usize {
    std::ptr::from_ref(query) as usize
}

struct Counter {
    structure: Structure,
    /// The address of the query whose rows the client receives: its ORDER BY is wanted.
    result: Option<usize>,
    /// CTEs met so far: name, the WHERE conjuncts of its join-less SELECTs, and whether a join
    /// has counted them already. Names are not scoped: a statement that defines two CTEs of
    /// one name in different WITH clauses is rare, and the count is a feature, not lineage.
    ctes: Vec<(String, u32, bool)>,
}

impl Visitor for Counter {
    type Break = ();

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<()> {
        match statement {
            Statement::Update(update) => {
                let from: &[TableWithJoins] = match &update.from {
                    Some(UpdateTableFromKind::BeforeSet(t) | UpdateTableFromKind::AfterSet(t)) => t,
                    None => &[],
                };
                // `UPDATE t SET … FROM a, b`: the FROM list joins the target as a comma item
                // does, and its own items beyond the first are comma items.
                let mut joined = self.joins(std::slice::from_ref(&update.table));
                joined += self.joins(from);
                if !from.is_empty() {
                    self.structure.joins_cross += 1;
                    joined += 1;
                }
                let factors = std::iter::once(&update.table).chain(from);
                self.dml_filters(update.selection.as_ref(), joined > 0, factors);
            }
            Statement::Delete(delete) => {
                let (sqlparser::ast::FromTable::WithFromKeyword(from)
                | sqlparser::ast::FromTable::WithoutKeyword(from)) = &delete.from;
                let using: &[TableWithJoins] = delete.using.as_deref().unwrap_or_default();
                let mut joined = self.joins(from);
                joined += self.joins(using);
                // `DELETE FROM t USING a`: as UPDATE's FROM.
                if !using.is_empty() {
                    self.structure.joins_cross += 1;
                    joined += 1;
                }
                self.dml_filters(delete.selection.as_ref(), joined > 0, from.iter().chain(using));
            }
            Statement::Merge(merge) => {
                // MERGE joins its target and source; which rows survive is what its WHEN
                // clauses ask for.
                let by_target = merge.clauses.iter().any(|c| {
                    matches!(
                        c.clause_kind,
                        MergeClauseKind::NotMatched | MergeClauseKind::NotMatchedByTarget
                    )
                });
                let by_source = merge
                    .clauses
                    .iter()
                    .any(|c| matches!(c.clause_kind, MergeClauseKind::NotMatchedBySource));
                match (by_target, by_source) {
                    (true, true) => self.structure.joins_full += 1,
                    (true, false) | (false, true) => self.structure.joins_outer += 1,
                    (false, false) => self.structure.joins_inner += 1,
                }
                self.structure.filters_before_join += self.feeding_filters(&merge.source);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            self.structure.ctes += saturate(with.cte_tables.len());
            for cte in &with.cte_tables {
                let filters = join_free_filters(&cte.query.body);
                self.ctes.push((ident_name(&cte.alias.name), filters, false));
            }
        }
        if query.order_by.is_some() {
            self.structure.order_by += 1;
            if !is_limited(query) && self.result != Some(address(query)) {
                self.structure.order_by_without_limit += 1;
            }
        }
        // TOP is the SELECT's, counted there.
        if has_limit_or_fetch(query) {
            self.structure.limit += 1;
        }
        self.set_operations(&query.body);
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        let s = &mut self.structure;
        if matches!(select.distinct, Some(Distinct::Distinct | Distinct::On(_))) {
            s.distinct += 1;
        }
        if select.top.is_some() {
            s.limit += 1;
        }
        s.select_star += saturate(
            select
                .projection
                .iter()
                .filter(|item| {
                    matches!(item, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..))
                })
                .count(),
        );
        match &select.group_by {
            GroupByExpr::All(_) => s.group_by += 1,
            GroupByExpr::Expressions(exprs, modifiers) => {
                if !exprs.is_empty() || !modifiers.is_empty() {
                    s.group_by += 1;
                }
                s.group_keys += exprs.iter().map(group_keys).sum::<u32>();
            }
        }
        if select.having.is_some() {
            s.having += 1;
        }
        // Hive's LATERAL VIEW multiplies rows as a cross join with the array's elements does.
        s.joins_cross += saturate(select.lateral_views.len());
        let joined = self.joins(&select.from) + select.lateral_views.len() > 0
            || select.from.iter().any(|t| nested_join(&t.relation));
        if let Some(selection) = &select.selection {
            let n = conjuncts(selection);
            self.structure.filters += n;
            if joined {
                self.structure.filters_after_join += n;
            }
        }
        if joined {
            for item in &select.from {
                for factor in
                    std::iter::once(&item.relation).chain(item.joins.iter().map(|j| &j.relation))
                {
                    self.structure.filters_before_join += self.feeding_filters(factor);
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::Table { args: None, .. } => self.structure.tables += 1,
            TableFactor::Derived { .. } => self.structure.subqueries += 1,
            // The joins inside parentheses; the SELECT around counts its own.
            TableFactor::NestedJoin { table_with_joins, .. } => {
                self.joins(std::slice::from_ref(table_with_joins.as_ref()));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        let s = &mut self.structure;
        match expr {
            Expr::Function(function) => self.function(function),
            Expr::Subquery(_) => s.subqueries += 1,
            Expr::InSubquery { .. } | Expr::Exists { .. } => {
                s.subqueries += 1;
                s.joins_semi += 1;
            }
            // `x = ANY (SELECT …)`: the subquery itself is an `Expr::Subquery`, counted there.
            Expr::AnyOp { right, .. } | Expr::AllOp { right, .. }
                if matches!(right.as_ref(), Expr::Subquery(_)) =>
            {
                s.joins_semi += 1;
            }
            Expr::Case { .. } => s.case_expressions += 1,
            Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::RLike { .. } => {
                s.pattern_matches += 1;
            }
            Expr::Cast { .. }
            | Expr::Convert { .. }
            | Expr::Extract { .. }
            | Expr::Substring { .. }
            | Expr::Trim { .. }
            | Expr::Position { .. }
            | Expr::Overlay { .. }
            | Expr::Ceil { .. }
            | Expr::Floor { .. } => s.functions += 1,
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

impl Counter {
    /// Count the joins of FROM items (comma items beyond the first are cross joins); returns
    /// how many there are. Joins inside parentheses are the visit's (`pre_visit_table_factor`).
    fn joins(&mut self, items: &[TableWithJoins]) -> usize {
        let s = &mut self.structure;
        let commas = items.len().saturating_sub(1);
        s.joins_cross += saturate(commas);
        let mut count = commas;
        for join in items.iter().flat_map(|item| &item.joins) {
            count += 1;
            match &join.join_operator {
                JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::StraightJoin(_) => {
                    s.joins_inner += 1;
                }
                // Snowflake's ASOF JOIN keeps every left row, matched or not.
                JoinOperator::Left(_)
                | JoinOperator::LeftOuter(_)
                | JoinOperator::Right(_)
                | JoinOperator::RightOuter(_)
                | JoinOperator::OuterApply
                | JoinOperator::AsOf { .. }
                | JoinOperator::LeftArrayJoin => s.joins_outer += 1,
                JoinOperator::FullOuter(_) => s.joins_full += 1,
                JoinOperator::CrossJoin(_)
                | JoinOperator::CrossApply
                | JoinOperator::ArrayJoin
                | JoinOperator::InnerArrayJoin => s.joins_cross += 1,
                JoinOperator::Semi(_)
                | JoinOperator::LeftSemi(_)
                | JoinOperator::RightSemi(_)
                | JoinOperator::Anti(_)
                | JoinOperator::LeftAnti(_)
                | JoinOperator::RightAnti(_) => s.joins_semi += 1,
            }
        }
        count
    }

    /// The WHERE of an UPDATE or DELETE, and the filters of what its FROM / USING reads.
    fn dml_filters<'a>(
        &mut self,
        selection: Option<&Expr>,
        joined: bool,
        items: impl Iterator<Item = &'a TableWithJoins>,
    ) {
        if let Some(selection) = selection {
            let n = conjuncts(selection);
            self.structure.filters += n;
            if joined {
                self.structure.filters_after_join += n;
            }
        }
        if joined {
            for item in items {
                for factor in
                    std::iter::once(&item.relation).chain(item.joins.iter().map(|j| &j.relation))
                {
                    self.structure.filters_before_join += self.feeding_filters(factor);
                }
            }
        }
    }

    /// The WHERE conjuncts that a relation read by a join applies before the join: those of a
    /// derived table's join-less SELECTs, or of a CTE's the first time a join reads it.
    fn feeding_filters(&mut self, factor: &TableFactor) -> u32 {
        match factor {
            TableFactor::Derived { subquery, .. } => join_free_filters(&subquery.body),
            TableFactor::Table { name, args: None, .. } => self.cte_filters(name),
            TableFactor::NestedJoin { table_with_joins, .. } => {
                let t = table_with_joins.as_ref();
                let factors =
                    std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation));
                factors.map(|f| self.feeding_filters(f)).sum()
            }
            _ => 0,
        }
    }

    fn cte_filters(&mut self, name: &ObjectName) -> u32 {
        if self.ctes.is_empty() {
            return 0;
        }
        let [part] = name.0.as_slice() else { return 0 };
        let Some(ident) = part.as_ident() else { return 0 };
        // The innermost definition of the name is the latest met.
        match self.ctes.iter_mut().rev().find(|(n, _, _)| names_ident(n, ident)) {
            Some((_, filters, counted)) if !*counted => {
                *counted = true;
                *filters
            }
            _ => 0,
        }
    }

    fn set_operations(&mut self, body: &SetExpr) {
        // Chains of UNIONs nest on the left: a loop follows them, and only right operands
        // that are set operations themselves (parenthesized, rare) recurse. A parenthesized
        // operand is a query of its own, which the visit meets.
        let mut body = body;
        while let SetExpr::SetOperation { left, set_quantifier, right, .. } = body {
            self.structure.set_operations += 1;
            if !matches!(set_quantifier, SetQuantifier::All | SetQuantifier::AllByName) {
                self.structure.union_distinct += 1;
            }
            self.set_operations(right);
            body = left;
        }
    }

    fn function(&mut self, function: &Function) {
        let s = &mut self.structure;
        let parts = function.name.0.as_slice();
        let last = parts.last().and_then(|p| p.as_ident()).map_or("", |i| i.value.as_str());
        // BigQuery's `SAFE.fn(…)` is the built-in `fn` returning NULL on error.
        let qualified = match parts {
            [_] => false,
            [prefix, _] => prefix.as_ident().is_none_or(|i| !i.value.eq_ignore_ascii_case("safe")),
            _ => true,
        };
        if qualified || !is_builtin(last) {
            s.udfs += 1;
        }
        if let FunctionArguments::List(list) = &function.args
            && list.duplicate_treatment == Some(DuplicateTreatment::Distinct)
        {
            s.distinct += 1;
        }
        if starts_with_ignore_case(last, "regexp") || last.eq_ignore_ascii_case("rlike") {
            s.pattern_matches += 1;
        }
        if function.over.is_some() {
            s.windows += 1;
        } else if (!qualified && is_aggregate(last))
            || function.filter.is_some()
            || !function.within_group.is_empty()
        {
            s.aggregates += 1;
        } else {
            s.functions += 1;
        }
    }
}

/// Whether `name` (normalized, as `ident_name` gives) is the name `ident` stands for, without
/// allocating the normalized form of every table reference.
fn names_ident(name: &str, ident: &Ident) -> bool {
    if ident.quote_style.is_some() {
        name == ident.value
    } else if ident.value.is_ascii() {
        name.len() == ident.value.len()
            && name.bytes().zip(ident.value.bytes()).all(|(n, v)| n == v.to_ascii_lowercase())
    } else {
        name == ident_name(ident)
    }
}

/// Whether a query limits its rows: LIMIT (not OFFSET alone), FETCH, or its SELECT's TOP.
fn is_limited(query: &Query) -> bool {
    has_limit_or_fetch(query)
        || matches!(query.body.as_ref(), SetExpr::Select(select) if select.top.is_some())
}

fn has_limit_or_fetch(query: &Query) -> bool {
    let limit = match &query.limit_clause {
        Some(LimitClause::LimitOffset { limit, .. }) => limit.is_some(),
        Some(LimitClause::OffsetCommaLimit { .. }) => true,
        None => false,
    };
    limit || query.fetch.is_some()
}

/// Whether a FROM item is a parenthesized join: `(a JOIN b)`.
fn nested_join(factor: &TableFactor) -> bool {
    match factor {
        TableFactor::NestedJoin { table_with_joins, .. } => {
            !table_with_joins.joins.is_empty() || nested_join(&table_with_joins.relation)
        }
        _ => false,
    }
}

/// The WHERE conjuncts of the join-less SELECTs that make a query's rows (through set
/// operations, not into subqueries): the filters a relation applies before what reads it.
fn join_free_filters(body: &SetExpr) -> u32 {
    // Left-deep chains of set operations are followed by the loop, without recursion.
    let mut total = 0;
    let mut body = body;
    loop {
        match body {
            SetExpr::Select(select) => {
                let joined = select.from.len() > 1
                    || select.from.iter().any(|t| !t.joins.is_empty() || nested_join(&t.relation))
                    || !select.lateral_views.is_empty();
                if !joined {
                    total += select.selection.as_ref().map_or(0, conjuncts);
                }
                return total;
            }
            SetExpr::SetOperation { left, right, .. } => {
                total += join_free_filters(right);
                body = left;
            }
            SetExpr::Query(query) => body = &query.body,
            _ => return total,
        }
    }
}

/// The top-level AND-conjuncts of a condition, parentheses looked through: `a AND (b AND c)`
/// is 3, `a AND (b OR c)` is 2. A generated WHERE can chain thousands of ANDs, which nest on
/// the left: a loop follows them, and only parenthesized right operands recurse (their depth is
/// bounded by the parser's recursion limit).
fn conjuncts(condition: &Expr) -> u32 {
    let mut count = 0;
    let mut expr = condition;
    loop {
        match expr {
            Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
                count += conjuncts(right);
                expr = left;
            }
            Expr::Nested(inner) => expr = inner,
            _ => return count + 1,
        }
    }
}

/// Key expressions of one GROUP BY item; ROLLUP, CUBE and GROUPING SETS count the
/// expressions they group by.
fn group_keys(expr: &Expr) -> u32 {
    match expr {
        Expr::Rollup(sets) | Expr::Cube(sets) | Expr::GroupingSets(sets) => {
            saturate(sets.iter().map(Vec::len).sum())
        }
        _ => 1,
    }
}

fn is_aggregate(name: &str) -> bool {
    contains_ignore_case(AGGREGATES, name)
        || AGGREGATE_PREFIXES.iter().any(|p| starts_with_ignore_case(name, p))
}

/// Whether a function name is a built-in of some common dialect (see [`BUILTINS`]).
fn is_builtin(name: &str) -> bool {
    is_aggregate(name)
        || contains_ignore_case(WINDOW_FUNCTIONS, name)
        || contains_ignore_case(BUILTINS, name)
        || starts_with_ignore_case(name, "regexp")
}

/// Binary search of a sorted lower-case list, without allocating a lower-cased copy.
fn contains_ignore_case(list: &[&str], name: &str) -> bool {
    list.binary_search_by(|probe| compare_lowercase(probe, name)).is_ok()
}

fn compare_lowercase(lower: &str, name: &str) -> Ordering {
    lower.bytes().cmp(name.bytes().map(|b| b.to_ascii_lowercase()))
}

fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

// The name lists below are kept several names a line (rustfmt would put one a line): they are
// long, and read as lists, not as code.

/// Aggregate functions, sorted. Families are in `AGGREGATE_PREFIXES`.
#[rustfmt::skip]
const AGGREGATES: &[&str] = &[
    "any_value", "arbitrary", "arg_max", "arg_min", "argmax", "argmin", "array_agg",
    "array_union_agg", "array_unique_agg", "avg", "bit_and", "bit_or", "bit_xor", "bitand_agg",
    "bitor_agg", "bitxor_agg", "bool_and", "bool_or", "booland_agg", "boolor_agg", "collect_list",
    "collect_set", "corr", "count", "count_big", "count_if", "countif", "covar_pop", "covar_samp",
    "every", "first", "group_concat", "hash_agg", "json_agg", "json_arrayagg", "json_object_agg",
    "json_objectagg", "jsonb_agg", "jsonb_object_agg", "kurtosis", "last", "listagg",
    "logical_and", "logical_or", "max", "max_by", "median", "min", "min_by", "mode", "object_agg",
    "product", "skewness", "stddev", "stdev", "stdevp", "string_agg", "sum", "var", "var_pop",
    "var_samp", "variance", "variance_pop", "variance_samp", "varp", "xmlagg",
];

/// Families of aggregates: `approx_count_distinct`, `percentile_cont`, ClickHouse's
/// `quantileExact` and `uniqExact`, `regr_slope`, `stddev_pop`.
const AGGREGATE_PREFIXES: &[&str] =
    &["approx_", "percentile", "quantile", "regr_", "stddev", "uniq"];

/// Functions that only exist with OVER, sorted.
#[rustfmt::skip]
const WINDOW_FUNCTIONS: &[&str] = &[
    "conditional_change_event", "conditional_true_event", "cume_dist", "dense_rank", "first_value",
    "lag", "last_value", "lead", "nth_value", "ntile", "percent_rank", "rank", "ratio_to_report",
    "row_number",
];

/// Common built-in scalar functions across dialects (ANSI, Postgres, MySQL, Snowflake,
/// BigQuery, Redshift, SQL Server, Spark / Hive, DuckDB), sorted. A call of anything else is
/// counted as a UDF: a heuristic, since no list holds every dialect's built-ins, that errs
/// towards UDFs for rare built-ins.
#[rustfmt::skip]
const BUILTINS: &[&str] = &[
    "abs", "acos", "acosh", "add_months", "array", "array_append", "array_cat", "array_compact",
    "array_concat", "array_construct", "array_contains", "array_distinct", "array_except",
    "array_intersect", "array_join", "array_length", "array_position", "array_prepend",
    "array_remove", "array_size", "array_slice", "array_sort", "array_to_string", "arrays_overlap",
    "ascii", "asin", "asinh", "atan", "atan2", "atanh", "base64_decode", "base64_encode",
    "bit_length", "btrim", "cardinality", "cbrt", "ceil", "ceiling", "char", "char_length",
    "character_length", "charindex", "chr", "coalesce", "collate", "concat", "concat_ws",
    "contains", "convert", "convert_timezone", "cos", "cosh", "cot", "crc32", "current_database",
    "current_date", "current_datetime", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "date", "date_add", "date_diff", "date_format",
    "date_from_parts", "date_part", "date_sub", "date_trunc", "dateadd", "datediff",
    "datefromparts", "datename", "datepart", "datetime", "datetime_add", "datetime_diff",
    "datetime_trunc", "day", "dayname", "dayofmonth", "dayofweek", "dayofyear", "decode",
    "degrees", "div", "div0", "div0null", "element_at", "encode", "endswith", "exp", "explode",
    "explode_outer", "extract", "flatten", "floor", "format", "format_date", "format_datetime",
    "format_timestamp", "from_json", "from_unixtime", "from_utc_timestamp", "generate_array",
    "generate_date_array", "generate_series", "generate_uuid", "get", "get_json_object",
    "get_path", "getdate", "greatest", "grouping", "hash", "hex", "hour", "if", "iff", "ifnull",
    "iif", "ilike", "initcap", "inline", "instr", "is_nan", "is_null", "isnull", "json_extract",
    "json_extract_path", "json_extract_path_text", "json_extract_scalar", "json_query",
    "json_value", "last_day", "lcase", "least", "left", "len", "length", "like", "ln", "locate",
    "log", "log10", "log2", "lower", "lpad", "ltrim", "make_date", "map", "md5", "minute", "mod",
    "month", "monthname", "months_between", "named_struct", "next_day", "now", "nullif",
    "nullifzero", "nvl", "nvl2", "object_construct", "object_insert", "octet_length", "parse_date",
    "parse_datetime", "parse_json", "parse_timestamp", "pi", "posexplode", "position", "pow",
    "power", "quarter", "radians", "rand", "random", "repeat", "replace", "reverse", "right", "rlike",
    "round", "rpad", "rtrim", "safe_cast", "safe_divide", "second", "sequence", "sha1", "sha2",
    "sha256", "sign", "sin", "sinh", "size", "sort_array", "space", "split", "split_part", "sqrt",
    "square", "startswith", "str_to_date", "strftime", "string", "strpos", "strptime", "struct",
    "substr", "substring", "sysdate", "systimestamp", "tan", "tanh", "time", "timestamp",
    "timestamp_add", "timestamp_diff", "timestamp_trunc", "timestampadd", "timestampdiff",
    "to_char", "to_date", "to_json", "to_number", "to_time", "to_timestamp", "to_timestamp_ntz",
    "to_timestamp_tz", "to_utc_timestamp", "to_varchar", "today", "translate", "trim", "trunc",
    "try_cast", "try_divide", "try_parse_json", "try_to_date", "try_to_number", "try_to_timestamp",
    "typeof", "ucase", "unhex", "unix_timestamp", "unnest", "upper", "uuid", "uuid_string", "week",
    "weekofyear", "year", "zeroifnull",
];

#[cfg(test)]
mod tests {
    use super::super::{SqlOptions, analyze};
    use super::*;
    use crate::extract::{Confidence, Kind, Settings, extract};

    /// The structure of a script's last statement, its size left out (tested on its own).
    fn shape_in(sql: &str, dialect: Dialect) -> Structure {
        let options = SqlOptions { dialect, ..SqlOptions::default() };
        let (statements, diagnostics) = analyze(sql, &options);
        assert!(diagnostics.is_empty(), "{sql}: {diagnostics:?}");
        let mut structure = statements.last().unwrap().structure.clone();
        assert!(structure.tokens > 0, "{sql}");
        structure.tokens = 0;
        structure
    }

    fn shape(sql: &str) -> Structure {
        shape_in(sql, Dialect::Generic)
    }

    fn tokens(sql: &str, dialect: Dialect) -> Vec<u32> {
        let options = SqlOptions { dialect, ..SqlOptions::default() };
        analyze(sql, &options).0.iter().map(|s| s.structure.tokens).collect()
    }

    #[test]
    fn joins_by_kind_and_comma_items() {
        assert_eq!(
            shape(
                "SELECT a.x FROM a JOIN b ON a.id = b.id LEFT JOIN c ON b.id = c.id \
                 FULL OUTER JOIN d ON c.id = d.id CROSS JOIN e, f RIGHT JOIN g ON f.k = g.k"
            ),
            Structure {
                joins_inner: 1,
                joins_outer: 2,
                joins_full: 1,
                joins_cross: 2,
                tables: 7,
                ..Structure::default()
            }
        );
        assert_eq!(
            shape("SELECT * FROM a LEFT SEMI JOIN b ON a.k = b.k"),
            Structure { joins_semi: 1, select_star: 1, tables: 2, ..Structure::default() }
        );
        // Joins in parentheses count, and make their SELECT one with a join.
        assert_eq!(
            shape("SELECT a.x FROM (a JOIN b ON a.k = b.k) WHERE a.y = 1"),
            Structure {
                joins_inner: 1,
                filters: 1,
                filters_after_join: 1,
                tables: 2,
                ..Structure::default()
            }
        );
    }

    #[test]
    fn in_and_exists_subqueries_are_semi_joins() {
        assert_eq!(
            shape(
                "SELECT x FROM a WHERE a.id IN (SELECT id FROM b) \
                 AND NOT EXISTS (SELECT 1 FROM c WHERE c.id = a.id) AND a.v > ALL (SELECT v FROM d)"
            ),
            Structure {
                joins_semi: 3,
                subqueries: 3,
                filters: 4,
                tables: 4,
                ..Structure::default()
            }
        );
        assert_eq!(
            shape("SELECT (SELECT max(v) FROM b) AS m FROM a"),
            Structure { subqueries: 1, aggregates: 1, tables: 2, ..Structure::default() }
        );
    }

    #[test]
    fn aggregates_windows_and_distinct() {
        assert_eq!(
            shape(
                "SELECT k, sum(x), sum(x) OVER (), count(DISTINCT y), \
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY z) \
                 FROM t GROUP BY k HAVING count(*) > 1"
            ),
            Structure {
                aggregates: 4,
                windows: 1,
                distinct: 1,
                group_by: 1,
                group_keys: 1,
                having: 1,
                tables: 1,
                ..Structure::default()
            }
        );
        assert_eq!(
            shape("SELECT DISTINCT a, b FROM t"),
            Structure { distinct: 1, tables: 1, ..Structure::default() }
        );
        assert_eq!(
            shape_in("SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b", Dialect::Postgres),
            Structure { distinct: 1, order_by: 1, tables: 1, ..Structure::default() }
        );
        assert_eq!(
            shape("SELECT a, b, sum(c) FROM t GROUP BY ROLLUP (a, b)"),
            Structure {
                aggregates: 1,
                group_by: 1,
                group_keys: 2,
                tables: 1,
                ..Structure::default()
            }
        );
    }

    #[test]
    fn qualify_windows_count_in_snowflake() {
        assert_eq!(
            shape_in(
                "SELECT a, b FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b DESC) = 1",
                Dialect::Snowflake
            ),
            Structure { windows: 1, tables: 1, ..Structure::default() }
        );
    }

    #[test]
    fn order_by_without_limit_is_a_sort_no_client_receives() {
        assert_eq!(
            shape(
                "WITH a AS (SELECT x FROM t ORDER BY x), b AS (SELECT x FROM t ORDER BY x LIMIT 5) \
                 SELECT x FROM a UNION ALL SELECT x FROM b ORDER BY x"
            ),
            Structure {
                ctes: 2,
                order_by: 3,
                order_by_without_limit: 1,
                limit: 1,
                set_operations: 1,
                tables: 4,
                ..Structure::default()
            }
        );
        // TOP limits as LIMIT does.
        assert_eq!(
            shape_in("SELECT * FROM (SELECT TOP 5 a FROM t ORDER BY a) s", Dialect::MsSql),
            Structure {
                limit: 1,
                order_by: 1,
                subqueries: 1,
                select_star: 1,
                tables: 1,
                ..Structure::default()
            }
        );
        // A dbt model materializes its query: the model's own ORDER BY is for nothing.
        let settings = Settings { dbt_model: Some("m".into()), ..Settings::default() };
        let fragment = extract("m.sql", b"select a from {{ ref('x') }} order by a", &settings);
        let model = &fragment.transformations[0];
        assert_eq!(model.kind, Kind::Model);
        assert_eq!((model.structure.order_by, model.structure.order_by_without_limit), (1, 1));
    }

    #[test]
    fn filters_before_and_after_joins() {
        assert_eq!(
            shape(
                "WITH f AS (SELECT id FROM t WHERE d > 1 AND (e = 2 AND g = 3)) \
                 SELECT f.id FROM f JOIN u ON f.id = u.id JOIN f AS f2 ON f2.id = u.id \
                 WHERE u.z = 3 OR u.z = 4"
            ),
            Structure {
                ctes: 1,
                joins_inner: 2,
                filters: 4,
                filters_after_join: 1,
                filters_before_join: 3,
                tables: 4,
                ..Structure::default()
            }
        );
        assert_eq!(
            shape("SELECT * FROM (SELECT id FROM t WHERE a = 1) s JOIN u USING (id)"),
            Structure {
                joins_inner: 1,
                filters: 1,
                filters_before_join: 1,
                subqueries: 1,
                select_star: 1,
                tables: 2,
                ..Structure::default()
            }
        );
        // CTE names as the engine folds them; each branch of a union filters on its own.
        assert_eq!(
            shape(
                "WITH Recent AS (SELECT id FROM t WHERE a = 1 UNION ALL SELECT id FROM v WHERE b = 2), \
                 \"Q\" AS (SELECT id FROM w WHERE c = 3) \
                 SELECT r.id FROM recent r JOIN \"Q\" q ON r.id = q.id JOIN q ON q.id = r.id"
            ),
            Structure {
                ctes: 2,
                joins_inner: 2,
                set_operations: 1,
                filters: 3,
                filters_before_join: 3,
                tables: 6,
                ..Structure::default()
            }
        );
        // A filtered CTE read without a join filters nothing before a join.
        assert_eq!(
            shape("WITH f AS (SELECT id FROM t WHERE a = 1) SELECT id FROM f"),
            Structure { ctes: 1, filters: 1, tables: 2, ..Structure::default() }
        );
        // Comma joins: the join condition is a WHERE conjunct after the join.
        assert_eq!(
            shape("SELECT a.x FROM a, b WHERE a.k = b.k AND b.y > 0"),
            Structure {
                joins_cross: 1,
                filters: 2,
                filters_after_join: 2,
                tables: 2,
                ..Structure::default()
            }
        );
    }

    #[test]
    fn set_operations_with_and_without_all() {
        assert_eq!(
            shape(
                "SELECT a FROM t UNION SELECT a FROM u UNION ALL SELECT a FROM v EXCEPT SELECT a FROM w"
            ),
            Structure { set_operations: 3, union_distinct: 2, tables: 4, ..Structure::default() }
        );
    }

    #[test]
    fn stars_in_select_lists_only() {
        assert_eq!(
            shape("SELECT *, t.* FROM t"),
            Structure { select_star: 2, tables: 1, ..Structure::default() }
        );
        assert_eq!(
            shape("SELECT count(*) FROM t"),
            Structure { aggregates: 1, tables: 1, ..Structure::default() }
        );
    }

    #[test]
    fn functions_and_udfs() {
        assert_eq!(
            shape(
                "SELECT my_schema.f(x), upper(y), Mystery(z), CAST(w AS INT), \
                 coalesce(sum(v), 0) FROM t"
            ),
            Structure { functions: 5, udfs: 2, aggregates: 1, tables: 1, ..Structure::default() }
        );
        assert_eq!(
            shape_in("SELECT SAFE.PARSE_DATE('%Y', s) FROM t", Dialect::BigQuery),
            Structure { functions: 1, tables: 1, ..Structure::default() }
        );
    }

    #[test]
    fn case_and_pattern_matches() {
        assert_eq!(
            shape(
                "SELECT CASE WHEN a LIKE 'x%' THEN 1 ELSE 0 END FROM t \
                 WHERE b NOT ILIKE '%y' AND regexp_like(c, 'z')"
            ),
            Structure {
                case_expressions: 1,
                pattern_matches: 3,
                functions: 1,
                filters: 2,
                tables: 1,
                ..Structure::default()
            }
        );
    }

    #[test]
    fn insert_select_ctas_and_top_level_sorts() {
        assert_eq!(
            shape("INSERT INTO dst SELECT a, count(*) FROM src WHERE b > 0 GROUP BY a ORDER BY a"),
            Structure {
                aggregates: 1,
                group_by: 1,
                group_keys: 1,
                filters: 1,
                order_by: 1,
                order_by_without_limit: 1,
                tables: 1,
                ..Structure::default()
            }
        );
        assert_eq!(
            shape("CREATE TABLE dst AS SELECT a FROM src ORDER BY a LIMIT 10"),
            Structure { order_by: 1, limit: 1, tables: 1, ..Structure::default() }
        );
        // The rows of a query go to its client in order: that sort is wanted.
        assert_eq!(
            shape("SELECT a FROM src ORDER BY a"),
            Structure { order_by: 1, tables: 1, ..Structure::default() }
        );
        // `WITH … INSERT` keeps the structure of its CTEs.
        assert_eq!(
            shape("WITH c AS (SELECT a FROM src) INSERT INTO dst SELECT a FROM c"),
            Structure { ctes: 1, tables: 2, ..Structure::default() }
        );
    }

    #[test]
    fn merge_update_and_delete_joins() {
        assert_eq!(
            shape(
                "MERGE INTO t USING (SELECT * FROM s WHERE s.d > 1) src ON t.id = src.id \
                 WHEN MATCHED THEN UPDATE SET v = src.v \
                 WHEN NOT MATCHED THEN INSERT (id, v) VALUES (src.id, src.v)"
            ),
            Structure {
                joins_outer: 1,
                subqueries: 1,
                select_star: 1,
                filters: 1,
                filters_before_join: 1,
                tables: 2,
                ..Structure::default()
            }
        );
        assert_eq!(
            shape_in(
                "UPDATE t SET v = s.v FROM s, u WHERE t.id = s.id AND s.k = u.k",
                Dialect::Postgres
            ),
            Structure {
                joins_cross: 2,
                filters: 2,
                filters_after_join: 2,
                tables: 3,
                ..Structure::default()
            }
        );
        assert_eq!(
            shape_in("DELETE FROM t WHERE t.d < 5", Dialect::Postgres),
            Structure { filters: 1, tables: 1, ..Structure::default() }
        );
    }

    #[test]
    fn unload_has_the_structure_of_its_quoted_query() {
        assert_eq!(
            shape_in(
                "UNLOAD ('SELECT a, count(*) FROM t GROUP BY a') TO 's3://b/p' IAM_ROLE 'r'",
                Dialect::Redshift
            ),
            Structure {
                aggregates: 1,
                group_by: 1,
                group_keys: 1,
                tables: 1,
                ..Structure::default()
            }
        );
    }

    #[test]
    fn hive_lateral_view_is_a_cross_join() {
        assert_eq!(
            shape_in(
                "SELECT a, e FROM t LATERAL VIEW explode(arr) x AS e WHERE e > 1",
                Dialect::Hive
            ),
            Structure {
                joins_cross: 1,
                functions: 1,
                filters: 1,
                filters_after_join: 1,
                tables: 1,
                ..Structure::default()
            }
        );
    }

    #[test]
    fn tokens_ignore_comments_and_layout() {
        assert_eq!(tokens("SELECT a, b -- the keys\nFROM t", Dialect::Generic), [6]);
        assert_eq!(tokens("select a,b\n\n  from   t /* c */;", Dialect::Generic), [6]);
        // A word dropped to parse the statement was one of its tokens.
        assert_eq!(
            tokens("INSERT INTO t SELECT (d + 30 days) AS due FROM s", Dialect::Generic),
            [14]
        );
        // Statements of a procedure body are counted one by one.
        assert_eq!(
            tokens(
                "CREATE PROCEDURE p() BEGIN\n INSERT INTO a SELECT x FROM b;\n \
                 INSERT INTO c SELECT x, y FROM d JOIN e ON d.k = e.k;\nEND;",
                Dialect::BigQuery
            ),
            [7, 19]
        );
    }

    #[test]
    fn the_fallback_knows_only_tables_and_tokens() {
        let options = SqlOptions::default();
        let (statements, _) = analyze("SELECT a FROM t1 CROSS JOIN t2 ON t1.a = t2.a", &options);
        assert_eq!(statements[0].confidence, Confidence::Partial);
        assert_eq!(
            statements[0].structure,
            Structure { tables: 2, tokens: 15, ..Structure::default() }
        );
    }

    #[test]
    fn fields_are_the_json_names_in_order() {
        let mut structure = Structure::default();
        assert!(structure.is_empty());
        assert_eq!(serde_json::to_string(&structure).unwrap(), "{}");
        // Every count a different value, so that a name paired with the wrong field shows.
        let json: serde_json::Map<String, serde_json::Value> = structure
            .fields()
            .iter()
            .zip(1u32..)
            .map(|((name, _), n)| ((*name).to_string(), n.into()))
            .collect();
        structure = serde_json::from_value(serde_json::Value::Object(json.clone())).unwrap();
        assert!(!structure.is_empty());
        let written: serde_json::Value = serde_json::to_value(&structure).unwrap();
        assert_eq!(written, serde_json::Value::Object(json));
        let names: Vec<&str> = structure.fields().iter().map(|(name, _)| *name).collect();
        let keys: Vec<String> = serde_json::to_string(&structure)
            .unwrap()
            .trim_matches(['{', '}'])
            .split(',')
            .map(|kv| kv.split(':').next().unwrap_or_default().trim_matches('"').to_string())
            .collect();
        assert_eq!(names, keys);
        assert!(structure.fields().iter().zip(1u32..).all(|((_, value), n)| *value == n));
    }

    #[test]
    fn name_lists_are_sorted_lower_case_and_distinct() {
        for list in [AGGREGATES, WINDOW_FUNCTIONS, BUILTINS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert!(list.iter().all(|n| *n == n.to_ascii_lowercase()));
        }
        assert!(is_builtin("COUNT") && is_builtin("Regexp_Replace") && is_builtin("quantileExact"));
        assert!(!is_builtin("my_udf"));
    }
}
