//! A fake OpenAI Responses API on 127.0.0.1 (codex-host.md §11): `POST /v1/responses` answers
//! with server-sent events, one scripted tool call on the first turn and the assistant message
//! `FAKE_DONE` once the tool's output comes back. Every request is logged.
//!
//! Hand-written HTTP/1.1: thread per connection, keep-alive, Content-Length and chunked
//! request bodies; every response carries a Content-Length, so Codex never waits for more.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

/// The final assistant message of every scripted conversation.
pub const FAKE_DONE: &str = "FAKE_DONE";

/// What the model does on its first turn.
#[derive(Clone, Debug)]
pub enum ToolCall {
    /// Call whichever shell tool the request advertises (`exec_command` `{"cmd"}`,
    /// `shell_command` `{"command"}` or `shell` `{"command":["bash","-lc",…]}`).
    Shell(String),
    /// A freeform `apply_patch` custom tool call with this patch text.
    ApplyPatch(String),
    /// A call of tool `tool` inside the MCP namespace tool `namespace` (e.g. `mcp__axonflow`).
    Mcp {
        namespace: String,
        tool: String,
        arguments: Value,
    },
    /// No tool: answer `FAKE_DONE` at once.
    Nothing,
}

/// One HTTP request the fake received.
#[derive(Clone, Debug)]
pub struct ModelRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON (`Value::Null` if it is not JSON).
    pub json: Value,
}

impl ModelRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Shared {
    stop: AtomicBool,
    script: Mutex<ToolCall>,
    requests: Mutex<Vec<ModelRequest>>,
    problems: Mutex<Vec<String>>,
    response_counter: AtomicU64,
}

/// The running fake. Dropping it stops it.
pub struct FakeModel {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl FakeModel {
    /// Binds 127.0.0.1:0 and serves on background threads.
    pub fn start(script: ToolCall) -> FakeModel {
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).expect("bind the fake model on 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            script: Mutex::new(script),
            requests: Mutex::new(Vec::new()),
            problems: Mutex::new(Vec::new()),
            response_counter: AtomicU64::new(0),
        });
        let accept_shared = shared.clone();
        let accept = std::thread::Builder::new()
            .name("fake-model-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn the fake model");
        FakeModel {
            shared,
            addr,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>/v1`: the provider's `base_url` and `OPENAI_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.addr.port())
    }

    /// Replaces what the model does on its next first turn.
    pub fn set_script(&self, script: ToolCall) {
        *self.shared.script.lock().expect("script lock") = script;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.shared.requests.lock().expect("requests lock").clone()
    }

    /// The JSON bodies of every `POST …/responses`, in arrival order.
    pub fn responses_requests(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.split('?').next() == Some("/v1/responses"))
            .map(|r| r.json)
            .collect()
    }

    /// Forgets the logged requests and problems.
    pub fn clear(&self) {
        self.shared.requests.lock().expect("requests lock").clear();
        self.shared.problems.lock().expect("problems lock").clear();
    }

    /// What went wrong while answering (no shell tool advertised, unknown path, …).
    pub fn problems(&self) -> Vec<String> {
        self.shared.problems.lock().expect("problems lock").clone()
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.accept.take() {
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500));
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = Vec::new();
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let conn_shared = shared.clone();
        if let Ok(handle) = std::thread::Builder::new()
            .name("fake-model-conn".into())
            .spawn(move || serve(stream, conn_shared))
        {
            connections.push(handle);
        }
        connections.retain(|h| !h.is_finished());
    }
    for handle in connections {
        let _ = handle.join();
    }
}

/// A buffered reader over a stream with a short read timeout, so that a connection thread
/// notices `stop` while Codex keeps an idle keep-alive connection open.
struct Reader<'a> {
    stream: TcpStream,
    buf: Vec<u8>,
    stop: &'a AtomicBool,
}

impl Reader<'_> {
    /// Reads more bytes into `buf`; false on EOF, error or stop.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(_) => return false,
            }
        }
    }

    /// Bytes up to and including `\r\n`, without it.
    fn line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..pos].to_vec();
                self.buf.drain(..pos + 2);
                return Some(line);
            }
            if self.buf.len() > 1 << 20 || !self.fill() {
                return None;
            }
        }
    }

    fn exact(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill() {
                return None;
            }
        }
        Some(self.buf.drain(..n).collect())
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(reader: &mut Reader) -> Option<Request> {
    let mut request_line = reader.line()?;
    while request_line.is_empty() {
        request_line = reader.line()?;
    }
    let request_line = String::from_utf8_lossy(&request_line).into_owned();
    let mut parts = request_line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let line = reader.line()?;
        if line.is_empty() {
            break;
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let size_line = String::from_utf8_lossy(&reader.line()?).into_owned();
            let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !reader.line()?.is_empty() {}
                break;
            }
            let data = reader.exact(size)?;
            request.body.extend_from_slice(&data);
            if !reader.line()?.is_empty() {
                return None;
            }
        }
    } else if let Some(len) = request.header("content-length") {
        let len: usize = len.parse().ok()?;
        request.body = reader.exact(len)?;
    }
    Some(request)
}

fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = Reader {
        stream,
        buf: Vec::new(),
        stop: &shared.stop,
    };
    while let Some(request) = read_request(&mut reader) {
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let json = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        if let Some(encoding) = request.header("content-encoding") {
            shared
                .problems
                .lock()
                .expect("problems lock")
                .push(format!("request body has content-encoding {encoding}"));
        }
        shared
            .requests
            .lock()
            .expect("requests lock")
            .push(ModelRequest {
                method: request.method.clone(),
                path: request.target.clone(),
                headers: request.headers.clone(),
                json: json.clone(),
            });
        let path = request.target.split('?').next().unwrap_or("").to_string();
        let (status, content_type, body) = if request.method == "GET" && path.ends_with("/models") {
            (
                "200 OK",
                "application/json",
                json!({"object": "list", "data": [], "models": []}).to_string(),
            )
        } else if request.method == "POST" && path == "/v1/responses" {
            ("200 OK", "text/event-stream", respond(&shared, &json))
        } else {
            shared.problems.lock().expect("problems lock").push(format!(
                "unexpected request {} {}",
                request.method, request.target
            ));
            ("404 Not Found", "text/plain", "not found".to_string())
        };
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\ncontent-length: {}\r\nconnection: {}\r\n\r\n",
            body.len(),
            if close { "close" } else { "keep-alive" }
        );
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        if writer.write_all(&bytes).is_err() || writer.flush().is_err() || close {
            break;
        }
    }
    let _ = writer.shutdown(std::net::Shutdown::Both);
}

fn usage() -> Value {
    json!({"input_tokens": 0, "input_tokens_details": null, "output_tokens": 0,
           "output_tokens_details": null, "total_tokens": 0})
}

fn sse(events: &[Value]) -> String {
    let mut out = String::new();
    for event in events {
        let kind = event["type"].as_str().unwrap_or("message");
        out.push_str(&format!("event: {kind}\ndata: {event}\n\n"));
    }
    out
}

/// True when the request's `input` already carries a tool call's output (second turn).
pub fn has_tool_output(request: &Value) -> bool {
    request["input"].as_array().is_some_and(|items| {
        items.iter().any(|item| {
            item["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("_call_output"))
        })
    })
}

/// The names of the tools a request advertises (top level).
pub fn tool_names(request: &Value) -> Vec<String> {
    request["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn respond(shared: &Shared, request: &Value) -> String {
    let n = shared.response_counter.fetch_add(1, Ordering::SeqCst) + 1;
    let id = format!("resp_{n}");
    let created = json!({"type": "response.created", "response": {"id": id}});
    let completed = json!({"type": "response.completed", "response": {"id": id, "usage": usage()}});
    let done_message = || {
        json!({"type": "response.output_item.done", "item": {
            "type": "message", "role": "assistant", "id": format!("msg_{n}"),
            "content": [{"type": "output_text", "text": FAKE_DONE}]}})
    };
    if has_tool_output(request) {
        return sse(&[created, done_message(), completed]);
    }
    let script = shared.script.lock().expect("script lock").clone();
    let call_id = format!("call_{n}");
    let item = match script {
        ToolCall::Nothing => None,
        ToolCall::Shell(cmd) => {
            let names = tool_names(request);
            let arguments = if names.iter().any(|t| t == "exec_command") {
                Some(("exec_command", json!({ "cmd": cmd })))
            } else if names.iter().any(|t| t == "shell_command") {
                Some(("shell_command", json!({ "command": cmd })))
            } else if names.iter().any(|t| t == "shell") {
                Some(("shell", json!({"command": ["bash", "-lc", cmd]})))
            } else {
                None
            };
            match arguments {
                Some((name, arguments)) => Some(json!({
                    "type": "function_call", "id": format!("fc_{n}"), "call_id": call_id,
                    "name": name, "arguments": arguments.to_string()})),
                None => {
                    shared.problems.lock().expect("problems lock").push(format!(
                        "no shell tool (exec_command, shell_command, shell) among {names:?}"
                    ));
                    None
                }
            }
        }
        ToolCall::ApplyPatch(patch) => {
            if !tool_names(request).iter().any(|t| t == "apply_patch") {
                shared.problems.lock().expect("problems lock").push(format!(
                    "apply_patch is not among the tools {:?}",
                    tool_names(request)
                ));
            }
            Some(json!({
                "type": "custom_tool_call", "id": format!("ctc_{n}"), "call_id": call_id,
                "name": "apply_patch", "input": patch}))
        }
        ToolCall::Mcp {
            namespace,
            tool,
            arguments,
        } => mcp_call(shared, request, n, &call_id, &namespace, &tool, &arguments),
    };
    match item {
        Some(item) => sse(&[
            created,
            json!({"type": "response.output_item.done", "item": item}),
            completed,
        ]),
        None => sse(&[created, done_message(), completed]),
    }
}

/// The namespace tool `namespace` as offered in `tools` (`{"type":"namespace", "name", "tools":[…]}`).
fn offered_namespace<'a>(tools: &'a Value, namespace: &str) -> Option<&'a Value> {
    tools
        .as_array()?
        .iter()
        .find(|t| t["name"].as_str() == Some(namespace))
}

/// Codex 0.169.0 defers MCP tools: the request lists `mcp__<server>` only by name in a
/// developer message and offers the client-side `tool_search`. So the model searches first
/// (`tool_search_call`), Codex answers with a `tool_search_output` carrying the namespace
/// tool, and the model then calls the MCP tool. When the namespace is already offered in
/// `tools`, the model calls it at once.
fn mcp_call(
    shared: &Shared,
    request: &Value,
    n: u64,
    call_id: &str,
    namespace: &str,
    tool: &str,
    arguments: &Value,
) -> Option<Value> {
    let problem = |text: String| shared.problems.lock().expect("problems lock").push(text);
    let call = json!({
        "type": "function_call", "id": format!("fc_{n}"), "call_id": call_id,
        "namespace": namespace, "name": tool, "arguments": arguments.to_string()});
    let check_namespace = |ns: &Value, source: &str| {
        let has_tool = ns["tools"]
            .as_array()
            .is_some_and(|sub| sub.iter().any(|t| t["name"].as_str() == Some(tool)));
        if !has_tool {
            problem(format!(
                "the MCP namespace {namespace} in {source} has no sub-tool {tool}: {ns}"
            ));
        }
    };
    if let Some(ns) = offered_namespace(&request["tools"], namespace) {
        check_namespace(ns, "tools");
        return Some(call);
    }
    let search_output = request["input"].as_array().and_then(|items| {
        items
            .iter()
            .rev()
            .find(|i| i["type"] == "tool_search_output")
    });
    if let Some(output) = search_output {
        match offered_namespace(&output["tools"], namespace) {
            Some(ns) => check_namespace(ns, "tool_search_output"),
            None => problem(format!(
                "tool_search did not return the namespace {namespace}: {output}"
            )),
        }
        return Some(call);
    }
    let searchable = request["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["type"] == "tool_search"));
    if !searchable {
        problem(format!(
            "neither the MCP namespace {namespace} nor tool_search is among the tools {:?}",
            tool_names(request)
        ));
        return Some(call);
    }
    let server = namespace.trim_start_matches("mcp__");
    Some(json!({
        "type": "tool_search_call", "id": format!("ts_{n}"), "call_id": call_id,
        "status": "completed", "execution": "client",
        "arguments": {"query": format!("{server} {tool}"), "limit": 8}}))
}
