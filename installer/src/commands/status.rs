//! `axonflow-codex status`: what is installed, where, and which version.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use axonflow_codex_hook::event::Event;
use axonflow_codex_hook::host_env::HostEnv;
use serde::Serialize;
use serde_json::Value;

use crate::codex::codex_cli;
use crate::codex::hooks_json;
use crate::codex::paths::CodexPaths;
use crate::edit::config_toml;
use crate::error::Result;
use crate::state::fsio;
use crate::state::local_records;
use crate::state::receipt::Receipt;
use crate::ui::printer::Printer;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct StatusOptions {
    /// Which install: this user's (default) or the system-wide one
    #[arg(long, value_enum, default_value_t = crate::codex::paths::Scope::User)]
    pub scope: crate::codex::paths::Scope,
    /// Machine-readable status on stdout
    #[arg(long)]
    pub json: bool,
}

/// `status` when nothing is installed.
#[derive(Debug, Serialize)]
struct NotInstalled {
    installed: bool,
    codex_home: PathBuf,
    codex: Option<String>,
    version: &'static str,
    #[serde(flatten)]
    records: LocalRecords,
}

/// The spool and the journal, as both forms of `status` show them.
#[derive(Debug, Serialize)]
struct LocalRecords {
    audit_spool: Value,
    ungoverned_last_24h: usize,
}

impl LocalRecords {
    fn read(env: &HostEnv) -> Self {
        LocalRecords {
            audit_spool: local_records::spool_status(env),
            ungoverned_last_24h: local_records::ungoverned_last_24h(env),
        }
    }
}

impl fmt::Display for LocalRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = local_records::status_lines(&self.audit_spool, self.ungoverned_last_24h);
        write!(f, "{}", lines.join("\n"))
    }
}

impl fmt::Display for NotInstalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "AxonFlow governance is not installed in {}.",
            self.codex_home.display()
        )?;
        writeln!(f, "Install it with: axonflow-codex install")?;
        write!(f, "{}", self.records)
    }
}

#[derive(Debug, Serialize)]
struct HookBinary {
    path: PathBuf,
    version: Option<String>,
}

#[derive(Debug, Serialize)]
struct Group {
    event: Event,
    command: String,
    present: bool,
}

#[derive(Debug, Serialize)]
struct HooksJson {
    path: PathBuf,
    groups: Vec<Group>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct ConfigToml {
    path: PathBuf,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct TrustEntry {
    key: String,
    trusted_hash: Option<String>,
}

#[derive(Debug, Serialize)]
struct McpServer {
    url: Option<String>,
}

#[derive(Debug, Serialize)]
struct Skills {
    installed: usize,
    expected: usize,
    dir: PathBuf,
}

#[derive(Debug, Serialize)]
struct SettingsFile {
    path: PathBuf,
    exists: bool,
    mode: Option<String>,
}

/// `status` of an install: `--json` serialises it, people read its `Display`.
#[derive(Debug, Serialize)]
struct Installed {
    installed: bool,
    version: &'static str,
    installed_version: String,
    codex_home: PathBuf,
    codex: Option<String>,
    hook_binary: HookBinary,
    hooks_json: HooksJson,
    config_toml: ConfigToml,
    governed: Vec<&'static str>,
    output_mode: Option<&'static str>,
    trust: Vec<TrustEntry>,
    mcp_server: Option<McpServer>,
    skills: Skills,
    settings: SettingsFile,
    registration_expires_at: Option<String>,
    #[serde(flatten)]
    records: LocalRecords,
}

impl fmt::Display for Installed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "AxonFlow governance for Codex {} in {}",
            self.installed_version,
            self.codex_home.display()
        )?;
        let codex = self.codex.as_deref().unwrap_or("not found on PATH");
        writeln!(f, "  codex     {codex}")?;
        writeln!(
            f,
            "  hook      {} ({})",
            self.hook_binary.path.display(),
            self.hook_binary
                .version
                .as_deref()
                .unwrap_or("missing or not runnable")
        )?;
        if let Some(error) = &self.hooks_json.error {
            writeln!(f, "  hooks     UNREADABLE: {error}")?;
        }
        if let Some(error) = &self.config_toml.error {
            writeln!(f, "  config    UNREADABLE: {error}")?;
        }
        for group in &self.hooks_json.groups {
            let state = if group.present { "present" } else { "MISSING" };
            writeln!(f, "  hooks     {} {state}", group.event.json_name())?;
        }
        self.fmt_governance(f)?;
        let (skills, settings) = (&self.skills, &self.settings);
        writeln!(
            f,
            "  skills    {} of {} in {}",
            skills.installed,
            skills.expected,
            skills.dir.display()
        )?;
        let mode = settings
            .mode
            .as_ref()
            .map_or("missing".to_string(), |m| format!("mode {m}"));
        writeln!(f, "  settings  {} ({mode})", settings.path.display())?;
        if let Some(expiry) = &self.registration_expires_at {
            writeln!(f, "  saas      registration expires {expiry}")?;
        }
        write!(f, "{}", self.records)
    }
}

impl Installed {
    /// What is governed, how, and the trust and MCP entries that make it so.
    fn fmt_governance(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let governed = if self.governed.is_empty() {
            "nothing".to_string()
        } else {
            self.governed.join(", ")
        };
        let output_mode = self
            .output_mode
            .unwrap_or("unknown: settings error, see doctor");
        writeln!(f, "  governs   {governed} (output_mode {output_mode})")?;
        for entry in &self.trust {
            let hash = entry.trusted_hash.as_deref().unwrap_or("MISSING");
            writeln!(f, "  trust     {} {hash}", entry.key)?;
        }
        match self.mcp_server.as_ref().and_then(|m| m.url.as_deref()) {
            Some(url) => writeln!(f, "  mcp       axonflow -> {url}"),
            None => writeln!(f, "  mcp       not configured"),
        }
    }
}

pub fn run(options: &StatusOptions, env: &HostEnv, printer: Printer) -> Result<()> {
    let paths = CodexPaths::for_scope(env, options.scope, false)?;
    let codex = codex_cli::find(env);
    let codex_version = codex.as_deref().and_then(codex_cli::version);
    match Receipt::load(&paths.receipt)? {
        None => printer.report(&NotInstalled {
            installed: false,
            codex_home: paths.home,
            codex: codex_version,
            version: crate::VERSION,
            records: LocalRecords::read(env),
        }),
        Some(receipt) => printer.report(&installed(env, &paths, receipt, codex_version)?),
    }
    Ok(())
}

fn installed(
    env: &HostEnv,
    paths: &CodexPaths,
    receipt: Receipt,
    codex: Option<String>,
) -> Result<Installed> {
    let hook_version = codex_cli::run_bounded(
        std::process::Command::new(&receipt.hook_binary).arg("--version"),
        Duration::from_secs(5),
    )
    .map(|out| String::from_utf8_lossy(&out).trim().to_string());
    let (hooks_json, hooks_text) = hooks_json_state(paths, &receipt)?;
    let config_bytes = fsio::read_optional(&paths.config_toml)?;
    let config_error = config_toml::check(&paths.config_toml, config_bytes.as_deref())
        .err()
        .map(|e| e.message);
    let config_text = config_bytes
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let trust = receipt
        .config_toml
        .iter()
        .flat_map(|c| c.trust_keys.iter())
        .map(|key| TrustEntry {
            key: key.clone(),
            trusted_hash: config_toml::trusted_hash(&config_text, key),
        })
        .collect();
    // A URL an older install wrote with a password in it is never shown with it.
    let mcp_server = config_toml::mcp_entry(&config_text).map(|(url, _)| McpServer {
        url: url.map(|u| axonflow_codex_hook::settings::without_userinfo(&u)),
    });
    Ok(Installed {
        installed: true,
        version: crate::VERSION,
        installed_version: receipt.version.clone(),
        codex_home: paths.home.clone(),
        codex,
        hook_binary: HookBinary {
            path: receipt.hook_binary.clone(),
            version: hook_version,
        },
        governed: governed(&receipt, &hooks_text),
        hooks_json,
        config_toml: ConfigToml {
            path: paths.config_toml.clone(),
            error: config_error,
        },
        output_mode: axonflow_codex_hook::settings::Settings::resolve(env)
            .ok()
            .map(|s| s.output_mode.as_str()),
        trust,
        mcp_server,
        skills: Skills {
            installed: receipt
                .skills
                .iter()
                .filter(|dir| dir.join("SKILL.md").is_file())
                .count(),
            expected: receipt.skills.len(),
            dir: paths.skills.clone(),
        },
        settings: SettingsFile {
            path: paths.settings.clone(),
            exists: paths.settings.exists(),
            mode: settings_mode(&paths.settings),
        },
        registration_expires_at: receipt.registration_expires_at.clone(),
        records: LocalRecords::read(env),
    })
}

/// hooks.json as status reports it, and its text. A file Codex cannot read is named with its
/// parse error, not reported as "missing".
fn hooks_json_state(paths: &CodexPaths, receipt: &Receipt) -> Result<(HooksJson, String)> {
    let bytes = fsio::read_optional(&paths.hooks_json)?;
    let error = hooks_json::check(&paths.hooks_json, bytes.as_deref())
        .err()
        .map(|e| e.message);
    let text = bytes
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let groups = receipt
        .hooks_json
        .iter()
        .flat_map(|h| h.groups.iter())
        .map(|(event, command)| Group {
            event: *event,
            command: command.clone(),
            present: hooks_json::find(&text, *event, command).is_some(),
        })
        .collect();
    let state = HooksJson {
        path: paths.hooks_json.clone(),
        groups,
        error,
    };
    Ok((state, text))
}

/// What our groups, as they stand in hooks.json, govern (`--govern` names).
fn governed(receipt: &Receipt, hooks_text: &str) -> Vec<&'static str> {
    let ours: Vec<_> = receipt
        .hooks_json
        .iter()
        .flat_map(|h| h.groups.iter())
        .filter_map(|(event, command)| {
            hooks_json::current_hook(hooks_text, *event, command).map(|(_, hook)| hook)
        })
        .collect();
    crate::commands::install::governed_names(&ours)
}

fn settings_mode(path: &std::path::Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path)
            .ok()
            .map(|m| format!("{:o}", m.permissions().mode() & 0o777))
    }
    #[cfg(not(unix))]
    {
        path.exists().then(|| "n/a".to_string())
    }
}
