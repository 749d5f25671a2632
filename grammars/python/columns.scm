; What DataFrame methods (PySpark and pandas) do to columns, and column expressions:
; column lineage (issue 6) and the columns that decide rows (issue 10).
; Conventions: README.md. Each property other than `receiver` is an effect: its value lists
; the methods (or functions) that have it; a key repeated continues its list. Few patterns on
; purpose: compiling a pattern costs about the same whatever its size, and every call of a
; listed name runs them all.

; ---- column expressions -----------------------------------------------------

; F.col("x"), col("x"), F.column("x"): the column x. F.expr("SQL"): the columns it names.
((call function: [(attribute attribute: (identifier) @_f) (identifier) @_f]) @column
  (#any-of? @_f "col" "column" "expr")
  (#set! ref "col column")
  (#set! sql "expr"))

; Column functions, called on the functions module (F.sum("v")), not bare (Python's sum):
; `first` takes a column or a column's name first (F.sum("v"), F.date_format("d", "yyyy")),
; `all` takes columns or names only (F.coalesce("a", "b")).
((call function: (attribute attribute: (identifier) @_f)) @column
  (#any-of? @_f "sum" "avg" "mean" "min" "max" "count" "first" "last" "collect_list"
    "collect_set" "sumDistinct" "sum_distinct" "stddev" "variance" "median" "any_value"
    "approx_count_distinct" "upper" "lower" "trim" "ltrim" "rtrim" "length" "abs" "sqrt"
    "round" "floor" "ceil" "year" "month" "dayofmonth" "dayofweek" "hour" "minute" "to_date"
    "to_timestamp" "date_format" "substring" "regexp_replace" "regexp_extract" "explode"
    "explode_outer" "size" "isnull" "initcap" "md5" "sha2" "datediff" "date_add" "date_sub"
    "add_months" "months_between" "unix_timestamp" "from_unixtime" "to_json" "from_json"
    "get_json_object" "trunc" "asc" "desc"
    "coalesce" "concat" "greatest" "least" "struct" "array" "countDistinct" "count_distinct"
    "create_map" "xxhash64")
  (#set! first "sum avg mean min max count first last collect_list collect_set sumDistinct")
  (#set! first "sum_distinct stddev variance median any_value approx_count_distinct upper lower")
  (#set! first "trim ltrim rtrim length abs sqrt round floor ceil year month dayofmonth")
  (#set! first "dayofweek hour minute to_date to_timestamp date_format substring regexp_replace")
  (#set! first "regexp_extract explode explode_outer size isnull initcap md5 sha2 datediff")
  (#set! first "date_add date_sub add_months months_between unix_timestamp from_unixtime")
  (#set! first "to_json from_json get_json_object trunc asc desc")
  (#set! all "coalesce concat greatest least struct array countDistinct count_distinct")
  (#set! all "create_map xxhash64"))

; col.alias("z"), col.name("z"), series.rename("z"): the column under a name.
((call function: (attribute attribute: (identifier) @_m)) @column
  (#any-of? @_m "alias" "name" "rename")
  (#set! receiver "column")
  (#set! alias "alias name rename"))

; ---- DataFrame methods ------------------------------------------------------

((call function: (attribute attribute: (identifier) @_m)) @frame
  (#any-of? @_m "select" "selectExpr" "withColumn" "withColumns" "assign" "withColumnRenamed"
    "withColumnsRenamed" "rename" "drop" "groupBy" "groupby" "rollup" "cube" "agg"
    "aggregate" "count" "sum" "mean" "avg" "min" "max" "first" "last" "median" "nunique"
    "size" "std" "var" "union" "unionAll" "filter" "where" "query" "orderBy" "sort"
    "sort_values" "sortWithinPartitions" "alias" "limit" "distinct" "dropDuplicates"
    "drop_duplicates" "cache" "persist" "unpersist" "repartition" "coalesce" "sample"
    "dropna" "fillna" "fill" "head" "tail" "copy" "checkpoint" "localCheckpoint" "hint"
    "toPandas" "to_pandas" "reset_index" "sort_index" "astype" "infer_objects"
    "convert_dtypes" "drop_nulls" "fill_null" "withWatermark" "repartitionByRange")
  (#set! receiver "frame")
  ; df.select("a", col("b").alias("c")); selectExpr("a", "b + 1 AS c")
  (#set! select "select")
  (#set! select_sql "selectExpr")
  ; withColumn("n", expr); withColumns({"n": expr}), assign(n=expr)
  (#set! with "withColumn")
  (#set! with_all "withColumns assign")
  ; withColumnRenamed("a", "b"), withColumnsRenamed({"a": "b"}), rename(columns={"a": "b"})
  (#set! rename "withColumnRenamed withColumnsRenamed rename")
  (#set! drop "drop")
  (#set! group "groupBy groupby rollup cube")
  ; agg(F.sum("v").alias("total")), agg({"v": "sum"}), agg(total=("v", "sum"))
  (#set! agg "agg aggregate")
  ; grouped.count(), .sum() …: the keys and each column reduced.
  (#set! reduce "count sum mean avg min max first last median nunique size std var")
  ; union(other): by position.
  (#set! union "union unionAll")
  ; filter(col("x") > 0), where("x > 0"), query("x > 0")
  (#set! filter "filter where query")
  (#set! sort "orderBy sort sort_values sortWithinPartitions")
  ; the columns stay as they are
  (#set! keep "alias limit distinct dropDuplicates drop_duplicates cache persist unpersist")
  (#set! keep "repartition coalesce sample dropna fillna fill head tail copy checkpoint")
  (#set! keep "localCheckpoint hint toPandas to_pandas reset_index sort_index astype")
  (#set! keep "infer_objects convert_dtypes drop_nulls fill_null withWatermark")
  (#set! keep "repartitionByRange"))

; Joins and unions that also take their DataFrames as arguments: df.join(other, on="id"),
; df.merge(right, on=…), pd.merge(left, right, left_on=…, right_on=…), pd.concat([a, b]),
; df.unionByName(other).
((call function: [(attribute attribute: (identifier) @_m) (identifier) @_m]) @frame
  (#any-of? @_m "join" "merge" "crossJoin" "unionByName" "concat")
  (#set! join "join merge crossJoin")
  (#set! union_by_name "unionByName concat"))

; df.na, df.loc, df.iloc: the DataFrame itself (df.na.fill(0), df.loc[cond, cols]).
((attribute attribute: (identifier) @_attr) @frame
  (#any-of? @_attr "na" "loc" "iloc" "stat" "rdd")
  (#set! keep "na loc iloc stat rdd"))
