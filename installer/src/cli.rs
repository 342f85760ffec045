//! The `axonflow-codex` command line: argument parsing and dispatch only.

use std::process::ExitCode;

use axonflow_codex_hook::host_env::HostEnv;
use clap::{Parser, Subcommand};

use crate::commands::decisions::{self, CheckOptions, ExplainOptions, LogOptions};
use crate::commands::doctor::{self, DoctorOptions};
use crate::commands::install::{self, InstallContext, InstallOptions};
use crate::commands::status::{self, StatusOptions};
use crate::commands::uninstall::{self, UninstallOptions};
use crate::commands::update::{self, UpdateOptions};
use crate::error::CommandError;
use crate::ui::prompt::{self, Prompter, TerminalPrompter};

#[derive(Debug, Parser)]
#[command(
    name = "axonflow-codex",
    version,
    about = "AxonFlow governance for the Codex CLI: policy checks, PII scanning and audit on every tool call"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Install the hooks, MCP server, skills and settings into $CODEX_HOME
    Install(InstallOptions),
    /// Remove exactly what install added and restore the files it changed
    Uninstall(UninstallOptions),
    /// Check the whole chain: files, trust, settings, the agent, enforcement, the hook
    Doctor(DoctorOptions),
    /// Show what is installed, where, and which version
    Status(StatusOptions),
    /// Replace this installer and the installed hook with a newer, verified release
    Update(UpdateOptions),
    /// Recent governance decisions on this machine, newest first (offline)
    Log(LogOptions),
    /// Ask the agent why a decision was made, and whether an override is available
    Explain(ExplainOptions),
    /// Policy dry run: would the agent block this statement? (exit 0 allowed, 1 blocked)
    Check(CheckOptions),
}

pub fn main_entry() -> ExitCode {
    prompt::configure_colours();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let env = HostEnv::from_process();
    let mut terminal = prompt::terminal_available().then(TerminalPrompter::new);
    let prompter = terminal.as_mut().map(|t| t as &mut dyn Prompter);
    let result = match &cli.command {
        Command::Install(options) => match hook_source() {
            Ok(hook_source) => install::run(
                options,
                InstallContext {
                    env: &env,
                    prompter,
                    hook_source,
                },
            ),
            Err(error) => Err(error),
        },
        Command::Uninstall(options) => uninstall::run(options, &env, prompter),
        Command::Doctor(options) => doctor::run(options, &env),
        Command::Status(options) => status::run(options, &env),
        Command::Update(options) => update::run(options, &env),
        Command::Log(options) => decisions::log(options, &env),
        Command::Explain(options) => decisions::explain(options, &env),
        Command::Check(options) => return decisions::check(options, &env),
    };
    // A failed write of the output fails a command that otherwise succeeded; a closed pipe
    // does not (the reader chose to stop reading).
    let result = result.and_then(|()| match crate::ui::output::finish() {
        Some(message) => Err(CommandError::failure(message)),
        None => Ok(()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// The hook binary shipped beside this executable.
fn hook_source() -> Result<std::path::PathBuf, CommandError> {
    let exe = std::env::current_exe()
        .map_err(|e| CommandError::failure(format!("cannot locate this executable: {e}")))?;
    let source = exe.with_file_name(crate::codex::paths::HOOK_BINARY_NAME);
    if source.is_file() {
        Ok(source)
    } else {
        Err(CommandError::failure(format!("the hook binary is missing: expected {}", source.display()))
            .hint("install both binaries side by side: `cargo install --path hook` and `cargo install --path installer`, or unpack the whole release archive"))
    }
}
