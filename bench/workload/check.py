#!/usr/bin/env python3
"""Figures of a built workload (bench/workload/build), from its manifest and from what
git-lineage recorded:

    python3 bench/workload/check.py [--out DIR]      # default bench/out/workload

- commits, runs (git lineage history), notes under refs/notes/lineage-runs, models at HEAD;
- each model's wall time range (min-max seconds) at each scale factor;
- for each `slower` / `faster` change: the changed model's production run against the
  production run of the commit before, and whether `git lineage anomalies` flagged it;
- the other anomalies, counted by kind of commit (an anomaly where nothing was meant to change
  the cost is noise: other work on the machine, caches, or a change of cost nobody expected).

Run from the repository root, after cargo build --release. Standard library only.
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "git-lineage")


def lineage(repo, *args, ok=(0,)):
    out = subprocess.run([BIN, *args], cwd=repo, capture_output=True, text=True)
    if out.returncode not in ok:
        sys.exit(f"git-lineage {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


def sf_name(sf):
    return f"{sf:g}"


def model_name(transformation):
    return transformation.split("#")[0].removeprefix("models/").removesuffix(".sql")


def runs_with_sf(manifest, runs):
    """Each recorded run with the scale factor of the pipeline run it belongs to (the
    manifest's time windows), or None."""
    windows = [(p["started_at"], p["finished_at"], p["sf"], p["role"])
               for c in manifest["history"] for p in c["runs"]]
    for run in runs:
        w = next((w for w in windows if w[0] <= run["started_at"] <= w[1]), None)
        run["sf"], run["role"] = (w[2], w[3]) if w else (None, None)
    return runs


def duration_ranges(runs, write=print):
    ranges = {}
    for run in runs:
        ranges.setdefault(model_name(run["transformation"]), {}).setdefault(
            run["sf"], []).append(run["wall_ms"] / 1000)
    sfs = sorted({sf for r in ranges.values() for sf in r if sf is not None})
    width = max(len(name) for name in ranges) + 2
    write("wall time per model, min-max seconds, by scale factor:")
    write(f"  {'model':{width}}" + "".join(f"{'sf ' + sf_name(sf):>12}" for sf in sfs))
    for name in sorted(ranges):
        cells = [ranges[name].get(sf) for sf in sfs]
        write(f"  {name:{width}}" + "".join(
            f"{min(c):.2f}-{max(c):.2f}".rjust(12) if c else f"{'-':>12}" for c in cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "workload"))
    args = parser.parse_args()
    repo = os.path.join(args.out, "repo")
    try:
        with open(os.path.join(args.out, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError as e:
        sys.exit(f"no manifest in {args.out} ({e.strerror}): run bench/workload/build first")
    if not manifest.get("complete"):
        print(f"warning: the build in {args.out} is not complete", file=sys.stderr)

    runs = runs_with_sf(manifest, json.loads(lineage(repo, "history", "--format", "json"))["runs"])
    notes = subprocess.run(["git", "notes", "--ref", "lineage-runs", "list"], cwd=repo,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    failed = sum(1 for r in runs if r["status"] != "success")
    print(f"{repo}: {manifest['commits']} commits ({manifest['mode']}), {len(runs)} runs "
          f"({failed} failed) in {len([n for n in notes if n])} notes, {manifest['models']} "
          f"models at HEAD, built in {manifest['build_seconds']:.0f} s")
    loads = [m["load1"] for c in manifest["history"] for p in c["runs"] for m in p["models"]
             if "load1" in m]
    if loads:
        loads.sort()
        print(f"machine load (1 min) when models started: median {loads[len(loads) // 2]:.2f}, "
              f"max {loads[-1]:.2f} (2 cores; the build itself accounts for 1 to 2 of it, more is "
              "other work sharing the cores and slowing the runs)")
    duration_ranges(runs)

    anomalies = json.loads(lineage(repo, "anomalies", "--format", "json", ok=(0, 1)))["anomalies"]
    flagged = {(a["started_at"], a["transformation"]): a for a in anomalies
               if a["metric"] == "duration"}
    by_commit = {c["sha"]: c for c in manifest["history"]}
    production = {}
    for run in runs:
        if run["role"] in ("production", "quick"):
            production[(run["commit"], run["transformation"])] = run

    print("deliberate cost changes (production runs; ratio to the commit before):")
    explained = set()
    history = manifest["history"]
    for i, commit in enumerate(history):
        if commit["change"] not in ("slower", "faster") or i == 0:
            continue
        changed = [f["path"] for f in commit["files"] if f["path"].endswith(".sql")]
        for path in changed:
            now = next((r for (sha, t), r in production.items()
                        if sha == commit["sha"] and t.startswith(path + "#")), None)
            before = next((r for (sha, t), r in production.items()
                           if sha == history[i - 1]["sha"] and t.startswith(path + "#")), None)
            if not now:
                continue
            a = flagged.get((now["started_at"], now["transformation"]))
            explained.add((now["started_at"], now["transformation"]))
            ratio = f"{now['wall_ms'] / before['wall_ms']:.2f}x" if before else "-"
            verdict = (f"flagged {a['ratio']:.2f}x expected (score {a['score']:+.1f})" if a
                       else "not flagged")
            print(f"  {commit['sha'][:10]} {commit['change']:6} {model_name(path):34} "
                  f"{before['wall_ms'] / 1000 if before else float('nan'):6.2f} s -> "
                  f"{now['wall_ms'] / 1000:6.2f} s ({ratio}) at sf {sf_name(now['sf'])}: {verdict}")

    kinds = {}
    for key, a in flagged.items():
        if key in explained:
            continue
        commit = by_commit.get(a["commit"], {"change": "?"})
        sign = "slower" if a["score"] > 0 else "faster"
        kinds.setdefault(commit["change"], {"slower": 0, "faster": 0})[sign] += 1
    other = sum(v["slower"] + v["faster"] for v in kinds.values())
    print(f"other duration anomalies: {other} of {len(runs)} runs; by the kind of their commit: "
          + ", ".join(f"{k} {v['slower']}+/{v['faster']}-" for k, v in sorted(kinds.items())))
    memory = sum(1 for a in anomalies if a["metric"] == "memory")
    print(f"memory anomalies: {memory}")


if __name__ == "__main__":
    main()
