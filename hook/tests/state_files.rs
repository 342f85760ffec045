//! The hook's own files under hostile hands: a FIFO, a link to `/dev/zero` or a 200 MB file
//! at `axonflow.toml`, `user-token.json`, the throttle stamp or a prompt stamp costs neither
//! time nor memory (each run is killed and fails after 15 s, and its peak RSS is measured);
//! and a throttle stamp further ahead than a day is not honoured.

mod support;

use std::path::Path;
use std::time::Duration;

use support::*;

const DROP: &str = "psql -c \"DROP TABLE users; --\"";
const KILL_AFTER: Duration = Duration::from_secs(15);
/// Far above a normal run (~1 s on a busy machine), far below a hang.
const TIME_BOUND: Duration = Duration::from_secs(8);
const RSS_LIMIT_KIB: i64 = 64 * 1024;
const HUGE_BYTES: u64 = 200 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
enum Planted {
    Fifo,
    LinkToDevZero,
    Huge,
}

const EVERY_KIND: [Planted; 3] = [Planted::Fifo, Planted::LinkToDevZero, Planted::Huge];

/// Puts a hostile file at `path`; a huge one is sparse (no disk used) and 0600, so that only
/// its size is wrong.
fn plant(path: &Path, kind: Planted) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(path);
    match kind {
        Planted::Fifo => {
            let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        }
        Planted::LinkToDevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
        Planted::Huge => {
            use std::os::unix::fs::PermissionsExt as _;
            let file = std::fs::File::create(path).unwrap();
            file.set_len(HUGE_BYTES).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

/// One hook run, bounded and measured.
fn run(env: &TestEnv, args: &[&str], stdin: &Value) -> Measured {
    let command = env.command(Path::new(HOOK), args);
    let measured = run_measured(
        command,
        feed_bytes(stdin.to_string().into_bytes()),
        KILL_AFTER,
    );
    env.check_output(args, &measured.stdout, &measured.stderr);
    assert!(
        measured.elapsed < TIME_BOUND,
        "{args:?} took {:?}",
        measured.elapsed
    );
    assert!(
        measured.max_rss_kib < RSS_LIMIT_KIB,
        "{args:?} peaked at {} KiB",
        measured.max_rss_kib
    );
    measured
}

fn assert_silent_allow(run: &Measured) {
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", ""),
        "expected a silent allow"
    );
}

fn user_token_path(env: &TestEnv) -> std::path::PathBuf {
    env.home
        .join(".config")
        .join("axonflow")
        .join("user-token.json")
}

#[test]
fn hostile_settings_file_is_a_settings_error_naming_it() {
    for kind in EVERY_KIND {
        let agent = StandIn::start(AgentConfig::default());
        let env = TestEnv::with_agent(&agent);
        let settings = env.codex_home.join("axonflow.toml");
        plant(&settings, kind);
        let cause = match kind {
            Planted::Huge => "is larger than 1 MiB",
            _ => "is not a regular file",
        };

        let pre = run(&env, &["pre-tool-use"], &bash(DROP));
        assert_eq!(pre.code, 2, "{kind:?}: {}", pre.stderr);
        let line = pre.one_line();
        assert!(
            line.starts_with("AxonFlow governance blocked: invalid AxonFlow settings (")
                && line.contains(&format!("{} {cause}", settings.display())),
            "{kind:?}: {line}"
        );

        let headers = run(&env, &["mcp-headers"], &json!(null));
        assert_eq!(headers.code, 1, "{kind:?}");
        assert!(headers.one_line().contains(cause), "{kind:?}");

        let post = run(&env, &["post-tool-use"], &post_bash("ls", json!("out")));
        assert_eq!(post.code, 0, "{kind:?}");
        assert!(post.one_line().contains(cause), "{kind:?}");
        assert!(agent.requests().is_empty(), "{kind:?}: nothing is sent");
    }
}

#[test]
fn hostile_user_token_file_is_ignored() {
    for kind in EVERY_KIND {
        let agent = StandIn::start(AgentConfig::default());
        let env = TestEnv::with_agent(&agent);
        plant(&user_token_path(&env), kind);

        assert_silent_allow(&run(&env, &["pre-tool-use"], &bash("ls -la")));
        let calls = agent.rpc_calls_of("check_policy");
        assert_eq!(calls.len(), 1, "{kind:?}: the agent is asked");
        assert_eq!(calls[0].header("x-user-token"), None, "{kind:?}");

        let headers = run(&env, &["mcp-headers"], &json!(null));
        assert_eq!(headers.code, 0, "{kind:?}");
        assert!(!headers.stdout.contains("X-User-Token"), "{kind:?}");
    }
}

#[test]
fn hostile_throttle_stamp_is_ignored_and_the_agent_is_asked() {
    for kind in EVERY_KIND {
        let agent = StandIn::start(AgentConfig::default());
        let env = TestEnv::with_agent(&agent);
        plant(&env.state_file("throttle-until"), kind);

        let pre = run(&env, &["pre-tool-use"], &bash(DROP));
        assert_eq!(pre.code, 2, "{kind:?}: {}", pre.stderr);
        assert!(
            pre.one_line().starts_with("AxonFlow policy violation: "),
            "{kind:?}"
        );

        let post = run(&env, &["post-tool-use"], &post_bash("ls", json!("out")));
        assert_eq!(post.code, 0, "{kind:?}");
        assert!(
            !agent.rpc_calls_of("check_output").is_empty(),
            "{kind:?}: the output is scanned"
        );
    }
}

#[test]
fn hostile_upgrade_prompt_stamp_counts_as_not_shown() {
    for kind in EVERY_KIND {
        let agent = StandIn::start(AgentConfig::default().with_daily_quota(0));
        let env = TestEnv::with_agent(&agent);
        let stamp = env.state_file("upgrade-prompt-last-shown");
        plant(&stamp, kind);

        let pre = run(&env, &["pre-tool-use"], &bash(DROP));
        assert_eq!(pre.code, 0, "{kind:?}: {}", pre.stderr);
        assert_eq!(pre.stderr.lines().count(), 2, "{kind:?}: {}", pre.stderr);
        assert!(
            std::fs::symlink_metadata(&stamp).unwrap().is_file(),
            "{kind:?}: replaced by a real stamp"
        );
    }
}

#[test]
fn hostile_auth_failure_prompt_stamp_counts_as_not_shown() {
    for kind in EVERY_KIND {
        let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "right"));
        let mut env = TestEnv::with_agent(&agent);
        let auth = basic("id", "wrong");
        env.set("AXONFLOW_AUTH", &auth).secret(&auth);
        plant(&env.state_file("auth-failure-prompt-last-shown"), kind);

        let post = run(&env, &["post-tool-use"], &post_bash("ls", json!("out")));
        assert_eq!(post.code, 0, "{kind:?}");
        assert!(
            post.one_line()
                .contains("rejected the credentials (HTTP 401)"),
            "{kind:?}: {}",
            post.stderr
        );
    }
}

// ---- a throttle stamp further ahead than the one-day cap ------------------------------------

fn write_stamp(env: &TestEnv, text: &str) {
    let path = env.state_file("throttle-until");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_private(&path, text, 0o600);
}

#[test]
fn a_stamp_years_ahead_is_discarded_and_the_agent_decides() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    write_stamp(&env, "99999999999 x\n");

    let run = env.pre(&bash(DROP));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.one_line().starts_with("AxonFlow policy violation: "));
    assert!(
        !env.state_file("throttle-until").exists(),
        "the stamp is deleted"
    );
}

#[test]
fn a_bash_plugin_stamp_beyond_a_day_is_discarded_then_rewritten_within_the_cap() {
    // The bash plugin writes an envelope's resets_at as it is, say a month ahead.
    let agent = StandIn::start(
        AgentConfig::default()
            .with_daily_quota(0)
            .with_quota_resets_at("2099-01-01T00:00:00Z"),
    );
    let env = TestEnv::with_agent(&agent);
    let month_ahead = now_epoch() + 30 * 86_400;
    write_stamp(&env, &format!("{month_ahead} monthly_quota\n"));

    let run = env.pre(&bash("ls"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        agent.rpc_calls_of("check_policy").len(),
        1,
        "the agent is asked"
    );
    let stamp = std::fs::read_to_string(env.state_file("throttle-until")).unwrap();
    let (until, reason) = stamp.trim_end().split_once(' ').unwrap();
    let until: u64 = until.parse().unwrap();
    assert!(until <= now_epoch() + 86_400, "{stamp}");
    assert_eq!(reason, "daily_quota");

    // The rewritten stamp is honoured: no request.
    agent.clear_requests();
    env.pre(&bash("ls")).assert_silent_allow();
    assert!(agent.requests().is_empty());
}

#[test]
fn a_stamp_within_the_cap_is_honoured_as_written() {
    let agent = StandIn::start(AgentConfig::default());
    let env = TestEnv::with_agent(&agent);
    let stamp = format!("{} daily_quota\n", now_epoch() + 86_000);
    write_stamp(&env, &stamp);

    env.pre(&bash(DROP)).assert_silent_allow();
    assert!(agent.requests().is_empty());
    assert_eq!(
        std::fs::read_to_string(env.state_file("throttle-until")).unwrap(),
        stamp
    );
}

#[test]
fn a_long_auth_cooldown_is_written_capped_at_a_day() {
    let agent = StandIn::start(AgentConfig::default().with_basic_auth("id", "right"));
    let mut env = TestEnv::with_agent(&agent);
    let auth = basic("id", "wrong");
    env.set("AXONFLOW_AUTH", &auth).secret(&auth);
    env.set("AXONFLOW_AUTH_FAILURE_COOLDOWN_SECONDS", "31536000");

    assert_eq!(env.pre(&bash(DROP)).code, 2);
    let stamp = std::fs::read_to_string(env.state_file("throttle-until")).unwrap();
    let until: u64 = stamp.split(' ').next().unwrap().parse().unwrap();
    assert!(until <= now_epoch() + 86_400, "{stamp}");

    // And it is honoured: the next call blocks locally with the cooldown line.
    agent.clear_requests();
    let run = env.pre(&bash(DROP));
    assert_eq!(run.code, 2);
    assert!(
        run.one_line().contains("cooldown is active"),
        "{}",
        run.stderr
    );
    assert!(agent.requests().is_empty());
}

// ---- a throttle stamp someone else could have written --------------------------------------

/// `XDG_CACHE_HOME` pointed at a shared directory: the state directory is writable by anyone,
/// and a stamp there may be another user's. Honoured, it would switch governance off for a day
/// (a tier limit) or block every tool (an auth failure).
#[test]
fn a_throttle_stamp_others_could_have_written_is_not_honoured() {
    use std::os::unix::fs::PermissionsExt as _;
    let agent = StandIn::start(AgentConfig::default());
    let shared = tempfile::tempdir().unwrap();
    let mut env = TestEnv::with_agent(&agent);
    env.set("XDG_CACHE_HOME", &shared.path().display().to_string());
    let state_dir = shared.path().join("axonflow");
    std::fs::create_dir(&state_dir).unwrap();
    std::fs::set_permissions(&state_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let stamp = state_dir.join("throttle-until");
    let planted = format!("{} daily_quota\n", now_epoch() + 3600);

    // Writable by others.
    write_private(&stamp, &planted, 0o666);
    let run = env.pre(&bash(DROP));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.one_line().starts_with("AxonFlow policy violation: "));
    assert_eq!(
        std::fs::read_to_string(&stamp).unwrap(),
        planted,
        "not ours to delete"
    );

    // Another user's (only root can give a file away; others see the mode case above).
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        write_private(&stamp, &planted, 0o644);
        std::os::unix::fs::chown(&stamp, Some(65534), Some(65534)).unwrap();
        let run = env.pre(&bash(DROP));
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.one_line().starts_with("AxonFlow policy violation: "));
    }

    // The same stamp written by this user alone is honoured.
    std::fs::remove_file(&stamp).unwrap();
    write_private(&stamp, &planted, 0o600);
    agent.clear_requests();
    env.pre(&bash(DROP)).assert_silent_allow();
    assert!(agent.requests().is_empty());
}

/// So the hook's own stamps are always honoured: written 0600 whatever the umask.
#[test]
fn the_hooks_own_stamp_is_private_under_any_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let agent = StandIn::start(AgentConfig::default().with_daily_quota(0));
    let env = TestEnv::with_agent(&agent);
    let mut command = env.command(Path::new(HOOK), &["pre-tool-use"]);
    // SAFETY: umask is async-signal-safe and touches nothing but the child's own mask.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let run = run_measured(
        command,
        feed_bytes(bash("ls").to_string().into_bytes()),
        KILL_AFTER,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stamp = std::fs::metadata(env.state_file("throttle-until")).unwrap();
    assert_eq!(stamp.permissions().mode() & 0o777, 0o600);

    agent.clear_requests();
    env.pre(&bash(DROP)).assert_silent_allow();
    assert!(agent.requests().is_empty());
}
