//! The agent's behaviour: routing, MCP JSON-RPC handling, the governance tools and `/health`,
//! with the wire shapes of reference §1–7.

use std::sync::atomic::Ordering;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::config::{HealthMode, Policy};
use crate::util::{self, go_encode, go_pretty_sorted};
use crate::{http, RecordedRequest, Shared, HEALTH_PATH, MCP_PATH, REGISTER_PATH};

pub const PRICING_URL: &str = "https://getaxonflow.com/pricing/";
const SUPPORTED_PROTOCOL_VERSIONS: [&str; 2] = ["2025-06-18", "2024-11-05"];

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: &Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: go_encode(body),
        }
    }

    /// Go's `http.Error(w, msg, status)`.
    fn text_error(status: u16, msg: &str) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type".into(), "text/plain; charset=utf-8".into()),
                ("X-Content-Type-Options".into(), "nosniff".into()),
            ],
            body: format!("{msg}\n").into_bytes(),
        }
    }

    fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn not_found() -> Response {
        Response::text_error(404, "404 page not found")
    }

    fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The success envelope (or `isError`) around `text`, echoing the request's id.
    pub fn tool_text(req: &RecordedRequest, text: &str, is_error: bool) -> Response {
        Response::json(200, &tool_envelope(&request_id(req), text, is_error))
    }

    pub fn to_bytes(&self, close: bool) -> Vec<u8> {
        http::serialize_response(self.status, &self.headers, &self.body, close, true)
    }
}

fn request_id(req: &RecordedRequest) -> Value {
    req.json
        .as_ref()
        .and_then(|j| j.get("id"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn rpc_result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn tool_envelope(id: &Value, text: &str, is_error: bool) -> Value {
    let mut result = Map::new();
    result.insert("content".into(), json!([{"type": "text", "text": text}]));
    if is_error {
        result.insert("isError".into(), Value::Bool(true));
    }
    rpc_result(id, Value::Object(result))
}

pub fn handle(shared: &Shared, req: &RecordedRequest) -> Response {
    let compiled = shared.compiled();
    let config = &compiled.config;
    match req.path_only() {
        HEALTH_PATH => health(&config.health),
        REGISTER_PATH if req.method == "POST" => register(shared, config),
        MCP_PATH if config.health == HealthMode::LegacyEarly2026 => Response::not_found(),
        MCP_PATH => match req.method.as_str() {
            "POST" => mcp_post(shared, req),
            "DELETE" => Response::empty(200),
            _ => Response::text_error(405, "Method Not Allowed"),
        },
        _ => Response::not_found(),
    }
}

/// Community SaaS registration (`POST /api/v1/register`, axonflow-agent.md §8).
fn register(shared: &Shared, config: &crate::AgentConfig) -> Response {
    if config.registration_rate_limited {
        return Response::json(
            429,
            &json!({"error": "rate limit exceeded: 5 registrations per IP per hour"}),
        );
    }
    let n = shared
        .decision_counter
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + 1;
    Response::json(
        201,
        &json!({
            "tenant_id": format!("cs_00000000-0000-4000-8000-{n:012}"),
            "secret": format!("{:064x}", 0x5ec7e7u64 + n),
            "expires_at": "2099-01-01T00:00:00Z",
            "endpoint": config
                .registration_endpoint
                .clone()
                .unwrap_or_else(|| "https://try.getaxonflow.com".to_string()),
            "note": "Community SaaS tenant for evaluation. Self-host for real workloads."
        }),
    )
}

fn health(mode: &HealthMode) -> Response {
    let now = util::rfc3339_now();
    let current = |status: &str, min_codex: &str| {
        json!({
            "status": status,
            "service": "axonflow-agent",
            "tier": "community",
            "timestamp": now,
            "version": "9.11.0",
            "capabilities": [
                "mcp_server",
                "policy_enforcement",
                "pii_detection",
                "audit_logging",
                "policy_overrides",
                "explain_decision"
            ],
            "sdk_compatibility": {},
            "plugin_compatibility": {
                "min_plugin_version": {
                    "codex": min_codex,
                    "cursor": "1.0.0",
                    "claude-code": "1.0.0"
                },
                "recommended_plugin_version": {"codex": "2.0.0"}
            }
        })
    };
    let body = match mode {
        HealthMode::Current { min_codex_version } => current("healthy", min_codex_version),
        HealthMode::Starting => current("starting", "1.4.0"),
        HealthMode::LegacyEarly2026 => json!({
            "status": "healthy",
            "service": "axonflow-agent",
            "timestamp": now,
            "version": "1.0.0"
        }),
    };
    Response::json(200, &body)
}

fn auth_ok(config: &crate::config::AgentConfig, req: &RecordedRequest) -> bool {
    if let Some((id, secret)) = &config.auth {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        );
        if req.header("Authorization") != Some(expected.as_str()) {
            return false;
        }
    }
    if let (Some(valid), Some(token)) = (&config.valid_user_tokens, req.header("X-User-Token")) {
        if !valid.iter().any(|v| v == token) {
            return false;
        }
    }
    true
}

fn mcp_post(shared: &Shared, req: &RecordedRequest) -> Response {
    let compiled = shared.compiled();
    let config = &compiled.config;

    let content_type_ok = req.header("Content-Type").is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("application/json")
    });
    if !content_type_ok {
        return Response::json(
            415,
            &rpc_error(
                &Value::Null,
                -32600,
                "Invalid Request: Content-Type must be application/json",
            ),
        );
    }

    let Some(Value::Object(body)) = req.json.as_ref() else {
        return Response::json(
            400,
            &rpc_error(&Value::Null, -32700, "Parse error: invalid JSON"),
        );
    };
    let id = body.get("id").cloned();
    let echo = id.clone().unwrap_or(Value::Null);

    if body.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Response::json(400, &rpc_error(&echo, -32600, "Invalid Request"));
    }
    if let Some(version) = req.header("MCP-Protocol-Version") {
        if !SUPPORTED_PROTOCOL_VERSIONS.contains(&version) {
            return Response::json(
                400,
                &rpc_error(
                    &echo,
                    -32600,
                    &format!("Invalid Request: unsupported MCP-Protocol-Version {version}"),
                ),
            );
        }
    }

    if !auth_ok(config, req) {
        return Response::json(401, &rpc_error(&echo, -32001, "Authentication required"))
            .with_header("WWW-Authenticate", "Basic realm=\"AxonFlow MCP Server\"");
    }

    let Some(id) = id else {
        // Notification.
        return Response::empty(202);
    };
    let method = body.get("method").and_then(Value::as_str).unwrap_or("");
    match method {
        "initialize" => Response::json(
            200,
            &rpc_result(
                &id,
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "axonflow", "version": "1.0.0"}
                }),
            ),
        )
        .with_header(
            "Mcp-Session-Id",
            &format!("axonflow-{}", util::random_hex(24)),
        ),
        "tools/list" => Response::json(200, &rpc_result(&id, json!({"tools": tool_list()}))),
        "ping" => Response::json(200, &rpc_result(&id, json!({}))),
        "tools/call" => tools_call(shared, &id, body.get("params")),
        other => Response::json(
            200,
            &rpc_error(&id, -32601, &format!("Method not found: {other}")),
        ),
    }
}

/// What one tool produced.
enum ToolOutcome {
    /// Success: the result object (pretty, sorted-keys JSON in `text`).
    Result(Value),
    /// Tool error: `isError: true` with this plain text.
    Error(String),
}

fn tools_call(shared: &Shared, id: &Value, params: Option<&Value>) -> Response {
    let compiled = shared.compiled();
    let config = &compiled.config;

    let count = shared.tool_calls.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(limit) = config.daily_quota {
        if count > u64::from(limit) {
            return quota_exceeded(config, id, limit);
        }
    }

    let Some(name) = params.and_then(|p| p.get("name")).and_then(Value::as_str) else {
        return Response::json(200, &rpc_error(id, -32602, "Invalid params"));
    };
    let empty = Map::new();
    let args = params
        .and_then(|p| p.get("arguments"))
        .and_then(Value::as_object)
        .unwrap_or(&empty);

    let outcome = match name {
        "check_policy" => check_policy(shared, args),
        "check_output" => check_output(shared, args),
        "audit_tool_call" => audit_tool_call(args),
        "list_policies" => list_policies(shared, args),
        "search_audit_events" => {
            ToolOutcome::Result(json!({"events": [], "total": 0, "limit": 100}))
        }
        "explain_decision" => explain_decision(shared, args),
        "create_override" => create_override(shared, args),
        "delete_override" => delete_override(shared, args),
        "list_overrides" => list_overrides(shared, args),
        "list_recent_decisions" => list_recent_decisions(shared, args),
        other => {
            return Response::json(
                200,
                &rpc_error(id, -32602, &format!("Unknown tool: {other}")),
            )
        }
    };
    let envelope = match outcome {
        ToolOutcome::Result(result) => tool_envelope(id, &go_pretty_sorted(&result), false),
        ToolOutcome::Error(text) => tool_envelope(id, &text, true),
    };
    Response::json(200, &envelope)
}

fn quota_exceeded(config: &crate::config::AgentConfig, id: &Value, limit: u32) -> Response {
    let resets_at = config
        .quota_resets_at
        .clone()
        .unwrap_or_else(util::next_utc_midnight);
    let retry_after = config
        .quota_retry_after
        .unwrap_or_else(util::secs_until_utc_midnight);
    let envelope = json!({
        "error": format!("Free tier daily quota of {limit} governed requests reached."),
        "limit_type": "daily_quota",
        "tier": "free",
        "limit": limit,
        "remaining": 0,
        "window": "day",
        "resets_at": resets_at,
        "upgrade": {
            "tier": "Pro",
            "wording": format!(
                "You have used all {limit} governed requests of today's AxonFlow Free tier quota. AxonFlow Pro removes the daily cap."
            ),
            "compare_url": "https://getaxonflow.com/pricing/#compare",
            "buy_url": "https://getaxonflow.com/pricing/?plan=pro&source=daily_quota"
        }
    });
    let body = json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "isError": true,
            "content": [{"type": "text", "text": util::go_compact(&envelope)}]
        }
    });
    Response::json(429, &body)
        .with_header("X-Axonflow-Tier-Limit", "daily_quota")
        .with_header("X-Axonflow-Upgrade-URL", PRICING_URL)
        .with_header("Retry-After", &retry_after.to_string())
}

/// A required string argument: absent, non-string or empty → `<key> is required`.
fn required_str<'a>(args: &'a Map<String, Value>, key: &str) -> Result<&'a str, ToolOutcome> {
    match args.get(key).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(ToolOutcome::Error(format!("{key} is required"))),
    }
}

/// A required argument of any type: absent or null → `<key> is required`.
fn required_any<'a>(args: &'a Map<String, Value>, key: &str) -> Result<&'a Value, ToolOutcome> {
    match args.get(key) {
        Some(v) if !v.is_null() => Ok(v),
        _ => Err(ToolOutcome::Error(format!("{key} is required"))),
    }
}

macro_rules! require {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(outcome) => return outcome,
        }
    };
}

fn next_decision_id(shared: &Shared) -> String {
    format!(
        "dec_{}",
        shared.decision_counter.fetch_add(1, Ordering::SeqCst) + 1
    )
}

fn policy_match(p: &Policy) -> Value {
    json!({
        "policy_id": p.id,
        "policy_name": p.name,
        "risk_level": p.risk_level,
        "allow_override": p.allow_override,
        "policy_version": p.version
    })
}

fn remember_decision(shared: &Shared, decision: Value) {
    shared
        .decisions
        .lock()
        .expect("decisions lock")
        .push(decision);
}

fn check_policy(shared: &Shared, args: &Map<String, Value>) -> ToolOutcome {
    let connector_type = require!(required_str(args, "connector_type"));
    let statement = require!(required_str(args, "statement"));
    let compiled = shared.compiled();
    let config = &compiled.config;
    let decision_id = next_decision_id(shared);

    if config.read_only_posture {
        remember_decision(
            shared,
            json!({"decision_id": decision_id, "decision": "blocked", "connector_type": connector_type,
                   "policy_id": "read_only_posture", "reason": "read-only posture", "timestamp": util::rfc3339_now()}),
        );
        return ToolOutcome::Result(json!({
            "allowed": false,
            "decision_id": decision_id,
            "block_reason": "read-only posture",
            "blocked_by": "read_only_posture",
            "read_only_posture": true
        }));
    }

    let matches: Vec<&Policy> = compiled
        .policies
        .iter()
        .filter(|(_, re)| re.is_match(statement))
        .map(|(p, _)| p)
        .collect();
    let mut result = Map::new();
    result.insert("decision_id".into(), json!(decision_id));
    result.insert(
        "policies_evaluated".into(),
        json!(config.policies_evaluated),
    );
    result.insert(
        "dynamic_info".into(),
        json!({"orchestrator_reachable": true, "dynamic_policies_evaluated": 0}),
    );

    if matches.is_empty() {
        result.insert("allowed".into(), json!(true));
        remember_decision(
            shared,
            json!({"decision_id": decision_id, "decision": "allowed", "connector_type": connector_type,
                   "timestamp": util::rfc3339_now()}),
        );
        return ToolOutcome::Result(Value::Object(result));
    }

    let overrides = shared.overrides.lock().expect("overrides lock").clone();
    result.insert(
        "policy_matches".into(),
        Value::Array(matches.iter().map(|p| policy_match(p)).collect()),
    );
    let blocking = matches.iter().find(|p| !overrides.contains_key(&p.id));
    match blocking {
        Some(p) => {
            result.insert("allowed".into(), json!(false));
            result.insert("block_reason".into(), json!(p.reason));
            result.insert("blocked_by".into(), json!(p.id));
            result.insert("risk_level".into(), json!(p.risk_level));
            result.insert("override_available".into(), json!(p.allow_override));
            remember_decision(
                shared,
                json!({"decision_id": decision_id, "decision": "blocked", "connector_type": connector_type,
                       "policy_id": p.id, "reason": p.reason, "risk_level": p.risk_level,
                       "override_available": p.allow_override, "timestamp": util::rfc3339_now()}),
            );
        }
        None => {
            let p = matches[0];
            result.insert("allowed".into(), json!(true));
            result.insert("risk_level".into(), json!(p.risk_level));
            result.insert("override_available".into(), json!(p.allow_override));
            result.insert("override_existing_id".into(), json!(overrides[&p.id]));
            remember_decision(
                shared,
                json!({"decision_id": decision_id, "decision": "allowed", "connector_type": connector_type,
                       "policy_id": p.id, "override_id": overrides[&p.id], "timestamp": util::rfc3339_now()}),
            );
        }
    }
    ToolOutcome::Result(Value::Object(result))
}

/// Masks a match keeping its first and last character: `123-45-6789` → `1*********9`.
fn mask(m: &str) -> String {
    let chars: Vec<char> = m.chars().collect();
    if chars.len() <= 2 {
        return "*".repeat(chars.len());
    }
    let mut out = String::with_capacity(m.len());
    out.push(chars[0]);
    out.extend(std::iter::repeat_n('*', chars.len() - 2));
    out.push(chars[chars.len() - 1]);
    out
}

/// Applies every redaction policy; returns the text and whether anything was redacted.
fn redact(compiled: &crate::Compiled, text: &str) -> (String, bool) {
    let mut out = text.to_string();
    let mut changed = false;
    for (_, re) in &compiled.redaction {
        if re.is_match(&out) {
            changed = true;
            out = re
                .replace_all(&out, |caps: &regex::Captures<'_>| mask(&caps[0]))
                .into_owned();
        }
    }
    (out, changed)
}

fn redact_value(compiled: &crate::Compiled, v: &Value, changed: &mut bool) -> Value {
    match v {
        Value::String(s) => {
            let (out, c) = redact(compiled, s);
            *changed |= c;
            Value::String(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| redact_value(compiled, i, changed))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), redact_value(compiled, v, changed)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn check_output(shared: &Shared, args: &Map<String, Value>) -> ToolOutcome {
    let connector_type = require!(required_str(args, "connector_type"));
    let compiled = shared.compiled();
    let config = &compiled.config;
    let message = args.get("message").and_then(Value::as_str).unwrap_or("");
    let response_data = args.get("response_data").filter(|v| !v.is_null());
    let decision_id = next_decision_id(shared);

    let (redacted_message, message_redacted) = redact(&compiled, message);
    let mut data_redacted = false;
    let redacted_data = response_data.map(|d| redact_value(&compiled, d, &mut data_redacted));

    let data_text = response_data.map(util::go_compact).unwrap_or_default();
    let block = compiled
        .output_block
        .iter()
        .filter(|(_, re)| re.is_match(message) || re.is_match(&data_text))
        .map(|(p, _)| p)
        .collect::<Vec<_>>();

    let mut result = Map::new();
    result.insert("allowed".into(), json!(block.is_empty()));
    result.insert("decision_id".into(), json!(decision_id));
    result.insert(
        "policies_evaluated".into(),
        json!(config.policies_evaluated),
    );
    if message_redacted || data_redacted {
        if message_redacted {
            result.insert("redacted_message".into(), json!(redacted_message));
        }
        result.insert(
            "redacted_data".into(),
            if data_redacted {
                redacted_data.unwrap_or(Value::Null)
            } else {
                Value::Null
            },
        );
    }
    let decision = if let Some(p) = block.first() {
        result.insert("block_reason".into(), json!(p.reason));
        result.insert("risk_level".into(), json!(p.risk_level));
        result.insert(
            "policy_matches".into(),
            Value::Array(block.iter().map(|p| policy_match(p)).collect()),
        );
        result.insert("override_available".into(), json!(false));
        "blocked"
    } else if message_redacted || data_redacted {
        "redacted"
    } else {
        "allowed"
    };
    remember_decision(
        shared,
        json!({"decision_id": decision_id, "decision": decision, "connector_type": connector_type,
               "timestamp": util::rfc3339_now()}),
    );
    ToolOutcome::Result(Value::Object(result))
}

fn audit_tool_call(args: &Map<String, Value>) -> ToolOutcome {
    let tool_name = require!(required_str(args, "tool_name"));
    require!(required_any(args, "input"));
    require!(required_any(args, "success"));
    ToolOutcome::Result(json!({
        "recorded": true,
        "tool_name": tool_name,
        "timestamp": util::rfc3339_now(),
        "details": format!("Tool call audit recorded for {tool_name}")
    }))
}

fn list_policies(shared: &Shared, args: &Map<String, Value>) -> ToolOutcome {
    let compiled = shared.compiled();
    let category = args.get("category").and_then(Value::as_str);
    let severity = args.get("severity").and_then(Value::as_str);
    let policies: Vec<Value> = compiled
        .policies
        .iter()
        .chain(&compiled.redaction)
        .chain(&compiled.output_block)
        .map(|(p, _)| p)
        .filter(|p| category.is_none_or(|c| c == p.category))
        .filter(|p| severity.is_none_or(|s| s == p.risk_level))
        .map(|p| {
            json!({"policy_id": p.id, "name": p.name, "category": p.category, "pattern": p.pattern,
                   "severity": p.risk_level, "description": p.reason, "enabled": true,
                   "allow_override": p.allow_override, "version": p.version})
        })
        .collect();
    ToolOutcome::Result(json!({"total": policies.len(), "policies": policies}))
}

fn explain_decision(shared: &Shared, args: &Map<String, Value>) -> ToolOutcome {
    let decision_id = require!(required_str(args, "decision_id"));
    let decisions = shared.decisions.lock().expect("decisions lock");
    match decisions
        .iter()
        .find(|d| d["decision_id"].as_str() == Some(decision_id))
    {
        Some(d) => ToolOutcome::Result(d.clone()),
        None => ToolOutcome::Error(format!("decision not found: {decision_id}")),
    }
}

fn create_override(shared: &Shared, args: &Map<String, Value>) -> ToolOutcome {
    let policy_id = require!(required_str(args, "policy_id"));
    let policy_type = require!(required_str(args, "policy_type"));
    let reason = require!(required_str(args, "override_reason"));
    if policy_type != "static" && policy_type != "dynamic" {
        return ToolOutcome::Error("policy_type must be static or dynamic".into());
    }
    let ttl = match args.get("ttl_seconds") {
        None | Some(Value::Null) => 3600,
        Some(v) => match v.as_u64() {
            Some(t) if (60..=86_400).contains(&t) => t,
            _ => return ToolOutcome::Error("ttl_seconds must be between 60 and 86400".into()),
        },
    };
    let override_id = format!(
        "ov_{}",
        shared.override_counter.fetch_add(1, Ordering::SeqCst) + 1
    );
    shared
        .overrides
        .lock()
        .expect("overrides lock")
        .insert(policy_id.to_string(), override_id.clone());
    ToolOutcome::Result(json!({
        "override_id": override_id,
        "policy_id": policy_id,
        "policy_type": policy_type,
        "override_reason": reason,
        "tool_signature": args.get("tool_signature").cloned().unwrap_or(Value::Null),
        "ttl_seconds": ttl,
        "created_at": util::rfc3339_now(),
    }))
}

fn delete_override(shared: &Shared, args: &Map<String, Value>) -> ToolOutcome {
    let override_id = require!(required_str(args, "override_id"));
    let mut overrides = shared.overrides.lock().expect("overrides lock");
    let Some(policy_id) = overrides
        .iter()
        .find(|(_, ov)| ov.as_str() == override_id)
        .map(|(p, _)| p.clone())
    else {
        return ToolOutcome::Error(format!("override not found: {override_id}"));
    };
    overrides.remove(&policy_id);
    ToolOutcome::Result(
        json!({"deleted": true, "override_id": override_id, "policy_id": policy_id}),
    )
}

fn list_overrides(shared: &Shared, args: &Map<String, Value>) -> ToolOutcome {
    let policy_filter = args.get("policy_id").and_then(Value::as_str);
    let overrides: Vec<Value> = shared
        .overrides
        .lock()
        .expect("overrides lock")
        .iter()
        .filter(|(p, _)| policy_filter.is_none_or(|f| f == p.as_str()))
        .map(|(p, ov)| json!({"override_id": ov, "policy_id": p, "revoked": false}))
        .collect();
    ToolOutcome::Result(json!({"count": overrides.len(), "overrides": overrides}))
}

fn list_recent_decisions(shared: &Shared, args: &Map<String, Value>) -> ToolOutcome {
    let limit = match args.get("limit") {
        None | Some(Value::Null) => 100,
        Some(v) => match v.as_u64() {
            Some(l) if (1..=1000).contains(&l) => l as usize,
            _ => return ToolOutcome::Error("limit must be between 1 and 1000".into()),
        },
    };
    let decision_filter = args.get("decision").and_then(Value::as_str);
    let policy_filter = args.get("policy_id").and_then(Value::as_str);
    let decisions: Vec<Value> = shared
        .decisions
        .lock()
        .expect("decisions lock")
        .iter()
        .rev()
        .filter(|d| decision_filter.is_none_or(|f| d["decision"].as_str() == Some(f)))
        .filter(|d| policy_filter.is_none_or(|f| d["policy_id"].as_str() == Some(f)))
        .take(limit)
        .cloned()
        .collect();
    ToolOutcome::Result(json!({"count": decisions.len(), "decisions": decisions}))
}

/// `tools/list`: the governance tools with their input schemas (reference §6).
pub fn tool_list() -> Value {
    fn tool(name: &str, description: &str, props: Value, required: &[&str]) -> Value {
        json!({
            "name": name,
            "description": description,
            "inputSchema": {"type": "object", "properties": props, "required": required}
        })
    }
    let s = |d: &str| json!({"type": "string", "description": d});
    json!([
        tool(
            "check_policy",
            "Evaluate a tool input against AxonFlow policies before execution",
            json!({
                "connector_type": s("Connector or tool type, e.g. codex.Bash"),
                "statement": s("The statement, command or input to evaluate"),
                "operation": {"type": "string", "enum": ["execute", "query"], "description": "Operation type"},
                "parameters": {"type": "object", "description": "Additional parameters"}
            }),
            &["connector_type", "statement"]
        ),
        tool(
            "check_output",
            "Scan tool output for PII and policy violations after execution",
            json!({
                "connector_type": s("Connector or tool type"),
                "message": s("The output text to scan"),
                "response_data": {"type": "array", "items": {"type": "object"}, "description": "Structured output rows"}
            }),
            &["connector_type"]
        ),
        tool(
            "audit_tool_call",
            "Record a tool call in the AxonFlow audit trail",
            json!({
                "tool_name": s("Name of the tool"),
                "input": {"type": "object", "description": "Tool input"},
                "success": {"type": "boolean", "description": "Whether the call succeeded"},
                "tool_type": s("Tool type / caller"),
                "output": {"type": "object", "description": "Tool output"},
                "error_message": s("Error message, if any"),
                "duration_ms": {"type": "integer", "description": "Duration in milliseconds"}
            }),
            &["tool_name", "input", "success"]
        ),
        tool(
            "list_policies",
            "List the active governance policies",
            json!({"category": s("Filter by category"), "severity": s("Filter by severity")}),
            &[]
        ),
        tool(
            "search_audit_events",
            "Search recent audit events",
            json!({
                "from": s("Start time (RFC 3339), default 15 minutes ago"),
                "to": s("End time (RFC 3339)"),
                "request_type": s("Filter by request type"),
                "limit": {"type": "integer", "maximum": 100, "description": "Maximum events"}
            }),
            &[]
        ),
        tool(
            "explain_decision",
            "Explain a policy decision by its decision_id",
            json!({"decision_id": s("The decision id from a check_policy result")}),
            &["decision_id"]
        ),
        tool(
            "create_override",
            "Create a time-limited override for an overridable policy",
            json!({
                "policy_id": s("Policy to override"),
                "policy_type": {"type": "string", "enum": ["static", "dynamic"], "description": "Policy type"},
                "override_reason": s("Why the override is needed"),
                "tool_signature": s("Restrict the override to one tool signature"),
                "ttl_seconds": {"type": "integer", "minimum": 60, "maximum": 86400, "default": 3600, "description": "Lifetime in seconds"}
            }),
            &["policy_id", "policy_type", "override_reason"]
        ),
        tool(
            "delete_override",
            "Delete (revoke) an override",
            json!({"override_id": s("The override to delete")}),
            &["override_id"]
        ),
        tool(
            "list_overrides",
            "List policy overrides",
            json!({
                "policy_id": s("Filter by policy"),
                "include_revoked": {"type": "boolean", "description": "Include revoked overrides"}
            }),
            &[]
        ),
        tool(
            "list_recent_decisions",
            "List recent policy decisions",
            json!({
                "since": s("Start time (RFC 3339)"),
                "decision": {"type": "string", "enum": ["allowed", "blocked", "redacted", "needs_approval", "error"], "description": "Filter by decision"},
                "policy_id": s("Filter by policy"),
                "tool_signature": s("Filter by tool signature"),
                "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Maximum decisions"}
            }),
            &[]
        )
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_first_and_last() {
        assert_eq!(mask("123-45-6789"), "1*********9");
        assert_eq!(mask("ab"), "**");
        assert_eq!(mask("abc"), "a*c");
    }
}
