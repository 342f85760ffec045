//! The hook's standard streams under hostile hands: endless or over-size stdin ends quickly
//! with bounded memory and follows `fail_mode`; a closed or full stdout never panics.

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::*;

const KILL_AFTER: Duration = Duration::from_secs(30);
/// Reading the 32 MiB cap from a pipe in a debug build, plus the one-second drain, on a busy
/// machine.
const TIME_BOUND: Duration = Duration::from_secs(12);
/// The 32 MiB cap read once, plus the process itself.
const RSS_LIMIT_KIB: i64 = 80 * 1024;
/// An "endless" writer stops here, so that a regression cannot eat the machine's memory.
const ENDLESS_SAFETY_STOP: u64 = 8 * 1024 * 1024 * 1024;

/// `yes | axonflow-codex-hook …`: writes until the pipe breaks.
fn endless_yes(stdin: std::process::ChildStdin) {
    let mut stdin = stdin;
    let chunk = b"y\n".repeat(32 * 1024);
    let mut written = 0u64;
    while written < ENDLESS_SAFETY_STOP && stdin.write_all(&chunk).is_ok() {
        written += chunk.len() as u64;
    }
}

/// A valid PreToolUse document of about `bytes` bytes, written in pieces; `completed` is set
/// when every byte was accepted.
fn large_document(
    bytes: usize,
    completed: Arc<AtomicBool>,
) -> impl FnOnce(std::process::ChildStdin) + Send {
    move |mut stdin| {
        let head = br#"{"tool_name":"Bash","tool_input":{"command":"echo "#;
        let chunk = vec![b'a'; 64 * 1024];
        let mut ok = stdin.write_all(head).is_ok();
        let mut written = head.len();
        while ok && written < bytes {
            ok = stdin.write_all(&chunk).is_ok();
            written += chunk.len();
        }
        ok = ok && stdin.write_all(br#""}}"#).is_ok();
        completed.store(ok, Ordering::SeqCst);
    }
}

fn bounded(measured: &Measured, what: &str) {
    assert!(
        measured.elapsed < TIME_BOUND,
        "{what} took {:?}",
        measured.elapsed
    );
    assert!(
        measured.max_rss_kib < RSS_LIMIT_KIB,
        "{what} peaked at {} KiB",
        measured.max_rss_kib
    );
    eprintln!(
        "{what}: {:?}, peak RSS {} KiB",
        measured.elapsed, measured.max_rss_kib
    );
}

#[test]
fn endless_stdin_ends_quickly_and_follows_fail_mode() {
    let agent = StandIn::start(AgentConfig::default());
    for hook in ["pre-tool-use", "post-tool-use"] {
        for fail_mode in ["open", "closed"] {
            let mut env = TestEnv::with_agent(&agent);
            env.set("AXONFLOW_FAIL_MODE", fail_mode);
            let run = run_measured(
                env.command(Path::new(HOOK), &[hook]),
                endless_yes,
                KILL_AFTER,
            );
            bounded(&run, &format!("{hook} ({fail_mode})"));
            if fail_mode == "open" {
                assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{hook}");
            } else {
                assert_eq!(run.code, 2, "{hook}");
                assert!(
                    run.one_line().contains("larger than 32 MiB")
                        && run.one_line().contains("fail_mode is closed"),
                    "{hook}: {}",
                    run.stderr
                );
            }
            assert_eq!(run.stdout, "", "{hook}");
        }
    }
    assert!(agent.requests().is_empty(), "nothing over the cap is sent");
}

#[test]
fn an_over_size_payload_is_read_to_its_end_so_codex_sees_the_decision() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    let completed = Arc::new(AtomicBool::new(false));
    let run = run_measured(
        env.command(Path::new(HOOK), &["pre-tool-use"]),
        large_document(40 * 1024 * 1024, completed.clone()),
        KILL_AFTER,
    );
    bounded(&run, "pre-tool-use (40 MiB)");
    assert_eq!(run.code, 2);
    assert!(run.one_line().starts_with(
        "AxonFlow governance blocked: the tool call is larger than 32 MiB and could not be checked"
    ));
    assert!(
        completed.load(Ordering::SeqCst),
        "the writer's payload was accepted whole, not cut by a broken pipe"
    );
}

#[test]
fn a_payload_under_the_cap_is_still_checked() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let completed = Arc::new(AtomicBool::new(false));
    let run = run_measured(
        env.command(Path::new(HOOK), &["pre-tool-use"]),
        large_document(8 * 1024 * 1024, completed),
        KILL_AFTER,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(agent.rpc_calls_of("check_policy").len(), 1);
}

/// Runs the hook with stdout a pipe whose reading end is already closed.
fn with_closed_stdout(env: &TestEnv, args: &[&str], stdin: &[u8]) -> Measured {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = env.command(Path::new(HOOK), args);
    command.stdout(Stdio::from(writer));
    run_measured(command, feed_bytes(stdin.to_vec()), KILL_AFTER)
}

#[test]
fn a_closed_stdout_never_panics_and_keeps_the_exit_code() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    for args in [&["--version"][..], &["--help"], &["-V"], &["mcp-headers"]] {
        let run = with_closed_stdout(&env, args, b"");
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
    }
    // A block still blocks; its line goes to stderr.
    let drop_table = bash("psql -c \"DROP TABLE users; --\"");
    let run = with_closed_stdout(&env, &["pre-tool-use"], drop_table.to_string().as_bytes());
    assert_eq!(run.code, 2);
    assert!(run.one_line().starts_with("AxonFlow policy violation: "));
    // Usage errors are still usage errors.
    let run = with_closed_stdout(&env, &["frobnicate"], b"");
    assert_eq!(run.code, 2);
}

#[test]
fn a_full_stdout_is_an_error_with_a_message() {
    let env = TestEnv::new();
    for args in [&["--version"][..], &["--help"]] {
        let mut command = env.command(Path::new(HOOK), args);
        command.stdout(std::fs::File::create("/dev/full").unwrap());
        let run = run_measured(command, feed_bytes(Vec::new()), KILL_AFTER);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr, "error: cannot write to stdout: No space left on device\n",
            "{args:?}"
        );
    }
}

#[test]
fn a_closed_stderr_keeps_the_decision() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let closed_stderr = |args: &[&str], stdin: Vec<u8>| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut command = env.command(Path::new(HOOK), args);
        command.stderr(Stdio::from(writer));
        run_measured(command, feed_bytes(stdin), KILL_AFTER)
    };
    let drop_table = bash("psql -c \"DROP TABLE users; --\"");
    assert_eq!(
        closed_stderr(&["pre-tool-use"], drop_table.to_string().into_bytes()).code,
        2
    );
    assert_eq!(closed_stderr(&["frobnicate"], Vec::new()).code, 2);
    // Both streams unusable: stdout full, stderr closed.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = env.command(Path::new(HOOK), &["--version"]);
    command
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .stderr(Stdio::from(writer));
    assert_eq!(
        run_measured(command, feed_bytes(Vec::new()), KILL_AFTER).code,
        1
    );
}
