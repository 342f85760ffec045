//! Files the tests make and look at.

use std::collections::BTreeMap;
use std::path::Path;

/// Writes `contents` with `mode` (parents created).
pub fn write_private(path: &Path, contents: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Now, in epoch seconds.
pub fn now_epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A port on loopback with nothing listening.
pub fn closed_port_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A standard base64 `client_id:client_secret`.
pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

/// Every file under `dir` (links not followed) but `allowed` that holds one of `secrets`.
pub(crate) fn holding(dir: &Path, allowed: &[&Path], secrets: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(holding(&path, allowed, secrets));
        } else if !allowed.contains(&path.as_path()) {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            for secret in secrets {
                if text.contains(secret.as_str()) {
                    let start: String = secret.chars().take(6).collect();
                    found.push(format!("{} holds {start}…", path.display()));
                }
            }
        }
    }
    found
}

/// Every file under `base` (relative path → bytes).
pub(crate) fn tree(base: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    walk(base, base, &mut files);
    files
}

fn walk(base: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let relative = path.strip_prefix(base).unwrap().display().to_string();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            files.insert(
                format!("{relative} -> link"),
                target.display().to_string().into_bytes(),
            );
        } else if meta.is_dir() {
            files.insert(format!("{relative}/"), Vec::new());
            walk(base, &path, files);
        } else if !meta.is_file() {
            // A FIFO or socket a test put there: reading it would block the test.
            files.insert(format!("{relative} (not a regular file)"), Vec::new());
        } else {
            files.insert(relative, std::fs::read(&path).unwrap());
        }
    }
}
