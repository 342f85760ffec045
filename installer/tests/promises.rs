//! Issue 10: promises kept under hostile use (closed pipes, secrets in odd places, files Codex
//! rejects, silent servers, switched-off features, a dead agent at install time).

mod support;

use std::process::{Output, Stdio};

use support::*;

/// Runs with a stdout whose reader is already gone, so every write fails with EPIPE.
fn with_closed_stdout(env: &TestEnv, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = env
        .command(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    output
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_code_the_work_deserves() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    let install = with_closed_stdout(&env, &["install", "-y", "--endpoint", &agent.endpoint()]);
    assert_eq!(install.status.code(), Some(0), "{install:?}");
    assert!(env.path("hooks.json").is_file(), "the install was done");
    let stderr = String::from_utf8_lossy(&install.stderr);
    assert!(!stderr.contains("error"), "{stderr}");
    for args in [
        &["status"][..],
        &["doctor"],
        &["doctor", "--json"],
        &[
            "install",
            "-y",
            "--dry-run",
            "--endpoint",
            "http://127.0.0.1:9",
        ],
    ] {
        let run = with_closed_stdout(&env, args);
        assert_eq!(run.status.code(), Some(0), "{args:?}: {run:?}");
        assert!(run.stderr.is_empty(), "{args:?}: {run:?}");
    }
    // Work that fails still fails.
    let missing = TestEnv::new();
    let run = with_closed_stdout(&missing, &["doctor"]);
    assert_eq!(run.status.code(), Some(1));
}

#[test]
fn a_full_stdout_is_an_error_with_a_message() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    for args in [&["doctor"][..], &["status"], &["status", "--json"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let run = env
            .command(args)
            .stdout(Stdio::from(full))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.contains("cannot write the output: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}
