//! The HTTPS side of the benchmark: the stand-in served over TLS with a CA made by this run,
//! and the trust-store layout of a Debian or Ubuntu machine where a corporate CA was added:
//! `SSL_CERT_FILE` names a copy of the system bundle with the test CA appended, and the
//! system certificate directory is read too. Either variable replaces the system locations
//! for rustls-native-certs (and so for the hook), so the directory is named by `SSL_CERT_DIR`:
//! the same files as a machine with neither variable set (its bundle and `/etc/ssl/certs`).

use std::path::{Path, PathBuf};

use axonflow_agent_standin::{AgentConfig, StandIn, TestCa};

/// Where the system bundle usually is; its absence only makes the bundle smaller.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The system certificate directory, read when it exists.
const SYSTEM_DIR: &str = "/etc/ssl/certs";

pub struct HttpsSetup {
    pub agent: StandIn,
    /// The system bundle plus the test CA: what the hook trusts (`SSL_CERT_FILE`).
    pub bundle: PathBuf,
    /// The test CA alone: what curl is given (`--cacert`), as in the comparison.
    pub ca_file: PathBuf,
    /// How many certificates the bundle holds.
    pub bundle_certs: usize,
    /// The system certificate directory, when there is one (`SSL_CERT_DIR`).
    pub system_dir: Option<PathBuf>,
}

impl HttpsSetup {
    pub fn start(dir: &Path) -> Result<HttpsSetup, String> {
        let ca = TestCa::new("axonflow-bench test CA");
        let identity = ca.server_identity(&["127.0.0.1", "localhost"]);
        let agent = StandIn::start_tls(AgentConfig::default(), &identity);
        let mut bundle_text = std::fs::read_to_string(SYSTEM_BUNDLE).unwrap_or_default();
        if !bundle_text.is_empty() && !bundle_text.ends_with('\n') {
            bundle_text.push('\n');
        }
        bundle_text.push_str(&ca.cert_pem());
        let bundle = dir.join("ca-bundle.crt");
        let ca_file = dir.join("test-ca.pem");
        std::fs::write(&bundle, &bundle_text).map_err(|e| format!("{}: {e}", bundle.display()))?;
        std::fs::write(&ca_file, ca.cert_pem())
            .map_err(|e| format!("{}: {e}", ca_file.display()))?;
        // The hook caches the anchors of files that changed more than 2 s ago; wait that long
        // so that the runs measure the steady state, as on a user's machine.
        std::thread::sleep(std::time::Duration::from_millis(3100));
        Ok(HttpsSetup {
            agent,
            bundle,
            ca_file,
            bundle_certs: bundle_text.matches("-----BEGIN CERTIFICATE-----").count(),
            system_dir: Some(PathBuf::from(SYSTEM_DIR)).filter(|d| d.is_dir()),
        })
    }
}
