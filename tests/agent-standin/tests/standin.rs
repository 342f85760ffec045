//! Tests of the stand-in agent over raw TCP (so the exact bytes on the wire are checked).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use axonflow_agent_standin::{AgentConfig, HealthMode, Match, Policy, Reply, StandIn};
use serde_json::{json, Value};

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    /// `result.content[0].text`.
    fn tool_text(&self) -> String {
        self.json()["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_string()
    }
    fn tool_result(&self) -> Value {
        serde_json::from_str(&self.tool_text()).unwrap()
    }
}

struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(agent: &StandIn) -> Client {
        let stream = TcpStream::connect(agent.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).unwrap();
    }

    fn read_response(&mut self) -> HttpResponse {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            let h = h.trim_end_matches(['\r', '\n']);
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.to_string(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).unwrap();
        HttpResponse {
            status,
            headers,
            body,
        }
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes);
        self.read_response()
    }
}

const JSON_HEADERS: &[(&str, &str)] = &[
    ("Content-Type", "application/json"),
    ("Accept", "application/json"),
];

fn post(agent: &StandIn, headers: &[(&str, &str)], body: &Value) -> HttpResponse {
    Client::connect(agent).request(
        "POST",
        "/api/v1/mcp-server",
        headers,
        serde_json::to_string(body).unwrap().as_bytes(),
    )
}

fn call(id: &str, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{"name":tool,"arguments":arguments}})
}

fn check_policy(statement: &str) -> Value {
    call(
        "hook-pre",
        "check_policy",
        json!({"connector_type":"codex.Bash","statement":statement,"operation":"execute"}),
    )
}

#[test]
fn allowed_check_policy_shape() {
    let agent = StandIn::start(AgentConfig::default());
    let resp = post(&agent, JSON_HEADERS, &check_policy("echo axonflow-doctor"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Content-Type"), Some("application/json"));
    let text = resp.text();
    assert!(text.ends_with("}\n"), "Go encoder newline: {text:?}");
    assert!(text.starts_with(r#"{"jsonrpc":"2.0","id":"hook-pre","result":{"content":[{"type":"text","text":"{\n  \"allowed\": true,"#), "{text}");
    let inner = resp.tool_text();
    let result = resp.tool_result();
    assert_eq!(result["allowed"], json!(true));
    assert_eq!(result["policies_evaluated"], json!(93));
    assert!(!result["decision_id"].as_str().unwrap().is_empty());
    assert!(result.get("block_reason").is_none());
    // Pretty with sorted keys.
    assert_eq!(
        inner,
        serde_json::to_string_pretty(&sorted(&result)).unwrap()
    );
    let keys: Vec<&String> = result.as_object().unwrap().keys().collect();
    let mut sorted_keys = keys.clone();
    sorted_keys.sort();
    assert_eq!(keys, sorted_keys);
    assert!(resp.json()["result"].get("isError").is_none());
}

fn sorted(v: &Value) -> Value {
    axonflow_agent_standin::sort_keys(v)
}

#[test]
fn blocked_check_policy_shapes() {
    let agent = StandIn::start(AgentConfig::default());
    let result = post(
        &agent,
        JSON_HEADERS,
        &check_policy("psql -c \"DROP TABLE users; --\""),
    )
    .tool_result();
    assert_eq!(result["allowed"], json!(false));
    assert_eq!(
        result["block_reason"],
        json!("Detected SQL injection pattern")
    );
    assert_eq!(result["blocked_by"], json!("sys_sqli_drop_table"));
    assert_eq!(result["risk_level"], json!("high"));
    assert_eq!(result["override_available"], json!(true));
    assert_eq!(result["policies_evaluated"], json!(93));
    assert_eq!(
        result["policy_matches"][0]["policy_id"],
        json!("sys_sqli_drop_table")
    );
    assert!(result.get("override_existing_id").is_none());

    let resp = post(
        &agent,
        JSON_HEADERS,
        &check_policy("rm -rf / --no-preserve-root"),
    );
    let text = resp.tool_text();
    assert!(text.starts_with("{\n  \"allowed\": false,\n  \"block_reason\": \"Block destructive filesystem operations\",\n  \"blocked_by\": \"sys_dangerous_destructive_fs\",\n"), "{text}");
    let result = resp.tool_result();
    assert_eq!(result["risk_level"], json!("critical"));
    assert_eq!(result["override_available"], json!(false));

    for s in [
        "SELECT a FROM t UNION ALL SELECT password FROM users",
        "x' OR 1=1 --",
        "dd if=/dev/zero of=/dev/sda",
        "mkfs.ext4 /dev/sdb1",
    ] {
        assert_eq!(
            post(&agent, JSON_HEADERS, &check_policy(s)).tool_result()["allowed"],
            json!(false),
            "{s}"
        );
    }
    assert_eq!(
        post(&agent, JSON_HEADERS, &check_policy("rm -rf ./build")).tool_result()["allowed"],
        json!(true)
    );
}

#[test]
fn active_override_and_read_only_posture() {
    let agent = StandIn::start(
        AgentConfig::default()
            .with_active_override("sys_sqli_drop_table", "ov_9")
            .with_policies_evaluated(12),
    );
    let result = post(&agent, JSON_HEADERS, &check_policy("DROP TABLE users")).tool_result();
    assert_eq!(result["allowed"], json!(true));
    assert_eq!(result["override_existing_id"], json!("ov_9"));
    assert_eq!(result["policies_evaluated"], json!(12));

    let agent = StandIn::start(AgentConfig::default().with_read_only_posture());
    let result = post(&agent, JSON_HEADERS, &check_policy("ls")).tool_result();
    let keys: Vec<&str> = result
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "allowed",
            "block_reason",
            "blocked_by",
            "decision_id",
            "read_only_posture"
        ]
    );
    assert_eq!(result["allowed"], json!(false));
    assert_eq!(result["read_only_posture"], json!(true));
}

#[test]
fn custom_policy_and_missing_argument() {
    let agent = StandIn::start(AgentConfig::default().with_policies(vec![Policy::new(
        "custom_x",
        "forbidden",
        "low",
        "Test policy violation",
    )]));
    let result = post(&agent, JSON_HEADERS, &check_policy("a forbidden thing")).tool_result();
    assert_eq!(result["block_reason"], json!("Test policy violation"));
    assert_eq!(result["risk_level"], json!("low"));

    let resp = post(
        &agent,
        JSON_HEADERS,
        &call("hook-pre", "check_policy", json!({"statement":"ls"})),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["result"]["isError"], json!(true));
    assert_eq!(resp.tool_text(), "connector_type is required");
}

#[test]
fn auth_required_401() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("client", "s3cret"));
    let resp = post(&agent, JSON_HEADERS, &check_policy("ls"));
    assert_eq!(resp.status, 401);
    assert_eq!(
        resp.header("WWW-Authenticate"),
        Some("Basic realm=\"AxonFlow MCP Server\"")
    );
    assert_eq!(
        resp.text(),
        "{\"jsonrpc\":\"2.0\",\"id\":\"hook-pre\",\"error\":{\"code\":-32001,\"message\":\"Authentication required\"}}\n"
    );
    // base64("client:s3cret") = Y2xpZW50OnMzY3JldA==
    let mut headers = JSON_HEADERS.to_vec();
    headers.push(("Authorization", "Basic Y2xpZW50OnMzY3JldA=="));
    assert_eq!(post(&agent, &headers, &check_policy("ls")).status, 200);
    let mut wrong = JSON_HEADERS.to_vec();
    wrong.push(("Authorization", "Basic Y2xpZW50Ondyb25n"));
    assert_eq!(post(&agent, &wrong, &check_policy("ls")).status, 401);
}

#[test]
fn user_token_validation() {
    let agent = StandIn::start(AgentConfig::default().with_valid_user_tokens(["good-token"]));
    let mut headers = JSON_HEADERS.to_vec();
    headers.push(("X-User-Token", "bad-token"));
    let resp = post(&agent, &headers, &check_policy("ls"));
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["error"]["code"], json!(-32001));
    let mut headers = JSON_HEADERS.to_vec();
    headers.push(("X-User-Token", "good-token"));
    assert_eq!(post(&agent, &headers, &check_policy("ls")).status, 200);
    assert_eq!(post(&agent, JSON_HEADERS, &check_policy("ls")).status, 200);
}

#[test]
fn parse_error_content_type_and_version() {
    let agent = StandIn::start(AgentConfig::default());
    let mut c = Client::connect(&agent);
    let resp = c.request("POST", "/api/v1/mcp-server", JSON_HEADERS, b"{not json");
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.text(),
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error: invalid JSON\"}}\n"
    );
    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        &[("Content-Type", "text/plain")],
        b"{}",
    );
    assert_eq!(resp.status, 415);
    assert_eq!(resp.json()["error"]["code"], json!(-32600));
    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        &[("Content-Type", "application/json; charset=utf-8")],
        br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["error"]["message"], json!("Invalid Request"));
    assert_eq!(resp.json()["id"], json!(1));
}

#[test]
fn methods_tools_and_notifications() {
    let agent = StandIn::start(AgentConfig::default());
    let mut c = Client::connect(&agent);
    let body = |v: Value| serde_json::to_vec(&v).unwrap();
    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        JSON_HEADERS,
        &body(call("7", "no_such_tool", json!({}))),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json()["error"],
        json!({"code": -32602, "message": "Unknown tool: no_such_tool"})
    );

    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        JSON_HEADERS,
        &body(json!({"jsonrpc":"2.0","method":"notifications/initialized"})),
    );
    assert_eq!(resp.status, 202);
    assert!(resp.body.is_empty());

    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        JSON_HEADERS,
        &body(json!({"jsonrpc":"2.0","id":1,"method":"bogus"})),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json()["error"],
        json!({"code": -32601, "message": "Method not found: bogus"})
    );

    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        JSON_HEADERS,
        &body(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}})),
    );
    assert_eq!(
        resp.json()["result"]["protocolVersion"],
        json!("2025-06-18")
    );
    let session = resp.header("Mcp-Session-Id").unwrap();
    assert!(
        session.starts_with("axonflow-") && session.len() == "axonflow-".len() + 24,
        "{session}"
    );

    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        JSON_HEADERS,
        &body(json!({"jsonrpc":"2.0","id":2,"method":"tools/list"})),
    );
    let tools = resp.json()["result"]["tools"].as_array().unwrap().clone();
    assert_eq!(tools.len(), 10);
    assert_eq!(tools[0]["name"], json!("check_policy"));
    assert_eq!(
        tools[0]["inputSchema"]["required"],
        json!(["connector_type", "statement"])
    );

    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        JSON_HEADERS,
        &body(json!({"jsonrpc":"2.0","id":3,"method":"ping"})),
    );
    assert_eq!(resp.json()["result"], json!({}));

    let resp = c.request("GET", "/api/v1/mcp-server", &[], b"");
    assert_eq!(resp.status, 405);
    assert_eq!(resp.text(), "Method Not Allowed\n");
    assert_eq!(
        c.request("DELETE", "/api/v1/mcp-server", &[], b"").status,
        200
    );
    assert_eq!(c.request("GET", "/nope", &[], b"").status, 404);

    let resp = c.request(
        "POST",
        "/api/v1/mcp-server",
        JSON_HEADERS,
        &body(call(
            "hook-audit",
            "audit_tool_call",
            json!({"tool_name":"Bash","input":{"command":"ls"},"success":true}),
        )),
    );
    let result = resp.tool_result();
    assert_eq!(result["recorded"], json!(true));
    assert_eq!(result["tool_name"], json!("Bash"));
    assert!(result["timestamp"].as_str().unwrap().ends_with('Z'));
    // All of that over one keep-alive connection.
    assert_eq!(agent.requests().len(), 10);
}

#[test]
fn quota_429_envelope() {
    let agent = StandIn::start(
        AgentConfig::default()
            .with_daily_quota(2)
            .with_quota_resets_at("2030-01-02T00:00:00Z")
            .with_quota_retry_after(120),
    );
    for _ in 0..2 {
        assert_eq!(post(&agent, JSON_HEADERS, &check_policy("ls")).status, 200);
    }
    let resp = post(&agent, JSON_HEADERS, &check_policy("ls"));
    assert_eq!(resp.status, 429);
    assert_eq!(resp.header("X-Axonflow-Tier-Limit"), Some("daily_quota"));
    assert_eq!(
        resp.header("X-Axonflow-Upgrade-URL"),
        Some("https://getaxonflow.com/pricing/")
    );
    assert_eq!(resp.header("Retry-After"), Some("120"));
    let body = resp.json();
    assert_eq!(body["id"], json!("hook-pre"));
    assert_eq!(body["result"]["isError"], json!(true));
    let envelope: Value =
        serde_json::from_str(body["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(envelope["limit_type"], json!("daily_quota"));
    assert_eq!(envelope["tier"], json!("free"));
    assert_eq!(envelope["limit"], json!(2));
    assert_eq!(envelope["remaining"], json!(0));
    assert_eq!(envelope["window"], json!("day"));
    assert_eq!(envelope["resets_at"], json!("2030-01-02T00:00:00Z"));
    assert_eq!(envelope["upgrade"]["tier"], json!("Pro"));
    assert!(envelope["upgrade"]["buy_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    assert!(!envelope["upgrade"]["wording"].as_str().unwrap().is_empty());
    assert!(envelope["error"].is_string());
}

#[test]
fn check_output_redaction() {
    let agent = StandIn::start(AgentConfig::default());
    let args = json!({"connector_type":"codex.Bash","message":"Patient SSN is 123-45-6789\n"});
    let result = post(
        &agent,
        JSON_HEADERS,
        &call("hook-scan", "check_output", args),
    )
    .tool_result();
    assert_eq!(result["allowed"], json!(true));
    assert_eq!(
        result["redacted_message"],
        json!("Patient SSN is 1*********9\n")
    );
    assert_eq!(result["redacted_data"], Value::Null);
    assert_eq!(result["policies_evaluated"], json!(93));
    assert!(!result["decision_id"].as_str().unwrap().is_empty());

    let args = json!({"connector_type":"codex.Bash","message":"nothing here"});
    let result = post(
        &agent,
        JSON_HEADERS,
        &call("hook-scan", "check_output", args),
    )
    .tool_result();
    assert_eq!(result["allowed"], json!(true));
    assert!(result.get("redacted_message").is_none());

    let agent = StandIn::start(AgentConfig::default().with_output_block_policy(Policy::new(
        "out_secret",
        "TOP SECRET",
        "high",
        "Classified output",
    )));
    let args = json!({"connector_type":"codex.Bash","message":"TOP SECRET plans"});
    let result = post(
        &agent,
        JSON_HEADERS,
        &call("hook-scan", "check_output", args),
    )
    .tool_result();
    assert_eq!(result["allowed"], json!(false));
    assert_eq!(result["block_reason"], json!("Classified output"));
    assert_eq!(result["override_available"], json!(false));
    assert_eq!(
        result["policy_matches"][0]["policy_id"],
        json!("out_secret")
    );
}

#[test]
fn records_headers_in_order_and_case() {
    let agent = StandIn::start(AgentConfig::default());
    let mut c = Client::connect(&agent);
    let body = serde_json::to_vec(&check_policy("ls")).unwrap();
    c.request(
        "POST",
        "/api/v1/mcp-server",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("x-axonflow-client", "codex-plugin/2.0.0"),
            ("X-User-Token", "tok"),
        ],
        &body,
    );
    let reqs = agent.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].header_names(),
        [
            "Host",
            "Content-Type",
            "Accept",
            "x-axonflow-client",
            "X-User-Token",
            "Content-Length"
        ]
    );
    assert_eq!(
        reqs[0].header("X-Axonflow-Client"),
        Some("codex-plugin/2.0.0")
    );
    assert_eq!(reqs[0].body, body);
    let rpcs = agent.rpc_calls();
    assert_eq!(rpcs.len(), 1);
    assert_eq!(rpcs[0].id, json!("hook-pre"));
    assert_eq!(rpcs[0].tool, "check_policy");
    assert_eq!(rpcs[0].arguments["statement"], json!("ls"));
    assert_eq!(rpcs[0].header("x-user-token"), Some("tok"));
    agent.clear_requests();
    assert!(agent.requests().is_empty());
}

#[test]
fn chunked_body_and_connection_close() {
    let agent = StandIn::start(AgentConfig::default());
    let body = serde_json::to_string(&check_policy("ls")).unwrap();
    let (a, b) = body.split_at(10);
    let mut c = Client::connect(&agent);
    c.send_raw(
        format!(
            "POST /api/v1/mcp-server HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        )
        .as_bytes(),
    );
    let resp = c.read_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("Connection"), Some("close"));
    assert_eq!(resp.tool_result()["allowed"], json!(true));
    let mut rest = Vec::new();
    c.reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    assert_eq!(agent.rpc_calls()[0].arguments["statement"], json!("ls"));
}

#[test]
fn health_modes() {
    let agent = StandIn::start(AgentConfig::default());
    let resp = Client::connect(&agent).request(
        "GET",
        "/health",
        &[("X-Axonflow-Client", "codex-plugin/2.0.0")],
        b"",
    );
    let h = resp.json();
    assert_eq!(h["status"], json!("healthy"));
    assert_eq!(h["version"], json!("9.11.0"));
    assert_eq!(
        h["plugin_compatibility"]["min_plugin_version"]["codex"],
        json!("1.4.0")
    );

    let agent = StandIn::start(AgentConfig::default().with_min_codex_version("3.0.0"));
    let h = Client::connect(&agent)
        .request("GET", "/health", &[], b"")
        .json();
    assert_eq!(
        h["plugin_compatibility"]["min_plugin_version"]["codex"],
        json!("3.0.0")
    );

    let agent = StandIn::start(AgentConfig::default().with_health(HealthMode::LegacyEarly2026));
    let h = Client::connect(&agent)
        .request("GET", "/health", &[], b"")
        .json();
    assert_eq!(
        h.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["status", "service", "timestamp", "version"]
    );
    assert_eq!(h["version"], json!("1.0.0"));
    assert_eq!(post(&agent, JSON_HEADERS, &check_policy("ls")).status, 404);

    let agent = StandIn::start(AgentConfig::default().with_health(HealthMode::Starting));
    let h = Client::connect(&agent)
        .request("GET", "/health", &[], b"")
        .json();
    assert_eq!(h["status"], json!("starting"));
}

#[test]
fn scripted_replies() {
    let agent = StandIn::start(AgentConfig::default());
    agent.script(
        Match::Tool("check_policy"),
        Reply::Json {
            status: 500,
            body: json!({"oops": 1}),
        },
    );
    let resp = post(&agent, JSON_HEADERS, &check_policy("ls"));
    assert_eq!(resp.status, 500);
    assert_eq!(resp.text(), "{\"oops\":1}\n");
    // One-shot: back to normal.
    assert_eq!(post(&agent, JSON_HEADERS, &check_policy("ls")).status, 200);

    agent.script(
        Match::RpcId("hook-pre"),
        Reply::Raw {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<html>bad gateway</html>".to_vec(),
        },
    );
    let resp = post(&agent, JSON_HEADERS, &check_policy("ls"));
    assert_eq!(resp.status, 502);
    assert_eq!(resp.text(), "<html>bad gateway</html>");

    agent.script(
        Match::Any,
        Reply::ToolResultText("{\"allowed\":\"false\"}".into()),
    );
    assert_eq!(
        post(&agent, JSON_HEADERS, &check_policy("ls")).tool_text(),
        "{\"allowed\":\"false\"}"
    );

    agent.script(
        Match::Any,
        Reply::IsError("policy evaluation temporarily unavailable".into()),
    );
    let resp = post(&agent, JSON_HEADERS, &check_policy("ls"));
    assert_eq!(resp.json()["result"]["isError"], json!(true));
    assert_eq!(
        resp.tool_text(),
        "policy evaluation temporarily unavailable"
    );

    agent.script(Match::Any, Reply::Delay(Duration::from_millis(300)));
    let t = Instant::now();
    assert_eq!(post(&agent, JSON_HEADERS, &check_policy("ls")).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    agent.script(Match::Any, Reply::Close);
    let mut c = Client::connect(&agent);
    c.send_raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut rest = Vec::new();
    let _ = c.reader.read_to_end(&mut rest);
    assert!(rest.is_empty());

    agent.script_always(
        Match::Path("/health"),
        Reply::Json {
            status: 503,
            body: json!({"status":"down"}),
        },
    );
    for _ in 0..2 {
        assert_eq!(
            Client::connect(&agent)
                .request("GET", "/health", &[], b"")
                .status,
            503
        );
    }
    agent.clear_scripts();
    assert_eq!(
        Client::connect(&agent)
            .request("GET", "/health", &[], b"")
            .status,
        200
    );
    // Scripted requests are recorded too.
    assert_eq!(agent.requests().len(), 10);
}

#[test]
fn hang_and_stall_end_on_drop() {
    let agent = StandIn::start(AgentConfig::default());
    agent.script(Match::Any, Reply::Hang);
    agent.script(Match::Any, Reply::HeadersThenStall);
    let mut hung = Client::connect(&agent);
    hung.reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    hung.send_raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = [0u8; 16];
    assert!(
        hung.reader.get_mut().read(&mut buf).is_err(),
        "no answer while hanging"
    );

    let mut stalled = Client::connect(&agent);
    stalled.send_raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut line = String::new();
    stalled.reader.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 200 OK\r\n");

    let t = Instant::now();
    drop(agent);
    assert!(t.elapsed() < Duration::from_secs(2));
    // Both connections are closed soon after the drop.
    hung.reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(hung.reader.get_mut().read(&mut buf).unwrap_or(0), 0);
    let mut rest = Vec::new();
    stalled
        .reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stalled.reader.read_to_end(&mut rest);
}

#[test]
fn drop_releases_the_port() {
    for _ in 0..50 {
        let agent = StandIn::start(AgentConfig::default());
        let addr = agent.addr();
        drop(agent);
        assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
    }
}

#[test]
fn expect_100_continue() {
    let agent = StandIn::start(AgentConfig::default());
    let body = serde_json::to_string(&check_policy("ls")).unwrap();
    let mut c = Client::connect(&agent);
    c.send_raw(
        format!(
            "POST /api/v1/mcp-server HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let mut line = String::new();
    c.reader.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
    line.clear();
    c.reader.read_line(&mut line).unwrap();
    assert_eq!(line, "\r\n");
    c.send_raw(body.as_bytes());
    assert_eq!(c.read_response().status, 200);
}

#[test]
fn binary_prints_endpoint_and_serves() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_axonflow-agent-standin"))
        .args(["--auth", "id:secret"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let endpoint = line.trim().strip_prefix("endpoint=").unwrap().to_string();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut c = Client {
        reader: BufReader::new(stream),
    };
    let body = serde_json::to_vec(&check_policy("ls")).unwrap();
    assert_eq!(
        c.request("POST", "/api/v1/mcp-server", JSON_HEADERS, &body)
            .status,
        401
    );
    let mut headers = JSON_HEADERS.to_vec();
    headers.push(("Authorization", "Basic aWQ6c2VjcmV0"));
    assert_eq!(
        c.request("POST", "/api/v1/mcp-server", &headers, &body)
            .status,
        200
    );
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success());
}
