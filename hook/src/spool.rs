//! The durable audit spool: every `audit_tool_call` the hooks could not deliver waits in
//! `<user state dir>/audit-spool.jsonl`, one JSON line per record (the exact request body and
//! the time of the event), and is sent later, oldest first, by a hook run that reached the
//! agent, or by `axonflow-codex doctor`.
//!
//! Concurrency (Codex runs the hooks of several sessions at once):
//! - `audit-spool.lock` is held (`flock`, waited for at most [`LOCK_WAIT`]) while the spool is
//!   appended to, read, or rewritten; every rewrite is a temporary file and a rename, made
//!   while the lock is held, so an appender never writes into a replaced file.
//! - `audit-spool.delivering` is held for a whole delivery, taken without waiting: one
//!   process delivers at a time, the others leave the spool to it. Delivered records are
//!   removed by their id before that lock is released, so none is sent twice in the normal
//!   path. A process killed after sending and before removing leaves those records to be
//!   sent again (at least once).
//! - A line is appended with one `write` after the lock is taken; should a previous writer
//!   have left a torn line (a full disk, a power cut), a newline is written first, so the
//!   torn line stays one unreadable line, skipped and counted, and takes no record with it.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::agent::{self, AgentClient, Reply};
use crate::envelope::Envelope;
use crate::files::{create_private_dir, private_no_follow, write_private_atomically};
use crate::host_env::HostEnv;
use crate::vars;

pub const SPOOL_FILE: &str = "audit-spool.jsonl";
pub const COUNTS_FILE: &str = "audit-spool.counts";
const LOCK_FILE: &str = "audit-spool.lock";
const DELIVERY_LOCK_FILE: &str = "audit-spool.delivering";
/// The bound: beyond either, the oldest records are dropped and counted.
pub const MAX_RECORDS: usize = 10_000;
pub const MAX_BYTES: u64 = 20 * 1024 * 1024;
/// No record line is shorter than this, so a spool below `MAX_RECORDS * SMALLEST_LINE` bytes
/// needs no counting before an append.
const SMALLEST_LINE: u64 = 64;
/// The most records one hook run sends; `doctor` sends them all.
pub const RECORDS_PER_HOOK_RUN: usize = 200;
/// How long a hook waits for another process's spool lock before giving up on the spool.
const LOCK_WAIT: Duration = Duration::from_millis(1500);

/// The per-user state directory of the spool and the journal, as the installer finds it with
/// the `directories` crate (`BaseDirs::state_dir`, else `data_local_dir`, then `axonflow`):
/// `${XDG_STATE_HOME:-~/.local/state}/axonflow` on Linux (a relative `XDG_STATE_HOME` is
/// ignored, as the XDG specification asks), `~/Library/Application Support/axonflow` on
/// macOS, `%LOCALAPPDATA%\axonflow` on Windows.
pub fn user_state_dir(env: &HostEnv) -> Option<PathBuf> {
    let base = if cfg!(target_os = "macos") {
        env.home_dir()
            .map(|home| home.join("Library").join("Application Support"))
    } else if cfg!(windows) {
        env.var("LOCALAPPDATA").map(PathBuf::from)
    } else {
        env.var(vars::XDG_STATE_HOME)
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .or_else(|| env.home_dir().map(|home| home.join(".local").join("state")))
    };
    base.map(|dir| dir.join("axonflow"))
}

/// Whether a reply means the agent took the request. Undelivered: no HTTP answer (transport
/// failure, timeout), a 5xx that is not a JSON-RPC answer, a 401, a 429/403 tier envelope.
pub fn delivered(reply: &Reply) -> bool {
    let Reply::Http(http) = reply else {
        return false;
    };
    if http.status == 401 || Envelope::detect(http).is_some() {
        return false;
    }
    http.status < 500
        || http
            .json()
            .is_some_and(|body| body.get("result").is_some() || body.get("error").is_some())
}

/// One spooled audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    /// When the event happened, RFC 3339 in UTC.
    pub at: String,
    /// The request body exactly as it would have been sent.
    pub body: String,
}

/// The spool as read: its valid records, oldest first, and how many lines were unreadable.
#[derive(Debug, Default)]
pub struct Contents {
    pub records: Vec<Record>,
    pub unreadable: u64,
}

/// The running totals of records lost: dropped over the bound, unreadable lines skipped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub dropped: u64,
    pub unreadable: u64,
}

/// What a delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    /// Valid records still waiting.
    pub left: usize,
    /// Another process was delivering: nothing was tried.
    pub busy: bool,
}

#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn new(dir: PathBuf) -> Self {
        Spool { dir }
    }

    pub fn for_env(env: &HostEnv) -> Option<Self> {
        user_state_dir(env).map(Spool::new)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(SPOOL_FILE)
    }

    /// One `stat`: the only cost of the spool on a hook run while it is empty.
    pub fn has_pending(&self) -> bool {
        std::fs::metadata(self.file()).is_ok_and(|m| m.is_file() && m.len() > 0)
    }

    /// Appends the request `body` of an undelivered audit, dropping the oldest records when
    /// the bound would be passed.
    pub fn append(&self, body: &[u8]) -> std::io::Result<()> {
        let line = record_line(&new_record(body));
        create_private_dir(&self.dir)?;
        let _lock = self.lock(LOCK_FILE, LOCK_WAIT)?;
        if line.len() as u64 > MAX_BYTES {
            return self.add_counts(Counts {
                dropped: 1,
                unreadable: 0,
            });
        }
        let mut file = open_for_append(&self.file())?;
        let len = file.metadata()?.len();
        if len + line.len() as u64 > MAX_BYTES || len > MAX_RECORDS as u64 * SMALLEST_LINE {
            drop(file);
            return self.append_within_bound(line);
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        if len > 0 && !ends_with_newline(&mut file, len)? {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(line.as_bytes());
        file.write_all(&bytes)?;
        file.sync_data()
    }

    /// The slow path of [`Spool::append`], near the bound: drops the oldest records (and any
    /// unreadable line) so that the new one fits, in one atomic rewrite. Lock held.
    fn append_within_bound(&self, line: String) -> std::io::Result<()> {
        let contents = self.read_unlocked()?;
        let mut lines: Vec<String> = contents.records.iter().map(record_line).collect();
        lines.push(line);
        let mut bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();
        let mut first = 0;
        while lines.len() - first > MAX_RECORDS || bytes > MAX_BYTES {
            bytes -= lines[first].len() as u64;
            first += 1;
        }
        self.rewrite(&lines[first..].concat())?;
        self.add_counts(Counts {
            dropped: first as u64,
            unreadable: contents.unreadable,
        })
    }

    /// The spool's records, read under the lock.
    pub fn read(&self) -> std::io::Result<Contents> {
        if !self.file().exists() {
            return Ok(Contents::default());
        }
        let _lock = self.lock(LOCK_FILE, LOCK_WAIT)?;
        self.read_unlocked()
    }

    fn read_unlocked(&self) -> std::io::Result<Contents> {
        // The bound plus a margin: a larger file was not written by a hook of this version.
        let limit = MAX_BYTES + MAX_BYTES / 4;
        match crate::files::read_small_file(&self.file(), limit) {
            Ok(file) if !crate::files::written_only_by_this_user(&file.metadata) => {
                Err(not_only_ours(&self.file()))
            }
            Ok(file) => Ok(parse(&file.bytes)),
            Err(crate::files::ReadFailure::Missing) => Ok(Contents::default()),
            Err(crate::files::ReadFailure::TooLarge { .. }) => Ok(Contents {
                records: Vec::new(),
                unreadable: count_lines(&self.file())?,
            }),
            Err(failure) => Err(std::io::Error::other(format!(
                "{} {}",
                self.file().display(),
                failure.cause()
            ))),
        }
    }

    /// The totals of records lost so far.
    pub fn counts(&self) -> Counts {
        let path = self.dir.join(COUNTS_FILE);
        let Ok(file) = crate::files::read_small_file(&path, crate::files::STATE_FILE_LIMIT) else {
            return Counts::default();
        };
        let value: Value = serde_json::from_slice(&file.bytes).unwrap_or(Value::Null);
        let count = |key: &str| value.get(key).and_then(Value::as_u64).unwrap_or(0);
        Counts {
            dropped: count("dropped"),
            unreadable: count("unreadable"),
        }
    }

    /// Adds to the loss totals. Lock held.
    fn add_counts(&self, more: Counts) -> std::io::Result<()> {
        if more == Counts::default() {
            return Ok(());
        }
        let now = self.counts();
        let total = serde_json::json!({
            "dropped": now.dropped.saturating_add(more.dropped),
            "unreadable": now.unreadable.saturating_add(more.unreadable),
        });
        write_private_atomically(&self.dir.join(COUNTS_FILE), format!("{total}\n").as_bytes())
    }

    /// Sends the spooled records in order, until one is not delivered, `limit` records were
    /// sent, or `budget` is spent; delivered records (and unreadable lines, counted) are then
    /// removed. `progress` is told of each record sent.
    pub fn deliver(
        &self,
        client: &AgentClient,
        budget: Duration,
        limit: usize,
        mut progress: impl FnMut(usize, usize),
    ) -> std::io::Result<Delivery> {
        if !self.has_pending() {
            return Ok(Delivery::default());
        }
        let started = Instant::now();
        let Ok(_delivering) = self.lock(DELIVERY_LOCK_FILE, Duration::ZERO) else {
            return Ok(Delivery {
                busy: true,
                ..Delivery::default()
            });
        };
        let contents = self.read()?;
        let total = contents.records.len();
        let mut sent = HashSet::new();
        for record in contents.records.iter().take(limit) {
            let remaining = budget.saturating_sub(started.elapsed());
            if remaining < Duration::from_millis(100) {
                break;
            }
            let reply = client.post_body(
                record.body.as_bytes(),
                remaining.min(Duration::from_secs(crate::agent::SIDE_REQUEST_SECONDS)),
                agent::DEFAULT_BODY_LIMIT,
            );
            if !delivered(&reply) {
                break;
            }
            sent.insert(record.id.as_str());
            progress(sent.len(), total);
        }
        if !sent.is_empty() || contents.unreadable > 0 {
            self.remove(&sent)?;
        }
        Ok(Delivery {
            sent: sent.len(),
            left: total - sent.len(),
            busy: false,
        })
    }

    /// Removes the records with these ids and every unreadable line (counted).
    fn remove(&self, ids: &HashSet<&str>) -> std::io::Result<()> {
        let _lock = self.lock(LOCK_FILE, LOCK_WAIT)?;
        let contents = self.read_unlocked()?;
        let kept: String = contents
            .records
            .iter()
            .filter(|r| !ids.contains(r.id.as_str()))
            .map(record_line)
            .collect();
        self.rewrite(&kept)?;
        self.add_counts(Counts {
            dropped: 0,
            unreadable: contents.unreadable,
        })
    }

    fn rewrite(&self, text: &str) -> std::io::Result<()> {
        write_private_atomically(&self.file(), text.as_bytes())
    }

    /// An exclusive lock on `name`, waiting at most `wait`.
    fn lock(&self, name: &str, wait: Duration) -> std::io::Result<File> {
        let file = open_lock_file(&self.dir.join(name))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        format!("{name} is held by another process"),
                    ))
                }
                Err(std::fs::TryLockError::Error(error)) => return Err(error),
            }
        }
    }
}

/// Sends an audit body, or spools it when it was not delivered. While older records wait,
/// the new one joins them at the end and the spool is delivered in order (so audits arrive in
/// the order of their events).
pub fn send_audit(client: &AgentClient, spool: Option<&Spool>, body: Vec<u8>, timeout: Duration) {
    let Some(spool) = spool else {
        client.post_body(&body, timeout, agent::DEFAULT_BODY_LIMIT);
        return;
    };
    if spool.has_pending() && spool.append(&body).is_ok() {
        let _ = spool.deliver(client, timeout, RECORDS_PER_HOOK_RUN, |_, _| {});
        return;
    }
    let reply = client.post_body(&body, timeout, agent::DEFAULT_BODY_LIMIT);
    if !delivered(&reply) {
        let _ = spool.append(&body);
    }
}

/// After an answer from the agent: sends what waits, within the side-request budget.
pub fn deliver_after_contact(client: &AgentClient, spool: Option<&Spool>, reply: &Reply) {
    if let Some(spool) = spool.filter(|s| s.has_pending()) {
        if delivered(reply) {
            let budget = Duration::from_secs(crate::agent::SIDE_REQUEST_SECONDS);
            let _ = spool.deliver(client, budget, RECORDS_PER_HOOK_RUN, |_, _| {});
        }
    }
}

/// The request body of the post-tool-use audit (`hook-audit`).
pub fn post_audit_body(payload: &crate::payload::Payload) -> Vec<u8> {
    agent::request_body(
        "hook-audit",
        "audit_tool_call",
        payload.post_audit_arguments(),
    )
}

/// While a throttle keeps the hooks from asking the agent, the audit waits in the spool.
pub fn keep_for_later(spool: Option<&Spool>, payload: &crate::payload::Payload) {
    if let Some(spool) = spool {
        let _ = spool.append(&post_audit_body(payload));
    }
}

fn new_record(body: &[u8]) -> Record {
    static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let sequence = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Record {
        id: format!("{nanos}-{}-{sequence}", std::process::id()),
        at: crate::state::rfc3339(crate::state::now_epoch()),
        body: String::from_utf8_lossy(body).into_owned(),
    }
}

/// `{"id":…,"at":…,"body":…}` and a newline; JSON escapes any newline inside.
fn record_line(record: &Record) -> String {
    let value = agent::object([
        ("id", Value::from(record.id.as_str())),
        ("at", Value::from(record.at.as_str())),
        ("body", Value::from(record.body.as_str())),
    ]);
    format!("{value}\n")
}

fn parse(bytes: &[u8]) -> Contents {
    let mut contents = Contents::default();
    for line in bytes.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_record(line) {
            Some(record) => contents.records.push(record),
            None => contents.unreadable += 1,
        }
    }
    contents
}

fn parse_record(line: &[u8]) -> Option<Record> {
    let value: Value = serde_json::from_slice(line).ok()?;
    let text = |key: &str| value.get(key)?.as_str().map(str::to_string);
    let record = Record {
        id: text("id")?,
        at: text("at")?,
        body: text("body")?,
    };
    serde_json::from_str::<Value>(&record.body).ok()?;
    Some(record)
}

fn count_lines(path: &Path) -> std::io::Result<u64> {
    let mut file = File::open(path)?;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut lines = 0;
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += chunk[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

fn ends_with_newline(file: &mut File, len: u64) -> std::io::Result<bool> {
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Opens the spool for appending (0600 when created), never following a link at its path and
/// never blocking on a FIFO; refuses anything but a regular file.
pub(crate) fn open_for_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    private_no_follow(&mut options);
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if !crate::files::written_only_by_this_user(&metadata) {
        return Err(not_only_ours(path));
    }
    Ok(file)
}

/// A spool someone else could have written (a shared `XDG_STATE_HOME`): its bodies would be
/// sent with this user's credentials, and audits appended to it read by that someone.
fn not_only_ours(path: &Path) -> std::io::Error {
    std::io::Error::other(format!(
        "{} is not this user's own file, or others can write it",
        path.display()
    ))
}

pub(crate) fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    private_no_follow(&mut options);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_bad_lines_are_counted() {
        let record = new_record(br#"{"jsonrpc":"2.0","id":"hook-audit","x":"a\nb"}"#);
        let mut bytes = record_line(&record).into_bytes();
        bytes.extend_from_slice(b"{\"id\":\"torn\n");
        bytes.extend_from_slice(record_line(&record).as_bytes());
        bytes.extend_from_slice(b"{\"id\":\"x\",\"at\":\"y\",\"body\":\"not json\"}\n{\"id\":");
        let contents = parse(&bytes);
        assert_eq!(contents.records, vec![record.clone(), record]);
        assert_eq!(contents.unreadable, 3);
    }

    #[test]
    fn state_dir_follows_xdg() {
        let env = HostEnv::from_vars([("HOME", "/h"), ("XDG_STATE_HOME", "/s")]);
        if cfg!(target_os = "linux") {
            assert_eq!(user_state_dir(&env), Some(PathBuf::from("/s/axonflow")));
            let relative = HostEnv::from_vars([("HOME", "/h"), ("XDG_STATE_HOME", "s")]);
            assert_eq!(
                user_state_dir(&relative),
                Some(PathBuf::from("/h/.local/state/axonflow"))
            );
        }
    }
}
