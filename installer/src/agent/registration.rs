//! AxonFlow Community SaaS registration, at install time only and only when the user picks it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::error::{CommandError, Result};

pub const SAAS_ENDPOINT: &str = "https://try.getaxonflow.com";
const REGISTER_URL: &str = "https://try.getaxonflow.com/api/v1/register";

/// Shown before registering: nothing has been connected to yet.
pub const NOTICE: &str = "[AxonFlow] AxonFlow Community SaaS (https://try.getaxonflow.com) is
intended for basic testing and evaluation. For real workflows, real systems,
or sensitive data, we recommend self-hosting AxonFlow from day one:
  https://docs.getaxonflow.com/quickstart";

/// Shown once the registration succeeded, and only then.
pub const CONNECTED: &str =
    "[AxonFlow] Connected to AxonFlow Community SaaS at https://try.getaxonflow.com.";

/// What a registration gives: the endpoint and `base64(tenant_id:secret)`.
#[derive(Debug, Clone)]
pub struct Registration {
    pub endpoint: String,
    pub auth: String,
    pub expires_at: Option<String>,
}

/// `uname -s`-`uname -m` style platform label, e.g. `Linux-x86_64`.
fn platform() -> String {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "windows" => "Windows",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "aarch64" if os == "Darwin" => "arm64",
        other => other,
    };
    format!("{os}-{arch}")
}

/// Registers a tenant. The URL can be pointed elsewhere with
/// `AXONFLOW_REGISTRATION_URL` (a mirror, or a stand-in in tests).
pub fn register(url_override: Option<&str>) -> Result<Registration> {
    let url = url_override.unwrap_or(REGISTER_URL);
    let agent = axonflow_codex_hook::agent::new_http_agent();
    let body = json!({"label": format!("codex-plugin@{} / {}", crate::VERSION, platform())});
    let failed = |cause: String| {
        CommandError::failure(format!("Community SaaS registration failed: {cause}"))
            .hint("nothing was written; try again later, or install with --endpoint <your self-hosted agent>")
    };
    let mut response = agent
        .post(url)
        .config()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .header("Content-Type", "application/json")
        .header(
            "X-Axonflow-Client",
            axonflow_codex_hook::client_header_value(),
        )
        .send(body.to_string().as_bytes())
        .map_err(|e| failed(crate::error::plain_cause(&e, Duration::from_secs(10))))?;
    let status = response.status().as_u16();
    if status == 429 {
        return Err(CommandError::failure(
            "Community SaaS registration is rate-limited (5 registrations per address per hour); retry in an hour",
        )
        .hint("nothing was written"));
    }
    let text = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .map_err(|e| failed(crate::error::plain_cause(&e, Duration::from_secs(10))))?;
    if status != 201 {
        return Err(failed(format!("HTTP {status}")));
    }
    let document: Value =
        serde_json::from_str(&text).map_err(|_| failed("the answer was not JSON".into()))?;
    let field = |key: &str| {
        document
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(tenant_id), Some(secret)) = (field("tenant_id"), field("secret")) else {
        return Err(failed("the answer had no tenant_id or secret".into()));
    };
    use base64::Engine as _;
    Ok(Registration {
        endpoint: field("endpoint")
            .unwrap_or(SAAS_ENDPOINT)
            .trim_end_matches('/')
            .to_string(),
        auth: base64::engine::general_purpose::STANDARD.encode(format!("{tenant_id}:{secret}")),
        expires_at: field("expires_at").map(str::to_string),
    })
}
