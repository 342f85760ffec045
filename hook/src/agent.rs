//! The AxonFlow agent's governance endpoint: JSON-RPC 2.0 `tools/call`, one request per
//! POST to `<endpoint>/api/v1/mcp-server`, no `initialize` and no session.
//!
//! One small blocking client (ureq with rustls and the operating system's trust store, so a
//! corporate TLS-inspecting proxy's root CA works; `HTTPS_PROXY`/`NO_PROXY` honoured). Every
//! request is bounded by a whole-request timeout, the response body by a size cap. The TLS
//! configuration is built once per process (see `tls` and `trust`).

use std::borrow::Cow;
use std::fmt;
use std::io::Read as _;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::settings::{Secret, Settings};

/// Side requests (audits) get at most this long.
pub const SIDE_REQUEST_SECONDS: u64 = 3;

/// `policies_evaluated` as a plain integer, 0 when absent or not a number.
pub fn policies_evaluated(result: &serde_json::Map<String, Value>) -> i64 {
    match result.get("policies_evaluated") {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(0),
        _ => 0,
    }
}

/// Caps a response body we read whole. A policy decision is a few hundred bytes; a redacted
/// copy of a scanned output can be as large as the output, so callers scale the cap.
pub const DEFAULT_BODY_LIMIT: u64 = 1024 * 1024;

/// The headers of every governed request, in the documented order.
fn governed_headers(
    auth: Option<&Secret>,
    license_token: Option<&Secret>,
    user_token: Option<&Secret>,
) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("Accept", "application/json".to_string()),
    ];
    if let Some(auth) = auth {
        headers.push(("Authorization", format!("Basic {}", auth.expose())));
    }
    headers.push(("X-Axonflow-Client", crate::client_header_value()));
    if let Some(token) = license_token {
        headers.push(("X-License-Token", token.expose().to_string()));
    }
    if let Some(token) = user_token {
        headers.push(("X-User-Token", token.expose().to_string()));
    }
    headers
}

/// A JSON object of `members`, in this order, moving each value in (`json!` would copy every
/// interpolated value, and a scanned output may be tens of MiB).
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
    )
}

/// Why no HTTP response arrived (or arrived whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailure {
    Refused,
    Dns,
    Tls,
    TimedOut { seconds: u64 },
    Reset,
    Proxy,
    InvalidResponse,
    Failed,
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportFailure::Refused => f.write_str("connection refused"),
            TransportFailure::Dns => f.write_str("DNS lookup failed"),
            TransportFailure::Tls => f.write_str("TLS error"),
            TransportFailure::TimedOut { seconds } => write!(f, "timed out after {seconds}s"),
            TransportFailure::Reset => f.write_str("connection reset"),
            TransportFailure::Proxy => f.write_str("proxy connection failed"),
            TransportFailure::InvalidResponse => f.write_str("invalid HTTP response"),
            TransportFailure::Failed => f.write_str("connection failed"),
        }
    }
}

/// What came back from one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Transport(TransportFailure),
    Http(HttpReply),
}

#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The body; `None` when it exceeded the size cap (treated as "not JSON").
    pub body: Option<Vec<u8>>,
}

impl HttpReply {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(self.body.as_deref()?).ok()
    }

    /// The body parsed as JSON, freeing the raw bytes once parsed.
    pub fn into_json(self) -> Option<Value> {
        serde_json::from_slice(&self.body?).ok()
    }

    /// Empty, or only whitespace.
    pub fn body_is_empty(&self) -> bool {
        self.body
            .as_deref()
            .is_some_and(|b| b.iter().all(u8::is_ascii_whitespace))
    }
}

/// A client for the governance endpoint with the headers fixed for this process.
#[derive(Clone)]
pub struct AgentClient {
    agent: ureq::Agent,
    url: String,
    headers: Vec<(&'static str, String)>,
}

impl AgentClient {
    fn new(settings: &Settings, headers: Vec<(&'static str, String)>) -> Self {
        AgentClient {
            agent: http_agent(settings.state_dir.clone()),
            url: settings.mcp_url(),
            headers,
        }
    }

    /// The client the hooks use, with their headers (auth, the license token as the hooks
    /// filter it, the user token found as they find it): the hooks themselves, `doctor`'s
    /// probes and delivery, `axonflow-codex check` and `explain` all go through it.
    pub fn for_hooks(env: &crate::host_env::HostEnv, settings: &Settings) -> Self {
        let user_token = crate::tokens::resolve_user_token(env, settings).token;
        AgentClient::for_hooks_with_user_token(settings, user_token.as_ref())
    }

    /// [`AgentClient::for_hooks`] with the user token already found: install probes settings
    /// it has not written yet.
    pub fn for_hooks_with_user_token(settings: &Settings, user_token: Option<&Secret>) -> Self {
        let now = crate::state::now_epoch();
        let headers = governed_headers(
            settings.auth.as_ref(),
            crate::tokens::license_token_to_send(settings, now).as_ref(),
            user_token,
        );
        AgentClient::new(settings, headers)
    }

    /// Whether an `X-User-Token` header goes on the requests.
    pub fn sends_user_token(&self) -> bool {
        self.headers.iter().any(|(name, _)| *name == "X-User-Token")
    }

    /// POSTs `tools/call` of `tool` with `arguments`, JSON-RPC id `id`.
    pub fn call_tool(
        &self,
        id: &str,
        tool: &str,
        arguments: Value,
        timeout_seconds: u64,
        body_limit: u64,
    ) -> Reply {
        let bytes = request_body(id, tool, arguments);
        self.post(
            Cow::Owned(bytes),
            Duration::from_secs(timeout_seconds),
            body_limit,
        )
    }

    /// POSTs a request body as [`request_body`] made it (the audit spool keeps such bodies).
    pub fn post_body(&self, bytes: &[u8], timeout: Duration, body_limit: u64) -> Reply {
        self.post(Cow::Borrowed(bytes), timeout, body_limit)
    }

    /// An owned body is freed once sent: a scanned output may be tens of MiB, and its
    /// redacted copy is read next.
    fn post(&self, bytes: Cow<'_, [u8]>, timeout: Duration, body_limit: u64) -> Reply {
        let mut request = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(Some(timeout))
            .build();
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let timed_out = TransportFailure::TimedOut {
            seconds: timeout.as_secs().max(1),
        };
        let sent = request.send(&bytes[..]);
        drop(bytes);
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => return Reply::Transport(classify(error, timed_out)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        let read = response
            .body_mut()
            .as_reader()
            .take(body_limit + 1)
            .read_to_end(&mut body);
        match read {
            Ok(_) if body.len() as u64 > body_limit => Reply::Http(HttpReply {
                status,
                retry_after,
                body: None,
            }),
            Ok(_) => Reply::Http(HttpReply {
                status,
                retry_after,
                body: Some(body),
            }),
            Err(error) => Reply::Transport(classify_io(&error, timed_out)),
        }
    }
}

/// The JSON-RPC `tools/call` body of `tool` with `arguments`, id `id`.
pub fn request_body(id: &str, tool: &str, arguments: Value) -> Vec<u8> {
    let body = object([
        ("jsonrpc", json!("2.0")),
        ("id", json!(id)),
        ("method", json!("tools/call")),
        (
            "params",
            object([("name", json!(tool)), ("arguments", arguments)]),
        ),
    ]);
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The one HTTP agent configuration: no status-as-error (we read 4xx/5xx bodies), no
/// redirects (a governance POST is never redirected to somewhere else), OS trust store.
pub fn new_http_agent() -> ureq::Agent {
    http_agent(None)
}

/// The agent, caching the system's trust anchors in `state_dir` (if any). Its clones share
/// one TLS configuration.
fn http_agent(state_dir: Option<PathBuf>) -> ureq::Agent {
    use ureq::unversioned::resolver::DefaultResolver;
    use ureq::unversioned::transport::{ConnectProxyConnector, Connector as _, TcpConnector};
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .user_agent(format!("axonflow-codex-hook/{}", crate::VERSION))
        .build();
    // ureq's default chain less its SOCKS warning, every connection bounded by its request's
    // deadline, and our TLS connector for its own.
    let connector =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(crate::deadline::DeadlineConnector)
            .chain(crate::tls::HookTlsConnector::new(state_dir));
    ureq::Agent::with_parts(config, connector, DefaultResolver::default())
}

fn classify(error: ureq::Error, timed_out: TransportFailure) -> TransportFailure {
    match error {
        ureq::Error::Timeout(_) => timed_out,
        ureq::Error::HostNotFound => TransportFailure::Dns,
        ureq::Error::Io(e) => classify_io(&e, timed_out),
        ureq::Error::Tls(_)
        | ureq::Error::Pem(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::TlsRequired => TransportFailure::Tls,
        ureq::Error::ConnectProxyFailed(_) | ureq::Error::InvalidProxyUrl => {
            TransportFailure::Proxy
        }
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(_, _) => {
            TransportFailure::InvalidResponse
        }
        _ => TransportFailure::Failed,
    }
}

fn classify_io(error: &std::io::Error, timed_out: TransportFailure) -> TransportFailure {
    use std::io::ErrorKind;
    if let Some(inner) = error.get_ref() {
        // ureq wraps its own errors (a timeout while reading the body) in io::Error.
        if let Some(ureq::Error::Timeout(_)) = inner.downcast_ref::<ureq::Error>() {
            return timed_out;
        }
        // rustls reports handshake failures through the stream as io errors.
        if inner.downcast_ref::<rustls::Error>().is_some() {
            return TransportFailure::Tls;
        }
    }
    match error.kind() {
        ErrorKind::ConnectionRefused => TransportFailure::Refused,
        ErrorKind::TimedOut | ErrorKind::WouldBlock => timed_out,
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe
        | ErrorKind::UnexpectedEof => TransportFailure::Reset,
        ErrorKind::InvalidData => TransportFailure::InvalidResponse,
        _ => TransportFailure::Failed,
    }
}

/// A JSON-RPC `error` object: its code (a number or a numeric string) and message.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: Option<i64>,
    pub message: String,
}

/// The `error` member of a JSON-RPC response, if it is an object.
pub fn rpc_error(body: &Value) -> Option<RpcError> {
    let error = body.get("error")?.as_object()?;
    let code = error.get("code").and_then(|c| match c {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    let message = match error.get("message") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    Some(RpcError { code, message })
}

/// `result.content[0].text`, the tool result the agent wraps in the MCP envelope.
pub fn result_text(body: &Value) -> Option<&str> {
    body.get("result")?
        .get("content")?
        .get(0)?
        .get("text")?
        .as_str()
}

/// The tool result: `result.content[0].text` parsed again as a JSON object.
pub fn tool_result(body: &Value) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_str(result_text(body)?).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}
