//! Where Codex keeps its files, found exactly as Codex finds them.

use std::path::{Path, PathBuf};

use crate::host_env::{HostEnv, SettingsError};
use crate::vars;

/// Where the installer puts the hook binary, relative to `$CODEX_HOME`. The path is stable
/// across updates so that the command string in `hooks.json` (and so Codex's trust hash)
/// never changes.
pub const INSTALLED_HOOK_DIR: [&str; 2] = ["axonflow", "bin"];

/// `$CODEX_HOME` as Codex resolves it: set and non-empty must name an existing directory
/// (Codex refuses to start otherwise); unset or empty means `~/.codex`.
///
/// Codex starts `http_headers_helper` with a cleared environment, so when `CODEX_HOME` is
/// absent the home is derived from where this binary was installed (`<home>/axonflow/bin/`)
/// before falling back to `~/.codex`.
pub fn resolve(env: &HostEnv) -> Result<PathBuf, SettingsError> {
    if let Some(value) = env.var(vars::CODEX_HOME) {
        let path = PathBuf::from(value);
        if path.is_dir() {
            return Ok(path);
        }
        let problem = if path.exists() {
            "that is not a directory"
        } else {
            "that path does not exist"
        };
        // A shell expands `~` only at the start of an unquoted word; Codex never does.
        let tilde = if value.contains('~') {
            " (a `~` in CODEX_HOME is not expanded: write the full path, e.g. $HOME/.codex)"
        } else {
            ""
        };
        return Err(SettingsError::new(format!(
            "CODEX_HOME points to \"{}\", but {problem}{tilde}",
            path.display()
        )));
    }
    if let Some(home) = env.current_exe().and_then(installed_codex_home) {
        return Ok(home);
    }
    match env.home_dir() {
        Some(home) => Ok(home.join(".codex")),
        None => Err(SettingsError::new(
            "neither CODEX_HOME nor HOME is set, so the Codex home cannot be found",
        )),
    }
}

/// The Codex home a hook binary was installed into, if `exe` sits at
/// `<codex home>/axonflow/bin/<binary>`.
pub fn installed_codex_home(exe: &Path) -> Option<PathBuf> {
    let bin = exe.parent()?;
    let axonflow = bin.parent()?;
    let in_install_layout =
        bin.file_name()? == INSTALLED_HOOK_DIR[1] && axonflow.file_name()? == INSTALLED_HOOK_DIR[0];
    in_install_layout.then(|| axonflow.parent().map(Path::to_path_buf))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_layout_is_recognised() {
        assert_eq!(
            installed_codex_home(Path::new(
                "/home/dev/.codex/axonflow/bin/axonflow-codex-hook"
            )),
            Some(PathBuf::from("/home/dev/.codex"))
        );
        assert_eq!(
            installed_codex_home(Path::new("/usr/local/bin/axonflow-codex-hook")),
            None
        );
        assert_eq!(installed_codex_home(Path::new("axonflow-codex-hook")), None);
    }
}
