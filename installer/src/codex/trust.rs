//! Codex hook trust: the `[hooks.state."<key>"] trusted_hash` entries Codex checks before it
//! runs a hook from the user's hooks.json, and verification through `codex app-server`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::codex::hooks_json::OurHook;
use crate::state::fsio::sha256_hex;
use axonflow_codex_hook::vars;

/// `<canonical hooks.json path>:<snake event>:<group index>:<handler index>`.
pub fn key(hooks_json: &Path, hook: &OurHook, group_index: usize) -> String {
    format!(
        "{}:{}:{group_index}:0",
        hooks_json.display(),
        hook.event.snake_name()
    )
}

/// `sha256:<hex>` of the hook's identity: keys sorted at every level, no whitespace, the
/// timeout and async defaults filled in, `commandWindows` left out.
pub fn hash(hook: &OurHook) -> String {
    // Written out in sorted key order by hand: the workspace's serde_json keeps insertion
    // order (preserve_order), and Codex hashes the sorted form.
    let mut handler = format!(
        "{{\"async\":false,\"command\":{}",
        Value::from(hook.command.as_str())
    );
    if let Some(message) = &hook.status_message {
        handler.push_str(&format!(
            ",\"statusMessage\":{}",
            Value::from(message.as_str())
        ));
    }
    handler.push_str(&format!(
        ",\"timeout\":{},\"type\":\"command\"}}",
        hook.timeout.max(1)
    ));
    // Codex drops the matcher from the identity of events that ignore it.
    let matcher = if hook.event.takes_matcher() {
        format!(",\"matcher\":{}", Value::from(hook.matcher.as_str()))
    } else {
        String::new()
    };
    let identity = format!(
        "{{\"event_name\":{},\"hooks\":[{handler}]{matcher}}}",
        Value::from(hook.event.snake_name()),
    );
    format!("sha256:{}", sha256_hex(identity.as_bytes()))
}

/// What `codex app-server` says about one hook.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListedHook {
    pub key: String,
    pub trust_status: String,
    pub current_hash: String,
}

impl ListedHook {
    /// Whether Codex runs the hook: trusted by the user, or managed by an administrator.
    fn runs(&self) -> bool {
        self.trust_status == "trusted" || self.trust_status == "managed"
    }
}

/// The first of `expected` (each named by `key`) that Codex would not run, with its listing:
/// `None` when Codex does not list it at all, else listed with another trust status (Codex
/// skips it silently).
pub(crate) fn first_not_run<'e, 'l, T>(
    listed: &'l [ListedHook],
    expected: &'e [T],
    key: impl Fn(&T) -> &str,
) -> Option<(&'e T, Option<&'l ListedHook>)> {
    expected.iter().find_map(|item| {
        let hook = listed.iter().find(|hook| hook.key == key(item));
        (!hook.is_some_and(ListedHook::runs)).then_some((item, hook))
    })
}

/// How the Codex at `codex` sees the hooks of `codex_home` (30 s at most).
pub(crate) fn list_hooks_of(codex: &Path, codex_home: &Path) -> Result<Vec<ListedHook>, String> {
    list_hooks(codex, codex_home, codex_home, Duration::from_secs(30))
}

/// Asks the real Codex binary for its view of the hooks (`hooks/list`), bounded by `limit`.
pub(crate) fn list_hooks(
    codex: &Path,
    codex_home: &Path,
    cwd: &Path,
    limit: Duration,
) -> Result<Vec<ListedHook>, String> {
    let mut child = Command::new(codex)
        .arg("app-server")
        .env(vars::CODEX_HOME, codex_home)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {} app-server: {e}", codex.display()))?;
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + limit;
    let result = (|| {
        let mut send = |message: Value| {
            writeln!(stdin, "{message}")
                .map_err(|e| format!("cannot talk to codex app-server: {e}"))
        };
        send(json!({"id": 1, "method": "initialize", "params": {
            "clientInfo": {"name": "axonflow-codex", "title": "axonflow-codex", "version": crate::VERSION},
            "capabilities": {"experimentalApi": true}}}))?;
        wait_for(&lines, 1, deadline)?;
        send(json!({"method": "initialized"}))?;
        send(
            json!({"id": 2, "method": "hooks/list", "params": {"cwds": [cwd.display().to_string()]}}),
        )?;
        let response = wait_for(&lines, 2, deadline)?;
        let mut listed = Vec::new();
        for entry in response["result"]["data"].as_array().into_iter().flatten() {
            for hook in entry["hooks"].as_array().into_iter().flatten() {
                listed.push(ListedHook {
                    key: hook["key"].as_str().unwrap_or_default().to_string(),
                    trust_status: hook["trustStatus"].as_str().unwrap_or_default().to_string(),
                    current_hash: hook["currentHash"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
        Ok(listed)
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn wait_for(lines: &mpsc::Receiver<String>, id: u64, deadline: Instant) -> Result<Value, String> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .map_err(|_| "codex app-server did not answer in time".to_string())?;
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if message.get("id") == Some(&json!(id)) {
            if let Some(error) = message.get("error") {
                return Err(format!("codex app-server refused the request: {error}"));
            }
            return Ok(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axonflow_codex_hook::event::Event;

    #[test]
    fn hashes_match_the_reference_vectors() {
        let pre = OurHook {
            event: Event::PreToolUse,
            matcher: "Bash|apply_patch|mcp__.*".into(),
            command: "/home/dev/.codex/axonflow/bin/axonflow-codex-hook pre-tool-use".into(),
            timeout: 30,
            status_message: None,
        };
        assert_eq!(
            hash(&pre),
            "sha256:258d06c3ae953cf5ce1aac5b5d4b77ffdd28aea308f0f1976908230b979737fd"
        );
        let post = OurHook {
            event: Event::PostToolUse,
            command: "/home/dev/.codex/axonflow/bin/axonflow-codex-hook post-tool-use".into(),
            status_message: Some("AxonFlow audit".into()),
            ..pre
        };
        assert_eq!(
            hash(&post),
            "sha256:9ec7c0d3f3b7223f2b5ca76c6d7537b6f732cc835575e3a924d6746a6e7ccd87"
        );
    }
}
