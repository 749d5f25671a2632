//! Hooks as git runs them: installed into a real repository, exercised by `git commit`.

use super::common::repo::TestRepo;

fn note(repo: &TestRepo, rev: &str) -> Option<String> {
    let out = repo.git_output(&["notes", "--ref", "lineage", "show", rev]);
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_commit_gets_its_note_and_an_existing_hook_still_runs_first() {
    let mut repo = TestRepo::new();
    repo.write(
        ".git/hooks/post-commit",
        "#!/bin/sh\necho ran > \"$(git rev-parse --git-dir)/old-hook-ran\"\n",
    );
    std::process::Command::new("chmod")
        .args(["+x", ".git/hooks/post-commit"])
        .current_dir(repo.path())
        .status()
        .unwrap();
    let out = repo.lineage(&["install"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("post-commit: installed; the hook that was there runs first"),
        "{}",
        out.stdout
    );
    // Installing again updates in place and keeps the chained hook.
    assert!(repo.lineage(&["install"]).stdout.contains("post-commit: updated"));

    repo.commit(&[("a.sql", "INSERT INTO t SELECT x FROM raw.s")], "one");
    assert!(repo.path().join(".git/old-hook-ran").exists());
    let first = note(&repo, "HEAD").expect("post-commit wrote the note");
    assert!(first.contains("\"raw.s\""), "{first}");

    // Amend: post-rewrite gives the new commit its note.
    repo.write("a.sql", "INSERT INTO t SELECT x FROM raw.other");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "-m", "one, amended"]);
    let amended = note(&repo, "HEAD").expect("the amended commit has a note");
    assert!(amended.contains("\"raw.other\""), "{amended}");
}

#[test]
fn core_hooks_path_is_honoured() {
    let mut repo = TestRepo::new();
    repo.git(&["config", "core.hooksPath", "githooks"]);
    assert_eq!(repo.lineage(&["install"]).code, 0);
    assert!(repo.path().join("githooks/post-commit").exists());
    repo.commit(&[("a.sql", "INSERT INTO t SELECT x FROM s")], "one");
    assert!(note(&repo, "HEAD").is_some());
}

#[test]
fn pre_commit_stops_only_on_checks_the_user_turned_on_and_says_why() {
    let mut repo = TestRepo::new();
    assert_eq!(repo.lineage(&["install"]).code, 0);
    repo.commit(
        &[
            (
                ".git-lineage.toml",
                "[checks]\nunknown_sources = true\nsources = [\"raw.*\"]\ncycles = true\n",
            ),
            ("a.sql", "INSERT INTO stage.a SELECT x FROM raw.s"),
        ],
        "declared source",
    );
    repo.write("b.sql", "INSERT INTO mart.b SELECT x FROM elsewhere.t");
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "reads an unknown dataset"]);
    assert!(!out.status.success(), "the commit should have been stopped");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("b.sql#1 reads `elsewhere.t`, which no transformation writes and which is not a declared source"), "{stderr}");

    // A cycle is reported too.
    repo.write("b.sql", "INSERT INTO mart.b SELECT x FROM stage.a");
    repo.write("c.sql", "INSERT INTO raw.s SELECT x FROM mart.b");
    repo.git(&["add", "-A"]);
    let out = repo.git_output(&["commit", "-q", "-m", "cycle"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cycle: mart.b, raw.s, stage.a depend on each other")
    );

    // Fixed: the commit goes through.
    std::fs::remove_file(repo.path().join("c.sql")).unwrap();
    repo.git(&["add", "-A"]);
    assert!(repo.git_output(&["commit", "-q", "-m", "fine"]).status.success());
}

#[test]
fn notes_follow_a_rebase_and_describe_the_rebased_tree() {
    let mut repo = TestRepo::new();
    repo.commit(&[("a.sql", "INSERT INTO stage.a SELECT x FROM raw.a")], "base");
    let branch = repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim().to_string();
    assert_eq!(repo.lineage(&["install"]).code, 0);
    // With notes.rewriteRef set, git copies the old note over the rebased commit's (here
    // replacing it): post-rewrite must see that the copy describes another tree and make the
    // note again.
    repo.git(&["config", "notes.rewriteRef", "refs/notes/lineage"]);
    repo.git(&["config", "notes.rewriteMode", "overwrite"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit(&[("f.sql", "INSERT INTO mart.f SELECT x FROM stage.a")], "feature");
    let before = note(&repo, "HEAD").expect("the feature commit has a note");
    assert!(!before.contains("\"raw.m\""), "{before}");
    repo.git(&["checkout", "-q", &branch]);
    repo.commit(&[("m.sql", "INSERT INTO stage.m SELECT x FROM raw.m")], "main moves on");
    repo.git(&["checkout", "-q", "feature"]);
    let out = repo.git_output(&["rebase", "-q", &branch]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = note(&repo, "HEAD").expect("the rebased commit has a note");
    assert!(after.contains("\"raw.m\"") && after.contains("\"mart.f\""), "{after}");
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]);
    assert!(after.contains(&format!("\"tree\":\"{}\"", tree.trim())), "{after}");
}
