//! `axonflow-codex-hook user-prompt-submit`: check what the user typed or pasted before it
//! leaves the machine (`axonflow-agent.md` §11b). A redaction or a block stops the prompt:
//! exit 2 and one stderr line; Codex then sends nothing to the model.

use serde_json::{json, Value};

use crate::agent::{self, AgentClient};
use crate::post_tool_use::take_redaction;
use crate::pre_tool_use::{config_line, governed_result, policies_evaluated, throttle_gate};
use crate::settings::{FailMode, HookEvent, HostEnv, Settings};
use crate::state::{self, StateDir};
use crate::text::json_as_text;
use crate::tokens;
use crate::HookOutcome;

pub(crate) const CONNECTOR_TYPE: &str = "codex.UserPromptSubmit";
pub(crate) const BLOCK_PREFIX: &str = "AxonFlow blocked this prompt:";

pub fn run(stdin: &[u8], env: &HostEnv) -> HookOutcome {
    let Some(prompt) = prompt_of(stdin) else {
        return HookOutcome::allow();
    };
    let settings = match Settings::resolve(env) {
        Ok(settings) => settings,
        Err(error) => return HookOutcome::block(config_line(&error.to_string())),
    };
    let now = state::now_epoch();
    let state = StateDir::new(settings.state_dir.clone());
    let user_token = tokens::resolve_user_token(env, &settings).token;
    if let Some(outcome) = throttle_gate(&settings, &state, now, user_token.is_some()) {
        return outcome;
    }
    let headers = agent::governed_headers(
        settings.auth.as_ref(),
        tokens::license_token_to_send(&settings, now).as_ref(),
        user_token.as_ref(),
    );
    let client = AgentClient::new(&settings, headers);
    // The redacted copy can be as long as the prompt itself.
    let body_limit = agent::DEFAULT_BODY_LIMIT + 3 * prompt.len() as u64;
    let reply = client.call_tool(
        "hook-prompt",
        "check_output",
        json!({"connector_type": CONNECTOR_TYPE, "message": prompt}),
        settings.timeout_for(HookEvent::UserPromptSubmit),
        body_limit,
    );
    match governed_result(reply, &settings, &state, &client, now) {
        Ok(result) => decide(result),
        Err(outcome) => outcome,
    }
}

/// A prompt over `limit` bytes could not be checked: it follows `fail_mode`, as an agent that
/// cannot be reached does.
pub fn oversize(limit: u64, env: &HostEnv) -> HookOutcome {
    let settings = match Settings::resolve(env) {
        Ok(settings) => settings,
        Err(error) => return HookOutcome::block(config_line(&error.to_string())),
    };
    match settings.fail_mode {
        FailMode::Open => HookOutcome::allow(),
        FailMode::Closed => HookOutcome::block(format!(
            "{BLOCK_PREFIX} it is larger than {} and could not be checked, and fail_mode is closed.",
            crate::files::size_text(limit)
        )),
    }
}

/// The non-empty string `prompt` of a UserPromptSubmit document.
fn prompt_of(stdin: &[u8]) -> Option<String> {
    let Value::Object(mut document) = serde_json::from_slice(stdin).ok()? else {
        return None;
    };
    match document.remove("prompt") {
        Some(Value::String(prompt)) if !prompt.is_empty() => Some(prompt),
        _ => None,
    }
}

fn decide(mut result: serde_json::Map<String, Value>) -> HookOutcome {
    if let Some(redacted) = take_redaction(&mut result) {
        return HookOutcome::block(format!(
            "{BLOCK_PREFIX} it contains sensitive data ({} policies evaluated). Send this redacted version instead: {redacted}",
            policies_evaluated(&result)
        ));
    }
    if result.get("allowed") == Some(&Value::Bool(false)) {
        let reason = json_as_text(result.get("block_reason"));
        let reason = if reason.is_empty() {
            "Policy violation in prompt".to_string()
        } else {
            reason
        };
        return HookOutcome::block(format!("{BLOCK_PREFIX} {reason}"));
    }
    HookOutcome::allow()
}
