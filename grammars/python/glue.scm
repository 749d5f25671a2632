; AWS Glue: dynamic frames from and to the Data Catalog, S3 and JDBC. Conventions: README.md.

; glueContext.create_dynamic_frame.from_catalog(database=…, table_name=…)
; (and create_dynamic_frame_from_catalog, create_data_frame.from_catalog)
((call
   function: [(identifier) @_m (attribute attribute: (identifier) @_m)] @_f
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @namespace))) @read
  (#any-of? @_m "from_catalog" "create_dynamic_frame_from_catalog" "create_data_frame_from_catalog")
  (#match? @_f "create_(dynamic|data)_frame[._]from_catalog$")
  (#any-of? @_k "database" "name_space"))
((call
   function: [(identifier) @_m (attribute attribute: (identifier) @_m)] @_f
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @read
  (#any-of? @_m "from_catalog" "create_dynamic_frame_from_catalog" "create_data_frame_from_catalog")
  (#match? @_f "create_(dynamic|data)_frame[._]from_catalog$")
  (#any-of? @_k "table_name"))

; glueContext.create_dynamic_frame.from_options(connection_options={"paths": [...]}) …
((call
   function: [(identifier) @_m (attribute attribute: (identifier) @_m)] @_f
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @options))) @read
  (#any-of? @_m "from_options" "create_dynamic_frame_from_options" "create_data_frame_from_options")
  (#match? @_f "create_(dynamic|data)_frame[._]from_options$")
  (#eq? @_k "connection_options")
  (#set! keys "paths path dbtable tablename table")
  (#set! namespace_keys "database schemaname"))

; glueContext.write_dynamic_frame.from_options(frame=…, connection_options={"path": …})
; and from_jdbc_conf(frame=…, connection_options={"dbtable": …, "database": …})
((call
   function: [(identifier) @_m (attribute attribute: (identifier) @_m)] @_f
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @options))) @write
  (#any-of? @_m "from_options" "from_jdbc_conf" "from_catalog" "write_dynamic_frame_from_options"
    "write_dynamic_frame_from_jdbc_conf" "write_dynamic_frame_from_catalog"
    "write_data_frame_from_catalog" "write_from_options" "write_from_jdbc_conf")
  (#match? @_f "write_(dynamic_frame|data_frame|from)[._]?(from_options|from_jdbc_conf|jdbc_conf)?$")
  (#eq? @_k "connection_options")
  (#set! keys "path paths dbtable tablename table")
  (#set! namespace_keys "database schemaname"))
((call
   function: [(identifier) @_m (attribute attribute: (identifier) @_m)] @_f
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @data))) @write
  (#any-of? @_m "from_options" "from_jdbc_conf" "from_catalog" "write_dynamic_frame_from_options"
    "write_dynamic_frame_from_jdbc_conf" "write_dynamic_frame_from_catalog"
    "write_data_frame_from_catalog" "write_from_options" "write_from_jdbc_conf")
  (#match? @_f "write_(dynamic_frame|data_frame|from)[._]?(from_options|from_jdbc_conf|jdbc_conf|from_catalog)?$")
  (#any-of? @_k "frame" "frame_or_dfc"))

; glueContext.write_dynamic_frame.from_catalog(frame=…, database=…, table_name=…)
((call
   function: [(identifier) @_m (attribute attribute: (identifier) @_m)] @_f
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @namespace))) @write
  (#any-of? @_m "from_catalog" "write_dynamic_frame_from_catalog" "write_data_frame_from_catalog")
  (#match? @_f "write_(dynamic|data)_frame[._]from_catalog$")
  (#eq? @_k "database"))
((call
   function: [(identifier) @_m (attribute attribute: (identifier) @_m)] @_f
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @name))) @write
  (#any-of? @_m "from_catalog" "write_dynamic_frame_from_catalog" "write_data_frame_from_catalog")
  (#match? @_f "write_(dynamic|data)_frame[._]from_catalog$")
  (#eq? @_k "table_name"))
