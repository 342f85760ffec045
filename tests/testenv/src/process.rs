//! Running a program to its end: stdin fed and stdout/stderr drained on threads (a large
//! output must not fill a pipe), a hard time limit, and for the memory tests `wait4`.

use std::io::{Read, Write as _};
use std::process::{ChildStdin, Command};
use std::time::{Duration, Instant};

/// One finished run.
#[derive(Debug)]
pub struct Run {
    /// The exit code; -1 when a signal ended the run (the installer's crash tests).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// stderr without its final newline, asserting it is exactly one line.
    pub fn one_line(&self) -> &str {
        one_line(&self.stderr)
    }

    pub fn assert_silent_allow(&self) {
        assert_eq!(
            (self.code, self.stdout.as_str(), self.stderr.as_str()),
            (0, "", ""),
            "expected a silent allow"
        );
    }
}

fn one_line(stderr: &str) -> &str {
    let line = stderr.strip_suffix('\n').unwrap_or(stderr);
    assert!(!line.is_empty(), "expected a stderr line, got nothing");
    assert!(
        !line.contains('\n'),
        "stderr is more than one line: {stderr:?}"
    );
    line
}

/// Runs `command` (stdio piped) with `stdin`, killing it and failing after `limit`.
pub(crate) fn run(
    mut command: Command,
    stdin: &[u8],
    limit: Duration,
    killed_is_failure: bool,
) -> Run {
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn the program");
    let writer = child.stdin.take().map(|mut pipe| {
        let input = stdin.to_vec();
        // A program that exits without reading its input closes the pipe: not an error.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        })
    });
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = started + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = started.elapsed();
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    let status = child.wait().unwrap();
    assert!(
        !killed_is_failure || status.code().is_some(),
        "{command:?} was killed by a signal ({status})"
    );
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout.join().unwrap()).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr.join().unwrap()).expect("stderr is UTF-8"),
        elapsed,
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A run reaped with `wait4`, with its peak resident set. On Linux `ru_maxrss` also counts
/// the resident set this test process had at `exec` (see the hook's `hostile.rs`), so the
/// figure is an upper bound of the program's own peak; the tests that use it keep their own
/// memory small.
pub struct Measured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub max_rss_kib: i64,
}

impl Measured {
    pub fn one_line(&self) -> &str {
        one_line(&self.stderr)
    }
}

/// Spawns `command` (stdio as the caller set it; piped stdout and stderr are collected),
/// feeds its stdin with `feed` on a thread, and reaps it with `wait4`. A run still going
/// after `kill_after` is killed and the test fails, so a hang is a failure, not a stuck suite.
// The child is reaped by `libc::wait4`, not `Child::wait`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn run_measured(
    mut command: Command,
    feed: impl FnOnce(ChildStdin) + Send + 'static,
    kill_after: Duration,
) -> Measured {
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn the program");
    let pid = child.id() as libc::pid_t;
    let writer = child
        .stdin
        .take()
        .map(|stdin| std::thread::spawn(move || feed(stdin)));
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own unreaped child; both pointers are valid for the call.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            break (status, usage);
        }
        if started.elapsed() > kill_after {
            let _ = child.kill();
            panic!("the program was still running after {kill_after:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    assert!(
        libc::WIFEXITED(status),
        "the program did not exit normally (wait status {status:#x})"
    );
    let measured = Measured {
        code: libc::WEXITSTATUS(status),
        stdout: String::from_utf8(stdout.join().unwrap()).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr.join().unwrap()).expect("stderr is UTF-8"),
        elapsed,
        max_rss_kib: usage.ru_maxrss,
    };
    assert!(
        !measured.stderr.contains("panicked"),
        "the program panicked: {}",
        measured.stderr
    );
    measured
}

/// Writes `bytes` to a program's stdin and closes it.
pub fn feed_bytes(bytes: Vec<u8>) -> impl FnOnce(ChildStdin) + Send + 'static {
    move |mut stdin| {
        let _ = stdin.write_all(&bytes);
    }
}
