#!/usr/bin/env python3
"""Run one model of the workload repository in DuckDB and report its rows to git-lineage.

    run_model.py --db FILE --data DIR [--reads A,B,…] [--writes T] SQL_FILE

Opens the DuckDB database FILE, (re)creates the views `landing.<table>` over
`DIR/<table>.parquet` (every parquet file of DIR), runs the statement of SQL_FILE, and then,
when git-lineage set GIT_LINEAGE_RUN_FACTS (`git lineage run` does), writes there
`{"rows_in": N, "rows_out": M}`: rows_out is `count(*)` of the table the model wrote (--writes,
else the name after CREATE [OR REPLACE] TABLE in the file), rows_in the sum of `count(*)` of
the tables it read (--reads, as `git-lineage extract` lists them).

Exit codes: 0 success, 1 the SQL failed (the DuckDB error is printed), 2 usage errors.
Standard library and duckdb only.
"""

import argparse
import json
import os
import re
import sys

try:
    import duckdb
except ImportError:
    sys.exit("run_model.py: the duckdb package is missing (bench/workload/build creates a venv "
             "with it: bench/out/venv-workload)")

CREATE_TABLE = re.compile(
    r"\bcreate\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?table\s+(?:if\s+not\s+exists\s+)?"
    r"([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,2})",
    re.IGNORECASE)
NAME = re.compile(r"^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,2}$")


def quote(name):
    """A dotted name as quoted DuckDB identifiers."""
    if not NAME.match(name):
        raise ValueError(f"not a table name: {name!r}")
    return ".".join('"' + part + '"' for part in name.split("."))


def strip_comments(sql):
    """The SQL without -- and /* */ comments (strings are left alone; enough to find the
    table a model creates)."""
    out, i, n = [], 0, len(sql)
    while i < n:
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif sql[i] == "'":
            j = i + 1
            while j < n and not (sql[j] == "'" and not sql.startswith("''", j)):
                j += 2 if sql.startswith("''", j) else 1
            out.append(sql[i:j + 1])
            i = j + 1
        else:
            out.append(sql[i])
            i += 1
    return "".join(out)


def written_table(sql):
    match = CREATE_TABLE.search(strip_comments(sql))
    return match.group(1).lower() if match else None


def landing_views(con, data_dir):
    tables = sorted(f[:-len(".parquet")] for f in os.listdir(data_dir) if f.endswith(".parquet"))
    if not tables:
        raise FileNotFoundError(f"no .parquet files in {data_dir}")
    con.execute("CREATE SCHEMA IF NOT EXISTS landing")
    for table in tables:
        path = os.path.abspath(os.path.join(data_dir, table + ".parquet"))
        literal = "'" + path.replace("'", "''") + "'"
        con.execute(f"CREATE OR REPLACE VIEW landing.{quote(table)} AS "
                    f"SELECT * FROM read_parquet({literal})")


def count(con, table):
    return con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="DuckDB database file (created if missing)")
    parser.add_argument("--data", required=True, help="folder of <table>.parquet files")
    parser.add_argument("--reads", default="", help="tables the model reads, comma-separated")
    parser.add_argument("--writes", help="the table the model writes (default: from the SQL)")
    parser.add_argument("sql_file")
    args = parser.parse_args()

    try:
        with open(args.sql_file, encoding="utf-8") as f:
            sql = f.read()
    except OSError as e:
        parser.error(f"cannot read {args.sql_file}: {e.strerror}")
    if not os.path.isdir(args.data):
        parser.error(f"--data {args.data}: not a folder")
    reads = [r.strip().lower() for r in args.reads.split(",") if r.strip()]
    writes = (args.writes or written_table(sql) or "").lower()
    if not writes:
        parser.error(f"{args.sql_file}: no CREATE TABLE statement found; give --writes")
    try:
        for name in reads + [writes]:
            quote(name)
    except ValueError as e:
        parser.error(str(e))

    try:
        con = duckdb.connect(args.db)
    except duckdb.Error as e:
        print(f"run_model.py: cannot open {args.db}: {e}", file=sys.stderr)
        return 1
    try:
        landing_views(con, args.data)
        if "." in writes:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(writes.rsplit('.', 1)[0])}")
        con.execute(sql)
        rows_out = count(con, writes)
        rows_in = sum(count(con, table) for table in reads)
    except (duckdb.Error, OSError) as e:
        print(f"run_model.py: {args.sql_file}: {e}", file=sys.stderr)
        return 1
    finally:
        con.close()

    facts = os.environ.get("GIT_LINEAGE_RUN_FACTS")
    if facts:
        with open(facts, "w", encoding="utf-8") as f:
            json.dump({"rows_in": rows_in, "rows_out": rows_out}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
