//! Bytes as a hook's stdin: `Payload::parse`, then everything the hooks derive from a
//! payload and the JSON-RPC bodies they would send. No panic, and the documented contracts.
#![no_main]

use axonflow_codex_hook::payload::{Payload, ToolKind};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// The body serializes to JSON that parses back, with `field` of the arguments (a string the
/// agent must see byte for byte) unchanged. Numbers are not compared: serde_json without its
/// `float_roundtrip` feature may move a float by one ulp on the way back in.
fn round_trips(body: &Value, field: &str) {
    let bytes = serde_json::to_vec(body).expect("a request body serializes");
    let back: Value = serde_json::from_slice(&bytes).expect("a request body is JSON");
    let path = |v: &Value| v["params"]["arguments"][field].clone();
    assert_eq!(path(&back), path(body), "`{field}` survives the wire");
    assert!(path(body).is_string());
}

fuzz_target!(|data: &[u8]| {
    let Some(payload) = Payload::parse(data) else {
        return;
    };
    assert!(!payload.tool_name.is_empty());
    let kind = payload.kind();

    if let Some(statement) = payload.statement() {
        assert!(kind != ToolKind::OwnMcp, "own MCP tools are never governed");
        assert!(!matches!(statement.as_str(), "" | "null" | "{}"));
        round_trips(
            &json!({
                "jsonrpc": "2.0", "id": "hook-pre", "method": "tools/call",
                "params": {"name": "check_policy", "arguments": {
                    "connector_type": payload.connector_type(),
                    "statement": statement, "operation": "execute"}},
            }),
            "statement",
        );
    } else if matches!(kind, ToolKind::Write | ToolKind::Edit) {
        panic!("Write/Edit always have a statement (file path, newline, body)");
    }

    if let Some(message) = payload.scan_text() {
        assert!(!matches!(kind, ToolKind::OwnMcp | ToolKind::Other));
        assert!(!message.is_empty() && message != "null");
        round_trips(
            &json!({
                "jsonrpc": "2.0", "id": "hook-scan", "method": "tools/call",
                "params": {"name": "check_output", "arguments": {
                    "connector_type": payload.connector_type(), "message": message}},
            }),
            "message",
        );
    }

    let audit = payload.post_audit_arguments();
    assert_eq!(audit["tool_name"], Value::from(payload.tool_name.as_str()));
    assert!(audit["success"].is_boolean());
    assert!(audit["error_message"].is_string());
    let summary = audit["output"]["summary"]
        .as_str()
        .expect("a string summary");
    assert!(summary.chars().count() <= 500);
    round_trips(
        &json!({
            "jsonrpc": "2.0", "id": "hook-audit", "method": "tools/call",
            "params": {"name": "audit_tool_call", "arguments": audit},
        }),
        "tool_name",
    );
});
