//! hooks.json checked as Codex deserialises it (`codex-host.md` §2.1), so that we refuse a file
//! Codex would reject whole (it then loads none of its hooks, ours included, and says so only in
//! its own log).
//!
//! Codex reads the file with serde into structs: unknown top-level keys and duplicate keys are
//! errors, known events must hold arrays of group objects, each group's `hooks` an array of
//! handler objects tagged by `type`. Unknown events and unknown handler keys are ignored, as
//! Codex ignores them.

use std::path::Path;

use serde_json::Value;

use crate::edit::json_edit::{self, Member, Node, NodeKind};
use crate::error::{CommandError, Result};

/// The events Codex knows (0.169.0 and 0.171.0); their values are checked, others are ignored.
const KNOWN_EVENTS: [&str; 14] = [
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "PreCompact",
    "PostCompact",
    "SessionStart",
    "SessionEnd",
    "UserPromptSubmit",
    "SubagentStart",
    "SubagentStop",
    "Stop",
    "Interrupt",
    "PreModelRequest",
    "PostModelRequest",
];

/// A problem at a byte offset.
struct Problem {
    at: usize,
    cause: String,
}

fn problem(at: usize, cause: impl Into<String>) -> Problem {
    Problem {
        at,
        cause: cause.into(),
    }
}

/// Checks text serde_json has already accepted as JSON.
pub fn validate(path: &Path, text: &str) -> Result<()> {
    let root = json_edit::scan(text);
    check_root(text, &root).map_err(|p| {
        let (line, column) = line_column(text, p.at);
        CommandError::failure(format!(
            "{} is not a hooks file Codex accepts (line {line}, column {column}: {}); Codex rejects the whole file and runs none of its hooks",
            path.display(),
            p.cause
        ))
        .hint(format!(
            "fix {} by hand, then run the command again; nothing was changed",
            path.display()
        ))
    })
}

fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

fn members<'a>(node: &'a Node, what: &str) -> std::result::Result<&'a [Member], Problem> {
    match &node.kind {
        NodeKind::Object(members) => Ok(members),
        _ => Err(problem(node.start, format!("{what} must be an object"))),
    }
}

fn elements<'a>(node: &'a Node, what: &str) -> std::result::Result<&'a [Node], Problem> {
    match &node.kind {
        NodeKind::Array(elements) => Ok(elements),
        _ => Err(problem(node.start, format!("{what} must be an array"))),
    }
}

/// serde's `duplicate field` for the keys a struct declares.
fn no_duplicates(members: &[Member], declared: &[&str]) -> std::result::Result<(), Problem> {
    for (i, member) in members.iter().enumerate() {
        let repeated = members[..i].iter().any(|m| m.key == member.key);
        if repeated && declared.contains(&member.key.as_str()) {
            return Err(problem(
                member.key_start,
                format!("duplicate field \"{}\"", member.key),
            ));
        }
    }
    Ok(())
}

fn scalar(text: &str, node: &Node) -> Value {
    serde_json::from_str(&text[node.start..node.end]).unwrap_or(Value::Null)
}

fn check_root(text: &str, root: &Node) -> std::result::Result<(), Problem> {
    let top = members(root, "the file")?;
    no_duplicates(top, &["description", "hooks"])?;
    for member in top {
        match member.key.as_str() {
            "description" => {
                if !matches!(scalar(text, &member.value), Value::String(_) | Value::Null)
                    || !matches!(member.value.kind, NodeKind::Scalar)
                {
                    return Err(problem(
                        member.value.start,
                        "\"description\" must be a string",
                    ));
                }
            }
            "hooks" => check_events(text, &member.value)?,
            other => {
                return Err(problem(
                    member.key_start,
                    format!("unknown field \"{other}\", expected \"description\" or \"hooks\""),
                ))
            }
        }
    }
    Ok(())
}

fn check_events(text: &str, hooks: &Node) -> std::result::Result<(), Problem> {
    let events = members(hooks, "\"hooks\"")?;
    no_duplicates(events, &KNOWN_EVENTS)?;
    for event in events
        .iter()
        .filter(|m| KNOWN_EVENTS.contains(&m.key.as_str()))
    {
        let what = format!("\"hooks\".\"{}\"", event.key);
        for group in elements(&event.value, &format!("{what} (a list of groups)"))? {
            check_group(text, group, &what)?;
        }
    }
    Ok(())
}

fn check_group(text: &str, group: &Node, event: &str) -> std::result::Result<(), Problem> {
    let fields = members(group, &format!("each group in {event}"))?;
    no_duplicates(fields, &["matcher", "hooks"])?;
    for field in fields {
        match field.key.as_str() {
            "matcher" => string_or_null(text, &field.value, "\"matcher\"")?,
            "hooks" => {
                for handler in elements(&field.value, "a group's \"hooks\" (a list of handlers)")? {
                    check_handler(text, handler)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

const HANDLER_FIELDS: [&str; 7] = [
    "type",
    "command",
    "timeout",
    "async",
    "statusMessage",
    "commandWindows",
    "command_windows",
];

fn check_handler(text: &str, handler: &Node) -> std::result::Result<(), Problem> {
    let fields = members(handler, "each handler")?;
    no_duplicates(fields, &HANDLER_FIELDS)?;
    let get = |key: &str| fields.iter().find(|m| m.key == key);
    let Some(kind) = get("type") else {
        return Err(problem(handler.start, "a handler is missing \"type\""));
    };
    let Value::String(kind_name) = scalar(text, &kind.value) else {
        return Err(problem(kind.value.start, "\"type\" must be a string"));
    };
    if kind_name == "command" {
        match get("command") {
            None => {
                return Err(problem(
                    handler.start,
                    "a command handler is missing \"command\"",
                ))
            }
            Some(command) if !matches!(scalar(text, &command.value), Value::String(_)) => {
                return Err(problem(command.value.start, "\"command\" must be a string"))
            }
            Some(_) => {}
        }
    }
    for field in fields {
        let value = scalar(text, &field.value);
        let scalar_node = matches!(field.value.kind, NodeKind::Scalar);
        match field.key.as_str() {
            "timeout" if !scalar_node || !(value.is_null() || value.as_u64().is_some()) => {
                return Err(problem(
                    field.value.start,
                    "\"timeout\" must be a whole number of seconds",
                ))
            }
            "async" if !scalar_node || !(value.is_null() || value.is_boolean()) => {
                return Err(problem(
                    field.value.start,
                    "\"async\" must be true or false",
                ))
            }
            "statusMessage" | "commandWindows" | "command_windows" => {
                string_or_null(text, &field.value, &format!("\"{}\"", field.key))?
            }
            _ => {}
        }
    }
    Ok(())
}

fn string_or_null(text: &str, node: &Node, what: &str) -> std::result::Result<(), Problem> {
    match (&node.kind, scalar(text, node)) {
        (NodeKind::Scalar, Value::String(_) | Value::Null) => Ok(()),
        _ => Err(problem(node.start, format!("{what} must be a string"))),
    }
}
