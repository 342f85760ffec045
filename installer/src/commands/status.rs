//! `axonflow-codex status`: what is installed, where, and which version.

use std::time::Duration;

use axonflow_codex_hook::host_env::HostEnv;
use serde_json::{json, Value};

use crate::codex::codex_cli;
use crate::codex::hooks_json;
use crate::codex::paths::CodexPaths;
use crate::edit::config_toml;
use crate::error::Result;
use crate::state::fsio;
use crate::state::local_records;
use crate::state::receipt::Receipt;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct StatusOptions {
    /// Which install: this user's (default) or the system-wide one
    #[arg(long, value_enum, default_value_t = crate::codex::paths::Scope::User)]
    pub scope: crate::codex::paths::Scope,
    /// Machine-readable status on stdout
    #[arg(long)]
    pub json: bool,
}

pub fn run(options: &StatusOptions, env: &HostEnv) -> Result<()> {
    let paths = CodexPaths::for_scope(env, options.scope, false)?;
    let codex = codex_cli::find(env);
    let codex_version = codex.as_deref().and_then(codex_cli::version);
    let receipt = Receipt::load(&paths.receipt)?;
    let Some(receipt) = receipt else {
        if options.json {
            println!(
                "{}",
                json!({"installed": false, "codex_home": paths.home, "codex": codex_version, "version": crate::VERSION,
                       "audit_spool": local_records::spool_status(env), "ungoverned_last_24h": local_records::ungoverned_last_24h(env)})
            );
        } else {
            println!(
                "AxonFlow governance is not installed in {}.",
                paths.home.display()
            );
            println!("Install it with: axonflow-codex install");
            print_local_records(env);
        }
        return Ok(());
    };

    let hook_version = codex_cli::run_bounded(
        std::process::Command::new(&receipt.hook_binary).arg("--version"),
        Duration::from_secs(5),
    )
    .map(|out| String::from_utf8_lossy(&out).trim().to_string());
    let hooks_bytes = fsio::read_optional(&paths.hooks_json)?;
    // A file Codex cannot read is named with its parse error, not reported as "missing".
    let hooks_error = hooks_json::check(&paths.hooks_json, hooks_bytes.as_deref())
        .err()
        .map(|e| e.message);
    let hooks_text = hooks_bytes
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let groups: Vec<Value> = receipt
        .hooks_json
        .iter()
        .flat_map(|h| h.groups.iter())
        .map(|(event, command)| {
            let present = hooks_json::find(&hooks_text, *event, command).is_some();
            json!({"event": event, "command": command, "present": present})
        })
        .collect();
    let governed = governed(&receipt, &hooks_text);
    let output_mode = axonflow_codex_hook::settings::Settings::resolve(env)
        .ok()
        .map(|s| s.output_mode.as_str());
    let config_bytes = fsio::read_optional(&paths.config_toml)?;
    let config_error = config_toml::check(&paths.config_toml, config_bytes.as_deref())
        .err()
        .map(|e| e.message);
    let config_text = config_bytes
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let trust: Vec<Value> = receipt
        .config_toml
        .iter()
        .flat_map(|c| c.trust_keys.iter())
        .map(
            |key| json!({"key": key, "trusted_hash": config_toml::trusted_hash(&config_text, key)}),
        )
        .collect();
    // A URL an older install wrote with a password in it is never shown with it.
    let mcp = config_toml::mcp_entry(&config_text)
        .map(|(url, _)| url.map(|u| axonflow_codex_hook::settings::without_userinfo(&u)));
    let skills_present = receipt
        .skills
        .iter()
        .filter(|dir| dir.join("SKILL.md").is_file())
        .count();
    let settings_mode = settings_mode(&paths.settings);
    let status = json!({
        "installed": true,
        "version": crate::VERSION,
        "installed_version": receipt.version,
        "codex_home": paths.home,
        "codex": codex_version,
        "hook_binary": {"path": receipt.hook_binary, "version": hook_version},
        "hooks_json": {"path": paths.hooks_json, "groups": groups, "error": hooks_error},
        "config_toml": {"path": paths.config_toml, "error": config_error},
        "governed": governed,
        "output_mode": output_mode,
        "trust": trust,
        "mcp_server": mcp.map(|url| json!({"url": url})),
        "skills": {"installed": skills_present, "expected": receipt.skills.len(), "dir": paths.skills},
        "settings": {"path": paths.settings, "exists": paths.settings.exists(), "mode": settings_mode},
        "registration_expires_at": receipt.registration_expires_at,
        "audit_spool": local_records::spool_status(env),
        "ungoverned_last_24h": local_records::ungoverned_last_24h(env),
    });
    if options.json {
        println!("{status}");
        return Ok(());
    }
    println!(
        "AxonFlow governance for Codex {} in {}",
        receipt.version,
        paths.home.display()
    );
    println!(
        "  codex     {}",
        codex_version.as_deref().unwrap_or("not found on PATH")
    );
    println!(
        "  hook      {} ({})",
        receipt.hook_binary.display(),
        status["hook_binary"]["version"]
            .as_str()
            .unwrap_or("missing or not runnable")
    );
    if let Some(error) = &hooks_error {
        println!("  hooks     UNREADABLE: {error}");
    }
    if let Some(error) = &config_error {
        println!("  config    UNREADABLE: {error}");
    }
    for group in status["hooks_json"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "  hooks     {} {}",
            group["event"].as_str().unwrap_or_default(),
            if group["present"] == json!(true) {
                "present"
            } else {
                "MISSING"
            }
        );
    }
    println!(
        "  governs   {} (output_mode {})",
        if governed.is_empty() {
            "nothing".to_string()
        } else {
            governed.join(", ")
        },
        output_mode.unwrap_or("unknown: settings error, see doctor")
    );
    for entry in status["trust"].as_array().into_iter().flatten() {
        println!(
            "  trust     {} {}",
            entry["key"].as_str().unwrap_or_default(),
            entry["trusted_hash"].as_str().unwrap_or("MISSING")
        );
    }
    match status["mcp_server"]["url"].as_str() {
        Some(url) => println!("  mcp       axonflow -> {url}"),
        None => println!("  mcp       not configured"),
    }
    println!(
        "  skills    {skills_present} of {} in {}",
        receipt.skills.len(),
        paths.skills.display()
    );
    println!(
        "  settings  {} ({})",
        paths.settings.display(),
        settings_mode.map_or("missing".to_string(), |m| format!("mode {m}"))
    );
    if let Some(expiry) = &receipt.registration_expires_at {
        println!("  saas      registration expires {expiry}");
    }
    print_local_records(env);
    Ok(())
}

fn print_local_records(env: &HostEnv) {
    let spool = local_records::spool_status(env);
    for line in local_records::status_lines(&spool, local_records::ungoverned_last_24h(env)) {
        println!("{line}");
    }
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
