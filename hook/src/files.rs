//! Reading the hook's own small files (`axonflow.toml`, `user-token.json`, the throttle and
//! prompt stamps) so that nothing placed at their paths can cost time or memory: a FIFO must
//! not block, a link to `/dev/zero` must not be read, a huge file must not be loaded.

use std::fs::{File, Metadata};
use std::io::Read as _;
use std::path::Path;

/// `axonflow.toml`: a handful of `key = "value"` lines.
pub const SETTINGS_FILE_LIMIT: u64 = 1024 * 1024;
/// `user-token.json`: one JSON object with one token.
pub const USER_TOKEN_FILE_LIMIT: u64 = 64 * 1024;
/// The throttle and prompt stamps: one short line.
pub const STATE_FILE_LIMIT: u64 = 4 * 1024;

/// A small regular file, read whole, with the metadata of the opened file.
#[derive(Debug)]
pub struct SmallFile {
    pub bytes: Vec<u8>,
    pub metadata: Metadata,
}

/// Why a small file was not read.
#[derive(Debug)]
pub enum ReadFailure {
    /// Nothing at the path (or a parent is not a directory).
    Missing,
    /// A FIFO, device, directory or socket (after following links).
    NotRegular,
    /// Larger than the limit, in bytes.
    TooLarge {
        limit: u64,
    },
    Io(std::io::Error),
}

impl ReadFailure {
    /// What went wrong, to follow the file's path in a message.
    pub fn cause(&self) -> String {
        match self {
            ReadFailure::Missing => "does not exist".to_string(),
            ReadFailure::NotRegular => "is not a regular file".to_string(),
            ReadFailure::TooLarge { limit } => format!("is larger than {}", size_text(*limit)),
            ReadFailure::Io(error) => format!("cannot be read: {}", crate::text::io_cause(error)),
        }
    }
}

/// Opens `path` without blocking (a FIFO with no writer opens at once), refuses anything but
/// a regular file by the opened descriptor's own metadata, and reads at most `limit` bytes.
pub fn read_small_file(path: &Path, limit: u64) -> Result<SmallFile, ReadFailure> {
    let file = open_without_blocking(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => ReadFailure::Missing,
        _ => ReadFailure::Io(error),
    })?;
    let metadata = file.metadata().map_err(ReadFailure::Io)?;
    if !metadata.is_file() {
        return Err(ReadFailure::NotRegular);
    }
    if metadata.len() > limit {
        return Err(ReadFailure::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadFailure::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadFailure::TooLarge { limit });
    }
    Ok(SmallFile { bytes, metadata })
}

/// Whether only this user could have written the file: ours, and not writable by group or
/// others. A file in a directory others can write to (a state directory under a shared
/// `XDG_CACHE_HOME`) may have been put there by anyone.
#[cfg(unix)]
pub fn written_only_by_this_user(metadata: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    metadata.uid() == euid && metadata.mode() & 0o022 == 0
}

#[cfg(not(unix))]
pub fn written_only_by_this_user(_metadata: &Metadata) -> bool {
    true
}

/// A private state directory (0700), created with its parents when missing.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Replaces `path` by a temporary file of the same directory (created 0700 when missing),
/// made 0600 before its first byte whatever the umask, synced, then renamed over it: no byte
/// is ever readable by others, and a reader sees the old or the new file whole.
pub(crate) fn write_private_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    create_private_dir(path.parent().unwrap_or(Path::new(".")))?;
    write_atomically(path, contents, 0o600, &|_| Ok(()))
}

/// A moment of [`write_atomically`], at which the installer's crash tests stop or fail it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStep {
    /// The temporary file is written and synced, not yet renamed: failing here leaves the
    /// old file in place.
    TemporaryComplete,
    /// Renamed over `path`: the file is written, so an error here is ignored.
    Renamed,
}

/// Replaces `path` by `contents` atomically, the one way both crates write a file: a new
/// temporary file in the same directory, created exclusively (never through a link, never
/// blocking on a FIFO) with exactly `mode` before its first byte whatever the umask, written,
/// synced, renamed over `path`, and the directory synced. A reader sees the old or the new
/// file whole, and no byte is ever more readable than `mode` allows. `path` itself is
/// replaced, link or not: a caller that keeps links passes the link's target. The directory
/// must exist. `step` runs at each [`WriteStep`] (a no-op outside the installer's tests).
pub fn write_atomically(
    path: &Path,
    contents: &[u8],
    mode: u32,
    step: &dyn Fn(WriteStep) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // `.axonflow-`: the installer removes such files a killed run left behind.
    let temp = dir.join(format!(
        ".{name}.axonflow-{}-{nanos}.tmp",
        std::process::id()
    ));
    let result = (|| {
        let mut file = create_new_with_mode(&temp, mode)?;
        file.write_all(contents)?;
        file.sync_all()?;
        step(WriteStep::TemporaryComplete)?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
        return result;
    }
    let _ = step(WriteStep::Renamed);
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Creates `path` afresh (never through an existing file or link: a stale one is removed
/// first; never blocking on a FIFO) with exactly `mode` before its first byte, so a private
/// file is never readable by others, not even while it is written.
pub fn create_new_with_mode(path: &Path, mode: u32) -> std::io::Result<File> {
    let open = || {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        no_follow(&mut options, mode);
        options.open(path)
    };
    let file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path)?;
            open()?
        }
        other => other?,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(file)
}

/// 0600 from creation, never through a link, and never blocking on a FIFO in its place.
pub(crate) fn private_no_follow(options: &mut std::fs::OpenOptions) {
    no_follow(options, 0o600);
}

/// At most `mode` (the umask can only narrow it) from creation, never through a link, and
/// never blocking on a FIFO in its place.
#[cfg(unix)]
fn no_follow(options: &mut std::fs::OpenOptions, mode: u32) {
    use std::os::unix::fs::OpenOptionsExt as _;
    options
        .mode(mode & 0o700)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
}

#[cfg(not(unix))]
fn no_follow(_options: &mut std::fs::OpenOptions, _mode: u32) {}

#[cfg(unix)]
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// `4 KiB`, `1 MiB`, `32 MiB`: limits are whole KiB or MiB.
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_units() {
        assert_eq!(size_text(STATE_FILE_LIMIT), "4 KiB");
        assert_eq!(size_text(SETTINGS_FILE_LIMIT), "1 MiB");
        assert_eq!(size_text(100), "100 bytes");
    }
}
