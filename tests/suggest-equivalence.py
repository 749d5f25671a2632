"""Run a SQL file before and after its fixes in DuckDB and compare what each statement gives.

    python suggest-equivalence.py SETUP ORIGINAL FIXED

Each file is split into statements by DuckDB itself and run in order on a fresh copy of the
SETUP tables (a statement may read what an earlier one created). The rows of each query, and
at the end the rows of the table `target`, must be the same on both sides, compared as
multisets (the fixes may drop an order nobody keeps). Intermediate tables may differ: pruning
drops columns nobody reads. Floats are compared to 6 decimals: a sum depends on
the order of its terms. Prints one line per statement; exit 1 on a difference.
Standard library and duckdb only.
"""

import sys

import duckdb


def normalized(rows):
    # Sums of floats depend on the order rows arrive in, which is what some fixes change.
    rows = [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]
    return sorted(rows, key=repr)


def outcomes(setup, statements):
    """Each query's rows, then the rows of `target`."""
    con = duckdb.connect()
    con.execute(setup)
    out = []
    for statement in statements:
        if str(statement.type).endswith("SELECT"):
            out.append(normalized(con.execute(statement.query).fetchall()))
        else:
            con.execute(statement.query)
    out.append(normalized(con.execute("SELECT * FROM target").fetchall()))
    return out


def main():
    setup_path, original_path, fixed_path = sys.argv[1:4]
    setup = open(setup_path).read()
    original = duckdb.extract_statements(open(original_path).read())
    fixed = duckdb.extract_statements(open(fixed_path).read())
    before, after = outcomes(setup, original), outcomes(setup, fixed)
    if len(before) != len(after):
        print(f"{len(before) - 1} queries before, {len(after) - 1} after")
        return 1
    failed = 0
    for k, (a, b) in enumerate(zip(before, after), start=1):
        what = "target" if k == len(before) else f"query {k}"
        same = a == b
        failed += not same
        print(f"{what}: {len(a)} rows, {'same' if same else 'DIFFERENT'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
