//! Mailbox work over a [`Session`] beyond the probe dialogue, for the round trip: an IMAP
//! command whose literals are kept (`UID FETCH … BODY.PEEK[HEADER]`, RFC 9051 §4.3), one IDLE
//! cycle (RFC 2177) and raw message data after SMTP `DATA` (RFC 5321 §4.1.1.4). Every read stays
//! under the session's caps and a timeout.

use std::io;
use std::time::{Duration, Instant};

use super::commands::Literal;
use super::{ImapResponse, Redact, Session, SessionError};

/// Largest literal kept: the header of the round trip's test message is a few KiB; 4 MiB leaves
/// room for servers that add long trace headers, and no more.
pub const MAX_LITERAL: usize = 4 * 1024 * 1024;
/// Most bytes read over one mailbox session of the round trip (set as [`Session::max_total`]):
/// polling until `--wait` runs out, up to 50 POP3 `TOP` headers, or a header literal.
pub const MAILBOX_MAX_TOTAL: usize = 16 * 1024 * 1024;

impl Session {
    /// Send `TAG cmd` and read its whole response, keeping every literal in it (at most
    /// [`MAX_LITERAL`] bytes each) with the line that announced it; the transcript notes only
    /// their length.
    pub async fn imap_command_literals(
        &mut self,
        cmd: &str,
    ) -> Result<(ImapResponse, Vec<Literal>), SessionError> {
        let tag = self.next_tag();
        self.send_line(&format!("{tag} {cmd}"), Redact::No)
            .await
            .map_err(|e| SessionError::Io(e.to_string()))?;
        self.read_imap_collect(&tag, Some(MAX_LITERAL)).await
    }

    /// One IDLE cycle (RFC 2177 §3): wait at most `dur` for the server to say something (`* N
    /// EXISTS` as mail arrives), then `DONE` and the tagged completion. A server that refuses
    /// IDLE (tagged NO/BAD) costs a plain sleep of `dur` instead. Returns whether it idled.
    pub async fn imap_idle(&mut self, dur: Duration) -> Result<bool, SessionError> {
        let r = self.imap_command("IDLE", Redact::No).await?;
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
        self.send_line("DONE", Redact::No)
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
            .imap_command_literals("UID FETCH 7 BODY.PEEK[HEADER]")
            .await
            .unwrap();
        assert_eq!(r.status, crate::probe::imap::ImapStatus::Ok);
        assert_eq!(lits.len(), 1);
        assert!(lits[0].0.ends_with("BODY[HEADER] {8}"), "{}", lits[0].0);
        assert_eq!(lits[0].1, b"A: b\r\n\r\n");
        assert!(s.transcript().iter().all(|l| !l.line.contains("A: b")));

        let big = format!("* 1 FETCH (BODY[HEADER] {{{}}}\r\n", MAX_LITERAL + 1);
        let mut s = session_to(big.into_bytes()).await;
        let e = s
            .imap_command_literals("UID FETCH 7 BODY.PEEK[HEADER]")
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
