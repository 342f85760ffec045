//! The binary's surface: `mcp-headers`, `--version`, `--help`, usage errors, and hostile stdin.

mod support;

use std::time::Duration;

use support::*;

// ---- mcp-headers ---------------------------------------------------------------------------

#[test]
fn mcp_headers_unconfigured_is_only_the_client_header() {
    let env = TestEnv::new();
    let run = env.run(&["mcp-headers"], b"");
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "{\"X-Axonflow-Client\": \"codex-plugin/2.0.0\"}\n", "")
    );
}

#[test]
fn mcp_headers_in_the_documented_order() {
    let mut env = TestEnv::new();
    let auth = basic("client", "secret");
    env.write_settings(&format!(
        "auth = \"{auth}\"\nlicense_token = \"AXON-lic\"\n"
    ));
    write_private(
        &env.home.join(".config/axonflow/user-token.json"),
        "{\"token\":\"ut-1\"}",
        0o600,
    );
    env.secret(&auth).secret("ut-1").secret("AXON-lic");
    let run = env.run(&["mcp-headers"], b"");
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, format!("{{\"Authorization\": \"Basic {auth}\", \"X-License-Token\": \"AXON-lic\", \"X-User-Token\": \"ut-1\", \"X-Axonflow-Client\": \"codex-plugin/2.0.0\"}}\n").as_str(), "")
    );
}

#[test]
fn mcp_headers_finds_settings_from_its_installed_location_with_a_cleared_environment() {
    // Codex runs http_headers_helper with only HOME, PATH, SHELL, LANG, TERM: no CODEX_HOME.
    let mut env = TestEnv::new();
    let codex_home = env.root.join("custom-codex-home");
    let bin = codex_home.join("axonflow/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let installed = bin.join("axonflow-codex-hook");
    std::fs::copy(HOOK, &installed).unwrap();
    let auth = basic("installed", "pw");
    write_private(
        &codex_home.join("axonflow.toml"),
        &format!("auth = \"{auth}\"\n"),
        0o600,
    );
    // A different file in ~/.codex must not be the one read.
    env.write_settings(&format!("auth = \"{}\"\n", basic("default-home", "pw")));
    env.unset("CODEX_HOME");

    let run = env.run_binary(&installed, &["mcp-headers"], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with(&format!("{{\"Authorization\": \"Basic {auth}\", ")),
        "{}",
        run.stdout
    );

    // Not installed in that layout: ~/.codex.
    let run = env.run(&["mcp-headers"], b"");
    assert!(run.stdout.contains(&basic("default-home", "pw")));
}

#[test]
fn mcp_headers_settings_error_exits_1_with_one_line_and_no_secret() {
    let mut env = TestEnv::new();
    let path = env.write_settings("auth = \"c2VjcmV0LXdpdGhvdXQtY29sb24=\"\n");
    env.secret("c2VjcmV0LXdpdGhvdXQtY29sb24=");
    let run = env.run(&["mcp-headers"], b"");
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert_eq!(
        run.one_line(),
        format!("[AxonFlow] invalid AxonFlow settings (`auth` in {} must be the standard base64 encoding of \"client_id:client_secret\"); the axonflow MCP server gets no headers. Run `axonflow-codex doctor`.", path.display())
    );
}

// ---- arguments ---------------------------------------------------------------------------------

#[test]
fn version_and_help() {
    let env = TestEnv::new();
    let run = env.run(&["--version"], b"");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "axonflow-codex-hook 2.0.0\n")
    );
    assert_eq!(env.run(&["-V"], b"").stdout, "axonflow-codex-hook 2.0.0\n");
    let help = env.run(&["--help"], b"");
    assert_eq!(help.code, 0);
    for command in [
        "pre-tool-use",
        "post-tool-use",
        "user-prompt-submit",
        "mcp-headers",
        "output_mode = replace|alert",
    ] {
        assert!(help.stdout.contains(command), "{command}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    for args in [&[][..], &["block-everything"], &["pre-tool-use", "extra"]] {
        let run = env.run(args, b"");
        assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{args:?}");
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    }
}

// ---- hostile stdin ---------------------------------------------------------------------------

fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!(
        "{{\"tool_name\":\"Bash\",\"tool_input\":{}1{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let huge_command = format!(
        "{{\"tool_name\":\"Bash\",\"tool_input\":{{\"command\":\"{}\"}}}}",
        "a".repeat(10 * 1024 * 1024)
    );
    vec![
        ("empty", vec![]),
        ("whitespace", b"  \n\t ".to_vec()),
        ("malformed", b"{\"tool_name\":\"Bash\",".to_vec()),
        (
            "invalid utf-8",
            b"{\"tool_name\":\"Bash\xff\xfe\",\"tool_input\":{\"command\":\"\xc3\x28\"}}".to_vec(),
        ),
        ("ten megabytes of garbage", vec![b'x'; 10 * 1024 * 1024]),
        ("deeply nested", deep.into_bytes()),
        (
            "two documents",
            b"{\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"ls\"}}{}".to_vec(),
        ),
        ("array", b"[{\"tool_name\":\"Bash\"}]".to_vec()),
        (
            "null tool name",
            b"{\"tool_name\":null,\"tool_input\":{\"command\":\"rm -rf /\"}}".to_vec(),
        ),
        ("numeric tool name", b"{\"tool_name\":7}".to_vec()),
        (
            "unknown tool",
            b"{\"tool_name\":\"\\u0000weird\\n\",\"tool_input\":{\"a\":\"\\ud800\"}}".to_vec(),
        ),
        ("nul bytes", b"\0\0\0\0".to_vec()),
        ("ten megabyte command", huge_command.into_bytes()),
    ]
}

#[test]
fn hostile_stdin_never_crashes_or_hangs() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    for command in ["pre-tool-use", "post-tool-use"] {
        for (name, input) in hostile_inputs() {
            let run = env.run(&[command], &input);
            assert!(
                // The stand-in (a debug build, in this process) checks the ten-megabyte
                // command too; on a loaded 2-core machine that alone came near 2 s.
                run.elapsed < Duration::from_secs(5),
                "{command} {name}: took {:?}",
                run.elapsed
            );
            assert!(
                run.code == 0 || run.code == 2,
                "{command} {name}: exit {}",
                run.code
            );
            if run.code == 2 {
                run.one_line();
            } else {
                assert_eq!(run.stderr, "", "{command} {name}");
            }
        }
    }
}

#[test]
fn a_ten_megabyte_command_is_sent_whole() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let command = "a".repeat(10 * 1024 * 1024);
    env.pre(&bash(&command)).assert_silent_allow();
    assert_eq!(
        agent.rpc_calls()[0].arg_str("statement").map(str::len),
        Some(command.len())
    );
}

/// An installed hook (`<home>/axonflow/bin/axonflow-codex-hook`) with its settings file.
fn install_copy(env: &TestEnv, home_name: &str, settings: &str, mode: u32) -> std::path::PathBuf {
    let home = env.root.join(home_name);
    let bin = home.join("axonflow/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let installed = bin.join("axonflow-codex-hook");
    std::fs::copy(HOOK, &installed).unwrap();
    write_private(&home.join("axonflow.toml"), settings, mode);
    installed
}

#[test]
fn an_installed_hook_reads_the_settings_beside_it_even_with_codex_home_set() {
    let agent = StandIn::start(AgentConfig::default());
    let other = StandIn::start(AgentConfig::default());
    let env = TestEnv::new(); // CODEX_HOME points at the test's own ~/.codex
    env.write_settings(&format!("endpoint = \"{}\"\n", other.endpoint()));
    let installed = install_copy(
        &env,
        "system",
        &format!("endpoint = \"{}\"\n", agent.endpoint()),
        0o600,
    );
    let run = env.run_binary(
        &installed,
        &["pre-tool-use"],
        bash("ls").to_string().as_bytes(),
    );
    run.assert_silent_allow();
    assert_eq!((agent.requests().len(), other.requests().len()), (1, 0));
}

#[test]
fn a_shared_system_settings_file_may_be_world_readable_only_without_secrets() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::new();
    // Owned by root (the tests' user here), beside an installed hook, no secret: accepted.
    let installed = install_copy(
        &env,
        "etc-codex",
        &format!(
            "endpoint = \"{}\"\nfail_mode = \"closed\"\n",
            agent.endpoint()
        ),
        0o644,
    );
    let is_root = std::fs::metadata(&installed)
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap();
    let run = env.run_binary(
        &installed,
        &["pre-tool-use"],
        bash("ls").to_string().as_bytes(),
    );
    if is_root {
        run.assert_silent_allow();
        assert_eq!(agent.requests().len(), 1);
    } else {
        assert_eq!(run.code, 2, "not root-owned: refused");
    }
    // With a secret in it: refused, whoever owns it.
    let installed = install_copy(
        &env,
        "etc-codex-2",
        &format!(
            "endpoint = \"{}\"\nauth = \"{}\"\n",
            agent.endpoint(),
            basic("a", "b")
        ),
        0o644,
    );
    let run = env.run_binary(
        &installed,
        &["pre-tool-use"],
        bash("ls").to_string().as_bytes(),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.one_line()
            .contains("is accessible by group or others (mode 644)"),
        "{}",
        run.stderr
    );
    // Writable by others: refused even without secrets.
    let installed = install_copy(
        &env,
        "etc-codex-3",
        &format!("endpoint = \"{}\"\n", agent.endpoint()),
        0o646,
    );
    let run = env.run_binary(
        &installed,
        &["pre-tool-use"],
        bash("ls").to_string().as_bytes(),
    );
    assert_eq!(run.code, 2);
}
