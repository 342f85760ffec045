//! Peak memory of post-tool-use on large outputs. One test in its own binary: `ru_maxrss`
//! counts this process's own resident peak at `exec`, so everything here is streamed (the
//! payload to the hook, the agent's requests and replies) and nothing else runs beside it.
//!
//! - A 100 MB output is over the 32 MiB stdin cap: it costs no more than the cap.
//! - A 30 MiB command is checked whole by pre-tool-use within a small multiple of its size.
//! - A 30 MiB output is scanned whole, the agent redacts all of it, and the alert carries the
//!   whole redacted text: peak memory stays a small multiple of the output.

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::*;

const MIB: usize = 1024 * 1024;
const KILL_AFTER: Duration = Duration::from_secs(60);
const CHUNK: usize = 64 * 1024;

/// A shell PostToolUse document whose output is `bytes` letters, written in pieces.
fn streamed_output(bytes: usize) -> impl FnOnce(std::process::ChildStdin) + Send {
    move |mut stdin| {
        let head = br#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"cat big.log"},"tool_response":""#;
        let chunk = vec![b'x'; CHUNK];
        let _ = stdin.write_all(head);
        let mut written = 0;
        while written < bytes {
            let piece = &chunk[..CHUNK.min(bytes - written)];
            if stdin.write_all(piece).is_err() {
                return;
            }
            written += piece.len();
        }
        let _ = stdin.write_all(br#"","tool_use_id":"call_9"}"#);
    }
}

/// A shell PreToolUse document whose command is `bytes` letters, written in pieces.
fn streamed_command(bytes: usize) -> impl FnOnce(std::process::ChildStdin) + Send {
    move |mut stdin| {
        let head =
            br#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":""#;
        let chunk = vec![b'c'; CHUNK];
        let _ = stdin.write_all(head);
        let mut written = 0;
        while written < bytes {
            let piece = &chunk[..CHUNK.min(bytes - written)];
            if stdin.write_all(piece).is_err() {
                return;
            }
            written += piece.len();
        }
        let _ = stdin.write_all(br#""},"tool_use_id":"call_8"}"#);
    }
}

/// An agent on loopback that reads every request without keeping it, answers the scan with
/// a `redacted_message` of `redacted_len` letters (streamed), and the audit with `{}`.
/// Returns its endpoint and the largest request body it saw.
fn redacting_agent(redacted_len: usize) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let largest = Arc::new(AtomicU64::new(0));
    let seen = largest.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || answer(stream, redacted_len, &seen));
        }
    });
    (endpoint, largest)
}

fn answer(stream: TcpStream, redacted_len: usize, largest: &AtomicU64) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut content_length = 0u64;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut start = vec![0u8; 64.min(content_length as usize)];
    reader.read_exact(&mut start).unwrap();
    let rest = content_length - start.len() as u64;
    std::io::copy(&mut (&mut reader).take(rest), &mut std::io::sink()).unwrap();
    largest.fetch_max(content_length, Ordering::SeqCst);
    let is_scan = String::from_utf8_lossy(&start).contains("\"hook-scan\"");
    let mut out = stream;
    if !is_scan {
        let _ = out.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        );
        return;
    }
    let head = r#"{"jsonrpc":"2.0","id":"hook-scan","result":{"content":[{"type":"text","text":"{\"allowed\":true,\"policies_evaluated\":3,\"redacted_message\":\""#;
    let tail = r#"\"}"}]}}"#;
    let length = head.len() + redacted_len + tail.len();
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{head}"
    );
    let chunk = vec![b'R'; CHUNK];
    let mut written = 0;
    while written < redacted_len {
        let piece = &chunk[..CHUNK.min(redacted_len - written)];
        if out.write_all(piece).is_err() {
            return;
        }
        written += piece.len();
    }
    let _ = out.write_all(tail.as_bytes());
}

#[test]
fn large_outputs_cost_a_small_multiple_of_their_size() {
    // 1. 100 MB: over the cap, so not scanned; with fail_mode open the output goes through.
    let (endpoint, largest) = redacting_agent(0);
    let mut env = TestEnv::new();
    env.set("AXONFLOW_ENDPOINT", &endpoint);
    let run = run_measured(
        env.command(Path::new(HOOK), &["post-tool-use"]),
        streamed_output(100 * 1000 * 1000),
        KILL_AFTER,
    );
    eprintln!(
        "100 MB output: {:?}, peak RSS {} KiB",
        run.elapsed, run.max_rss_kib
    );
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    assert!(
        run.max_rss_kib < 3 * 32 * 1024,
        "100 MB output peaked at {} KiB (bound: 3 x the 32 MiB cap)",
        run.max_rss_kib
    );
    assert_eq!(largest.load(Ordering::SeqCst), 0, "nothing was sent");

    // 2. A 30 MiB command is checked whole by pre-tool-use (before the scan below, which
    //    grows this process).
    let size = 30 * MIB;
    let (endpoint, largest) = redacting_agent(0);
    env.set("AXONFLOW_ENDPOINT", &endpoint);
    let run = run_measured(
        env.command(Path::new(HOOK), &["pre-tool-use"]),
        streamed_command(size),
        KILL_AFTER,
    );
    let peak_mib = run.max_rss_kib as f64 / 1024.0;
    eprintln!(
        "30 MiB command: {:?}, peak RSS {peak_mib:.0} MiB ({:.1} x the command)",
        run.elapsed,
        peak_mib / 30.0
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(
        largest.load(Ordering::SeqCst) > size as u64,
        "the whole command was sent to check_policy"
    );
    assert!(
        run.max_rss_kib < 4 * 30 * 1024,
        "30 MiB command peaked at {peak_mib:.0} MiB (bound: 4 x the command)"
    );

    // 3. 30 MiB: scanned whole; the redacted copy comes back whole in the alert.
    let (endpoint, largest) = redacting_agent(size);
    env.set("AXONFLOW_ENDPOINT", &endpoint)
        .set("AXONFLOW_OUTPUT_MODE", "alert");
    let run = run_measured(
        env.command(Path::new(HOOK), &["post-tool-use"]),
        streamed_output(size),
        KILL_AFTER,
    );
    let peak_mib = run.max_rss_kib as f64 / 1024.0;
    eprintln!(
        "30 MiB output: {:?}, peak RSS {peak_mib:.0} MiB ({:.1} x the output)",
        run.elapsed,
        peak_mib / 30.0
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        largest.load(Ordering::SeqCst) > size as u64,
        "the whole output was sent to check_output"
    );
    let alert: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let context = alert["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    let redacted = context
        .strip_prefix("GOVERNANCE ALERT: PII/sensitive data detected in tool output (3 policies evaluated). You MUST use this redacted version instead of the original: ")
        .expect("the redaction alert");
    assert!(
        redacted.len() == size && redacted.bytes().all(|b| b == b'R'),
        "the whole redacted copy"
    );
    assert!(
        run.max_rss_kib < 4 * 30 * 1024,
        "30 MiB output peaked at {peak_mib:.0} MiB (bound: 4 x the output)"
    );

    // 4. The same in replace mode (the default): the redacted copy is the whole of stderr
    //    after the notice line, within the same bound.
    let (endpoint, _) = redacting_agent(size);
    env.set("AXONFLOW_ENDPOINT", &endpoint)
        .unset("AXONFLOW_OUTPUT_MODE");
    let run = run_measured(
        env.command(Path::new(HOOK), &["post-tool-use"]),
        streamed_output(size),
        KILL_AFTER,
    );
    let peak_mib = run.max_rss_kib as f64 / 1024.0;
    eprintln!(
        "30 MiB output, replace mode: {:?}, peak RSS {peak_mib:.0} MiB ({:.1} x the output)",
        run.elapsed,
        peak_mib / 30.0
    );
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    let (notice, redacted) = run.stderr.split_once('\n').expect("notice, then the copy");
    assert_eq!(
        notice,
        "AxonFlow redacted sensitive data from this tool output (3 policies evaluated). The redacted output follows."
    );
    let redacted = redacted.strip_suffix('\n').unwrap_or(redacted);
    assert!(
        redacted.len() == size && redacted.bytes().all(|b| b == b'R'),
        "the whole redacted copy"
    );
    assert!(
        run.max_rss_kib < 4 * 30 * 1024,
        "30 MiB output in replace mode peaked at {peak_mib:.0} MiB (bound: 4 x the output)"
    );
}
