//! What an expression refers to: column references, `*` arguments and nested queries, in one
//! flat pass with sqlparser's `Visitor` (STYLE rule 7: visitors for flat collection; scope
//! resolution happens in `scope.rs`).
//!
//! Nested queries are handed to the caller as they are met, not entered: their columns live in
//! their own scope, which the scope walker resolves with this expression's scope as the outer
//! one (correlation). Handing them over during the visit avoids cloning them.
//!
//! Each reference carries its role: whether its value flows into the expression's value, or
//! it only decides it, as a CASE condition or a window's PARTITION BY / ORDER BY key does
//! (indirect lineage, issue #10).

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, Query, Visit, Visitor, WindowType,
};

/// How a nested query is used by the expression around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedUse {
    /// `(SELECT max(x) FROM t)`: its value is the expression's value.
    Value,
    /// `EXISTS (…)`, `x IN (…)`: it decides, it is not copied.
    Predicate,
}

/// How a reference takes part in the expression around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Its value flows into the expression's value.
    Value,
    /// It decides which branch gives the value: a CASE condition or operand, an aggregate's
    /// `FILTER (WHERE …)`.
    Conditional,
    /// It orders or partitions the rows a window function sees.
    Window,
}

/// Everything an expression refers to, in the order met.
#[derive(Debug, Default)]
pub struct References {
    /// Column references as written: `[col]`, `[t, col]`, `[s, t, col]`.
    pub columns: Vec<(Vec<Ident>, Role)>,
    /// `count(*)`-like arguments: the expression depends on whole rows of every relation in
    /// scope (`None`) or of one qualified relation (`Some(name parts)`).
    pub stars: Vec<(Option<Vec<Ident>>, Role)>,
    /// Named windows used (`OVER w`), whose keys are defined in the SELECT's WINDOW clause.
    pub named_windows: Vec<Ident>,
}

/// Collect the references of one expression; `nested` is called with each nested query, how
/// it is used and the role of the expression it stands in.
pub fn references(expr: &Expr, nested: &mut dyn FnMut(&Query, NestedUse, Role)) -> References {
    let mut collector = Collector {
        refs: References::default(),
        nested,
        query_depth: 0,
        pending_use: None,
        lambda_params: Vec::new(),
        skip: Vec::new(),
        role_roots: Vec::new(),
        roles: Vec::new(),
    };
    let _ = expr.visit(&mut collector);
    collector.refs
}

struct Collector<'n> {
    refs: References,
    nested: &'n mut dyn FnMut(&Query, NestedUse, Role),
    /// Expressions (by address) whose subtree has a role other than `Value`, registered by
    /// their parent before the visit reaches them.
    role_roots: Vec<(usize, Role)>,
    /// Roles entered and not yet left, innermost last, with the address that entered them.
    roles: Vec<(usize, Role)>,
    /// How deep inside nested queries the visit is: references there belong to them.
    query_depth: usize,
    pending_use: Option<NestedUse>,
    /// Lambda parameters in scope (`x -> x + 1`): not columns.
    lambda_params: Vec<String>,
    /// Addresses of argument expressions that are date-part keywords (`DATEADD(day, …)`),
    /// which the parser gives as identifiers.
    skip: Vec<usize>,
}

/// Units that date functions take as a bare word. Only skipped when they are a direct
/// argument of a function call, where a column of that name would be odd.
const DATE_PARTS: &[&str] = &[
    "year",
    "years",
    "yy",
    "yyyy",
    "quarter",
    "qq",
    "month",
    "months",
    "mm",
    "mon",
    "week",
    "weeks",
    "wk",
    "ww",
    "day",
    "days",
    "dd",
    "d",
    "dayofweek",
    "dow",
    "dayofyear",
    "doy",
    "hour",
    "hours",
    "hh",
    "minute",
    "minutes",
    "mi",
    "second",
    "seconds",
    "ss",
    "millisecond",
    "milliseconds",
    "ms",
    "microsecond",
    "microseconds",
    "us",
    "nanosecond",
    "ns",
    "epoch",
    "isoweek",
    "weekday",
    "date",
    "time",
];

fn address(expr: &Expr) -> usize {
    std::ptr::from_ref(expr) as usize
}

impl Visitor for Collector<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if self.query_depth == 0 {
            let nested_use = self.pending_use.take().unwrap_or(NestedUse::Value);
            let role = self.role();
            (self.nested)(query, nested_use, role);
        }
        self.query_depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.query_depth = self.query_depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth > 0 {
            return ControlFlow::Continue(());
        }
        let here = address(expr);
        if let Some(&(_, role)) = self.role_roots.iter().rev().find(|(a, _)| *a == here) {
            self.roles.push((here, role));
        }
        let role = self.role();
        match expr {
            Expr::Identifier(ident)
                if !self.skip.contains(&address(expr))
                    && !self.is_lambda_param(ident)
                    && !is_variable(ident) =>
            {
                self.refs.columns.push((vec![ident.clone()], role));
            }
            Expr::CompoundIdentifier(idents)
                if idents
                    .first()
                    .is_some_and(|first| !self.is_lambda_param(first) && !is_variable(first)) =>
            {
                self.refs.columns.push((idents.clone(), role));
            }
            Expr::Exists { .. } | Expr::InSubquery { .. } => {
                self.pending_use = Some(NestedUse::Predicate);
            }
            Expr::Case { operand, conditions, .. } => {
                for when in conditions {
                    self.role_roots.push((address(&when.condition), Role::Conditional));
                }
                if let Some(operand) = operand {
                    self.role_roots.push((address(operand), Role::Conditional));
                }
            }
            Expr::Lambda(lambda) => {
                let params: Vec<String> = match &lambda.params {
                    sqlparser::ast::OneOrManyWithParens::One(p) => {
                        vec![p.name.value.to_lowercase()]
                    }
                    sqlparser::ast::OneOrManyWithParens::Many(ps) => {
                        ps.iter().map(|p| p.name.value.to_lowercase()).collect()
                    }
                };
                self.lambda_params.extend(params);
            }
            Expr::Function(function) => {
                match &function.over {
                    Some(WindowType::WindowSpec(spec)) => {
                        for e in
                            spec.partition_by.iter().chain(spec.order_by.iter().map(|o| &o.expr))
                        {
                            self.role_roots.push((address(e), Role::Window));
                        }
                    }
                    Some(WindowType::NamedWindow(name)) => {
                        self.refs.named_windows.push(name.clone());
                    }
                    None => {}
                }
                if let Some(filter) = &function.filter {
                    self.role_roots.push((address(filter), Role::Conditional));
                }
                if let FunctionArguments::List(list) = &function.args {
                    for arg in &list.args {
                        let arg_expr = match arg {
                            FunctionArg::Unnamed(a)
                            | FunctionArg::Named { arg: a, .. }
                            | FunctionArg::ExprNamed { arg: a, .. } => a,
                        };
                        match arg_expr {
                            FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) => {
                                self.refs.stars.push((None, role));
                            }
                            FunctionArgExpr::QualifiedWildcard(name) => self.refs.stars.push((
                                Some(name.0.iter().filter_map(|p| p.as_ident().cloned()).collect()),
                                role,
                            )),
                            FunctionArgExpr::Expr(e @ Expr::Identifier(ident))
                                if ident.quote_style.is_none()
                                    && DATE_PARTS
                                        .contains(&ident.value.to_lowercase().as_str())
                                    && list.args.len() > 1 =>
                            {
                                self.skip.push(address(e));
                            }
                            FunctionArgExpr::Expr(_) => {}
                        }
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if self.query_depth == 0 && self.roles.last().is_some_and(|(a, _)| *a == address(expr)) {
            self.roles.pop();
        }
        if self.query_depth == 0
            && let Expr::Lambda(lambda) = expr
        {
            let n = match &lambda.params {
                sqlparser::ast::OneOrManyWithParens::One(_) => 1,
                sqlparser::ast::OneOrManyWithParens::Many(ps) => ps.len(),
            };
            let keep = self.lambda_params.len().saturating_sub(n);
            self.lambda_params.truncate(keep);
        }
        ControlFlow::Continue(())
    }
}

impl Collector<'_> {
    fn role(&self) -> Role {
        self.roles.last().map_or(Role::Value, |(_, r)| *r)
    }

    fn is_lambda_param(&self, ident: &Ident) -> bool {
        ident.quote_style.is_none() && self.lambda_params.contains(&ident.value.to_lowercase())
    }
}

/// `@var`, `$1`, `:param`: bind variables and session variables, not columns.
fn is_variable(ident: &Ident) -> bool {
    ident.quote_style.is_none() && ident.value.starts_with(['@', '$', ':', '?'])
}
