//! TLS for the agent client: one rustls configuration per process, built on the first https
//! connection and shared by every request of the process (the check and its side requests,
//! whichever thread connects first).
//!
//! ureq's own rustls connector builds its configuration per agent, and two threads that
//! connect at once each build one (its cache is filled after the build); building means
//! loading the trust store, most of a hook run's work over https. So the agent gets this
//! connector in its place: same TCP and proxy connectors before it, same rustls and
//! verification, but the configuration comes from a `OnceLock` filled exactly once.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use ureq::unversioned::transport::time::Duration as UreqDuration;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// Wraps the connection in TLS when the URL is https.
pub(crate) struct HookTlsConnector {
    /// Where the trust-anchor cache lives; `None` = no cache.
    state_dir: Option<PathBuf>,
    config: OnceLock<Result<Arc<ClientConfig>, &'static str>>,
}

impl HookTlsConnector {
    pub(crate) fn new(state_dir: Option<PathBuf>) -> Self {
        HookTlsConnector {
            state_dir,
            config: OnceLock::new(),
        }
    }

    /// The configuration, built by the first caller while the others wait for it.
    fn client_config(&self) -> Result<Arc<ClientConfig>, ureq::Error> {
        self.config
            .get_or_init(|| build_client_config(self.state_dir.as_deref()))
            .clone()
            .map_err(ureq::Error::Tls)
    }
}

fn build_client_config(
    state_dir: Option<&std::path::Path>,
) -> Result<Arc<ClientConfig>, &'static str> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = crate::trust::server_cert_verifier(provider.clone(), state_dir)?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|_| "no usable TLS protocol version")?
        .dangerous()
        // Not dangerous: the verifier is rustls' own WebPKI verifier over the system's trust
        // anchors, or the platform's verifier (see `trust`).
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl<In: Transport> Connector<In> for HookTlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let config = self.client_config()?;
        let host = details
            .uri
            .authority()
            .map(|a| a.host())
            .ok_or(ureq::Error::Tls("no host to verify"))?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let name = ServerName::try_from(host)
            .map_err(|_| ureq::Error::Tls("invalid TLS server name"))?
            .to_owned();
        let mut conn = ClientConnection::new(config, name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(remaining(details));
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned { conn, sock },
        })))
    }
}

/// The connect timeout less what the TCP connection already took, so the handshake does not
/// extend the request's overall deadline.
fn remaining(details: &ConnectionDetails) -> NextTimeout {
    let mut timeout = details.timeout;
    let now = (details.current_time)();
    if let (UreqDuration::Exact(after), ureq::unversioned::transport::time::Instant::Exact(t0)) =
        (timeout.after, details.now)
    {
        if let ureq::unversioned::transport::time::Instant::Exact(t1) = now {
            timeout.after = UreqDuration::Exact(after.saturating_sub(t1.duration_since(t0)));
        }
    }
    timeout
}

impl fmt::Debug for HookTlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookTlsConnector").finish()
    }
}

/// One TLS connection (rustls over the chained transport).
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_connecting_at_once_share_one_configuration() {
        let connector = Arc::new(HookTlsConnector::new(None));
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let connector = connector.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    connector.client_config().ok()
                })
            })
            .collect();
        let configs: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let first = configs[0].as_ref().expect("this machine has a trust store");
        for config in &configs {
            assert!(Arc::ptr_eq(first, config.as_ref().unwrap()));
        }
    }
}
