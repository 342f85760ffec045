//! The second release line's protection through the installer: the UserPromptSubmit group and
//! its trust, `--govern prompts`, `--output-mode`, `status` and the doctor rows.

mod support;

use support::*;

fn hook_command(env: &TestEnv, subcommand: &str) -> String {
    let receipt: Value = serde_json::from_str(&env.read("axonflow/receipt.json")).unwrap();
    format!("{} {subcommand}", receipt["hook_binary"].as_str().unwrap())
}

fn prompt_trust_key(env: &TestEnv) -> String {
    format!(
        "{}:user_prompt_submit:0:0",
        env.path("hooks.json").display()
    )
}

fn trusted_hash(env: &TestEnv, key: &str) -> Option<String> {
    let config = std::fs::read_to_string(env.path("config.toml")).ok()?;
    let doc: toml_edit::DocumentMut = config.parse().unwrap();
    doc.get("hooks")?
        .get("state")?
        .get(key)?
        .get("trusted_hash")?
        .as_str()
        .map(str::to_string)
}

fn doctor_row(env: &TestEnv, name: &str) -> (String, String) {
    let run = env.run(&["doctor", "--json"]);
    let report: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON document");
    let row = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == json!(name))
        .unwrap_or_else(|| panic!("no row {name}: {}", run.stdout))
        .clone();
    (
        row["status"].as_str().unwrap().to_string(),
        row["detail"].as_str().unwrap().to_string(),
    )
}

#[test]
fn reinstalling_over_an_install_without_prompts_adds_the_group_and_uninstall_removes_it() {
    let env = TestEnv::new();
    let before = env.snapshot();
    // An install of the first release line governed the three tools only.
    env.ok(&["install", "-y", "--govern", "bash,apply-patch,mcp"]);
    let hooks: Value = serde_json::from_str(&env.read("hooks.json")).unwrap();
    assert!(hooks["hooks"].get("UserPromptSubmit").is_none());
    assert_eq!(trusted_hash(&env, &prompt_trust_key(&env)), None);

    let run = env.ok(&["install", "-y"]);
    assert!(
        run.stdout
            .contains("governs   bash, apply-patch, mcp, prompts"),
        "{}",
        run.stdout
    );
    let hooks: Value = serde_json::from_str(&env.read("hooks.json")).unwrap();
    let command = hook_command(&env, "user-prompt-submit");
    assert_eq!(
        hooks["hooks"]["UserPromptSubmit"],
        json!([{"hooks": [{"type": "command", "command": command, "timeout": 30}]}]),
        "no matcher: Codex ignores it for this event"
    );
    assert_eq!(
        trusted_hash(&env, &prompt_trust_key(&env)),
        Some(python_trust_hash(
            "user_prompt_submit",
            "",
            &command,
            30,
            None
        ))
    );
    // The tool groups were not duplicated, and a third run changes nothing.
    assert_eq!(hooks["hooks"]["PreToolUse"].as_array().unwrap().len(), 1);
    let settled = env.snapshot();
    env.ok(&["install", "-y"]);
    assert_eq!(env.snapshot(), settled);

    env.ok(&["uninstall", "-y"]);
    assert_eq!(env.snapshot(), before, "uninstall removed every trace");
}

#[test]
fn prompts_alone_install_only_the_prompt_group_with_a_timeout_above_the_worst_case() {
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--govern", "prompts", "--timeout", "25"]);
    let hooks: Value = serde_json::from_str(&env.read("hooks.json")).unwrap();
    let events: Vec<&String> = hooks["hooks"].as_object().unwrap().keys().collect();
    assert_eq!(events, ["UserPromptSubmit"]);
    assert_eq!(
        hooks["hooks"]["UserPromptSubmit"][0]["hooks"][0]["timeout"],
        json!(38),
        "25 s request + 3 s + margin"
    );
    let status: Value = serde_json::from_str(env.ok(&["status", "--json"]).stdout.trim()).unwrap();
    assert_eq!(status["governed"], json!(["prompts"]));
}

#[test]
fn output_mode_is_persisted_and_shown_like_fail_mode() {
    let mut env = TestEnv::new();
    env.ok(&["install", "-y", "--output-mode", "alert"]);
    assert!(env
        .read("axonflow.toml")
        .contains("output_mode = \"alert\"\n"));
    // A re-install without the flag keeps the stored answer.
    env.ok(&["install", "-y"]);
    assert!(env
        .read("axonflow.toml")
        .contains("output_mode = \"alert\"\n"));
    let status = env.ok(&["status"]);
    assert!(
        status
            .stdout
            .contains("governs   bash, apply-patch, mcp, prompts (output_mode alert)"),
        "{}",
        status.stdout
    );
    let status: Value = serde_json::from_str(env.ok(&["status", "--json"]).stdout.trim()).unwrap();
    assert_eq!(status["output_mode"], json!("alert"));
    assert_eq!(
        status["governed"],
        json!(["bash", "apply-patch", "mcp", "prompts"])
    );

    env.set("AXONFLOW_OUTPUT_MODE", "replace");
    env.ok(&["install", "-y"]);
    assert!(env
        .read("axonflow.toml")
        .contains("output_mode = \"replace\"\n"));

    let run = env.run(&["install", "-y", "--output-mode", "redact"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: invalid value 'redact' for '--output-mode <MODE>'\n  [possible values: replace, alert]\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn doctor_reports_the_prompt_group_the_output_mode_and_output_scanning() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    env.ok(&["install", "-y", "--endpoint", &agent.endpoint()]);
    let (status, detail) = doctor_row(&env, "prompt hook");
    assert_eq!(status, "pass", "{detail}");
    assert_eq!(doctor_row(&env, "output mode").0, "pass");
    let (status, detail) = doctor_row(&env, "output scanning");
    assert_eq!(status, "pass", "{detail}");
    assert!(detail.contains("1*********9"), "{detail}");
    let sample = agent
        .rpc_calls_of("check_output")
        .into_iter()
        .find(|c| c.id == json!("doctor-pii"))
        .expect("the PII sample was sent");
    assert!(sample.arg_str("message").unwrap().contains("123-45-6789"));

    // An agent that scans nothing fails the row.
    agent.script(
        Match::Tool("check_output"),
        Reply::ToolResultText("{\"allowed\": true, \"policies_evaluated\": 0}".into()),
    );
    let (status, detail) = doctor_row(&env, "output scanning");
    assert_eq!(status, "fail", "{detail}");
    assert!(detail.contains("unredacted"), "{detail}");

    // Trust changed behind our back: the prompt row fails.
    let key = prompt_trust_key(&env);
    let config = env.read("config.toml");
    let hash = trusted_hash(&env, &key).unwrap();
    env.write(
        "config.toml",
        &config.replace(
            &hash,
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ),
    );
    let (status, detail) = doctor_row(&env, "prompt hook");
    assert_eq!(status, "fail", "{detail}");

    // Alert mode and an install without prompts are warnings, with the fix.
    env.ok(&["install", "-y", "--output-mode", "alert"]);
    assert_eq!(doctor_row(&env, "output mode").0, "warn");
    let other = TestEnv::new();
    other.ok(&[
        "install",
        "-y",
        "--endpoint",
        &agent.endpoint(),
        "--govern",
        "bash",
    ]);
    let (status, detail) = doctor_row(&other, "prompt hook");
    assert_eq!(status, "warn");
    assert!(detail.contains("prompts are not governed"), "{detail}");
}
