; What DataFrame methods (PySpark and pandas) do to columns, and column expressions:
; column lineage (issue 6) and the columns that decide rows (issue 10).
; Conventions: README.md. `effect` names what the data flow does with the call's arguments.

; ---- column expressions -----------------------------------------------------

; F.col("x"), col("x"), F.column("x"): the column x.
((call function: [(attribute attribute: (identifier) @_f) (identifier) @_f]) @column
  (#any-of? @_f "col" "column")
  (#set! effect "ref"))

; Functions whose first argument is a column or a column's name: F.sum("v"), F.upper("name") …
((call function: (attribute attribute: (identifier) @_f)) @column
  (#any-of? @_f "sum" "avg" "mean" "min" "max" "count" "first" "last" "collect_list"
    "collect_set" "sumDistinct" "sum_distinct" "stddev" "variance" "median" "any_value"
    "approx_count_distinct" "upper" "lower" "trim" "ltrim" "rtrim" "length" "abs" "sqrt"
    "round" "floor" "ceil" "year" "month" "dayofmonth" "dayofweek" "hour" "minute" "to_date"
    "to_timestamp" "date_format" "substring" "split" "regexp_replace" "regexp_extract"
    "explode" "explode_outer" "size" "isnull" "initcap" "md5" "sha2" "datediff"
    "date_add" "date_sub" "add_months" "months_between" "unix_timestamp" "from_unixtime"
    "to_json" "from_json" "get_json_object" "trunc" "asc" "desc" "log" "exp")
  (#set! effect "first"))

; Functions of several columns or column names: F.coalesce("a", "b"), F.concat …
((call function: (attribute attribute: (identifier) @_f)) @column
  (#any-of? @_f "coalesce" "concat" "greatest" "least" "struct" "array" "countDistinct"
    "count_distinct" "create_map" "hash" "xxhash64")
  (#set! effect "all"))

; F.expr("SQL"): the columns the SQL expression names.
((call function: [(attribute attribute: (identifier) @_f) (identifier) @_f]) @column
  (#eq? @_f "expr")
  (#set! effect "sql"))

; col.alias("z"), col.name("z"), series.rename("z"): the column under a name.
((call function: (attribute attribute: (identifier) @_m)) @column
  (#any-of? @_m "alias" "name" "rename")
  (#set! effect "alias")
  (#set! receiver "column"))

; ---- DataFrame methods ------------------------------------------------------

; df.select("a", col("b").alias("c")), df.toDF is not one (it renames all).
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#eq? @_m "select")
  (#set! effect "select")
  (#set! receiver "frame"))

; df.selectExpr("a", "b + 1 AS c")
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#eq? @_m "selectExpr")
  (#set! effect "select_sql")
  (#set! receiver "frame"))

; df.withColumn("n", expr)
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#eq? @_m "withColumn")
  (#set! effect "with")
  (#set! receiver "frame"))

; df.withColumns({"n": expr}), df.assign(n=expr)
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "withColumns" "assign")
  (#set! effect "with_all")
  (#set! receiver "frame"))

; df.withColumnRenamed("a", "b"), df.withColumnsRenamed({"a": "b"}), df.rename(columns={"a": "b"})
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "withColumnRenamed" "withColumnsRenamed" "rename")
  (#set! effect "rename")
  (#set! receiver "frame"))

; df.drop("c"), df.drop(columns=["c"])
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#eq? @_m "drop")
  (#set! effect "drop")
  (#set! receiver "frame"))

; df.groupBy("k"), df.groupby(["k"]), rollup, cube
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "groupBy" "groupby" "rollup" "cube")
  (#set! effect "group")
  (#set! receiver "frame"))

; grouped.agg(F.sum("v").alias("total")), .agg({"v": "sum"}), .agg(total=("v", "sum"))
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "agg" "aggregate")
  (#set! effect "agg")
  (#set! receiver "frame"))

; grouped.count(), .sum() …: the keys and each column reduced.
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "count" "sum" "mean" "avg" "min" "max" "first" "last" "median" "nunique"
    "size" "std" "var")
  (#set! effect "reduce")
  (#set! receiver "frame"))

; df.join(other, on="id"), df.merge(right, on=…), pd.merge(left, right, left_on=…, right_on=…)
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "join" "merge" "crossJoin")
  (#set! effect "join"))

; df.union(other) (by position), df.unionByName(other), pd.concat([a, b]), df.append(other)
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "union" "unionAll" "append")
  (#set! effect "union")
  (#set! receiver "frame"))
((call function: [(attribute attribute: (identifier) @_m) (identifier) @_m]) @frame
  (#any-of? @_m "unionByName" "concat")
  (#set! effect "union_by_name"))

; df.filter(col("x") > 0), df.where("x > 0"), df.query("x > 0"): rows kept by a condition.
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "filter" "where" "query")
  (#set! effect "filter")
  (#set! receiver "frame"))

; df.orderBy("k"), df.sort_values("k"), df.sort_values(by=["k"])
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "orderBy" "sort" "sort_values" "sortWithinPartitions")
  (#set! effect "sort")
  (#set! receiver "frame"))

; Methods that keep the columns as they are.
((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "alias" "limit" "distinct" "dropDuplicates" "drop_duplicates" "cache"
    "persist" "unpersist" "repartition" "coalesce" "sample" "dropna" "fillna" "fill" "head"
    "tail" "copy" "checkpoint" "localCheckpoint" "hint" "toPandas" "to_pandas" "replace"
    "reset_index" "sort_index" "astype" "infer_objects" "convert_dtypes" "drop_nulls"
    "fill_null" "withWatermark" "repartitionByRange")
  (#set! effect "keep")
  (#set! receiver "frame"))

; df.na, df.loc, df.iloc: the DataFrame itself (df.na.fill(0), df.loc[cond, cols]).
((attribute attribute: (identifier) @_attr) @frame
  (#any-of? @_attr "na" "loc" "iloc" "stat")
  (#set! effect "keep"))
