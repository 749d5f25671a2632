; Airflow operators that run SQL: SQLExecuteQueryOperator, PostgresOperator,
; SnowflakeOperator, … by their `sql=` argument (AthenaOperator's `query=` too).
; Conventions: README.md.
; A `.sql` path is not read (extraction is pure): the task records it (operation
; `sql_file`) and the graph links the task to that file's statements.
; Which call is a task, of which DAG, and the order of tasks: airflow_dag.scm.

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

; BigQueryInsertJobOperator(configuration={"query": {"query": "…"}}): a literal job
; configuration's query.
((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list (keyword_argument
     name: (identifier) @_k
     value: (dictionary
       (pair
         key: (string (string_content) @_outer)
         value: (dictionary (pair key: (string (string_content) @_inner) value: (_) @query))))))) @sql
  (#eq? @_f "BigQueryInsertJobOperator")
  (#eq? @_k "configuration")
  (#eq? @_outer "query")
  (#eq? @_inner "query")
  (#set! dialect "bigquery"))
