//! One rule per file: its `RULE` (code, name, explanation) and its `check`.

pub(crate) mod p001_filter_after_join;
pub(crate) mod p002_having_on_group_key;
pub(crate) mod p003_limit_before_window;
pub(crate) mod p004_filter_into_subquery;
pub(crate) mod py001_iterrows;
pub(crate) mod py002_row_wise_apply;
pub(crate) mod py003_collect_to_driver;
pub(crate) mod py004_single_partition;
pub(crate) mod py005_count_in_loop;
pub(crate) mod py006_filter_after_join;
pub(crate) mod r001_order_by_without_limit;
pub(crate) mod r002_unused_cte;
pub(crate) mod r003_distinct_on_group_by;
pub(crate) mod r004_repeated_scan;
pub(crate) mod s001_unused_columns;
pub(crate) mod s002_read_without_usecols;
