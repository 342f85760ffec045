//! The AxonFlow governance hook for the Codex CLI, as a library.
//!
//! The `axonflow-codex-hook` binary is a thin dispatcher over this crate; the installer
//! (`axonflow-codex doctor`) reuses the same settings resolution, client and decisions, so
//! that what doctor checks is exactly what the hook does.
//!
//! Wire formats follow `shared/reference/axonflow-agent.md`; Codex's side follows
//! `shared/reference/codex-host.md`.

pub mod agent;
pub mod cli;
pub mod codex_home;
mod deadline;
pub mod envelope;
pub mod event;
pub mod files;
pub mod host_env;
pub mod journal;
pub mod mcp_headers;
pub mod payload;
pub mod post_tool_use;
pub mod pre_tool_use;
pub mod settings;
pub mod spool;
pub mod state;
pub mod text;
mod tls;
pub mod tokens;
mod trust;
#[cfg(all(unix, not(target_os = "android"), not(target_vendor = "apple")))]
mod trust_cache;
pub mod user_prompt_submit;
pub mod vars;

/// This project's version, sent as `X-Axonflow-Client: codex-plugin/<version>`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The value of the `X-Axonflow-Client` header, the same everywhere.
pub fn client_header_value() -> String {
    format!("codex-plugin/{VERSION}")
}

/// How a hook run ends: the process exit code plus what goes to stdout and stderr.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HookOutcome {
    pub exit_code: i32,
    pub stdout: String,
    /// Lines for stderr, each printed followed by a newline.
    pub stderr_lines: Vec<String>,
}

impl HookOutcome {
    pub fn allow() -> Self {
        Self::default()
    }

    pub fn block(reason: String) -> Self {
        HookOutcome {
            exit_code: 2,
            stdout: String::new(),
            stderr_lines: vec![text::single_line(&reason)],
        }
    }
}
