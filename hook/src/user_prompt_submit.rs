//! `axonflow-codex-hook user-prompt-submit`: check what the user typed or pasted before it
//! leaves the machine (`axonflow-agent.md` §11b). A redaction or a block stops the prompt:
//! exit 2 and one stderr line; Codex then sends nothing to the model.

use serde_json::{json, Value};

use crate::agent;
use crate::agent::policies_evaluated;
use crate::event::Event;
use crate::host_env::HostEnv;
use crate::journal;
use crate::post_tool_use::take_redaction;
use crate::pre_tool_use::{governed_result, unchecked, Gate};
use crate::text::json_as_text;
use crate::HookOutcome;

pub(crate) const CONNECTOR_TYPE: &str = "codex.UserPromptSubmit";
pub(crate) const BLOCK_PREFIX: &str = "AxonFlow blocked this prompt:";

pub fn run(stdin: &[u8], env: &HostEnv) -> HookOutcome {
    let call = journal::Call::start_without_payload(Event::UserPromptSubmit);
    let outcome = run_unjournaled(stdin, env);
    call.finish(env, &outcome);
    outcome
}

fn run_unjournaled(stdin: &[u8], env: &HostEnv) -> HookOutcome {
    let Some(prompt) = prompt_of(stdin) else {
        return HookOutcome::allow();
    };
    // The prompt itself is never journaled: it may hold the very data a redaction removes.
    journal::note_statement("");
    let Gate {
        settings,
        state,
        client,
        now,
    } = match Gate::open(env) {
        Ok(gate) => gate,
        Err(outcome) => return outcome,
    };
    // The redacted copy can be as long as the prompt itself.
    let body_limit = agent::DEFAULT_BODY_LIMIT + 3 * prompt.len() as u64;
    let reply = client.call_tool(
        "hook-prompt",
        "check_output",
        json!({"connector_type": CONNECTOR_TYPE, "message": prompt}),
        settings.timeout_for(Event::UserPromptSubmit),
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
    unchecked(
        env,
        format!(
            "{BLOCK_PREFIX} it is larger than {} and could not be checked, and fail_mode is closed.",
            crate::files::size_text(limit)
        ),
    )
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
