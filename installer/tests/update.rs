//! `axonflow-codex update` against release servers on 127.0.0.1, manifest-shaped and
//! GitHub-API-shaped: success, tampered digest, nothing newer, downgrades, interrupted downloads.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use support::*;

/// A served file: path, body, and (to simulate a dropped connection) how many bytes of the
/// body to send before closing.
type ServedFile = (String, Vec<u8>, Option<usize>);

/// A static file server's files.
#[derive(Clone, Default)]
struct Files(Arc<Mutex<Vec<ServedFile>>>);

struct ReleaseServer {
    base: String,
    files: Files,
}

impl ReleaseServer {
    fn start() -> ReleaseServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let files = Files::default();
        let served = files.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let files = served.clone();
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&request)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let path = line
                        .split(' ')
                        .nth(1)
                        .unwrap_or("/")
                        .split('?')
                        .next()
                        .unwrap_or("/")
                        .to_string();
                    let found = files
                        .0
                        .lock()
                        .unwrap()
                        .iter()
                        .find(|(p, _, _)| *p == path)
                        .cloned();
                    let response = match found {
                        Some((_, body, truncate)) => {
                            let mut head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
                            head.extend_from_slice(&body[..truncate.unwrap_or(body.len())]);
                            head
                        }
                        None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                    };
                    let _ = stream.write_all(&response);
                });
            }
        });
        ReleaseServer { base, files }
    }

    fn serve(&self, path: &str, body: Vec<u8>) {
        self.files
            .0
            .lock()
            .unwrap()
            .push((path.to_string(), body, None));
    }

    fn serve_truncated(&self, path: &str, body: Vec<u8>, after: usize) {
        self.files
            .0
            .lock()
            .unwrap()
            .push((path.to_string(), body, Some(after)));
    }
}

/// A release archive whose "binaries" are scripts printing the given version.
fn archive(dir: &Path, version: &str) -> (String, Vec<u8>) {
    let target = self_update::get_target();
    let name = format!("axonflow-codex-{target}.tar.gz");
    let top = dir.join(format!("axonflow-codex-{target}"));
    std::fs::create_dir_all(&top).unwrap();
    for binary in ["axonflow-codex", "axonflow-codex-hook"] {
        let path = top.join(binary);
        std::fs::write(&path, format!("#!/bin/sh\necho \"{binary} {version}\"\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    let out = dir.join(&name);
    let status = std::process::Command::new("tar")
        .arg("czf")
        .arg(&out)
        .arg("-C")
        .arg(dir)
        .arg(format!("axonflow-codex-{target}"))
        .status()
        .unwrap();
    assert!(status.success());
    (name, std::fs::read(out).unwrap())
}

fn sha256(bytes: &[u8]) -> String {
    axonflow_codex::state::fsio::sha256_hex(bytes)
}

/// A manifest's `digest` for `bytes`.
fn digest(bytes: &[u8]) -> Option<String> {
    Some(format!("sha256:{}", sha256(bytes)))
}

/// An installed product whose installer is a copy we may replace.
struct Installed {
    env: TestEnv,
    installer: PathBuf,
}

impl Installed {
    fn new() -> Installed {
        let env = TestEnv::new();
        let bin = env.root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let installer = bin.join("axonflow-codex");
        std::fs::copy(INSTALLER, &installer).unwrap();
        std::fs::copy(
            Path::new(INSTALLER).with_file_name("axonflow-codex-hook"),
            bin.join("axonflow-codex-hook"),
        )
        .unwrap();
        let run = env.run_binary(&installer, &["install", "-y"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        Installed { env, installer }
    }

    /// Points the installed product at `server`'s `/manifest.json`, listing `releases`.
    fn use_manifest(&mut self, server: &ReleaseServer, releases: &[(&str, &str, Option<String>)]) {
        server.serve("/manifest.json", manifest(releases));
        self.env.set(
            "AXONFLOW_CODEX_UPDATE_URL",
            &format!("{}/manifest.json", server.base),
        );
    }

    fn update(&self, args: &[&str]) -> Run {
        let mut all = vec!["update"];
        all.extend_from_slice(args);
        self.env.run_binary(&self.installer, &all)
    }

    fn versions(&self) -> (String, String) {
        let version = |path: &Path| {
            String::from_utf8(
                std::process::Command::new(path)
                    .arg("--version")
                    .output()
                    .unwrap()
                    .stdout,
            )
            .unwrap()
            .trim()
            .to_string()
        };
        (
            version(&self.installer),
            version(&self.env.path("axonflow/bin/axonflow-codex-hook")),
        )
    }

    /// The update failed with `message`, and nothing was replaced or left behind.
    fn assert_refused(&self, run: &Run, message: &str) {
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(run.stderr.contains(message), "{}", run.stderr);
        assert_eq!(self.versions(), current());
        assert_eq!(self.staging_leftovers(), 0);
    }

    fn staging_leftovers(&self) -> usize {
        std::fs::read_dir(self.installer.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".axonflow-codex")
            })
            .count()
    }
}

fn manifest(releases: &[(&str, &str, Option<String>)]) -> Vec<u8> {
    let releases: Vec<Value> = releases
        .iter()
        .map(|(version, asset, digest)| {
            let mut asset = json!({"name": asset, "url": asset});
            if let Some(digest) = digest {
                asset["digest"] = json!(digest);
            }
            json!({"version": version, "assets": [asset]})
        })
        .collect();
    json!({"schema": 1, "releases": releases})
        .to_string()
        .into_bytes()
}

fn current() -> (String, String) {
    (
        "axonflow-codex 2.0.0".to_string(),
        "axonflow-codex-hook 2.0.0".to_string(),
    )
}

#[test]
fn manifest_update_replaces_both_binaries_and_keeps_trust() {
    let mut installed = Installed::new();
    let server = ReleaseServer::start();
    let (name, bytes) = archive(&installed.env.root, "2.1.0");
    server.serve(&format!("/{name}"), bytes.clone());
    installed.use_manifest(
        &server,
        &[
            ("2.0.0", "old.tar.gz", None),
            ("2.1.0", &name, digest(&bytes)),
        ],
    );
    let hooks_before = installed.env.read("hooks.json");
    let config_before = installed.env.read("config.toml");

    let check = installed.update(&["--check", "--json"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert_eq!(
        serde_json::from_str::<Value>(&check.stdout).unwrap(),
        json!({"current": "2.0.0", "latest": "2.1.0", "update_available": true, "updated": false})
    );
    assert_eq!(installed.versions(), current(), "--check changes nothing");

    let run = installed.update(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("Updated axonflow-codex 2.0.0 -> 2.1.0 (sha256 verified; "),
        "{}",
        run.stdout
    );
    assert_eq!(
        installed.versions(),
        (
            "axonflow-codex 2.1.0".to_string(),
            "axonflow-codex-hook 2.1.0".to_string()
        )
    );
    assert_eq!(
        installed.env.read("hooks.json"),
        hooks_before,
        "the command string never changes"
    );
    assert_eq!(
        installed.env.read("config.toml"),
        config_before,
        "so the recorded trust still matches"
    );
    assert_eq!(installed.staging_leftovers(), 0);
}

#[test]
fn tampered_archive_is_refused_and_nothing_is_replaced() {
    let mut installed = Installed::new();
    let server = ReleaseServer::start();
    let (name, bytes) = archive(&installed.env.root, "2.1.0");
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    server.serve(&format!("/{name}"), tampered);
    installed.use_manifest(&server, &[("2.1.0", &name, digest(&bytes))]);
    let run = installed.update(&[]);
    installed.assert_refused(&run, "failed verification: sha256");
}

#[test]
fn an_archive_without_a_digest_is_refused() {
    let mut installed = Installed::new();
    let server = ReleaseServer::start();
    let (name, bytes) = archive(&installed.env.root, "2.1.0");
    server.serve(&format!("/{name}"), bytes);
    installed.use_manifest(&server, &[("2.1.0", &name, None)]);
    let run = installed.update(&[]);
    installed.assert_refused(&run, "publishes no sha256");
}

#[test]
fn nothing_newer_is_a_no_op_and_downgrades_need_asking() {
    let mut installed = Installed::new();
    let server = ReleaseServer::start();
    let (name, bytes) = archive(&installed.env.root, "1.9.0");
    server.serve(&format!("/{name}"), bytes.clone());
    installed.use_manifest(
        &server,
        &[
            ("1.9.0", &name, digest(&bytes)),
            ("2.0.0", "same.tar.gz", None),
        ],
    );
    let run = installed.update(&[]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("is up to date"), "{}", run.stdout);

    let run = installed.update(&["--to", "1.9.0"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--allow-downgrade"), "{}", run.stderr);
    assert_eq!(installed.versions(), current());

    let run = installed.update(&["--to", "1.9.0", "--allow-downgrade"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        installed.versions(),
        (
            "axonflow-codex 1.9.0".to_string(),
            "axonflow-codex-hook 1.9.0".to_string()
        )
    );
}

#[test]
fn interrupted_download_leaves_nothing_half_written() {
    let mut installed = Installed::new();
    let server = ReleaseServer::start();
    let (name, bytes) = archive(&installed.env.root, "2.1.0");
    server.serve_truncated(&format!("/{name}"), bytes.clone(), bytes.len() / 2);
    installed.use_manifest(&server, &[("2.1.0", &name, digest(&bytes))]);
    let run = installed.update(&[]);
    installed.assert_refused(&run, "nothing was replaced");
}

#[test]
fn github_shaped_releases_for_enterprise_api_bases() {
    let mut installed = Installed::new();
    let server = ReleaseServer::start();
    let (name, bytes) = archive(&installed.env.root, "2.2.0");
    server.serve(&format!("/download/{name}"), bytes.clone());
    let releases = json!([
        {"tag_name": "v2.2.0", "created_at": "2026-11-20T00:00:00Z", "name": "2.2.0", "body": "", "html_url": "x",
         "assets": [{"name": name, "url": format!("{}/download/{name}", server.base), "digest": format!("sha256:{}", sha256(&bytes))}]},
        {"tag_name": "v2.0.0", "created_at": "2026-10-01T00:00:00Z", "assets": []}
    ]);
    server.serve(
        "/api/v3/repos/getaxonflow/axonflow-codex/releases",
        releases.to_string().into_bytes(),
    );
    installed.env.set(
        "AXONFLOW_CODEX_GITHUB_API",
        &format!("{}/api/v3", server.base),
    );
    let run = installed.update(&["--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap()["updated"],
        json!(true)
    );
    assert_eq!(
        installed.versions(),
        (
            "axonflow-codex 2.2.0".to_string(),
            "axonflow-codex-hook 2.2.0".to_string()
        )
    );
}

/// A cargo-dist style archive of one package: `<package>-<target>/<package>`.
fn package_archive(dir: &Path, package: &str, version: &str) -> PathBuf {
    let target = self_update::get_target();
    let top = format!("{package}-{target}");
    let staging = dir.join(format!("stage-{package}"));
    std::fs::create_dir_all(staging.join(&top)).unwrap();
    let binary = staging.join(&top).join(package);
    std::fs::write(
        &binary,
        format!("#!/bin/sh\necho \"{package} {version}\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&binary, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = dir.join(format!("{top}.tar.gz"));
    let status = std::process::Command::new("tar")
        .arg("czf")
        .arg(&out)
        .arg("-C")
        .arg(&staging)
        .arg(&top)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

#[test]
fn cargo_dist_layout_with_the_manifest_generator() {
    let mut installed = Installed::new();
    let server = ReleaseServer::start();
    let dir = installed.env.root.join("release");
    std::fs::create_dir_all(&dir).unwrap();
    let archives = [
        package_archive(&dir, "axonflow-codex", "2.3.0"),
        package_archive(&dir, "axonflow-codex-hook", "2.3.0"),
    ];
    let generator = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/make-manifest.py");
    let output = std::process::Command::new("python3")
        .arg(&generator)
        .args(["--version", "v2.3.0"])
        .args(&archives)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(manifest["releases"][0]["version"], json!("2.3.0"));
    server.serve("/mirror/manifest.json", output.stdout.clone());
    // Relative asset URLs resolve against the manifest's directory.
    for archive in &archives {
        let name = archive.file_name().unwrap().to_string_lossy().into_owned();
        server.serve(&format!("/mirror/{name}"), std::fs::read(archive).unwrap());
    }
    installed.env.set(
        "AXONFLOW_CODEX_UPDATE_URL",
        &format!("{}/mirror/manifest.json", server.base),
    );
    let run = installed.update(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        installed.versions(),
        (
            "axonflow-codex 2.3.0".to_string(),
            "axonflow-codex-hook 2.3.0".to_string()
        )
    );

    // A tampered hook archive alone is enough to refuse the whole update.
    let mut installed = Installed::new();
    let mut hook_bytes = std::fs::read(&archives[1]).unwrap();
    let last = hook_bytes.len() - 1;
    hook_bytes[last] ^= 1;
    server.serve(
        &format!(
            "/tampered/{}",
            archives[0].file_name().unwrap().to_string_lossy()
        ),
        std::fs::read(&archives[0]).unwrap(),
    );
    server.serve(
        &format!(
            "/tampered/{}",
            archives[1].file_name().unwrap().to_string_lossy()
        ),
        hook_bytes,
    );
    server.serve("/tampered/manifest.json", output.stdout);
    installed.env.set(
        "AXONFLOW_CODEX_UPDATE_URL",
        &format!("{}/tampered/manifest.json", server.base),
    );
    let run = installed.update(&[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("axonflow-codex-hook-") && run.stderr.contains("failed verification"),
        "{}",
        run.stderr
    );
    assert_eq!(installed.versions(), current());
}

/// A deterministic release-signing key (zipsign: ed25519) and its public half as
/// `AXONFLOW_CODEX_UPDATE_KEYS` takes it.
fn signing_key(seed: u8) -> (zipsign_api::SigningKey, String) {
    use base64::Engine as _;
    let key = zipsign_api::SigningKey::from_bytes(&[seed; 32]);
    let public = base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes());
    (key, public)
}

/// Signs a `.tar.gz` as `zipsign sign tar` does, with the archive's name as the context.
fn signed(bytes: &[u8], name: &str, key: &zipsign_api::SigningKey) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    zipsign_api::sign::copy_and_sign_tar(
        &mut std::io::Cursor::new(bytes),
        &mut out,
        std::slice::from_ref(key),
        Some(name.as_bytes()),
    )
    .unwrap();
    out.into_inner()
}

/// An installed product and a loopback release 2.1.0 whose archive is `publish(name, bytes)`
/// of a freshly built one (with the published bytes' true sha256 in the manifest), its release
/// keys set to `keys`.
fn installed_with_release(
    publish: impl FnOnce(&str, Vec<u8>) -> Vec<u8>,
    keys: Option<&str>,
) -> Installed {
    let mut installed = Installed::new();
    let server = ReleaseServer::start();
    let (name, bytes) = archive(&installed.env.root, "2.1.0");
    let body = publish(&name, bytes);
    installed.use_manifest(&server, &[("2.1.0", &name, digest(&body))]);
    server.serve(&format!("/{name}"), body);
    if let Some(keys) = keys {
        installed.env.set("AXONFLOW_CODEX_UPDATE_KEYS", keys);
    }
    installed
}

fn archive_name() -> String {
    format!("axonflow-codex-{}.tar.gz", self_update::get_target())
}

#[test]
fn a_signed_release_is_verified_against_the_configured_key() {
    let (key, public) = signing_key(7);
    // Another key listed first: any trusted key may have signed it (key rotation).
    let (_, other) = signing_key(8);
    let installed = installed_with_release(
        |name, bytes| signed(&bytes, name, &key),
        Some(&format!("{other}, {public}")),
    );

    let run = installed.update(&["--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["updated"], json!(true));
    assert_eq!(summary["signature"], json!("verified"));
    assert_eq!(
        installed.versions(),
        (
            "axonflow-codex 2.1.0".to_string(),
            "axonflow-codex-hook 2.1.0".to_string()
        )
    );
}

#[test]
fn a_release_signed_with_another_key_is_refused() {
    let (attacker, _) = signing_key(9);
    let (_, trusted) = signing_key(7);
    // The sha256 in the manifest matches: only the signature can tell.
    let installed = installed_with_release(
        |name, bytes| signed(&bytes, name, &attacker),
        Some(&trusted),
    );
    let run = installed.update(&[]);
    installed.assert_refused(
        &run,
        "failed verification: it is signed, but by none of the trusted release keys; nothing was replaced",
    );
}

#[test]
fn an_unsigned_release_is_refused_once_a_key_is_configured() {
    let installed = installed_with_release(|_, bytes| bytes, Some(&signing_key(7).1));
    let run = installed.update(&[]);
    installed.assert_refused(
        &run,
        &format!(
            "{} failed verification: it carries no signature to check (",
            archive_name()
        ),
    );
}

#[test]
fn a_signature_made_for_another_archive_name_is_refused() {
    let (key, public) = signing_key(7);
    // Signed for a different file name (the context), then served under ours.
    let installed = installed_with_release(
        |_, bytes| signed(&bytes, "axonflow-codex-other-target.tar.gz", &key),
        Some(&public),
    );
    let run = installed.update(&[]);
    installed.assert_refused(
        &run,
        "it is signed, but by none of the trusted release keys",
    );
}

#[test]
fn without_a_key_signatures_are_not_checked_and_the_output_says_so() {
    let (key, _) = signing_key(7);
    let installed = installed_with_release(|name, bytes| signed(&bytes, name, &key), None);
    let run = installed.update(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(
            "Updated axonflow-codex 2.0.0 -> 2.1.0 (sha256 verified; no release-signing key is configured, so signatures were not checked)"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_malformed_key_is_a_usage_error_before_anything_is_fetched() {
    let mut installed = Installed::new();
    // No server at all: the key is checked first.
    installed.env.set(
        "AXONFLOW_CODEX_UPDATE_URL",
        "http://127.0.0.1:9/manifest.json",
    );
    installed
        .env
        .set("AXONFLOW_CODEX_UPDATE_KEYS", "bm90LWEta2V5");
    let run = installed.update(&["--check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("AXONFLOW_CODEX_UPDATE_KEYS: `bm90LWEta2V5` is not a release-signing key"),
        "{}",
        run.stderr
    );
    assert_eq!(installed.versions(), current());
}
