//! `axonflow-codex doctor`: proves the whole chain, one named row per check, each with a fix.
//!
//! Local rows first (Codex home, hooks.json, trust, MCP entry, skills, settings), then the
//! network rows, run concurrently with bounded timeouts so a dead agent fails doctor in about
//! one timeout instead of hanging it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axonflow_codex_hook::agent::{self, AgentClient, Reply};
use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::settings::{FailMode, OutputMode, Settings, Source};
use axonflow_codex_hook::state::{self, StateDir};
use axonflow_codex_hook::tokens;
use serde_json::{json, Value};

use crate::codex::codex_cli;
use crate::codex::hooks_json;
use crate::codex::paths::CodexPaths;
use crate::codex::trust;
use crate::edit::config_toml;
use crate::error::{CommandError, Result};
use crate::state::fsio;
use crate::state::receipt::Receipt;
use axonflow_codex_hook::event::Event;

pub const HARMLESS_PROBE: &str = "echo axonflow-doctor";
pub const DANGEROUS_PROBE: &str = "psql -c \"DROP TABLE users; --\"";
/// A synthetic output with PII (a well-known invalid SSN): the agent must redact it.
pub const PII_PROBE: &str = "axonflow-doctor output scan: SSN 123-45-6789";
/// Round trips slower than this are worth a warning: every tool call pays them.
const SLOW_ROUND_TRIP: Duration = Duration::from_millis(1000);

#[derive(Debug, Clone, Default, clap::Args)]
pub struct DoctorOptions {
    /// Machine-readable rows on stdout
    #[arg(long)]
    pub json: bool,
    /// Skip the rows that need the network (agent health, credentials, probes, latency)
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not checked, because an earlier link of the chain failed (the detail says which).
    Skip,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

pub(crate) fn pass(name: &'static str, detail: impl Into<String>) -> Row {
    Row {
        name,
        status: Status::Pass,
        detail: detail.into(),
        fix: None,
    }
}

pub(crate) fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Row {
    Row {
        name,
        status: Status::Warn,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

fn skip(name: &'static str, reason: &str) -> Row {
    Row {
        name,
        status: Status::Skip,
        detail: format!("not checked: {reason}"),
        fix: None,
    }
}

pub(crate) fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Row {
    Row {
        name,
        status: Status::Fail,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

pub fn run(options: &DoctorOptions, env: &HostEnv) -> Result<()> {
    let rows = check(options, env);
    let failed = rows.iter().filter(|r| r.status == Status::Fail).count();
    if options.json {
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| json!({"name": r.name, "status": r.status.as_str(), "detail": r.detail, "fix": r.fix}))
            .collect();
        println!("{}", json!({"ok": failed == 0, "rows": rows}));
    } else {
        for row in &rows {
            let label = match row.status {
                Status::Pass => "PASS",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
                Status::Skip => "SKIP",
            };
            println!("{label}  {:<16} {}", row.name, row.detail);
            if let Some(fix) = &row.fix {
                println!("      {:<16} fix: {fix}", "");
            }
        }
        let count = |s: Status| rows.iter().filter(|r| r.status == s).count();
        let skipped = match count(Status::Skip) {
            0 => String::new(),
            n => format!(", {n} not checked"),
        };
        println!(
            "doctor: {} pass, {} warn, {} fail{skipped}",
            count(Status::Pass),
            count(Status::Warn),
            failed
        );
    }
    if failed > 0 {
        return Err(CommandError::failure(format!("{failed} check(s) failed"))
            .hint("apply the fixes above, then run `axonflow-codex doctor` again"));
    }
    Ok(())
}

/// Every row, in a stable order.
pub fn check(options: &DoctorOptions, env: &HostEnv) -> Vec<Row> {
    let mut rows = Vec::new();
    let paths = match CodexPaths::resolve(env, false) {
        Ok(paths) if paths.home.is_dir() => {
            rows.push(pass("codex home", paths.home.display().to_string()));
            paths
        }
        Ok(paths) => {
            rows.push(fail(
                "codex home",
                if paths.home.exists() {
                    format!("{} is not a directory", paths.home.display())
                } else {
                    format!("{} does not exist", paths.home.display())
                },
                "run Codex once, then `axonflow-codex install`",
            ));
            return rows;
        }
        Err(error) => {
            rows.push(fail(
                "codex home",
                error.message,
                "fix CODEX_HOME or unset it to use ~/.codex",
            ));
            return rows;
        }
    };
    let codex = codex_cli::find(env);
    match codex.as_deref().map(|c| (c, codex_cli::version(c))) {
        Some((path, Some(version))) => {
            rows.push(pass("codex", format!("{version} ({})", path.display())))
        }
        Some((path, None)) => rows.push(warn(
            "codex",
            format!("{} did not answer --version", path.display()),
            "reinstall Codex: npm install -g @openai/codex",
        )),
        None => rows.push(warn(
            "codex",
            "no codex on PATH; trust is checked by recomputing Codex's hash",
            "install Codex: npm install -g @openai/codex",
        )),
    }

    let receipt = match Receipt::load(&paths.receipt) {
        Ok(Some(receipt)) => {
            rows.push(pass(
                "install",
                format!(
                    "axonflow-codex {} (this is {})",
                    receipt.version,
                    crate::VERSION
                ),
            ));
            Some(receipt)
        }
        Ok(None) => {
            rows.push(fail(
                "install",
                "AxonFlow governance is not installed here",
                "axonflow-codex install",
            ));
            None
        }
        Err(error) => {
            rows.push(fail("install", error.message, "axonflow-codex install"));
            None
        }
    };

    let hooks_text = hooks_rows(&paths, receipt.as_ref(), &mut rows);
    if let (Some(receipt), Some(hooks_text)) = (&receipt, &hooks_text) {
        rows.push(trust_row(&paths, receipt, hooks_text, codex.as_deref()));
        rows.push(prompt_hook_row(&paths, receipt, hooks_text));
    }
    rows.extend(features_rows(&paths));
    let settings = settings_rows(env, &mut rows);
    if let Some(settings) = &settings {
        rows.push(output_mode_row(settings));
    }
    if let Some(receipt) = &receipt {
        rows.push(mcp_row(&paths, receipt, settings.as_ref()));
        rows.push(skills_row(receipt));
        if let Some(expiry) = &receipt.registration_expires_at {
            rows.push(registration_row(expiry));
        }
    }
    if let Some(settings) = &settings {
        if options.offline {
            rows.extend(throttle_row(settings));
        } else {
            rows.extend(network_rows(
                env,
                settings,
                receipt.as_ref().map(|r| r.hook_binary.as_path()),
            ));
        }
    }
    rows.extend(crate::state::local_records::doctor_rows(
        env,
        settings.as_ref(),
        options.offline,
    ));
    rows
}

fn hooks_rows(
    paths: &CodexPaths,
    receipt: Option<&Receipt>,
    rows: &mut Vec<Row>,
) -> Option<String> {
    let bytes = match fsio::read_optional(&paths.hooks_json) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            rows.push(fail(
                "hooks.json",
                format!("{} is missing", paths.hooks_json.display()),
                "axonflow-codex install",
            ));
            return None;
        }
        Err(error) => {
            rows.push(fail(
                "hooks.json",
                error.message,
                "fix the file's permissions",
            ));
            return None;
        }
    };
    let text = match hooks_json::check(&paths.hooks_json, Some(&bytes)) {
        Ok(text) => text,
        Err(error) => {
            rows.push(fail(
                "hooks.json",
                error.message,
                format!(
                    "fix {} (Codex ignores it as it is)",
                    paths.hooks_json.display()
                ),
            ));
            return None;
        }
    };
    let Some(receipt) = receipt else {
        return Some(text);
    };
    let groups = receipt.hooks_json.clone().unwrap_or_default().groups;
    for (event, command) in &groups {
        if hooks_json::find(&text, *event, command).is_none() {
            rows.push(fail(
                "hooks.json",
                format!("our {} group is missing", event.json_name()),
                "axonflow-codex install",
            ));
            return Some(text);
        }
    }
    if !is_executable(&receipt.hook_binary) {
        rows.push(fail(
            "hooks.json",
            format!(
                "the hook binary {} is missing or not executable",
                receipt.hook_binary.display()
            ),
            "axonflow-codex install",
        ));
        return Some(text);
    }
    let events: Vec<&str> = groups.iter().map(|(event, _)| event.json_name()).collect();
    rows.push(pass(
        "hooks.json",
        format!(
            "{} run {}",
            events.join(", "),
            receipt.hook_binary.display()
        ),
    ));
    Some(text)
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn trust_row(paths: &CodexPaths, receipt: &Receipt, hooks_text: &str, codex: Option<&Path>) -> Row {
    const NAME: &str = "hook trust";
    let config_text = match readable_config(paths, NAME) {
        Ok(text) => text,
        Err(row) => return row,
    };
    let trust_path = paths.hooks_json_trust_path();
    let mut expected = Vec::new();
    for (event, command) in receipt.hooks_json.clone().unwrap_or_default().groups {
        if let Some((index, hook)) = hooks_json::current_hook(hooks_text, event, &command) {
            expected.push((trust::key(&trust_path, &hook, index), trust::hash(&hook)));
        }
    }
    let fix = "axonflow-codex install (records trust for the hooks as they are now), or trust them in Codex with /hooks";
    if let Some(codex) = codex {
        return match trust::list_hooks_of(codex, &paths.home) {
            Ok(listed) => {
                match trust::first_not_run(&listed, &expected, |(key, _)| key) {
                    None => {}
                    Some(((key, _), Some(h))) => {
                        return fail(
                            NAME,
                            format!(
                                "Codex reports {key} as {} (Codex skips it silently)",
                                h.trust_status
                            ),
                            fix,
                        )
                    }
                    Some(((key, _), None)) => {
                        return fail(NAME, format!("Codex does not list {key}"), fix)
                    }
                }
                pass(
                    NAME,
                    format!(
                        "{} hooks trusted (codex app-server hooks/list)",
                        expected.len()
                    ),
                )
            }
            Err(error) => warn(
                NAME,
                format!("could not ask Codex: {error}"),
                "run `codex app-server` by hand to see why",
            ),
        };
    }
    for (key, hash) in &expected {
        match config_toml::trusted_hash(&config_text, key) {
            Some(recorded) if &recorded == hash => {}
            Some(_) => return fail(NAME, format!("{key} is recorded with another hash: Codex treats the hook as modified and skips it"), fix),
            None => return fail(NAME, format!("no trust recorded for {key}: Codex skips the hook silently"), fix),
        }
    }
    pass(
        NAME,
        format!(
            "{} hooks trusted (hash recomputed as Codex does)",
            expected.len()
        ),
    )
}

/// The UserPromptSubmit group: governed, present in hooks.json, and trusted with the hash
/// Codex computes for it (no matcher in the identity).
fn prompt_hook_row(paths: &CodexPaths, receipt: &Receipt, hooks_text: &str) -> Row {
    const NAME: &str = "prompt hook";
    let fix = "axonflow-codex install (records the group and its trust)";
    let groups = receipt.hooks_json.clone().unwrap_or_default().groups;
    let Some((_, command)) = groups
        .iter()
        .find(|(event, _)| *event == Event::UserPromptSubmit)
    else {
        return warn(
            NAME,
            "prompts are not governed: what the user types reaches the model unchecked",
            "axonflow-codex install --govern bash,apply-patch,mcp,prompts",
        );
    };
    let Some((index, hook)) =
        hooks_json::current_hook(hooks_text, Event::UserPromptSubmit, command)
    else {
        return fail(
            NAME,
            "our UserPromptSubmit group is missing from hooks.json",
            fix,
        );
    };
    let key = trust::key(&paths.hooks_json_trust_path(), &hook, index);
    let recorded_by_install = receipt
        .config_toml
        .as_ref()
        .is_some_and(|c| c.trust_keys.contains(&key));
    if !recorded_by_install {
        return warn(
            NAME,
            "present, trust not recorded by install: Codex skips it until you trust it",
            "trust it in Codex with /hooks, or axonflow-codex install",
        );
    }
    let config_text = fsio::read_optional(&paths.config_toml)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    match config_toml::trusted_hash(&config_text, &key) {
        Some(recorded) if recorded == trust::hash(&hook) => pass(
            NAME,
            "UserPromptSubmit present and trusted: prompts are checked before they reach the model",
        ),
        Some(_) => fail(
            NAME,
            format!("{key} is recorded with another hash: Codex skips the prompt check"),
            fix,
        ),
        None => fail(
            NAME,
            format!("no trust recorded for {key}: Codex skips the prompt check silently"),
            fix,
        ),
    }
}

/// What post-tool-use does with a redacted shell or MCP output.
fn output_mode_row(settings: &Settings) -> Row {
    const NAME: &str = "output mode";
    match settings.output_mode {
        OutputMode::Replace => pass(
            NAME,
            "replace: the model receives the redacted copy of a shell or MCP output, never the original",
        ),
        OutputMode::Alert => warn(
            NAME,
            "alert: PII in a shell or MCP output reaches the model (and its provider), with an alert beside it",
            "axonflow-codex install --output-mode replace",
        ),
    }
}

/// config.toml's text, or (for a file that cannot be read or parsed) a failing row naming
/// the file, line and cause: Codex cannot load it either.
fn readable_config(paths: &CodexPaths, row: &'static str) -> std::result::Result<String, Row> {
    fsio::read_optional(&paths.config_toml)
        .and_then(|bytes| config_toml::check(&paths.config_toml, bytes.as_deref()))
        .map_err(|error| {
            let fix = format!("fix {} by hand", paths.config_toml.display());
            fail(row, error.message, fix)
        })
}

/// `[features] hooks = false` (or the deprecated `codex_hooks`) makes Codex run no hooks at
/// all: a failure in the user's config.toml, a warning in the config of a trusted project that
/// contains the current directory (Codex reads `.codex/config.toml` from the working directory
/// up to the project root).
fn features_rows(paths: &CodexPaths) -> Vec<Row> {
    const NAME: &str = "codex features";
    let user_config = read_toml(&paths.config_toml);
    let mut rows = Vec::new();
    if let Some(key) = user_config.as_ref().and_then(hooks_switched_off) {
        rows.push(fail(
            NAME,
            format!(
                "{} sets [features] {key} = false: Codex runs no hooks, so nothing is governed",
                paths.config_toml.display()
            ),
            format!(
                "remove `{key} = false` from [features] in {}",
                paths.config_toml.display()
            ),
        ));
    }
    let Ok(cwd) = std::env::current_dir() else {
        return rows;
    };
    for dir in cwd.ancestors() {
        let project_config = dir.join(".codex").join("config.toml");
        // Under HOME, `~/.codex/config.toml` is the user's own config, not a project's.
        let is_user_config = project_config.canonicalize().ok()
            == paths.config_toml.canonicalize().ok()
            || dir.join(".codex").canonicalize().ok() == paths.home.canonicalize().ok();
        if !is_user_config {
            if let Some(key) = read_toml(&project_config)
                .as_ref()
                .and_then(hooks_switched_off)
            {
                if project_trusted(user_config.as_ref(), &cwd) {
                    rows.push(warn(
                        NAME,
                        format!(
                            "{} sets [features] {key} = false: in this project Codex runs no hooks, so nothing is governed",
                            project_config.display()
                        ),
                        format!("remove `{key} = false` from [features] in {}", project_config.display()),
                    ));
                }
            }
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    rows
}

fn read_toml(path: &Path) -> Option<toml_edit::DocumentMut> {
    let bytes = fsio::read_optional(path).ok()??;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

/// The key that switches hooks off, if one does.
fn hooks_switched_off(config: &toml_edit::DocumentMut) -> Option<&'static str> {
    let features = config.get("features")?;
    ["hooks", "codex_hooks"]
        .into_iter()
        .find(|key| features.get(key).and_then(toml_edit::Item::as_bool) == Some(false))
}

/// Whether the user trusts the project holding `cwd` (`[projects."<dir>"] trust_level =
/// "trusted"` for the project root or any directory above `cwd`).
fn project_trusted(user_config: Option<&toml_edit::DocumentMut>, cwd: &Path) -> bool {
    let Some(projects) = user_config.and_then(|c| c.get("projects")) else {
        return false;
    };
    cwd.ancestors().any(|candidate| {
        projects
            .get(candidate.to_string_lossy().as_ref())
            .and_then(|p| p.get("trust_level"))
            .and_then(toml_edit::Item::as_str)
            == Some("trusted")
    })
}

fn mcp_row(paths: &CodexPaths, receipt: &Receipt, settings: Option<&Settings>) -> Row {
    const NAME: &str = "mcp server";
    if !receipt.config_toml.as_ref().is_some_and(|c| c.mcp_server) {
        return pass(NAME, "not installed (--no-mcp)");
    }
    let config_text = match readable_config(paths, NAME) {
        Ok(text) => text,
        Err(row) => return row,
    };
    let expected_helper = crate::codex::paths::command_for(&receipt.hook_binary, "mcp-headers");
    match config_toml::mcp_entry(&config_text) {
        None => fail(
            NAME,
            "[mcp_servers.axonflow] is missing from config.toml",
            "axonflow-codex install",
        ),
        Some((_, helper)) if helper.as_deref() != Some(expected_helper.as_str()) => fail(
            NAME,
            format!("http_headers_helper is {helper:?}, not our mcp-headers"),
            "axonflow-codex install",
        ),
        Some((Some(url), _)) => {
            let url = axonflow_codex_hook::settings::without_userinfo(&url);
            match settings {
                Some(settings) if url != settings.mcp_url() => warn(
                    NAME,
                    format!("url {url} differs from the endpoint {}", settings.endpoint),
                    "axonflow-codex install (re-writes the url)",
                ),
                _ => pass(NAME, format!("axonflow -> {url}")),
            }
        }
        Some((None, _)) => fail(
            NAME,
            "[mcp_servers.axonflow] has no url",
            "axonflow-codex install",
        ),
    }
}

fn skills_row(receipt: &Receipt) -> Row {
    let present = receipt
        .skills
        .iter()
        .filter(|dir| dir.join("SKILL.md").is_file())
        .count();
    if present == receipt.skills.len() {
        pass("skills", format!("{present} installed"))
    } else {
        warn(
            "skills",
            format!("{present} of {} installed", receipt.skills.len()),
            "axonflow-codex install",
        )
    }
}

fn registration_row(expires_at: &str) -> Row {
    let now = state::now_epoch();
    match state::parse_rfc3339(expires_at) {
        Some(at) if at <= now => fail(
            "registration",
            format!("the Community SaaS registration expired {expires_at}"),
            "axonflow-codex install --community-saas",
        ),
        Some(at) if at - now < 30 * 86_400 => warn(
            "registration",
            format!("the Community SaaS registration expires {expires_at}"),
            "axonflow-codex install --community-saas (registers again)",
        ),
        _ => pass(
            "registration",
            format!("Community SaaS, expires {expires_at}"),
        ),
    }
}

fn settings_rows(env: &HostEnv, rows: &mut Vec<Row>) -> Option<Settings> {
    let settings = match Settings::resolve(env) {
        Ok(settings) => settings,
        Err(error) => {
            rows.push(fail("settings", error.to_string(), "fix the named variable or file (chmod 600 axonflow.toml; axonflow-codex install rewrites it)"));
            return None;
        }
    };
    let mut notes = Vec::new();
    // Codex hides the environment from http_headers_helper: a variable that differs from the
    // file means the hooks and the MCP server use different settings.
    for (key, source) in &settings.sources {
        if let Source::Env(var) = source {
            if settings.settings_file_exists {
                notes.push(format!("{var} overrides `{key}` for the hooks, but Codex's MCP helper only sees axonflow.toml"));
            }
        }
    }
    let detail = format!(
        "{} (endpoint {}, fail_mode {}{})",
        settings.settings_file.display(),
        settings.endpoint,
        settings.fail_mode.as_str(),
        if settings.auth.is_some() {
            ", credentials set"
        } else {
            ", no credentials"
        }
    );
    if !settings.settings_file_exists {
        rows.push(warn(
            "settings",
            format!(
                "{} does not exist; defaults apply",
                settings.settings_file.display()
            ),
            "axonflow-codex install",
        ));
    } else if notes.is_empty() {
        rows.push(pass("settings", detail));
    } else {
        rows.push(warn(
            "settings",
            format!("{detail}; {}", notes.join("; ")),
            "persist the value with axonflow-codex install, or unset the variable",
        ));
    }
    let user_token = tokens::resolve_user_token(env, &settings);
    for problem in &user_token.problems {
        rows.push(warn(
            "user token",
            problem
                .message()
                .trim_start_matches("[AxonFlow] ")
                .to_string(),
            "re-provision the token (user-token.json, mode 600)",
        ));
    }
    Some(settings)
}

/// The throttle as the hooks will see it on their next call.
fn current_throttle(settings: &Settings) -> Option<state::Throttle> {
    StateDir::new(settings.state_dir.clone()).honoured_throttle(state::now_epoch())
}

fn throttle_row(settings: &Settings) -> Option<Row> {
    let throttle = current_throttle(settings)?;
    let until = state::rfc3339(throttle.until);
    Some(if throttle.is_auth_failure() {
        fail(
            "throttle",
            format!("auth-failure cooldown until {until}: every governed tool call is blocked"),
            "fix the credentials; a passing credentials check clears it",
        )
    } else {
        warn(
            "throttle",
            format!(
                "tier limit `{}` until {until}: the hooks allow every tool call without asking the agent",
                throttle.reason
            ),
            "wait, or upgrade: https://getaxonflow.com/pricing/",
        )
    })
}

/// How far the probes got: what the rows after them can still check.
enum Reach {
    /// The agent accepted the credentials and answered.
    Answered,
    /// Why the later rows are not checked.
    Stopped(String),
}

/// The network rows, concurrently, each bounded.
fn network_rows(env: &HostEnv, settings: &Settings, hook_binary: Option<&Path>) -> Vec<Row> {
    let timeout = settings.timeout_for(Event::PreToolUse);
    let client = AgentClient::for_hooks(env, settings);
    let (mut rows, reach) = std::thread::scope(|scope| {
        let health = scope.spawn(|| health_rows(settings));
        let probes = scope.spawn(|| probe_rows(&client, settings, timeout));
        let mut rows = health.join().unwrap_or_default();
        let (probe_rows, reach) = probes
            .join()
            .unwrap_or_else(|_| (Vec::new(), Reach::Stopped("the probe failed".into())));
        rows.extend(probe_rows);
        (rows, reach)
    });
    // After the probes: an accepted credentials check has cleared the auth cooldown, so the
    // throttle and the hook are reported as the next tool call will meet them.
    let throttle = current_throttle(settings).filter(state::Throttle::allows_without_asking);
    if let Some(throttle) = &throttle {
        say_enforcement_is_throttled(&mut rows, throttle);
    }
    rows.extend(throttle_row(settings));
    if let Some(binary) = hook_binary {
        rows.push(match &reach {
            Reach::Answered => hook_row(binary, env, throttle.as_ref()),
            Reach::Stopped(reason) => skip("hook binary", reason),
        });
    }
    rows
}

/// The agent enforces, but a tier-limit throttle makes the hooks allow without asking it.
fn say_enforcement_is_throttled(rows: &mut [Row], throttle: &state::Throttle) {
    if let Some(row) = rows
        .iter_mut()
        .find(|r| r.name == "enforcement" && r.status == Status::Pass)
    {
        *row = warn(
            "enforcement",
            format!(
                "the agent blocks `{DANGEROUS_PROBE}`, but until {} (tier limit `{}`) the hooks allow every tool call without asking it",
                state::rfc3339(throttle.until),
                throttle.reason
            ),
            "wait for the limit to reset, or upgrade: https://getaxonflow.com/pricing/",
        );
    }
}

fn health_rows(settings: &Settings) -> Vec<Row> {
    let agent = agent::new_http_agent();
    let url = format!("{}/health", settings.endpoint);
    let response = agent
        .get(&url)
        .config()
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .header(
            "X-Axonflow-Client",
            axonflow_codex_hook::client_header_value(),
        )
        .call();
    let fix_reach = format!(
        "start the agent or fix `endpoint` (now {})",
        settings.endpoint
    );
    let mut response = match response {
        Ok(response) => response,
        Err(error) => {
            return vec![
                fail(
                    "agent health",
                    format!("cannot reach {url}: {error}"),
                    fix_reach,
                ),
                skip("plugin version", "the agent's health document was not read"),
            ]
        }
    };
    let status = response.status().as_u16();
    let body: Option<Value> = response
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_string()
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let Some(body) = body.filter(|_| status == 200) else {
        return vec![
            fail(
                "agent health",
                format!("{url} answered HTTP {status} without the agent's health document"),
                "check that the endpoint is an AxonFlow agent",
            ),
            skip("plugin version", "the agent's health document was not read"),
        ];
    };
    let version = body["version"].as_str().unwrap_or("unknown").to_string();
    let mut rows = Vec::new();
    match body["status"].as_str() {
        Some("healthy") => rows.push(pass(
            "agent health",
            format!(
                "{} {version} at {}",
                body["service"].as_str().unwrap_or("agent"),
                settings.endpoint
            ),
        )),
        Some("starting") => rows.push(warn(
            "agent health",
            format!("the agent {version} is still starting"),
            "wait a moment and run doctor again",
        )),
        other => rows.push(fail(
            "agent health",
            format!("the agent reports status {other:?}"),
            "check the agent's logs",
        )),
    }
    if body.get("plugin_compatibility").is_none() {
        rows.push(fail(
            "agent version",
            format!("agent {version} is too old: it has no governance MCP endpoint for Codex"),
            "upgrade the AxonFlow agent",
        ));
        return rows;
    }
    match body["plugin_compatibility"]["min_plugin_version"]["codex"].as_str() {
        Some(minimum) if crate::commands::update::version_below(crate::VERSION, minimum) => rows
            .push(fail(
                "plugin version",
                format!(
                    "the agent requires codex-plugin {minimum} or newer; this is {}",
                    crate::VERSION
                ),
                "axonflow-codex update",
            )),
        Some(minimum) => rows.push(pass(
            "plugin version",
            format!("{} meets the agent's minimum {minimum}", crate::VERSION),
        )),
        None => rows.push(pass(
            "plugin version",
            "the agent sets no minimum for codex",
        )),
    }
    rows
}

fn probe(client: &AgentClient, statement: &str, id: &str, timeout: u64) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = client.call_tool(
        id,
        "check_policy",
        json!({"connector_type": "codex.Bash", "statement": statement, "operation": "execute"}),
        timeout,
        agent::DEFAULT_BODY_LIMIT,
    );
    (reply, started.elapsed())
}

/// The rows a probe could not reach, each saying why.
fn stopped(mut rows: Vec<Row>, reason: &str) -> (Vec<Row>, Reach) {
    for name in [
        "harmless check",
        "latency",
        "enforcement",
        "output scanning",
    ] {
        if !rows.iter().any(|r| r.name == name) {
            rows.push(skip(name, reason));
        }
    }
    (rows, Reach::Stopped(reason.to_string()))
}

fn probe_rows(client: &AgentClient, settings: &Settings, timeout: u64) -> (Vec<Row>, Reach) {
    let mut rows = Vec::new();
    let (reply, elapsed) = probe(client, HARMLESS_PROBE, "doctor-harmless", timeout);
    let fix_reach = format!(
        "start the agent or fix `endpoint` (now {})",
        settings.endpoint
    );
    let http = match reply {
        Reply::Transport(failure) => {
            rows.push(fail(
                "credentials",
                format!("no answer from {}: {failure}", settings.mcp_url()),
                fix_reach,
            ));
            let reason = match settings.fail_mode {
                FailMode::Open => "the agent cannot be reached, so with fail_mode open the hooks allow every tool call unchecked",
                FailMode::Closed => "the agent cannot be reached, so with fail_mode closed the hooks block every governed tool call",
            };
            return stopped(rows, reason);
        }
        Reply::Http(http) => http,
    };
    match http.status {
        401 => {
            rows.push(fail("credentials", "the agent rejected the credentials (HTTP 401)", "axonflow-codex install --client-id ID --client-secret SECRET (or fix AXONFLOW_AUTH / the user token)"));
            return stopped(
                rows,
                "the agent rejected the credentials, so the hooks block every governed tool call",
            );
        }
        404 => {
            rows.push(fail(
                "credentials",
                format!(
                    "{} answered 404: agent too old, or not an AxonFlow agent",
                    settings.mcp_url()
                ),
                "upgrade the AxonFlow agent, or fix `endpoint`",
            ));
            return stopped(rows, "the endpoint is not a governance endpoint");
        }
        _ => {}
    }
    let body = http.json();
    let result = body.as_ref().and_then(agent::tool_result);
    if let Some(error) = body.as_ref().and_then(agent::rpc_error) {
        rows.push(fail(
            "credentials",
            format!(
                "the agent answered the probe with an error: {} (code {:?})",
                error.message, error.code
            ),
            "check the agent's configuration",
        ));
        return stopped(rows, "the agent answered with an error");
    }
    rows.push(pass(
        "credentials",
        format!("accepted (HTTP {})", http.status),
    ));
    StateDir::new(settings.state_dir.clone()).clear_auth_failure(state::now_epoch());
    match result.as_ref().and_then(|r| r.get("allowed")) {
        Some(Value::Bool(true)) => rows.push(pass(
            "harmless check",
            format!("`{HARMLESS_PROBE}` allowed"),
        )),
        Some(Value::Bool(false)) => rows.push(warn(
            "harmless check",
            format!(
                "`{HARMLESS_PROBE}` was blocked: {}",
                result
                    .as_ref()
                    .and_then(|r| r.get("block_reason"))
                    .and_then(Value::as_str)
                    .unwrap_or("no reason")
            ),
            "review the agent's policies: ordinary commands will be blocked",
        )),
        _ => {
            rows.push(fail("harmless check", "the answer held no policy decision: the endpoint does not enforce anything (every tool call would be allowed)", "point `endpoint` at an AxonFlow agent"));
            return stopped(rows, "the agent gave no policy decision");
        }
    }
    if elapsed > SLOW_ROUND_TRIP {
        rows.push(warn(
            "latency",
            format!("{} ms per check", elapsed.as_millis()),
            "every tool call waits this long; use a closer agent",
        ));
    } else {
        rows.push(pass(
            "latency",
            format!("{} ms per check", elapsed.as_millis()),
        ));
    }
    let (reply, _) = probe(client, DANGEROUS_PROBE, "doctor-dangerous", timeout);
    let decision = match reply {
        Reply::Http(http) => http.json().as_ref().and_then(agent::tool_result),
        Reply::Transport(_) => None,
    };
    match decision.as_ref().and_then(|r| r.get("allowed")) {
        Some(Value::Bool(false)) => rows.push(pass(
            "enforcement",
            format!("`{DANGEROUS_PROBE}` blocked ({})", decision.as_ref().and_then(|r| r.get("block_reason")).and_then(Value::as_str).unwrap_or("no reason")),
        )),
        Some(Value::Bool(true)) => rows.push(fail("enforcement", format!("the agent allowed `{DANGEROUS_PROBE}`: its SQL-injection policy is disabled or overridden"), "re-enable the built-in SQL injection policies on the agent")),
        _ => rows.push(fail("enforcement", "no decision for the dangerous probe", "check the agent")),
    }
    rows.push(output_scan_row(client, timeout));
    (rows, Reach::Answered)
}

/// Proves output scanning is live the way the enforcement row proves blocking: a synthetic
/// PII sample sent to check_output must come back redacted (or blocked).
fn output_scan_row(client: &AgentClient, timeout: u64) -> Row {
    const NAME: &str = "output scanning";
    let reply = client.call_tool(
        "doctor-pii",
        "check_output",
        json!({"connector_type": "codex.Bash", "message": PII_PROBE}),
        timeout,
        agent::DEFAULT_BODY_LIMIT,
    );
    let result = match reply {
        Reply::Http(http) => http.json().as_ref().and_then(agent::tool_result),
        Reply::Transport(failure) => {
            return fail(
                NAME,
                format!("no answer to check_output: {failure}"),
                "check the agent",
            )
        }
    };
    let Some(result) = result else {
        return fail(
            NAME,
            "no scan result for the PII sample",
            "check the agent (check_output)",
        );
    };
    match result.get("redacted_message") {
        Some(Value::String(redacted)) if !redacted.is_empty() && redacted != "null" => {
            if redacted.contains("123-45-6789") {
                return fail(NAME, "the \"redacted\" sample still holds the SSN", "check the agent's PII redaction policies");
            }
            pass(NAME, format!("PII sample redacted: `{redacted}`"))
        }
        _ if result.get("allowed") == Some(&Value::Bool(false)) => {
            pass(NAME, "PII sample blocked (not redacted): outputs with PII are withheld")
        }
        _ => fail(
            NAME,
            "the agent returned the PII sample unredacted: tool outputs and prompts reach the model unchanged",
            "enable the agent's PII detection (built-in redaction policies)",
        ),
    }
}

/// The installed hook answering a real PreToolUse payload, as Codex would run it.
///
/// Run with fail_mode closed, so that an allow is the agent's answer and never one fail-open
/// made up because the agent could not be reached.
fn hook_row(binary: &Path, env: &HostEnv, throttle: Option<&state::Throttle>) -> Row {
    const NAME: &str = "hook binary";
    let payload = json!({"hook_event_name": Event::PreToolUse.json_name(), "tool_name": "Bash", "tool_input": {"command": HARMLESS_PROBE}}).to_string();
    let child = Command::new(binary)
        .arg(Event::PreToolUse.subcommand())
        .env_clear()
        .envs(env_pairs(env))
        .env("AXONFLOW_FAIL_MODE", "closed")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            return fail(
                NAME,
                format!("cannot run {}: {error}", binary.display()),
                "axonflow-codex install",
            )
        }
    };
    use std::io::Write as _;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload.as_bytes());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return fail(
                    NAME,
                    "the hook did not finish in 30 s",
                    "axonflow-codex install",
                );
            }
        }
    }
    let Ok(output) = child.wait_with_output() else {
        return fail(
            NAME,
            "the hook's output could not be read",
            "axonflow-codex install",
        );
    };
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    match output.status.code() {
        Some(0) if throttle.is_some() => warn(
            NAME,
            format!(
                "{} pre-tool-use allowed `{HARMLESS_PROBE}` without asking the agent: a tier-limit throttle is active until {}",
                binary.display(),
                throttle.map(|t| state::rfc3339(t.until)).unwrap_or_default()
            ),
            "wait for the limit to reset, or upgrade: https://getaxonflow.com/pricing/",
        ),
        Some(0) => pass(
            NAME,
            format!(
                "{} pre-tool-use asked the agent, which allowed `{HARMLESS_PROBE}`",
                binary.display()
            ),
        ),
        Some(2) if stderr.contains("could not be reached") => fail(
            NAME,
            format!("the hook could not reach the agent ({stderr}); with fail_mode open it would have allowed the call unchecked"),
            "check that the hook sees the same settings as doctor (axonflow.toml beside it, AXONFLOW_* variables)",
        ),
        Some(2) => fail(
            NAME,
            format!("the hook blocked a harmless command: {stderr}"),
            "follow the reason above",
        ),
        code => fail(
            NAME,
            format!("the hook exited {code:?}: {stderr}"),
            "axonflow-codex install",
        ),
    }
}

fn env_pairs(env: &HostEnv) -> Vec<(String, String)> {
    [
        "HOME",
        "PATH",
        "CODEX_HOME",
        "XDG_CACHE_HOME",
        "AXONFLOW_ENDPOINT",
        "AXONFLOW_AUTH",
        "AXONFLOW_TIMEOUT_SECONDS",
        "AXONFLOW_LICENSE_TOKEN",
        "AXONFLOW_USER_TOKEN",
        "AXONFLOW_FAIL_MODE",
        "AXONFLOW_CODEX_CONFIG",
        "AXONFLOW_CONFIG_DIR",
    ]
    .iter()
    .filter_map(|k| env.var(k).map(|v| (k.to_string(), v.to_string())))
    .collect()
}
