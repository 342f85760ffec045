//! doctor's local rows: what is on this machine, read without the network.

use std::path::Path;

use axonflow_codex_hook::event::Event;
use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::settings::{OutputMode, Settings, Source};
use axonflow_codex_hook::state::{self, StateDir};
use axonflow_codex_hook::tokens;

use super::{fail, pass, warn, Row, Rows};
use crate::codex::codex_cli;
use crate::codex::hooks_json;
use crate::codex::paths::CodexPaths;
use crate::codex::trust;
use crate::edit::config_toml;
use crate::state::fsio;
use crate::state::receipt::Receipt;

/// What the local rows found that the later rows need.
pub(super) struct Found {
    pub settings: Option<Settings>,
    pub receipt: Option<Receipt>,
}

/// The local rows, in order; `None` when there is no Codex home to check.
pub(super) fn rows(env: &HostEnv, rows: &mut Rows) -> Option<Found> {
    let paths = home_row(env, rows)?;
    let codex = codex_cli::find(env);
    rows.push(codex_row(codex.as_deref()));
    let receipt = receipt_row(&paths, rows);
    let hooks_text = hooks_rows(&paths, receipt.as_ref(), rows);
    if let (Some(receipt), Some(hooks_text)) = (&receipt, &hooks_text) {
        rows.push(trust_row(&paths, receipt, hooks_text, codex.as_deref()));
        rows.push(prompt_hook_row(&paths, receipt, hooks_text));
    }
    rows.extend(features_rows(&paths));
    let settings = settings_rows(env, rows);
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
    Some(Found { settings, receipt })
}

fn home_row(env: &HostEnv, rows: &mut Rows) -> Option<CodexPaths> {
    match CodexPaths::resolve(env, false) {
        Ok(paths) if paths.home.is_dir() => {
            rows.push(pass("codex home", paths.home.display().to_string()));
            Some(paths)
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
            None
        }
        Err(error) => {
            rows.push(fail(
                "codex home",
                error.message,
                "fix CODEX_HOME or unset it to use ~/.codex",
            ));
            None
        }
    }
}

fn codex_row(codex: Option<&Path>) -> Row {
    match codex.map(|c| (c, codex_cli::version(c))) {
        Some((path, Some(version))) => pass("codex", format!("{version} ({})", path.display())),
        Some((path, None)) => warn(
            "codex",
            format!("{} did not answer --version", path.display()),
            "reinstall Codex: npm install -g @openai/codex",
        ),
        None => warn(
            "codex",
            "no codex on PATH; trust is checked by recomputing Codex's hash",
            "install Codex: npm install -g @openai/codex",
        ),
    }
}

fn receipt_row(paths: &CodexPaths, rows: &mut Rows) -> Option<Receipt> {
    match Receipt::load(&paths.receipt) {
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
    }
}

fn hooks_rows(paths: &CodexPaths, receipt: Option<&Receipt>, rows: &mut Rows) -> Option<String> {
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

/// The `[features]` key in `config_toml` that switches Codex's hooks off, if one does.
///
/// Read a section at a time (a whole tree of a big file costs ~50 times its size), and not
/// parsed at all when the file never says `features`.
pub(crate) fn hooks_switched_off_in(config_toml: &Path) -> Option<&'static str> {
    let bytes = fsio::read_optional(config_toml).ok()??;
    let text = std::str::from_utf8(&bytes).ok()?;
    if !text.contains("features") {
        return None;
    }
    let Some(outline) = crate::edit::config_outline::Outline::of(text) else {
        return hooks_switched_off(&text.parse().ok()?);
    };
    let ends = outline.starts.iter().skip(1).copied().chain([text.len()]);
    outline.starts.iter().zip(ends).find_map(|(&start, end)| {
        let section: toml_edit::DocumentMut = text.get(start..end)?.parse().ok()?;
        hooks_switched_off(&section)
    })
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

fn settings_rows(env: &HostEnv, rows: &mut Rows) -> Option<Settings> {
    let settings = match Settings::resolve(env) {
        Ok(settings) => settings,
        Err(error) => {
            rows.push(fail("settings", error.to_string(), "fix the named variable or key (axonflow.toml must be chmod 600), or re-run axonflow-codex install with that setting's flag (--endpoint, --timeout, --fail-mode, --output-mode), which replaces a bad value in the file"));
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
pub(super) fn current_throttle(settings: &Settings) -> Option<state::Throttle> {
    StateDir::new(settings.state_dir.clone()).honoured_throttle(state::now_epoch())
}

pub(super) fn throttle_row(settings: &Settings) -> Option<Row> {
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
