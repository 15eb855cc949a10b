//! One wire session: a TCP stream, later TLS on the same connection (implicit TLS, or STARTTLS
//! per RFC 3207 / RFC 9051 §6.2.1 / RFC 2595 §4), with a bounded line reader, per-step timeouts
//! and a [`Transcript`] of every line (credentials redacted before they are stored).
//!
//! The dialogue is hand-written on purpose instead of using an IMAP/SMTP client crate: a
//! diagnostic tool must control, time and record each step, and must survive servers that a
//! client library would reject before we could say what went wrong.
//!
//! - [`Session::send_line`] / [`Session::read_line`]: raw lines, each send with a [`Redact`] flag.
//! - One command and its whole response, bounded by one step timeout (in `session/exchange.rs`):
//!   [`Session::imap`] / [`Session::pop3`] / [`Session::smtp`] for typed commands, and the
//!   string forms [`Session::imap_command`], [`Session::pop3_command`], [`Session::smtp_command`].
//! - [`Session::starttls`]: the TLS handshake on the same connection, recording the certificate
//!   verdict in [`Session::tls`] and [`Session::tls_problems`].
//! - [`Session::offered`]: the capability set the dialogue learnt last.

use std::io;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::caps::{CapabilitySet, Offered};
use super::transcript::{Redact, Transcript};
use super::transport::{self, CertProblem, TlsError};
use crate::model::{TlsInfo, TranscriptLine};
use crate::net::Net;

mod exchange;

pub use exchange::{ImapResponse, Literal, MAILBOX_MAX_TOTAL, MAX_LITERAL, Pop3Response};

/// Longest line accepted. RFC 5321 §4.5.3.1.5 allows 512 octets for SMTP replies, but IMAP
/// CAPABILITY lines of Dovecot/Exchange run past 1 KiB; 8 KiB is far beyond any honest server.
pub const MAX_LINE: usize = 8 * 1024;
/// Most bytes read over one session: a probe never needs more, a hostile server gets no further.
pub(crate) const MAX_TOTAL: usize = 1024 * 1024;
/// Most lines in one response (CAPA, EHLO, untagged data).
pub(crate) const MAX_RESPONSE_LINES: usize = 1000;

/// A read or write that did not give a usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("timed out after {0} ms waiting for the server")]
    Timeout(u64),
    #[error("the server closed the connection")]
    Closed,
    #[error("line longer than {0} bytes without an end")]
    LineTooLong(usize),
    #[error("server sent more than {0} bytes")]
    TooMuchData(usize),
    #[error("{0}")]
    Io(String),
    /// The bytes arrived but are not the protocol we expected.
    #[error("{0}")]
    Protocol(String),
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Between taking the TCP stream for a handshake and getting the TLS stream back.
    Gone,
}

/// One connection speaking IMAP, POP3 or SMTP. See the module docs.
pub struct Session {
    stream: Stream,
    buf: Vec<u8>,
    transcript: Transcript,
    step: Duration,
    deadline_at: Instant,
    read_total: usize,
    next_tag: u32,
    tls: Option<TlsInfo>,
    tls_problems: Vec<CertProblem>,
    offered: Option<Offered>,
    /// Longest line accepted (default [`MAX_LINE`]).
    pub max_line: usize,
    /// Most bytes read over the session (default [`MAX_TOTAL`]).
    pub max_total: usize,
}

impl Session {
    /// A session over a connected socket; timeouts come from `net` (`--timeout`, `--deadline`).
    /// `started` is when the connection attempt began (transcript times count from it).
    pub fn new(tcp: TcpStream, net: &Net, started: Instant) -> Session {
        Session {
            stream: Stream::Plain(tcp),
            buf: Vec::new(),
            transcript: Transcript::new(started),
            step: net.cfg.timeout,
            deadline_at: net.started + net.cfg.deadline,
            read_total: 0,
            next_tag: 1,
            tls: None,
            tls_problems: Vec::new(),
            offered: None,
            max_line: MAX_LINE,
            max_total: MAX_TOTAL,
        }
    }

    /// The per-step timeout, cut to what is left of the run's deadline.
    pub fn step_timeout(&self) -> Duration {
        self.step
            .min(self.deadline_at.saturating_duration_since(Instant::now()))
    }

    /// Every line so far, credentials already redacted.
    pub fn transcript(&self) -> &[TranscriptLine] {
        self.transcript.lines()
    }

    pub fn take_transcript(&mut self) -> Vec<TranscriptLine> {
        self.transcript.take()
    }

    /// Never store `form` (one form of a secret about to be sent) in the transcript, whichever
    /// side of the connection says it.
    pub fn hide(&mut self, form: &str) {
        self.transcript.hide(form);
    }

    /// Add a `*` note line (TLS established, timeout, …).
    pub fn note(&mut self, text: impl Into<String>) {
        self.transcript.note(text);
    }

    fn record_server(&mut self, line: String) {
        self.transcript.server(line);
    }

    /// The TLS facts once [`starttls`](Self::starttls) succeeded.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// The certificates the server presented (leaf first, DER), empty before TLS. Kept in
    /// memory only: DANE (RFC 7672 §3) matches TLSA records against them.
    pub fn peer_chain_der(&self) -> Vec<Vec<u8>> {
        match &self.stream {
            Stream::Tls(t) => t
                .get_ref()
                .1
                .peer_certificates()
                .unwrap_or(&[])
                .iter()
                .map(|c| c.as_ref().to_vec())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// One sentence per certificate problem of the TLS session (empty when verified).
    pub fn tls_problems(&self) -> &[CertProblem] {
        &self.tls_problems
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// The capability set the dialogue learnt last (IMAP CAPABILITY, POP3 CAPA, EHLO).
    pub fn offered(&self) -> Option<&Offered> {
        self.offered.as_ref()
    }

    /// Capability lines seen last (IMAP capability names, POP3 CAPA lines, EHLO keyword lines).
    pub fn capabilities(&self) -> &[String] {
        self.offered.as_ref().map(|o| o.lines()).unwrap_or(&[])
    }

    /// SASL mechanisms the dialogue saw last, upper-cased.
    pub fn sasl(&self) -> &[String] {
        self.offered.as_ref().map(|o| o.sasl()).unwrap_or(&[])
    }

    /// Replace what the server offers (after a new CAPABILITY / CAPA / EHLO, e.g. after TLS:
    /// RFC 9051 §6.2.1, RFC 3207 §4.2 say to forget what was learnt before).
    pub fn set_offered(&mut self, offered: Offered) {
        self.offered = Some(offered);
    }

    /// Send one line (CRLF appended), recorded per `redact`.
    /// A line with CR or LF is refused: it would smuggle a second command (e.g. through a user
    /// name) past the caller.
    pub async fn send_line(&mut self, line: &str, redact: Redact) -> io::Result<()> {
        if line.contains(['\r', '\n']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "refusing to send a line containing CR or LF",
            ));
        }
        self.transcript.client(line, redact);
        let mut data = Vec::with_capacity(line.len() + 2);
        data.extend_from_slice(line.as_bytes());
        data.extend_from_slice(b"\r\n");
        self.write_all(&data).await
    }

    /// Write raw bytes within one step timeout; the caller records them.
    async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let limit = self.step_timeout();
        let write = async {
            match &mut self.stream {
                Stream::Plain(s) => {
                    s.write_all(data).await?;
                    s.flush().await
                }
                Stream::Tls(s) => {
                    s.write_all(data).await?;
                    s.flush().await
                }
                Stream::Gone => Err(io::Error::new(io::ErrorKind::NotConnected, "no stream")),
            }
        };
        match tokio::time::timeout(limit, write).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
        }
    }

    async fn fill(&mut self, until: Instant) -> Result<(), SessionError> {
        let mut chunk = [0u8; 4096];
        let wait = until.saturating_duration_since(Instant::now());
        let read = async {
            match &mut self.stream {
                Stream::Plain(s) => s.read(&mut chunk).await,
                Stream::Tls(s) => s.read(&mut chunk).await,
                Stream::Gone => Ok(0),
            }
        };
        let n = match tokio::time::timeout(wait, read).await {
            Err(_) => {
                if !self.buf.is_empty() {
                    let partial = String::from_utf8_lossy(&self.buf).into_owned();
                    self.record_server(partial);
                }
                self.note("timeout waiting for the server");
                return Err(SessionError::Timeout(self.step.as_millis() as u64));
            }
            Ok(Err(e)) => {
                self.note(format!("read error: {e}"));
                return Err(SessionError::Io(e.to_string()));
            }
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            if !self.buf.is_empty() {
                let partial = String::from_utf8_lossy(&self.buf).into_owned();
                self.record_server(partial);
            }
            self.note("connection closed by the server");
            return Err(SessionError::Closed);
        }
        self.read_total += n;
        if self.read_total > self.max_total {
            self.note(format!(
                "more than {} bytes read: giving up",
                self.max_total
            ));
            return Err(SessionError::TooMuchData(self.max_total));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Read one line (with its CRLF) before `until`.
    async fn read_line_until(&mut self, until: Instant) -> Result<Vec<u8>, SessionError> {
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + pos + 1;
                if end > self.max_line {
                    return Err(self.too_long());
                }
                let line: Vec<u8> = self.buf.drain(..end).collect();
                let shown = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                self.record_server(shown);
                return Ok(line);
            }
            scanned = self.buf.len();
            if self.buf.len() > self.max_line {
                return Err(self.too_long());
            }
            self.fill(until).await?;
        }
    }

    fn too_long(&mut self) -> SessionError {
        let head: String =
            String::from_utf8_lossy(&self.buf[..self.buf.len().min(200)]).into_owned();
        self.record_server(format!("{head}…"));
        self.note(format!(
            "line longer than {} bytes: giving up",
            self.max_line
        ));
        self.buf.clear();
        SessionError::LineTooLong(self.max_line)
    }

    /// Read one line within one step timeout.
    pub async fn read_line(&mut self) -> Result<Vec<u8>, SessionError> {
        let until = Instant::now() + self.step_timeout();
        self.read_line_until(until).await
    }

    /// Read `n` raw bytes (an IMAP literal), bounded by the caps; recorded as a note only.
    async fn read_bytes_until(
        &mut self,
        n: usize,
        until: Instant,
    ) -> Result<Vec<u8>, SessionError> {
        if n > self.max_total {
            return Err(SessionError::TooMuchData(self.max_total));
        }
        while self.buf.len() < n {
            self.fill(until).await?;
        }
        let bytes = self.buf.drain(..n).collect();
        self.note(format!("{n} bytes of literal data"));
        Ok(bytes)
    }

    /// TLS handshake on this connection: implicit TLS right after connect, or after a positive
    /// STARTTLS/STLS reply. Certificate problems do not fail the handshake; they are recorded in
    /// the returned [`TlsInfo`] (`verified`, `verify_error`).
    pub async fn starttls(&mut self, net: &Net, server_name: &str) -> Result<TlsInfo, TlsError> {
        if !self.buf.is_empty() {
            // RFC 3207 §4.2 / CVE-2011-0411: bytes sent before the handshake must be discarded.
            let n = self.buf.len();
            self.buf.clear();
            self.note(format!(
                "discarded {n} bytes the server sent before the TLS handshake"
            ));
        }
        let tcp = match std::mem::replace(&mut self.stream, Stream::Gone) {
            Stream::Plain(tcp) => tcp,
            other => {
                self.stream = other;
                return Err(TlsError::new("TLS is already active on this connection"));
            }
        };
        self.note("TLS handshake");
        match transport::handshake(net, tcp, server_name).await {
            Ok(hs) => {
                let info = hs.info;
                let verdict = if hs.problems.is_empty() {
                    "certificate verified".to_string()
                } else {
                    format!(
                        "certificate NOT verified: {}",
                        transport::describe(&hs.problems)
                    )
                };
                self.note(format!(
                    "TLS established: {} {}, {verdict}",
                    info.version, info.cipher
                ));
                self.stream = Stream::Tls(Box::new(hs.stream));
                self.tls = Some(info.clone());
                self.tls_problems = hs.problems;
                Ok(info)
            }
            Err(e) => {
                self.note(format!("TLS failed: {}", e.message));
                Err(e)
            }
        }
    }

    /// Shut the connection down (best effort, bounded).
    pub async fn close(&mut self) {
        let limit = self.step_timeout().min(Duration::from_secs(2));
        let stream = std::mem::replace(&mut self.stream, Stream::Gone);
        let _ = tokio::time::timeout(limit, async move {
            match stream {
                Stream::Plain(mut s) => s.shutdown().await,
                Stream::Tls(mut s) => s.shutdown().await,
                Stream::Gone => Ok(()),
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session to a local server that sends `data` in `chunks`-byte pieces, then closes.
    async fn session_to(data: Vec<u8>, chunk: usize) -> Session {
        serve(data, chunk, Duration::ZERO).await
    }

    /// [`session_to`], holding the connection open for `hold` after the data.
    pub(super) async fn serve(data: Vec<u8>, chunk: usize, hold: Duration) -> Session {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            for piece in data.chunks(chunk.max(1)) {
                let _ = s.write_all(piece).await;
                let _ = s.flush().await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(hold).await;
        });
        let net = Net::new(crate::config::NetConfig {
            offline: true,
            timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        Session::new(tcp, &net, Instant::now())
    }

    #[tokio::test]
    async fn lines_across_chunks_lf_only_and_bad_utf8() {
        let mut s = session_to(b"250-a\r\n250 b\n\xff\xfeok\r\n".to_vec(), 3).await;
        let r = s.read_smtp_reply().await.unwrap();
        assert_eq!(r.lines, vec!["a", "b"]);
        assert_eq!(s.read_line().await.unwrap(), b"\xff\xfeok\r\n");
        assert_eq!(s.read_line().await, Err(SessionError::Closed));
        let t: Vec<&str> = s.transcript().iter().map(|l| l.line.as_str()).collect();
        assert_eq!(t[..3], ["250-a", "250 b", "\u{fffd}\u{fffd}ok"]);
    }

    #[tokio::test]
    async fn caps_on_line_and_total() {
        let mut s = session_to(vec![b'x'; 20_000], 4096).await;
        assert_eq!(
            s.read_line().await,
            Err(SessionError::LineTooLong(MAX_LINE))
        );
        let mut s = session_to(b"* OK x\r\n".repeat(300), 4096).await;
        s.max_total = 1000;
        let mut n = 0;
        let err = loop {
            match s.read_line().await {
                Ok(_) => n += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(err, SessionError::TooMuchData(1000));
        assert!(n < 150, "{n}");
    }

    #[tokio::test]
    async fn refuses_line_breaks_in_a_line() {
        let mut s = session_to(Vec::new(), 1).await;
        let e = s
            .send_line("a1 LOGIN x\r\na2 DELETE INBOX", Redact::No)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(s.transcript().is_empty());
    }
}
