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
use crate::ui::printer::{self, Printer};
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
    #[command(after_help = help::INSTALL)]
    Install(InstallOptions),
    /// Remove exactly what install added and restore the files it changed
    #[command(after_help = help::UNINSTALL)]
    Uninstall(UninstallOptions),
    /// Check the whole chain: files, trust, settings, the agent, enforcement, the hook
    #[command(after_help = help::DOCTOR)]
    Doctor(DoctorOptions),
    /// Show what is installed, where, and which version
    #[command(after_help = help::STATUS)]
    Status(StatusOptions),
    /// Replace this installer and the installed hook with a newer, verified release
    #[command(after_help = help::UPDATE)]
    Update(UpdateOptions),
    /// Recent governance decisions on this machine, newest first (offline)
    Log(LogOptions),
    /// Ask the agent why a decision was made, and whether an override is available
    Explain(ExplainOptions),
    /// Policy dry run: would the agent block this statement? (exit 0 allowed, 1 blocked)
    Check(CheckOptions),
}

impl Command {
    /// How the command prints: `--json` or for people.
    fn printer(&self) -> Printer {
        Printer::new(match self {
            Command::Install(o) => o.json,
            Command::Uninstall(o) => o.json,
            Command::Doctor(o) => o.json,
            Command::Status(o) => o.json,
            Command::Update(o) => o.json,
            Command::Log(o) => o.json,
            Command::Explain(o) => o.json,
            Command::Check(o) => o.json,
        })
    }
}

pub fn main_entry() -> ExitCode {
    printer::configure_colours();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return parse_failure(&error),
    };
    let printer = cli.command.printer();
    let env = HostEnv::from_process();
    let mut terminal = prompt::terminal_available().then(TerminalPrompter::new);
    let prompter = terminal.as_mut().map(|t| t as &mut dyn Prompter);
    let result = match &cli.command {
        Command::Check(options) => return decisions::check(options, &env, printer),
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
        Command::Doctor(options) => doctor::run(options, &env, printer),
        Command::Status(options) => status::run(options, &env, printer),
        Command::Update(options) => update::run(options, &env, printer),
        Command::Log(options) => decisions::log(options, &env, printer),
        Command::Explain(options) => decisions::explain(options, &env, printer),
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
            // A failed write of stdout cannot be reported on stdout.
            let broken_stdout = crate::ui::output::finish().is_some();
            match (printer.is_json(), error.in_report) {
                (true, true) => {}
                (true, false) if !broken_stdout => printer.error(&error),
                _ => Printer::new(false).error(&error),
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// A command line clap refused (exit 2), or `--help` / `--version` (exit 0). With `--json`
/// among the arguments, the refusal is a JSON error too, so a script always reads JSON.
fn parse_failure(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    let json = std::env::args()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    if json {
        let rendered = error.render().to_string();
        let message = rendered
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ");
        Printer::new(true)
            .error(&CommandError::usage(message).hint("see `axonflow-codex <command> --help`"));
    } else {
        let _ = error.print();
    }
    ExitCode::from(2)
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

/// The end of each subcommand's `--help`: examples, then the environment it reads.
mod help {
    pub(super) const INSTALL: &str = "Examples:
  axonflow-codex install                                   (asks on a terminal)
  axonflow-codex install -y --endpoint http://localhost:8080
  axonflow-codex install -y --endpoint https://agent.example.com --client-id ID --client-secret SECRET
  axonflow-codex install --dry-run                         (shows every change, writes nothing)

Environment:
  CODEX_HOME                  Codex's home (default ~/.codex)
  AXONFLOW_ENDPOINT, AXONFLOW_AUTH, AXONFLOW_TIMEOUT_SECONDS, AXONFLOW_FAIL_MODE,
  AXONFLOW_OUTPUT_MODE, AXONFLOW_LICENSE_TOKEN
                              answers not given as flags (flags win; then axonflow.toml)
  AXONFLOW_USER_TOKEN, AXONFLOW_CONFIG_DIR
                              the user token the liveness probe sends, as the hooks will
  AXONFLOW_CODEX_CONFIG       the settings file to read instead of axonflow.toml
  AXONFLOW_CODEX_SYSTEM_DIR   where --scope system installs
  AXONFLOW_REGISTRATION_URL   the Community SaaS registration endpoint (--community-saas)
  NO_COLOR                    no colours, even on a terminal";

    pub(super) const UNINSTALL: &str = "Examples:
  axonflow-codex uninstall
  axonflow-codex uninstall -y --keep-settings
  axonflow-codex uninstall --dry-run

Environment:
  CODEX_HOME                  Codex's home (default ~/.codex)
  AXONFLOW_CODEX_SYSTEM_DIR   where --scope system installed
  NO_COLOR                    no colours, even on a terminal";

    pub(super) const DOCTOR: &str = "Exit status: 0 when no row fails, 1 otherwise.

Examples:
  axonflow-codex doctor
  axonflow-codex doctor --offline
  axonflow-codex doctor --json | jq '.rows[] | select(.status == \"fail\")'

Environment:
  CODEX_HOME                  Codex's home (default ~/.codex)
  AXONFLOW_ENDPOINT, AXONFLOW_AUTH, AXONFLOW_TIMEOUT_SECONDS, AXONFLOW_FAIL_MODE,
  AXONFLOW_OUTPUT_MODE, AXONFLOW_LICENSE_TOKEN, AXONFLOW_USER_TOKEN, AXONFLOW_CONFIG_DIR,
  AXONFLOW_AUTH_FAILURE_COOLDOWN_SECONDS
                              the hooks' settings, checked as the hooks resolve them
  AXONFLOW_CODEX_CONFIG       the settings file to read instead of axonflow.toml
  XDG_CACHE_HOME              where the hooks keep their throttle state
  NO_COLOR                    no colours, even on a terminal";

    pub(super) const STATUS: &str = "Examples:
  axonflow-codex status
  axonflow-codex status --scope system
  axonflow-codex status --json | jq .governed

Environment:
  CODEX_HOME                  Codex's home (default ~/.codex)
  AXONFLOW_CODEX_SYSTEM_DIR   where --scope system installed
  AXONFLOW_CODEX_CONFIG       the settings file to read instead of axonflow.toml
  NO_COLOR                    no colours, even on a terminal";

    pub(super) const UPDATE: &str = "Examples:
  axonflow-codex update --check
  axonflow-codex update
  axonflow-codex update --to 2.0.0 --allow-downgrade

Environment:
  AXONFLOW_CODEX_UPDATE_URL   a release manifest to use instead of GitHub (mirrors, air gaps)
  AXONFLOW_CODEX_GITHUB_API   the GitHub API base (GitHub Enterprise)
  GITHUB_TOKEN                a token for the GitHub API's rate limit
  AXONFLOW_CODEX_UPDATE_KEYS  more trusted release-signing keys (base64, comma-separated)
  AXONFLOW_CODEX_UPDATE_TIMEOUT_SECONDS
                              bound of each request (default 30 s, downloads 300 s)
  CODEX_HOME                  Codex's home, where the installed hook is found
  NO_COLOR                    no colours, even on a terminal";
}
