//! SMTP commands as types (RFC 5321 §4.1.1, RFC 3207 `STARTTLS`, RFC 4954 `AUTH`), after
//! lettre's `transport/smtp/commands`: each knows its line ([`Command::command`]), the reply code
//! that means it went through ([`Command::expect`]) and how a transcript stores it
//! ([`Command::redact`]).

use crate::proto::transcript::Redact;

/// Reply codes the dialogues act on (RFC 5321 §4.2.2, §4.2.3; RFC 4954 §6).
pub mod code {
    /// `220`: service ready (greeting), or ready to start TLS (RFC 3207 §4).
    pub const READY: u16 = 220;
    /// `221`: closing the connection after QUIT.
    pub const CLOSING: u16 = 221;
    /// `235`: authentication succeeded (RFC 4954 §6).
    pub const AUTHENTICATED: u16 = 235;
    /// `250`: requested action completed (EHLO, MAIL, RCPT, the message after DATA).
    pub const OK: u16 = 250;
    /// `354`: start mail input after DATA.
    pub const START_INPUT: u16 = 354;
    /// `554` as a greeting: no SMTP service here for this client (RFC 5321 §3.1).
    pub const NO_SERVICE: u16 = 554;
}

/// One SMTP command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// RFC 5321 §4.1.1.1, with the client's name (an FQDN or an address literal).
    Ehlo(&'a str),
    /// RFC 5321 §4.1.1.1: the fallback for a server that refuses EHLO (§3.2).
    Helo(&'a str),
    /// RFC 3207 §4.
    StartTls,
    /// `AUTH MECH [initial-response]` (RFC 4954 §4; base64, `=` for an empty one).
    Auth {
        mechanism: &'a str,
        initial: Option<&'a str>,
    },
    /// `MAIL FROM:<addr>` (RFC 5321 §4.1.1.2).
    MailFrom(&'a str),
    /// `RCPT TO:<addr>` (RFC 5321 §4.1.1.3).
    RcptTo(&'a str),
    /// RFC 5321 §4.1.1.4.
    Data,
    /// RFC 5321 §4.1.1.5.
    Rset,
    /// RFC 5321 §4.1.1.9.
    Noop,
    /// RFC 5321 §4.1.1.10.
    Quit,
}

impl Command<'_> {
    pub fn command(&self) -> String {
        match *self {
            Command::Ehlo(name) => format!("EHLO {name}"),
            Command::Helo(name) => format!("HELO {name}"),
            Command::StartTls => "STARTTLS".into(),
            Command::Auth { mechanism, initial } => match initial {
                Some(ir) => format!("AUTH {mechanism} {ir}"),
                None => format!("AUTH {mechanism}"),
            },
            Command::MailFrom(a) => format!("MAIL FROM:<{a}>"),
            Command::RcptTo(a) => format!("RCPT TO:<{a}>"),
            Command::Data => "DATA".into(),
            Command::Rset => "RSET".into(),
            Command::Noop => "NOOP".into(),
            Command::Quit => "QUIT".into(),
        }
    }

    /// The code of success (RFC 5321 §4.3.2): 220 after STARTTLS, 354 after DATA, 221 after
    /// QUIT, 235 after AUTH (RFC 4954 §6), 250 otherwise.
    pub fn expect(&self) -> u16 {
        match self {
            Command::StartTls => code::READY,
            Command::Data => code::START_INPUT,
            Command::Quit => code::CLOSING,
            Command::Auth { .. } => code::AUTHENTICATED,
            _ => code::OK,
        }
    }

    /// `AUTH PLAIN <redacted>`; everything else as sent.
    pub fn redact(&self) -> Redact {
        match self {
            Command::Auth {
                initial: Some(_), ..
            } => Redact::KeepWords(2),
            _ => Redact::No,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::transcript::redact_line;

    #[test]
    fn lines_codes_and_redaction() {
        let cases: &[(Command, &str, u16, &str)] = &[
            (
                Command::Ehlo("mailprobe.invalid"),
                "EHLO mailprobe.invalid",
                250,
                "EHLO mailprobe.invalid",
            ),
            (Command::StartTls, "STARTTLS", 220, "STARTTLS"),
            (
                Command::Auth {
                    mechanism: "PLAIN",
                    initial: Some("AGFsAHB3"),
                },
                "AUTH PLAIN AGFsAHB3",
                235,
                "AUTH PLAIN <redacted>",
            ),
            (
                Command::MailFrom("a@example.test"),
                "MAIL FROM:<a@example.test>",
                250,
                "MAIL FROM:<a@example.test>",
            ),
            (
                Command::RcptTo("b@example.test"),
                "RCPT TO:<b@example.test>",
                250,
                "RCPT TO:<b@example.test>",
            ),
            (Command::Data, "DATA", 354, "DATA"),
            (Command::Quit, "QUIT", 221, "QUIT"),
        ];
        for (cmd, line, code, stored) in cases {
            assert_eq!(cmd.command(), *line);
            assert_eq!(cmd.expect(), *code);
            assert_eq!(redact_line(line, cmd.redact()), *stored);
        }
    }
}
