//! A proxy that stalls: the `CONNECT` answer arrives one byte at a time and never ends.

mod support;

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::Duration;

use support::*;

/// Answers every `CONNECT` with an endless header line, one byte every 100 ms, for a minute.
fn trickling_proxy() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    request.push(byte[0]);
                }
                let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\nX-Pad: ");
                for _ in 0..600 {
                    if stream.write_all(b"a").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
    });
    endpoint
}

#[test]
fn a_proxy_that_trickles_its_connect_answer_times_out() {
    let agent = StandIn::start(AgentConfig::default());
    let proxy = trickling_proxy();
    for endpoint in [
        agent.endpoint(),
        "https://agent.example.invalid".to_string(),
    ] {
        let mut env = TestEnv::with_agent(&agent);
        env.set("AXONFLOW_ENDPOINT", &endpoint)
            .set("AXONFLOW_FAIL_MODE", "closed")
            .set("AXONFLOW_TIMEOUT_SECONDS", "1")
            .set("HTTP_PROXY", &proxy)
            .set("HTTPS_PROXY", &proxy);
        let mut command = env.command(Path::new(HOOK), &["pre-tool-use"]);
        command.stdin(std::process::Stdio::piped());
        let run = run_measured(
            command,
            feed_bytes(bash("ls").to_string().into_bytes()),
            Duration::from_secs(30),
        );
        assert_eq!(run.code, 2, "{endpoint}: {}", run.stderr);
        assert!(
            run.one_line()
                .contains("could not be reached (timed out after 1s)"),
            "{endpoint}: {}",
            run.stderr
        );
        assert!(
            run.elapsed < Duration::from_secs(10),
            "{endpoint}: {:?}",
            run.elapsed
        );
    }
    assert!(agent.requests().is_empty());
}
