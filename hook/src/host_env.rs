//! The process environment as the hook and the installer see it, and the error for a setting
//! it gets wrong. Below both `settings` and `codex_home`, which each need it, so neither has to
//! reach into the other.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The process environment as the settings see it: variables, the home directory and where
/// this binary lives. Tests build one by hand.
#[derive(Debug, Clone, Default)]
pub struct HostEnv {
    vars: BTreeMap<String, String>,
    current_exe: Option<PathBuf>,
}

impl HostEnv {
    pub fn from_process() -> Self {
        HostEnv {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            current_exe: std::env::current_exe().ok(),
        }
    }

    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        HostEnv {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            current_exe: None,
        }
    }

    pub fn with_current_exe(mut self, exe: PathBuf) -> Self {
        self.current_exe = Some(exe);
        self
    }

    /// Every variable, as a child process started from this one would inherit it.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A variable's value; an empty value counts as unset.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The same environment, minus the binary location (for callers that are not the
    /// installed hook).
    pub fn without_current_exe(mut self) -> Self {
        self.current_exe = None;
        self
    }

    pub fn current_exe(&self) -> Option<&Path> {
        self.current_exe.as_deref()
    }

    pub fn home_dir(&self) -> Option<PathBuf> {
        match self.var("HOME") {
            Some(home) => Some(PathBuf::from(home)),
            None if cfg!(windows) => self.var("USERPROFILE").map(PathBuf::from),
            None => None,
        }
    }
}

/// A settings problem. The message names the variable or file and the cause, never a value
/// (the value may be a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    message: String,
}

impl SettingsError {
    pub fn new(message: impl Into<String>) -> Self {
        SettingsError {
            message: message.into(),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SettingsError {}
