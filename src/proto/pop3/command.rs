//! POP3 commands as types (RFC 1939 §5–§7, RFC 2449 `CAPA`, RFC 2595 `STLS`, RFC 5034 `AUTH`):
//! each knows its line ([`Command::command`]), whether a `+OK` answer is followed by a
//! multi-line block ([`Command::multiline`]) and how a transcript stores it
//! ([`Command::redact`]).

use crate::proto::transcript::Redact;

/// One POP3 command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// RFC 2449 §5.
    Capa,
    /// RFC 2595 §4.
    Stls,
    /// RFC 1939 §7.
    User(&'a str),
    /// RFC 1939 §7: the password in clear (inside TLS).
    Pass(&'a str),
    /// `AUTH MECH [initial-response]` (RFC 5034 §4; base64, `=` for an empty one).
    Auth {
        mechanism: &'a str,
        initial: Option<&'a str>,
    },
    /// RFC 1939 §5.
    Stat,
    /// `TOP n 0`: the header of message `n` (RFC 1939 §7).
    TopHeader(u32),
    /// RFC 1939 §6: marks message `n` deleted; QUIT commits it.
    Dele(u32),
    /// RFC 1939 §5.
    List,
    /// RFC 1939 §6.
    Quit,
}

impl Command<'_> {
    pub fn command(&self) -> String {
        match *self {
            Command::Capa => "CAPA".into(),
            Command::Stls => "STLS".into(),
            Command::User(u) => format!("USER {u}"),
            Command::Pass(p) => format!("PASS {p}"),
            Command::Auth { mechanism, initial } => match initial {
                Some(ir) => format!("AUTH {mechanism} {ir}"),
                None => format!("AUTH {mechanism}"),
            },
            Command::Stat => "STAT".into(),
            Command::TopHeader(n) => format!("TOP {n} 0"),
            Command::Dele(n) => format!("DELE {n}"),
            Command::List => "LIST".into(),
            Command::Quit => "QUIT".into(),
        }
    }

    /// A `+OK` answer carries a block ended by `.` (RFC 1939 §3).
    pub fn multiline(&self) -> bool {
        matches!(self, Command::Capa | Command::TopHeader(_) | Command::List)
    }

    /// `PASS <redacted>`, `AUTH PLAIN <redacted>`; everything else as sent.
    pub fn redact(&self) -> Redact {
        match self {
            Command::Pass(_) => Redact::KeepWords(1),
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
    fn lines_and_redaction() {
        let cases: &[(Command, &str, &str, bool)] = &[
            (Command::Capa, "CAPA", "CAPA", true),
            (Command::User("al"), "USER al", "USER al", false),
            (Command::Pass("pw x"), "PASS pw x", "PASS <redacted>", false),
            (
                Command::Auth {
                    mechanism: "PLAIN",
                    initial: Some("AGFsAHB3"),
                },
                "AUTH PLAIN AGFsAHB3",
                "AUTH PLAIN <redacted>",
                false,
            ),
            (
                Command::Auth {
                    mechanism: "XOAUTH2",
                    initial: None,
                },
                "AUTH XOAUTH2",
                "AUTH XOAUTH2",
                false,
            ),
            (Command::TopHeader(3), "TOP 3 0", "TOP 3 0", true),
            (Command::Dele(3), "DELE 3", "DELE 3", false),
            (Command::Stat, "STAT", "STAT", false),
        ];
        for (cmd, line, stored, multi) in cases {
            assert_eq!(cmd.command(), *line);
            assert_eq!(redact_line(line, cmd.redact()), *stored);
            assert_eq!(cmd.multiline(), *multi, "{cmd:?}");
        }
    }
}
