//! `axonflow-codex install`, in steps: read and check the files → resolve the settings (flags >
//! environment > axonflow.toml > defaults, `settings.rs`) → ask for what is open, on a terminal
//! only (`questions.rs`) → register with Community SaaS and probe the agent (`agent.rs`) → plan
//! the files (`files.rs`) → confirm → write → report.

mod agent;
mod files;
mod questions;
mod settings;

use std::path::{Path, PathBuf};

use axonflow_codex_hook::event::Event;
use axonflow_codex_hook::host_env::HostEnv;
use axonflow_codex_hook::settings::{FailMode, OutputMode};
use axonflow_codex_hook::vars;

pub use settings::{FailModeFlag, OutputModeFlag};

use self::files::{Hooks, Planned};
use self::settings::{ExistingSettings, InstallSettings};
use crate::agent::registration::Registration;
use crate::codex::codex_cli;
use crate::codex::hooks_json::OurHook;
use crate::codex::paths::{self, CodexPaths, Scope};
use crate::codex::skills;
use crate::edit::plan::Preview;
use crate::error::{CommandError, Result};
use crate::state::fsio;
use crate::state::receipt::Receipt;
use crate::ui::prompt::Prompter;

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
    /// Request timeout for the hooks, in whole seconds (default 8 before a tool, 5 after)
    #[arg(long, value_name = "SECS", value_parser = settings::parse_timeout_flag)]
    pub timeout: Option<u64>,
    /// What an unreachable agent means: open (allow) or closed (block)
    #[arg(long, value_enum, value_name = "MODE")]
    pub fail_mode: Option<FailModeFlag>,
    /// What a redacted or blocked shell/MCP output becomes: replace (the model receives the
    /// redacted copy, default) or alert (the model receives the output and an alert)
    #[arg(long, value_enum, value_name = "MODE")]
    pub output_mode: Option<OutputModeFlag>,
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
        prompter,
        hook_source,
    } = cx;
    let mut prompter = terminal_or_refusal(options, env, prompter)?;
    if options.scope == Scope::System {
        refuse_shared_secrets(options, env)?;
    }
    let paths = CodexPaths::for_scope(env, options.scope, !options.dry_run)?;

    // Read and check everything first: a malformed file stops us before any question, and
    // before the lock, so a refusal creates nothing. Under the lock it is all read again:
    // another run may have written in between.
    let checked = files::read_inputs(&paths)?;
    // Declared before the lock, so it runs after the lock is released.
    let mut cleanup = RefusalCleanup::new(&paths);
    let _lock = paths.prepare_to_write(options.dry_run)?;
    let inputs = checked.current(&paths)?;
    let hook_bytes = read_hook_binary(&hook_source)?;

    let settled = settle(
        options,
        env,
        &paths,
        &inputs.existing,
        prompter.as_deref_mut(),
    )?;
    let settings = &settled.settings;
    let hooks = Hooks::new(options, &paths, &inputs.hooks_text, settings.timeout.value);
    let trust_hooks = ask_trust(options, &hooks, prompter.as_deref_mut())?;
    let mut planned = files::plan(
        options,
        &paths,
        inputs,
        &hooks,
        trust_hooks,
        settings,
        hook_bytes,
    )?;
    planned.record_registration(settled.registration.as_ref());
    if options.dry_run {
        return dry_run(options, &paths, planned, settings);
    }
    if let (Some(prompter), false) = (prompter, planned.plan.is_empty()) {
        planned.plan.confirm(
            prompter,
            "These files will be written (each backed up before its first change)",
            "Apply these changes?",
            true,
            "install",
        )?;
    }
    let changed = write(&paths, &planned, &mut cleanup)?;
    clear_auth_failure(env);

    let trust = verify_trust(options, env, &paths, &hooks, trust_hooks)?;
    let outcome = Outcome {
        changed,
        trust: &trust,
        not_live: settled.not_live.as_deref(),
    };
    let answers = Answers::from(settings);
    report(options, &paths, &hooks.ours, &answers, &outcome, env);
    if let Some(reason) = &settled.not_live {
        eprintln!(
            "{}",
            agent::not_live_warning(reason, settings.fail_mode.value)
        );
    }
    if let Some(key) = crate::commands::doctor::local::hooks_switched_off_in(&paths.config_toml) {
        eprintln!(
            "warning: [features] {key} = false in {}: Codex runs no hooks, so nothing is governed until that line is removed",
            paths.config_toml.display()
        );
    }
    Ok(())
}

/// The settings as they will be written, and what settling them found.
struct Settled {
    settings: InstallSettings,
    registration: Option<Registration>,
    /// Why governance is not live, when the agent did not answer the probe.
    not_live: Option<String>,
}

/// Resolves the settings (pure), asks for what is open (on a terminal), registers with
/// Community SaaS when chosen, and probes the agent.
fn settle(
    options: &InstallOptions,
    env: &HostEnv,
    paths: &CodexPaths,
    existing: &ExistingSettings,
    mut prompter: Option<&mut (dyn Prompter + '_)>,
) -> Result<Settled> {
    let mut settings = InstallSettings::resolve(options, env, existing)?;
    if let Some(prompter) = prompter.as_deref_mut() {
        questions::ask_open_settings(&mut settings, options, paths, prompter)?;
    }
    let registration = agent::register(&mut settings, options, env, prompter.as_deref_mut())?;
    // Governance live? Asked before anything is written, so --require-agent changes nothing
    // when the agent does not answer.
    let not_live = if options.dry_run {
        None
    } else {
        agent::settle_agent(options, env, &mut settings, prompter)?
    };
    Ok(Settled {
        settings,
        registration,
        not_live,
    })
}

/// The prompter to ask with: none with `-y`; without a terminal (and without `-y`), the
/// error that names the flags to pass.
fn terminal_or_refusal<'a>(
    options: &InstallOptions,
    env: &HostEnv,
    prompter: Option<&'a mut dyn Prompter>,
) -> Result<Option<&'a mut dyn Prompter>> {
    match prompter {
        _ if options.yes => Ok(None),
        None => Err(no_terminal_error(options, env)),
        Some(prompter) => Ok(Some(prompter)),
    }
}

fn read_hook_binary(hook_source: &Path) -> Result<Vec<u8>> {
    std::fs::read(hook_source).map_err(|e| {
        CommandError::io("read the hook binary", hook_source, &e).hint(
            "install both binaries side by side (`cargo install --path hook` and `--path installer`, or a release archive)",
        )
    })
}

/// Whether to record trust: not with --no-trust-hooks, not for managed (system) hooks, and
/// interactively only after showing exactly what Codex will run.
fn ask_trust(
    options: &InstallOptions,
    hooks: &Hooks,
    prompter: Option<&mut (dyn Prompter + '_)>,
) -> Result<bool> {
    if options.no_trust_hooks || options.scope == Scope::System {
        return Ok(false);
    }
    let Some(prompter) = prompter else {
        return Ok(true);
    };
    let commands: Vec<String> = hooks
        .ours
        .iter()
        .map(|h| format!("  {} ({}): {}", h.event.json_name(), scope_of(h), h.command))
        .collect();
    prompter.show(&format!(
        "Codex runs hooks only after you trust them. These are the commands:\n{}",
        commands.join("\n")
    ));
    prompter.confirm("Record trust for these hooks now?", true)
}

/// Whether Codex trusts our hooks, for the report.
fn verify_trust(
    options: &InstallOptions,
    env: &HostEnv,
    paths: &CodexPaths,
    hooks: &Hooks,
    trust_hooks: bool,
) -> Result<String> {
    if options.scope == Scope::System {
        Ok("not needed (managed hooks)".to_string())
    } else if trust_hooks {
        agent::verify_trust(env, paths, &hooks.trust_entries)
    } else {
        Ok("not recorded".to_string())
    }
}

/// Shows what would change, then each setting and where it comes from; writes nothing.
fn dry_run(
    options: &InstallOptions,
    paths: &CodexPaths,
    mut planned: Planned,
    settings: &InstallSettings,
) -> Result<()> {
    let mut preview = Receipt {
        files: planned.receipt.files.clone(),
        ..planned.receipt.clone()
    };
    for change in &planned.plan.changes {
        preview.files.entry(change.path.clone()).or_default();
    }
    planned.plan.set(
        &paths.receipt,
        fsio::read_optional(&paths.receipt)?,
        Some(preview.to_bytes()),
        0o600,
    );
    if planned.plan.is_empty() && !options.json {
        println!(
            "Already installed in {}; nothing would change.",
            paths.home.display()
        );
    } else {
        let preview = Preview {
            user_files: vec![&paths.config_toml, &paths.hooks_json],
            entries: std::mem::take(&mut planned.entries),
            brief_under: Some(&paths.skills),
            verbose: options.verbose,
            secret_file: &paths.settings,
        };
        planned.plan.print_preview(&preview, options.json);
    }
    if !options.json {
        print!(
            "\nSettings for {} (and where each comes from):\n{}",
            paths.settings.display(),
            settings.describe()
        );
    }
    Ok(())
}

/// Backups, then the receipt describing the result, then the files: a run killed anywhere
/// leaves a receipt uninstall can trust, and the next install finishes. Whether anything
/// changed.
fn write(paths: &CodexPaths, planned: &Planned, cleanup: &mut RefusalCleanup) -> Result<bool> {
    let Planned {
        plan,
        receipt,
        old_receipt,
        ..
    } = planned;
    if plan.is_empty() {
        return Ok(false);
    }
    plan.check_writable(&[&paths.backups, &paths.ours])?;
    cleanup.disarm();
    let mut receipt = receipt.clone();
    plan.record(&mut receipt, &paths.backups, &paths.home, &paths.settings)?;
    if old_receipt.as_ref() != Some(&receipt) {
        fsio::write_atomic(&paths.receipt, &receipt.to_bytes(), 0o600)?;
    }
    plan.write_files(
        "fix the cause and run `axonflow-codex install` again to finish, or `axonflow-codex uninstall` to take back what was done (the receipt already lists every file)",
    )?;
    Ok(true)
}

/// Settings changed: a stale auth-failure cooldown must not outlive the fix.
fn clear_auth_failure(env: &HostEnv) {
    if let Ok(settings) = axonflow_codex_hook::settings::Settings::resolve(env) {
        axonflow_codex_hook::state::StateDir::new(settings.state_dir)
            .clear_auth_failure(axonflow_codex_hook::state::now_epoch());
    }
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

/// A system install is readable by every user: refuse to put credentials in it.
fn refuse_shared_secrets(options: &InstallOptions, env: &HostEnv) -> Result<()> {
    let secret = if options.auth.is_some() || options.client_id.is_some() {
        Some("--auth / --client-id")
    } else if options.community_saas {
        Some("--community-saas")
    } else if env.var(vars::AUTH).is_some() {
        Some(vars::AUTH)
    } else if env.var(vars::LICENSE_TOKEN).is_some() {
        Some(vars::LICENSE_TOKEN)
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
    if options.endpoint.is_none() && !options.community_saas && env.var(vars::ENDPOINT).is_none() {
        missing.push("--endpoint URL (or --community-saas)");
    }
    if options.auth.is_none() && options.client_id.is_none() && env.var(vars::AUTH).is_none() {
        missing.push("--auth BASE64 or --client-id ID --client-secret SECRET (if the agent needs credentials)");
    }
    if options.timeout.is_none() && env.var(vars::TIMEOUT_SECONDS).is_none() {
        missing.push("--timeout SECS");
    }
    if options.fail_mode.is_none() && env.var(vars::FAIL_MODE).is_none() {
        missing.push("--fail-mode open|closed");
    }
    let mut error = CommandError::usage("no terminal to ask questions on, and -y (--non-interactive) was not given")
        .hint("add -y to install unattended; every answer comes from a flag, an AXONFLOW_* variable or the existing settings");
    if !missing.is_empty() {
        error = error.hint(format!("not given here: {}", missing.join(", ")));
    }
    error
}

/// The settings as the report shows them.
struct Answers {
    endpoint: String,
    fail_mode: FailMode,
    output_mode: OutputMode,
}

impl From<&InstallSettings> for Answers {
    fn from(settings: &InstallSettings) -> Self {
        Answers {
            endpoint: settings.endpoint().to_string(),
            fail_mode: settings.fail_mode.value,
            output_mode: settings.output_mode.value,
        }
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
        if self.changed {
            writeln!(f, "The next Codex session picks the hooks up (a session already open keeps what it started with).")?;
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
