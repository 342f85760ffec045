//! Which server certificates the hook trusts: the operating system's.
//!
//! - Linux and the other Unix systems without a platform verifier: the trust anchors of the
//!   system store, from where `rustls-native-certs` reads them (`SSL_CERT_FILE` and
//!   `SSL_CERT_DIR` when either is set, otherwise the bundle and directories that
//!   `openssl-probe` finds), verified by rustls' WebPKI verifier. This is what
//!   `rustls-platform-verifier` does on these systems; the hook does it itself so that the
//!   decoded anchors can be cached (see `trust_cache`): parsing the PEM files on every tool
//!   call was most of a hook run's work over https.
//! - macOS, Windows and Android: the platform's own verifier (`rustls-platform-verifier`),
//!   which asks the OS and loads nothing itself.
//!
//! No root list is compiled in.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;

#[cfg(all(unix, not(target_os = "android"), not(target_vendor = "apple")))]
pub(crate) fn server_cert_verifier(
    provider: Arc<CryptoProvider>,
    state_dir: Option<&Path>,
) -> Result<Arc<dyn ServerCertVerifier>, &'static str> {
    let roots = system_store::root_store(state_dir);
    if roots.is_empty() {
        return Err("no CA certificates were loaded from the system");
    }
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|_| "cannot build the certificate verifier")?;
    Ok(verifier)
}

#[cfg(not(all(unix, not(target_os = "android"), not(target_vendor = "apple"))))]
pub(crate) fn server_cert_verifier(
    provider: Arc<CryptoProvider>,
    _state_dir: Option<&Path>,
) -> Result<Arc<dyn ServerCertVerifier>, &'static str> {
    let verifier = rustls_platform_verifier::Verifier::new(provider)
        .map_err(|_| "cannot use the platform's certificate verifier")?;
    Ok(Arc::new(verifier))
}

#[cfg(all(unix, not(target_os = "android"), not(target_vendor = "apple")))]
pub(crate) mod system_store {
    use std::ffi::OsString;
    use std::os::unix::fs::MetadataExt as _;
    use std::path::{Path, PathBuf};

    use rustls::pki_types::CertificateDer;
    use rustls::RootCertStore;

    use crate::trust_cache;

    /// The trust anchors: from the cache when every file they came from is unchanged,
    /// otherwise read from the store (and the cache rewritten).
    pub(crate) fn root_store(state_dir: Option<&Path>) -> RootCertStore {
        let sources = Sources::from_env();
        let manifest = sources.manifest();
        if let Some(roots) = state_dir.and_then(|dir| trust_cache::load(dir, &manifest.bytes)) {
            return RootCertStore { roots };
        }
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(sources.read_certificates());
        if let Some(dir) = state_dir {
            if !store.is_empty() && manifest.is_settled() && sources.manifest() == manifest {
                trust_cache::store(dir, &manifest.bytes, &store.roots);
            }
        }
        store
    }

    /// A file changed this recently could change again within the same tick of the clock
    /// that stamps it (a few milliseconds; a second or two on some file systems) without its
    /// identity changing, so the anchors read from it are not cached (as git treats a
    /// "racily clean" index entry).
    pub(crate) const SETTLE_SECONDS: i64 = 2;

    /// A system bundle is a few hundred KiB; a corporate one rarely a few MiB.
    const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

    /// The identity of the files, and the latest time any of them changed.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) struct Manifest {
        pub(crate) bytes: Vec<u8>,
        newest_change: i64,
    }

    impl Manifest {
        /// Stored only when every file is older than the clock's granularity, and (checked by
        /// the caller) nothing changed while the files were read: then the anchors are
        /// exactly those of the files the manifest describes.
        fn is_settled(&self) -> bool {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            self.newest_change < now.saturating_sub(SETTLE_SECONDS)
        }
    }

    /// Where the certificates are read from; the same choice as `rustls-native-certs`.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) struct Sources {
        pub(crate) file: Option<PathBuf>,
        pub(crate) dirs: Vec<PathBuf>,
    }

    impl Sources {
        pub(crate) fn from_env() -> Sources {
            Self::from_vars(
                std::env::var_os("SSL_CERT_FILE"),
                std::env::var_os("SSL_CERT_DIR"),
            )
        }

        fn from_vars(file: Option<OsString>, dirs: Option<OsString>) -> Sources {
            let file = file.map(PathBuf::from);
            let dirs: Vec<PathBuf> = dirs
                .map(|d| {
                    std::env::split_paths(&d)
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default();
            if file.is_some() || !dirs.is_empty() {
                return Sources { file, dirs };
            }
            let probed = openssl_probe::probe();
            Sources {
                file: probed.cert_file,
                dirs: probed.cert_dir,
            }
        }

        /// Every certificate of the file and the directories, sorted and without duplicates
        /// (what `rustls_native_certs::load_native_certs` returns), except that only regular
        /// files no larger than any bundle are read, each opened without blocking and checked
        /// by its open descriptor: a FIFO would block the read forever, `/dev/zero` never
        /// end, and a huge file would be held in memory whole (its PEM reader keeps a line).
        fn read_certificates(&self) -> Vec<CertificateDer<'static>> {
            let mut certs = Vec::new();
            if let Some(file) = &self.file {
                read_pem_file(file, &mut certs);
            }
            let mut seen = std::collections::HashSet::new();
            for dir in &self.dirs {
                let Ok(entries) = std::fs::read_dir(dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    // `openssl rehash` links several names to one file: read it once.
                    let path = entry.path();
                    let first_visit = std::fs::metadata(&path)
                        .is_ok_and(|m| m.is_file() && seen.insert((m.dev(), m.ino())));
                    if first_visit {
                        read_pem_file(&path, &mut certs);
                    }
                }
            }
            certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
            certs.dedup();
            certs
        }

        /// The identity of every file the certificates are read from: the paths, and for each
        /// file (following symbolic links) its device, inode, size, modification and change
        /// times; for each directory, its own identity and that of every entry in it. Any
        /// change to a file's content updates its change time, which no program can set
        /// back, so an unchanged manifest means unchanged files.
        pub(crate) fn manifest(&self) -> Manifest {
            let mut out = Manifest {
                bytes: Vec::with_capacity(32 * 1024),
                newest_change: i64::MIN,
            };
            if let Some(file) = &self.file {
                out.bytes.push(b'F');
                put_path(&mut out.bytes, file);
                out.put_identity(std::fs::metadata(file));
            }
            for dir in &self.dirs {
                out.bytes.push(b'D');
                put_path(&mut out.bytes, dir);
                out.put_identity(std::fs::metadata(dir));
                match std::fs::read_dir(dir) {
                    Ok(entries) => {
                        for entry in entries {
                            let Ok(entry) = entry else {
                                out.bytes.push(b'?');
                                continue;
                            };
                            out.bytes.push(b'E');
                            put_path(&mut out.bytes, Path::new(&entry.file_name()));
                            out.put_identity(std::fs::metadata(entry.path()));
                        }
                    }
                    Err(_) => out.bytes.push(b'?'),
                }
            }
            out
        }
    }

    impl Manifest {
        fn put_identity(&mut self, metadata: std::io::Result<std::fs::Metadata>) {
            let Ok(m) = metadata else {
                self.bytes.push(b'-');
                return;
            };
            self.newest_change = self.newest_change.max(m.mtime()).max(m.ctime());
            self.bytes.push(b'+');
            for n in [
                m.dev(),
                m.ino(),
                m.size(),
                m.mtime() as u64,
                m.mtime_nsec() as u64,
                m.ctime() as u64,
                m.ctime_nsec() as u64,
                u64::from(m.mode()),
            ] {
                self.bytes.extend_from_slice(&n.to_le_bytes());
            }
        }
    }

    /// The certificates of one PEM file; nothing when it is not a small regular file.
    fn read_pem_file(path: &Path, certs: &mut Vec<CertificateDer<'static>>) {
        use rustls::pki_types::pem::PemObject as _;
        if let Ok(file) = crate::files::read_small_file(path, MAX_BUNDLE_BYTES) {
            certs.extend(CertificateDer::pem_slice_iter(&file.bytes).filter_map(Result::ok));
        }
    }

    fn put_path(out: &mut Vec<u8>, path: &Path) {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn either_variable_replaces_the_system_locations() {
            let only_file = Sources::from_vars(Some("/x/bundle.pem".into()), None);
            assert_eq!(only_file.file, Some(PathBuf::from("/x/bundle.pem")));
            assert!(only_file.dirs.is_empty());
            let only_dirs = Sources::from_vars(None, Some("/a::/b".into()));
            assert_eq!(only_dirs.file, None);
            assert_eq!(only_dirs.dirs, [PathBuf::from("/a"), PathBuf::from("/b")]);
        }

        #[test]
        fn an_empty_directory_list_falls_back_to_the_probed_locations() {
            let probed = openssl_probe::probe();
            let sources = Sources::from_vars(None, Some(":".into()));
            assert_eq!(sources.file, probed.cert_file);
            assert_eq!(sources.dirs, probed.cert_dir);
        }
    }
}
