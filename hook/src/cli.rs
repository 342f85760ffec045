//! The `axonflow-codex-hook` command line. Deliberately no argument parser and no async
//! runtime: it starts on every tool call.

use std::io::{Read, Write as _};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::host_env::HostEnv;
use crate::payload::Payload;
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

/// The most a hook reads from stdin. Codex keeps at most 1 MiB of a command's output
/// (`UNIFIED_EXEC_OUTPUT_MAX_BYTES`) and sends it once, JSON-escaped, so a real payload stays
/// far below this; an MCP result with images may be a few MiB. Anything larger could not be
/// checked and follows `fail_mode` (see the README).
pub const STDIN_LIMIT: u64 = 32 * 1024 * 1024;
/// After an over-size payload, how long the rest is read and thrown away, so that a finite
/// writer (Codex) finishes its write and sees the decision rather than a broken pipe.
const DRAIN_FOR: Duration = Duration::from_secs(1);

/// Runs the hook command line with the process's arguments, stdin and environment.
pub fn main_entry() -> ExitCode {
    return_large_buffers_to_the_system();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args.as_slice() {
        [one] => one.as_str(),
        [] => return usage_error("a command is required"),
        [_, extra, ..] => return usage_error(&format!("unexpected argument '{extra}'")),
    };
    let outcome = match command {
        "mcp-headers" => run_guarded(|| mcp_headers::run(&HostEnv::from_process())),
        "-h" | "--help" | "help" => return print_text(USAGE),
        "-V" | "--version" => {
            return print_text(&format!("axonflow-codex-hook {}\n", crate::VERSION))
        }
        other => match Event::from_subcommand(other) {
            Some(event) => run_guarded(|| run_event(event, &HostEnv::from_process())),
            None => return usage_error(&format!("unrecognized command '{other}'")),
        },
    };
    emit(&outcome)
}

/// One hook run: its payload from stdin, then the event's decision.
fn run_event(event: Event, env: &HostEnv) -> HookOutcome {
    let stdin = read_stdin(STDIN_LIMIT);
    match (event, stdin) {
        (Event::PreToolUse, Stdin::Complete(bytes)) => {
            pre_tool_use::run_parsed(parse_and_free(bytes), env)
        }
        (Event::PreToolUse, Stdin::TooLarge) => pre_tool_use::oversize(STDIN_LIMIT, env),
        (Event::PostToolUse, Stdin::Complete(bytes)) => {
            post_tool_use::run_parsed(parse_and_free(bytes), env)
        }
        (Event::PostToolUse, Stdin::TooLarge) => post_tool_use::oversize(STDIN_LIMIT, env),
        (Event::UserPromptSubmit, Stdin::Complete(bytes)) => user_prompt_submit::run(&bytes, env),
        (Event::UserPromptSubmit, Stdin::TooLarge) => {
            user_prompt_submit::oversize(STDIN_LIMIT, env)
        }
    }
}

/// glibc raises its mmap threshold to the size of the largest buffer freed (up to 32 MiB), so
/// after the stdin buffer of a large output is freed, the next copies would come from the
/// heap, where growing copies them and freeing keeps them resident. A fixed threshold keeps
/// every large buffer mapped: grown in place by `mremap`, returned to the system when freed
/// (a scanned and redacted 30 MiB output peaks at 127 MiB of RSS without this, 97 MiB with it).
fn return_large_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a malloc tunable; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// The payload, with the raw bytes freed before the work starts (they would double the
/// memory of a large output).
fn parse_and_free(bytes: Vec<u8>) -> Option<Payload> {
    let payload = Payload::parse(&bytes);
    drop(bytes);
    payload
}

enum Stdin {
    Complete(Vec<u8>),
    TooLarge,
}

/// Reads stdin to EOF, at most `limit` bytes, and no more than `limit` once parsed (millions
/// of tiny values take many times their text). A read error (say, invalid handle) counts as
/// an empty document.
fn read_stdin(limit: u64) -> Stdin {
    let mut input = Vec::new();
    let mut stdin = std::io::stdin().lock();
    let _ = (&mut stdin).take(limit + 1).read_to_end(&mut input);
    if input.len() as u64 <= limit {
        if crate::payload::size_when_parsed(&input) > limit {
            return Stdin::TooLarge;
        }
        return Stdin::Complete(input);
    }
    drop(input);
    drain_briefly(&mut stdin);
    Stdin::TooLarge
}

fn drain_briefly(reader: &mut impl Read) {
    let started = Instant::now();
    let mut chunk = vec![0u8; 64 * 1024];
    while started.elapsed() < DRAIN_FOR {
        match reader.read(&mut chunk) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// A bug must never crash the hook with a backtrace on stderr (which Codex would show the
/// model as a block reason): a panic becomes a quiet allow, like malformed input.
fn run_guarded(hook: impl FnOnce() -> HookOutcome + std::panic::UnwindSafe) -> HookOutcome {
    std::panic::set_hook(Box::new(|_| {}));
    std::panic::catch_unwind(hook).unwrap_or_else(|_| HookOutcome::allow())
}

/// Writes the outcome and ends with its exit code. Output nobody reads (a closed pipe, a
/// full device) does not change the decision: Codex acts on the exit code.
fn emit(outcome: &HookOutcome) -> ExitCode {
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
    ExitCode::from(outcome.exit_code.clamp(0, 255) as u8)
}

/// `--help` and `--version`: a reader that went away (`| head`, `| true`) is no failure; any
/// other write error (a full device) is reported and exits 1.
fn print_text(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write to stdout: {}",
                crate::text::io_cause(&e)
            );
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    let _ = writeln!(
        std::io::stderr(),
        "error: {message}\n\nUsage: axonflow-codex-hook <pre-tool-use|post-tool-use|user-prompt-submit|mcp-headers>\n\nFor more information, try '--help'."
    );
    ExitCode::from(2)
}
