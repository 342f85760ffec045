//! `axonflow-codex`: installs, checks and removes AxonFlow governance for the Codex CLI.
//!
//! The binary (`main.rs`) only parses arguments; each subcommand lives in its own module,
//! the file formats each in theirs.

// The crate's own `println!`, `print!` and `eprintln!` shadow std's (macro_rules scope wins over
// the prelude), so every write goes through `output`, which survives a closed or full stdout.
macro_rules! println {
    () => {
        $crate::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

macro_rules! print {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!($($arg)*))
    };
}

macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub mod cli;
pub mod codex_cli;
pub(crate) mod config_outline;
pub mod config_toml;
pub mod decisions;
pub mod doctor;
pub mod error;
pub mod fsio;
pub mod hooks_json;
pub mod hooks_schema;
pub mod install;
pub mod json_edit;
pub mod liveness;
pub mod local_records;
pub mod output;
pub mod paths;
pub mod plan;
pub mod progress;
pub mod prompt;
pub mod receipt;
pub mod redact;
pub mod registration;
pub mod skills;
pub mod status;
pub mod trust;
pub mod uninstall;
pub mod update;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
