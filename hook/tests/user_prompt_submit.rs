//! `user-prompt-submit` through the real binary: every row of axonflow-agent.md §11b. A block
//! is exit 2 with exactly one stderr line starting `AxonFlow blocked this prompt:`.

mod support;

use support::*;

fn prompt(text: &str) -> Value {
    json!({
        "session_id": "01a20c54-0e20-7e61-887d-ad77fd6dc623",
        "turn_id": "01a20c54-0e34-79a2-9f41-ee0f9e527989",
        "transcript_path": "/tmp/rollout.jsonl",
        "cwd": "/tmp",
        "hook_event_name": "UserPromptSubmit",
        "model": "gpt-5.5",
        "permission_mode": "bypassPermissions",
        "prompt": text
    })
}

fn submit(env: &TestEnv, payload: &Value) -> Run {
    env.run(&["user-prompt-submit"], payload.to_string().as_bytes())
}

fn assert_blocked(run: &Run, expected: &str) {
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(run.one_line(), expected);
}

#[test]
fn a_prompt_with_an_ssn_is_blocked_with_the_redacted_version() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let run = submit(
        &env,
        &prompt("my ssn is 123-45-6789,\nplease file my taxes"),
    );
    assert_blocked(
        &run,
        "AxonFlow blocked this prompt: it contains sensitive data (93 policies evaluated). Send this redacted version instead: my ssn is 1*********9, please file my taxes",
    );
    let calls = agent.rpc_calls();
    assert_eq!(calls.len(), 1, "one scan, no audit");
    assert_eq!(calls[0].tool, "check_output");
    assert_eq!(calls[0].id, json!("hook-prompt"));
    assert_eq!(
        calls[0].arguments,
        json!({"connector_type":"codex.UserPromptSubmit","message":"my ssn is 123-45-6789,\nplease file my taxes"})
    );
    assert_eq!(
        calls[0].header("X-Axonflow-Client"),
        Some("codex-plugin/2.0.0")
    );
}

#[test]
fn a_harmless_prompt_passes_silently_and_is_not_audited() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    submit(&env, &prompt("write a haiku about rust")).assert_silent_allow();
    let tools: Vec<String> = agent.rpc_calls().into_iter().map(|c| c.tool).collect();
    assert_eq!(tools, ["check_output"]);
}

#[test]
fn a_blocked_prompt_names_the_reason_on_one_line() {
    let agent = StandIn::start(AgentConfig::default().with_output_block_policy(Policy::new(
        "tenant_no_keys",
        r"AKIA[0-9A-Z]{16}",
        "critical",
        "AWS access key",
    )));
    let env = TestEnv::with_agent(&agent);
    assert_blocked(
        &submit(&env, &prompt("use key AKIAABCDEFGHIJKLMNOP")),
        "AxonFlow blocked this prompt: AWS access key",
    );
    for (text, expected) in [
        (r#"{"allowed": false}"#, "AxonFlow blocked this prompt: Policy violation in prompt"),
        (
            r#"{"allowed": false, "block_reason": "multi\nline\u001b reason"}"#,
            "AxonFlow blocked this prompt: multi line  reason",
        ),
        // A redaction wins over a block, and is made single-line.
        (
            r#"{"allowed": false, "block_reason": "b", "redacted_message": "a\n***", "policies_evaluated": 5}"#,
            "AxonFlow blocked this prompt: it contains sensitive data (5 policies evaluated). Send this redacted version instead: a ***",
        ),
    ] {
        agent.script(Match::Tool("check_output"), Reply::ToolResultText(text.into()));
        assert_blocked(&submit(&env, &prompt("anything")), expected);
    }
}

#[test]
fn a_redaction_that_is_not_a_non_empty_string_counts_as_none() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    for redacted in [json!(""), json!("null"), json!(7), json!([1]), json!(null)] {
        let text = json!({"allowed": true, "redacted_message": redacted}).to_string();
        agent.script(Match::Tool("check_output"), Reply::ToolResultText(text));
        submit(&env, &prompt("my ssn is 123-45-6789")).assert_silent_allow();
    }
}

#[test]
fn empty_or_malformed_input_allows_without_a_request() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    // Even a settings error does not matter when there is nothing to check.
    env.set("AXONFLOW_TIMEOUT_SECONDS", "soon");
    for input in [
        prompt("").to_string(),
        json!({"hook_event_name": "UserPromptSubmit"}).to_string(),
        json!({"prompt": 42}).to_string(),
        json!({"prompt": null}).to_string(),
        json!(["prompt"]).to_string(),
        "{\"prompt\":".to_string(),
        String::new(),
    ] {
        env.run(&["user-prompt-submit"], input.as_bytes())
            .assert_silent_allow();
    }
    assert!(agent.requests().is_empty());
}

#[test]
fn a_settings_error_blocks_with_the_config_line() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "sometimes");
    assert_blocked(
        &submit(&env, &prompt("hello")),
        "AxonFlow governance blocked: invalid AxonFlow settings (AXONFLOW_FAIL_MODE must be \"open\" or \"closed\"). Run `axonflow-codex doctor` to fix the configuration.",
    );
    assert!(agent.requests().is_empty());
}

#[test]
fn rejected_credentials_block_then_the_cooldown_blocks_locally() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "right"));
    let mut env = TestEnv::with_agent(&agent);
    let auth = basic("id", "wrong");
    env.set("AXONFLOW_AUTH", &auth).secret(&auth);
    let endpoint = agent.endpoint();
    assert_blocked(
        &submit(&env, &prompt("hello")),
        &format!("AxonFlow governance blocked: the AxonFlow agent at {endpoint} rejected the credentials (HTTP 401). Run `axonflow-codex doctor` to fix the configuration."),
    );
    assert!(std::fs::read_to_string(env.state_file("throttle-until"))
        .unwrap()
        .ends_with(" auth_failure\n"));
    agent.clear_requests();
    let run = submit(&env, &prompt("hello"));
    assert_eq!(run.code, 2);
    assert!(run.one_line().starts_with(&format!(
        "AxonFlow governance blocked: the AxonFlow agent at {endpoint} rejected the credentials (HTTP 401) and the auth-failure cooldown is active until "
    )));
    assert!(agent.requests().is_empty(), "the cooldown sends nothing");
}

#[test]
fn a_tier_throttle_allows_without_a_request() {
    let agent = StandIn::start(AgentConfig::default().with_daily_quota(0));
    let env = TestEnv::with_agent(&agent);
    let run = submit(&env, &prompt("my ssn is 123-45-6789"));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert!(
        run.stderr.contains("[AxonFlow] Upgrade: "),
        "{}",
        run.stderr
    );
    assert!(std::fs::read_to_string(env.state_file("throttle-until"))
        .unwrap()
        .ends_with(" daily_quota\n"));
    agent.clear_requests();
    submit(&env, &prompt("my ssn is 123-45-6789")).assert_silent_allow();
    assert!(agent.requests().is_empty());
}

#[test]
fn an_unreachable_agent_follows_fail_mode() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_TIMEOUT_SECONDS", "1");
    let endpoint = agent.endpoint();
    for (reply, cause) in [
        (
            Reply::Raw {
                status: 502,
                headers: vec![],
                body: b"bad gateway".to_vec(),
            },
            "HTTP 502",
        ),
        (Reply::Hang, "timed out after 1s"),
    ] {
        agent.script(Match::Tool("check_output"), reply.clone());
        env.set("AXONFLOW_FAIL_MODE", "open");
        submit(&env, &prompt("hello")).assert_silent_allow();
        agent.script(Match::Tool("check_output"), reply);
        env.set("AXONFLOW_FAIL_MODE", "closed");
        assert_blocked(
            &submit(&env, &prompt("hello")),
            &format!("AxonFlow governance blocked: the AxonFlow agent at {endpoint} could not be reached ({cause}) and fail_mode is closed. Run `axonflow-codex doctor` to check the connection."),
        );
    }
}

#[test]
fn json_rpc_errors_follow_the_pre_tool_use_rows() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    agent.script(
        Match::Tool("check_output"),
        Reply::Json {
            status: 200,
            body: json!({"jsonrpc":"2.0","id":"hook-prompt","error":{"code":-32602,"message":"Unknown tool: check_output"}}),
        },
    );
    assert_blocked(
        &submit(&env, &prompt("hello")),
        "AxonFlow governance blocked: Unknown tool: check_output (code -32602). Fix AxonFlow configuration to restore tool access.",
    );
    agent.script(
        Match::Tool("check_output"),
        Reply::Json {
            status: 200,
            body: json!({"jsonrpc":"2.0","id":"hook-prompt","error":{"code":-32603,"message":"internal"}}),
        },
    );
    submit(&env, &prompt("hello")).assert_silent_allow();
    agent.script(Match::Tool("check_output"), Reply::IsError("oops".into()));
    submit(&env, &prompt("hello")).assert_silent_allow();
}

#[test]
fn a_long_prompt_is_sent_whole_and_its_redaction_read_whole() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let text = format!("{}my ssn is 123-45-6789", "x".repeat(2 * 1024 * 1024));
    let run = submit(&env, &prompt(&text));
    assert_eq!(run.code, 2);
    let line = run.one_line();
    assert!(line.ends_with("my ssn is 1*********9"));
    assert!(!line.contains("123-45-6789"));
    assert_eq!(
        agent.rpc_calls_of("check_output")[0].arg_str("message"),
        Some(text.as_str())
    );
}

#[test]
fn a_prompt_over_the_stdin_cap_follows_fail_mode() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    let huge = prompt(&"x".repeat(33 * 1024 * 1024)).to_string();
    env.set("AXONFLOW_FAIL_MODE", "closed");
    let run = env.run(&["user-prompt-submit"], huge.as_bytes());
    assert_blocked(
        &run,
        "AxonFlow blocked this prompt: it is larger than 32 MiB and could not be checked, and fail_mode is closed.",
    );
    env.set("AXONFLOW_FAIL_MODE", "open");
    env.run(&["user-prompt-submit"], huge.as_bytes())
        .assert_silent_allow();
    assert!(agent.requests().is_empty(), "nothing was sent");
}
