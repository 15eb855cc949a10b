//! The probe's login hook: [`Authenticator`] logs in on the probe's own [`Session`] (so the
//! attempts land in the probe's transcript, redacted), through the [`Wire`] trait.

use std::future::Future;
use std::pin::Pin;

use super::login::{Wire, WireError};
use super::{Authenticator, Target};
use crate::probe::LoginHook;
use crate::probe::session::{Redact, Session, SessionError};
use crate::report::model::Candidate;
use crate::report::probe::AuthAttempt;

/// How much of a credential-carrying line the transcript keeps: the command words, never the
/// data (`a3 AUTHENTICATE PLAIN <redacted>`, `AUTH PLAIN <redacted>`, `a4 LOGIN <redacted>`,
/// `PASS <redacted>`; a bare SASL continuation becomes `<redacted>`).
pub fn redaction(line: &str) -> Redact {
    let words: Vec<&str> = line.split(' ').collect();
    let up = |i: usize| {
        words
            .get(i)
            .map(|w| w.to_ascii_uppercase())
            .unwrap_or_default()
    };
    if up(0) == "AUTH" {
        Redact::KeepWords(2)
    } else if up(1) == "AUTHENTICATE" {
        Redact::KeepWords(3)
    } else if up(1) == "LOGIN" {
        Redact::KeepWords(2)
    } else if up(0) == "PASS" {
        Redact::KeepWords(1)
    } else {
        Redact::All
    }
}

impl Wire for Session {
    async fn send_line(&mut self, line: &str, secret: bool) -> Result<(), WireError> {
        let r = if secret { redaction(line) } else { Redact::No };
        Session::send_line(self, line, r)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::TimedOut => WireError::Timeout,
                std::io::ErrorKind::NotConnected
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset => WireError::Closed,
                _ => WireError::Other(e.to_string()),
            })
    }
    async fn recv_line(&mut self) -> Result<String, WireError> {
        match Session::read_line(self).await {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes)
                .trim_end_matches(['\r', '\n'])
                .to_string()),
            Err(SessionError::Closed) => Err(WireError::Closed),
            Err(SessionError::Timeout(_)) => Err(WireError::Timeout),
            Err(e) => Err(WireError::Other(e.to_string())),
        }
    }
    fn next_tag(&mut self) -> String {
        Session::next_tag(self)
    }
}

impl LoginHook for Authenticator {
    fn login<'a>(
        &'a self,
        session: &'a mut Session,
        candidate: &'a Candidate,
        caps: &'a [String],
        sasl: &'a [String],
    ) -> Pin<Box<dyn Future<Output = Vec<AuthAttempt>> + Send + 'a>> {
        Box::pin(async move {
            let target = Target {
                protocol: candidate.protocol,
                host: &candidate.host,
                port: candidate.port,
                security: candidate.security,
                tls_active: session.is_tls(),
                discovered_user: candidate.username.as_deref(),
            };
            self.login_on(session, &target, caps, sasl).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::session::redact_line;

    #[test]
    fn redaction_table() {
        let cases = [
            (
                "a3 AUTHENTICATE PLAIN AGFsaWNlAHB3",
                "a3 AUTHENTICATE PLAIN <redacted>",
            ),
            ("AUTH PLAIN AGFsaWNlAHB3", "AUTH PLAIN <redacted>"),
            ("a4 LOGIN \"alice\" \"pw\"", "a4 LOGIN <redacted>"),
            ("PASS hunter2", "PASS <redacted>"),
            ("YWxpY2U=", "<redacted>"),
        ];
        for (line, want) in cases {
            assert_eq!(redact_line(line, redaction(line)), want);
        }
    }
}
