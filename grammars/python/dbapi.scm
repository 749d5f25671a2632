; SQL handed to a database: DB-API cursors (psycopg2, sqlite3, pymysql …), SQLAlchemy
; connections and sessions, DuckDB. Conventions: README.md.

; cursor.execute("…"), cursor.executemany("…", rows), conn.exec_driver_sql("…")
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list
     . (_) @query)) @sql
  (#any-of? @_m "execute" "executemany" "executescript" "exec_driver_sql" "run_sql" "query_df"))

; cursor.execute(operation="…") / session.execute(statement=…)
((call
   function: (attribute attribute: (identifier) @_m)
   arguments: (argument_list (keyword_argument name: (identifier) @_k value: (_) @query))) @sql
  (#any-of? @_m "execute" "executemany")
  (#any-of? @_k "operation" "query" "sql" "statement"))

; SQLAlchemy's text("…") is its SQL.
((call
   function: [(identifier) @_f (attribute attribute: (identifier) @_f)]
   arguments: (argument_list . (_) @value)) @pass
  (#any-of? @_f "text" "str" "dedent" "strip"))
