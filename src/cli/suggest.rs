//! `git lineage suggest`, `fix` and `explain`: the rules of `suggest/` over SQL files.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::ExitStatus;
use super::extract::{Input, discover_config, walk};
use super::predict::{Lineage, join_runs, load_model, open};
use crate::config::{Config, Overrides};
use crate::predict::features::{self, Pipeline};
use crate::predict::runtime::Runtime;
use crate::report;
use crate::store::repo::{Repo, blob_id};
use crate::suggest::{self, Finding, Selection, fix, registry};

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Files or folders (walked for `.sql` files); default the current folder.
    paths: Vec<PathBuf>,
    /// Only these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also show suggestions the cost model predicts will not help.
    #[arg(long)]
    all: bool,
    /// Do not predict the gains (no ONNX Runtime, no history needed).
    #[arg(long)]
    no_predict: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// Files or folders (walked for `.sql` files); default the current folder.
    paths: Vec<PathBuf>,
    /// Only these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Apply unsafe fixes too (each states the assumption it rests on).
    #[arg(long = "unsafe")]
    allow_unsafe: bool,
    /// Edit the files in place (default: print a unified diff).
    #[arg(long, conflicts_with = "diff")]
    apply: bool,
    /// Print a unified diff of the fixes (the default).
    #[arg(long)]
    diff: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule's code or name; without one, the list of rules.
    code: Option<String>,
}

/// The files the paths name, with the configuration that applies.
fn files(paths: &[PathBuf]) -> anyhow::Result<(Config, Vec<Input>)> {
    let paths = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths.to_vec() };
    let config = discover_config(&paths, Overrides::default())?;
    let mut inputs = Vec::new();
    for path in &paths {
        if path.exists() {
            inputs.extend(walk(path));
        } else {
            bail!("{}: no such file or folder", path.display());
        }
    }
    Ok((config, inputs))
}

fn read(input: &Input) -> anyhow::Result<String> {
    let bytes = std::fs::read(&input.path).with_context(|| format!("reading {}", input.display))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn run_suggest(args: &SuggestArgs) -> anyhow::Result<ExitStatus> {
    let (config, inputs) = files(&args.paths)?;
    let selection = selection(&args.select)?;
    let mut findings: Vec<Finding> = Vec::new();
    let mut texts: HashMap<String, (PathBuf, String)> = HashMap::new();
    for input in &inputs {
        let text = read(input)?;
        let settings = config.settings_for(&input.path, false);
        findings.extend(suggest::check(&input.display, &text, &settings, &selection));
        texts.insert(input.display.clone(), (input.path.clone(), text));
    }
    if !args.no_predict && findings.iter().any(|f| f.fix.is_some()) {
        match predict_gains(&mut findings, &texts, &config) {
            Ok(model) => {
                eprintln!("git-lineage: predicted gains from the cost model ({model})");
                rank(&mut findings, args.all);
            }
            Err(why) => eprintln!("git-lineage: no predicted gains: {why:#}"),
        }
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => report::suggest::write_text(&mut out, &findings)?,
        Format::Json => report::suggest::write_json(&mut out, &findings)?,
    }
    out.flush()?;
    Ok(if findings.is_empty() { ExitStatus::Success } else { ExitStatus::Failure })
}

/// Most predicted gain first, then the findings without a prediction; unless `all`, those
/// predicted not to help are left out (and counted on stderr).
fn rank(findings: &mut Vec<Finding>, all: bool) {
    let gain = |f: &Finding| f.predicted.map(|p| p.gain_ms());
    findings.sort_by(|a, b| match (gain(a), gain(b)) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    if !all {
        let before = findings.len();
        findings.retain(|f| gain(f).is_none_or(|g| g > 0.0));
        let hidden = before - findings.len();
        if hidden > 0 {
            eprintln!(
                "git-lineage: {hidden} suggestion{} not predicted to help left out (--all shows them)",
                if hidden == 1 { "" } else { "s" }
            );
        }
    }
}

/// Each fix's predicted effect on its transformation: the work tree's pipeline predicted with
/// the repository's history, once with the file as it is and once with the fix applied.
/// Returns which model predicted.
fn predict_gains(
    findings: &mut [Finding],
    texts: &HashMap<String, (PathBuf, String)>,
    config: &Config,
) -> anyhow::Result<String> {
    let repo = Repo::discover(Path::new("."))?;
    let root = repo.workdir().context("a bare repository has no work tree")?;
    let root = std::fs::canonicalize(&root)?;
    Runtime::load()?;
    let (bundle, model) = load_model(&repo)?;
    let mut estimator = open(&bundle)?;
    let mut lineage = Lineage::new(&repo);
    let (history, _) = join_runs(&repo, &mut lineage)?;
    let (_, files) = lineage.uncommitted(false)?;
    let code_of: HashMap<String, String> = files
        .iter()
        .filter_map(|f| {
            let bytes = std::fs::read(root.join(&f.path)).ok()?;
            Some((f.path.clone(), blob_id(&bytes)))
        })
        .collect();
    for finding in findings.iter_mut() {
        let Some(fix) = &finding.fix else { continue };
        let Some((path, text)) = texts.get(&finding.path) else { continue };
        let Ok(absolute) = std::fs::canonicalize(path) else { continue };
        let Ok(relative) = absolute.strip_prefix(&root) else { continue };
        let relative = relative.to_string_lossy().replace('\\', "/");
        let settings = config.settings_for(path, false);
        let (rewritten, _) = fix::apply(text, [fix]);
        let mut rows = Vec::new();
        for version in [text.as_str(), rewritten.as_str()] {
            let fragment = crate::extract::extract(&relative, version.as_bytes(), &settings);
            let Some(key) = fragment
                .transformations
                .iter()
                .rfind(|t| t.line <= finding.line)
                .filter(|t| !t.writes.is_empty())
                .map(|t| features::key(&relative, t))
            else {
                break;
            };
            let mut all = files.clone();
            match all.iter_mut().find(|f| f.path == relative) {
                Some(slot) => *slot = fragment,
                None => all.push(fragment),
            }
            let blob = blob_id(version.as_bytes());
            let pipeline = Pipeline::new(&all, |p| {
                if p == relative {
                    blob.clone()
                } else {
                    code_of.get(p).cloned().unwrap_or_default()
                }
            });
            let Some(i) = pipeline.nodes.iter().position(|n| n.key == key) else { break };
            rows.push(features::row(&pipeline, i, &history, i64::MAX, None));
        }
        if let [before, after] = rows.as_slice() {
            let estimates = estimator.predict(&[before.clone(), after.clone()])?;
            finding.predicted = Some(suggest::Predicted {
                before_ms: estimates[0].duration_ms,
                after_ms: estimates[1].duration_ms,
            });
        }
    }
    Ok(model)
}

pub fn run_fix(args: &FixArgs) -> anyhow::Result<ExitStatus> {
    let (config, inputs) = files(&args.paths)?;
    let selection = selection(&args.select)?;
    let mut out = std::io::stdout().lock();
    let mut total = 0;
    for input in &inputs {
        let text = read(input)?;
        let settings = config.settings_for(&input.path, false);
        let (fixed, applied) =
            suggest::fix_all(&input.display, &text, &settings, &selection, args.allow_unsafe);
        if applied == 0 {
            continue;
        }
        total += applied;
        if args.apply {
            std::fs::write(&input.path, &fixed)
                .with_context(|| format!("writing {}", input.display))?;
        } else {
            write!(out, "{}", fix::unified_diff(&input.display, &text, &fixed))?;
        }
    }
    out.flush()?;
    let verb = if args.apply { "applied" } else { "to apply" };
    eprintln!("git-lineage: {total} fix{} {verb}", if total == 1 { "" } else { "es" });
    Ok(ExitStatus::Success)
}

pub fn run_explain(args: &ExplainArgs) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    match &args.code {
        None => report::suggest::write_rules(&mut out, registry::all())?,
        Some(code) => match registry::find(code) {
            Some(rule) => report::suggest::write_explanation(&mut out, rule)?,
            None => bail!("no rule {code}; `git lineage explain` lists them"),
        },
    }
    Ok(ExitStatus::Success)
}

fn selection(codes: &[String]) -> anyhow::Result<Selection> {
    for code in codes {
        if registry::find(code).is_none() {
            bail!("no rule {code}; `git lineage explain` lists them");
        }
    }
    Ok(Selection { rules: codes.to_vec() })
}
