//! A minimal HTTP/1.1 server side over one `TcpStream` (plain, or TLS with rustls): request
//! parsing (Content-Length and chunked bodies, `Expect: 100-continue`, keep-alive) and response
//! writing. Reads poll a stop flag so that connection threads end soon after the stand-in is
//! dropped.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

const POLL: Duration = Duration::from_millis(50);
const MAX_HEAD: usize = 1024 * 1024;
const MAX_BODY: usize = 256 * 1024 * 1024;

/// One parsed request, exactly as received.
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the client asked to close the connection after this exchange.
    pub fn wants_close(&self) -> bool {
        let conn = self.header("Connection").map(|v| v.to_ascii_lowercase());
        let has = |tok: &str| {
            conn.as_deref()
                .is_some_and(|c| c.split(',').any(|t| t.trim() == tok))
        };
        if self.version == "HTTP/1.0" {
            !has("keep-alive")
        } else {
            has("close")
        }
    }
}

pub enum ReadError {
    /// Peer closed (or the stand-in is stopping) before a request started.
    Closed,
    /// Malformed request; answer 400 and close.
    Bad(&'static str),
    Io,
}

/// The connection's byte stream; the TLS handshake runs inside the first read.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

pub struct Conn<'a> {
    pub stream: Stream,
    buf: Vec<u8>,
    stop: &'a AtomicBool,
}

impl<'a> Conn<'a> {
    /// Serves `stream` in plain HTTP, or over TLS with `tls`.
    pub fn new(
        stream: TcpStream,
        tls: Option<Arc<ServerConfig>>,
        stop: &'a AtomicBool,
    ) -> io::Result<Self> {
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        let stream = match tls {
            None => Stream::Plain(stream),
            Some(config) => {
                let server = ServerConnection::new(config).map_err(io::Error::other)?;
                Stream::Tls(Box::new(StreamOwned::new(server, stream)))
            }
        };
        Ok(Conn {
            stream,
            buf: Vec::new(),
            stop,
        })
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Reads more bytes into the buffer. `Ok(0)` = EOF. Retries timeouts until stopping.
    fn fill(&mut self) -> Result<usize, ReadError> {
        let mut tmp = [0u8; 16 * 1024];
        loop {
            if self.stopping() {
                return Err(ReadError::Closed);
            }
            match self.stream.read(&mut tmp) {
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(ReadError::Io),
            }
        }
    }

    fn need(&mut self, n: usize) -> Result<(), ReadError> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(ReadError::Bad("unexpected end of body"));
            }
        }
        Ok(())
    }

    fn take_line(&mut self) -> Result<String, ReadError> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return String::from_utf8(line).map_err(|_| ReadError::Bad("non-UTF-8 line"));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Bad("line too long"));
            }
            if self.fill()? == 0 {
                return Err(ReadError::Bad("unexpected end of chunked body"));
            }
        }
    }

    /// Reads one request. `Err(Closed)` when the peer closed cleanly between requests.
    pub fn read_request(&mut self) -> Result<Request, ReadError> {
        // Head: up to the blank line.
        let head_end = loop {
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                break pos + 4;
            }
            if let Some(pos) = find(&self.buf, b"\n\n") {
                break pos + 2;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Bad("request head too large"));
            }
            if self.fill()? == 0 {
                return if self.buf.iter().all(|b| b.is_ascii_whitespace()) {
                    Err(ReadError::Closed)
                } else {
                    Err(ReadError::Bad("truncated request head"))
                };
            }
        };
        let head: Vec<u8> = self.buf.drain(..head_end).collect();
        let head = String::from_utf8(head).map_err(|_| ReadError::Bad("non-UTF-8 head"))?;
        let mut lines = head
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .skip_while(|l| l.is_empty());
        let request_line = lines.next().ok_or(ReadError::Bad("empty request"))?;
        let mut parts = request_line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ReadError::Bad("malformed request line"));
        };
        if !version.starts_with("HTTP/1.") {
            return Err(ReadError::Bad("unsupported HTTP version"));
        }
        let mut headers = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or(ReadError::Bad("malformed header"))?;
            if name.is_empty() || name.ends_with([' ', '\t']) {
                return Err(ReadError::Bad("malformed header name"));
            }
            headers.push((
                name.to_string(),
                value.trim_matches([' ', '\t']).to_string(),
            ));
        }
        let mut req = Request {
            method: method.to_string(),
            target: target.to_string(),
            version: version.to_string(),
            headers,
            body: Vec::new(),
        };

        if req
            .header("Expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }

        let chunked = req
            .header("Transfer-Encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            let mut body = Vec::new();
            loop {
                let line = self.take_line()?;
                let size_text = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| ReadError::Bad("bad chunk size"))?;
                if size == 0 {
                    // Trailers up to the blank line.
                    while !self.take_line()?.is_empty() {}
                    break;
                }
                if body.len() + size > MAX_BODY {
                    return Err(ReadError::Bad("body too large"));
                }
                self.need(size + 2)?;
                body.extend(self.buf.drain(..size));
                let crlf: Vec<u8> = self.buf.drain(..2).collect();
                if crlf != b"\r\n" {
                    return Err(ReadError::Bad("bad chunk terminator"));
                }
            }
            req.body = body;
        } else if let Some(len) = req.header("Content-Length") {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| ReadError::Bad("bad Content-Length"))?;
            if len > MAX_BODY {
                return Err(ReadError::Bad("body too large"));
            }
            self.need(len)?;
            req.body = self.buf.drain(..len).collect();
        }
        Ok(req)
    }

    /// Sleeps until `dur` passed or the stand-in stops. Returns false when stopping.
    pub fn sleep(&self, dur: Duration) -> bool {
        let deadline = std::time::Instant::now() + dur;
        loop {
            if self.stopping() {
                return false;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return true;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
        }
    }

    /// Blocks until the stand-in stops (or the peer goes away), then closes.
    pub fn hang(&mut self) {
        let mut tmp = [0u8; 4096];
        while !self.stopping() {
            match self.stream.read(&mut tmp) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => break,
            }
        }
        self.close();
    }

    pub fn close(&mut self) {
        if let Stream::Tls(tls) = &mut self.stream {
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
        let _ = self.stream.tcp().shutdown(Shutdown::Both);
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Go's `http.CanonicalHeaderKey`: `x-axonflow-upgrade-url` → `X-Axonflow-Upgrade-Url`,
/// `WWW-Authenticate` → `Www-Authenticate`. Go's server writes header names this way.
pub fn canonical_header_key(name: &str) -> String {
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-!#$%&'*+.^_`|~".contains(&b))
    {
        return name.to_string();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// Serializes a response like Go's `net/http` server: canonical header names sorted by key,
/// `Date` and `Content-Length` added, `Connection: close` when closing.
pub fn serialize_response(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    close: bool,
    go_style: bool,
) -> Vec<u8> {
    let mut hs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            if go_style {
                (canonical_header_key(k), v.clone())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let has = |hs: &[(String, String)], n: &str| hs.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has(&hs, "Content-Length") {
        hs.push(("Content-Length".into(), body.len().to_string()));
    }
    if go_style && !has(&hs, "Date") {
        hs.push(("Date".into(), crate::util::http_date_now()));
    }
    if close && !has(&hs, "Connection") {
        hs.push(("Connection".into(), "close".into()));
    }
    if go_style {
        hs.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).into_bytes();
    for (k, v) in &hs {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keys() {
        assert_eq!(canonical_header_key("WWW-Authenticate"), "Www-Authenticate");
        assert_eq!(
            canonical_header_key("X-Axonflow-Upgrade-URL"),
            "X-Axonflow-Upgrade-Url"
        );
        assert_eq!(canonical_header_key("mcp-session-id"), "Mcp-Session-Id");
    }
}
