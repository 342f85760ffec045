//! `axonflow-codex doctor`: proves the whole chain, one named row per check, each with a fix.
//!
//! Local rows first ([`local`]: Codex home, hooks.json, trust, MCP entry, skills, settings),
//! then the network rows ([`network`]: health and the probes, run concurrently with bounded
//! timeouts so a dead agent fails doctor in about one timeout instead of hanging it). Each row
//! is printed as soon as it is known, with a spinner on stderr while the agent is asked;
//! `--json` prints the one document at the end.

pub(crate) mod local;
mod network;

use std::fmt;

use axonflow_codex_hook::host_env::HostEnv;
use indicatif::ProgressBar;
use serde::Serialize;

use crate::error::{CommandError, Result};
use crate::ui::printer::Printer;
pub use crate::ui::printer::Status;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct DoctorOptions {
    /// Machine-readable rows on stdout
    #[arg(long)]
    pub json: bool,
    /// Skip the rows that need the network (agent health, credentials, probes, latency)
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

/// One row for people: `PASS  name             detail`, and the fix under it.
impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {:<16} {}", self.status, self.name, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n      {:<16} fix: {fix}", "")?;
        }
        Ok(())
    }
}

pub(crate) fn pass(name: &'static str, detail: impl Into<String>) -> Row {
    Row {
        name,
        status: Status::Pass,
        detail: detail.into(),
        fix: None,
    }
}

pub(crate) fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Row {
    Row {
        name,
        status: Status::Warn,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

fn skip(name: &'static str, reason: &str) -> Row {
    Row {
        name,
        status: Status::Skip,
        detail: format!("not checked: {reason}"),
        fix: None,
    }
}

pub(crate) fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Row {
    Row {
        name,
        status: Status::Fail,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

/// The rows so far; each is shown to people the moment it is pushed.
pub(crate) struct Rows {
    printer: Printer,
    rows: Vec<Row>,
    /// On stderr while a slow row runs (hidden when stderr is not a terminal).
    spinner: Option<ProgressBar>,
}

impl Rows {
    fn new(printer: Printer) -> Self {
        Rows {
            printer,
            rows: Vec::new(),
            spinner: None,
        }
    }

    pub(crate) fn push(&mut self, row: Row) {
        let printer = self.printer;
        // The spinner is wiped while the row is written, then drawn again below it.
        match &self.spinner {
            Some(spinner) => spinner.suspend(|| printer.human(&row)),
            None => printer.human(&row),
        }
        self.rows.push(row);
    }

    pub(crate) fn extend(&mut self, rows: impl IntoIterator<Item = Row>) {
        for row in rows {
            self.push(row);
        }
    }

    /// Says what doctor is waiting for, until [`Rows::done_waiting`].
    fn waiting(&mut self, message: &str) {
        match &self.spinner {
            Some(spinner) => spinner.set_message(message.to_string()),
            None => self.spinner = Some(crate::ui::progress::spinner(message)),
        }
    }

    fn done_waiting(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
    }
}

/// What doctor found: `{"ok": …, "rows": […]}` with `--json`; for people, the rows have been
/// shown as they came, so its text is the closing count.
#[derive(Debug, Serialize)]
pub(crate) struct DoctorReport {
    ok: bool,
    rows: Vec<Row>,
}

impl DoctorReport {
    fn count(&self, status: Status) -> usize {
        self.rows.iter().filter(|r| r.status == status).count()
    }
}

impl fmt::Display for DoctorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let skipped = match self.count(Status::Skip) {
            0 => String::new(),
            n => format!(", {n} not checked"),
        };
        write!(
            f,
            "doctor: {} pass, {} warn, {} fail{skipped}",
            self.count(Status::Pass),
            self.count(Status::Warn),
            self.count(Status::Fail)
        )
    }
}

pub fn run(options: &DoctorOptions, env: &HostEnv, printer: Printer) -> Result<()> {
    let mut rows = Rows::new(printer);
    check(options, env, &mut rows);
    rows.done_waiting();
    let report = DoctorReport {
        ok: !rows.rows.iter().any(|r| r.status == Status::Fail),
        rows: rows.rows,
    };
    printer.report(&report);
    match report.count(Status::Fail) {
        0 => Ok(()),
        failed => Err(CommandError::failure(format!("{failed} check(s) failed"))
            .hint("apply the fixes above, then run `axonflow-codex doctor` again")
            .in_report()),
    }
}

/// Every row, in a stable order: the local ones, the network ones, then the hooks' records.
fn check(options: &DoctorOptions, env: &HostEnv, rows: &mut Rows) {
    let Some(found) = local::rows(env, rows) else {
        return;
    };
    if let Some(settings) = &found.settings {
        if options.offline {
            rows.extend(local::throttle_row(settings));
        } else {
            let hook_binary = found.receipt.as_ref().map(|r| r.hook_binary.as_path());
            network::rows(env, settings, hook_binary, rows);
        }
    }
    rows.extend(crate::state::local_records::doctor_rows(
        env,
        found.settings.as_ref(),
        options.offline,
    ));
}
