//! A minimal client connection for the logins and mailbox work that happen outside the probe
//! dialogue (`--all-mechs` reconnects, the round trip): TCP through [`Net`]'s overrides, implicit
//! TLS or STARTTLS with strict certificate checks, capped line reads and exact-length reads for
//! IMAP literals. Every operation has a timeout.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::net::Net;

/// Longest line accepted (RFC 9051 §4 recommends servers accept 8 KiB commands; responses with
/// long capability or SEARCH lists stay well below this cap).
pub const MAX_LINE: usize = 64 * 1024;
/// Largest literal read (an IMAP `BODY.PEEK[HEADER]` of the test message is a few KiB).
pub const MAX_LITERAL: usize = 4 * 1024 * 1024;

/// A connection-level failure.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnError {
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, String),
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    #[error("TLS handshake with {0} failed: {1}")]
    Tls(String, String),
    #[error("timed out while {0}")]
    Timeout(&'static str),
    #[error("the server closed the connection")]
    Closed,
    #[error("line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("literal of {0} bytes is larger than allowed")]
    LiteralTooLarge(usize),
    #[error("data after the STARTTLS answer (possible command injection, RFC 3207 §6)")]
    StarttlsInjection,
    #[error("I/O error: {0}")]
    Io(String),
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One client connection.
pub struct Conn {
    io: Option<BufReader<Box<dyn Io>>>,
    host: String,
    net: Arc<Net>,
    timeout: Duration,
    tls: bool,
    tag: u32,
}

impl Conn {
    /// Connect to `host:port` (after `--connect-to`/`--resolve`); with `implicit_tls`, do the
    /// TLS handshake at once (ports 993, 995, 465).
    pub async fn connect(
        net: &Arc<Net>,
        host: &str,
        port: u16,
        implicit_tls: bool,
    ) -> Result<Conn, ConnError> {
        let timeout = net.cfg.timeout;
        let target = format!("{host}:{port}");
        let addrs = net
            .socket_addrs(host, port)
            .await
            .map_err(|e| ConnError::Resolve(host.to_string(), e.to_string()))?;
        let mut last = ConnError::Connect(target.clone(), "no address".into());
        let mut stream = None;
        for a in addrs {
            match tokio::time::timeout(timeout, TcpStream::connect(a)).await {
                Ok(Ok(s)) => {
                    stream = Some(s);
                    break;
                }
                Ok(Err(e)) => last = ConnError::Connect(a.to_string(), e.to_string()),
                Err(_) => last = ConnError::Timeout("connecting"),
            }
        }
        let stream = stream.ok_or(last)?;
        let _ = stream.set_nodelay(true);
        let mut c = Conn {
            io: Some(BufReader::new(Box::new(stream))),
            host: host.to_string(),
            net: net.clone(),
            timeout,
            tls: false,
            tag: 0,
        };
        if implicit_tls {
            c.upgrade().await?;
        }
        Ok(c)
    }

    /// Next IMAP tag on this connection: `a1`, `a2`, ... (deterministic, so scripted servers
    /// can expect it).
    pub fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("a{}", self.tag)
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    /// Start TLS on the connection (after the server accepted STARTTLS / STLS).
    pub async fn upgrade(&mut self) -> Result<(), ConnError> {
        let io = self.io.take().ok_or(ConnError::Closed)?;
        if !io.buffer().is_empty() {
            return Err(ConnError::StarttlsInjection);
        }
        let inner = io.into_inner();
        let cfg = crate::net::tls::strict_client_config(self.net.roots.clone());
        let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
        let name = ServerName::try_from(self.host.clone())
            .map_err(|e| ConnError::Tls(self.host.clone(), e.to_string()))?;
        let tls = tokio::time::timeout(self.timeout, connector.connect(name, inner))
            .await
            .map_err(|_| ConnError::Timeout("in the TLS handshake"))?
            .map_err(|e| ConnError::Tls(self.host.clone(), e.to_string()))?;
        self.io = Some(BufReader::new(Box::new(tls)));
        self.tls = true;
        Ok(())
    }

    fn io(&mut self) -> Result<&mut BufReader<Box<dyn Io>>, ConnError> {
        self.io.as_mut().ok_or(ConnError::Closed)
    }

    /// One line without its CR LF. Longer lines than [`MAX_LINE`] are an error.
    pub async fn read_line(&mut self) -> Result<String, ConnError> {
        let t = self.timeout;
        let io = self.io()?;
        let mut buf = Vec::new();
        let fut = async {
            loop {
                let chunk = io
                    .fill_buf()
                    .await
                    .map_err(|e| ConnError::Io(e.to_string()))?;
                if chunk.is_empty() {
                    return Err(ConnError::Closed);
                }
                if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
                    buf.extend_from_slice(&chunk[..=i]);
                    io.consume(i + 1);
                    return Ok(());
                }
                let n = chunk.len();
                buf.extend_from_slice(chunk);
                io.consume(n);
                if buf.len() > MAX_LINE {
                    return Err(ConnError::LineTooLong);
                }
            }
        };
        tokio::time::timeout(t, fut)
            .await
            .map_err(|_| ConnError::Timeout("reading"))??;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Exactly `n` bytes (an IMAP literal, RFC 9051 §4.3).
    pub async fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, ConnError> {
        if n > MAX_LITERAL {
            return Err(ConnError::LiteralTooLarge(n));
        }
        let t = self.timeout;
        let io = self.io()?;
        let mut buf = vec![0u8; n];
        tokio::time::timeout(t, io.read_exact(&mut buf))
            .await
            .map_err(|_| ConnError::Timeout("reading"))?
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => ConnError::Closed,
                _ => ConnError::Io(e.to_string()),
            })?;
        Ok(buf)
    }

    /// Send raw bytes and flush.
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), ConnError> {
        let t = self.timeout;
        let io = self.io()?;
        let fut = async {
            io.write_all(bytes).await?;
            io.flush().await
        };
        tokio::time::timeout(t, fut)
            .await
            .map_err(|_| ConnError::Timeout("writing"))?
            .map_err(|e| ConnError::Io(e.to_string()))
    }

    /// Send one line; CR LF is added.
    pub async fn write_line(&mut self, line: &str) -> Result<(), ConnError> {
        let mut b = Vec::with_capacity(line.len() + 2);
        b.extend_from_slice(line.as_bytes());
        b.extend_from_slice(b"\r\n");
        self.write_all(&b).await
    }

    /// Close politely: best effort, errors ignored.
    pub async fn shutdown(&mut self) {
        if let Some(io) = self.io.as_mut() {
            let _ = tokio::time::timeout(Duration::from_secs(1), io.shutdown()).await;
        }
        self.io = None;
    }
}
