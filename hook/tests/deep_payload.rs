//! Payloads nested as deeply as Codex accepts. Codex parses a tool call's arguments (and an
//! MCP server's result) with serde_json's default limit (127 levels accepted); the hook payload
//! wraps them one level deeper. A hook that parsed the whole document under the same limit saw
//! such a call as invalid JSON and allowed it unchecked.

mod support;

use support::*;

/// `{"sql": …, "pad": [[…]]}`, `depth` levels deep in all: as deep as Codex accepts when
/// `depth` is 127.
fn nested(depth: usize, key: &str, text: &str) -> Value {
    let mut pad = json!([]);
    for _ in 0..depth - 2 {
        pad = json!([pad]);
    }
    let value = json!({key: text, "pad": pad});
    let text = value.to_string();
    assert!(
        serde_json::from_str::<Value>(&text).is_ok(),
        "Codex parses it"
    );
    value
}

#[test]
fn an_mcp_call_with_arguments_as_deep_as_codex_accepts_is_checked() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    for depth in [126, 127] {
        let args = nested(depth, "sql", "DROP TABLE users;");
        let run = env.pre(&tool("mcp__db__query", args));
        assert_eq!(run.code, 2, "depth {depth}: {}", run.stderr);
        assert!(
            run.one_line().starts_with("AxonFlow policy violation: "),
            "depth {depth}"
        );
    }
    assert_eq!(agent.rpc_calls_of("check_policy").len(), 2);
}

#[test]
fn an_mcp_result_as_deep_as_codex_accepts_is_scanned() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let result = nested(127, "text", "SSN: 123-45-6789");
    let run = env.post(&post_tool(
        "mcp__db__query",
        json!({"sql": "select"}),
        result,
    ));
    // Replace mode (the default): the redacted copy replaces the MCP result.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("AxonFlow redacted sensitive data from this tool output"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("123-45-6789"), "{}", run.stderr);
    assert_eq!(agent.rpc_calls_of("check_output").len(), 1);
}

/// Ten million empty objects: 30 MiB of text, under the stdin cap, but about 740 MB once
/// parsed. The cap applies to the payload as the hook would hold it.
#[test]
fn a_payload_of_millions_of_tiny_values_counts_by_its_parsed_size() {
    let mut env = TestEnv::new();
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint())
        .set("AXONFLOW_FAIL_MODE", "closed");
    let mut response = String::with_capacity(30 * 1024 * 1024);
    response.push('[');
    response.push_str(&"{},".repeat(10_000_000));
    response.push_str("{}]");
    let payload = format!(
        r#"{{"hook_event_name":"PostToolUse","tool_name":"mcp__db__query","tool_input":{{"sql":"select"}},"tool_response":{response}}}"#
    );
    drop(response);
    let mut command = env.command(std::path::Path::new(HOOK), &["post-tool-use"]);
    command.stdin(std::process::Stdio::piped());
    let run = run_measured(
        command,
        feed_bytes(payload.into_bytes()),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.one_line().contains("larger than 32 MiB"),
        "{}",
        run.stderr
    );
    assert!(
        run.max_rss_kib < 4 * 30 * 1024,
        "peak RSS {} KiB",
        run.max_rss_kib
    );
}
