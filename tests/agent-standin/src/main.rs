//! `axonflow-agent-standin [--port N] [--auth ID:SECRET]`: serves the stand-in agent on
//! 127.0.0.1, prints `endpoint=http://127.0.0.1:PORT`, and runs until stdin reaches EOF (or
//! the process is terminated).

use std::io::{Read, Write};
use std::process::ExitCode;

use axonflow_agent_standin::{AgentConfig, StandIn};

fn usage(msg: &str) -> ExitCode {
    eprintln!("axonflow-agent-standin: {msg}");
    eprintln!("usage: axonflow-agent-standin [--port N] [--auth ID:SECRET]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut config = AgentConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let Some(port) = args.next().and_then(|p| p.parse::<u16>().ok()) else {
                    return usage("--port needs a port number");
                };
                config = config.with_port(port);
            }
            "--auth" => {
                let Some((id, secret)) = args.next().and_then(|a| {
                    a.split_once(':')
                        .map(|(i, s)| (i.to_string(), s.to_string()))
                }) else {
                    return usage("--auth needs ID:SECRET");
                };
                config = config.with_basic_auth(&id, &secret);
            }
            "-h" | "--help" => {
                println!("usage: axonflow-agent-standin [--port N] [--auth ID:SECRET]");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let agent = match StandIn::try_start(config) {
        Ok(agent) => agent,
        Err(e) => {
            eprintln!("axonflow-agent-standin: cannot bind 127.0.0.1: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "endpoint={}", agent.endpoint());
    let _ = stdout.flush();
    // Serve until stdin reaches EOF.
    let mut sink = [0u8; 4096];
    let mut stdin = std::io::stdin();
    loop {
        match stdin.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    drop(agent);
    ExitCode::SUCCESS
}
