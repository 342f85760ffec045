//! Every byte the installer prints goes through here (the crate's `println!`, `print!` and
//! `eprintln!` are these functions), so no command panics on a closed or full stdout.
//!
//! A closed pipe (`doctor | head -1`, `install -y | true`) stops the output quietly: the work
//! goes on and the command exits with the code the work deserves. Any other write failure
//! (`doctor > /dev/full`) also stops the output, and [`finish`] turns it into an error.

use std::fmt;
use std::io::{self, Write as _};
use std::sync::Mutex;

#[derive(Debug)]
enum State {
    Open,
    /// The reader went away: nothing more is written, and that is not an error.
    Closed,
    /// Writing failed for another reason (a full disk): reported by [`finish`].
    Failed(io::Error),
}

static STDOUT: Mutex<State> = Mutex::new(State::Open);

/// Writes to stdout, flushing so that a failure is seen now rather than at exit.
pub fn stdout(args: fmt::Arguments<'_>) {
    let mut state = STDOUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !matches!(*state, State::Open) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(error) = out.write_fmt(args).and_then(|()| out.flush()) {
        *state = if error.kind() == io::ErrorKind::BrokenPipe {
            State::Closed
        } else {
            State::Failed(error)
        };
    }
}

/// Writes to stderr; a failure there has nowhere left to be reported, so it is ignored.
pub fn stderr(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// A write failure other than a closed pipe, as an error message for the exit.
pub fn finish() -> Option<String> {
    let state = STDOUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match &*state {
        State::Failed(error) => Some(format!(
            "cannot write the output: {}",
            axonflow_codex_hook::text::io_cause(error)
        )),
        State::Open | State::Closed => None,
    }
}
