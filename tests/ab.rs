//! `git lineage ab` on real repositories, around real processes: a real speed-up is found,
//! an A/A experiment is not, the user's work tree is left alone, and the runs a command
//! records itself are grouped per transformation.

use git_lineage::ab::stats::Rng;
use git_lineage::ab::{self, Change, Metric};
use git_lineage::collect::record::RunRecord;

use super::common::repo::TestRepo;
use super::common::run_with_env;

/// A shell script that sleeps and then burns CPU for a number of loop turns, both given in
/// `work.txt` (`SECONDS TURNS`): the work of a revision is what its `work.txt` says. Mostly
/// sleep, so that the other tests running beside this one on a small machine disturb it less.
const BUSY: &str =
    "read s n < work.txt\nsleep \"$s\"\ni=0\nwhile [ \"$i\" -lt \"$n\" ]; do i=$((i+1)); done\n";

/// The control's work: 60 ms of sleep and about 40 ms of CPU in dash.
const CONTROL_WORK: (f64, u32) = (0.06, 30_000);

/// The experiments of these tests run one at a time: two at once on a two-core machine would
/// measure each other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn busy_repo(work: &[(f64, u32)]) -> (TestRepo, Vec<String>) {
    let mut repo = TestRepo::new();
    let commits = work
        .iter()
        .map(|(s, n)| {
            let text = format!("{s} {n}\n");
            repo.commit(&[("busy.sh", BUSY), ("work.txt", &text)], &format!("{s} s, {n} turns"))
        })
        .collect();
    (repo, commits)
}

/// The experiment's report as JSON.
fn report(repo: &TestRepo, id: &str) -> serde_json::Value {
    let out = repo.lineage(&["ab", "report", id, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

fn records(repo: &TestRepo) -> Vec<RunRecord> {
    let out = repo.lineage(&["history", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_value(out.json()["runs"].clone()).expect("history's runs are run records")
}

#[test]
fn a_real_speedup_of_30_percent_is_found_and_the_work_tree_is_untouched() {
    let _one = ONE_AT_A_TIME.lock();
    let (s, n) = CONTROL_WORK;
    let (repo, commits) = busy_repo(&[(s, n), (s * 0.7, n * 7 / 10)]);
    // The user's work: a changed file, a staged change, an untracked file.
    repo.write("busy.sh", "echo edited\n");
    repo.write("work.txt", "0 5\n");
    repo.git(&["add", "work.txt"]);
    repo.write("notes.txt", "mine\n");
    let before = (repo.git(&["status", "--porcelain"]), repo.git(&["diff", "--cached"]));
    let out = repo.lineage(&[
        "ab",
        "run",
        "--control",
        "HEAD~1",
        "--treatment",
        "main",
        "--runs",
        "10",
        "--warmup",
        "1",
        "--name",
        "speedup",
        "--",
        "sh",
        "busy.sh",
    ]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("verdict: faster"), "{}", out.stdout);
    let json = report(&repo, "speedup");
    assert_eq!(json["verdict"], "faster", "{json:#}");
    let wall = &json["whole"]["metrics"][0];
    assert_eq!(wall["metric"], "wall");
    let ratio = wall["ratio"].as_f64().unwrap();
    let (low, high) =
        (wall["interval"]["low"].as_f64().unwrap(), wall["interval"]["high"].as_f64().unwrap());
    assert!(low < ratio && ratio < high && high < 1.0, "{wall:#}");
    let _ = writeln_stderr(&format!("30 % speed-up: wall ratio {ratio:.3} [{low:.3}, {high:.3}]"));
    let counts = &json["whole"]["runs"];
    assert_eq!((counts["control"].as_u64(), counts["treatment"].as_u64()), (Some(10), Some(10)));
    assert_eq!((counts["warmup"].as_u64(), counts["failed"].as_u64()), (Some(2), Some(0)));
    // Every run is a run record on its variant's commit, labelled; warm-ups say so.
    let runs = records(&repo);
    assert_eq!(runs.len(), 22);
    for r in &runs {
        assert_eq!((r.experiment.as_deref(), r.source.as_str()), (Some("speedup"), "ab"));
        let expected =
            if r.variant.as_deref() == Some("control") { &commits[0] } else { &commits[1] };
        assert_eq!(&r.commit, expected, "{r:?}");
        assert!(!r.dirty, "a fresh worktree is clean: {r:?}");
    }
    assert_eq!(runs.iter().filter(|r| r.warmup).count(), 2);
    // Alternating: no two runs in a row of the same variant.
    assert!(runs.windows(2).all(|w| w[0].variant != w[1].variant));
    // The user's work tree and index are as they were; no worktree or branch is left.
    assert_eq!((repo.git(&["status", "--porcelain"]), repo.git(&["diff", "--cached"])), before);
    assert_eq!(std::fs::read_to_string(repo.path().join("busy.sh")).unwrap(), "echo edited\n");
    assert_eq!(repo.git(&["worktree", "list"]).lines().count(), 1);
    assert_eq!(repo.git(&["branch", "--format=%(refname)"]).trim(), "refs/heads/main");
    // The experiment is stored with its verdict.
    let list = repo.lineage(&["ab", "list"]).stdout;
    assert!(list.starts_with("speedup ") && list.contains("done  faster"), "{list}");
    let stored = repo.git(&["show", "refs/lineage/ab/speedup:experiment.json"]);
    let stored: ab::Experiment = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored.control.commit, commits[0]);
    assert_eq!(stored.outcome.map(|o| o.verdict), Some(ab::Verdict::Faster));
}

fn writeln_stderr(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stderr(), "{text}")
}

/// An A/A experiment (the same revision on both sides) made of real runs, and then simulated
/// A/A experiments drawn from its 20 recorded runs, in sets of 100: each a random split into
/// two groups of 10. The sets must say "no detectable difference" at least 95 times in 100 on
/// average. The verdict rule's false-alarm rate is about 2.5 %, so a single set of 100 would
/// still fail now and then by chance alone (about once in 30); pooled sets do not.
#[test]
fn an_a_a_experiment_finds_no_difference_in_95_of_100_repetitions() {
    let _one = ONE_AT_A_TIME.lock();
    let (repo, _) = busy_repo(&[CONTROL_WORK]);
    let out = repo.lineage(&[
        "ab",
        "run",
        "--control",
        "HEAD",
        "--treatment",
        "HEAD",
        "--runs",
        "10",
        "--name",
        "same",
        "--",
        "sh",
        "busy.sh",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let runs: Vec<RunRecord> = records(&repo)
        .into_iter()
        .filter(|r| r.source == ab::SOURCE && !r.warmup && r.status == "success")
        .collect();
    assert_eq!(runs.len(), 20);
    // The verdict's metric, wall time: ten sets of 100.
    for (metric, n_sets) in [(Metric::Wall, 10)] {
        let mut values: Vec<f64> = runs.iter().filter_map(|r| metric.of(r)).collect();
        let mut rng = Rng::new(2026);
        let mut sets = Vec::new();
        for _ in 0..n_sets {
            let mut same = 0;
            for _ in 0..100 {
                rng.shuffle(&mut values);
                let c = ab::compare(metric, &values[..10], &values[10..]).unwrap();
                same += usize::from(c.change == Change::None);
            }
            sets.push(same);
        }
        let total: usize = sets.iter().sum();
        let _ = writeln_stderr(&format!(
            "A/A {}: no difference in {total} of {} (per 100: {sets:?})",
            metric.name(),
            100 * n_sets
        ));
        assert!(total >= 95 * n_sets, "{}: {sets:?}", metric.name());
    }
}

#[test]
fn runs_the_command_records_are_grouped_per_transformation() {
    let _one = ONE_AT_A_TIME.lock();
    let mut repo = TestRepo::new();
    let inner = "git-lineage run --variant mine --transformation etl/load.sql#1 -- sh -c 'n=$(cat n.txt); i=0; while [ $i -lt $n ]; do i=$((i+1)); done'\n\
                 printf '{\"job\":\"export\",\"started_at\":\"2026-11-24T10:00:00Z\",\"wall_ms\":%s,\"run_id\":\"%s\"}\\n' \"$(cat n.txt)\" \"$(date +%s%N)\" > r.jsonl\n\
                 git-lineage import jsonl r.jsonl\n";
    let slow = repo.commit(
        &[
            ("etl/load.sql", "INSERT INTO mart.a SELECT x FROM raw.a"),
            ("run.sh", inner),
            ("n.txt", "5000"),
        ],
        "slow",
    );
    let fast = repo.commit(&[("n.txt", "100")], "fast");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_git-lineage")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = run_with_env(
        repo.path(),
        &[
            "ab",
            "run",
            "--control",
            "HEAD~1",
            "--treatment",
            "HEAD",
            "--runs",
            "5",
            "--warmup",
            "1",
            "--name",
            "nested",
            "--",
            "sh",
            "run.sh",
        ],
        None,
        &[("PATH", &path)],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let json = report(&repo, "nested");
    let groups = json["transformations"].as_array().unwrap();
    let ids: Vec<&str> = groups.iter().map(|g| g["transformation"].as_str().unwrap()).collect();
    assert_eq!(ids, ["etl/load.sql#1", "export"]);
    for g in groups {
        let runs = &g["runs"];
        assert_eq!((runs["control"].as_u64(), runs["treatment"].as_u64()), (Some(5), Some(5)));
        assert_eq!(runs["warmup"].as_u64(), Some(2), "{g:#}");
    }
    // The imported job's wall time is what n.txt said: 5000 against 100.
    assert_eq!(groups[1]["verdict"], "faster", "{:#}", groups[1]);
    assert!((groups[1]["metrics"][0]["ratio"].as_f64().unwrap() - 0.02).abs() < 1e-9);
    // The nested runs carry the variant of the worktree they ran in (over the inner
    // `--variant mine`), on its commit.
    let runs = records(&repo);
    let nested: Vec<&RunRecord> = runs.iter().filter(|r| r.source != ab::SOURCE).collect();
    assert_eq!(nested.len(), 24);
    assert!(nested.iter().all(|r| r.experiment.as_deref() == Some("nested")));
    for r in &nested {
        let variant = r.variant.as_deref().unwrap_or_default();
        let commit = match variant {
            "control" => &slow,
            "treatment" => &fast,
            _ => panic!("{r:?}"),
        };
        assert_eq!(&r.commit, commit, "{r:?}");
    }
    let text = repo.lineage(&["ab", "report", "nested"]).stdout;
    assert!(
        text.contains("transformations the command recorded:\n  etl/load.sql#1 (5 + 5 runs)"),
        "{text}"
    );
}

#[test]
fn failed_runs_are_recorded_and_counted_apart() {
    let mut repo = TestRepo::new();
    repo.commit(&[("ok", "")], "with ok");
    repo.git(&["rm", "-q", "ok"]);
    repo.commit(&[("other", "")], "without ok");
    let out = repo.lineage(&[
        "ab",
        "run",
        "--control",
        "HEAD~1",
        "--treatment",
        "HEAD",
        "--runs",
        "2",
        "--warmup",
        "0",
        "--name",
        "broken",
        "--",
        "sh",
        "-c",
        "test -f ok || exit 3",
    ]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("treatment: exit code 3"), "{}", out.stderr);
    let json = report(&repo, "bro");
    assert_eq!(json["verdict"], "too_few_runs");
    assert_eq!(json["whole"]["runs"]["failed"], 2);
    assert_eq!(json["experiment"]["status"], "done");
    // An id is used once; a prefix that names nothing says what there is.
    let again = repo.lineage(&[
        "ab",
        "run",
        "--control",
        "HEAD",
        "--treatment",
        "HEAD",
        "--name",
        "broken",
        "--",
        "true",
    ]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);
    let missing = repo.lineage(&["ab", "report", "nope"]);
    assert!(missing.stderr.contains("known: broken"), "{}", missing.stderr);
    // Run from a folder the revisions do not have: the tool fails, says why, cleans up.
    repo.write("untracked/x", "");
    let out = super::common::run_in(
        &repo.path().join("untracked"),
        &[
            "ab",
            "run",
            "--control",
            "HEAD",
            "--treatment",
            "HEAD",
            "--name",
            "nowhere",
            "--",
            "true",
        ],
        None,
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("folder untracked does not exist in control"), "{}", out.stderr);
    assert_eq!(report(&repo, "nowhere")["experiment"]["status"], "failed");
    assert_eq!(repo.git(&["worktree", "list"]).lines().count(), 1);
}

#[test]
fn an_interrupted_experiment_stops_cleans_up_and_keeps_its_runs() {
    let _one = ONE_AT_A_TIME.lock();
    let mut repo = TestRepo::new();
    repo.commit(&[("a", "")], "one");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_git-lineage"))
        .args(["ab", "run", "--control", "HEAD", "--treatment", "HEAD", "--runs", "50"])
        .args(["--warmup", "0", "--name", "stopped", "--", "sleep", "0.2"])
        .current_dir(repo.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let json = report(&repo, "stopped");
    assert_eq!(json["experiment"]["status"], "interrupted");
    let made = json["whole"]["runs"]["control"].as_u64().unwrap()
        + json["whole"]["runs"]["treatment"].as_u64().unwrap();
    assert!((1..100).contains(&made), "{made}");
    assert_eq!(repo.git(&["worktree", "list"]).lines().count(), 1);
    assert_eq!(repo.git(&["branch", "--format=%(refname)"]).trim(), "refs/heads/main");
}

/// The report's shape, on fixed runs (the bootstrap is seeded, so the figures are stable).
#[test]
fn report_formats_snapshot() {
    let side = |rev: &str, c: char| ab::Side { rev: rev.into(), commit: c.to_string().repeat(40) };
    let experiment = ab::Experiment {
        schema_version: ab::EXPERIMENT_VERSION,
        id: "20261124-120000-abcd".into(),
        control: side("main", 'a'),
        treatment: side("fix-join", 'b'),
        program: Some("dbt".into()),
        arguments: 3,
        runs: 8,
        warmup: 1,
        first: "treatment".into(),
        folder: "pipelines".into(),
        started_at: "2026-11-24T12:00:00.000Z".into(),
        finished_at: Some("2026-11-24T12:05:00.000Z".into()),
        status: ab::Status::Done,
        host: Some("ci".into()),
        outcome: None,
    };
    let control = [812.0, 798.5, 845.2, 805.1, 820.7, 790.3, 833.9, 801.4];
    let treatment = [571.2, 560.8, 590.3, 566.0, 575.9, 549.7, 583.1, 569.4];
    let mut records = Vec::new();
    for (n, (c, t)) in (0_u32..).zip(control.iter().zip(treatment)) {
        let i = f64::from(n);
        for (variant, wall, job) in [("control", *c, 300.0), ("treatment", t, 301.0 + i)] {
            let mut r = RunRecord::new(ab::SOURCE, "c".into(), "t".into(), wall);
            r.experiment = Some(experiment.id.clone());
            r.variant = Some(variant.into());
            r.user_ms = Some(wall * 0.8);
            r.sys_ms = Some(20.0);
            r.max_rss_bytes = Some(250_000_000 + u64::from(n) * 1_000_000);
            let mut inner = RunRecord::new("dbt", "c".into(), "t".into(), job + i);
            inner.experiment = Some(experiment.id.clone());
            inner.variant = Some(variant.into());
            inner.transformation = Some("models/orders.sql#1".into());
            records.extend([r, inner]);
        }
    }
    let report = ab::analyze(&experiment, &records);
    let mut text = Vec::new();
    git_lineage::report::ab::write_text(&mut text, &report).unwrap();
    insta::assert_snapshot!("ab_report_text", String::from_utf8(text).unwrap());
    let mut markdown = Vec::new();
    git_lineage::report::ab::write_markdown(&mut markdown, &report).unwrap();
    insta::assert_snapshot!("ab_report_markdown", String::from_utf8(markdown).unwrap());
}
