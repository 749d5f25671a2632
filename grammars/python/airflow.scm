; Airflow operators that run SQL: SQLExecuteQueryOperator, PostgresOperator,
; SnowflakeOperator, … by their `sql=` argument. Conventions: README.md.
; A `.sql` path is not read (extraction is pure): a diagnostic says the file is
; analyzed on its own.

((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @query))) @sql
  (#match? @_f "Operator$")
  (#eq? @_k "sql"))
