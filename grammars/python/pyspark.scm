; PySpark reads, writes, SQL and temporary views (tree-sitter-python 0.25).
; Conventions: grammars/python/README.md.

; ---- builders ---------------------------------------------------------------

; spark.read / spark.readStream: format(), option(), schema() keep a reader.
((attribute attribute: (identifier) @_attr) @reader
  (#any-of? @_attr "read" "readStream"))

; df.write / df.writeStream: a writer of df's data.
((attribute attribute: (identifier) @_attr) @writer
  (#any-of? @_attr "write" "writeStream"))

; ---- reads ------------------------------------------------------------------

; spark.read.parquet(path), .csv, .json, .orc, .text, .load(path), .table(name) …
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list
     . (_) @name)) @read
  (#any-of? @_m "parquet" "csv" "json" "orc" "text" "textFile" "load" "table" "avro" "xml")
  (#set! receiver "reader"))

; spark.read.csv(path=…), .load(path=…)
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list
     (keyword_argument name: (identifier) @_k value: (_) @name))) @read
  (#any-of? @_m "parquet" "csv" "json" "orc" "text" "load" "table" "avro")
  (#any-of? @_k "path" "paths" "tableName")
  (#set! receiver "reader"))

; spark.read.load() without a path: a DataFrame whose name came from option().
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list)) @read
  (#any-of? @_m "load" "table")
  (#set! receiver "reader"))

; spark.read.format("jdbc").option("dbtable", t) / .option("path", p), and streams:
; Kafka topics, Kinesis stream names.
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list . (string) @_k . (_) @name)) @read
  (#eq? @_m "option")
  (#match? @_k "^[\"'](?i:dbtable|path|table|subscribe|topic|kinesis\\.streamName|streamName)[\"']$")
  (#set! receiver "reader"))

; spark.read.format("jdbc").options(dbtable=t)
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @read
  (#eq? @_m "options")
  (#any-of? @_k "dbtable" "dbTable" "path" "table")
  (#set! receiver "reader"))

; spark.read.format("jdbc").option("query", "SELECT …")
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list . (string) @_k . (_) @query)) @sql
  (#eq? @_m "option")
  (#match? @_k "^[\"'](?i:query)[\"']$")
  (#set! receiver "reader"))

; spark.read.jdbc(url, table, …) / spark.read.jdbc(url=…, table=…)
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list
     . (_)
     . (_) @name)) @read
  (#eq? @_m "jdbc")
  (#set! receiver "reader"))
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @read
  (#eq? @_m "jdbc")
  (#eq? @_k "table")
  (#set! receiver "reader"))

; sc.textFile(path), spark.sparkContext.wholeTextFiles(path): RDDs
((call
   function: (attribute object: (_) @_o attribute: (identifier) @_m)
   arguments: (argument_list . (_) @name)) @read
  (#any-of? @_m "textFile" "wholeTextFiles" "binaryFiles" "pickleFile" "sequenceFile")
  (#match? @_o "(?i)(sc|context)$"))

; spark.table("db.t")
((call
   function: (attribute object: (_) @_o attribute: (identifier) @_m)
   arguments: (argument_list . (_) @name)) @read
  (#eq? @_m "table")
  (#match? @_o "(?i)(spark|session|context)$"))

; spark.sql("SELECT …"): the SQL extractor, Spark dialect unless configured.
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list
     . (_) @query)) @sql
  (#eq? @_m "sql")
  (#set! dialect "spark"))
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @query))) @sql
  (#eq? @_m "sql")
  (#any-of? @_k "sqlQuery" "query")
  (#set! dialect "spark"))

; ---- temporary views --------------------------------------------------------

((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list . (_) @name)) @view
  (#any-of? @_m "createOrReplaceTempView" "createTempView" "createGlobalTempView"
    "createOrReplaceGlobalTempView" "registerTempTable" "registerDataFrameAsTable"))

; ---- writes -----------------------------------------------------------------

; df.write.parquet(path), .saveAsTable(name), .insertInto(name), .save(path) …
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list
     . (_) @name)) @write
  (#any-of? @_m "saveAsTable" "insertInto" "parquet" "csv" "json" "orc" "text" "save" "avro"
    "xml" "toTable" "start")
  (#set! receiver "writer"))

; df.write.save(path=…), .parquet(path=…), .saveAsTable(name=…)
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @write
  (#any-of? @_m "saveAsTable" "insertInto" "parquet" "csv" "json" "orc" "text" "save" "avro"
    "toTable" "start")
  (#any-of? @_k "path" "name" "tableName")
  (#set! receiver "writer"))

; df.write.format("jdbc").option("dbtable", t).save()
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list . (string) @_k . (_) @name)) @write
  (#eq? @_m "option")
  (#match? @_k "^[\"'](?i:dbtable|path|table)[\"']$")
  (#set! receiver "writer"))
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @write
  (#eq? @_m "options")
  (#any-of? @_k "dbtable" "dbTable" "path" "table")
  (#set! receiver "writer"))

; df.write.jdbc(url, table, …)
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list
     . (_)
     . (_) @name)) @write
  (#eq? @_m "jdbc")
  (#set! receiver "writer"))
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @write
  (#eq? @_m "jdbc")
  (#eq? @_k "table")
  (#set! receiver "writer"))

; rdd.saveAsTextFile(path): RDDs have no writer builder.
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list . (_) @name)) @write
  (#any-of? @_m "saveAsTextFile" "saveAsPickleFile" "saveAsSequenceFile" "saveAsHadoopFile"
    "saveAsNewAPIHadoopFile"))

; df.writeTo("catalog.db.t").append() / .createOrReplace() …
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list . (_) @name)) @write
  (#eq? @_m "writeTo"))

; ---- Delta Lake -------------------------------------------------------------

; DeltaTable.forName(spark, "db.t") / DeltaTable.forPath(spark, path)
((call
   function: (attribute object: (identifier) @_c attribute: (identifier) @_m)
   arguments: (argument_list . (_) . (_) @name)) @table
  (#eq? @_c "DeltaTable")
  (#any-of? @_m "forName" "forPath"))

; delta_table.alias("t").merge(source, condition): writes the table from source.
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list . (_) @data)) @write
  (#eq? @_m "merge")
  (#set! receiver "table"))
