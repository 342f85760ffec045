//! The real Codex CLI driving our installed hooks (codex-host.md §11): every test installs
//! with `axonflow-codex install -y` into a fresh CODEX_HOME and runs `codex exec` against the
//! fake model and the AxonFlow agent stand-in. No `--dangerously-bypass-hook-trust` anywhere:
//! the hooks run because the installer recorded Codex's trust correctly.

use axonflow_e2e::*;

const BLOCK_PREFIX: &str = "Command blocked by PreToolUse hook: AxonFlow policy violation: ";

/// A shell command with `DROP TABLE` (the stand-in's `sys_sqli_drop_table`) that would first
/// create `marker`: the marker proves whether the command ran.
fn dangerous_command(marker: &std::path::Path) -> String {
    format!(
        "touch {} && echo 'psql -c \"DROP TABLE users; --\"'",
        marker.display()
    )
}

/// Every request the hooks sent carries our client header (and Basic auth when expected).
fn assert_hook_headers(e2e: &E2e, basic: Option<&str>) {
    for rpc in e2e.agent.rpc_calls() {
        assert_eq!(
            rpc.header("X-Axonflow-Client"),
            Some(CLIENT_HEADER),
            "{:?} {}",
            rpc.id,
            rpc.tool
        );
        assert_eq!(
            rpc.header("Authorization"),
            basic,
            "{:?} {}",
            rpc.id,
            rpc.tool
        );
    }
}

fn basic(id: &str, secret: &str) -> String {
    use std::io::Write as _;
    // Standard base64, computed by the system tool so the test does not share our encoder.
    let mut child = std::process::Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("base64");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{id}:{secret}").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    format!("Basic {}", String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn dangerous_shell_command_is_blocked_by_trusted_hook() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);
    let marker = e2e.marker("dangerous");
    let command = dangerous_command(&marker);

    e2e.exec(ToolCall::Shell(command.clone()));

    assert!(!marker.exists(), "the blocked command ran anyway");
    let requests = e2e.model_requests();
    assert_eq!(requests.len(), 2, "tool call, then the blocked result");
    let output = e2e.last_tool_output("function_call_output");
    let text = output["output"].as_str().expect("output is a string");
    assert!(
        text.starts_with(BLOCK_PREFIX),
        "the model did not get our block reason: {text:?}"
    );
    assert!(text.contains("Detected SQL injection pattern"), "{text:?}");
    assert_eq!(
        e2e.rpc_ids(),
        ["hook-prompt", "hook-pre", "hook-audit-blocked"]
    );
    let pre = &e2e.agent.rpc_calls()[1];
    assert_eq!(pre.tool, "check_policy");
    assert_eq!(pre.arg_str("connector_type"), Some("codex.Bash"));
    assert_eq!(pre.arg_str("statement"), Some(command.as_str()));
    assert_hook_headers(&e2e, None);
}

#[test]
fn allowed_command_runs_and_is_audited_and_scanned() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);
    let marker = e2e.marker("allowed");
    let command = format!("touch {} && echo ran", marker.display());

    e2e.exec(ToolCall::Shell(command.clone()));

    assert!(marker.exists(), "the allowed command did not run");
    let output = e2e.last_tool_output("function_call_output");
    let text = output["output"].as_str().expect("output is a string");
    assert!(text.contains("ran"), "{text:?}");
    assert!(!text.contains("blocked"), "{text:?}");
    let mut ids = e2e.rpc_ids();
    assert_eq!(ids[..2], ["hook-prompt", "hook-pre"]);
    ids.sort();
    assert_eq!(ids, ["hook-audit", "hook-pre", "hook-prompt", "hook-scan"]);
    let calls = e2e.agent.rpc_calls();
    let by_id = |id: &str| calls.iter().find(|r| r.id == json!(id)).unwrap().clone();
    assert_eq!(by_id("hook-pre").tool, "check_policy");
    assert_eq!(
        by_id("hook-pre").arg_str("statement"),
        Some(command.as_str())
    );
    assert_eq!(by_id("hook-audit").tool, "audit_tool_call");
    assert_eq!(by_id("hook-audit").arg_str("tool_name"), Some("Bash"));
    assert_eq!(by_id("hook-scan").tool, "check_output");
    assert_eq!(by_id("hook-scan").arg_str("message"), Some("ran\n"));
    assert_hook_headers(&e2e, None);
}

#[test]
fn allowed_command_with_basic_auth_sends_credentials() {
    let e2e = E2e::new(AgentConfig::default().with_basic_auth("e2e", "secret"));
    e2e.install(&["--client-id", "e2e", "--client-secret", "secret"]);
    let marker = e2e.marker("auth");

    e2e.exec(ToolCall::Shell(format!(
        "touch {} && echo ran",
        marker.display()
    )));

    assert!(marker.exists(), "the allowed command did not run");
    let mut ids = e2e.rpc_ids();
    ids.sort();
    assert_eq!(ids, ["hook-audit", "hook-pre", "hook-prompt", "hook-scan"]);
    assert_hook_headers(&e2e, Some(&basic("e2e", "secret")));
}

#[test]
fn pii_in_output_in_alert_mode_becomes_a_governance_alert() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&["--output-mode", "alert"]);

    e2e.exec(ToolCall::Shell("echo \"SSN: 123-45-6789\"".to_string()));

    let alerts: Vec<String> = e2e
        .last_developer_texts()
        .into_iter()
        .filter(|t| t.contains("GOVERNANCE ALERT"))
        .collect();
    assert_eq!(
        alerts.len(),
        1,
        "one governance alert expected among the developer messages: {:?}",
        e2e.last_developer_texts()
    );
    let alert = &alerts[0];
    assert!(
        alert.contains("GOVERNANCE ALERT: PII/sensitive data detected"),
        "{alert:?}"
    );
    assert!(alert.contains("1*********9"), "{alert:?}");
    assert!(!alert.contains("123-45-6789"), "{alert:?}");
    let scan: Vec<_> = e2e
        .agent
        .rpc_calls_of("check_output")
        .into_iter()
        .filter(|c| c.id == json!("hook-scan"))
        .collect();
    assert_eq!(scan.len(), 1);
    assert_eq!(scan[0].arg_str("message"), Some("SSN: 123-45-6789\n"));
}

#[test]
fn apply_patch_with_drop_table_is_blocked() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);
    let patch =
        "*** Begin Patch\n*** Add File: e2e-migration.sql\n+DROP TABLE users;\n*** End Patch\n";

    e2e.exec(ToolCall::ApplyPatch(patch.to_string()));

    assert!(
        !e2e.work.join("e2e-migration.sql").exists(),
        "the blocked patch was applied"
    );
    let output = e2e.last_tool_output("custom_tool_call_output");
    let text = output["output"].as_str().unwrap_or_default().to_string();
    let text = if text.is_empty() {
        output["output"].to_string()
    } else {
        text
    };
    assert!(text.contains(BLOCK_PREFIX), "{text:?}");
    assert_eq!(
        e2e.rpc_ids(),
        ["hook-prompt", "hook-pre", "hook-audit-blocked"]
    );
    let pre = &e2e.agent.rpc_calls()[1];
    assert_eq!(pre.arg_str("connector_type"), Some("codex.apply_patch"));
    assert!(
        pre.arg_str("statement")
            .is_some_and(|s| s.contains("DROP TABLE users")),
        "{:?}",
        pre.arguments
    );
}

#[test]
fn mcp_tool_call_goes_to_the_agent_with_our_headers_and_is_not_hooked() {
    let e2e = E2e::new(AgentConfig::default().with_basic_auth("e2e", "secret"));
    e2e.install(&["--client-id", "e2e", "--client-secret", "secret"]);

    e2e.exec(ToolCall::Mcp {
        namespace: "mcp__axonflow".to_string(),
        tool: "check_policy".to_string(),
        arguments: json!({"connector_type": "codex.Bash", "statement": "ls"}),
    });

    let requests = e2e.agent.requests();
    let initialize = requests
        .iter()
        .find(|r| r.rpc_method() == Some("initialize"))
        .expect("Codex's MCP client sent initialize to the stand-in");
    assert_eq!(initialize.header("X-Axonflow-Client"), Some(CLIENT_HEADER));
    let expected_auth = basic("e2e", "secret");
    assert_eq!(
        initialize.header("Authorization"),
        Some(expected_auth.as_str())
    );
    // The prompt was checked; the MCP call itself reached no tool hook.
    assert_eq!(e2e.rpc_ids()[0], "hook-prompt");
    let calls: Vec<_> = e2e
        .agent
        .rpc_calls()
        .into_iter()
        .filter(|c| c.id != json!("hook-prompt"))
        .collect();
    assert_eq!(
        calls.len(),
        1,
        "only Codex's own MCP call, no tool hook request: {:?}",
        e2e.rpc_ids()
    );
    let call = &calls[0];
    assert_eq!(call.tool, "check_policy");
    assert_eq!(call.arg_str("statement"), Some("ls"));
    assert!(
        !calls
            .iter()
            .any(|c| c.id.as_str().is_some_and(|id| id.starts_with("hook-"))),
        "{:?}",
        e2e.rpc_ids()
    );
    assert_eq!(call.header("X-Axonflow-Client"), Some(CLIENT_HEADER));
    assert_eq!(call.header("Authorization"), Some(expected_auth.as_str()));
    let output = e2e.last_tool_output("function_call_output");
    assert!(
        output.to_string().contains("allowed"),
        "the MCP result did not reach the model: {output}"
    );
}

#[test]
fn codex_mcp_get_shows_our_server() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);

    let run = e2e.codex(&["mcp", "get", "axonflow", "--json"]);
    run.assert_ok("codex mcp get axonflow --json");
    let entry: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
    assert_eq!(entry["name"], "axonflow");
    assert_eq!(entry["enabled"], true);
    assert_eq!(entry["transport"]["type"], "streamable_http");
    assert_eq!(entry["transport"]["url"], json!(e2e.agent.mcp_url()));
    let helper = &entry["transport"]["http_headers_helper"];
    let hook = e2e.codex_home.join("axonflow/bin/axonflow-codex-hook");
    assert!(
        helper == "<redacted>"
            || helper.as_str().is_some_and(
                |h| h.contains(&hook.display().to_string()) && h.contains("mcp-headers")
            ),
        "http_headers_helper: {helper}"
    );
}

#[test]
fn after_uninstall_the_dangerous_command_is_not_intercepted() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);
    let blocked = e2e.marker("before-uninstall");
    e2e.exec(ToolCall::Shell(dangerous_command(&blocked)));
    assert!(!blocked.exists(), "installed: the command must be blocked");
    assert_eq!(
        e2e.rpc_ids(),
        ["hook-prompt", "hook-pre", "hook-audit-blocked"]
    );

    e2e.uninstall();
    e2e.agent.clear_requests();
    e2e.model.clear();
    let marker = e2e.marker("after-uninstall");
    e2e.exec(ToolCall::Shell(dangerous_command(&marker)));

    assert!(marker.exists(), "after uninstall the command must run");
    let requests = e2e.agent.requests();
    assert!(
        requests.is_empty(),
        "the stand-in still heard from Codex: {:?}",
        requests
            .iter()
            .map(|r| format!("{} {} {}", r.method, r.path, r.body_text()))
            .collect::<Vec<_>>()
    );
    let output = e2e.last_tool_output("function_call_output");
    assert!(!output.to_string().contains("blocked"), "{output}");
}

#[test]
fn app_server_reports_our_hooks_trusted() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);

    let result = e2e.app_server_hooks_list();
    let data = result["data"].as_array().expect("data[]");
    assert_eq!(data.len(), 1, "{result}");
    let hooks_json = e2e.codex_home.join("hooks.json");
    let ours: Vec<&Value> = data[0]["hooks"]
        .as_array()
        .expect("hooks[]")
        .iter()
        .filter(|h| {
            h["command"]
                .as_str()
                .is_some_and(|c| c.contains("axonflow-codex-hook"))
        })
        .collect();
    assert_eq!(ours.len(), 3, "{result}");
    let config = e2e.config_toml();
    let find = |event: &str| {
        *ours
            .iter()
            .find(|h| h["eventName"] == event)
            .unwrap_or_else(|| panic!("no {event} hook: {result}"))
    };
    for (event, snake, arg, matcher) in [
        (
            "preToolUse",
            "pre_tool_use",
            "pre-tool-use",
            json!("Bash|apply_patch|mcp__.*"),
        ),
        (
            "postToolUse",
            "post_tool_use",
            "post-tool-use",
            json!("Bash|apply_patch|mcp__.*"),
        ),
        (
            "userPromptSubmit",
            "user_prompt_submit",
            "user-prompt-submit",
            Value::Null,
        ),
    ] {
        let hook = find(event);
        assert_eq!(hook["trustStatus"], "trusted", "{hook}");
        assert_eq!(hook["enabled"], true, "{hook}");
        assert_eq!(hook["matcher"], matcher, "{hook}");
        let command = hook["command"].as_str().unwrap();
        assert!(command.ends_with(arg), "{command}");
        assert_eq!(
            hook["sourcePath"],
            json!(hooks_json.display().to_string()),
            "{hook}"
        );
        let key = hook["key"].as_str().expect("key");
        assert!(
            key.starts_with(&format!("{}:{snake}:", hooks_json.display())),
            "{key}"
        );
        let hash = hook["currentHash"].as_str().expect("currentHash");
        assert!(
            config.contains(&format!("trusted_hash = \"{hash}\"")),
            "config.toml does not record {hash}:\n{config}"
        );
    }
}

#[test]
fn doctor_passes_against_real_codex() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);

    let run = e2e.installer(&["doctor"]);

    run.assert_ok("axonflow-codex doctor");
    for row in [
        "codex ",
        "hook trust",
        "mcp server",
        "enforcement",
        "prompt hook",
        "output mode",
        "output scanning",
        "hook binary",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with("PASS") && l.contains(row)),
            "no passing {row:?} row:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains(&format!("codex-cli {}", codex_pin())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(codex app-server hooks/list)"),
        "{}",
        run.stdout
    );
}

#[test]
fn reinstall_with_another_timeout_re_records_trust() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);
    let first = e2e.config_toml();
    // A different hook timeout changes the hooks' `timeout` and so Codex's trust hash.
    e2e.install(&["--timeout", "20"]);
    let second = e2e.config_toml();
    assert_ne!(
        first, second,
        "the trust hashes must change with the timeout"
    );
    let marker = e2e.marker("reinstalled");

    e2e.exec(ToolCall::Shell(dangerous_command(&marker)));

    assert!(!marker.exists(), "after re-install the hook must still run");
    assert_eq!(
        e2e.rpc_ids(),
        ["hook-prompt", "hook-pre", "hook-audit-blocked"]
    );
    let result = e2e.app_server_hooks_list();
    let trusted = result["data"][0]["hooks"]
        .as_array()
        .expect("hooks[]")
        .iter()
        .filter(|h| h["trustStatus"] == "trusted")
        .count();
    assert_eq!(trusted, 3, "{result}");
}

#[test]
fn unreachable_agent_with_fail_mode_closed_blocks_with_one_line() {
    let mut e2e = E2e::new(AgentConfig::default());
    // Tools only: with the agent down and fail_mode closed, the prompt check would stop the
    // prompt itself before any tool call (a_prompt_is_blocked_when_the_agent_is_down…).
    e2e.install(&["--fail-mode", "closed", "--govern", "bash,apply-patch,mcp"]);
    let endpoint = e2e.agent.endpoint();
    e2e.agent.stop();
    let marker = e2e.marker("closed");

    e2e.exec(ToolCall::Shell(format!(
        "touch {} && echo ran",
        marker.display()
    )));

    assert!(
        !marker.exists(),
        "fail_mode closed must block when the agent is down"
    );
    let output = e2e.last_tool_output("function_call_output");
    let text = output["output"].as_str().expect("output is a string");
    let expected = format!(
        "Command blocked by PreToolUse hook: AxonFlow governance blocked: the AxonFlow agent at {endpoint} could not be reached (connection refused) and fail_mode is closed. Run `axonflow-codex doctor` to check the connection."
    );
    // Codex appends `. Command: <command>` to the hook's one line (which ends with a period).
    assert!(text.starts_with(&expected), "{text:?}");
    assert!(
        text[expected.len()..].starts_with(". Command: touch "),
        "one line only, then Codex's suffix: {text:?}"
    );
}

// ---- protection (second release line) ---------------------------------------------------

#[test]
fn pii_in_a_shell_output_is_replaced_before_the_model_sees_it() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);

    // The SSN is in the output only, not in the command the model wrote.
    let run = e2e.exec(ToolCall::Shell(
        "printf 'my ssn is %s-%s-%s\\n' 123 45 6789".to_string(),
    ));

    let output = e2e.last_tool_output("function_call_output");
    let text = output["output"].as_str().expect("output is a string");
    assert!(
        text.starts_with("AxonFlow redacted sensitive data from this tool output (93 policies evaluated) [decision: dec_"),
        "{text:?}"
    );
    assert!(
        text.ends_with(". The redacted output follows.\nmy ssn is 1*********9"),
        "the notice, then the redacted text: {text:?}"
    );
    // No request to the model carries the original, in any field.
    for request in e2e.model_requests() {
        assert!(
            !request.to_string().contains("123-45-6789"),
            "the SSN reached the model: {request}"
        );
    }
    assert!(
        !e2e.last_developer_texts()
            .iter()
            .any(|t| t.contains("GOVERNANCE ALERT")),
        "replace mode adds no alert"
    );
    // The user's side (the --json event stream) still shows the real output.
    let shown = run.events().iter().any(|event| {
        event["item"]["type"] == "command_execution"
            && event["item"]["aggregated_output"]
                .as_str()
                .is_some_and(|o| o.contains("123-45-6789"))
    });
    assert!(
        shown,
        "the user's terminal lost the real output:\n{}",
        run.stdout
    );
    let audits = e2e.agent.rpc_calls_of("audit_tool_call");
    assert_eq!(audits.len(), 1, "the audit is sent in replace mode too");
}

#[test]
fn a_prompt_with_an_ssn_never_reaches_the_model() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);
    e2e.model.set_script(ToolCall::Nothing);

    let run = e2e.exec_raw("file my taxes, my ssn is 123-45-6789", false);

    assert!(
        e2e.model_requests().is_empty(),
        "a request reached the model: {:?}\n--- stderr\n{}",
        e2e.model_requests(),
        run.stderr
    );
    let scans = e2e.agent.rpc_calls_of("check_output");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].id, json!("hook-prompt"));
    assert_eq!(
        scans[0].arguments,
        json!({"connector_type": "codex.UserPromptSubmit", "message": "file my taxes, my ssn is 123-45-6789"})
    );
    assert!(e2e.agent.rpc_calls_of("audit_tool_call").is_empty());
    // What `codex exec` shows: the hook ran and blocked (it does not print the reason).
    assert!(
        run.stderr.contains("hook: UserPromptSubmit Blocked")
            || run.stdout.contains("hook: UserPromptSubmit Blocked"),
        "--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
    // `codex exec` prints no reason (and exits 0).
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn a_harmless_prompt_reaches_the_model() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);

    e2e.exec_prompt(ToolCall::Nothing, "write a haiku about loopback interfaces");

    assert_eq!(e2e.rpc_ids(), ["hook-prompt"]);
    let scan = &e2e.agent.rpc_calls()[0];
    assert_eq!(
        scan.arg_str("connector_type"),
        Some("codex.UserPromptSubmit")
    );
    let requests = e2e.model_requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0]
            .to_string()
            .contains("write a haiku about loopback interfaces"),
        "the prompt did not reach the model"
    );
}

#[test]
fn the_tui_shows_the_block_reason_of_a_prompt() {
    let e2e = E2e::new(AgentConfig::default());
    e2e.install(&[]);
    let tui = e2e.tui();

    tui.submit("file my taxes, my ssn is 123-45-6789");

    let screen = tui.wait_for("AxonFlow blocked this prompt:");
    assert!(screen.contains("Blocked by hook"), "{screen}");
    assert!(
        screen.contains("AxonFlow blocked this prompt: it contains sensitive data (93 policies evaluated). Send this redacted version instead: file my taxes, my ssn is 1*********9"),
        "{screen}"
    );
    assert!(
        e2e.model_requests().is_empty(),
        "the prompt reached the model"
    );

    // The next, harmless prompt goes through in the same session.
    tui.submit("write a haiku");
    tui.wait_for(FAKE_DONE);
    let requests = e2e.model_requests();
    assert!(
        requests
            .iter()
            .any(|r| r.to_string().contains("write a haiku")),
        "the harmless prompt did not reach the model"
    );
    for request in &requests {
        assert!(
            !request.to_string().contains("123-45-6789"),
            "the blocked prompt reached the model later: {request}"
        );
    }
}

#[test]
fn a_prompt_is_blocked_when_the_agent_is_down_and_fail_mode_is_closed() {
    let mut e2e = E2e::new(AgentConfig::default());
    e2e.install(&["--fail-mode", "closed"]);
    e2e.agent.stop();
    e2e.model.set_script(ToolCall::Nothing);

    let run = e2e.exec_raw("write a haiku", false);

    assert!(e2e.model_requests().is_empty(), "{}", run.stderr);
    assert!(
        run.stderr.contains("hook: UserPromptSubmit Blocked"),
        "{}",
        run.stderr
    );
}
