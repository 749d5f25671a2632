"""Run a SQL file before and after its fixes in DuckDB and compare what each statement gives.

    python suggest-equivalence.py SETUP ORIGINAL FIXED

Each file is split into statements by DuckDB itself. Statement k of ORIGINAL and statement k
of FIXED run on fresh copies of the SETUP tables; a query's rows are compared as a multiset
(the fixes may drop an order nobody keeps), and a statement that writes is compared by the
rows of the table `target` after it. Floats are compared to 6 decimals: a sum depends on
the order of its terms. Prints one line per statement; exit 1 on a difference.
Standard library and duckdb only.
"""

import sys

import duckdb


def outcome(setup, statement):
    con = duckdb.connect()
    con.execute(setup)
    kind = str(statement.type)
    if kind.endswith("SELECT"):
        rows = con.execute(statement.query).fetchall()
    else:
        con.execute(statement.query)
        rows = con.execute("SELECT * FROM target").fetchall()
    # Sums of floats depend on the order rows arrive in, which is what some fixes change.
    rows = [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]
    return sorted(rows, key=repr)


def main():
    setup_path, original_path, fixed_path = sys.argv[1:4]
    setup = open(setup_path).read()
    original = duckdb.extract_statements(open(original_path).read())
    fixed = duckdb.extract_statements(open(fixed_path).read())
    if len(original) != len(fixed):
        print(f"{len(original)} statements before, {len(fixed)} after")
        return 1
    failed = 0
    for k, (a, b) in enumerate(zip(original, fixed), start=1):
        before, after = outcome(setup, a), outcome(setup, b)
        same = before == after
        failed += not same
        print(f"statement {k}: {len(before)} rows, {'same' if same else 'DIFFERENT'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
