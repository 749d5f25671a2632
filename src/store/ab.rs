//! A/B experiments in the repository's git data: each under `refs/lineage/ab/<id>`, a commit
//! whose tree holds `experiment.json` (`docs/runs-format.md`). Writing it again (when the
//! experiment ends) adds a commit after the first, so the ref keeps the experiment's history.
//! The runs themselves are run records under `refs/notes/lineage-runs`, labelled with the
//! experiment. Why a ref and not a note: an experiment belongs to two commits at once, and
//! `git push origin 'refs/lineage/*'` carries it as it carries the cost model.

use super::Error;
use super::repo::{AB_REF_PREFIX, Repo};
use crate::ab::Experiment;

/// The file of an experiment's tree.
const FILE: &str = "experiment.json";

/// Whether `id` can name an experiment (and a ref and a worktree): letters, digits, `-`, `_`
/// and `.`, not starting with `.` or `-`, at most 100 characters.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && !id.starts_with(['.', '-'])
        && !id.to_ascii_lowercase().ends_with(".lock")
        && !id.contains("..")
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Store the experiment (a new commit on its ref).
pub fn save(repo: &Repo, experiment: &Experiment) -> Result<(), Error> {
    let name = format!("{AB_REF_PREFIX}{}", experiment.id);
    let json = serde_json::to_string_pretty(experiment).unwrap_or_default() + "\n";
    let message = format!("git lineage ab: {} ({:?})", experiment.id, experiment.status);
    repo.commit_ref_files(&name, &[(FILE, json.as_bytes())], &message)?;
    Ok(())
}

/// The experiment `id`, if there is one.
pub fn load(repo: &Repo, id: &str) -> Result<Option<Experiment>, Error> {
    let Some(files) = repo.ref_files(&format!("{AB_REF_PREFIX}{id}"))? else {
        return Ok(None);
    };
    let problem = |problem: String| Error::Experiment { id: id.to_string(), problem };
    let (_, bytes) = files
        .iter()
        .find(|(name, _)| name == FILE)
        .ok_or_else(|| problem(format!("no {FILE} in its tree")))?;
    serde_json::from_slice(bytes).map(Some).map_err(|e| problem(e.to_string()))
}

/// Every experiment's id, sorted.
pub fn ids(repo: &Repo) -> Result<Vec<String>, Error> {
    Ok(repo
        .refs_under(AB_REF_PREFIX)?
        .into_iter()
        .filter_map(|r| r.strip_prefix(AB_REF_PREFIX).map(str::to_string))
        .collect())
}

/// Every experiment, oldest first; an unreadable one is returned as its error.
pub fn list(repo: &Repo) -> Result<Vec<Result<Experiment, Error>>, Error> {
    let mut out: Vec<Result<Experiment, Error>> =
        ids(repo)?.into_iter().filter_map(|id| load(repo, &id).transpose()).collect();
    out.sort_by(|a, b| match (a, b) {
        (Ok(a), Ok(b)) => (&a.started_at, &a.id).cmp(&(&b.started_at, &b.id)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => std::cmp::Ordering::Equal,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_safe_in_refs_and_folders() {
        for ok in ["20261124-231500-3f2a", "fix_join.v2", "a"] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in ["", ".x", "-x", "a/b", "a..b", "a b", "x.lock", "ü"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
