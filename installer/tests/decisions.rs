//! `log`, `check`, `explain`, and the spool and journal in `status` and `doctor`, through
//! the binaries against the stand-in.

mod support;

use std::path::{Path, PathBuf};

use support::*;

fn installed(agent: &StandIn) -> TestEnv {
    TestEnv::installed(agent)
}

fn state_dir(env: &TestEnv) -> PathBuf {
    env.spool_dir()
}

/// The installed hook's exit code for `payload`.
fn hook(env: &TestEnv, event: &str, payload: &Value) -> i32 {
    env.run_installed_hook(&[event], &payload.to_string()).code
}

fn bash(command: &str) -> Value {
    json!({"session_id": "s-1", "tool_name": "Bash", "tool_input": {"command": command}})
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn write_journal(dir: &Path, records: &[Value]) {
    std::fs::create_dir_all(dir).unwrap();
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(dir.join("journal.jsonl"), text).unwrap();
}

#[test]
fn log_shows_the_hooks_decisions_newest_first() {
    let agent = StandIn::start(AgentConfig::default());
    let env = installed(&agent);
    let empty = env.ok(&["log"]);
    assert!(
        empty.stdout.starts_with("No decision recorded"),
        "{}",
        empty.stdout
    );

    assert_eq!(hook(&env, "pre-tool-use", &bash("ls -la")), 0);
    assert_eq!(hook(&env, "pre-tool-use", &bash("rm -rf /")), 2);
    let run = env.ok(&["log"]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(lines[0].contains("pre-tool-use") && lines[0].contains("block"));
    assert!(lines[0].contains("Block destructive filesystem operations"));
    assert!(lines[0].contains("[dec_"), "{}", lines[0]);
    assert!(lines[1].contains("allow"), "{}", lines[1]);

    let blocked = json_lines(&env.ok(&["log", "--blocked", "--json"]).stdout);
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["statement"], "rm -rf /");
    assert_eq!(blocked[0]["session_id"], "s-1");
    let one = json_lines(&env.ok(&["log", "-n", "1", "--json"]).stdout);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["decision"], "block");
}

#[test]
fn log_since_filters_by_age_and_refuses_a_bad_duration() {
    let env = TestEnv::new();
    let old = json!({"time": "2020-01-01T00:00:00Z", "event": "pre-tool-use", "tool": "Bash", "decision": "allow", "allowed": true, "reason": "", "decision_id": "dec_old"});
    let now = json!({"time": axonflow_codex_hook::state::rfc3339(axonflow_codex_hook::state::now_epoch()), "event": "pre-tool-use", "tool": "Bash", "decision": "allow", "allowed": true, "reason": "", "decision_id": "dec_new"});
    write_journal(&state_dir(&env), &[old, now]);
    let all = json_lines(&env.ok(&["log", "--json"]).stdout);
    assert_eq!(all.len(), 2);
    let recent = json_lines(&env.ok(&["log", "--since", "2h", "--json"]).stdout);
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0]["decision_id"], "dec_new");
    let bad = env.run(&["log", "--since", "two hours"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("use a number and s, m, h, d or w"),
        "{}",
        bad.stderr
    );
    assert!(env.ok(&["log", "--help"]).stdout.contains("Examples:"));
}

#[test]
fn log_survives_a_closed_stdout_and_a_torn_journal() {
    let env = TestEnv::new();
    let record = json!({"time": "2026-11-30T06:00:00Z", "event": "pre-tool-use", "tool": "Bash", "decision": "allow", "allowed": true});
    let mut text: String = (0..5000).map(|_| format!("{record}\n")).collect();
    text.push_str("{\"time\":\"2026");
    std::fs::create_dir_all(state_dir(&env)).unwrap();
    std::fs::write(state_dir(&env).join("journal.jsonl"), text).unwrap();
    let run = env.ok(&["log", "-n", "2"]);
    assert_eq!(run.stdout.lines().count(), 2);
    assert!(
        run.stderr.contains("1 journal line(s) could not be read"),
        "{}",
        run.stderr
    );
    let mut child = env.command(&["log", "-n", "5000"]).spawn().unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn check_answers_allowed_blocked_and_no_answer_with_its_exit_codes() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("team", "s3cr3t-check"));
    let mut env = TestEnv::new();
    env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
    env.set("AXONFLOW_AUTH", &basic("team", "s3cr3t-check"));
    env.secret("s3cr3t-check");

    let allowed = env.run(&["check", "--", "ls", "-la"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(
        allowed.stdout.contains("decision:           allowed"),
        "{}",
        allowed.stdout
    );
    let call = &agent.rpc_calls_of("check_policy")[0];
    assert_eq!(call.arg_str("statement"), Some("ls -la"));
    assert_eq!(call.arg_str("connector_type"), Some("codex.Bash"));
    let request = agent.requests().last().cloned().unwrap();
    assert_eq!(
        request.header("X-Axonflow-Client"),
        Some("codex-plugin/2.0.0")
    );
    assert!(request.header("Authorization").is_some());

    let blocked = env.run(&["check", "--", "rm -rf /"]);
    assert_eq!(blocked.code, 1);
    assert!(blocked.stdout.contains("decision:           blocked"));
    assert!(blocked
        .stdout
        .contains("reason:             Block destructive filesystem operations"));
    assert!(
        blocked.stdout.contains("decision id:        dec_"),
        "{}",
        blocked.stdout
    );

    let json = env.run(&[
        "check",
        "--tool",
        "apply_patch",
        "--json",
        "--",
        "DROP TABLE users",
    ]);
    assert_eq!(json.code, 1);
    let answer: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(answer["allowed"], false);
    assert!(answer["decision_id"].is_string());
    assert_eq!(
        agent
            .rpc_calls_of("check_policy")
            .last()
            .unwrap()
            .arg_str("connector_type"),
        Some("codex.apply_patch")
    );

    let usage = env.run(&["check"]);
    assert_eq!(usage.code, 2);
    assert!(env.ok(&["check", "--help"]).stdout.contains("Examples:"));

    env.set("AXONFLOW_AUTH", &basic("team", "wrong"));
    let rejected = env.run(&["check", "--", "ls"]);
    assert_eq!(rejected.code, 2);
    assert!(rejected.stderr.contains("HTTP 401"), "{}", rejected.stderr);

    let down = closed_port_endpoint();
    env.set("AXONFLOW_ENDPOINT", &down);
    let unreachable = env.run(&["check", "--", "ls"]);
    assert_eq!(unreachable.code, 2);
    assert!(
        unreachable
            .stderr
            .contains("could not answer (connection refused)"),
        "{}",
        unreachable.stderr
    );
    assert!(unreachable.stderr.contains("axonflow-codex doctor"));
}

#[test]
fn explain_shows_the_policy_the_risk_the_reason_and_the_override() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::new();
    env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
    let id = |run: &Run| {
        let answer: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        answer["decision_id"].as_str().unwrap().to_string()
    };
    let sqli = id(&env.run(&["check", "--json", "--", "psql -c 'DROP TABLE users'"]));
    let run = env.ok(&["explain", &sqli]);
    assert!(
        run.stdout.contains("policy:    sys_sqli_drop_table"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("risk:      high"));
    assert!(run
        .stdout
        .contains("why:       Detected SQL injection pattern"));
    assert!(run.stdout.contains("override:  available: ask Codex to call the create_override MCP tool with policy_id sys_sqli_drop_table"));
    assert_eq!(
        agent.rpc_calls_of("explain_decision")[0].arg_str("decision_id"),
        Some(sqli.as_str())
    );

    let rm = id(&env.run(&["check", "--json", "--", "rm -rf /"]));
    let run = env.ok(&["explain", &rm]);
    assert!(
        run.stdout.contains("override:  not available"),
        "{}",
        run.stdout
    );
    let json: Value =
        serde_json::from_str(env.ok(&["explain", &rm, "--json"]).stdout.trim()).unwrap();
    assert_eq!(json["decision_id"], rm.as_str());

    let unknown = env.run(&["explain", "dec_nope"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("the agent has no decision dec_nope"),
        "{}",
        unknown.stderr
    );
    assert!(env.ok(&["explain", "--help"]).stdout.contains("Example:"));

    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    let down = env.run(&["explain", &rm]);
    assert_eq!(down.code, 1);
    assert!(
        down.stderr.contains("connection refused"),
        "{}",
        down.stderr
    );
}

#[test]
fn status_shows_the_spool_and_the_ungoverned_calls() {
    let agent = StandIn::start(AgentConfig::default());
    let env = installed(&agent);
    let status: Value = serde_json::from_str(env.ok(&["status", "--json"]).stdout.trim()).unwrap();
    assert_eq!(status["audit_spool"]["pending"], 0);
    assert_eq!(status["ungoverned_last_24h"], 0);
    assert_eq!(
        status["audit_spool"]["dir"],
        state_dir(&env).display().to_string()
    );

    // The agent goes away: the calls run unchecked and their audits wait.
    let settings = env.read("axonflow.toml");
    let down = settings.replace(&agent.endpoint(), &closed_port_endpoint());
    std::fs::write(env.path("axonflow.toml"), &down).unwrap();
    assert_eq!(hook(&env, "pre-tool-use", &bash("ls")), 0);
    let post =
        json!({"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_response": "a\n"});
    assert_eq!(hook(&env, "post-tool-use", &post), 0);
    let status: Value = serde_json::from_str(env.ok(&["status", "--json"]).stdout.trim()).unwrap();
    assert_eq!(status["audit_spool"]["pending"], 1);
    assert!(status["audit_spool"]["oldest"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(status["audit_spool"]["dropped"], 0);
    assert_eq!(status["ungoverned_last_24h"], 1);
    let human = env.ok(&["status"]).stdout;
    assert!(human.contains("1 audit(s) waiting"), "{human}");
    assert!(human.contains("ungoverned 1 tool call(s)"), "{human}");
}

#[test]
fn the_state_dir_follows_xdg_state_home_as_the_hook_does() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = installed(&agent);
    let custom = env.root.join("xdg-state");
    env.set("XDG_STATE_HOME", &custom.display().to_string());
    let status: Value = serde_json::from_str(env.ok(&["status", "--json"]).stdout.trim()).unwrap();
    assert_eq!(
        status["audit_spool"]["dir"],
        custom.join("axonflow").display().to_string()
    );
    // The hook, given the same variable, writes there.
    assert_eq!(hook(&env, "pre-tool-use", &bash("ls")), 0);
    assert!(custom.join("axonflow/journal.jsonl").is_file());
}

#[test]
fn doctor_delivers_the_spool_and_reports_what_is_left_or_lost() {
    let agent = StandIn::start(AgentConfig::default());
    let env = installed(&agent);
    let settings = env.read("axonflow.toml");
    std::fs::write(
        env.path("axonflow.toml"),
        settings.replace(&agent.endpoint(), &closed_port_endpoint()),
    )
    .unwrap();
    for n in 0..30 {
        let post = json!({"tool_name": "Bash", "tool_input": {"command": format!("echo {n}")}, "tool_response": "x"});
        hook(&env, "post-tool-use", &post);
    }
    let offline = env.run(&["doctor", "--json"]);
    let row = doctor_row(&offline, "audit spool");
    assert_eq!(row.status, "warn", "{row:?}");
    assert!(row.detail.contains("30 audit(s) waiting"), "{row:?}");

    // More than one hook run delivers (doctor's own hook check reaches the agent too).
    let extra: String = (30..330)
        .map(|n| {
            let body = json!({"jsonrpc":"2.0","id":"hook-audit","method":"tools/call","params":{"name":"audit_tool_call","arguments":{"tool_name":"Bash","input":{"command":format!("echo {n}")},"success":true}}});
            format!("{}\n", json!({"id": format!("x{n}"), "at": "2026-11-30T06:00:00Z", "body": body.to_string()}))
        })
        .collect();
    let spool_file = state_dir(&env).join("audit-spool.jsonl");
    let mut text = std::fs::read_to_string(&spool_file).unwrap();
    text.push_str(&extra);
    std::fs::write(&spool_file, text).unwrap();
    std::fs::write(env.path("axonflow.toml"), &settings).unwrap();
    agent.clear_requests();
    let run = env.run(&["doctor", "--json"]);
    let row = doctor_row(&run, "audit spool");
    assert_eq!(row.status, "pass", "{row:?}");
    assert!(row.detail.contains(" delivered now"), "{row:?}");
    let audits: Vec<String> = agent
        .rpc_calls_of("audit_tool_call")
        .iter()
        .filter_map(|c| {
            c.arguments
                .get("input")
                .and_then(|i| i["command"].as_str())
                .map(str::to_string)
        })
        .collect();
    let expected: Vec<String> = (0..330).map(|n| format!("echo {n}")).collect();
    assert_eq!(audits, expected, "each once, in order");

    std::fs::write(
        state_dir(&env).join("audit-spool.counts"),
        "{\"dropped\":4,\"unreadable\":0}\n",
    )
    .unwrap();
    let run = env.run(&["doctor", "--json"]);
    let row = doctor_row(&run, "audit spool");
    assert_eq!(row.status, "fail", "{row:?}");
    assert!(row.detail.contains("4 dropped"), "{row:?}");
}

#[test]
fn doctor_names_an_unusable_state_dir() {
    let agent = StandIn::start(AgentConfig::default());
    let env = installed(&agent);
    std::fs::create_dir_all(state_dir(&env).parent().unwrap()).unwrap();
    std::fs::write(state_dir(&env), "a file where the directory should be").unwrap();
    let run = env.run(&["doctor", "--json"]);
    let row = doctor_row(&run, "state dir");
    assert_eq!(row.status, "fail", "{row:?}");
    assert!(row.detail.contains("is not a directory"), "{row:?}");
    assert!(row.detail.contains(&state_dir(&env).display().to_string()));
    // The hooks still decide.
    assert_eq!(hook(&env, "pre-tool-use", &bash("rm -rf /")), 2);
    assert_eq!(hook(&env, "pre-tool-use", &bash("ls")), 0);
}

#[test]
fn log_and_status_ignore_a_journal_others_could_have_written() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = TestEnv::new();
    let unreachable = json!({"time": axonflow_codex_hook::state::rfc3339(axonflow_codex_hook::state::now_epoch()), "event": "pre-tool-use", "tool": "Bash", "decision": "unreachable", "allowed": true, "reason": "planted", "decision_id": "dec_planted"});
    let dir = state_dir(&env);
    write_journal(&dir, &[unreachable]);
    let journal = dir.join("journal.jsonl");
    std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o666)).unwrap();
    let shown = env.ok(&["log", "--json"]).stdout;
    assert!(!shown.contains("dec_planted"), "{shown}");
    let status: Value = serde_json::from_str(&env.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["ungoverned_last_24h"], 0, "{status}");
}
