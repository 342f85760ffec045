//! The stand-in over TLS: a test CA made at run time (rcgen, ECDSA P-256 keys, like the
//! issue's measurements) and rustls on the server side. Nothing is read from or written to
//! the system trust store; tests hand the CA to the client (e.g. through `SSL_CERT_FILE`).

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority made for one test run.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new self-signed CA with a fresh key; `name` becomes its common name.
    ///
    /// Panics when the certificate cannot be made (never for a plain name).
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a P-256 key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a self-signed CA"),
        }
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server identity for `names` (DNS names or IP addresses), signed by this CA.
    pub fn server_identity(&self, names: &[&str]) -> TlsIdentity {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("server certificate parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, "axonflow-agent-standin");
        let key = KeyPair::generate().expect("a P-256 key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("a server certificate");
        let chain = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a usable server certificate");
        TlsIdentity {
            config: Arc::new(config),
            cert: cert.der().clone(),
        }
    }
}

/// What the stand-in presents when it serves TLS.
#[derive(Clone)]
pub struct TlsIdentity {
    pub(crate) config: Arc<rustls::ServerConfig>,
    cert: CertificateDer<'static>,
}

impl TlsIdentity {
    /// The server certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert
    }
}
