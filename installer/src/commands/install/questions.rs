//! The interactive install's questions: only on a terminal, only for what no flag or variable
//! settled, after a paragraph that says what will change.

use axonflow_codex_hook::settings::{self as hook_settings, FailMode};

use super::settings::{encode_pair, endpoint_answer, Agent, InstallSettings, Source};
use super::InstallOptions;
use crate::agent::registration;
use crate::codex::paths::{CodexPaths, Scope};
use crate::codex::skills;
use crate::error::{CommandError, Result};
use crate::ui::prompt::Prompter;

/// Says what will change, then asks for each open value.
pub(super) fn ask_open_settings(
    settings: &mut InstallSettings,
    options: &InstallOptions,
    paths: &CodexPaths,
    prompter: &mut dyn Prompter,
) -> Result<()> {
    prompter.show(&intro(options, paths));
    ask_agent(settings, options, prompter)?;
    consent_to_registration(settings, prompter)?;
    ask_credentials(settings, options, prompter)?;
    ask_timeout(settings, prompter)?;
    ask_fail_mode(settings, prompter)
}

/// The paragraph before the first question: what will change, and that nothing is written
/// before the final confirmation.
pub(super) fn intro(options: &InstallOptions, paths: &CodexPaths) -> String {
    let system = options.scope == Scope::System;
    let mut changes = vec![format!(
        "the hook commands to {}",
        paths.hooks_json.display()
    )];
    if !options.no_mcp {
        changes.push(format!(
            "an [mcp_servers.axonflow] entry to {}",
            paths.config_toml.display()
        ));
    }
    if !options.no_trust_hooks && !system {
        changes.push("Codex's trust in those hooks to config.toml".to_string());
    }
    if !options.no_skills && !system {
        changes.push(format!(
            "{} skills to {}",
            skills::SKILLS.len(),
            paths.skills.display()
        ));
    }
    changes.push(format!(
        "the agent's address{} to {}",
        if system { "" } else { " and credentials" },
        paths.settings.display()
    ));
    format!(
        "This installs AxonFlow governance for Codex. It adds {}. A few questions come first; \
         nothing is written before you confirm the list of files at the end.",
        changes.join("; ")
    )
}

fn ask_agent(
    settings: &mut InstallSettings,
    options: &InstallOptions,
    prompter: &mut dyn Prompter,
) -> Result<()> {
    if !settings.agent.is_open() {
        return Ok(());
    }
    // A system install stores no credentials, so it offers no Community SaaS.
    let choice = if options.scope == Scope::System {
        0
    } else {
        prompter.select(
            "Where is your AxonFlow agent?",
            &[
                "Self-hosted (a URL you run)",
                "AxonFlow Community SaaS (try.getaxonflow.com, for evaluation)",
            ],
            0,
        )?
    };
    if choice == 1 {
        settings.agent.set(Agent::CommunitySaas, Source::Answer);
        return Ok(());
    }
    let url = ask_url(prompter, settings.endpoint())?;
    settings.agent.set(Agent::Url(url), Source::Answer);
    Ok(())
}

/// An agent URL, checked as the hooks check it.
pub(super) fn ask_url(prompter: &mut dyn Prompter, default: &str) -> Result<String> {
    let url = prompter.input("AxonFlow agent URL", Some(default), &|text| {
        endpoint_answer(text, "the URL")
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    endpoint_answer(&url, "the URL")
}

/// Community SaaS is shown its notice and asked for before anything connects to it.
fn consent_to_registration(settings: &InstallSettings, prompter: &mut dyn Prompter) -> Result<()> {
    if settings.agent.value != Agent::CommunitySaas {
        return Ok(());
    }
    prompter.show(registration::NOTICE);
    if prompter.confirm("Register with AxonFlow Community SaaS now?", true)? {
        Ok(())
    } else {
        Err(CommandError::failure(
            "install cancelled; nothing was changed",
        ))
    }
}

fn ask_credentials(
    settings: &mut InstallSettings,
    options: &InstallOptions,
    prompter: &mut dyn Prompter,
) -> Result<()> {
    // Community SaaS: the registration supplies them; system: none are stored.
    if !settings.auth.is_open()
        || settings.agent.value == Agent::CommunitySaas
        || options.scope == Scope::System
    {
        return Ok(());
    }
    let question = if settings.auth.value.is_some() {
        "Change the stored credentials?"
    } else {
        "Does the agent require credentials (client id and secret)?"
    };
    if !prompter.confirm(question, false)? {
        return Ok(());
    }
    let id = prompter.input("Client id", None, &|text| {
        if text.is_empty() || text.contains(':') {
            Err("a client id is non-empty and has no ':'".into())
        } else {
            Ok(())
        }
    })?;
    let secret = prompter.password("Client secret")?;
    settings
        .auth
        .set(Some(encode_pair(&id, &secret)?), Source::Answer);
    Ok(())
}

fn ask_timeout(settings: &mut InstallSettings, prompter: &mut dyn Prompter) -> Result<()> {
    if !settings.timeout.is_open() {
        return Ok(());
    }
    let default = hook_settings::DEFAULT_PRE_TOOL_USE_TIMEOUT_SECONDS;
    let current = settings.timeout.value.unwrap_or(default).to_string();
    let answer = prompter.input("Request timeout in seconds", Some(&current), &|text| {
        hook_settings::parse_timeout(text, "the timeout")
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let seconds = hook_settings::parse_timeout(&answer, "the timeout")
        .map_err(|e| CommandError::usage(e.to_string()))?;
    // Keeping the default leaves each hook its own (8 s before, 5 s after).
    let stored = settings.timeout.source == Source::File;
    let value = (stored || seconds != default).then_some(seconds);
    settings.timeout.set(value, Source::Answer);
    Ok(())
}

fn ask_fail_mode(settings: &mut InstallSettings, prompter: &mut dyn Prompter) -> Result<()> {
    if !settings.fail_mode.is_open() {
        return Ok(());
    }
    let choice = prompter.select(
        "When the agent cannot be reached",
        &["open: allow the tool call", "closed: block the tool call"],
        usize::from(settings.fail_mode.value == FailMode::Closed),
    )?;
    let mode = if choice == 1 {
        FailMode::Closed
    } else {
        FailMode::Open
    };
    settings.fail_mode.set(mode, Source::Answer);
    Ok(())
}
