//! Message submission (RFC 6409) through the working outgoing server, authenticated, with each
//! SMTP step timed and the queue id taken from the final `250` (RFC 5321 §4.1.1.4).

use std::sync::Arc;
use std::time::Instant;

use super::RoundtripError;
use crate::auth::Authenticator;
use crate::model::{AuthAttempt, Setting, Step, StepStatus};
use crate::net::Net;
use crate::proto::Session;
use crate::proto::session::MAX_TOTAL;
use crate::proto::smtp::{self, Command};

use super::message::dot_stuff;

/// What the submission did.
#[derive(Debug, Default)]
pub struct Submitted {
    pub steps: Vec<Step>,
    pub auth: Vec<AuthAttempt>,
    pub queue_id: Option<String>,
    /// When the final 250 arrived; `None` when the message was not accepted.
    pub accepted_at: Option<Instant>,
    pub error: Option<RoundtripError>,
}

/// Queue id in the final reply: Postfix `queued as X`, Exim `id=X`, Microsoft
/// `[InternalId=X`, Google's `OK <ts> X - gsmtp`.
pub fn queue_id(reply: &str) -> Option<String> {
    let clean = |s: &str| {
        s.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.')
            .to_string()
    };
    let lower = reply.to_ascii_lowercase();
    if let Some(i) = lower.find("queued as ") {
        return reply[i + 10..]
            .split_whitespace()
            .next()
            .map(clean)
            .filter(|s| !s.is_empty());
    }
    if let Some(i) = lower.find("internalid=") {
        return reply[i + 11..]
            .split([',', ']', ' '])
            .next()
            .map(clean)
            .filter(|s| !s.is_empty());
    }
    if let Some(w) = reply.split_whitespace().find_map(|w| w.strip_prefix("id=")) {
        return Some(clean(w)).filter(|s| !s.is_empty());
    }
    if lower.ends_with("- gsmtp") {
        let words: Vec<&str> = reply.split_whitespace().collect();
        return words.len().checked_sub(3).map(|i| words[i].to_string());
    }
    None
}

struct Steps {
    list: Vec<Step>,
    t: Instant,
}

impl Steps {
    fn push(&mut self, name: &str, ok: bool, detail: String) {
        let elapsed_ms = self.t.elapsed().as_millis() as u64;
        self.push_ms(name, ok, detail, elapsed_ms);
    }

    fn push_ms(&mut self, name: &str, ok: bool, detail: String, elapsed_ms: u64) {
        let status = if ok {
            StepStatus::Ok
        } else {
            StepStatus::Failed
        };
        self.list.push(Step {
            name: name.to_string(),
            status,
            elapsed_ms,
            detail: Some(detail),
        });
        self.t = Instant::now();
    }
}

/// Submit `msg` from `from` to `to` through `server`.
pub async fn submit(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
    from: &str,
    to: &str,
    msg: &[u8],
) -> Submitted {
    let mut out = Submitted::default();
    let mut steps = Steps {
        list: Vec::new(),
        t: Instant::now(),
    };
    let r = run(net, server, auth, from, to, msg, &mut steps, &mut out).await;
    if let Err(e) = r {
        out.error = Some(e);
    }
    out.steps = steps.list;
    out
}

#[allow(clippy::too_many_arguments)]
async fn run(
    net: &Arc<Net>,
    server: &Setting,
    auth: &Authenticator,
    from: &str,
    to: &str,
    msg: &[u8],
    steps: &mut Steps,
    out: &mut Submitted,
) -> Result<(), RoundtripError> {
    let c = super::candidate(server);
    let (probe, opened) = super::open_with_login(net, &c, auth, MAX_TOTAL).await;
    let mut session = match opened {
        Ok(s) => s,
        Err(e) => {
            steps.push("connect", false, e.to_string());
            return Err(e);
        }
    };
    // One dialogue opened and logged in: split its time between the two steps.
    let auth_ms = probe
        .steps
        .iter()
        .find(|s| s.name == "auth")
        .map_or(0, |s| s.elapsed_ms);
    let tls = if session.is_tls() {
        "(TLS)"
    } else {
        "(no TLS)"
    };
    let greeting = probe.greeting.unwrap_or_default();
    steps.push_ms(
        "connect",
        true,
        format!("{greeting} {tls}"),
        (steps.t.elapsed().as_millis() as u64).saturating_sub(auth_ms),
    );
    out.auth = probe.auth;
    let ok = out.auth.iter().any(|a| a.success);
    let last = out
        .auth
        .last()
        .and_then(|a| a.response.clone())
        .unwrap_or_else(|| "no login attempted".into());
    steps.push_ms("auth", ok, last.clone(), auth_ms);
    if !ok {
        quit(&mut session).await;
        return Err(RoundtripError::SubmitLogin(last));
    }
    let conn = &mut session;
    cmd(conn, steps, "mail-from", Command::MailFrom(from)).await?;
    cmd(conn, steps, "rcpt-to", Command::RcptTo(to)).await?;
    cmd(conn, steps, "data", Command::Data).await?;
    let mut payload = dot_stuff(msg);
    payload.extend_from_slice(b".\r\n");
    conn.send_data(&payload).await?;
    let r = conn.read_smtp_reply().await?;
    let reply = r.one_line();
    let accepted = r.code == smtp::code::OK;
    steps.push("message", accepted, reply.clone());
    if !accepted {
        quit(conn).await;
        return Err(RoundtripError::MessageRefused(reply));
    }
    out.accepted_at = Some(Instant::now());
    out.queue_id = queue_id(&reply);
    let t = Instant::now();
    quit(conn).await;
    steps.list.push(Step {
        name: "quit".into(),
        status: StepStatus::Ok,
        elapsed_ms: t.elapsed().as_millis() as u64,
        detail: None,
    });
    Ok(())
}

/// Send `c`; a reply other than its success code ends the submission.
async fn cmd(
    conn: &mut Session,
    steps: &mut Steps,
    name: &str,
    c: Command<'_>,
) -> Result<(), RoundtripError> {
    let r: smtp::SmtpReply = conn.smtp(&c).await?;
    let reply = r.one_line();
    let ok = r.code == c.expect();
    steps.push(name, ok, reply.clone());
    if ok {
        Ok(())
    } else {
        Err(RoundtripError::Refused {
            command: c.command().to_string(),
            reply,
        })
    }
}

async fn quit(conn: &mut Session) {
    let _ = conn.smtp(&Command::Quit).await;
    conn.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_id_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("250 2.0.0 Ok: queued as 4F3A2B1C0D", Some("4F3A2B1C0D")),
            ("250 OK id=1tGx7D-0001Ab-3c", Some("1tGx7D-0001Ab-3c")),
            (
                "250 2.6.0 <x@y> [InternalId=123456789, Hostname=AM0PR] Queued mail for delivery",
                Some("123456789"),
            ),
            (
                "250 2.0.0 OK  1732723200 a1b2c3d4e5f6si.12 - gsmtp",
                Some("a1b2c3d4e5f6si.12"),
            ),
            ("250 Ok", None),
        ];
        for (reply, want) in cases {
            assert_eq!(queue_id(reply).as_deref(), *want, "{reply}");
        }
    }
}
