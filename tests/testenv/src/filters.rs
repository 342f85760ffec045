//! Filters for snapshots, as jj's `TestEnvironment` normalises output: what differs from one
//! run to the next becomes a fixed word, and everything else stays byte for byte.
//!
//! | what | becomes |
//! | --- | --- |
//! | the test's `CODEX_HOME`, `HOME`, root, the program's path | `[CODEX_HOME]`, `[HOME]`, `[ROOT]`, `[PROGRAM]` |
//! | a loopback port (`127.0.0.1:<port>`, `localhost:<port>`) | `127.0.0.1:[PORT]` |
//! | the workspace version | `[VERSION]` |
//! | a measured duration (`12 ms`, `0.4 s`, `1.25s`) | `[DURATION]` |
//! | a sha256 in hex (trust hashes and the receipt's digests cover the test's paths) | `[HASH]` |
//! | a size in bytes (`(40573344 bytes)`: the hook binary's changes with every build) | `([SIZE] bytes)` |
//!
//! Whole seconds (`8 s`) are settings, not measurements, and stay.

use std::path::PathBuf;
use std::sync::OnceLock;

use regex::Regex;

struct Patterns {
    port: Regex,
    duration: Regex,
    hash: Regex,
    size: Regex,
    version: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| Patterns {
        port: Regex::new(r"\b(127\.0\.0\.1|localhost):\d{2,5}\b").unwrap(),
        duration: Regex::new(r"\b\d+(\.\d+)? ?(ms|µs)\b|\b\d+\.\d+ ?s\b").unwrap(),
        hash: Regex::new(r"\b[0-9a-f]{64}\b").unwrap(),
        size: Regex::new(r"\(\d+ bytes\)").unwrap(),
        // Not inside a longer number (`12.0.0`), but after a letter (`v2.0.0`).
        version: Regex::new(&format!(r"(^|[^0-9.]){}\b", regex::escape(crate::VERSION))).unwrap(),
    })
}

pub(crate) fn normalize(text: &str, paths: &[(PathBuf, &str)]) -> String {
    let mut text = text.to_string();
    // Longest first: the Codex home sits inside HOME, HOME inside the root.
    let mut paths: Vec<_> = paths.iter().collect();
    paths.sort_by_key(|(path, _)| std::cmp::Reverse(path.as_os_str().len()));
    for (path, word) in paths {
        text = text.replace(&path.display().to_string(), word);
    }
    let patterns = patterns();
    let text = patterns.port.replace_all(&text, "127.0.0.1:[PORT]");
    let text = patterns.hash.replace_all(&text, "[HASH]");
    let text = patterns.size.replace_all(&text, "([SIZE] bytes)");
    let text = patterns.duration.replace_all(&text, "[DURATION]");
    patterns
        .version
        .replace_all(&text, "${1}[VERSION]")
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_run_specific_text_is_replaced() {
        let paths = [
            (PathBuf::from("/tmp/t/home"), "[HOME]"),
            (PathBuf::from("/tmp/t/home/.codex"), "[CODEX_HOME]"),
        ];
        let text = "at /tmp/t/home/.codex/hooks.json and /tmp/t/home/x, \
                    http://127.0.0.1:40123 v2.0.0 took 12 ms, 0.4 s, 1.25s; timeout 8 s \
                    sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
                    (40573344 bytes)";
        assert_eq!(
            normalize(text, &paths),
            "at [CODEX_HOME]/hooks.json and [HOME]/x, http://127.0.0.1:[PORT] v[VERSION] \
             took [DURATION], [DURATION], [DURATION]; timeout 8 s sha256:[HASH] ([SIZE] bytes)"
        );
    }
}
