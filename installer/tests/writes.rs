//! How install and uninstall write: private files never readable by others, not even while
//! they are written; partial failures; links; refused runs that change nothing; big files.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use support::*;

/// A file that holds (or is about to hold) the settings' credentials: axonflow.toml or a
/// temporary file beside it.
fn holds_the_settings(name: &str) -> bool {
    name.starts_with("axonflow.toml") || name.starts_with(".axonflow.toml")
}

#[test]
fn the_settings_are_never_readable_by_others_while_they_are_written() {
    let mut env = TestEnv::new();
    env.secret("c2VjcmV0LWlkOnNlY3JldC12YWx1ZQ==");
    let dir = env.codex_home.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new((0usize, Vec::<String>::new())));
    let poller = std::thread::spawn({
        let (stop, seen) = (stop.clone(), seen.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !holds_the_settings(&name) {
                        continue;
                    }
                    std::thread::yield_now();
                    let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                        continue; // renamed or removed meanwhile
                    };
                    let mut seen = seen.lock().unwrap();
                    seen.0 += 1;
                    let mode = meta.permissions().mode() & 0o777;
                    if mode & 0o077 != 0 {
                        seen.1.push(format!("{name} {mode:o}"));
                    }
                }
            }
        }
    });
    for round in 0..120 {
        // Other credentials each time, so each install rewrites the settings.
        let auth = format!("id-{round}:secret-{round}");
        env.set("AXONFLOW_AUTH", &base64(&auth));
        let run = env.run(&[
            "install",
            "-y",
            "--no-skills",
            "--timeout",
            &(round % 50 + 1).to_string(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    stop.store(true, Ordering::Relaxed);
    poller.join().unwrap();
    let (observed, loose) = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        observed > 100,
        "the poller saw only {observed} settings files"
    );
    assert!(
        loose.is_empty(),
        "files holding the settings were readable by others {} times (of {observed} looks), e.g. {:?}",
        loose.len(),
        &loose[..loose.len().min(5)]
    );
    assert_eq!(mode(&env.path("axonflow.toml")), 0o600);
}

fn base64(text: &str) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new("base64")
        .args(["-w", "0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

#[allow(dead_code)]
fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

#[test]
fn a_refused_install_leaves_nothing_behind() {
    for (file, contents) in [
        ("config.toml", &b"model = \"x\"\n[broken\n"[..]),
        ("hooks.json", &b"{\"hooks\": {\"PreToolUse\": [}\n"[..]),
        ("config.toml", &b"a = 1\nb = 2\nc = \"caf\xe9\"\n"[..]),
    ] {
        let env = TestEnv::new();
        std::fs::write(env.path(file), contents).unwrap();
        let before = env.snapshot();
        let run = env.run(&["install", "-y"]);
        assert_eq!(run.code, 1, "{file}: {}", run.stderr);
        assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
        assert_eq!(
            env.snapshot(),
            before,
            "{file}: the refused install left files behind"
        );
    }
    // Refused after the files were read: an endpoint that is no URL.
    let env = TestEnv::new();
    let before = env.snapshot();
    let run = env.run(&["install", "-y", "--endpoint", "ftp://agent"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        env.snapshot(),
        before,
        "the refused install left files behind"
    );
}

#[test]
fn invalid_utf8_names_the_line_and_column() {
    let env = TestEnv::new();
    std::fs::write(env.path("config.toml"), b"a = 1\nb = 2\nc = \"caf\xe9\"\n").unwrap();
    let run = env.run(&["install", "-y"]);
    assert!(
        run.stderr
            .contains("config.toml is not valid UTF-8 (line 3, column 9"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(env.path("config.toml")).unwrap();
    std::fs::write(
        env.path("hooks.json"),
        b"{\n  \"description\": \"\xff\"\n}\n",
    )
    .unwrap();
    let run = env.run(&["install", "-y"]);
    assert!(
        run.stderr
            .contains("hooks.json is not valid UTF-8 (line 2, column 19"),
        "{}",
        run.stderr
    );
}

#[test]
fn status_and_doctor_name_the_parse_error_of_a_malformed_file() {
    let env = TestEnv::new();
    env.ok(&["install", "-y"]);
    let config = env.read("config.toml");
    env.write("config.toml", &format!("{config}\n[broken\n"));
    let line = config.lines().count() + 2;
    let expected = format!("config.toml is not valid TOML (line {line}");
    let status = env.run(&["status"]);
    assert!(status.stdout.contains(&expected), "{}", status.stdout);
    let status = env.run(&["status", "--json"]);
    let json: Value = serde_json::from_str(&status.stdout).unwrap();
    assert!(
        json["config_toml"]["error"]
            .as_str()
            .unwrap()
            .contains(&expected),
        "{json}"
    );
    let doctor = env.run(&["doctor"]);
    assert_ne!(doctor.code, 0);
    assert!(doctor.stdout.contains(&expected), "{}", doctor.stdout);
    assert!(
        !doctor.stdout.contains("is missing from config.toml"),
        "{}",
        doctor.stdout
    );

    env.write("config.toml", &config);
    let hooks = env.read("hooks.json");
    env.write("hooks.json", &hooks.replacen('{', "{,", 1));
    let status = env.run(&["status"]);
    assert!(
        status
            .stdout
            .contains("hooks.json is not valid JSON (line 1"),
        "{}",
        status.stdout
    );
}

/// Peak resident memory (ru_maxrss, bytes) of `axonflow-codex args` in `env`, and its exit code.
// The child is reaped by wait4, which std cannot do (it gives no rusage).
#[allow(clippy::zombie_processes)]
fn peak_rss(env: &TestEnv, args: &[&str]) -> (i32, u64) {
    use std::os::unix::process::ExitStatusExt as _;
    let child = std::process::Command::new(INSTALLER)
        .args(args)
        .env_clear()
        .env("HOME", &env.home)
        .env("PATH", "/usr/bin:/bin")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid pointers to locals.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let code = std::process::ExitStatus::from_raw(status)
        .code()
        .unwrap_or(-1);
    (code, usage.ru_maxrss as u64 * 1024)
}

/// A config.toml of `bytes` made of many small MCP server tables, the costliest shape for a
/// TOML tree (a 20 MB one took 2.7 GB before, in a debug build).
fn many_small_tables(bytes: usize) -> String {
    let mut text = String::from("model = \"gpt-5\"\n\n");
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!(
            "# server {i}\n[mcp_servers.s{i}]\ncommand = \"npx\"\nargs = [\"-y\", \"pkg-{i}\"]\nenv = {{ K = \"v{i}\" }}\n\n"
        ));
        i += 1;
    }
    text
}

#[test]
fn a_big_config_toml_costs_a_bounded_multiple_of_its_size() {
    ensure_hook_binary();
    let env = TestEnv::new();
    let config = many_small_tables(2 << 20);
    env.write("config.toml", &config);
    let size = config.len() as u64;
    let mut peaks = Vec::new();
    let mine = "\n[mcp_servers.mine]\ncommand = \"mine\"\n";
    for args in [
        &["install", "-y", "--no-skills"][..],
        &[
            "install",
            "-y",
            "--no-skills",
            "--endpoint",
            "http://127.0.0.1:9",
        ],
        &["uninstall", "-y"],
    ] {
        if args[0] == "uninstall" {
            // An edit of the user's: uninstall takes our entries out instead of restoring.
            let mut edited = env.read("config.toml");
            edited.push_str(mine);
            env.write("config.toml", &edited);
        }
        let (code, peak) = peak_rss(&env, args);
        assert_eq!(code, 0, "{args:?}");
        peaks.push(peak);
        // The file is checked and edited a section at a time (config_outline), never as one
        // toml_edit tree (~50 times the text for this shape; ~90 times in all, before). A
        // release build stays under 10 times a 20 MB file; this debug build, with its own
        // ~30 MB and a 2 MB file, under ~56 times.
        assert!(
            peak < 70 * size,
            "{args:?} peaked at {} MB for a {} MB config.toml",
            peak >> 20,
            size >> 20
        );
    }
    println!(
        "peak RSS for a {} MB config.toml: {:?} MB",
        size >> 20,
        peaks.iter().map(|p| p >> 20).collect::<Vec<_>>()
    );
    let after = env.read("config.toml");
    assert_eq!(
        after,
        format!("{config}{mine}"),
        "uninstall did not give the file back"
    );
}

/// A directory nobody may write into until dropped: mode 555, or for root (whom modes do not
/// stop) the immutable attribute.
struct ReadOnlyDir(std::path::PathBuf);

impl ReadOnlyDir {
    fn new(dir: &Path) -> ReadOnlyDir {
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            let status = std::process::Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .status()
                .expect("chattr (e2fsprogs) is needed to make a directory read-only for root");
            assert!(status.success(), "chattr +i {} failed", dir.display());
        } else {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        ReadOnlyDir(dir.to_path_buf())
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
    }
}

/// config.toml kept in a dotfiles directory and linked into the Codex home.
fn linked_config(env: &TestEnv) -> std::path::PathBuf {
    let dotfiles = env.home.join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::write(dotfiles.join("config.toml"), USER_CONFIG).unwrap();
    std::os::unix::fs::symlink(dotfiles.join("config.toml"), env.path("config.toml")).unwrap();
    dotfiles
}

#[test]
fn an_unwritable_target_stops_install_and_uninstall_before_any_write() {
    let env = TestEnv::new();
    env.write("hooks.json", USER_HOOKS);
    let dotfiles = linked_config(&env);
    let before = env.snapshot();
    {
        let _locked = ReadOnlyDir::new(&dotfiles);
        let run = env.run(&["install", "-y"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains(&format!("cannot write in {}", dotfiles.display())),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
        assert_eq!(env.snapshot(), before, "install wrote before it failed");
    }
    env.ok(&["install", "-y"]);
    let installed = env.snapshot();
    {
        let _locked = ReadOnlyDir::new(&dotfiles);
        let run = env.run(&["uninstall", "-y"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
        assert_eq!(
            env.snapshot(),
            installed,
            "uninstall removed files before it failed"
        );
    }
    env.ok(&["uninstall", "-y"]);
    assert_eq!(env.snapshot(), before);
}

/// Whether a file that runs the hook binary (hooks.json, config.toml) names it while it is
/// missing: the state a stopped run must never leave.
fn points_at_a_missing_binary(env: &TestEnv) -> Option<String> {
    let binary = env.path("axonflow/bin/axonflow-codex-hook");
    if binary.is_file() {
        return None;
    }
    let name = binary.display().to_string();
    ["hooks.json", "config.toml"]
        .into_iter()
        .find(|f| std::fs::read_to_string(env.path(f)).is_ok_and(|t| t.contains(&name)))
        .map(str::to_string)
}

/// The files a failed run says it did and did not do.
fn reported(stderr: &str) -> Option<(Vec<String>, Vec<String>)> {
    let rest = &stderr[stderr.find("stopped midway: already done: ")? + 30..];
    let (done, rest) = rest.split_once("; not done: ")?;
    let not_done = rest.lines().next()?;
    let split = |list: &str| -> Vec<String> {
        if list == "none" {
            Vec::new()
        } else {
            list.split(", ").map(str::to_string).collect()
        }
    };
    Some((split(done), split(not_done)))
}

fn seeded() -> TestEnv {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.write("hooks.json", USER_HOOKS);
    env
}

#[test]
fn a_failure_midway_is_reported_exactly_and_the_next_run_finishes() {
    let reference = seeded();
    let original = reference.snapshot();
    let mut midway = 0;
    for command in ["install", "uninstall"] {
        // A write's step after its rename cannot fail: the run goes on; three steps in a
        // row without a failure are past the end.
        let mut finished_in_a_row = 0;
        for point in 1.. {
            if finished_in_a_row == 3 {
                break;
            }
            let mut env = seeded();
            // Without the skills: eleven more files would only repeat the same steps.
            let args: &[&str] = if command == "install" {
                &["install", "-y", "--no-skills"]
            } else {
                env.ok(&["install", "-y", "--no-skills"]);
                &["uninstall", "-y"]
            };
            let before = env.snapshot();
            env.set("AXONFLOW_CODEX_TEST_FAIL_POINT", &point.to_string());
            let run = env.run(args);
            if run.code == 0 {
                finished_in_a_row += 1;
                continue;
            }
            finished_in_a_row = 0;
            assert_eq!(run.code, 1, "{command} at {point}: {}", run.stderr);
            let after = env.snapshot();
            if let Some(file) = points_at_a_missing_binary(&env) {
                panic!("{command} stopped at {point} left {file} naming a missing hook binary");
            }
            if let Some((done, not_done)) = reported(&run.stderr) {
                midway += 1;
                assert!(
                    run.stderr
                        .contains(&format!("`axonflow-codex {command}` again")),
                    "{}",
                    run.stderr
                );
                let home = env.home.display().to_string();
                let key =
                    |path: &String| path.strip_prefix(&format!("{home}/")).unwrap().to_string();
                for path in &not_done {
                    assert!(
                        after.get(&key(path)) == before.get(&key(path)),
                        "{command} at {point}: {path} was reported not done but changed"
                    );
                }
                for path in &done {
                    assert!(
                        after.get(&key(path)) != before.get(&key(path)),
                        "{command} at {point}: {path} was reported done but did not change"
                    );
                }
            } else if run.stderr.contains("every file of yours is restored") {
                // Stopped after the files, removing our backups or receipt.
                assert!(
                    run.stderr.contains("`axonflow-codex uninstall` again"),
                    "{}",
                    run.stderr
                );
            } else {
                // Stopped before the first file of the user's: only our own may have changed.
                for file in [".codex/config.toml", ".codex/hooks.json"] {
                    let text = |s: &std::collections::BTreeMap<String, Vec<u8>>| {
                        s.get(file).map(|b| String::from_utf8_lossy(b).into_owned())
                    };
                    assert_eq!(
                        text(&after),
                        text(&before),
                        "{command} at {point}: {}",
                        run.stderr
                    );
                }
            }
            env.set("AXONFLOW_CODEX_TEST_FAIL_POINT", "");
            env.ok(args);
            if command == "uninstall" {
                let now = env.snapshot();
                assert_eq!(
                    now.keys().collect::<Vec<_>>(),
                    original.keys().collect::<Vec<_>>(),
                    "uninstall at {point}"
                );
                assert!(
                    now == original,
                    "uninstall at {point} did not finish the job"
                );
            } else {
                env.ok(&["uninstall", "-y"]);
                assert!(
                    env.snapshot() == original,
                    "install at {point}, then uninstall"
                );
            }
        }
    }
    assert!(midway >= 6, "only {midway} runs stopped midway");
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[test]
fn a_dangling_link_into_a_missing_directory_is_refused() {
    let env = TestEnv::new();
    let target = env.home.join("dotfiles/codex/config.toml");
    std::os::unix::fs::symlink(&target, env.path("config.toml")).unwrap();
    let before = env.snapshot();
    let run = env.run(&["install", "-y"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} is a link to {}",
            env.path("config.toml").display(),
            target.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(
        env.snapshot(),
        before,
        "the refused install created something"
    );
}

#[test]
fn links_stay_links_through_install_and_uninstall() {
    for file in ["config.toml", "hooks.json"] {
        // Dangling, into a directory that exists: install writes through the link, uninstall
        // takes the file it created away again and leaves the link as it was.
        let env = TestEnv::new();
        let dotfiles = env.home.join("dotfiles");
        std::fs::create_dir_all(&dotfiles).unwrap();
        std::os::unix::fs::symlink(dotfiles.join(file), env.path(file)).unwrap();
        let before = env.snapshot();
        env.ok(&["install", "-y"]);
        assert!(is_link(&env.path(file)), "{file} is no longer a link");
        let written = std::fs::read_to_string(dotfiles.join(file)).unwrap();
        assert!(written.contains("axonflow-codex-hook"), "{written}");
        env.ok(&["uninstall", "-y"]);
        assert!(
            is_link(&env.path(file)),
            "uninstall removed the link {file}"
        );
        assert_eq!(env.snapshot(), before, "{file}");

        // To a file of the user's, edited between install and uninstall.
        let env = TestEnv::new();
        let dotfiles = env.home.join("dotfiles");
        std::fs::create_dir_all(&dotfiles).unwrap();
        let original = if file == "config.toml" {
            USER_CONFIG
        } else {
            USER_HOOKS
        };
        std::fs::write(dotfiles.join(file), original).unwrap();
        std::os::unix::fs::symlink(dotfiles.join(file), env.path(file)).unwrap();
        env.ok(&["install", "-y"]);
        env.ok(&[
            "install",
            "-y",
            "--govern",
            "bash",
            "--endpoint",
            "http://127.0.0.1:9",
        ]);
        if file == "config.toml" {
            let mut text = std::fs::read_to_string(dotfiles.join(file)).unwrap();
            text.push_str("\n[mcp_servers.mine]\ncommand = \"mine\"\n");
            std::fs::write(dotfiles.join(file), text).unwrap();
        }
        env.ok(&["uninstall", "-y"]);
        assert!(
            is_link(&env.path(file)),
            "uninstall removed the link {file}"
        );
        let after = std::fs::read_to_string(dotfiles.join(file)).unwrap();
        assert!(!after.contains("axonflow-codex-hook"), "{after}");
        assert!(after.starts_with(original.trim_end()), "{after}");
    }
}

#[test]
fn a_link_put_in_place_of_a_file_of_ours_is_removed_not_its_target() {
    let env = TestEnv::new();
    env.ok(&["install", "-y"]);
    let precious = env.home.join("precious.sh");
    std::fs::write(&precious, "#!/bin/sh\necho mine\n").unwrap();
    let skill = env.path("skills/axonflow-pii-scan/SKILL.md");
    let ours = env.read("skills/axonflow-pii-scan/SKILL.md");
    let kept_skill = env.home.join("skill-copy.md");
    std::fs::write(&kept_skill, &ours).unwrap();
    for (link, target) in [
        (env.path("axonflow/bin/axonflow-codex-hook"), &precious),
        (skill.clone(), &kept_skill),
    ] {
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(target, &link).unwrap();
    }
    env.ok(&["uninstall", "-y"]);
    assert!(
        precious.is_file(),
        "uninstall deleted the file a link of the user's named"
    );
    assert!(
        kept_skill.is_file(),
        "uninstall deleted the file a link of the user's named"
    );
    assert!(!is_link(&skill));
}
