//! Install's settings through the real binary: it accepts exactly the values the hooks accept
//! (flags, variables and axonflow.toml), says which value is wrong in the hooks' own words, and
//! shows where each setting comes from.

mod support;

use support::*;

/// Nothing listens there: the probe fails at once, on loopback.
const SILENT_AGENT: &str = "http://127.0.0.1:9";

/// The settings doctor (the hooks' own resolution) reports for the current files.
fn hooks_view(env: &TestEnv) -> Value {
    let doctor: Value =
        serde_json::from_str(&env.run(&["doctor", "--offline", "--json"]).stdout).unwrap();
    doctor["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["name"] == json!("settings"))
        .cloned()
        .unwrap()
}

fn settings_file(env: &TestEnv, line: &str) -> std::path::PathBuf {
    let path = env.write(
        "axonflow.toml",
        &format!("endpoint = \"{SILENT_AGENT}\"\n{line}\n"),
    );
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    path
}

#[test]
fn install_accepts_exactly_the_settings_file_values_the_hooks_accept() {
    let cases = [
        // (line, the flag that replaces the key; None: accepted)
        ("timeout_seconds = 0", Some("--timeout")),
        ("timeout_seconds = -1", Some("--timeout")),
        ("timeout_seconds = \"soon\"", Some("--timeout")),
        ("timeout_seconds = 4294967296", Some("--timeout")),
        ("timeout_seconds = 1.5", None),
        ("timeout_seconds = true", None),
        ("fail_mode = \"maybe\"", Some("--fail-mode")),
        ("fail_mode = 1", None),
        ("output_mode = \"redact\"", Some("--output-mode")),
        ("auth = \"not base64\"", Some("--auth")),
    ];
    for (line, flag) in cases {
        let env = TestEnv::new();
        let path = settings_file(&env, line);
        let hooks = hooks_view(&env);
        assert_eq!(
            hooks["status"],
            json!("fail"),
            "{line}: the hooks refuse it"
        );
        let detail = hooks["detail"].as_str().unwrap();
        let before = env.snapshot();
        let run = env.run(&["install", "-y"]);
        assert_eq!(run.code, 1, "{line}: {}", run.stderr);
        // The hooks' words; a value of the right type can be replaced by its flag.
        let expected = match flag {
            Some(flag) => {
                let key = line.split(' ').next().unwrap();
                format!(
                    "error: {detail}\nhint: correct `{key}` in {}, or give {flag} to replace it\n",
                    path.display()
                )
            }
            None => format!("error: {detail}\n"),
        };
        assert_eq!(run.stderr, expected, "{line}");
        assert_eq!(env.snapshot(), before, "{line}: nothing written");
    }

    for line in [
        "timeout_seconds = 12",
        "timeout_seconds = \"12\"",
        "fail_mode = \"closed\"",
        "output_mode = \"alert\"",
        "auth = \"Y2xpZW50OnNlY3JldA==\"",
    ] {
        let env = TestEnv::new();
        settings_file(&env, line);
        assert_eq!(hooks_view(&env)["status"], json!("pass"), "{line}");
        env.ok(&["install", "-y"]);
        assert_eq!(hooks_view(&env)["status"], json!("pass"), "{line}");
    }
}

#[test]
fn a_flag_or_a_variable_replaces_a_refused_file_value() {
    let mut env = TestEnv::new();
    settings_file(&env, "timeout_seconds = 0\nfail_mode = \"maybe\"");
    env.set("AXONFLOW_FAIL_MODE", "closed");
    env.ok(&["install", "-y", "--timeout", "12"]);
    let settings = env.read("axonflow.toml");
    assert!(
        settings.contains("timeout_seconds = \"12\"\n")
            && settings.contains("fail_mode = \"closed\"\n"),
        "{settings}"
    );
    // The hooks, without the variable, read the same values from the file alone.
    env.set("AXONFLOW_FAIL_MODE", "");
    let hooks = hooks_view(&env);
    assert_eq!(hooks["status"], json!("pass"), "{hooks}");
    assert!(
        hooks["detail"]
            .as_str()
            .unwrap()
            .contains("fail_mode closed"),
        "{hooks}"
    );
}

#[test]
fn flags_and_variables_the_hooks_would_refuse_are_usage_errors() {
    let mut env = TestEnv::new();
    let before = env.snapshot();
    for (args, stderr) in [
        (
            &["--timeout", "0"][..],
            "error: invalid value '0' for '--timeout <SECS>': the timeout must be a positive whole number of seconds\n\nFor more information, try '--help'.\n",
        ),
        (
            &["--timeout", "4294967296"],
            "error: invalid value '4294967296' for '--timeout <SECS>': the timeout must be a positive whole number of seconds\n\nFor more information, try '--help'.\n",
        ),
        (
            &["--fail-mode", "maybe"],
            "error: invalid value 'maybe' for '--fail-mode <MODE>'\n  [possible values: open, closed]\n\nFor more information, try '--help'.\n",
        ),
        (
            &["--output-mode", "redact"],
            "error: invalid value 'redact' for '--output-mode <MODE>'\n  [possible values: replace, alert]\n\n  tip: a similar value exists: 'replace'\n\nFor more information, try '--help'.\n",
        ),
    ] {
        let run = env.run(&[&["install", "-y"][..], args].concat());
        assert_eq!((run.code, run.stderr.as_str()), (2, stderr), "{args:?}");
    }
    env.set("AXONFLOW_TIMEOUT_SECONDS", "0");
    let run = env.run(&["install", "-y"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            2,
            "error: AXONFLOW_TIMEOUT_SECONDS must be a positive whole number of seconds\n"
        )
    );
    assert_eq!(env.snapshot(), before, "nothing written");
}

#[test]
fn the_dry_run_shows_each_setting_and_where_it_comes_from() {
    let mut env = TestEnv::new();
    let path = settings_file(
        &env,
        "output_mode = \"alert\"\nauth = \"Y2xpZW50OnNlY3JldA==\"",
    );
    env.secret("Y2xpZW50OnNlY3JldA==");
    env.set("AXONFLOW_FAIL_MODE", "closed");
    let run = env.ok(&["install", "-y", "--dry-run", "--timeout", "20"]);
    let expected = format!(
        "\nSettings for {} (and where each comes from):\n\
         \x20 endpoint      {SILENT_AGENT}  (from axonflow.toml)\n\
         \x20 auth          set  (from axonflow.toml)\n\
         \x20 timeout       20 s  (from --timeout)\n\
         \x20 fail_mode     closed  (from AXONFLOW_FAIL_MODE)\n\
         \x20 output_mode   alert  (from axonflow.toml)\n\
         \x20 license_token none  (default)\n",
        path.display()
    );
    assert!(run.stdout.ends_with(&expected), "{}", run.stdout);

    let json = env.ok(&["install", "-y", "--dry-run", "--json"]);
    let _: Value = serde_json::from_str(&json.stdout).expect("--json stays one JSON value");
}

#[test]
fn a_successful_install_says_when_codex_picks_the_hooks_up() {
    let env = TestEnv::new();
    let run = env.ok(&["install", "-y", "--endpoint", SILENT_AGENT]);
    assert!(
        run.stdout.ends_with(
            "The next Codex session picks the hooks up (a session already open keeps what it started with).\nNext: axonflow-codex doctor\n"
        ),
        "{}",
        run.stdout
    );
    let again = env.ok(&["install", "-y", "--endpoint", SILENT_AGENT]);
    assert!(
        again.stdout.contains("nothing changed") && !again.stdout.contains("next Codex session"),
        "{}",
        again.stdout
    );
}
