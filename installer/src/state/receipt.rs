//! The receipt: every path and entry the installer owns, so uninstall removes exactly that.
//! Deterministic (no timestamps), so a second identical install leaves it byte-identical.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axonflow_codex_hook::event::Event;
use serde::{Deserialize, Serialize};

use crate::error::{CommandError, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub version: String,
    pub codex_home: PathBuf,
    pub hook_binary: PathBuf,
    /// Files we changed or created, by path.
    pub files: BTreeMap<PathBuf, OwnedFile>,
    pub hooks_json: Option<HooksJsonEntries>,
    pub config_toml: Option<ConfigTomlEntries>,
    /// Skill folders we wrote.
    pub skills: Vec<PathBuf>,
    /// Community SaaS registration expiry, for doctor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_expires_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnedFile {
    /// Whether the file existed before our first change.
    pub existed_before: bool,
    /// Copy of the file as it was before our first change.
    pub backup: Option<PathBuf>,
    /// SHA-256 of what we last wrote.
    pub written_sha256: String,
    /// Whether every write to the file since the backup was ours: each install found it as
    /// we had left it (or as it was before us). Only then, and when it still hashes to
    /// `written_sha256`, does uninstall restore the backup byte for byte; otherwise it takes
    /// out our entries and keeps everything else. Receipts from before this field: `false`.
    #[serde(default)]
    pub only_ours_since_backup: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HooksJsonEntries {
    /// (event, command) of each group we own.
    pub groups: Vec<(Event, String)>,
    pub created_hooks_key: bool,
    pub created_events: Vec<Event>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigTomlEntries {
    pub mcp_server: bool,
    pub trust_keys: Vec<String>,
    /// Every trusted hash we wrote: a key of ours is removed only while it holds one of
    /// them (the user may since have trusted their own group at that index). Empty in
    /// receipts from before this field: every key is ours then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_hashes: Vec<String>,
    pub created_mcp_servers: bool,
    pub created_hooks: bool,
    pub created_hooks_state: bool,
}

impl Receipt {
    pub fn load(path: &Path) -> Result<Option<Receipt>> {
        let Some(bytes) = crate::state::fsio::read_optional(path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            CommandError::failure(format!("{} is damaged: {e}", path.display()))
                .hint("move it away and run `axonflow-codex install` again")
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a receipt always serialises");
        bytes.push(b'\n');
        bytes
    }
}
