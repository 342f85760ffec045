//! `TestEnv`: every integration test gets its own HOME, CODEX_HOME and cache directory, an
//! environment cleared of the developer's own variables, and runs the real hook binary.
#![allow(dead_code, unused_imports)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use axonflow_agent_standin::{AgentConfig, Match, Policy, Reply, StandIn};
pub use serde_json::{json, Value};

pub const HOOK: &str = env!("CARGO_BIN_EXE_axonflow-codex-hook");
/// Generous bound for one hook run; the hook's own budgets are far below it.
const RUN_LIMIT: Duration = Duration::from_secs(30);

pub struct TestEnv {
    _root: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub codex_home: PathBuf,
    pub cache_dir: PathBuf,
    vars: Vec<(String, String)>,
    /// Values that must never appear on stdout or stderr of hooks (mcp-headers' stdout
    /// excepted, which exists to carry them).
    secrets: Vec<String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// stderr without its final newline, asserting it is exactly one line.
    pub fn one_line(&self) -> &str {
        let line = self.stderr.strip_suffix('\n').unwrap_or(&self.stderr);
        assert!(!line.is_empty(), "expected a stderr line, got nothing");
        assert!(
            !line.contains('\n'),
            "stderr is more than one line: {:?}",
            self.stderr
        );
        line
    }

    pub fn assert_silent_allow(&self) {
        assert_eq!(
            (self.code, self.stdout.as_str(), self.stderr.as_str()),
            (0, "", ""),
            "expected a silent allow"
        );
    }
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("axonflow-hook-test-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path().canonicalize().unwrap();
        let home = root.join("home");
        let codex_home = home.join(".codex");
        let cache_dir = home.join(".cache");
        std::fs::create_dir_all(&codex_home).unwrap();
        let vars = vec![
            ("HOME".to_string(), home.display().to_string()),
            (
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_default(),
            ),
            ("CODEX_HOME".to_string(), codex_home.display().to_string()),
        ];
        TestEnv {
            _root: dir,
            root,
            home,
            codex_home,
            cache_dir,
            vars,
            secrets: Vec::new(),
        }
    }

    /// A test environment pointed at a stand-in agent through `AXONFLOW_ENDPOINT`.
    pub fn with_agent(agent: &StandIn) -> Self {
        let mut env = TestEnv::new();
        env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
        env
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.to_string()));
        self
    }

    pub fn unset(&mut self, key: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self
    }

    pub fn secret(&mut self, value: &str) -> &mut Self {
        self.secrets.push(value.to_string());
        self
    }

    /// Writes `$CODEX_HOME/axonflow.toml` with mode 0600.
    pub fn write_settings(&self, toml: &str) -> PathBuf {
        let path = self.codex_home.join("axonflow.toml");
        write_private(&path, toml, 0o600);
        path
    }

    pub fn state_file(&self, name: &str) -> PathBuf {
        self.cache_dir.join("axonflow").join(name)
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Run {
        self.run_binary(Path::new(HOOK), args, stdin)
    }

    pub fn pre(&self, payload: &Value) -> Run {
        self.run(&["pre-tool-use"], payload.to_string().as_bytes())
    }

    pub fn post(&self, payload: &Value) -> Run {
        self.run(&["post-tool-use"], payload.to_string().as_bytes())
    }

    /// The hook binary with this environment (and nothing else), piped stdio.
    pub fn command(&self, binary: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(binary);
        command
            .args(args)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Asserts what must hold of every hook run: no panic message, no secret printed.
    pub fn check_output(&self, args: &[&str], stdout: &str, stderr: &str) {
        assert!(!stderr.contains("panicked"), "the hook panicked: {stderr}");
        let headers_helper = args.first() == Some(&"mcp-headers");
        for secret in &self.secrets {
            assert!(!stderr.contains(secret.as_str()), "a secret reached stderr");
            assert!(
                headers_helper || !stdout.contains(secret.as_str()),
                "a secret reached stdout"
            );
        }
    }

    pub fn run_binary(&self, binary: &Path, args: &[&str], stdin: &[u8]) -> Run {
        let mut command = self.command(binary, args);
        let started = Instant::now();
        let mut child = command.spawn().expect("spawn hook");
        let mut child_stdin = child.stdin.take().unwrap();
        let input = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = child_stdin.write_all(&input);
        });
        // Drained while the hook runs: a replaced output of megabytes fills a pipe buffer.
        let stdout_reader = drain(child.stdout.take().unwrap());
        let stderr_reader = drain(child.stderr.take().unwrap());
        let deadline = started + RUN_LIMIT;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("hook still running after {RUN_LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let elapsed = started.elapsed();
        let _ = writer.join();
        let status = child.wait().unwrap();
        let run = Run {
            code: status.code().expect("exited, not killed by a signal"),
            stdout: String::from_utf8(stdout_reader.join().unwrap()).expect("stdout is UTF-8"),
            stderr: String::from_utf8(stderr_reader.join().unwrap()).expect("stderr is UTF-8"),
            elapsed,
        };
        self.check_output(args, &run.stdout, &run.stderr);
        run
    }
}

fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

pub fn write_private(path: &Path, contents: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn bash(command: &str) -> Value {
    json!({
        "session_id": "01a20c54-0e20-7e61-887d-ad77fd6dc623",
        "turn_id": "01a20c54-0e34-79a2-9f41-ee0f9e527989",
        "transcript_path": "/tmp/rollout.jsonl",
        "cwd": "/tmp",
        "hook_event_name": "PreToolUse",
        "model": "gpt-5.5",
        "permission_mode": "bypassPermissions",
        "tool_name": "Bash",
        "tool_input": {"command": command},
        "tool_use_id": "call_3"
    })
}

pub fn tool(name: &str, input: Value) -> Value {
    json!({"hook_event_name": "PreToolUse", "tool_name": name, "tool_input": input})
}

pub fn post_bash(command: &str, response: Value) -> Value {
    json!({
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command},
        "tool_response": response,
        "tool_use_id": "call_3"
    })
}

pub fn post_tool(name: &str, input: Value, response: Value) -> Value {
    json!({"hook_event_name": "PostToolUse", "tool_name": name, "tool_input": input, "tool_response": response})
}

/// A port on loopback with nothing listening.
pub fn closed_port_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A standard base64 `client_id:client_secret`.
pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

/// The JSON-RPC tool-call result envelope, as the agent frames a result text.
pub fn tool_text(id: &str, text: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"result":{"content":[{"type":"text","text":text}]}})
}

/// A run reaped with `wait4`, with its peak resident set. On Linux `ru_maxrss` also counts
/// the resident set this test process had at `exec` (see `hostile.rs`), so the figure is an
/// upper bound of the hook's own peak; the tests that use it keep their own memory small.
pub struct Measured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub max_rss_kib: i64,
}

impl Measured {
    pub fn one_line(&self) -> &str {
        let line = self.stderr.strip_suffix('\n').unwrap_or(&self.stderr);
        assert!(!line.is_empty(), "expected a stderr line, got nothing");
        assert!(
            !line.contains('\n'),
            "more than one line: {:?}",
            self.stderr
        );
        line
    }
}

/// Spawns `command` (stdio as the caller set it; piped stdout and stderr are collected),
/// feeds its stdin with `feed` on a thread, and reaps it with `wait4`. A run still going
/// after `kill_after` is killed and the test fails, so a hang is a failure, not a stuck suite.
// The child is reaped by `libc::wait4`, not `Child::wait`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn run_measured(
    mut command: Command,
    feed: impl FnOnce(std::process::ChildStdin) + Send + 'static,
    kill_after: Duration,
) -> Measured {
    use std::io::Read as _;
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn hook");
    let pid = child.id() as libc::pid_t;
    let writer = child
        .stdin
        .take()
        .map(|stdin| std::thread::spawn(move || feed(stdin)));
    let collect = |reader: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut reader) = reader {
                let _ = reader.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = collect(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let stderr = collect(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own unreaped child; both pointers are valid for the call.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            break (status, usage);
        }
        if started.elapsed() > kill_after {
            let _ = child.kill();
            panic!("the hook was still running after {kill_after:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    assert!(
        libc::WIFEXITED(status),
        "the hook did not exit normally (wait status {status:#x})"
    );
    let measured = Measured {
        code: libc::WEXITSTATUS(status),
        stdout: String::from_utf8(stdout.join().unwrap()).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr.join().unwrap()).expect("stderr is UTF-8"),
        elapsed,
        max_rss_kib: usage.ru_maxrss,
    };
    assert!(
        !measured.stderr.contains("panicked"),
        "the hook panicked: {}",
        measured.stderr
    );
    measured
}

/// Writes `bytes` to a hook's stdin and closes it.
pub fn feed_bytes(bytes: Vec<u8>) -> impl FnOnce(std::process::ChildStdin) + Send + 'static {
    move |mut stdin| {
        let _ = stdin.write_all(&bytes);
    }
}

/// Now, in epoch seconds.
pub fn now_epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
