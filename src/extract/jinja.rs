//! dbt / Jinja templates rendered without executing them. (in progress)
