//! `axonflow-codex install`.

use std::path::{Path, PathBuf};

use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::settings::{self as hook_settings, FailMode, OutputMode};
use toml_edit::DocumentMut;

use crate::agent::registration;
use crate::codex::codex_cli;
use crate::codex::hooks_json::{self, OurHook};
use crate::codex::paths::{self, CodexPaths, Scope};
use crate::codex::skills;
use crate::codex::trust;
use crate::edit::config_toml::{self, McpEntry, TrustEntry};
use crate::edit::plan::{Plan, Preview};
use crate::error::{CommandError, Result};
use crate::state::fsio;
use crate::state::receipt::{ConfigTomlEntries, HooksJsonEntries, Receipt};
use crate::ui::prompt::Prompter;
use axonflow_codex_hook::event::Event;

/// What the hooks govern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Governed {
    /// Codex's shell (`Bash`).
    Bash,
    /// File edits (`apply_patch`).
    ApplyPatch,
    /// Every MCP tool (`mcp__*`; our own are skipped by the hook).
    Mcp,
    /// What the user types or pastes, before it reaches the model (`UserPromptSubmit`).
    Prompts,
}

impl Governed {
    const TOOLS: [Governed; 3] = [Governed::Bash, Governed::ApplyPatch, Governed::Mcp];

    fn matcher(self) -> &'static str {
        match self {
            Governed::Bash => "Bash",
            Governed::ApplyPatch => "apply_patch",
            Governed::Mcp => "mcp__.*",
            Governed::Prompts => "",
        }
    }
}

/// Whether `--govern` (empty: everything) selects `what`.
fn governs(govern: &[Governed], what: Governed) -> bool {
    govern.is_empty() || govern.contains(&what)
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct InstallOptions {
    /// Install unattended: no prompts; answers come from flags, AXONFLOW_* variables, the
    /// existing settings, then defaults
    #[arg(short = 'y', long = "non-interactive", visible_alias = "yes")]
    pub yes: bool,
    /// AxonFlow agent URL (self-hosted), e.g. http://localhost:8080
    #[arg(long, value_name = "URL", conflicts_with = "community_saas")]
    pub endpoint: Option<String>,
    /// Credentials: standard base64 of client_id:client_secret
    #[arg(long, value_name = "BASE64", conflicts_with_all = ["client_id", "client_secret"])]
    pub auth: Option<String>,
    /// Client id (with --client-secret)
    #[arg(long, value_name = "ID", requires = "client_secret")]
    pub client_id: Option<String>,
    /// Client secret (with --client-id)
    #[arg(long, value_name = "SECRET", requires = "client_id")]
    pub client_secret: Option<String>,
    /// Register with AxonFlow Community SaaS (try.getaxonflow.com) for evaluation
    #[arg(long)]
    pub community_saas: bool,
    /// Request timeout for the hooks, in seconds (default 8 before a tool, 5 after)
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<String>,
    /// What an unreachable agent means: open (allow) or closed (block)
    #[arg(long, value_name = "MODE")]
    pub fail_mode: Option<String>,
    /// What a redacted or blocked shell/MCP output becomes: replace (the model receives the
    /// redacted copy, default) or alert (the model receives the output and an alert)
    #[arg(long, value_name = "MODE")]
    pub output_mode: Option<String>,
    /// What to govern (default: all four)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
    pub govern: Vec<Governed>,
    /// user: this user's Codex home; system: Codex's managed layer (/etc/codex) for every
    /// user of the machine (run as root; hooks need no trust there; no credentials stored)
    #[arg(long, value_enum, default_value_t = Scope::User)]
    pub scope: Scope,
    /// Do not record Codex hook trust (Codex then skips the hooks until you trust them)
    #[arg(long)]
    pub no_trust_hooks: bool,
    /// Do not install the skills
    #[arg(long)]
    pub no_skills: bool,
    /// Do not add [mcp_servers.axonflow] to config.toml
    #[arg(long)]
    pub no_mcp: bool,
    /// Print a summary and the unified diff of every file it would touch; write nothing (and
    /// probe no agent)
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: show each skill's whole text, not one line per skill
    #[arg(long, requires = "dry_run")]
    pub verbose: bool,
    /// Fail (exit 1, nothing written) unless the agent answers a harmless policy check
    #[arg(long)]
    pub require_agent: bool,
    /// Machine-readable summary on stdout
    #[arg(long)]
    pub json: bool,
}

/// The settings the hooks will use.
#[derive(Debug, Clone)]
struct Answers {
    endpoint: String,
    auth: Option<String>,
    timeout: Option<u64>,
    fail_mode: FailMode,
    output_mode: OutputMode,
    license_token: Option<String>,
    trust_hooks: bool,
    registration: Option<registration::Registration>,
}

/// Values already in axonflow.toml, used as defaults.
#[derive(Debug, Default)]
struct Existing {
    endpoint: Option<String>,
    auth: Option<String>,
    timeout: Option<String>,
    fail_mode: Option<String>,
    output_mode: Option<String>,
    license_token: Option<String>,
}

fn read_existing(path: &Path, bytes: Option<&[u8]>) -> Result<(Option<DocumentMut>, Existing)> {
    let Some(bytes) = bytes else {
        return Ok((None, Existing::default()));
    };
    let text = fsio::utf8_text(path, bytes)?;
    // Same error shape as config.toml (file, line, cause).
    config_toml::check(path, Some(bytes))?;
    let doc: DocumentMut = text.parse().expect("checked above");
    let get = |key: &str| {
        doc.get(key)
            .and_then(|item| match item.as_value() {
                Some(toml_edit::Value::String(s)) => Some(s.value().clone()),
                Some(toml_edit::Value::Integer(i)) => Some(i.value().to_string()),
                _ => None,
            })
            .filter(|v| !v.is_empty())
    };
    let existing = Existing {
        endpoint: get("endpoint"),
        auth: get("auth"),
        timeout: get("timeout_seconds"),
        fail_mode: get("fail_mode"),
        output_mode: get("output_mode"),
        license_token: get("license_token"),
    };
    Ok((Some(doc), existing))
}

/// The files install merges into, read and checked.
struct Inputs {
    config_before: Option<Vec<u8>>,
    config_text: String,
    hooks_before: Option<Vec<u8>>,
    hooks_text: String,
    settings_before: Option<Vec<u8>>,
    settings_doc: Option<DocumentMut>,
    existing: Existing,
    old_receipt: Option<Receipt>,
}

fn read_inputs(paths: &CodexPaths) -> Result<Inputs> {
    for file in [&paths.config_toml, &paths.hooks_json, &paths.settings] {
        fsio::check_link_target(file)?;
    }
    let config_before = fsio::read_optional(&paths.config_toml)?;
    let config_text = config_toml::check(&paths.config_toml, config_before.as_deref())?;
    let hooks_before = fsio::read_optional(&paths.hooks_json)?;
    let hooks_text = hooks_json::check(&paths.hooks_json, hooks_before.as_deref())?;
    let settings_before = fsio::read_optional(&paths.settings)?;
    let (settings_doc, existing) = read_existing(&paths.settings, settings_before.as_deref())?;
    let old_receipt = Receipt::load(&paths.receipt)?;
    Ok(Inputs {
        config_before,
        config_text,
        hooks_before,
        hooks_text,
        settings_before,
        settings_doc,
        existing,
        old_receipt,
    })
}

impl Inputs {
    /// Whether the files still hold what was read (another run may have written since).
    fn still_current(&self, paths: &CodexPaths) -> Result<bool> {
        Ok(
            fsio::read_optional(&paths.config_toml)? == self.config_before
                && fsio::read_optional(&paths.hooks_json)? == self.hooks_before
                && fsio::read_optional(&paths.settings)? == self.settings_before
                && Receipt::load(&paths.receipt)? == self.old_receipt,
        )
    }
}

pub struct InstallContext<'a> {
    pub env: &'a HostEnv,
    /// `None` without a terminal (or with `-y`).
    pub prompter: Option<&'a mut dyn Prompter>,
    /// The hook binary to install (normally the one beside this executable).
    pub hook_source: PathBuf,
}

pub fn run(options: &InstallOptions, cx: InstallContext<'_>) -> Result<()> {
    let InstallContext {
        env,
        mut prompter,
        hook_source,
    } = cx;
    if options.yes {
        prompter = None;
    } else if prompter.is_none() {
        return Err(no_terminal_error(options, env));
    }
    let system = options.scope == Scope::System;
    if system {
        refuse_shared_secrets(options, env)?;
    }
    let paths = CodexPaths::for_scope(env, options.scope, !options.dry_run)?;

    // Read and check everything first: a malformed file stops us before any question, and
    // before the lock, so a refusal creates nothing. Under the lock it is all read again:
    // another run may have written in between.
    let checked = read_inputs(&paths)?;
    // Declared before the lock, so it runs after the lock is released.
    let mut cleanup = RefusalCleanup::new(&paths);
    let _lock = paths.prepare_to_write(options.dry_run)?;
    let inputs = if checked.still_current(&paths)? {
        checked
    } else {
        read_inputs(&paths)?
    };
    let Inputs {
        config_before,
        config_text,
        hooks_before,
        hooks_text,
        settings_before,
        settings_doc,
        existing,
        old_receipt,
    } = inputs;
    let hook_bytes = std::fs::read(&hook_source).map_err(|e| {
        CommandError::io("read the hook binary", &hook_source, &e).hint(
            "install both binaries side by side (`cargo install --path hook` and `--path installer`, or a release archive)",
        )
    })?;

    let mut answers = resolve_answers(options, env, &existing, prompter.as_deref_mut())?;
    if system {
        // Managed hooks need no trust; the shared settings file carries no secret.
        answers.trust_hooks = false;
        answers.auth = None;
        answers.license_token = None;
    }

    // Governance live? Asked before anything is written, so --require-agent changes nothing
    // when the agent does not answer.
    let not_live = if options.dry_run {
        None
    } else {
        settle_agent(options, env, &mut answers, prompter.as_deref_mut())?
    };

    // The hooks and their trust.
    let ours = our_hooks(&options.govern, &paths.hook_binary, answers.timeout);
    let hooks_merged = hooks_json::merge(&hooks_text, &ours);
    let trust_path = paths.hooks_json_trust_path();
    let trust_entries: Vec<TrustEntry> = ours
        .iter()
        .zip(&hooks_merged.indexes)
        .map(|(hook, &index)| TrustEntry {
            key: trust::key(&trust_path, hook, index),
            hash: trust::hash(hook),
        })
        .collect();

    // Trust is asked for after showing exactly what Codex will run.
    if answers.trust_hooks {
        if let Some(prompter) = prompter.as_deref_mut() {
            let commands: Vec<String> = ours
                .iter()
                .map(|h| format!("  {} ({}): {}", h.event.json_name(), scope_of(h), h.command))
                .collect();
            prompter.show(&format!(
                "Codex runs hooks only after you trust them. These are the commands:\n{}",
                commands.join("\n")
            ));
            answers.trust_hooks = prompter.confirm("Record trust for these hooks now?", true)?;
        }
    }
    let trust = if answers.trust_hooks {
        trust_entries.clone()
    } else {
        Vec::new()
    };
    let mcp = (!options.no_mcp).then(|| McpEntry {
        url: format!("{}/api/v1/mcp-server", answers.endpoint),
        http_headers_helper: paths::command_for(&paths.hook_binary, "mcp-headers"),
    });
    let mut config_merged =
        config_toml::merge(&paths.config_toml, &config_text, mcp.as_ref(), &trust)?;
    drop(config_text);

    // The plan.
    let mut plan = Plan::default();
    plan.set(
        &paths.hook_binary,
        std::fs::read(&paths.hook_binary).ok(),
        Some(hook_bytes),
        0o755,
    );
    let mut skill_dirs = Vec::new();
    // Skills have no documented system location: a system install leaves them to each user.
    if !options.no_skills && !system {
        for (dir, contents) in skills::planned(&paths.skills) {
            let file = dir.join("SKILL.md");
            plan.set(
                &file,
                fsio::read_optional(&file)?,
                Some(contents.as_bytes().to_vec()),
                0o644,
            );
            skill_dirs.push(dir);
        }
    }
    // Exactly 0600 even over a looser existing file: it may now hold credentials, and the
    // hooks refuse a settings file that group or others can read.
    plan.set_with_mode(
        &paths.settings,
        settings_before.clone(),
        Some(settings_file(settings_doc, &answers).into_bytes()),
        if system { 0o644 } else { 0o600 },
    );
    plan.set(
        &paths.hooks_json,
        hooks_before.clone(),
        Some(hooks_merged.text.clone().into_bytes()),
        0o644,
    );
    // No config.toml and nothing to put in it: do not create an empty one.
    let config_after = (config_before.is_some() || !config_merged.text.is_empty())
        .then(|| std::mem::take(&mut config_merged.text).into_bytes());
    plan.set(
        &paths.config_toml,
        config_before.clone(),
        config_after,
        0o600,
    );

    // What we own, merged with what an earlier install recorded.
    let mut receipt = old_receipt.clone().unwrap_or_default();
    receipt.version = crate::VERSION.to_string();
    receipt.codex_home = paths.home.clone();
    receipt.hook_binary = paths.hook_binary.clone();
    let old_hooks = receipt.hooks_json.take().unwrap_or_default();
    // Groups an earlier install wrote stay ours (uninstall removes them) even when this run's
    // `--govern` leaves them out.
    let mut groups = old_hooks.groups.clone();
    for hook in &ours {
        let group = (hook.event, hook.command.clone());
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    receipt.hooks_json = Some(HooksJsonEntries {
        groups,
        created_hooks_key: old_hooks.created_hooks_key || hooks_merged.created_hooks_key,
        created_events: union(&old_hooks.created_events, &hooks_merged.created_events),
    });
    let old_config = receipt.config_toml.take().unwrap_or_default();
    receipt.config_toml = Some(ConfigTomlEntries {
        mcp_server: mcp.is_some() || old_config.mcp_server,
        trust_keys: union(
            &old_config.trust_keys,
            &trust.iter().map(|t| t.key.clone()).collect::<Vec<_>>(),
        ),
        trust_hashes: union(
            &old_config.trust_hashes,
            &trust.iter().map(|t| t.hash.clone()).collect::<Vec<_>>(),
        ),
        created_mcp_servers: old_config.created_mcp_servers || config_merged.created_mcp_servers,
        created_hooks: old_config.created_hooks || config_merged.created_hooks,
        created_hooks_state: old_config.created_hooks_state || config_merged.created_hooks_state,
    });
    receipt.skills = union(&receipt.skills, &skill_dirs);
    if let Some(registration) = &answers.registration {
        receipt.registration_expires_at = registration.expires_at.clone();
    }

    if options.dry_run {
        let mut preview = Receipt {
            files: receipt.files.clone(),
            ..receipt.clone()
        };
        for change in &plan.changes {
            preview.files.entry(change.path.clone()).or_default();
        }
        plan.set(
            &paths.receipt,
            fsio::read_optional(&paths.receipt)?,
            Some(preview.to_bytes()),
            0o600,
        );
        if plan.is_empty() && !options.json {
            println!(
                "Already installed in {}; nothing would change.",
                paths.home.display()
            );
        } else {
            let preview = Preview {
                user_files: vec![&paths.config_toml, &paths.hooks_json],
                entries: dry_run_entries(&config_merged, &ours, &hooks_text),
                brief_under: Some(&paths.skills),
                verbose: options.verbose,
                secret_file: &paths.settings,
            };
            plan.print_preview(&preview, options.json);
        }
        return Ok(());
    }

    if let (Some(prompter), false) = (prompter, plan.is_empty()) {
        plan.confirm(
            prompter,
            "These files will be written (each backed up before its first change)",
            "Apply these changes?",
            "install",
        )?;
    }

    let changed = !plan.is_empty();
    if changed {
        // Backups, then the receipt describing the result, then the files: a run killed
        // anywhere leaves a receipt uninstall can trust, and the next install finishes.
        plan.check_writable(&[&paths.backups, &paths.ours])?;
        cleanup.disarm();
        plan.record(&mut receipt, &paths.backups, &paths.home, &paths.settings)?;
        write_receipt(&paths, old_receipt.as_ref(), &receipt)?;
        plan.write_files(
            "fix the cause and run `axonflow-codex install` again to finish, or `axonflow-codex uninstall` to take back what was done (the receipt already lists every file)",
        )?;
    }
    // Settings changed: a stale auth-failure cooldown must not outlive the fix.
    if let Ok(settings) = hook_settings::Settings::resolve(env) {
        axonflow_codex_hook::state::StateDir::new(settings.state_dir)
            .clear_auth_failure(axonflow_codex_hook::state::now_epoch());
    }

    let verification = if system {
        "not needed (managed hooks)".to_string()
    } else if answers.trust_hooks {
        verify_trust(env, &paths, &trust_entries)?
    } else {
        "not recorded".to_string()
    };
    let outcome = Outcome {
        changed,
        trust: &verification,
        not_live: not_live.as_deref(),
    };
    report(options, &paths, &ours, &answers, &outcome, env);
    if let Some(reason) = &not_live {
        eprintln!("{}", not_live_warning(reason, answers.fail_mode));
    }
    Ok(())
}

/// Until the first write: a run that ends (refused, cancelled, failed) before it takes back
/// the lock file and our directory when this run created them, so "nothing was changed"
/// holds.
struct RefusalCleanup {
    ours: Option<PathBuf>,
}

impl RefusalCleanup {
    fn new(paths: &CodexPaths) -> RefusalCleanup {
        RefusalCleanup {
            ours: (!paths.ours.exists()).then(|| paths.ours.clone()),
        }
    }

    fn disarm(&mut self) {
        self.ours = None;
    }
}

impl Drop for RefusalCleanup {
    fn drop(&mut self) {
        if let Some(ours) = &self.ours {
            let _ = std::fs::remove_file(ours.join(".lock"));
            let _ = std::fs::remove_dir(ours);
        }
    }
}

/// Probes the agent the answers point at. Interactive: when it does not answer, offers to
/// re-enter the endpoint until it does or the user goes on without it. Returns why governance
/// is not live, if it is not (with --require-agent that is an error instead).
fn settle_agent(
    options: &InstallOptions,
    env: &HostEnv,
    answers: &mut Answers,
    mut prompter: Option<&mut (dyn Prompter + '_)>,
) -> Result<Option<String>> {
    // The user token does not depend on the answers; it is found as the hooks find it.
    let user_token = || {
        hook_settings::Settings::resolve(env)
            .ok()
            .and_then(|settings| {
                axonflow_codex_hook::tokens::resolve_user_token(env, &settings).token
            })
    };
    loop {
        let spinner = crate::ui::progress::spinner(&format!(
            "Checking the AxonFlow agent at {}",
            answers.endpoint
        ));
        let result = crate::agent::liveness::check(&crate::agent::liveness::Target {
            endpoint: &answers.endpoint,
            auth: answers.auth.as_deref(),
            license_token: answers.license_token.as_deref(),
            user_token: user_token(),
            timeout_seconds: answers.timeout.unwrap_or(8),
        });
        spinner.finish_and_clear();
        let Err(reason) = result else {
            return Ok(None);
        };
        let retry = match prompter.as_deref_mut() {
            Some(prompter) => {
                prompter.show(&not_live_warning(&reason, answers.fail_mode));
                prompter.confirm("Enter another AxonFlow agent URL?", true)?
            }
            None => false,
        };
        if !retry {
            if options.require_agent {
                return Err(CommandError::failure(format!(
                    "AxonFlow governance is not live: {reason}; nothing was changed (--require-agent)"
                ))
                .hint("start the agent or fix --endpoint, then run install again; `axonflow-codex doctor` shows each link of the chain"));
            }
            return Ok(Some(reason));
        }
        if let Some(prompter) = prompter.as_deref_mut() {
            let url = prompter.input("AxonFlow agent URL", Some(&answers.endpoint), &|text| {
                endpoint_answer(text, "the URL")
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })?;
            answers.endpoint = endpoint_answer(&url, "the URL")?;
        }
    }
}

fn not_live_warning(reason: &str, fail_mode: FailMode) -> String {
    let consequence = match fail_mode {
        FailMode::Open => "with fail_mode open, every tool call is allowed unchecked until it does",
        FailMode::Closed => {
            "with fail_mode closed, every governed tool call is blocked until it does"
        }
    };
    format!(
        "warning: AxonFlow governance is not live yet: {reason}. The hooks are installed, but {consequence}. Run `axonflow-codex doctor` once the agent is up."
    )
}

fn write_receipt(paths: &CodexPaths, old: Option<&Receipt>, new: &Receipt) -> Result<()> {
    if old != Some(new) {
        fsio::write_atomic(&paths.receipt, &new.to_bytes(), 0o600)?;
    }
    Ok(())
}

/// The dry run's list of what install adds to the user's files or replaces there.
fn dry_run_entries(
    config: &config_toml::Merged,
    ours: &[OurHook],
    hooks_before: &str,
) -> Vec<String> {
    let mut entries: Vec<String> = config
        .changes
        .iter()
        .map(|c| format!("config.toml: {c}"))
        .collect();
    for hook in ours {
        let event = hook.event.json_name();
        match hooks_json::current_hook(hooks_before, hook.event, &hook.command) {
            None => entries.push(format!("hooks.json: our {event} group added")),
            Some((_, current)) if current != *hook => {
                entries.push(format!("hooks.json: our {event} group updated"))
            }
            Some(_) => {}
        }
    }
    entries
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for item in b {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

fn matcher(govern: &[Governed]) -> String {
    let chosen: Vec<&str> = Governed::TOOLS
        .iter()
        .filter(|&&g| governs(govern, g))
        .map(|g| g.matcher())
        .collect();
    chosen.join("|")
}

/// Our groups for `--govern`: PreToolUse and PostToolUse when a tool is governed, and
/// UserPromptSubmit (no matcher) for prompts. Each handler's `timeout` is above the hook's
/// worst case: the request timeout plus the side-request budget (3 s) plus a margin.
fn our_hooks(govern: &[Governed], hook_binary: &Path, timeout: Option<u64>) -> Vec<OurHook> {
    let matcher = matcher(govern);
    let mut events = Vec::new();
    if !matcher.is_empty() {
        events.extend([Event::PreToolUse, Event::PostToolUse]);
    }
    if governs(govern, Governed::Prompts) {
        events.push(Event::UserPromptSubmit);
    }
    let handler_timeout = 30.max(timeout.unwrap_or(8) + 3 + 10);
    events
        .into_iter()
        .map(|event| OurHook {
            event,
            matcher: if event.takes_matcher() {
                matcher.clone()
            } else {
                String::new()
            },
            command: paths::command_for(hook_binary, event.subcommand()),
            timeout: handler_timeout,
            status_message: (event == Event::PostToolUse).then(|| "AxonFlow audit".to_string()),
        })
        .collect()
}

/// What a group applies to, for people: its matcher, or every prompt.
fn scope_of(hook: &OurHook) -> &str {
    if hook.event.takes_matcher() {
        &hook.matcher
    } else {
        "every prompt"
    }
}

/// axonflow.toml with our answers set, other keys (older plugins') kept.
fn settings_file(existing: Option<DocumentMut>, answers: &Answers) -> String {
    let Some(mut doc) = existing else {
        // A new file: plain `key = "value"` lines, the form older plugin readers parse.
        let mut text = String::from("# AxonFlow settings for the Codex hooks, written by `axonflow-codex install` (keep it mode 0600).\n");
        let mut line = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                text.push_str(&format!("{key} = {}\n", toml_edit::Value::from(value)));
            }
        };
        line("endpoint", Some(answers.endpoint.clone()));
        line("auth", answers.auth.clone());
        line("timeout_seconds", answers.timeout.map(|t| t.to_string()));
        line("fail_mode", Some(answers.fail_mode.as_str().to_string()));
        line(
            "output_mode",
            Some(answers.output_mode.as_str().to_string()),
        );
        line("license_token", answers.license_token.clone());
        return text;
    };
    let mut set = |key: &str, value: Option<String>| match value {
        Some(value) => {
            if doc.get(key).and_then(|i| i.as_str()) != Some(value.as_str()) {
                set_keeping_comments(&mut doc, key, value);
            }
        }
        None => {
            doc.remove(key);
        }
    };
    set("endpoint", Some(answers.endpoint.clone()));
    set("auth", answers.auth.clone());
    set("timeout_seconds", answers.timeout.map(|t| t.to_string()));
    set("fail_mode", Some(answers.fail_mode.as_str().to_string()));
    set(
        "output_mode",
        Some(answers.output_mode.as_str().to_string()),
    );
    set("license_token", answers.license_token.clone());
    doc.to_string()
}

/// Sets `key` to a string. An existing key is changed in place: `insert` would replace the
/// key with a fresh one and drop the comments above it (the file's header sits on its first
/// key) and the one after its value.
fn set_keeping_comments(doc: &mut DocumentMut, key: &str, value: String) {
    let mut new_value = toml_edit::Value::from(value);
    match doc.get_mut(key) {
        Some(item) => {
            if let Some(old) = item.as_value() {
                *new_value.decor_mut() = old.decor().clone();
            }
            *item = toml_edit::Item::Value(new_value);
        }
        None => {
            doc.insert(key, toml_edit::Item::Value(new_value));
        }
    }
}

/// A system install is readable by every user: refuse to put credentials in it.
fn refuse_shared_secrets(options: &InstallOptions, env: &HostEnv) -> Result<()> {
    let secret = if options.auth.is_some() || options.client_id.is_some() {
        Some("--auth / --client-id")
    } else if options.community_saas {
        Some("--community-saas")
    } else if env.var("AXONFLOW_AUTH").is_some() {
        Some("AXONFLOW_AUTH")
    } else if env.var("AXONFLOW_LICENSE_TOKEN").is_some() {
        Some("AXONFLOW_LICENSE_TOKEN")
    } else {
        None
    };
    match secret {
        Some(source) => Err(CommandError::usage(format!(
            "{source} cannot be used with --scope system: the system settings are readable by every user"
        ))
        .hint("for an agent that needs credentials, install per user (MDM/Ansible running `axonflow-codex install -y --auth …` as each user), or give each user a user token in ~/.config/axonflow/user-token.json")),
        None => Ok(()),
    }
}

fn no_terminal_error(options: &InstallOptions, env: &HostEnv) -> CommandError {
    let mut missing = Vec::new();
    if options.endpoint.is_none()
        && !options.community_saas
        && env.var("AXONFLOW_ENDPOINT").is_none()
    {
        missing.push("--endpoint URL (or --community-saas)");
    }
    if options.auth.is_none() && options.client_id.is_none() && env.var("AXONFLOW_AUTH").is_none() {
        missing.push("--auth BASE64 or --client-id ID --client-secret SECRET (if the agent needs credentials)");
    }
    if options.timeout.is_none() && env.var("AXONFLOW_TIMEOUT_SECONDS").is_none() {
        missing.push("--timeout SECS");
    }
    if options.fail_mode.is_none() && env.var("AXONFLOW_FAIL_MODE").is_none() {
        missing.push("--fail-mode open|closed");
    }
    let mut error = CommandError::usage("no terminal to ask questions on, and -y (--non-interactive) was not given")
        .hint("add -y to install unattended; every answer comes from a flag, an AXONFLOW_* variable or the existing settings");
    if !missing.is_empty() {
        error = error.hint(format!("not given here: {}", missing.join(", ")));
    }
    error
}

fn resolve_answers(
    options: &InstallOptions,
    env: &HostEnv,
    existing: &Existing,
    mut prompter: Option<&mut (dyn Prompter + '_)>,
) -> Result<Answers> {
    let usage =
        |e: axonflow_codex_hook::host_env::SettingsError| CommandError::usage(e.to_string());

    // Endpoint: a flag, the variable, the choice of Community SaaS, or a question.
    let mut registration = None;
    let flag_endpoint = match &options.endpoint {
        Some(url) => Some(endpoint_answer(url, "--endpoint")?),
        None => env
            .var("AXONFLOW_ENDPOINT")
            .map(|url| endpoint_answer(url, "AXONFLOW_ENDPOINT"))
            .transpose()?,
    };
    let mut wants_saas = options.community_saas;
    let endpoint = match (flag_endpoint, prompter.as_deref_mut()) {
        (Some(endpoint), _) => endpoint,
        (None, Some(prompter)) if !wants_saas => {
            // A system install stores no credentials, so it offers no Community SaaS.
            let choice = if options.scope == Scope::System {
                0
            } else {
                prompter.select(
                    "Where is your AxonFlow agent?",
                    &[
                        "Self-hosted (a URL you run)",
                        "AxonFlow Community SaaS (try.getaxonflow.com, for evaluation)",
                    ],
                    0,
                )?
            };
            if choice == 1 {
                wants_saas = true;
                String::new()
            } else {
                let default = existing
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| hook_settings::DEFAULT_ENDPOINT.to_string());
                let url = prompter.input("AxonFlow agent URL", Some(&default), &|text| {
                    endpoint_answer(text, "the URL")
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })?;
                endpoint_answer(&url, "the URL")?
            }
        }
        (None, _) if wants_saas => String::new(),
        (None, _) => existing
            .endpoint
            .as_deref()
            .map(|url| hook_settings::parse_endpoint(url, "`endpoint` in axonflow.toml"))
            .transpose()?
            .unwrap_or_else(|| hook_settings::DEFAULT_ENDPOINT.to_string()),
    };
    let endpoint = if wants_saas {
        match prompter.as_deref_mut() {
            Some(prompter) => {
                prompter.show(registration::NOTICE);
                if !prompter.confirm("Register with AxonFlow Community SaaS now?", true)? {
                    return Err(CommandError::failure(
                        "install cancelled; nothing was changed",
                    ));
                }
            }
            None => eprintln!("{}", registration::NOTICE),
        }
        if options.dry_run {
            registration::SAAS_ENDPOINT.to_string()
        } else {
            let spinner = crate::ui::progress::spinner("Registering with AxonFlow Community SaaS");
            let result = registration::register(env.var("AXONFLOW_REGISTRATION_URL"));
            spinner.finish_and_clear();
            let registered = result?;
            match prompter.as_deref_mut() {
                Some(prompter) => prompter.show(registration::CONNECTED),
                None => eprintln!("{}", registration::CONNECTED),
            }
            let endpoint = registered.endpoint.clone();
            registration = Some(registered);
            endpoint
        }
    } else {
        endpoint
    };

    // Credentials.
    let auth = if let Some(registered) = &registration {
        Some(registered.auth.clone())
    } else if let Some(auth) = &options.auth {
        hook_settings::check_auth(auth, "--auth").map_err(usage)?;
        Some(auth.clone())
    } else if let (Some(id), Some(secret)) = (&options.client_id, &options.client_secret) {
        Some(encode_pair(id, secret)?)
    } else if let Some(auth) = env.var("AXONFLOW_AUTH") {
        hook_settings::check_auth(auth, "AXONFLOW_AUTH").map_err(usage)?;
        Some(auth.to_string())
    } else if (wants_saas && options.dry_run) || options.scope == Scope::System {
        None
    } else if let Some(prompter) = prompter.as_deref_mut() {
        let has_existing = existing.auth.is_some();
        let question = if has_existing {
            "Change the stored credentials?"
        } else {
            "Does the agent require credentials (client id and secret)?"
        };
        if prompter.confirm(question, false)? {
            let id = prompter.input("Client id", None, &|text| {
                if text.is_empty() || text.contains(':') {
                    Err("a client id is non-empty and has no ':'".into())
                } else {
                    Ok(())
                }
            })?;
            let secret = prompter.password("Client secret")?;
            Some(encode_pair(&id, &secret)?)
        } else {
            existing.auth.clone()
        }
    } else {
        existing.auth.clone()
    };

    // Timeout.
    let timeout = match (&options.timeout, env.var("AXONFLOW_TIMEOUT_SECONDS")) {
        (Some(t), _) => Some(hook_settings::parse_timeout(t, "--timeout").map_err(usage)?),
        (None, Some(t)) => {
            Some(hook_settings::parse_timeout(t, "AXONFLOW_TIMEOUT_SECONDS").map_err(usage)?)
        }
        (None, None) => match prompter.as_deref_mut() {
            Some(prompter) => {
                let default = existing.timeout.clone().unwrap_or_else(|| "8".to_string());
                let answer =
                    prompter.input("Request timeout in seconds", Some(&default), &|text| {
                        hook_settings::parse_timeout(text, "the timeout")
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    })?;
                let seconds =
                    hook_settings::parse_timeout(&answer, "the timeout").map_err(usage)?;
                // Keeping the default leaves each hook its own (8 s before, 5 s after).
                (existing.timeout.is_some() || seconds != 8).then_some(seconds)
            }
            None => existing
                .timeout
                .as_deref()
                .and_then(|t| hook_settings::parse_timeout(t, "timeout").ok()),
        },
    };

    // Fail mode.
    let fail_mode = match (&options.fail_mode, env.var("AXONFLOW_FAIL_MODE")) {
        (Some(mode), _) => hook_settings::parse_fail_mode(mode, "--fail-mode").map_err(usage)?,
        (None, Some(mode)) => {
            hook_settings::parse_fail_mode(mode, "AXONFLOW_FAIL_MODE").map_err(usage)?
        }
        (None, None) => {
            let current = existing
                .fail_mode
                .as_deref()
                .and_then(|m| hook_settings::parse_fail_mode(m, "").ok())
                .unwrap_or_default();
            match prompter {
                Some(prompter) => {
                    let choice = prompter.select(
                        "When the agent cannot be reached",
                        &["open: allow the tool call", "closed: block the tool call"],
                        if current == FailMode::Closed { 1 } else { 0 },
                    )?;
                    if choice == 1 {
                        FailMode::Closed
                    } else {
                        FailMode::Open
                    }
                }
                None => current,
            }
        }
    };

    let output_mode = resolve_output_mode(options, env, existing)?;
    let license_token = env
        .var("AXONFLOW_LICENSE_TOKEN")
        .map(str::to_string)
        .or_else(|| existing.license_token.clone());
    Ok(Answers {
        endpoint,
        auth,
        timeout,
        fail_mode,
        output_mode,
        license_token,
        trust_hooks: !options.no_trust_hooks,
        registration,
    })
}

/// `--output-mode`, else the variable, else the settings file, else `replace`. Not asked
/// interactively: replace is what protects, alert is an explicit choice.
fn resolve_output_mode(
    options: &InstallOptions,
    env: &HostEnv,
    existing: &Existing,
) -> Result<OutputMode> {
    let usage =
        |e: axonflow_codex_hook::host_env::SettingsError| CommandError::usage(e.to_string());
    Ok(
        match (&options.output_mode, env.var("AXONFLOW_OUTPUT_MODE")) {
            (Some(mode), _) => {
                hook_settings::parse_output_mode(mode, "--output-mode").map_err(usage)?
            }
            (None, Some(mode)) => {
                hook_settings::parse_output_mode(mode, "AXONFLOW_OUTPUT_MODE").map_err(usage)?
            }
            (None, None) => existing
                .output_mode
                .as_deref()
                .and_then(|m| hook_settings::parse_output_mode(m, "").ok())
                .unwrap_or_default(),
        },
    )
}

/// An endpoint given as an answer (flag, variable, prompt), checked as the hooks check it.
fn endpoint_answer(url: &str, what: &str) -> Result<String> {
    hook_settings::parse_endpoint(url, what).map_err(|e| {
        let error = CommandError::usage(e.to_string());
        if hook_settings::has_userinfo(url) {
            error.hint("give the agent's credentials with --client-id ID --client-secret SECRET (or --auth); they are stored in axonflow.toml (0600), never in config.toml")
        } else {
            error
        }
    })
}

fn encode_pair(id: &str, secret: &str) -> Result<String> {
    if id.is_empty() || id.contains(':') || secret.is_empty() {
        return Err(CommandError::usage(
            "--client-id must be non-empty without ':' and --client-secret non-empty",
        ));
    }
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

/// Checks with the real Codex (when on PATH) that it trusts our hooks; otherwise the
/// recorded hashes, computed as Codex computes them, stand.
fn verify_trust(env: &HostEnv, paths: &CodexPaths, expected: &[TrustEntry]) -> Result<String> {
    let Some(codex) = codex_cli::find(env) else {
        return Ok("recorded (no codex on PATH to verify with)".to_string());
    };
    let spinner = crate::ui::progress::spinner("Verifying hook trust with codex app-server");
    let listed = trust::list_hooks_of(&codex, &paths.home);
    spinner.finish_and_clear();
    let listed = listed.map_err(|e| {
        CommandError::failure(format!("could not verify hook trust: {e}"))
            .hint("run `axonflow-codex doctor` to check again")
    })?;
    match trust::first_not_run(&listed, expected, |entry| &entry.key) {
        None => Ok("recorded and verified with codex app-server".to_string()),
        Some((entry, Some(hook))) => Err(CommandError::failure(format!(
            "Codex reports the hook {} as {} (hash {}, recorded {})",
            entry.key, hook.trust_status, hook.current_hash, entry.hash
        ))
        .hint("run `axonflow-codex doctor`, or trust the hooks in Codex with /hooks")),
        Some((entry, None)) => Err(CommandError::failure(format!(
            "Codex does not list the hook {}",
            entry.key
        ))
        .hint("run `axonflow-codex doctor`")),
    }
}

/// What the install did and found, for its report.
struct Outcome<'a> {
    changed: bool,
    trust: &'a str,
    /// Why governance is not live, when the agent did not answer the probe.
    not_live: Option<&'a str>,
}

fn report(
    options: &InstallOptions,
    paths: &CodexPaths,
    ours: &[OurHook],
    answers: &Answers,
    outcome: &Outcome<'_>,
    env: &HostEnv,
) {
    let codex = codex_cli::find(env);
    let report = InstallReport {
        changed: outcome.changed,
        codex_home: paths.home.clone(),
        codex: codex.as_deref().and_then(codex_cli::version),
        hook_binary: paths.hook_binary.clone(),
        hooks_json: paths.hooks_json.clone(),
        matcher: matcher(&options.govern),
        governed: governed_names(ours),
        output_mode: answers.output_mode.as_str(),
        trust: outcome.trust.to_string(),
        mcp_server: !options.no_mcp,
        skills: !options.no_skills,
        settings: paths.settings.clone(),
        endpoint: answers.endpoint.clone(),
        fail_mode: answers.fail_mode.as_str(),
        agent: AgentState {
            live: outcome.not_live.is_none(),
            reason: outcome.not_live.map(str::to_string),
        },
        events: ours
            .iter()
            .map(|h| format!("{} ({})", h.event.json_name(), scope_of(h)))
            .collect(),
        config_toml: paths.config_toml.clone(),
        skills_dir: paths.skills.clone(),
    };
    crate::ui::printer::Printer::new(options.json).report(&report);
}

/// What install did: `--json` serialises it, people read its `Display`.
#[derive(Debug, serde::Serialize)]
struct InstallReport {
    changed: bool,
    codex_home: PathBuf,
    codex: Option<String>,
    hook_binary: PathBuf,
    hooks_json: PathBuf,
    matcher: String,
    governed: Vec<&'static str>,
    output_mode: &'static str,
    trust: String,
    mcp_server: bool,
    skills: bool,
    settings: PathBuf,
    endpoint: String,
    fail_mode: &'static str,
    agent: AgentState,
    /// Each of our groups with its scope, for people.
    #[serde(skip)]
    events: Vec<String>,
    #[serde(skip)]
    config_toml: PathBuf,
    #[serde(skip)]
    skills_dir: PathBuf,
}

#[derive(Debug, serde::Serialize)]
struct AgentState {
    live: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl std::fmt::Display for InstallReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let home = self.codex_home.display();
        if self.changed {
            writeln!(f, "Installed AxonFlow governance for Codex in {home}")?;
        } else {
            writeln!(
                f,
                "AxonFlow governance is already installed in {home}; nothing changed."
            )?;
        }
        let codex = self.codex.as_deref();
        let codex = codex.unwrap_or("not found on PATH (the hooks work once Codex is installed)");
        writeln!(f, "  codex     {codex}")?;
        writeln!(f, "  hook      {}", self.hook_binary.display())?;
        let (hooks, events) = (self.hooks_json.display(), self.events.join(", "));
        writeln!(f, "  hooks     {hooks} ({events})")?;
        writeln!(f, "  governs   {}", self.governed.join(", "))?;
        writeln!(f, "  trust     {}", self.trust)?;
        if self.mcp_server {
            let config = self.config_toml.display();
            writeln!(f, "  mcp       [mcp_servers.axonflow] in {config}")?;
        }
        if self.skills {
            let (count, dir) = (skills::SKILLS.len(), self.skills_dir.display());
            writeln!(f, "  skills    {count} in {dir}")?;
        }
        writeln!(
            f,
            "  settings  {} (endpoint {}, fail_mode {}, output_mode {})",
            self.settings.display(),
            self.endpoint,
            self.fail_mode,
            self.output_mode
        )?;
        match &self.agent.reason {
            None => writeln!(f, "  agent     answering at {}", self.endpoint)?,
            Some(reason) => writeln!(f, "  agent     NOT LIVE: {reason}")?,
        }
        write!(f, "Next: axonflow-codex doctor")
    }
}

/// The `--govern` names our groups cover, in the flag's order.
pub(crate) fn governed_names(ours: &[OurHook]) -> Vec<&'static str> {
    let mut names = Vec::new();
    if let Some(tools) = ours.iter().find(|h| h.event == Event::PreToolUse) {
        let alternatives: Vec<&str> = tools.matcher.split('|').collect();
        for tool in Governed::TOOLS {
            if alternatives.contains(&tool.matcher()) {
                names.push(governed_name(tool));
            }
        }
    }
    if ours.iter().any(|h| h.event == Event::UserPromptSubmit) {
        names.push(governed_name(Governed::Prompts));
    }
    names
}

fn governed_name(what: Governed) -> &'static str {
    match what {
        Governed::Bash => "bash",
        Governed::ApplyPatch => "apply-patch",
        Governed::Mcp => "mcp",
        Governed::Prompts => "prompts",
    }
}
