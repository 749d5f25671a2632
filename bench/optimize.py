"""bench/optimize's work (run it through bench/optimize, which builds what it needs).

A clone of the workload repository (with its run history), plus one commit that adds a
report model (`LEADERBOARD`), where:
1. `git lineage suggest --all` lists each rule's findings on HEAD;
2. `git lineage fix --unsafe --branch lineage/fixes` commits every fix on a patch branch;
3. the pipeline runs once at the production scale factor (to build the warehouse the models
   read), then each model the branch changed runs `--runs` times on HEAD and as many on the
   branch, interleaved (A B A B …, so that drift on the machine hits both), each under
   `git lineage run`, and the medians are compared.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "workload"))
import build  # noqa: E402

ROOT = os.path.dirname(HERE)
WORKLOAD = os.path.join(ROOT, "bench", "out", "workload", "repo")
BIN = build.BIN
BRANCH = "lineage/fixes"

# A report model the workload's history does not have, committed on top of it: the largest
# order lines with their rank, the shape of query P003 (limit before window) is about. Every
# other finding comes from the workload as built.
LEADERBOARD = ("models/marts/reports/mart_top_order_lines.sql", """\
CREATE OR REPLACE TABLE marts.mart_top_order_lines AS
SELECT order_key, line_number, customer_key, part_key, net_amount,
       rank() OVER (ORDER BY net_amount DESC) AS revenue_rank
FROM intermediate.int_order_lines
WHERE NOT is_returned
ORDER BY net_amount DESC
LIMIT 1000;
""")


def lineage(repo, *args, ok=(0, 1)):
    out = subprocess.run([BIN, *args], cwd=repo, capture_output=True, text=True)
    if out.returncode not in ok:
        sys.exit(f"git-lineage {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


def run_model(repo, model, sf):
    ident, path, reads, writes = model
    data = build.link_data(repo, sf)
    db = os.path.join("warehouse", f"sf{build.sf_name(sf)}.duckdb")
    cmd = [BIN, "run", "--transformation", ident, "--", sys.executable, build.RUN_MODEL,
           "--db", db, "--data", data, "--reads", ",".join(reads), "--writes", writes, path]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{path} failed: {out.stderr.strip()}")
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="git-lineage-optimize-")
    try:
        repo = os.path.join(work, "repo")
        build.git(work, "clone", "-q", WORKLOAD, repo)
        build.git(repo, "fetch", "-q", "origin", "refs/notes/*:refs/notes/*")
        os.makedirs(os.path.join(repo, "warehouse"))
        os.makedirs(os.path.join(repo, "data"))
        sf = build.read_scale_factor(repo)
        path, text = LEADERBOARD
        os.makedirs(os.path.dirname(os.path.join(repo, path)), exist_ok=True)
        with open(os.path.join(repo, path), "w") as f:
            f.write(text)
        build.git(repo, "add", path)
        build.git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                  "commit", "-q", "-m", "Report: the 1,000 largest order lines")

        findings = json.loads(lineage(repo, "suggest", "--all", "--format", "json"))["suggestions"]
        print(f"findings on HEAD ({len(findings)}):")
        by_rule = {}
        for f in findings:
            by_rule.setdefault(f["code"], []).append(f)
        for code in sorted(by_rule):
            print(f"  {code} {by_rule[code][0]['name']}: {len(by_rule[code])}")
            for f in by_rule[code]:
                print(f"    {f['path']}:{f['line']}: {f['message']}")
        lineage(repo, "fix", "--unsafe", "--branch", BRANCH, ok=(0,))
        message = build.git(repo, "log", "-1", "--format=%B", BRANCH)
        print(f"\npatch branch {BRANCH}:\n  " + message.strip().replace("\n", "\n  "))
        changed = build.git(repo, "diff", "--name-only", "HEAD", BRANCH).split()
        if not changed:
            print("fixes: 0")
            return 0

        # The warehouse the models read: the whole pipeline once, as HEAD has it.
        models = build.models_in_order(repo)
        print(f"\nbuilding the warehouse at scale factor {build.sf_name(sf)} …", file=sys.stderr)
        for model in models:
            run_model(repo, model, sf)

        rules = {}
        for line in message.splitlines():
            if line.startswith("- "):
                path, _, rest = line[2:].partition(":")
                rules.setdefault(path, set()).add(rest.split()[1] if rest.split() else "?")
        rows = []
        for path in changed:
            seconds = {"HEAD": [], BRANCH: []}
            for k in range(args.runs * 2):
                rev = ["HEAD", BRANCH][k % 2]
                build.git(repo, "checkout", "-q", "--detach", rev if rev == BRANCH else "main")
                variant = {m[1]: m for m in build.models_in_order(repo)}
                seconds[rev].append(run_model(repo, variant[path], sf))
            build.git(repo, "checkout", "-q", "main")
            before, after = statistics.median(seconds["HEAD"]), statistics.median(seconds[BRANCH])
            rows.append((path, ",".join(sorted(rules.get(path, {"?"}))), before, after,
                         min(seconds["HEAD"]), min(seconds[BRANCH])))
        print(f"\nreal runtime, {args.runs} runs each, interleaved, scale factor {build.sf_name(sf)}:")
        print(f"  {'model':46} {'rules':10} {'before':>8} {'after':>8} {'change':>8}  (fastest runs)")
        for path, codes, before, after, fast_before, fast_after in rows:
            change = (after / before - 1) * 100
            print(f"  {path:46} {codes:10} {before:7.3f}s {after:7.3f}s {change:+7.1f}%"
                  f"  ({fast_before:.3f}s -> {fast_after:.3f}s)")
        faster = [f"{os.path.basename(p)} ({c}) {(a / b - 1) * 100:+.1f} %"
                  for p, c, b, a, *_ in rows if a < b]
        print(f"fixes: {message.count(chr(10) + '- ')} on {len(changed)} models; faster: "
              + ("; ".join(faster) if faster else "none"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
