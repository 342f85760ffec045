//! `TestEnv` for the installer: a temporary HOME with its own `~/.codex`, a cleared
//! environment, and the real `axonflow-codex` binary.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use axonflow_agent_standin::{AgentConfig, Match, Reply, StandIn};
pub use serde_json::{json, Value};

pub const INSTALLER: &str = env!("CARGO_BIN_EXE_axonflow-codex");

/// The installer copies the hook binary from beside itself, as from a release archive or
/// `cargo install` of both packages. Cargo builds it for the hook's own tests; when only the
/// installer's tests run, build it here once.
pub fn ensure_hook_binary() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let hook = Path::new(INSTALLER).with_file_name("axonflow-codex-hook");
        if !hook.is_file() {
            let status = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "-p",
                    "axonflow-codex-hook",
                    "--bin",
                    "axonflow-codex-hook",
                ])
                .status()
                .expect("cargo");
            assert!(
                status.success() && hook.is_file(),
                "could not build {}",
                hook.display()
            );
        }
    });
}

pub struct TestEnv {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
    pub codex_home: PathBuf,
    vars: Vec<(String, String)>,
    secrets: Vec<String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("axonflow-installer-test-")
            .tempdir()
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        let home = root.join("home");
        let codex_home = home.join(".codex");
        std::fs::create_dir_all(&codex_home).unwrap();
        let vars = vec![
            ("HOME".to_string(), home.display().to_string()),
            // No codex on PATH unless a test puts one there.
            ("PATH".to_string(), "/usr/bin:/bin".to_string()),
        ];
        TestEnv {
            _dir: dir,
            root,
            home,
            codex_home,
            vars,
            secrets: Vec::new(),
        }
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.to_string()));
        self
    }

    pub fn secret(&mut self, value: &str) -> &mut Self {
        self.secrets.push(value.to_string());
        self
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.codex_home.join(relative)
    }

    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_binary(Path::new(INSTALLER), args)
    }

    /// The installer as a command with this environment, for tests that wire its stdio
    /// themselves (closed pipes, full devices).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(INSTALLER);
        command
            .args(args)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.root)
            .stdin(Stdio::null());
        command
    }

    /// Runs another copy of the installer (the update tests replace the binary they run).
    pub fn run_binary(&self, binary: &Path, args: &[&str]) -> Run {
        let started = Instant::now();
        let mut child = Command::new(binary)
            .args(args)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = started + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("axonflow-codex {args:?} still running after 60 s");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let elapsed = started.elapsed();
        let output = child.wait_with_output().unwrap();
        let run = Run {
            // -1: killed by a signal (the crash-safety tests kill on purpose).
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
            elapsed,
        };
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        for secret in &self.secrets {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "a secret was printed by {args:?}"
            );
        }
        run
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "axonflow-codex {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }

    /// Every file under HOME (relative path → bytes), ignoring our lock file.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        walk(&self.home, &self.home, &mut files);
        files
    }
}

fn walk(base: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let relative = path.strip_prefix(base).unwrap().display().to_string();
        if meta.file_type().is_symlink() {
            files.insert(
                format!("{relative} -> link"),
                std::fs::read_link(&path)
                    .unwrap()
                    .display()
                    .to_string()
                    .into_bytes(),
            );
        } else if meta.is_dir() {
            files.insert(format!("{relative}/"), Vec::new());
            walk(base, &path, files);
        } else {
            files.insert(relative, std::fs::read(&path).unwrap());
        }
    }
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The trust hash as Codex computes it, by an independent implementation (Python's json
/// with sorted keys), so the installer's hand-sorted serialisation is checked for real.
pub fn python_trust_hash(
    event: &str,
    matcher: &str,
    command: &str,
    timeout: u64,
    status_message: Option<&str>,
) -> String {
    let mut handler =
        json!({"type": "command", "command": command, "timeout": timeout, "async": false});
    if let Some(message) = status_message {
        handler["statusMessage"] = json!(message);
    }
    let mut identity = json!({"event_name": event, "hooks": [handler]});
    // An empty matcher stands for none: Codex drops it for UserPromptSubmit.
    if !matcher.is_empty() {
        identity["matcher"] = json!(matcher);
    }
    let script = "import hashlib,json,sys; v=json.load(sys.stdin); print('sha256:'+hashlib.sha256(json.dumps(v,sort_keys=True,separators=(',',':'),ensure_ascii=False).encode()).hexdigest())";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(identity.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A realistic user config.toml: comments everywhere, other MCP servers, dotted keys,
/// another tool's hook trust, profiles, unicode.
pub const USER_CONFIG: &str = r#"# Codex configuration — my laptop ✨
model = "gpt-5.5"   # the default model
approval_policy = "on-request"
tui.theme = "dark"

[profiles.fast]
model = "gpt-5.5-mini"

# Postgres tools
[mcp_servers.pg]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-postgres", "postgres://localhost/dev"]
env = { PGPASSWORD = "dev" }

[mcp_servers.docs]
url = "https://docs.example.com/mcp"
http_headers = { "X-Team" = "platform" }

[hooks.state."/home/dev/.codex/hooks.json:pre_tool_use:0:0"]
trusted_hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

[projects."/home/dev/src/app"]
trust_level = "trusted"
"#;

/// Another tool's hooks.json, 4-space indented.
pub const USER_HOOKS: &str = r#"{
    "description": "team hooks",
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Bash",
                "hooks": [
                    {
                        "type": "command",
                        "command": "/opt/lint/check.sh",
                        "timeout": 10
                    }
                ]
            }
        ],
        "SessionStart": [
            {
                "hooks": [{"type": "command", "command": "echo hi"}]
            }
        ]
    }
}
"#;

/// Every line of `original` appears in `edited`, unchanged and in the same order: foreign
/// bytes keep their content and order; ours sit between them.
pub fn assert_keeps_lines(original: &str, edited: &str) {
    let mut edited_lines = edited.split_inclusive('\n');
    for line in original.split_inclusive('\n') {
        assert!(
            edited_lines.any(|candidate| candidate == line),
            "line {line:?} of the original is missing or moved in:\n{edited}"
        );
    }
}
