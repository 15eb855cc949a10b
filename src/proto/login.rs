//! The wire side of a login: the line interface the login dialogues run on ([`Wire`],
//! implemented here by [`Session`] and, in the login unit tests, by a scripted wire), and what
//! each server line means inside a login ([`classify`]): a SASL challenge (IMAP `+`, RFC 9051
//! §7.5; POP3 `+`, RFC 5034 §4; SMTP `334`, RFC 4954 §4), success, failure, or a line to skip.
//!
//! Each sent line carries its [`Redact`] flag, which the typed commands supply
//! ([`imap::Command::redact`](super::imap::Command::redact), …), so no credential reaches a
//! transcript.

use std::future::Future;

use super::session::{Session, SessionError};
use super::transcript::Redact;
use crate::report::Protocol;

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

/// Line I/O the login dialogues need.
pub trait Wire: Send {
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
pub fn classify(protocol: Protocol, tag: &str, line: &str) -> LoginLine {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        /// Any line: no panic, and a challenge is never longer than the line.
        #[test]
        fn classify_is_total(line in proptest::prelude::any::<String>()) {
            for p in [Protocol::Imap, Protocol::Pop3, Protocol::Smtp] {
                if let LoginLine::Challenge(c) = classify(p, "t1", &line) {
                    proptest::prop_assert!(c.len() <= line.len());
                }
            }
        }
    }
}
