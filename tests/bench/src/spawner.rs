//! The measuring process.
//!
//! On Linux a child's `ru_maxrss` is never below the resident high-water mark of the process
//! that spawned it: `exec` folds the old address space's high-water mark into the new
//! program's `maxrss`, and both `fork` and `posix_spawn` (`CLONE_VM|CLONE_VFORK`, what
//! `std::process::Command` uses) hand the parent's pages to the child up to that `exec`.
//! The benchmark process holds the stand-in agent, its threads and its request log, so
//! children spawned from it would report that memory as theirs. The measured processes are
//! therefore spawned from a small helper, this same binary started with `--spawner`, which
//! does nothing else and reports its own high-water mark (the floor of every figure).
//!
//! Protocol: one JSON object per line on the helper's stdin, one JSON object per line back.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};

/// The hidden first argument that turns the binary into the helper.
pub const SPAWNER_ARG: &str = "--spawner";

/// One process to run and measure.
pub struct Job<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    /// Written to the child's stdin, which is then closed; `None` = stdin from /dev/null.
    pub stdin: Option<&'a str>,
}

/// What one measured run gave.
#[derive(Debug)]
pub struct Outcome {
    pub wall_ns: u64,
    pub maxrss_kib: u64,
    /// Exit code, or `None` when killed by a signal.
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The helper's own VmHWM in KiB when it spawned the child.
    pub spawner_hwm_kib: u64,
}

/// The parent's handle on the helper.
pub struct Spawner {
    child: Child,
    to: Option<BufWriter<ChildStdin>>,
    from: BufReader<ChildStdout>,
}

impl Spawner {
    pub fn start(self_exe: &std::path::Path) -> Result<Spawner, String> {
        let mut child = Command::new(self_exe)
            .arg(SPAWNER_ARG)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the measuring helper {}: {e}",
                    self_exe.display()
                )
            })?;
        let to = BufWriter::new(child.stdin.take().expect("piped stdin"));
        let from = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Spawner {
            child,
            to: Some(to),
            from,
        })
    }

    pub fn run(&mut self, job: &Job) -> Result<Outcome, String> {
        let request = json!({
            "program": job.program,
            "args": job.args,
            "env": job.env.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "stdin": job.stdin,
        });
        let to = self.to.as_mut().expect("helper stdin open");
        writeln!(to, "{request}")
            .and_then(|_| to.flush())
            .map_err(|e| format!("measuring helper: write failed: {e}"))?;
        let mut line = String::new();
        let n = self
            .from
            .read_line(&mut line)
            .map_err(|e| format!("measuring helper: read failed: {e}"))?;
        if n == 0 {
            return Err("measuring helper exited unexpectedly".into());
        }
        let reply: Value = serde_json::from_str(&line)
            .map_err(|e| format!("measuring helper: bad reply {line:?}: {e}"))?;
        if let Some(err) = reply.get("error").and_then(Value::as_str) {
            return Err(err.to_string());
        }
        let num = |k: &str| reply.get(k).and_then(Value::as_u64).unwrap_or(0);
        let int = |k: &str| reply.get(k).and_then(Value::as_i64).map(|v| v as i32);
        let text = |k: &str| {
            reply
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        Ok(Outcome {
            wall_ns: num("wall_ns"),
            maxrss_kib: num("maxrss_kib"),
            exit_code: int("exit_code"),
            signal: int("signal"),
            stdout: text("stdout"),
            stderr: text("stderr"),
            spawner_hwm_kib: num("spawner_hwm_kib"),
        })
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        // EOF on its stdin ends the helper's loop.
        drop(self.to.take());
        let _ = self.child.wait();
    }
}

/// The helper's main loop (`axonflow-bench --spawner`).
pub fn serve() -> std::process::ExitCode {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Value>(&line) {
            Ok(req) => match measure(&req) {
                Ok(v) => v,
                Err(e) => json!({ "error": e }),
            },
            Err(e) => json!({ "error": format!("bad request: {e}") }),
        };
        if writeln!(out, "{reply}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    std::process::ExitCode::SUCCESS
}

fn measure(req: &Value) -> Result<Value, String> {
    let program = req
        .get("program")
        .and_then(Value::as_str)
        .ok_or("request without program")?;
    let args: Vec<&str> = req
        .get("args")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let env: Vec<(&str, &str)> = req
        .get("env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|kv| Some((kv.get(0)?.as_str()?, kv.get(1)?.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let payload = req.get("stdin").and_then(Value::as_str);

    let mut cmd = Command::new(program);
    cmd.args(&args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(if payload.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let hwm = vm_hwm_kib();

    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    if let (Some(mut input), Some(payload)) = (child.stdin.take(), payload) {
        // A child that exits without reading everything gives EPIPE; that is its business.
        let _ = input.write_all(payload.as_bytes());
        // Dropping `input` closes the pipe: the child sees EOF.
    }
    // The outputs are a few hundred bytes at most, far below a pipe's buffer, so reading
    // them one after the other cannot deadlock.
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_end(&mut stdout);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_end(&mut stderr);
    }
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; `pid` is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4({pid}) failed: {err}"));
        }
    }
    let wall = start.elapsed();
    // wait4 reaped the child; `Child` has no Drop that waits or kills, and its pipes were
    // taken above, so forgetting it releases nothing and nothing can reap the pid twice.
    std::mem::forget(child);

    let (exit_code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    };
    Ok(json!({
        "wall_ns": wall.as_nanos() as u64,
        // Linux reports ru_maxrss in KiB.
        "maxrss_kib": usage.ru_maxrss.max(0) as u64,
        "exit_code": exit_code,
        "signal": signal,
        "stdout": String::from_utf8_lossy(&stdout),
        "stderr": String::from_utf8_lossy(&stderr),
        "spawner_hwm_kib": hwm,
    }))
}

/// This process's resident high-water mark (`VmHWM` in /proc/self/status), KiB.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
