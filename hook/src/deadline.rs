//! Every read and write of a connection ends by the deadline of the request it serves.
//!
//! ureq bounds a request by its global timeout, except while it reads a `CONNECT` proxy's
//! answer: there every read gets the whole connect timeout again, so a proxy sending one byte
//! at a time kept a hook waiting forever. This connector wraps each TCP connection (the
//! proxy's included): the deadline is set when a request is sent on it (now + the timeout
//! ureq gives that write), and no wait goes past it.

use std::fmt;
use std::time::Instant;

use ureq::unversioned::transport::time::Duration as UreqDuration;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

#[derive(Debug, Default)]
pub(crate) struct DeadlineConnector;

impl<In: Transport> Connector<In> for DeadlineConnector {
    type Out = DeadlineTransport<In>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| {
            let mut transport = DeadlineTransport {
                inner,
                deadline: None,
            };
            transport.set_deadline(details.timeout);
            transport
        }))
    }
}

pub(crate) struct DeadlineTransport<In> {
    inner: In,
    deadline: Option<Instant>,
}

impl<In> DeadlineTransport<In> {
    fn set_deadline(&mut self, timeout: NextTimeout) {
        self.deadline = match timeout.after {
            UreqDuration::Exact(after) => Instant::now().checked_add(after),
            UreqDuration::NotHappening => None,
        };
    }

    /// `timeout`, shortened to what is left before the deadline; an error once it passed.
    fn bounded(&self, mut timeout: NextTimeout) -> Result<NextTimeout, ureq::Error> {
        let Some(deadline) = self.deadline else {
            return Ok(timeout);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        timeout.after = match timeout.after {
            UreqDuration::Exact(after) => UreqDuration::Exact(after.min(left)),
            UreqDuration::NotHappening => UreqDuration::Exact(left),
        };
        Ok(timeout)
    }
}

impl<In: Transport> Transport for DeadlineTransport<In> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        // A new request on this connection (a pooled one is reused) brings its own deadline.
        self.set_deadline(timeout);
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = self.bounded(timeout)?;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

impl<In> fmt::Debug for DeadlineTransport<In> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadlineTransport").finish()
    }
}
