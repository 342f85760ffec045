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

// ---- item 13: a password inside the endpoint URL ------------------------------------------

#[test]
fn userinfo_in_the_endpoint_is_refused_and_its_password_never_shown() {
    let agent = StandIn::start(AgentConfig::default());
    let with_password = agent.endpoint().replace("http://", "http://id:PASSWORD9@");
    let mut env = TestEnv::new();
    env.secret("PASSWORD9");
    for args in [
        vec!["install", "-y", "--endpoint", with_password.as_str()],
        vec![
            "install",
            "-y",
            "--dry-run",
            "--endpoint",
            with_password.as_str(),
        ],
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("--client-id"), "{}", run.stderr);
    }
    env.set("AXONFLOW_ENDPOINT", &with_password);
    let run = env.run(&["install", "-y"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("user name or password"),
        "{}",
        run.stderr
    );
    assert!(!env.path("config.toml").exists(), "nothing was written");

    // Settings written by hand (or an older install): the hooks refuse them, and nothing
    // prints the password.
    let mut env = TestEnv::new();
    env.secret("PASSWORD9");
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    let settings = env
        .read("axonflow.toml")
        .replace(&agent.endpoint(), &with_password);
    env.write("axonflow.toml", &settings);
    let config = env
        .read("config.toml")
        .replace(&agent.endpoint(), &with_password);
    env.write("config.toml", &config);
    for args in [
        &["doctor"][..],
        &["doctor", "--json"],
        &["status"],
        &["status", "--json"],
    ] {
        let run = env.run(args);
        assert!(run.code <= 1, "{args:?}: {}", run.stderr);
    }
    let doctor = env.run(&["doctor"]);
    assert!(
        doctor
            .stdout
            .contains("must not hold a user name or password"),
        "{}",
        doctor.stdout
    );
    let run = env.run_installed_hook(
        &["pre-tool-use"],
        r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#,
    );
    let stderr = run.stderr;
    assert_eq!(run.code, 2, "a settings error blocks: {stderr}");
    assert!(!stderr.contains("PASSWORD9"), "{stderr}");
    assert!(stderr.contains("user name or password"), "{stderr}");
}

// ---- item 15: messages that mislead ---------------------------------------------------------

#[test]
fn community_saas_says_connected_only_after_connecting() {
    let agent = StandIn::start(AgentConfig::default());
    agent.update_config(|c| c.registration_rate_limited = true);
    let mut env = TestEnv::new();
    env.set(
        "AXONFLOW_REGISTRATION_URL",
        &format!("{}/api/v1/register", agent.endpoint()),
    );
    let refused = env.run(&["install", "-y", "--community-saas"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    let dry = env.ok(&["install", "-y", "--community-saas", "--dry-run"]);
    for run in [&refused, &dry] {
        assert!(
            run.stderr.contains("intended for basic testing"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("Connected"), "{}", run.stderr);
    }
}

#[test]
fn codex_home_that_is_a_file_or_holds_a_tilde_is_named_as_such() {
    let mut env = TestEnv::new();
    let file = env.root.join("a-file");
    std::fs::write(&file, "").unwrap();
    env.set("CODEX_HOME", &file.display().to_string());
    for args in [&["install", "-y"][..], &["doctor"], &["status"]] {
        let run = env.run(args);
        let output = format!("{}{}", run.stdout, run.stderr);
        assert_ne!(run.code, 0);
        assert!(output.contains("is not a directory"), "{args:?}: {output}");
        assert!(!output.contains("does not exist"), "{args:?}: {output}");
    }
    env.set("CODEX_HOME", "~/.codex");
    let run = env.run(&["install", "-y"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("`~` in CODEX_HOME is not expanded"),
        "{}",
        run.stderr
    );
}

// ---- item 5: the dry run prints no secret, whatever its shape -----------------------------

#[test]
fn the_dry_run_hides_secrets_in_every_shape() {
    let mut env = TestEnv::new();
    let settings = "# mine\n\"auth\" = \"U0VDUkVUMTppZDE=\"\nendpoint = \"http://127.0.0.1:9\"\nnotes = \"\"\"\nfirst\nCONTINUED2\n\"\"\"\nsecret = \"LEGACY3\"\ntenant_id = \"TENANT4\"\nclient_secret = 'CLIENT5'\nlicense_token = \"\"\"\nLICENSE6\"\"\"\n[legacy]\nuser_token = \"USER7\"\n";
    env.write("axonflow.toml", settings);
    std::fs::set_permissions(
        env.path("axonflow.toml"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    env.write(
        "config.toml",
        "[mcp_servers.gh]\nurl = \"https://gh.example/mcp\"\nhttp_headers = { \"Authorization\" = \"Bearer GHTOKEN8\" }\n",
    );
    for secret in [
        "U0VDUkVUMTppZDE=",
        "LEGACY3",
        "TENANT4",
        "CLIENT5",
        "LICENSE6",
        "USER7",
        "GHTOKEN8",
    ] {
        env.secret(secret);
    }
    let run = env.ok(&[
        "install",
        "-y",
        "--dry-run",
        "--endpoint",
        "http://127.0.0.1:10",
    ]);
    assert!(
        run.stdout.contains("+endpoint = \"http://127.0.0.1:10\""),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("<redacted>"), "{}", run.stdout);
    let json = env.ok(&[
        "install",
        "-y",
        "--dry-run",
        "--json",
        "--endpoint",
        "http://127.0.0.1:10",
    ]);
    assert!(json.stdout.contains("<redacted>"), "{}", json.stdout);
    // The continuation lines of a multi-line secret are hidden too; other strings are not.
    assert!(
        run.stdout.contains("CONTINUED2"),
        "a non-secret multi-line string is shown"
    );
}

// ---- item 7: a hooks.json Codex rejects whole ------------------------------------------------

#[test]
fn a_hooks_json_codex_rejects_is_refused_with_line_and_cause_and_fails_doctor() {
    let agent = StandIn::start(AgentConfig::default());
    let handler = r#"{"type": "command", "command": "/opt/x"}"#;
    let cases = [
        (
            format!("{{\n  \"hooks\": {{}},\n  \"hooks\": {{\"PreToolUse\": [{{\"hooks\": [{handler}]}}]}}\n}}\n"),
            "line 3, column 3: duplicate field \"hooks\"",
        ),
        (
            "{\"hooks\": {\n  \"PreToolUse\": [1]\n}}\n".to_string(),
            "line 2, column 18: each group in \"hooks\".\"PreToolUse\" must be an object",
        ),
        (
            format!("{{\"hooks\": {{\"Stop\": [{{\"hooks\": [{handler}]}}],\n \"Stop\": []}}}}"),
            "line 2, column 2: duplicate field \"Stop\"",
        ),
        (
            "{\"hooks\": {\"PostToolUse\": [{\"hooks\": {}}]}}".to_string(),
            "a group's \"hooks\" (a list of handlers) must be an array",
        ),
        (
            "{\"hooks\": {\"PreToolUse\": [{\"hooks\": [\"/opt/x\"]}]}}".to_string(),
            "each handler must be an object",
        ),
        (
            "{\"hooks\": {\"PreToolUse\": [{\"hooks\": [{\"command\": \"/opt/x\"}]}]}}".to_string(),
            "a handler is missing \"type\"",
        ),
        (
            "{\"hooks\": {\"PreToolUse\": [{\"matcher\": 3, \"hooks\": []}]}}".to_string(),
            "\"matcher\" must be a string",
        ),
        (
            r#"{"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": "/a", "command": "/b"}]}]}}"#.to_string(),
            "duplicate field \"command\"",
        ),
        (
            "{\"hooks\": {\"PreToolUse\": [{\"hooks\": [{\"type\": \"command\", \"command\": \"/a\", \"timeout\": -1}]}]}}".to_string(),
            "\"timeout\" must be a whole number of seconds",
        ),
        (
            "{\"description\": 1, \"hooks\": {}}".to_string(),
            "\"description\" must be a string",
        ),
    ];
    for (contents, cause) in &cases {
        let env = TestEnv::new();
        let path = env.write("hooks.json", contents);
        let before = env.snapshot();
        let run = env.run(&["install", "-y", "--endpoint", &agent.endpoint()]);
        assert_eq!(run.code, 1, "{contents}\n{}", run.stderr);
        assert!(
            run.stderr.contains(&path.display().to_string()) && run.stderr.contains(cause),
            "{contents}\n{}",
            run.stderr
        );
        let mut after = env.snapshot();
        after.retain(|k, _| !k.starts_with(".codex/axonflow"));
        assert_eq!(after, before, "no file changed");
    }
    // Installed first, broken afterwards: doctor fails the hooks.json row.
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    let hooks = env.read("hooks.json");
    let broken = hooks.replacen("\"hooks\": {", "\"hooks\": {\"SessionStart\": [1], ", 1);
    env.write("hooks.json", &broken);
    let run = env.run(&["doctor"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("FAIL  hooks.json")
            && run
                .stdout
                .contains("each group in \"hooks\".\"SessionStart\" must be an object"),
        "{}",
        run.stdout
    );
}

#[test]
fn what_codex_ignores_in_hooks_json_is_accepted() {
    let env = TestEnv::new();
    env.write(
        "hooks.json",
        r#"{"description": null, "hooks": {"FutureEvent": 7, "Other": [1, 2],
           "PreToolUse": [{"matcher": null, "hooks": [{"type": "prompt", "prompt": "x"},
             {"type": "command", "command": "/opt/x", "timeout": 0, "async": false, "extra": [1], "statusMessage": null}]},
             {"matcher": "Bash"}]}}"#,
    );
    env.ok(&["install", "-y", "--endpoint", "http://127.0.0.1:9"]);
}

// ---- item 11: features that switch hooks off ------------------------------------------------

#[test]
fn hooks_switched_off_by_a_feature_fail_doctor_or_warn_in_a_trusted_project() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    let config = env.read("config.toml");
    for switch in [
        "[features]\nhooks = false\n",
        "features.codex_hooks = false\n",
    ] {
        let switched = if switch.starts_with('[') {
            format!("{config}\n{switch}")
        } else {
            format!("{switch}{config}")
        };
        env.write("config.toml", &switched);
        let run = env.run(&["doctor"]);
        assert_eq!(run.code, 1, "{switch}: {}", run.stdout);
        assert!(
            run.stdout.contains("FAIL  codex features")
                && run.stdout.contains("Codex runs no hooks"),
            "{}",
            run.stdout
        );
    }
    env.write("config.toml", &config);

    // A project below the current directory's repository root turns them off.
    let project = env.root.join("src/app");
    let cwd = project.join("crates/inner");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    std::fs::create_dir_all(project.join(".codex")).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(
        project.join(".codex/config.toml"),
        "[features]\nhooks = false\n",
    )
    .unwrap();
    let doctor_in = |dir: &std::path::Path| {
        let output = env.command(&["doctor"]).current_dir(dir).output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, stdout) = doctor_in(&cwd);
    assert_eq!(
        code,
        Some(0),
        "an untrusted project's config is not loaded: {stdout}"
    );
    assert!(!stdout.contains("codex features"), "{stdout}");
    env.write(
        "config.toml",
        &format!(
            "{config}\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            project.display()
        ),
    );
    let (code, stdout) = doctor_in(&cwd);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("WARN  codex features")
            && stdout.contains(&project.join(".codex/config.toml").display().to_string()),
        "{stdout}"
    );
}

// ---- item 8: update against a server that accepts and never answers ------------------------

/// Accepts connections and never answers (holding them open), as a stuck proxy does.
fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    base
}

/// Answers every request with `body` (200, JSON).
fn one_document_server(body: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

#[test]
fn update_never_hangs_on_a_silent_server() {
    let mut env = TestEnv::new();
    // A copy of the installer: an update that went wrong must not replace the one under test.
    let bin = env.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let installer = bin.join("axonflow-codex");
    std::fs::copy(INSTALLER, &installer).unwrap();
    env.set("AXONFLOW_CODEX_UPDATE_TIMEOUT_SECONDS", "2");
    let silent = silent_server();
    let target = if cfg!(target_os = "macos") {
        format!("{}-apple-darwin", std::env::consts::ARCH)
    } else {
        format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
    };
    let manifest = json!({"schema": 1, "releases": [{"version": "9.0.0", "assets": [{
        "name": format!("axonflow-codex-{target}.tar.gz"),
        "url": format!("{silent}/axonflow-codex-{target}.tar.gz"),
        "digest": format!("sha256:{}", "0".repeat(64)),
    }]}]})
    .to_string();
    let listing = one_document_server(manifest);
    let cases = [
        ("AXONFLOW_CODEX_GITHUB_API", silent.clone(), vec!["--check"]),
        (
            "AXONFLOW_CODEX_UPDATE_URL",
            format!("{silent}/manifest.json"),
            vec!["--check"],
        ),
        (
            "AXONFLOW_CODEX_UPDATE_URL",
            format!("{listing}/manifest.json"),
            vec![],
        ),
    ];
    for (variable, value, args) in cases {
        let mut env = TestEnv::new();
        env.set("AXONFLOW_CODEX_UPDATE_TIMEOUT_SECONDS", "2");
        env.set(variable, &value);
        let mut all = vec!["update"];
        all.extend(args.iter().copied());
        let run = env.run_binary(&installer, &all);
        assert_eq!(
            run.code, 1,
            "{variable} {args:?}: {}\n{}",
            run.stdout, run.stderr
        );
        assert!(
            run.elapsed < std::time::Duration::from_secs(20),
            "{:?}",
            run.elapsed
        );
        // The cause in plain words with the bound, never the library's `timeout: global`.
        assert!(
            run.stderr.contains(": no answer within 2 s"),
            "{variable}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("timeout: global"), "{}", run.stderr);
    }
    env.set("AXONFLOW_CODEX_UPDATE_TIMEOUT_SECONDS", "soon");
    let run = env.run_binary(&installer, &["update", "--check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

// ---- item 4: install says plainly when governance is not live ------------------------------

#[test]
fn install_probes_the_agent_and_says_when_governance_is_not_live() {
    // Nothing listens: installed, exit 0, and said plainly.
    let env = TestEnv::new();
    let run = env.ok(&["install", "-y", "--endpoint", "http://127.0.0.1:9"]);
    assert!(
        run.stderr.contains(
            "warning: AxonFlow governance is not live yet: cannot reach http://127.0.0.1:9/health"
        ) && run.stderr.contains("every tool call is allowed unchecked"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("agent     NOT LIVE"), "{}", run.stdout);
    let json = env.ok(&[
        "install",
        "-y",
        "--json",
        "--endpoint",
        "http://127.0.0.1:9",
    ]);
    let summary: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(summary["agent"]["live"], json!(false));

    // --require-agent: a failure, and nothing written.
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    let before = env.snapshot();
    let run = env.run(&[
        "install",
        "-y",
        "--require-agent",
        "--endpoint",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("governance is not live"),
        "{}",
        run.stderr
    );
    let mut after = env.snapshot();
    after.retain(|k, _| !k.starts_with(".codex/axonflow"));
    assert_eq!(after, before, "nothing was changed");

    // An endpoint that answers, but is not an agent, or rejects the credentials.
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("team", "right"));
    let mut env = TestEnv::new();
    env.secret("wrong-pw");
    let run = env.run(&[
        "install",
        "-y",
        "--require-agent",
        "--endpoint",
        &agent.endpoint(),
        "--client-id",
        "team",
        "--client-secret",
        "wrong-pw",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("rejected the credentials"),
        "{}",
        run.stderr
    );
    let run = env.ok(&[
        "install",
        "-y",
        "--require-agent",
        "--endpoint",
        &agent.endpoint(),
        "--client-id",
        "team",
        "--client-secret",
        "right",
    ]);
    assert!(!run.stderr.contains("not live"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("agent     answering at {}", agent.endpoint())),
        "{}",
        run.stdout
    );
}

// ---- doctor: items 2, 4 and 16 ------------------------------------------------------------------

#[test]
fn a_throttle_that_allows_without_asking_is_never_a_pass() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    env.write_throttle(3600, "free_tier_daily");
    let run = env.run(&["doctor", "--json"]);
    let rows = doctor_rows(&run);
    for name in ["enforcement", "hook binary", "throttle"] {
        let DoctorRow { status, detail, .. } = find_row(&rows, name);
        assert_eq!(status, "warn", "{name}: {detail}");
        assert!(detail.contains("without asking"), "{name}: {detail}");
    }
}

#[test]
fn the_hook_row_never_passes_on_an_allow_only_fail_open_produced() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&[
        "install",
        "-y",
        "--endpoint",
        &agent.endpoint(),
        "--fail-mode",
        "open",
    ]);
    // doctor's own probes are answered; the hook's request is dropped, so only fail-open
    // would let it through.
    agent.script_always(Match::RpcId("hook-pre"), Reply::Close);
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let rows = doctor_rows(&run);
    assert_eq!(find_row(&rows, "credentials").status, "pass");
    let DoctorRow { status, detail, .. } = find_row(&rows, "hook binary");
    assert_eq!(status, "fail", "{detail}");
    assert!(detail.contains("could not reach the agent"), "{detail}");
}

#[test]
fn doctor_reports_the_throttle_and_hook_after_clearing_the_auth_cooldown() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("team", "right"));
    let env = TestEnv::installed_with_credentials(&agent, "team", "right");
    // A stale cooldown from an earlier bad password (the credentials are right now).
    env.write_throttle(300, "auth_failure");
    let run = env.run(&["doctor", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let rows = doctor_rows(&run);
    assert!(!rows.iter().any(|r| r.name == "throttle"), "{rows:?}");
    assert_eq!(find_row(&rows, "hook binary").status, "pass", "{rows:?}");
}

#[test]
fn doctor_shows_the_network_rows_it_could_not_check_and_why() {
    let names = [
        "plugin version",
        "credentials",
        "harmless check",
        "latency",
        "enforcement",
        "output scanning",
        "hook binary",
    ];
    // 401.
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("team", "right"));
    let env = TestEnv::installed_with_credentials(&agent, "team", "wrong-pw");
    let rows = env.doctor_rows(&[]);
    for name in names {
        assert!(
            rows.iter().any(|r| r.name == name),
            "{name} missing after a 401: {rows:?}"
        );
    }
    for name in ["harmless check", "latency", "enforcement", "hook binary"] {
        let DoctorRow { status, detail, .. } = find_row(&rows, name);
        assert_eq!(status, "skip", "{name}");
        assert!(
            detail.contains("rejected the credentials"),
            "{name}: {detail}"
        );
    }
    // Down.
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    drop(agent);
    let run = env.run(&["doctor"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("SKIP  hook binary")
            && l.ends_with("not checked: the agent cannot be reached, so with fail_mode open the hooks allow every tool call unchecked")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with(", 6 not checked\n"),
        "the summary counts them: {}",
        run.stdout
    );
    let rows = env.doctor_rows(&[]);
    for name in names {
        assert!(
            rows.iter().any(|r| r.name == name),
            "{name} missing when down: {rows:?}"
        );
    }
}

// ---- item 16: re-installing over kept settings keeps their comments -------------------------

#[test]
fn re_installing_over_kept_settings_keeps_their_header_and_comments() {
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", "http://127.0.0.1:9"]);
    env.ok(&["uninstall", "-y", "--keep-settings"]);
    let kept = env.read("axonflow.toml");
    let header = kept.lines().next().unwrap().to_string();
    assert!(header.starts_with("# AxonFlow settings"), "{kept}");
    let edited = kept.replace(
        "fail_mode = \"open\"",
        "# mine: open while we pilot\nfail_mode = \"open\" # trailing note",
    );
    env.write("axonflow.toml", &edited);
    env.ok(&[
        "install",
        "-y",
        "--endpoint",
        "http://127.0.0.1:10",
        "--fail-mode",
        "closed",
    ]);
    let now = env.read("axonflow.toml");
    assert!(
        now.starts_with(&format!("{header}\nendpoint = \"http://127.0.0.1:10\"\n")),
        "{now}"
    );
    assert!(
        now.contains("# mine: open while we pilot\nfail_mode = \"closed\" # trailing note"),
        "{now}"
    );
}

/// A FIFO, or a link to `/dev/zero`, where the installer reads the user's files (hooks.json,
/// config.toml, axonflow.toml): install, doctor, status and uninstall used to block on the
/// FIFO for ever, or read `/dev/zero` until memory ran out (7.5 GB in 5 s). Each is now a
/// refusal naming the file, at once, with nothing written.
#[test]
fn a_fifo_or_a_device_in_place_of_a_users_file_is_refused_not_read() {
    let agent = StandIn::start(AgentConfig::default());
    let endpoint = agent.endpoint();
    for name in ["config.toml", "hooks.json", "axonflow.toml"] {
        for kind in ["fifo", "/dev/zero"] {
            let env = TestEnv::new();
            let path = env.codex_home.join(name);
            if kind == "fifo" {
                let status = std::process::Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap();
                assert!(status.success());
            } else {
                std::os::unix::fs::symlink(kind, &path).unwrap();
            }
            let before = env.snapshot();
            let run = env.run(&["install", "-y", "--endpoint", &endpoint]);
            assert_eq!(
                run.code, 1,
                "{name} as {kind}: {}\n{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stderr.contains(name) && run.stderr.contains("not a regular file"),
                "{name} as {kind}: {}",
                run.stderr
            );
            assert_eq!(
                env.snapshot(),
                before,
                "{name} as {kind}: something was written"
            );
        }
    }

    // After an install, the same in place of config.toml and hooks.json: every command that
    // reads them answers at once.
    for name in ["config.toml", "hooks.json"] {
        let env = TestEnv::installed(&agent);
        let path = env.codex_home.join(name);
        std::fs::remove_file(&path).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        for args in [
            vec!["status"],
            vec!["doctor", "--offline"],
            vec!["uninstall", "-y"],
            vec!["install", "-y", "--endpoint", endpoint.as_str()],
        ] {
            let run = env.run(&args);
            assert!(
                run.code == 1 && run.stdout.contains("not a regular file")
                    || run.stderr.contains("not a regular file"),
                "{name}: {args:?} exited {}: {}\n{}",
                run.code,
                run.stdout,
                run.stderr
            );
        }
    }
}

/// `[features] hooks = false` in the user's config.toml means Codex runs no hook at all:
/// install used to say "Installed" and nothing else; doctor failed only later. Install still
/// installs (the user may switch hooks on next), but says so.
#[test]
fn install_warns_when_codex_hooks_are_switched_off() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.write("config.toml", "[features]\nhooks = false\n");
    let run = env.run(&["install", "-y", "--endpoint", &agent.endpoint()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("[features] hooks = false")
            && run.stderr.contains("Codex runs no hooks"),
        "{}",
        run.stderr
    );
    let quiet = TestEnv::new();
    let run = quiet.run(&["install", "-y", "--endpoint", &agent.endpoint()]);
    assert!(
        !run.stderr.contains("Codex runs no hooks"),
        "{}",
        run.stderr
    );
}
