//! Instruction counts with `valgrind --tool=callgrind`: deterministic for the same binary and
//! input, so they stay comparable on a noisy machine where wall times do not.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `program args` once under callgrind with exactly `env` and `stdin`, and returns the
/// instructions executed by the process and all its threads.
pub fn count(
    valgrind: &Path,
    program: &str,
    args: &[String],
    env: &[(String, String)],
    stdin: Option<&str>,
) -> Result<u64, String> {
    use std::io::Write as _;
    let mut child = Command::new(valgrind)
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(program)
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", valgrind.display()))?;
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe.write_all(stdin.unwrap_or("").as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    collected(&stderr)
        .ok_or_else(|| format!("no \"Collected\" line in callgrind's output:\n{stderr}"))
}

/// `==123== Collected : 4567890` → 4567890.
fn collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        let rest = line.split("Collected :").nth(1)?;
        rest.trim().parse().ok()
    })
}

pub fn find_valgrind(path_var: &str) -> Option<PathBuf> {
    crate::find_on_path("valgrind", path_var)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_the_collected_line() {
        let text = "==7== Events    : Ir\n==7== Collected : 3812345\n==7==\n==7== I   refs:      3,812,345\n";
        assert_eq!(super::collected(text), Some(3_812_345));
        assert_eq!(super::collected("nothing"), None);
    }
}
