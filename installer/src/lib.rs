//! `axonflow-codex`: installs, checks and removes AxonFlow governance for the Codex CLI.
//!
//! The binary (`main.rs`) only parses arguments; each subcommand lives in its own module,
//! the file formats each in theirs.

pub mod config_toml;
pub mod error;
pub mod fsio;
pub mod hooks_json;
pub mod json_edit;
pub mod trust;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
