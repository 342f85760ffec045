//! A set of file changes computed before anything is written: shown as unified diffs by
//! `--dry-run`, applied atomically (with a backup before our first change of each file)
//! otherwise.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::state::fsio;
use crate::state::receipt::{OwnedFile, Receipt};

#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    pub before: Option<Vec<u8>>,
    /// `None` removes the file.
    pub after: Option<Vec<u8>>,
    /// Mode for a new file.
    pub mode: u32,
    /// Whether an existing file is also given `mode` (otherwise it keeps its own).
    pub exact_mode: bool,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub changes: Vec<FileChange>,
}

impl Plan {
    /// Records a change unless the content is already what we want.
    pub fn set(&mut self, path: &Path, before: Option<Vec<u8>>, after: Option<Vec<u8>>, mode: u32) {
        if before != after {
            self.push(path, before, after, mode, false);
        }
    }

    /// [`Plan::set`] for a file that must have exactly `mode` (the settings, which may hold
    /// credentials): a change also when only its mode is wrong.
    pub fn set_with_mode(
        &mut self,
        path: &Path,
        before: Option<Vec<u8>>,
        after: Option<Vec<u8>>,
        mode: u32,
    ) {
        let wrong_mode = after.is_some()
            && before.is_some()
            && fsio::existing_mode(path).is_some_and(|m| m != mode);
        if before != after || wrong_mode {
            self.push(path, before, after, mode, true);
        }
    }

    fn push(
        &mut self,
        path: &Path,
        before: Option<Vec<u8>>,
        after: Option<Vec<u8>>,
        mode: u32,
        exact_mode: bool,
    ) {
        self.changes.push(FileChange {
            path: path.to_path_buf(),
            before,
            after,
            mode,
            exact_mode,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The paths this plan touches, for summaries.
    pub fn paths(&self) -> Vec<String> {
        self.changes
            .iter()
            .map(|c| c.path.display().to_string())
            .collect()
    }

    /// `--dry-run` output: the diffs, or with `--json` one document holding them.
    pub fn print_dry_run(&self, json: bool, secret_file: &Path) {
        if json {
            let summary = serde_json::json!({
                "dry_run": true,
                "changed": !self.is_empty(),
                "files": self.paths(),
                "diff": self.diff(secret_file),
            });
            println!("{summary}");
        } else {
            print!("{}", self.diff(secret_file));
        }
    }

    /// `install --dry-run`: a summary (each file and what it would become, the entries
    /// added to the user's files), then the diffs of the user's own files, then ours; a
    /// file under `preview.brief_under` (a skill) as one line unless `preview.verbose`.
    /// With `--json`, one document holding the same, every diff whole.
    pub(crate) fn print_preview(&self, preview: &Preview<'_>, json: bool) {
        let (mut yours, ours): (Vec<&FileChange>, Vec<&FileChange>) = self
            .changes
            .iter()
            .partition(|c| preview.user_files.contains(&c.path.as_path()));
        yours.sort_by_key(|c| preview.user_files.iter().position(|p| *p == c.path));
        let ordered: Vec<&FileChange> = yours.iter().chain(&ours).copied().collect();
        if json {
            let files: Vec<serde_json::Value> = ordered
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "path": c.path.display().to_string(),
                        "action": action(c),
                        "owner": if preview.user_files.contains(&c.path.as_path()) { "yours" } else { "ours" },
                    })
                })
                .collect();
            let diff: String = ordered
                .iter()
                .map(|c| diff_of(c, preview.secret_file))
                .collect();
            let document = serde_json::json!({
                "dry_run": true,
                "changed": !self.is_empty(),
                "files": self.paths(),
                "summary": {"files": files, "entries": preview.entries},
                "diff": diff,
            });
            println!("{document}");
            return;
        }
        print!("{}", preview.render(&yours, &ours));
    }

    /// Shows the files under `heading` and asks `question`; declining is an error naming
    /// `command`, with nothing changed.
    pub fn confirm(
        &self,
        prompter: &mut dyn crate::ui::prompt::Prompter,
        heading: &str,
        question: &str,
        command: &str,
    ) -> Result<()> {
        let files: Vec<String> = self.paths().iter().map(|p| format!("  {p}")).collect();
        prompter.show(&format!("{heading}:\n{}", files.join("\n")));
        if prompter.confirm(question, true)? {
            Ok(())
        } else {
            Err(crate::error::CommandError::failure(format!(
                "{command} cancelled; nothing was changed"
            )))
        }
    }

    /// Unified diffs of every change (binary files summarised). In `secret_file` (the
    /// settings) and every other TOML file, the values of secret keys are shown as
    /// `<redacted>`: a dry run must not print credentials.
    pub fn diff(&self, secret_file: &Path) -> String {
        self.changes
            .iter()
            .map(|change| diff_of(change, secret_file))
            .collect()
    }

    /// Before anything is written: a backup of each pre-existing file we have never changed
    /// (except `no_backup`, whose old content may hold a secret), and `receipt.files` updated
    /// with what the files will hold. The caller writes the receipt next, then
    /// [`Plan::write_files`]; a run killed anywhere in between leaves a receipt that
    /// describes every file correctly, and the next run finishes the job.
    pub fn record(
        &self,
        receipt: &mut Receipt,
        backups: &Path,
        codex_home: &Path,
        no_backup: &Path,
    ) -> Result<()> {
        for change in &self.changes {
            let first_change = !receipt.files.contains_key(&change.path);
            let owned = receipt
                .files
                .entry(change.path.clone())
                .or_insert_with(|| OwnedFile {
                    existed_before: change.before.is_some(),
                    ..OwnedFile::default()
                });
            // A file somebody else wrote since our last write (a user's edit, another tool)
            // is no longer the backup plus our entries: it must never be restored from it.
            owned.only_ours_since_backup = first_change
                || (owned.only_ours_since_backup
                    && found_as_we_left_it(owned, change.before.as_deref()));
            if owned.existed_before && owned.backup.is_none() && change.path != no_backup {
                if let Some(before) = &change.before {
                    let backup = backups.join(backup_name(&change.path, codex_home));
                    fsio::write_atomic(&backup, before, 0o600)?;
                    owned.backup = Some(backup);
                }
            }
            owned.written_sha256 = change
                .after
                .as_deref()
                .map(fsio::sha256_hex)
                .unwrap_or_default();
        }
        Ok(())
    }

    /// Before the first write: every directory the plan writes into (and `also`) takes a
    /// new file, so an unwritable target stops the run while nothing is changed.
    pub fn check_writable(&self, also: &[&Path]) -> Result<()> {
        let mut dirs: Vec<PathBuf> = also.iter().map(|p| p.to_path_buf()).collect();
        for change in &self.changes {
            let target = fsio::write_target(&change.path);
            dirs.extend(target.parent().map(Path::to_path_buf));
        }
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            fsio::check_writable(&dir).map_err(|e| {
                e.hint("make it writable (or point the link elsewhere), then run the command again; nothing was changed")
            })?;
        }
        Ok(())
    }

    /// Writes (or removes) every file, each atomically, in the plan's order. A failure
    /// midway says which files were written and which were not, and how to finish.
    pub fn write_files(&self, finish: &str) -> Result<()> {
        for (done, change) in self.changes.iter().enumerate() {
            let result = match &change.after {
                Some(after) if change.exact_mode => {
                    fsio::write_atomic_with_mode(&change.path, after, change.mode)
                }
                Some(after) => fsio::write_atomic(&change.path, after, change.mode),
                None => fsio::remove_file(&change.path),
            };
            if let Err(mut error) = result {
                let list = |changes: &[FileChange]| {
                    let paths: Vec<String> = changes
                        .iter()
                        .map(|c| c.path.display().to_string())
                        .collect();
                    if paths.is_empty() {
                        "none".to_string()
                    } else {
                        paths.join(", ")
                    }
                };
                error.message = format!(
                    "{}; stopped midway: already done: {}; not done: {}",
                    error.message,
                    list(&self.changes[..done]),
                    list(&self.changes[done..])
                );
                return Err(error.hint(finish.to_string()));
            }
        }
        Ok(())
    }
}

/// `skills/axonflow-x/SKILL.md` → `skills__axonflow-x__SKILL.md`.
fn backup_name(path: &Path, codex_home: &Path) -> String {
    let relative = path.strip_prefix(codex_home).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| c != "/")
        .collect::<Vec<_>>()
        .join("__")
}

/// Whether a file we own holds what we last wrote, or exactly what it held before our first
/// change (a run killed between writing the receipt and the file leaves that).
fn found_as_we_left_it(owned: &OwnedFile, now: Option<&[u8]>) -> bool {
    let now_hash = now.map(fsio::sha256_hex).unwrap_or_default();
    if now_hash == owned.written_sha256 {
        return true;
    }
    match (&owned.backup, now) {
        (Some(backup), Some(now)) => std::fs::read(backup).is_ok_and(|original| original == now),
        (None, None) => !owned.existed_before,
        _ => false,
    }
}

/// The unified diff of one change (a binary file summarised, secrets redacted as in
/// [`Plan::diff`]).
fn diff_of(change: &FileChange, secret_file: &Path) -> String {
    let mut out = String::new();
    let name = change.path.display().to_string();
    if change.before == change.after {
        out.push_str(&format!(
            "{name}: would set mode {:o} (its content stays)\n",
            change.mode
        ));
        return out;
    }
    // The settings, and any other TOML file (config.toml may carry the user's tokens
    // in its context lines).
    let redact = change.path == secret_file || change.path.extension().is_some_and(|e| e == "toml");
    let text = |bytes: &Option<Vec<u8>>| {
        bytes.as_ref().map(|b| {
            String::from_utf8(b.clone()).map(|t| {
                if redact {
                    crate::edit::redact::toml_secrets(&t)
                } else {
                    t
                }
            })
        })
    };
    match (text(&change.before), text(&change.after)) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            let verb = match (&change.before, &change.after) {
                (None, _) => "create",
                (_, None) => "remove",
                _ => "replace",
            };
            let size = change
                .after
                .as_ref()
                .or(change.before.as_ref())
                .map_or(0, Vec::len);
            out.push_str(&format!(
                "Binary file {name}: would {verb} ({size} bytes)\n"
            ));
        }
        (before, after) => {
            let before = before.and_then(std::result::Result::ok).unwrap_or_default();
            let after = after.and_then(std::result::Result::ok).unwrap_or_default();
            let old_header = if change.before.is_some() {
                format!("a{name}")
            } else {
                "/dev/null".into()
            };
            let new_header = if change.after.is_some() {
                format!("b{name}")
            } else {
                "/dev/null".into()
            };
            let diff = similar::TextDiff::from_lines(&before, &after);
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&old_header, &new_header)
                    .to_string(),
            );
        }
    }
    out
}

/// What `install --dry-run` says besides the diffs.
pub(crate) struct Preview<'a> {
    /// The user's own files (config.toml, hooks.json): listed and diffed before ours.
    pub(crate) user_files: Vec<&'a Path>,
    /// The entries the run adds to the user's files, or replaces there, one line each.
    pub(crate) entries: Vec<String>,
    /// Files shown as one line (path, size, line count) unless `verbose`: the skills.
    pub(crate) brief_under: Option<&'a Path>,
    pub(crate) verbose: bool,
    /// The settings file, whose secrets are redacted (as in every TOML file).
    pub(crate) secret_file: &'a Path,
}

impl Preview<'_> {
    /// The summary, then the user's files' diffs, then ours.
    fn render(&self, yours: &[&FileChange], ours: &[&FileChange]) -> String {
        let mut out = format!(
            "Dry run: nothing was written. install would write {} file{}:\n",
            yours.len() + ours.len(),
            if yours.len() + ours.len() == 1 {
                ""
            } else {
                "s"
            }
        );
        for (owner, changes) in [("yours", yours), ("ours", ours)] {
            for change in changes {
                out.push_str(&format!(
                    "  {:<8} {} [{owner}]\n",
                    action(change),
                    change.path.display()
                ));
            }
        }
        if !self.entries.is_empty() {
            out.push_str("Entries in your files:\n");
            for entry in &self.entries {
                out.push_str(&format!("  {entry}\n"));
            }
        }
        for (heading, changes) in [("Your files", yours), ("Ours", ours)] {
            if changes.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{heading}:\n"));
            for change in changes {
                match self.brief(change).filter(|_| !self.verbose) {
                    Some(brief) => out.push_str(&format!(
                        "{}: would {} ({brief}; --verbose shows it)\n",
                        change.path.display(),
                        action(change)
                    )),
                    None => out.push_str(&diff_of(change, self.secret_file)),
                }
            }
        }
        out
    }

    /// `12,345 bytes, 120 lines` for a file shown as one line, `None` for the others.
    fn brief(&self, change: &FileChange) -> Option<String> {
        let under = self.brief_under?;
        let after = change
            .after
            .as_ref()
            .filter(|_| change.path.starts_with(under))?;
        let lines = after.iter().filter(|&&b| b == b'\n').count()
            + usize::from(!after.is_empty() && !after.ends_with(b"\n"));
        Some(format!("{} bytes, {lines} lines", after.len()))
    }
}

/// What a change does to its file, in a word.
fn action(change: &FileChange) -> &'static str {
    match (&change.before, &change.after) {
        (None, _) => "create",
        (_, None) => "remove",
        (before, after) if before == after => "set mode",
        _ => "change",
    }
}
