//! The one way a command shows its result, in the manner of uv's `Printer`.
//!
//! Each command builds a typed report that is both `Serialize` (its `--json` document) and
//! `Display` (its text for people), so the two are one value and cannot drift. The printer
//! picks one of them; everything it prints goes through `output` (the crate's `println!`),
//! which survives a closed or full stdout. Errors take the same path: with `--json` they are
//! one `{"error": …}` document on stdout, otherwise `error:` and `hint:` lines on stderr.

use std::fmt;
use std::io::IsTerminal as _;

use serde::Serialize;

use crate::error::CommandError;

/// What a command prints its result as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Printer {
    json: bool,
}

impl Printer {
    pub(crate) fn new(json: bool) -> Self {
        Printer { json }
    }

    pub(crate) fn is_json(self) -> bool {
        self.json
    }

    /// The command's result: its JSON document, or its text for people.
    pub(crate) fn report<R: Serialize + fmt::Display>(self, report: &R) {
        if self.json {
            println!("{}", to_json(report));
        } else {
            println!("{report}");
        }
    }

    /// Text for people only (a streamed row, a note): nothing with `--json`, whose document
    /// holds the same facts.
    pub(crate) fn human(self, text: impl fmt::Display) {
        if !self.json {
            println!("{text}");
        }
    }

    /// A failed command: one `{"error": …}` document on stdout with `--json` (a script reads
    /// stdout and the exit code), otherwise `error:` / `hint:` lines on stderr.
    pub(crate) fn error(self, error: &CommandError) {
        if self.json {
            println!("{}", to_json(&error.to_json()));
        } else {
            eprintln!("{}", error.render(console::colors_enabled_stderr()));
        }
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Our reports hold strings, numbers, paths and maps with string keys: they always
    // serialise; a failure here would be a bug, shown rather than hidden.
    serde_json::to_string(value).unwrap_or_else(|e| {
        serde_json::json!({"error": {"kind": "failure", "message": format!("cannot render the report: {e}"), "hints": []}}).to_string()
    })
}

/// Colours only where a person reads them: on a terminal, and unless `NO_COLOR` is set
/// (to anything but the empty string, as no-color.org asks). Decided once per stream, so
/// pipes, files and tests see plain text.
pub(crate) fn configure_colours() {
    let wanted = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    console::set_colors_enabled(wanted && std::io::stdout().is_terminal());
    console::set_colors_enabled_stderr(wanted && std::io::stderr().is_terminal());
}

/// The verdict of a check, as doctor prints it: PASS green, WARN yellow, FAIL red, SKIP dim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not checked, because an earlier link of the chain failed (the detail says which).
    Skip,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = console::style(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        });
        let label = match self {
            Status::Pass => label.green(),
            Status::Warn => label.yellow(),
            Status::Fail => label.red().bold(),
            Status::Skip => label.dim(),
        };
        write!(f, "{label}")
    }
}
