#!/usr/bin/env python3
"""Write a `git fast-import` stream of a generated dbt-style repository to standard output.

Usage: gen-dbt-repo.py [MODELS] [COMMITS]   (defaults: 2000 models, 1000 commits)

The first commit adds the whole project: staging models (40%) read sources, intermediate
models (35%) join and aggregate two staging models, marts (25%) read an intermediate model
through `SELECT *` in a CTE, so their columns come from the lineage of the layer below. Each
later commit changes one to three models (mostly one): a filter, a column added or dropped,
a ref moved to another model. Deterministic: the same arguments give the same repository.
"""

import random
import sys

SOURCES = 50


def staging(i, v):
    extra = ", amount * 2 as amount_doubled" if v % 3 == 1 else ""
    extra += ", lower(status) as status_lower" if v % 3 == 2 else ""
    table = (i + v) % SOURCES
    return (
        f"select id, customer_id, amount, status, created_at{extra}\n"
        f"from {{{{ source('raw', 't{table}') }}}}\n"
        f"where status <> 'deleted_{v}'\n"
    )


def intermediate(i, v, n_staging):
    a = (i * 7 + v) % n_staging
    b = (i * 13 + 1) % n_staging
    extra = ",\n    avg(a.amount) as mean_amount" if v % 2 == 1 else ""
    return (
        "select\n"
        "    a.customer_id,\n"
        "    sum(a.amount) as total,\n"
        "    count(*) as n,\n"
        f"    max(b.created_at) as last_seen{extra}\n"
        f"from {{{{ ref('stg_{a}') }}}} as a\n"
        f"join {{{{ ref('stg_{b}') }}}} as b on a.id = b.id\n"
        f"where a.amount > {v}\n"
        "group by a.customer_id\n"
    )


def mart(i, v, n_intermediate):
    source = (i * 3 + v) % n_intermediate
    return (
        "with base as (\n"
        f"    select * from {{{{ ref('int_{source}') }}}}\n"
        ")\n"
        "select\n"
        "    customer_id,\n"
        "    total,\n"
        f"    case when total > {100 + v} then 'big' else 'small' end as size\n"
        "from base\n"
        "where n > 1\n"
        "order by total desc\n"
    )


def main():
    models = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    commits = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    n_staging = models * 40 // 100
    n_intermediate = models * 35 // 100
    n_marts = models - n_staging - n_intermediate
    layers = [("staging", "stg", n_staging), ("intermediate", "int", n_intermediate),
              ("marts", "mart", n_marts)]
    version = {}

    def text(layer, i):
        v = version.get((layer, i), 0)
        if layer == "staging":
            return staging(i, v)
        if layer == "intermediate":
            return intermediate(i, v, n_staging)
        return mart(i, v, n_intermediate)

    out = sys.stdout.buffer
    mark = [0]
    when = [1_700_000_000]

    def commit(message, files):
        mark[0] += 1
        when[0] += 60
        out.write(b"commit refs/heads/main\n")
        out.write(f"mark :{mark[0]}\n".encode())
        out.write(f"author Bench <bench@example.com> {when[0]} +0000\n".encode())
        out.write(f"committer Bench <bench@example.com> {when[0]} +0000\n".encode())
        data = message.encode()
        out.write(f"data {len(data)}\n".encode() + data + b"\n")
        if mark[0] > 1:
            out.write(f"from :{mark[0] - 1}\n".encode())
        for path, content in files:
            blob = content.encode()
            out.write(f"M 100644 inline {path}\n".encode())
            out.write(f"data {len(blob)}\n".encode() + blob + b"\n")
        out.write(b"\n")

    project = "name: bench\nversion: '1.0'\nprofile: bench\nmodel-paths: ['models']\n"
    files = [("dbt_project.yml", project)]
    for layer, prefix, n in layers:
        files += [(f"models/{layer}/{prefix}_{i}.sql", text(layer, i)) for i in range(n)]
    commit("the project", files)

    rng = random.Random(20261124)
    for c in range(commits):
        count = rng.choices([1, 2, 3], weights=[70, 20, 10])[0]
        changed = []
        for _ in range(count):
            layer, prefix, n = rng.choices(layers, weights=[n for _, _, n in layers])[0]
            i = rng.randrange(n)
            version[(layer, i)] = version.get((layer, i), 0) + 1
            changed.append((f"models/{layer}/{prefix}_{i}.sql", text(layer, i)))
        names = ", ".join(p.rsplit("/", 1)[1] for p, _ in changed)
        commit(f"change {names} ({c + 1})", changed)


if __name__ == "__main__":
    main()
