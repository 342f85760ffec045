//! State files under `${XDG_CACHE_HOME:-~/.cache}/axonflow/`, shared with the bash plugin.
//!
//! Hooks of one Codex session run concurrently, and several sessions may run at once, so every
//! write is atomic (temporary file and rename in the same directory). A state file that cannot
//! be read or written never changes a decision beyond what the file says.

use std::path::PathBuf;

pub const THROTTLE_FILE: &str = "throttle-until";
pub const UPGRADE_PROMPT_FILE: &str = "upgrade-prompt-last-shown";
pub const AUTH_FAILURE_PROMPT_FILE: &str = "auth-failure-prompt-last-shown";
pub const AUTH_FAILURE_REASON: &str = "auth_failure";
/// No throttle lasts longer than the longest tier window: a stamp further ahead than this is
/// never honoured, and none is written further ahead.
pub const THROTTLE_CAP_SECONDS: i64 = 86_400;

/// An active throttle: requests are suppressed until `until` (epoch seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub until: i64,
    /// `auth_failure`, an envelope `limit_type`, or empty for a legacy one-field file.
    pub reason: String,
}

impl Throttle {
    pub fn is_auth_failure(&self) -> bool {
        self.reason == AUTH_FAILURE_REASON
    }

    /// A tier-limit throttle makes both hooks allow without asking the agent (an
    /// `auth_failure` one makes pre-tool-use block instead).
    pub fn allows_without_asking(&self) -> bool {
        !self.is_auth_failure()
    }
}

/// What the throttle file says, read without changing it.
enum StampReading {
    /// No file, or nothing a hook should act on or delete (not a regular file, oversize,
    /// unreadable, or a file someone else could have written).
    Absent,
    /// Garbage, expired, or further ahead than the cap: ignored and deleted.
    Stale,
    Active(Throttle),
}

/// The state directory; `None` when no home or cache directory is known, in which case
/// nothing is remembered.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: Option<PathBuf>,
}

impl StateDir {
    pub fn new(dir: Option<PathBuf>) -> Self {
        StateDir { dir }
    }

    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(name))
    }

    /// The throttle as the hooks honour it, if any, without touching the file: `doctor` uses
    /// this to say whether the hooks currently allow without asking.
    pub fn honoured_throttle(&self, now: i64) -> Option<Throttle> {
        match self.read_throttle(now) {
            StampReading::Active(throttle) => Some(throttle),
            StampReading::Absent | StampReading::Stale => None,
        }
    }

    /// The active throttle, if any. A stamp whose first field is not all digits, whose time
    /// has passed, or that lies further ahead than [`THROTTLE_CAP_SECONDS`] (the bash plugin
    /// writes `resets_at` deadlines of any length; a hand-written one could switch
    /// governance off for years) is deleted, so the agent is asked again.
    pub fn active_throttle(&self, now: i64) -> Option<Throttle> {
        match self.read_throttle(now) {
            StampReading::Active(throttle) => Some(throttle),
            StampReading::Absent => None,
            StampReading::Stale => {
                if let Some(path) = self.path(THROTTLE_FILE) {
                    let _ = std::fs::remove_file(path);
                }
                None
            }
        }
    }

    /// A stamp that another user could have written is not honoured (it would switch
    /// governance off, or block every tool, for a day); nor deleted: it is not ours.
    fn read_throttle(&self, now: i64) -> StampReading {
        let Some(text) = self
            .read_stamp_file(THROTTLE_FILE)
            .filter(|file| crate::files::written_only_by_this_user(&file.metadata))
            .and_then(|file| String::from_utf8(file.bytes).ok())
        else {
            return StampReading::Absent;
        };
        let line = text.lines().next().unwrap_or("");
        let (epoch, reason) = match line.split_once(' ') {
            Some((epoch, reason)) => (epoch, reason.trim()),
            None => (line.trim(), ""),
        };
        let until = (!epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()))
            .then(|| epoch.parse::<i64>().ok())
            .flatten();
        match until {
            Some(until) if now < until && until <= now.saturating_add(THROTTLE_CAP_SECONDS) => {
                StampReading::Active(Throttle {
                    until,
                    reason: reason.to_string(),
                })
            }
            _ => StampReading::Stale,
        }
    }

    /// A stamp's text; `None` when it is missing, not a regular file, over
    /// [`crate::files::STATE_FILE_LIMIT`], unreadable or not UTF-8.
    fn read_stamp(&self, name: &str) -> Option<String> {
        String::from_utf8(self.read_stamp_file(name)?.bytes).ok()
    }

    fn read_stamp_file(&self, name: &str) -> Option<crate::files::SmallFile> {
        let path = self.path(name)?;
        crate::files::read_small_file(&path, crate::files::STATE_FILE_LIMIT).ok()
    }

    /// Records a throttle until `until`, brought back to at most [`THROTTLE_CAP_SECONDS`]
    /// from now.
    pub fn write_throttle(&self, until: i64, reason: &str) {
        let until = until.min(now_epoch().saturating_add(THROTTLE_CAP_SECONDS));
        if let Some(path) = self.path(THROTTLE_FILE) {
            let _ = crate::files::write_private_atomically(
                &path,
                format!("{until} {reason}\n").as_bytes(),
            );
        }
    }

    /// Deletes an `auth_failure` stamp (after credentials were accepted); other stamps stay.
    pub fn clear_auth_failure(&self, now: i64) {
        if self
            .active_throttle(now)
            .is_some_and(|t| t.is_auth_failure())
        {
            if let Some(path) = self.path(THROTTLE_FILE) {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// True at most once per UTC day for each stamp file: the caller shows its prompt then.
    /// The stamp is written before returning true, so concurrent hooks rarely both show it.
    pub fn first_time_today(&self, stamp_file: &str, today: &str) -> bool {
        let Some(path) = self.path(stamp_file) else {
            return true;
        };
        let shown = self.read_stamp(stamp_file).unwrap_or_default();
        if shown.lines().next().map(str::trim) == Some(today) {
            return false;
        }
        let _ = crate::files::write_private_atomically(&path, format!("{today}\n").as_bytes());
        true
    }
}

/// `YYYY-MM-DD` of an epoch second, in UTC.
pub fn utc_date(epoch: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

/// An epoch second as RFC 3339 in UTC, e.g. `2026-11-24T08:20:00Z`.
pub fn rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| epoch.to_string())
}

/// An RFC 3339 timestamp as epoch seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|at| at.unix_timestamp())
}

/// Now, in epoch seconds.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_state() -> (PathBuf, StateDir) {
        let dir = std::env::temp_dir().join(format!(
            "axonflow-state-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        (dir.clone(), StateDir::new(Some(dir)))
    }

    #[test]
    fn throttle_round_trip_and_expiry() {
        let (dir, state) = temp_state();
        assert_eq!(state.active_throttle(100), None);
        state.write_throttle(200, "daily_quota");
        assert_eq!(
            state.active_throttle(100),
            Some(Throttle {
                until: 200,
                reason: "daily_quota".into()
            })
        );
        assert_eq!(state.active_throttle(200), None);
        assert!(
            !dir.join(THROTTLE_FILE).exists(),
            "expired stamp is deleted"
        );
        std::fs::write(dir.join(THROTTLE_FILE), "300\n").unwrap();
        assert_eq!(state.active_throttle(100).unwrap().reason, "");
        std::fs::write(dir.join(THROTTLE_FILE), "soon auth_failure\n").unwrap();
        assert_eq!(state.active_throttle(100), None);
        assert!(
            !dir.join(THROTTLE_FILE).exists(),
            "garbage stamp is deleted"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn prompt_once_a_day() {
        let (dir, state) = temp_state();
        assert!(state.first_time_today(UPGRADE_PROMPT_FILE, "2026-11-24"));
        assert!(!state.first_time_today(UPGRADE_PROMPT_FILE, "2026-11-24"));
        assert!(state.first_time_today(UPGRADE_PROMPT_FILE, "2026-11-25"));
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(utc_date(1_795_000_000), "2026-11-18");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(parse_rfc3339("2026-11-18T11:06:40Z"), Some(1_795_000_000));
        assert_eq!(
            parse_rfc3339("2026-11-18T12:06:40+01:00"),
            Some(1_795_000_000)
        );
        assert_eq!(parse_rfc3339("tomorrow"), None);
    }
}
