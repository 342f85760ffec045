//! Error paths: each names the file, line and cause, exits 1 (2 for usage), and leaves every
//! file as it was. Every message, with its hints, is kept whole as an insta snapshot
//! (`tests/snapshots/errors__*.snap`), paths and ports filtered.

mod support;

use std::time::Duration;

use insta::assert_snapshot;
use support::*;

/// Several runs in one snapshot: each as `$ axonflow-codex <args>` then its rendering.
fn transcript(env: &TestEnv, runs: &[(String, Run)]) -> String {
    runs.iter()
        .map(|(args, run)| format!("$ axonflow-codex {args}\n{}\n", env.render(run)))
        .collect()
}

#[test]
fn no_terminal_and_no_yes_fails_fast_naming_the_flags() {
    let env = TestEnv::new();
    let before = env.snapshot();
    let run = env.run(&["install"]);
    assert_eq!(run.code, 2);
    assert!(
        run.elapsed < Duration::from_secs(1),
        "took {:?}",
        run.elapsed
    );
    assert_snapshot!("no_terminal", env.render(&run));
    assert_eq!(env.snapshot(), before);

    let run = env.run(&[
        "install",
        "--endpoint",
        "http://127.0.0.9:1",
        "--timeout",
        "5",
        "--fail-mode",
        "open",
        "--auth",
        "YTpi",
    ]);
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("not given here"), "{}", run.stderr);
    assert_snapshot!("no_terminal_every_answer_given", env.render(&run));

    env.ok(&["install", "-y"]);
    let run = env.run(&["uninstall"]);
    assert_eq!(run.code, 2);
    assert_snapshot!("no_terminal_uninstall", env.render(&run));
}

#[test]
fn malformed_config_toml_stops_with_file_line_and_cause() {
    let env = TestEnv::new();
    let path = env.write(
        "config.toml",
        "model = \"gpt-5.5\"\n[mcp_servers.pg\nurl = 1\n",
    );
    env.write("hooks.json", USER_HOOKS);
    let before = env.snapshot();
    let run = env.run(&["install", "-y"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(&format!(
            "error: {} is not valid TOML (line 2, column ",
            path.display()
        )),
        "{}",
        run.stderr
    );
    assert_snapshot!("malformed_config_toml", env.render(&run));
    let mut after = env.snapshot();
    after.retain(|k, _| !k.starts_with(".codex/axonflow"));
    assert_eq!(after, before, "no file changed");
    assert!(!env.path("axonflow/bin").exists());
}

/// Shapes of config.toml that splices cannot edit: refused with the shape and a hint, install
/// and uninstall alike, and nothing written.
#[test]
fn config_toml_shapes_that_cannot_be_spliced_are_refused_with_a_hint() {
    let env = TestEnv::new();
    for (config, shape, hint) in [
        (
            "mcp_servers.axonflow.url = \"https://old.example.com/mcp\"\n",
            "`mcp_servers.axonflow` is made of dotted keys",
            "hint: write it as a [table] of its own (or delete it), then run the command again; nothing was changed\n",
        ),
        (
            "[[mcp_servers.axonflow]]\nurl = \"https://old.example.com/mcp\"\n",
            "`[[mcp_servers.axonflow]]` is an array of tables",
            "hint: write it as a [table] of its own (or delete it), then run the command again; nothing was changed\n",
        ),
        (
            "mcp_servers = \"none\"\n",
            "`mcp_servers` is not a table, so the axonflow MCP server cannot be added",
            "hint: fix the file, or install with --no-mcp; nothing was changed\n",
        ),
    ] {
        let path = env.write("config.toml", config);
        let before = env.snapshot();
        let run = env.run(&["install", "-y"]);
        assert_eq!(run.code, 1, "{config:?}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!("error: {} cannot be edited in place: {shape}\n{hint}", path.display()),
            "{config:?}"
        );
        let mut after = env.snapshot();
        after.retain(|k, _| !k.starts_with(".codex/axonflow"));
        assert_eq!(after, before, "no file changed");
    }

    // Installed, then our server rewritten as dotted keys: uninstall refuses and keeps all.
    let path = env.write("config.toml", "model = \"o3\"\n");
    env.ok(&["install", "-y"]);
    let installed = env.read("config.toml");
    let start = installed.find("[mcp_servers.axonflow]\n").unwrap();
    let end = start + installed[start..].find("\n\n").unwrap() + 2;
    let edited = format!("{}{}", &installed[..start], &installed[end..]).replacen(
        "model = \"o3\"\n",
        "model = \"o3\"\nmcp_servers.axonflow.url = \"http://127.0.0.1:9\"\n",
        1,
    );
    env.write("config.toml", &edited);
    let before = env.snapshot();
    let run = env.run(&["uninstall", "-y"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "error: {} cannot be edited in place: `mcp_servers.axonflow` is made of dotted keys\n",
            path.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(env.snapshot(), before, "uninstall changed nothing");
}

#[test]
fn malformed_hooks_json_stops_with_file_line_and_cause() {
    let mut shown = String::new();
    for (contents, cause) in [
        (
            "{\n  \"hooks\": {\n    \"PreToolUse\": [,]\n  }\n}\n",
            "is not valid JSON (line 3, column 20: ",
        ),
        (
            "{\"hooks\": {}, \"version\": 2}",
            "line 1, column 15: unknown field \"version\", expected \"description\" or \"hooks\"",
        ),
        ("[1, 2]", "must hold a JSON object"),
        (
            "{\"hooks\": {\"PreToolUse\": {}}}",
            "\"hooks\".\"PreToolUse\" (a list of groups) must be an array",
        ),
    ] {
        let env = TestEnv::new();
        let path = env.write("hooks.json", contents);
        env.write("config.toml", USER_CONFIG);
        let before = env.snapshot();
        let run = env.run(&["install", "-y"]);
        assert_eq!(run.code, 1, "{contents}");
        assert!(
            run.stderr.contains(&path.display().to_string()) && run.stderr.contains(cause),
            "{}",
            run.stderr
        );
        let mut after = env.snapshot();
        after.retain(|k, _| !k.starts_with(".codex/axonflow"));
        assert_eq!(after, before, "no file changed");
        shown.push_str(&format!(
            "--- hooks.json: {contents:?}\n{}\n",
            env.render(&run)
        ));
    }
    assert_snapshot!("malformed_hooks_json", shown);
}

#[test]
fn unknown_flags_and_bad_values_are_usage_errors() {
    let env = TestEnv::new();
    let mut runs = Vec::new();
    for args in [
        &["install", "--frobnicate"][..],
        &["install", "-y", "--fail-mode", "sometimes"],
        &["install", "-y", "--timeout", "0"],
        &["install", "-y", "--endpoint", "ftp://x"],
        &["install", "-y", "--auth", "not-base64"],
        &["install", "-y", "--client-id", "x"],
        &["install", "-y", "--govern", "everything"],
        &["bogus"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error:"), "{args:?}: {}", run.stderr);
        runs.push((args.join(" "), run));
    }
    assert_snapshot!("usage_errors", transcript(&env, &runs));
    let run = env.run(&["install", "-y", "--fail-mode", "sometimes"]);
    assert_eq!(
        run.stderr,
        "error: --fail-mode must be \"open\" or \"closed\"\n"
    );
    assert!(!env.path("hooks.json").exists());
}

#[test]
fn unwritable_places_name_the_path_and_change_nothing_else() {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    // A regular file where our directory should be: nothing can be created beneath it.
    env.write("axonflow", "not a directory");
    let before = env.snapshot();
    let run = env.run(&["install", "-y"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains(&env.path("axonflow").display().to_string()),
        "{}",
        run.stderr
    );
    assert_snapshot!("unwritable_our_directory", env.render(&run));
    assert_eq!(env.snapshot(), before);
}

#[test]
fn missing_codex_home_is_refused() {
    let mut env = TestEnv::new();
    env.set("CODEX_HOME", "/nonexistent/codex");
    let run = env.run(&["install", "-y"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("error: CODEX_HOME points to \"/nonexistent/codex\", but that path does not exist\nhint: "), "{}", run.stderr);
    assert_snapshot!("missing_codex_home", env.render(&run));
}

#[test]
fn a_damaged_receipt_is_reported() {
    let env = TestEnv::new();
    env.ok(&["install", "-y"]);
    env.write("axonflow/receipt.json", "{oops");
    let run = env.run(&["uninstall", "-y"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("receipt.json is damaged"),
        "{}",
        run.stderr
    );
    assert_snapshot!("damaged_receipt", env.render(&run));
}

#[test]
fn the_other_errors_and_their_hints() {
    let mut env = TestEnv::new();
    let mut runs = Vec::new();
    let mut failing = |env: &TestEnv, args: &[&str]| {
        let run = env.run(args);
        assert_ne!(run.code, 0, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        runs.push((args.join(" "), run));
    };
    failing(&env, &["log", "--since", "soon"]);
    env.set("AXONFLOW_ENDPOINT", &closed_port_endpoint());
    failing(&env, &["explain", "dec_1"]);
    failing(&env, &["check", "--", "ls"]);
    let file = env.root.join("a-file");
    std::fs::write(&file, "").unwrap();
    env.set("CODEX_HOME", &file.display().to_string());
    failing(&env, &["install", "-y"]);
    failing(&env, &["status"]);
    env.set("CODEX_HOME", "~/.codex");
    failing(&env, &["install", "-y"]);
    env.unset("CODEX_HOME");
    // The password is never printed (every run is scanned for it).
    env.secret("pw@127");
    failing(
        &env,
        &["install", "-y", "--endpoint", "http://id:pw@127.0.0.1:9"],
    );
    assert_snapshot!("other_errors", transcript(&env, &runs));
}
