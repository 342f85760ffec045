//! Ownership follows our entries: whatever anyone else writes into config.toml or hooks.json
//! between install, re-install (with changed answers) and uninstall survives the uninstall.

mod support;

use support::*;

const MINE_TOML: &str = "\n[mcp_servers.mine]\ncommand = \"mine\" # the user's own server\n";

fn add_user_group(env: &TestEnv, event: &str, command: &str) {
    let mut hooks: Value = serde_json::from_str(&env.read("hooks.json")).unwrap();
    let groups = hooks["hooks"]
        .as_object_mut()
        .unwrap()
        .entry(event)
        .or_insert(json!([]));
    groups
        .as_array_mut()
        .unwrap()
        .push(json!({"hooks": [{"type": "command", "command": command}]}));
    env.write("hooks.json", &serde_json::to_string_pretty(&hooks).unwrap());
}

fn append(env: &TestEnv, relative: &str, text: &str) {
    let mut current = env.read(relative);
    current.push_str(text);
    env.write(relative, &current);
}

fn commands(hooks_json: &str, event: &str) -> Vec<String> {
    let hooks: Value = serde_json::from_str(hooks_json).unwrap();
    hooks["hooks"][event]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["hooks"].as_array().unwrap().clone())
        .map(|h| h["command"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn edits_made_between_install_and_a_changed_reinstall_survive_uninstall() {
    // The reproduction, with a config.toml that existed before and one that did not.
    for seeded in [true, false] {
        let env = TestEnv::new();
        if seeded {
            env.write("config.toml", USER_CONFIG);
            env.write("hooks.json", USER_HOOKS);
        }
        env.ok(&["install", "-y"]);
        append(&env, "config.toml", MINE_TOML);
        add_user_group(&env, "SessionStart", "echo mine");
        add_user_group(&env, "PreToolUse", "/opt/mine/pre.sh");
        env.ok(&[
            "install",
            "-y",
            "--endpoint",
            "http://127.0.0.1:9",
            "--govern",
            "bash",
            "--timeout",
            "3",
        ]);
        env.ok(&["uninstall", "-y"]);

        let config = env.read("config.toml");
        assert!(
            config.contains(MINE_TOML.trim()),
            "seeded {seeded}:\n{config}"
        );
        assert!(!config.contains("axonflow"), "seeded {seeded}:\n{config}");
        if seeded {
            assert!(config.starts_with(USER_CONFIG), "{config}");
        }
        let hooks = env.read("hooks.json");
        assert!(
            commands(&hooks, "SessionStart").contains(&"echo mine".to_string()),
            "seeded {seeded}:\n{hooks}"
        );
        assert!(
            commands(&hooks, "PreToolUse").contains(&"/opt/mine/pre.sh".to_string()),
            "seeded {seeded}:\n{hooks}"
        );
        assert!(!hooks.contains("axonflow"), "seeded {seeded}:\n{hooks}");
    }
}

#[test]
fn an_unedited_file_is_still_restored_byte_for_byte_after_reinstalls() {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.write("hooks.json", USER_HOOKS);
    let before = env.snapshot();
    env.ok(&["install", "-y"]);
    env.ok(&["install", "-y", "--endpoint", "http://127.0.0.1:9"]);
    env.ok(&[
        "install",
        "-y",
        "--govern",
        "bash,mcp",
        "--fail-mode",
        "closed",
    ]);
    env.ok(&["uninstall", "-y"]);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_trust_entry_the_user_recorded_at_our_old_key_is_kept() {
    let env = TestEnv::new();
    env.ok(&["install", "-y"]);
    let hooks_path = env.path("hooks.json").display().to_string();
    let key = format!("{hooks_path}:pre_tool_use:0:0");
    // The user puts a group of their own first (ours moves to index 1, a re-install trusts
    // it there), then trusts their group at index 0 in Codex's /hooks.
    let mut hooks: Value = serde_json::from_str(&env.read("hooks.json")).unwrap();
    hooks["hooks"]["PreToolUse"].as_array_mut().unwrap().insert(
        0,
        json!({"hooks": [{"type": "command", "command": "/opt/mine/first.sh"}]}),
    );
    env.write("hooks.json", &serde_json::to_string_pretty(&hooks).unwrap());
    env.ok(&["install", "-y"]);
    let config = env.read("config.toml");
    let users_hash = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let mut doc: toml_edit::DocumentMut = config.parse().unwrap();
    doc["hooks"]["state"][&key]["trusted_hash"] = toml_edit::value(users_hash);
    env.write("config.toml", &doc.to_string());

    env.ok(&["uninstall", "-y"]);
    let doc: toml_edit::DocumentMut = env.read("config.toml").parse().unwrap();
    assert_eq!(
        doc["hooks"]["state"][&key]["trusted_hash"].as_str(),
        Some(users_hash),
        "{doc}"
    );
    assert!(!doc.to_string().contains(":pre_tool_use:1:0"), "{doc}");
    assert!(doc.get("mcp_servers").is_none(), "{doc}");
}

#[test]
fn a_skill_file_edited_since_install_is_kept_by_uninstall() {
    let env = TestEnv::new();
    env.ok(&["install", "-y"]);
    let edited = "skills/axonflow-pii-scan/SKILL.md";
    let text = format!(
        "{}\nMy team's notes: scan before every release.\n",
        env.read(edited)
    );
    env.write(edited, &text);
    let run = env.ok(&["uninstall", "-y"]);
    assert!(
        run.stdout.contains(&format!(
            "kept     {} (edited since install)",
            env.path(edited).display()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(env.read(edited), text);
    assert!(!env.path("skills/axonflow-audit-search").exists());
    assert!(!env.path("axonflow").exists());
}
