//! What install writes to axonflow.toml, resolved from flags > `AXONFLOW_*` variables > the
//! existing axonflow.toml > defaults, each value with where it came from.
//!
//! Resolution is pure: no question, no network. The questions for what is still open
//! (`questions.rs`) and the Community SaaS registration (`agent.rs`) are later steps that change
//! a value and its source. The settings file is read through the hooks' own parser, and each
//! value is checked by the hooks' own checks, so install accepts exactly what the hooks accept.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use axonflow_codex_hook::host_env::{HostEnv, SettingsError};
use axonflow_codex_hook::settings::{self as hook_settings, FailMode, OutputMode, Secret};
use axonflow_codex_hook::vars;

use super::InstallOptions;
use crate::agent::registration;
use crate::codex::paths::Scope;
use crate::error::{CommandError, Result};

/// Where a value came from: the hook's `Source`, plus what only install has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Flag(&'static str),
    Env(&'static str),
    /// The existing axonflow.toml.
    File,
    Default,
    /// Answered at a prompt.
    Answer,
    /// Handed out by the Community SaaS registration.
    Registration,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => f.write_str(flag),
            Source::Env(var) => f.write_str(var),
            Source::File => f.write_str(hook_settings::SETTINGS_FILE_NAME),
            Source::Default => f.write_str("default"),
            Source::Answer => f.write_str("answered"),
            Source::Registration => f.write_str("Community SaaS registration"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setting<T> {
    pub(crate) value: T,
    pub(crate) source: Source,
}

impl<T> Setting<T> {
    fn new(value: T, source: Source) -> Self {
        Setting { value, source }
    }

    /// Whether a question may still set it: no flag or variable chose it.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.source, Source::File | Source::Default)
    }

    pub(crate) fn set(&mut self, value: T, source: Source) {
        self.value = value;
        self.source = source;
    }
}

/// Which agent the hooks talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Agent {
    /// An agent URL, checked as the hooks check it.
    Url(String),
    /// AxonFlow Community SaaS, not registered yet (registration turns it into a URL).
    CommunitySaas,
}

/// `--fail-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailModeFlag {
    /// Allow the tool call
    Open,
    /// Block the tool call
    Closed,
}

impl From<FailModeFlag> for FailMode {
    fn from(flag: FailModeFlag) -> Self {
        match flag {
            FailModeFlag::Open => FailMode::Open,
            FailModeFlag::Closed => FailMode::Closed,
        }
    }
}

/// `--output-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputModeFlag {
    /// The model receives the redacted copy
    Replace,
    /// The model receives the output and an alert
    Alert,
}

impl From<OutputModeFlag> for OutputMode {
    fn from(flag: OutputModeFlag) -> Self {
        match flag {
            OutputModeFlag::Replace => OutputMode::Replace,
            OutputModeFlag::Alert => OutputMode::Alert,
        }
    }
}

/// `--timeout`: the hooks' own check, so a value install takes is one the hooks take.
pub(crate) fn parse_timeout_flag(value: &str) -> std::result::Result<u64, String> {
    hook_settings::parse_timeout(value, "the timeout").map_err(|e| e.to_string())
}

/// The existing axonflow.toml's values, as the hooks read them.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExistingSettings {
    path: PathBuf,
    values: BTreeMap<String, String>,
}

impl ExistingSettings {
    /// `text`: the file's content, `None` when there is none.
    pub(crate) fn parse(path: &Path, text: Option<&str>) -> Result<Self> {
        let values = match text {
            Some(text) => hook_settings::settings_file_values(path, text)?,
            None => BTreeMap::new(),
        };
        Ok(ExistingSettings {
            path: path.to_path_buf(),
            values,
        })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A value the hooks would refuse: refused here too, naming the key as the hooks do.
    fn refused(&self, key: &str, flag: &str, error: SettingsError) -> CommandError {
        CommandError::failure(error.to_string()).hint(format!(
            "correct `{key}` in {}, or give {flag} to replace it",
            self.path.display()
        ))
    }
}

/// Everything install writes to axonflow.toml.
#[derive(Debug, Clone)]
pub(crate) struct InstallSettings {
    pub(crate) agent: Setting<Agent>,
    /// `base64(client_id:client_secret)`.
    pub(crate) auth: Setting<Option<Secret>>,
    /// `None`: each hook keeps its own default (8 s before a tool, 5 s after).
    pub(crate) timeout: Setting<Option<u64>>,
    pub(crate) fail_mode: Setting<FailMode>,
    pub(crate) output_mode: Setting<OutputMode>,
    pub(crate) license_token: Setting<Option<Secret>>,
}

impl InstallSettings {
    /// Flags > environment > the existing settings file > defaults. A system install keeps
    /// no secret (its settings are readable by every user).
    pub(crate) fn resolve(
        options: &InstallOptions,
        env: &HostEnv,
        existing: &ExistingSettings,
    ) -> Result<InstallSettings> {
        let lookup = Lookup { env, existing };
        let mut settings = InstallSettings {
            agent: resolve_agent(options, &lookup)?,
            auth: resolve_auth(options, &lookup)?,
            timeout: lookup.pick(
                options
                    .timeout
                    .map(|t| Setting::new(Some(t), Source::Flag("--timeout"))),
                Key::TIMEOUT,
                |value, what| hook_settings::parse_timeout(value, what).map(Some),
                None,
            )?,
            fail_mode: lookup.pick(
                options
                    .fail_mode
                    .map(|m| Setting::new(m.into(), Source::Flag("--fail-mode"))),
                Key::FAIL_MODE,
                hook_settings::parse_fail_mode,
                FailMode::default(),
            )?,
            output_mode: lookup.pick(
                options
                    .output_mode
                    .map(|m| Setting::new(m.into(), Source::Flag("--output-mode"))),
                Key::OUTPUT_MODE,
                hook_settings::parse_output_mode,
                OutputMode::default(),
            )?,
            license_token: lookup.pick(
                None,
                Key::LICENSE_TOKEN,
                |value, _| Ok(Some(Secret::new(value))),
                None,
            )?,
        };
        if options.scope == Scope::System {
            settings.auth = Setting::new(None, Source::Default);
            settings.license_token = Setting::new(None, Source::Default);
        }
        Ok(settings)
    }

    /// The agent URL the hooks will use (Community SaaS before registering: its address).
    pub(crate) fn endpoint(&self) -> &str {
        match &self.agent.value {
            Agent::Url(url) => url,
            Agent::CommunitySaas => registration::SAAS_ENDPOINT,
        }
    }

    pub(crate) fn auth(&self) -> Option<&str> {
        self.auth.value.as_ref().map(Secret::expose)
    }

    pub(crate) fn license_token(&self) -> Option<&str> {
        self.license_token.value.as_ref().map(Secret::expose)
    }

    /// One line per value with its source, for people; secrets are never shown.
    pub(crate) fn describe(&self) -> String {
        let timeout = match self.timeout.value {
            Some(seconds) => format!("{seconds} s"),
            None => "per hook: 8 s before a tool, 5 s after".to_string(),
        };
        let secret = |value: &Option<Secret>| if value.is_some() { "set" } else { "none" };
        let rows = [
            ("endpoint", self.endpoint().to_string(), self.agent.source),
            ("auth", secret(&self.auth.value).into(), self.auth.source),
            ("timeout", timeout, self.timeout.source),
            (
                "fail_mode",
                self.fail_mode.value.as_str().into(),
                self.fail_mode.source,
            ),
            (
                "output_mode",
                self.output_mode.value.as_str().into(),
                self.output_mode.source,
            ),
            (
                "license_token",
                secret(&self.license_token.value).into(),
                self.license_token.source,
            ),
        ];
        rows.iter()
            .map(|(key, value, source)| match source {
                Source::Default => format!("  {key:<13} {value}  (default)\n"),
                _ => format!("  {key:<13} {value}  (from {source})\n"),
            })
            .collect()
    }
}

/// A setting's key in axonflow.toml and its variable.
struct Key {
    file: &'static str,
    var: &'static str,
    /// The flag that replaces a refused file value.
    flag: &'static str,
}

impl Key {
    const ENDPOINT: Key = Key {
        file: "endpoint",
        var: vars::ENDPOINT,
        flag: "--endpoint",
    };
    const AUTH: Key = Key {
        file: "auth",
        var: vars::AUTH,
        flag: "--auth",
    };
    const TIMEOUT: Key = Key {
        file: "timeout_seconds",
        var: vars::TIMEOUT_SECONDS,
        flag: "--timeout",
    };
    const FAIL_MODE: Key = Key {
        file: "fail_mode",
        var: vars::FAIL_MODE,
        flag: "--fail-mode",
    };
    const OUTPUT_MODE: Key = Key {
        file: "output_mode",
        var: vars::OUTPUT_MODE,
        flag: "--output-mode",
    };
    const LICENSE_TOKEN: Key = Key {
        file: "license_token",
        var: vars::LICENSE_TOKEN,
        flag: vars::LICENSE_TOKEN,
    };
}

/// The sources below the flags.
struct Lookup<'a> {
    env: &'a HostEnv,
    existing: &'a ExistingSettings,
}

impl Lookup<'_> {
    /// The flag's value, else the variable's, else the file's, else `default`. A variable the
    /// hooks would refuse is a usage error; a file value they would refuse, a failure.
    fn pick<T>(
        &self,
        flag: Option<Setting<T>>,
        key: Key,
        parse: impl Fn(&str, &str) -> std::result::Result<T, SettingsError>,
        default: T,
    ) -> Result<Setting<T>> {
        if let Some(flag) = flag {
            return Ok(flag);
        }
        if let Some(value) = self.env.var(key.var) {
            let value = parse(value, key.var).map_err(|e| CommandError::usage(e.to_string()))?;
            return Ok(Setting::new(value, Source::Env(key.var)));
        }
        if let Some(value) = self.existing.get(key.file) {
            let what = format!("`{}` in {}", key.file, self.existing.path.display());
            let value =
                parse(value, &what).map_err(|e| self.existing.refused(key.file, key.flag, e))?;
            return Ok(Setting::new(value, Source::File));
        }
        Ok(Setting::new(default, Source::Default))
    }
}

fn resolve_agent(options: &InstallOptions, lookup: &Lookup<'_>) -> Result<Setting<Agent>> {
    let flag = if options.community_saas {
        Some(Setting::new(
            Agent::CommunitySaas,
            Source::Flag("--community-saas"),
        ))
    } else {
        match &options.endpoint {
            Some(url) => Some(Setting::new(
                Agent::Url(endpoint_answer(url, "--endpoint")?),
                Source::Flag("--endpoint"),
            )),
            None => None,
        }
    };
    // A variable is an answer like a flag (with the same hint); the file is checked as the
    // hooks check it.
    let flag = match (flag, lookup.env.var(Key::ENDPOINT.var)) {
        (None, Some(url)) => Some(Setting::new(
            Agent::Url(endpoint_answer(url, Key::ENDPOINT.var)?),
            Source::Env(Key::ENDPOINT.var),
        )),
        (flag, _) => flag,
    };
    lookup.pick(
        flag,
        Key::ENDPOINT,
        |value, what| hook_settings::parse_endpoint(value, what).map(Agent::Url),
        Agent::Url(hook_settings::DEFAULT_ENDPOINT.to_string()),
    )
}

fn resolve_auth(options: &InstallOptions, lookup: &Lookup<'_>) -> Result<Setting<Option<Secret>>> {
    let flag = if let Some(auth) = &options.auth {
        hook_settings::check_auth(auth, "--auth")
            .map_err(|e| CommandError::usage(e.to_string()))?;
        Some(Setting::new(
            Some(Secret::new(auth.as_str())),
            Source::Flag("--auth"),
        ))
    } else if let (Some(id), Some(secret)) = (&options.client_id, &options.client_secret) {
        Some(Setting::new(
            Some(encode_pair(id, secret)?),
            Source::Flag("--client-id"),
        ))
    } else {
        None
    };
    lookup.pick(
        flag,
        Key::AUTH,
        |value, what| hook_settings::check_auth(value, what).map(|()| Some(Secret::new(value))),
        None,
    )
}

/// An endpoint given as an answer (flag, variable, prompt), checked as the hooks check it.
pub(crate) fn endpoint_answer(url: &str, what: &str) -> Result<String> {
    hook_settings::parse_endpoint(url, what).map_err(|e| {
        let error = CommandError::usage(e.to_string());
        if hook_settings::has_userinfo(url) {
            error.hint("give the agent's credentials with --client-id ID --client-secret SECRET (or --auth); they are stored in axonflow.toml (0600), never in config.toml")
        } else {
            error
        }
    })
}

/// `base64(id:secret)`, after the checks a client id and secret must pass.
pub(crate) fn encode_pair(id: &str, secret: &str) -> Result<Secret> {
    if id.is_empty() || id.contains(':') || secret.is_empty() {
        return Err(CommandError::usage(
            "--client-id must be non-empty without ':' and --client-secret non-empty",
        ));
    }
    use base64::Engine as _;
    Ok(Secret::new(
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(text: &str) -> ExistingSettings {
        ExistingSettings::parse(Path::new("/x/axonflow.toml"), Some(text)).unwrap()
    }

    fn resolve(
        options: &InstallOptions,
        vars: &[(&str, &str)],
        file: &str,
    ) -> Result<InstallSettings> {
        let env = HostEnv::from_vars(vars.iter().copied());
        InstallSettings::resolve(options, &env, &existing(file))
    }

    #[test]
    fn flags_beat_variables_beat_the_file_beat_defaults() {
        let file = "endpoint = \"http://file:1\"\nfail_mode = \"closed\"\ntimeout_seconds = 12\n";
        let vars = [
            ("AXONFLOW_ENDPOINT", "http://env:2"),
            ("AXONFLOW_TIMEOUT_SECONDS", "9"),
        ];
        let options = InstallOptions {
            endpoint: Some("http://flag:3".into()),
            ..Default::default()
        };
        let settings = resolve(&options, &vars, file).unwrap();
        assert_eq!(
            settings.agent,
            Setting::new(
                Agent::Url("http://flag:3".into()),
                Source::Flag("--endpoint")
            )
        );
        assert_eq!(
            settings.timeout,
            Setting::new(Some(9), Source::Env("AXONFLOW_TIMEOUT_SECONDS"))
        );
        assert_eq!(
            settings.fail_mode,
            Setting::new(FailMode::Closed, Source::File)
        );
        assert_eq!(
            settings.output_mode,
            Setting::new(OutputMode::Replace, Source::Default)
        );
        assert!(!settings.agent.is_open() && settings.fail_mode.is_open());

        let settings = resolve(&InstallOptions::default(), &vars, file).unwrap();
        assert_eq!(settings.agent.source, Source::Env("AXONFLOW_ENDPOINT"));
        let settings = resolve(&InstallOptions::default(), &[], file).unwrap();
        assert_eq!(
            settings.agent,
            Setting::new(Agent::Url("http://file:1".into()), Source::File)
        );
        assert_eq!(settings.timeout, Setting::new(Some(12), Source::File));
    }

    #[test]
    fn a_file_value_the_hooks_refuse_is_refused_unless_something_replaces_it() {
        let error = resolve(&InstallOptions::default(), &[], "timeout_seconds = 0\n").unwrap_err();
        assert_eq!(
            error.message,
            "`timeout_seconds` in /x/axonflow.toml must be a positive whole number of seconds"
        );
        let options = InstallOptions {
            timeout: Some(4),
            ..Default::default()
        };
        assert_eq!(
            resolve(&options, &[], "timeout_seconds = 0\n")
                .unwrap()
                .timeout
                .value,
            Some(4)
        );
        let parsed =
            ExistingSettings::parse(Path::new("/x/axonflow.toml"), Some("fail_mode = 1\n"));
        assert!(parsed.unwrap_err().message.contains("must be a string"));
    }

    #[test]
    fn a_system_install_keeps_no_secret_and_nothing_shows_one() {
        let file = "auth = \"aWQ6c2VjcmV0\"\nlicense_token = \"AXON-x\"\n";
        let settings = resolve(&InstallOptions::default(), &[], file).unwrap();
        assert_eq!(settings.auth(), Some("aWQ6c2VjcmV0"));
        assert!(
            !settings.describe().contains("aWQ6c2VjcmV0")
                && !settings.describe().contains("AXON-x")
        );
        let options = InstallOptions {
            scope: Scope::System,
            ..Default::default()
        };
        let settings = resolve(&options, &[], file).unwrap();
        assert_eq!((settings.auth(), settings.license_token()), (None, None));
    }
}
