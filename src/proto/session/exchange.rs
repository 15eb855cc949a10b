//! Protocol commands over a [`Session`]: one IMAP, POP3 or SMTP command and its whole
//! response, bounded by one step timeout for the whole response (so a server that drips a
//! multi-line answer cannot stretch it), and framed by the pure parsers; plus the mailbox work
//! of the round trip (IMAP literals kept, IDLE, SMTP message data).

use std::io;
use std::time::{Duration, Instant};

use super::{MAX_RESPONSE_LINES, Session, SessionError};
use crate::proto::imap::{self, ImapLine, ImapStatus};
use crate::proto::pop3::{self, BlockLine, Pop3Status};
use crate::proto::smtp::{self, SmtpReply};
use crate::proto::transcript::Redact;

/// Largest literal kept: the header of the round trip's test message is a few KiB; 4 MiB leaves
/// room for servers that add long trace headers, and no more.
pub const MAX_LITERAL: usize = 4 * 1024 * 1024;
/// Most bytes read over one mailbox session of the round trip (set as [`Session::max_total`]):
/// polling until `--wait` runs out, up to 50 POP3 `TOP` headers, or a header literal.
pub const MAILBOX_MAX_TOTAL: usize = 16 * 1024 * 1024;

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

impl ImapResponse {
    /// A tagged `OK` (not a continuation request).
    pub fn is_ok(&self) -> bool {
        self.status == ImapStatus::Ok && self.continuation.is_none()
    }

    /// The capabilities in an untagged `CAPABILITY` response, else in the completion's
    /// `[CAPABILITY …]` code (RFC 9051 §7.1, §7.2.2).
    pub fn capabilities(&self) -> Option<imap::Capabilities> {
        self.untagged
            .iter()
            .find_map(|u| imap::capabilities_from_untagged(u))
            .or_else(|| self.code.as_deref().and_then(imap::capabilities_from_code))
    }

    /// The completion as the server wrote it, without the tag: `NO [CODE] text`.
    pub fn status_line(&self) -> String {
        let code = self
            .code
            .as_ref()
            .map(|c| format!("[{c}] "))
            .unwrap_or_default();
        format!("{} {code}{}", self.status.as_str(), self.text)
    }
}

/// An IMAP literal kept by [`Session::imap_command_literals`]: the line text that announced
/// it (ending in `{N}`) and its bytes.
pub type Literal = (String, Vec<u8>);

/// The answer to a POP3 command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Response {
    pub status: Pop3Status,
    /// Data lines of a multi-line `+OK` answer, dot-stuffing removed.
    pub lines: Vec<String>,
    /// `+ …`: a SASL challenge (RFC 5034 §4); `status` is then a placeholder `+OK`.
    pub continuation: Option<String>,
}

impl Pop3Response {
    /// `+OK` (not a SASL challenge).
    pub fn is_ok(&self) -> bool {
        self.status.ok && self.continuation.is_none()
    }
}

impl Session {
    /// Send a typed IMAP command and read its whole response ([`Session::imap_command`]).
    pub async fn imap(&mut self, cmd: &imap::Command<'_>) -> Result<ImapResponse, SessionError> {
        self.imap_command(&cmd.command(), cmd.redact()).await
    }

    /// Send a typed POP3 command and read its answer, with the block when it has one.
    pub async fn pop3(&mut self, cmd: &pop3::Command<'_>) -> Result<Pop3Response, SessionError> {
        self.pop3_command(&cmd.command(), cmd.redact(), cmd.multiline())
            .await
    }

    /// Send a typed SMTP command and read the whole reply.
    pub async fn smtp(&mut self, cmd: &smtp::Command<'_>) -> Result<SmtpReply, SessionError> {
        self.smtp_command(&cmd.command(), cmd.redact()).await
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
        Ok(self.read_imap_collect(tag, None).await?.0)
    }

    /// [`read_imap_response`](Self::read_imap_response) that, with `keep_literals: Some(max)`,
    /// also returns every literal in the response, in order (each at most `max` bytes), with
    /// the line (or line remainder) that announced it.
    pub(super) async fn read_imap_collect(
        &mut self,
        tag: &str,
        keep_literals: Option<usize>,
    ) -> Result<(ImapResponse, Vec<Literal>), SessionError> {
        let until = Instant::now() + self.step_timeout();
        let mut untagged = Vec::new();
        let mut literals = Vec::new();
        loop {
            if untagged.len() > MAX_RESPONSE_LINES {
                return Err(SessionError::Protocol("too many untagged lines".into()));
            }
            let shown = self
                .read_imap_line(until, keep_literals, &mut literals)
                .await?;
            match imap::parse_line(shown.as_bytes()) {
                Ok(ImapLine::Tagged {
                    tag: t,
                    status,
                    code,
                    text,
                }) if t == tag => {
                    let r = ImapResponse {
                        tag: t,
                        untagged,
                        status,
                        code,
                        text,
                        continuation: None,
                    };
                    return Ok((r, literals));
                }
                Ok(ImapLine::Continuation(text)) => {
                    let r = ImapResponse {
                        tag: tag.to_string(),
                        untagged,
                        status: ImapStatus::Ok,
                        code: None,
                        text: String::new(),
                        continuation: Some(text),
                    };
                    return Ok((r, literals));
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

    /// Read one response line with the literals it announces (RFC 9051 §4.3: a literal's bytes
    /// follow the line; the response goes on after them). Returns the line as shown, each
    /// literal replaced by `<N bytes>`; with `keep_literals: Some(max)` each literal (at most
    /// `max` bytes) is added to `literals` with the line text that announced it.
    async fn read_imap_line(
        &mut self,
        until: Instant,
        keep_literals: Option<usize>,
        literals: &mut Vec<Literal>,
    ) -> Result<String, SessionError> {
        let mut last = self.read_line_until(until).await?;
        let text = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .trim_end_matches(['\r', '\n'])
                .to_string()
        };
        let mut shown = text(&last);
        while let Some(n) = imap::literal_len(&last) {
            if let Some(max) = keep_literals {
                if n > max {
                    return Err(SessionError::TooMuchData(max));
                }
                let bytes = self.read_bytes_until(n, until).await?;
                literals.push((text(&last), bytes));
            } else {
                self.read_bytes_until(n, until).await?;
            }
            last = self.read_line_until(until).await?;
            shown.push_str(&format!("<{n} bytes>"));
            shown.push_str(&text(&last));
        }
        Ok(shown)
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
        if let Some(cont) = pop3::continuation(&line) {
            let status = Pop3Status {
                ok: true,
                code: None,
                text: String::new(),
            };
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

/// Mailbox work for the round trip: an IMAP command whose literals are kept (`UID FETCH …
/// BODY.PEEK[HEADER]`, RFC 9051 §4.3), one IDLE cycle (RFC 2177) and raw message data after
/// SMTP `DATA` (RFC 5321 §4.1.1.4).
impl Session {
    /// Send `TAG cmd` and read its whole response, keeping every literal in it (at most
    /// [`MAX_LITERAL`] bytes each) with the line that announced it; the transcript notes only
    /// their length.
    pub async fn imap_command_literals(
        &mut self,
        cmd: &imap::Command<'_>,
    ) -> Result<(ImapResponse, Vec<Literal>), SessionError> {
        let tag = self.next_tag();
        self.send_line(&cmd.tagged(&tag), cmd.redact())
            .await
            .map_err(|e| SessionError::Io(e.to_string()))?;
        self.read_imap_collect(&tag, Some(MAX_LITERAL)).await
    }

    /// One IDLE cycle (RFC 2177 §3): wait at most `dur` for the server to say something (`* N
    /// EXISTS` as mail arrives), then `DONE` and the tagged completion. A server that refuses
    /// IDLE (tagged NO/BAD) costs a plain sleep of `dur` instead. Returns whether it idled.
    pub async fn imap_idle(&mut self, dur: Duration) -> Result<bool, SessionError> {
        let r = self.imap(&imap::Command::Idle).await?;
        if r.continuation.is_none() {
            tokio::time::sleep(dur).await;
            return Ok(false);
        }
        let left = self
            .deadline_at
            .saturating_duration_since(Instant::now())
            .min(dur);
        match self.read_line_until(Instant::now() + left).await {
            Ok(_) | Err(SessionError::Timeout(_)) => {}
            Err(e) => return Err(e),
        }
        self.send_line(&imap::Command::Done.command(), Redact::No)
            .await
            .map_err(|e| SessionError::Io(e.to_string()))?;
        self.read_imap_response(&r.tag).await?;
        Ok(true)
    }

    /// Send raw bytes (an SMTP message body, already dot-stuffed and ended with `.` CRLF);
    /// the transcript records their length only.
    pub async fn send_data(&mut self, data: &[u8]) -> io::Result<()> {
        self.note(format!("{} bytes of message data", data.len()));
        self.write_all(data).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session to a local server that sends `data` and keeps the line open meanwhile.
    async fn session_to(data: Vec<u8>) -> Session {
        super::super::tests::serve(data, 4096, Duration::from_secs(3)).await
    }

    #[tokio::test]
    async fn literals_are_kept_with_their_line_and_capped() {
        let data = b"* 1 FETCH (UID 7 BODY[HEADER] {8}\r\nA: b\r\n\r\n)\r\na1 OK done\r\n";
        let mut s = session_to(data.to_vec()).await;
        let (r, lits) = s
            .imap_command_literals(&imap::Command::UidFetchHeader(7))
            .await
            .unwrap();
        assert_eq!(r.status, crate::proto::imap::ImapStatus::Ok);
        assert_eq!(lits.len(), 1);
        assert!(lits[0].0.ends_with("BODY[HEADER] {8}"), "{}", lits[0].0);
        assert_eq!(lits[0].1, b"A: b\r\n\r\n");
        assert!(s.transcript().iter().all(|l| !l.line.contains("A: b")));

        let big = format!("* 1 FETCH (BODY[HEADER] {{{}}}\r\n", MAX_LITERAL + 1);
        let mut s = session_to(big.into_bytes()).await;
        let e = s
            .imap_command_literals(&imap::Command::UidFetchHeader(7))
            .await
            .unwrap_err();
        assert_eq!(e, SessionError::TooMuchData(MAX_LITERAL));
    }

    #[tokio::test]
    async fn idle_returns_on_exists_then_done() {
        let data = b"+ idling\r\n* 4 EXISTS\r\na1 OK IDLE terminated\r\n";
        let mut s = session_to(data.to_vec()).await;
        let t = Instant::now();
        assert!(s.imap_idle(Duration::from_secs(2)).await.unwrap());
        assert!(t.elapsed() < Duration::from_secs(1));
        let sent: Vec<&str> = s
            .transcript()
            .iter()
            .filter(|l| l.dir == "C")
            .map(|l| l.line.as_str())
            .collect();
        assert_eq!(sent, ["a1 IDLE", "DONE"]);

        let mut s = session_to(b"a1 BAD no IDLE here\r\n".to_vec()).await;
        assert!(!s.imap_idle(Duration::from_millis(50)).await.unwrap());
    }
}
