//! Property tests over generated input: hook payloads (well-formed documents with random
//! tool names and random JSON shapes, huge strings, control characters, deep nesting, and
//! plain random bytes) and agent replies (random status codes, JSON-RPC envelopes with random
//! result texts, error objects with codes of every JSON type, tier envelopes, garbage).
//!
//! Invariants: no panic (in any thread), exit code 0 or 2, on exit 2 exactly one stderr line,
//! no configured secret on stdout or stderr, and the decision-table row the reply calls for.
//!
//! The bulk runs the library entry points in-process (`Payload`, `pre_tool_use::run`,
//! `post_tool_use::run`) against the stand-in agent on 127.0.0.1, which answers each case
//! with its generated reply; a smaller sample goes through the real binary and must match the
//! in-process outcome byte for byte. Seeds are fixed, so every run (and CI) sees the same
//! inputs. `cargo test -p axonflow-codex-hook --test property -- --nocapture` prints the
//! number of inputs each property ran.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::Instant;

use axonflow_codex_hook::agent::{self, HttpReply};
use axonflow_codex_hook::envelope::Envelope;
use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::payload::{Payload, ToolKind};
use axonflow_codex_hook::text::{json_as_text, single_line};
use axonflow_codex_hook::{post_tool_use, pre_tool_use, user_prompt_submit, HookOutcome};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::Map;
use support::*;

/// Generated inputs per property; 11,100 in all.
const PAYLOAD_CASES: u32 = 6_000;
const PRE_CASES: u32 = 2_400;
const POST_CASES: u32 = 2_400;
const BINARY_CASES: u32 = 300;
const REPLACE_CASES: u32 = 1_200;

const AUTH_ID: &str = "prop-client";
const AUTH_SECRET: &str = "PropAuthSecret-7f3a9c";
const LICENSE: &str = "AXON-PropLicenseToken-c0ffee51";
const USER_TOKEN: &str = "PropUserToken-9d8e7f6a";

const TOOLS: &[&str] = &[
    "Bash",
    "exec_command",
    "shell",
    "apply_patch",
    "mcp__x__y",
    "mcp__pg__query",
    "mcp__axonflow__z",
    "mcp__axonflow__",
    "mcp__",
    "Write",
    "Edit",
    "NotebookEdit",
    "Read",
];

const KEYS: &[&str] = &[
    "command",
    "cmd",
    "content",
    "new_string",
    "file_path",
    "cell_content",
    "query",
    "statement",
    "url",
    "stdout",
    "stderr",
    "output",
    "exitCode",
    "success",
];

// ---- harness -----------------------------------------------------------------------------

/// Panics anywhere in this test binary, including the hooks' audit threads (whose panics a
/// join would otherwise swallow).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

fn runner(cases: u32, seed: u64) -> TestRunner {
    TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    })
}

/// Runs one property with a fixed seed; fails with the (shrunk) input.
fn check<S: Strategy>(
    name: &str,
    cases: u32,
    seed: u64,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    count_panics();
    let ran = AtomicUsize::new(0);
    let started = Instant::now();
    let result = runner(cases, seed).run(&strategy, |value| {
        ran.fetch_add(1, Ordering::Relaxed);
        test(value)
    });
    if let Err(error) = result {
        panic!("{name}: {error}");
    }
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "{name}: something panicked"
    );
    println!(
        "{name}: {} generated inputs in {:.1?}",
        ran.load(Ordering::Relaxed),
        started.elapsed()
    );
}

fn secrets() -> [String; 4] {
    [
        basic(AUTH_ID, AUTH_SECRET),
        AUTH_SECRET.to_string(),
        LICENSE.to_string(),
        USER_TOKEN.to_string(),
    ]
}

/// The settings every in-process case runs with: credentials of all three kinds, a short
/// timeout, and the generated fail mode.
fn host_env(home: &Path, endpoint: &str, closed: bool) -> HostEnv {
    host_env_in("alert", home, endpoint, closed)
}

fn host_env_in(output_mode: &str, home: &Path, endpoint: &str, closed: bool) -> HostEnv {
    let path = |p: PathBuf| p.display().to_string();
    HostEnv::from_vars([
        ("HOME", path(home.to_path_buf())),
        ("CODEX_HOME", path(home.join(".codex"))),
        ("XDG_CACHE_HOME", path(home.join(".cache"))),
        ("AXONFLOW_CONFIG_DIR", path(home.join(".config/axonflow"))),
        ("AXONFLOW_ENDPOINT", endpoint.to_string()),
        ("AXONFLOW_AUTH", basic(AUTH_ID, AUTH_SECRET)),
        ("AXONFLOW_LICENSE_TOKEN", LICENSE.to_string()),
        ("AXONFLOW_USER_TOKEN", USER_TOKEN.to_string()),
        ("AXONFLOW_TIMEOUT_SECONDS", "2".to_string()),
        (
            "AXONFLOW_FAIL_MODE",
            if closed { "closed" } else { "open" }.to_string(),
        ),
        // The alert-mode properties pin §11.3; replace mode has its own (§11.4).
        ("AXONFLOW_OUTPUT_MODE", output_mode.to_string()),
    ])
}

/// Forgets throttles and once-a-day stamps, so that every case starts from the same state.
fn clear_state(home: &Path) {
    let dir = home.join(".cache").join("axonflow");
    for name in [
        "throttle-until",
        "upgrade-prompt-last-shown",
        "auth-failure-prompt-last-shown",
    ] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    // Each case counts its own audits: none spooled by an earlier case may be delivered.
    let _ = std::fs::remove_dir_all(home.join(".local").join("state").join("axonflow"));
}

fn new_home() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("axonflow-hook-prop-")
        .tempdir()
        .unwrap();
    let home = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(home.join(".codex")).unwrap();
    (dir, home)
}

// ---- generated payloads ------------------------------------------------------------------

fn special_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        ' ',
        '\n',
        '\r',
        '\t',
        '\0',
        '\u{b}',
        '\u{c}',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{a0}',
        '\u{2028}',
        '\u{2029}',
        '\u{feff}',
        '\u{200b}',
        '\u{202e}',
        '"',
        '\\',
        '>',
        '<',
        '&',
        '{',
        '}',
        '[',
        ']',
        ':',
        ',',
        'é',
        '日',
        '🦀',
        '\u{10ffff}',
    ])
}

fn any_char() -> BoxedStrategy<char> {
    prop_oneof![
        5 => prop::char::range('a', 'z'),
        3 => special_char(),
        2 => any::<char>(),
    ]
    .boxed()
}

fn short_text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => prop::collection::vec(any_char(), 0..24).prop_map(|c| c.into_iter().collect()),
        2 => prop::sample::select(vec![
            "", " ", "null", "{}", "[]", "false", "true", "0", "ls -la", "rm -rf /",
            "echo hi > out", "cmd 2>&1", "SSN: 123-45-6789", "DROP TABLE users; --", "\n",
            "line1\nline2", "  padded  ",
        ])
        .prop_map(str::to_string),
        // Longer than the 500- and 2000-character cuts.
        1 => (any_char(), 24usize..2_500).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ]
    .boxed()
}

fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => prop::sample::select(vec![0i64, 1, -1, -32001, -32601, -32602, -32603, -32700])
            .prop_map(Value::from),
        4 => short_text().prop_map(Value::String),
    ]
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(KEYS.to_vec()).prop_map(str::to_string),
        1 => short_text(),
    ]
    .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
        .boxed()
}

/// An object with the keys the hooks read, holding strings, argv arrays or anything.
fn shaped_object() -> BoxedStrategy<Value> {
    let value = prop_oneof![
        4 => short_text().prop_map(Value::String),
        1 => prop::collection::vec(short_text().prop_map(Value::String), 0..4)
            .prop_map(Value::Array),
        2 => json_value(),
    ];
    prop::collection::vec((key(), value), 0..5)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
        .boxed()
}

fn field() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        1 => Just(None),
        5 => shaped_object().prop_map(Some),
        2 => json_value().prop_map(Some),
        1 => short_text().prop_map(|s| Some(Value::String(s))),
    ]
    .boxed()
}

fn tool_name() -> BoxedStrategy<Value> {
    prop_oneof![
        12 => prop::sample::select(TOOLS.to_vec()).prop_map(Value::from),
        3 => short_text().prop_map(|s| Value::String(format!("mcp__{s}"))),
        3 => short_text().prop_map(Value::String),
        1 => json_leaf(),
    ]
    .boxed()
}

/// Where a huge string goes.
fn place_huge(doc: &mut Map<String, Value>, text: String, slot: usize) {
    if slot >= 2 {
        doc.insert("tool_response".to_string(), Value::String(text));
        return;
    }
    let input = doc.entry("tool_input").or_insert(Value::Null);
    if !input.is_object() {
        *input = Value::Object(Map::new());
    }
    let key = if slot == 0 { "command" } else { "content" };
    if let Some(input) = input.as_object_mut() {
        input.insert(key.to_string(), Value::String(text));
    }
}

fn document() -> BoxedStrategy<Value> {
    (
        tool_name(),
        field(),
        field(),
        prop::option::of((key(), json_value())),
        prop::option::weighted(0.02, (any_char(), 50_000usize..300_000, 0usize..3)),
    )
        .prop_map(|(name, input, response, extra, huge)| {
            let mut doc = Map::new();
            doc.insert("hook_event_name".into(), Value::from("PreToolUse"));
            doc.insert("tool_name".into(), name);
            if let Some(input) = input {
                doc.insert("tool_input".into(), input);
            }
            if let Some(response) = response {
                doc.insert("tool_response".into(), response);
            }
            if let Some((k, v)) = extra {
                doc.entry(k).or_insert(v);
            }
            if let Some((c, n, slot)) = huge {
                place_huge(&mut doc, std::iter::repeat_n(c, n).collect(), slot);
            }
            Value::Object(doc)
        })
        .boxed()
}

/// What a hook reads on stdin.
#[derive(Clone)]
enum Stdin {
    Doc(Value),
    Bytes(Vec<u8>),
}

impl Stdin {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Stdin::Doc(doc) => serde_json::to_vec(doc).unwrap(),
            Stdin::Bytes(bytes) => bytes.clone(),
        }
    }
}

impl std::fmt::Debug for Stdin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.bytes();
        let text = String::from_utf8_lossy(&bytes);
        let shown: String = text.chars().take(2_000).collect();
        write!(f, "stdin ({} bytes): {shown:?}", bytes.len())
    }
}

fn stdin() -> BoxedStrategy<Stdin> {
    prop_oneof![
        14 => document().prop_map(Stdin::Doc),
        2 => prop::collection::vec(any::<u8>(), 0..256).prop_map(Stdin::Bytes),
        // A document cut short, or with junk after it.
        1 => (document(), any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(doc, cut, junk)| {
                let mut bytes = serde_json::to_vec(&doc).unwrap();
                if junk.is_empty() {
                    bytes.truncate(cut.index(bytes.len()));
                } else {
                    bytes.extend(junk);
                }
                Stdin::Bytes(bytes)
            }),
        // Nesting far past serde_json's recursion limit, in the field the hooks read.
        1 => (1usize..20_000).prop_map(|depth| {
            let mut text = String::from("{\"tool_name\":\"Bash\",\"tool_input\":{\"command\":");
            text.push_str(&"[".repeat(depth));
            text.push_str(&"]".repeat(depth));
            text.push_str("}}");
            Stdin::Bytes(text.into_bytes())
        }),
    ]
    .boxed()
}

// ---- generated agent replies -------------------------------------------------------------

#[derive(Clone)]
enum AgentReply {
    Http {
        status: u16,
        retry_after: Option<String>,
        body: Vec<u8>,
    },
    /// The stand-in's own success envelope around this result text.
    Text(String),
    /// The connection closed without an answer.
    Close,
}

impl std::fmt::Debug for AgentReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentReply::Http {
                status,
                retry_after,
                body,
            } => write!(
                f,
                "HTTP {status} retry-after={retry_after:?} body={:?}",
                String::from_utf8_lossy(body)
            ),
            AgentReply::Text(text) => write!(f, "tool result text {text:?}"),
            AgentReply::Close => f.write_str("close"),
        }
    }
}

impl AgentReply {
    fn script(&self) -> Reply {
        match self {
            AgentReply::Http {
                status,
                retry_after,
                body,
            } => {
                let mut headers =
                    vec![("Content-Type".to_string(), "application/json".to_string())];
                if let Some(value) = retry_after {
                    headers.push(("Retry-After".to_string(), value.clone()));
                }
                Reply::Raw {
                    status: *status,
                    headers,
                    body: body.clone(),
                }
            }
            AgentReply::Text(text) => Reply::ToolResultText(text.clone()),
            AgentReply::Close => Reply::Close,
        }
    }

    /// The reply as the hook sees it, when the oracle can tell: `None` for no HTTP answer,
    /// `Some(None)` for statuses whose body an HTTP client does not read.
    fn view(&self, id: &str) -> Option<Option<HttpReply>> {
        match self {
            AgentReply::Http {
                status,
                retry_after,
                body,
            } => Some((*status != 204 && *status != 304).then(|| HttpReply {
                status: *status,
                retry_after: retry_after.clone(),
                body: Some(body.clone()),
            })),
            AgentReply::Text(text) => Some(Some(HttpReply {
                status: 200,
                retry_after: None,
                body: Some(tool_text(id, text).to_string().into_bytes()),
            })),
            AgentReply::Close => None,
        }
    }
}

fn status() -> BoxedStrategy<u16> {
    prop_oneof![
        6 => Just(200u16),
        2 => prop::sample::select(vec![400u16, 401, 403, 404, 429, 500, 502, 503]),
        1 => 200u16..600,
    ]
    .boxed()
}

fn retry_after() -> BoxedStrategy<Option<String>> {
    prop::option::weighted(
        0.3,
        prop_oneof![
            2 => prop::sample::select(vec![
                "0", "1", "60", "-5", " 30 ", "9223372036854775807", "-9223372036854775808",
                "99999999999999999999", "abc", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", "é",
            ])
            .prop_map(str::to_string),
            1 => any::<u64>().prop_map(|n| n.to_string()),
            1 => "[ -~]{0,20}",
        ],
    )
    .boxed()
}

fn opt_field(
    name: &'static str,
    value: BoxedStrategy<Value>,
) -> BoxedStrategy<Option<(String, Value)>> {
    prop::option::weighted(0.7, value.prop_map(move |v| (name.to_string(), v))).boxed()
}

fn text_or_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => short_text().prop_map(Value::String),
        1 => json_leaf(),
    ]
    .boxed()
}

/// A check_policy / check_output result with every field the hooks read, of any type.
fn result_object() -> BoxedStrategy<Value> {
    let allowed = prop_oneof![
        4 => any::<bool>().prop_map(Value::Bool),
        1 => prop::sample::select(vec!["false", "true", "no"]).prop_map(Value::from),
        1 => json_leaf(),
    ]
    .boxed();
    (
        opt_field("allowed", allowed),
        opt_field("block_reason", text_or_leaf()),
        opt_field("policies_evaluated", json_leaf()),
        opt_field("decision_id", text_or_leaf()),
        opt_field("risk_level", text_or_leaf()),
        opt_field(
            "override_available",
            prop_oneof![3 => any::<bool>().prop_map(Value::Bool), 1 => json_leaf()].boxed(),
        ),
        opt_field("override_existing_id", text_or_leaf()),
        opt_field("redacted_message", text_or_leaf()),
        prop::option::of((key(), json_value())),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, extra)| {
            let map: Map<String, Value> = [a, b, c, d, e, f, g, h, extra]
                .into_iter()
                .flatten()
                .collect();
            Value::Object(map)
        })
        .boxed()
}

/// A tier/quota envelope.
fn envelope_object() -> BoxedStrategy<Value> {
    let limit_type = prop_oneof![
        3 => prop::sample::select(vec!["daily_quota", "per_minute", "feature_pro_only", ""])
            .prop_map(Value::from),
        1 => text_or_leaf(),
    ]
    .boxed();
    let resets_at = prop_oneof![
        2 => prop::sample::select(vec![
            "2030-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "soon",
        ])
        .prop_map(Value::from),
        1 => text_or_leaf(),
    ]
    .boxed();
    let upgrade = prop_oneof![
        3 => (text_or_leaf(), text_or_leaf())
            .prop_map(|(w, u)| serde_json::json!({"tier": "Pro", "wording": w, "buy_url": u})),
        1 => json_value(),
    ]
    .boxed();
    (
        opt_field("limit_type", limit_type),
        opt_field("error", text_or_leaf()),
        opt_field("resets_at", resets_at),
        opt_field("upgrade", upgrade),
    )
        .prop_map(|(a, b, c, d)| {
            let map: Map<String, Value> = [a, b, c, d].into_iter().flatten().collect();
            Value::Object(map)
        })
        .boxed()
}

fn result_text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => (result_object(), any::<bool>()).prop_map(|(v, pretty)| if pretty {
            serde_json::to_string_pretty(&v).unwrap()
        } else {
            v.to_string()
        }),
        2 => short_text(),
        1 => json_value().prop_map(|v| v.to_string()),
        1 => envelope_object().prop_map(|v| v.to_string()),
    ]
    .boxed()
}

fn rpc_id() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => prop::sample::select(vec!["hook-pre", "hook-scan", "hook-audit"]).prop_map(Value::from),
        1 => json_leaf(),
    ]
    .boxed()
}

fn error_object() -> BoxedStrategy<Value> {
    let code = prop_oneof![
        3 => prop::sample::select(vec![-32001i64, -32601, -32602, -32603, -32700, -32600, 0])
            .prop_map(Value::from),
        2 => prop::sample::select(vec!["-32001", " -32601 ", "-32602\n", "-32603", "1e3", "x"])
            .prop_map(Value::from),
        2 => json_leaf(),
        1 => json_value(),
    ]
    .boxed();
    (
        opt_field("code", code),
        opt_field("message", text_or_leaf()),
        prop::option::of(json_value()),
    )
        .prop_map(|(code, message, data)| {
            let mut map: Map<String, Value> = [code, message].into_iter().flatten().collect();
            if let Some(data) = data {
                map.insert("data".into(), data);
            }
            Value::Object(map)
        })
        .boxed()
}

fn body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        6 => (rpc_id(), result_text(), prop::option::of(any::<bool>())).prop_map(|(id, text, is_error)| {
            let mut result = serde_json::json!({"content": [{"type": "text", "text": text}]});
            if let Some(is_error) = is_error {
                result["isError"] = Value::Bool(is_error);
            }
            serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result})).unwrap()
        }),
        3 => (rpc_id(), prop_oneof![4 => error_object(), 1 => json_value()])
            .prop_map(|(id, error)| serde_json::to_vec(
                &serde_json::json!({"jsonrpc": "2.0", "id": id, "error": error})).unwrap()),
        1 => envelope_object().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        // Half-right shapes: a result without content, content that is not a list, …
        1 => json_value().prop_map(|v| serde_json::to_vec(&serde_json::json!({"jsonrpc":"2.0","result":{"content":v}})).unwrap()),
        1 => json_value().prop_map(|v| serde_json::to_vec(&serde_json::json!({"result":v})).unwrap()),
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => prop::sample::select(vec![&b""[..], b" ", b"\n", b"\r\n\t ", b"null", b"{}",
            b"{\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"\xff\xfe\"}]}}",
            b"{\"error\":{\"code\":-32001,\"message\":\"\xc3\x28\"}}",
            b"\xef\xbb\xbf{\"jsonrpc\":\"2.0\"}"])
            .prop_map(<[u8]>::to_vec),
        // Valid JSON cut short.
        1 => (result_object(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let mut bytes = serde_json::to_vec(&serde_json::json!({"result":{"content":[{"text": v.to_string()}]}})).unwrap();
            bytes.truncate(cut.index(bytes.len()));
            bytes
        }),
    ]
    .boxed()
}

fn agent_reply() -> BoxedStrategy<AgentReply> {
    prop_oneof![
        10 => (status(), retry_after(), body()).prop_map(|(status, retry_after, body)| AgentReply::Http { status, retry_after, body }),
        // Tier envelopes with the statuses that carry them, at the root or in the result text.
        3 => (
            prop::sample::select(vec![429u16, 403, 200]),
            retry_after(),
            envelope_object(),
            any::<bool>(),
        )
            .prop_map(|(status, retry_after, envelope, at_root)| {
                let body = if at_root {
                    envelope
                } else {
                    serde_json::json!({"jsonrpc":"2.0","id":"hook-pre","result":{"isError":true,"content":[{"type":"text","text":envelope.to_string()}]}})
                };
                AgentReply::Http { status, retry_after, body: serde_json::to_vec(&body).unwrap() }
            }),
        2 => result_text().prop_map(AgentReply::Text),
        1 => Just(AgentReply::Close),
    ]
    .boxed()
}

// ---- invariants --------------------------------------------------------------------------

fn assert_common(outcome: &HookOutcome) -> Result<(), TestCaseError> {
    prop_assert!(
        outcome.exit_code == 0 || outcome.exit_code == 2,
        "exit {}",
        outcome.exit_code
    );
    for line in &outcome.stderr_lines {
        prop_assert!(
            !line.contains('\n') && !line.contains('\r'),
            "a stderr line spans lines: {line:?}"
        );
    }
    if outcome.exit_code == 2 {
        prop_assert_eq!(outcome.stderr_lines.len(), 1, "a block is exactly one line");
        let line = &outcome.stderr_lines[0];
        prop_assert!(!line.trim().is_empty(), "a block line is empty");
        prop_assert_eq!(
            &single_line(line),
            line,
            "a block line has control characters"
        );
    }
    let stderr = outcome.stderr_lines.join("\n");
    for secret in secrets() {
        prop_assert!(!outcome.stdout.contains(&secret), "a secret reached stdout");
        prop_assert!(!stderr.contains(&secret), "a secret reached stderr");
    }
    Ok(())
}

/// What `pre-tool-use` must do with a governed call (§10.3), when the oracle can tell.
enum Expect {
    /// Exit 0, nothing printed.
    SilentAllow,
    /// Exit 0; a tier prompt may be printed.
    Allow,
    /// Exit 2 with a line containing this.
    Block(String),
}

fn expected_pre(reply: &AgentReply, closed: bool) -> Option<Expect> {
    let unreachable = |cause: &str| {
        if closed {
            Expect::Block(format!("could not be reached ({cause}"))
        } else {
            Expect::SilentAllow
        }
    };
    let Some(view) = reply.view("hook-pre") else {
        return Some(unreachable(""));
    };
    let http = view?;
    let body = http.json();
    let rpc_error = body.as_ref().and_then(agent::rpc_error);
    Some(if http.status >= 500 && rpc_error.is_none() {
        unreachable(&format!("HTTP {})", http.status))
    } else if Envelope::detect(&http).is_some() {
        Expect::Allow
    } else if http.status == 401 {
        Expect::Block("rejected the credentials (HTTP 401)".into())
    } else if http.body_is_empty() {
        Expect::SilentAllow
    } else if let Some(error) = rpc_error.filter(|e| !e.message.is_empty()) {
        match error.code {
            Some(-32001 | -32601 | -32602) => Expect::Block("AxonFlow governance blocked: ".into()),
            _ => Expect::SilentAllow,
        }
    } else {
        match body.as_ref().and_then(agent::tool_result) {
            Some(result) if result.get("allowed") == Some(&Value::Bool(false)) => {
                Expect::Block("AxonFlow policy violation: ".into())
            }
            _ => Expect::SilentAllow,
        }
    })
}

fn check_pre_expectation(outcome: &HookOutcome, expect: Expect) -> Result<(), TestCaseError> {
    match expect {
        Expect::SilentAllow => prop_assert_eq!(outcome, &HookOutcome::allow()),
        Expect::Allow => {
            prop_assert_eq!(outcome.exit_code, 0);
            prop_assert!(outcome.stdout.is_empty());
            prop_assert!(outcome.stderr_lines.len() <= 2);
        }
        Expect::Block(needle) => {
            prop_assert_eq!(outcome.exit_code, 2);
            prop_assert!(
                outcome.stderr_lines[0].contains(&needle),
                "expected {needle:?} in {:?}",
                outcome.stderr_lines[0]
            );
        }
    }
    Ok(())
}

/// What `post-tool-use` prints for a scanned output (§11.3): the alert it must contain on
/// stdout, if any; `None` when the oracle cannot tell.
fn expected_post_alert(reply: &AgentReply) -> Option<Option<&'static str>> {
    let Some(view) = reply.view("hook-scan") else {
        return Some(None);
    };
    let http = view?;
    if Envelope::detect(&http).is_some() || http.status == 401 {
        return Some(None);
    }
    let Some(result) = http.json().as_ref().and_then(agent::tool_result) else {
        return Some(None);
    };
    let redacted = json_as_text(result.get("redacted_message"));
    Some(if !redacted.is_empty() && redacted != "null" {
        Some("GOVERNANCE ALERT: PII/sensitive data detected in tool output (")
    } else if result.get("allowed") == Some(&Value::Bool(false)) {
        Some("GOVERNANCE ALERT: Tool output blocked by policy: ")
    } else {
        None
    })
}

fn check_post(
    outcome: &HookOutcome,
    payload: Option<&Payload>,
    reply: &AgentReply,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(outcome.exit_code, 0, "post-tool-use never blocks");
    if !outcome.stdout.is_empty() {
        prop_assert!(outcome.stdout.ends_with('\n'));
        prop_assert_eq!(outcome.stdout.matches('\n').count(), 1);
        let document: Value = serde_json::from_str(&outcome.stdout).expect("stdout is JSON");
        prop_assert_eq!(
            &document["hookSpecificOutput"]["hookEventName"],
            &Value::from("PostToolUse")
        );
        prop_assert!(document["hookSpecificOutput"]["additionalContext"].is_string());
    }
    let scanned = payload.and_then(Payload::scan_text).is_some();
    if !scanned {
        prop_assert_eq!(outcome, &HookOutcome::allow());
    } else if let Some(alert) = expected_post_alert(reply) {
        match alert {
            Some(prefix) => {
                let document: Value = serde_json::from_str(&outcome.stdout).expect("an alert");
                let context = document["hookSpecificOutput"]["additionalContext"]
                    .as_str()
                    .unwrap_or_default();
                prop_assert!(context.starts_with(prefix), "{context:?}");
            }
            None => prop_assert_eq!(outcome.stdout.as_str(), ""),
        }
    }
    Ok(())
}

// ---- properties --------------------------------------------------------------------------

#[test]
fn payload_derivations_never_panic_and_keep_their_contracts() {
    check("payload", PAYLOAD_CASES, 0x5eed_0001, stdin(), |input| {
        let bytes = input.bytes();
        let Some(payload) = Payload::parse(&bytes) else {
            return Ok(());
        };
        prop_assert!(!payload.tool_name.is_empty());
        let kind = payload.kind();

        let statement = payload.statement();
        if kind == ToolKind::OwnMcp {
            prop_assert!(statement.is_none());
        }
        if let Some(statement) = &statement {
            let empty = matches!(statement.as_str(), "" | "null" | "{}");
            prop_assert!(!empty, "an empty statement was governed: {statement:?}");
            if matches!(kind, ToolKind::Write | ToolKind::Edit) {
                let (_, body) = statement.split_once('\n').expect("path, newline, body");
                prop_assert!(body.chars().count() <= 2_000 || body.contains('\n'));
            }
            // The check_policy body round-trips through JSON with the statement intact.
            let request = serde_json::json!({
                "jsonrpc": "2.0", "id": "hook-pre", "method": "tools/call",
                "params": {"name": "check_policy", "arguments": {
                    "connector_type": payload.connector_type(),
                    "statement": statement, "operation": "execute"}},
            });
            let back: Value = serde_json::from_slice(&serde_json::to_vec(&request).unwrap())
                .expect("the request body is JSON");
            prop_assert_eq!(
                &back["params"]["arguments"]["statement"],
                &Value::from(statement.as_str())
            );
        }

        let scan = payload.scan_text();
        if matches!(kind, ToolKind::OwnMcp | ToolKind::Other) {
            prop_assert!(scan.is_none());
        }
        if let Some(scan) = &scan {
            prop_assert!(!scan.is_empty() && scan != "null");
        }

        let audit = payload.post_audit_arguments();
        prop_assert_eq!(
            &audit["tool_name"],
            &Value::from(payload.tool_name.as_str())
        );
        prop_assert_eq!(&audit["caller_name"], &Value::from("codex"));
        prop_assert_eq!(&audit["tool_type"], &Value::from("codex"));
        prop_assert!(audit["success"].is_boolean());
        prop_assert!(audit["error_message"].is_string());
        let summary = audit["output"]["summary"]
            .as_str()
            .expect("summary is a string");
        prop_assert!(summary.chars().count() <= 500);
        if payload.tool_input.is_null() {
            prop_assert_eq!(&audit["input"], &serde_json::json!({}));
        } else {
            prop_assert_eq!(&audit["input"], &payload.tool_input);
        }
        let bytes = serde_json::to_vec(&audit).expect("the audit body serializes");
        prop_assert!(serde_json::from_slice::<Value>(&bytes).is_ok());
        Ok(())
    });
}

#[test]
fn pre_tool_use_in_process_against_generated_replies() {
    let agent = StandIn::start(AgentConfig::default());
    let (_dir, home) = new_home();
    let endpoint = agent.endpoint();
    check(
        "pre-tool-use (in process)",
        PRE_CASES,
        0x5eed_0002,
        (stdin(), agent_reply(), agent_reply(), any::<bool>()),
        |(input, reply, audit_reply, closed)| {
            agent.clear_scripts();
            agent.clear_requests();
            clear_state(&home);
            agent.script(Match::Tool("check_policy"), reply.script());
            agent.script(Match::Tool("audit_tool_call"), audit_reply.script());
            let bytes = input.bytes();
            let outcome = pre_tool_use::run(&bytes, &host_env(&home, &endpoint, closed));
            assert_common(&outcome)?;
            prop_assert!(
                outcome.stdout.is_empty(),
                "pre-tool-use prints nothing on stdout"
            );

            let governed = Payload::parse(&bytes).and_then(|p| p.statement()).is_some();
            if !governed {
                prop_assert_eq!(&outcome, &HookOutcome::allow());
                prop_assert!(agent.requests().is_empty(), "an ungoverned call was sent");
                return Ok(());
            }
            prop_assert_eq!(agent.rpc_calls_of("check_policy").len(), 1);
            if let Some(expect) = expected_pre(&reply, closed) {
                check_pre_expectation(&outcome, expect)?;
            }
            let violation = outcome.exit_code == 2
                && outcome.stderr_lines[0].starts_with("AxonFlow policy violation: ");
            prop_assert_eq!(
                agent.rpc_calls_of("audit_tool_call").len(),
                usize::from(violation),
                "the blocked attempt is audited exactly when a violation blocks"
            );
            Ok(())
        },
    );
}

#[test]
fn post_tool_use_in_process_against_generated_replies() {
    let agent = StandIn::start(AgentConfig::default());
    let (_dir, home) = new_home();
    let endpoint = agent.endpoint();
    check(
        "post-tool-use (in process)",
        POST_CASES,
        0x5eed_0003,
        (stdin(), agent_reply(), agent_reply(), any::<bool>()),
        |(input, reply, audit_reply, closed)| {
            agent.clear_scripts();
            agent.clear_requests();
            clear_state(&home);
            agent.script(Match::Tool("check_output"), reply.script());
            agent.script(Match::Tool("audit_tool_call"), audit_reply.script());
            let bytes = input.bytes();
            let outcome = post_tool_use::run(&bytes, &host_env(&home, &endpoint, closed));
            assert_common(&outcome)?;
            let payload = Payload::parse(&bytes);
            check_post(&outcome, payload.as_ref(), &reply)?;

            let audited = payload
                .as_ref()
                .is_some_and(|p| p.kind() != ToolKind::OwnMcp);
            let scanned = audited && payload.as_ref().and_then(Payload::scan_text).is_some();
            prop_assert_eq!(
                agent.rpc_calls_of("audit_tool_call").len(),
                usize::from(audited)
            );
            prop_assert_eq!(
                agent.rpc_calls_of("check_output").len(),
                usize::from(scanned)
            );
            Ok(())
        },
    );
}

#[test]
fn the_binary_matches_the_library_on_a_sample() {
    let agent = StandIn::start(AgentConfig::default());
    let mut env = TestEnv::with_agent(&agent);
    let auth = basic(AUTH_ID, AUTH_SECRET);
    let home = env.home.clone();
    env.set("AXONFLOW_AUTH", &auth)
        .set("AXONFLOW_LICENSE_TOKEN", LICENSE)
        .set("AXONFLOW_USER_TOKEN", USER_TOKEN)
        .set("AXONFLOW_TIMEOUT_SECONDS", "2")
        .set("AXONFLOW_OUTPUT_MODE", "alert")
        .set("XDG_CACHE_HOME", &home.join(".cache").display().to_string())
        .set(
            "AXONFLOW_CONFIG_DIR",
            &home.join(".config/axonflow").display().to_string(),
        );
    for secret in secrets() {
        env.secret(&secret);
    }
    let endpoint = agent.endpoint();
    let env = std::sync::Mutex::new(env);
    check(
        "binary sample",
        BINARY_CASES,
        0x5eed_0004,
        (
            stdin(),
            agent_reply(),
            agent_reply(),
            any::<bool>(),
            any::<bool>(),
        ),
        |(input, reply, audit_reply, closed, pre)| {
            let (tool, hook) = if pre {
                ("check_policy", "pre-tool-use")
            } else {
                ("check_output", "post-tool-use")
            };
            let bytes = input.bytes();
            let mut expected = None;
            for in_process in [true, false] {
                agent.clear_scripts();
                agent.clear_requests();
                clear_state(&home);
                agent.script(Match::Tool(tool), reply.script());
                agent.script(Match::Tool("audit_tool_call"), audit_reply.script());
                if in_process {
                    let host = host_env(&home, &endpoint, closed);
                    let outcome = if pre {
                        pre_tool_use::run(&bytes, &host)
                    } else {
                        post_tool_use::run(&bytes, &host)
                    };
                    assert_common(&outcome)?;
                    expected = Some(outcome);
                } else {
                    let mut env = env.lock().unwrap();
                    env.set("AXONFLOW_FAIL_MODE", if closed { "closed" } else { "open" });
                    let run = env.run(&[hook], &bytes);
                    let expected = expected.take().unwrap();
                    prop_assert_eq!(run.code, expected.exit_code);
                    prop_assert_eq!(&run.stdout, &expected.stdout);
                    let mut stderr = expected.stderr_lines.join("\n");
                    if !stderr.is_empty() {
                        stderr.push('\n');
                    }
                    prop_assert_eq!(&run.stderr, &stderr);
                    if run.code == 2 {
                        run.one_line();
                    }
                }
            }
            Ok(())
        },
    );
}

/// The redaction the agent's reply carries for replace mode (§11.4): `Some(Some(text))` when
/// it must replace the output, `Some(None)` when it carries none, `None` when the oracle
/// cannot tell (no HTTP answer, a tier envelope, a 401 or a server error).
fn expected_replacement(reply: &AgentReply, id: &str) -> Option<Option<String>> {
    let http = reply.view(id)??;
    if Envelope::detect(&http).is_some() || http.status == 401 || http.status >= 500 {
        return None;
    }
    let result = http.json().as_ref().and_then(agent::tool_result);
    Some(result.and_then(|r| match r.get("redacted_message") {
        Some(Value::String(text)) if !text.is_empty() && text != "null" => Some(text.clone()),
        _ => None,
    }))
}

#[test]
fn post_tool_use_replace_mode_in_process_against_generated_replies() {
    let agent = StandIn::start(AgentConfig::default());
    let (_dir, home) = new_home();
    let endpoint = agent.endpoint();
    check(
        "post-tool-use replace mode (in process)",
        REPLACE_CASES,
        0x5eed_0005,
        (stdin(), agent_reply(), agent_reply(), any::<bool>()),
        |(input, reply, audit_reply, closed)| {
            agent.clear_scripts();
            agent.clear_requests();
            clear_state(&home);
            agent.script(Match::Tool("check_output"), reply.script());
            agent.script(Match::Tool("audit_tool_call"), audit_reply.script());
            let bytes = input.bytes();
            let host = host_env_in("replace", &home, &endpoint, closed);
            let outcome = post_tool_use::run(&bytes, &host);
            let payload = Payload::parse(&bytes);
            let replaceable = payload
                .as_ref()
                .is_some_and(|p| matches!(p.kind(), ToolKind::Shell | ToolKind::Mcp));
            let scanned = payload.as_ref().and_then(Payload::scan_text).is_some();
            if !replaceable || !scanned {
                // Everything but a scanned shell or MCP output behaves as in alert mode.
                assert_common(&outcome)?;
                return check_post(&outcome, payload.as_ref(), &reply);
            }
            prop_assert!(outcome.stdout.is_empty(), "replace mode prints no alert");
            prop_assert!(outcome.exit_code == 0 || outcome.exit_code == 2);
            let stderr = outcome.stderr_lines.join("\n");
            for secret in secrets() {
                prop_assert!(!stderr.contains(&secret), "a secret reached stderr");
            }
            if outcome.exit_code == 2 {
                let first = &outcome.stderr_lines[0];
                prop_assert_eq!(&single_line(first), first, "the notice is one line");
                let redacted =
                    first.starts_with("AxonFlow redacted sensitive data from this tool output (");
                let withheld = first.starts_with("AxonFlow withheld this tool output: ");
                prop_assert!(redacted || withheld, "{first:?}");
                prop_assert_eq!(outcome.stderr_lines.len(), if redacted { 2 } else { 1 });
            }
            match expected_replacement(&reply, "hook-scan") {
                Some(Some(text)) => {
                    prop_assert_eq!(outcome.exit_code, 2);
                    prop_assert_eq!(outcome.stderr_lines.get(1), Some(&text));
                }
                Some(None) if outcome.exit_code == 2 => {
                    prop_assert_eq!(outcome.stderr_lines.len(), 1, "no redaction to pass");
                }
                _ => {}
            }
            prop_assert_eq!(agent.rpc_calls_of("audit_tool_call").len(), 1);
            Ok(())
        },
    );
}

#[test]
fn user_prompt_submit_in_process_against_generated_replies() {
    let agent = StandIn::start(AgentConfig::default());
    let (_dir, home) = new_home();
    let endpoint = agent.endpoint();
    check(
        "user-prompt-submit (in process)",
        REPLACE_CASES,
        0x5eed_0006,
        (any::<String>(), agent_reply(), any::<bool>()),
        |(prompt, reply, closed)| {
            agent.clear_scripts();
            agent.clear_requests();
            clear_state(&home);
            agent.script(Match::Tool("check_output"), reply.script());
            let bytes = serde_json::to_vec(
                &json!({"hook_event_name": "UserPromptSubmit", "prompt": prompt}),
            )
            .unwrap();
            let outcome = user_prompt_submit::run(&bytes, &host_env(&home, &endpoint, closed));
            assert_common(&outcome)?;
            prop_assert!(outcome.stdout.is_empty());
            prop_assert_eq!(
                agent.rpc_calls_of("audit_tool_call").len(),
                0,
                "prompts are not audited"
            );
            if prompt.is_empty() {
                prop_assert_eq!(&outcome, &HookOutcome::allow());
                prop_assert!(agent.requests().is_empty());
                return Ok(());
            }
            prop_assert_eq!(agent.rpc_calls_of("check_output").len(), 1);
            if let Some(Some(text)) = expected_replacement(&reply, "hook-prompt") {
                prop_assert_eq!(outcome.exit_code, 2);
                let expected_tail =
                    single_line(&format!("Send this redacted version instead: {text}"));
                prop_assert!(
                    outcome.stderr_lines[0]
                        .starts_with("AxonFlow blocked this prompt: it contains sensitive data (")
                        && outcome.stderr_lines[0].ends_with(&expected_tail),
                    "{:?}",
                    outcome.stderr_lines[0]
                );
            }
            Ok(())
        },
    );
}
