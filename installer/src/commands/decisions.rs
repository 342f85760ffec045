//! Governance for people: `log` (the local journal), `check` (a policy dry run) and
//! `explain` (the agent's account of a decision). `check` and `explain` go through the
//! hooks' own settings resolution and agent client.

use std::fmt;
use std::process::ExitCode;

use axonflow_codex_hook::agent::{self, AgentClient, Reply};
use axonflow_codex_hook::event::Event;
use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::settings::Settings;
use axonflow_codex_hook::text::json_as_text;
use axonflow_codex_hook::{journal, state};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{CommandError, Result};
use crate::ui::printer::Printer;

/// The variables `check` and `explain` read: the hooks' own settings.
macro_rules! agent_environment {
    () => {
        "Environment (the hooks' settings; they win over axonflow.toml):\n  AXONFLOW_ENDPOINT, AXONFLOW_AUTH, AXONFLOW_TIMEOUT_SECONDS, AXONFLOW_LICENSE_TOKEN,\n  AXONFLOW_USER_TOKEN, AXONFLOW_CONFIG_DIR\n  AXONFLOW_CODEX_CONFIG       the settings file to read instead of axonflow.toml\n  CODEX_HOME                  Codex's home, where axonflow.toml is (default ~/.codex)\n  NO_COLOR                    no colours, even on a terminal"
    };
}

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Examples:\n  axonflow-codex log\n  axonflow-codex log -n 50 --blocked --since 2h\n  axonflow-codex log --since 1d --json | jq .reason\n\nEnvironment:\n  HOME, XDG_STATE_HOME        where the journal is (~/.local/state/axonflow/journal.jsonl)\n  NO_COLOR                    no colours, even on a terminal"
)]
pub struct LogOptions {
    /// How many decisions to show, newest first
    #[arg(short = 'n', long = "lines", default_value_t = 20)]
    pub count: usize,
    /// Only the calls that were refused (block, auth failure, withheld output)
    #[arg(long)]
    pub blocked: bool,
    /// Only decisions younger than this: 90s, 30m, 2h, 1d, 1w
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<u64>,
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = concat!("Exit status: 0 allowed, 1 blocked, 2 usage error or no answer from the agent.\n\nExamples:\n  axonflow-codex check -- rm -rf /\n  axonflow-codex check --tool apply_patch --json -- '*** Begin Patch'\n\n", agent_environment!())
)]
pub struct CheckOptions {
    /// The tool the statement is for: connector_type codex.<NAME>
    #[arg(long, value_name = "NAME", default_value = "Bash")]
    pub tool: String,
    /// The answer as one JSON object
    #[arg(long)]
    pub json: bool,
    /// The command or input to check (after `--`)
    #[arg(required = true, last = true, value_name = "STATEMENT")]
    pub statement: Vec<String>,
}

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = concat!("Example:\n  axonflow-codex explain dec_1a2b3c   (the id a block message or `axonflow-codex log` shows)\n\n", agent_environment!())
)]
pub struct ExplainOptions {
    /// The decision id
    #[arg(value_name = "DECISION_ID")]
    pub decision_id: String,
    /// The agent's answer as one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `90s`, `30m`, `2h`, `1d`, `1w` (or plain seconds) as seconds.
pub fn parse_duration(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "`{text}`: use a number and s, m, h, d or w, e.g. 30m or 2h"
            ))
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("`{text}`: use a number and s, m, h, d or w, e.g. 30m or 2h"))
}

pub fn log(options: &LogOptions, env: &HostEnv, printer: Printer) -> Result<()> {
    let Some(dir) = crate::state::local_records::state_dir(env) else {
        return Err(
            CommandError::failure("no home directory: there is no journal to read")
                .hint("set HOME"),
        );
    };
    let (records, unreadable) = journal::read(&dir);
    let since = options
        .since
        .map(|s| state::now_epoch().saturating_sub(s as i64));
    let selected = records
        .iter()
        .rev()
        .filter(|r| !options.blocked || r["allowed"] == false)
        .filter(|r| {
            since.is_none_or(|since| {
                r["time"]
                    .as_str()
                    .and_then(state::parse_rfc3339)
                    .is_some_and(|t| t >= since)
            })
        })
        .take(options.count);
    let mut shown = 0;
    for record in selected {
        // One JSON object per line with --json, a line for people otherwise.
        printer.report(&Decision(record));
        shown += 1;
    }
    if shown == 0 {
        // With --json, no line at all: an empty stream of records.
        printer.human(format_args!(
            "No decision recorded{} in {}.",
            if options.blocked || options.since.is_some() {
                " that matches"
            } else {
                ""
            },
            dir.join(journal::JOURNAL_FILE).display()
        ));
    }
    if unreadable > 0 {
        eprintln!(
            "axonflow-codex log: {unreadable} journal line(s) could not be read and were skipped"
        );
    }
    Ok(())
}

/// One journal record: as it is with `--json`, one line for people.
#[derive(Serialize)]
#[serde(transparent)]
struct Decision<'a>(&'a Value);

impl fmt::Display for Decision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = |key: &str| {
            let text = json_as_text(self.0.get(key));
            if text.is_empty() {
                "-".to_string()
            } else {
                text
            }
        };
        write!(
            f,
            "{}  {:<13} {:<14} {:<12} {}  [{}]",
            field("time"),
            field("event"),
            field("tool"),
            field("decision"),
            field("reason"),
            field("decision_id")
        )
    }
}

/// What the agent said, or why it could not be asked.
fn ask(
    env: &HostEnv,
    id: &str,
    tool: &str,
    arguments: Value,
) -> std::result::Result<Map<String, Value>, CommandError> {
    let settings = Settings::resolve(env).map_err(|error| {
        CommandError::usage(format!("invalid AxonFlow settings: {error}"))
            .hint("run `axonflow-codex doctor` to fix the configuration")
    })?;
    let client = AgentClient::for_hooks(env, &settings);
    let timeout = settings.timeout_for(Event::PreToolUse);
    let reply = client.call_tool(id, tool, arguments, timeout, agent::DEFAULT_BODY_LIMIT);
    let unreachable = |cause: String| {
        CommandError::failure(format!(
            "the AxonFlow agent at {} could not answer ({cause})",
            settings.endpoint
        ))
        .hint("run `axonflow-codex doctor` to check the connection and the credentials")
    };
    let http = match reply {
        Reply::Transport(failure) => return Err(unreachable(failure.to_string())),
        Reply::Http(http) => http,
    };
    if http.status == 401 {
        return Err(unreachable(
            "HTTP 401: the credentials were rejected".to_string(),
        ));
    }
    let body = http.json();
    if let Some(error) = body.as_ref().and_then(agent::rpc_error) {
        return Err(unreachable(format!(
            "{} (code {})",
            error.message,
            error.code.map_or("?".to_string(), |c| c.to_string())
        )));
    }
    if let Some(text) = body
        .as_ref()
        .filter(|b| b["result"]["isError"] == true)
        .and_then(agent::result_text)
    {
        return Err(unreachable(axonflow_codex_hook::text::single_line(text)));
    }
    body.as_ref()
        .and_then(agent::tool_result)
        .ok_or_else(|| unreachable(format!("HTTP {} without a tool result", http.status)))
}

/// `check`: 0 allowed, 1 blocked, 2 usage error or no answer (a JSON error with `--json`).
pub fn check(options: &CheckOptions, env: &HostEnv, printer: Printer) -> ExitCode {
    let statement = options.statement.join(" ");
    let arguments = agent::object([
        (
            "connector_type",
            Value::from(format!("codex.{}", options.tool)),
        ),
        ("statement", Value::from(statement.as_str())),
        ("operation", Value::from("execute")),
    ]);
    let result = match ask(env, "cli-check", "check_policy", arguments) {
        Ok(result) => result,
        Err(error) => {
            printer.error(&error);
            return ExitCode::from(2);
        }
    };
    let report = PolicyAnswer(result);
    printer.report(&report);
    ExitCode::from(if report.allowed() { 0 } else { 1 })
}

/// The agent's answer to `check`: as it is with `--json`, labelled lines for people.
#[derive(Serialize)]
#[serde(transparent)]
struct PolicyAnswer(Map<String, Value>);

impl PolicyAnswer {
    fn allowed(&self) -> bool {
        self.0.get("allowed") != Some(&Value::Bool(false))
    }
}

impl fmt::Display for PolicyAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let allowed = self.allowed();
        let verdict = if allowed { "allowed" } else { "blocked" };
        write!(f, "decision:           {verdict}")?;
        let reason = json_as_text(self.0.get("block_reason"));
        if !reason.is_empty() {
            write!(f, "\nreason:             {reason}")?;
        }
        let evaluated = axonflow_codex_hook::agent::policies_evaluated(&self.0);
        write!(f, "\npolicies evaluated: {evaluated}")?;
        let id = json_as_text(self.0.get("decision_id"));
        write!(
            f,
            "\ndecision id:        {}",
            if id.is_empty() { "-" } else { &id }
        )?;
        if !allowed && !id.is_empty() {
            write!(f, "\nmore:               axonflow-codex explain {id}")?;
        }
        Ok(())
    }
}

pub fn explain(options: &ExplainOptions, env: &HostEnv, printer: Printer) -> Result<()> {
    let arguments = agent::object([("decision_id", Value::from(options.decision_id.as_str()))]);
    let result = ask(env, "cli-explain", "explain_decision", arguments).map_err(|error| {
        if error.message.contains("not found") {
            CommandError::failure(format!("the agent has no decision {}: {}", options.decision_id, error.message))
                .hint("copy the id from the block message or `axonflow-codex log`; the agent keeps decisions for a limited time")
        } else {
            error
        }
    })?;
    printer.report(&Explanation(result));
    Ok(())
}

/// The agent's account of a decision: as it is with `--json`, labelled lines for people.
#[derive(Serialize)]
#[serde(transparent)]
struct Explanation(Map<String, Value>);

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = |keys: &[&str]| {
            keys.iter()
                .map(|k| json_as_text(self.0.get(*k)))
                .find(|t| !t.is_empty())
                .unwrap_or_else(|| "-".to_string())
        };
        let lines = [
            format!(
                "decision:  {} ({})",
                first(&["decision_id"]),
                first(&["decision"])
            ),
            format!(
                "policy:    {}",
                first(&["policy_name", "policy_id", "blocked_by"])
            ),
            format!("risk:      {}", first(&["risk_level", "risk"])),
            format!(
                "why:       {}",
                first(&["reason", "block_reason", "explanation"])
            ),
            format!("when:      {}", first(&["timestamp", "time"])),
            override_line(&self.0),
        ];
        write!(f, "{}", lines.join("\n"))
    }
}

fn override_line(result: &Map<String, Value>) -> String {
    let existing = json_as_text(
        result
            .get("override_id")
            .or(result.get("override_existing_id")),
    );
    if !existing.is_empty() {
        return format!("override:  active ({existing})");
    }
    match result.get("override_available") {
        Some(Value::Bool(true)) => format!(
            "override:  available: ask Codex to call the create_override MCP tool with policy_id {} and your reason, or ask your AxonFlow admin",
            json_as_text(result.get("policy_id"))
        ),
        Some(Value::Bool(false)) => "override:  not available for this policy; ask your AxonFlow admin to change the policy".to_string(),
        _ => "override:  -".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("1d"), Ok(86_400));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert_eq!(parse_duration("45"), Ok(45));
        assert!(parse_duration("2 hours").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
