//! The installer's tests run in the workspace's one test environment (`tests/testenv`), with
//! the real `axonflow-codex` as its program and the hook built beside it. This module only
//! adds the installer's own vocabulary (an install against a stand-in, doctor's rows) and
//! fixtures: a realistic user `config.toml` and `hooks.json`, and an independent trust hash.
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::{Command, Stdio};

pub use axonflow_testenv::{
    basic, closed_port_endpoint, mode, now_epoch, write_private, AgentConfig, Match, Reply, Run,
    StandIn, TestEnvironment,
};
pub use serde_json::{json, Value};

pub const INSTALLER: &str = env!("CARGO_BIN_EXE_axonflow-codex");

/// The installer copies the hook binary from beside itself, as from a release archive or
/// `cargo install` of both packages. Cargo builds it for the hook's own tests; when only the
/// installer's tests run, build it here once.
pub fn ensure_hook_binary() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        axonflow_testenv::ensure_built_beside(
            Path::new(INSTALLER),
            "axonflow-codex-hook",
            "axonflow-codex-hook",
        );
    });
}

axonflow_testenv::environment_type!(
    /// A [`TestEnvironment`] that runs the installer.
    TestEnv
);

impl TestEnv {
    pub fn new() -> Self {
        ensure_hook_binary();
        TestEnv(TestEnvironment::new(INSTALLER))
    }

    /// Installed unattended against `agent`.
    pub fn installed(agent: &StandIn) -> Self {
        TestEnv::installed_with(agent, &[])
    }

    /// `install -y --endpoint <agent> <extra>` in a fresh environment.
    pub fn installed_with(agent: &StandIn, extra: &[&str]) -> Self {
        let env = TestEnv::new();
        env.install(agent, extra);
        env
    }

    /// Installed with `--client-id <id> --client-secret <secret>`, the secret registered.
    pub fn installed_with_credentials(agent: &StandIn, id: &str, secret: &str) -> Self {
        let mut env = TestEnv::new();
        env.secret(secret);
        env.install(agent, &["--client-id", id, "--client-secret", secret]);
        env
    }

    /// `install -y --endpoint <agent> <extra>`, which must succeed.
    pub fn install(&self, agent: &StandIn, extra: &[&str]) -> Run {
        let endpoint = agent.endpoint();
        let mut args = vec!["install", "-y", "--endpoint", endpoint.as_str()];
        args.extend_from_slice(extra);
        self.ok(&args)
    }

    /// `doctor <args> --json`: its rows.
    pub fn doctor_rows(&self, args: &[&str]) -> Vec<DoctorRow> {
        let mut all = vec!["doctor"];
        all.extend_from_slice(args);
        all.push("--json");
        doctor_rows(&self.run(&all))
    }
}

/// One row of `doctor --json`.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorRow {
    pub name: String,
    pub status: String,
    pub detail: String,
}

/// The rows of a `doctor --json` run.
pub fn doctor_rows(run: &Run) -> Vec<DoctorRow> {
    let report: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("doctor --json prints one document ({e}): {}", run.stdout));
    let text = |row: &Value, key: &str| row[key].as_str().unwrap_or_default().to_string();
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| DoctorRow {
            name: text(row, "name"),
            status: text(row, "status"),
            detail: text(row, "detail"),
        })
        .collect()
}

/// The row `name` of a `doctor --json` run.
pub fn doctor_row(run: &Run, name: &str) -> DoctorRow {
    find_row(&doctor_rows(run), name).clone()
}

pub fn find_row<'r>(rows: &'r [DoctorRow], name: &str) -> &'r DoctorRow {
    rows.iter()
        .find(|row| row.name == name)
        .unwrap_or_else(|| panic!("no row {name}: {rows:?}"))
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
