//! `axonflow-codex-hook`: what Codex runs before and after a tool call, and for the MCP
//! server's headers.

fn main() -> std::process::ExitCode {
    axonflow_codex_hook::cli::main_entry()
}
