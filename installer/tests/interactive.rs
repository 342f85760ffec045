//! The interactive install: its logic through scripted answers (no terminal), and the real
//! dialoguer prompts through a pseudo-terminal.

mod support;

use std::path::PathBuf;

use axonflow_codex::commands::install::{self, InstallContext, InstallOptions};
use axonflow_codex::ui::prompt::ScriptedPrompter;
use axonflow_codex_hook::host_env::HostEnv;
use support::*;

fn host_env(env: &TestEnv, extra: &[(&str, &str)]) -> HostEnv {
    let mut vars = vec![
        ("HOME".to_string(), env.home.display().to_string()),
        ("PATH".to_string(), "/usr/bin:/bin".to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    HostEnv::from_vars(vars)
}

fn hook_source() -> PathBuf {
    PathBuf::from(INSTALLER).with_file_name("axonflow-codex-hook")
}

fn install_with(
    env: &TestEnv,
    extra: &[(&str, &str)],
    answers: &[&str],
) -> (axonflow_codex::error::Result<()>, ScriptedPrompter) {
    let mut prompter = ScriptedPrompter::new(answers);
    let host = host_env(env, extra);
    let result = install::run(
        &InstallOptions::default(),
        InstallContext {
            env: &host,
            prompter: Some(&mut prompter),
            hook_source: hook_source(),
        },
    );
    (result, prompter)
}

#[test]
fn questions_in_order_and_answers_persisted() {
    let env = TestEnv::new();
    let (result, prompter) = install_with(
        &env,
        &[],
        &[
            "Self",
            "http://127.0.0.9:8080/",
            "y",
            "team",
            "s3cret",
            "15",
            "closed",
            "n",
            "",
            "y",
        ],
    );
    result.unwrap();
    assert_eq!(
        prompter.asked,
        [
            "Where is your AxonFlow agent?",
            "AxonFlow agent URL",
            "Does the agent require credentials (client id and secret)?",
            "Client id",
            "Client secret",
            "Request timeout in seconds",
            "When the agent cannot be reached",
            "Enter another AxonFlow agent URL?",
            "Record trust for these hooks now?",
            "Apply these changes?",
        ]
    );
    assert!(
        prompter.shown[0].starts_with("warning: AxonFlow governance is not live yet: cannot reach http://127.0.0.9:8080/health"),
        "{}",
        prompter.shown[0]
    );
    assert!(
        prompter.shown[1].contains(&format!(
            "{}/axonflow/bin/axonflow-codex-hook pre-tool-use",
            env.codex_home.display()
        )),
        "the commands are shown before trust is asked"
    );
    assert_eq!(
        env.read("axonflow.toml"),
        "# AxonFlow settings for the Codex hooks, written by `axonflow-codex install` (keep it mode 0600).\nendpoint = \"http://127.0.0.9:8080\"\nauth = \"dGVhbTpzM2NyZXQ=\"\ntimeout_seconds = \"15\"\nfail_mode = \"closed\"\noutput_mode = \"replace\"\n"
    );
    assert!(env.read("config.toml").contains("trusted_hash"));
}

#[test]
fn flags_and_variables_skip_their_questions() {
    let env = TestEnv::new();
    let (result, prompter) = install_with(
        &env,
        &[
            ("AXONFLOW_ENDPOINT", "http://127.0.0.9:1"),
            ("AXONFLOW_FAIL_MODE", "open"),
            ("AXONFLOW_TIMEOUT_SECONDS", "9"),
        ],
        &["n", "n", "", ""],
    );
    result.unwrap();
    assert_eq!(
        prompter.asked,
        [
            "Does the agent require credentials (client id and secret)?",
            "Enter another AxonFlow agent URL?",
            "Record trust for these hooks now?",
            "Apply these changes?"
        ]
    );
}

#[test]
fn declining_trust_records_none_and_declining_changes_writes_nothing() {
    let env = TestEnv::new();
    let (result, _) = install_with(&env, &[], &["", "", "n", "", "", "n", "n", "y"]);
    result.unwrap();
    assert!(!env.read("config.toml").contains("hooks.state"));

    let env = TestEnv::new();
    let before = env.snapshot();
    let (result, _) = install_with(&env, &[], &["", "", "n", "", "", "n", "", "n"]);
    assert_eq!(
        result.unwrap_err().message,
        "install cancelled; nothing was changed"
    );
    let mut after = env.snapshot();
    after.retain(|k, _| !k.starts_with(".codex/axonflow"));
    assert_eq!(after, before);
}

#[test]
fn choosing_community_saas_shows_the_notice_and_registers() {
    let agent = StandIn::start(AgentConfig::default());
    // The registration hands out the stand-in as the endpoint, so the probe stays on loopback.
    let endpoint = agent.endpoint();
    agent.update_config(|c| c.registration_endpoint = Some(endpoint.clone()));
    let url = format!("{}/api/v1/register", agent.endpoint());
    let env = TestEnv::new();
    let (result, prompter) = install_with(
        &env,
        &[("AXONFLOW_REGISTRATION_URL", &url)],
        &["AxonFlow Community", "y", "", "", "", ""],
    );
    result.unwrap();
    assert!(prompter.shown[0].starts_with(
        "[AxonFlow] AxonFlow Community SaaS (https://try.getaxonflow.com) is\nintended for basic testing"
    ));
    assert_eq!(
        prompter.shown[1],
        "[AxonFlow] Connected to AxonFlow Community SaaS at https://try.getaxonflow.com."
    );
    assert_eq!(
        prompter.asked[1],
        "Register with AxonFlow Community SaaS now?"
    );
    assert!(
        !prompter.asked.iter().any(|q| q.contains("credentials")),
        "registration supplies them"
    );
    assert!(env
        .read("axonflow.toml")
        .contains(&format!("endpoint = \"{endpoint}\"")));
}

// ---- a real terminal ----------------------------------------------------------------------

fn spawn_in_pty(env: &TestEnv, args: &[&str]) -> rexpect::session::PtySession {
    let mut command = std::process::Command::new(INSTALLER);
    command
        .args(args)
        .env_clear()
        .env("HOME", &env.home)
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    rexpect::session::spawn_command(command, Some(20_000)).expect("spawn in a pty")
}

/// Waits for the question, lets the prompt switch the terminal to raw mode (which discards
/// input typed too early), then types the keys.
fn answer(p: &mut rexpect::session::PtySession, question: &str, keys: &str) {
    p.exp_string(question)
        .unwrap_or_else(|e| panic!("waiting for {question:?}: {e}"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send(keys).unwrap();
    p.flush().unwrap();
}

#[test]
fn dialoguer_prompts_on_a_real_terminal() {
    let env = TestEnv::new();
    let mut p = spawn_in_pty(&env, &["install"]);
    answer(&mut p, "Where is your AxonFlow agent?", "\r"); // the first item: self-hosted
    answer(&mut p, "AxonFlow agent URL", "http://127.0.0.10:8080\r");
    answer(&mut p, "require credentials", "y");
    answer(&mut p, "Client id", "pty-client\r");
    answer(&mut p, "Client secret", "hidden-pty-secret\r");
    answer(&mut p, "Request timeout in seconds", "\r"); // keep the default
    answer(&mut p, "When the agent cannot be reached", "\x1b[B\r"); // arrow down: closed
    answer(&mut p, "Enter another AxonFlow agent URL?", "n"); // nothing listens there
    answer(&mut p, "Record trust for these hooks now?", "y");
    answer(&mut p, "Apply these changes?", "y");
    let rest = p.exp_eof().unwrap();
    assert!(
        rest.contains("Installed AxonFlow governance for Codex"),
        "{rest}"
    );
    let settings = env.read("axonflow.toml");
    assert!(settings.contains("endpoint = \"http://127.0.0.10:8080\""));
    assert!(settings.contains("fail_mode = \"closed\""));
    assert!(
        !settings.contains("timeout_seconds"),
        "the default timeout is left to each hook"
    );
    assert!(
        !rest.contains("hidden-pty-secret"),
        "the secret is never echoed"
    );
    assert!(!rest.contains("\u{1b}[3"), "NO_COLOR: no colour codes");
}

#[test]
fn uninstall_asks_before_removing() {
    let env = TestEnv::new();
    env.ok(&["install", "-y"]);
    let mut p = spawn_in_pty(&env, &["uninstall"]);
    answer(&mut p, "Uninstall AxonFlow governance from Codex?", "n");
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("uninstall cancelled"), "{rest}");
    assert!(env.path("hooks.json").exists());
}

#[test]
fn an_agent_that_does_not_answer_offers_to_re_enter_the_endpoint() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    let (result, prompter) = install_with(
        &env,
        &[("AXONFLOW_ENDPOINT", "http://127.0.0.1:9")],
        &["n", "", "", "y", &agent.endpoint(), "", ""],
    );
    result.unwrap();
    assert_eq!(
        prompter.asked,
        [
            "Does the agent require credentials (client id and secret)?",
            "Request timeout in seconds",
            "When the agent cannot be reached",
            "Enter another AxonFlow agent URL?",
            "AxonFlow agent URL",
            "Record trust for these hooks now?",
            "Apply these changes?"
        ]
    );
    assert!(
        prompter.shown[0].contains("not live yet: cannot reach http://127.0.0.1:9/health"),
        "{}",
        prompter.shown[0]
    );
    assert!(env
        .read("axonflow.toml")
        .contains(&format!("endpoint = \"{}\"", agent.endpoint())));
    assert!(!agent.rpc_calls_of("check_policy").is_empty(), "probed");
}
