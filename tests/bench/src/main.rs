//! `axonflow-bench`: whole-process wall time and peak RSS of the real `axonflow-codex-hook`
//! binary, next to a `curl` POST of the same `check_policy` request to the same in-process
//! AxonFlow agent stand-in, in the same run.
//!
//! ```text
//! cargo build --release -p axonflow-codex-hook -p axonflow-bench && target/release/axonflow-bench
//! ```
//!
//! Cases run round-robin (curl, allow, block, post …, prompt …, curl, …) so machine noise hits all of them
//! alike. Every run's exit code and output are checked; a broken hook aborts the benchmark.
//! The https cases run against a second stand-in served over TLS (see `https.rs`). When
//! valgrind is on PATH, each case also runs once under callgrind for its instruction count.
//! Exit status: 0 all targets met, 1 a target missed, 2 the benchmark could not run.

mod callgrind;
mod https;
mod spawner;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use axonflow_agent_standin::{AgentConfig, StandIn};
use serde_json::Value;

use spawner::{Job, Outcome, Spawner, SPAWNER_ARG};

const DEFAULT_ROUNDS: usize = 200;
const DEFAULT_WARMUP: usize = 10;
const HOOK_NAME: &str = "axonflow-codex-hook";
const CLIENT_HEADER: &str = "X-Axonflow-Client: codex-plugin/2.0.0";

/// The exact check_policy body the hook sends for the allow case (reference §3).
const CURL_BODY: &str = r#"{"jsonrpc":"2.0","id":"hook-pre","method":"tools/call","params":{"name":"check_policy","arguments":{"connector_type":"codex.Bash","statement":"ls -la","operation":"execute"}}}"#;
const ALLOW_STDIN: &str = r#"{"tool_name":"Bash","tool_input":{"command":"ls -la"}}"#;
const BLOCK_STDIN: &str =
    r#"{"tool_name":"Bash","tool_input":{"command":"psql -c \"DROP TABLE users; --\""}}"#;
const POST_STDIN: &str = r#"{"tool_name":"Bash","tool_input":{"command":"cat data"},"tool_response":"SSN: 123-45-6789\n"}"#;
const PROMPT_STDIN: &str =
    r#"{"hook_event_name":"UserPromptSubmit","prompt":"refactor the parser in src/lib.rs"}"#;
const PROMPT_PII_STDIN: &str =
    r#"{"hook_event_name":"UserPromptSubmit","prompt":"file my taxes, my ssn is 123-45-6789"}"#;

/// Targets.
const ALLOW_VS_CURL_MAX: f64 = 1.5;
/// Post-tool-use in replace mode and user-prompt-submit (issue 11).
const PROTECT_VS_CURL_MAX: f64 = 0.4;
const HTTPS_ALLOW_VS_CURL_MAX: f64 = 0.5;
const HTTPS_ALLOW_MAX_INSTRUCTIONS: u64 = 5_000_000;
const HTTPS_POST_MAX_INSTRUCTIONS: u64 = 9_000_000;
const RSS_MAX_MIB: f64 = 10.0;
const BINARY_MAX_MIB: f64 = 3.0;

const MIB: f64 = 1024.0 * 1024.0;

const USAGE: &str = "\
usage: axonflow-bench [--rounds N] [--warmup N] [--hook PATH]

Measures whole-process wall time and peak RSS of axonflow-codex-hook (pre-tool-use allow,
pre-tool-use block, post-tool-use in alert and replace mode, user-prompt-submit allow and
block) next to a curl POST of the same check_policy request to
the same in-process AxonFlow agent stand-in, and prints a Markdown table.

  --rounds N   measured rounds, each running every case once (default 200)
  --warmup N   unmeasured rounds first (default 10)
  --hook PATH  the hook binary (default: axonflow-codex-hook next to this binary,
               i.e. target/release/ after `cargo build --release`)

Exit status: 0 all targets met, 1 a target missed, 2 the benchmark could not run.";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Curl,
    Allow,
    Block,
    /// post-tool-use in alert mode: the GOVERNANCE ALERT on stdout.
    Post,
    /// post-tool-use in replace mode (the default): exit 2, the redacted copy on stderr.
    PostReplace,
    Prompt,
    PromptBlock,
    HttpsCurl,
    HttpsAllow,
    HttpsPost,
}

impl Kind {
    fn over_tls(self) -> bool {
        matches!(self, Kind::HttpsCurl | Kind::HttpsAllow | Kind::HttpsPost)
    }

    /// The curl case this one is compared with.
    fn baseline(self) -> Kind {
        if self.over_tls() {
            Kind::HttpsCurl
        } else {
            Kind::Curl
        }
    }
}

struct Case {
    kind: Kind,
    label: &'static str,
    /// Tools the stand-in must have seen, in any order, for one run.
    expected_tools: &'static [&'static str],
    wall_ns: Vec<u64>,
    rss_kib: Vec<u64>,
}

struct Options {
    rounds: usize,
    warmup: usize,
    hook: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(SPAWNER_ARG) {
        return spawner::serve();
    }
    let opts = match parse_args(&args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("axonflow-bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("axonflow-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut opts = Options {
        rounds: DEFAULT_ROUNDS,
        warmup: DEFAULT_WARMUP,
        hook: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "-h" | "--help" => return Ok(None),
            "--rounds" | "--warmup" => {
                let v = value()?;
                let n: usize = v
                    .parse()
                    .map_err(|_| format!("{name}: not a number: {v:?}"))?;
                if name == "--rounds" {
                    if n == 0 {
                        return Err("--rounds must be at least 1".into());
                    }
                    opts.rounds = n;
                } else {
                    opts.warmup = n;
                }
            }
            "--hook" => opts.hook = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(opts))
}

fn run(opts: &Options) -> Result<bool, String> {
    let self_exe =
        std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    let hook = locate_hook(opts, &self_exe)?;
    let hook_size = std::fs::metadata(&hook)
        .map_err(|e| format!("{}: {e}", hook.display()))?
        .len();
    let path_var = std::env::var("PATH")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".to_string());
    let curl = find_on_path("curl", &path_var).ok_or(
        "curl is not on PATH; the benchmark compares the hook with a curl POST. \
         Install it (apt-get install curl) and run again.",
    )?;
    let curl_version = command_first_line(&curl, &["--version"]).unwrap_or_default();

    let agent = StandIn::start(AgentConfig::default());
    let tmp = tempfile::Builder::new()
        .prefix("axonflow-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let home = tmp.path().join("home");
    let codex_home = home.join(".codex");
    let cache = home.join(".cache");
    for dir in [&codex_home, &cache] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let env: Vec<(String, String)> = vec![
        ("PATH".into(), path_var.clone()),
        ("HOME".into(), path_str(&home)),
        ("CODEX_HOME".into(), path_str(&codex_home)),
        ("XDG_CACHE_HOME".into(), path_str(&cache)),
        ("AXONFLOW_ENDPOINT".into(), agent.endpoint()),
    ];
    let tls = https::HttpsSetup::start(tmp.path())?;
    let mut https_env = env.clone();
    https_env.retain(|(k, _)| k != "AXONFLOW_ENDPOINT");
    https_env.push(("AXONFLOW_ENDPOINT".into(), tls.agent.endpoint()));
    https_env.push(("SSL_CERT_FILE".into(), path_str(&tls.bundle)));
    if let Some(dir) = &tls.system_dir {
        https_env.push(("SSL_CERT_DIR".into(), path_str(dir)));
    }
    let mut https_curl_args = curl_args(&tls.agent.mcp_url());
    https_curl_args.splice(0..0, ["--cacert".to_string(), path_str(&tls.ca_file)]);
    let alert = ("AXONFLOW_OUTPUT_MODE".to_string(), "alert".to_string());
    let mut alert_env = env.clone();
    alert_env.push(alert.clone());
    let mut https_alert_env = https_env.clone();
    https_alert_env.push(alert);
    let programs = Programs {
        curl: path_str(&curl),
        hook: path_str(&hook),
        curl_args: curl_args(&agent.mcp_url()),
        https_curl_args,
        pre_args: vec!["pre-tool-use".to_string()],
        post_args: vec!["post-tool-use".to_string()],
        prompt_args: vec!["user-prompt-submit".to_string()],
        env,
        https_env,
        alert_env,
        https_alert_env,
    };

    let mut cases = vec![
        Case::new(
            Kind::Curl,
            "curl POST check_policy (baseline)",
            &["check_policy"],
        ),
        Case::new(Kind::Allow, "hook pre-tool-use, allow", &["check_policy"]),
        Case::new(
            Kind::Block,
            "hook pre-tool-use, block (exit 2)",
            &["check_policy", "audit_tool_call"],
        ),
        Case::new(
            Kind::Post,
            "hook post-tool-use, alert mode, PII redaction",
            &["audit_tool_call", "check_output"],
        ),
        Case::new(
            Kind::PostReplace,
            "hook post-tool-use, replace mode, PII redaction (exit 2)",
            &["audit_tool_call", "check_output"],
        ),
        Case::new(
            Kind::Prompt,
            "hook user-prompt-submit, allow",
            &["check_output"],
        ),
        Case::new(
            Kind::PromptBlock,
            "hook user-prompt-submit, PII (exit 2)",
            &["check_output"],
        ),
    ];
    cases.extend(https_cases());

    let mut spawner = Spawner::start(&self_exe)?;
    let mut spawner_hwm_kib = 0u64;
    let mut allow_body_checked = false;
    let total = opts.warmup + opts.rounds;
    eprintln!(
        "axonflow-bench: {} warm-up + {} measured rounds of {} cases against {} and {} ...",
        opts.warmup,
        opts.rounds,
        cases.len(),
        agent.endpoint(),
        tls.agent.endpoint()
    );
    for round in 0..total {
        let measured = round >= opts.warmup;
        for case in cases.iter_mut() {
            let job = programs.job(case.kind);
            let case_agent = if case.kind.over_tls() {
                &tls.agent
            } else {
                &agent
            };
            case_agent.clear_requests();
            let out = spawner
                .run(&job)
                .map_err(|e| format!("{} (round {}): {e}", case.label, round + 1))?;
            // Checked outside the timed window.
            check_outcome(case, &out, case_agent)
                .map_err(|e| format!("{} (round {}): {e}", case.label, round + 1))?;
            if case.kind == Kind::Allow && !allow_body_checked {
                check_curl_body_matches_hook(&agent)?;
                allow_body_checked = true;
            }
            spawner_hwm_kib = spawner_hwm_kib.max(out.spawner_hwm_kib);
            if measured {
                case.wall_ns.push(out.wall_ns);
                case.rss_kib.push(out.maxrss_kib);
            }
        }
    }
    drop(spawner);

    // Report.
    let median_of = |kind: Kind| {
        cases
            .iter()
            .find(|c| c.kind == kind)
            .map_or(f64::NAN, |c| median(&c.wall_ns))
    };
    let curl_median = median_of(Kind::Curl);
    println!(
        "| case | runs | median ms | p90 ms | mean ms | peak RSS max (MiB) | median / curl median |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for case in &cases {
        let med = median(&case.wall_ns);
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2}× |",
            case.label,
            case.wall_ns.len(),
            med / 1e6,
            p90(&case.wall_ns) / 1e6,
            mean(&case.wall_ns) / 1e6,
            max_rss_mib(case),
            med / median_of(case.kind.baseline()),
        );
    }
    println!();
    println!(
        "- hook binary: {} — {} bytes ({:.2} MiB)",
        hook.display(),
        hook_size,
        hook_size as f64 / MIB
    );
    println!(
        "- machine: nproc {}, kernel {}, CPU {}",
        nproc(),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into()),
        cpu_model()
    );
    println!("- curl: {curl_version}");
    println!(
        "- https: the stand-in behind rustls with an ECDSA P-256 certificate from a CA made by \
         this run; the hook trusts it through SSL_CERT_FILE = a copy of the system bundle plus \
         that CA ({} certificates) and SSL_CERT_DIR = {}; curl is given the CA file alone \
         (--cacert)",
        tls.bundle_certs,
        tls.system_dir
            .as_deref()
            .map_or("(no system directory)".into(), path_str)
    );
    println!(
        "- {} warm-up + {} measured rounds, round-robin; wall time = spawn to reap (wait4); \
         peak RSS = wait4 ru_maxrss",
        opts.warmup, opts.rounds
    );
    println!(
        "- RSS floor: processes are spawned by a small helper whose own peak RSS was {:.2} MiB; \
         on Linux a child's ru_maxrss cannot read below its spawner's, so smaller figures \
         would show as this value",
        spawner_hwm_kib as f64 / 1024.0
    );
    println!();

    let allow_median = median_of(Kind::Allow);
    let hook_rss_mib = cases
        .iter()
        .filter(|c| !matches!(c.kind, Kind::Curl | Kind::HttpsCurl))
        .map(max_rss_mib)
        .fold(0.0f64, f64::max);
    let mut checks = vec![
        (
            format!(
                "pre-tool-use allow median ≤ {ALLOW_VS_CURL_MAX} × curl median: {:.2} ms vs {:.2} ms ({:.2}×)",
                allow_median / 1e6,
                ALLOW_VS_CURL_MAX * curl_median / 1e6,
                allow_median / curl_median
            ),
            allow_median <= ALLOW_VS_CURL_MAX * curl_median,
        ),
        (
            format!("hook peak RSS ≤ {RSS_MAX_MIB} MiB: {hook_rss_mib:.2} MiB (max over all hook runs)"),
            hook_rss_mib <= RSS_MAX_MIB,
        ),
        (
            format!(
                "hook binary ≤ {BINARY_MAX_MIB} MiB: {:.2} MiB",
                hook_size as f64 / MIB
            ),
            hook_size as f64 <= BINARY_MAX_MIB * MIB,
        ),
    ];
    for kind in [Kind::PostReplace, Kind::Prompt, Kind::PromptBlock] {
        let case = cases.iter().find(|c| c.kind == kind).expect("a case");
        let med = median(&case.wall_ns);
        checks.push((
            format!(
                "{} median ≤ {PROTECT_VS_CURL_MAX} × curl median: {:.2} ms vs {:.2} ms ({:.2}×)",
                case.label,
                med / 1e6,
                PROTECT_VS_CURL_MAX * curl_median / 1e6,
                med / curl_median
            ),
            med <= PROTECT_VS_CURL_MAX * curl_median,
        ));
    }
    checks.push(https_wall_check(
        median_of(Kind::HttpsAllow),
        median_of(Kind::HttpsCurl),
    ));
    match callgrind::find_valgrind(&path_var) {
        Some(valgrind) => {
            checks.extend(report_instructions(&valgrind, &programs, &cases)?);
        }
        None => println!("(valgrind is not on PATH: no instruction counts)\n"),
    }
    println!("Targets:");
    let mut all = true;
    for (what, ok) in &checks {
        println!("- {} {what}", if *ok { "PASS" } else { "FAIL" });
        all &= ok;
    }
    Ok(all)
}

/// What the cases run: programs, arguments and environments.
struct Programs {
    curl: String,
    hook: String,
    curl_args: Vec<String>,
    https_curl_args: Vec<String>,
    pre_args: Vec<String>,
    post_args: Vec<String>,
    prompt_args: Vec<String>,
    env: Vec<(String, String)>,
    https_env: Vec<(String, String)>,
    /// The same with `AXONFLOW_OUTPUT_MODE=alert`.
    alert_env: Vec<(String, String)>,
    https_alert_env: Vec<(String, String)>,
}

impl Programs {
    fn job(&self, kind: Kind) -> Job<'_> {
        let env = match kind {
            Kind::Post => &self.alert_env,
            Kind::HttpsPost => &self.https_alert_env,
            _ if kind.over_tls() => &self.https_env,
            _ => &self.env,
        };
        let (program, args, stdin) = match kind {
            Kind::Curl => (&self.curl, &self.curl_args, None),
            Kind::HttpsCurl => (&self.curl, &self.https_curl_args, None),
            Kind::Allow | Kind::HttpsAllow => (&self.hook, &self.pre_args, Some(ALLOW_STDIN)),
            Kind::Block => (&self.hook, &self.pre_args, Some(BLOCK_STDIN)),
            Kind::Post | Kind::PostReplace | Kind::HttpsPost => {
                (&self.hook, &self.post_args, Some(POST_STDIN))
            }
            Kind::Prompt => (&self.hook, &self.prompt_args, Some(PROMPT_STDIN)),
            Kind::PromptBlock => (&self.hook, &self.prompt_args, Some(PROMPT_PII_STDIN)),
        };
        Job {
            program,
            args,
            env,
            stdin,
        }
    }
}

/// The curl POST of the hook's check_policy request to `url`.
fn curl_args(url: &str) -> Vec<String> {
    [
        "-s",
        "-o",
        "/dev/null",
        "-X",
        "POST",
        url,
        "-H",
        "Content-Type: application/json",
        "-H",
        "Accept: application/json",
        "-H",
        CLIENT_HEADER,
        "--data-binary",
        CURL_BODY,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn https_cases() -> Vec<Case> {
    vec![
        Case::new(
            Kind::HttpsCurl,
            "https: curl POST check_policy (baseline)",
            &["check_policy"],
        ),
        Case::new(
            Kind::HttpsAllow,
            "https: hook pre-tool-use, allow",
            &["check_policy"],
        ),
        Case::new(
            Kind::HttpsPost,
            "https: hook post-tool-use, alert mode, PII redaction",
            &["audit_tool_call", "check_output"],
        ),
    ]
}

fn https_wall_check(allow_median: f64, curl_median: f64) -> (String, bool) {
    (
        format!(
            "https pre-tool-use allow median ≤ {HTTPS_ALLOW_VS_CURL_MAX} × https curl median: {:.2} ms vs {:.2} ms ({:.2}×)",
            allow_median / 1e6,
            HTTPS_ALLOW_VS_CURL_MAX * curl_median / 1e6,
            allow_median / curl_median
        ),
        allow_median <= HTTPS_ALLOW_VS_CURL_MAX * curl_median,
    )
}

/// One callgrind run of every case; prints the counts and returns the instruction targets.
fn report_instructions(
    valgrind: &Path,
    programs: &Programs,
    cases: &[Case],
) -> Result<Vec<(String, bool)>, String> {
    eprintln!("axonflow-bench: counting instructions with callgrind ...");
    println!("| case | instructions (callgrind) |");
    println!("|---|---:|");
    let mut counts = Vec::new();
    for case in cases {
        let job = programs.job(case.kind);
        let count = callgrind::count(valgrind, job.program, job.args, job.env, job.stdin)
            .map_err(|e| format!("{}: {e}", case.label))?;
        println!("| {} | {:.2} M |", case.label, count as f64 / 1e6);
        counts.push((case.kind, count));
    }
    println!();
    let count_of = |kind: Kind| counts.iter().find(|(k, _)| *k == kind).map(|(_, n)| *n);
    let target = |kind: Kind, what: &str, max: u64| {
        let n = count_of(kind).unwrap_or(u64::MAX);
        (
            format!(
                "{what} ≤ {:.1} M instructions: {:.2} M",
                max as f64 / 1e6,
                n as f64 / 1e6
            ),
            n <= max,
        )
    };
    Ok(vec![
        target(
            Kind::HttpsAllow,
            "https pre-tool-use allow",
            HTTPS_ALLOW_MAX_INSTRUCTIONS,
        ),
        target(
            Kind::HttpsPost,
            "https post-tool-use",
            HTTPS_POST_MAX_INSTRUCTIONS,
        ),
    ])
}

impl Case {
    fn new(kind: Kind, label: &'static str, expected_tools: &'static [&'static str]) -> Case {
        Case {
            kind,
            label,
            expected_tools,
            wall_ns: Vec::new(),
            rss_kib: Vec::new(),
        }
    }
}

/// Aborts the benchmark when a run did not do what the case is about.
fn check_outcome(case: &Case, out: &Outcome, agent: &StandIn) -> Result<(), String> {
    let expected_exit = match case.kind {
        Kind::Block | Kind::PostReplace | Kind::PromptBlock => 2,
        _ => 0,
    };
    let describe = || {
        format!(
            "\n  stdout: {:?}\n  stderr: {:?}",
            truncate(&out.stdout),
            truncate(&out.stderr)
        )
    };
    match (out.exit_code, out.signal) {
        (Some(code), _) if code == expected_exit => {}
        (Some(code), _) => {
            return Err(format!(
                "exited with {code}, expected {expected_exit}; a benchmark of a broken hook is worthless{}",
                describe()
            ))
        }
        (None, Some(sig)) => return Err(format!("killed by signal {sig}{}", describe())),
        (None, None) => return Err(format!("ended with an unknown wait status{}", describe())),
    }
    let output_ok = match case.kind {
        Kind::Curl | Kind::HttpsCurl => true,
        Kind::Allow | Kind::HttpsAllow => out.stdout.is_empty() && out.stderr.is_empty(),
        Kind::Block => {
            out.stdout.is_empty()
                && out.stderr.starts_with("AxonFlow policy violation: ")
                && out.stderr.trim_end().lines().count() == 1
        }
        Kind::Post | Kind::HttpsPost => out.stdout.contains("GOVERNANCE ALERT"),
        Kind::PostReplace => {
            out.stdout.is_empty()
                && out
                    .stderr
                    .starts_with("AxonFlow redacted sensitive data from this tool output")
                && out.stderr.ends_with("\nSSN: 1*********9\n")
        }
        Kind::Prompt => out.stdout.is_empty() && out.stderr.is_empty(),
        Kind::PromptBlock => {
            out.stdout.is_empty()
                && out.stderr.starts_with("AxonFlow blocked this prompt: ")
                && out.stderr.ends_with("my ssn is 1*********9\n")
        }
    };
    if !output_ok {
        return Err(format!("unexpected output{}", describe()));
    }
    let mut seen: Vec<String> = agent.rpc_calls().into_iter().map(|r| r.tool).collect();
    let mut want: Vec<String> = case.expected_tools.iter().map(|s| s.to_string()).collect();
    seen.sort();
    want.sort();
    if seen != want {
        return Err(format!(
            "the stand-in agent received tools/call {seen:?}, expected {want:?}{}",
            describe()
        ));
    }
    Ok(())
}

/// The curl baseline must send what the hook sends: same JSON body (same bytes, ideally).
fn check_curl_body_matches_hook(agent: &StandIn) -> Result<(), String> {
    let req = agent
        .requests()
        .into_iter()
        .find(|r| r.rpc().is_some_and(|c| c.tool == "check_policy"))
        .ok_or("the hook's check_policy request was not recorded")?;
    let expected: Value = serde_json::from_str(CURL_BODY).expect("valid JSON constant");
    if req.json.as_ref() != Some(&expected) {
        return Err(format!(
            "the hook's check_policy body {:?} differs from the curl baseline's {CURL_BODY:?}; \
             fix CURL_BODY so both send the same request",
            req.body_text()
        ));
    }
    if req.body != CURL_BODY.as_bytes() {
        eprintln!(
            "axonflow-bench: note: the hook's check_policy body equals the curl body as JSON \
             but not byte for byte: {:?}",
            req.body_text()
        );
    }
    Ok(())
}

fn locate_hook(opts: &Options, self_exe: &Path) -> Result<PathBuf, String> {
    let hook = match &opts.hook {
        Some(p) => p.clone(),
        None => self_exe
            .parent()
            .map(|dir| dir.join(HOOK_NAME))
            .ok_or("cannot derive the target directory from this program's path")?,
    };
    if !hook.is_file() {
        return Err(format!(
            "hook binary not found at {}; run `cargo build --release -p axonflow-codex-hook` \
             first (or pass --hook PATH)",
            hook.display()
        ));
    }
    Ok(hook)
}

pub(crate) fn find_on_path(name: &str, path_var: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

fn command_first_line(program: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(|l| l.trim().to_string())
}

fn nproc() -> String {
    find_on_path("nproc", &std::env::var("PATH").unwrap_or_default())
        .and_then(|p| command_first_line(&p, &[]))
        .filter(|s| !s.is_empty())
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(|n| n.to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn truncate(s: &str) -> String {
    const MAX: usize = 600;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

fn sorted(v: &[u64]) -> Vec<u64> {
    let mut s = v.to_vec();
    s.sort_unstable();
    s
}

fn median(v: &[u64]) -> f64 {
    let s = sorted(v);
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        s[n / 2] as f64
    } else {
        (s[n / 2 - 1] as f64 + s[n / 2] as f64) / 2.0
    }
}

/// Nearest-rank 90th percentile.
fn p90(v: &[u64]) -> f64 {
    let s = sorted(v);
    if s.is_empty() {
        return f64::NAN;
    }
    let rank = ((s.len() as f64) * 0.9).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1] as f64
}

fn mean(v: &[u64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
}

fn max_rss_mib(case: &Case) -> f64 {
    case.rss_kib.iter().copied().max().unwrap_or(0) as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        assert_eq!(median(&[3, 1, 2]), 2.0);
        assert_eq!(median(&[4, 1, 2, 3]), 2.5);
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(p90(&v), 9.0);
        assert_eq!(p90(&[5]), 5.0);
        assert_eq!(mean(&[1, 2, 3]), 2.0);
    }

    #[test]
    fn args() {
        let a = |v: &[&str]| parse_args(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let o = a(&["--rounds", "5", "--hook=/x"]).unwrap().unwrap();
        assert_eq!(o.rounds, 5);
        assert_eq!(o.warmup, DEFAULT_WARMUP);
        assert_eq!(o.hook, Some(PathBuf::from("/x")));
        assert!(a(&["--rounds"]).is_err());
        assert!(a(&["--rounds", "0"]).is_err());
        assert!(a(&["--bogus"]).is_err());
        assert!(a(&["--help"]).unwrap().is_none());
    }
}
