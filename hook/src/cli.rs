//! The `axonflow-codex-hook` command line. Deliberately no argument parser and no async
//! runtime: it starts on every tool call.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use crate::settings::HostEnv;
use crate::{mcp_headers, post_tool_use, pre_tool_use, user_prompt_submit, HookOutcome};

const USAGE: &str = "\
axonflow-codex-hook: the AxonFlow governance hook for the Codex CLI

Usage: axonflow-codex-hook <COMMAND>

Commands:
  pre-tool-use        Check a PreToolUse payload (stdin) with the AxonFlow agent; exit 2 blocks
  post-tool-use       Audit and scan a PostToolUse payload (stdin). With output_mode = replace
                      (default), a redacted or blocked shell/MCP output exits 2 and stderr is
                      what the model receives instead; alert mode and apply_patch exit 0 with a
                      GOVERNANCE ALERT on stdout
  user-prompt-submit  Check a UserPromptSubmit prompt (stdin) before it reaches the model;
                      exit 2 blocks it
  mcp-headers         Print the HTTP headers for Codex's http_headers_helper

Options:
  -h, --help          Print help
  -V, --version       Print version

Settings come from AXONFLOW_* variables and $CODEX_HOME/axonflow.toml (endpoint, auth,
timeout_seconds, license_token, fail_mode = open|closed, output_mode = replace|alert); run
`axonflow-codex doctor` to check them.
";

/// Runs the hook command line with the process's arguments, stdin and environment.
pub fn main_entry() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args.as_slice() {
        [one] => one.as_str(),
        [] => return usage_error("a command is required"),
        [_, extra, ..] => return usage_error(&format!("unexpected argument '{extra}'")),
    };
    let outcome = match command {
        "pre-tool-use" => {
            run_guarded(|| pre_tool_use::run(&read_stdin(), &HostEnv::from_process()))
        }
        "post-tool-use" => {
            run_guarded(|| post_tool_use::run(&read_stdin(), &HostEnv::from_process()))
        }
        "user-prompt-submit" => {
            run_guarded(|| user_prompt_submit::run(&read_stdin(), &HostEnv::from_process()))
        }
        "mcp-headers" => run_guarded(|| mcp_headers::run(&HostEnv::from_process())),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        "-V" | "--version" => {
            println!("axonflow-codex-hook {}", crate::VERSION);
            return ExitCode::SUCCESS;
        }
        other => return usage_error(&format!("unrecognized command '{other}'")),
    };
    emit(&outcome);
    ExitCode::from(outcome.exit_code.clamp(0, 255) as u8)
}

/// Reads stdin to EOF. A read error (say, invalid handle) counts as an empty document.
fn read_stdin() -> Vec<u8> {
    let mut input = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut input);
    input
}

/// A bug must never crash the hook with a backtrace on stderr (which Codex would show the
/// model as a block reason): a panic becomes a quiet allow, like malformed input.
fn run_guarded(hook: impl FnOnce() -> HookOutcome + std::panic::UnwindSafe) -> HookOutcome {
    std::panic::set_hook(Box::new(|_| {}));
    std::panic::catch_unwind(hook).unwrap_or_else(|_| HookOutcome::allow())
}

fn emit(outcome: &HookOutcome) {
    if !outcome.stdout.is_empty() {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(outcome.stdout.as_bytes());
        let _ = stdout.flush();
    }
    if !outcome.stderr_lines.is_empty() {
        let mut text = outcome.stderr_lines.join("\n");
        // A replaced tool output is passed verbatim; it may already end its last line.
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

fn usage_error(message: &str) -> ExitCode {
    let _ = writeln!(
        std::io::stderr(),
        "error: {message}\n\nUsage: axonflow-codex-hook <pre-tool-use|post-tool-use|user-prompt-submit|mcp-headers>\n\nFor more information, try '--help'."
    );
    ExitCode::from(2)
}
