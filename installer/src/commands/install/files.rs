//! The files install reads and the plan of what it writes: hooks.json, config.toml, the
//! settings, the skills, the hook binary, and the receipt that records what is ours.

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use super::settings::{ExistingSettings, InstallSettings};
use super::{our_hooks, InstallOptions};
use crate::agent::registration::Registration;
use crate::codex::hooks_json::{self, OurHook};
use crate::codex::paths::{self, CodexPaths, Scope};
use crate::codex::skills;
use crate::codex::trust;
use crate::edit::config_toml::{self, McpEntry, TrustEntry};
use crate::edit::plan::Plan;
use crate::error::Result;
use crate::state::fsio;
use crate::state::receipt::{ConfigTomlEntries, HooksJsonEntries, Receipt};

/// The files install merges into, read and checked.
pub(super) struct Inputs {
    config_before: Option<Vec<u8>>,
    config_text: String,
    hooks_before: Option<Vec<u8>>,
    pub(super) hooks_text: String,
    settings_before: Option<Vec<u8>>,
    settings_doc: Option<DocumentMut>,
    pub(super) existing: ExistingSettings,
    pub(super) old_receipt: Option<Receipt>,
}

pub(super) fn read_inputs(paths: &CodexPaths) -> Result<Inputs> {
    for file in [&paths.config_toml, &paths.hooks_json, &paths.settings] {
        fsio::check_link_target(file)?;
    }
    let config_before = fsio::read_optional(&paths.config_toml)?;
    let config_text = config_toml::check(&paths.config_toml, config_before.as_deref())?;
    let hooks_before = fsio::read_optional(&paths.hooks_json)?;
    let hooks_text = hooks_json::check(&paths.hooks_json, hooks_before.as_deref())?;
    let settings_before = fsio::read_optional(&paths.settings)?;
    let (settings_doc, existing) = read_settings(&paths.settings, settings_before.as_deref())?;
    let old_receipt = Receipt::load(&paths.receipt)?;
    Ok(Inputs {
        config_before,
        config_text,
        hooks_before,
        hooks_text,
        settings_before,
        settings_doc,
        existing,
        old_receipt,
    })
}

/// axonflow.toml as a document to edit (comments kept) and as the hooks read its values.
fn read_settings(
    path: &Path,
    bytes: Option<&[u8]>,
) -> Result<(Option<DocumentMut>, ExistingSettings)> {
    let Some(bytes) = bytes else {
        return Ok((None, ExistingSettings::parse(path, None)?));
    };
    let text = fsio::utf8_text(path, bytes)?;
    // Same error shape as config.toml (file, line, cause).
    config_toml::check(path, Some(bytes))?;
    let doc: DocumentMut = text.parse().expect("checked above");
    Ok((Some(doc), ExistingSettings::parse(path, Some(text))?))
}

impl Inputs {
    /// The inputs as they are now, under the lock: read again when another run wrote since.
    pub(super) fn current(self, paths: &CodexPaths) -> Result<Inputs> {
        let unchanged = fsio::read_optional(&paths.config_toml)? == self.config_before
            && fsio::read_optional(&paths.hooks_json)? == self.hooks_before
            && fsio::read_optional(&paths.settings)? == self.settings_before
            && Receipt::load(&paths.receipt)? == self.old_receipt;
        if unchanged {
            Ok(self)
        } else {
            read_inputs(paths)
        }
    }
}

/// Our hook groups, merged into hooks.json, and the trust Codex would record for them.
pub(super) struct Hooks {
    pub(super) ours: Vec<OurHook>,
    merged: hooks_json::Merged,
    pub(super) trust_entries: Vec<TrustEntry>,
}

impl Hooks {
    pub(super) fn new(
        options: &InstallOptions,
        paths: &CodexPaths,
        hooks_text: &str,
        timeout: Option<u64>,
    ) -> Hooks {
        let ours = our_hooks(&options.govern, &paths.hook_binary, timeout);
        let merged = hooks_json::merge(hooks_text, &ours);
        let trust_path = paths.hooks_json_trust_path();
        let trust_entries = ours
            .iter()
            .zip(&merged.indexes)
            .map(|(hook, &index)| TrustEntry {
                key: trust::key(&trust_path, hook, index),
                hash: trust::hash(hook),
            })
            .collect();
        Hooks {
            ours,
            merged,
            trust_entries,
        }
    }
}

/// What to write, and the receipt that will describe the result.
pub(super) struct Planned {
    pub(super) plan: Plan,
    /// What the run adds to the user's files or replaces there, for the dry run's summary.
    pub(super) entries: Vec<String>,
    pub(super) receipt: Receipt,
    pub(super) old_receipt: Option<Receipt>,
}

/// The plan and the receipt. `trust_hooks`: whether to record trust for our hooks.
pub(super) fn plan(
    options: &InstallOptions,
    paths: &CodexPaths,
    inputs: Inputs,
    hooks: &Hooks,
    trust_hooks: bool,
    settings: &InstallSettings,
    hook_bytes: Vec<u8>,
) -> Result<Planned> {
    let trust: &[TrustEntry] = if trust_hooks {
        &hooks.trust_entries
    } else {
        &[]
    };
    let system = options.scope == Scope::System;
    let mcp = (!options.no_mcp).then(|| McpEntry {
        url: format!("{}/api/v1/mcp-server", settings.endpoint()),
        http_headers_helper: paths::command_for(&paths.hook_binary, "mcp-headers"),
    });
    let config_merged =
        config_toml::merge(&paths.config_toml, &inputs.config_text, mcp.as_ref(), trust)?;

    let mut plan = Plan::default();
    plan.set(
        &paths.hook_binary,
        std::fs::read(&paths.hook_binary).ok(),
        Some(hook_bytes),
        0o755,
    );
    // Skills have no documented system location: a system install leaves them to each user.
    let skill_dirs = if !options.no_skills && !system {
        plan_skills(&mut plan, paths)?
    } else {
        Vec::new()
    };
    // Exactly 0600 even over a looser existing file: it may now hold credentials, and the
    // hooks refuse a settings file that group or others can read.
    plan.set_with_mode(
        &paths.settings,
        inputs.settings_before.clone(),
        Some(settings_file(inputs.settings_doc, settings).into_bytes()),
        if system { 0o644 } else { 0o600 },
    );
    plan.set(
        &paths.hooks_json,
        inputs.hooks_before.clone(),
        Some(hooks.merged.text.clone().into_bytes()),
        0o644,
    );
    // No config.toml and nothing to put in it: do not create an empty one.
    let config_after = (inputs.config_before.is_some() || !config_merged.text.is_empty())
        .then(|| config_merged.text.clone().into_bytes());
    plan.set(
        &paths.config_toml,
        inputs.config_before.clone(),
        config_after,
        0o600,
    );
    let receipt = ReceiptUpdate {
        paths,
        hooks,
        trust,
        config: &config_merged,
        mcp: mcp.is_some(),
        skill_dirs: &skill_dirs,
    }
    .apply(inputs.old_receipt.clone().unwrap_or_default());
    Ok(Planned {
        plan,
        entries: dry_run_entries(&config_merged, &hooks.ours, &inputs.hooks_text),
        receipt,
        old_receipt: inputs.old_receipt,
    })
}

fn plan_skills(plan: &mut Plan, paths: &CodexPaths) -> Result<Vec<PathBuf>> {
    let mut skill_dirs = Vec::new();
    for (dir, contents) in skills::planned(&paths.skills) {
        let file = dir.join("SKILL.md");
        plan.set(
            &file,
            fsio::read_optional(&file)?,
            Some(contents.as_bytes().to_vec()),
            0o644,
        );
        skill_dirs.push(dir);
    }
    Ok(skill_dirs)
}

/// What this run adds to the receipt.
struct ReceiptUpdate<'a> {
    paths: &'a CodexPaths,
    hooks: &'a Hooks,
    trust: &'a [TrustEntry],
    config: &'a config_toml::Merged,
    mcp: bool,
    skill_dirs: &'a [PathBuf],
}

impl ReceiptUpdate<'_> {
    /// What we own, merged with what an earlier install recorded.
    fn apply(self, mut receipt: Receipt) -> Receipt {
        receipt.version = crate::VERSION.to_string();
        receipt.codex_home = self.paths.home.clone();
        receipt.hook_binary = self.paths.hook_binary.clone();
        let old_hooks = receipt.hooks_json.take().unwrap_or_default();
        // Groups an earlier install wrote stay ours (uninstall removes them) even when this
        // run's `--govern` leaves them out.
        let mut groups = old_hooks.groups.clone();
        for hook in &self.hooks.ours {
            let group = (hook.event, hook.command.clone());
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        let merged = &self.hooks.merged;
        receipt.hooks_json = Some(HooksJsonEntries {
            groups,
            created_hooks_key: old_hooks.created_hooks_key || merged.created_hooks_key,
            created_events: union(&old_hooks.created_events, &merged.created_events),
        });
        let old = receipt.config_toml.take().unwrap_or_default();
        let keys: Vec<String> = self.trust.iter().map(|t| t.key.clone()).collect();
        let hashes: Vec<String> = self.trust.iter().map(|t| t.hash.clone()).collect();
        receipt.config_toml = Some(ConfigTomlEntries {
            mcp_server: self.mcp || old.mcp_server,
            trust_keys: union(&old.trust_keys, &keys),
            trust_hashes: union(&old.trust_hashes, &hashes),
            created_mcp_servers: old.created_mcp_servers || self.config.created_mcp_servers,
            created_hooks: old.created_hooks || self.config.created_hooks,
            created_hooks_state: old.created_hooks_state || self.config.created_hooks_state,
        });
        receipt.skills = union(&receipt.skills, self.skill_dirs);
        receipt
    }
}

impl Planned {
    pub(super) fn record_registration(&mut self, registration: Option<&Registration>) {
        if let Some(registration) = registration {
            self.receipt.registration_expires_at = registration.expires_at.clone();
        }
    }
}

/// The dry run's list of what install adds to the user's files or replaces there.
fn dry_run_entries(
    config: &config_toml::Merged,
    ours: &[OurHook],
    hooks_before: &str,
) -> Vec<String> {
    let mut entries: Vec<String> = config
        .changes
        .iter()
        .map(|c| format!("config.toml: {c}"))
        .collect();
    for hook in ours {
        let event = hook.event.json_name();
        match hooks_json::current_hook(hooks_before, hook.event, &hook.command) {
            None => entries.push(format!("hooks.json: our {event} group added")),
            Some((_, current)) if current != *hook => {
                entries.push(format!("hooks.json: our {event} group updated"))
            }
            Some(_) => {}
        }
    }
    entries
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for item in b {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

/// axonflow.toml with the settings set, other keys (older plugins') kept.
fn settings_file(existing: Option<DocumentMut>, settings: &InstallSettings) -> String {
    let values = [
        ("endpoint", Some(settings.endpoint().to_string())),
        ("auth", settings.auth().map(str::to_string)),
        (
            "timeout_seconds",
            settings.timeout.value.map(|t| t.to_string()),
        ),
        (
            "fail_mode",
            Some(settings.fail_mode.value.as_str().to_string()),
        ),
        (
            "output_mode",
            Some(settings.output_mode.value.as_str().to_string()),
        ),
        (
            "license_token",
            settings.license_token().map(str::to_string),
        ),
    ];
    let Some(mut doc) = existing else {
        // A new file: plain `key = "value"` lines, the form older plugin readers parse.
        let mut text = String::from("# AxonFlow settings for the Codex hooks, written by `axonflow-codex install` (keep it mode 0600).\n");
        for (key, value) in values {
            if let Some(value) = value {
                text.push_str(&format!("{key} = {}\n", toml_edit::Value::from(value)));
            }
        }
        return text;
    };
    for (key, value) in values {
        match value {
            Some(value) => {
                if doc.get(key).and_then(|i| i.as_str()) != Some(value.as_str()) {
                    set_keeping_comments(&mut doc, key, value);
                }
            }
            None => {
                doc.remove(key);
            }
        }
    }
    doc.to_string()
}

/// Sets `key` to a string. An existing key is changed in place: `insert` would replace the
/// key with a fresh one and drop the comments above it (the file's header sits on its first
/// key) and the one after its value.
fn set_keeping_comments(doc: &mut DocumentMut, key: &str, value: String) {
    let mut new_value = toml_edit::Value::from(value);
    match doc.get_mut(key) {
        Some(item) => {
            if let Some(old) = item.as_value() {
                *new_value.decor_mut() = old.decor().clone();
            }
            *item = toml_edit::Item::Value(new_value);
        }
        None => {
            doc.insert(key, toml_edit::Item::Value(new_value));
        }
    }
}
