//! `axonflow-codex-hook pre-tool-use`: ask `check_policy` before a tool runs; block with
//! exit 2 and one line on stderr (`axonflow-agent.md` §10).

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::agent::{self, policies_evaluated, AgentClient, Reply, SIDE_REQUEST_SECONDS};
use crate::envelope::Envelope;
use crate::event::Event;
use crate::host_env::HostEnv;
use crate::journal;
use crate::payload::Payload;
use crate::settings::{FailMode, Settings};
use crate::spool::{self, Spool};
use crate::state::{self, StateDir};
use crate::text::json_as_text;
use crate::tokens::USER_TOKEN_HINT;
use crate::HookOutcome;

pub fn run(stdin: &[u8], env: &HostEnv) -> HookOutcome {
    run_parsed(Payload::parse(stdin), env)
}

/// [`run`] on a payload already parsed (`None`: not a usable document).
pub fn run_parsed(payload: Option<Payload>, env: &HostEnv) -> HookOutcome {
    let call = journal::Call::start(Event::PreToolUse, payload.as_ref());
    let outcome = run_unjournaled(payload, env);
    call.finish(env, &outcome);
    outcome
}

fn run_unjournaled(payload: Option<Payload>, env: &HostEnv) -> HookOutcome {
    let Some(mut payload) = payload else {
        return HookOutcome::allow();
    };
    // Settings are not even read for calls that are not governed.
    let Some(statement) = payload.statement() else {
        return HookOutcome::allow();
    };
    journal::note_statement(&statement);
    // Only the statement is used from here on; the input may be tens of MiB.
    payload.tool_input = Value::Null;
    let Gate {
        settings,
        state,
        client,
        now,
    } = match Gate::open(env) {
        Ok(gate) => gate,
        Err(outcome) => return outcome,
    };
    let timeout = settings.timeout_for(Event::PreToolUse);
    let arguments = agent::object([
        ("connector_type", Value::from(payload.connector_type())),
        ("statement", Value::from(statement.as_str())),
        ("operation", Value::from("execute")),
    ]);
    let reply = client.call_tool(
        "hook-pre",
        "check_policy",
        arguments,
        timeout,
        agent::DEFAULT_BODY_LIMIT,
    );
    let spool = Spool::for_env(env);
    spool::deliver_after_contact(&client, spool.as_ref(), &reply);
    let context = Context {
        spool: spool.as_ref(),
        settings: &settings,
        state: &state,
        client: &client,
        payload: &payload,
        statement: &statement,
        now,
    };
    decide(reply, &context)
}

/// What a governed check needs once the settings resolved and no throttle stands in the way.
pub(crate) struct Gate {
    pub(crate) settings: Settings,
    pub(crate) state: StateDir,
    pub(crate) client: AgentClient,
    pub(crate) now: i64,
}

impl Gate {
    /// Steps 3 and 4 of §10.1 (and step 2 of §11b): a settings error blocks with `CONFIG`,
    /// the throttle gate may answer locally; otherwise the client with the governed headers.
    pub(crate) fn open(env: &HostEnv) -> Result<Gate, HookOutcome> {
        let settings = Settings::resolve(env)
            .map_err(|error| HookOutcome::block(config_line(&error.to_string())))?;
        let now = state::now_epoch();
        let state = StateDir::new(settings.state_dir.clone());
        let client = AgentClient::for_hooks(env, &settings);
        if let Some(outcome) = throttle_gate(&settings, &state, now, client.sends_user_token()) {
            return Err(outcome);
        }
        Ok(Gate {
            settings,
            state,
            client,
            now,
        })
    }
}

/// A payload that could not be checked (over the stdin cap) follows `fail_mode`, as an agent
/// that cannot be reached does; `closed` blocks with `line`.
pub(crate) fn unchecked(env: &HostEnv, line: String) -> HookOutcome {
    let settings = match Settings::resolve(env) {
        Ok(settings) => settings,
        Err(error) => return HookOutcome::block(config_line(&error.to_string())),
    };
    match settings.fail_mode {
        FailMode::Open => HookOutcome::allow(),
        FailMode::Closed => HookOutcome::block(line),
    }
}

/// Step 4 of §10.1 (and of §11b): an active auth cooldown blocks locally, any other
/// throttle allows; `None` when no throttle is active and the request may go.
pub(crate) fn throttle_gate(
    settings: &Settings,
    state: &StateDir,
    now: i64,
    user_token_configured: bool,
) -> Option<HookOutcome> {
    let throttle = state.active_throttle(now)?;
    if !throttle.is_auth_failure() {
        journal::note(journal::THROTTLED, throttle_reason(&throttle));
        return Some(HookOutcome::allow());
    }
    journal::note(journal::AUTH_FAILURE, throttle_reason(&throttle));
    Some(HookOutcome::block(format!(
        "AxonFlow governance blocked: the AxonFlow agent at {} rejected the credentials (HTTP 401) and the auth-failure cooldown is active until {}. Run `axonflow-codex doctor` to fix the configuration.{}",
        settings.endpoint,
        state::rfc3339(throttle.until),
        hint_if(user_token_configured)
    )))
}

/// After a 401: journals it and starts the auth-failure cooldown, during which
/// [`throttle_gate`] blocks governed calls without asking the agent.
pub(crate) fn start_auth_failure_cooldown(settings: &Settings, state: &StateDir, now: i64) {
    journal::note(journal::AUTH_FAILURE, "HTTP 401");
    let cooldown = settings.auth_failure_cooldown_seconds.min(i64::MAX as u64) as i64;
    state.write_throttle(now.saturating_add(cooldown), state::AUTH_FAILURE_REASON);
}

struct Context<'a> {
    spool: Option<&'a Spool>,
    settings: &'a Settings,
    state: &'a StateDir,
    client: &'a AgentClient,
    payload: &'a Payload,
    statement: &'a str,
    now: i64,
}

/// The decision table (§10.3), first match wins.
fn decide(reply: Reply, cx: &Context<'_>) -> HookOutcome {
    let result = match governed_result(reply, cx.settings, cx.state, cx.client, cx.now) {
        Ok(result) => result,
        Err(outcome) => return outcome,
    };
    if result.get("allowed") != Some(&Value::Bool(false)) {
        journal::note_result(journal::ALLOW, "", &result);
        return HookOutcome::allow();
    }
    // H: a policy violation.
    violation(&result, cx)
}

/// Rows A–G of §10.3, shared with user-prompt-submit (§11b): the tool result to decide on,
/// or the outcome when the reply holds no decision.
pub(crate) fn governed_result(
    reply: Reply,
    settings: &Settings,
    state: &StateDir,
    client: &AgentClient,
    now: i64,
) -> Result<Map<String, Value>, HookOutcome> {
    let http = match reply {
        Reply::Transport(failure) => return Err(unreachable(settings, &failure.to_string())),
        Reply::Http(http) => http,
    };
    let body = http.json();
    let rpc_error = body.as_ref().and_then(agent::rpc_error);
    // A: a server error that is not a JSON-RPC answer is as good as no answer.
    if http.status >= 500 && rpc_error.is_none() {
        return Err(unreachable(settings, &format!("HTTP {}", http.status)));
    }
    // B: a tier limit. Remember it, tell the user once a day, allow.
    if let Some(envelope) = Envelope::detect(&http) {
        journal::note(journal::THROTTLED, envelope.limit_type());
        let lines = envelope.handle(&http, state, now);
        return Err(HookOutcome {
            stderr_lines: lines,
            ..HookOutcome::allow()
        });
    }
    // C: rejected credentials block (Decision b) and start the cooldown.
    if http.status == 401 {
        start_auth_failure_cooldown(settings, state, now);
        return Err(HookOutcome::block(format!(
            "AxonFlow governance blocked: the AxonFlow agent at {} rejected the credentials (HTTP 401). Run `axonflow-codex doctor` to fix the configuration.{}",
            settings.endpoint,
            hint_if(client.sends_user_token())
        )));
    }
    // D: nothing to read.
    if http.body_is_empty() {
        return Err(HookOutcome::allow());
    }
    // E / E′: JSON-RPC errors; only authentication, unknown method and bad params block.
    if let Some(error) = rpc_error.filter(|e| !e.message.is_empty()) {
        return Err(match error.code {
            Some(code @ (-32001 | -32601 | -32602)) => HookOutcome::block(format!(
                "AxonFlow governance blocked: {} (code {code}). Fix AxonFlow configuration to restore tool access.{}",
                error.message,
                hint_if(code == -32001 && client.sends_user_token())
            )),
            _ => HookOutcome::allow(),
        });
    }
    // F: no decision in the reply means allow, whatever the fail mode (G is the caller's).
    body.as_ref()
        .and_then(agent::tool_result)
        .ok_or_else(HookOutcome::allow)
}

fn violation(result: &Map<String, Value>, cx: &Context<'_>) -> HookOutcome {
    let block_reason = json_as_text(result.get("block_reason"));
    journal::note_result(journal::BLOCK, block_reason.as_str(), result);
    let policies_evaluated = policies_evaluated(result);
    let audit = {
        let client = cx.client.clone();
        let arguments = json!({
            "tool_name": cx.payload.tool_name,
            "caller_name": "codex",
            "tool_type": "codex",
            "input": {"statement": cx.statement},
            "output": {
                "policy_decision": "blocked",
                "block_reason": block_reason,
                "policies_evaluated": policies_evaluated,
            },
            "success": false,
            "error_message": format!("Blocked by policy: {block_reason}"),
        });
        let timeout = SIDE_REQUEST_SECONDS.min(cx.settings.timeout_for(Event::PreToolUse));
        let body = agent::request_body("hook-audit-blocked", "audit_tool_call", arguments);
        let spool = cx.spool.cloned();
        std::thread::spawn(move || {
            spool::send_audit(&client, spool.as_ref(), body, Duration::from_secs(timeout));
        })
    };
    let line = format!(
        "AxonFlow policy violation: {block_reason} ({policies_evaluated} policies evaluated){}",
        decision_context(result)
    );
    let _ = audit.join();
    HookOutcome::block(line)
}

/// ` [decision: <id>, risk: <level>, override …]`, only when the decision has an id.
pub(crate) fn decision_context(result: &Map<String, Value>) -> String {
    let decision_id = json_as_text(result.get("decision_id"));
    if decision_id.is_empty() {
        return String::new();
    }
    let mut context = format!(" [decision: {decision_id}");
    let risk = json_as_text(result.get("risk_level"));
    if !risk.is_empty() {
        context.push_str(&format!(", risk: {risk}"));
    }
    if result.get("override_available") == Some(&Value::Bool(true)) {
        let existing = json_as_text(result.get("override_existing_id"));
        if existing.is_empty() {
            context.push_str(", override available via explain_decision MCP tool");
        } else {
            context.push_str(&format!(", active override: {existing}"));
        }
    }
    context.push(']');
    context
}

/// A payload over `limit` bytes could not be checked: it follows `fail_mode`, as an agent that
/// cannot be reached does.
pub fn oversize(limit: u64, env: &HostEnv) -> HookOutcome {
    unchecked(
        env,
        format!(
            "AxonFlow governance blocked: the tool call is larger than {} and could not be checked, and fail_mode is closed.",
            crate::files::size_text(limit)
        ),
    )
}

pub(crate) fn unreachable(settings: &Settings, cause: &str) -> HookOutcome {
    journal::note(journal::UNREACHABLE, cause);
    match settings.fail_mode {
        FailMode::Open => HookOutcome::allow(),
        FailMode::Closed => HookOutcome::block(format!(
            "AxonFlow governance blocked: the AxonFlow agent at {} could not be reached ({cause}) and fail_mode is closed. Run `axonflow-codex doctor` to check the connection.",
            settings.endpoint
        )),
    }
}

/// `<reason> until <time>`, for the journal.
fn throttle_reason(throttle: &state::Throttle) -> String {
    format!(
        "{} until {}",
        throttle.reason,
        state::rfc3339(throttle.until)
    )
}

/// The CONFIG block line for a settings error.
pub fn config_line(cause: &str) -> String {
    format!(
        "AxonFlow governance blocked: invalid AxonFlow settings ({cause}). Run `axonflow-codex doctor` to fix the configuration."
    )
}

fn hint_if(condition: bool) -> String {
    if condition {
        format!(" {USER_TOKEN_HINT}")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn decision_context_variants() {
        assert_eq!(decision_context(&map(json!({}))), "");
        assert_eq!(
            decision_context(&map(json!({"decision_id":"dec_3"}))),
            " [decision: dec_3]"
        );
        assert_eq!(
            decision_context(&map(
                json!({"decision_id":"dec_1","risk_level":"high","override_available":true})
            )),
            " [decision: dec_1, risk: high, override available via explain_decision MCP tool]"
        );
        assert_eq!(
            decision_context(&map(
                json!({"decision_id":"dec_2","risk_level":"critical","override_available":true,"override_existing_id":"ov_9"})
            )),
            " [decision: dec_2, risk: critical, active override: ov_9]"
        );
    }

    #[test]
    fn policies_evaluated_is_numeric_or_zero() {
        assert_eq!(
            policies_evaluated(&map(json!({"policies_evaluated":93}))),
            93
        );
        assert_eq!(
            policies_evaluated(&map(json!({"policies_evaluated":"93"}))),
            0
        );
        assert_eq!(policies_evaluated(&map(json!({}))), 0);
    }
}
