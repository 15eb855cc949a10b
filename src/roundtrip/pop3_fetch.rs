//! Waiting for the test message over POP3 when that is the only incoming protocol. A POP3
//! session sees the maildrop as it was at login (RFC 1939 §8), so each poll is a new session;
//! the message is recognised by `TOP n 0` (RFC 1939 §7) — its `Message-ID` and its
//! `X-Mailprobe-Token` both match — and removed with `DELE` of that number only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::Authenticator;
use crate::model::{Deletion, Setting};
use crate::net::Net;
use crate::proto::pop3::{self, Command};
use crate::proto::{Pop3Response, Session};

use super::RoundtripError;
use super::headers;
use super::imap_fetch::{Found, Ours};

/// One command that must be answered `+OK`; its answer, or the `-ERR` as the error.
async fn cmd(conn: &mut Session, c: Command<'_>) -> Result<Pop3Response, RoundtripError> {
    let r = conn.pop3(&c).await?;
    if r.is_ok() {
        Ok(r)
    } else {
        let code = r.status.code.map(|c| format!("[{c}] ")).unwrap_or_default();
        Err(RoundtripError::Rejected(format!(
            "{}: -ERR {code}{}",
            c.command(),
            r.status.text
        )))
    }
}

/// Poll until our message shows up or `wait` runs out; delete it unless `keep`.
pub async fn wait_and_fetch(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
    ours: Ours<'_>,
    wait: Duration,
    keep: bool,
) -> Found {
    let mut found = Found {
        folder: Some("INBOX".into()),
        method: Some("polling".into()),
        ..Default::default()
    };
    let deadline = Instant::now() + wait;
    let mut backoff = Duration::from_millis(200);
    loop {
        match poll(net, server, auth, ours, keep, &mut found).await {
            Ok(true) => return found,
            Ok(false) => {}
            Err(e) => {
                found.error = Some(e);
                return found;
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            found.error = Some(RoundtripError::NotArrived(wait.as_secs()));
            return found;
        }
        tokio::time::sleep(backoff.min(left)).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// One session: log in, look at every message's header (newest first), act, QUIT.
async fn poll(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
    ours: Ours<'_>,
    keep: bool,
    found: &mut Found,
) -> Result<bool, RoundtripError> {
    let (attempts, opened) = match super::open_mailbox(net, server, auth).await {
        Ok((o, attempts)) => (attempts, Ok(o)),
        Err((attempts, why)) => (attempts, Err(why)),
    };
    // Polling logs in again each round: the report keeps the first round's attempts.
    if found.auth.is_empty() {
        found.auth = attempts;
    }
    let mut o = opened?;
    let conn = &mut o;
    let stat = cmd(conn, Command::Stat).await?;
    let count = pop3::parse_stat(&stat.status.text).map_or(0, |(n, _)| n);
    let mut hit = None;
    for n in (1..=count).rev().take(50) {
        let r = conn.pop3(&Command::TopHeader(n)).await?;
        if !r.is_ok() {
            break;
        }
        let mut header = r.lines.join("\r\n").into_bytes();
        header.extend_from_slice(b"\r\n\r\n");
        if headers::is_ours(&header, ours.message_id, ours.token) {
            hit = Some((n, header));
            break;
        }
    }
    if let Some((n, header)) = hit {
        found.found_at = Some(Instant::now());
        found.header = header;
        found.deletion = Some(if keep {
            Deletion::Kept
        } else if cmd(conn, Command::Dele(n)).await.is_ok() {
            Deletion::Deleted
        } else {
            Deletion::Failed
        });
    }
    // QUIT commits the DELE (RFC 1939 §6, UPDATE state).
    let quit = cmd(conn, Command::Quit).await;
    if quit.is_err() && found.deletion == Some(Deletion::Deleted) {
        found.deletion = Some(Deletion::Failed);
    }
    conn.close().await;
    Ok(found.found_at.is_some())
}
