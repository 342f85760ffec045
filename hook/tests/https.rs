//! The hook over HTTPS, against the stand-in served over TLS with a CA made by each test.
//! The CA reaches the hook the way a corporate CA does: through `SSL_CERT_FILE` or
//! `SSL_CERT_DIR`. The decoded trust anchors are cached in the state directory; these tests
//! also check that the cache never trusts more than the files do.

mod support;

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;

use axonflow_agent_standin::{TestCa, TlsIdentity};
use support::*;

const DROP: &str = "psql -c \"DROP TABLE users; --\"";
const CACHE: &str = "tls-trust-anchors";
/// Every bundle a test writes is padded to this size, so that replacing one CA by another
/// leaves the file's size as it was.
const BUNDLE_SIZE: usize = 8192;
/// The hook caches the anchors of files that changed more than 2 s ago (whole seconds).
const SETTLE: std::time::Duration = std::time::Duration::from_millis(3100);

struct Tls {
    ca: TestCa,
    agent: StandIn,
}

/// The stand-in over TLS with a certificate for `names`, signed by a new CA.
fn tls_agent(names: &[&str]) -> Tls {
    let ca = TestCa::new("axonflow hook test CA");
    let identity: TlsIdentity = ca.server_identity(names);
    let agent = StandIn::start_tls(AgentConfig::default(), &identity);
    Tls { ca, agent }
}

/// Writes `pems` in place (same inode), padded with a comment to `BUNDLE_SIZE` bytes.
fn write_bundle(path: &Path, pems: &[String]) {
    use std::io::Write as _;
    let mut text = pems.concat();
    assert!(text.len() < BUNDLE_SIZE);
    text.push_str(&"#".repeat(BUNDLE_SIZE - 1 - text.len()));
    text.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn env_trusting(tls: &Tls, bundle: &Path) -> TestEnv {
    write_bundle(bundle, &[tls.ca.cert_pem()]);
    let mut env = TestEnv::with_agent(&tls.agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    env.set("SSL_CERT_FILE", &bundle.display().to_string());
    env
}

fn assert_tls_error(run: &Run) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.one_line().contains("could not be reached (TLS error)"),
        "{}",
        run.stderr
    );
}

#[test]
fn trusted_through_ssl_cert_file_checks_scans_and_caches() {
    let tls = tls_agent(&["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    let env = env_trusting(&tls, &dir.path().join("bundle.pem"));
    assert!(tls.agent.endpoint().starts_with("https://"));

    // The bundle has just been written: it could change again within its timestamps'
    // granularity, so its anchors are not cached yet.
    env.pre(&bash("ls")).assert_silent_allow();
    let cache = env.state_file(CACHE);
    assert!(!cache.exists());
    std::thread::sleep(SETTLE);
    env.pre(&bash("ls")).assert_silent_allow();
    let metadata = std::fs::symlink_metadata(&cache).expect("the anchors were cached");
    assert!(metadata.is_file());
    assert_eq!(metadata.mode() & 0o777, 0o600);

    // From the cache now.
    let blocked = env.pre(&bash(DROP));
    assert_eq!(blocked.code, 2);
    assert!(
        blocked
            .one_line()
            .starts_with("AxonFlow policy violation: "),
        "{}",
        blocked.stderr
    );
    let post = env.post(&post_bash("cat f", json!("SSN: 123-45-6789")));
    assert_eq!(
        post.code, 2,
        "replace mode: the redacted copy replaces the output"
    );
    assert!(
        post.stderr.ends_with("\nSSN: 1*********9\n"),
        "{}",
        post.stderr
    );
    assert_eq!(tls.agent.rpc_calls_of("check_output").len(), 1);
    assert!(tls
        .agent
        .wait_for_requests(6, std::time::Duration::from_secs(10)));
    assert_eq!(tls.agent.rpc_calls_of("audit_tool_call").len(), 2);
}

#[test]
fn trusted_through_ssl_cert_dir() {
    let tls = tls_agent(&["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    write_bundle(&dir.path().join("corporate.pem"), &[tls.ca.cert_pem()]);
    let mut env = TestEnv::with_agent(&tls.agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    env.set("SSL_CERT_DIR", &dir.path().display().to_string());
    env.pre(&bash("ls")).assert_silent_allow();
    env.pre(&bash("ls")).assert_silent_allow();

    // A CA file removed from the directory is no longer trusted, cache or not.
    std::fs::remove_file(dir.path().join("corporate.pem")).unwrap();
    write_bundle(
        &dir.path().join("other.pem"),
        &[TestCa::new("someone else").cert_pem()],
    );
    assert_tls_error(&env.pre(&bash("ls")));
}

#[test]
fn an_untrusted_server_is_a_tls_error_and_gets_no_request() {
    let tls = tls_agent(&["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    let mut env = env_trusting(&tls, &bundle);
    write_bundle(&bundle, &[TestCa::new("not the server's CA").cert_pem()]);
    assert_tls_error(&env.pre(&bash("ls")));

    env.set("AXONFLOW_FAIL_MODE", "open");
    env.pre(&bash("ls")).assert_silent_allow();
    assert!(tls.agent.requests().is_empty());
}

#[test]
fn a_ca_replaced_after_a_cached_run_is_no_longer_trusted() {
    let tls = tls_agent(&["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    let env = env_trusting(&tls, &bundle);
    std::thread::sleep(SETTLE);
    env.pre(&bash("ls")).assert_silent_allow();
    assert!(env.state_file(CACHE).is_file());
    let before = std::fs::metadata(&bundle).unwrap();

    // Another CA in place of the server's: same path, same inode, same size, and the
    // modification time put back. Only the content (and so the change time) differs.
    write_bundle(&bundle, &[TestCa::new("axonflow hook test CA").cert_pem()]);
    let file = std::fs::File::options().write(true).open(&bundle).unwrap();
    file.set_modified(before.modified().unwrap()).unwrap();
    drop(file);
    let after = std::fs::metadata(&bundle).unwrap();
    assert_eq!(
        (after.ino(), after.len(), after.mtime(), after.mtime_nsec()),
        (
            before.ino(),
            before.len(),
            before.mtime(),
            before.mtime_nsec()
        )
    );
    assert_tls_error(&env.pre(&bash("ls")));

    // Trusted again once it is back.
    write_bundle(&bundle, &[tls.ca.cert_pem()]);
    env.pre(&bash("ls")).assert_silent_allow();

    // And not once the file is gone.
    std::fs::remove_file(&bundle).unwrap();
    assert_tls_error(&env.pre(&bash("ls")));
    assert_eq!(tls.agent.rpc_calls_of("check_policy").len(), 2);
}

#[test]
fn a_hostname_mismatch_is_a_tls_error() {
    for names in [&["agent.example.invalid"][..], &["localhost"][..]] {
        let tls = tls_agent(names);
        let dir = tempfile::tempdir().unwrap();
        let env = env_trusting(&tls, &dir.path().join("bundle.pem"));
        assert_tls_error(&env.pre(&bash("ls")));
        assert!(tls.agent.requests().is_empty(), "{names:?}");
    }
}

#[test]
fn a_cache_that_is_not_the_hooks_own_is_ignored_and_replaced() {
    let tls = tls_agent(&["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    let env = env_trusting(&tls, &dir.path().join("bundle.pem"));
    std::thread::sleep(SETTLE);
    env.pre(&bash("ls")).assert_silent_allow();
    let cache = env.state_file(CACHE);
    assert!(cache.is_file());

    // Writable by others: not used, rewritten 0600.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o666)).unwrap();
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(std::fs::metadata(&cache).unwrap().mode() & 0o777, 0o600);

    // A symbolic link: replaced, not written through.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, "not a cache").unwrap();
    std::fs::remove_file(&cache).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &cache).unwrap();
    env.pre(&bash("ls")).assert_silent_allow();
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not a cache");
    assert!(std::fs::symlink_metadata(&cache).unwrap().is_file());

    // A FIFO would block a reader forever: the run ends all the same.
    std::fs::remove_file(&cache).unwrap();
    let path = std::ffi::CString::new(cache.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    env.pre(&bash("ls")).assert_silent_allow();
    assert!(std::fs::symlink_metadata(&cache).unwrap().is_file());
}

#[test]
fn a_fifo_as_ssl_cert_file_does_not_hang_the_hook() {
    let tls = tls_agent(&["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("bundle.pem");
    let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let mut env = TestEnv::with_agent(&tls.agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    env.set("SSL_CERT_FILE", &fifo.display().to_string());
    let run = env.pre(&bash("ls"));
    assert_tls_error(&run);
    assert!(run.elapsed < std::time::Duration::from_secs(10));
}

#[test]
fn a_huge_or_endless_ssl_cert_file_is_skipped_in_bounded_time_and_memory() {
    let tls = tls_agent(&["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    // A sparse gigabyte with no newline, then /dev/zero.
    let huge = dir.path().join("huge.pem");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1024 * 1024 * 1024)
        .unwrap();
    let zero = dir.path().join("zero.pem");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    for file in [&huge, &zero] {
        let mut env = TestEnv::with_agent(&tls.agent);
        env.set("AXONFLOW_FAIL_MODE", "closed");
        env.set("SSL_CERT_FILE", &file.display().to_string());
        let mut command = env.command(Path::new(HOOK), &["pre-tool-use"]);
        command.stdin(std::process::Stdio::piped());
        let run = run_measured(
            command,
            feed_bytes(bash("ls").to_string().into_bytes()),
            std::time::Duration::from_secs(30),
        );
        assert_eq!(run.code, 2, "{file:?}: {}", run.stderr);
        assert!(
            run.one_line().contains("could not be reached (TLS error)"),
            "{}",
            run.stderr
        );
        assert!(
            run.max_rss_kib < 64 * 1024,
            "{file:?}: peak RSS {} KiB",
            run.max_rss_kib
        );
    }
}

#[test]
fn a_huge_file_in_ssl_cert_dir_is_skipped_in_bounded_memory() {
    let tls = tls_agent(&["127.0.0.1"]);
    let dir = tempfile::tempdir().unwrap();
    write_bundle(&dir.path().join("corporate.pem"), &[tls.ca.cert_pem()]);
    // A sparse gigabyte with no newline beside the CA: as skipped as it is in SSL_CERT_FILE.
    std::fs::File::create(dir.path().join("huge.pem"))
        .unwrap()
        .set_len(1024 * 1024 * 1024)
        .unwrap();
    let mut env = TestEnv::with_agent(&tls.agent);
    env.set("AXONFLOW_FAIL_MODE", "closed");
    env.set("SSL_CERT_DIR", &dir.path().display().to_string());
    let mut command = env.command(Path::new(HOOK), &["pre-tool-use"]);
    command.stdin(std::process::Stdio::piped());
    let run = run_measured(
        command,
        feed_bytes(bash("ls").to_string().into_bytes()),
        std::time::Duration::from_secs(30),
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(
        run.max_rss_kib < 64 * 1024,
        "peak RSS {} KiB",
        run.max_rss_kib
    );
    assert_eq!(tls.agent.rpc_calls_of("check_policy").len(), 1);
}
