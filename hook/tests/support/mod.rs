//! The hook's tests run in the workspace's one test environment (`tests/testenv`), with the
//! hook as its program, `CODEX_HOME` set as Codex users have it, and a killed hook counted as
//! a failure. This module only adds the hook's own vocabulary: runs with a payload on stdin
//! (`pre`, `post`), and the payloads themselves.
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub use axonflow_testenv::{
    basic, closed_port_endpoint, feed_bytes, mode, now_epoch, run_measured, write_private,
    AgentConfig, Match, Measured, Policy, Reply, Run, StandIn, TestEnvironment,
};
pub use serde_json::{json, Value};

pub const HOOK: &str = env!("CARGO_BIN_EXE_axonflow-codex-hook");
/// Generous bound for one hook run; the hook's own budgets are far below it.
const RUN_LIMIT: Duration = Duration::from_secs(30);

axonflow_testenv::environment_type!(
    /// A [`TestEnvironment`] that runs the hook.
    TestEnv
);

impl TestEnv {
    pub fn new() -> Self {
        let mut env = TestEnvironment::new(HOOK)
            .with_run_limit(RUN_LIMIT)
            .killed_is_failure();
        let codex_home = env.codex_home.display().to_string();
        env.set("CODEX_HOME", &codex_home);
        TestEnv(env)
    }

    /// A test environment pointed at a stand-in agent through `AXONFLOW_ENDPOINT`.
    pub fn with_agent(agent: &StandIn) -> Self {
        let mut env = TestEnv::new();
        env.set("AXONFLOW_ENDPOINT", &agent.endpoint());
        env
    }

    /// The hook with `args` and `stdin`.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Run {
        self.0.run_with_stdin(args, stdin)
    }

    pub fn pre(&self, payload: &Value) -> Run {
        self.run(&["pre-tool-use"], payload.to_string().as_bytes())
    }

    pub fn post(&self, payload: &Value) -> Run {
        self.run(&["post-tool-use"], payload.to_string().as_bytes())
    }

    /// `binary` (the hook, or a copy of it) with this environment and nothing else.
    pub fn command(&self, binary: &Path, args: &[&str]) -> Command {
        self.0.command_for(binary, args)
    }

    pub fn run_binary(&self, binary: &Path, args: &[&str], stdin: &[u8]) -> Run {
        self.0.run_binary_with_stdin(binary, args, stdin)
    }
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

/// The JSON-RPC tool-call result envelope, as the agent frames a result text.
pub fn tool_text(id: &str, text: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"result":{"content":[{"type":"text","text":text}]}})
}
