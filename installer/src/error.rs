//! Errors that say what happened and what to do about it.

use std::fmt;
use std::path::Path;

/// How a command failed: a usage error (exit 2) or a failure (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Usage,
    Failure,
}

#[derive(Debug, Clone)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
    pub hints: Vec<String>,
}

pub type Result<T> = std::result::Result<T, CommandError>;

impl CommandError {
    pub fn failure(message: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::Failure,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::Usage,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// An I/O failure on a file, naming it.
    pub fn io(action: &str, path: &Path, error: &std::io::Error) -> Self {
        CommandError::failure(format!(
            "cannot {action} {}: {}",
            path.display(),
            axonflow_codex_hook::text::io_cause(error)
        ))
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Usage => 2,
            ErrorKind::Failure => 1,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for hint in &self.hints {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl From<axonflow_codex_hook::host_env::SettingsError> for CommandError {
    fn from(error: axonflow_codex_hook::host_env::SettingsError) -> Self {
        CommandError::failure(error.to_string())
    }
}
