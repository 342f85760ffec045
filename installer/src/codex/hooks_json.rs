//! Our PreToolUse, PostToolUse and UserPromptSubmit groups in `$CODEX_HOME/hooks.json`,
//! merged beside the user's and other tools' hooks without moving a byte of theirs.

use std::path::Path;

use axonflow_codex_hook::event::Event;
use serde_json::{json, Value};

use crate::edit::json_edit::{self, Node};
use crate::error::{CommandError, Result};

/// One handler group of ours.
#[derive(Debug, Clone, PartialEq)]
pub struct OurHook {
    pub event: Event,
    pub matcher: String,
    pub command: String,
    pub timeout: u64,
    pub status_message: Option<String>,
}

impl OurHook {
    /// The group as it appears in hooks.json.
    pub fn group(&self) -> Value {
        let mut handler =
            json!({"type": "command", "command": self.command, "timeout": self.timeout});
        if let Some(message) = &self.status_message {
            handler["statusMessage"] = json!(message);
        }
        if self.event.takes_matcher() {
            json!({"matcher": self.matcher, "hooks": [handler]})
        } else {
            json!({"hooks": [handler]})
        }
    }
}

/// Reads and checks hooks.json text: valid UTF-8 JSON, an object with only the keys Codex
/// accepts. `None`/empty means no hooks yet.
pub fn check(path: &Path, bytes: Option<&[u8]>) -> Result<String> {
    let Some(bytes) = bytes else {
        return Ok(String::new());
    };
    let text = crate::state::fsio::utf8_text(path, bytes)?.to_string();
    if text.trim().is_empty() {
        return Ok(text);
    }
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        CommandError::failure(format!(
            "{} is not valid JSON (line {}, column {}: {})",
            path.display(),
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
        .hint(format!(
            "fix {} by hand, then run the command again; nothing was changed",
            path.display()
        ))
    })?;
    if !value.is_object() {
        return Err(CommandError::failure(format!(
            "{} must hold a JSON object (Codex rejects anything else)",
            path.display()
        )));
    }
    crate::codex::hooks_schema::validate(path, &text)?;
    Ok(text)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Where a group of ours sits: its index in the event's array.
pub fn find(text: &str, event: Event, command: &str) -> Option<usize> {
    let value: Value = serde_json::from_str(text).ok()?;
    value
        .get("hooks")?
        .get(event.json_name())?
        .as_array()?
        .iter()
        .position(|group| {
            group
                .get("hooks")
                .and_then(Value::as_array)
                .is_some_and(|handlers| {
                    handlers
                        .iter()
                        .any(|h| h.get("command").and_then(Value::as_str) == Some(command))
                })
        })
}

/// What merging did, for the receipt and the trust keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    pub text: String,
    /// Group index per hook, in the order given.
    pub indexes: Vec<usize>,
    pub created_hooks_key: bool,
    pub created_events: Vec<Event>,
}

/// Adds (or updates in place) our groups.
pub fn merge(text: &str, ours: &[OurHook]) -> Merged {
    let mut merged = Merged::default();
    let mut text = if text.trim().is_empty() {
        merged.created_hooks_key = true;
        "{\n  \"hooks\": {}\n}\n".to_string()
    } else {
        text.to_string()
    };
    for hook in ours {
        let group = hook.group();
        let root = json_edit::scan(&text);
        let hooks_node = match root.member("hooks") {
            Some(member) => member.value.clone(),
            None => {
                merged.created_hooks_key = true;
                text = json_edit::append_member(&text, &root, "hooks", &json!({}));
                json_edit::scan(&text)
                    .member("hooks")
                    .expect("just added")
                    .value
                    .clone()
            }
        };
        let index = match hooks_node.member(hook.event.json_name()) {
            None => {
                merged.created_events.push(hook.event);
                text = json_edit::append_member(
                    &text,
                    &hooks_node,
                    hook.event.json_name(),
                    &json!([group]),
                );
                0
            }
            Some(member) => {
                let array: &Node = &member.value;
                match find(&text, hook.event, &hook.command) {
                    Some(i) => {
                        let current: Value = serde_json::from_str(
                            &text[array.elements()[i].start..array.elements()[i].end],
                        )
                        .unwrap_or(Value::Null);
                        if current != group {
                            text = json_edit::replace_value(&text, &array.elements()[i], &group);
                        }
                        i
                    }
                    None => {
                        let index = array.elements().len();
                        text = json_edit::append_element(&text, array, &group);
                        index
                    }
                }
            }
        };
        merged.indexes.push(index);
    }
    merged.text = text;
    merged
}

/// Removes our groups (found by command), and the `hooks` key or event arrays we created
/// when they are left empty.
pub fn remove(
    text: &str,
    ours: &[(Event, String)],
    created_events: &[Event],
    created_hooks_key: bool,
) -> String {
    let mut text = text.to_string();
    for (event, command) in ours {
        if let Some(index) = find(&text, *event, command) {
            let root = json_edit::scan(&text);
            let array = &root
                .member("hooks")
                .expect("found above")
                .value
                .member(event.json_name())
                .expect("found above")
                .value;
            text = json_edit::remove_element(&text, array, index);
        }
    }
    for event in created_events {
        let root = json_edit::scan(&text);
        if let Some(hooks) = root.member("hooks") {
            if hooks
                .value
                .member(event.json_name())
                .is_some_and(|m| m.value.elements().is_empty())
            {
                text = json_edit::remove_member(&text, &hooks.value, event.json_name());
            }
        }
    }
    if created_hooks_key {
        let root = json_edit::scan(&text);
        if root.member("hooks").is_some_and(
            |m| matches!(&m.value.kind, json_edit::NodeKind::Object(ms) if ms.is_empty()),
        ) {
            text = json_edit::remove_member(&text, &root, "hooks");
        }
    }
    text
}

/// Our group for `event` as it now stands in the file (found by command), with its index:
/// what Codex will hash when it decides whether to trust it.
pub(crate) fn current_hook(text: &str, event: Event, command: &str) -> Option<(usize, OurHook)> {
    let index = find(text, event, command)?;
    let value: Value = serde_json::from_str(text).ok()?;
    let group = &value["hooks"][event.json_name()][index];
    let handler = group["hooks"]
        .as_array()?
        .iter()
        .find(|h| h.get("command").and_then(Value::as_str) == Some(command))?;
    Some((
        index,
        OurHook {
            event,
            matcher: group
                .get("matcher")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            command: command.to_string(),
            timeout: handler
                .get("timeout")
                .and_then(Value::as_u64)
                .unwrap_or(600),
            status_message: handler
                .get("statusMessage")
                .and_then(Value::as_str)
                .map(str::to_string),
        },
    ))
}
