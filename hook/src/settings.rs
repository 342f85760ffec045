//! Settings, resolved once from the environment, `axonflow.toml` and defaults into a typed
//! value that hooks, `mcp-headers` and the installer's `doctor` all use.
//!
//! Precedence: environment variable (non-empty) > settings file > default.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::codex_home;
use crate::event::Event;
use crate::vars;

use crate::host_env::{HostEnv, SettingsError};

/// The default agent endpoint: a self-hosted agent on this machine. There is deliberately no
/// silent Community-SaaS default (Decision a).
pub const DEFAULT_ENDPOINT: &str = "http://localhost:8080";
pub const DEFAULT_PRE_TOOL_USE_TIMEOUT_SECONDS: u64 = 8;
pub const DEFAULT_POST_TOOL_USE_TIMEOUT_SECONDS: u64 = 5;
pub const DEFAULT_AUTH_FAILURE_COOLDOWN_SECONDS: u64 = 300;
pub const SETTINGS_FILE_NAME: &str = "axonflow.toml";

/// A secret value: never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What an unreachable agent means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Allow the tool call (default).
    #[default]
    Open,
    /// Block the tool call.
    Closed,
}

impl FailMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailMode::Open => "open",
            FailMode::Closed => "closed",
        }
    }
}

/// What post-tool-use does with a shell or MCP output that the agent redacted or blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// The model receives the redacted copy (or a withheld notice) instead of the output
    /// (default).
    #[default]
    Replace,
    /// The model receives the output and a GOVERNANCE ALERT beside it (the first release line).
    Alert,
}

impl OutputMode {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputMode::Replace => "replace",
            OutputMode::Alert => "alert",
        }
    }
}

/// Where a setting's value came from, for `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Env(&'static str),
    File,
    Default,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Agent base URL, without trailing `/`.
    pub endpoint: String,
    /// `base64(client_id:client_secret)`, sent as `Authorization: Basic <auth>`.
    pub auth: Option<Secret>,
    /// Explicit request timeout; `None` means the per-hook default.
    pub timeout_seconds: Option<u64>,
    /// The configured license token, before the `AXON-` / expiry filtering of
    /// [`crate::tokens::license_token_to_send`].
    pub license_token: Option<Secret>,
    pub fail_mode: FailMode,
    pub output_mode: OutputMode,
    pub auth_failure_cooldown_seconds: u64,
    /// The settings file consulted (it may not exist).
    pub settings_file: PathBuf,
    pub settings_file_exists: bool,
    /// `${AXONFLOW_CONFIG_DIR:-~/.config/axonflow}`, home of `user-token.json`.
    pub config_dir: Option<PathBuf>,
    /// `${XDG_CACHE_HOME:-~/.cache}/axonflow`, home of the throttle and prompt stamps.
    pub state_dir: Option<PathBuf>,
    pub sources: BTreeMap<&'static str, Source>,
}

impl Settings {
    pub fn resolve(env: &HostEnv) -> Result<Settings, SettingsError> {
        // An installed hook reads the settings installed beside it (Codex gives
        // http_headers_helper no environment, and a system-wide install must not be shadowed
        // by a user's CODEX_HOME); otherwise the Codex home decides.
        let installed_home = env.current_exe().and_then(codex_home::installed_codex_home);
        let (settings_file, installed) = match (env.var(vars::CODEX_CONFIG), installed_home) {
            (Some(path), _) => (PathBuf::from(path), false),
            (None, Some(home)) => (home.join(SETTINGS_FILE_NAME), true),
            (None, None) => (codex_home::resolve(env)?.join(SETTINGS_FILE_NAME), false),
        };
        let file = SettingsFile::load(&settings_file, installed)?;
        let mut sources = BTreeMap::new();
        let mut pick = |key: &'static str, var: &'static str| -> Option<(String, Source)> {
            let picked = match env.var(var) {
                Some(value) => Some((value.to_string(), Source::Env(var))),
                None => file.get(key).map(|v| (v.to_string(), Source::File)),
            };
            let source = picked.as_ref().map_or(Source::Default, |(_, s)| s.clone());
            sources.insert(key, source);
            picked
        };

        let endpoint = match pick("endpoint", vars::ENDPOINT) {
            Some((value, source)) => {
                parse_endpoint(&value, &describe(&source, "endpoint", &settings_file))?
            }
            None => DEFAULT_ENDPOINT.to_string(),
        };
        let auth = match pick("auth", vars::AUTH) {
            Some((value, source)) => {
                check_auth(&value, &describe(&source, "auth", &settings_file))?;
                Some(Secret::new(value))
            }
            None => None,
        };
        let timeout_seconds = match pick("timeout_seconds", vars::TIMEOUT_SECONDS) {
            Some((value, source)) => Some(parse_timeout(
                &value,
                &describe(&source, "timeout_seconds", &settings_file),
            )?),
            None => None,
        };
        let license_token =
            pick("license_token", vars::LICENSE_TOKEN).map(|(value, _)| Secret::new(value));
        let fail_mode = match pick("fail_mode", vars::FAIL_MODE) {
            Some((value, source)) => {
                parse_fail_mode(&value, &describe(&source, "fail_mode", &settings_file))?
            }
            None => FailMode::Open,
        };
        let output_mode = match pick("output_mode", vars::OUTPUT_MODE) {
            Some((value, source)) => {
                parse_output_mode(&value, &describe(&source, "output_mode", &settings_file))?
            }
            None => OutputMode::default(),
        };
        let auth_failure_cooldown_seconds = env
            .var(vars::AUTH_FAILURE_COOLDOWN_SECONDS)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&v| v >= 1)
            .unwrap_or(DEFAULT_AUTH_FAILURE_COOLDOWN_SECONDS);

        let home = env.home_dir();
        let config_dir = env
            .var(vars::CONFIG_DIR)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".config").join("axonflow")));
        let state_dir = env
            .var(vars::XDG_CACHE_HOME)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".cache")))
            .map(|cache| cache.join("axonflow"));

        Ok(Settings {
            endpoint,
            auth,
            timeout_seconds,
            license_token,
            fail_mode,
            output_mode,
            auth_failure_cooldown_seconds,
            settings_file_exists: file.exists,
            settings_file,
            config_dir,
            state_dir,
            sources,
        })
    }

    /// Settings for an agent not yet saved in any file (install probes an endpoint before it
    /// writes it): that endpoint, everything else its default until the caller sets it.
    pub fn for_endpoint(endpoint: &str) -> Settings {
        Settings {
            endpoint: endpoint.to_string(),
            auth: None,
            timeout_seconds: None,
            license_token: None,
            fail_mode: FailMode::default(),
            output_mode: OutputMode::default(),
            auth_failure_cooldown_seconds: DEFAULT_AUTH_FAILURE_COOLDOWN_SECONDS,
            settings_file: PathBuf::new(),
            settings_file_exists: false,
            config_dir: None,
            state_dir: None,
            sources: BTreeMap::new(),
        }
    }

    /// The main request's timeout for a hook: the configured one or the hook's default.
    /// user-prompt-submit is checked like a tool call: pre-tool-use's default.
    pub fn timeout_for(&self, event: Event) -> u64 {
        self.timeout_seconds.unwrap_or(match event {
            Event::PreToolUse | Event::UserPromptSubmit => DEFAULT_PRE_TOOL_USE_TIMEOUT_SECONDS,
            Event::PostToolUse => DEFAULT_POST_TOOL_USE_TIMEOUT_SECONDS,
        })
    }

    /// `<endpoint>/api/v1/mcp-server`, where governance JSON-RPC requests go.
    pub fn mcp_url(&self) -> String {
        format!("{}/api/v1/mcp-server", self.endpoint)
    }
}

/// "the variable AXONFLOW_X" or "`key` in <file>", for error messages.
fn describe(source: &Source, key: &str, file: &Path) -> String {
    match source {
        Source::Env(var) => var.to_string(),
        _ => format!("`{key}` in {}", file.display()),
    }
}

/// An `http(s)://` URL without trailing `/`; `what` names the source in the error.
pub fn parse_endpoint(value: &str, what: &str) -> Result<String, SettingsError> {
    // Never echo the value: a user name and password would be printed with it.
    if userinfo_span(value).is_some() {
        return Err(SettingsError::new(format!(
            "{what} must not hold a user name or password (`user:password@host`): credentials go in `auth`, never in the URL"
        )));
    }
    let trimmed = value.trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(trimmed.to_string())
        }
        _ => Err(SettingsError::new(format!(
            "{what} must be an http:// or https:// URL"
        ))),
    }
}

/// The byte range of `userinfo@` in a URL's authority, if it has one.
fn userinfo_span(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://")? + 3;
    let authority_len = url[start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - start);
    let at = url[start..start + authority_len].rfind('@')?;
    Some(start..start + at + 1)
}

/// Whether a URL carries `user:password@` in its authority.
pub fn has_userinfo(url: &str) -> bool {
    userinfo_span(url).is_some()
}

/// The URL for display: any `user:password@` replaced, so a password never reaches output.
pub fn without_userinfo(url: &str) -> String {
    match userinfo_span(url) {
        Some(span) => format!("{}<redacted>@{}", &url[..span.start], &url[span.end..]),
        None => url.to_string(),
    }
}

/// Standard padded base64 of a UTF-8 `client_id:client_secret`.
pub fn check_auth(value: &str, what: &str) -> Result<(), SettingsError> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match decoded {
        Some(pair) if pair.contains(':') => Ok(()),
        _ => Err(SettingsError::new(format!(
            "{what} must be the standard base64 encoding of \"client_id:client_secret\""
        ))),
    }
}

/// A positive whole number of seconds.
pub fn parse_timeout(value: &str, what: &str) -> Result<u64, SettingsError> {
    match value.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(u64::from(n)),
        _ => Err(SettingsError::new(format!(
            "{what} must be a positive whole number of seconds"
        ))),
    }
}

/// `open` or `closed`.
pub fn parse_fail_mode(value: &str, what: &str) -> Result<FailMode, SettingsError> {
    match value {
        "open" => Ok(FailMode::Open),
        "closed" => Ok(FailMode::Closed),
        _ => Err(SettingsError::new(format!(
            "{what} must be \"open\" or \"closed\""
        ))),
    }
}

/// `replace` or `alert`.
pub fn parse_output_mode(value: &str, what: &str) -> Result<OutputMode, SettingsError> {
    match value {
        "replace" => Ok(OutputMode::Replace),
        "alert" => Ok(OutputMode::Alert),
        _ => Err(SettingsError::new(format!(
            "{what} must be \"replace\" or \"alert\""
        ))),
    }
}

/// The top-level `key = value` pairs of `axonflow.toml`, as text. Unknown keys (the bash
/// plugin's recovery flow wrote `tenant_id`, `secret`, `email`) are ignored.
struct SettingsFile {
    exists: bool,
    values: BTreeMap<String, String>,
}

const KNOWN_KEYS: [&str; 6] = [
    "endpoint",
    "auth",
    "timeout_seconds",
    "license_token",
    "fail_mode",
    "output_mode",
];
/// The keys of `axonflow.toml` that hold secrets: never shown, and the file must be private.
pub const SECRET_KEYS: [&str; 2] = ["auth", "license_token"];

impl SettingsFile {
    /// `installed`: the file sits beside an installed hook binary, where a system-wide
    /// install may share it (see [`check_private`]).
    fn load(path: &Path, installed: bool) -> Result<SettingsFile, SettingsError> {
        let file = match crate::files::read_small_file(path, crate::files::SETTINGS_FILE_LIMIT) {
            Ok(file) => file,
            Err(crate::files::ReadFailure::Missing) => {
                return Ok(SettingsFile {
                    exists: false,
                    values: BTreeMap::new(),
                })
            }
            Err(failure) => {
                return Err(SettingsError::new(format!(
                    "{} {}",
                    path.display(),
                    failure.cause()
                )))
            }
        };
        let metadata = file.metadata;
        let bytes = file.bytes;
        let text = String::from_utf8(bytes)
            .map_err(|_| SettingsError::new(format!("{} is not valid UTF-8", path.display())))?;
        let (document, values) = parse_settings_text(path, &text)?;
        let holds_secret = SECRET_KEYS.iter().any(|key| document.contains_key(key));
        check_private(path, &metadata, installed, holds_secret)?;
        Ok(SettingsFile {
            exists: true,
            values,
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }
}

/// The values of an `axonflow.toml` already read, checked as the hooks check them (TOML, and
/// each known key's type), as text. The installer reads the file it is about to rewrite through
/// this, so that it accepts exactly what the hooks accept.
pub fn settings_file_values(
    path: &Path,
    text: &str,
) -> Result<BTreeMap<String, String>, SettingsError> {
    parse_settings_text(path, text).map(|(_, values)| values)
}

fn parse_settings_text(
    path: &Path,
    text: &str,
) -> Result<(toml_edit::DocumentMut, BTreeMap<String, String>), SettingsError> {
    let document: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        SettingsError::new(crate::text::toml_error(path, text, &e))
    })?;
    let mut values = BTreeMap::new();
    for key in KNOWN_KEYS {
        let Some(item) = document.get(key) else {
            continue;
        };
        let value = match item.as_value() {
            Some(toml_edit::Value::String(s)) => s.value().clone(),
            Some(toml_edit::Value::Integer(i)) if key == "timeout_seconds" => i.value().to_string(),
            _ => {
                return Err(SettingsError::new(format!(
                    "`{key}` in {} must be a {}",
                    path.display(),
                    if key == "timeout_seconds" {
                        "whole number"
                    } else {
                        "string"
                    }
                )))
            }
        };
        if !value.is_empty() {
            values.insert(key.to_string(), value);
        }
    }
    Ok((document, values))
}

/// The settings file may hold credentials: refused when group or others may write it, or
/// read it. One exception keeps a system-wide install (`install --scope system`) usable by
/// every user: the file installed beside a root-owned hook location may be readable by all
/// when it is owned by root and holds no secret (`auth`, `license_token`).
#[cfg(unix)]
fn check_private(
    path: &Path,
    metadata: &std::fs::Metadata,
    installed: bool,
    holds_secret: bool,
) -> Result<(), SettingsError> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let mode = metadata.permissions().mode() & 0o777;
    let shared_system_file = installed && !holds_secret && metadata.uid() == 0;
    if mode & 0o022 != 0 || (mode & 0o044 != 0 && !shared_system_file) {
        return Err(SettingsError::new(format!(
            "{} is accessible by group or others (mode {mode:o}); run chmod 600 on it",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(
    _path: &Path,
    _metadata: &std::fs::Metadata,
    _installed: bool,
    _holds_secret: bool,
) -> Result<(), SettingsError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_validation() {
        assert_eq!(
            parse_endpoint("https://a.example/", "x").unwrap(),
            "https://a.example"
        );
        assert_eq!(parse_endpoint("HTTP://h:1//", "x").unwrap(), "HTTP://h:1");
        assert!(parse_endpoint("ftp://h", "x").is_err());
        assert!(parse_endpoint("http://", "x").is_err());
        assert!(parse_endpoint("http://a b", "x").is_err());
        let error = parse_endpoint("http://id:PASS@h:8080/x", "x").unwrap_err();
        assert!(!error.to_string().contains("PASS"), "{error}");
        assert!(parse_endpoint("http://h:8080/a@b", "x").is_ok());
        assert_eq!(
            without_userinfo("https://u:p@h/x@y"),
            "https://<redacted>@h/x@y"
        );
    }

    #[test]
    fn auth_must_be_padded_base64_of_a_pair() {
        assert!(check_auth("aWQ6c2VjcmV0", "x").is_ok()); // id:secret
        assert!(check_auth("aWQ6c2VjcmV", "x").is_err());
        assert!(check_auth("aWRzZWNyZXQ=", "x").is_err()); // idsecret, no colon
        let err = check_auth("not base64!", "AXONFLOW_AUTH").unwrap_err();
        assert!(!err.to_string().contains("not base64!"));
    }

    #[test]
    fn timeout_must_be_positive() {
        assert_eq!(parse_timeout("8", "x").unwrap(), 8);
        assert!(parse_timeout("0", "x").is_err());
        assert!(parse_timeout("-1", "x").is_err());
        assert!(parse_timeout("1.5", "x").is_err());
    }
}
