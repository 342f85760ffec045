//! The output layer through the binary: `--json` errors as one JSON document, colours only on
//! a terminal without `NO_COLOR`, doctor's rows as they finish, and library errors as plain
//! causes.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::*;

/// A loopback port where nothing listens: connections to it are refused.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `{"error": {"kind": …, "message": …, "hints": […]}}` as the whole of stdout, nothing on
/// stderr, and the exit code of the same error without `--json`.
fn json_error(run: &Run, code: i32, kind: &str) -> Value {
    assert_eq!(run.code, code, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, "", "--json errors go to stdout only");
    assert!(run.stdout.ends_with('\n') && run.stdout.trim().lines().count() == 1);
    let document: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let error = &document["error"];
    assert_eq!(error["kind"], kind, "{document}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(error["hints"].is_array(), "{document}");
    assert_eq!(document.as_object().unwrap().len(), 1, "{document}");
    error.clone()
}

#[test]
fn every_json_command_reports_its_errors_as_json() {
    let mut env = TestEnv::new();
    let refused = format!("http://127.0.0.1:{}", closed_port());

    // Usage errors (exit 2): no terminal and no -y, a bad flag value, a bad variable.
    let error = json_error(&env.run(&["install", "--json"]), 2, "usage");
    assert!(error["message"].as_str().unwrap().contains("no terminal"));
    assert!(error["hints"][0].as_str().unwrap().contains("add -y"));
    let error = json_error(&env.run(&["uninstall", "--json"]), 2, "usage");
    assert!(error["hints"][0]
        .as_str()
        .unwrap()
        .contains("add -y to uninstall unattended"));
    let error = json_error(
        &env.run(&["log", "--json", "--since", "2 hours"]),
        2,
        "usage",
    );
    assert!(error["message"].as_str().unwrap().contains("--since"));
    let error = json_error(&env.run(&["update", "--json", "--to"]), 2, "usage");
    assert!(error["message"].as_str().unwrap().contains("--to"));
    env.set("AXONFLOW_CODEX_UPDATE_TIMEOUT_SECONDS", "soon");
    json_error(&env.run(&["update", "--check", "--json"]), 2, "usage");

    // Failures (exit 1), with the plain cause.
    env.set("AXONFLOW_CODEX_UPDATE_TIMEOUT_SECONDS", "5");
    env.set(
        "AXONFLOW_CODEX_UPDATE_URL",
        &format!("{refused}/manifest.json"),
    );
    let error = json_error(&env.run(&["update", "--check", "--json"]), 1, "failure");
    assert_eq!(
        error["message"],
        format!("cannot fetch {refused}/manifest.json: connection refused")
    );
    env.set("AXONFLOW_ENDPOINT", &refused);
    let error = json_error(&env.run(&["explain", "dec_1", "--json"]), 1, "failure");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .ends_with("could not answer (connection refused)"));
    // check: 2 for anything but an answer, JSON all the same.
    let error = json_error(&env.run(&["check", "--json", "--", "ls"]), 2, "failure");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("connection refused"));
    let nowhere = env.root.join("nowhere").display().to_string();
    env.set("CODEX_HOME", &nowhere);
    json_error(&env.run(&["status", "--json"]), 1, "failure");

    // Without --json the same error is text on stderr, stdout empty.
    let run = env.run(&["status"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
}

#[test]
fn a_failing_doctor_prints_one_document_not_two() {
    let env = TestEnv::new();
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(run.code, 1);
    let document: Value = serde_json::from_str(&run.stdout).expect("exactly one document");
    assert_eq!(document["ok"], false);
    let rows = document["rows"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["name"] == "install" && r["status"] == "fail"));
    assert_eq!(run.stderr, "");
}

#[test]
fn no_colours_without_a_terminal() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    for args in [&["doctor"][..], &["status"], &["doctor", "--json"]] {
        let run = env.run(args);
        assert!(
            !run.stdout.contains('\u{1b}') && !run.stderr.contains('\u{1b}'),
            "{args:?}: {:?}",
            run.stdout
        );
    }
    let run = env.run(&["doctor"]);
    assert!(run.stdout.contains("PASS  enforcement"), "{}", run.stdout);
}

fn doctor_in_pty(env: &TestEnv, no_color: Option<&str>) -> String {
    let mut command = env.command(&["doctor", "--offline"]);
    // The terminal itself, not the environment's pipes.
    command
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .env("TERM", "xterm");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let mut session =
        rexpect::session::spawn_command(command, Some(20_000)).expect("spawn in a pty");
    session.exp_eof().expect("doctor ends")
}

#[test]
fn colours_on_a_terminal_unless_no_color() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);

    let coloured = doctor_in_pty(&env, None);
    // PASS in green, WARN in yellow (no codex on PATH): ANSI colours 32 and 33.
    assert!(coloured.contains("\u{1b}[32mPASS\u{1b}[0m"), "{coloured:?}");
    assert!(coloured.contains("\u{1b}[33mWARN\u{1b}[0m"), "{coloured:?}");

    let plain = doctor_in_pty(&env, Some("1"));
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("PASS  codex home"), "{plain:?}");
    // An empty NO_COLOR does not count (no-color.org).
    assert!(doctor_in_pty(&env, Some("")).contains("\u{1b}[32mPASS"));
}

#[test]
fn doctor_shows_each_row_as_it_finishes() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    // The agent stalls on every policy check: the credentials row waits for it.
    agent.script_always(
        Match::Tool("check_policy"),
        Reply::Delay(Duration::from_secs(4)),
    );

    let started = Instant::now();
    let mut child = env
        .command(&["doctor"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        lines.push((started.elapsed(), line.unwrap()));
    }
    child.wait().unwrap();
    let at = |prefix: &str| {
        lines
            .iter()
            .find(|(_, line)| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {lines:?}"))
            .0
    };
    let local = at("PASS  skills");
    let health = at("PASS  agent health");
    let credentials = at("PASS  credentials");
    assert!(
        credentials >= Duration::from_secs(4),
        "the stalled probe: {credentials:?}"
    );
    assert!(
        local + Duration::from_secs(3) < credentials,
        "local rows at {local:?}, before the stalled probe finished at {credentials:?}"
    );
    assert!(
        health + Duration::from_secs(3) < credentials,
        "health at {health:?}, not held back by the probe at {credentials:?}"
    );
}

#[test]
fn refused_connections_are_named_plainly() {
    let port = closed_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let env = TestEnv::new();
    let install = env.ok(&["install", "-y", "--endpoint", &endpoint]);
    assert!(
        install.stderr.contains(&format!(
            "not live yet: cannot reach {endpoint}/health: connection refused"
        )),
        "{}",
        install.stderr
    );
    let doctor = env.run(&["doctor"]);
    assert_eq!(doctor.code, 1);
    assert!(
        doctor.stdout.contains(&format!(
            "FAIL  agent health     cannot reach {endpoint}/health: connection refused\n"
        )),
        "{}",
        doctor.stdout
    );
    let mut saas = TestEnv::new();
    saas.set(
        "AXONFLOW_REGISTRATION_URL",
        &format!("{endpoint}/api/v1/register"),
    );
    let register = saas.run(&["install", "-y", "--community-saas"]);
    assert_eq!(register.code, 1);
    assert!(
        register
            .stderr
            .contains("\nerror: Community SaaS registration failed: connection refused\n"),
        "{}",
        register.stderr
    );
    for run in [&install, &doctor, &register] {
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("os error") && !all.contains("io: "), "{all}");
    }
}

#[test]
fn help_lists_examples_and_the_environment() {
    let env = TestEnv::new();
    for (command, variables) in [
        (
            "install",
            &[
                "CODEX_HOME",
                "AXONFLOW_ENDPOINT",
                "AXONFLOW_AUTH",
                "NO_COLOR",
            ][..],
        ),
        ("uninstall", &["CODEX_HOME", "NO_COLOR"]),
        (
            "doctor",
            &["AXONFLOW_TIMEOUT_SECONDS", "AXONFLOW_FAIL_MODE", "NO_COLOR"],
        ),
        ("status", &["CODEX_HOME", "NO_COLOR"]),
        (
            "update",
            &[
                "AXONFLOW_CODEX_UPDATE_TIMEOUT_SECONDS",
                "AXONFLOW_CODEX_UPDATE_URL",
                "NO_COLOR",
            ],
        ),
        ("log", &["XDG_STATE_HOME", "NO_COLOR"]),
        ("check", &["AXONFLOW_ENDPOINT", "CODEX_HOME", "NO_COLOR"]),
        ("explain", &["AXONFLOW_ENDPOINT", "CODEX_HOME", "NO_COLOR"]),
    ] {
        let help = env.ok(&[command, "--help"]).stdout;
        assert!(
            help.contains("Example") && help.contains(&format!("axonflow-codex {command}")),
            "{command}: {help}"
        );
        let environment = help
            .split_once("Environment")
            .unwrap_or_else(|| panic!("{command} --help has no Environment section"))
            .1;
        for variable in variables {
            assert!(environment.contains(variable), "{command}: {variable}");
        }
    }
}
