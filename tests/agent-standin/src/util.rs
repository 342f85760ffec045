//! Small helpers: Go-compatible JSON encoding, UTC timestamps, random hex.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// Returns a copy of `v` whose objects have their keys sorted (byte order), recursively —
/// what Go's `encoding/json` does for a `map[string]interface{}`. The workspace `serde_json`
/// has `preserve_order`, so sorting has to be explicit.
pub fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k.clone(), sort_keys(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings by default
/// (HTML-safe encoding). In serialized JSON these characters can only occur inside strings,
/// so a plain replacement is exact.
fn go_html_escape(s: String) -> String {
    if !s.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `json.Marshal` (keys in the value's own order).
pub fn go_compact(v: &Value) -> String {
    go_html_escape(serde_json::to_string(v).expect("serializable JSON value"))
}

/// `json.MarshalIndent(v, "", "  ")` of a Go map: sorted keys, 2-space indent, no trailing
/// newline.
pub fn go_pretty_sorted(v: &Value) -> String {
    go_html_escape(serde_json::to_string_pretty(&sort_keys(v)).expect("serializable JSON value"))
}

/// `json.NewEncoder(w).Encode(v)`: compact plus a trailing newline.
pub fn go_encode(v: &Value) -> Vec<u8> {
    let mut s = go_compact(v);
    s.push('\n');
    s.into_bytes()
}

fn now_secs() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(_) => 0,
    }
}

/// (year, month, day) for days since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// RFC 3339 UTC timestamp (`2026-05-01T12:00:00Z`) for a Unix time in seconds.
pub fn rfc3339(secs: i64) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

pub fn rfc3339_now() -> String {
    rfc3339(now_secs())
}

/// Seconds from now until the next UTC midnight (at least 1).
pub fn secs_until_utc_midnight() -> u64 {
    let now = now_secs();
    let next = (now.div_euclid(86_400) + 1) * 86_400;
    (next - now).max(1) as u64
}

/// RFC 3339 of the next UTC midnight.
pub fn next_utc_midnight() -> String {
    rfc3339((now_secs().div_euclid(86_400) + 1) * 86_400)
}

/// HTTP `Date` header value (`Mon, 02 Jan 2006 15:04:05 GMT`).
pub fn http_date_now() -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now_secs();
    let days = secs.div_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let sod = secs.rem_euclid(86_400);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(mo - 1) as usize],
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

static RANDOM_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `n` lowercase hex characters from std's randomly seeded hasher (not cryptographic).
pub fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(RANDOM_COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
    }

    #[test]
    fn html_escape_like_go() {
        let v = serde_json::json!({"b": "a<b>&c", "a": 1});
        assert_eq!(go_compact(&v), r#"{"b":"a\u003cb\u003e\u0026c","a":1}"#);
        assert_eq!(
            go_pretty_sorted(&v),
            "{\n  \"a\": 1,\n  \"b\": \"a\\u003cb\\u003e\\u0026c\"\n}"
        );
    }

    #[test]
    fn random_hex_len() {
        let a = random_hex(24);
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(24));
    }
}
