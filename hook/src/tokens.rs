//! The optional tokens sent beside the credentials: the license token and the per-user token.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::host_env::HostEnv;
use crate::settings::{Secret, Settings};
use crate::vars;

/// `USER_TOKEN_HINT`, appended to credential-rejection block lines when a user token was sent.
pub const USER_TOKEN_HINT: &str = "A per-user token is configured (AXONFLOW_USER_TOKEN / user-token.json) and was sent as X-User-Token — if it is expired, revoked, or minted for a different org, the platform rejects the request; ask your admin to rotate it, or remove it to fall back to shared-credential attribution.";

/// The license token to send as `X-License-Token`, if any: it must start with `AXON-`, be
/// wire-safe, and, when it is a JWT carrying a numeric `exp`, not be expired (Decision f).
/// Anything else is dropped silently; the agent checks signatures.
pub fn license_token_to_send(settings: &Settings, now_epoch: i64) -> Option<Secret> {
    let token = settings.license_token.as_ref()?;
    let value = token.expose();
    let jwt = value.strip_prefix("AXON-")?;
    if !is_wire_safe(value) {
        return None;
    }
    match jwt_expiry(jwt) {
        Some(exp) if exp <= now_epoch => None,
        _ => Some(token.clone()),
    }
}

/// The numeric `exp` claim of a JWT, if it is one and has it.
fn jwt_expiry(jwt: &str) -> Option<i64> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))
}

/// Wire-safe: non-empty, no whitespace, no control character, no `"`, no `\`.
pub fn is_wire_safe(value: &str) -> bool {
    !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
}

/// Why a configured user token was not used; doctor shows these, hooks stay quiet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserTokenProblem {
    EnvUnsafe,
    FileUnsafePermissions { file: PathBuf, mode: u32 },
    FileMalformed { file: PathBuf },
}

impl UserTokenProblem {
    /// The diagnostic line, in the bash plugin's wording.
    pub fn message(&self) -> String {
        match self {
            UserTokenProblem::EnvUnsafe => "[AxonFlow] AXONFLOW_USER_TOKEN is set but contains whitespace/control/quote bytes; ignoring. Re-provision it from your admin's mint output".to_string(),
            UserTokenProblem::FileUnsafePermissions { file, mode } => format!(
                "[AxonFlow] {} has unsafe permissions ({mode:o}); refusing to use. chmod 600 '{}' to restore per-user authorization",
                file.display(),
                file.display()
            ),
            UserTokenProblem::FileMalformed { file } => format!(
                "[AxonFlow] {} contains a malformed per-user token (whitespace/control/quote bytes); ignoring. Re-provision it from your admin's mint output",
                file.display()
            ),
        }
    }
}

/// The resolved per-user token and, when one was configured but refused, why.
#[derive(Debug, Clone, Default)]
pub struct UserToken {
    pub token: Option<Secret>,
    pub problems: Vec<UserTokenProblem>,
}

pub const USER_TOKEN_FILE_NAME: &str = "user-token.json";

/// `AXONFLOW_USER_TOKEN` if set and wire-safe, else `<config dir>/user-token.json`
/// (`{"token":"…"}`, mode exactly 0600, token wire-safe), else none.
pub fn resolve_user_token(env: &HostEnv, settings: &Settings) -> UserToken {
    let mut problems = Vec::new();
    if let Some(value) = env.var(vars::USER_TOKEN) {
        if is_wire_safe(value) {
            return UserToken {
                token: Some(Secret::new(value)),
                problems,
            };
        }
        problems.push(UserTokenProblem::EnvUnsafe);
    }
    if let Some(dir) = &settings.config_dir {
        let file = dir.join(USER_TOKEN_FILE_NAME);
        match read_user_token_file(&file) {
            Ok(Some(token)) => {
                return UserToken {
                    token: Some(token),
                    problems,
                }
            }
            Ok(None) => {}
            Err(problem) => problems.push(problem),
        }
    }
    UserToken {
        token: None,
        problems,
    }
}

/// A FIFO, device, oversize or unreadable file counts as a malformed token: it is ignored and
/// doctor names it.
fn read_user_token_file(file: &Path) -> Result<Option<Secret>, UserTokenProblem> {
    let malformed = || UserTokenProblem::FileMalformed {
        file: file.to_path_buf(),
    };
    let read = match crate::files::read_small_file(file, crate::files::USER_TOKEN_FILE_LIMIT) {
        Ok(read) => read,
        Err(crate::files::ReadFailure::Missing) => return Ok(None),
        // Say "unsafe permissions" for a file we may not open because of its mode.
        Err(crate::files::ReadFailure::Io(_)) => {
            return Err(std::fs::metadata(file)
                .ok()
                .and_then(|metadata| unsafe_permissions(file, &metadata))
                .unwrap_or_else(malformed))
        }
        Err(_) => return Err(malformed()),
    };
    if let Some(problem) = unsafe_permissions(file, &read.metadata) {
        return Err(problem);
    }
    let document: serde_json::Value =
        serde_json::from_slice(&read.bytes).map_err(|_| malformed())?;
    match document.get("token").and_then(|t| t.as_str()) {
        Some(token) if is_wire_safe(token) => Ok(Some(Secret::new(token))),
        _ => Err(malformed()),
    }
}

/// The file must be exactly 0600 (Unix).
fn unsafe_permissions(file: &Path, metadata: &std::fs::Metadata) -> Option<UserTokenProblem> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o777;
        if mode != 0o600 {
            return Some(UserTokenProblem::FileUnsafePermissions {
                file: file.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (file, metadata);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "AXON-{}.{}.sig",
            enc.encode("{\"alg\":\"none\"}"),
            enc.encode(claims)
        )
    }

    fn settings_with_license(token: &str) -> Settings {
        let env = HostEnv::from_vars([
            ("AXONFLOW_LICENSE_TOKEN", token),
            ("AXONFLOW_CODEX_CONFIG", "/nonexistent/axonflow.toml"),
        ]);
        Settings::resolve(&env).unwrap()
    }

    #[test]
    fn license_token_filtering() {
        let now = 1_800_000_000;
        let sent = |t: &str| license_token_to_send(&settings_with_license(t), now).is_some();
        assert!(!sent("not-axon"));
        assert!(sent("AXON-opaque"));
        assert!(sent(&jwt("{\"exp\":1900000000}")));
        assert!(!sent(&jwt("{\"exp\":1700000000}")));
        assert!(!sent(&jwt("{\"exp\":1800000000}")));
        assert!(sent(&jwt("{\"sub\":\"x\"}")));
        assert!(!sent("AXON-has space"));
    }

    #[test]
    fn wire_safety() {
        assert!(is_wire_safe("abc.def-ghi"));
        for bad in ["", "a b", "a\tb", "a\"b", "a\\b", "a\u{1}b", "a\u{a0}b"] {
            assert!(!is_wire_safe(bad), "{bad:?}");
        }
    }
}
