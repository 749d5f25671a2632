//! `git lineage view [REV] [--diff BASE] [--out FILE]`: the lineage of a revision as one
//! HTML page that opens from disk (`report::view` makes it). This side reads the
//! repository: the lineage of each revision, the recorded runs, the predictions when a model
//! and ONNX Runtime are there. A missing runtime is said on the page, never a failure: the
//! page is about the lineage. See: issue 9.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::ExitStatus;
use super::predict::Lineage;
use crate::collect::record::RunRecord;
use crate::report::view::{self, Base, Inputs, Predictions};
use crate::store::repo::Repo;

#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The revision to show (default: HEAD).
    #[arg(default_value = "HEAD")]
    rev: String,
    /// Colour what the change from BASE to REV added, removed or changed (what it removed
    /// is drawn too).
    #[arg(long, value_name = "BASE")]
    diff: Option<String>,
    /// The page to write (default: lineage.html in the current folder; `-`: standard output).
    #[arg(long, value_name = "FILE.html", default_value = "lineage.html")]
    out: PathBuf,
}

pub fn run_view(args: &ViewArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let commit = repo.resolve_commit(&args.rev)?;
    let mut lineage = Lineage::new(&repo);
    let Some((pipeline, files)) = lineage.commit(&commit).cloned() else {
        anyhow::bail!("no lineage for {}", args.rev);
    };
    let base = match &args.diff {
        Some(rev) => {
            let base_commit = repo.resolve_commit(rev)?;
            let Some((_, base_files)) = lineage.commit(&base_commit).cloned() else {
                anyhow::bail!("no lineage for {rev}");
            };
            Some((rev.as_str(), base_commit, base_files))
        }
        None => None,
    };
    let diff = base.as_ref().map(|(_, _, base_files)| crate::graph::diff::diff(base_files, &files));
    let records = super::runs::read_runs(&repo).context("reading the recorded runs")?;
    let predictions = match predictions(&repo, &mut lineage, &pipeline, &records) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("git-lineage: no prediction: {e:#}");
            Predictions::Unavailable(format!("{e:#}"))
        }
    };
    let inputs = Inputs {
        revision: &args.rev,
        commit: &commit,
        files: &files,
        base: base.as_ref().zip(diff.as_ref()).map(|((revision, commit, files), diff)| Base {
            revision,
            commit,
            files,
            diff,
        }),
        runs: &records,
        predictions,
    };
    let model = view::model(&inputs);
    let html = view::page(&model);
    if args.out.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(html.as_bytes())?;
        stdout.flush()?;
    } else {
        std::fs::write(&args.out, &html)
            .with_context(|| format!("writing {}", args.out.display()))?;
        let datasets = model.nodes.iter().filter(|n| matches!(n, view::Node::Dataset(_))).count();
        println!(
            "wrote {} ({datasets} datasets, {} transformations, {} KB)",
            args.out.display(),
            model.nodes.len() - datasets,
            html.len().div_ceil(1024)
        );
    }
    Ok(ExitStatus::Success)
}

/// Each transformation's predicted runtime with the repository's model (or the bundled one)
/// and its run history (`records`, read once for the page too), as `predict` has them.
fn predictions(
    repo: &Repo,
    lineage: &mut Lineage<'_>,
    pipeline: &crate::predict::features::Pipeline,
    records: &[RunRecord],
) -> anyhow::Result<Predictions> {
    let runtime = crate::predict::runtime::Runtime::load()?;
    let (bundle, model) = super::predict::load_model(repo)?;
    let mut estimator = crate::predict::model::Estimator::open(&runtime, &bundle)?;
    let (history, _) = super::predict::join_records(records.to_vec(), lineage);
    let (cost, _) = super::predict::predict_pipeline(&mut estimator, pipeline, &history, 1)?;
    let estimates: BTreeMap<String, _> =
        cost.transformations.iter().map(|p| (p.id.clone(), p.estimate)).collect();
    Ok(Predictions::Available { model, estimates, makespan_ms: cost.makespan_ms })
}
