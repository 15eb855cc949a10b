//! The wire side of a login: the line interface the login dialogues run on ([`Wire`],
//! implemented here by [`Session`] and, in the login unit tests, by a scripted wire), and what
//! each server line means inside a login ([`classify`]): a SASL challenge (IMAP `+`, RFC 9051
//! §7.5; POP3 `+`, RFC 5034 §4; SMTP `334`, RFC 4954 §4), success, failure, or a line to skip.
//!
//! A refused login's answer is read by [`response_codes`]: IMAP/POP3 bracketed codes (RFC 5530,
//! RFC 2449 §8, RFC 3206), an `[ALERT]` text (RFC 9051 §7.1), the SMTP reply code (RFC 5321
//! §4.2) and RFC 3463 enhanced codes, for the auth stage's table of what a refusal means.
//!
//! Each sent line carries its [`Redact`] flag, which the typed commands supply
//! ([`imap::Command::redact`](super::imap::Command::redact), …), so no credential reaches a
//! transcript.

use std::future::Future;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::session::{Session, SessionError};
use super::transcript::Redact;
use crate::model::Protocol;

/// Why a line could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    Closed,
    Timeout,
    Other(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Closed => f.write_str("the server closed the connection"),
            WireError::Timeout => f.write_str("timed out waiting for the server"),
            WireError::Other(e) => f.write_str(e),
        }
    }
}

/// What protects a connection, as the connection itself knows it (never as a caller says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// No TLS.
    Plain,
    /// TLS whose certificate verified for the name asked for.
    Verified,
    /// TLS whose certificate did not verify: why (expired, wrong name, self-signed, …).
    Unverified(String),
}

/// Line I/O the login dialogues need.
pub trait Wire: Send {
    /// What protects the connection right now; credentials depend on it.
    fn channel(&self) -> Channel;
    /// Register one form of a secret the client is about to send (the password, a token, a
    /// SASL response): a transcript stores none of them, in either direction.
    fn hide(&mut self, form: &str);
    /// Send one line, stored in a transcript as `redact` says.
    fn send_line(
        &mut self,
        line: &str,
        redact: Redact,
    ) -> impl Future<Output = Result<(), WireError>> + Send;
    /// One line from the server, without its CRLF.
    fn recv_line(&mut self) -> impl Future<Output = Result<String, WireError>> + Send;
    /// A fresh IMAP tag for this connection.
    fn next_tag(&mut self) -> String;
}

impl Wire for Session {
    fn channel(&self) -> Channel {
        match self.tls() {
            None => Channel::Plain,
            Some(t) if t.verified && self.tls_problems().is_empty() => Channel::Verified,
            Some(t) => {
                let code = t.verify_error.as_deref().unwrap_or("unknown reason");
                let detail = super::transport::describe(self.tls_problems());
                Channel::Unverified(if detail.is_empty() {
                    code.to_string()
                } else {
                    format!("{code}: {detail}")
                })
            }
        }
    }
    fn hide(&mut self, form: &str) {
        Session::hide(self, form)
    }
    async fn send_line(&mut self, line: &str, redact: Redact) -> Result<(), WireError> {
        Session::send_line(self, line, redact)
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

/// The line that cancels a SASL exchange (RFC 4954 §4, RFC 9051 §6.2.2, RFC 5034 §4).
pub(crate) const SASL_CANCEL: &str = "*";

/// An initial response sent on the command line: base64, `=` for an empty one (RFC 4959 §3,
/// RFC 4954 §4, RFC 5034 §4).
pub(crate) fn initial_response(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "=".to_string()
    } else {
        B64.encode(bytes)
    }
}

/// A response to a challenge, on a line of its own: base64, an empty line for an empty one.
pub(crate) fn challenge_response(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// What a server line means inside a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginLine {
    /// Send the next SASL response (the challenge, base64).
    Challenge(String),
    Success,
    Failure,
    /// Untagged IMAP data or an SMTP continuation line (`535-…`): read on.
    Other,
}

/// Classify one server line of a login (pure; `tag` is the IMAP command's tag).
pub(crate) fn classify(protocol: Protocol, tag: &str, line: &str) -> LoginLine {
    match protocol {
        Protocol::Imap => {
            if let Some(rest) = line.strip_prefix('+') {
                return LoginLine::Challenge(rest.trim().to_string());
            }
            let mut it = line.splitn(3, ' ');
            if it.next() == Some(tag) {
                return match it.next().map(str::to_ascii_uppercase).as_deref() {
                    Some("OK") => LoginLine::Success,
                    _ => LoginLine::Failure,
                };
            }
            LoginLine::Other
        }
        // RFC 1939 §3 / RFC 5034 §4: `+OK`, `-ERR`, or `+ ` and a challenge.
        Protocol::Pop3 => {
            if line.starts_with("+OK") {
                LoginLine::Success
            } else if line.starts_with("-ERR") {
                LoginLine::Failure
            } else if let Some(rest) = line.strip_prefix('+') {
                LoginLine::Challenge(rest.trim().to_string())
            } else {
                LoginLine::Failure
            }
        }
        // RFC 4954 §4: 334 and a challenge; 235 (any 2yz) success; a multi-line reply's
        // non-final lines are collected by the caller.
        Protocol::Smtp => {
            if line.as_bytes().get(3) == Some(&b'-') {
                return LoginLine::Other;
            }
            match line.get(..3) {
                Some("334") => LoginLine::Challenge(line.get(4..).unwrap_or("").trim().to_string()),
                Some(c) if c.starts_with('2') => LoginLine::Success,
                _ => LoginLine::Failure,
            }
        }
    }
}

/// The codes in a server's final answer to a login, whatever its protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResponseCodes {
    /// The first word of each bracketed code: `NO [AUTHENTICATIONFAILED] x` →
    /// `AUTHENTICATIONFAILED`; `-ERR [SYS/TEMP] x` → `SYS/TEMP`.
    pub bracketed: Vec<String>,
    /// The text after `[ALERT]`, which RFC 9051 §7.1 says to show to the user.
    pub alert: Option<String>,
    /// The SMTP reply code, when the answer starts with one (`535 …`, `535-…`).
    pub smtp: Option<u16>,
    /// Every RFC 3463 enhanced status code `c.s.d` in the text.
    pub enhanced: Vec<String>,
}

/// Read the codes of a login's final answer (pure; never panics on any text).
pub(crate) fn response_codes(s: &str) -> ResponseCodes {
    let t = s.trim_start();
    let smtp = t
        .get(..3)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
        .filter(|_| t.as_bytes().get(3).is_none_or(|b| matches!(b, b' ' | b'-')))
        .and_then(|c| c.parse().ok());
    let enhanced = s
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| is_enhanced(w))
        .map(str::to_string)
        .collect();
    ResponseCodes {
        bracketed: bracket_codes(s),
        alert: alert_text(s),
        smtp,
        enhanced,
    }
}

fn bracket_codes(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('[') {
        let after = &rest[i + 1..];
        let Some(j) = after.find(']') else { break };
        if let Some(w) = after[..j].split_whitespace().next() {
            out.push(w.to_string());
        }
        rest = &after[j + 1..];
    }
    out
}

fn alert_text(s: &str) -> Option<String> {
    let i = s.to_ascii_uppercase().find("[ALERT]")?;
    let t = s.get(i + 7..)?.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// RFC 3463 §2: class "." subject "." detail, class 2/4/5, up to 3 digits each.
fn is_enhanced(w: &str) -> bool {
    let parts: Vec<&str> = w.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        assert_eq!(initial_response(b""), "=");
        assert_eq!(initial_response(b"\0al\0pw"), "AGFsAHB3");
        assert_eq!(challenge_response(b""), "");
        assert_eq!(challenge_response(b"al"), "YWw=");
    }

    #[test]
    fn codes_of_refusals() {
        assert_eq!(response_codes("535-5.7.8 x").smtp, Some(535));
        let c = response_codes("535 5.7.8 x");
        assert_eq!(
            (c.smtp, c.enhanced.as_slice()),
            (Some(535), &["5.7.8".to_string()][..])
        );
        assert_eq!(response_codes("a1 NO x").smtp, None);
        assert_eq!(response_codes("535 5.7.139 x").enhanced, ["5.7.139"]);
        assert!(!is_enhanced("1.2.3") && !is_enhanced("5.7") && is_enhanced("4.7.0"));
        assert_eq!(response_codes("NO [A b] [C]").bracketed, ["A", "C"]);
        assert_eq!(
            response_codes("a1 NO [ALERT] Please use an app password")
                .alert
                .as_deref(),
            Some("Please use an app password")
        );
        assert_eq!(response_codes("[ALERT]").alert, None);
        assert_eq!(response_codes("ü535 5.7.8").smtp, None);
    }

    #[test]
    fn classify_table() {
        use LoginLine::*;
        let cases: &[(Protocol, &str, LoginLine)] = &[
            (
                Protocol::Imap,
                "+ VXNlcm5hbWU6",
                Challenge("VXNlcm5hbWU6".into()),
            ),
            (Protocol::Imap, "+", Challenge(String::new())),
            (
                Protocol::Imap,
                "t1 OK [CAPABILITY IMAP4rev1] Logged in",
                Success,
            ),
            (Protocol::Imap, "t1 NO [AUTHENTICATIONFAILED] x", Failure),
            (Protocol::Imap, "* CAPABILITY IMAP4rev1", Other),
            (Protocol::Pop3, "+OK Logged in.", Success),
            (Protocol::Pop3, "+ ", Challenge(String::new())),
            (Protocol::Pop3, "-ERR [AUTH] no", Failure),
            (Protocol::Pop3, "garbage", Failure),
            (
                Protocol::Smtp,
                "334 VXNlcm5hbWU6",
                Challenge("VXNlcm5hbWU6".into()),
            ),
            (
                Protocol::Smtp,
                "235 2.7.0 Authentication successful",
                Success,
            ),
            (Protocol::Smtp, "535-5.7.8 first", Other),
            (Protocol::Smtp, "535 5.7.8 last", Failure),
        ];
        for (p, line, want) in cases {
            assert_eq!(classify(*p, "t1", line), *want, "{line}");
        }
    }

    proptest::proptest! {
        /// Any line: no panic, a challenge is never longer than the line, and the codes read
        /// from it are no more text than it has.
        #[test]
        fn parsers_are_total(line in proptest::prelude::any::<String>()) {
            for p in [Protocol::Imap, Protocol::Pop3, Protocol::Smtp] {
                if let LoginLine::Challenge(c) = classify(p, "t1", &line) {
                    proptest::prop_assert!(c.len() <= line.len());
                }
            }
            let c = response_codes(&line);
            proptest::prop_assert!(c.bracketed.iter().map(String::len).sum::<usize>() <= line.len());
            proptest::prop_assert!(c.enhanced.iter().map(String::len).sum::<usize>() <= line.len());
            proptest::prop_assert!(c.alert.is_none_or(|a| a.len() <= line.len()));
        }
    }
}
