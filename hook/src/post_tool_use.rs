//! `axonflow-codex-hook post-tool-use`: audit the call and scan its output (`axonflow-agent.md`
//! §11). The tool already ran, so nothing is blocked; what changes is what the model receives.
//! In replace mode (§11.4) a redacted or blocked shell or MCP output is replaced: exit 2, and
//! stderr becomes the model's copy. In alert mode, and for `apply_patch` (the model wrote that
//! content itself), Codex gets a GOVERNANCE ALERT as `additionalContext` beside the output.

use std::time::Duration;

use serde_json::Value;

use crate::agent::{self, policies_evaluated, AgentClient, Reply, SIDE_REQUEST_SECONDS};
use crate::envelope::Envelope;
use crate::event::Event;
use crate::host_env::HostEnv;
use crate::journal;
use crate::payload::{Payload, ToolKind};
use crate::pre_tool_use::{decision_context, start_auth_failure_cooldown};
use crate::settings::{FailMode, OutputMode, Settings};
use crate::spool::{self, Spool};
use crate::state::{self, StateDir};
use crate::text::{json_as_text, single_line};
use crate::HookOutcome;

const POST_401_USER_TOKEN_LINE: &str = "[AxonFlow] A per-user token is configured (AXONFLOW_USER_TOKEN / user-token.json) and was sent as X-User-Token — if it is expired, revoked, or minted for a different org, the platform rejects every governed request; ask your admin to rotate it, or remove it to fall back to shared-credential attribution.";

pub fn run(stdin: &[u8], env: &HostEnv) -> HookOutcome {
    run_parsed(Payload::parse(stdin), env)
}

/// A payload over `limit` bytes could not be scanned. It follows `fail_mode` as an unreachable
/// agent does in replace mode (`axonflow-agent.md` §11.4): `open` lets it through unscanned,
/// `closed` withholds it from the model (exit 2: Codex gives the model the stderr line instead
/// of the output).
pub fn oversize(limit: u64, env: &HostEnv) -> HookOutcome {
    let settings = match Settings::resolve(env) {
        Ok(settings) => settings,
        Err(error) => return settings_error(&error.to_string()),
    };
    match settings.fail_mode {
        FailMode::Open => HookOutcome::allow(),
        FailMode::Closed => HookOutcome::block(format!(
            "AxonFlow withheld this tool output: it is larger than {} and could not be scanned, and fail_mode is closed.",
            crate::files::size_text(limit)
        )),
    }
}

fn settings_error(error: &str) -> HookOutcome {
    HookOutcome {
        stderr_lines: vec![format!(
            "[AxonFlow] invalid AxonFlow settings ({error}); tool output was not audited. Run `axonflow-codex doctor`."
        )],
        ..HookOutcome::allow()
    }
}

/// [`run`] on a payload already parsed (`None`: not a usable document).
pub fn run_parsed(payload: Option<Payload>, env: &HostEnv) -> HookOutcome {
    let call = journal::Call::start(Event::PostToolUse, payload.as_ref());
    let outcome = run_unjournaled(payload, env);
    call.finish(env, &outcome);
    outcome
}

fn run_unjournaled(payload: Option<Payload>, env: &HostEnv) -> HookOutcome {
    let Some(payload) = payload else {
        return HookOutcome::allow();
    };
    if payload.kind() == ToolKind::OwnMcp {
        return HookOutcome::allow();
    }
    journal::note_statement(&payload.statement().unwrap_or_default());
    let settings = match Settings::resolve(env) {
        Ok(settings) => settings,
        Err(error) => return settings_error(&error.to_string()),
    };
    let now = state::now_epoch();
    let state = StateDir::new(settings.state_dir.clone());
    let spool = Spool::for_env(env);
    if let Some(throttle) = state.active_throttle(now) {
        journal::note(journal::THROTTLED, throttle.reason);
        spool::keep_for_later(spool.as_ref(), &payload);
        return HookOutcome::allow();
    }
    let client = AgentClient::for_hooks(env, &settings);
    let timeout = settings.timeout_for(Event::PostToolUse);

    let audit = {
        let client = client.clone();
        let body = spool::post_audit_body(&payload);
        let side_timeout = Duration::from_secs(SIDE_REQUEST_SECONDS.min(timeout));
        let spool = spool.clone();
        std::thread::spawn(move || {
            spool::send_audit(&client, spool.as_ref(), body, side_timeout);
        })
    };

    let replace = settings.output_mode == OutputMode::Replace
        && matches!(payload.kind(), ToolKind::Shell | ToolKind::Mcp);
    let connector_type = payload.connector_type();
    // The output is moved, not copied, into the request: it may be tens of MiB.
    let outcome = match payload.into_scan_text() {
        Some(message) => {
            // The redacted copy can be as long as the message itself.
            let body_limit = agent::DEFAULT_BODY_LIMIT + 3 * message.len() as u64;
            let arguments = agent::object([
                ("connector_type", Value::from(connector_type)),
                ("message", Value::from(message)),
            ]);
            let reply =
                client.call_tool("hook-scan", "check_output", arguments, timeout, body_limit);
            if replace {
                replace_outcome(reply, &settings, &state, &client, now)
            } else {
                scan_outcome(reply, &settings, &state, &client, now)
            }
        }
        None => HookOutcome::allow(),
    };
    let _ = audit.join();
    outcome
}

/// The scan outcome table (§11.3).
fn scan_outcome(
    reply: Reply,
    settings: &Settings,
    state: &StateDir,
    client: &AgentClient,
    now: i64,
) -> HookOutcome {
    let http = match reply {
        Reply::Http(http) => http,
        Reply::Transport(failure) => {
            journal::note(journal::UNREACHABLE, failure.to_string());
            return HookOutcome::allow();
        }
    };
    if let Some(envelope) = Envelope::detect(&http) {
        journal::note(journal::THROTTLED, envelope.limit_type());
        return HookOutcome {
            stderr_lines: envelope.handle(&http, state, now),
            ..HookOutcome::allow()
        };
    }
    if http.status == 401 {
        start_auth_failure_cooldown(settings, state, now);
        let mut lines = Vec::new();
        if state.first_time_today(state::AUTH_FAILURE_PROMPT_FILE, &state::utc_date(now)) {
            lines.push(format!(
                "[AxonFlow] The AxonFlow agent at {} rejected the credentials (HTTP 401); governed tool calls are blocked until this is fixed. Run `axonflow-codex doctor`.",
                settings.endpoint
            ));
            if client.sends_user_token() {
                lines.push(POST_401_USER_TOKEN_LINE.to_string());
            }
        }
        return HookOutcome {
            stderr_lines: lines,
            ..HookOutcome::allow()
        };
    }
    // A redacted copy is as long as the output: each step frees what the next no longer needs.
    let Some(mut result) = http.into_json().as_ref().and_then(agent::tool_result) else {
        return HookOutcome::allow();
    };
    let redacted = match result.remove("redacted_message") {
        Some(Value::String(text)) => text,
        other => json_as_text(other.as_ref()),
    };
    let context = if !redacted.is_empty() && redacted != "null" {
        journal::note_result(journal::REDACTED, "sensitive data redacted", &result);
        format!(
            "GOVERNANCE ALERT: PII/sensitive data detected in tool output ({} policies evaluated). You MUST use this redacted version instead of the original: {redacted}",
            policies_evaluated(&result)
        )
    } else if result.get("allowed") == Some(&Value::Bool(false)) {
        let reason = json_as_text(result.get("block_reason"));
        let reason = if reason.is_empty() {
            "Policy violation in tool output".to_string()
        } else {
            reason
        };
        journal::note_result(journal::WITHHELD, reason.as_str(), &result);
        format!(
            "GOVERNANCE ALERT: Tool output blocked by policy: {reason}. Do not use or reference the blocked output in your response."
        )
    } else {
        return HookOutcome::allow();
    };
    drop(redacted);
    drop(result);
    let document = agent::object([(
        "hookSpecificOutput",
        agent::object([
            ("hookEventName", Value::from(Event::PostToolUse.json_name())),
            ("additionalContext", Value::from(context)),
        ]),
    )]);
    HookOutcome {
        stdout: format!("{document}\n"),
        ..HookOutcome::allow()
    }
}

/// The replace-mode table (§11.4): what the model receives instead of a shell or MCP output.
/// Every row it does not name is §11.3's.
fn replace_outcome(
    reply: Reply,
    settings: &Settings,
    state: &StateDir,
    client: &AgentClient,
    now: i64,
) -> HookOutcome {
    let http = match reply {
        Reply::Transport(failure) => return unscanned(settings, &failure.to_string()),
        Reply::Http(http) => http,
    };
    if Envelope::detect(&http).is_some() || http.status == 401 {
        return scan_outcome(Reply::Http(http), settings, state, client, now);
    }
    let status = http.status;
    // A redacted copy is as long as the output: each step frees what the next no longer needs.
    let body = http.into_json();
    if status >= 500 && body.as_ref().and_then(agent::rpc_error).is_none() {
        return unscanned(settings, &format!("HTTP {status}"));
    }
    let Some(mut result) = body.as_ref().and_then(agent::tool_result) else {
        return HookOutcome::allow();
    };
    drop(body);
    if let Some(redacted) = take_redaction(&mut result) {
        journal::note_result(journal::REDACTED, "sensitive data redacted", &result);
        let notice = single_line(&format!(
            "AxonFlow redacted sensitive data from this tool output ({} policies evaluated){}. The redacted output follows.",
            policies_evaluated(&result),
            decision_context(&result)
        ));
        return HookOutcome {
            exit_code: 2,
            stdout: String::new(),
            stderr_lines: vec![notice, redacted],
        };
    }
    if result.get("allowed") == Some(&Value::Bool(false)) {
        let reason = json_as_text(result.get("block_reason"));
        let reason = if reason.is_empty() {
            "Policy violation in tool output".to_string()
        } else {
            reason
        };
        journal::note_result(journal::WITHHELD, reason.as_str(), &result);
        return HookOutcome::block(format!(
            "AxonFlow withheld this tool output: {reason} ({} policies evaluated){}",
            policies_evaluated(&result),
            decision_context(&result)
        ));
    }
    HookOutcome::allow()
}

/// No scan answer (transport failure, timeout, 5xx without JSON-RPC error): `closed` withholds
/// the output from the model, `open` lets it through.
fn unscanned(settings: &Settings, cause: &str) -> HookOutcome {
    journal::note(journal::UNREACHABLE, cause);
    match settings.fail_mode {
        FailMode::Open => HookOutcome::allow(),
        FailMode::Closed => HookOutcome::block(format!(
            "AxonFlow withheld this tool output: the AxonFlow agent at {} could not be reached ({cause}) to scan it, and fail_mode is closed. Run `axonflow-codex doctor` to check the connection.",
            settings.endpoint
        )),
    }
}

/// A usable redaction, moved out of the result: a non-empty string other than `"null"`.
/// Anything else (a number, an object, an empty string) counts as no redaction.
pub(crate) fn take_redaction(result: &mut serde_json::Map<String, Value>) -> Option<String> {
    match result.remove("redacted_message") {
        Some(Value::String(text)) if !text.is_empty() && text != "null" => Some(text),
        _ => None,
    }
}
