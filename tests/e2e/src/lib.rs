//! End-to-end harness: the real Codex CLI (`@openai/codex@<`[`codex_pin`]`>` from npm,
//! [`DEFAULT_CODEX_VERSION`] unless `AXONFLOW_E2E_CODEX_VERSION` names another) runs our
//! installed hooks against a fake Responses API ([`fake_model`]) and the AxonFlow agent
//! stand-in, everything on 127.0.0.1 (codex-host.md §11).
//!
//! Set-up done here, never by the developer: the workspace's `axonflow-codex` and
//! `axonflow-codex-hook` are built when missing, and Codex is installed with npm into
//! `${AXONFLOW_E2E_CACHE:-$HOME/.cache/axonflow-codex-e2e}/codex-<version>` when missing (reused
//! afterwards, so re-runs work offline). When that fails the tests fail, loudly: they never
//! pass or skip without having run Codex.
//!
//! Safety, every test: a fresh `CODEX_HOME` and `HOME` in a directory under the cache (not the
//! system temp dir, where Codex refuses its helper aliases), never `~/.codex`; every URL on
//! 127.0.0.1 (`OPENAI_BASE_URL` too, as a net); a cleared environment; stdin `/dev/null`; a
//! hard 120 s timeout that kills Codex's whole process group; every server stopped on drop.

pub mod fake_model;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use axonflow_agent_standin::{AgentConfig, Match, RecordedRpc, Reply, StandIn};
use axonflow_testenv::TestEnvironment;
pub use fake_model::{FakeModel, ModelRequest, ToolCall, FAKE_DONE};
pub use serde_json::{json, Value};

/// The Codex release these tests drive, unless `AXONFLOW_E2E_CODEX_VERSION` names another:
/// the one place the pin lives.
pub const DEFAULT_CODEX_VERSION: &str = "0.171.0";

/// The Codex version under test: `AXONFLOW_E2E_CODEX_VERSION` (an npm version such as
/// `0.172.0` or `0.172.0-alpha.1`), else [`DEFAULT_CODEX_VERSION`].
pub fn codex_pin() -> String {
    match std::env::var("AXONFLOW_E2E_CODEX_VERSION") {
        Ok(version) if !version.is_empty() => {
            // It becomes a directory name and an npm package spec: nothing else gets in.
            assert!(
                version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')),
                "AXONFLOW_E2E_CODEX_VERSION must be a plain npm version, got {version:?}"
            );
            version
        }
        _ => DEFAULT_CODEX_VERSION.to_string(),
    }
}
/// `X-Axonflow-Client` our hooks and `mcp-headers` send.
pub const CLIENT_HEADER: &str = concat!("codex-plugin/", env!("CARGO_PKG_VERSION"));
/// The prompt of [`E2e::exec`].
pub const SCRIPTED_PROMPT: &str = "run the scripted tool call";
/// Hard limit for one Codex process.
pub const CODEX_TIMEOUT: Duration = Duration::from_secs(120);

/// The installer and the hook from this workspace's target directory.
#[derive(Debug)]
pub struct Binaries {
    pub installer: PathBuf,
    pub hook: PathBuf,
}

/// `<target>/debug`: tests run from `<target>/debug/deps/`.
fn target_profile_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let deps = exe
        .parent()
        .ok_or_else(|| format!("{} has no parent", exe.display()))?;
    let profile = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap_or(deps)
    } else {
        deps
    };
    Ok(profile.to_path_buf())
}

/// The newest modification time among the sources of the two binaries (`hook/`,
/// `installer/`, `plugin-assets/`, the workspace manifest and lock file).
fn newest_source_mtime() -> Option<std::time::SystemTime> {
    fn walk(path: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "tests" || n == "target")
            {
                return;
            }
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        } else if let Ok(modified) = meta.modified() {
            if newest.is_none_or(|n| modified > n) {
                *newest = Some(modified);
            }
        }
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut newest = None;
    for part in [
        "hook",
        "installer",
        "plugin-assets",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        walk(&workspace.join(part), &mut newest);
    }
    newest
}

/// Builds `axonflow-codex` and `axonflow-codex-hook` (same target dir as this test, inherited)
/// when either is missing or older than its sources (so `cargo test -p axonflow-e2e` alone
/// never tests stale binaries), once per test process.
pub fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Result<Binaries, String>> = OnceLock::new();
    let result = BINARIES.get_or_init(|| {
        let dir = target_profile_dir()?;
        let binaries = Binaries {
            installer: dir.join("axonflow-codex"),
            hook: dir.join("axonflow-codex-hook"),
        };
        let sources = newest_source_mtime();
        let stale = |binary: &Path| {
            let built = std::fs::metadata(binary).and_then(|m| m.modified()).ok();
            match (built, sources) {
                (None, _) => true,
                (Some(built), Some(sources)) => built < sources,
                (Some(_), None) => false,
            }
        };
        if stale(&binaries.installer) || stale(&binaries.hook) {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-p", "axonflow-codex", "-p", "axonflow-codex-hook"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .stdin(Stdio::null())
                .status()
                .map_err(|e| format!("cannot run cargo build: {e}"))?;
            if !status.success() {
                return Err(format!("cargo build of the binaries failed: {status}"));
            }
        }
        for binary in [&binaries.installer, &binaries.hook] {
            if !binary.is_file() {
                return Err(format!("{} was not built", binary.display()));
            }
        }
        Ok(binaries)
    });
    match result {
        Ok(binaries) => binaries,
        Err(e) => panic!("END-TO-END TESTS COULD NOT RUN: {e}"),
    }
}

/// The npm-installed Codex CLI.
#[derive(Debug)]
pub struct Codex {
    /// `<cache>/codex-<version>/node_modules/.bin/codex`
    pub bin: PathBuf,
    /// Its directory (put first on PATH).
    pub bin_dir: PathBuf,
    /// The directory holding `node` (on PATH too: `codex` is a node script).
    pub node_dir: Option<PathBuf>,
    /// The cache root (`AXONFLOW_E2E_CACHE` or `~/.cache/axonflow-codex-e2e`).
    pub cache: PathBuf,
}

/// `${AXONFLOW_E2E_CACHE:-$HOME/.cache/axonflow-codex-e2e}`.
pub fn cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("AXONFLOW_E2E_CACHE").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or("HOME is not set and AXONFLOW_E2E_CACHE is not set")?;
    Ok(PathBuf::from(home).join(".cache/axonflow-codex-e2e"))
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn codex_version(bin: &Path, node_dir: Option<&Path>) -> Result<String, String> {
    let mut path = vec![bin.parent().unwrap_or(Path::new("/")).to_path_buf()];
    path.extend(node_dir.map(Path::to_path_buf));
    path.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from));
    let output = Command::new(bin)
        .arg("--version")
        .env(
            "PATH",
            std::env::join_paths(path).map_err(|e| e.to_string())?,
        )
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {} --version: {e}", bin.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} --version failed ({}): {}",
            bin.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn install_codex() -> Result<Codex, String> {
    let version = codex_pin();
    let cache = cache_dir()?;
    let prefix = cache.join(format!("codex-{version}"));
    let bin = prefix.join("node_modules/.bin/codex");
    let node_dir = which("node").and_then(|p| p.parent().map(Path::to_path_buf));
    if !bin.exists() {
        let npm = which("npm").ok_or(
            "npm is not on PATH: install Node.js and npm (Debian: apt-get install -y nodejs npm)",
        )?;
        std::fs::create_dir_all(&cache)
            .map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
        // Install beside the final place, then rename: concurrent test runs never see a
        // half-installed package, and a failed install leaves nothing behind.
        let staging = tempfile::Builder::new()
            .prefix(&format!(".codex-{version}-"))
            .tempdir_in(&cache)
            .map_err(|e| format!("cannot create a staging dir in {}: {e}", cache.display()))?;
        eprintln!(
            "axonflow-e2e: installing @openai/codex@{version} into {} (once; reused afterwards)",
            prefix.display()
        );
        let started = Instant::now();
        let output = Command::new(&npm)
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(staging.path())
            .arg(format!("@openai/codex@{version}"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", npm.display()))?;
        if !output.status.success() {
            return Err(format!(
                "npm install @openai/codex@{version} failed ({}):\n{}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        eprintln!(
            "axonflow-e2e: npm install took {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let staged = staging.keep();
        if std::fs::rename(&staged, &prefix).is_err() {
            // Another test run won the race (or a broken leftover is in the way).
            let _ = std::fs::remove_dir_all(&staged);
            if !bin.exists() {
                return Err(format!(
                    "cannot move the npm install into {} (remove that directory and re-run)",
                    prefix.display()
                ));
            }
        }
    }
    let printed = codex_version(&bin, node_dir.as_deref())?;
    let expected = format!("codex-cli {version}");
    if printed != expected {
        return Err(format!(
            "{} --version printed {printed:?}, expected {expected:?} (remove {} and re-run)",
            bin.display(),
            prefix.display()
        ));
    }
    let bin_dir = bin.parent().expect("bin dir").to_path_buf();
    Ok(Codex {
        bin,
        bin_dir,
        node_dir,
        cache,
    })
}

/// Codex, installed with npm on first use.
pub fn codex() -> &'static Codex {
    static CODEX: OnceLock<Result<Codex, String>> = OnceLock::new();
    match CODEX.get_or_init(install_codex) {
        Ok(codex) => codex,
        Err(e) => panic!(
            "END-TO-END TESTS COULD NOT RUN: the Codex CLI {} is not available: {e}",
            codex_pin()
        ),
    }
}

/// One finished process.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// `--json` events (one JSON object per stdout line).
    pub fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn assert_ok(&self, what: &str) {
        assert_eq!(
            self.code,
            Some(0),
            "{what} failed\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
    }
}

/// Runs `command` in its own process group with stdin `/dev/null`; kills the whole group
/// after `timeout` (and panics).
pub fn run_with_timeout(mut command: Command, what: &str, timeout: Duration) -> Run {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if started.elapsed() > timeout {
            kill_group(&mut child);
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    // A grandchild that keeps the pipes open must not hang the test.
    let grace = Duration::from_secs(5);
    let out = stdout.recv_timeout(grace);
    let err = stderr.recv_timeout(grace);
    if out.is_err() || err.is_err() {
        kill_group(&mut child);
    }
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: out.unwrap_or_default(),
        stderr: err.unwrap_or_default(),
        elapsed,
    };
    if status.is_none() {
        panic!(
            "{what} did not finish within {} s and was killed\n--- stdout\n{}\n--- stderr\n{}",
            timeout.as_secs(),
            run.stdout,
            run.stderr
        );
    }
    run
}

fn drain(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    rx
}

/// SIGKILL to the child's process group (the child is its leader), then reap the child.
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// One test's world: the workspace's `TestEnvironment` (a fresh HOME with its CODEX_HOME, a
/// cleared environment) made under the cache, a work directory, the fake model and the
/// AxonFlow agent stand-in.
pub struct E2e {
    /// The stand-in AxonFlow agent.
    pub agent: StandIn,
    /// The fake Responses API.
    pub model: FakeModel,
    /// Root of this test's directories (canonical).
    pub root: PathBuf,
    /// `HOME` of every process we start.
    pub home: PathBuf,
    /// `CODEX_HOME` (canonical, exists).
    pub codex_home: PathBuf,
    /// Codex's session directory (`-C`).
    pub work: PathBuf,
    env: TestEnvironment,
}

impl E2e {
    /// Starts the servers and lays out fresh directories. Installs nothing yet.
    pub fn new(agent_config: AgentConfig) -> E2e {
        let codex = codex();
        let _ = binaries();
        let homes = codex.cache.join("homes");
        std::fs::create_dir_all(&homes)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", homes.display()));
        let env = TestEnvironment::new_in(&homes, &binaries().installer);
        let root = env.root.clone();
        let system_tmp = std::env::temp_dir()
            .canonicalize()
            .unwrap_or_else(|_| std::env::temp_dir());
        assert!(
            !root.starts_with(&system_tmp),
            "refusing to run: {} is under the system temp dir {} (Codex refuses its helper aliases there); set AXONFLOW_E2E_CACHE elsewhere",
            root.display(),
            system_tmp.display()
        );
        let home = env.home.clone();
        let work = root.join("work");
        std::fs::create_dir_all(&work).expect("create the work directory");
        let codex_home = env
            .codex_home
            .canonicalize()
            .expect("canonicalise CODEX_HOME");
        if let Some(real_home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            let real = PathBuf::from(real_home).join(".codex");
            let real = real.canonicalize().unwrap_or(real);
            assert_ne!(
                codex_home, real,
                "refusing to run with CODEX_HOME = ~/.codex"
            );
        }
        assert!(
            codex_home.as_os_str().len() > 1,
            "refusing an empty CODEX_HOME"
        );
        let agent = StandIn::start(agent_config);
        let model = FakeModel::start(ToolCall::Nothing);
        assert!(agent.endpoint().starts_with("http://127.0.0.1:"));
        assert!(model.base_url().starts_with("http://127.0.0.1:"));
        E2e {
            agent,
            model,
            root,
            home,
            codex_home,
            work,
            env,
        }
    }

    /// `PATH` for every child: Codex's bin dir first, node's dir, then the system.
    pub fn path_var(&self) -> String {
        let codex = codex();
        let mut dirs = vec![codex.bin_dir.clone()];
        dirs.extend(codex.node_dir.clone());
        dirs.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(PathBuf::from));
        std::env::join_paths(dirs)
            .expect("PATH")
            .to_string_lossy()
            .into_owned()
    }

    /// A cleared environment with exactly what Codex and our binaries need (stdio as the
    /// caller sets it; stdin `/dev/null` unless it does).
    pub fn command(&self, program: &Path) -> Command {
        let mut command = self.env.command_for(program, &[]);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .env("CODEX_HOME", &self.codex_home)
            .env("PATH", self.path_var())
            .env("LANG", "C.UTF-8")
            .env("OPENAI_BASE_URL", self.model.base_url())
            .env("FAKE_API_KEY", "dummy")
            .env("NO_COLOR", "1")
            .current_dir(&self.work);
        command
    }

    /// Runs `axonflow-codex <args>`.
    pub fn installer(&self, args: &[&str]) -> Run {
        let mut command = self.command(&binaries().installer);
        command.args(args);
        run_with_timeout(
            command,
            &format!("axonflow-codex {args:?}"),
            Duration::from_secs(60),
        )
    }

    /// `axonflow-codex install -y --endpoint <stand-in> <extra>`, then the fake provider.
    pub fn install(&self, extra: &[&str]) -> Run {
        let endpoint = self.agent.endpoint();
        let mut args = vec!["install", "-y", "--endpoint", endpoint.as_str()];
        args.extend_from_slice(extra);
        let run = self.installer(&args);
        run.assert_ok("axonflow-codex install");
        // Install probes the agent (`install-probe`); the tests look at what Codex sends.
        self.agent.clear_requests();
        self.add_model_provider();
        run
    }

    /// `axonflow-codex uninstall -y`; the fake provider stays configured.
    pub fn uninstall(&self) -> Run {
        let run = self.installer(&["uninstall", "-y"]);
        run.assert_ok("axonflow-codex uninstall");
        self.add_model_provider();
        run
    }

    pub fn config_path(&self) -> PathBuf {
        self.codex_home.join("config.toml")
    }

    pub fn config_toml(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    /// Adds (once) `model` / `model_provider` at the top of config.toml (top-level keys must
    /// precede every table) and `[model_providers.fake]` at its end; the installer's text is
    /// left as it is.
    pub fn add_model_provider(&self) {
        let mut text = self.config_toml();
        if !text.contains("model_provider = \"fake\"") {
            text = format!(
                "# axonflow-e2e: the fake Responses API\nmodel = \"gpt-5.5\"\nmodel_provider = \"fake\"\n\n{text}"
            );
        }
        if !text.contains("[model_providers.fake]") {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!(
                "\n[model_providers.fake]\nname = \"fake\"\nbase_url = \"{}\"\nwire_api = \"responses\"\nenv_key = \"FAKE_API_KEY\"\nrequest_max_retries = 0\nstream_max_retries = 0\n",
                self.model.base_url()
            ));
        }
        std::fs::write(self.config_path(), text).expect("write config.toml");
    }

    /// Runs `codex <args>` (cleared env, 120 s limit).
    pub fn codex(&self, args: &[&str]) -> Run {
        let mut command = self.command(&codex().bin);
        command.args(args);
        run_with_timeout(command, &format!("codex {args:?}"), CODEX_TIMEOUT)
    }

    /// `codex exec` with the safe flags, the model scripted to make `call` first.
    pub fn exec(&self, call: ToolCall) -> Run {
        self.exec_prompt(call, SCRIPTED_PROMPT)
    }

    /// `codex exec --json` with the safe flags and this prompt, whatever comes of it.
    pub fn exec_raw(&self, prompt: &str, json: bool) -> Run {
        let work = self.work.display().to_string();
        let mut args = vec![
            "exec",
            "-s",
            "danger-full-access",
            "--skip-git-repo-check",
            "--disable",
            "unbounded_connection_retries",
        ];
        if json {
            args.push("--json");
        }
        args.extend(["-C", &work, prompt]);
        self.codex(&args)
    }

    /// [`E2e::exec`] with this prompt: the conversation must run to [`FAKE_DONE`].
    pub fn exec_prompt(&self, call: ToolCall, prompt: &str) -> Run {
        self.model.set_script(call);
        let run = self.exec_raw(prompt, true);
        run.assert_ok("codex exec");
        let problems = self.model.problems();
        assert!(
            problems.is_empty(),
            "the fake model could not follow its script: {problems:?}\n--- stderr\n{}",
            run.stderr
        );
        let done = run.events().iter().any(|event| {
            event["type"] == "item.completed"
                && event["item"]["type"] == "agent_message"
                && event["item"]["text"] == FAKE_DONE
        });
        assert!(
            done,
            "codex exec did not finish the scripted conversation with {FAKE_DONE}\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout,
            run.stderr
        );
        run
    }

    /// A path for a marker file (not created).
    pub fn marker(&self, name: &str) -> PathBuf {
        self.root.join(format!("marker-{name}"))
    }

    /// The model requests of the last conversation.
    pub fn model_requests(&self) -> Vec<Value> {
        self.model.responses_requests()
    }

    /// The `input` item of type `kind` (`function_call_output`, …) in the last model request.
    pub fn last_tool_output(&self, kind: &str) -> Value {
        let requests = self.model_requests();
        let last = requests.last().expect("the model was asked at least once");
        last["input"]
            .as_array()
            .and_then(|items| items.iter().rev().find(|i| i["type"] == kind).cloned())
            .unwrap_or_else(|| {
                panic!(
                    "no {kind} in the last model request: {}",
                    serde_json::to_string_pretty(&last["input"]).unwrap_or_default()
                )
            })
    }

    /// Text of every developer message in the last model request.
    pub fn last_developer_texts(&self) -> Vec<String> {
        let requests = self.model_requests();
        let last = requests.last().expect("the model was asked at least once");
        last["input"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i["type"] == "message" && i["role"] == "developer")
            .flat_map(|i| i["content"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| c["text"].as_str().map(str::to_string))
            .collect()
    }

    /// Ids of the stand-in's `tools/call` requests (the hooks' `hook-pre`, `hook-audit`, …).
    pub fn rpc_ids(&self) -> Vec<String> {
        self.agent
            .rpc_calls()
            .iter()
            .map(|r| match &r.id {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }

    /// Talks to `codex app-server` over stdio: initialize, then `hooks/list` for the work dir.
    /// Returns the `result` of `hooks/list`.
    pub fn app_server_hooks_list(&self) -> Value {
        let mut command = self.command(&codex().bin);
        command
            .arg("app-server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = command.spawn().expect("start codex app-server");
        let mut stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = drain(child.stderr.take().expect("stderr"));
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let wait_for = |id: u64, seen: &mut Vec<String>| -> Option<Value> {
            loop {
                let left = deadline.checked_duration_since(Instant::now())?;
                let line = rx.recv_timeout(left).ok()?;
                seen.push(line.clone());
                let Ok(message) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if message["id"] == json!(id) {
                    return Some(message);
                }
            }
        };
        let send = |stdin: &mut std::process::ChildStdin, message: Value| {
            writeln!(stdin, "{message}").expect("write to app-server");
            stdin.flush().expect("flush app-server stdin");
        };
        send(
            &mut stdin,
            json!({"id": 1, "method": "initialize", "params": {
                "clientInfo": {"name": "axonflow-e2e", "title": "axonflow-e2e", "version": env!("CARGO_PKG_VERSION")},
                "capabilities": {"experimentalApi": true}}}),
        );
        let initialized = wait_for(1, &mut seen);
        let mut result = None;
        if initialized.is_some() {
            send(&mut stdin, json!({"method": "initialized"}));
            send(
                &mut stdin,
                json!({"id": 2, "method": "hooks/list", "params": {"cwds": [self.work.display().to_string()]}}),
            );
            result = wait_for(2, &mut seen);
        }
        drop(stdin);
        // Closing stdin ends the app-server; give it a moment, then make sure.
        let stop_by = Instant::now() + Duration::from_secs(5);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < stop_by {
            std::thread::sleep(Duration::from_millis(20));
        }
        kill_group(&mut child);
        let stderr = stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default();
        let Some(message) = result else {
            panic!(
                "codex app-server did not answer initialize / hooks/list within 60 s\n--- stdout\n{}\n--- stderr\n{stderr}",
                seen.join("\n")
            );
        };
        assert!(
            message.get("error").is_none(),
            "hooks/list failed: {message}"
        );
        message["result"].clone()
    }
}

/// The real `codex` TUI in a private tmux server (its own socket under the test's directory,
/// killed on drop), driven with send-keys and read with capture-pane.
pub struct Tui {
    socket: PathBuf,
}

/// How long the TUI may take to show what a test waits for.
const TUI_WAIT: Duration = Duration::from_secs(60);

impl E2e {
    /// Starts `codex -C <work>` in tmux (cleared environment, as [`E2e::command`]) and waits
    /// for its composer, answering a model-upgrade announcement with "use existing model".
    pub fn tui(&self) -> Tui {
        let tmux = which("tmux").unwrap_or_else(|| {
            panic!("END-TO-END TESTS COULD NOT RUN: tmux is not on PATH (Debian: apt-get install -y tmux)")
        });
        // What the TUI records once the user answered its start-up notices (0.171.0): without
        // it, a model-upgrade announcement takes over the screen a few seconds in.
        let mut config = self.config_toml();
        if !config.contains("[notice.model_migrations]") {
            config.push_str("\n[notice.model_migrations]\n\"gpt-5.5\" = \"gpt-6-sol\"\n\n[tui]\nscreen_reader_detection_done = true\n");
            std::fs::write(self.config_path(), config).expect("write config.toml");
        }
        let tui = Tui {
            socket: self.root.join("tmux.sock"),
        };
        let inner = self.command(&codex().bin);
        let mut shell = String::from("exec env -i TERM=xterm-256color");
        for (key, value) in inner.get_envs() {
            if let Some(value) = value {
                shell.push_str(&format!(
                    " {}={}",
                    key.to_string_lossy(),
                    shell_quote(&value.to_string_lossy())
                ));
            }
        }
        shell.push_str(&format!(
            " {} -C {}",
            shell_quote(&codex().bin.to_string_lossy()),
            shell_quote(&self.work.to_string_lossy())
        ));
        let mut command = Command::new(tmux);
        command
            .env_clear()
            .env("PATH", self.path_var())
            .env("HOME", &self.home)
            .env("TERM", "xterm-256color")
            .current_dir(&self.work)
            .arg("-S")
            .arg(&tui.socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "250",
                "-y",
                "60",
                "-s",
                "codex",
                &shell,
            ]);
        run_with_timeout(command, "tmux new-session", Duration::from_secs(30))
            .assert_ok("tmux new-session");
        // The announcement can pop up after the composer first shows: ready means the
        // composer, and no announcement, for a whole second.
        let deadline = Instant::now() + TUI_WAIT;
        let mut ready_since: Option<Instant> = None;
        loop {
            let screen = tui.capture();
            let ready =
                !tui.dismiss_announcement(&screen) && screen.contains("Ask Codex to do anything");
            match (ready, ready_since) {
                (true, Some(since)) if since.elapsed() >= Duration::from_secs(1) => break,
                (true, None) => ready_since = Some(Instant::now()),
                (false, _) => ready_since = None,
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "the Codex TUI did not show its composer within {TUI_WAIT:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        tui
    }
}

impl Tui {
    fn tmux(&self, args: &[&str]) -> Run {
        let mut command = Command::new(which("tmux").expect("tmux"));
        command.env_clear().arg("-S").arg(&self.socket).args(args);
        run_with_timeout(command, &format!("tmux {args:?}"), Duration::from_secs(30))
    }

    /// The visible screen, wrapped lines joined.
    pub fn capture(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-t", "codex"])
            .stdout
    }

    /// tmux key names (`C-m`, `Escape`, …) or literal single keys.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "codex"];
        args.extend_from_slice(keys);
        self.tmux(&args).assert_ok("tmux send-keys");
    }

    /// Types `text` into the composer and submits it.
    pub fn submit(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "codex", "-l", text])
            .assert_ok("tmux send-keys -l");
        // The composer shows typed text at once but submits nothing until Codex has finished
        // starting (its MCP servers; several seconds on a loaded machine), and a paste-burst
        // guard swallows a key that follows typed text too closely: press C-m again, once a
        // second, while the text still sits in the composer (the last `›` line), until it
        // moved up into the transcript.
        let deadline = Instant::now() + TUI_WAIT;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(1));
            let screen = self.capture();
            let lines: Vec<&str> = screen.lines().collect();
            let Some(composer) = lines.iter().rposition(|l| l.trim_start().starts_with('›'))
            else {
                continue;
            };
            let in_composer = lines[composer].contains(text);
            let in_transcript = lines[..composer].iter().any(|l| l.contains(text));
            if in_transcript && !in_composer {
                return;
            }
            if in_composer {
                self.keys(&["C-m"]);
            }
        }
        panic!(
            "the Codex TUI kept {text:?} in its composer for {TUI_WAIT:?}:\n{}",
            self.capture()
        );
    }

    /// Answers a model-upgrade announcement with "use existing model"; whether one was shown.
    fn dismiss_announcement(&self, screen: &str) -> bool {
        if !screen.contains("Use existing model") {
            return false;
        }
        self.keys(&["2"]);
        std::thread::sleep(Duration::from_millis(300));
        self.keys(&["C-m"]);
        true
    }

    /// Polls the screen until it contains `needle`; returns that screen.
    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + TUI_WAIT;
        loop {
            let screen = self.capture();
            if screen.contains(needle) {
                return screen;
            }
            self.dismiss_announcement(&screen);
            assert!(
                Instant::now() < deadline,
                "the Codex TUI did not show {needle:?} within {TUI_WAIT:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// `'…'` for sh, with embedded single quotes escaped.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
