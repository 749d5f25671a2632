//! Run records under `refs/notes/lineage-runs`: JSON lines in the note of the commit whose code
//! ran (`docs/runs-format.md`).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};

use super::Error;
use super::repo::{RUNS_REF, Repo};
use crate::collect::record::{RunRecord, parse_lines};

/// A line of a run note that could not be read: skipped, and said.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub commit: String,
    pub line: usize,
    pub problem: String,
}

/// Every recorded run, oldest first (by start time, then commit), and the lines that could
/// not be read.
pub fn read_all(repo: &Repo) -> Result<(Vec<RunRecord>, Vec<Unreadable>), Error> {
    let (mut records, mut unreadable) = (Vec::new(), Vec::new());
    for (commit, bytes) in repo.all_notes(RUNS_REF)? {
        let (found, problems) = parse_lines(&String::from_utf8_lossy(&bytes));
        unreadable.extend(problems.into_iter().map(|(line, problem)| Unreadable {
            commit: commit.clone(),
            line,
            problem,
        }));
        records.extend(found);
    }
    records.sort_by(|a, b| (&a.started_at, &a.commit).cmp(&(&b.started_at, &b.commit)));
    Ok((records, unreadable))
}

/// Record runs, each in the note of its commit, all in one notes commit (all or none).
/// A run whose source identity (`source`, `run_id`) is already recorded, on any commit, is
/// left out: importing the same file twice records nothing new. Returns how many were added.
pub fn append(repo: &Repo, records: &[RunRecord]) -> Result<usize, Error> {
    let (existing, _) = read_all(repo)?;
    let known: HashSet<(&str, &str)> = existing.iter().filter_map(RunRecord::identity).collect();
    let mut by_commit: BTreeMap<&str, Vec<&RunRecord>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for record in records {
        if let Some(id) = record.identity()
            && (known.contains(&id) || !seen.insert(id))
        {
            continue;
        }
        by_commit.entry(record.commit.as_str()).or_default().push(record);
    }
    let commits: Vec<String> = by_commit.keys().map(|c| (*c).to_string()).collect();
    // Per commit, as the last attempt wrote it (a retry makes the notes again).
    let added = RefCell::new(BTreeMap::new());
    repo.edit_notes(RUNS_REF, &commits, |commit, note| {
        // Read again here: another import may have landed on this commit meanwhile.
        let mut text = note.map(<[u8]>::to_vec).unwrap_or_default();
        let (present, _) = parse_lines(&String::from_utf8_lossy(&text));
        let present: HashSet<(&str, &str)> =
            present.iter().filter_map(RunRecord::identity).collect();
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        let mut n = 0;
        for record in by_commit.get(commit).into_iter().flatten() {
            if record.identity().is_some_and(|id| present.contains(&id)) {
                continue;
            }
            text.extend_from_slice(record.to_line().as_bytes());
            text.push(b'\n');
            n += 1;
        }
        added.borrow_mut().insert(commit.to_string(), n);
        text
    })?;
    Ok(added.into_inner().values().sum())
}
