//! Crash safety: `install` and `uninstall` killed (SIGKILL) at every file-system step leave
//! each file wholly old or wholly new, and the next run completes the job.

mod support;

use std::collections::BTreeMap;

use support::*;

type Files = BTreeMap<String, Vec<u8>>;

/// File contents with the temporary root replaced, so two homes compare equal. The receipt
/// holds hashes of files that contain the root, so it is compared within one home only.
fn normalised(env: &TestEnv) -> Files {
    let root = env.root.display().to_string();
    env.snapshot()
        .into_iter()
        .filter(|(path, _)| !path.ends_with("/.lock") && !path.ends_with("receipt.json"))
        .map(|(path, bytes)| {
            let text = String::from_utf8_lossy(&bytes).replace(&root, "<ROOT>");
            (path, without_hashes(&text).into_bytes())
        })
        .collect()
}

fn seeded() -> TestEnv {
    let env = TestEnv::new();
    env.write("config.toml", USER_CONFIG);
    env.write("hooks.json", USER_HOOKS);
    env
}

fn killed(run: &Run) -> bool {
    // Killed by our own SIGKILL: no exit code (the harness maps a signal to -1 below).
    run.code == -1
}

/// Every file is the version from `old` or from `new` (temporary files of the killed run
/// aside: they are not the user's, and the next run removes them).
/// Trust hashes cover the hook's path, which differs between homes.
fn without_hashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("sha256:") {
        let (head, tail) = rest.split_at(i + "sha256:".len());
        out.push_str(head);
        let hex = tail.chars().take_while(char::is_ascii_hexdigit).count();
        out.push_str(if hex == 64 { "<HASH>" } else { "" });
        rest = &tail[if hex == 64 { 64 } else { 0 }..];
    }
    out.push_str(rest);
    out
}

/// Names the files where two snapshots differ (the contents would drown the message).
fn assert_same(point: u64, what: &str, actual: &Files, expected: &Files) {
    let differing: Vec<&String> = actual
        .keys()
        .chain(expected.keys())
        .filter(|k| actual.get(*k) != expected.get(*k))
        .collect();
    if let Some(first) = differing.first() {
        panic!(
            "crash point {point}: {what}; these differ: {differing:?}\nfirst, actual:\n{}\nexpected:\n{}",
            String::from_utf8_lossy(actual.get(*first).map(Vec::as_slice).unwrap_or(b"<absent>")),
            String::from_utf8_lossy(expected.get(*first).map(Vec::as_slice).unwrap_or(b"<absent>"))
        );
    }
}

fn assert_each_file_old_or_new(point: u64, now: &Files, old: &Files, new: &Files) {
    for (path, bytes) in now {
        if path.ends_with(".tmp") || path.ends_with('/') {
            continue;
        }
        assert!(
            old.get(path) == Some(bytes) || new.get(path) == Some(bytes),
            "crash point {point}: {path} is neither the old nor the new version"
        );
    }
}

/// Runs `check(point)` for kill points 1, 2, … a few at a time (each point is its own home),
/// until a run finishes without reaching its kill point; returns how many points killed.
fn each_kill_point(check: impl Fn(u64) -> bool + Sync) -> u64 {
    const AT_ONCE: u64 = 3;
    let mut killed_points = 0;
    for batch in 0.. {
        let results: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = (1..=AT_ONCE)
                .map(|i| batch * AT_ONCE + i)
                .map(|point| {
                    scope.spawn({
                        let check = &check;
                        move || check(point)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a kill point failed"))
                .collect()
        });
        killed_points += results.iter().filter(|k| **k).count() as u64;
        if results.iter().any(|k| !k) {
            return killed_points;
        }
    }
    unreachable!()
}

#[test]
fn install_killed_anywhere_then_completed() {
    let reference = seeded();
    let original = normalised(&reference);
    reference.ok(&["install", "-y"]);
    let installed = normalised(&reference);

    let points = each_kill_point(|point| {
        let mut env = seeded();
        let before = env.snapshot();
        env.set("AXONFLOW_CODEX_TEST_CRASH_POINT", &point.to_string());
        let run = env.run(&["install", "-y"]);
        if !killed(&run) {
            assert_eq!(run.code, 0, "{}", run.stderr);
            return false;
        }
        let interrupted = env.snapshot();
        env.set("AXONFLOW_CODEX_TEST_CRASH_POINT", "");
        env.ok(&["install", "-y"]);
        assert_same(
            point,
            "the next install completes the job",
            &normalised(&env),
            &installed,
        );
        assert_each_file_old_or_new(point, &interrupted, &before, &env.snapshot());
        env.ok(&["uninstall", "-y"]);
        assert_same(
            point,
            "and uninstall still restores",
            &normalised(&env),
            &original,
        );
        true
    });
    println!("install: survived {points} kill points");
    assert!(points >= 30, "only {points} kill points were exercised");
}

#[test]
fn uninstall_killed_anywhere_then_completed() {
    let reference = seeded();
    let original = normalised(&reference);

    let points = each_kill_point(|point| {
        let mut env = seeded();
        env.ok(&["install", "-y"]);
        let installed_here = env.snapshot();
        env.set("AXONFLOW_CODEX_TEST_CRASH_POINT", &point.to_string());
        let run = env.run(&["uninstall", "-y"]);
        if !killed(&run) {
            assert_eq!(run.code, 0, "{}", run.stderr);
            return false;
        }
        let interrupted = env.snapshot();
        env.set("AXONFLOW_CODEX_TEST_CRASH_POINT", "");
        env.ok(&["uninstall", "-y"]);
        assert_each_file_old_or_new(point, &interrupted, &installed_here, &env.snapshot());
        assert_same(
            point,
            "the next uninstall completes the job",
            &normalised(&env),
            &original,
        );
        true
    });
    println!("uninstall: survived {points} kill points");
    assert!(points >= 15, "only {points} kill points were exercised");
}
