//! `axonflow-codex update`: replaces this installer and the installed hook with a newer
//! release, after verifying each archive's sha256 (and its zipsign signature once a release key
//! is known) and that both new binaries run.
//!
//! Sources: GitHub releases (API base overridable for GitHub Enterprise with
//! `AXONFLOW_CODEX_GITHUB_API`), or a static manifest (`AXONFLOW_CODEX_UPDATE_URL`) for
//! mirrors and air-gapped networks. The hook keeps its path, so the command string in
//! hooks.json, and with it Codex's trust, survives the update.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axonflow_codex_hook::host_env::HostEnv;
use self_update::update::{Release, ReleaseAsset};
use serde::Serialize;

use crate::codex::paths::CodexPaths;
use crate::error::{plain_cause, CommandError, Result};
use crate::state::fsio;
use crate::state::receipt::Receipt;
use crate::ui::printer::Printer;

pub const REPO_OWNER: &str = "getaxonflow";
pub const REPO_NAME: &str = "axonflow-codex";
/// Archives larger than this are refused (ours are a few MiB).
const MAX_ARCHIVE_BYTES: u64 = 200 * 1024 * 1024;
/// The release-signing keys built into this installer (see the file for its format).
const BUILT_IN_KEYS: &str = include_str!("../../../dist/update-verifying-keys.txt");
/// More trusted release-signing keys: mirrors that re-sign, or a key newer than this build.
pub const KEYS_VARIABLE: &str = "AXONFLOW_CODEX_UPDATE_KEYS";
/// Bounds every request of an update (seconds); a server or proxy that accepts the connection
/// and never answers must not hang the command.
pub const TIMEOUT_VARIABLE: &str = "AXONFLOW_CODEX_UPDATE_TIMEOUT_SECONDS";
const LISTING_TIMEOUT: Duration = Duration::from_secs(30);
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// The bound of each request: the listing and checksums, and the (larger) downloads.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    listing: Duration,
    download: Duration,
}

impl Timeouts {
    fn from_env(env: &HostEnv) -> Result<Timeouts> {
        match env.var(TIMEOUT_VARIABLE) {
            None => Ok(Timeouts {
                listing: LISTING_TIMEOUT,
                download: DOWNLOAD_TIMEOUT,
            }),
            Some(value) => {
                let seconds = axonflow_codex_hook::settings::parse_timeout(value, TIMEOUT_VARIABLE)
                    .map_err(|e| CommandError::usage(e.to_string()))?;
                let bound = Duration::from_secs(seconds);
                Ok(Timeouts {
                    listing: bound,
                    download: bound,
                })
            }
        }
    }
}

/// The zipsign (ed25519) keys an archive must be signed with: the built-in ones and those in
/// `AXONFLOW_CODEX_UPDATE_KEYS` (standard base64, separated by commas or whitespace). No key
/// at all means archives are checked by sha256 alone; any key means every archive must carry a
/// signature from one of them, so a mirror cannot strip it.
fn verifying_keys(env: &HostEnv) -> Result<Vec<self_update::VerifyingKey>> {
    use base64::Engine as _;
    let built_in = BUILT_IN_KEYS
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|key| (key, "dist/update-verifying-keys.txt (built in)"));
    let configured = env
        .var(KEYS_VARIABLE)
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|key| !key.is_empty())
        .map(|key| (key, KEYS_VARIABLE));
    built_in
        .chain(configured)
        .map(|(text, origin)| {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()
                .and_then(|bytes| self_update::VerifyingKey::try_from(bytes).ok())
                .ok_or_else(|| {
                    CommandError::usage(format!(
                        "{origin}: `{text}` is not a release-signing key (standard base64 of a 32-byte ed25519 public key)"
                    ))
                })
        })
        .collect()
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct UpdateOptions {
    /// Only report whether a newer version exists
    #[arg(long)]
    pub check: bool,
    /// Install this version instead of the newest
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Allow installing a version older than this one (with --to)
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Machine-readable summary on stdout
    #[arg(long)]
    pub json: bool,
}

/// Where releases come from.
enum Source {
    Manifest(String),
    GitHub { api_base: String },
}

impl Source {
    fn from_env(env: &HostEnv) -> Source {
        match env.var("AXONFLOW_CODEX_UPDATE_URL") {
            Some(url) => Source::Manifest(url.to_string()),
            None => Source::GitHub {
                api_base: env
                    .var("AXONFLOW_CODEX_GITHUB_API")
                    .unwrap_or("https://api.github.com")
                    .trim_end_matches('/')
                    .to_string(),
            },
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Manifest(url) => format!("manifest {url}"),
            Source::GitHub { api_base } => {
                format!("GitHub releases of {REPO_OWNER}/{REPO_NAME} ({api_base})")
            }
        }
    }

    fn releases(&self, env: &HostEnv, timeout: Duration) -> Result<Vec<Release>> {
        let failed = |e: self_update::errors::Error| {
            CommandError::failure(format!(
                "cannot list releases from {}: {}",
                self.describe(),
                plain_cause(&e, timeout)
            ))
            .hint("check the network, or set AXONFLOW_CODEX_UPDATE_URL to a reachable manifest")
        };
        match self {
            Source::Manifest(url) => {
                let body = fetch_text(url, timeout)?;
                self_update::backends::manifest::parse_manifest(&body, url).map_err(failed)
            }
            Source::GitHub { api_base } => {
                let mut list = self_update::backends::github::ReleaseList::configure();
                list.repo_owner(REPO_OWNER)
                    .repo_name(REPO_NAME)
                    .api_base_url(api_base.as_str())
                    .timeout(timeout);
                if let Some(token) = env.var("GITHUB_TOKEN") {
                    list.auth_token(token);
                }
                list.build()
                    .and_then(|l| l.fetch())
                    .map(|r| r.all().to_vec())
                    .map_err(failed)
            }
        }
    }
}

fn fetch_text(url: &str, timeout: Duration) -> Result<String> {
    let agent = axonflow_codex_hook::agent::new_http_agent();
    let mut response = agent
        .get(url)
        .config()
        .timeout_global(Some(timeout))
        .build()
        .call()
        .map_err(|e| {
            CommandError::failure(format!("cannot fetch {url}: {}", plain_cause(&e, timeout)))
        })?;
    if response.status().as_u16() != 200 {
        return Err(CommandError::failure(format!(
            "cannot fetch {url}: HTTP {}",
            response.status().as_u16()
        )));
    }
    response
        .body_mut()
        .with_config()
        .limit(4 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| {
            CommandError::failure(format!("cannot read {url}: {}", plain_cause(&e, timeout)))
        })
}

/// The first three numeric parts of a dotted version, ignoring a leading `v` and any
/// `-…`/`+…` suffix (`v1.4.0-rc1` → 1, 4, 0); `None` for a part missing or not a number.
fn version_parts(text: &str) -> [Option<u64>; 3] {
    let core = text.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    [(); 3].map(|()| parts.next().flatten())
}

/// A release version: all three parts must be numbers.
fn parse_version(text: &str) -> Option<Version> {
    match version_parts(text) {
        [Some(major), Some(minor), Some(patch)] => Some((major, minor, patch)),
        _ => None,
    }
}

/// `a < b`, leniently: a part missing or not a number counts as 0 (an agent's
/// `min_plugin_version` may be `1.4`).
pub(crate) fn version_below(a: &str, b: &str) -> bool {
    let lenient = |v: &str| version_parts(v).map(|part| part.unwrap_or(0));
    lenient(a) < lenient(b)
}

/// The archive of `package` (`axonflow-codex` or `axonflow-codex-hook`) for this platform:
/// `<package>-<target>.tar.gz` (`.zip` on Windows), as cargo-dist names them.
fn archive_for(release: &Release, package: &str) -> Option<ReleaseAsset> {
    let target = self_update::get_target();
    let extension = if cfg!(windows) { ".zip" } else { ".tar.gz" };
    release
        .assets()
        .iter()
        .find(|a| {
            a.name()
                .strip_suffix(extension)
                .and_then(|stem| stem.strip_prefix(package))
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|rest| rest.contains(target) && !rest.starts_with("hook-"))
        })
        .cloned()
}

/// The archive's expected sha256: the asset's own digest, else a `<name>.sha256` or
/// `SHA256SUMS` asset of the same release.
fn expected_sha256(release: &Release, archive: &ReleaseAsset, timeout: Duration) -> Result<String> {
    if let Some(digest) = archive.digest() {
        return match self_update::Checksum::parse_digest(digest) {
            Ok(self_update::Checksum::Sha256(hex)) => Ok(hex.to_ascii_lowercase()),
            _ => Err(CommandError::failure(format!(
                "{} carries an unsupported digest `{digest}`",
                archive.name()
            ))),
        };
    }
    let sums = release.assets().iter().find(|a| {
        a.name() == format!("{}.sha256", archive.name())
            || a.name() == "SHA256SUMS"
            || a.name() == "sha256.sum"
    });
    let Some(sums) = sums else {
        return Err(CommandError::failure(format!(
            "release {} publishes no sha256 for {}; refusing to install an unverified archive",
            release.version(),
            archive.name()
        )));
    };
    let text = fetch_text(sums.download_url(), timeout)?;
    match self_update::Checksum::from_sums_file(&text, archive.name()) {
        Ok(self_update::Checksum::Sha256(hex)) => Ok(hex.to_ascii_lowercase()),
        _ => Err(CommandError::failure(format!(
            "{} has no sha256 line for {}",
            sums.name(),
            archive.name()
        ))),
    }
}

/// What `update` did or found: `--json` serialises it, people read its `Display`.
#[derive(Debug, Serialize)]
struct UpdateReport {
    current: &'static str,
    latest: Option<String>,
    update_available: bool,
    updated: bool,
    /// `verified` or `not checked`, once archives were installed.
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replaced: Option<Vec<String>>,
    #[serde(skip)]
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// Nothing newer in this source (its description).
    UpToDate(String),
    /// `--to` names the running version.
    AlreadyInstalled,
    /// `--check` found a newer version.
    Available,
    Updated,
}

impl fmt::Display for UpdateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (current, latest) = (self.current, self.latest.as_deref().unwrap_or("?"));
        match &self.outcome {
            Outcome::UpToDate(source) => {
                write!(f, "axonflow-codex {current} is up to date ({source}).")
            }
            Outcome::AlreadyInstalled => {
                write!(f, "axonflow-codex {current} is already installed.")
            }
            Outcome::Available => write!(
                f,
                "axonflow-codex {latest} is available (this is {current}); run `axonflow-codex update`."
            ),
            Outcome::Updated => {
                let verified = match self.signature {
                    Some("verified") => "sha256 and signature verified",
                    _ => "sha256 verified; no release-signing key is configured, so signatures were not checked",
                };
                let replaced = self.replaced.clone().unwrap_or_default();
                write!(
                    f,
                    "Updated axonflow-codex {current} -> {latest} ({verified}):\n  {}",
                    replaced.join("\n  ")
                )
            }
        }
    }
}

impl UpdateReport {
    fn found(latest: Option<&str>, available: bool, outcome: Outcome) -> Self {
        UpdateReport {
            current: crate::VERSION,
            latest: latest.map(str::to_string),
            update_available: available,
            updated: false,
            signature: None,
            replaced: None,
            outcome,
        }
    }
}

pub fn run(options: &UpdateOptions, env: &HostEnv, printer: Printer) -> Result<()> {
    let keys = verifying_keys(env)?;
    let timeouts = Timeouts::from_env(env)?;
    let source = Source::from_env(env);
    let spinner = crate::ui::progress::spinner(&format!(
        "Looking for releases in {} (at most {} s)",
        source.describe(),
        timeouts.listing.as_secs()
    ));
    let releases = source.releases(env, timeouts.listing);
    spinner.finish_and_clear();
    let releases = releases?;
    let mut candidates: Vec<(&Release, Version)> = releases
        .iter()
        .filter_map(|r| parse_version(r.version()).map(|v| (r, v)))
        .collect();
    candidates.sort_by_key(|(_, v)| *v);
    let current_version = parse_version(crate::VERSION).unwrap_or_default();
    let Some((release, version)) = choose(options, &candidates, current_version, &source)? else {
        let latest = candidates.last().map(|(r, _)| r.version());
        let outcome = Outcome::UpToDate(source.describe());
        printer.report(&UpdateReport::found(latest, false, outcome));
        return Ok(());
    };
    if version == current_version && options.to.is_some() {
        let report = UpdateReport::found(Some(release.version()), false, Outcome::AlreadyInstalled);
        printer.report(&report);
        return Ok(());
    }
    if options.check {
        printer.report(&UpdateReport::found(
            Some(release.version()),
            true,
            Outcome::Available,
        ));
        return Ok(());
    }
    let paths = CodexPaths::resolve(env, false)?;
    let receipt = Receipt::load(&paths.receipt)?;
    let staged = stage(release, &keys, timeouts)?;
    let replaced = replace_all(&paths, receipt, &staged)?;
    printer.report(&UpdateReport {
        signature: Some(if keys.is_empty() {
            "not checked"
        } else {
            "verified"
        }),
        replaced: Some(replaced),
        updated: true,
        ..UpdateReport::found(Some(&staged.version), true, Outcome::Updated)
    });
    Ok(())
}

type Version = (u64, u64, u64);

/// The release to install: the one `--to` names, else the newest when it is newer.
fn choose<'a>(
    options: &UpdateOptions,
    candidates: &[(&'a Release, Version)],
    current: Version,
    source: &Source,
) -> Result<Option<(&'a Release, Version)>> {
    let Some(wanted) = &options.to else {
        return Ok(candidates.last().copied().filter(|(_, v)| *v > current));
    };
    let wanted_version = parse_version(wanted)
        .ok_or_else(|| CommandError::usage(format!("--to {wanted} is not a version")))?;
    let Some(found) = candidates
        .iter()
        .find(|(_, v)| *v == wanted_version)
        .copied()
    else {
        return Err(CommandError::failure(format!(
            "no release {wanted} in {}",
            source.describe()
        )));
    };
    if wanted_version < current && !options.allow_downgrade {
        return Err(CommandError::usage(format!(
            "{wanted} is older than the installed {}; pass --allow-downgrade to install it anyway",
            crate::VERSION
        )));
    }
    Ok(Some(found))
}

/// The new binaries, verified and proved to run, in a staging directory beside this
/// installer (so the final renames stay on one file system).
struct Staged {
    _dir: tempfile::TempDir,
    installer: PathBuf,
    hook: PathBuf,
    version: String,
}

/// Downloads, verifies and unpacks the release; nothing installed is touched until both new
/// binaries have proved they run.
fn stage(
    release: &Release,
    keys: &[self_update::VerifyingKey],
    timeouts: Timeouts,
) -> Result<Staged> {
    let archive = archive_for(release, "axonflow-codex").ok_or_else(|| {
        CommandError::failure(format!(
            "release {} has no archive for {}",
            release.version(),
            self_update::get_target()
        ))
    })?;
    // cargo-dist ships each package in its own archive; a single archive may also hold both.
    let mut archives = vec![archive];
    archives.extend(archive_for(release, "axonflow-codex-hook"));
    let expected = archives
        .iter()
        .map(|a| expected_sha256(release, a, timeouts.listing))
        .collect::<Result<Vec<_>>>()?;
    let installer_path = current_exe()?;
    let staging_parent = installer_path
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let dir = tempfile::Builder::new()
        .prefix(".axonflow-codex-update-")
        .tempdir_in(&staging_parent)
        .map_err(|e| CommandError::io("create a staging directory in", &staging_parent, &e))?;
    let unpacked = dir.path().join("unpacked");
    for (asset, expected) in archives.iter().zip(&expected) {
        let archive_path = dir.path().join(asset.name());
        download(asset, &archive_path, timeouts.download)?;
        verify(asset, &archive_path, expected, keys)?;
        unpack(asset, &archive_path, &unpacked)?;
    }
    let binary = |name: &str| {
        find_file(&unpacked, name).ok_or_else(|| {
            CommandError::failure(format!(
                "release {} holds no {name}; nothing was replaced",
                release.version()
            ))
        })
    };
    let staged = Staged {
        installer: binary(crate::codex::paths::INSTALLER_BINARY_NAME)?,
        hook: binary(crate::codex::paths::HOOK_BINARY_NAME)?,
        version: release.version().trim_start_matches('v').to_string(),
        _dir: dir,
    };
    prove_they_run(&staged)?;
    Ok(staged)
}

fn current_exe() -> Result<PathBuf> {
    std::env::current_exe().map_err(|e| {
        CommandError::failure(format!(
            "cannot locate this executable: {}",
            axonflow_codex_hook::text::io_cause(&e)
        ))
    })
}

/// The archive's sha256, then (with any release key configured) its signature.
fn verify(
    asset: &ReleaseAsset,
    archive_path: &Path,
    expected: &str,
    keys: &[self_update::VerifyingKey],
) -> Result<()> {
    let actual = fsio::sha256_hex(
        &std::fs::read(archive_path).map_err(|e| CommandError::io("read", archive_path, &e))?,
    );
    if actual != expected {
        return Err(CommandError::failure(format!(
            "{} failed verification: sha256 {actual}, expected {expected}; nothing was replaced",
            asset.name()
        ))
        .hint("the download was corrupted or tampered with; try again, or check the mirror"));
    }
    if keys.is_empty() {
        return Ok(());
    }
    // The signature's context is the archive's file name (zipsign's and self_update's
    // convention), so a signed archive cannot be served under another package's name.
    self_update::verify_signature(archive_path, keys).map_err(|e| {
        CommandError::failure(format!(
            "{} failed verification: {}; nothing was replaced",
            asset.name(),
            signature_failure(&e)
        ))
        .hint(format!("if your mirror re-signs releases, add its key to {KEYS_VARIABLE}; otherwise the archive was tampered with or published unsigned"))
    })
}

fn unpack(asset: &ReleaseAsset, archive_path: &Path, into: &Path) -> Result<()> {
    #[cfg(windows)]
    let kind = self_update::ArchiveKind::Zip;
    #[cfg(not(windows))]
    let kind = self_update::ArchiveKind::Tar(Some(self_update::Compression::Gz));
    self_update::Extract::from_source(archive_path)
        .archive(kind)
        .extract_into(into)
        .map_err(|e| {
            CommandError::failure(format!(
                "cannot unpack {}: {}; nothing was replaced",
                asset.name(),
                plain_cause(&e, Duration::ZERO)
            ))
        })
}

fn prove_they_run(staged: &Staged) -> Result<()> {
    for (binary, name) in [
        (&staged.installer, "axonflow-codex"),
        (&staged.hook, "axonflow-codex-hook"),
    ] {
        let _ = fsio::set_mode(binary, 0o755);
        let printed = crate::codex::codex_cli::run_bounded(
            std::process::Command::new(binary).arg("--version"),
            Duration::from_secs(10),
        )
        .map(|out| String::from_utf8_lossy(&out).trim().to_string());
        if printed.as_deref() != Some(format!("{name} {}", staged.version).as_str()) {
            return Err(CommandError::failure(format!(
                "the new {name} does not run on this machine (it printed {printed:?}); nothing was replaced"
            )));
        }
    }
    Ok(())
}

/// Replaces the hook first (at its stable path, so Codex's trust survives), then this
/// installer, then a hook beside it; the paths replaced.
fn replace_all(
    paths: &CodexPaths,
    receipt: Option<Receipt>,
    staged: &Staged,
) -> Result<Vec<String>> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| CommandError::io("read", path, &e));
    let mut replaced = Vec::new();
    if let Some(mut receipt) = receipt {
        let bytes = read(&staged.hook)?;
        replace_binary(&receipt.hook_binary, &bytes)?;
        if let Some(owned) = receipt.files.get_mut(&receipt.hook_binary) {
            owned.written_sha256 = fsio::sha256_hex(&bytes);
        }
        receipt.version = staged.version.clone();
        fsio::write_atomic(&paths.receipt, &receipt.to_bytes(), 0o600)?;
        replaced.push(receipt.hook_binary.display().to_string());
    }
    let installer_path = current_exe()?;
    replace_binary(&installer_path, &read(&staged.installer)?)?;
    replaced.push(installer_path.display().to_string());
    let hook_beside = installer_path.with_file_name(crate::codex::paths::HOOK_BINARY_NAME);
    if hook_beside.is_file() {
        replace_binary(&hook_beside, &read(&staged.hook)?)?;
        replaced.push(hook_beside.display().to_string());
    }
    Ok(replaced)
}

/// Why an archive's signature did not verify: signed by no trusted key, or not (readably)
/// signed at all. zipsign's errors are opaque, so their messages tell the two apart.
fn signature_failure(error: &self_update::errors::Error) -> String {
    let mut causes = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = cause {
        causes.push(current.to_string());
        cause = current.source();
    }
    if causes
        .iter()
        .any(|c| c == "no matching key/signature pair found")
    {
        "it is signed, but by none of the trusted release keys".to_string()
    } else {
        let innermost = causes.last().map(String::as_str).unwrap_or_default();
        format!(
            "it carries no signature to check ({})",
            axonflow_codex_hook::text::single_line(innermost)
        )
    }
}

fn download(asset: &ReleaseAsset, to: &Path, timeout: Duration) -> Result<()> {
    let file = std::fs::File::create(to).map_err(|e| CommandError::io("create", to, &e))?;
    let mut download = self_update::Download::from_url(asset.download_url());
    download
        .show_download_progress(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .max_download_size(MAX_ARCHIVE_BYTES)
        .timeout(timeout)
        .request_header(
            self_update::http_client::header::ACCEPT,
            "application/octet-stream",
        );
    download.download_to(file).map_err(|e| {
        CommandError::failure(format!(
            "download of {} failed: {}; nothing was replaced",
            asset.name(),
            plain_cause(&e, timeout)
        ))
    })
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// Replaces a (possibly running) binary atomically: the new bytes go to a temporary file
/// beside it, which is renamed over it. Windows cannot overwrite a running executable, so the
/// old file is moved aside first (and left for the next run to clean up).
fn replace_binary(dest: &Path, bytes: &[u8]) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.update-{}", std::process::id()));
    axonflow_codex_hook::files::create_new_with_mode(&temp, 0o755)
        .and_then(|mut file| std::io::Write::write_all(&mut file, bytes))
        .map_err(|e| CommandError::io("write", &temp, &e))?;
    if cfg!(windows) && dest.exists() {
        let aside = dir.join(format!(".{name}.old-{}", std::process::id()));
        std::fs::rename(dest, &aside).map_err(|e| CommandError::io("move aside", dest, &e))?;
    }
    std::fs::rename(&temp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        CommandError::io("replace", dest, &e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(version_below("0.9.0", "1.4.0"));
        assert!(version_below("1.4.0-rc1", "1.10.0"));
        assert!(!version_below("2.0.0", "1.4.0"));
        assert!(!version_below("v1.4.0", "1.4.0+build"));
        assert!(version_below("1.3.9", "1.4"));
        assert_eq!(parse_version("v1.4.0-rc1"), Some((1, 4, 0)));
        assert_eq!(parse_version("1.4"), None);
        assert_eq!(parse_version("1.x.0"), None);
    }

    #[test]
    fn the_built_in_keys_parse() {
        // A bad line in dist/update-verifying-keys.txt would make every update a usage error.
        let no_variables: [(&str, &str); 0] = [];
        assert!(verifying_keys(&HostEnv::from_vars(no_variables)).is_ok());
    }

    #[test]
    fn configured_keys_are_separated_by_commas_or_whitespace() {
        let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let env = HostEnv::from_vars([(KEYS_VARIABLE, format!("{key},{key}\n {key}"))]);
        let built_in = verifying_keys(&HostEnv::from_vars([("X", "")]))
            .unwrap()
            .len();
        assert_eq!(verifying_keys(&env).unwrap().len(), built_in + 3);
    }
}
