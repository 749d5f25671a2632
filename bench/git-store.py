#!/usr/bin/env python3
"""The git store on a generated dbt-style project: backfill, the post-commit hook, diff between
commits 100 apart, and the size of refs/notes/lineage after `git gc`, each against doing the
same from scratch: `git-lineage extract` over the commit's files, every file parsed, no cache,
no notes (a diff from scratch extracts both sides).

Run by bench/git-store from the repository root, with the release binary built. Last line:
`backfill N s (M models/s, Rx) | post-commit p50 N ms (Rx) | diff p50 N ms (Rx) | notes N KB/commit (Rx)`
"""

import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.getcwd()
BIN = os.path.join(ROOT, "target", "release")
MODELS = int(os.environ.get("MODELS", "2000"))
COMMITS = int(os.environ.get("COMMITS", "1000"))
HOOK_RUNS = int(os.environ.get("HOOK_RUNS", "101"))
DIFF_RUNS = int(os.environ.get("DIFF_RUNS", "11"))
SCRATCH_SAMPLES = int(os.environ.get("SCRATCH_SAMPLES", "5"))
WORK = os.path.join(ROOT, "bench", "out", "git-store")
REPO = os.path.join(WORK, "repo")
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"],
           GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
           GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com")


def run(*args, stdin=None, quiet=True):
    out = subprocess.run(args, cwd=REPO, env=ENV, input=stdin, capture_output=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({out.returncode}):\n{out.stderr.decode()}")
    if not quiet:
        sys.stderr.write(out.stderr.decode())
    return out.stdout.decode()


def timed(*args):
    start = time.perf_counter()
    run(*args)
    return time.perf_counter() - start


def setup():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(REPO)
    run("git", "init", "-q", "-b", "main")
    generator = os.path.join(ROOT, "bench", "gen-dbt-repo.py")
    stream = subprocess.run([sys.executable, generator, str(MODELS), str(COMMITS)],
                            capture_output=True, check=True).stdout
    run("git", "fast-import", "--quiet", stdin=stream)
    run("git", "reset", "-q", "--hard", "main")
    # A repository as users have it: packed, as after a clone or an automatic gc.
    run("git", "gc", "-q")


def forget():
    """No notes, no fragment cache: what a first run sees."""
    subprocess.run(["git", "update-ref", "-d", "refs/notes/lineage"], cwd=REPO, env=ENV)
    shutil.rmtree(os.path.join(REPO, ".git", "lineage"), ignore_errors=True)


def notes_size():
    """Bytes on disk of everything refs/notes/lineage holds: notes, trees, notes commits."""
    objects = run("git", "rev-list", "--objects", "--no-object-names", "refs/notes/lineage")
    disk = run("git", "cat-file", "--batch-check=%(objectsize:disk)", stdin=objects.encode())
    return sum(int(n) for n in disk.split())


def scratch_extract(commit):
    """The time to extract the whole lineage of a commit from its files, as a tool without a
    store does. The files are exported first, outside the timing."""
    tree = os.path.join(WORK, "scratch")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
    start = time.perf_counter()
    out = subprocess.run(["git-lineage", "extract", "--format", "json", "."], cwd=tree, env=ENV,
                         capture_output=True)
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1):
        sys.exit(f"extract failed ({out.returncode}):\n{out.stderr.decode()}")
    return elapsed


def main():
    started = time.perf_counter()
    setup()
    commits = run("git", "rev-list", "--reverse", "main").split()
    print(f"generated: {MODELS} models, {len(commits)} commits "
          f"({time.perf_counter() - started:.1f} s)", flush=True)

    # From scratch: each commit extracted whole, as a tool without a store does.
    step = max(1, len(commits) // SCRATCH_SAMPLES)
    sampled = [scratch_extract(c) for c in commits[::step][:SCRATCH_SAMPLES]]
    scratch_commit = statistics.mean(sampled)
    scratch_backfill = scratch_commit * len(commits)
    print(f"from scratch: {scratch_commit * 1000:.0f} ms a commit (mean of {len(sampled)}), "
          f"{scratch_backfill:.0f} s for all {len(commits)}", flush=True)

    forget()
    backfill = timed("git-lineage", "backfill")
    models_per_s = MODELS * len(commits) / backfill
    notes = len(run("git", "notes", "--ref", "lineage", "list").split("\n")) - 1
    if notes != len(commits):
        sys.exit(f"backfill left {notes} notes for {len(commits)} commits")
    print(f"backfill: {backfill:.1f} s for {len(commits)} commits, {models_per_s:,.0f} models/s, "
          f"{scratch_backfill / backfill:.1f}x from scratch", flush=True)

    # The size of the notes after gc, per commit, before the hook runs add their own.
    run("git", "gc", "-q")
    per_commit = notes_size() / len(commits)
    note = len(run("git", "notes", "--ref", "lineage", "show", "main").encode())
    print(f"notes: {per_commit / 1024:.2f} KB a commit after gc; one note is "
          f"{note / 1024:.0f} KB ({note / per_commit:.0f}x)", flush=True)

    # The post-commit hook as git runs it (the shim, then git-lineage), after one-model
    # changes; the commit itself is made without hooks so that only the hook is timed.
    run("git-lineage", "install")
    hook = os.path.join(REPO, ".git", "hooks", "post-commit")
    hook_times = []
    for n in range(HOOK_RUNS):
        path = os.path.join(REPO, "models", "staging", f"stg_{(n * 37) % (MODELS * 2 // 5)}.sql")
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"-- touched {n}\n")
        run("git", "add", path)
        run("git", "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", f"touch {n}")
        hook_times.append(timed(hook))
        head = run("git", "rev-parse", "HEAD").strip()
        run("git", "notes", "--ref", "lineage", "show", head)
    hook_p50 = statistics.median(hook_times)
    # What the notes the hook wrote add, after another gc (they are packed 50 at a time).
    run("git", "gc", "-q")
    hook_note = (notes_size() - per_commit * len(commits)) / HOOK_RUNS
    print(f"notes written by the hook: {hook_note / 1024:.2f} KB a commit after gc", flush=True)
    head = run("git", "rev-parse", "HEAD").strip()
    hook_scratch = scratch_extract(head)
    print(f"post-commit: p50 {hook_p50 * 1000:.0f} ms over {HOOK_RUNS} one-model commits; "
          f"from scratch {hook_scratch * 1000:.0f} ms ({hook_scratch / hook_p50:.1f}x)",
          flush=True)

    # diff between commits 100 apart, from their notes.
    pairs = [(commits[i], commits[i + 100])
             for i in range(0, len(commits) - 100, max(1, (len(commits) - 100) // DIFF_RUNS))]
    pairs = pairs[:DIFF_RUNS]
    diff_times = [timed("git-lineage", "diff", a, b, "--format", "json") for a, b in pairs]
    diff_p50 = statistics.median(diff_times)
    a, b = pairs[len(pairs) // 2]
    diff_scratch = scratch_extract(a) + scratch_extract(b)
    print(f"diff: p50 {diff_p50 * 1000:.0f} ms over {len(pairs)} pairs 100 commits apart; "
          f"from scratch {diff_scratch * 1000:.0f} ms ({diff_scratch / diff_p50:.1f}x)",
          flush=True)

    print(f"backfill {backfill:.1f} s ({models_per_s:,.0f} models/s, "
          f"{scratch_backfill / backfill:.1f}x) | post-commit p50 {hook_p50 * 1000:.0f} ms "
          f"({hook_scratch / hook_p50:.1f}x) | diff p50 {diff_p50 * 1000:.0f} ms "
          f"({diff_scratch / diff_p50:.1f}x) | notes {per_commit / 1024:.2f} KB/commit "
          f"({note / per_commit:.0f}x)")


if __name__ == "__main__":
    main()
