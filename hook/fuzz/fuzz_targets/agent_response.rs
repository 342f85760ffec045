//! Bytes as an agent's reply: a status, an optional `Retry-After` and a body, fed to the
//! public helpers the decision tables are made of (`HttpReply::json`, `agent::rpc_error`,
//! `agent::tool_result`, `Envelope::detect` / `deadline` / `handle`,
//! `agent::policies_evaluated`) and `text::single_line` on every text that can reach
//! stderr. No panic, and every line the hooks could print is one line.
//!
//! Input layout: 2 bytes status (big-endian, folded into 100..=599); 1 byte n: 0xff = no
//! `Retry-After`, 0xfe = no `Retry-After` and a body over the size cap (`None`), else n bytes
//! of `Retry-After` (lossy UTF-8); the rest is the body.
#![no_main]

use axonflow_codex_hook::agent::{self, policies_evaluated, HttpReply};
use axonflow_codex_hook::envelope::Envelope;
use axonflow_codex_hook::state::StateDir;
use axonflow_codex_hook::text::{json_as_text, single_line};
use libfuzzer_sys::fuzz_target;

fn assert_one_line(text: &str) {
    let line = single_line(text);
    assert!(!line.chars().any(char::is_control), "{line:?}");
    assert!(!line.contains('\n') && !line.contains('\r'));
    // Trimming happens before control characters become spaces, so the result may still
    // start or end with a space ("\u{1}x" → " x"): harmless inside a block line.
    assert_eq!(single_line(&line), line.trim(), "a second pass only trims");
}

fn reply_from(data: &[u8]) -> Option<HttpReply> {
    let (status, rest) = data.split_first_chunk::<2>()?;
    let status = 100 + u16::from_be_bytes(*status) % 500;
    let (&len, rest) = rest.split_first()?;
    let (retry_after, body) = match len {
        0xff => (None, Some(rest)),
        0xfe => (None, None),
        _ => {
            let n = usize::from(len).min(rest.len());
            let header = String::from_utf8_lossy(&rest[..n]).into_owned();
            (Some(header), Some(&rest[n..]))
        }
    };
    Some(HttpReply {
        status,
        retry_after,
        body: body.map(<[u8]>::to_vec),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(reply) = reply_from(data) else {
        return;
    };
    let _ = reply.body_is_empty();
    let body = reply.json();
    if reply.body.is_none() {
        assert!(body.is_none(), "a body over the cap is never JSON");
    }

    if let Some(body) = &body {
        if let Some(error) = agent::rpc_error(body) {
            assert_one_line(&error.message);
        }
        let _ = agent::result_text(body);
        if let Some(result) = agent::tool_result(body) {
            let _ = policies_evaluated(&result);
            for key in [
                "block_reason",
                "decision_id",
                "risk_level",
                "override_existing_id",
                "redacted_message",
            ] {
                assert_one_line(&json_as_text(result.get(key)));
            }
        }
    }

    if let Some(envelope) = Envelope::detect(&reply) {
        assert!(reply.status == 429 || reply.status == 403);
        assert!(!envelope.limit_type().is_empty());
        for now in [0, 1_800_000_000, 4_000_000_000] {
            let _ = envelope.deadline(reply.retry_after.as_deref(), now);
        }
        // No state directory: nothing is written, and the prompt is always "first today".
        let lines = envelope.handle(&reply, &StateDir::new(None), 1_800_000_000);
        assert_eq!(lines.len(), 2);
        for line in &lines {
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
    }
});
