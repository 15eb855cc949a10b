//! Protocol commands over a [`Session`]: one IMAP, POP3 or SMTP command and its whole
//! response, bounded by one step timeout for the whole response (so a server that drips a
//! multi-line answer cannot stretch it), and framed by the pure parsers.

use std::time::Instant;

use super::{MAX_RESPONSE_LINES, Redact, Session, SessionError};
use crate::probe::imap::{self, ImapLine, ImapStatus};
use crate::probe::pop3::{self, BlockLine, Pop3Status};
use crate::probe::smtp::{self, SmtpReply};

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

impl Session {
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
}
