//! doctor's network rows: the agent's health, the credentials, the probes of enforcement
//! and output scanning, and the installed hook run against the agent. Health and the probes
//! run concurrently, each bounded; every probe row is shown the moment it is known.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axonflow_codex_hook::agent::{self, AgentClient, Reply};
use axonflow_codex_hook::event::Event;
use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::settings::{FailMode, Settings};
use axonflow_codex_hook::state::{self, StateDir};
use axonflow_codex_hook::vars;
use serde_json::{json, Value};

use super::local::{current_throttle, throttle_row};
use super::{fail, pass, skip, warn, Row, Rows, Status};
use crate::error::plain_cause;

pub const HARMLESS_PROBE: &str = "echo axonflow-doctor";
pub const DANGEROUS_PROBE: &str = "psql -c \"DROP TABLE users; --\"";
/// A synthetic output with PII (a well-known invalid SSN): the agent must redact it.
pub const PII_PROBE: &str = "axonflow-doctor output scan: SSN 123-45-6789";
/// Round trips slower than this are worth a warning: every tool call pays them.
const SLOW_ROUND_TRIP: Duration = Duration::from_millis(1000);
/// The bound of the health request.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// How far the probes got: what the rows after them can still check.
enum Reach {
    /// The agent accepted the credentials and answered.
    Answered,
    /// Why the later rows are not checked.
    Stopped(String),
}

/// The network rows, each shown as it finishes: health and the probes concurrently, then the
/// throttle and the hook as the next tool call will meet them.
pub(super) fn rows(env: &HostEnv, settings: &Settings, hook_binary: Option<&Path>, out: &mut Rows) {
    let timeout = settings.timeout_for(Event::PreToolUse);
    let client = AgentClient::for_hooks(env, settings);
    out.waiting(&format!(
        "asking the agent at {} (at most {timeout} s)",
        settings.endpoint
    ));
    let (sender, received) = mpsc::channel();
    let reach = std::thread::scope(|scope| {
        let health = scope.spawn(|| health_rows(settings));
        let probes = scope.spawn(move || {
            let mut emit = Emit {
                sender,
                sent: Vec::new(),
            };
            probe_rows(&client, settings, timeout, &mut emit)
        });
        out.extend(health.join().unwrap_or_default());
        // Ends when the probe thread is done (and drops the sender).
        for row in received {
            out.push(as_the_hooks_see_it(row, settings));
        }
        probes
            .join()
            .unwrap_or_else(|_| Reach::Stopped("the probe failed".into()))
    });
    // After the probes: an accepted credentials check has cleared the auth cooldown, so the
    // throttle and the hook are reported as the next tool call will meet them.
    let throttle = current_throttle(settings).filter(state::Throttle::allows_without_asking);
    out.extend(throttle_row(settings));
    if let Some(binary) = hook_binary {
        let row = match &reach {
            Reach::Answered => {
                out.waiting("running the installed hook against the agent");
                hook_row(binary, env, throttle.as_ref())
            }
            Reach::Stopped(reason) => skip("hook binary", reason),
        };
        out.push(row);
    }
    out.done_waiting();
}

/// The probe rows as they finish, from the probe thread to the one that prints.
struct Emit {
    sender: mpsc::Sender<Row>,
    sent: Vec<&'static str>,
}

impl Emit {
    fn push(&mut self, row: Row) {
        self.sent.push(row.name);
        // The receiver outlives the probe thread (scoped): a send cannot fail.
        let _ = self.sender.send(row);
    }
}

/// The agent enforces, but a tier-limit throttle makes the hooks allow without asking it.
/// Read when the enforcement row arrives: the credentials check before it has cleared any
/// auth cooldown, so the throttle is the one the next tool call meets.
fn as_the_hooks_see_it(row: Row, settings: &Settings) -> Row {
    if row.name != "enforcement" || row.status != Status::Pass {
        return row;
    }
    let Some(throttle) = current_throttle(settings).filter(state::Throttle::allows_without_asking)
    else {
        return row;
    };
    warn(
        "enforcement",
        format!(
            "the agent blocks `{DANGEROUS_PROBE}`, but until {} (tier limit `{}`) the hooks allow every tool call without asking it",
            state::rfc3339(throttle.until),
            throttle.reason
        ),
        "wait for the limit to reset, or upgrade: https://getaxonflow.com/pricing/",
    )
}

fn health_rows(settings: &Settings) -> Vec<Row> {
    let body = match health_document(settings) {
        Ok(body) => body,
        Err(row) => {
            return vec![
                row,
                skip("plugin version", "the agent's health document was not read"),
            ]
        }
    };
    let version = body["version"].as_str().unwrap_or("unknown").to_string();
    let mut rows = vec![match body["status"].as_str() {
        Some("healthy") => pass(
            "agent health",
            format!(
                "{} {version} at {}",
                body["service"].as_str().unwrap_or("agent"),
                settings.endpoint
            ),
        ),
        Some("starting") => warn(
            "agent health",
            format!("the agent {version} is still starting"),
            "wait a moment and run doctor again",
        ),
        other => fail(
            "agent health",
            format!("the agent reports status {other:?}"),
            "check the agent's logs",
        ),
    }];
    if body.get("plugin_compatibility").is_none() {
        rows.push(fail(
            "agent version",
            format!("agent {version} is too old: it has no governance MCP endpoint for Codex"),
            "upgrade the AxonFlow agent",
        ));
    } else {
        rows.push(plugin_version_row(&body));
    }
    rows
}

/// The agent's `/health` document, or the failing row saying why there is none.
fn health_document(settings: &Settings) -> std::result::Result<Value, Row> {
    let url = format!("{}/health", settings.endpoint);
    let response = crate::agent::liveness::get_health(&url, HEALTH_TIMEOUT);
    let mut response = response.map_err(|error| {
        fail(
            "agent health",
            format!(
                "cannot reach {url}: {}",
                plain_cause(&error, HEALTH_TIMEOUT)
            ),
            format!(
                "start the agent or fix `endpoint` (now {})",
                settings.endpoint
            ),
        )
    })?;
    let status = response.status().as_u16();
    let body: Option<Value> = response
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_string()
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    body.filter(|_| status == 200).ok_or_else(|| {
        fail(
            "agent health",
            format!("{url} answered HTTP {status} without the agent's health document"),
            "check that the endpoint is an AxonFlow agent",
        )
    })
}

fn plugin_version_row(health: &Value) -> Row {
    match health["plugin_compatibility"]["min_plugin_version"]["codex"].as_str() {
        Some(minimum) if crate::commands::update::version_below(crate::VERSION, minimum) => fail(
            "plugin version",
            format!(
                "the agent requires codex-plugin {minimum} or newer; this is {}",
                crate::VERSION
            ),
            "axonflow-codex update",
        ),
        Some(minimum) => pass(
            "plugin version",
            format!("{} meets the agent's minimum {minimum}", crate::VERSION),
        ),
        None => pass("plugin version", "the agent sets no minimum for codex"),
    }
}

fn probe(client: &AgentClient, statement: &str, id: &str, timeout: u64) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = client.call_tool(
        id,
        "check_policy",
        json!({"connector_type": "codex.Bash", "statement": statement, "operation": "execute"}),
        timeout,
        agent::DEFAULT_BODY_LIMIT,
    );
    (reply, started.elapsed())
}

/// The rows a probe could not reach, each saying why.
fn stopped(emit: &mut Emit, reason: &str) -> Reach {
    for name in [
        "harmless check",
        "latency",
        "enforcement",
        "output scanning",
    ] {
        if !emit.sent.contains(&name) {
            emit.push(skip(name, reason));
        }
    }
    Reach::Stopped(reason.to_string())
}

fn probe_rows(client: &AgentClient, settings: &Settings, timeout: u64, emit: &mut Emit) -> Reach {
    let (reply, elapsed) = probe(client, HARMLESS_PROBE, "doctor-harmless", timeout);
    let result = match credentials_row(reply, settings) {
        Ok((row, result)) => {
            emit.push(row);
            result
        }
        Err((row, reason)) => {
            emit.push(row);
            return stopped(emit, &reason);
        }
    };
    StateDir::new(settings.state_dir.clone()).clear_auth_failure(state::now_epoch());
    let reason = |r: &Option<serde_json::Map<String, Value>>| {
        r.as_ref()
            .and_then(|r| r.get("block_reason"))
            .and_then(Value::as_str)
            .unwrap_or("no reason")
            .to_string()
    };
    match result.as_ref().and_then(|r| r.get("allowed")) {
        Some(Value::Bool(true)) => emit.push(pass(
            "harmless check",
            format!("`{HARMLESS_PROBE}` allowed"),
        )),
        Some(Value::Bool(false)) => emit.push(warn(
            "harmless check",
            format!("`{HARMLESS_PROBE}` was blocked: {}", reason(&result)),
            "review the agent's policies: ordinary commands will be blocked",
        )),
        _ => {
            emit.push(fail("harmless check", "the answer held no policy decision: the endpoint does not enforce anything (every tool call would be allowed)", "point `endpoint` at an AxonFlow agent"));
            return stopped(emit, "the agent gave no policy decision");
        }
    }
    emit.push(latency_row(elapsed));
    let (reply, _) = probe(client, DANGEROUS_PROBE, "doctor-dangerous", timeout);
    let decision = match reply {
        Reply::Http(http) => http.json().as_ref().and_then(agent::tool_result),
        Reply::Transport(_) => None,
    };
    emit.push(match decision.as_ref().and_then(|r| r.get("allowed")) {
        Some(Value::Bool(false)) => pass(
            "enforcement",
            format!("`{DANGEROUS_PROBE}` blocked ({})", reason(&decision)),
        ),
        Some(Value::Bool(true)) => fail("enforcement", format!("the agent allowed `{DANGEROUS_PROBE}`: its SQL-injection policy is disabled or overridden"), "re-enable the built-in SQL injection policies on the agent"),
        _ => fail("enforcement", "no decision for the dangerous probe", "check the agent"),
    });
    emit.push(output_scan_row(client, timeout));
    Reach::Answered
}

fn latency_row(elapsed: Duration) -> Row {
    let detail = format!("{} ms per check", elapsed.as_millis());
    if elapsed > SLOW_ROUND_TRIP {
        warn(
            "latency",
            detail,
            "every tool call waits this long; use a closer agent",
        )
    } else {
        pass("latency", detail)
    }
}

type Decision = Option<serde_json::Map<String, Value>>;

/// Whether the agent accepted the harmless probe's credentials: the row and the decision, or
/// the row and why the later probes are not run.
fn credentials_row(reply: Reply, settings: &Settings) -> Result<(Row, Decision), (Row, String)> {
    const NAME: &str = "credentials";
    let http = match reply {
        Reply::Transport(failure) => {
            let row = fail(
                NAME,
                format!("no answer from {}: {failure}", settings.mcp_url()),
                format!(
                    "start the agent or fix `endpoint` (now {})",
                    settings.endpoint
                ),
            );
            let reason = match settings.fail_mode {
                FailMode::Open => "the agent cannot be reached, so with fail_mode open the hooks allow every tool call unchecked",
                FailMode::Closed => "the agent cannot be reached, so with fail_mode closed the hooks block every governed tool call",
            };
            return Err((row, reason.to_string()));
        }
        Reply::Http(http) => http,
    };
    match http.status {
        401 => return Err((
            fail(NAME, "the agent rejected the credentials (HTTP 401)", "axonflow-codex install --client-id ID --client-secret SECRET (or fix AXONFLOW_AUTH / the user token)"),
            "the agent rejected the credentials, so the hooks block every governed tool call".to_string(),
        )),
        404 => return Err((
            fail(
                NAME,
                format!("{} answered 404: agent too old, or not an AxonFlow agent", settings.mcp_url()),
                "upgrade the AxonFlow agent, or fix `endpoint`",
            ),
            "the endpoint is not a governance endpoint".to_string(),
        )),
        _ => {}
    }
    let body = http.json();
    if let Some(error) = body.as_ref().and_then(agent::rpc_error) {
        return Err((
            fail(
                NAME,
                format!(
                    "the agent answered the probe with an error: {} (code {:?})",
                    error.message, error.code
                ),
                "check the agent's configuration",
            ),
            "the agent answered with an error".to_string(),
        ));
    }
    let row = pass(NAME, format!("accepted (HTTP {})", http.status));
    Ok((row, body.as_ref().and_then(agent::tool_result)))
}

/// Proves output scanning is live the way the enforcement row proves blocking: a synthetic
/// PII sample sent to check_output must come back redacted (or blocked).
fn output_scan_row(client: &AgentClient, timeout: u64) -> Row {
    const NAME: &str = "output scanning";
    let reply = client.call_tool(
        "doctor-pii",
        "check_output",
        json!({"connector_type": "codex.Bash", "message": PII_PROBE}),
        timeout,
        agent::DEFAULT_BODY_LIMIT,
    );
    let result = match reply {
        Reply::Http(http) => http.json().as_ref().and_then(agent::tool_result),
        Reply::Transport(failure) => {
            return fail(
                NAME,
                format!("no answer to check_output: {failure}"),
                "check the agent",
            )
        }
    };
    let Some(result) = result else {
        return fail(
            NAME,
            "no scan result for the PII sample",
            "check the agent (check_output)",
        );
    };
    match result.get("redacted_message") {
        Some(Value::String(redacted)) if !redacted.is_empty() && redacted != "null" => {
            if redacted.contains("123-45-6789") {
                return fail(NAME, "the \"redacted\" sample still holds the SSN", "check the agent's PII redaction policies");
            }
            pass(NAME, format!("PII sample redacted: `{redacted}`"))
        }
        _ if result.get("allowed") == Some(&Value::Bool(false)) => {
            pass(NAME, "PII sample blocked (not redacted): outputs with PII are withheld")
        }
        _ => fail(
            NAME,
            "the agent returned the PII sample unredacted: tool outputs and prompts reach the model unchanged",
            "enable the agent's PII detection (built-in redaction policies)",
        ),
    }
}

/// The installed hook answering a real PreToolUse payload, as Codex would run it.
///
/// Run with fail_mode closed, so that an allow is the agent's answer and never one fail-open
/// made up because the agent could not be reached.
fn hook_row(binary: &Path, env: &HostEnv, throttle: Option<&state::Throttle>) -> Row {
    const NAME: &str = "hook binary";
    let output = match run_hook(binary, env) {
        Ok(output) => output,
        Err(cause) => return fail(NAME, cause, "axonflow-codex install"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    match output.status.code() {
        Some(0) if throttle.is_some() => warn(
            NAME,
            format!(
                "{} pre-tool-use allowed `{HARMLESS_PROBE}` without asking the agent: a tier-limit throttle is active until {}",
                binary.display(),
                throttle.map(|t| state::rfc3339(t.until)).unwrap_or_default()
            ),
            "wait for the limit to reset, or upgrade: https://getaxonflow.com/pricing/",
        ),
        Some(0) => pass(
            NAME,
            format!(
                "{} pre-tool-use asked the agent, which allowed `{HARMLESS_PROBE}`",
                binary.display()
            ),
        ),
        Some(2) if stderr.contains("could not be reached") => fail(
            NAME,
            format!("the hook could not reach the agent ({stderr}); with fail_mode open it would have allowed the call unchecked"),
            "check that the hook sees the same settings as doctor (axonflow.toml beside it, AXONFLOW_* variables)",
        ),
        Some(2) => fail(
            NAME,
            format!("the hook blocked a harmless command: {stderr}"),
            "follow the reason above",
        ),
        code => fail(
            NAME,
            format!("the hook exited {code:?}: {stderr}"),
            "axonflow-codex install",
        ),
    }
}

/// The hook's pre-tool-use on a harmless Bash payload, bounded to 30 s; or why it did not run.
fn run_hook(binary: &Path, env: &HostEnv) -> std::result::Result<std::process::Output, String> {
    let payload = json!({"hook_event_name": Event::PreToolUse.json_name(), "tool_name": "Bash", "tool_input": {"command": HARMLESS_PROBE}}).to_string();
    let mut child = Command::new(binary)
        .arg(Event::PreToolUse.subcommand())
        // Codex hands its whole environment to a hook: the proxies, SSL_CERT_FILE and the
        // XDG directories the hook reads, not only the AXONFLOW_* settings.
        .env_clear()
        .envs(env.vars())
        .env(vars::FAIL_MODE, "closed")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| {
            format!(
                "cannot run {}: {}",
                binary.display(),
                axonflow_codex_hook::text::io_cause(&error)
            )
        })?;
    use std::io::Write as _;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload.as_bytes());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the hook did not finish in 30 s".to_string());
            }
        }
    }
    child
        .wait_with_output()
        .map_err(|_| "the hook's output could not be read".to_string())
}
