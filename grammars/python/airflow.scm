; Airflow operators that run SQL: SQLExecuteQueryOperator, PostgresOperator,
; SnowflakeOperator, … by their `sql=` argument (AthenaOperator's `query=` too).
; Conventions: README.md.
; A `.sql` path is not read (extraction is pure): a diagnostic says the file is
; analyzed on its own.

((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @query))) @sql
  (#any-of? @_f "SQLExecuteQueryOperator" "PostgresOperator" "MySqlOperator" "MsSqlOperator"
    "SnowflakeOperator" "SnowflakeSqlApiOperator" "RedshiftSQLOperator" "RedshiftDataOperator"
    "BigQueryExecuteQueryOperator" "OracleOperator" "SqliteOperator" "TrinoOperator"
    "PrestoOperator" "VerticaOperator" "JdbcOperator" "DatabricksSqlOperator" "ExasolOperator"
    "DruidOperator" "SparkSqlOperator" "AthenaOperator" "ClickHouseOperator" "DuckDBOperator"
    "SQLCheckOperator" "SQLValueCheckOperator" "BranchSQLOperator")
  (#eq? @_k "sql"))

((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @query))) @sql
  (#any-of? @_f "AthenaOperator" "RedshiftDataOperator")
  (#eq? @_k "query"))
