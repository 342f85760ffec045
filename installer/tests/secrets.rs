//! Secrets (credentials, license token, user token) never appear in any output, backup,
//! receipt or file other than axonflow.toml, the user-token file and mcp-headers' stdout,
//! across every subcommand's success and error paths.

mod support;

use support::*;

const CLIENT_SECRET: &str = "Sup3r-S3cret-Value-0x5eed";
const LICENSE: &str = "AXON-license-token-XYZZY-secret";
const USER_TOKEN: &str = "user-token-QWERTY-secret";

fn auth() -> String {
    basic("team", CLIENT_SECRET)
}

fn secrets() -> Vec<String> {
    vec![
        CLIENT_SECRET.to_string(),
        auth(),
        LICENSE.to_string(),
        USER_TOKEN.to_string(),
    ]
}

/// A test environment in which every run, and the files, are scanned for the secrets.
fn env_with_secrets() -> TestEnv {
    let mut env = TestEnv::new();
    for secret in secrets() {
        env.secret(&secret);
    }
    env
}

#[test]
fn no_secret_escapes_its_two_files() {
    let agent = StandIn::start(
        AgentConfig::default()
            .with_basic_auth("team", CLIENT_SECRET)
            .with_valid_user_tokens([USER_TOKEN]),
    );
    let mut env = env_with_secrets();
    let user_token_file = env.config_dir.join("axonflow/user-token.json");
    write_private(
        &user_token_file,
        &format!("{{\"token\":\"{USER_TOKEN}\"}}"),
        0o600,
    );
    env.write("config.toml", USER_CONFIG);
    env.set("AXONFLOW_LICENSE_TOKEN", LICENSE);

    // Error paths first, while nothing is installed.
    env.run(&[
        "install",
        "-y",
        "--endpoint",
        "ftp://nope",
        "--auth",
        &auth(),
    ]);
    env.run(&["install", "--auth", &auth()]);
    env.run(&[
        "install",
        "-y",
        "--scope",
        "system",
        "--client-id",
        "team",
        "--client-secret",
        CLIENT_SECRET,
    ]);
    env.run(&["doctor", "--offline"]);

    // Success paths.
    let credentials = ["--client-id", "team", "--client-secret", CLIENT_SECRET];
    let dry = env.install(&agent, &[&credentials[..], &["--dry-run"]].concat());
    assert!(
        dry.stdout.contains("auth = \"<redacted>\""),
        "{}",
        dry.stdout
    );
    env.install(&agent, &[&credentials[..], &["--json"]].concat());
    env.install(&agent, &["--auth", &auth()]);
    env.ok(&["status"]);
    env.ok(&["status", "--json"]);
    env.ok(&["doctor"]);
    env.ok(&["doctor", "--json"]);
    env.ok(&["uninstall", "-y", "--dry-run"]);

    // The hook (with the settings install wrote, the license token among them): allowed,
    // blocked, a rejected credential, and the MCP headers. Every run is scanned.
    env.unset("AXONFLOW_LICENSE_TOKEN");
    for (args, payload) in [
        (
            &["pre-tool-use"][..],
            r#"{"tool_name":"Bash","tool_input":{"command":"ls"}}"#,
        ),
        (
            &["pre-tool-use"],
            r#"{"tool_name":"Bash","tool_input":{"command":"psql -c 'DROP TABLE x'"}}"#,
        ),
        (
            &["post-tool-use"],
            r#"{"tool_name":"Bash","tool_input":{"command":"cat"},"tool_response":"SSN 123-45-6789"}"#,
        ),
        (
            &["user-prompt-submit"],
            r#"{"hook_event_name":"UserPromptSubmit","prompt":"my ssn is 123-45-6789"}"#,
        ),
        (
            &["user-prompt-submit"],
            r#"{"hook_event_name":"UserPromptSubmit","prompt":"write a haiku"}"#,
        ),
    ] {
        env.run_installed_hook(args, payload);
    }
    let headers = env.run_installed_hook(&["mcp-headers"], "").stdout;
    assert!(
        headers.contains(&auth()) && headers.contains(LICENSE) && headers.contains(USER_TOKEN),
        "mcp-headers carries them: {headers}"
    );
    agent.update_config(|c| c.auth = Some(("team".into(), "rotated".into())));
    let rejected = env.run_installed_hook(
        &["pre-tool-use"],
        r#"{"tool_name":"Bash","tool_input":{"command":"ls"}}"#,
    );
    assert!(
        rejected.stderr.contains("rejected the credentials"),
        "{}",
        rejected.stderr
    );
    // The rejected credentials leave an audit in the spool, and the journal has every
    // decision above: neither holds a secret (checked with every file below).
    env.run_installed_hook(
        &["post-tool-use"],
        r#"{"tool_name":"Bash","tool_input":{"command":"cat"},"tool_response":"SSN 123-45-6789"}"#,
    );
    env.set("AXONFLOW_LICENSE_TOKEN", LICENSE);
    let state = env.spool_dir();
    assert!(state.join("audit-spool.jsonl").is_file());
    assert!(state.join("journal.jsonl").is_file());
    env.run(&["log"]);
    env.run(&["log", "--json"]);
    env.run(&["check", "--", "ls"]);
    env.run(&["explain", "dec_1"]);
    env.run(&["doctor"]);
    env.run(&["update", "--check"]);

    let settings = env.path("axonflow.toml");
    assert_eq!(mode(&settings), 0o600);
    let leaks = env.files_holding_secrets(&[&settings, &user_token_file]);
    assert!(leaks.is_empty(), "{leaks:#?}");
    let config = env.read("config.toml");
    assert!(!config.contains(&auth()), "never in config.toml");

    env.ok(&["uninstall", "-y"]);
    let leaks = env.files_holding_secrets(&[&user_token_file]);
    assert!(leaks.is_empty(), "after uninstall: {leaks:#?}");
}

#[test]
fn settings_that_predate_us_are_neither_backed_up_nor_removed() {
    let env = env_with_secrets();
    let old = format!("# from the bash plugin\nendpoint = \"http://old:8080\"\nauth = \"{}\"\ntenant_id = \"cs_1\"\n", auth());
    let settings = env.write_settings(&old);
    env.ok(&["install", "-y", "--endpoint", "http://127.0.0.13:8080"]);
    let now = env.read("axonflow.toml");
    assert!(
        now.contains("endpoint = \"http://127.0.0.13:8080\"")
            && now.contains("tenant_id = \"cs_1\""),
        "{now}"
    );
    let leaks = env.files_holding_secrets(&[&settings]);
    assert!(
        leaks.is_empty(),
        "no backup holds the old credentials: {leaks:#?}"
    );
    env.ok(&["uninstall", "-y"]);
    assert!(settings.exists(), "settings that were there before us stay");
}
