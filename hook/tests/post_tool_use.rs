//! `post-tool-use` through the real binary in alert mode (`AXONFLOW_OUTPUT_MODE=alert`, the
//! first release line's behaviour, byte for byte): audit + scan, the outcome table
//! (axonflow-agent.md §11.3), and that it never blocks. Replace mode: `replace_mode.rs`.

mod support;

use std::time::Duration;

use support::*;

/// The stand-in's environment in alert mode: these tests pin §11.3 exactly as it was.
fn alert_env(agent: &StandIn) -> TestEnv {
    let mut env = TestEnv::with_agent(agent);
    env.set("AXONFLOW_OUTPUT_MODE", "alert");
    env
}

fn alert(stdout: &str) -> String {
    let document: Value =
        serde_json::from_str(stdout.trim_end()).expect("stdout is one JSON document");
    assert_eq!(
        document["hookSpecificOutput"]["hookEventName"],
        json!("PostToolUse")
    );
    document["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn pii_in_a_codex_shell_output_becomes_a_governance_alert() {
    let agent = StandIn::start(AgentConfig::default());
    let env = alert_env(&agent);

    let run = env.post(&post_bash("cat data", json!("SSN: 123-45-6789\n")));

    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(
        run.stdout,
        "{\"hookSpecificOutput\":{\"hookEventName\":\"PostToolUse\",\"additionalContext\":\"GOVERNANCE ALERT: PII/sensitive data detected in tool output (93 policies evaluated). You MUST use this redacted version instead of the original: SSN: 1*********9\\n\"}}\n"
    );
    let scan = &agent.rpc_calls_of("check_output")[0];
    assert_eq!(scan.id, json!("hook-scan"));
    assert_eq!(
        scan.arguments,
        json!({"connector_type":"codex.Bash","message":"SSN: 123-45-6789\n"})
    );
    let audit = &agent.rpc_calls_of("audit_tool_call")[0];
    assert_eq!(audit.id, json!("hook-audit"));
    assert_eq!(
        audit.arguments,
        json!({"tool_name":"Bash","caller_name":"codex","tool_type":"codex","input":{"command":"cat data"},
            "output":{"summary":"SSN: 123-45-6789\n"},"success":true,"error_message":""})
    );
    assert_eq!(
        audit.header("X-Axonflow-Client"),
        Some("codex-plugin/2.0.0")
    );
}

#[test]
fn clean_output_is_audited_and_scanned_silently() {
    let agent = StandIn::start(AgentConfig::default());
    let env = alert_env(&agent);
    env.post(&post_bash("echo ran", json!("ran\n")))
        .assert_silent_allow();
    let mut tools: Vec<String> = agent.rpc_calls().into_iter().map(|c| c.tool).collect();
    tools.sort();
    assert_eq!(tools, ["audit_tool_call", "check_output"]);
}

#[test]
fn blocked_output_becomes_the_block_alert() {
    let agent = StandIn::start(AgentConfig::default().with_output_block_policy(Policy::new(
        "tenant_no_keys",
        r"AKIA[0-9A-Z]{16}",
        "critical",
        "AWS access key in output",
    )));
    let env = alert_env(&agent);
    let run = env.post(&post_bash("env", json!("KEY=AKIAABCDEFGHIJKLMNOP\n")));
    assert_eq!(
        alert(&run.stdout),
        "GOVERNANCE ALERT: Tool output blocked by policy: AWS access key in output. Do not use or reference the blocked output in your response."
    );
    agent.script(
        Match::Tool("check_output"),
        Reply::ToolResultText("{\n  \"allowed\": false\n}".into()),
    );
    let run = env.post(&post_bash("env", json!("x")));
    assert_eq!(
        alert(&run.stdout),
        "GOVERNANCE ALERT: Tool output blocked by policy: Policy violation in tool output. Do not use or reference the blocked output in your response."
    );
}

#[test]
fn redaction_wins_over_a_block() {
    let agent = StandIn::start(AgentConfig::default());
    let env = alert_env(&agent);
    agent.script(
        Match::Tool("check_output"),
        Reply::ToolResultText("{\n  \"allowed\": false,\n  \"block_reason\": \"b\",\n  \"redacted_message\": \"r***\"\n}".into()),
    );
    let run = env.post(&post_bash("x", json!("rest")));
    assert_eq!(
        alert(&run.stdout),
        "GOVERNANCE ALERT: PII/sensitive data detected in tool output (0 policies evaluated). You MUST use this redacted version instead of the original: r***"
    );
    agent.script(
        Match::Tool("check_output"),
        Reply::ToolResultText(
            "{\n  \"allowed\": true,\n  \"redacted_message\": \"null\"\n}".into(),
        ),
    );
    env.post(&post_bash("x", json!("rest")))
        .assert_silent_allow();
}

#[test]
fn failures_and_non_answers_stay_silent() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = alert_env(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    let replies = [
        Reply::Raw {
            status: 500,
            headers: vec![],
            body: b"oops".to_vec(),
        },
        Reply::Raw {
            status: 200,
            headers: vec![],
            body: vec![],
        },
        Reply::Raw {
            status: 200,
            headers: vec![],
            body: b"not json".to_vec(),
        },
        Reply::Json {
            status: 200,
            body: json!({"jsonrpc":"2.0","id":"hook-scan","error":{"code":-32602,"message":"Unknown tool: check_output"}}),
        },
        Reply::IsError("message is required".into()),
        Reply::Close,
    ];
    for reply in replies {
        agent.script(Match::Tool("check_output"), reply);
        env.post(&post_bash("cat f", json!("SSN: 123-45-6789")))
            .assert_silent_allow();
    }
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    env.post(&post_bash("cat f", json!("SSN: 123-45-6789")))
        .assert_silent_allow();
}

#[test]
fn scan_timeout_and_audit_budget_bound_the_run() {
    let agent = StandIn::start(AgentConfig::default());
    agent.script(Match::Tool("check_output"), Reply::Hang);
    agent.script(Match::Tool("audit_tool_call"), Reply::Hang);
    let mut env = alert_env(&agent);
    env.set("AXONFLOW_TIMEOUT_SECONDS", "1");
    let run = env.post(&post_bash("cat f", json!("x")));
    run.assert_silent_allow();
    assert!(
        run.elapsed < Duration::from_millis(1900),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn rejected_credentials_throttle_and_notify_once_a_day() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "right"));
    let mut env = alert_env(&agent);
    let auth = basic("id", "wrong");
    env.set("AXONFLOW_AUTH", &auth).secret(&auth);

    let run = env.post(&post_bash("ls", json!("out")));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(
        run.stderr,
        format!("[AxonFlow] The AxonFlow agent at {} rejected the credentials (HTTP 401); governed tool calls are blocked until this is fixed. Run `axonflow-codex doctor`.\n", agent.endpoint())
    );
    assert!(std::fs::read_to_string(env.state_file("throttle-until"))
        .unwrap()
        .ends_with(" auth_failure\n"));

    // The next PreToolUse blocks locally; the next PostToolUse sends nothing.
    agent.clear_requests();
    assert_eq!(env.pre(&bash("ls")).code, 2);
    env.post(&post_bash("ls", json!("out")))
        .assert_silent_allow();
    assert!(agent.requests().is_empty());

    // Once a day: a fresh throttle-free run the same day does not repeat the notice.
    std::fs::remove_file(env.state_file("throttle-until")).unwrap();
    let run = env.post(&post_bash("ls", json!("out")));
    assert_eq!(run.stderr, "");
}

#[test]
fn rejected_user_token_adds_the_second_line() {
    let agent = StandIn::start(AgentConfig::default().with_valid_user_tokens(["ok"]));
    let mut env = alert_env(&agent);
    env.set("AXONFLOW_USER_TOKEN", "stale-user-token")
        .secret("stale-user-token");
    let run = env.post(&post_bash("ls", json!("out")));
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1], "[AxonFlow] A per-user token is configured (AXONFLOW_USER_TOKEN / user-token.json) and was sent as X-User-Token — if it is expired, revoked, or minted for a different org, the platform rejects every governed request; ask your admin to rotate it, or remove it to fall back to shared-credential attribution.");
}

#[test]
fn quota_envelope_throttles_and_prompts() {
    let agent = StandIn::start(AgentConfig::default().with_daily_quota(0));
    let env = alert_env(&agent);
    let run = env.post(&post_bash("ls", json!("out")));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(run.stderr.lines().count(), 2);
    assert!(run
        .stderr
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("[AxonFlow] Upgrade: "));
    assert!(std::fs::read_to_string(env.state_file("throttle-until"))
        .unwrap()
        .ends_with(" daily_quota\n"));
    agent.clear_requests();
    env.post(&post_bash("ls", json!("out")))
        .assert_silent_allow();
    assert!(agent.requests().is_empty(), "throttled: nothing sent");
}

#[test]
fn settings_error_is_one_line_and_never_blocks() {
    let mut env = TestEnv::new();
    env.set("AXONFLOW_TIMEOUT_SECONDS", "soon");
    let run = env.post(&post_bash("ls", json!("out")));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(
        run.stderr,
        "[AxonFlow] invalid AxonFlow settings (AXONFLOW_TIMEOUT_SECONDS must be a positive whole number of seconds); tool output was not audited. Run `axonflow-codex doctor`.\n"
    );
}

#[test]
fn own_mcp_tools_are_not_audited() {
    let agent = StandIn::start(AgentConfig::default());
    let env = alert_env(&agent);
    env.post(&post_tool(
        "mcp__axonflow__check_policy",
        json!({"statement":"x"}),
        json!({"content":[]}),
    ))
    .assert_silent_allow();
    assert!(agent.requests().is_empty());
}

#[test]
fn scan_text_and_audit_per_tool() {
    let agent = StandIn::start(AgentConfig::default());
    let env = alert_env(&agent);
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+SSN 123-45-6789\n*** End Patch\n";
    let mcp_result = json!({"content":[{"type":"text","text":"{\"rows\": 1}"}]});
    let cases = [
        // apply_patch: the patch being written is scanned; the result string is the summary.
        (post_tool("apply_patch", json!({"command": patch}), json!("Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following files:\nA a.txt\n")),
         Some(patch.to_string())),
        (post_tool("mcp__pg__query", json!({"query":"select 1"}), mcp_result.clone()),
         Some(mcp_result.to_string())),
        // Legacy object response: stdout, else output.
        (post_bash("ls", json!({"stdout":"","output":"from output","stderr":"","exitCode":0})), Some("from output".to_string())),
        // No output but a redirect: the command itself is scanned.
        (post_bash("echo 123-45-6789 > f.txt", json!({"stdout":"","stderr":""})), Some("echo 123-45-6789 > f.txt".to_string())),
        (post_bash("true", json!({"stdout":null})), None),
        (post_tool("Write", json!({"file_path":"/x","content":"body"}), json!({"ok":true})), Some("body".to_string())),
        (post_tool("Edit", json!({"file_path":"/x","new_string":"new"}), json!({})), Some("new".to_string())),
        (post_tool("NotebookEdit", json!({"content":"cell"}), json!({})), Some("cell".to_string())),
        (post_tool("WebSearch", json!({"q":"x"}), json!("results")), None),
        (post_bash("ls", json!("")), None),
    ];
    for (payload, message) in cases {
        agent.clear_requests();
        let run = env.post(&payload);
        assert_eq!(run.code, 0);
        let scans = agent.rpc_calls_of("check_output");
        assert_eq!(
            scans
                .first()
                .map(|s| s.arg_str("message").unwrap().to_string()),
            message,
            "{payload}"
        );
        if let Some(scan) = scans.first() {
            assert_eq!(
                scan.arg_str("connector_type").unwrap(),
                format!("codex.{}", payload["tool_name"].as_str().unwrap())
            );
        }
        assert_eq!(
            agent.rpc_calls_of("audit_tool_call").len(),
            1,
            "always audited: {payload}"
        );
    }
}

#[test]
fn audit_summary_and_status_from_object_responses() {
    let agent = StandIn::start(AgentConfig::default());
    let env = alert_env(&agent);
    let long = "é".repeat(600);
    let cases = [
        (json!(long), json!(true), "é".repeat(500), ""),
        (
            json!({"stdout":"o","stderr":"warn","exitCode":0}),
            json!(true),
            "{\"stdout\":\"o\",\"stderr\":\"warn\",\"exitCode\":0}".to_string(),
            "warn",
        ),
        (
            json!({"stdout":"o","stderr":"bad","exitCode":2,"success":true}),
            json!(false),
            "{\"stdout\":\"o\",\"stderr\":\"bad\",\"exitCode\":2,\"success\":true}".to_string(),
            "bad",
        ),
        (
            json!({"success":false,"exit_code":0}),
            json!(false),
            "{\"success\":false,\"exit_code\":0}".to_string(),
            "",
        ),
        (Value::Null, json!(true), "{}".to_string(), ""),
    ];
    for (response, success, summary, error_message) in cases {
        agent.clear_requests();
        env.post(&post_bash("cmd", response.clone()));
        let audit = &agent.rpc_calls_of("audit_tool_call")[0];
        assert_eq!(audit.arguments["success"], success, "{response}");
        assert_eq!(audit.arguments["output"]["summary"], json!(summary));
        assert_eq!(audit.arguments["error_message"], json!(error_message));
    }
}
