#!/usr/bin/env python3
"""Run the peer lineage tools over the shared corpora and compare them with git-lineage.

Peers: sqlglot (``sqlglot.lineage`` + table extraction from the AST), sqllineage 1.5.9
(``LineageRunner``) and openlineage-sql (``openlineage_sql.parse``, sqlparser-rs with Python
bindings). Each peer has one adapter, ``run_<tool>(case) -> Prediction``, documented with what the
tool can and cannot do and how its output is mapped to sqllineage's naming convention:

* table: ``schema.table`` with unquoted identifiers lower-cased, quoted ones kept verbatim, and the
  placeholder schema ``<default>`` for an unqualified table (``<default>.tab1``); three-part names
  stay three-part (``db.schema.tbl``); file/URI paths are kept as the plain string;
* column: ``<table>.<column>`` (``<default>.tab2.col1``); a source column that the tool cannot
  attribute to a table is the bare column name (``col1``).

Multi-statement SQL is composed the way sqllineage composes it (``compose_tables`` and
``compose_columns``): per statement every read table gets an edge to every written table; a table
that is written in one statement and read in another is an intermediate and is neither source nor
target; a statement that only reads (a plain SELECT) makes its tables sources; a statement that only
writes (``CREATE TABLE t (..)``, ``INSERT .. VALUES``) makes its table a target; a table read and
written by the same statement is both. Column pairs are (first, last) node of every path through the
column edges of all statements.

Corpora (read in place from ../shared/corpus, never copied): ``sqllineage/*.jsonl`` (table and
column cases), ``tpch/q*.sql`` and ``tpcds/q*.sql`` (table lineage only, references in
``lineage_sqllineage.jsonl``, dialect ansi).

Outputs ``bench/out/<tool>.jsonl``: one line per case,
``{"id", "sources", "targets", "columns", "error"}``. ``columns`` is filled for column cases only
(tpch/tpcds and table cases score table lineage only).

Then it asks git-lineage to score itself and the three prediction files with its own scorer
(``git-lineage debug corpus --format json``) and to measure its throughput
(``git-lineage debug throughput FILE...``), measures the peers' throughput in-process, and prints a
table. The LAST line printed is a one-line summary.

If git-lineage's commands are not available, the peers' figures come from ``dev_score`` (a Python
scorer used for development only, implementing the same rule as the Rust scorer) and git-lineage's
figures are reported as unavailable. Scoring rule: a table case matches when the sets of sources
and of targets equal the expected ones; a column case when the set of (source, target) pairs does;
names compare case-insensitively with whitespace runs collapsed. A prediction's ``error`` does not
enter the rule (a tool that fails on ``DROP TABLE`` and so reports nothing matches that negative
case). The tpch/tpcds references are sqllineage 1.5.9's own output, not hand-checked, so
sqllineage matches them by construction and a peer that finds more tables (e.g. in NOT EXISTS
subqueries) can be right where it is scored wrong.

Throughput: every q*.sql of tpch/ and tpcds/ is split into statements with ``sqlparse.split``
(127 statements); each peer's ``analyze_<tool>`` (parse + column lineage) runs over all of them,
repeatedly until ``--min-seconds`` have passed (at least one full pass), timed in-process with
``time.perf_counter``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
OUT = REPO / "bench" / "out"
GIT_LINEAGE = REPO / "target" / "release" / "git-lineage"

TOOLS = ["sqlglot", "openlineage-sql", "sqllineage"]  # order of the summary line
CORPORA = ["sqllineage", "tpch", "tpcds"]
DEFAULT_SCHEMA = "<default>"
CASE_TIMEOUT_S = 60

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)


# --------------------------------------------------------------------------------------------
# cases and predictions
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    corpus: str  # sqllineage | tpch | tpcds
    kind: str  # table | column
    dialect: str  # sqlfluff dialect name
    sql: str
    metadata: dict[str, list[str]] | None
    sources: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    columns: list[list[str]] = field(default_factory=list)


@dataclass
class Prediction:
    sources: set[str] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    columns: set[tuple[str, str]] = field(default_factory=set)
    error: str | None = None

    def to_json(self, case_id: str) -> dict:
        return {
            "id": case_id,
            "sources": sorted(self.sources),
            "targets": sorted(self.targets),
            "columns": [list(p) for p in sorted(self.columns)],
            "error": self.error,
        }


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted((CORPUS / "sqllineage").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            cases.append(
                Case(
                    id=r["id"],
                    corpus="sqllineage",
                    kind=r["test_kind"],
                    dialect=r.get("dialect") or "ansi",
                    sql=r["sql"],
                    metadata=r.get("metadata") or None,
                    sources=r.get("sources") or [],
                    targets=r.get("targets") or [],
                    columns=r.get("columns") or [],
                )
            )
    for corpus in ("tpch", "tpcds"):
        refs = {}
        ref_path = CORPUS / corpus / "lineage_sqllineage.jsonl"
        if ref_path.exists():
            for line in ref_path.read_text().splitlines():
                if line.strip():
                    r = json.loads(line)
                    refs[r["file"]] = r
        for path in sorted((CORPUS / corpus).glob("q*.sql")):
            case_id = f"{corpus}/{path.name}"
            ref = refs.get(case_id, {})
            cases.append(
                Case(
                    id=case_id,
                    corpus=corpus,
                    kind="table",
                    dialect="ansi",
                    sql=path.read_text(),
                    metadata=None,
                    sources=ref.get("sources") or [],
                    targets=ref.get("targets") or [],
                )
            )
    return cases


class CaseTimeout(BaseException):
    pass


def _on_alarm(signum, frame):
    raise CaseTimeout(f"timed out after {CASE_TIMEOUT_S}s")


def guarded(adapter, case: Case) -> Prediction:
    """Run one adapter on one case; a crash or a timeout becomes the prediction's error."""
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(CASE_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return adapter(case)
    except BaseException as e:  # noqa: BLE001 - a peer crash must not stop the run
        if isinstance(e, KeyboardInterrupt):
            raise
        msg = f"{type(e).__name__}: {e}".strip()
        return Prediction(error=" ".join(msg.split())[:500])
    finally:
        signal.alarm(0)


# --------------------------------------------------------------------------------------------
# shared helpers: names and multi-statement composition
# --------------------------------------------------------------------------------------------


def dataset_name(parts: list[tuple[str, bool]]) -> str:
    """(identifier, quoted) parts -> sqllineage name: unquoted lower-cased, `<default>.` added."""
    names = [text if quoted else text.lower() for text, quoted in parts if text]
    if len(names) == 1:
        names.insert(0, DEFAULT_SCHEMA)
    return ".".join(names)


@dataclass
class StatementLineage:
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    column_edges: set[tuple[str, str]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)  # partial failures (lineage still usable)


def compose_tables(statements: list[StatementLineage]) -> tuple[set[str], set[str]]:
    """sqllineage's composition: edges read->write; source = no in-edge and some out-edge,
    target = no out-edge and some in-edge (self-loops count for both, as in networkx), plus
    self-loop tables as both, SELECT-only tables as sources, write-only tables as targets."""
    edges: set[tuple[str, str]] = set()
    source_only: set[str] = set()
    target_only: set[str] = set()
    for st in statements:
        if st.reads and not st.writes:
            source_only |= st.reads
        elif st.writes and not st.reads:
            target_only |= st.writes
        else:
            edges |= set(itertools.product(st.reads, st.writes))
    indeg: dict[str, int] = {}
    outdeg: dict[str, int] = {}
    for a, b in edges:
        outdeg[a] = outdeg.get(a, 0) + 1
        indeg[b] = indeg.get(b, 0) + 1
    nodes = set(indeg) | set(outdeg)
    selfloop = {a for a, b in edges if a == b}
    sources = {n for n in nodes if indeg.get(n, 0) == 0 and outdeg.get(n, 0) > 0}
    targets = {n for n in nodes if outdeg.get(n, 0) == 0 and indeg.get(n, 0) > 0}
    return sources | selfloop | source_only, targets | selfloop | target_only


def compose_columns(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """(first, last) node of every path: roots (no incoming edge) to the sinks they reach."""
    succ: dict[str, set[str]] = {}
    has_in: set[str] = set()
    for a, b in edges:
        if a == b:
            continue
        succ.setdefault(a, set()).add(b)
        has_in.add(b)
    pairs: set[tuple[str, str]] = set()
    for root in succ:
        if root in has_in:
            continue
        seen = {root}
        stack = [root]
        while stack:
            n = stack.pop()
            nxt = succ.get(n)
            if not nxt:
                if n != root:
                    pairs.add((root, n))
                continue
            for m in nxt:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
    pairs |= {(a, b) for a, b in edges if a == b}
    return pairs


def split_statements(sql: str) -> list[str]:
    """Split a script into statements with sqlparse (what Airflow does before openlineage-sql);
    statements that are only comments/whitespace are dropped."""
    import sqlparse

    out = []
    for stmt in sqlparse.split(sql):
        if sqlparse.format(stmt, strip_comments=True).strip().strip(";").strip():
            out.append(stmt)
    return out


# --------------------------------------------------------------------------------------------
# sqlglot
# --------------------------------------------------------------------------------------------

# sqlfluff dialect -> sqlglot dialect ("" = sqlglot's default dialect, the most permissive one).
SQLGLOT_DIALECTS = {
    "ansi": "",
    "athena": "athena",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "db2": "",
    "duckdb": "duckdb",
    "exasol": "exasol",
    "greenplum": "postgres",
    "hive": "hive",
    "mariadb": "mysql",
    "materialize": "materialize",
    "mysql": "mysql",
    "oracle": "oracle",
    "postgres": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "sparksql": "spark",
    "teradata": "teradata",
    "tsql": "tsql",
    "vertica": "",
}


def _sqlglot_table_name(table) -> str | None:
    from sqlglot import exp

    if not isinstance(table.this, exp.Identifier) or not table.name:
        return None  # table function, UNNEST, ...
    parts = [table.args.get(k) for k in ("catalog", "db", "this")]
    return dataset_name([(p.name, bool(p.args.get("quoted"))) for p in parts if p is not None])


def _sqlglot_schema(metadata: dict[str, list[str]] | None) -> dict:
    schema: dict = {}
    for qualified, cols in (metadata or {}).items():
        db, _, tbl = qualified.rpartition(".")
        target = schema.setdefault(db, {}) if db else schema
        target[tbl] = {c: "VARCHAR" for c in cols}
    return schema


def _sqlglot_statement(st, dialect: str, schema: dict, case: Case, want_columns: bool):
    """Table reads/writes of one sqlglot statement, plus column edges from sqlglot.lineage."""
    from sqlglot import exp

    out = StatementLineage()
    target_node = None  # the exp.Table written to (excluded from the reads)
    target_name = None
    target_cols: list[str] = []
    query = None  # the query whose output columns feed the target

    def unwrap_schema(node):
        nonlocal target_cols
        if isinstance(node, exp.Schema):
            target_cols = [e.name for e in node.expressions if isinstance(e, (exp.Identifier, exp.ColumnDef))]
            node = node.this
        return node

    if isinstance(st, exp.Insert):
        node = unwrap_schema(st.this)
        if isinstance(node, exp.Directory):  # INSERT OVERWRITE DIRECTORY 'path'
            target_name = node.this.name
        elif isinstance(node, exp.Table):
            target_node, target_name = node, _sqlglot_table_name(node)
        query = st.expression
    elif isinstance(st, exp.Create) and (st.args.get("kind") or "").upper() in ("TABLE", "VIEW"):
        node = unwrap_schema(st.this)
        if isinstance(node, exp.Table):
            target_node, target_name = node, _sqlglot_table_name(node)
        query = st.expression
    elif isinstance(st, (exp.Merge, exp.Update)):
        node = st.this
        if isinstance(node, exp.Table):
            target_node, target_name = node, _sqlglot_table_name(node)
            # UPDATE alias SET .. FROM real_table AS alias: the alias names the written table
            if isinstance(st, exp.Update) and not node.args.get("db"):
                for t in st.find_all(exp.Table):
                    if t is not node and t.alias_or_name and t.alias.lower() == node.name.lower():
                        target_node, target_name = t, _sqlglot_table_name(t)
                        break
    elif isinstance(st, exp.Copy):  # COPY t FROM 'path' / COPY INTO t FROM 'path'
        node = unwrap_schema(st.this)
        if isinstance(node, exp.Table):
            target_node, target_name = node, _sqlglot_table_name(node)
        out.reads |= {f.name for f in st.args.get("files") or [] if isinstance(f, exp.Literal)}
    elif isinstance(st, exp.Query) and st.find(exp.Into):  # SELECT .. INTO t [UNION ..]
        node = st.find(exp.Into).this
        if isinstance(node, exp.Table):
            target_node, target_name = node, _sqlglot_table_name(node)
        query = st.copy()
        query.find(exp.Into).pop()
    elif isinstance(st, exp.Query):
        query = st
    else:
        # DROP, DELETE, TRUNCATE, CACHE, ALTER, SET, DESCRIBE, SHOW, unparsed Command, ...:
        # no data flows, so no lineage.
        return out

    ctes = {c.alias_or_name.lower() for c in st.find_all(exp.CTE)}
    for t in st.find_all(exp.Table):
        if t is target_node:
            continue
        if not t.args.get("db") and t.name.lower() in ctes:
            continue
        name = _sqlglot_table_name(t)
        if name:
            out.reads.add(name)
    if target_name:
        out.writes.add(target_name)

    if want_columns and target_name and isinstance(query, exp.Query):
        out.column_edges, out.errors = _sqlglot_column_edges(
            st, query, dialect, schema, case, target_name, target_cols
        )
    return out


def _sqlglot_column_edges(st, query, dialect, schema, case, target_name, target_cols):
    from sqlglot import exp
    from sqlglot.lineage import lineage

    query = query.copy()
    while isinstance(query, exp.Subquery) and not query.alias:
        query = query.this
    with_ = st.args.get("with_") or st.args.get("with")  # WITH .. INSERT INTO t SELECT ..
    if with_ is not None and query is not st and not (query.args.get("with_") or query.args.get("with")):
        query.set("with_" if "with_" in type(query).arg_types else "with", with_.copy())

    errors: list[str] = []
    try:  # all output columns at once (shared cache)
        nodes = list(lineage(None, query, schema=schema, dialect=dialect).items())
    except Exception:  # one bad column fails the batch: ask column by column
        nodes = []
        for i, sel in enumerate(query.selects):
            name = sel.alias_or_name or f"_col_{i}"
            try:
                nodes.append((name, lineage(name, query, schema=schema, dialect=dialect)))
            except Exception as e:
                errors.append(f"lineage({name!r}): {type(e).__name__}: {e}")

    # INSERT INTO t (a, b) / CREATE TABLE t (a .., b ..) AS: outputs map to those columns by
    # position; so do they to the target's columns in the schema when it has them.
    positional = target_cols
    if not positional and case.metadata and target_name in case.metadata:
        positional = case.metadata[target_name]
    if positional and len(positional) != len(nodes):
        positional = []

    edges = set()
    for i, (name, root) in enumerate(nodes):
        if positional:
            out_col = positional[i]
        elif re.fullmatch(r"_col_\d+", name):  # unaliased expression: name it by its text
            idx = int(name[5:])
            sels = query.selects
            out_col = sels[idx].sql(dialect=dialect) if idx < len(sels) else name
        else:
            out_col = name
        tgt = f"{target_name}.{out_col}"
        for node in root.walk():
            if node.downstream:
                continue
            col = node.name.rsplit(".", 1)[-1]
            if isinstance(node.expression, exp.Table):
                tname = _sqlglot_table_name(node.expression)
                if tname:
                    edges.add((f"{tname}.{col}", tgt))
            elif isinstance(node.expression, (exp.Column, exp.Placeholder)):
                edges.add((col, tgt))  # a column sqlglot could not attribute to a table
    return edges, errors


def run_sqlglot(case: Case) -> Prediction:
    """sqlglot: ``sqlglot.parse`` + table extraction from the AST + ``sqlglot.lineage.lineage``.

    Can: parse most dialects; tables = every ``exp.Table`` of a statement minus CTE names, the
    written table from INSERT/CREATE TABLE|VIEW/SELECT INTO/MERGE/UPDATE/COPY (COPY's file
    literals and INSERT OVERWRITE DIRECTORY's path are kept as paths); column lineage through
    CTEs, subqueries, unions and (given ``schema=``) star expansion, for queries only.
    Cannot: column lineage of MERGE/UPDATE (``lineage`` takes a query); CREATE PROCEDURE bodies;
    unqualified columns in a join without a schema are left unresolved (reported bare);
    ``count(*)`` and literals have no source column.
    Mapping: target columns are the query's output names (an unaliased expression is named by
    its SQL text instead of sqlglot's ``_col_N``), mapped by position to the INSERT/CREATE column
    list, or to the target's columns in ``metadata`` when the counts match; source columns are the
    leaf ``exp.Table`` nodes (``<table>.<column>``, ``*`` for an unexpanded star).
    Dialect: ``SQLGLOT_DIALECTS``; on a parse error with a specific dialect, retry with the
    default one.
    """
    import sqlglot

    dialect = SQLGLOT_DIALECTS.get(case.dialect, "")
    try:
        statements = sqlglot.parse(case.sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        if not dialect:
            raise
        dialect = ""
        statements = sqlglot.parse(case.sql, read=dialect)
    schema = _sqlglot_schema(case.metadata)
    want_columns = case.kind == "column"
    lineages = [_sqlglot_statement(st, dialect, schema, case, want_columns) for st in statements if st is not None]
    pred = Prediction()
    pred.sources, pred.targets = compose_tables(lineages)
    if want_columns:
        pred.columns = compose_columns(set().union(*(s.column_edges for s in lineages)))
    errors = [e for s in lineages for e in s.errors]
    if errors:
        pred.error = " ".join("; ".join(errors).split())[:500]
    return pred


# --------------------------------------------------------------------------------------------
# sqllineage
# --------------------------------------------------------------------------------------------

SQLLINEAGE_FALLBACK = "non-validating"  # sqlparse-based analyzer, sqllineage's lenient mode
# `SELECT a AS x, x || b AS y` resolves x to the earlier alias. Off by default in sqllineage; its
# tests that exercise it turn it on, and with it on every visible sqllineage case still passes
# (with it off, 3 lateral-alias column cases of the corpus fail).
SQLLINEAGE_CONFIG = {"LATERAL_COLUMN_ALIAS_REFERENCE": True}


def run_sqllineage(case: Case) -> Prediction:
    """sqllineage 1.5.9: ``LineageRunner(sql, dialect=<sqlfluff dialect>, metadata_provider=...)``.

    Can: everything its own test suite covers (the sqllineage corpus comes from it): multi-statement
    composition, intermediates, paths, session metadata, star expansion given metadata.
    Cannot: SQL that sqlfluff cannot parse in the given dialect (TPC-DS's ``+ 30 days``); then it
    is retried with the ``non-validating`` (sqlparse) analyzer, which is how the TPC reference was
    made.
    Mapping: ``str()`` of its Table/Path/Column objects is already the corpus convention; column
    pairs are ``(path[0], path[-1])`` of ``get_column_lineage()``.
    Dialect: the case's sqlfluff dialect as is. Config: ``SQLLINEAGE_CONFIG`` (lateral column
    alias references on), the same for every case.
    """
    from sqllineage.config import SQLLineageConfig
    from sqllineage.core.metadata.dummy import DummyMetaDataProvider
    from sqllineage.runner import LineageRunner

    provider = DummyMetaDataProvider(case.metadata or {})

    def analyze(dialect: str) -> Prediction:
        with SQLLineageConfig(**SQLLINEAGE_CONFIG):
            return _analyze(dialect)

    def _analyze(dialect: str) -> Prediction:
        lr = LineageRunner(case.sql, dialect=dialect, metadata_provider=provider)
        pred = Prediction(
            sources={str(t) for t in lr.source_tables},
            targets={str(t) for t in lr.target_tables},
        )
        if case.kind == "column":
            pred.columns = {(str(p[0]), str(p[-1])) for p in lr.get_column_lineage()}
        return pred

    try:
        return analyze(case.dialect)
    except Exception:  # (a timeout is a BaseException and is not retried)
        return analyze(SQLLINEAGE_FALLBACK)


# --------------------------------------------------------------------------------------------
# openlineage-sql
# --------------------------------------------------------------------------------------------

# sqlfluff dialect -> openlineage-sql dialect (its names: generic ansi bigquery snowflake postgres
# postgresql redshift hive mysql mssql sqlserver sqlite databricks; anything else is generic).
OPENLINEAGE_DIALECTS = {
    "ansi": "generic",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "sparksql": "databricks",
    "hive": "hive",
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgres": "postgres",
    "greenplum": "postgres",
    "materialize": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "tsql": "mssql",
}


def _ol_table_name(meta) -> str:
    qs = meta.quote_style
    parts = []
    for attr in ("database", "schema", "name"):
        value = getattr(meta, attr)
        if value:
            quoted = bool(qs is not None and getattr(qs, attr, None))
            parts.append((value, quoted))
    return dataset_name(parts)


def run_openlineage_sql(case: Case) -> Prediction:
    """openlineage-sql: ``openlineage_sql.parse([statement], dialect=...)`` per statement.

    Can: in/out tables of queries, DML and DDL; column lineage of the query's output columns
    (``column_lineage``: descendant name <- origin table columns), through CTEs and subqueries.
    Cannot: statements sqlparser-rs does not parse (then ``errors`` is set and the statement
    yields nothing); column lineage for ``SELECT *`` or ``count(*)``; it names descendants by the
    query's output names, not by the INSERT column list (unaliased expressions get ``_0``, ``_1``
    ...), and returns them sorted by name, so no positional mapping to the target is possible;
    an unqualified column in a join is attributed to one table. It reports DROP / TRUNCATE /
    DELETE targets as outputs (OpenLineage semantics), kept as is.
    Mapping: SQL is split into statements with ``sqlparse.split`` (as Airflow does), each parsed
    alone so that ``compose_tables`` sees per-statement reads/writes; table names come from
    ``DbTableMeta`` (database, schema, name + quote style); a statement's column edges are
    ``origin.column -> <its single out table>.<descendant>`` (origin missing: bare column).
    Dialect: ``OPENLINEAGE_DIALECTS``; on a parse error, retry with ``generic``.
    """
    import openlineage_sql

    dialect = OPENLINEAGE_DIALECTS.get(case.dialect, "generic")
    lineages = []
    errors = []
    for stmt in split_statements(case.sql):
        result = openlineage_sql.parse([stmt], dialect=dialect)
        if result.errors and dialect != "generic":
            result = openlineage_sql.parse([stmt], dialect="generic")
        if result.errors:
            errors.extend(e.message for e in result.errors)
            continue
        st = StatementLineage(
            reads={_ol_table_name(t) for t in result.in_tables},
            writes={_ol_table_name(t) for t in result.out_tables},
        )
        if case.kind == "column" and len(st.writes) == 1:
            target = next(iter(st.writes))
            for cl in result.column_lineage:
                tgt = f"{target}.{cl.descendant.name}"
                for src in cl.lineage:
                    if src.origin is not None:
                        st.column_edges.add((f"{_ol_table_name(src.origin)}.{src.name}", tgt))
                    else:
                        st.column_edges.add((src.name, tgt))
        lineages.append(st)
    pred = Prediction()
    pred.sources, pred.targets = compose_tables(lineages)
    if case.kind == "column":
        pred.columns = compose_columns(set().union(*(s.column_edges for s in lineages)))
    if errors:
        pred.error = "; ".join(errors)[:500]
    return pred


ADAPTERS = {
    "sqlglot": run_sqlglot,
    "sqllineage": run_sqllineage,
    "openlineage-sql": run_openlineage_sql,
}


def tool_version(tool: str) -> str:
    from importlib.metadata import version

    return version({"openlineage-sql": "openlineage_sql"}.get(tool, tool))


# --------------------------------------------------------------------------------------------
# throughput
# --------------------------------------------------------------------------------------------


def tpc_files() -> list[Path]:
    return sorted((CORPUS / "tpch").glob("q*.sql")) + sorted((CORPUS / "tpcds").glob("q*.sql"))


def tpc_statements() -> list[str]:
    return [s for f in tpc_files() for s in split_statements(f.read_text())]


def analyze_sqlglot(stmt: str) -> bool:
    """Parse once, then lineage for every output column of the top-level query.
    Returns False when some output column had no lineage (sqlglot raised)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.lineage import lineage

    expr = sqlglot.parse_one(stmt)
    if not isinstance(expr, exp.Query):
        return True
    try:
        lineage(None, expr, schema={})
        return True
    except Exception:
        ok = True
        for i, sel in enumerate(expr.selects):
            try:
                lineage(sel.alias_or_name or f"_col_{i}", expr, schema={})
            except Exception:
                ok = False
        return ok


def analyze_sqllineage(stmt: str) -> bool:
    """LineageRunner(...).get_column_lineage(); ansi, then non-validating as the adapter does."""
    from sqllineage.config import SQLLineageConfig
    from sqllineage.runner import LineageRunner

    with SQLLineageConfig(**SQLLINEAGE_CONFIG):
        try:
            LineageRunner(stmt, dialect="ansi").get_column_lineage()
        except Exception:
            LineageRunner(stmt, dialect=SQLLINEAGE_FALLBACK).get_column_lineage()
    return True


def analyze_openlineage_sql(stmt: str) -> bool:
    """openlineage_sql.parse computes tables and column lineage in one call."""
    import openlineage_sql

    return not openlineage_sql.parse([stmt], dialect="generic").errors


ANALYZERS = {
    "sqlglot": analyze_sqlglot,
    "sqllineage": analyze_sqllineage,
    "openlineage-sql": analyze_openlineage_sql,
}


def measure_throughput(tool: str, statements: list[str], min_seconds: float) -> dict:
    analyze = ANALYZERS[tool]
    failed: set[int] = set()  # statements the tool failed on (raised, or parsed with errors)
    done = 0
    sink = io.StringIO()
    with contextlib.suppress(Exception), contextlib.redirect_stdout(sink):
        analyze(statements[0])  # untimed warm-up: imports and one-off initialisation
    start = time.perf_counter()
    while True:
        for i, stmt in enumerate(statements):
            try:
                with contextlib.redirect_stdout(sink):
                    ok = analyze(stmt)
            except Exception:
                ok = False
            if not ok:
                failed.add(i)
            done += 1
        sink.seek(0)
        sink.truncate()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            break
    return {
        "statements": done,
        "seconds": elapsed,
        "statements_per_second": done / elapsed,
        "failed": len(failed),
        "distinct": len(statements),
    }


# --------------------------------------------------------------------------------------------
# scoring (development only: the real figures come from `git-lineage debug corpus`)
# --------------------------------------------------------------------------------------------


def _norm(name: str) -> str:
    return " ".join(name.split()).lower()


def case_matches(case: Case, pred: dict) -> bool:
    if case.kind == "table":
        return {_norm(s) for s in pred.get("sources") or []} == {_norm(s) for s in case.sources} and {
            _norm(t) for t in pred.get("targets") or []
        } == {_norm(t) for t in case.targets}
    got = {(_norm(a), _norm(b)) for a, b in pred.get("columns") or []}
    return got == {(_norm(a), _norm(b)) for a, b in case.columns}


def dev_score(cases: list[Case], preds: dict[str, dict]) -> dict:
    """{corpus: {"table": {"matched", "scored"}, "column": {...}}}, same rule as the Rust scorer."""
    scores: dict = {}
    for case in cases:
        slot = scores.setdefault(case.corpus, {}).setdefault(case.kind, {"matched": 0, "scored": 0})
        slot["scored"] += 1
        pred = preds.get(case.id)
        if pred is not None and case_matches(case, pred):
            slot["matched"] += 1
    return scores


# --------------------------------------------------------------------------------------------
# git-lineage
# --------------------------------------------------------------------------------------------


def _rel(path: Path) -> str:
    return os.path.relpath(path, REPO)


def git_lineage_corpus() -> tuple[dict | None, str | None]:
    cmd = [_rel(GIT_LINEAGE), "debug", "corpus", "--corpus", _rel(CORPUS)]
    for tool in ["sqlglot", "sqllineage", "openlineage-sql"]:
        cmd += ["--peer", f"{tool}={_rel(OUT / f'{tool}.jsonl')}"]
    cmd += ["--format", "json"]
    return _run_json(cmd)


def git_lineage_throughput() -> tuple[dict | None, str | None]:
    return _run_json([_rel(GIT_LINEAGE), "debug", "throughput", *map(_rel, tpc_files())])


def _run_json(cmd: list[str]) -> tuple[dict | None, str | None]:
    if not GIT_LINEAGE.exists():
        return None, f"{_rel(GIT_LINEAGE)} not built"
    cmd = [str(REPO / cmd[0]), *cmd[1:]]
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if proc.returncode != 0:
        err = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        return None, f"`{' '.join(cmd[1:3])}` exited {proc.returncode}: {err[-1] if err else ''}"
    try:
        return json.loads(proc.stdout), None
    except json.JSONDecodeError as e:
        return None, f"`{' '.join(cmd[1:3])}` printed no JSON ({e}; not implemented in this build?)"


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def pct(slot: dict | None) -> str:
    if not slot or not slot.get("scored"):
        return "-"
    return f"{100.0 * slot['matched'] / slot['scored']:.1f}% ({slot['matched']}/{slot['scored']})"


def share(slot: dict | None) -> float | None:
    if not slot or not slot.get("scored"):
        return None
    return 100.0 * slot["matched"] / slot["scored"]


def combined(corpus_scores: dict | None) -> float | None:
    """table+column exact matches over all scored cases of one corpus, in percent."""
    if not corpus_scores:
        return None
    m = sum((corpus_scores.get(k) or {}).get("matched", 0) for k in ("table", "column"))
    n = sum((corpus_scores.get(k) or {}).get("scored", 0) for k in ("table", "column"))
    return 100.0 * m / n if n else None


def print_report(scores: dict, throughput: dict, errors: dict, source: str, git_note: str | None) -> None:
    names = ["git-lineage", *TOOLS]
    print()
    print(f"Accuracy: exact-match share per corpus ({source})")
    header = f"{'tool':<16} {'sqllineage table':>22} {'sqllineage column':>22} {'tpch table':>18} {'tpcds table':>18}"
    print(header)
    print("-" * len(header))
    for tool in names:
        s = scores.get(tool)
        if s is None:
            print(f"{tool:<16} {'unavailable':>22}")
            continue
        print(
            f"{tool:<16} {pct(s.get('sqllineage', {}).get('table')):>22} "
            f"{pct(s.get('sqllineage', {}).get('column')):>22} "
            f"{pct(s.get('tpch', {}).get('table')):>18} {pct(s.get('tpcds', {}).get('table')):>18}"
        )
    for tool in TOOLS:
        if errors.get(tool):
            print(f"  {tool}: {errors[tool]} case(s) with an error (tool exception, timeout or parse error)")
    print()
    print("Throughput on the queries derived from TPC-H and TPC-DS: statements/s, parse + column lineage, in-process")
    for tool in names:
        t = throughput.get(tool)
        if t is None:
            print(f"  {tool:<16} unavailable")
            continue
        extra = f"; failed on {t['failed']} of {t['distinct']} distinct statements" if t.get("failed") else ""
        print(
            f"  {tool:<16} {t['statements_per_second']:>10.1f} stmt/s "
            f"({t['statements']} statements in {t['seconds']:.2f} s{extra})"
        )
        if t.get("statements_per_second_all_cores"):
            # git-lineage extracts files on every core; the peers run on one Python thread.
            print(
                f"  {tool + ' (' + str(t['cores']) + ' cores)':<16} "
                f"{t['statements_per_second_all_cores']:>10.1f} stmt/s (the ratios below use one thread)"
            )
    print()
    if git_note:
        print(f"git-lineage figures unavailable: {git_note}")
    print(
        "Summary: accuracy = table+column exact matches over all sqllineage-corpus cases; "
        "pts = git-lineage minus peer; x = git-lineage stmt/s over peer stmt/s."
    )
    git = scores.get("git-lineage")
    if git is not None:
        s = git.get("sqllineage", {})
        parts = [f"git-lineage table {share(s.get('table')) or 0:.1f}% column {share(s.get('column')) or 0:.1f}%"]
        git_acc = combined(s)
        git_tp = (throughput.get("git-lineage") or {}).get("statements_per_second")
        for tool in TOOLS:
            acc = combined((scores.get(tool) or {}).get("sqllineage"))
            pts = f"{git_acc - acc:+.1f} pts" if git_acc is not None and acc is not None else "n/a pts"
            tp = (throughput.get(tool) or {}).get("statements_per_second")
            ratio = f"{git_tp / tp:.1f}x" if git_tp and tp else "n/a x"
            parts.append(f"vs {tool} {pts}, {ratio}")
        print(" | ".join(parts))
    else:
        parts = ["git-lineage unavailable"]
        for tool in TOOLS:
            s = (scores.get(tool) or {}).get("sqllineage", {})
            tp = (throughput.get(tool) or {}).get("statements_per_second")
            tps = f"{tp:.1f} stmt/s" if tp else "n/a stmt/s"
            parts.append(
                f"{tool} table {share(s.get('table')) or 0:.1f}% column {share(s.get('column')) or 0:.1f}% {tps}"
            )
        print(" | ".join(parts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tools", default=",".join(ADAPTERS), help="comma-separated peers to run")
    ap.add_argument("--min-seconds", type=float, default=2.0, help="minimum timing per tool")
    ap.add_argument("--no-throughput", action="store_true", help="skip the throughput runs")
    ap.add_argument("--reuse", action="store_true", help="reuse existing bench/out/<tool>.jsonl")
    ap.add_argument("--only", help="run only cases whose id contains this string (debugging)")
    args = ap.parse_args()

    if not (CORPUS / "README.md").exists():
        print(f"skip: {CORPUS} not found (the shared corpora are needed for bench/peers)")
        return 0
    tools = [t for t in args.tools.split(",") if t]
    cases = load_cases()
    if args.only:
        cases = [c for c in cases if args.only in c.id]
    OUT.mkdir(parents=True, exist_ok=True)
    counts = {c: sum(1 for x in cases if x.corpus == c) for c in CORPORA}
    print(f"corpus {CORPUS}: " + ", ".join(f"{c} {n} cases" for c, n in counts.items()))

    dev_scores: dict = {}
    errors: dict = {}
    for tool in tools:
        path = OUT / f"{tool}.jsonl"
        preds: dict[str, dict] = {}
        if args.reuse and path.exists():
            for line in path.read_text().splitlines():
                r = json.loads(line)
                preds[r["id"]] = r
        else:
            start = time.perf_counter()
            with path.open("w") as f:
                for case in cases:
                    rec = guarded(ADAPTERS[tool], case).to_json(case.id)
                    preds[case.id] = rec
                    f.write(json.dumps(rec) + "\n")
            print(f"{tool} {tool_version(tool)}: {len(cases)} cases in {time.perf_counter() - start:.1f} s -> {path.relative_to(REPO)}")
        errors[tool] = sum(1 for r in preds.values() if r.get("error"))
        dev_scores[tool] = dev_score(cases, preds)

    throughput: dict = {}
    if not args.no_throughput:
        statements = tpc_statements()
        for tool in tools:
            throughput[tool] = measure_throughput(tool, statements, args.min_seconds)
            t = throughput[tool]
            print(f"{tool}: {t['statements_per_second']:.1f} stmt/s over {t['statements']} statements")

    git_scores, note_c = git_lineage_corpus()
    git_tp, note_t = (None, None) if args.no_throughput else git_lineage_throughput()
    notes = "; ".join(dict.fromkeys(n for n in (note_c, note_t) if n)) or None
    if git_tp is not None:
        throughput["git-lineage"] = git_tp

    if git_scores is not None and "tools" in git_scores:
        scores = dict(git_scores["tools"])
        source = "git-lineage debug corpus"
        for tool in tools:
            if tool not in scores:
                scores[tool] = dev_scores[tool]
                source += f"; {tool} by the development scorer"
            elif scores[tool] != dev_scores[tool]:  # cross-check the two scorers
                print(f"note: the development scorer and git-lineage's scorer disagree on {tool}")
    else:
        scores = dict(dev_scores)
        source = "development Python scorer; git-lineage's scorer unavailable"
    print_report(scores, throughput, errors, source, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
