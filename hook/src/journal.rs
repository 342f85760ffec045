//! The local decision journal: one JSON line per governance decision of the hooks, in
//! `<user state dir>/journal.jsonl` (0600), rotated to `journal.1.jsonl` past
//! [`ROTATE_AT`], so both together stay near 5 MiB. The user's own record on the user's own
//! machine: never a credential (none is at hand where a record is made), never an output
//! (only the first 200 characters of the statement, the command or input that was checked).
//!
//! Decision points note what they decided ([`note`]); the hook's entry point writes one line
//! when the run ends ([`Call::finish`]), with the latency of the whole run.

use std::cell::RefCell;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Map, Value};

use crate::event::Event;
use crate::host_env::HostEnv;
use crate::HookOutcome;

pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const ROTATED_FILE: &str = "journal.1.jsonl";
const LOCK_FILE: &str = "journal.lock";
/// A journal past this is rotated; the live file and the rotated one together stay near 5 MiB.
pub const ROTATE_AT: u64 = 5 * 1024 * 1024 / 2;
/// Each file is read whole for `log` and `status` at most this large.
const READ_LIMIT: u64 = 2 * ROTATE_AT;
pub const STATEMENT_CHARS: usize = 200;

/// The decisions a record can hold.
pub const ALLOW: &str = "allow";
pub const BLOCK: &str = "block";
pub const REDACTED: &str = "redacted";
pub const WITHHELD: &str = "withheld";
pub const UNREACHABLE: &str = "unreachable";
pub const AUTH_FAILURE: &str = "auth_failure";
pub const THROTTLED: &str = "throttled";

#[derive(Debug, Default)]
struct Note {
    statement: Option<String>,
    decision: Option<&'static str>,
    reason: String,
    decision_id: String,
    policies_evaluated: Option<i64>,
}

thread_local! {
    static NOTE: RefCell<Note> = RefCell::new(Note::default());
}

/// The checked statement (its first 200 characters are kept). A run that never notes one
/// made no governance decision and writes no record.
pub fn note_statement(statement: &str) {
    let head = crate::text::first_chars(statement, STATEMENT_CHARS).to_string();
    NOTE.with(|n| n.borrow_mut().statement = Some(head));
}

/// What was decided and why.
pub fn note(decision: &'static str, reason: impl Into<String>) {
    NOTE.with(|n| {
        let mut n = n.borrow_mut();
        n.decision = Some(decision);
        n.reason = reason.into();
    });
}

/// What was decided, with the decision id and policy count of the agent's `result`.
pub fn note_result(decision: &'static str, reason: impl Into<String>, result: &Map<String, Value>) {
    note(decision, reason);
    let decision_id = crate::text::json_as_text(result.get("decision_id"));
    let policies = crate::agent::policies_evaluated(result);
    NOTE.with(|n| {
        let mut n = n.borrow_mut();
        n.decision_id = decision_id;
        n.policies_evaluated = Some(policies);
    });
}

/// One hook run being journaled.
pub struct Call {
    event: Event,
    tool: String,
    session_id: String,
    started: Instant,
}

impl Call {
    pub fn start(event: Event, payload: Option<&crate::payload::Payload>) -> Call {
        NOTE.with(|n| *n.borrow_mut() = Note::default());
        Call {
            event,
            tool: payload.map(|p| p.tool_name.clone()).unwrap_or_default(),
            session_id: payload.map(|p| p.session_id.clone()).unwrap_or_default(),
            started: Instant::now(),
        }
    }

    /// A run with no tool payload (user-prompt-submit): the event's name stands for the tool.
    pub fn start_without_payload(event: Event) -> Call {
        NOTE.with(|n| *n.borrow_mut() = Note::default());
        Call {
            event,
            tool: event.json_name().to_string(),
            session_id: String::new(),
            started: Instant::now(),
        }
    }

    /// Appends the run's record, if it made a decision. A journal that cannot be written
    /// changes nothing.
    pub fn finish(self, env: &HostEnv, outcome: &HookOutcome) {
        let note = NOTE.with(|n| std::mem::take(&mut *n.borrow_mut()));
        let Some(statement) = note.statement else {
            return;
        };
        let Some(dir) = crate::spool::user_state_dir(env) else {
            return;
        };
        let allowed = outcome.exit_code == 0;
        let decision = note.decision.unwrap_or(if allowed { ALLOW } else { BLOCK });
        let reason = if note.reason.is_empty() {
            outcome.stderr_lines.first().cloned().unwrap_or_default()
        } else {
            note.reason
        };
        let record = crate::agent::object([
            (
                "time",
                Value::from(crate::state::rfc3339(crate::state::now_epoch())),
            ),
            ("event", Value::from(self.event.subcommand())),
            ("tool", Value::from(self.tool)),
            ("decision", Value::from(decision)),
            ("allowed", Value::from(allowed)),
            ("reason", Value::from(crate::text::single_line(&reason))),
            ("decision_id", Value::from(note.decision_id)),
            (
                "policies_evaluated",
                note.policies_evaluated.map_or(Value::Null, Value::from),
            ),
            (
                "latency_ms",
                Value::from(self.started.elapsed().as_millis() as u64),
            ),
            ("session_id", Value::from(self.session_id)),
            ("statement", Value::from(statement)),
        ]);
        let _ = append(&dir, &format!("{record}\n"));
    }
}

fn append(dir: &Path, line: &str) -> std::io::Result<()> {
    crate::files::create_private_dir(dir)?;
    let path = dir.join(JOURNAL_FILE);
    // O_APPEND: each record is one write at the end, whoever else is appending.
    let mut file = crate::spool::open_for_append(&path)?;
    file.write_all(line.as_bytes())?;
    if file.metadata()?.len() > ROTATE_AT {
        rotate(dir);
    }
    Ok(())
}

/// Moves the live journal aside. One process rotates at a time; a writer that still holds
/// the old file appends to the rotated one, so no record is lost.
fn rotate(dir: &Path) {
    let Ok(lock) = crate::spool::open_lock_file(&dir.join(LOCK_FILE)) else {
        return;
    };
    if lock.try_lock().is_err() {
        return;
    }
    let path = dir.join(JOURNAL_FILE);
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() > ROTATE_AT) {
        let _ = std::fs::rename(&path, dir.join(ROTATED_FILE));
    }
}

/// The journal's records, oldest first, and how many lines could not be read. A journal
/// file that others could have written is left out.
pub fn read(dir: &Path) -> (Vec<Value>, usize) {
    let mut records = Vec::new();
    let mut unreadable = 0;
    for name in [ROTATED_FILE, JOURNAL_FILE] {
        let Ok(file) = crate::files::read_small_file(&dir.join(name), READ_LIMIT) else {
            continue;
        };
        // A journal that someone else could have written (a shared state directory) would
        // show their records as this user's decisions, and skew the ungoverned count.
        if !crate::files::written_only_by_this_user(&file.metadata) {
            continue;
        }
        for line in file.bytes.split(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(record @ Value::Object(_)) => records.push(record),
                _ => unreadable += 1,
            }
        }
    }
    (records, unreadable)
}

/// The journal files, for `doctor` and the README.
pub fn files(dir: &Path) -> [PathBuf; 2] {
    [dir.join(JOURNAL_FILE), dir.join(ROTATED_FILE)]
}

/// Tool calls that ran without a policy check because the agent could not be reached and
/// `fail_mode` is open, at or after `since` (epoch seconds). Counted on pre-tool-use only:
/// one tool call, one count.
pub fn ungoverned_since(records: &[Value], since: i64) -> usize {
    records
        .iter()
        .filter(|r| r["event"] == Event::PreToolUse.subcommand())
        .filter(|r| r["decision"] == UNREACHABLE && r["allowed"] == true)
        .filter(|r| {
            r["time"]
                .as_str()
                .and_then(crate::state::parse_rfc3339)
                .is_some_and(|t| t >= since)
        })
        .count()
}
