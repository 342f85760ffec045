//! Is governance live? The agent's `/health` and one harmless `check_policy`, as the hooks
//! will send it: what install checks before it writes, so that nobody is left silently
//! ungoverned by an endpoint where nothing answers (fail-open would then allow everything).

use std::time::Duration;

use axonflow_codex_hook::agent::{self, AgentClient, Reply};
use axonflow_codex_hook::settings::{Secret, Settings};
use serde_json::{json, Value};

pub(crate) const HARMLESS_PROBE: &str = "echo axonflow-install";
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// What the probe sends: the endpoint and credentials as the hooks will use them.
pub(crate) struct Target<'a> {
    pub endpoint: &'a str,
    pub auth: Option<&'a str>,
    pub license_token: Option<&'a str>,
    /// The user token the hooks would send (`AXONFLOW_USER_TOKEN` or `user-token.json`).
    pub user_token: Option<Secret>,
    pub timeout_seconds: u64,
}

/// `Ok` when the agent answered the harmless check with a policy decision; otherwise why
/// governance is not live, in one sentence.
pub(crate) fn check(target: &Target<'_>) -> Result<(), String> {
    health(target.endpoint)?;
    let mut settings = Settings::for_endpoint(target.endpoint);
    settings.auth = target.auth.map(Secret::new);
    settings.license_token = target.license_token.map(Secret::new);
    let client = AgentClient::for_hooks_with_user_token(&settings, target.user_token.as_ref());
    let reply = client.call_tool(
        "install-probe",
        "check_policy",
        json!({"connector_type": "codex.Bash", "statement": HARMLESS_PROBE, "operation": "execute"}),
        target.timeout_seconds,
        agent::DEFAULT_BODY_LIMIT,
    );
    let mcp_url = settings.mcp_url();
    let http = match reply {
        Reply::Transport(failure) => return Err(format!("no answer from {mcp_url}: {failure}")),
        Reply::Http(http) => http,
    };
    match http.status {
        401 => return Err("the agent rejected the credentials (HTTP 401)".to_string()),
        404 => {
            return Err(format!(
                "{mcp_url} answered 404: not an AxonFlow agent, or one too old for Codex"
            ))
        }
        _ => {}
    }
    let body = http.json();
    if let Some(error) = body.as_ref().and_then(agent::rpc_error) {
        return Err(format!(
            "the agent answered the check with an error: {}",
            error.message
        ));
    }
    match body
        .as_ref()
        .and_then(agent::tool_result)
        .and_then(|r| r.get("allowed").cloned())
    {
        Some(Value::Bool(_)) => Ok(()),
        _ => Err(format!(
            "{mcp_url} answered HTTP {} without a policy decision",
            http.status
        )),
    }
}

/// `GET <endpoint>/health` as the installer asks it (install's probe, doctor's health row):
/// the client header, the whole request bounded by `timeout`.
pub(crate) fn get_health(
    url: &str,
    timeout: Duration,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    agent::new_http_agent()
        .get(url)
        .config()
        .timeout_global(Some(timeout))
        .build()
        .header(
            "X-Axonflow-Client",
            axonflow_codex_hook::client_header_value(),
        )
        .call()
}

fn health(endpoint: &str) -> Result<(), String> {
    let url = format!("{endpoint}/health");
    let response = get_health(&url, HEALTH_TIMEOUT);
    match response {
        Ok(response) if response.status().as_u16() == 200 => Ok(()),
        Ok(response) => Err(format!(
            "{url} answered HTTP {}",
            response.status().as_u16()
        )),
        Err(error) => Err(format!(
            "cannot reach {url}: {}",
            crate::error::plain_cause(&error, HEALTH_TIMEOUT)
        )),
    }
}
