//! The durable audit spool through the hook binary: audits the agent did not take are kept in
//! `~/.local/state/axonflow/audit-spool.jsonl` and delivered later, once, in order.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::*;

fn spool_dir(env: &TestEnv) -> PathBuf {
    env.home.join(".local").join("state").join("axonflow")
}

fn spool_lines(env: &TestEnv) -> Vec<Value> {
    std::fs::read_to_string(spool_dir(env).join("audit-spool.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("spool line is JSON"))
        .collect()
}

fn spooled_bodies(env: &TestEnv) -> Vec<String> {
    spool_lines(env)
        .iter()
        .map(|r| r["body"].as_str().unwrap().to_string())
        .collect()
}

fn counts(env: &TestEnv) -> Value {
    std::fs::read_to_string(spool_dir(env).join("audit-spool.counts"))
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap_or(json!({}))
}

/// The raw bodies of the audits the stand-in received, in arrival order.
fn audits(agent: &StandIn) -> Vec<String> {
    agent
        .requests()
        .iter()
        .filter(|r| r.rpc().is_some_and(|rpc| rpc.tool == "audit_tool_call"))
        .map(|r| r.body_text())
        .collect()
}

fn audited_command(body: &str) -> String {
    let body: Value = serde_json::from_str(body).unwrap();
    body["params"]["arguments"]["input"]["command"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn post_echo(n: usize) -> Value {
    post_bash(&format!("echo {n}"), json!(format!("{n}\n")))
}

/// A spool line as the hook writes it.
fn spool_line(id: &str, body: &str) -> String {
    format!(
        "{}\n",
        json!({"id": id, "at": "2026-11-30T06:00:00Z", "body": body})
    )
}

fn audit_body(command: &str) -> String {
    json!({"jsonrpc":"2.0","id":"hook-audit","method":"tools/call","params":{"name":"audit_tool_call","arguments":{"tool_name":"Bash","input":{"command":command},"success":true}}}).to_string()
}

fn write_spool(env: &TestEnv, text: &str) {
    std::fs::create_dir_all(spool_dir(env)).unwrap();
    std::fs::write(spool_dir(env).join("audit-spool.jsonl"), text).unwrap();
}

#[test]
fn fifty_audits_with_the_agent_down_arrive_once_in_order_with_their_bodies() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    for n in 1..=50 {
        env.post(&post_echo(n)).assert_silent_allow();
    }
    let spooled = spooled_bodies(&env);
    assert_eq!(spooled.len(), 50);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(spool_dir(&env)), 0o700);
        assert_eq!(mode(spool_dir(&env).join("audit-spool.jsonl")), 0o600);
    }
    for line in spool_lines(&env) {
        assert!(line["at"].as_str().unwrap().ends_with('Z'), "{line}");
    }

    env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(
        audits(&agent),
        spooled,
        "every body once, in order, unchanged"
    );
    let commands: Vec<String> = spooled.iter().map(|b| audited_command(b)).collect();
    let expected: Vec<String> = (1..=50).map(|n| format!("echo {n}")).collect();
    assert_eq!(commands, expected);
    assert!(spooled_bodies(&env).is_empty());

    agent.clear_requests();
    env.post(&post_echo(51)).assert_silent_allow();
    let after = audits(&agent);
    assert_eq!(after.len(), 1, "nothing is sent twice");
    assert_eq!(audited_command(&after[0]), "echo 51");
}

#[test]
fn each_kind_of_undelivered_audit_is_spooled() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let replies = [
        Reply::Raw {
            status: 503,
            headers: vec![],
            body: b"upstream down".to_vec(),
        },
        Reply::Json {
            status: 401,
            body: json!({"error": "unauthorized"}),
        },
        Reply::Json {
            status: 429,
            body: json!({"limit_type": "daily_quota", "tier": "community", "upgrade_url": "https://getaxonflow.com/pricing"}),
        },
        Reply::Close,
        Reply::Hang,
    ];
    let count = replies.len();
    for reply in replies {
        agent.script(Match::Tool("audit_tool_call"), reply);
    }
    for n in 1..=count {
        env.post(&post_echo(n));
        // A tier envelope or a 401 starts a throttle: clear it so the next run asks again.
        let _ = std::fs::remove_file(env.state_file("throttle-until"));
    }
    let commands: Vec<String> = spooled_bodies(&env)
        .iter()
        .map(|b| audited_command(b))
        .collect();
    let expected: Vec<String> = (1..=count).map(|n| format!("echo {n}")).collect();
    assert_eq!(commands, expected);

    // An audit the agent answers, even with a JSON-RPC error, is delivered.
    agent.clear_requests();
    agent.script(
        Match::Tool("audit_tool_call"),
        Reply::Json {
            status: 200,
            body: json!({"jsonrpc":"2.0","id":"hook-audit","error":{"code":-32602,"message":"bad"}}),
        },
    );
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(audits(&agent).len(), count);
    assert!(spooled_bodies(&env).is_empty());
}

#[test]
fn a_throttled_hook_spools_the_audit_it_does_not_send() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let until = now_epoch() + 600;
    std::fs::create_dir_all(env.cache_dir.join("axonflow")).unwrap();
    std::fs::write(
        env.state_file("throttle-until"),
        format!("{until} daily_quota\n"),
    )
    .unwrap();
    env.post(&post_echo(7)).assert_silent_allow();
    assert!(agent.requests().is_empty(), "throttled: nothing sent");
    assert_eq!(spooled_bodies(&env).len(), 1);

    std::fs::remove_file(env.state_file("throttle-until")).unwrap();
    env.pre(&bash("ls")).assert_silent_allow();
    let sent = audits(&agent);
    assert_eq!(sent.len(), 1);
    assert_eq!(audited_command(&sent[0]), "echo 7");
}

#[test]
fn a_blocked_attempt_audit_is_spooled_and_the_block_stands() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    agent.script(
        Match::Tool("audit_tool_call"),
        Reply::Raw {
            status: 502,
            headers: vec![],
            body: vec![],
        },
    );
    let run = env.pre(&bash("rm -rf /"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    let spooled = spooled_bodies(&env);
    assert_eq!(spooled.len(), 1);
    let body: Value = serde_json::from_str(&spooled[0]).unwrap();
    assert_eq!(body["id"], "hook-audit-blocked");
    assert_eq!(body["params"]["arguments"]["success"], false);
}

#[test]
fn a_hook_run_delivers_at_least_twenty_records() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let text: String = (0..300)
        .map(|n| spool_line(&format!("r{n}"), &audit_body(&format!("echo {n}"))))
        .collect();
    write_spool(&env, &text);
    env.pre(&bash("ls")).assert_silent_allow();
    let sent = audits(&agent);
    assert!(sent.len() >= 20, "only {} delivered", sent.len());
    let expected: Vec<String> = (0..sent.len()).map(|n| format!("echo {n}")).collect();
    let commands: Vec<String> = sent.iter().map(|b| audited_command(b)).collect();
    assert_eq!(commands, expected, "oldest first");
    assert_eq!(spooled_bodies(&env).len(), 300 - sent.len());
}

#[test]
fn two_concurrent_hooks_append_and_deliver_without_loss_or_duplicate() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    for n in 0..20 {
        env.post(&post_echo(n)).assert_silent_allow();
    }
    env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
    // Slow audits keep one delivery going while the other process appends.
    agent.script_always(
        Match::Tool("audit_tool_call"),
        Reply::Delay(Duration::from_millis(20)),
    );
    std::thread::scope(|scope| {
        for worker in 0..2 {
            let env = &env;
            scope.spawn(move || {
                for n in 0..15 {
                    let id = 100 + worker * 100 + n;
                    env.post(&post_echo(id)).assert_silent_allow();
                }
            });
        }
    });
    // Whatever a busy spool left for later goes with the next contact.
    for _ in 0..5 {
        if spooled_bodies(&env).is_empty() {
            break;
        }
        env.pre(&bash("ls")).assert_silent_allow();
    }
    assert!(spooled_bodies(&env).is_empty());
    let commands: Vec<String> = audits(&agent).iter().map(|b| audited_command(b)).collect();
    let first: Vec<String> = (0..20).map(|n| format!("echo {n}")).collect();
    assert_eq!(
        commands[..20],
        first[..],
        "the spooled ones first, in order"
    );
    let mut sorted = commands.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), commands.len(), "a duplicate: {commands:?}");
    assert_eq!(commands.len(), 20 + 30, "a loss: {commands:?}");
}

#[test]
fn the_oldest_records_are_dropped_and_counted_past_ten_thousand() {
    let mut env = TestEnv::new();
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    let text: String = (0..10_000)
        .map(|n| spool_line(&format!("r{n}"), &audit_body(&format!("old {n}"))))
        .collect();
    write_spool(&env, &text);
    env.post(&post_echo(1)).assert_silent_allow();
    let commands: Vec<String> = spooled_bodies(&env)
        .iter()
        .map(|b| audited_command(b))
        .collect();
    assert_eq!(commands.len(), 10_000);
    assert_eq!(commands[0], "old 1");
    assert_eq!(commands[9_999], "echo 1");
    assert_eq!(counts(&env)["dropped"], 1);
}

#[test]
fn the_oldest_records_are_dropped_and_counted_past_twenty_mib() {
    let mut env = TestEnv::new();
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    let big = |n: usize, size: usize| spool_line(&format!("r{n}"), &audit_body(&"x".repeat(size)));
    let first = big(0, 8 * 1024 * 1024);
    let second = big(1, 8 * 1024 * 1024);
    let room = 20 * 1024 * 1024 - first.len() - second.len();
    let third = big(2, room - 200);
    write_spool(&env, &format!("{first}{second}{third}"));
    env.post(&post_echo(1)).assert_silent_allow();
    let bodies = spooled_bodies(&env);
    assert_eq!(bodies.len(), 3);
    assert_eq!(audited_command(&bodies[2]), "echo 1");
    assert_eq!(counts(&env)["dropped"], 1);
    let size = std::fs::metadata(spool_dir(&env).join("audit-spool.jsonl"))
        .unwrap()
        .len();
    assert!(size <= 20 * 1024 * 1024, "{size}");
}

#[test]
fn a_torn_or_corrupted_line_is_skipped_and_counted() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    let text = format!(
        "{}not json at all\n{}{{\"id\":\"torn",
        spool_line("a", &audit_body("first")),
        spool_line("b", &audit_body("second"))
    );
    write_spool(&env, &text);
    // An append after the torn line starts on a line of its own.
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    env.post(&post_echo(3)).assert_silent_allow();
    env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
    env.pre(&bash("ls")).assert_silent_allow();
    let commands: Vec<String> = audits(&agent).iter().map(|b| audited_command(b)).collect();
    assert_eq!(commands, ["first", "second", "echo 3"]);
    assert_eq!(counts(&env)["unreadable"], 2);
    assert!(spooled_bodies(&env).is_empty());
}

#[test]
fn an_unusable_spool_directory_changes_no_decision() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    std::fs::create_dir_all(spool_dir(&env).parent().unwrap()).unwrap();
    // A file where the directory should be: not writable, whoever runs the test.
    std::fs::write(spool_dir(&env), "not a directory").unwrap();
    agent.script_always(
        Match::Tool("audit_tool_call"),
        Reply::Raw {
            status: 503,
            headers: vec![],
            body: vec![],
        },
    );
    let run = env.pre(&bash("rm -rf /"));
    assert_eq!(run.code, 2);
    assert!(run.one_line().starts_with("AxonFlow policy violation"));
    env.pre(&bash("ls")).assert_silent_allow();
    env.post(&post_echo(1)).assert_silent_allow();
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    env.pre(&bash("ls")).assert_silent_allow();
    env.post(&post_echo(2)).assert_silent_allow();
}

#[test]
fn a_fifo_at_the_spool_path_does_not_hang_the_hook() {
    let mut env = TestEnv::new();
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    std::fs::create_dir_all(spool_dir(&env)).unwrap();
    let fifo = spool_dir(&env).join("audit-spool.jsonl");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let run = env.post(&post_echo(1));
    run.assert_silent_allow();
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

/// `XDG_STATE_HOME` pointed at a shared directory: a spool there may be another user's. Its
/// bodies would go to the agent with this user's credentials, and this user's audits (the
/// commands run) would be appended to a file the other user reads.
#[test]
fn a_spool_others_could_have_written_is_neither_sent_nor_appended_to() {
    use std::os::unix::fs::PermissionsExt as _;
    let agent = StandIn::start(AgentConfig::default());
    let shared = tempfile::tempdir().unwrap();
    let mut env = TestEnv::with_agent(&agent);
    env.set("XDG_STATE_HOME", &shared.path().display().to_string());
    let dir = shared.path().join("axonflow");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let spool = dir.join("audit-spool.jsonl");
    let planted = spool_line("1-1-0", &audit_body("forged by someone else"));
    let plant = |mode: u32| {
        write_private(&spool, &planted, mode);
    };

    // Writable by others, and (only root can give a file away) another user's.
    let mut owners = vec![None];
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        owners.push(Some(65534));
    }
    for owner in owners {
        plant(if owner.is_some() { 0o644 } else { 0o666 });
        if let Some(uid) = owner {
            std::os::unix::fs::chown(&spool, Some(uid), Some(uid)).unwrap();
        }
        env.pre(&bash("ls")).assert_silent_allow();
        env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
        env.post(&post_echo(1)).assert_silent_allow();
        env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
        assert!(audits(&agent).is_empty(), "{owner:?}: nothing sent from it");
        assert_eq!(
            std::fs::read_to_string(&spool).unwrap(),
            planted,
            "{owner:?}: left as it was"
        );
        std::fs::remove_file(&spool).unwrap();
    }
}
