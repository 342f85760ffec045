//! The local decision journal through the hook binary: one line per decision in
//! `~/.local/state/axonflow/journal.jsonl`.

mod support;

use std::path::PathBuf;

use support::*;

fn state_dir(env: &TestEnv) -> PathBuf {
    env.home.join(".local").join("state").join("axonflow")
}

fn journal(env: &TestEnv) -> Vec<Value> {
    std::fs::read_to_string(state_dir(env).join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a journal line is JSON"))
        .collect()
}

fn with_session(mut payload: Value, session: &str) -> Value {
    payload["session_id"] = json!(session);
    payload
}

#[test]
fn an_allow_and_a_block_are_journaled_with_their_details() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let long = format!("echo {}", "a".repeat(500));
    env.pre(&with_session(bash(&long), "sess-1"))
        .assert_silent_allow();
    let run = env.pre(&with_session(bash("rm -rf /"), "sess-1"));
    assert_eq!(run.code, 2);
    let records = journal(&env);
    assert_eq!(records.len(), 2, "{records:?}");
    let allow = &records[0];
    assert_eq!(allow["event"], "pre-tool-use");
    assert_eq!(allow["tool"], "Bash");
    assert_eq!(allow["decision"], "allow");
    assert_eq!(allow["session_id"], "sess-1");
    assert_eq!(allow["statement"].as_str().unwrap().chars().count(), 200);
    assert!(allow["decision_id"].as_str().unwrap().starts_with("dec_"));
    assert!(allow["policies_evaluated"].is_i64());
    assert!(allow["latency_ms"].is_u64());
    assert!(allow["time"].as_str().unwrap().ends_with('Z'));
    let block = &records[1];
    assert_eq!(block["decision"], "block");
    assert_eq!(block["allowed"], false);
    assert_eq!(block["reason"], "Block destructive filesystem operations");
    assert_eq!(block["statement"], "rm -rf /");
    assert!(block["decision_id"].as_str().unwrap().starts_with("dec_"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(state_dir(&env).join("journal.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn unreachable_auth_failure_and_throttle_are_journaled() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    env.pre(&bash("ls")).assert_silent_allow();
    env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
    agent.script(
        Match::Tool("check_policy"),
        Reply::Json {
            status: 401,
            body: json!({"error": "unauthorized"}),
        },
    );
    assert_eq!(env.pre(&bash("ls")).code, 2);
    std::fs::write(
        env.state_file("throttle-until"),
        format!("{} daily_quota\n", now_epoch() + 600),
    )
    .unwrap();
    env.pre(&bash("ls")).assert_silent_allow();
    let decisions: Vec<(String, bool)> = journal(&env)
        .iter()
        .map(|r| {
            (
                r["decision"].as_str().unwrap().to_string(),
                r["allowed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("unreachable".to_string(), true),
            ("auth_failure".to_string(), false),
            ("throttled".to_string(), true)
        ]
    );
    assert!(journal(&env)[0]["reason"]
        .as_str()
        .unwrap()
        .contains("connection refused"));
}

#[test]
fn a_redaction_is_journaled_without_the_output() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    env.post(&post_bash(
        "cat customers.txt",
        json!("name: Jane, ssn 123-45-6789"),
    ));
    let records = journal(&env);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["event"], "post-tool-use");
    assert_eq!(records[0]["decision"], "redacted");
    assert_eq!(records[0]["statement"], "cat customers.txt");
    let text = std::fs::read_to_string(state_dir(&env).join("journal.jsonl")).unwrap();
    assert!(!text.contains("123-45-6789"), "the output leaked: {text}");
}

#[test]
fn ungoverned_calls_are_not_journaled() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    env.pre(&tool("mcp__axonflow__check_policy", json!({})))
        .assert_silent_allow();
    env.post(&post_tool(
        "mcp__axonflow__check_policy",
        json!({}),
        json!({}),
    ))
    .assert_silent_allow();
    assert!(journal(&env).is_empty());
}

#[test]
fn the_journal_is_rotated_and_stays_bounded() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    std::fs::create_dir_all(state_dir(&env)).unwrap();
    let old = format!(
        "{}\n",
        json!({"decision": "allow", "statement": "x".repeat(1000)})
    );
    std::fs::write(state_dir(&env).join("journal.jsonl"), old.repeat(3 * 1024)).unwrap();
    env.pre(&bash("ls")).assert_silent_allow();
    let rotated = std::fs::metadata(state_dir(&env).join("journal.1.jsonl"))
        .expect("rotated")
        .len();
    assert!(rotated > 2 * 1024 * 1024);
    env.pre(&bash("ls")).assert_silent_allow();
    let live = journal(&env);
    assert_eq!(live.len(), 1, "a fresh journal after the rotation");
    assert_eq!(live[0]["statement"], "ls");
}

#[test]
fn a_prompt_decision_is_journaled_without_the_prompt() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let prompt = json!({"hook_event_name": "UserPromptSubmit", "prompt": "my ssn is 123-45-6789"});
    let run = env.run(&["user-prompt-submit"], prompt.to_string().as_bytes());
    assert_eq!(run.code, 2, "{}", run.stderr);
    let records = journal(&env);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["event"], "user-prompt-submit");
    assert_eq!(records[0]["allowed"], false);
    assert_eq!(records[0]["statement"], "");
    let text = std::fs::read_to_string(state_dir(&env).join("journal.jsonl")).unwrap();
    assert!(!text.contains("123-45-6789"), "{text}");
}
