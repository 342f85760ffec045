//! `post-tool-use` in replace mode (`output_mode = "replace"`, the default) through the real
//! binary: every row of axonflow-agent.md §11.4. The model receives stderr instead of the
//! output, so the unredacted original must never appear there.

mod support;

use std::time::Duration;

use support::*;

const SSN_OUTPUT: &str = "my ssn is 123-45-6789\n";

fn scripted(text: &str) -> (StandIn, TestEnv) {
    let agent = StandIn::start(AgentConfig::default());
    agent.script(
        Match::Tool("check_output"),
        Reply::ToolResultText(text.into()),
    );
    let env = TestEnv::with_agent(&agent);
    (agent, env)
}

fn assert_withheld(run: &Run, expected: &str) {
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(run.one_line(), expected);
}

#[test]
fn a_redacted_shell_output_replaces_what_the_model_receives() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);

    let run = env.post(&post_bash("cat data", json!(SSN_OUTPUT)));

    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(
        run.stderr,
        "AxonFlow redacted sensitive data from this tool output (93 policies evaluated) [decision: dec_1]. The redacted output follows.\nmy ssn is 1*********9\n"
    );
    assert!(!run.stderr.contains("123-45-6789"));
    // The scan and the audit are sent exactly as in alert mode.
    assert_eq!(
        agent.rpc_calls_of("check_output")[0].arguments,
        json!({"connector_type":"codex.Bash","message":SSN_OUTPUT})
    );
    assert_eq!(agent.rpc_calls_of("audit_tool_call").len(), 1);
}

#[test]
fn the_redacted_text_is_passed_verbatim_and_wins_over_a_block() {
    let (_agent, env) = scripted(
        r#"{"allowed": false, "block_reason": "b", "decision_id": "dec_7", "risk_level": "high", "redacted_message": "line one\n\tline two\u0007\nline three"}"#,
    );
    let run = env.post(&post_bash("cat f", json!("x")));
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(
        run.stderr,
        "AxonFlow redacted sensitive data from this tool output (0 policies evaluated) [decision: dec_7, risk: high]. The redacted output follows.\nline one\n\tline two\u{7}\nline three\n"
    );
}

#[test]
fn the_notice_line_stays_one_line_whatever_the_decision_id() {
    let (_agent, env) =
        scripted(r#"{"allowed": true, "decision_id": "dec\nevil", "redacted_message": "r***"}"#);
    let run = env.post(&post_bash("cat f", json!("x")));
    assert_eq!(run.code, 2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "AxonFlow redacted sensitive data from this tool output (0 policies evaluated) [decision: dec evil]. The redacted output follows.",
            "r***"
        ]
    );
}

#[test]
fn a_redacted_mcp_output_is_replaced_too() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let result = json!({"content":[{"type":"text","text":"customer SSN: 123-45-6789"}]});
    let run = env.post(&post_tool(
        "mcp__pg__query",
        json!({"query":"select ssn from customers"}),
        result,
    ));
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    let (notice, rest) = run.stderr.split_once('\n').unwrap();
    assert!(notice.starts_with("AxonFlow redacted sensitive data from this tool output"));
    assert!(rest.contains("customer SSN: 1*********9"), "{rest}");
    assert!(!run.stderr.contains("123-45-6789"));
}

#[test]
fn a_blocked_output_is_withheld_with_the_reason() {
    let agent = StandIn::start(AgentConfig::default().with_output_block_policy(Policy::new(
        "tenant_no_keys",
        r"AKIA[0-9A-Z]{16}",
        "critical",
        "AWS access key in output",
    )));
    let env = TestEnv::with_agent(&agent);
    let run = env.post(&post_bash("env", json!("KEY=AKIAABCDEFGHIJKLMNOP\n")));
    assert_withheld(
        &run,
        "AxonFlow withheld this tool output: AWS access key in output (93 policies evaluated) [decision: dec_1, risk: critical]",
    );
    assert!(!run.stderr.contains("AKIAABCDEFGHIJKLMNOP"));
    assert_eq!(agent.rpc_calls_of("audit_tool_call").len(), 1);
}

#[test]
fn a_block_without_reason_uses_the_default_and_control_characters_stay_on_one_line() {
    let (agent, env) = scripted(r#"{"allowed": false}"#);
    assert_withheld(
        &env.post(&post_bash("cat f", json!("x"))),
        "AxonFlow withheld this tool output: Policy violation in tool output (0 policies evaluated)",
    );
    agent.script(
        Match::Tool("check_output"),
        Reply::ToolResultText(
            r#"{"allowed": false, "block_reason": "bad\nthing\r\u001b[31m here", "policies_evaluated": 4}"#
                .into(),
        ),
    );
    assert_withheld(
        &env.post(&post_bash("cat f", json!("x"))),
        "AxonFlow withheld this tool output: bad thing  [31m here (4 policies evaluated)",
    );
}

#[test]
fn a_redaction_that_is_not_a_non_empty_string_counts_as_none() {
    for redacted in [
        json!(""),
        json!("null"),
        json!(42),
        json!({"a": 1}),
        json!(null),
    ] {
        let text = json!({"allowed": true, "redacted_message": redacted}).to_string();
        let (_agent, env) = scripted(&text);
        env.post(&post_bash("cat f", json!("SSN: 123-45-6789")))
            .assert_silent_allow();

        let text = json!({"allowed": false, "block_reason": "r", "redacted_message": redacted})
            .to_string();
        let (_agent, env) = scripted(&text);
        assert_withheld(
            &env.post(&post_bash("cat f", json!("SSN: 123-45-6789"))),
            "AxonFlow withheld this tool output: r (0 policies evaluated)",
        );
    }
}

#[test]
fn clean_output_passes_silently() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    env.post(&post_bash("echo ran", json!("ran\n")))
        .assert_silent_allow();
    assert_eq!(agent.rpc_calls_of("check_output").len(), 1);
    assert_eq!(agent.rpc_calls_of("audit_tool_call").len(), 1);
}

#[test]
fn apply_patch_keeps_the_alert_in_replace_mode() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+SSN 123-45-6789\n*** End Patch\n";
    let run = env.post(&post_tool(
        "apply_patch",
        json!({"command": patch}),
        json!("Exit code: 0\n"),
    ));
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(run.stdout.starts_with(
        "{\"hookSpecificOutput\":{\"hookEventName\":\"PostToolUse\",\"additionalContext\":\"GOVERNANCE ALERT: PII/sensitive data detected in tool output (93 policies evaluated)."
    ));
}

#[test]
fn alert_mode_from_the_file_or_the_variable_keeps_the_governance_alert() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.write_settings("output_mode = \"alert\"\n");
    let alert = "{\"hookSpecificOutput\":{\"hookEventName\":\"PostToolUse\",\"additionalContext\":\"GOVERNANCE ALERT: PII/sensitive data detected in tool output (93 policies evaluated). You MUST use this redacted version instead of the original: SSN: 1*********9\"}}\n";
    let run = env.post(&post_bash("cat f", json!("SSN: 123-45-6789")));
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, alert, "")
    );

    // The variable wins over the file, as for every setting.
    env.set("AXONFLOW_OUTPUT_MODE", "replace");
    assert_eq!(
        env.post(&post_bash("cat f", json!("SSN: 123-45-6789")))
            .code,
        2
    );
    env.write_settings("output_mode = \"replace\"\n");
    env.set("AXONFLOW_OUTPUT_MODE", "alert");
    let run = env.post(&post_bash("cat f", json!("SSN: 123-45-6789")));
    assert_eq!((run.code, run.stdout.as_str()), (0, alert));
}

#[test]
fn an_invalid_output_mode_is_a_settings_error() {
    let mut env = TestEnv::new();
    env.set("AXONFLOW_OUTPUT_MODE", "redact");
    let run = env.post(&post_bash("ls", json!("out")));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(
        run.stderr,
        "[AxonFlow] invalid AxonFlow settings (AXONFLOW_OUTPUT_MODE must be \"replace\" or \"alert\"); tool output was not audited. Run `axonflow-codex doctor`.\n"
    );
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    assert!(run.one_line().contains("AXONFLOW_OUTPUT_MODE must be"));

    env.unset("AXONFLOW_OUTPUT_MODE");
    let file = env.write_settings("output_mode = \"Alert\"\n");
    let run = env.pre(&bash("ls"));
    assert_eq!(
        run.one_line(),
        format!("AxonFlow governance blocked: invalid AxonFlow settings (`output_mode` in {} must be \"replace\" or \"alert\"). Run `axonflow-codex doctor` to fix the configuration.", file.display())
    );
}

#[test]
fn an_unscannable_output_is_withheld_only_when_fail_mode_is_closed() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_TIMEOUT_SECONDS", "1");
    let endpoint = agent.endpoint();
    let cases = [
        (
            Reply::Raw {
                status: 503,
                headers: vec![],
                body: b"down".to_vec(),
            },
            "HTTP 503".to_string(),
        ),
        (Reply::Hang, "timed out after 1s".to_string()),
    ];
    for (reply, cause) in cases {
        for fail_mode in ["open", "closed"] {
            agent.script(Match::Tool("check_output"), reply.clone());
            env.set("AXONFLOW_FAIL_MODE", fail_mode);
            let run = env.post(&post_bash("cat f", json!(SSN_OUTPUT)));
            if fail_mode == "open" {
                run.assert_silent_allow();
            } else {
                assert_withheld(&run, &format!("AxonFlow withheld this tool output: the AxonFlow agent at {endpoint} could not be reached ({cause}) to scan it, and fail_mode is closed. Run `axonflow-codex doctor` to check the connection."));
            }
            assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
        }
    }
    let closed = closed_port_endpoint();
    env.set("AXONFLOW_ENDPOINT", &closed);
    assert_withheld(
        &env.post(&post_bash("cat f", json!(SSN_OUTPUT))),
        &format!("AxonFlow withheld this tool output: the AxonFlow agent at {closed} could not be reached (connection refused) to scan it, and fail_mode is closed. Run `axonflow-codex doctor` to check the connection."),
    );
    env.set("AXONFLOW_FAIL_MODE", "open");
    env.post(&post_bash("cat f", json!(SSN_OUTPUT)))
        .assert_silent_allow();
}

#[test]
fn the_other_rows_are_unchanged_in_replace_mode() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    // A JSON-RPC error answer (even a 5xx one), an empty or non-JSON body, a plain-text
    // result: no decision, nothing replaced.
    let replies = [
        Reply::Json {
            status: 500,
            body: json!({"jsonrpc":"2.0","id":"hook-scan","error":{"code":-32603,"message":"internal"}}),
        },
        Reply::Json {
            status: 200,
            body: json!({"jsonrpc":"2.0","id":"hook-scan","error":{"code":-32602,"message":"Unknown tool: check_output"}}),
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
        Reply::IsError("message is required".into()),
    ];
    for reply in replies {
        agent.script(Match::Tool("check_output"), reply);
        env.post(&post_bash("cat f", json!(SSN_OUTPUT)))
            .assert_silent_allow();
    }
}

#[test]
fn rejected_credentials_and_quota_keep_their_notices_in_replace_mode() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "right"));
    let mut env = TestEnv::with_agent(&agent);
    let auth = basic("id", "wrong");
    env.set("AXONFLOW_AUTH", &auth)
        .set("AXONFLOW_FAIL_MODE", "closed")
        .secret(&auth);
    let run = env.post(&post_bash("cat f", json!(SSN_OUTPUT)));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert!(run.stderr.contains("rejected the credentials (HTTP 401)"));
    // The cooldown is active now: nothing is sent, and the output is not withheld.
    agent.clear_requests();
    env.post(&post_bash("cat f", json!(SSN_OUTPUT)))
        .assert_silent_allow();
    assert!(agent.requests().is_empty());

    let agent = StandIn::start(AgentConfig::default().with_daily_quota(0));
    let env = TestEnv::with_agent(&agent);
    let run = env.post(&post_bash("cat f", json!(SSN_OUTPUT)));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert!(run.stderr.contains("[AxonFlow] Upgrade: "));
}

#[test]
fn a_redaction_of_several_megabytes_is_passed_whole_within_the_scan_bound() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    // Two megabytes of output, each line with an SSN: the redacted copy is as long.
    let output = "SSN: 123-45-6789\n".repeat(2 * 1024 * 1024 / 17);
    let run = env.post(&post_bash("cat big", json!(output)));
    assert_eq!(run.code, 2);
    let (_, redacted) = run.stderr.split_once('\n').unwrap();
    assert_eq!(redacted, output.replace("123-45-6789", "1*********9"));
    assert!(!run.stderr.contains("123-45-6789"));

    // A reply beyond the bound (1 MiB + 3 × the message) is not read: no decision, as today.
    let huge = "r".repeat(4 * 1024 * 1024);
    agent.script(
        Match::Tool("check_output"),
        Reply::ToolResultText(json!({"allowed": true, "redacted_message": huge}).to_string()),
    );
    env.post(&post_bash("cat f", json!("SSN: 123-45-6789")))
        .assert_silent_allow();
}

#[test]
fn other_tools_are_never_replaced() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let run = env.post(&post_tool(
        "Write",
        json!({"file_path":"/x","content":"SSN: 123-45-6789"}),
        json!({}),
    ));
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("GOVERNANCE ALERT"));
    env.post(&post_tool(
        "mcp__axonflow__check_policy",
        json!({"statement":"x"}),
        json!({"content":[{"type":"text","text":"SSN: 123-45-6789"}]}),
    ))
    .assert_silent_allow();
}
