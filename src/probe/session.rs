//! One wire session: a TCP (later TLS) stream with a bounded line reader, per-step timeouts and a
//! transcript of every line (credentials redacted before they are stored).
//!
//! The dialogue is hand-written on purpose instead of using an IMAP/SMTP client crate: a
//! diagnostic tool must control, time and record each step, and must survive servers that a
//! client library would reject before we could say what went wrong.
//!
//! Used by the probe dialogue and by the auth stage (`LoginHook`):
//! - [`Session::send_line`] / [`Session::read_line`]: raw lines, each send with a [`Redact`] flag.
//! - [`Session::imap_command`] / [`Session::imap_continue`], [`Session::pop3_command`],
//!   [`Session::smtp_command`] / [`Session::read_smtp_reply`]: one command, its whole response,
//!   bounded by one step timeout.
//! - [`Session::start_tls`]: the TLS handshake on the same connection (implicit TLS or after
//!   STARTTLS/STLS), recording the certificate verdict in [`Session::tls`].
//! - [`Session::capabilities`] / [`Session::sasl`]: what the dialogue learnt last.

use std::io;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::imap::{self, ImapLine, ImapStatus};
use super::netglue::{self, TlsError};
use super::pop3::{self, BlockLine, Pop3Status};
use super::smtp::{self, SmtpReply};
use crate::net::Net;
use crate::report::{TlsInfo, TranscriptLine};

/// Longest line accepted. RFC 5321 §4.5.3.1.5 allows 512 octets for SMTP replies, but IMAP
/// CAPABILITY lines of Dovecot/Exchange run past 1 KiB; 8 KiB is far beyond any honest server.
pub const MAX_LINE: usize = 8 * 1024;
/// Most bytes read over one session: a probe never needs more, a hostile server gets no further.
pub const MAX_TOTAL: usize = 1024 * 1024;
/// Most lines in one response (CAPA, EHLO, untagged data).
pub const MAX_RESPONSE_LINES: usize = 1000;

/// How a sent line is stored in the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redact {
    /// Stored as sent.
    No,
    /// Stored as `<redacted>` (SASL continuation data, `PASS`-only lines).
    All,
    /// The first N space-separated words of the line as sent (an IMAP tag counts) are kept,
    /// the rest becomes `<redacted>`: `KeepWords(3)` gives `a1 LOGIN alice <redacted>`,
    /// `KeepWords(2)` gives `AUTH PLAIN <redacted>`.
    KeepWords(usize),
}

/// Apply a [`Redact`] flag to a line.
pub fn redact_line(line: &str, redact: Redact) -> String {
    match redact {
        Redact::No => line.to_string(),
        Redact::All => "<redacted>".to_string(),
        Redact::KeepWords(n) => {
            let words: Vec<&str> = line.splitn(n + 1, ' ').collect();
            if words.len() <= n {
                line.to_string()
            } else {
                format!("{} <redacted>", words[..n].join(" "))
            }
        }
    }
}

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

/// The full answer to an IMAP command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapResponse {
    pub tag: String,
    /// Untagged data lines, without `* ` (literal bytes are replaced by `{N bytes}`).
    pub untagged: Vec<String>,
    /// Tagged status; `Ok` when [`continuation`](Self::continuation) is set.
    pub status: ImapStatus,
    pub code: Option<String>,
    pub text: String,
    /// `+ …`: the server waits for more data (AUTHENTICATE); send it with
    /// [`Session::imap_continue`].
    pub continuation: Option<String>,
}

/// The answer to a POP3 command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Response {
    pub status: Pop3Status,
    /// Data lines of a multi-line `+OK` answer, dot-stuffing removed.
    pub lines: Vec<String>,
    /// `+ …`: a SASL challenge (RFC 5034 §4); `status` is then a placeholder `+OK`.
    pub continuation: Option<String>,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// Between taking the TCP stream for a handshake and getting the TLS stream back.
    Gone,
}

/// A connection being probed. See the module docs.
pub struct Session {
    stream: Stream,
    buf: Vec<u8>,
    started: Instant,
    transcript: Vec<TranscriptLine>,
    step: Duration,
    deadline_at: Instant,
    read_total: usize,
    next_tag: u32,
    tls: Option<TlsInfo>,
    tls_problems: Vec<String>,
    capabilities: Vec<String>,
    sasl: Vec<String>,
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
            started,
            transcript: Vec::new(),
            step: net.cfg.timeout,
            deadline_at: net.started + net.cfg.deadline,
            read_total: 0,
            next_tag: 1,
            tls: None,
            tls_problems: Vec::new(),
            capabilities: Vec::new(),
            sasl: Vec::new(),
            max_line: MAX_LINE,
            max_total: MAX_TOTAL,
        }
    }

    /// The per-step timeout, cut to what is left of the run's deadline.
    pub fn step_timeout(&self) -> Duration {
        self.step
            .min(self.deadline_at.saturating_duration_since(Instant::now()))
    }

    fn t_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Every line so far, credentials already redacted.
    pub fn transcript(&self) -> &[TranscriptLine] {
        &self.transcript
    }

    pub fn take_transcript(&mut self) -> Vec<TranscriptLine> {
        std::mem::take(&mut self.transcript)
    }

    /// Add a `*` note line (TLS established, timeout, …).
    pub fn note(&mut self, text: impl Into<String>) {
        let t_ms = self.t_ms();
        self.transcript.push(TranscriptLine {
            t_ms,
            dir: "*".into(),
            line: text.into(),
        });
    }

    fn record(&mut self, dir: &str, line: String) {
        let t_ms = self.t_ms();
        self.transcript.push(TranscriptLine {
            t_ms,
            dir: dir.into(),
            line,
        });
    }

    /// The TLS facts once [`start_tls`](Self::start_tls) succeeded.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// One sentence per certificate problem of the TLS session (empty when verified).
    pub fn tls_problems(&self) -> &[String] {
        &self.tls_problems
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Capabilities the dialogue saw last (IMAP CAPABILITY, POP3 CAPA lines, EHLO keywords).
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// SASL mechanisms the dialogue saw last, upper-cased.
    pub fn sasl(&self) -> &[String] {
        &self.sasl
    }

    pub fn set_capabilities(&mut self, caps: Vec<String>, sasl: Vec<String>) {
        self.capabilities = caps;
        self.sasl = sasl;
    }

    /// Send one line (CRLF appended), recorded per `redact`.
    pub async fn send_line(&mut self, line: &str, redact: Redact) -> io::Result<()> {
        self.record("C", redact_line(line, redact));
        let mut data = Vec::with_capacity(line.len() + 2);
        data.extend_from_slice(line.as_bytes());
        data.extend_from_slice(b"\r\n");
        let limit = self.step_timeout();
        let write = async {
            match &mut self.stream {
                Stream::Plain(s) => {
                    s.write_all(&data).await?;
                    s.flush().await
                }
                Stream::Tls(s) => {
                    s.write_all(&data).await?;
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
                    self.record("S", partial);
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
                self.record("S", partial);
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
                self.record("S", shown);
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
        self.record("S", format!("{head}…"));
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
    async fn read_bytes_until(&mut self, n: usize, until: Instant) -> Result<(), SessionError> {
        if n > self.max_total {
            return Err(SessionError::TooMuchData(self.max_total));
        }
        while self.buf.len() < n {
            self.fill(until).await?;
        }
        self.buf.drain(..n);
        self.note(format!("{n} bytes of literal data"));
        Ok(())
    }

    /// Tag for the next IMAP command: `a1`, `a2`, …
    pub fn next_tag(&mut self) -> String {
        let t = format!("a{}", self.next_tag);
        self.next_tag += 1;
        t
    }

    /// Send `TAG cmd` and read up to the tagged completion (or a continuation request), all
    /// within one step timeout. `redact` applies to the whole line, tag included.
    pub async fn imap_command(
        &mut self,
        cmd: &str,
        redact: Redact,
    ) -> Result<ImapResponse, SessionError> {
        let tag = self.next_tag();
        let line = format!("{tag} {cmd}");
        self.send_line(&line, redact)
            .await
            .map_err(|e| SessionError::Io(e.to_string()))?;
        self.read_imap_response(&tag).await
    }

    /// Send a continuation line for command `tag` (SASL data) and read on.
    pub async fn imap_continue(
        &mut self,
        tag: &str,
        line: &str,
        redact: Redact,
    ) -> Result<ImapResponse, SessionError> {
        self.send_line(line, redact)
            .await
            .map_err(|e| SessionError::Io(e.to_string()))?;
        self.read_imap_response(tag).await
    }

    /// Read untagged lines until the completion for `tag` or a continuation request.
    pub async fn read_imap_response(&mut self, tag: &str) -> Result<ImapResponse, SessionError> {
        let until = Instant::now() + self.step_timeout();
        let mut untagged = Vec::new();
        loop {
            if untagged.len() > MAX_RESPONSE_LINES {
                return Err(SessionError::Protocol("too many untagged lines".into()));
            }
            let line = self.read_line_until(until).await?;
            // RFC 9051 §4.3: a literal's bytes follow the line; the response goes on after them.
            let mut shown = String::from_utf8_lossy(&line)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            let mut last = line.clone();
            while let Some(n) = imap::literal_len(&last) {
                self.read_bytes_until(n, until).await?;
                let more = self.read_line_until(until).await?;
                shown.push_str(&format!("<{n} bytes>"));
                shown.push_str(String::from_utf8_lossy(&more).trim_end_matches(['\r', '\n']));
                last = more;
            }
            match imap::parse_line(shown.as_bytes()) {
                Ok(ImapLine::Tagged {
                    tag: t,
                    status,
                    code,
                    text,
                }) if t == tag => {
                    return Ok(ImapResponse {
                        tag: t,
                        untagged,
                        status,
                        code,
                        text,
                        continuation: None,
                    });
                }
                Ok(ImapLine::Continuation(text)) => {
                    return Ok(ImapResponse {
                        tag: tag.to_string(),
                        untagged,
                        status: ImapStatus::Ok,
                        code: None,
                        text: String::new(),
                        continuation: Some(text),
                    });
                }
                Ok(ImapLine::UntaggedStatus {
                    status: ImapStatus::Bye,
                    text,
                    ..
                }) => {
                    // RFC 9051 §7.1.5: BYE before the tagged reply means the server is leaving;
                    // keep reading, the tagged reply (e.g. to LOGOUT) may still follow.
                    untagged.push(format!("BYE {text}"));
                }
                Ok(ImapLine::UntaggedStatus { status, code, text }) => {
                    let code = code.map(|c| format!("[{c}] ")).unwrap_or_default();
                    untagged.push(format!("{} {code}{text}", status.as_str()));
                }
                Ok(ImapLine::Untagged(data)) => untagged.push(data),
                Ok(ImapLine::Tagged { tag: t, .. }) => {
                    return Err(SessionError::Protocol(format!("reply for unknown tag {t}")));
                }
                Err(e) => return Err(SessionError::Protocol(e.to_string())),
            }
        }
    }

    /// Send a POP3 command and read its status line, and for `multiline` the data block after
    /// a `+OK` (RFC 1939 §3). `+ …` SASL challenges come back as `continuation`.
    pub async fn pop3_command(
        &mut self,
        cmd: &str,
        redact: Redact,
        multiline: bool,
    ) -> Result<Pop3Response, SessionError> {
        self.send_line(cmd, redact)
            .await
            .map_err(|e| SessionError::Io(e.to_string()))?;
        self.read_pop3_response(multiline).await
    }

    /// Read a POP3 status line (and block). Also reads the greeting (`multiline` false).
    pub async fn read_pop3_response(
        &mut self,
        multiline: bool,
    ) -> Result<Pop3Response, SessionError> {
        let until = Instant::now() + self.step_timeout();
        let line = self.read_line_until(until).await?;
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if text == "+" || text.starts_with("+ ") {
            let status = Pop3Status {
                ok: true,
                code: None,
                text: String::new(),
            };
            let cont = text.get(2..).unwrap_or("").to_string();
            return Ok(Pop3Response {
                status,
                lines: Vec::new(),
                continuation: Some(cont),
            });
        }
        let status =
            pop3::parse_status(&line).map_err(|e| SessionError::Protocol(e.to_string()))?;
        let mut lines = Vec::new();
        if multiline && status.ok {
            loop {
                if lines.len() > MAX_RESPONSE_LINES {
                    return Err(SessionError::Protocol(
                        "too many lines in a multi-line answer".into(),
                    ));
                }
                match pop3::block_line(&self.read_line_until(until).await?) {
                    BlockLine::End => break,
                    BlockLine::Data(d) => lines.push(d),
                }
            }
        }
        Ok(Pop3Response {
            status,
            lines,
            continuation: None,
        })
    }

    /// Send an SMTP command and read the whole reply.
    pub async fn smtp_command(
        &mut self,
        cmd: &str,
        redact: Redact,
    ) -> Result<SmtpReply, SessionError> {
        self.send_line(cmd, redact)
            .await
            .map_err(|e| SessionError::Io(e.to_string()))?;
        self.read_smtp_reply().await
    }

    /// Read one (multi-line) SMTP reply, e.g. the greeting (RFC 5321 §4.2.1).
    pub async fn read_smtp_reply(&mut self) -> Result<SmtpReply, SessionError> {
        let until = Instant::now() + self.step_timeout();
        let mut lines = Vec::new();
        loop {
            if lines.len() > MAX_RESPONSE_LINES {
                return Err(SessionError::Protocol("too many lines in one reply".into()));
            }
            let line = self.read_line_until(until).await?;
            let (_, last) =
                smtp::line_code(&line).map_err(|e| SessionError::Protocol(e.to_string()))?;
            lines.push(line);
            if last {
                return smtp::parse_reply(&lines)
                    .map_err(|e| SessionError::Protocol(e.to_string()));
            }
        }
    }

    /// TLS handshake on this connection: implicit TLS right after connect, or after a positive
    /// STARTTLS/STLS reply. Certificate problems do not fail the handshake; they are recorded in
    /// the returned [`TlsInfo`] (`verified`, `verify_error`).
    pub async fn start_tls(&mut self, net: &Net, server_name: &str) -> Result<TlsInfo, TlsError> {
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
        match netglue::handshake(net, tcp, server_name).await {
            Ok(hs) => {
                let info = hs.info;
                let verdict = if hs.problems.is_empty() {
                    "certificate verified".to_string()
                } else {
                    format!("certificate NOT verified: {}", hs.problems.join("; "))
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

    #[test]
    fn redaction() {
        let cases: &[(&str, Redact, &str)] = &[
            (
                "a1 LOGIN alice secret",
                Redact::KeepWords(3),
                "a1 LOGIN alice <redacted>",
            ),
            (
                "a1 LOGIN alice \"two words\"",
                Redact::KeepWords(3),
                "a1 LOGIN alice <redacted>",
            ),
            (
                "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
                Redact::KeepWords(2),
                "AUTH PLAIN <redacted>",
            ),
            ("AUTH LOGIN", Redact::KeepWords(2), "AUTH LOGIN"),
            ("PASS secret", Redact::KeepWords(1), "PASS <redacted>"),
            ("YWxpY2U=", Redact::All, "<redacted>"),
            ("a2 CAPABILITY", Redact::No, "a2 CAPABILITY"),
        ];
        for (line, r, want) in cases {
            assert_eq!(redact_line(line, *r), *want);
        }
    }
}
