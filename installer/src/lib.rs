//! `axonflow-codex`: installs, checks and removes AxonFlow governance for the Codex CLI.
//!
//! The binary (`main.rs`) only parses arguments; each subcommand lives in its own module,
//! the file formats each in theirs.

// The crate's own `println!`, `print!` and `eprintln!` shadow std's (macro_rules scope wins over
// the prelude), so every write goes through `output`, which survives a closed or full stdout.
macro_rules! println {
    () => {
        $crate::ui::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::ui::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

macro_rules! print {
    ($($arg:tt)*) => {
        $crate::ui::output::stdout(format_args!($($arg)*))
    };
}

macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::ui::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub mod cli;
pub mod error;

/// Talking to the AxonFlow agent at install time: Community SaaS registration, the liveness probe.
pub(crate) mod agent;
/// What the installer knows of Codex: its home and paths, hooks.json's shape and ours, hook
/// trust, the `codex` binary, the skills.
pub mod codex;
/// The subcommands, one module each.
pub mod commands;
/// Byte-exact edits of the user's files (hooks.json, config.toml) and the plan that shows them.
pub mod edit;
/// The installer's own records: the receipt, atomic writes and the lock, the hook's spool and
/// journal as status and doctor read them.
pub mod state;
/// What people see: the one output path, progress, prompts.
pub mod ui;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
