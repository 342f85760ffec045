pub(crate) mod output;
pub(crate) mod progress;
pub mod prompt;
