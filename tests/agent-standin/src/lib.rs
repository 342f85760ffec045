//! Test stand-in for the AxonFlow agent (reference: `axonflow-agent.md` §1–7).
//!
//! A small hand-written HTTP/1.1 server on 127.0.0.1 (thread per connection, keep-alive,
//! Content-Length and chunked request bodies) that answers with the agent's real wire shapes:
//! `POST /api/v1/mcp-server` (JSON-RPC 2.0: `initialize`, `tools/list`, `ping`,
//! `tools/call` with `check_policy`, `check_output`, `audit_tool_call`, …) and `GET /health`.
//! Every request is recorded (headers in received order and case, raw body) before it is
//! answered. Scripted replies emulate a misbehaving agent, proxy or network.
//!
//! ```no_run
//! use axonflow_agent_standin::{AgentConfig, Match, Reply, StandIn};
//! let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "secret"));
//! agent.script(Match::Tool("check_policy"), Reply::Hang);
//! let _url = format!("{}/api/v1/mcp-server", agent.endpoint());
//! ```

mod agent;
mod config;
mod http;
mod tls;
mod util;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::Value;

pub use config::{default_policies, default_redaction_policies, AgentConfig, HealthMode, Policy};
pub use tls::{TestCa, TlsIdentity};
pub use util::{go_pretty_sorted, sort_keys};

/// The governance / MCP path.
pub const MCP_PATH: &str = "/api/v1/mcp-server";
/// The health path.
pub const HEALTH_PATH: &str = "/health";
/// The Community SaaS registration path.
pub const REGISTER_PATH: &str = "/api/v1/register";

/// One HTTP request as received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Request target as received (path plus any query).
    pub path: String,
    /// Headers in received order, names in their original case.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes (de-chunked).
    pub body: Vec<u8>,
    /// The body parsed as JSON, if it is JSON.
    pub json: Option<Value>,
}

impl RecordedRequest {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Header names in received order and case.
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The body as (lossy) UTF-8 text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Path without the query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }

    /// JSON-RPC `method`, if the body is a JSON-RPC request.
    pub fn rpc_method(&self) -> Option<&str> {
        self.json.as_ref()?.get("method")?.as_str()
    }

    /// The JSON-RPC `tools/call` in this request, if it is one on the MCP URL.
    pub fn rpc(&self) -> Option<RecordedRpc> {
        if self.method != "POST" || self.path_only() != MCP_PATH {
            return None;
        }
        let json = self.json.as_ref()?;
        if json.get("method")?.as_str()? != "tools/call" {
            return None;
        }
        let params = json.get("params");
        Some(RecordedRpc {
            id: json.get("id").cloned().unwrap_or(Value::Null),
            tool: params
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            arguments: params
                .and_then(|p| p.get("arguments"))
                .cloned()
                .unwrap_or(Value::Null),
            headers: self.headers.clone(),
        })
    }
}

/// One JSON-RPC `tools/call` received on the MCP URL.
#[derive(Clone, Debug)]
pub struct RecordedRpc {
    /// `id` as sent (`Value::Null` when absent).
    pub id: Value,
    /// `params.name`.
    pub tool: String,
    /// `params.arguments` (`Value::Null` when absent).
    pub arguments: Value,
    /// Request headers in received order and case.
    pub headers: Vec<(String, String)>,
}

impl RecordedRpc {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `arguments[key]` as a string.
    pub fn arg_str(&self, key: &str) -> Option<&str> {
        self.arguments.get(key)?.as_str()
    }
}

/// Which request a scripted reply applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// Any request.
    Any,
    /// A `tools/call` of this tool.
    Tool(&'static str),
    /// A JSON-RPC request with this id (string ids compared as is, other ids by JSON text).
    RpcId(&'static str),
    /// A JSON-RPC request with this method (`initialize`, `tools/list`, …).
    RpcMethod(&'static str),
    /// A request to this path (query ignored).
    Path(&'static str),
}

impl Match {
    fn matches(&self, req: &RecordedRequest) -> bool {
        match self {
            Match::Any => true,
            Match::Path(p) => req.path_only() == *p,
            Match::RpcMethod(m) => req.rpc_method() == Some(m),
            Match::Tool(t) => req.rpc().is_some_and(|r| r.tool == *t),
            Match::RpcId(id) => match req.json.as_ref().and_then(|j| j.get("id")) {
                Some(Value::String(s)) => s == id,
                Some(other) => other.to_string().as_str() == *id,
                None => false,
            },
        }
    }
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Exactly these status, headers and body (Content-Length added unless given).
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// This JSON body (compact, newline-terminated), `Content-Type: application/json`.
    Json { status: u16, body: Value },
    /// Wait, then answer normally.
    Delay(Duration),
    /// Read the request, never answer (until the stand-in is dropped).
    Hang,
    /// Read the request and close the connection without answering.
    Close,
    /// Send a status line and headers promising a body, then stall.
    HeadersThenStall,
    /// The normal success envelope with exactly this `text`.
    ToolResultText(String),
    /// The success envelope with `isError: true` and this plain text.
    IsError(String),
    /// Exactly these bytes as the whole response (status line, headers and body; nothing is
    /// added), then the connection is closed: malformed heads, a `Content-Length` that
    /// promises more than is sent, invalid UTF-8 anywhere.
    Bytes(Vec<u8>),
    /// Exactly these bytes, then the connection stays open and silent (until the stand-in is
    /// dropped or the client goes away).
    BytesThenStall(Vec<u8>),
    /// `200`, `Transfer-Encoding: chunked`, then `chunk` as one chunk every `interval`, never
    /// a last chunk: a body that does not end while the client reads.
    ChunkedForever { chunk: Vec<u8>, interval: Duration },
    /// `status` with the true `Content-Length` of `body`, then the body one byte every
    /// `interval` (a slow-loris reply).
    Dribble {
        status: u16,
        body: Vec<u8>,
        interval: Duration,
    },
    /// `status` with `Content-Length` = `prefix.len() + filler`: `prefix`, then `filler` bytes
    /// of `fill` streamed in 64 KiB writes (a body of many megabytes that the stand-in never
    /// holds in memory).
    Huge {
        status: u16,
        prefix: Vec<u8>,
        filler: u64,
        fill: u8,
    },
}

struct Script {
    matcher: Match,
    reply: Reply,
    persistent: bool,
}

pub(crate) struct Compiled {
    pub config: AgentConfig,
    pub policies: Vec<(Policy, Regex)>,
    pub redaction: Vec<(Policy, Regex)>,
    pub output_block: Vec<(Policy, Regex)>,
}

impl Compiled {
    fn new(config: AgentConfig) -> Self {
        let compile = |ps: &[Policy]| -> Vec<(Policy, Regex)> {
            ps.iter()
                .map(|p| {
                    let re = Regex::new(&p.pattern)
                        .unwrap_or_else(|e| panic!("policy {} has an invalid pattern: {e}", p.id));
                    (p.clone(), re)
                })
                .collect()
        };
        Compiled {
            policies: compile(&config.policies),
            redaction: compile(&config.redaction_policies),
            output_block: compile(&config.output_block_policies),
            config,
        }
    }
}

pub(crate) struct Shared {
    pub stop: AtomicBool,
    /// Served over TLS when set.
    tls: Option<Arc<rustls::ServerConfig>>,
    pub compiled: RwLock<Arc<Compiled>>,
    requests: Mutex<Vec<RecordedRequest>>,
    requests_changed: Condvar,
    scripts: Mutex<Vec<Script>>,
    pub tool_calls: AtomicU64,
    pub decision_counter: AtomicU64,
    pub override_counter: AtomicU64,
    /// Active overrides (policy_id → override id); starts from the config, changed by
    /// `create_override` / `delete_override`.
    pub overrides: Mutex<BTreeMap<String, String>>,
    /// Decisions issued, for `explain_decision` / `list_recent_decisions`.
    pub decisions: Mutex<Vec<Value>>,
}

impl Shared {
    pub fn compiled(&self) -> Arc<Compiled> {
        self.compiled.read().expect("config lock").clone()
    }

    fn take_script(&self, req: &RecordedRequest) -> Option<Reply> {
        let mut scripts = self.scripts.lock().expect("scripts lock");
        let pos = scripts.iter().position(|s| s.matcher.matches(req))?;
        if scripts[pos].persistent {
            Some(scripts[pos].reply.clone())
        } else {
            Some(scripts.remove(pos).reply)
        }
    }
}

/// A running stand-in agent on 127.0.0.1. Dropping it stops it.
pub struct StandIn {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept_thread: Option<JoinHandle<()>>,
}

impl StandIn {
    /// Binds 127.0.0.1:`config.port` (0 = any) and serves on background threads.
    ///
    /// Panics when the port cannot be bound or a policy pattern is invalid.
    pub fn start(config: AgentConfig) -> StandIn {
        Self::try_start(config).expect("bind the AxonFlow agent stand-in on 127.0.0.1")
    }

    /// Like [`StandIn::start`], served over TLS (`https://127.0.0.1:<port>`) with `identity`.
    pub fn start_tls(config: AgentConfig, identity: &TlsIdentity) -> StandIn {
        Self::try_start_serving(config, Some(identity.config.clone()))
            .expect("bind the AxonFlow agent stand-in on 127.0.0.1")
    }

    /// Like [`StandIn::start`] but returns the bind error.
    pub fn try_start(config: AgentConfig) -> std::io::Result<StandIn> {
        Self::try_start_serving(config, None)
    }

    fn try_start_serving(
        config: AgentConfig,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        let addr = listener.local_addr()?;
        let overrides = config.active_overrides.clone();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            tls,
            compiled: RwLock::new(Arc::new(Compiled::new(config))),
            requests: Mutex::new(Vec::new()),
            requests_changed: Condvar::new(),
            scripts: Mutex::new(Vec::new()),
            tool_calls: AtomicU64::new(0),
            decision_counter: AtomicU64::new(0),
            override_counter: AtomicU64::new(0),
            overrides: Mutex::new(overrides),
            decisions: Mutex::new(Vec::new()),
        });
        let accept_shared = shared.clone();
        let accept_thread = std::thread::Builder::new()
            .name("standin-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(StandIn {
            shared,
            addr,
            accept_thread: Some(accept_thread),
        })
    }

    /// `http://127.0.0.1:<port>`, or `https://` when served over TLS.
    pub fn endpoint(&self) -> String {
        let scheme = if self.shared.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.addr.port())
    }

    /// `<endpoint>/api/v1/mcp-server`.
    pub fn mcp_url(&self) -> String {
        format!("{}{MCP_PATH}", self.endpoint())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A copy of the current configuration.
    pub fn config(&self) -> AgentConfig {
        self.shared.compiled().config.clone()
    }

    /// Changes the configuration of the running agent (e.g. turn auth on mid-test).
    /// `active_overrides` are re-read from the new configuration.
    pub fn update_config(&self, f: impl FnOnce(&mut AgentConfig)) {
        let mut config = self.config();
        f(&mut config);
        *self.shared.overrides.lock().expect("overrides lock") = config.active_overrides.clone();
        *self.shared.compiled.write().expect("config lock") = Arc::new(Compiled::new(config));
    }

    /// Queues a one-shot scripted reply for the next request that matches.
    pub fn script(&self, matcher: Match, reply: Reply) {
        self.push_script(matcher, reply, false);
    }

    /// Adds a scripted reply for every request that matches (until `clear_scripts`).
    pub fn script_always(&self, matcher: Match, reply: Reply) {
        self.push_script(matcher, reply, true);
    }

    fn push_script(&self, matcher: Match, reply: Reply, persistent: bool) {
        self.shared
            .scripts
            .lock()
            .expect("scripts lock")
            .push(Script {
                matcher,
                reply,
                persistent,
            });
    }

    pub fn clear_scripts(&self) {
        self.shared.scripts.lock().expect("scripts lock").clear();
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().expect("requests lock").clone()
    }

    /// The `tools/call` requests on the MCP URL, in arrival order.
    pub fn rpc_calls(&self) -> Vec<RecordedRpc> {
        self.requests()
            .iter()
            .filter_map(RecordedRequest::rpc)
            .collect()
    }

    /// The `tools/call` requests of one tool, in arrival order.
    pub fn rpc_calls_of(&self, tool: &str) -> Vec<RecordedRpc> {
        self.rpc_calls()
            .into_iter()
            .filter(|r| r.tool == tool)
            .collect()
    }

    pub fn clear_requests(&self) {
        self.shared.requests.lock().expect("requests lock").clear();
    }

    /// Waits until at least `n` requests were recorded; false on timeout.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut requests = self.shared.requests.lock().expect("requests lock");
        while requests.len() < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            requests = self
                .shared
                .requests_changed
                .wait_timeout(requests, deadline - now)
                .expect("requests lock")
                .0;
        }
        true
    }

    /// Number of `tools/call` requests counted against the quota so far.
    pub fn tool_call_count(&self) -> u64 {
        self.shared.tool_calls.load(Ordering::SeqCst)
    }

    /// Stops accepting and ends connection threads (also done by `Drop`).
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.accept_thread.take() {
            // Unblock accept().
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500));
            let _ = handle.join();
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let conn_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("standin-conn".into())
            .spawn(move || serve_connection(stream, conn_shared));
        if spawned.is_err() {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn record(shared: &Shared, req: &http::Request) -> RecordedRequest {
    let recorded = RecordedRequest {
        method: req.method.clone(),
        path: req.target.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
        json: serde_json::from_slice(&req.body).ok(),
    };
    shared
        .requests
        .lock()
        .expect("requests lock")
        .push(recorded.clone());
    shared.requests_changed.notify_all();
    recorded
}

fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let Ok(mut conn) = http::Conn::new(stream, shared.tls.clone(), &shared.stop) else {
        return;
    };
    loop {
        let req = match conn.read_request() {
            Ok(req) => req,
            Err(http::ReadError::Bad(why)) => {
                let body = format!("400 Bad Request: {why}");
                let resp = http::serialize_response(
                    400,
                    &[("Content-Type".into(), "text/plain; charset=utf-8".into())],
                    body.as_bytes(),
                    true,
                    false,
                );
                let _ = conn.write_all(&resp);
                conn.close();
                return;
            }
            Err(http::ReadError::Closed | http::ReadError::Io) => {
                conn.close();
                return;
            }
        };
        let close = req.wants_close();
        let recorded = record(&shared, &req);
        let bytes = match shared.take_script(&recorded) {
            None => agent::handle(&shared, &recorded).to_bytes(close),
            Some(Reply::Delay(d)) => {
                if !conn.sleep(d) {
                    conn.close();
                    return;
                }
                agent::handle(&shared, &recorded).to_bytes(close)
            }
            Some(Reply::Hang) => {
                conn.hang();
                return;
            }
            Some(Reply::Close) => {
                conn.close();
                return;
            }
            Some(Reply::HeadersThenStall) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\nDate: {}\r\n\r\n",
                    util::http_date_now()
                );
                let _ = conn.write_all(head.as_bytes());
                conn.hang();
                return;
            }
            Some(Reply::Raw {
                status,
                headers,
                body,
            }) => http::serialize_response(status, &headers, &body, close, false),
            Some(Reply::Json { status, body }) => {
                agent::Response::json(status, &body).to_bytes(close)
            }
            Some(Reply::ToolResultText(text)) => {
                agent::Response::tool_text(&recorded, &text, false).to_bytes(close)
            }
            Some(Reply::IsError(text)) => {
                agent::Response::tool_text(&recorded, &text, true).to_bytes(close)
            }
            Some(Reply::Bytes(bytes)) => {
                let _ = conn.write_all(&bytes);
                conn.close();
                return;
            }
            Some(Reply::BytesThenStall(bytes)) => {
                let _ = conn.write_all(&bytes);
                conn.hang();
                return;
            }
            Some(Reply::ChunkedForever { chunk, interval }) => {
                stream_chunked_forever(&mut conn, &chunk, interval);
                return;
            }
            Some(Reply::Dribble {
                status,
                body,
                interval,
            }) => {
                dribble(&mut conn, status, &body, interval);
                return;
            }
            Some(Reply::Huge {
                status,
                prefix,
                filler,
                fill,
            }) => {
                stream_huge(&mut conn, status, &prefix, filler, fill);
                return;
            }
        };
        if conn.write_all(&bytes).is_err() || close {
            conn.close();
            return;
        }
    }
}

/// The head of a streamed reply (`Connection: close`: the body ends the exchange).
fn stream_head(status: u16, framing: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\nDate: {}\r\n\r\n",
        http::reason_phrase(status),
        util::http_date_now()
    )
    .into_bytes()
}

fn stream_chunked_forever(conn: &mut http::Conn<'_>, chunk: &[u8], interval: Duration) {
    if conn
        .write_all(&stream_head(200, "Transfer-Encoding: chunked"))
        .is_ok()
        && !chunk.is_empty()
    {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
        while !conn.stopping() && conn.write_all(&framed).is_ok() {
            if !interval.is_zero() && !conn.sleep(interval) {
                break;
            }
        }
    }
    conn.close();
}

fn dribble(conn: &mut http::Conn<'_>, status: u16, body: &[u8], interval: Duration) {
    let head = stream_head(status, &format!("Content-Length: {}", body.len()));
    if conn.write_all(&head).is_ok() {
        for byte in body {
            if !conn.sleep(interval) || conn.write_all(&[*byte]).is_err() {
                break;
            }
        }
    }
    conn.close();
}

fn stream_huge(conn: &mut http::Conn<'_>, status: u16, prefix: &[u8], filler: u64, fill: u8) {
    let length = prefix.len() as u64 + filler;
    let head = stream_head(status, &format!("Content-Length: {length}"));
    if conn.write_all(&head).is_ok() && conn.write_all(prefix).is_ok() {
        let block = vec![fill; 64 * 1024];
        let mut left = filler;
        while left > 0 && !conn.stopping() {
            let n = left.min(block.len() as u64) as usize;
            if conn.write_all(&block[..n]).is_err() {
                break;
            }
            left -= n as u64;
        }
    }
    conn.close();
}
