//! Secrets (credentials, license token, user token) never appear in any output, backup,
//! receipt or file other than axonflow.toml, the user-token file and mcp-headers' stdout,
//! across every subcommand's success and error paths.

mod support;

use std::path::Path;

use support::*;

const CLIENT_SECRET: &str = "Sup3r-S3cret-Value-0x5eed";
const LICENSE: &str = "AXON-license-token-XYZZY-secret";
const USER_TOKEN: &str = "user-token-QWERTY-secret";

fn auth() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("team:{CLIENT_SECRET}"))
}

fn secrets() -> Vec<String> {
    vec![
        CLIENT_SECRET.to_string(),
        auth(),
        LICENSE.to_string(),
        USER_TOKEN.to_string(),
    ]
}

fn run_hook(env: &TestEnv, hook: &Path, args: &[&str], stdin: &str) -> (String, String) {
    use std::io::Write as _;
    let mut child = std::process::Command::new(hook)
        .args(args)
        .env_clear()
        .env("HOME", &env.home)
        .env("PATH", "/usr/bin:/bin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every file under `dir` that holds a secret, apart from the two allowed homes of secrets.
fn files_with_secrets(dir: &Path, allowed: &[&Path]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(files_with_secrets(&path, allowed));
        } else if !allowed.contains(&path.as_path()) {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            for secret in secrets() {
                if text.contains(&secret) {
                    found.push(format!("{} holds {}…", path.display(), &secret[..6]));
                }
            }
        }
    }
    found
}

#[test]
fn no_secret_escapes_its_two_files() {
    let agent = StandIn::start(
        AgentConfig::default()
            .with_basic_auth("team", CLIENT_SECRET)
            .with_valid_user_tokens([USER_TOKEN]),
    );
    let mut env = TestEnv::new();
    for secret in secrets() {
        env.secret(&secret);
    }
    let user_token_file = env.home.join(".config/axonflow/user-token.json");
    std::fs::create_dir_all(user_token_file.parent().unwrap()).unwrap();
    std::fs::write(&user_token_file, format!("{{\"token\":\"{USER_TOKEN}\"}}")).unwrap();
    std::fs::set_permissions(
        &user_token_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
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
    let dry = env.ok(&[
        "install",
        "-y",
        "--endpoint",
        &agent.endpoint(),
        "--client-id",
        "team",
        "--client-secret",
        CLIENT_SECRET,
        "--dry-run",
    ]);
    assert!(
        dry.stdout.contains("auth = \"<redacted>\""),
        "{}",
        dry.stdout
    );
    env.ok(&[
        "install",
        "-y",
        "--endpoint",
        &agent.endpoint(),
        "--client-id",
        "team",
        "--client-secret",
        CLIENT_SECRET,
        "--json",
    ]);
    env.ok(&[
        "install",
        "-y",
        "--endpoint",
        &agent.endpoint(),
        "--auth",
        &auth(),
    ]);
    env.ok(&["status"]);
    env.ok(&["status", "--json"]);
    env.ok(&["doctor"]);
    env.ok(&["doctor", "--json"]);
    env.ok(&["uninstall", "-y", "--dry-run"]);

    // The hook: allowed, blocked, a rejected credential, and the MCP headers.
    let hook = env.path("axonflow/bin/axonflow-codex-hook");
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
        let (stdout, stderr) = run_hook(&env, &hook, args, payload);
        for secret in secrets() {
            assert!(
                !stdout.contains(&secret) && !stderr.contains(&secret),
                "{args:?} printed a secret"
            );
        }
    }
    let (headers, _) = run_hook(&env, &hook, &["mcp-headers"], "");
    assert!(
        headers.contains(&auth()) && headers.contains(LICENSE) && headers.contains(USER_TOKEN),
        "mcp-headers carries them: {headers}"
    );
    agent.update_config(|c| c.auth = Some(("team".into(), "rotated".into())));
    let (stdout, stderr) = run_hook(
        &env,
        &hook,
        &["pre-tool-use"],
        r#"{"tool_name":"Bash","tool_input":{"command":"ls"}}"#,
    );
    assert!(stderr.contains("rejected the credentials"), "{stderr}");
    for secret in secrets() {
        assert!(!stdout.contains(&secret) && !stderr.contains(&secret));
    }
    env.run(&["doctor"]);
    env.run(&["update", "--check"]);

    let settings = env.path("axonflow.toml");
    assert_eq!(mode(&settings), 0o600);
    let leaks = files_with_secrets(&env.home, &[&settings, &user_token_file]);
    assert!(leaks.is_empty(), "{leaks:#?}");
    let config = env.read("config.toml");
    assert!(!config.contains(&auth()), "never in config.toml");

    env.ok(&["uninstall", "-y"]);
    let leaks = files_with_secrets(&env.home, &[&user_token_file]);
    assert!(leaks.is_empty(), "after uninstall: {leaks:#?}");
}

#[test]
fn settings_that_predate_us_are_neither_backed_up_nor_removed() {
    let env = TestEnv::new();
    let old = format!("# from the bash plugin\nendpoint = \"http://old:8080\"\nauth = \"{}\"\ntenant_id = \"cs_1\"\n", auth());
    let settings = env.write("axonflow.toml", &old);
    std::fs::set_permissions(
        &settings,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    env.ok(&["install", "-y", "--endpoint", "http://127.0.0.13:8080"]);
    let now = env.read("axonflow.toml");
    assert!(
        now.contains("endpoint = \"http://127.0.0.13:8080\"")
            && now.contains("tenant_id = \"cs_1\""),
        "{now}"
    );
    let leaks = files_with_secrets(&env.home, &[&settings]);
    assert!(
        leaks.is_empty(),
        "no backup holds the old credentials: {leaks:#?}"
    );
    env.ok(&["uninstall", "-y"]);
    assert!(settings.exists(), "settings that were there before us stay");
}
