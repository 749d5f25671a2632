#!/usr/bin/env python3
"""Build the workload: a real ETL git repository with real execution history.

    bench/workload/build [--out DIR] [--quick] [--force] [--dry-run] [--limit N]

Run by bench/workload/build from the repository root with the venv's python (duckdb and the
tpch extension installed) and the release binary built. It

1. generates TPC-H data with DuckDB's tpch extension (from the PyPI wheel
   duckdb-extension-tpch, no network) once per scale factor, as parquet files in
   bench/out/tpch/sf<SF>/<table>.parquet;
2. creates <out>/repo, a git repository whose first commit is template/ (the pipeline: one
   CREATE OR REPLACE TABLE … AS SELECT per file under models/), then makes one commit per
   change of changes.py;
3. after each commit runs the whole pipeline in dependency order (from
   `git-lineage extract models --format json`), every model under `git-lineage run` (so the run
   is recorded on the commit), through run_model.py, at the production scale factor of
   pipeline.conf and once more at a small development scale factor;
4. writes <out>/manifest.json: each commit with its change kind, files and runs, and a hash of
   the inputs: a complete build with the same inputs is reused (--force rebuilds).

--quick (for tests): the first 7 changes only, tiny scale factors, one run per commit.
--dry-run: make the commits and check their lineage, run nothing (checks the change list).
--limit N: only the first N changes.

Progress goes to standard error; the last line on standard output is
`<repo>: N commits, M runs, K models, built in S s`.
"""

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import changes as changelist  # noqa: E402
import check  # noqa: E402

try:
    import duckdb
except ImportError:
    sys.exit("build.py: the duckdb package is missing; run bench/workload/build (it creates "
             "the venv bench/out/venv-workload)")

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "bench", "out")
TPCH = os.path.join(OUT, "tpch")
BIN = os.path.join(ROOT, "target", "release", "git-lineage")
RUN_MODEL = os.path.join(HERE, "run_model.py")
TEMPLATE = os.path.join(HERE, "template")
TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]

# Development runs: after each commit the pipeline also runs at one of these (in turn, never
# the production scale factor), so that every version of the code is seen at two input sizes.
DEV_SCALE_FACTORS = [0.01, 0.02, 0.05]
# --quick: the first QUICK_CHANGES changes, production scale factors mapped to tiny ones.
QUICK_CHANGES = 7
QUICK_SCALE_FACTORS = {0.1: 0.01, 0.2: 0.02}
FIRST_COMMIT_DATE = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.timezone.utc)
REPO_USER = ("Data Team", "data-team@example.com")
INPUTS = [
    "build", "build.py", "changes.py", "check.py", "run_model.py", "requirements.txt", "template",
]


class BuildError(Exception):
    pass


def log(message):
    print(message, file=sys.stderr, flush=True)


def sf_name(sf):
    return f"{sf:g}"


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- data ---------------------------------------------------------------------------------

def tpch_extension():
    try:
        import duckdb_extension_tpch
    except ImportError:
        raise BuildError("the duckdb-extension-tpch package is missing (bench/workload/"
                         "requirements.txt; bench/workload/build installs it)") from None
    path = os.path.join(os.path.dirname(duckdb_extension_tpch.__file__), "extensions",
                        "v" + duckdb.__version__, "tpch.duckdb_extension")
    if not os.path.isfile(path):
        raise BuildError(f"no tpch extension for duckdb {duckdb.__version__} at {path} "
                         "(duckdb-extension-tpch must have duckdb's version)")
    return path


def ensure_tpch(sf):
    """bench/out/tpch/sf<SF>/<table>.parquet, generated once."""
    folder = os.path.join(TPCH, "sf" + sf_name(sf))
    if os.path.isfile(os.path.join(folder, ".complete")):
        return folder
    start = time.perf_counter()
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    con = duckdb.connect()
    try:
        # A private extension folder: nothing is written to ~/.duckdb.
        ext_dir = os.path.join(OUT, "duckdb-extensions")
        con.execute("SET extension_directory = ?", [ext_dir])
        con.execute(f"INSTALL '{tpch_extension()}'")
        con.execute("LOAD tpch")
        con.execute("CALL dbgen(sf = ?)", [sf])
        for table in TABLES:
            target = os.path.join(tmp, table + ".parquet")
            con.execute(f"COPY {table} TO '{target}' (FORMAT parquet)")
    except duckdb.Error as e:
        raise BuildError(f"generating TPC-H sf {sf_name(sf)}: {e}") from None
    finally:
        con.close()
    open(os.path.join(tmp, ".complete"), "w").close()
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(tmp, folder)
    log(f"generated TPC-H sf {sf_name(sf)} in {time.perf_counter() - start:.1f} s: {folder}")
    return folder


# --- git ----------------------------------------------------------------------------------

def git(repo, *args, env=None):
    out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise BuildError(f"git {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


def make_repo(repo, out):
    if os.path.exists(repo):
        # Only ever delete what an earlier build made.
        if not (os.path.isfile(os.path.join(out, "manifest.json"))
                or os.path.isfile(os.path.join(repo, "pipeline.conf"))):
            raise BuildError(f"{repo} exists and was not made by this script; choose another --out")
        shutil.rmtree(repo)
    shutil.copytree(TEMPLATE, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", REPO_USER[0])
    git(repo, "config", "user.email", REPO_USER[1])
    git(repo, "config", "commit.gpgsign", "false")
    os.makedirs(os.path.join(repo, "warehouse"))
    os.makedirs(os.path.join(repo, "data"))


def link_data(repo, sf):
    link = os.path.join(repo, "data", "sf" + sf_name(sf))
    if not os.path.islink(link):
        os.symlink(ensure_tpch(sf), link)
    return os.path.relpath(link, repo)


def commit(repo, index, message):
    name, email = changelist.AUTHORS[index % len(changelist.AUTHORS)]
    date = (FIRST_COMMIT_DATE + datetime.timedelta(days=index)).isoformat()
    env = dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email, GIT_AUTHOR_DATE=date,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email, GIT_COMMITTER_DATE=date)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, env=env)
    sha = git(repo, "rev-parse", "HEAD").strip()
    files = []
    for line in git(repo, "diff-tree", "-r", "--root", "--no-commit-id", "--name-status", "-M",
                    "HEAD").splitlines():
        parts = line.split("\t")
        status = parts[0][0]
        if status == "R":
            files.append({"status": "R", "from": parts[1], "path": parts[2]})
        else:
            files.append({"status": status, "path": parts[1]})
    return sha, name, files


# --- changes --------------------------------------------------------------------------------

def apply_edits(repo, edits):
    for edit in edits:
        kind = edit[0]
        if kind == "replace":
            _, path, old, new = edit
            full = os.path.join(repo, path)
            if not os.path.isfile(full):
                raise BuildError(f"replace in {path}: no such file")
            with open(full, encoding="utf-8") as f:
                text = f.read()
            found = text.count(old)
            if found != 1:
                raise BuildError(f"replace in {path}: the old text occurs {found} times "
                                 f"(must be once):\n{old}")
            with open(full, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new))
        elif kind == "write":
            _, path, text = edit
            full = os.path.join(repo, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as f:
                f.write(text)
        elif kind == "delete":
            full = os.path.join(repo, edit[1])
            if not os.path.isfile(full):
                raise BuildError(f"delete {edit[1]}: no such file")
            os.remove(full)
        elif kind == "rename":
            _, old, new = edit
            src, dst = os.path.join(repo, old), os.path.join(repo, new)
            if not os.path.isfile(src) or os.path.exists(dst):
                raise BuildError(f"rename {old} -> {new}: source missing or target exists")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.rename(src, dst)
        elif kind == "scale_factor":
            write_scale_factor(repo, edit[1])
        else:
            raise BuildError(f"unknown edit {kind!r}")


def read_scale_factor(repo):
    with open(os.path.join(repo, "pipeline.conf"), encoding="utf-8") as f:
        for line in f:
            key, _, value = line.partition("=")
            if key.strip() == "scale_factor":
                return float(value)
    raise BuildError("pipeline.conf has no scale_factor")


def write_scale_factor(repo, sf):
    path = os.path.join(repo, "pipeline.conf")
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            if line.partition("=")[0].strip() == "scale_factor":
                line = f"scale_factor = {sf_name(sf)}\n"
            f.write(line)


# --- the pipeline ---------------------------------------------------------------------------

def models_in_order(repo):
    """The models of HEAD's work tree in dependency order: [(id, path, reads, writes)]."""
    out = subprocess.run([BIN, "extract", "models", "--format", "json"], cwd=repo,
                         capture_output=True, text=True)
    if out.returncode not in (0, 1) or not out.stdout:
        raise BuildError(f"git-lineage extract failed ({out.returncode}): {out.stderr.strip()}")
    models, problems = [], []
    for file in json.loads(out.stdout)["files"]:
        for d in file["diagnostics"]:
            if d["severity"] == "error":
                problems.append(f"{file['path']}:{d['line']}:{d['column']}: {d['message']}")
        ts = [t for t in file["transformations"] if t["writes"]]
        if len(ts) != 1 or len(ts[0]["writes"]) != 1:
            problems.append(f"{file['path']}: {len(ts)} statements write tables (must be one)")
            continue
        t = ts[0]
        models.append((t["id"], file["path"], sorted(t["reads"]), t["writes"][0]))
    writer = {}
    for m in models:
        if m[3] in writer:
            problems.append(f"{m[3]} is written by {writer[m[3]][1]} and {m[1]}")
        writer[m[3]] = m
    for m in models:
        for r in m[2]:
            if r not in writer and not r.startswith("landing."):
                problems.append(f"{m[1]} reads {r}, which no model writes")
    if problems:
        raise BuildError("the models' lineage has problems:\n  " + "\n  ".join(problems))
    # Kahn's algorithm; ties by path, so the order is stable.
    deps = {m[0]: {writer[r][0] for r in m[2] if r in writer} for m in models}
    by_id = {m[0]: m for m in models}
    order, done = [], set()
    while len(order) < len(models):
        ready = sorted((by_id[i] for i in deps if i not in done and deps[i] <= done),
                       key=lambda m: m[1])
        if not ready:
            raise BuildError("the models depend on each other in a cycle: "
                             + ", ".join(i for i in deps if i not in done))
        for m in ready:
            order.append(m)
            done.add(m[0])
    return order


def run_pipeline(repo, models, sf, role):
    data = link_data(repo, sf)
    db = os.path.join("warehouse", f"sf{sf_name(sf)}.duckdb")
    started, start = now(), time.perf_counter()
    timings = []
    for ident, path, reads, writes in models:
        cmd = [BIN, "run", "--transformation", ident, "--",
               sys.executable, RUN_MODEL, "--db", db, "--data", data,
               "--reads", ",".join(reads), "--writes", writes, path]
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if out.returncode != 0:
            raise BuildError(f"{path} failed at sf {sf_name(sf)} (exit {out.returncode}; the "
                             f"failed run is recorded):\n{out.stderr.strip()}")
        # The machine's load when the model started: other work on the machine slows runs
        # down (a 2-core machine with load 4 roughly doubles wall times).
        timings.append({"transformation": ident, "seconds": round(seconds, 3),
                        "load1": round(load, 2)})
    return {"role": role, "sf": sf, "started_at": started, "finished_at": now(),
            "seconds": round(time.perf_counter() - start, 3), "models": timings}


def dev_scale_factor(index, production):
    candidates = [sf for sf in DEV_SCALE_FACTORS if sf != production]
    return candidates[index % len(candidates)]


# --- manifest -------------------------------------------------------------------------------

def inputs_hash(options):
    h = hashlib.sha256()
    h.update(json.dumps(options, sort_keys=True).encode())
    h.update(duckdb.__version__.encode())
    for name in INPUTS:
        full = os.path.join(HERE, name)
        paths = [full]
        if os.path.isdir(full):
            paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(full) for f in fs)
        for path in paths:
            h.update(os.path.relpath(path, HERE).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def write_manifest(path, manifest):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def summary_line(repo, manifest):
    shown = os.path.relpath(repo, ROOT) if repo.startswith(ROOT + os.sep) else repo
    return (f"{shown}: {manifest['commits']} commits, {manifest['runs']} "
            f"runs, {manifest['models']} models, built in {manifest['build_seconds']:.0f} s")


def print_duration_ranges(repo, manifest):
    out = subprocess.run([BIN, "history", "--format", "json"], cwd=repo, capture_output=True,
                         text=True)
    if out.returncode != 0:
        log(f"git-lineage history failed: {out.stderr.strip()}")
        return
    runs = check.runs_with_sf(manifest, json.loads(out.stdout)["runs"])
    check.duration_ranges(runs, write=log)


# --- main -----------------------------------------------------------------------------------

def build(args):
    out = os.path.abspath(args.out or os.path.join(
        OUT, "workload-quick" if args.quick else "workload"))
    repo = os.path.join(out, "repo")
    manifest_path = os.path.join(out, "manifest.json")
    changes = changelist.CHANGES[:QUICK_CHANGES] if args.quick else changelist.CHANGES
    if args.limit is not None:
        changes = changes[:args.limit]
    options = {"quick": args.quick, "limit": args.limit, "dry_run": args.dry_run}
    digest = inputs_hash(options)

    if not args.force and os.path.isfile(manifest_path):
        with open(manifest_path, encoding="utf-8") as f:
            old = json.load(f)
        if old.get("complete") and old.get("inputs_sha256") == digest:
            log(f"reusing the complete build in {out} (inputs unchanged; --force rebuilds)")
            print(summary_line(repo, old) + " (reused)")
            return 0

    if not os.path.isfile(BIN):
        raise BuildError(f"{BIN} is missing: cargo build --release")
    start = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    if os.path.exists(manifest_path):
        os.remove(manifest_path)
    make_repo(repo, out)
    manifest = {
        "workload": "TPC-H ETL pipeline in DuckDB (bench/workload)",
        "mode": "dry-run" if args.dry_run else "quick" if args.quick else "full",
        "inputs_sha256": digest, "complete": False, "duckdb": duckdb.__version__,
        "dev_scale_factors": [] if args.quick else DEV_SCALE_FACTORS,
        "quick_scale_factors": {sf_name(k): v for k, v in QUICK_SCALE_FACTORS.items()}
        if args.quick else None,
        "commits": 0, "runs": 0, "models": 0, "build_seconds": 0.0, "history": [],
    }
    steps = [("initial", "Initial pipeline: raw, staging, intermediate and mart models", [])]
    steps += changes
    try:
        build_history(args, repo, steps, manifest, manifest_path, start)
    except BuildError:
        manifest["build_seconds"] = round(time.perf_counter() - start, 1)
        write_manifest(manifest_path, manifest)
        raise
    manifest["complete"] = True
    manifest["build_seconds"] = round(time.perf_counter() - start, 1)
    write_manifest(manifest_path, manifest)
    if not args.dry_run:
        print_duration_ranges(repo, manifest)
    print(summary_line(repo, manifest))
    return 0


def build_history(args, repo, steps, manifest, manifest_path, start):
    for index, (tag, message, edits) in enumerate(steps):
        if tag not in changelist.CHANGE_KINDS and tag != "initial":
            raise BuildError(f"change {index}: unknown kind {tag!r}")
        apply_edits(repo, edits)
        sha, author, files = commit(repo, index, message)
        production = read_scale_factor(repo)
        models = models_in_order(repo)
        entry = {"index": index, "sha": sha, "message": message, "change": tag,
                 "author": author, "files": files, "scale_factor": production,
                 "sfs": [], "runs": []}
        if not args.dry_run:
            if args.quick:
                if production not in QUICK_SCALE_FACTORS:
                    raise BuildError(f"--quick has no tiny scale factor for {production}")
                plan = [(QUICK_SCALE_FACTORS[production], "quick")]
            else:
                plan = [(dev_scale_factor(index, production), "dev"),
                        (production, "production")]
            for sf, role in plan:
                try:
                    entry["runs"].append(run_pipeline(repo, models, sf, role))
                except BuildError as e:
                    raise BuildError(f"commit {index} ({tag}: {message}), {sha[:10]}: {e}") \
                        from None
                entry["sfs"].append(sf)
        manifest["history"].append(entry)
        manifest["commits"] = index + 1
        manifest["runs"] += sum(len(r["models"]) for r in entry["runs"])
        manifest["models"] = len(models)
        manifest["build_seconds"] = round(time.perf_counter() - start, 1)
        write_manifest(manifest_path, manifest)
        took = ", ".join(f"sf {sf_name(r['sf'])} {r['seconds']:.1f} s" for r in entry["runs"])
        log(f"[{index + 1}/{len(steps)}] {sha[:10]} {tag}: {message} ({len(models)} models"
            + (f"; {took})" if took else ")"))


def main():
    parser = argparse.ArgumentParser(
        description="Build the workload repository (see bench/workload/README.md).")
    parser.add_argument("--out", help="output folder (default bench/out/workload, "
                        "bench/out/workload-quick with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"first {QUICK_CHANGES} changes, tiny scale factors, one run a commit")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--dry-run", action="store_true",
                        help="make the commits and check their lineage; run no model")
    parser.add_argument("--limit", type=int, help="only the first N changes")
    args = parser.parse_args()
    try:
        return build(args)
    except BuildError as e:
        log(f"build failed: {e}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
