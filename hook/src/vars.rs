//! The environment variables the hook and the installer read, each named once.

pub const ENDPOINT: &str = "AXONFLOW_ENDPOINT";
pub const AUTH: &str = "AXONFLOW_AUTH";
pub const TIMEOUT_SECONDS: &str = "AXONFLOW_TIMEOUT_SECONDS";
pub const LICENSE_TOKEN: &str = "AXONFLOW_LICENSE_TOKEN";
pub const USER_TOKEN: &str = "AXONFLOW_USER_TOKEN";
pub const FAIL_MODE: &str = "AXONFLOW_FAIL_MODE";
pub const OUTPUT_MODE: &str = "AXONFLOW_OUTPUT_MODE";
pub const AUTH_FAILURE_COOLDOWN_SECONDS: &str = "AXONFLOW_AUTH_FAILURE_COOLDOWN_SECONDS";
/// The settings file itself, instead of `$CODEX_HOME/axonflow.toml`.
pub const CODEX_CONFIG: &str = "AXONFLOW_CODEX_CONFIG";
/// Home of `user-token.json`, instead of `~/.config/axonflow`.
pub const CONFIG_DIR: &str = "AXONFLOW_CONFIG_DIR";
pub const CODEX_HOME: &str = "CODEX_HOME";
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
pub const XDG_STATE_HOME: &str = "XDG_STATE_HOME";
