//! A hostile agent: replies that never end, dribble, weigh tens of megabytes, are not UTF-8,
//! redirect elsewhere, lie about their length, or are not TLS. Through the real binary, for
//! both hooks: the run ends within the timeout plus the side budget, the hook's peak memory
//! stays small (measured with `wait4`'s `ru_maxrss`), the decision is the documented one for
//! the fail mode, nothing panics, and a block is exactly one line.
//!
//! On Linux a child's `ru_maxrss` also counts the resident set of the process it was spawned
//! from, as it stood at `exec` (the kernel keeps the high-water mark of the replaced address
//! space). The figure is therefore max(this test process, the hook): an upper bound of the
//! hook's peak, which is what the limit needs. This test process stays at ~10 MiB.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::*;

/// `AXONFLOW_TIMEOUT_SECONDS` for every run here; the side requests get min(3 s, this).
const TIMEOUT_SECONDS: u64 = 1;
/// Main request + side request + process start and scheduling slack on a busy 2-core machine.
const TIME_BOUND: Duration = Duration::from_millis(TIMEOUT_SECONDS * 2 * 1000 + 1_500);
/// Peak resident memory allowed for one hook run.
const RSS_LIMIT_KIB: i64 = 64 * 1024;
/// How long a misbehaving run may take before the test gives up on it.
const KILL_AFTER: Duration = Duration::from_secs(30);

const SECRET: &str = "HostileSecret-5ac1e";
const LICENSE: &str = "AXON-HostileLicense-77e1";

/// One hook run through `support::run_measured`, held to this file's time and memory bounds.
fn run_measured(env: &TestEnv, hook: &str, payload: &Value) -> Measured {
    let measured = support::run_measured(
        env.command(std::path::Path::new(HOOK), &[hook]),
        feed_bytes(payload.to_string().into_bytes()),
        KILL_AFTER,
    );
    env.check_output(&[hook], &measured.stdout, &measured.stderr);
    assert!(
        measured.elapsed < TIME_BOUND,
        "{hook} took {:?} (bound {TIME_BOUND:?})",
        measured.elapsed
    );
    assert!(
        measured.max_rss_kib < RSS_LIMIT_KIB,
        "{hook} peaked at {} KiB of resident memory",
        measured.max_rss_kib
    );
    if measured.code == 2 {
        measured.one_line();
    }
    measured
}

fn env_for(agent: &StandIn, fail_mode: &str) -> TestEnv {
    let mut env = TestEnv::with_agent(agent);
    env.set("AXONFLOW_TIMEOUT_SECONDS", &TIMEOUT_SECONDS.to_string())
        .set("AXONFLOW_FAIL_MODE", fail_mode)
        .set("AXONFLOW_AUTH", &basic("hostile-id", SECRET))
        .set("AXONFLOW_LICENSE_TOKEN", LICENSE)
        .secret(&basic("hostile-id", SECRET))
        .secret(SECRET)
        .secret(LICENSE);
    env
}

/// What pre-tool-use must do with a reply in each fail mode.
#[derive(Clone, Copy, Debug)]
enum Pre {
    /// Exit 0 silently whatever the fail mode (the reply has no decision in it: rows D–G).
    Allow,
    /// No usable answer (row A): `closed` blocks with UNREACHABLE and this cause, `open` allows.
    Unreachable(&'static str),
}

/// Runs pre-tool-use against `reply` in both fail modes, and post-tool-use with the same
/// reply to both its requests (scan and audit). Returns the peak RSS seen, in KiB.
fn pre_and_post(name: &str, reply: impl Fn() -> Reply, expect: Pre) -> i64 {
    let mut peak = 0;
    for fail_mode in ["closed", "open"] {
        let agent = StandIn::start(AgentConfig::default());
        agent.script(Match::Tool("check_policy"), reply());
        agent.script(Match::Tool("audit_tool_call"), reply());
        let env = env_for(&agent, fail_mode);
        let run = run_measured(&env, "pre-tool-use", &bash("ls"));
        peak = peak.max(run.max_rss_kib);
        match (expect, fail_mode) {
            (Pre::Unreachable(cause), "closed") => {
                assert_eq!(run.code, 2, "{name}: {}", run.stderr);
                let line = run.one_line();
                assert!(
                    line.contains(&format!(
                        "could not be reached ({cause}) and fail_mode is closed"
                    )),
                    "{name}: {line}"
                );
                assert!(run.stdout.is_empty());
            }
            _ => assert_eq!(
                (run.code, run.stdout.as_str(), run.stderr.as_str()),
                (0, "", ""),
                "{name} ({fail_mode}): expected a silent allow"
            ),
        }
        assert!(
            agent.rpc_calls_of("audit_tool_call").is_empty(),
            "{name}: no violation, no blocked-attempt audit"
        );
    }

    for output_mode in ["alert", "replace"] {
        let agent = StandIn::start(AgentConfig::default());
        agent.script(Match::Tool("check_output"), reply());
        agent.script(Match::Tool("audit_tool_call"), reply());
        let mut env = env_for(&agent, "closed");
        env.set("AXONFLOW_OUTPUT_MODE", output_mode);
        let run = run_measured(
            &env,
            "post-tool-use",
            &post_bash("cat f", json!("SSN: 123-45-6789")),
        );
        peak = peak.max(run.max_rss_kib);
        match (expect, output_mode) {
            // §11.4: with fail_mode closed, an output that could not be scanned is withheld.
            (Pre::Unreachable(cause), "replace") => {
                assert_eq!(run.code, 2, "{name}: {}", run.stderr);
                assert!(run.stdout.is_empty());
                let line = run.one_line();
                assert!(
                    line.starts_with("AxonFlow withheld this tool output: ")
                        && line.contains(&format!("could not be reached ({cause}) to scan it")),
                    "{name}: {line}"
                );
                assert!(!line.contains("123-45-6789"));
            }
            _ => assert_eq!(
                (run.code, run.stdout.as_str(), run.stderr.as_str()),
                (0, "", ""),
                "{name} ({output_mode}): post-tool-use stays silent"
            ),
        }
        assert_eq!(agent.rpc_calls_of("check_output").len(), 1);
        assert_eq!(agent.rpc_calls_of("audit_tool_call").len(), 1);
    }
    println!("{name}: peak RSS {peak} KiB");
    peak
}

fn violation_body() -> Vec<u8> {
    tool_text(
        "hook-pre",
        r#"{"allowed": false, "block_reason": "hostile", "decision_id": "dec_h"}"#,
    )
    .to_string()
    .into_bytes()
}

// ---- bodies that do not end, or end too slowly --------------------------------------------

#[test]
fn never_ending_chunked_body_is_cut_at_the_size_cap() {
    // 64 KiB chunks as fast as the hook reads: past 1 MiB the reply counts as not JSON.
    pre_and_post(
        "endless chunked body",
        || Reply::ChunkedForever {
            chunk: vec![b' '; 64 * 1024],
            interval: Duration::ZERO,
        },
        Pre::Allow,
    );
}

#[test]
fn slow_never_ending_chunked_body_times_out() {
    pre_and_post(
        "slow endless chunked body",
        || Reply::ChunkedForever {
            chunk: b"[[[[".to_vec(),
            interval: Duration::from_millis(50),
        },
        Pre::Unreachable("timed out after 1s"),
    );
}

#[test]
fn slow_loris_body_times_out() {
    // A violation, one byte every 100 ms: it would block if the hook waited for all of it.
    pre_and_post(
        "slow loris",
        || Reply::Dribble {
            status: 200,
            body: violation_body(),
            interval: Duration::from_millis(100),
        },
        Pre::Unreachable("timed out after 1s"),
    );
}

// ---- bodies of many megabytes --------------------------------------------------------------

#[test]
fn body_of_fifty_megabytes_keeps_memory_bounded() {
    // Valid JSON up to the cap, then 50 MB of spaces: still "not JSON", never read whole.
    let prefix = violation_body();
    let peak = pre_and_post(
        "50 MB body",
        || Reply::Huge {
            status: 200,
            prefix: prefix.clone(),
            filler: 50 * 1024 * 1024,
            fill: b' ',
        },
        Pre::Allow,
    );
    assert!(peak < RSS_LIMIT_KIB);
}

#[test]
fn server_error_of_sixty_megabytes_is_unreachable() {
    pre_and_post(
        "60 MB 503",
        || Reply::Huge {
            status: 503,
            prefix: b"<html>".to_vec(),
            filler: 60 * 1024 * 1024,
            fill: b'x',
        },
        Pre::Unreachable("HTTP 503"),
    );
}

#[test]
fn rejected_credentials_with_a_huge_body_still_block() {
    // Row C: a 401 blocks whatever its body, even one of 50 MB.
    let agent = StandIn::start(AgentConfig::default());
    agent.script(
        Match::Tool("check_policy"),
        Reply::Huge {
            status: 401,
            prefix: Vec::new(),
            filler: 50 * 1024 * 1024,
            fill: b'\xff',
        },
    );
    let env = env_for(&agent, "open");
    let run = run_measured(&env, "pre-tool-use", &bash("ls"));
    assert_eq!(run.code, 2);
    assert!(run
        .one_line()
        .contains("rejected the credentials (HTTP 401)"));
}

// ---- not UTF-8, not HTTP --------------------------------------------------------------------

#[test]
fn invalid_utf8_bodies_have_no_decision() {
    pre_and_post(
        "invalid UTF-8 body",
        || Reply::Raw {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body:
                b"{\"jsonrpc\":\"2.0\",\"result\":{\"content\":[{\"text\":\"\xff\xfe\xc3\x28\"}]}}"
                    .to_vec(),
        },
        Pre::Allow,
    );
    pre_and_post(
        "binary body",
        || Reply::Raw {
            status: 200,
            headers: vec![],
            body: (0..=255u8).cycle().take(70_000).collect(),
        },
        Pre::Allow,
    );
}

#[test]
fn invalid_utf8_in_the_head_is_harmless() {
    pre_and_post(
        "invalid UTF-8 header",
        || {
            let mut head = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: \xff\xfe\r\nX-Axonflow-Tier-Limit: \xc3\x28\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec();
            head.shrink_to_fit();
            Reply::Bytes(head)
        },
        Pre::Allow,
    );
}

#[test]
fn a_reply_that_is_not_http_is_an_invalid_response() {
    pre_and_post(
        "not HTTP",
        || Reply::Bytes(b"\xff\xfe\x00garbage\r\n\r\n".to_vec()),
        Pre::Unreachable("invalid HTTP response"),
    );
}

// ---- lying Content-Length --------------------------------------------------------------------

#[test]
fn content_length_that_promises_more_and_closes_is_a_reset() {
    pre_and_post(
        "Content-Length too large, then close",
        || {
            let mut bytes =
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                    .to_vec();
            bytes.extend_from_slice(&violation_body());
            Reply::Bytes(bytes)
        },
        Pre::Unreachable("connection reset"),
    );
}

#[test]
fn content_length_that_promises_more_and_stalls_times_out() {
    pre_and_post(
        "Content-Length too large, then stall",
        || {
            let mut bytes =
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                    .to_vec();
            bytes.extend_from_slice(&violation_body());
            Reply::BytesThenStall(bytes)
        },
        Pre::Unreachable("timed out after 1s"),
    );
}

#[test]
fn content_length_that_promises_less_cuts_the_body() {
    // Only the first 20 bytes of a violation count: not JSON, so no decision.
    pre_and_post(
        "Content-Length too small",
        || {
            let mut bytes =
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
                    .to_vec();
            bytes.extend_from_slice(&violation_body());
            Reply::BytesThenStall(bytes)
        },
        Pre::Allow,
    );
}

// ---- redirects -------------------------------------------------------------------------------

#[test]
fn redirects_are_never_followed() {
    let elsewhere = StandIn::start(AgentConfig::default());
    // Were it followed, the second agent would block the call.
    elsewhere.script_always(
        Match::Any,
        Reply::Raw {
            status: 200,
            headers: vec![],
            body: violation_body(),
        },
    );
    for status in [301u16, 302, 303, 307, 308] {
        let location = elsewhere.mcp_url();
        pre_and_post(
            &format!("{status} redirect"),
            || Reply::Raw {
                status,
                headers: vec![("Location".into(), location.clone())],
                body: Vec::new(),
            },
            Pre::Allow,
        );
    }
    assert!(
        elsewhere.requests().is_empty(),
        "a redirect was followed: {:?}",
        elsewhere
            .requests()
            .iter()
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    );
}

// ---- TLS ---------------------------------------------------------------------------------------

/// A plain-TCP server on loopback that answers anything with an HTTP 400 (as nginx answers a
/// ClientHello on its HTTP port) and keeps the first bytes of every connection.
fn plain_http_server() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            let record = record.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buffer = [0u8; 512];
                let n = stream.read(&mut buffer).unwrap_or(0);
                record.lock().unwrap().push(buffer[..n].to_vec());
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            });
        }
    });
    (format!("https://127.0.0.1:{port}"), seen)
}

#[test]
fn post_tool_use_tls_failure_stays_silent_and_sends_nothing_in_clear() {
    let (endpoint, seen) = plain_http_server();
    let agent = StandIn::start(AgentConfig::default());
    let mut env = env_for(&agent, "closed");
    env.set("AXONFLOW_ENDPOINT", &endpoint)
        .set("AXONFLOW_OUTPUT_MODE", "alert");
    let run = run_measured(
        &env,
        "post-tool-use",
        &post_bash("cat f", json!("SSN: 123-45-6789")),
    );
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", ""),
        "a TLS failure never blocks or speaks after a tool ran"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        2,
        "the audit and the scan each tried to connect"
    );
    for first_bytes in seen.iter() {
        assert_eq!(
            first_bytes.first(),
            Some(&0x16),
            "a TLS handshake record, not plaintext: {:?}",
            String::from_utf8_lossy(first_bytes)
        );
        assert!(
            !String::from_utf8_lossy(first_bytes).contains("SSN"),
            "tool output went out in clear"
        );
    }
    assert!(agent.requests().is_empty());
}

#[test]
fn pre_tool_use_tls_failure_follows_fail_mode_within_the_timeout() {
    for (fail_mode, code) in [("closed", 2), ("open", 0)] {
        let (endpoint, _seen) = plain_http_server();
        let agent = StandIn::start(AgentConfig::default());
        let mut env = env_for(&agent, fail_mode);
        env.set("AXONFLOW_ENDPOINT", &endpoint);
        let run = run_measured(&env, "pre-tool-use", &bash("ls"));
        assert_eq!(run.code, code, "{fail_mode}: {}", run.stderr);
        if code == 2 {
            assert!(run.one_line().contains("could not be reached (TLS error)"));
        } else {
            assert_eq!(run.stderr, "");
        }
    }
}

// ---- the measurement itself ------------------------------------------------------------------

#[test]
fn baseline_memory_of_an_ordinary_run() {
    let agent = StandIn::start(AgentConfig::default());
    let env = env_for(&agent, "open");
    let run = run_measured(&env, "pre-tool-use", &bash("ls"));
    assert_eq!(run.code, 0);
    assert!(run.max_rss_kib > 0, "ru_maxrss was not reported");
    println!("ordinary pre-tool-use: peak RSS {} KiB", run.max_rss_kib);
}
