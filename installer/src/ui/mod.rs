pub(crate) mod output;
pub(crate) mod printer;
pub(crate) mod progress;
pub mod prompt;
