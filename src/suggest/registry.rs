//! The rules, by code. Registering a rule is one line here.

use super::python::PyCheck;
use super::rules::{
    p001_filter_after_join, p002_having_on_group_key, p003_limit_before_window,
    p004_filter_into_subquery, py001_iterrows, py002_row_wise_apply, py003_collect_to_driver,
    py004_single_partition, py005_count_in_loop, py006_filter_after_join,
    r001_order_by_without_limit, r002_unused_cte, r003_distinct_on_group_by, r004_repeated_scan,
    s001_unused_columns, s002_read_without_usecols,
};
use super::{Context, Hit, Rule};

/// A rule's check: what it finds in one statement.
pub(crate) type Check = fn(&Context<'_>) -> Vec<Hit>;

/// Each rule with its check, in code order.
pub(crate) const RULES: &[(Rule, Check)] = &[
    (p001_filter_after_join::RULE, p001_filter_after_join::check),
    (p002_having_on_group_key::RULE, p002_having_on_group_key::check),
    (p003_limit_before_window::RULE, p003_limit_before_window::check),
    (p004_filter_into_subquery::RULE, p004_filter_into_subquery::check),
    (r001_order_by_without_limit::RULE, r001_order_by_without_limit::check),
    (r002_unused_cte::RULE, r002_unused_cte::check),
    (r003_distinct_on_group_by::RULE, r003_distinct_on_group_by::check),
    (r004_repeated_scan::RULE, r004_repeated_scan::check),
    (s001_unused_columns::RULE, s001_unused_columns::check),
];

/// The rules about Python code, each with its check over a file's syntax tree.
pub(crate) const PYTHON_RULES: &[(Rule, PyCheck)] = &[
    (py001_iterrows::RULE, py001_iterrows::check),
    (py002_row_wise_apply::RULE, py002_row_wise_apply::check),
    (py003_collect_to_driver::RULE, py003_collect_to_driver::check),
    (py004_single_partition::RULE, py004_single_partition::check),
    (py005_count_in_loop::RULE, py005_count_in_loop::check),
    (py006_filter_after_join::RULE, py006_filter_after_join::check),
    (s002_read_without_usecols::RULE, s002_read_without_usecols::check),
];

/// Every rule: SQL's, then Python's.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    RULES.iter().map(|(rule, _)| rule).chain(PYTHON_RULES.iter().map(|(rule, _)| rule))
}

/// The rule with this code or name.
pub fn find(code: &str) -> Option<&'static Rule> {
    all().find(|r| r.code.eq_ignore_ascii_case(code) || r.name.eq_ignore_ascii_case(code))
}
