; DataFrame operations (PySpark and pandas alike), recorded in a transformation's
; `operations` when the call's value is a DataFrame. Conventions: README.md.

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "filter" "where" "query" "dropna")
  (#set! operation "filter"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "join" "merge" "crossJoin" "merge_asof")
  (#set! operation "join"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "union" "unionAll" "unionByName" "concat" "append")
  (#set! operation "union"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "groupBy" "groupby" "agg" "aggregate" "rollup" "cube" "pivot_table")
  (#set! operation "aggregate"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "select" "selectExpr" "drop")
  (#set! operation "select"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "withColumn" "withColumns" "withColumnRenamed" "rename" "assign")
  (#set! operation "derive"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "orderBy" "sort" "sort_values" "sortWithinPartitions")
  (#set! operation "sort"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "distinct" "dropDuplicates" "drop_duplicates")
  (#set! operation "distinct"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "limit" "head" "sample")
  (#set! operation "limit"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "repartition" "coalesce")
  (#set! operation "repartition"))

((call function: (attribute attribute: (identifier) @_m)) @op
  (#any-of? @_m "cache" "persist")
  (#set! operation "cache"))
