//! SQL dialects by name: what the user writes in `--dialect` and `.git-lineage.toml`, and the
//! sqlparser dialect that parses it.
//!
//! An unknown name is an error that lists the known ones, never a silent fall back to the
//! generic dialect (STYLE rule 6): a typo would otherwise give wrong lineage quietly.

use std::fmt;
use std::str::FromStr;

use sqlparser::dialect as sp;

/// A dialect git-lineage knows, by its canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    #[default]
    Generic,
    Ansi,
    Postgres,
    MySql,
    Sqlite,
    Snowflake,
    BigQuery,
    Redshift,
    MsSql,
    Hive,
    Spark,
    Databricks,
    DuckDb,
    ClickHouse,
    Oracle,
    Teradata,
}

/// Every accepted name (aliases included) and the dialect it means.
const NAMES: &[(&str, Dialect)] = &[
    ("generic", Dialect::Generic),
    ("ansi", Dialect::Ansi),
    ("postgres", Dialect::Postgres),
    ("postgresql", Dialect::Postgres),
    ("greenplum", Dialect::Postgres),
    ("materialize", Dialect::Postgres),
    ("mysql", Dialect::MySql),
    ("mariadb", Dialect::MySql),
    ("sqlite", Dialect::Sqlite),
    ("snowflake", Dialect::Snowflake),
    ("bigquery", Dialect::BigQuery),
    ("redshift", Dialect::Redshift),
    ("mssql", Dialect::MsSql),
    ("tsql", Dialect::MsSql),
    ("hive", Dialect::Hive),
    ("spark", Dialect::Spark),
    ("sparksql", Dialect::Spark),
    ("databricks", Dialect::Databricks),
    ("duckdb", Dialect::DuckDb),
    ("clickhouse", Dialect::ClickHouse),
    ("oracle", Dialect::Oracle),
    ("teradata", Dialect::Teradata),
    ("athena", Dialect::Generic),
    ("trino", Dialect::Generic),
    ("presto", Dialect::Generic),
    ("vertica", Dialect::Generic),
    ("db2", Dialect::Generic),
    ("exasol", Dialect::Generic),
];

/// The name is not one we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SQL dialect `{name}` (known: {known})")]
pub struct UnknownDialect {
    pub name: String,
    pub known: String,
}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        NAMES.iter().find(|(name, _)| *name == lower).map(|(_, d)| *d).ok_or_else(|| {
            UnknownDialect {
                name: s.to_string(),
                known: NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
            }
        })
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = NAMES.iter().find(|(_, d)| d == self).map_or("generic", |(n, _)| *n);
        f.write_str(name)
    }
}

impl Dialect {
    /// The sqlparser dialect that parses this one.
    pub fn parser(self) -> Box<dyn sp::Dialect> {
        match self {
            Dialect::Generic => Box::new(sp::GenericDialect {}),
            Dialect::Ansi => Box::new(sp::AnsiDialect {}),
            Dialect::Postgres => Box::new(sp::PostgreSqlDialect {}),
            Dialect::MySql => Box::new(sp::MySqlDialect {}),
            Dialect::Sqlite => Box::new(sp::SQLiteDialect {}),
            Dialect::Snowflake => Box::new(sp::SnowflakeDialect),
            Dialect::BigQuery => Box::new(sp::BigQueryDialect),
            Dialect::Redshift => Box::new(sp::RedshiftSqlDialect {}),
            Dialect::MsSql => Box::new(sp::MsSqlDialect {}),
            Dialect::Hive => Box::new(sp::HiveDialect {}),
            Dialect::Spark => Box::new(sp::SparkSqlDialect {}),
            Dialect::Databricks => Box::new(sp::DatabricksDialect {}),
            Dialect::DuckDb => Box::new(sp::DuckDbDialect {}),
            Dialect::ClickHouse => Box::new(sp::ClickHouseDialect {}),
            Dialect::Oracle => Box::new(sp::OracleDialect {}),
            Dialect::Teradata => Box::new(sp::TeradataDialect {}),
        }
    }

    /// Dialects whose scripts are often written for another parser: when the dialect's own
    /// parser refuses a statement, these are tried next, in order, before the fallback. A
    /// statement that parses under a close relative keeps full lineage. Kept short: every
    /// relative costs a parse on each statement that fails.
    pub fn relatives(self) -> &'static [Dialect] {
        match self {
            // sqlparser's generic parser accepts most dialects' syntax; retrying others rarely helps.
            Dialect::Generic => &[],
            Dialect::Ansi => &[Dialect::Generic],
            Dialect::Hive | Dialect::Spark | Dialect::Databricks => {
                &[Dialect::Databricks, Dialect::Hive, Dialect::Generic]
            }
            Dialect::MsSql => &[Dialect::Generic],
            Dialect::Redshift | Dialect::Postgres => &[Dialect::Postgres, Dialect::Generic],
            Dialect::Teradata | Dialect::Oracle => &[Dialect::Generic, Dialect::Ansi],
            _ => &[Dialect::Generic],
        }
    }

    /// Whether `a.b` with no table named `a` in scope may be a field `b` of a struct column `a`.
    pub fn supports_struct_fields(self) -> bool {
        matches!(
            self,
            Dialect::BigQuery
                | Dialect::Hive
                | Dialect::Spark
                | Dialect::Databricks
                | Dialect::DuckDb
                | Dialect::Snowflake
                | Dialect::Generic
        )
    }

    /// Whether a select item may refer to an alias defined earlier in the same select list.
    pub fn supports_lateral_column_alias(self) -> bool {
        !matches!(self, Dialect::Postgres | Dialect::MySql | Dialect::Oracle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_parse() {
        assert_eq!("TSQL".parse::<Dialect>(), Ok(Dialect::MsSql));
        assert_eq!("sparksql".parse::<Dialect>(), Ok(Dialect::Spark));
        assert_eq!(Dialect::Spark.to_string(), "spark");
        let err = "postgress".parse::<Dialect>().unwrap_err();
        assert!(err.to_string().contains("known: generic, ansi"));
    }
}
