//! The hooks' records on this machine: the audit spool and the decision journal, for
//! `status`, `doctor` and `log`.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axonflow_codex_hook::agent::AgentClient;
use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::settings::Settings;
use axonflow_codex_hook::spool::{self, Spool};
use axonflow_codex_hook::{journal, state};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};

use crate::commands::doctor::{self, Row};

/// How long doctor keeps delivering the spool.
const DOCTOR_DELIVERY_BUDGET: Duration = Duration::from_secs(600);

/// The per-user state directory: `directories`' state directory (Linux), else its local data
/// directory (macOS, Windows), then `axonflow`. The hook computes the same path by hand
/// (`spool::user_state_dir`) to stay small; a test checks that both agree.
pub(crate) fn state_dir(env: &HostEnv) -> Option<PathBuf> {
    match directories::BaseDirs::new() {
        Some(base) => Some(
            base.state_dir()
                .unwrap_or_else(|| base.data_local_dir())
                .join("axonflow"),
        ),
        None => spool::user_state_dir(env),
    }
}

/// `audit_spool` of `status --json`.
pub(crate) fn spool_status(env: &HostEnv) -> Value {
    let Some(dir) = state_dir(env) else {
        return json!({"pending": 0, "dropped": 0, "unreadable": 0, "oldest": null, "dir": null});
    };
    let spool = Spool::new(dir.clone());
    let contents = spool.read().unwrap_or_default();
    let counts = spool.counts();
    json!({
        "pending": contents.records.len(),
        "dropped": counts.dropped,
        "unreadable": counts.unreadable + contents.unreadable,
        "oldest": contents.records.first().map(|r| r.at.clone()),
        "dir": dir,
    })
}

/// `ungoverned_last_24h` of `status --json`.
pub(crate) fn ungoverned_last_24h(env: &HostEnv) -> usize {
    let Some(dir) = state_dir(env) else {
        return 0;
    };
    let (records, _) = journal::read(&dir);
    journal::ungoverned_since(&records, state::now_epoch() - 86_400)
}

/// The lines `status` prints for the spool and the journal.
pub(crate) fn status_lines(spool: &Value, ungoverned: usize) -> Vec<String> {
    let mut lines = vec![match spool["pending"].as_u64().unwrap_or(0) {
        0 => "  spool     no audit waiting".to_string(),
        n => format!(
            "  spool     {n} audit(s) waiting for the agent, oldest {}",
            spool["oldest"].as_str().unwrap_or("?")
        ),
    }];
    let lost = spool["dropped"].as_u64().unwrap_or(0) + spool["unreadable"].as_u64().unwrap_or(0);
    if lost > 0 {
        lines.push(format!(
            "  spool     {lost} audit(s) lost ({} dropped over the bound, {} unreadable)",
            spool["dropped"], spool["unreadable"]
        ));
    }
    lines.push(format!(
        "  ungoverned {ungoverned} tool call(s) in the last 24 h ran unchecked (agent unreachable, fail_mode open)"
    ));
    lines
}

/// doctor's rows: the state directory, the spool (delivered first when the agent is to be
/// asked), and the ungoverned calls of the last day.
pub(crate) fn doctor_rows(env: &HostEnv, settings: Option<&Settings>, offline: bool) -> Vec<Row> {
    let Some(dir) = state_dir(env) else {
        return vec![doctor::warn(
            "state dir",
            "no home directory: audits the agent misses cannot be kept",
            "set HOME",
        )];
    };
    if let Err(cause) = check_writable(&dir) {
        return vec![doctor::fail(
            "state dir",
            format!(
                "{} {cause}: audits the agent misses are lost and no decision is journaled",
                dir.display()
            ),
            format!(
                "make {} a directory you own (mkdir -p and chmod 700 it)",
                dir.display()
            ),
        )];
    }
    let mut rows = vec![doctor::pass("state dir", dir.display().to_string())];
    let spool = Spool::new(dir.clone());
    let delivery = match settings.filter(|_| !offline) {
        Some(settings) if spool.has_pending() => Some(deliver_all(env, settings, &spool)),
        _ => None,
    };
    rows.push(spool_row(&spool, delivery));
    let ungoverned = ungoverned_last_24h(env);
    if ungoverned > 0 {
        rows.push(doctor::warn(
            "ungoverned",
            format!("{ungoverned} tool call(s) in the last 24 h ran without a policy check: the agent could not be reached and fail_mode is open"),
            "check the agent's availability (`axonflow-codex log --since 24h`), or set fail_mode = \"closed\"",
        ));
    }
    rows
}

/// Whether a file can be created in `dir` (created 0700 when missing, as the hooks do).
fn check_writable(dir: &Path) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err("is not a directory".to_string());
    }
    let probe = dir.join(format!(".doctor-{}.tmp", std::process::id()));
    let result = (|| {
        create_dir_private(dir)?;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)?;
        std::fs::remove_file(&probe)
    })();
    result.map_err(|e| {
        format!(
            "is not writable ({})",
            axonflow_codex_hook::text::io_cause(&e)
        )
    })
}

fn create_dir_private(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// What doctor's delivery did, or why it could not.
type DeliveryResult = std::io::Result<spool::Delivery>;

fn deliver_all(env: &HostEnv, settings: &Settings, spool: &Spool) -> DeliveryResult {
    let client = AgentClient::for_hooks(env, settings);
    let bar = progress_bar();
    let result = spool.deliver(
        &client,
        DOCTOR_DELIVERY_BUDGET,
        usize::MAX,
        |sent, total| {
            bar.set_length(total as u64);
            bar.set_position(sent as u64);
        },
    );
    bar.finish_and_clear();
    result
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("delivering audits {bar:30} {pos}/{len}") {
        bar.set_style(style);
    }
    bar
}

fn spool_row(spool: &Spool, delivery: Option<DeliveryResult>) -> Row {
    let counts = spool.counts();
    let contents = spool.read().unwrap_or_default();
    let pending = contents.records.len();
    let sent = match &delivery {
        Some(Ok(d)) if d.sent > 0 => format!("{} delivered now; ", d.sent),
        _ => String::new(),
    };
    let lost = counts.dropped + counts.unreadable + contents.unreadable;
    if lost > 0 {
        return doctor::fail(
            "audit spool",
            format!(
                "{sent}{lost} audit(s) were lost ({} dropped over the 10,000-record / 20 MiB bound, {} unreadable); {pending} waiting",
                counts.dropped,
                counts.unreadable + contents.unreadable
            ),
            format!(
                "restore the agent's reachability sooner; the count is reset by deleting {}",
                spool.dir().join(spool::COUNTS_FILE).display()
            ),
        );
    }
    if pending == 0 {
        return doctor::pass("audit spool", format!("{sent}no audit waiting"));
    }
    let why = match delivery {
        None => "not delivered (offline, or no usable settings)".to_string(),
        Some(Err(error)) => format!("could not be read: {error}"),
        Some(Ok(d)) if d.busy => "a hook is delivering them now".to_string(),
        Some(Ok(_)) => {
            "the agent did not take them (unreachable, 401, 5xx or a tier limit)".to_string()
        }
    };
    doctor::warn(
        "audit spool",
        format!(
            "{sent}{pending} audit(s) waiting since {}: {why}",
            contents.records[0].at
        ),
        "fix the connection (see the rows above), then run `axonflow-codex doctor` again to deliver them",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn the_hook_and_directories_agree_on_the_state_dir() {
        let env = HostEnv::from_process();
        let by_hand = spool::user_state_dir(&env);
        assert!(by_hand.is_some());
        assert_eq!(state_dir(&env), by_hand);
    }
}
