//! The other files of a project that a Python file's analysis may look into: the modules it
//! imports (and the ones they import) and the configuration files it loads.
//!
//! Extraction stays pure: the caller, which can read files, gives their text in a [`Project`]
//! (see [`Project::build`]); the data flow then follows a call of an imported function into
//! its module, and a `yaml.safe_load(open("config.yaml"))` into the configuration's values.
//! Which files a Python file refers to comes from its own fragment (`imports`, `configs`), so
//! that a caller needs a first analysis of each file and a second one of the files that refer
//! to others, as with the columns of `SELECT *` across SQL files.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::extract::Fragment;

/// Module imports followed at most this deep (a module importing a module …).
pub const MAX_IMPORT_DEPTH: usize = 4;

/// What a file refers to: the modules it imports and the configuration files it loads, as
/// written (a fragment's `imports` and `configs`).
pub type References = (Vec<String>, Vec<String>);

/// The text of the project files one Python file's analysis may look into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Project {
    /// Modules and configuration files by path, with their text.
    pub files: BTreeMap<String, Arc<str>>,
    /// `(file, name as the file writes it)` -> the path in `files` it resolves to: dotted
    /// module names (`etl.extract`, `.load`) and configuration paths (`config.yaml`).
    pub links: BTreeMap<(String, String), String>,
}

impl Project {
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The file that `written` (a module or a configuration path) names in `from`, and its text.
    pub fn resolve(&self, from: &str, written: &str) -> Option<(&str, &str)> {
        let path = self.links.get(&(from.to_string(), written.to_string()))?;
        let text = self.files.get(path)?;
        Some((path.as_str(), text))
    }

    /// The project of one file: the modules it imports and the configurations it loads,
    /// followed through the imports of those modules up to [`MAX_IMPORT_DEPTH`].
    ///
    /// `refers(path)` gives what a file refers to (its fragment's `imports` and `configs`),
    /// `exists(path)` whether the project has a file there, `read(path)` its text. Modules are
    /// looked for beside the importing file, then in each folder above it (the folder a
    /// pipeline is started from is not known; the nearest match is the likely one).
    pub fn build(
        file: &str,
        refers: impl Fn(&str) -> Option<References>,
        exists: impl Fn(&str) -> bool,
        read: impl Fn(&str) -> Option<String>,
    ) -> Project {
        let mut project = Project::default();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut frontier = vec![file.to_string()];
        for depth in 0..=MAX_IMPORT_DEPTH {
            let mut next = Vec::new();
            for from in std::mem::take(&mut frontier) {
                if !seen.insert(from.clone()) {
                    continue;
                }
                let Some((imports, configs)) = refers(&from) else { continue };
                let modules = imports.iter().filter_map(|m| {
                    module_candidates(&from, m).into_iter().find(|c| exists(c)).map(|c| (m, c))
                });
                let configs = configs.iter().filter_map(|c| {
                    config_candidates(&from, c).into_iter().find(|p| exists(p)).map(|p| (c, p))
                });
                for (written, path, is_module) in
                    modules.map(|(w, p)| (w, p, true)).chain(configs.map(|(w, p)| (w, p, false)))
                {
                    if !project.files.contains_key(&path) {
                        let Some(text) = read(&path) else { continue };
                        project.files.insert(path.clone(), Arc::from(text));
                    }
                    project.links.insert((from.clone(), written.clone()), path.clone());
                    if is_module && depth < MAX_IMPORT_DEPTH {
                        next.push(path);
                    }
                }
            }
            frontier = next;
        }
        project
    }
}

/// Python files that refer to other files of the project (modules they import, configuration
/// files they load) are analyzed again, by `reanalyze`, with those files' text: the second
/// analysis follows calls into the other modules. One more analysis is enough: the project
/// holds the text of every module reached, whose own references come from the first one.
///
/// `exists` and `read` answer for paths as the fragments spell them.
pub fn with_projects<E>(
    mut fragments: Vec<Fragment>,
    exists: impl Fn(&str) -> bool,
    read: impl Fn(&str) -> Option<String>,
    reanalyze: impl FnOnce(&[(usize, Project)]) -> Result<Vec<Fragment>, E>,
) -> Result<Vec<Fragment>, E> {
    let by_path: BTreeMap<&str, &Fragment> =
        fragments.iter().map(|f| (f.path.as_str(), f)).collect();
    let refers = |path: &str| by_path.get(path).map(|f| (f.imports.clone(), f.configs.clone()));
    let again: Vec<(usize, Project)> = fragments
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.imports.is_empty() || !f.configs.is_empty())
        .map(|(i, f)| (i, Project::build(&f.path, refers, &exists, &read)))
        .filter(|(_, project)| !project.is_empty())
        .collect();
    if again.is_empty() {
        return Ok(fragments);
    }
    for ((i, _), fragment) in again.iter().zip(reanalyze(&again)?) {
        fragments[*i] = fragment;
    }
    Ok(fragments)
}

/// The folder of a path (`""` at the top of a relative path, `/` of an absolute one), with
/// `/` separators.
fn folder(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "",
    }
}

fn join(folder: &str, rest: &str) -> String {
    match folder {
        "" => rest.to_string(),
        "/" => format!("/{rest}"),
        _ => format!("{folder}/{rest}"),
    }
}

/// The folder and each folder above it, nearest first.
fn folders_up(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut current = folder(path);
    loop {
        out.push(current);
        if current.is_empty() || current == "/" {
            return out;
        }
        current = folder(current);
    }
}

/// Where the module `module` (as an `import` writes it) of the file `from` may be, in the
/// order Python's search would likely find it. A relative module (`.load`, `..etl.load`)
/// starts from the importing file's package; an absolute one from its folder or one above.
pub fn module_candidates(from: &str, module: &str) -> Vec<String> {
    let dots = module.chars().take_while(|&c| c == '.').count();
    let rest = &module[dots..];
    if !rest.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        return Vec::new();
    }
    let relative = rest.replace('.', "/");
    let as_files = |base: &str| -> Vec<String> {
        if relative.is_empty() {
            vec![join(base, "__init__.py")]
        } else {
            vec![
                join(base, &format!("{relative}.py")),
                join(base, &format!("{relative}/__init__.py")),
            ]
        }
    };
    if dots > 0 {
        let mut base = folder(from);
        for _ in 1..dots {
            base = folder(base);
        }
        return as_files(base);
    }
    if relative.is_empty() {
        return Vec::new();
    }
    folders_up(from).into_iter().flat_map(as_files).collect()
}

/// Where a configuration file named `written` in `from` may be: beside the file, then in each
/// folder above it (a script is usually started from its own folder or the project's).
pub fn config_candidates(from: &str, written: &str) -> Vec<String> {
    let written = written.trim_start_matches("./");
    if written.is_empty()
        || written.starts_with('/')
        || written.contains("..")
        || written.contains('<')
    {
        return Vec::new();
    }
    folders_up(from).into_iter().map(|f| join(f, written)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_looked_for_beside_the_file_then_above() {
        assert_eq!(
            module_candidates("app/pipeline.py", "etl.extract"),
            [
                "app/etl/extract.py",
                "app/etl/extract/__init__.py",
                "etl/extract.py",
                "etl/extract/__init__.py"
            ]
        );
        assert_eq!(
            module_candidates("app/etl/load.py", ".transform"),
            ["app/etl/transform.py", "app/etl/transform/__init__.py"]
        );
        assert_eq!(
            module_candidates("app/etl/load.py", "..config"),
            ["app/config.py", "app/config/__init__.py"]
        );
        assert!(module_candidates("a.py", "os; rm").is_empty());
    }

    #[test]
    fn configurations_outside_the_project_are_not_looked_for() {
        assert_eq!(
            config_candidates("app/run.py", "./config.yaml"),
            ["app/config.yaml", "config.yaml"]
        );
        assert!(config_candidates("app/run.py", "/etc/passwd").is_empty());
        assert!(config_candidates("app/run.py", "../secrets.yaml").is_empty());
    }

    #[test]
    fn a_project_follows_imports_of_imports_and_stops_at_cycles() {
        let refers = |path: &str| match path {
            "p/main.py" => Some((
                vec!["etl.a".to_string(), "numpy".to_string()],
                vec!["config.yaml".to_string()],
            )),
            "p/etl/a.py" => Some((vec![".b".to_string()], Vec::new())),
            "p/etl/b.py" => Some((vec!["etl.a".to_string()], Vec::new())),
            _ => None,
        };
        let files = ["p/main.py", "p/etl/a.py", "p/etl/b.py", "p/config.yaml"];
        let project = Project::build(
            "p/main.py",
            refers,
            |p| files.contains(&p),
            |p| Some(format!("text of {p}")),
        );
        assert_eq!(
            project.resolve("p/main.py", "etl.a"),
            Some(("p/etl/a.py", "text of p/etl/a.py"))
        );
        assert_eq!(project.resolve("p/etl/a.py", ".b").map(|r| r.0), Some("p/etl/b.py"));
        assert_eq!(project.resolve("p/main.py", "config.yaml").map(|r| r.0), Some("p/config.yaml"));
        assert_eq!(project.resolve("p/main.py", "numpy"), None);
        assert_eq!(project.files.len(), 3);
    }
}
