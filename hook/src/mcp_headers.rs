//! `axonflow-codex-hook mcp-headers`: the HTTP headers for Codex's `http_headers_helper`
//! (`axonflow-agent.md` §12). Secrets go to stdout only, and only here.

use crate::host_env::HostEnv;
use crate::settings::Settings;
use crate::state;
use crate::tokens;
use crate::HookOutcome;

pub fn run(env: &HostEnv) -> HookOutcome {
    let settings = match Settings::resolve(env) {
        Ok(settings) => settings,
        Err(error) => {
            return HookOutcome {
                exit_code: 1,
                stdout: String::new(),
                stderr_lines: vec![format!("[AxonFlow] invalid AxonFlow settings ({error}); the axonflow MCP server gets no headers. Run `axonflow-codex doctor`.")],
            }
        }
    };
    let now = state::now_epoch();
    let mut headers: Vec<(&str, String)> = Vec::new();
    if let Some(auth) = &settings.auth {
        headers.push(("Authorization", format!("Basic {}", auth.expose())));
    }
    if let Some(license) = tokens::license_token_to_send(&settings, now) {
        headers.push(("X-License-Token", license.expose().to_string()));
    }
    if let Some(user) = tokens::resolve_user_token(env, &settings).token {
        headers.push(("X-User-Token", user.expose().to_string()));
    }
    headers.push(("X-Axonflow-Client", crate::client_header_value()));
    HookOutcome {
        stdout: format!("{}\n", render(&headers)),
        ..HookOutcome::allow()
    }
}

/// `{"Name": "value", "Name": "value"}`: one line, in this order.
fn render(headers: &[(&str, String)]) -> String {
    let members: Vec<String> = headers
        .iter()
        .map(|(name, value)| format!("{}: {}", json_string(name), json_string(value)))
        .collect();
    format!("{{{}}}", members.join(", "))
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}
