//! `axonflow-codex uninstall`: removes exactly what the receipt says we own, and gives back
//! each file as it was (byte for byte when nobody edited it since).

use std::fmt;
use std::path::{Path, PathBuf};

use axonflow_codex_hook::host_env::HostEnv;
use serde::Serialize;
use serde_json::json;

use crate::codex::hooks_json;
use crate::codex::paths::CodexPaths;
use crate::edit::config_toml::{self, Removal};
use crate::edit::plan::Plan;
use crate::error::{CommandError, Result};
use crate::state::fsio;
use crate::state::receipt::{OwnedFile, Receipt};
use crate::ui::printer::Printer;
use crate::ui::prompt::Prompter;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct UninstallOptions {
    /// Do not ask for confirmation
    #[arg(short = 'y', long = "non-interactive", visible_alias = "yes")]
    pub yes: bool,
    /// Keep axonflow.toml (endpoint and credentials) for a later install
    #[arg(long)]
    pub keep_settings: bool,
    /// Print the unified diff of every file it would touch; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Which install: this user's (default) or the system-wide one
    #[arg(long, value_enum, default_value_t = crate::codex::paths::Scope::User)]
    pub scope: crate::codex::paths::Scope,
    /// Machine-readable summary on stdout
    #[arg(long)]
    pub json: bool,
}

pub fn run(
    options: &UninstallOptions,
    env: &HostEnv,
    mut prompter: Option<&mut dyn Prompter>,
) -> Result<()> {
    if options.yes || options.dry_run {
        prompter = None;
    } else if prompter.is_none() {
        return Err(CommandError::usage(
            "no terminal to confirm on, and -y (--non-interactive) was not given",
        )
        .hint("add -y to uninstall unattended"));
    }
    let paths = CodexPaths::for_scope(env, options.scope, false)?;
    let Some(receipt) = Receipt::load(&paths.receipt)? else {
        // A run killed after removing the receipt may have left our empty directories.
        if !options.dry_run {
            remove_our_directories(&paths)?;
        }
        Printer::new(options.json).report(&UninstallReport::nothing_to_do(&paths));
        return Ok(());
    };
    let _lock = paths.prepare_to_write(options.dry_run)?;

    let (mut plan, edited_skills) = removal_plan(options, &paths, &receipt)?;

    if options.dry_run {
        plan.set(
            &paths.receipt,
            fsio::read_optional(&paths.receipt)?,
            None,
            0o600,
        );
        plan.print_dry_run(options.json, &paths.settings);
        return Ok(());
    }
    if let Some(prompter) = prompter {
        // Removing is the destructive direction: Enter keeps everything.
        plan.confirm(
            prompter,
            "These files will be restored or removed",
            "Uninstall AxonFlow governance from Codex?",
            false,
            "uninstall",
        )?;
    }

    plan.check_writable(&[&paths.ours])?;
    plan.write_files(
        "fix the cause and run `axonflow-codex uninstall` again to finish (the receipt still lists every file)",
    )?;
    remove_leftovers(&paths, &receipt)?;

    Printer::new(options.json).report(&UninstallReport {
        changed: true,
        removed: Some(Removed {
            files: plan.paths(),
            kept_settings: paths.settings.exists(),
            kept_edited: edited_skills,
        }),
        done: plan
            .changes
            .iter()
            .map(|c| (c.path.clone(), c.after.is_some()))
            .collect(),
        ..UninstallReport::nothing_to_do(&paths)
    });
    Ok(())
}

/// The files to restore or remove, in a safe order, and the skills kept because someone
/// edited them since we wrote them.
fn removal_plan(
    options: &UninstallOptions,
    paths: &CodexPaths,
    receipt: &Receipt,
) -> Result<(Plan, Vec<PathBuf>)> {
    let mut plan = Plan::default();
    let mut edited_skills = Vec::new();
    for (path, owned) in &receipt.files {
        let current = fsio::read_optional(path)?;
        // A skill file someone edited since we wrote it holds their bytes now: it stays.
        let edited = current
            .as_deref()
            .is_some_and(|c| fsio::sha256_hex(c) != owned.written_sha256);
        if path.starts_with(&paths.skills) && edited {
            edited_skills.push(path.clone());
            continue;
        }
        // Settings that were there before us are kept: they are not backed up, because a
        // backup would be one more copy of the credentials in them.
        let keep_settings =
            *path == paths.settings && (options.keep_settings || owned.existed_before);
        if keep_settings || current.is_none() {
            continue;
        }
        let restored = if *path == paths.config_toml || *path == paths.hooks_json {
            restore_edited(
                path,
                paths,
                receipt,
                owned,
                current.as_deref().unwrap_or_default(),
            )?
        } else {
            original(owned)?
        };
        // A file of the user's that we wrote through their link: its target goes, the link
        // stays as it was. Our own files are never links of ours: a link there is removed,
        // not what it points at.
        let user_file = [&paths.config_toml, &paths.hooks_json, &paths.settings].contains(&path);
        let removed_at = if restored.is_none() && user_file {
            fsio::write_target(path)
        } else {
            path.clone()
        };
        plan.set(&removed_at, current, restored, 0o644);
    }

    // What refers to the hook binary goes first and the binary last, so a run stopped
    // anywhere never leaves hooks.json or config.toml pointing at a missing file.
    plan.changes
        .sort_by_key(|change| removal_rank(&change.path, paths));

    Ok((plan, edited_skills))
}

/// Our own directories, backups and receipt, once every file of the user's is restored.
fn remove_leftovers(paths: &CodexPaths, receipt: &Receipt) -> Result<()> {
    // Our own directories, when nothing else was left in them.
    for dir in &receipt.skills {
        let _ = std::fs::remove_dir(dir);
    }
    let _ = std::fs::remove_dir(&paths.skills);
    let leftovers = || -> Result<()> {
        for owned in receipt.files.values() {
            if let Some(backup) = &owned.backup {
                fsio::remove_file(backup)?;
            }
        }
        fsio::remove_file(&paths.receipt)?;
        remove_our_directories(paths)
    };
    leftovers().map_err(|e| {
        e.hint(format!(
            "every file of yours is restored; what is left is ours in {}: run `axonflow-codex uninstall` again to finish",
            paths.ours.display()
        ))
    })?;
    Ok(())
}

/// What uninstall did: `--json` serialises it, people read its `Display`.
#[derive(Debug, Serialize)]
struct UninstallReport {
    installed: bool,
    changed: bool,
    codex_home: PathBuf,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    removed: Option<Removed>,
    /// Each file changed, and whether it was restored (else removed).
    #[serde(skip)]
    done: Vec<(PathBuf, bool)>,
    #[serde(skip)]
    settings: PathBuf,
}

#[derive(Debug, Serialize)]
struct Removed {
    files: Vec<String>,
    kept_settings: bool,
    kept_edited: Vec<PathBuf>,
}

impl UninstallReport {
    fn nothing_to_do(paths: &CodexPaths) -> Self {
        UninstallReport {
            installed: false,
            changed: false,
            codex_home: paths.home.clone(),
            removed: None,
            done: Vec::new(),
            settings: paths.settings.clone(),
        }
    }
}

impl fmt::Display for UninstallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let home = self.codex_home.display();
        let Some(removed) = &self.removed else {
            return write!(
                f,
                "AxonFlow governance is not installed in {home} (no receipt); nothing to do."
            );
        };
        write!(f, "Removed AxonFlow governance from {home}")?;
        for (path, restored) in &self.done {
            let verb = if *restored { "restored" } else { "removed " };
            write!(f, "\n  {verb} {}", path.display())?;
        }
        if removed.kept_settings {
            write!(f, "\n  kept     {}", self.settings.display())?;
        }
        for path in &removed.kept_edited {
            write!(f, "\n  kept     {} (edited since install)", path.display())?;
        }
        Ok(())
    }
}

fn removal_rank(path: &Path, paths: &CodexPaths) -> u8 {
    if path == paths.hooks_json {
        0
    } else if path == paths.config_toml {
        1
    } else if path == paths.hook_binary {
        3
    } else {
        2
    }
}

/// Our directories, when nothing else is in them, and the lock file.
fn remove_our_directories(paths: &CodexPaths) -> Result<()> {
    let _ = std::fs::remove_dir(&paths.backups);
    let _ = std::fs::remove_dir(paths.hook_binary.parent().unwrap_or(&paths.ours));
    if paths.ours.is_dir() {
        fsio::remove_file(&paths.ours.join(".lock"))?;
    }
    let _ = std::fs::remove_dir(&paths.ours);
    Ok(())
}

/// A file we own wholly: its content before we first wrote it (`None`: it did not exist).
fn original(owned: &OwnedFile) -> Result<Option<Vec<u8>>> {
    match &owned.backup {
        Some(backup) => std::fs::read(backup)
            .map(Some)
            .map_err(|e| CommandError::io("read the backup", backup, &e)),
        None => Ok(None),
    }
}

/// config.toml or hooks.json: the backup when the file is exactly as we left it, otherwise
/// the current file minus our entries.
fn restore_edited(
    path: &Path,
    paths: &CodexPaths,
    receipt: &Receipt,
    owned: &OwnedFile,
    current: &[u8],
) -> Result<Option<Vec<u8>>> {
    if owned.only_ours_since_backup && fsio::sha256_hex(current) == owned.written_sha256 {
        return original(owned);
    }
    let removed = if path == paths.config_toml.as_path() {
        // remove_owned parses (and refuses) the file itself: one TOML tree, not three.
        let text = fsio::utf8_text(path, current)?;
        let entries = receipt.config_toml.clone().unwrap_or_default();
        let removal = Removal {
            mcp_server: entries.mcp_server,
            trust_keys: entries.trust_keys,
            created_mcp_servers: entries.created_mcp_servers,
            created_hooks: entries.created_hooks,
            created_hooks_state: entries.created_hooks_state,
        };
        config_toml::remove_owned(path, text, &removal, &entries.trust_hashes)?
    } else {
        let text = hooks_json::check(path, Some(current))?;
        let entries = receipt.hooks_json.clone().unwrap_or_default();
        hooks_json::remove(
            &text,
            &entries.groups,
            &entries.created_events,
            entries.created_hooks_key,
        )
    };
    let empty = removed.trim().is_empty()
        || serde_json::from_str::<serde_json::Value>(&removed).is_ok_and(|v| v == json!({}));
    if !owned.existed_before && empty {
        return Ok(None);
    }
    Ok(Some(removed.into_bytes()))
}
