; pandas (and look-alikes: polars, dask, modin) reads and writes. Conventions: README.md.

; pd.read_csv(path), read_parquet, … (also `from pandas import read_csv`)
((call
   function: [(attribute attribute: (identifier) @_m) (identifier) @_m]
   arguments: (argument_list
     . (_) @name)) @read
  (#any-of? @_m "read_csv" "read_parquet" "read_json" "read_excel" "read_feather" "read_orc"
    "read_pickle" "read_table" "read_fwf" "read_xml" "read_hdf" "read_sas" "read_stata"
    "read_spss" "read_sql_table" "read_avro" "read_delta" "read_ndjson" "scan_csv"
    "scan_parquet" "scan_ndjson"))

((call
   function: [(attribute attribute: (identifier) @_m) (identifier) @_m]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @read
  (#any-of? @_m "read_csv" "read_parquet" "read_json" "read_excel" "read_feather" "read_orc"
    "read_pickle" "read_table" "read_fwf" "read_xml" "read_hdf" "read_sas" "read_stata"
    "read_spss" "read_sql_table" "read_avro" "read_delta" "read_ndjson")
  (#any-of? @_k "filepath_or_buffer" "path" "path_or_buf" "io" "table_name" "source"))

; pd.read_csv(path, usecols=["a", "b"]), pd.read_parquet(path, columns=[…]): only those columns.
((call
   function: [(attribute attribute: (identifier) @_m) (identifier) @_m]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @columns))) @read
  (#any-of? @_m "read_csv" "read_excel" "read_parquet" "read_feather" "read_orc" "read_table"
    "read_fwf" "read_sql_table")
  (#any-of? @_k "usecols" "columns"))

; pd.read_sql_table("t", con, schema="s")
((call
   function: [(attribute attribute: (identifier) @_m) (identifier) @_m]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @namespace))) @read
  (#eq? @_m "read_sql_table")
  (#eq? @_k "schema"))

; pd.read_sql(sql_or_table, con), pd.read_sql_query(sql, con)
((call
   function: [(attribute attribute: (identifier) @_m) (identifier) @_m]
   arguments: (argument_list
     . (_) @query)) @sql
  (#any-of? @_m "read_sql" "read_sql_query" "read_database")
  (#set! table_if_one_word "true"))
((call
   function: [(attribute attribute: (identifier) @_m) (identifier) @_m]
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @query))) @sql
  (#any-of? @_m "read_sql" "read_sql_query" "read_database")
  (#any-of? @_k "sql" "query")
  (#set! table_if_one_word "true"))

; df.to_csv(path), to_parquet, …, to_sql(name, con)
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list
     . (_) @name)) @write
  (#any-of? @_m "to_csv" "to_parquet" "to_json" "to_excel" "to_feather" "to_orc" "to_pickle"
    "to_hdf" "to_xml" "to_stata" "to_sql" "to_delta" "write_csv" "write_parquet" "write_json"
    "write_ndjson" "write_database" "write_delta"))

((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @write
  (#any-of? @_m "to_csv" "to_parquet" "to_json" "to_excel" "to_feather" "to_orc" "to_pickle"
    "to_hdf" "to_xml" "to_stata" "to_sql" "write_csv" "write_parquet" "write_database")
  (#any-of? @_k "path_or_buf" "path" "excel_writer" "name" "table_name" "file"))

; df.to_sql("t", con, schema="s")
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @namespace))) @write
  (#eq? @_m "to_sql")
  (#eq? @_k "schema"))
