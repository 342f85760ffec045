//! `pre-tool-use` through the real binary against the agent stand-in: every row of the
//! decision table (axonflow-agent.md §10.3), the block lines, the requests and headers.

mod support;

use std::time::Duration;

use insta::assert_snapshot;
use support::*;

const DROP: &str = "psql -c \"DROP TABLE users; --\"";

fn decision_filters() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"dec_[0-9A-Za-z_]+", "[DECISION]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "[AGENT]");
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[DEADLINE]");
    settings
}

// ---- G: allowed ------------------------------------------------------------------------

#[test]
fn allowed_command_exits_zero_silently_after_one_check_policy() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);

    env.pre(&bash("ls -la")).assert_silent_allow();

    let requests = agent.requests();
    assert_eq!(requests.len(), 1, "exactly one request, no initialize");
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/api/v1/mcp-server")
    );
    assert_eq!(
        request.json.clone().unwrap(),
        json!({"jsonrpc":"2.0","id":"hook-pre","method":"tools/call","params":{"name":"check_policy",
            "arguments":{"connector_type":"codex.Bash","statement":"ls -la","operation":"execute"}}})
    );
    // Key order on the wire is the documented one.
    assert!(request.body_text().starts_with(
        r#"{"jsonrpc":"2.0","id":"hook-pre","method":"tools/call","params":{"name":"check_policy","arguments":{"connector_type":"codex.Bash","statement":"ls -la","operation":"execute"}}}"#
    ));
}

#[test]
fn unconfigured_request_carries_exactly_the_documented_headers() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    env.pre(&bash("ls")).assert_silent_allow();

    let request = &agent.requests()[0];
    let mut names: Vec<String> = request
        .header_names()
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .filter(|n| n != "accept-encoding")
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "accept",
            "content-length",
            "content-type",
            "host",
            "user-agent",
            "x-axonflow-client"
        ]
    );
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert_eq!(request.header("Accept"), Some("application/json"));
    assert_eq!(
        request.header("X-Axonflow-Client"),
        Some("codex-plugin/2.0.0")
    );
    assert!(
        request.headers.iter().all(|(_, v)| !v.is_empty()),
        "never an empty header"
    );
}

#[test]
fn row_g_non_decisions_allow_even_when_fail_mode_is_closed() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    for text in [
        "policy evaluation temporarily unavailable",
        "[1,2]",
        "{\n  \"decision_id\": \"d\"\n}",
        "{\n  \"allowed\": \"false\"\n}",
        "{\n  \"allowed\": null\n}",
    ] {
        agent.script(
            Match::Tool("check_policy"),
            Reply::ToolResultText(text.into()),
        );
        env.pre(&bash(DROP)).assert_silent_allow();
    }
    agent.script(
        Match::Tool("check_policy"),
        Reply::IsError("policy evaluation temporarily unavailable".into()),
    );
    env.pre(&bash(DROP)).assert_silent_allow();
    assert!(agent.rpc_calls_of("audit_tool_call").is_empty());
}

// ---- H: policy violation ------------------------------------------------------------------

#[test]
fn row_h_violation_blocks_with_one_line_and_audits_the_attempt() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);

    let run = env.pre(&bash(DROP));

    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    decision_filters().bind(|| {
        assert_snapshot!(run.one_line(), @"AxonFlow policy violation: Detected SQL injection pattern (93 policies evaluated) [decision: [DECISION], risk: high, override available via explain_decision MCP tool]");
    });
    let calls = agent.rpc_calls();
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.id.as_str().unwrap(), c.tool.as_str()))
            .collect::<Vec<_>>(),
        [
            ("hook-pre", "check_policy"),
            ("hook-audit-blocked", "audit_tool_call")
        ]
    );
    assert_eq!(
        calls[1].arguments,
        json!({"tool_name":"Bash","caller_name":"codex","tool_type":"codex",
            "input":{"statement":DROP},
            "output":{"policy_decision":"blocked","block_reason":"Detected SQL injection pattern","policies_evaluated":93},
            "success":false,"error_message":"Blocked by policy: Detected SQL injection pattern"})
    );
    assert_eq!(
        calls[1].header("X-Axonflow-Client"),
        Some("codex-plugin/2.0.0")
    );
}

#[test]
fn row_h_block_line_variants() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let cases = [
        (json!({"allowed":false,"block_reason":"Test policy violation","policies_evaluated":10}),
         "AxonFlow policy violation: Test policy violation (10 policies evaluated)"),
        (json!({"allowed":false,"block_reason":"R","decision_id":"dec_2","risk_level":"critical","override_available":true,"override_existing_id":"ov_9","policies_evaluated":3}),
         "AxonFlow policy violation: R (3 policies evaluated) [decision: dec_2, risk: critical, active override: ov_9]"),
        (json!({"allowed":false,"block_reason":"R","decision_id":"dec_3"}),
         "AxonFlow policy violation: R (0 policies evaluated) [decision: dec_3]"),
        (json!({"allowed":false,"policies_evaluated":"7"}),
         "AxonFlow policy violation:  (0 policies evaluated)"),
        (json!({"allowed":false,"block_reason":"line one\nline two","policies_evaluated":1}),
         "AxonFlow policy violation: line one line two (1 policies evaluated)"),
    ];
    for (result, expected) in cases {
        agent.script(
            Match::Tool("check_policy"),
            Reply::ToolResultText(serde_json::to_string_pretty(&result).unwrap()),
        );
        let run = env.pre(&bash("anything"));
        assert_eq!((run.code, run.one_line()), (2, expected));
    }
    // policies_evaluated is a JSON number in the audit even when the agent sent a string.
    let audits = agent.rpc_calls_of("audit_tool_call");
    assert_eq!(
        audits[3].arguments["output"]["policies_evaluated"],
        json!(0)
    );
    assert_eq!(audits[3].arguments["output"]["block_reason"], json!(""));
}

#[test]
fn row_h_active_override_lets_the_call_through() {
    let agent =
        StandIn::start(AgentConfig::default().with_active_override("sys_sqli_drop_table", "ov_1"));
    let env = TestEnv::with_agent(&agent);
    env.pre(&bash("psql -c 'DROP TABLE t'"))
        .assert_silent_allow();
}

#[test]
fn row_h_blocked_audit_is_bounded_by_the_side_budget() {
    let agent = StandIn::start(AgentConfig::default());
    agent.script(Match::Tool("audit_tool_call"), Reply::Hang);
    let env = TestEnv::with_agent(&agent);
    let run = env.pre(&bash(DROP));
    assert_eq!(run.code, 2);
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
    assert!(
        run.elapsed >= Duration::from_secs(3),
        "the audit was given its 3 s"
    );
}

// ---- A: unreachable -------------------------------------------------------------------------

#[test]
fn row_a_connection_refused_follows_fail_mode() {
    let mut env = TestEnv::new();
    let endpoint = closed_port_endpoint();
    env.set("AXONFLOW_ENDPOINT", &endpoint);
    env.pre(&bash(DROP)).assert_silent_allow();

    env.set("AXONFLOW_FAIL_MODE", "closed");
    let run = env.pre(&bash(DROP));
    assert_eq!(run.code, 2);
    assert_eq!(
        run.one_line(),
        format!("AxonFlow governance blocked: the AxonFlow agent at {endpoint} could not be reached (connection refused) and fail_mode is closed. Run `axonflow-codex doctor` to check the connection.")
    );
}

#[test]
fn row_a_fail_mode_closed_from_the_settings_file() {
    let env = TestEnv::new();
    env.write_settings(&format!(
        "endpoint = \"{}\"\nfail_mode = \"closed\"\n",
        closed_port_endpoint()
    ));
    assert_eq!(env.pre(&bash("ls")).code, 2);
}

#[test]
fn row_a_timeout_is_bounded_and_named() {
    let agent = StandIn::start(AgentConfig::default());
    agent.script(Match::Tool("check_policy"), Reply::Hang);
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_TIMEOUT_SECONDS", "1")
        .set("AXONFLOW_FAIL_MODE", "closed");
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    assert!(
        run.one_line()
            .contains("could not be reached (timed out after 1s)"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(2),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn row_a_stalled_body_times_out() {
    let agent = StandIn::start(AgentConfig::default());
    agent.script(Match::Tool("check_policy"), Reply::HeadersThenStall);
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_TIMEOUT_SECONDS", "1");
    let run = env.pre(&bash("ls"));
    run.assert_silent_allow();
    assert!(
        run.elapsed < Duration::from_secs(2),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn row_a_server_errors_without_rpc_error_follow_fail_mode() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    agent.script(
        Match::Tool("check_policy"),
        Reply::Raw {
            status: 502,
            headers: vec![],
            body: b"<html>Bad Gateway</html>".to_vec(),
        },
    );
    env.pre(&bash("ls")).assert_silent_allow();

    env.set("AXONFLOW_FAIL_MODE", "closed");
    for (status, body) in [
        (502, &b"<html>Bad Gateway</html>"[..]),
        (500, b""),
        (503, b"{\"error\":\"down\"}"),
    ] {
        agent.script(
            Match::Tool("check_policy"),
            Reply::Raw {
                status,
                headers: vec![],
                body: body.to_vec(),
            },
        );
        let run = env.pre(&bash("ls"));
        assert_eq!(run.code, 2);
        assert!(
            run.one_line().contains(&format!(
                "could not be reached (HTTP {status}) and fail_mode is closed"
            )),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn row_a_dropped_connection_and_tls_failure_follow_fail_mode() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    agent.script(Match::Tool("check_policy"), Reply::Close);
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    assert!(
        run.one_line()
            .contains("could not be reached (connection reset)"),
        "{}",
        run.stderr
    );

    // https:// to a plain-HTTP server that answers the ClientHello with an HTTP 400 (as
    // nginx does) fails the handshake.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        if let Ok((mut stream, _)) = plain.accept() {
            let mut buffer = [0u8; 512];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    env.set("AXONFLOW_ENDPOINT", &format!("https://127.0.0.1:{port}"));
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    assert!(
        run.one_line().contains("could not be reached (TLS error)"),
        "{}",
        run.stderr
    );
}

// ---- B: tier limit ---------------------------------------------------------------------------

#[test]
fn row_b_quota_envelope_allows_throttles_and_prompts_once_a_day() {
    let agent = StandIn::start(
        AgentConfig::default()
            .with_daily_quota(0)
            .with_quota_resets_at("2099-01-01T00:00:00Z"),
    );
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");

    let run = env.pre(&bash(DROP));
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(lines[0].starts_with("[AxonFlow] ") && lines[0].len() > 12);
    // The wording and buy URL are the envelope's, not the built-in fallbacks.
    assert!(!lines[0].contains("Free tier limit reached on AxonFlow. Pro removes this cap."));
    assert!(
        lines[1].starts_with("[AxonFlow] Upgrade: https://getaxonflow.com/pricing/?"),
        "{}",
        lines[1]
    );
    // resets_at is in 2099: the throttle is capped at a day.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stamp = std::fs::read_to_string(env.state_file("throttle-until")).unwrap();
    let (until, reason) = stamp.trim_end().split_once(' ').unwrap();
    let until: u64 = until.parse().unwrap();
    assert!((now + 86_399..=now + 86_402).contains(&until), "{stamp}");
    assert_eq!(reason, "daily_quota");
    assert!(
        agent.rpc_calls_of("audit_tool_call").is_empty(),
        "no audit on a tier limit"
    );

    // Throttled: no request, allowed, and the prompt is not repeated today.
    agent.clear_requests();
    env.pre(&bash(DROP)).assert_silent_allow();
    assert!(agent.requests().is_empty());
}

#[test]
fn row_b_envelope_at_body_root_with_retry_after() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    std::fs::create_dir_all(env.state_file("")).unwrap();
    std::fs::write(env.state_file("upgrade-prompt-last-shown"), "2000-01-01\n").unwrap();
    agent.script(
        Match::Tool("check_policy"),
        Reply::Raw {
            status: 403,
            headers: vec![("Retry-After".into(), "120".into()), ("Content-Type".into(), "application/json".into())],
            body: br#"{"error":"Feature requires Pro","limit_type":"feature_pro_only","tier":"free","upgrade":{"tier":"Pro","wording":"Pro unlocks this.","buy_url":"https://example.test/buy"}}"#.to_vec(),
        },
    );
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stderr,
        "[AxonFlow] Pro unlocks this.\n[AxonFlow] Upgrade: https://example.test/buy\n"
    );
    let stamp = std::fs::read_to_string(env.state_file("throttle-until")).unwrap();
    let (deadline, reason) = stamp.trim_end().split_once(' ').unwrap();
    let deadline: u64 = deadline.parse().unwrap();
    assert!((before + 119..=before + 122).contains(&deadline), "{stamp}");
    assert_eq!(reason, "feature_pro_only");
}

#[test]
fn row_b_429_without_envelope_falls_through() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    agent.script(
        Match::Tool("check_policy"),
        Reply::Json {
            status: 429,
            body: tool_text(
                "hook-pre",
                "{\n  \"allowed\": false,\n  \"block_reason\": \"B\"\n}",
            ),
        },
    );
    let run = env.pre(&bash("ls"));
    assert_eq!(
        (run.code, run.one_line()),
        (2, "AxonFlow policy violation: B (0 policies evaluated)")
    );
    assert!(!env.state_file("throttle-until").exists());
}

// ---- C: rejected credentials ----------------------------------------------------------------------

#[test]
fn row_c_401_blocks_and_starts_the_cooldown() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "right"));
    let mut env = TestEnv::with_agent(&agent);
    let auth = basic("id", "wrong-secret-value");
    env.set("AXONFLOW_AUTH", &auth)
        .secret(&auth)
        .secret("wrong-secret-value");

    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    decision_filters().bind(|| {
        assert_snapshot!(run.one_line(), @"AxonFlow governance blocked: the AxonFlow agent at http://[AGENT] rejected the credentials (HTTP 401). Run `axonflow-codex doctor` to fix the configuration.");
    });
    let stamp = std::fs::read_to_string(env.state_file("throttle-until")).unwrap();
    assert!(stamp.ends_with(" auth_failure\n"), "{stamp}");

    // During the cooldown: blocked locally, nothing sent.
    agent.clear_requests();
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    decision_filters().bind(|| {
        assert_snapshot!(run.one_line(), @"AxonFlow governance blocked: the AxonFlow agent at http://[AGENT] rejected the credentials (HTTP 401) and the auth-failure cooldown is active until [DEADLINE]. Run `axonflow-codex doctor` to fix the configuration.");
    });
    assert!(agent.requests().is_empty());
}

#[test]
fn row_c_cooldown_length_is_configurable() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "right"));
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_AUTH_FAILURE_COOLDOWN_SECONDS", "1000");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(env.pre(&bash("ls")).code, 2);
    let stamp = std::fs::read_to_string(env.state_file("throttle-until")).unwrap();
    let until: u64 = stamp.split(' ').next().unwrap().parse().unwrap();
    assert!((now + 999..=now + 1002).contains(&until), "{stamp}");
}

#[test]
fn row_c_401_with_a_user_token_adds_the_hint() {
    let agent = StandIn::start(AgentConfig::default().with_valid_user_tokens(["good-token"]));
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_USER_TOKEN", "revoked-user-token-123")
        .secret("revoked-user-token-123");
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    assert!(run.one_line().ends_with("(HTTP 401). Run `axonflow-codex doctor` to fix the configuration. A per-user token is configured (AXONFLOW_USER_TOKEN / user-token.json) and was sent as X-User-Token — if it is expired, revoked, or minted for a different org, the platform rejects the request; ask your admin to rotate it, or remove it to fall back to shared-credential attribution."), "{}", run.stderr);
    // The cooldown line carries the hint too while the token is configured.
    let run = env.pre(&bash("ls"));
    assert!(
        run.one_line().contains("cooldown is active until")
            && run.one_line().ends_with("shared-credential attribution.")
    );
}

#[test]
fn row_c_401_with_any_body_blocks() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    agent.script(
        Match::Tool("check_policy"),
        Reply::Raw {
            status: 401,
            headers: vec![],
            body: b"nope".to_vec(),
        },
    );
    assert_eq!(env.pre(&bash("ls")).code, 2);
}

#[test]
fn expired_cooldown_stamp_is_ignored_and_removed() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    std::fs::create_dir_all(env.state_file("")).unwrap();
    std::fs::write(env.state_file("throttle-until"), "1000 auth_failure\n").unwrap();
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(agent.rpc_calls().len(), 1);
    assert!(!env.state_file("throttle-until").exists());
}

// ---- D, E, E′, F ---------------------------------------------------------------------------------

#[test]
fn row_d_empty_body_allows_whatever_the_status() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    for status in [200, 202, 404, 403] {
        agent.script(
            Match::Tool("check_policy"),
            Reply::Raw {
                status,
                headers: vec![],
                body: vec![],
            },
        );
        env.pre(&bash(DROP)).assert_silent_allow();
    }
}

#[test]
fn row_e_blocking_rpc_errors() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    let error = |code: Value, message: &str| json!({"jsonrpc":"2.0","id":"hook-pre","error":{"code":code,"message":message}});
    let cases = [
        (200, error(json!(-32601), "Method not found: tools/call"), "AxonFlow governance blocked: Method not found: tools/call (code -32601). Fix AxonFlow configuration to restore tool access."),
        (200, error(json!(-32602), "Unknown tool: check_policy"), "AxonFlow governance blocked: Unknown tool: check_policy (code -32602). Fix AxonFlow configuration to restore tool access."),
        (200, error(json!("-32001"), "Authentication required"), "AxonFlow governance blocked: Authentication required (code -32001). Fix AxonFlow configuration to restore tool access."),
        (500, error(json!(-32602), "bad params"), "AxonFlow governance blocked: bad params (code -32602). Fix AxonFlow configuration to restore tool access."),
    ];
    for (status, body, expected) in cases {
        agent.script(Match::Tool("check_policy"), Reply::Json { status, body });
        let run = env.pre(&bash("ls"));
        assert_eq!((run.code, run.one_line()), (2, expected));
    }
    // -32001 with a user token sent adds the hint.
    env.set("AXONFLOW_USER_TOKEN", "tok-abc");
    agent.script(
        Match::Tool("check_policy"),
        Reply::Json {
            status: 200,
            body: error(json!(-32001), "Authentication required"),
        },
    );
    let run = env.pre(&bash("ls"));
    assert!(run.one_line().ends_with("restore tool access. A per-user token is configured (AXONFLOW_USER_TOKEN / user-token.json) and was sent as X-User-Token — if it is expired, revoked, or minted for a different org, the platform rejects the request; ask your admin to rotate it, or remove it to fall back to shared-credential attribution."));
}

#[test]
fn row_e_prime_other_rpc_errors_allow() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    for (status, code) in [(200, -32603), (400, -32700), (400, -32600), (500, -32603)] {
        agent.script(Match::Tool("check_policy"), Reply::Json {
            status,
            body: json!({"jsonrpc":"2.0","id":"hook-pre","error":{"code":code,"message":"something"}}),
        });
        env.pre(&bash(DROP)).assert_silent_allow();
    }
}

#[test]
fn row_f_unparsable_replies_allow() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    let bodies: [&[u8]; 5] = [
        b"<html>hello</html>",
        b"{\"jsonrpc\":\"2.0\",\"id\":\"hook-pre\",\"error\":{\"code\":-32001}}",
        b"{\"jsonrpc\":\"2.0\",\"id\":\"hook-pre\",\"result\":{}}",
        b"{\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"type\":\"text\",\"text\":5}]}}",
        b"\xff\xfe\x00garbage",
    ];
    for body in bodies {
        agent.script(
            Match::Tool("check_policy"),
            Reply::Raw {
                status: 200,
                headers: vec![],
                body: body.to_vec(),
            },
        );
        env.pre(&bash(DROP)).assert_silent_allow();
    }
}

// ---- settings errors, skipped calls ------------------------------------------------------------

#[test]
fn config_errors_block_naming_the_cause_and_send_nothing() {
    let agent = StandIn::start(AgentConfig::default());
    let cases: [(&str, &str, &str); 5] = [
        ("AXONFLOW_FAIL_MODE", "sometimes", "AxonFlow governance blocked: invalid AxonFlow settings (AXONFLOW_FAIL_MODE must be \"open\" or \"closed\"). Run `axonflow-codex doctor` to fix the configuration."),
        ("AXONFLOW_TIMEOUT_SECONDS", "0", "AxonFlow governance blocked: invalid AxonFlow settings (AXONFLOW_TIMEOUT_SECONDS must be a positive whole number of seconds). Run `axonflow-codex doctor` to fix the configuration."),
        ("AXONFLOW_ENDPOINT", "ftp://agent", "AxonFlow governance blocked: invalid AxonFlow settings (AXONFLOW_ENDPOINT must be an http:// or https:// URL). Run `axonflow-codex doctor` to fix the configuration."),
        ("AXONFLOW_AUTH", "hunter2-not-base64!", "AxonFlow governance blocked: invalid AxonFlow settings (AXONFLOW_AUTH must be the standard base64 encoding of \"client_id:client_secret\"). Run `axonflow-codex doctor` to fix the configuration."),
        ("CODEX_HOME", "/nonexistent/codex-home", "AxonFlow governance blocked: invalid AxonFlow settings (CODEX_HOME points to \"/nonexistent/codex-home\", but that path does not exist). Run `axonflow-codex doctor` to fix the configuration."),
    ];
    for (key, value, expected) in cases {
        let mut env = TestEnv::with_agent(&agent);
        env.set(key, value).secret("hunter2");
        let run = env.pre(&bash("ls"));
        assert_eq!((run.code, run.one_line()), (2, expected));
    }
    assert!(agent.requests().is_empty());
}

#[test]
fn settings_file_errors_name_the_file_and_line() {
    let env = TestEnv::new();
    let path = env.write_settings("endpoint = \"http://127.0.0.1:9\"\nfail_mode = closed\n");
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    assert!(run.one_line().starts_with(&format!("AxonFlow governance blocked: invalid AxonFlow settings ({} is not valid TOML (line 2, column 13: ", path.display())), "{}", run.stderr);

    env.write_settings("timeout_seconds = \"soon\"\n");
    assert!(env.pre(&bash("ls")).one_line().contains(&format!(
        "`timeout_seconds` in {} must be a positive whole number of seconds",
        path.display()
    )));

    env.write_settings("endpoint = 8080\n");
    assert!(env.pre(&bash("ls")).one_line().contains(&format!(
        "`endpoint` in {} must be a string",
        path.display()
    )));
}

#[test]
fn settings_file_readable_by_others_is_refused() {
    let env = TestEnv::new();
    let path = env.write_settings("auth = \"aWQ6c2VjcmV0\"\n");
    write_private(&path, "auth = \"aWQ6c2VjcmV0\"\n", 0o644);
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    assert_eq!(run.one_line(), format!("AxonFlow governance blocked: invalid AxonFlow settings ({} is accessible by group or others (mode 644); run chmod 600 on it). Run `axonflow-codex doctor` to fix the configuration.", path.display()));
    assert!(!run.stderr.contains("aWQ6c2VjcmV0"));
}

#[test]
fn ungoverned_calls_never_read_settings_or_send() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "broken");
    for payload in [
        tool("mcp__axonflow__check_policy", json!({"statement": DROP})),
        bash(""),
        bash("null"),
        tool("Bash", json!({"command": 42})),
        tool("Bash", json!("rm -rf /")),
        tool("Bash", json!({"cmd": "", "command": "rm -rf /"})),
        tool("SomethingNew", json!({})),
        tool("SomethingNew", Value::Null),
    ] {
        env.pre(&payload).assert_silent_allow();
    }
    assert!(agent.requests().is_empty());
}

// ---- statements per tool -------------------------------------------------------------------------

#[test]
fn statements_and_connector_types_per_tool() {
    let agent = StandIn::start(AgentConfig::default().without_policies());
    let env = TestEnv::with_agent(&agent);
    let patch =
        "*** Begin Patch\n*** Add File: hello.txt\n+hello from apply_patch\n*** End Patch\n";
    let cases = [
        (
            tool("apply_patch", json!({"command": patch})),
            "codex.apply_patch",
            patch.to_string(),
        ),
        (
            tool("apply_patch", json!({"input": 1})),
            "codex.apply_patch",
            "{\"input\":1}".to_string(),
        ),
        (
            tool(
                "mcp__pg__query",
                json!({"database":"main","query":"select 1"}),
            ),
            "codex.mcp__pg__query",
            "select 1".to_string(),
        ),
        (
            tool("mcp__fs__read", json!({"path":"/etc","depth":2})),
            "codex.mcp__fs__read",
            "{\"path\":\"/etc\",\"depth\":2}".to_string(),
        ),
        (
            tool("exec_command", json!({"cmd": "echo hi"})),
            "codex.exec_command",
            "echo hi".to_string(),
        ),
        (
            tool("shell", json!({"command": ["bash", "-lc", "ls"]})),
            "codex.shell",
            "[\n  \"bash\",\n  \"-lc\",\n  \"ls\"\n]".to_string(),
        ),
        (
            tool("Write", json!({"file_path": "/a", "content": "body"})),
            "codex.Write",
            "/a\nbody".to_string(),
        ),
        (
            tool(
                "Edit",
                json!({"file_path": "/b", "old_string": "x", "new_string": "y"}),
            ),
            "codex.Edit",
            "/b\ny".to_string(),
        ),
        (
            tool("NotebookEdit", json!({"cell_content": "print(1)"})),
            "codex.NotebookEdit",
            "print(1)".to_string(),
        ),
        (
            tool("WebFetch", json!({"z": 1, "a": 2})),
            "codex.WebFetch",
            "{\"z\":1,\"a\":2}".to_string(),
        ),
    ];
    for (payload, connector, statement) in cases {
        agent.clear_requests();
        env.pre(&payload).assert_silent_allow();
        let call = &agent.rpc_calls()[0];
        assert_eq!(call.arg_str("connector_type"), Some(connector));
        assert_eq!(
            call.arg_str("statement"),
            Some(statement.as_str()),
            "{payload}"
        );
    }
}

#[test]
fn a_blocked_patch_is_blocked() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let run = env.pre(&tool(
        "apply_patch",
        json!({"command": "*** Begin Patch\n*** Add File: x.sh\n+rm -rf / --no-preserve-root\n*** End Patch\n"}),
    ));
    assert_eq!(run.code, 2);
    assert!(run.one_line().starts_with("AxonFlow policy violation: Block destructive filesystem operations (93 policies evaluated) [decision: "));
    assert_eq!(
        agent.rpc_calls_of("audit_tool_call")[0].arguments["tool_name"],
        json!("apply_patch")
    );
}

// ---- headers with credentials -----------------------------------------------------------------------

#[test]
fn configured_credentials_go_on_every_request_in_order() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("client", "s3cret-value"));
    let mut env = TestEnv::with_agent(&agent);
    let auth = basic("client", "s3cret-value");
    env.set("AXONFLOW_AUTH", &auth)
        .set("AXONFLOW_LICENSE_TOKEN", "AXON-opaque-license")
        .set("AXONFLOW_USER_TOKEN", "user-tok-1")
        .secret(&auth)
        .secret("s3cret-value")
        .secret("AXON-opaque-license")
        .secret("user-tok-1");
    assert_eq!(env.pre(&bash(DROP)).code, 2);
    for call in agent.rpc_calls() {
        let names: Vec<String> = call
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        let position = |n: &str| names.iter().position(|x| x == n).unwrap();
        assert!(position("content-type") < position("accept"));
        assert!(position("accept") < position("authorization"));
        assert!(position("authorization") < position("x-axonflow-client"));
        assert!(position("x-axonflow-client") < position("x-license-token"));
        assert!(position("x-license-token") < position("x-user-token"));
        assert_eq!(
            call.header("Authorization"),
            Some(format!("Basic {auth}").as_str())
        );
        assert_eq!(call.header("X-License-Token"), Some("AXON-opaque-license"));
        assert_eq!(call.header("X-User-Token"), Some("user-tok-1"));
    }
}

#[test]
fn license_token_filtering_on_the_wire() {
    use base64::Engine as _;
    let agent = StandIn::start(AgentConfig::default());
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwt = |exp: u64| {
        format!(
            "AXON-{}.{}.sig",
            enc.encode("{\"alg\":\"RS256\"}"),
            enc.encode(format!("{{\"exp\":{exp}}}"))
        )
    };
    let cases = [
        ("not-an-axon-token".to_string(), None),
        (jwt(1_000_000_000), None),
        (jwt(4_000_000_000), Some(jwt(4_000_000_000))),
    ];
    for (token, sent) in cases {
        let mut env = TestEnv::with_agent(&agent);
        env.write_settings(&format!("license_token = \"{token}\"\n"));
        env.set("AXONFLOW_LICENSE_TOKEN", "");
        agent.clear_requests();
        env.pre(&bash("ls")).assert_silent_allow();
        assert_eq!(
            agent.rpc_calls()[0]
                .header("X-License-Token")
                .map(str::to_string),
            sent
        );
    }
}

#[test]
fn user_token_file_is_used_only_when_private_and_well_formed() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let file = env.home.join(".config/axonflow/user-token.json");
    let cases = [
        ("{\"token\":\"file-tok\"}", 0o600, Some("file-tok")),
        ("{\"token\":\"file-tok\"}", 0o644, None),
        ("{\"token\":\"has space\"}", 0o600, None),
        ("not json", 0o600, None),
    ];
    for (contents, mode, sent) in cases {
        write_private(&file, contents, mode);
        agent.clear_requests();
        let run = env.pre(&bash("ls"));
        run.assert_silent_allow();
        assert_eq!(
            agent.rpc_calls()[0].header("X-User-Token"),
            sent,
            "{contents} {mode:o}"
        );
    }
}

#[test]
fn unsafe_user_token_variable_falls_back_to_the_file() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    let config_dir = env.root.join("cfg");
    write_private(
        &config_dir.join("user-token.json"),
        "{\"token\":\"from-file\"}",
        0o600,
    );
    env.set("AXONFLOW_USER_TOKEN", "bad token\"")
        .set("AXONFLOW_CONFIG_DIR", &config_dir.display().to_string());
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(
        agent.rpc_calls()[0].header("X-User-Token"),
        Some("from-file")
    );
}

#[test]
fn environment_wins_over_the_settings_file() {
    let agent = StandIn::start(AgentConfig::default());
    let other = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.write_settings(&format!("endpoint = \"{}/\"\n", other.endpoint()));
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!((agent.requests().len(), other.requests().len()), (1, 0));

    env.unset("AXONFLOW_ENDPOINT");
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(
        other.requests()[0].path,
        "/api/v1/mcp-server",
        "trailing slash trimmed"
    );

    // AXONFLOW_CODEX_CONFIG names another settings file.
    let elsewhere = env.root.join("elsewhere.toml");
    write_private(
        &elsewhere,
        &format!("endpoint = \"{}\"\n", agent.endpoint()),
        0o600,
    );
    env.set("AXONFLOW_CODEX_CONFIG", &elsewhere.display().to_string());
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(agent.requests().len(), 2);
}

#[test]
fn proxy_variables_are_honoured() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed")
        .set("HTTPS_PROXY", &closed_port_endpoint());
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    // The (dead) proxy was dialled instead of the live agent.
    assert!(
        run.one_line()
            .contains("could not be reached (connection refused)"),
        "{}",
        run.stderr
    );
    assert!(agent.requests().is_empty());

    env.set("NO_PROXY", "127.0.0.1");
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(agent.requests().len(), 1);
}

#[test]
fn absurd_durations_are_bounded_not_overflowed() {
    // A huge cooldown setting still blocks with AUTH (it once overflowed into a quiet allow).
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "right"));
    let mut env = TestEnv::with_agent(&agent);
    env.set(
        "AXONFLOW_AUTH_FAILURE_COOLDOWN_SECONDS",
        "9223372036854775807",
    );
    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 2);
    assert!(run.one_line().contains("(HTTP 401)"), "{}", run.stderr);

    // A huge Retry-After throttles for at most a day.
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    agent.script(
        Match::Tool("check_policy"),
        Reply::Raw {
            status: 429,
            headers: vec![("Retry-After".into(), "9223372036854775807".into())],
            body: br#"{"error":"quota","limit_type":"per_minute"}"#.to_vec(),
        },
    );
    assert_eq!(env.pre(&bash("ls")).code, 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stamp = std::fs::read_to_string(env.state_file("throttle-until")).unwrap();
    let until: u64 = stamp.split(' ').next().unwrap().parse().unwrap();
    assert!(until <= now + 86_402, "{stamp}");
}
