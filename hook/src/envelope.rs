//! The tier/quota envelope (HTTP 429 or 403): remember the limit, tell the user once a day,
//! and stay quiet otherwise.

use serde_json::{Map, Value};

use crate::agent::{result_text, HttpReply};
use crate::state::{self, StateDir};

pub const DEFAULT_UPGRADE_WORDING: &str =
    "Free tier limit reached on AxonFlow. Pro removes this cap.";
pub const DEFAULT_UPGRADE_URL: &str = "https://getaxonflow.com/pricing/";
const DEFAULT_THROTTLE_SECONDS: i64 = 60;

/// A tier-limit envelope, found at the body root or inside `result.content[0].text`.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    fields: Map<String, Value>,
}

impl Envelope {
    /// The envelope in a 429/403 reply, if it carries one.
    pub fn detect(reply: &HttpReply) -> Option<Envelope> {
        if reply.status != 429 && reply.status != 403 {
            return None;
        }
        let body = reply.json()?;
        let candidates = [
            body.as_object().cloned(),
            result_text(&body)
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .and_then(|v| v.as_object().cloned()),
        ];
        candidates
            .into_iter()
            .flatten()
            .find(|fields| {
                fields
                    .get("limit_type")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            })
            .map(|fields| Envelope { fields })
    }

    pub fn limit_type(&self) -> &str {
        self.str_field(&["limit_type"]).unwrap_or_default()
    }

    fn str_field(&self, path: &[&str]) -> Option<&str> {
        let mut value = self.fields.get(path[0])?;
        for key in &path[1..] {
            value = value.get(key)?;
        }
        value.as_str().filter(|s| !s.is_empty())
    }

    /// When the throttle ends: `resets_at`, else `Retry-After` seconds from now, else a
    /// minute; never more than a day ahead, so a wrong or hostile answer cannot switch
    /// governance off for longer than the longest tier window.
    pub fn deadline(&self, retry_after: Option<&str>, now: i64) -> i64 {
        let latest = now.saturating_add(state::THROTTLE_CAP_SECONDS);
        if let Some(reset) = self
            .str_field(&["resets_at"])
            .and_then(state::parse_rfc3339)
        {
            return reset.min(latest);
        }
        match retry_after.and_then(|v| v.trim().parse::<i64>().ok()) {
            Some(seconds) if seconds >= 0 => now.saturating_add(seconds).min(latest),
            _ => now + DEFAULT_THROTTLE_SECONDS,
        }
    }

    /// Records the throttle and returns the upgrade prompt lines when it is the first time
    /// today they are shown.
    pub fn handle(&self, reply: &HttpReply, state: &StateDir, now: i64) -> Vec<String> {
        let deadline = self.deadline(reply.retry_after.as_deref(), now);
        state.write_throttle(
            deadline,
            &crate::text::single_line(self.limit_type()).replace(' ', "_"),
        );
        if !state.first_time_today(state::UPGRADE_PROMPT_FILE, &state::utc_date(now)) {
            return Vec::new();
        }
        let wording = self
            .str_field(&["upgrade", "wording"])
            .or_else(|| self.str_field(&["error"]))
            .unwrap_or(DEFAULT_UPGRADE_WORDING);
        let url = self
            .str_field(&["upgrade", "buy_url"])
            .unwrap_or(DEFAULT_UPGRADE_URL);
        vec![
            format!("[AxonFlow] {}", crate::text::single_line(wording)),
            format!("[AxonFlow] Upgrade: {}", crate::text::single_line(url)),
        ]
    }
}
