//! What Codex sends a hook on stdin, and what the hooks derive from it.
//!
//! Nothing in the payload is trusted: every field may be missing, of another type, huge or
//! hostile. Parsing never panics; anything unusable means "nothing to govern".

use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::text::first_chars;

/// The prefix of this project's own MCP tools, which the hooks never govern.
pub const OWN_MCP_PREFIX: &str = "mcp__axonflow__";

/// Roughly what one parsed JSON value costs beyond its text: a `serde_json::Value` and its
/// share of the vector or map holding it (ten million `{}` took 740 MB).
const PARSED_VALUE_BYTES: u64 = 64;

/// The payload's size as the hook would hold it parsed: its bytes, plus
/// [`PARSED_VALUE_BYTES`] for each JSON value in it (counted as one per `[`, `{` and `,`
/// outside strings, plus one: never fewer than there are).
pub fn size_when_parsed(bytes: &[u8]) -> u64 {
    let mut values = 1u64;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'[' | b'{' | b',' => values += 1,
                _ => {}
            }
        }
    }
    (bytes.len() as u64).saturating_add(values.saturating_mul(PARSED_VALUE_BYTES))
}

/// A hook payload with a non-empty `tool_name`.
#[derive(Debug, Clone)]
pub struct Payload {
    pub tool_name: String,
    /// `tool_input`, as received (any JSON type, `Null` when absent).
    pub tool_input: Value,
    /// `tool_response` (PostToolUse), `Null` when absent.
    pub tool_response: Value,
}

/// How the tool is treated, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// Codex shell (`Bash`), and the legacy names `exec_command`, `shell`.
    Shell,
    ApplyPatch,
    /// `mcp__axonflow__*`: our own tools, never governed.
    OwnMcp,
    Mcp,
    Write,
    Edit,
    NotebookEdit,
    Other,
}

impl Payload {
    /// Parses a hook document. `None` for invalid JSON, a non-object, or a missing, empty or
    /// non-string `tool_name`.
    ///
    /// Each member is parsed on its own: Codex accepts arguments (and MCP results) as deep as
    /// serde_json's nesting limit, and the document holds them one level deeper, so parsing it
    /// whole would fail on a call Codex runs, and let it through unchecked.
    pub fn parse(stdin: &[u8]) -> Option<Payload> {
        let document: HashMap<String, &RawValue> = serde_json::from_slice(stdin).ok()?;
        let member = |name: &str| -> Option<Value> {
            match document.get(name) {
                Some(raw) => serde_json::from_str(raw.get()).ok(),
                None => Some(Value::Null),
            }
        };
        let tool_name = match member("tool_name")? {
            Value::String(name) if !name.is_empty() => name,
            _ => return None,
        };
        Some(Payload {
            tool_name,
            tool_input: member("tool_input")?,
            tool_response: member("tool_response")?,
        })
    }

    pub fn kind(&self) -> ToolKind {
        match self.tool_name.as_str() {
            "Bash" | "exec_command" | "shell" => ToolKind::Shell,
            "apply_patch" => ToolKind::ApplyPatch,
            "Write" => ToolKind::Write,
            "Edit" => ToolKind::Edit,
            "NotebookEdit" => ToolKind::NotebookEdit,
            name if name.starts_with(OWN_MCP_PREFIX) => ToolKind::OwnMcp,
            name if name.starts_with("mcp__") => ToolKind::Mcp,
            _ => ToolKind::Other,
        }
    }

    /// `codex.<tool_name>`: the connector type the agent scopes policies by.
    pub fn connector_type(&self) -> String {
        format!("codex.{}", self.tool_name)
    }

    fn input_field(&self, key: &str) -> Option<&Value> {
        self.tool_input.get(key).filter(|v| !v.is_null())
    }

    fn input_str(&self, key: &str) -> Option<&str> {
        self.input_field(key).and_then(Value::as_str)
    }

    /// The statement PreToolUse asks `check_policy` about; `None` when the call is not
    /// governed (our own MCP tools, an unusable shell input, or an empty statement).
    pub fn statement(&self) -> Option<String> {
        let statement = match self.kind() {
            ToolKind::OwnMcp => return None,
            ToolKind::Shell => self.shell_command()?,
            ToolKind::ApplyPatch => match self.input_field("command") {
                Some(Value::String(patch)) => patch.clone(),
                _ => compact(&self.tool_input),
            },
            ToolKind::Mcp => {
                let picked = ["query", "statement", "command", "url"]
                    .iter()
                    .filter_map(|key| self.input_field(key))
                    .find(|v| **v != Value::Bool(false))
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => compact(other),
                    });
                match picked {
                    Some(text) if !text.is_empty() && text != "null" => text,
                    _ => compact(&self.tool_input),
                }
            }
            ToolKind::Write | ToolKind::Edit => {
                let body_key = if self.kind() == ToolKind::Write {
                    "content"
                } else {
                    "new_string"
                };
                format!(
                    "{}\n{}",
                    self.input_str("file_path").unwrap_or_default(),
                    first_chars(self.input_str(body_key).unwrap_or_default(), 2000)
                )
            }
            ToolKind::NotebookEdit => self.notebook_content().unwrap_or_default().to_string(),
            ToolKind::Other => compact(&self.tool_input),
        };
        (!is_empty_statement(&statement)).then_some(statement)
    }

    /// The shell command: `cmd` if present and not null, else `command`. A string as is, an
    /// argv array as 2-space pretty JSON; anything else is unusable.
    fn shell_command(&self) -> Option<String> {
        if !self.tool_input.is_object() {
            return None;
        }
        let value = self
            .input_field("cmd")
            .or_else(|| self.input_field("command"))?;
        match value {
            Value::String(command) => Some(command.clone()),
            Value::Array(_) => serde_json::to_string_pretty(value).ok(),
            _ => None,
        }
    }

    fn notebook_content(&self) -> Option<&str> {
        self.input_str("cell_content")
            .or_else(|| self.input_str("content"))
    }

    /// The text PostToolUse sends to `check_output`; `None` when there is nothing to scan.
    /// Copies the payload; the hook itself uses [`Payload::into_scan_text`].
    pub fn scan_text(&self) -> Option<String> {
        self.clone().into_scan_text()
    }

    /// [`Payload::scan_text`], moving the text out of the payload instead of copying it.
    pub fn into_scan_text(mut self) -> Option<String> {
        let text = match self.kind() {
            ToolKind::OwnMcp | ToolKind::Other => return None,
            ToolKind::Shell => match std::mem::take(&mut self.tool_response) {
                Value::String(output) => output,
                Value::Object(mut response) => {
                    let output =
                        ["stdout", "output"]
                            .iter()
                            .find_map(|key| match response.remove(*key) {
                                Some(Value::String(text)) if !text.is_empty() => Some(text),
                                _ => None,
                            });
                    match output {
                        Some(output) => output,
                        None => self
                            .shell_command()
                            .filter(|command| has_redirect(command))
                            .unwrap_or_default(),
                    }
                }
                _ => String::new(),
            },
            ToolKind::ApplyPatch => self.take_input_str("command").unwrap_or_default(),
            ToolKind::Mcp => compact(&self.tool_response),
            ToolKind::Write => self.take_input_str("content").unwrap_or_default(),
            ToolKind::Edit => self.take_input_str("new_string").unwrap_or_default(),
            ToolKind::NotebookEdit => self
                .take_input_str("cell_content")
                .or_else(|| self.take_input_str("content"))
                .unwrap_or_default(),
        };
        (!text.is_empty() && text != "null").then_some(text)
    }

    /// A string field of `tool_input`, moved out; `None` when absent or not a string.
    fn take_input_str(&mut self, key: &str) -> Option<String> {
        match self.tool_input.get_mut(key) {
            Some(Value::String(text)) => Some(std::mem::take(text)),
            _ => None,
        }
    }

    /// The `audit_tool_call` arguments for a tool that ran.
    pub fn post_audit_arguments(&self) -> Value {
        let input = match &self.tool_input {
            Value::Null => Value::Object(Map::new()),
            other => other.clone(),
        };
        let (summary, success, error_message) = match &self.tool_response {
            // Codex's shell and apply_patch output: no exit status, and unknown is not failure.
            Value::String(output) => (first_chars(output, 500).to_string(), true, String::new()),
            Value::Null => ("{}".to_string(), true, String::new()),
            other => {
                let summary = compact_prefix(other, 500);
                let success = match other.get("exitCode").filter(|v| !v.is_null()) {
                    Some(code) => code.as_f64() == Some(0.0),
                    None => match other.get("success").filter(|v| !v.is_null()) {
                        Some(Value::Bool(success)) => *success,
                        Some(_) => true,
                        None => true,
                    },
                };
                let stderr = other
                    .get("stderr")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                (summary, success, stderr)
            }
        };
        crate::agent::object([
            ("tool_name", Value::from(self.tool_name.as_str())),
            ("caller_name", Value::from("codex")),
            ("tool_type", Value::from("codex")),
            ("input", input),
            (
                "output",
                crate::agent::object([("summary", Value::from(summary))]),
            ),
            ("success", Value::from(success)),
            ("error_message", Value::from(error_message)),
        ])
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The first `chars` characters of the compact JSON of `value`, without serializing the rest
/// (an MCP result may be tens of MiB).
fn compact_prefix(value: &Value, chars: usize) -> String {
    let mut prefix = CappedBuffer {
        bytes: Vec::new(),
        cap: chars * 4 + 4,
    };
    // Stops with an error once the cap is reached: the prefix is all that is wanted.
    let _ = serde_json::to_writer(&mut prefix, value);
    let text = match String::from_utf8(prefix.bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let mut bytes = error.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    };
    first_chars(&text, chars).to_string()
}

struct CappedBuffer {
    bytes: Vec<u8>,
    cap: usize,
}

impl std::io::Write for CappedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.cap.saturating_sub(self.bytes.len());
        if room == 0 {
            return Err(std::io::Error::other("prefix complete"));
        }
        let taken = room.min(buf.len());
        self.bytes.extend_from_slice(&buf[..taken]);
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn is_empty_statement(statement: &str) -> bool {
    matches!(statement, "" | "null" | "{}")
}

/// ERE `>>?\s*\S`: some `>` followed, after optional whitespace, by a non-space character.
fn has_redirect(command: &str) -> bool {
    command.match_indices('>').any(|(i, _)| {
        command[i + 1..]
            .chars()
            .find(|c| !c.is_whitespace())
            .is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(doc: Value) -> Payload {
        Payload::parse(doc.to_string().as_bytes()).expect("valid payload")
    }

    #[test]
    fn rejects_unusable_documents() {
        for bad in [
            &b""[..],
            b"null",
            b"[]",
            b"{}",
            b"{\"tool_name\":\"\"}",
            b"{\"tool_name\":5}",
            b"\xff",
        ] {
            assert!(Payload::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn shell_statement() {
        let s = |input: Value| payload(json!({"tool_name":"Bash","tool_input":input})).statement();
        assert_eq!(s(json!({"command":"ls -la"})).as_deref(), Some("ls -la"));
        assert_eq!(s(json!({"cmd":"a","command":"b"})).as_deref(), Some("a"));
        assert_eq!(s(json!({"cmd":null,"command":"b"})).as_deref(), Some("b"));
        assert_eq!(s(json!({"cmd":"","command":"b"})), None);
        assert_eq!(
            s(json!({"command":["bash","-lc","ls"]})).as_deref(),
            Some("[\n  \"bash\",\n  \"-lc\",\n  \"ls\"\n]")
        );
        assert_eq!(s(json!({"command":5})), None);
        assert_eq!(s(json!("ls")), None);
        assert_eq!(s(json!({"command":"null"})), None);
    }

    #[test]
    fn mcp_statement_picks_the_first_meaningful_field() {
        let s = |input: Value| {
            payload(json!({"tool_name":"mcp__pg__query","tool_input":input})).statement()
        };
        assert_eq!(s(json!({"url":"u","query":"q"})).as_deref(), Some("q"));
        assert_eq!(
            s(json!({"query":false,"statement":"st"})).as_deref(),
            Some("st")
        );
        assert_eq!(s(json!({"query":{"a":1}})).as_deref(), Some("{\"a\":1}"));
        assert_eq!(
            s(json!({"query":"","x":1})).as_deref(),
            Some("{\"query\":\"\",\"x\":1}")
        );
        assert_eq!(s(json!({})), None);
        assert_eq!(
            payload(
                json!({"tool_name":"mcp__axonflow__check_policy","tool_input":{"statement":"x"}})
            )
            .statement(),
            None
        );
    }

    #[test]
    fn write_statement_truncates_by_characters() {
        let content = "é".repeat(2500);
        let st =
            payload(json!({"tool_name":"Write","tool_input":{"file_path":"/f","content":content}}))
                .statement()
                .unwrap();
        assert_eq!(st, format!("/f\n{}", "é".repeat(2000)));
    }

    #[test]
    fn compact_prefix_matches_the_full_serialization() {
        let value = json!({"content":[{"type":"text","text":"é".repeat(3000)}],"n":[1,2,3]});
        let full = compact(&value);
        for chars in [0, 1, 20, 500, 5000] {
            assert_eq!(compact_prefix(&value, chars), first_chars(&full, chars));
        }
    }

    #[test]
    fn redirect_detection() {
        assert!(has_redirect("echo hi > out"));
        assert!(has_redirect("cmd 2>&1"));
        assert!(has_redirect("a >>log"));
        assert!(!has_redirect("echo >   "));
        assert!(!has_redirect("echo hi"));
    }

    #[test]
    fn audit_arguments_for_object_responses() {
        let a = payload(json!({"tool_name":"Bash","tool_input":{"command":"x"},
            "tool_response":{"stdout":"o","stderr":"e","exitCode":1}}))
        .post_audit_arguments();
        assert_eq!(a["success"], json!(false));
        assert_eq!(a["error_message"], json!("e"));
        assert_eq!(
            a["output"]["summary"],
            json!("{\"stdout\":\"o\",\"stderr\":\"e\",\"exitCode\":1}")
        );
        let b = payload(json!({"tool_name":"Bash","tool_response":{"success":"yes"}}))
            .post_audit_arguments();
        assert_eq!(b["success"], json!(true));
        assert_eq!(b["input"], json!({}));
    }

    #[test]
    fn parsed_size_counts_values_outside_strings_only() {
        let cost = |text: &str| (size_when_parsed(text.as_bytes()) - text.len() as u64) / 64;
        assert_eq!(cost(r#""a,[{""#), 1);
        assert_eq!(cost(r#""a\",[{""#), 1);
        assert_eq!(cost(r#""a\\",[{""#), 4);
        assert_eq!(cost(r#"["a\"",1,2]"#), 4);
        assert_eq!(cost(r#"{"a":[1,2]}"#), 4);
    }
}
