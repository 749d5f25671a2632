//! `git lineage report --base REV --head REV`: the pull-request report. Everything here is
//! analysis of the committed files and the recorded runs: nothing of the repository is run,
//! so that a CI job can report on an untrusted pull request. See: issue 8.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::ExitStatus;
use super::predict::Lineage;
use crate::report::picture;
use crate::report::pr::{self, PrReport, Side, Suggestion};
use crate::store::repo::Repo;
use crate::suggest::fix;

/// Nodes the Mermaid picture draws at most (more does not render in a comment).
const GRAPH_CAP: usize = 60;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The pull request's base (the target branch's commit).
    #[arg(long)]
    base: String,
    /// The pull request's head.
    #[arg(long, default_value = "HEAD")]
    head: String,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
    /// Exit with code 1 when the predicted pipeline time grows by more than this (`10%`), as
    /// `diff --fail-over` does; the report is printed either way.
    #[arg(long, value_parser = super::snapshot::parse_percent)]
    fail_over: Option<f64>,
    /// Transformations that run at once, for the predicted pipeline time (0: no limit).
    #[arg(long, default_value_t = 1)]
    parallel: usize,
    /// Anomalies of runs that started at or after this time: a date, an RFC 3339 time, a
    /// span back from now (`7d`, `36h`, `2w`), or `all`.
    #[arg(long, default_value = "30d")]
    since: String,
    /// No predictions (no ONNX Runtime needed): lineage, anomalies and suggestions only.
    #[arg(long, conflicts_with = "fail_over")]
    no_predict: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    Markdown,
    Json,
    Sarif,
}

pub fn run_report(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let repo = Repo::discover(Path::new("."))?;
    let since = match args.since.as_str() {
        "all" => None,
        text => Some(super::runs::parse_since(text)?),
    };
    let base_commit = repo.resolve_commit(&args.base)?;
    let head_commit = repo.resolve_commit(&args.head)?;
    let mut lineage = Lineage::new(&repo);
    let Some((base_pipeline, base_files)) = lineage.commit(&base_commit).cloned() else {
        anyhow::bail!("no lineage for {}", args.base);
    };
    let Some((head_pipeline, head_files)) = lineage.commit(&head_commit).cloned() else {
        anyhow::bail!("no lineage for {}", args.head);
    };
    let changed_files = changed_files(&repo, &base_commit, &head_commit)?;
    let diff = crate::graph::diff::diff(&base_files, &head_files);
    let graph = picture::changed_graph(&base_files, &head_files, &diff, GRAPH_CAP);

    // The predicted cost, as `diff` has it: absent (and said why) without ONNX Runtime, but
    // then a --fail-over check cannot be answered: the report is printed, the exit code is 2.
    let mut unanswered = None;
    let (predicted_cost, predicted_cost_absent) = if args.no_predict {
        (None, Some("not asked (--no-predict)".to_string()))
    } else {
        match super::predict::predicted_change(
            &repo,
            &mut lineage,
            &base_pipeline,
            &head_pipeline,
            args.parallel,
        ) {
            Ok(cost) => (Some(cost), None),
            Err(e) => {
                let why = format!("{e:#}");
                if args.fail_over.is_some() {
                    unanswered = Some(e);
                } else {
                    eprintln!("git-lineage: no predicted cost: {why}");
                }
                (None, Some(why))
            }
        }
    };
    drop(lineage);

    // Anomalies of the transformations the change touches: those of its changed files and
    // those whose lineage changed.
    let touched_ids: Vec<&str> = diff.transformations.iter().map(|t| t.id.as_str()).collect();
    let (anomalies, runs_recorded) =
        super::runs::find_anomalies(&repo, since.as_deref(), |subject| {
            touched_ids.contains(&subject)
                || changed_files.iter().any(|f| f == super::runs::file_of(subject))
        })?;

    let found = super::suggest::findings_at(&head_commit, &changed_files, !args.no_predict)
        .context("the suggestions for the changed files")?;
    let suggestions = found
        .findings
        .into_iter()
        .map(|finding| {
            let patch =
                finding.fix.as_ref().zip(found.texts.get(&finding.path)).map(|(f, text)| {
                    let (fixed, _) = fix::apply(text, [f]);
                    fix::unified_diff(&finding.path, text, &fixed)
                });
            Suggestion { finding, patch }
        })
        .collect();
    let (gains_model, gains_absent) = match found.predicted_by {
        Ok(model) => (Some(model), None),
        Err(why) => (None, Some(why)),
    };

    let over_threshold = super::snapshot::fail_over_status(args.fail_over, predicted_cost.as_ref())
        == ExitStatus::Failure;
    let report = PrReport {
        base: Side { rev: args.base.clone(), commit: base_commit },
        head: Side { rev: args.head.clone(), commit: head_commit },
        changed_files,
        affected: PrReport::affected_by(&diff),
        lineage: diff,
        graph,
        predicted_cost,
        predicted_cost_absent,
        fail_over: args.fail_over,
        over_threshold,
        anomalies,
        runs_recorded,
        suggestions,
        gains_model,
        gains_absent,
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Markdown => pr::write_markdown(&mut out, &report)?,
        ReportFormat::Json => pr::write_json(&mut out, &report)?,
        ReportFormat::Sarif => pr::write_sarif(&mut out, &report)?,
    }
    out.flush()?;
    if let Some(e) = unanswered {
        return Err(e.context("the predicted cost (--fail-over needs it)"));
    }
    Ok(if over_threshold { ExitStatus::Failure } else { ExitStatus::Success })
}

/// The files added or modified from `base` to `head`, sorted.
fn changed_files(repo: &Repo, base: &str, head: &str) -> anyhow::Result<Vec<String>> {
    let before: BTreeMap<String, String> =
        repo.files_at(base)?.into_iter().map(|f| (f.path, f.blob)).collect();
    let mut changed: Vec<String> = repo
        .files_at(head)?
        .into_iter()
        .filter(|f| before.get(&f.path) != Some(&f.blob))
        .map(|f| f.path)
        .collect();
    changed.sort();
    Ok(changed)
}
