//! `axonflow-codex`: installs, checks and removes AxonFlow governance for the Codex CLI.
//!
//! The binary (`main.rs`) only parses arguments; each subcommand lives in its own module,
//! the file formats each in theirs.

pub mod cli;
pub mod codex_cli;
pub mod config_toml;
pub mod decisions;
pub mod doctor;
pub mod error;
pub mod fsio;
pub mod hooks_json;
pub mod install;
pub mod json_edit;
pub mod local_records;
pub mod paths;
pub mod plan;
pub mod progress;
pub mod prompt;
pub mod receipt;
pub mod registration;
pub mod skills;
pub mod status;
pub mod trust;
pub mod uninstall;
pub mod update;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
