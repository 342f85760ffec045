pub(crate) mod codex_cli;
pub mod hooks_json;
pub(crate) mod hooks_schema;
pub mod paths;
pub(crate) mod skills;
pub mod trust;
