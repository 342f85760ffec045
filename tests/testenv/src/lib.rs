//! The one test environment of the workspace's integration tests (the hook's and the
//! installer's), after jj's `TestEnvironment`.
//!
//! - Every test gets a fresh root directory with its own `HOME`, Codex home (`~/.codex`) and
//!   XDG base directories (`~/.cache`, `~/.local/state`, `~/.config`, not created): nothing
//!   of the developer's own is ever read or written.
//! - Every program runs with `env_clear` and exactly the variables the test set (`HOME`,
//!   `PATH=/usr/bin:/bin`, and what [`TestEnvironment::set`] adds), stdio piped, in the root.
//! - Every run is checked: no panic message, and none of the secrets the test named
//!   ([`TestEnvironment::secret`]) on stderr, or on stdout (but for `mcp-headers`, whose
//!   stdout exists to carry them). [`TestEnvironment::files_holding_secrets`] scans the files.
//! - [`TestEnvironment::normalize`] replaces what changes between runs (the temporary paths,
//!   loopback ports, the version, durations, trust hashes) with `[HOME]`, `[PORT]`, … so that
//!   human output can be kept as insta snapshots.
//!
//! The binaries' paths come from Cargo: `CARGO_BIN_EXE_*` exists only in a package's own
//! integration tests, so each test crate passes its binary in ([`TestEnvironment::new`]);
//! [`ensure_built_beside`] builds a sibling binary the package does not build itself.

mod files;
mod filters;
mod process;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub use axonflow_agent_standin::{AgentConfig, Match, Policy, Reply, StandIn};
pub use serde_json::{json, Value};

pub use files::{basic, closed_port_endpoint, mode, now_epoch, write_private};
pub use process::{feed_bytes, run_measured, Measured, Run};

/// `PATH` of every run: the system's own programs, nothing of the developer's (no `codex`
/// unless a test puts one there).
pub const SYSTEM_PATH: &str = "/usr/bin:/bin";

/// The workspace version, which every binary prints and sends.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct TestEnvironment {
    _dir: tempfile::TempDir,
    /// The test's own directory (canonical): `HOME` and anything else the test makes.
    pub root: PathBuf,
    pub home: PathBuf,
    /// `~/.codex`, created.
    pub codex_home: PathBuf,
    /// `~/.cache` (`XDG_CACHE_HOME`'s default; not created): the hooks' stamps, `axonflow/`.
    pub cache_dir: PathBuf,
    /// `~/.local/state` (`XDG_STATE_HOME`'s default; not created): spool and journal.
    pub state_dir: PathBuf,
    /// `~/.config` (`XDG_CONFIG_HOME`'s default; not created): the user token.
    pub config_dir: PathBuf,
    program: PathBuf,
    vars: Vec<(String, String)>,
    secrets: Vec<String>,
    run_limit: Duration,
    killed_is_failure: bool,
}

impl TestEnvironment {
    /// A fresh environment that runs `program` (a path Cargo gave the test crate). Only
    /// `HOME` and `PATH` are set: the Codex home and XDG directories are found at their
    /// defaults under the fresh `HOME`, so the programs' own default resolution is what runs
    /// (a test sets `CODEX_HOME` or `XDG_*` when that is what it checks).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        TestEnvironment::new_in(&std::env::temp_dir(), program)
    }

    /// [`TestEnvironment::new`] with the test's directory made in `parent` (the end-to-end
    /// tests keep theirs out of the system temp dir, where Codex refuses its helper aliases).
    pub fn new_in(parent: &Path, program: impl Into<PathBuf>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("axonflow-test-")
            .tempdir_in(parent)
            .unwrap_or_else(|e| panic!("cannot make a directory in {}: {e}", parent.display()));
        let root = dir.path().canonicalize().expect("canonical temp dir");
        let home = root.join("home");
        let codex_home = home.join(".codex");
        let cache_dir = home.join(".cache");
        let state_dir = home.join(".local/state");
        let config_dir = home.join(".config");
        // Only the Codex home is made (Codex makes it on first start); the XDG directories
        // are left for the programs to create, as on a new account.
        std::fs::create_dir_all(&codex_home).expect("create the Codex home");
        let vars = vec![
            ("HOME".to_string(), home.display().to_string()),
            ("PATH".to_string(), SYSTEM_PATH.to_string()),
        ];
        TestEnvironment {
            _dir: dir,
            root,
            home,
            codex_home,
            cache_dir,
            state_dir,
            config_dir,
            program: program.into(),
            vars,
            secrets: Vec::new(),
            run_limit: Duration::from_secs(60),
            killed_is_failure: false,
        }
    }

    /// A run still going after `limit` is killed and fails the test.
    pub fn with_run_limit(mut self, limit: Duration) -> Self {
        self.run_limit = limit;
        self
    }

    /// A run ended by a signal fails the test (the hooks are never killed on purpose; the
    /// installer's crash tests kill it, and see code -1).
    pub fn killed_is_failure(mut self) -> Self {
        self.killed_is_failure = true;
        self
    }

    /// The program [`TestEnvironment::run`] runs.
    pub fn program(&self) -> &Path {
        &self.program
    }

    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.to_string()));
        self
    }

    pub fn unset(&mut self, key: &str) -> &mut Self {
        self.vars.retain(|(k, _)| k != key);
        self
    }

    /// The value a variable has in this environment.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `CODEX_HOME`, `XDG_CACHE_HOME`, `XDG_STATE_HOME` and `XDG_CONFIG_HOME` set to this
    /// environment's directories, as a user who sets them has them.
    pub fn with_explicit_dirs(&mut self) -> &mut Self {
        let dirs = [
            ("CODEX_HOME", self.codex_home.clone()),
            ("XDG_CACHE_HOME", self.cache_dir.clone()),
            ("XDG_STATE_HOME", self.state_dir.clone()),
            ("XDG_CONFIG_HOME", self.config_dir.clone()),
        ];
        for (key, dir) in dirs {
            self.set(key, &dir.display().to_string());
        }
        self
    }

    /// A value that must never be printed (see [`TestEnvironment::check_output`]) nor be
    /// found in a file ([`TestEnvironment::files_holding_secrets`]).
    pub fn secret(&mut self, value: &str) -> &mut Self {
        self.secrets.push(value.to_string());
        self
    }

    /// `$CODEX_HOME/<relative>`.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.codex_home.join(relative)
    }

    /// Writes `$CODEX_HOME/<relative>` (parents created).
    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// Writes `$CODEX_HOME/axonflow.toml` with mode 0600, as the installer does.
    pub fn write_settings(&self, toml: &str) -> PathBuf {
        let path = self.path("axonflow.toml");
        write_private(&path, toml, 0o600);
        path
    }

    /// `~/.cache/axonflow/<name>`: the hooks' throttle and prompt stamps.
    pub fn state_file(&self, name: &str) -> PathBuf {
        self.cache_dir.join("axonflow").join(name)
    }

    /// `~/.local/state/axonflow`: the audit spool and the decision journal.
    pub fn spool_dir(&self) -> PathBuf {
        self.state_dir.join("axonflow")
    }

    /// Writes the hooks' throttle stamp `<now + seconds> <reason>` 0600, as a hook writes it
    /// (a stamp others could write is not honoured).
    pub fn write_throttle(&self, seconds_ahead: u64, reason: &str) -> PathBuf {
        let stamp = self.state_file("throttle-until");
        let until = now_epoch() + seconds_ahead;
        write_private(&stamp, &format!("{until} {reason}\n"), 0o600);
        stamp
    }

    /// The hook the installer put in `$CODEX_HOME/axonflow/bin`.
    pub fn installed_hook(&self) -> PathBuf {
        self.path("axonflow/bin/axonflow-codex-hook")
    }

    /// The default program with these arguments, this environment and nothing else.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_for(&self.program, args)
    }

    /// Any program with this environment and nothing else, stdio piped.
    pub fn command_for(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs the default program with an empty stdin.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_binary_with_stdin(&self.program, args, b"")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        self.run_binary_with_stdin(&self.program, args, stdin)
    }

    /// Runs another program (a copy of the installer, the installed hook).
    pub fn run_binary(&self, program: &Path, args: &[&str]) -> Run {
        self.run_binary_with_stdin(program, args, b"")
    }

    pub fn run_binary_with_stdin(&self, program: &Path, args: &[&str], stdin: &[u8]) -> Run {
        let command = self.command_for(program, args);
        let run = process::run(command, stdin, self.run_limit, self.killed_is_failure);
        self.check_output(args, &run.stdout, &run.stderr);
        run
    }

    /// Runs the hook the installer installed, with a JSON payload on stdin.
    pub fn run_installed_hook(&self, args: &[&str], stdin: &str) -> Run {
        self.run_binary_with_stdin(&self.installed_hook(), args, stdin.as_bytes())
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code,
            0,
            "{} {args:?} failed:\n{}\n{}",
            self.program.display(),
            run.stdout,
            run.stderr
        );
        run
    }

    /// What must hold of every run: no panic message, no secret printed. `mcp-headers`'
    /// stdout is the one place the secrets belong (Codex sends them as MCP headers).
    pub fn check_output(&self, args: &[&str], stdout: &str, stderr: &str) {
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        let headers_helper = args.first() == Some(&"mcp-headers");
        for secret in &self.secrets {
            assert!(
                !stderr.contains(secret.as_str()),
                "a secret reached the stderr of {args:?}"
            );
            assert!(
                headers_helper || !stdout.contains(secret.as_str()),
                "a secret reached the stdout of {args:?}"
            );
        }
    }

    /// Every file under the root that holds one of the secrets, but for `allowed` (the
    /// settings file, the user-token file): `"<path> holds <first 6 characters>…"`.
    pub fn files_holding_secrets(&self, allowed: &[&Path]) -> Vec<String> {
        files::holding(&self.root, allowed, &self.secrets)
    }

    /// Every file under HOME (relative path → bytes; a directory as `dir/`, a link as
    /// `name -> link` → its target).
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        files::tree(&self.home)
    }

    /// `text` with what changes from run to run replaced, for insta snapshots: see
    /// [`filters`].
    pub fn normalize(&self, text: &str) -> String {
        filters::normalize(text, &self.filter_paths())
    }

    /// A run as a snapshot shows it: the exit code, then stdout and stderr, normalised.
    pub fn render(&self, run: &Run) -> String {
        format!(
            "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            run.code,
            self.normalize(&run.stdout),
            self.normalize(&run.stderr)
        )
    }

    fn filter_paths(&self) -> Vec<(PathBuf, &'static str)> {
        vec![
            (self.codex_home.clone(), "[CODEX_HOME]"),
            (self.home.clone(), "[HOME]"),
            (self.root.clone(), "[ROOT]"),
            (self.program.clone(), "[PROGRAM]"),
        ]
    }
}

/// Makes sure `<dir of beside>/<binary>` exists, building `package`'s binary with the
/// Cargo running these tests when it does not: the installer copies the hook from beside
/// itself, and `cargo test -p axonflow-codex` alone does not build the hook's package.
pub fn ensure_built_beside(beside: &Path, package: &str, binary: &str) -> PathBuf {
    let wanted = beside.with_file_name(binary);
    if !wanted.is_file() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", package, "--bin", binary])
            .status()
            .expect("run cargo");
        assert!(
            status.success() && wanted.is_file(),
            "could not build {}",
            wanted.display()
        );
    }
    wanted
}

/// `pub struct $name(TestEnvironment)`, dereferencing to it: a test crate's own environment
/// type, to which it adds its vocabulary (its binary, its subcommands) as inherent methods.
#[macro_export]
macro_rules! environment_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name(pub $crate::TestEnvironment);

        impl ::std::ops::Deref for $name {
            type Target = $crate::TestEnvironment;
            fn deref(&self) -> &$crate::TestEnvironment {
                &self.0
            }
        }

        impl ::std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut $crate::TestEnvironment {
                &mut self.0
            }
        }
    };
}
