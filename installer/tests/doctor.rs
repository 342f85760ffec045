//! `axonflow-codex doctor` against the agent stand-in: each row's pass and fail, bounded time.

mod support;

use std::time::Duration;

use support::*;

fn status_of(run: &Run, name: &str) -> String {
    doctor_row(run, name).status
}

#[test]
fn a_healthy_chain_passes_every_row() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::installed(&agent);
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let rows = doctor_rows(&run);
    let names: Vec<&str> = rows.iter().map(|row| row.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "codex home",
            "codex",
            "install",
            "hooks.json",
            "hook trust",
            "prompt hook",
            "settings",
            "output mode",
            "mcp server",
            "skills",
            "agent health",
            "plugin version",
            "credentials",
            "harmless check",
            "latency",
            "enforcement",
            "output scanning",
            "hook binary",
            "state dir",
            "audit spool"
        ]
    );
    for row in &rows {
        let expected = if row.name == "codex" { "warn" } else { "pass" };
        assert_eq!(row.status, expected, "{}", row.name);
    }
    // The probes and the installed hook really reached the agent.
    let statements: Vec<String> = agent
        .rpc_calls_of("check_policy")
        .iter()
        .map(|c| c.arg_str("statement").unwrap().to_string())
        .collect();
    assert!(statements.contains(&"echo axonflow-doctor".to_string()));
    assert!(statements.contains(&"psql -c \"DROP TABLE users; --\"".to_string()));
    assert!(agent.requests().iter().any(
        |r| r.path == "/health" && r.header("X-Axonflow-Client") == Some("codex-plugin/2.0.0")
    ));

    let human = env.run(&["doctor"]);
    assert!(
        human.stdout.contains("PASS  enforcement"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.ends_with("doctor: 19 pass, 1 warn, 0 fail\n"),
        "{}",
        human.stdout
    );
}

#[test]
fn offline_skips_the_network() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::installed(&agent);
    agent.clear_requests();
    let run = env.ok(&["doctor", "--offline", "--json"]);
    assert!(agent.requests().is_empty());
    assert!(!doctor_rows(&run)
        .iter()
        .any(|row| row.name == "credentials"));
}

#[test]
fn a_dead_agent_fails_quickly() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::installed(&agent);
    drop(agent);
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(status_of(&run, "agent health"), "fail");
    assert_eq!(status_of(&run, "credentials"), "fail");
    assert!(
        run.elapsed < Duration::from_secs(5),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn a_hanging_agent_fails_in_about_the_timeout() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::installed(&agent);
    agent.script_always(Match::Any, Reply::Hang);
    env.set("AXONFLOW_TIMEOUT_SECONDS", "2");
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(status_of(&run, "agent health"), "fail");
    assert!(
        run.elapsed < Duration::from_secs(8),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn rejected_credentials_fail_and_accepted_ones_clear_the_cooldown() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("team", "right"));
    let mut env = TestEnv::installed_with_credentials(&agent, "team", "wrong-pw");
    env.secret("right");
    // A hook run hits the 401 and starts the cooldown (the hooks honour no stamp further
    // ahead than a day).
    let stamp = env.write_throttle(300, "auth_failure");
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(status_of(&run, "credentials"), "fail");
    assert_eq!(status_of(&run, "throttle"), "fail");

    env.ok(&[
        "install",
        "-y",
        "--client-id",
        "team",
        "--client-secret",
        "right",
    ]);
    env.write_throttle(300, "auth_failure");
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(status_of(&run, "credentials"), "pass");
    assert!(
        !stamp.exists(),
        "accepted credentials clear the auth-failure stamp"
    );
}

#[test]
fn an_agent_that_allows_the_dangerous_probe_fails_enforcement() {
    let agent = StandIn::start(AgentConfig::default().without_policies());
    let env = TestEnv::installed(&agent);
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(run.code, 1);
    assert_eq!(status_of(&run, "enforcement"), "fail");
    assert_eq!(status_of(&run, "harmless check"), "pass");
}

#[test]
fn a_plugin_below_the_agents_minimum_fails() {
    let agent = StandIn::start(AgentConfig::default().with_min_codex_version("v9.0.0-beta"));
    let env = TestEnv::installed(&agent);
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(status_of(&run, "plugin version"), "fail");
}

#[test]
fn an_agent_too_old_or_not_an_agent_fails() {
    let agent = StandIn::start(
        AgentConfig::default().with_health(axonflow_agent_standin::HealthMode::LegacyEarly2026),
    );
    let env = TestEnv::installed(&agent);
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(status_of(&run, "agent version"), "fail");
    assert_eq!(status_of(&run, "credentials"), "fail");

    let agent = StandIn::start(AgentConfig::default());
    agent.script_always(
        Match::Path("/api/v1/mcp-server"),
        Reply::Raw {
            status: 200,
            headers: vec![],
            body: b"<html>welcome</html>".to_vec(),
        },
    );
    let env = TestEnv::installed(&agent);
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(status_of(&run, "harmless check"), "fail");
}

#[test]
fn local_problems_each_fail_their_row() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::installed(&agent);
    // Changing our group's timeout changes its hash: Codex would skip it silently.
    let hooks = env
        .read("hooks.json")
        .replacen("\"timeout\": 30", "\"timeout\": 31", 1);
    env.write("hooks.json", &hooks);
    let run = env.run(&["doctor", "--offline", "--json"]);
    assert_eq!(status_of(&run, "hook trust"), "fail");

    let settings = env.path("axonflow.toml");
    write_private(&settings, &env.read("axonflow.toml"), 0o644);
    let run = env.run(&["doctor", "--offline", "--json"]);
    assert_eq!(status_of(&run, "settings"), "fail");

    std::fs::remove_file(env.path("axonflow/bin/axonflow-codex-hook")).unwrap();
    let run = env.run(&["doctor", "--offline", "--json"]);
    assert_eq!(status_of(&run, "hooks.json"), "fail");
}

#[test]
fn environment_overrides_are_flagged() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::installed(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    let run = env.run(&["doctor", "--offline", "--json"]);
    assert_eq!(status_of(&run, "settings"), "warn");
}

#[test]
fn not_installed_fails() {
    let env = TestEnv::new();
    let run = env.run(&["doctor", "--offline"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("FAIL  install"), "{}", run.stdout);
    assert!(run.stderr.contains("check(s) failed"));
}

/// Doctor's hook probe runs the installed hook with the user's own environment: the hook's
/// state (journal, spool, throttle stamps) and its TLS and proxy settings come from variables
/// the probe used to leave out, so the probe's decision went to `~/.local/state` while the
/// user's hooks write under `XDG_STATE_HOME`.
#[test]
fn the_hook_probe_sees_the_variables_the_hook_reads() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::installed(&agent);
    let state_home = env.root.join("xdg-state");
    env.set("XDG_STATE_HOME", &state_home.display().to_string());
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(status_of(&run, "hook binary"), "pass", "{}", run.stdout);
    let journal = state_home.join("axonflow/journal.jsonl");
    let recorded = std::fs::read_to_string(&journal).unwrap_or_default();
    assert!(
        recorded.contains("echo axonflow-doctor"),
        "the probe's decision is not in {}: {recorded:?}",
        journal.display()
    );
    assert!(
        !env.home.join(".local/state/axonflow").exists(),
        "the probe wrote under the default state dir, not XDG_STATE_HOME"
    );
}
