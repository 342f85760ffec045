//! Errors that say what happened and what to do about it: a cause in plain words, then hints.
//!
//! Library errors never reach people as they are (`io: Connection refused (os error 111)`,
//! `TransportError: …`, `timeout: global`): [`plain_cause`] turns them into the few causes a
//! person can act on ("connection refused", "no answer within 8 s", "name not found",
//! "TLS error: …").

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

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
    /// The command's own `--json` document already says this (doctor's failed rows, for
    /// one): with `--json`, no second document is printed for it.
    pub in_report: bool,
}

pub type Result<T> = std::result::Result<T, CommandError>;

impl CommandError {
    pub fn failure(message: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::Failure,
            message: message.into(),
            hints: Vec::new(),
            in_report: false,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CommandError {
            kind: ErrorKind::Usage,
            message: message.into(),
            hints: Vec::new(),
            in_report: false,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Marks an error that the command's `--json` report already carries.
    pub fn in_report(mut self) -> Self {
        self.in_report = true;
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

    /// The `--json` form: `{"error": {"kind": "usage"|"failure", "message": …, "hints": […]}}`.
    pub fn to_json(&self) -> Value {
        let kind = match self.kind {
            ErrorKind::Usage => "usage",
            ErrorKind::Failure => "failure",
        };
        json!({"error": {"kind": kind, "message": self.message, "hints": self.hints}})
    }

    /// The text for people, with `error:` in red and `hint:` in cyan when `colour` is on.
    pub fn render(&self, colour: bool) -> String {
        let label = |text: &'static str, style: console::Style| {
            style.force_styling(colour).apply_to(text).to_string()
        };
        let mut text = format!(
            "{} {}",
            label("error:", console::Style::new().red().bold()),
            self.message
        );
        for hint in &self.hints {
            text.push_str(&format!(
                "\n{} {hint}",
                label("hint:", console::Style::new().cyan())
            ));
        }
        text
    }
}

/// The cause of a failed network or file operation, in plain words: the error's chain is
/// searched for what ureq or the OS reported, and `timeout` is the bound the request had.
pub(crate) fn plain_cause(error: &(dyn std::error::Error + 'static), timeout: Duration) -> String {
    let mut current = Some(error);
    let mut innermost = error;
    while let Some(error) = current {
        if let Some(error) = error.downcast_ref::<ureq::Error>() {
            return ureq_cause(error, timeout);
        }
        if let Some(error) = error.downcast_ref::<std::io::Error>() {
            if let Some(inner) = error.get_ref().filter(|e| e.is::<ureq::Error>()) {
                return plain_cause(inner, timeout);
            }
            return io_cause(error, timeout);
        }
        innermost = error;
        current = error.source();
    }
    // Not a transport failure: the innermost message, without a library's type prefix.
    let text = axonflow_codex_hook::text::single_line(&innermost.to_string());
    match text.split_once(": ") {
        Some((prefix, rest)) if prefix.ends_with("Error") && !prefix.contains(' ') => {
            rest.to_string()
        }
        _ => text,
    }
}

fn within(timeout: Duration) -> String {
    format!("no answer within {} s", timeout.as_secs().max(1))
}

fn ureq_cause(error: &ureq::Error, timeout: Duration) -> String {
    match error {
        ureq::Error::Timeout(_) => within(timeout),
        ureq::Error::HostNotFound => "name not found".to_string(),
        ureq::Error::Io(error) => io_cause(error, timeout),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Tls(text) => format!("TLS error: {text}"),
        ureq::Error::Rustls(error) => format!(
            "TLS error: {}",
            axonflow_codex_hook::text::single_line(&error.to_string())
        ),
        ureq::Error::Pem(_) => "TLS error: an unreadable certificate".to_string(),
        ureq::Error::ConnectProxyFailed(_) | ureq::Error::InvalidProxyUrl => {
            "the proxy could not be used".to_string()
        }
        ureq::Error::StatusCode(status) => format!("HTTP {status}"),
        ureq::Error::BodyExceedsLimit(limit) => format!("the answer is over {limit} bytes"),
        ureq::Error::BadUri(uri) => format!("`{uri}` is not a usable URL"),
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(_, _) => {
            "not an HTTP answer".to_string()
        }
        other => axonflow_codex_hook::text::single_line(&other.to_string()),
    }
}

fn io_cause(error: &std::io::Error, timeout: Duration) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => "connection refused".to_string(),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => within(timeout),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            "the connection was closed".to_string()
        }
        ErrorKind::UnexpectedEof => "the answer was cut short".to_string(),
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
            "no route to the host".to_string()
        }
        ErrorKind::AddrNotAvailable => "address not available".to_string(),
        _ => axonflow_codex_hook::text::io_cause(error),
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl From<axonflow_codex_hook::host_env::SettingsError> for CommandError {
    fn from(error: axonflow_codex_hook::host_env::SettingsError) -> Self {
        CommandError::failure(error.to_string())
    }
}
