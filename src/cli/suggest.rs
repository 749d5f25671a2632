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
use crate::predict::cost;
use crate::predict::features::History;
use crate::predict::features::{self, Pipeline};
use crate::predict::resources;
use crate::predict::runtime::Runtime;
use crate::report;
use crate::store::repo::{Repo, blob_id};
use crate::suggest::{self, Finding, Selection, fix, registry};

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Files or folders (walked for `.sql` files); default the current folder.
    paths: Vec<PathBuf>,
    /// Check the files as this revision has them (under the paths given), not the work tree.
    #[arg(long)]
    rev: Option<String>,
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
    Markdown,
    Sarif,
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
    #[arg(long, conflicts_with_all = ["diff", "branch"])]
    apply: bool,
    /// Print a unified diff of the fixes (the default).
    #[arg(long, conflicts_with = "branch")]
    diff: bool,
    /// Commit the fixes of the files as they are at HEAD on this new branch, without
    /// touching the work tree or the index; the message lists each fix.
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
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

/// The repository as the rules and the predictions see it: its run history and the lineage
/// of the work tree (or of a commit), with each file's blob id.
struct RepoState {
    repo: Repo,
    root: PathBuf,
    /// The commit, when not the work tree.
    commit: Option<String>,
    history: History,
    files: Vec<crate::extract::Fragment>,
    code_of: HashMap<String, String>,
}

impl RepoState {
    /// The state at `commit` (the work tree when `None`); the run history only when `runs`
    /// (predictions and resource advice need it, and reading it builds the lineage of every
    /// commit that has runs).
    fn load(commit: Option<&str>, runs: bool) -> anyhow::Result<RepoState> {
        let repo = Repo::discover(Path::new("."))?;
        let root =
            std::fs::canonicalize(repo.workdir().context("a bare repository has no work tree")?)?;
        let mut lineage = Lineage::new(&repo);
        let history =
            if runs { join_runs(&repo, &mut lineage)?.0 } else { History::new(Vec::new()) };
        let (files, code_of) = match commit {
            Some(commit) => {
                let (pipeline, files) =
                    lineage.commit(commit).context("the lineage of the commit")?.clone();
                let code =
                    pipeline.nodes.iter().map(|n| (n.file.clone(), n.code.clone())).collect();
                (files, code)
            }
            None => {
                let (_, files) = lineage.uncommitted(false)?;
                let code = files
                    .iter()
                    .filter_map(|f| {
                        let bytes = std::fs::read(root.join(&f.path)).ok()?;
                        Some((f.path.clone(), blob_id(&bytes)))
                    })
                    .collect();
                (files, code)
            }
        };
        drop(lineage);
        Ok(RepoState { repo, root, commit: commit.map(str::to_string), history, files, code_of })
    }

    /// The `.sql` files of the commit the state was loaded at, under `paths` (all when
    /// none): (path from the root, its path in the work tree, its text).
    fn sources(&self, paths: &[PathBuf]) -> anyhow::Result<Vec<(String, PathBuf, String)>> {
        let prefixes: Vec<String> = paths
            .iter()
            .filter_map(|p| {
                let absolute = std::fs::canonicalize(p).ok()?;
                let relative = absolute.strip_prefix(&self.root).ok()?;
                Some(relative.to_string_lossy().replace('\\', "/"))
            })
            .collect();
        let wanted = |path: &str| {
            prefixes.is_empty()
                || prefixes
                    .iter()
                    .any(|p| p.is_empty() || path == p || path.starts_with(&format!("{p}/")))
        };
        let mut out = Vec::new();
        for file in self.repo.files_at(&self.commit.clone().unwrap_or_default())? {
            let is_sql =
                Path::new(&file.path).extension().is_some_and(|x| x.eq_ignore_ascii_case("sql"));
            if !is_sql || !wanted(&file.path) {
                continue;
            }
            let text = String::from_utf8_lossy(&self.repo.blob(&file.blob)?).into_owned();
            out.push((file.path.clone(), self.root.join(&file.path), text));
        }
        Ok(out)
    }

    fn pipeline(&self) -> Pipeline {
        Pipeline::new(&self.files, |p| self.code_of.get(p).cloned().unwrap_or_default())
    }
}

/// What the rules across files need: how the repository reads each dataset, and the columns
/// its files create (for `SELECT *` of them). From the repository's lineage, else from the
/// files given.
fn repository_view(
    state: Option<&RepoState>,
    inputs: &[Input],
    config: &Config,
) -> (suggest::Usages, crate::extract::Catalog) {
    let fragments = match state {
        Some(state) => state.files.clone(),
        None => inputs
            .iter()
            .filter_map(|input| {
                let bytes = std::fs::read(&input.path).ok()?;
                Some(crate::extract::extract(
                    &input.display,
                    &bytes,
                    &config.settings_for(&input.path, false),
                ))
            })
            .collect(),
    };
    let catalog = crate::graph::infer_catalog(&fragments, config.catalog());
    (suggest::usage::usage(&fragments), catalog)
}

/// The settings of a file, with the columns other files create.
fn settings_with(
    config: &Config,
    path: &Path,
    inferred: &crate::extract::Catalog,
) -> crate::extract::Settings {
    let mut settings = config.settings_for(path, false);
    let mut catalog = inferred.clone();
    catalog.extend(&settings.catalog);
    settings.catalog = catalog;
    settings
}

fn read(input: &Input) -> anyhow::Result<String> {
    let bytes = std::fs::read(&input.path).with_context(|| format!("reading {}", input.display))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn run_suggest(args: &SuggestArgs) -> anyhow::Result<ExitStatus> {
    let (config, inputs) = files(&args.paths)?;
    let mut selection = selection(&args.select)?;
    let state = match &args.rev {
        Some(rev) => {
            let commit = Repo::discover(Path::new("."))?.resolve_commit(rev)?;
            Ok(RepoState::load(Some(&commit), true)?)
        }
        None => RepoState::load(None, true),
    };
    let (usage, inferred) = repository_view(state.as_ref().ok(), &inputs, &config);
    selection.usage = Some(usage);
    let sources = match (&args.rev, &state) {
        (Some(_), Ok(state)) => state.sources(&args.paths)?,
        _ => inputs
            .iter()
            .map(|input| Ok((input.display.clone(), input.path.clone(), read(input)?)))
            .collect::<anyhow::Result<_>>()?,
    };
    let mut findings: Vec<Finding> = Vec::new();
    let mut texts: HashMap<String, (PathBuf, String)> = HashMap::new();
    for (display, path, text) in sources {
        let settings = settings_with(&config, &path, &inferred);
        findings.extend(suggest::check(&display, &text, &settings, &selection));
        texts.insert(display, (path, text));
    }
    let mut parallelism = None;
    let mut allocations = Vec::new();
    match &state {
        Ok(state) => {
            allocations =
                resources::allocations(&state.pipeline(), &state.history, config.resources());
            if !args.no_predict {
                match predict_gains(&mut findings, &texts, &config, &inferred, state) {
                    Ok((model, p)) => {
                        eprintln!("git-lineage: predicted gains from the cost model ({model})");
                        rank(&mut findings, args.all);
                        parallelism = p;
                    }
                    Err(why) => eprintln!("git-lineage: no predicted gains: {why:#}"),
                }
            }
        }
        Err(why) if !args.no_predict => eprintln!("git-lineage: no predicted gains: {why:#}"),
        Err(_) => {}
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            report::suggest::write_text(&mut out, &findings)?;
            if let Some(p) = &parallelism {
                report::suggest::write_parallelism(&mut out, p)?;
            }
            report::suggest::write_resources(&mut out, &allocations)?;
        }
        Format::Json => {
            report::suggest::write_json(&mut out, &findings, parallelism.as_ref(), &allocations)?;
        }
        Format::Markdown => report::suggest::write_markdown(&mut out, &findings)?,
        Format::Sarif => report::suggest::write_sarif(&mut out, &findings)?,
    }
    out.flush()?;
    Ok(if findings.is_empty() { ExitStatus::Success } else { ExitStatus::Failure })
}

/// The suggestions for some files as a commit has them, each fix's predicted gain where the
/// cost model can say, and the texts they were found in.
pub(super) struct CommitFindings {
    /// Ranked as `suggest` ranks them (those predicted not to help left out).
    pub findings: Vec<Finding>,
    /// Path (from the root) -> the file's text at the commit.
    pub texts: HashMap<String, String>,
    /// Which model predicted the gains, or why none were predicted.
    pub predicted_by: Result<String, String>,
}

/// `suggest --rev COMMIT` restricted to the `.sql` files in `wanted` (paths from the root),
/// with the rules seeing the whole repository (what `report` shows for a pull request).
pub(super) fn findings_at(
    commit: &str,
    wanted: &[String],
    predict: bool,
) -> anyhow::Result<CommitFindings> {
    let state = RepoState::load(Some(commit), predict)?;
    let config = discover_config(std::slice::from_ref(&state.root), Overrides::default())?;
    let mut selection = selection(&[])?;
    let (usage, inferred) = repository_view(Some(&state), &[], &config);
    selection.usage = Some(usage);
    let mut findings = Vec::new();
    let mut texts: HashMap<String, (PathBuf, String)> = HashMap::new();
    for (relative, path, text) in state.sources(&[])? {
        if !wanted.contains(&relative) {
            continue;
        }
        let settings = settings_with(&config, &path, &inferred);
        findings.extend(suggest::check(&relative, &text, &settings, &selection));
        texts.insert(relative, (path, text));
    }
    let predicted_by = if predict {
        match predict_gains(&mut findings, &texts, &config, &inferred, &state) {
            Ok((model, _)) => {
                rank(&mut findings, false);
                Ok(model)
            }
            Err(why) => Err(format!("{why:#}")),
        }
    } else {
        Err("not asked (--no-predict)".to_string())
    };
    let texts = texts.into_iter().map(|(path, (_, text))| (path, text)).collect();
    Ok(CommitFindings { findings, texts, predicted_by })
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
/// Returns which model predicted, and how the pipeline runs with more workers.
fn predict_gains(
    findings: &mut [Finding],
    texts: &HashMap<String, (PathBuf, String)>,
    config: &Config,
    inferred: &crate::extract::Catalog,
    state: &RepoState,
) -> anyhow::Result<(String, Option<cost::Parallelism>)> {
    Runtime::load()?;
    let (bundle, model) = load_model(&state.repo)?;
    let mut estimator = open(&bundle)?;
    let (root, history, files, code_of) =
        (&state.root, &state.history, &state.files, &state.code_of);
    for finding in findings.iter_mut() {
        let Some(fix) = &finding.fix else { continue };
        let Some((path, text)) = texts.get(&finding.path) else { continue };
        // A file of a revision is named under the root already; one of the work tree may
        // be relative to where the command runs.
        let absolute = match path.strip_prefix(root) {
            Ok(_) => path.clone(),
            Err(_) => match std::fs::canonicalize(path) {
                Ok(absolute) => absolute,
                Err(_) => continue,
            },
        };
        let Ok(relative) = absolute.strip_prefix(root) else { continue };
        let relative = relative.to_string_lossy().replace('\\', "/");
        let settings = settings_with(config, path, inferred);
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
            rows.push(features::row(&pipeline, i, history, i64::MAX, None));
        }
        if let [before, after] = rows.as_slice() {
            let estimates = estimator.predict(&[before.clone(), after.clone()])?;
            finding.predicted = Some(suggest::Predicted {
                before_ms: estimates[0].duration_ms,
                after_ms: estimates[1].duration_ms,
            });
        }
    }
    let pipeline = state.pipeline();
    let parallelism = (!pipeline.nodes.is_empty())
        .then(|| -> anyhow::Result<cost::Parallelism> {
            let rows = features::rows(&pipeline, history);
            Ok(cost::parallelism(&pipeline, &estimator.predict(&rows)?))
        })
        .transpose()?;
    Ok((model, parallelism))
}

pub fn run_fix(args: &FixArgs) -> anyhow::Result<ExitStatus> {
    if let Some(branch) = &args.branch {
        return fix_on_branch(args, branch);
    }
    let (config, inputs) = files(&args.paths)?;
    let mut selection = selection(&args.select)?;
    // No predictions here: the rules need the repository's files, not its runs.
    let state = RepoState::load(None, false).ok();
    let (usage, inferred) = repository_view(state.as_ref(), &inputs, &config);
    selection.usage = Some(usage);
    let mut out = std::io::stdout().lock();
    let mut total = 0;
    for input in &inputs {
        let text = read(input)?;
        let settings = settings_with(&config, &input.path, &inferred);
        let (fixed, applied) =
            suggest::fix_all(&input.display, &text, &settings, &selection, args.allow_unsafe);
        if applied.is_empty() {
            continue;
        }
        total += applied.len();
        if args.apply {
            std::fs::write(&input.path, &fixed)
                .with_context(|| format!("writing {}", input.display))?;
        } else {
            write!(out, "{}", fix::unified_diff(&input.display, &text, &fixed))?;
        }
    }
    out.flush()?;
    let verb = if args.apply { "applied" } else { "to apply" };
    eprintln!("git-lineage: {total} fix{} {verb}", plural_es(total));
    Ok(ExitStatus::Success)
}

fn plural_es(n: usize) -> &'static str {
    if n == 1 { "" } else { "es" }
}

/// `fix --branch`: the files under the paths as HEAD has them, fixed, committed on a new
/// branch from HEAD (what a CI job runs to open an automatic patch branch).
fn fix_on_branch(args: &FixArgs, branch: &str) -> anyhow::Result<ExitStatus> {
    let head = Repo::discover(Path::new("."))?.resolve_commit("HEAD")?;
    let (config, inputs) = files(&args.paths)?;
    let mut selection = selection(&args.select)?;
    let state = RepoState::load(Some(&head), true)?;
    let (usage, inferred) = repository_view(Some(&state), &inputs, &config);
    selection.usage = Some(usage);
    let mut changed: Vec<(String, Vec<u8>)> = Vec::new();
    let mut lines = Vec::new();
    let mut texts: HashMap<String, (PathBuf, String)> = HashMap::new();
    let mut first_round: Vec<Finding> = Vec::new();
    let mut fixed_files: Vec<(String, String, Vec<Finding>)> = Vec::new();
    // The files as committed: the branch starts from HEAD, not from the work tree.
    for (relative, path, text) in state.sources(&args.paths)? {
        let settings = settings_with(&config, &path, &inferred);
        let (fixed, applied) =
            suggest::fix_all(&relative, &text, &settings, &selection, args.allow_unsafe);
        if applied.is_empty() {
            continue;
        }
        first_round.extend(suggest::check(&relative, &text, &settings, &selection));
        texts.insert(relative.clone(), (path, text));
        fixed_files.push((relative, fixed, applied));
    }
    // The predicted gain of each fix, where the cost model can say (the fixes of the first
    // round, on the files as committed).
    if let Err(why) = predict_gains(&mut first_round, &texts, &config, &inferred, &state) {
        eprintln!("git-lineage: no predicted gains: {why:#}");
    }
    for (relative, fixed, applied) in fixed_files {
        for f in &applied {
            let predicted = first_round
                .iter()
                .find(|g| g.path == f.path && g.line == f.line && g.code == f.code)
                .and_then(|g| g.predicted)
                .map_or(String::new(), |p| {
                    format!(
                        ", predicted {} -> {}",
                        crate::predict::cost::human_ms(p.before_ms),
                        crate::predict::cost::human_ms(p.after_ms)
                    )
                });
            let (title, safety) = f.fix.as_ref().map_or(("fix", String::new()), |x| {
                let safety = match &x.assumes {
                    Some(assumes) => format!(" (unsafe: assumes {assumes})"),
                    None => String::new(),
                };
                (x.title.as_str(), safety)
            });
            lines.push(format!(
                "- {}:{}: {} {}: {title}{safety}{predicted}",
                f.path, f.line, f.code, f.name
            ));
        }
        changed.push((relative, fixed.into_bytes()));
    }
    if changed.is_empty() {
        eprintln!("git-lineage: nothing to fix; no branch created");
        return Ok(ExitStatus::Success);
    }
    let message = format!(
        "git-lineage fix: {} fix{} in {} file{}\n\n{}\n",
        lines.len(),
        plural_es(lines.len()),
        changed.len(),
        if changed.len() == 1 { "" } else { "s" },
        lines.join("\n")
    );
    let files: Vec<(&str, &[u8])> =
        changed.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let commit = state.repo.commit_on_new_branch(branch, &head, &files, &message)?;
    println!("{branch} {commit}");
    eprintln!("git-lineage: {} fix{} committed on {branch}", lines.len(), plural_es(lines.len()));
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
    Ok(Selection { rules: codes.to_vec(), usage: None })
}
