pub(crate) mod config_outline;
pub mod config_toml;
pub(crate) mod json_edit;
pub(crate) mod plan;
pub(crate) mod redact;
pub(crate) mod splice;
pub(crate) mod toml_spans;
