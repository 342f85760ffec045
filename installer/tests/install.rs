//! `axonflow-codex install`, `uninstall` and `status` through the real binary, in
//! temporary homes seeded with realistic user files.

mod support;

use std::time::Duration;

use support::*;

fn hook_binary(env: &TestEnv) -> String {
    env.path("axonflow/bin/axonflow-codex-hook")
        .display()
        .to_string()
}

#[test]
fn fresh_install_writes_everything_codex_needs() {
    let env = TestEnv::new();
    let run = env.ok(&["install", "-y"]);
    assert!(
        run.stdout
            .contains("Installed AxonFlow governance for Codex in"),
        "{}",
        run.stdout
    );

    let hook = hook_binary(&env);
    assert_eq!(mode(std::path::Path::new(&hook)), 0o755);
    let hooks: Value = serde_json::from_str(&env.read("hooks.json")).unwrap();
    assert_eq!(
        hooks,
        json!({"hooks": {
            "PreToolUse": [{"matcher": "Bash|apply_patch|mcp__.*", "hooks": [{"type": "command", "command": format!("{hook} pre-tool-use"), "timeout": 30}]}],
            "PostToolUse": [{"matcher": "Bash|apply_patch|mcp__.*", "hooks": [{"type": "command", "command": format!("{hook} post-tool-use"), "timeout": 30, "statusMessage": "AxonFlow audit"}]}],
            "UserPromptSubmit": [{"hooks": [{"type": "command", "command": format!("{hook} user-prompt-submit"), "timeout": 30}]}]
        }})
    );

    let config = env.read("config.toml");
    let doc: toml_edit::DocumentMut = config.parse().unwrap();
    assert_eq!(
        doc["mcp_servers"]["axonflow"]["url"].as_str(),
        Some("http://localhost:8080/api/v1/mcp-server")
    );
    assert_eq!(
        doc["mcp_servers"]["axonflow"]["http_headers_helper"].as_str(),
        Some(format!("{hook} mcp-headers").as_str())
    );
    let hooks_path = env.path("hooks.json").display().to_string();
    assert_eq!(
        doc["hooks"]["state"][&format!("{hooks_path}:pre_tool_use:0:0")]["trusted_hash"]
            .as_str()
            .unwrap(),
        python_trust_hash(
            "pre_tool_use",
            "Bash|apply_patch|mcp__.*",
            &format!("{hook} pre-tool-use"),
            30,
            None
        )
    );
    assert_eq!(
        doc["hooks"]["state"][&format!("{hooks_path}:post_tool_use:0:0")]["trusted_hash"]
            .as_str()
            .unwrap(),
        python_trust_hash(
            "post_tool_use",
            "Bash|apply_patch|mcp__.*",
            &format!("{hook} post-tool-use"),
            30,
            Some("AxonFlow audit")
        )
    );
    assert_eq!(
        doc["hooks"]["state"][&format!("{hooks_path}:user_prompt_submit:0:0")]["trusted_hash"]
            .as_str()
            .unwrap(),
        python_trust_hash(
            "user_prompt_submit",
            "",
            &format!("{hook} user-prompt-submit"),
            30,
            None
        )
    );

    let settings = env.path("axonflow.toml");
    assert_eq!(mode(&settings), 0o600);
    assert_eq!(
        env.read("axonflow.toml"),
        "# AxonFlow settings for the Codex hooks, written by `axonflow-codex install` (keep it mode 0600).\nendpoint = \"http://localhost:8080\"\nfail_mode = \"open\"\noutput_mode = \"replace\"\n"
    );
    for skill in [
        "pre-execute-check",
        "post-execute-audit",
        "pii-scan",
        "governance-status",
        "audit-search",
        "policy-list",
        "explain-decision",
        "create-override",
        "list-overrides",
        "delete-override",
        "list-recent-decisions",
    ] {
        let text = env.read(&format!("skills/axonflow-{skill}/SKILL.md"));
        assert!(
            text.starts_with("---\n") && text.contains("\ndescription:"),
            "{skill}"
        );
        assert!(
            text.contains("mcp__axonflow__"),
            "{skill} names the MCP tool it uses"
        );
    }
    assert!(env.path("axonflow/receipt.json").is_file());
}

#[test]
fn the_installed_hook_finds_its_settings_from_its_own_location() {
    let mut env = TestEnv::new();
    env.set("AXONFLOW_AUTH", "Y2xpZW50OnMzY3JldA==")
        .secret("Y2xpZW50OnMzY3JldA==");
    env.ok(&["install", "-y"]);
    // Codex runs http_headers_helper with a cleared environment.
    let output = std::process::Command::new(hook_binary(&env))
        .arg("mcp-headers")
        .env_clear()
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "{\"Authorization\": \"Basic Y2xpZW50OnMzY3JldA==\", \"X-Axonflow-Client\": \"codex-plugin/2.0.0\"}\n"
    );
}

#[test]
fn user_files_survive_byte_for_byte_and_uninstall_restores_them() {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.write("hooks.json", USER_HOOKS);
    let before = env.snapshot();

    env.ok(&["install", "-y"]);
    let config = env.read("config.toml");
    assert_keeps_lines(USER_CONFIG, &config);
    let hooks = env.read("hooks.json");
    // Our group is appended after the team's, in the file's own 4-space style.
    let team_group_end = USER_HOOKS
        .find("        ],\n        \"SessionStart\"")
        .unwrap();
    assert_eq!(
        &hooks[..team_group_end - 14],
        &USER_HOOKS[..team_group_end - 14]
    );
    let parsed: Value = serde_json::from_str(&hooks).unwrap();
    assert_eq!(
        parsed["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        json!("/opt/lint/check.sh")
    );
    assert_eq!(parsed["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
    assert_eq!(
        parsed["hooks"]["SessionStart"],
        serde_json::from_str::<Value>(USER_HOOKS).unwrap()["hooks"]["SessionStart"]
    );
    assert!(
        hooks.contains(
            "\n            {\n                \"matcher\": \"Bash|apply_patch|mcp__.*\","
        ),
        "{hooks}"
    );
    // Our PreToolUse group is second: its trust key says so.
    let hooks_path = env.path("hooks.json").display().to_string();
    assert!(
        config.contains(&format!("[hooks.state.\"{hooks_path}:pre_tool_use:1:0\"]")),
        "{config}"
    );
    assert!(
        config.contains(&format!("[hooks.state.\"{hooks_path}:post_tool_use:0:0\"]")),
        "{config}"
    );

    env.ok(&["uninstall", "-y"]);
    assert_eq!(
        env.snapshot(),
        before,
        "uninstall gives back exactly the files as they were"
    );
}

#[test]
fn second_install_changes_nothing() {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.ok(&["install", "-y"]);
    let first = env.snapshot();
    let run = env.ok(&["install", "-y"]);
    assert!(run.stdout.contains("already installed"), "{}", run.stdout);
    assert_eq!(env.snapshot(), first);
}

#[test]
fn dry_run_prints_diffs_and_writes_nothing() {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    let before = env.snapshot();
    let run = env.ok(&["install", "-y", "--dry-run"]);
    assert_eq!(env.snapshot(), before);
    let config_path = env.path("config.toml").display().to_string();
    assert!(
        run.stdout
            .contains(&format!("--- a{config_path}\n+++ b{config_path}\n")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("+[mcp_servers.axonflow]\n"));
    assert!(run.stdout.contains(&format!(
        "--- /dev/null\n+++ b{}\n",
        env.path("hooks.json").display()
    )));
    assert!(
        run.stdout.contains("Binary file"),
        "the hook binary is summarised"
    );

    env.ok(&["install", "-y"]);
    let installed = env.snapshot();
    let run = env.ok(&["uninstall", "-y", "--dry-run"]);
    assert_eq!(env.snapshot(), installed);
    assert!(
        run.stdout.contains("-[mcp_servers.axonflow]\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn dry_run_summarises_first_then_shows_the_users_files_then_ours() {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.write("hooks.json", USER_HOOKS);
    let before = env.snapshot();
    let run = env.ok(&["install", "-y", "--dry-run"]);
    assert_eq!(env.snapshot(), before, "a dry run writes nothing");
    let out = &run.stdout;
    let at = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} is missing:\n{out}"))
    };
    let config = env.path("config.toml").display().to_string();
    let hooks = env.path("hooks.json").display().to_string();
    let settings = env.path("axonflow.toml").display().to_string();
    assert!(
        out.starts_with("Dry run: nothing was written. install would write "),
        "{out}"
    );
    // The summary: the user's files first, then ours, then the entries added to the user's.
    let order = [
        at(&format!("  change   {config} [yours]\n")),
        at(&format!("  change   {hooks} [yours]\n")),
        at(&format!("  create   {settings} [ours]\n")),
        at("Entries in your files:\n  config.toml: [mcp_servers.axonflow] added\n"),
        at("  hooks.json: our PreToolUse group added\n"),
        // Then the user's own files' diffs, config.toml first, and ours after them.
        at("\nYour files:\n"),
        at(&format!("--- a{config}\n+++ b{config}\n")),
        at(&format!("--- a{hooks}\n+++ b{hooks}\n")),
        at("\nOurs:\n"),
        at(&format!("--- /dev/null\n+++ b{settings}\n")),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "out of order: {order:?}\n{out}"
    );
    assert!(at("config.toml: trust recorded for \"") < at("\nYour files:\n"));
    // Each skill is one line, its body is not shown.
    let skills: Vec<&str> = out
        .lines()
        .filter(|l| l.ends_with("/SKILL.md [ours]"))
        .collect();
    let brief: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("/SKILL.md: would create ("))
        .collect();
    assert!(!skills.is_empty() && brief.len() == skills.len(), "{out}");
    for line in &brief {
        assert!(
            line.ends_with(" lines; --verbose shows it)") && line.contains(" bytes, "),
            "{line}"
        );
    }
    assert!(
        !out.contains("+name: axonflow-"),
        "a skill body is shown:\n{out}"
    );
    // --verbose shows them whole.
    let verbose = env.ok(&["install", "-y", "--dry-run", "--verbose"]);
    assert_eq!(
        verbose.stdout.matches("\n+name: axonflow-").count(),
        skills.len(),
        "{}",
        verbose.stdout
    );
    assert!(!verbose.stdout.contains("--verbose shows it"));
    assert_eq!(env.snapshot(), before, "a dry run writes nothing");
}

#[test]
fn uninstall_keeps_edits_made_after_install() {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.write("hooks.json", USER_HOOKS);
    env.ok(&["install", "-y"]);
    let mut config = env.read("config.toml");
    config.push_str("\n[mcp_servers.later]\nurl = \"http://added-later\"\n");
    env.write("config.toml", &config);

    env.ok(&["uninstall", "-y"]);
    let after = env.read("config.toml");
    assert_eq!(
        after,
        format!("{USER_CONFIG}\n[mcp_servers.later]\nurl = \"http://added-later\"\n")
    );
    assert_eq!(env.read("hooks.json"), USER_HOOKS);
    assert!(!env.path("axonflow").exists());
    assert!(!env.path("axonflow.toml").exists());
}

#[test]
fn uninstall_keep_settings_and_status() {
    let env = TestEnv::new();
    let run = env.ok(&["status", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap()["installed"],
        json!(false)
    );

    env.ok(&["install", "-y", "--endpoint", "http://127.0.0.11:8080/"]);
    let status: Value = serde_json::from_str(&env.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["installed"], json!(true));
    assert_eq!(status["installed_version"], json!("2.0.0"));
    assert_eq!(
        status["hook_binary"]["version"],
        json!("axonflow-codex-hook 2.0.0")
    );
    assert_eq!(
        status["mcp_server"]["url"],
        json!("http://127.0.0.11:8080/api/v1/mcp-server")
    );
    assert_eq!(status["skills"]["installed"], json!(11));
    assert_eq!(status["settings"]["mode"], json!("600"));
    assert!(status["hooks_json"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["present"] == json!(true)));
    let human = env.ok(&["status"]).stdout;
    assert!(
        human.contains("AxonFlow governance for Codex 2.0.0 in"),
        "{human}"
    );

    env.ok(&["uninstall", "-y", "--keep-settings"]);
    assert!(env
        .read("axonflow.toml")
        .contains("endpoint = \"http://127.0.0.11:8080\""));
    assert!(!env.path("hooks.json").exists());
    assert!(
        !env.path("config.toml").exists(),
        "a config.toml we created is removed"
    );
    let run = env.ok(&["uninstall", "-y"]);
    assert!(run.stdout.contains("not installed"), "{}", run.stdout);
}

#[test]
fn flags_answer_every_question() {
    let mut env = TestEnv::new();
    env.secret("pa55word-xyz");
    env.ok(&[
        "install",
        "-y",
        "--endpoint",
        "https://127.0.0.12:8443",
        "--client-id",
        "team",
        "--client-secret",
        "pa55word-xyz",
        "--timeout",
        "20",
        "--fail-mode",
        "closed",
        "--output-mode",
        "alert",
        "--govern",
        "bash,mcp",
    ]);
    assert_eq!(
        env.read("axonflow.toml"),
        "# AxonFlow settings for the Codex hooks, written by `axonflow-codex install` (keep it mode 0600).\nendpoint = \"https://127.0.0.12:8443\"\nauth = \"dGVhbTpwYTU1d29yZC14eXo=\"\ntimeout_seconds = \"20\"\nfail_mode = \"closed\"\noutput_mode = \"alert\"\n"
    );
    let config = env.read("config.toml");
    assert!(
        !config.contains("dGVhbTpwYTU1d29yZC14eXo=") && !config.contains("pa55word"),
        "no secret in config.toml"
    );
    let hooks: Value = serde_json::from_str(&env.read("hooks.json")).unwrap();
    assert_eq!(
        hooks["hooks"]["PreToolUse"][0]["matcher"],
        json!("Bash|mcp__.*")
    );
    assert!(
        hooks["hooks"].get("UserPromptSubmit").is_none(),
        "prompts not in --govern"
    );
    assert_eq!(
        hooks["hooks"]["PreToolUse"][0]["hooks"][0]["timeout"],
        json!(33),
        "above the hook's worst case"
    );
}

#[test]
fn environment_variables_answer_too() {
    let mut env = TestEnv::new();
    env.set("AXONFLOW_ENDPOINT", "http://10.1.2.3:9000")
        .set("AXONFLOW_FAIL_MODE", "closed")
        .set("AXONFLOW_LICENSE_TOKEN", "AXON-lic")
        .secret("AXON-lic");
    env.ok(&["install", "-y", "--json"]);
    let settings = env.read("axonflow.toml");
    assert!(settings.contains("endpoint = \"http://10.1.2.3:9000\"\n"));
    assert!(settings.contains("fail_mode = \"closed\"\n"));
    assert!(
        settings.contains("license_token = \"AXON-lic\"\n"),
        "persisted: Codex hides the environment from mcp-headers"
    );
}

#[test]
fn opting_out_of_trust_mcp_and_skills() {
    let env = TestEnv::new();
    env.ok(&[
        "install",
        "-y",
        "--no-trust-hooks",
        "--no-mcp",
        "--no-skills",
    ]);
    assert!(
        !env.path("config.toml").exists(),
        "nothing to put in config.toml"
    );
    assert!(!env.path("skills").exists());
    assert!(env.path("hooks.json").exists());
}

#[test]
fn json_summary_on_stdout_only() {
    let env = TestEnv::new();
    let run = env.ok(&["install", "-y", "--json"]);
    let summary: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON document");
    assert_eq!(summary["changed"], json!(true));
    assert_eq!(summary["matcher"], json!("Bash|apply_patch|mcp__.*"));
    let run = env.ok(&["install", "-y", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(run.stdout.trim()).unwrap()["changed"],
        json!(false)
    );
}

#[test]
fn symlinked_files_and_codex_home_keep_their_links() {
    let env = TestEnv::new();
    let dotfiles = env.root.join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::write(dotfiles.join("config.toml"), USER_CONFIG).unwrap();
    std::fs::write(dotfiles.join("hooks.json"), USER_HOOKS).unwrap();
    std::os::unix::fs::symlink(dotfiles.join("config.toml"), env.path("config.toml")).unwrap();
    std::os::unix::fs::symlink(dotfiles.join("hooks.json"), env.path("hooks.json")).unwrap();

    env.ok(&["install", "-y"]);
    for name in ["config.toml", "hooks.json"] {
        assert!(
            std::fs::symlink_metadata(env.path(name))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name} is still a link"
        );
    }
    let config = std::fs::read_to_string(dotfiles.join("config.toml")).unwrap();
    // Codex keys trust by the canonical path of hooks.json: the link's target.
    assert!(
        config.contains(&format!(
            "[hooks.state.\"{}:pre_tool_use:1:0\"]",
            dotfiles.join("hooks.json").display()
        )),
        "{config}"
    );
    env.ok(&["uninstall", "-y"]);
    assert_eq!(
        std::fs::read_to_string(dotfiles.join("config.toml")).unwrap(),
        USER_CONFIG
    );
    assert_eq!(
        std::fs::read_to_string(dotfiles.join("hooks.json")).unwrap(),
        USER_HOOKS
    );
    assert!(std::fs::symlink_metadata(env.path("config.toml"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_symlinked_codex_home_is_resolved_to_its_real_path() {
    let mut env = TestEnv::new();
    let real = env.root.join("real-codex-home");
    std::fs::create_dir_all(&real).unwrap();
    let link = env.root.join("linked-home");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    env.set("CODEX_HOME", &link.display().to_string());
    env.ok(&["install", "-y"]);
    let config = std::fs::read_to_string(real.join("config.toml")).unwrap();
    assert!(
        config.contains(&format!(
            "[hooks.state.\"{}:pre_tool_use:0:0\"]",
            real.join("hooks.json").display()
        )),
        "{config}"
    );
    assert!(std::fs::read_to_string(real.join("hooks.json"))
        .unwrap()
        .contains(&format!(
            "{}/axonflow/bin/axonflow-codex-hook pre-tool-use",
            real.display()
        )));
}

#[test]
fn crlf_config_stays_crlf_and_round_trips() {
    let env = TestEnv::new();
    let crlf = USER_CONFIG.replace('\n', "\r\n");
    env.write("config.toml", &crlf);
    let before = env.snapshot();
    env.ok(&["install", "-y"]);
    let config = env.read("config.toml");
    assert_keeps_lines(&crlf, &config);
    assert!(
        !config.replace("\r\n", "").contains('\n'),
        "no lone LF added"
    );
    env.ok(&["uninstall", "-y"]);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn inline_mcp_servers_and_an_older_axonflow_entry() {
    let env = TestEnv::new();
    let inline = "mcp_servers = { pg = { command = \"pg-mcp\" } }\n";
    env.write("config.toml", inline);
    env.ok(&["install", "-y", "--no-trust-hooks"]);
    let doc: toml_edit::DocumentMut = env.read("config.toml").parse().unwrap();
    assert_eq!(doc["mcp_servers"]["pg"]["command"].as_str(), Some("pg-mcp"));
    assert!(doc["mcp_servers"]["axonflow"]["url"].is_str());
    env.ok(&["uninstall", "-y"]);
    assert_eq!(env.read("config.toml"), inline);

    // The bash plugin's table (with static headers) is taken over whole.
    let env = TestEnv::new();
    env.write("config.toml", "[mcp_servers.axonflow]\nurl = \"http://old/api/v1/mcp-server\"\n\n[mcp_servers.axonflow.http_headers]\n\"X-Axonflow-Client\" = \"codex-plugin/1.7.0\"\n");
    env.ok(&["install", "-y", "--no-trust-hooks"]);
    let doc: toml_edit::DocumentMut = env.read("config.toml").parse().unwrap();
    let table = doc["mcp_servers"]["axonflow"].as_table().unwrap();
    assert_eq!(
        table.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        ["url", "http_headers_helper"]
    );
}

#[test]
fn community_saas_registers_and_stores_the_credentials() {
    let agent = StandIn::start(AgentConfig::default());
    let endpoint = agent.endpoint();
    agent.update_config(|c| c.registration_endpoint = Some(endpoint.clone()));
    let mut env = TestEnv::new();
    env.set(
        "AXONFLOW_REGISTRATION_URL",
        &format!("{endpoint}/api/v1/register"),
    );
    let run = env.ok(&["install", "-y", "--community-saas"]);
    let notice = run
        .stderr
        .find("is\nintended for basic testing and evaluation.")
        .expect("the evaluation notice");
    let connected = run
        .stderr
        .find("[AxonFlow] Connected to AxonFlow Community SaaS at https://try.getaxonflow.com.")
        .expect("the connection, once made");
    assert!(notice < connected, "{}", run.stderr);
    let request = &agent.requests()[0];
    assert_eq!(request.path, "/api/v1/register");
    let mut names: Vec<String> = request
        .header_names()
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    names.retain(|n| n == "content-type" || n == "x-axonflow-client" || n == "authorization");
    assert_eq!(names, ["content-type", "x-axonflow-client"]);
    let label = request.json.as_ref().unwrap()["label"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(label.starts_with("codex-plugin@2.0.0 / Linux-"), "{label}");
    let settings = env.read("axonflow.toml");
    assert!(settings.contains(&format!("endpoint = \"{endpoint}\"")));
    let auth_line = settings
        .lines()
        .find(|l| l.starts_with("auth = "))
        .expect("auth stored");
    assert!(!run
        .stdout
        .contains(auth_line.trim_start_matches("auth = ").trim_matches('"')));
    let receipt: Value = serde_json::from_str(&env.read("axonflow/receipt.json")).unwrap();
    assert_eq!(
        receipt["registration_expires_at"],
        json!("2099-01-01T00:00:00Z")
    );
}

#[test]
fn community_saas_rate_limit_fails_and_writes_nothing() {
    let agent = StandIn::start(AgentConfig::default());
    agent.update_config(|c| c.registration_rate_limited = true);
    let mut env = TestEnv::new();
    env.set(
        "AXONFLOW_REGISTRATION_URL",
        &format!("{}/api/v1/register", agent.endpoint()),
    );
    let before = env.snapshot();
    let run = env.run(&["install", "-y", "--community-saas"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("rate-limited"), "{}", run.stderr);
    let mut after = env.snapshot();
    after.retain(|k, _| !k.starts_with(".codex/axonflow"));
    let mut before_filtered = before.clone();
    before_filtered.retain(|k, _| !k.starts_with(".codex/axonflow"));
    assert_eq!(after, before_filtered);
    assert!(!env.path("axonflow.toml").exists());
}

#[test]
fn concurrent_installs_end_consistent() {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    let env = std::sync::Arc::new(env);
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let env = env.clone();
            std::thread::spawn(move || env.run(&["install", "-y"]).code)
        })
        .collect();
    for run in runs {
        assert_eq!(run.join().unwrap(), 0);
    }
    let config = env.read("config.toml");
    assert_eq!(
        config.matches("[mcp_servers.axonflow]").count(),
        1,
        "{config}"
    );
    let hooks: Value = serde_json::from_str(&env.read("hooks.json")).unwrap();
    assert_eq!(hooks["hooks"]["PreToolUse"].as_array().unwrap().len(), 1);
    env.ok(&["uninstall", "-y"]);
    assert_eq!(env.read("config.toml"), USER_CONFIG);
}

#[test]
fn status_and_help_exit_quickly_without_a_terminal() {
    let env = TestEnv::new();
    let run = env.ok(&["--version"]);
    assert_eq!(run.stdout, "axonflow-codex 2.0.0\n");
    let run = env.ok(&["install", "--help"]);
    for flag in [
        "--non-interactive",
        "--endpoint",
        "--auth",
        "--client-id",
        "--client-secret",
        "--community-saas",
        "--timeout",
        "--fail-mode",
        "--no-trust-hooks",
        "--no-skills",
        "--no-mcp",
        "--dry-run",
        "--json",
        "--govern",
    ] {
        assert!(run.stdout.contains(flag), "{flag}");
    }
    assert!(run.elapsed < Duration::from_secs(1));
}

#[test]
fn system_scope_installs_managed_hooks_without_trust_or_secrets() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::new();
    let system = env.root.join("etc-codex");
    env.set("AXONFLOW_CODEX_SYSTEM_DIR", &system.display().to_string());

    let run = env.run(&["install", "-y", "--scope", "system", "--auth", "YTpi"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot be used with --scope system"),
        "{}",
        run.stderr
    );
    assert!(!system.exists());

    env.ok(&[
        "install",
        "-y",
        "--scope",
        "system",
        "--endpoint",
        &agent.endpoint(),
        "--fail-mode",
        "closed",
    ]);
    let hook = system.join("axonflow/bin/axonflow-codex-hook");
    let hooks: Value =
        serde_json::from_str(&std::fs::read_to_string(system.join("hooks.json")).unwrap()).unwrap();
    assert_eq!(
        hooks["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        json!(format!("{} pre-tool-use", hook.display()))
    );
    let config = std::fs::read_to_string(system.join("config.toml")).unwrap();
    assert!(
        config.contains("[mcp_servers.axonflow]") && !config.contains("hooks.state"),
        "managed hooks need no trust: {config}"
    );
    assert_eq!(
        mode(&system.join("axonflow.toml")),
        0o644,
        "readable by every user"
    );
    assert!(!system.join("skills").exists());
    assert!(
        !env.path("hooks.json").exists(),
        "the user's own Codex home is untouched"
    );

    // Any user's Codex runs the hook with its own CODEX_HOME: the system settings still apply.
    let output = std::process::Command::new(&hook)
        .arg("pre-tool-use")
        .env_clear()
        .env("HOME", &env.home)
        .env("CODEX_HOME", &env.codex_home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(
                br#"{"tool_name":"Bash","tool_input":{"command":"psql -c 'DROP TABLE x'"}}"#,
            )?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The hook asked (install's own probe asks about a harmless command).
    let asked_about_the_drop = agent
        .rpc_calls_of("check_policy")
        .iter()
        .filter(|call| {
            call.arg_str("statement")
                .is_some_and(|s| s.contains("DROP TABLE"))
        })
        .count();
    assert_eq!(asked_about_the_drop, 1);

    let status: Value =
        serde_json::from_str(&env.ok(&["status", "--scope", "system", "--json"]).stdout).unwrap();
    assert_eq!(status["installed"], json!(true));
    env.ok(&["uninstall", "-y", "--scope", "system"]);
    let left: Vec<_> = std::fs::read_dir(&system)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// An existing settings file that group or others can read is made 0600 before credentials
/// go into it (the hooks would refuse it otherwise, and the secret would be readable).
#[test]
fn a_loose_existing_settings_file_is_made_private() {
    let env = TestEnv::new();
    let settings = env.write("axonflow.toml", "endpoint = \"http://localhost:8080\"\n");
    std::fs::set_permissions(
        &settings,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    env.ok(&["install", "-y", "--auth", "Y2xpZW50OnNlY3JldA=="]);
    assert_eq!(mode(&settings), 0o600);
    assert!(env.read("axonflow.toml").contains("auth = "));

    // Same content, loose mode: the dry run names the fix, the install makes it.
    std::fs::set_permissions(
        &settings,
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let before = env.read("axonflow.toml");
    let dry = env.ok(&["install", "-y", "--dry-run"]);
    assert!(
        dry.stdout.contains(&format!(
            "{}: would set mode 600 (its content stays)",
            settings.display()
        )),
        "{}",
        dry.stdout
    );
    assert_eq!(mode(&settings), 0o640, "a dry run writes nothing");
    env.ok(&["install", "-y"]);
    assert_eq!(mode(&settings), 0o600);
    assert_eq!(env.read("axonflow.toml"), before);
    // And then the hooks accept it.
    let doctor = env.run(&["doctor", "--offline", "--json"]);
    let rows: Value = serde_json::from_str(&doctor.stdout).unwrap();
    let settings_row = rows
        .as_array()
        .or_else(|| rows["rows"].as_array())
        .unwrap()
        .iter()
        .find(|r| r["name"] == json!("settings"))
        .cloned()
        .unwrap();
    assert_eq!(settings_row["status"], json!("pass"), "{settings_row}");
}
