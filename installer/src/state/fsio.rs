//! File-system primitives: reads that follow symlinks, atomic writes to a link's target,
//! backups, and the install lock.

use std::fs::File;
use std::path::{Path, PathBuf};

use axonflow_codex_hook::files::{self, create_new_with_mode, ReadFailure, WriteStep};

use crate::error::{CommandError, Result};

/// The file a path really names: a symlink (a dotfile manager's) is followed, so we write
/// its target and keep the link. A dangling link (or chain of links) names the file it would
/// resolve to.
pub(crate) fn write_target(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut current = path.to_path_buf();
    // As the kernel does, give up on a loop after 40 links.
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(target) => {
                current = current.parent().unwrap_or(Path::new(".")).join(target);
            }
            Err(_) => break,
        }
    }
    current
}

/// Refuses a link whose target does not exist and whose target's directory does not either:
/// install writes through a dangling link into a directory that exists, but does not create
/// directories elsewhere on the user's behalf.
pub(crate) fn check_link_target(path: &Path) -> Result<()> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link || path.exists() {
        return Ok(());
    }
    let target = write_target(path);
    match target.parent() {
        Some(dir) if dir.is_dir() => Ok(()),
        _ => Err(CommandError::failure(format!(
            "{} is a link to {}, which does not exist, nor does its directory",
            path.display(),
            target.display()
        ))
        .hint(format!(
            "create {} (or point the link at an existing file), then run the command again; nothing was changed",
            target.parent().unwrap_or(Path::new("/")).display()
        ))),
    }
}

/// A file's bytes, or `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    // Opened without blocking and read only as a regular file of bounded size: a FIFO at
    // config.toml would hang every command, a link to /dev/zero would fill memory.
    match files::read_small_file(path, USER_FILE_LIMIT) {
        Ok(file) => Ok(Some(file.bytes)),
        // The hook's reader counts "a parent is not a directory" as missing; to the
        // installer it is an error to name, as before.
        Err(ReadFailure::Missing) => match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
                Err(CommandError::io("read", path, &e))
            }
            _ => Ok(None),
        },
        Err(ReadFailure::Io(e)) => Err(CommandError::io("read", path, &e)),
        Err(failure) => {
            Err(
                CommandError::failure(format!("{} {}", path.display(), failure.cause()))
                    .hint("put a regular file there (or remove it), then run the command again"),
            )
        }
    }
}

/// The largest file of the user's the installer reads (config.toml, hooks.json, the
/// settings file, the receipt): far above any real one, and a bound on memory.
const USER_FILE_LIMIT: u64 = 256 * 1024 * 1024;

/// `bytes` as text; invalid UTF-8 is an error naming the file and the line and column of
/// the first bad byte.
pub(crate) fn utf8_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = axonflow_codex_hook::text::line_and_column(bytes, e.valid_up_to());
        CommandError::failure(format!(
            "{} is not valid UTF-8 (line {line}, column {column}: byte 0x{:02x})",
            path.display(),
            bytes[e.valid_up_to()]
        ))
        .hint(format!(
            "fix {} by hand (save it as UTF-8), then run the command again; nothing was changed",
            path.display()
        ))
    })
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, flushed,
/// then renamed over the target. Symlinks are followed (the link stays a link). An existing
/// file keeps its permissions; a new one gets `new_mode`.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], new_mode: u32) -> Result<()> {
    let mode = existing_mode(&write_target(path)).unwrap_or(new_mode);
    write_atomic_with_mode(path, contents, mode)
}

/// [`write_atomic`], but the file ends up with exactly `mode` whatever it had: for a file
/// that holds secrets, whose looser mode would make the hooks refuse it.
pub(crate) fn write_atomic_with_mode(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let target = write_target(path);
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| CommandError::io("create directory", dir, &e))?;
    // The hook library's write, with this crate's test-only crash points at its steps.
    files::write_atomically(&target, contents, mode, &|step| {
        crash_point(step == WriteStep::TemporaryComplete)
    })
    .map_err(|e| CommandError::io("write", &target, &e))
}

/// Removes a file (a symlink's target is left alone: the link is removed; callers that wrote
/// through a link pass its [`write_target`]). Missing is fine.
pub(crate) fn remove_file(path: &Path) -> Result<()> {
    crash_point(true).map_err(|e| CommandError::io("remove", path, &e))?;
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CommandError::io("remove", path, &e)),
    }
}

/// A file's permission bits (following symlinks); `None` when it does not exist (or off Unix).
#[cfg(unix)]
pub(crate) fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
pub(crate) fn existing_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(unix)]
pub(crate) fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// An exclusive lock on `<dir>/.lock`, held until dropped, so two installs (or an install
/// and an uninstall) cannot interleave their writes.
pub(crate) struct InstallLock {
    _file: File,
}

impl InstallLock {
    pub(crate) fn acquire(dir: &Path) -> Result<InstallLock> {
        std::fs::create_dir_all(dir).map_err(|e| CommandError::io("create directory", dir, &e))?;
        let path = dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| CommandError::io("open", &path, &e))?;
        file.lock()
            .map_err(|e| CommandError::io("lock", &path, &e))?;
        Ok(InstallLock { _file: file })
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Test-only fail points, at each file-system step: each write's "temporary file complete"
/// and "renamed" moments and each removal. With `AXONFLOW_CODEX_TEST_CRASH_POINT=N` the
/// process kills itself (SIGKILL: no destructor, no flush) at the N-th step; with
/// `AXONFLOW_CODEX_TEST_FAIL_POINT=N` that step fails with an I/O error instead (a full
/// disk, say; never after a rename, which has written the file). The crash-safety and partial-failure tests use them to interrupt install and
/// uninstall everywhere; unset, each costs one relaxed load.
pub(crate) fn crash_point(can_fail: bool) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static TARGETS: OnceLock<(Option<u64>, Option<u64>)> = OnceLock::new();
    static STEPS: AtomicU64 = AtomicU64::new(0);
    let point = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let (crash, fail) = *TARGETS.get_or_init(|| {
        (
            point("AXONFLOW_CODEX_TEST_CRASH_POINT"),
            point("AXONFLOW_CODEX_TEST_FAIL_POINT"),
        )
    });
    if crash.is_none() && fail.is_none() {
        return Ok(());
    }
    let step = STEPS.fetch_add(1, Ordering::Relaxed) + 1;
    if crash == Some(step) {
        #[cfg(unix)]
        unsafe {
            // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
    if can_fail && fail == Some(step) {
        return Err(std::io::Error::other("test fail point"));
    }
    Ok(())
}

/// Whether a file can be written into `dir` (or, when it does not exist yet, into the
/// nearest directory above it that does): a file is created there and removed again. Run
/// before the first write, so an unwritable target stops a run that has changed nothing.
pub(crate) fn check_writable(dir: &Path) -> Result<()> {
    let mut existing = dir;
    while !existing.exists() {
        match existing.parent() {
            Some(parent) => existing = parent,
            None => break,
        }
    }
    let probe = existing.join(format!(".probe.axonflow-{}.tmp", std::process::id()));
    match create_new_with_mode(&probe, 0o600) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(CommandError::io("write in", existing, &e)),
    }
}

/// Removes temporary files a killed run left beside the files it was writing
/// (`.<name>.axonflow-<pid>-<nanos>.tmp`, see `files::write_atomically`).
pub(crate) fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".axonflow-") && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
