//! Install's network steps, after the settings are known: the Community SaaS registration,
//! the liveness probe, and the check with Codex that it trusts our hooks.

use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::settings::{self as hook_settings, FailMode, Secret};

use super::questions::ask_url;
use super::settings::{Agent, InstallSettings, Source};
use super::InstallOptions;
use crate::agent::registration::{self, Registration};
use crate::codex::codex_cli;
use crate::codex::paths::CodexPaths;
use crate::codex::trust;
use crate::edit::config_toml::TrustEntry;
use crate::error::{CommandError, Result};
use crate::ui::prompt::Prompter;

/// Registers with Community SaaS when that is the agent chosen (consent was asked with the
/// questions): the endpoint and credentials become the registration's. A dry run connects to
/// nothing.
pub(super) fn register(
    settings: &mut InstallSettings,
    options: &InstallOptions,
    env: &HostEnv,
    prompter: Option<&mut (dyn Prompter + '_)>,
) -> Result<Option<Registration>> {
    if settings.agent.value != Agent::CommunitySaas {
        return Ok(None);
    }
    if prompter.is_none() {
        eprintln!("{}", registration::NOTICE);
    }
    if options.dry_run {
        return Ok(None);
    }
    let spinner = crate::ui::progress::spinner("Registering with AxonFlow Community SaaS");
    let result = registration::register(env.var("AXONFLOW_REGISTRATION_URL"));
    spinner.finish_and_clear();
    let registered = result?;
    match prompter {
        Some(prompter) => prompter.show(registration::CONNECTED),
        None => eprintln!("{}", registration::CONNECTED),
    }
    settings.agent.set(
        Agent::Url(registered.endpoint.clone()),
        Source::Registration,
    );
    settings.auth.set(
        Some(Secret::new(registered.auth.as_str())),
        Source::Registration,
    );
    Ok(Some(registered))
}

/// Probes the agent the settings point at. Interactive: when it does not answer, offers to
/// re-enter the endpoint until it does or the user goes on without it. Returns why governance
/// is not live, if it is not (with --require-agent that is an error instead).
pub(super) fn settle_agent(
    options: &InstallOptions,
    env: &HostEnv,
    settings: &mut InstallSettings,
    mut prompter: Option<&mut (dyn Prompter + '_)>,
) -> Result<Option<String>> {
    loop {
        let Err(reason) = probe(env, settings) else {
            return Ok(None);
        };
        let retry = match prompter.as_deref_mut() {
            Some(prompter) => {
                prompter.show(&not_live_warning(&reason, settings.fail_mode.value));
                prompter.confirm("Enter another AxonFlow agent URL?", true)?
            }
            None => false,
        };
        if !retry {
            if options.require_agent {
                return Err(CommandError::failure(format!(
                    "AxonFlow governance is not live: {reason}; nothing was changed (--require-agent)"
                ))
                .hint("start the agent or fix --endpoint, then run install again; `axonflow-codex doctor` shows each link of the chain"));
            }
            return Ok(Some(reason));
        }
        if let Some(prompter) = prompter.as_deref_mut() {
            let url = ask_url(prompter, settings.endpoint())?;
            settings.agent.set(Agent::Url(url), Source::Answer);
        }
    }
}

/// One harmless policy check, sent as the hooks will send it.
fn probe(env: &HostEnv, settings: &InstallSettings) -> std::result::Result<(), String> {
    // The user token does not depend on the settings; it is found as the hooks find it.
    let user_token = hook_settings::Settings::resolve(env)
        .ok()
        .and_then(|hook| axonflow_codex_hook::tokens::resolve_user_token(env, &hook).token);
    let spinner = crate::ui::progress::spinner(&format!(
        "Checking the AxonFlow agent at {}",
        settings.endpoint()
    ));
    let result = crate::agent::liveness::check(&crate::agent::liveness::Target {
        endpoint: settings.endpoint(),
        auth: settings.auth(),
        license_token: settings.license_token(),
        user_token,
        timeout_seconds: settings
            .timeout
            .value
            .unwrap_or(hook_settings::DEFAULT_PRE_TOOL_USE_TIMEOUT_SECONDS),
    });
    spinner.finish_and_clear();
    result
}

pub(super) fn not_live_warning(reason: &str, fail_mode: FailMode) -> String {
    let consequence = match fail_mode {
        FailMode::Open => "with fail_mode open, every tool call is allowed unchecked until it does",
        FailMode::Closed => {
            "with fail_mode closed, every governed tool call is blocked until it does"
        }
    };
    format!(
        "warning: AxonFlow governance is not live yet: {reason}. The hooks are installed, but {consequence}. Run `axonflow-codex doctor` once the agent is up."
    )
}

/// Checks with the real Codex (when on PATH) that it trusts our hooks; otherwise the
/// recorded hashes, computed as Codex computes them, stand.
pub(super) fn verify_trust(
    env: &HostEnv,
    paths: &CodexPaths,
    expected: &[TrustEntry],
) -> Result<String> {
    let Some(codex) = codex_cli::find(env) else {
        return Ok("recorded (no codex on PATH to verify with)".to_string());
    };
    let spinner = crate::ui::progress::spinner("Verifying hook trust with codex app-server");
    let listed = trust::list_hooks_of(&codex, &paths.home);
    spinner.finish_and_clear();
    let listed = listed.map_err(|e| {
        CommandError::failure(format!("could not verify hook trust: {e}"))
            .hint("run `axonflow-codex doctor` to check again")
    })?;
    match trust::first_not_run(&listed, expected, |entry| &entry.key) {
        None => Ok("recorded and verified with codex app-server".to_string()),
        Some((entry, Some(hook))) => Err(CommandError::failure(format!(
            "Codex reports the hook {} as {} (hash {}, recorded {})",
            entry.key, hook.trust_status, hook.current_hash, entry.hash
        ))
        .hint("run `axonflow-codex doctor`, or trust the hooks in Codex with /hooks")),
        Some((entry, None)) => Err(CommandError::failure(format!(
            "Codex does not list the hook {}",
            entry.key
        ))
        .hint("run `axonflow-codex doctor`")),
    }
}
