//! `git lineage suggest`, `fix` and `explain`: the rules of `suggest/` over SQL files.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use super::ExitStatus;
use super::extract::{Input, discover_config, walk};
use crate::config::{Config, Overrides};
use crate::report;
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
    for input in &inputs {
        let text = read(input)?;
        let settings = config.settings_for(&input.path, false);
        findings.extend(suggest::check(&input.display, &text, &settings, &selection));
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => report::suggest::write_text(&mut out, &findings)?,
        Format::Json => report::suggest::write_json(&mut out, &findings)?,
    }
    out.flush()?;
    Ok(if findings.is_empty() { ExitStatus::Success } else { ExitStatus::Failure })
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
