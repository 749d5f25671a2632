; Datasets read and written by SQL, for the error-tolerant fallback in
; src/extract/fallback.rs (tree-sitter-sequel 0.3.11 node types).
;
; Captures:
;   @write  an object_reference that a statement writes
;   @read   an object_reference that a statement reads
;   @cte    the name of a common table expression (not a dataset; its parent
;           node is the scope in which the name shadows tables)
;
; An UPDATE target is a `relation`, so it matches @read as well as @write: the
; Rust side drops a @read capture whose node is also captured as @write.

; ---- writes -----------------------------------------------------------------

; INSERT INTO t / INSERT OVERWRITE t / REPLACE INTO t
(insert (object_reference) @write)

; CREATE [TEMPORARY] TABLE t (...) [AS SELECT ...] / CREATE TABLE t AS SELECT ...
(create_table (object_reference) @write)

; CREATE [OR REPLACE] VIEW v AS ... / CREATE MATERIALIZED VIEW v AS ...
(create_view (object_reference) @write)
(create_materialized_view (object_reference) @write)

; UPDATE t SET ... (Postgres) / UPDATE t1, t2 JOIN t3 ... SET ... (MySQL): the
; relations directly under `update` are the targets, joined ones are reads.
(update (relation (object_reference) @write))

; MERGE INTO t USING s ...: the grammar inlines MERGE into `statement`.
(statement
  (keyword_merge)
  .
  (keyword_into)
  .
  (object_reference) @write)

; DELETE FROM t: the grammar aliases the DELETE target clause to `from`, with
; the object_reference directly under it (a SELECT's `from` holds relations).
(statement
  (delete)
  (from (object_reference) @write))

; TRUNCATE [TABLE] t1, t2
(statement
  (keyword_truncate)
  (object_reference) @write)

; ---- reads ------------------------------------------------------------------

; FROM t, JOIN t, UPDATE ... FROM t, and every subquery or CTE body.
(relation (object_reference) @read)

; MERGE INTO t USING s: a plain table source (a subquery source is a relation
; inside `subquery` and matches the pattern above).
(statement
  (keyword_merge)
  (keyword_using)
  .
  (object_reference) @read)

; ---- scopes -----------------------------------------------------------------

; WITH x AS (...): x is not a dataset inside the cte's parent node.
(cte . (identifier) @cte)
