//! Installing git-lineage's hooks (`hooks/lineage-hook`, one POSIX sh shim for post-commit,
//! pre-commit and post-rewrite) without losing the hooks a repository already has: an
//! existing hook is kept as `<name>.pre-lineage` and runs first (git-branchless does the
//! same with marked blocks). `core.hooksPath` is honoured.

use std::path::{Path, PathBuf};

use super::Error;
use super::repo::Repo;

/// The shim, as kept in the repository's `hooks/` folder.
pub const SHIM: &str = include_str!("../../hooks/lineage-hook");

/// The hooks git-lineage installs.
pub const HOOKS: &[&str] = &["post-commit", "pre-commit", "post-rewrite"];

const MARKER: &str = ">>> git-lineage >>>";

/// What `install` did to one hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    New,
    Updated,
    /// An existing hook was kept as `<name>.pre-lineage`, and runs first.
    Chained,
    /// An existing hook was replaced (`--force`).
    Replaced,
}

/// Install the hooks; returns each hook's path and what was done.
pub fn install(repo: &Repo, force: bool) -> Result<Vec<(PathBuf, Installed)>, Error> {
    let dir = repo.hooks_dir();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Cache { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut done = Vec::new();
    for name in HOOKS {
        let path = dir.join(name);
        let existing = std::fs::read_to_string(&path).ok();
        let action = match existing {
            None => Installed::New,
            Some(text) if text.contains(MARKER) => Installed::Updated,
            Some(_) if force => Installed::Replaced,
            Some(_) => {
                let kept = dir.join(format!("{name}.pre-lineage"));
                if !kept.exists() {
                    std::fs::rename(&path, &kept).map_err(io(&path))?;
                }
                Installed::Chained
            }
        };
        std::fs::write(&path, SHIM).map_err(io(&path))?;
        make_executable(&path).map_err(io(&path))?;
        done.push((path, action));
    }
    Ok(done)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
