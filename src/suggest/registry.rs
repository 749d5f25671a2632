//! The rules, by code. Registering a rule is one line here.

use super::rules::{
    p001_filter_after_join, p002_having_on_group_key, r001_order_by_without_limit, r002_unused_cte,
    r003_distinct_on_group_by, s001_unused_columns,
};
use super::{Context, Hit, Rule};

/// A rule's check: what it finds in one statement.
pub(crate) type Check = fn(&Context<'_>) -> Vec<Hit>;

/// Each rule with its check, in code order.
pub(crate) const RULES: &[(Rule, Check)] = &[
    (p001_filter_after_join::RULE, p001_filter_after_join::check),
    (p002_having_on_group_key::RULE, p002_having_on_group_key::check),
    (r001_order_by_without_limit::RULE, r001_order_by_without_limit::check),
    (r002_unused_cte::RULE, r002_unused_cte::check),
    (r003_distinct_on_group_by::RULE, r003_distinct_on_group_by::check),
    (s001_unused_columns::RULE, s001_unused_columns::check),
];

/// Every rule.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    RULES.iter().map(|(rule, _)| rule)
}

/// The rule with this code or name.
pub fn find(code: &str) -> Option<&'static Rule> {
    all().find(|r| r.code.eq_ignore_ascii_case(code) || r.name.eq_ignore_ascii_case(code))
}
