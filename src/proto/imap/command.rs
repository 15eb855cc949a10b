//! IMAP commands as types (RFC 9051 §6): each knows its text ([`Command::command`], without the
//! tag) and how much of its line a transcript may keep ([`Command::redact`]).

use crate::proto::transcript::Redact;

/// One IMAP command. Strings are quoted as RFC 9051 §4.3 says where the grammar wants an
/// astring; numbers are UIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// RFC 9051 §6.1.1.
    Capability,
    /// RFC 9051 §6.1.3.
    Logout,
    /// RFC 9051 §6.2.1.
    StartTls,
    /// `LOGIN "user" "password"` (RFC 9051 §6.2.3); the password must be ASCII without CR/LF.
    Login { user: &'a str, password: &'a str },
    /// `LOGIN "user" {N}`: the password follows as a literal after a continuation request
    /// (RFC 9051 §4.3: 8-bit data only in a literal).
    LoginLiteral { user: &'a str, len: usize },
    /// `AUTHENTICATE MECH [initial-response]` (RFC 9051 §6.2.2, SASL-IR RFC 4959: base64, `=`
    /// for an empty one).
    Authenticate {
        mechanism: &'a str,
        initial: Option<&'a str>,
    },
    /// `LIST "" "*"`, with `RETURN (SPECIAL-USE)` (RFC 6154 §5.1) when the server has it.
    ListAll { special_use: bool },
    /// RFC 9051 §6.3.2.
    Select(&'a str),
    /// `UID SEARCH HEADER <field> <value>` (RFC 9051 §6.4.4).
    UidSearchHeader { field: &'a str, value: &'a str },
    /// `UID SEARCH DELETED`: messages flagged `\Deleted`.
    UidSearchDeleted,
    /// `UID FETCH n (INTERNALDATE BODY.PEEK[HEADER])` (RFC 9051 §6.4.5; PEEK leaves `\Seen`).
    UidFetchHeader(u32),
    /// `UID FETCH n (BODY.PEEK[HEADER.FIELDS (F1 F2)])` (RFC 9051 §6.4.5): only these fields.
    UidFetchHeaderFields { uid: u32, fields: &'a [&'a str] },
    /// `UID STORE n +FLAGS.SILENT (\Deleted)` (RFC 9051 §6.4.6).
    UidStoreDeleted(u32),
    /// `UID EXPUNGE n` (RFC 4315 §2.1, UIDPLUS; RFC 9051 §6.4.9): only that message.
    UidExpunge(u32),
    /// `EXPUNGE` (RFC 9051 §6.4.3): every message flagged `\Deleted` in the mailbox.
    Expunge,
    /// RFC 2177 §3.
    Idle,
    /// `DONE` ends IDLE (RFC 2177 §3); sent untagged.
    Done,
}

/// RFC 9051 §4.3 quoted string.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Command<'_> {
    /// The command line without its tag.
    pub fn command(&self) -> String {
        match *self {
            Command::Capability => "CAPABILITY".into(),
            Command::Logout => "LOGOUT".into(),
            Command::StartTls => "STARTTLS".into(),
            Command::Login { user, password } => {
                format!("LOGIN {} {}", quote(user), quote(password))
            }
            Command::LoginLiteral { user, len } => format!("LOGIN {} {{{len}}}", quote(user)),
            Command::Authenticate { mechanism, initial } => match initial {
                Some(ir) => format!("AUTHENTICATE {mechanism} {ir}"),
                None => format!("AUTHENTICATE {mechanism}"),
            },
            Command::ListAll { special_use: true } => "LIST \"\" \"*\" RETURN (SPECIAL-USE)".into(),
            Command::ListAll { special_use: false } => "LIST \"\" \"*\"".into(),
            Command::Select(mailbox) => format!("SELECT {}", quote(mailbox)),
            Command::UidSearchHeader { field, value } => {
                format!("UID SEARCH HEADER {field} {}", quote(value))
            }
            Command::UidSearchDeleted => "UID SEARCH DELETED".into(),
            Command::UidFetchHeader(uid) => {
                format!("UID FETCH {uid} (INTERNALDATE BODY.PEEK[HEADER])")
            }
            Command::UidFetchHeaderFields { uid, fields } => format!(
                "UID FETCH {uid} (BODY.PEEK[HEADER.FIELDS ({})])",
                fields.join(" ").to_ascii_uppercase()
            ),
            Command::UidStoreDeleted(uid) => format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"),
            Command::UidExpunge(uid) => format!("UID EXPUNGE {uid}"),
            Command::Expunge => "EXPUNGE".into(),
            Command::Idle => "IDLE".into(),
            Command::Done => "DONE".into(),
        }
    }

    /// The line as sent with `tag` (`DONE` has none).
    pub fn tagged(&self, tag: &str) -> String {
        match self {
            Command::Done => self.command(),
            _ => format!("{tag} {}", self.command()),
        }
    }

    /// How the tagged line is stored in a transcript: the tag and command words, never a
    /// credential (`a4 LOGIN <redacted>`, `a3 AUTHENTICATE PLAIN <redacted>`).
    pub fn redact(&self) -> Redact {
        match self {
            Command::Login { .. } => Redact::KeepWords(2),
            Command::Authenticate {
                initial: Some(_), ..
            } => Redact::KeepWords(3),
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
        let cases: &[(Command, &str, &str)] = &[
            (Command::Capability, "a1 CAPABILITY", "a1 CAPABILITY"),
            (
                Command::Login {
                    user: "al",
                    password: "p\"w",
                },
                r#"a1 LOGIN "al" "p\"w""#,
                "a1 LOGIN <redacted>",
            ),
            (
                Command::LoginLiteral { user: "al", len: 9 },
                "a1 LOGIN \"al\" {9}",
                "a1 LOGIN \"al\" {9}",
            ),
            (
                Command::Authenticate {
                    mechanism: "PLAIN",
                    initial: Some("AGFsAHB3"),
                },
                "a1 AUTHENTICATE PLAIN AGFsAHB3",
                "a1 AUTHENTICATE PLAIN <redacted>",
            ),
            (
                Command::Authenticate {
                    mechanism: "PLAIN",
                    initial: None,
                },
                "a1 AUTHENTICATE PLAIN",
                "a1 AUTHENTICATE PLAIN",
            ),
            (
                Command::ListAll { special_use: true },
                "a1 LIST \"\" \"*\" RETURN (SPECIAL-USE)",
                "a1 LIST \"\" \"*\" RETURN (SPECIAL-USE)",
            ),
            (
                Command::UidSearchHeader {
                    field: "Message-ID",
                    value: "<x@y>",
                },
                "a1 UID SEARCH HEADER Message-ID \"<x@y>\"",
                "a1 UID SEARCH HEADER Message-ID \"<x@y>\"",
            ),
            (
                Command::UidStoreDeleted(7),
                "a1 UID STORE 7 +FLAGS.SILENT (\\Deleted)",
                "a1 UID STORE 7 +FLAGS.SILENT (\\Deleted)",
            ),
            (
                Command::UidExpunge(7),
                "a1 UID EXPUNGE 7",
                "a1 UID EXPUNGE 7",
            ),
            (
                Command::UidFetchHeaderFields {
                    uid: 7,
                    fields: &["Message-ID", "X-Mailprobe-Token"],
                },
                "a1 UID FETCH 7 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID X-MAILPROBE-TOKEN)])",
                "a1 UID FETCH 7 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID X-MAILPROBE-TOKEN)])",
            ),
            (Command::Done, "DONE", "DONE"),
        ];
        for (cmd, line, stored) in cases {
            assert_eq!(cmd.tagged("a1"), *line);
            assert_eq!(redact_line(line, cmd.redact()), *stored, "{cmd:?}");
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
