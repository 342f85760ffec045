//! Where everything lives under `$CODEX_HOME`.

use std::path::{Path, PathBuf};

use axonflow_codex_hook::codex_home;
use axonflow_codex_hook::host_env::HostEnv;

use crate::error::{CommandError, Result};

pub(crate) const INSTALLER_BINARY_NAME: &str = if cfg!(windows) {
    "axonflow-codex.exe"
} else {
    "axonflow-codex"
};

pub(crate) const HOOK_BINARY_NAME: &str = if cfg!(windows) {
    "axonflow-codex-hook.exe"
} else {
    "axonflow-codex-hook"
};

/// Whose Codex the install is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Scope {
    /// This user's `$CODEX_HOME` (default)
    #[default]
    User,
    /// Codex's managed system layer (`/etc/codex`): hooks run for every user, no trust needed
    System,
}

/// Codex's system (managed) configuration directory; `AXONFLOW_CODEX_SYSTEM_DIR` points it
/// elsewhere (packaging, tests).
pub(crate) fn system_dir(env: &HostEnv) -> PathBuf {
    PathBuf::from(env.var("AXONFLOW_CODEX_SYSTEM_DIR").unwrap_or("/etc/codex"))
}

#[derive(Debug, Clone)]
pub(crate) struct CodexPaths {
    /// `$CODEX_HOME`, canonical (trust keys carry the real path).
    pub home: PathBuf,
    pub config_toml: PathBuf,
    pub hooks_json: PathBuf,
    pub skills: PathBuf,
    pub settings: PathBuf,
    /// `$CODEX_HOME/axonflow`: our own directory (binary, receipt, backups, lock).
    pub ours: PathBuf,
    pub hook_binary: PathBuf,
    pub receipt: PathBuf,
    pub backups: PathBuf,
}

impl CodexPaths {
    /// Finds `$CODEX_HOME` as Codex does. The default `~/.codex` is created when missing (a
    /// Codex that never ran); an explicit `CODEX_HOME` must exist.
    pub(crate) fn resolve(env: &HostEnv, create_default: bool) -> Result<CodexPaths> {
        // The installer's own location says nothing about the Codex home.
        let env_without_exe = env.clone().without_current_exe();
        let home = codex_home::resolve(&env_without_exe).map_err(|e| {
            CommandError::failure(e.to_string())
                .hint("create that directory, or unset CODEX_HOME to use ~/.codex")
        })?;
        if !home.exists() && create_default {
            std::fs::create_dir_all(&home).map_err(|e| CommandError::io("create", &home, &e))?;
        }
        let home = home.canonicalize().unwrap_or(home);
        Ok(CodexPaths::under(&home))
    }

    /// The paths for a scope: the user's Codex home, or the system directory.
    pub(crate) fn for_scope(env: &HostEnv, scope: Scope, create: bool) -> Result<CodexPaths> {
        match scope {
            Scope::User => CodexPaths::resolve(env, create),
            Scope::System => {
                let dir = system_dir(env);
                if create && !dir.exists() {
                    std::fs::create_dir_all(&dir).map_err(|e| {
                        CommandError::io("create", &dir, &e)
                            .hint("a system-wide install needs root: run it with sudo")
                    })?;
                }
                let dir = dir.canonicalize().unwrap_or(dir);
                Ok(CodexPaths::under(&dir))
            }
        }
    }

    pub(crate) fn under(home: &Path) -> CodexPaths {
        let ours = home.join("axonflow");
        CodexPaths {
            config_toml: home.join("config.toml"),
            hooks_json: home.join("hooks.json"),
            skills: home.join("skills"),
            settings: home.join(axonflow_codex_hook::settings::SETTINGS_FILE_NAME),
            hook_binary: ours.join("bin").join(HOOK_BINARY_NAME),
            receipt: ours.join("receipt.json"),
            backups: ours.join("backups"),
            ours,
            home: home.to_path_buf(),
        }
    }

    /// For a run that writes: the install lock (held until dropped), and what an earlier
    /// killed run left half-written removed. A dry run takes neither.
    pub(crate) fn prepare_to_write(
        &self,
        dry_run: bool,
    ) -> Result<Option<crate::state::fsio::InstallLock>> {
        if dry_run {
            return Ok(None);
        }
        let lock = crate::state::fsio::InstallLock::acquire(&self.ours)?;
        self.clean_stale_temporaries();
        Ok(Some(lock))
    }

    /// Removes what a killed run may have left half-written (temporary files never renamed
    /// into place) from every directory we write.
    pub(crate) fn clean_stale_temporaries(&self) {
        let mut dirs = vec![self.home.clone(), self.ours.clone(), self.backups.clone()];
        dirs.extend(self.hook_binary.parent().map(Path::to_path_buf));
        for file in [&self.config_toml, &self.hooks_json] {
            dirs.extend(
                crate::state::fsio::write_target(file)
                    .parent()
                    .map(Path::to_path_buf),
            );
        }
        if let Ok(entries) = std::fs::read_dir(&self.skills) {
            dirs.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
        }
        for dir in dirs {
            crate::state::fsio::remove_stale_temporaries(&dir);
        }
    }

    /// The path Codex uses in trust keys for hooks.json: canonical, through a symlink.
    pub(crate) fn hooks_json_trust_path(&self) -> PathBuf {
        crate::state::fsio::write_target(&self.hooks_json)
    }
}

/// The shell command string for a hook subcommand: the absolute path, single-quoted for
/// `sh` only when it holds characters a shell would interpret.
pub fn command_for(binary: &Path, subcommand: &str) -> String {
    let path = binary.display().to_string();
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,".contains(c));
    if plain {
        format!("{path} {subcommand}")
    } else {
        format!("'{}' {subcommand}", path.replace('\'', "'\\''"))
    }
}
