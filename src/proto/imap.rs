//! IMAP responses as pure functions over one line each (RFC 9051 §7, RFC 3501 §7): greeting,
//! tagged status, untagged data, continuation requests and bracketed response codes, plus
//! literal detection so a `{N}` never confuses the reader. Typed commands: [`Command`]; the
//! data of untagged responses: [`Capabilities`], [`parse_list`], [`parse_search`],
//! [`parse_internaldate`].

mod command;
mod data;

pub use command::{Command, quote};
pub use data::{
    Capabilities, ListEntry, capabilities_from_code, capabilities_from_untagged, fetch_uid,
    parse_internaldate, parse_list, parse_search, sasl_mechanisms,
};

/// Status of a tagged (or greeting) response, RFC 9051 §7.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapStatus {
    Ok,
    No,
    Bad,
    /// Only in greetings (RFC 9051 §7.1.4): already authenticated.
    Preauth,
    /// Only untagged (RFC 9051 §7.1.5): the server is closing the connection.
    Bye,
}

impl ImapStatus {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_uppercase().as_str() {
            "OK" => ImapStatus::Ok,
            "NO" => ImapStatus::No,
            "BAD" => ImapStatus::Bad,
            "PREAUTH" => ImapStatus::Preauth,
            "BYE" => ImapStatus::Bye,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ImapStatus::Ok => "OK",
            ImapStatus::No => "NO",
            ImapStatus::Bad => "BAD",
            ImapStatus::Preauth => "PREAUTH",
            ImapStatus::Bye => "BYE",
        }
    }
}

/// One response line, classified (RFC 9051 §2.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapLine {
    /// `* OK|NO|BAD|PREAUTH|BYE [code] text`.
    UntaggedStatus {
        status: ImapStatus,
        code: Option<String>,
        text: String,
    },
    /// `* CAPABILITY ...`, `* 3 EXISTS`, ...: everything after `* `.
    Untagged(String),
    /// `tag OK|NO|BAD [code] text`.
    Tagged {
        tag: String,
        status: ImapStatus,
        code: Option<String>,
        text: String,
    },
    /// `+ text`: the server waits for more client data (RFC 9051 §7.5).
    Continuation(String),
}

/// Why a line is not an IMAP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImapParseError {
    #[error("empty line where an IMAP response was expected")]
    Empty,
    #[error("not an IMAP response: {0:?}")]
    Garbage(String),
}

/// Split `[CODE args] text` into the code (without brackets) and the text (RFC 9051 §7.1).
/// An unclosed bracket is kept as text: some servers put brackets in free text.
pub fn split_code(rest: &str) -> (Option<String>, String) {
    let rest = rest.trim_start();
    if let Some(inner) = rest.strip_prefix('[')
        && let Some(end) = inner.find(']')
    {
        let code = inner[..end].trim().to_string();
        let text = inner[end + 1..].trim().to_string();
        return (Some(code), text);
    }
    (None, rest.trim_end().to_string())
}

fn trim_eol(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    s.trim_end_matches(['\r', '\n']).to_string()
}

/// Classify one response line (CRLF optional).
pub fn parse_line(line: &[u8]) -> Result<ImapLine, ImapParseError> {
    let s = trim_eol(line);
    if s.trim().is_empty() {
        return Err(ImapParseError::Empty);
    }
    if let Some(rest) = s.strip_prefix("+") {
        return Ok(ImapLine::Continuation(rest.trim_start().to_string()));
    }
    let (tag, rest) = s.split_once(' ').unwrap_or((s.as_str(), ""));
    let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
    let status = ImapStatus::parse(word);
    if tag == "*" {
        return Ok(match status {
            Some(status) => {
                let (code, text) = split_code(after);
                ImapLine::UntaggedStatus { status, code, text }
            }
            None => ImapLine::Untagged(rest.to_string()),
        });
    }
    // A tag is an astring without '+' (RFC 9051 §9 `tag`); we only need to reject obvious garbage.
    let tag_ok = !tag.is_empty()
        && tag
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"(){%*\"\\+".contains(&b));
    match status {
        Some(status @ (ImapStatus::Ok | ImapStatus::No | ImapStatus::Bad)) if tag_ok => {
            let (code, text) = split_code(after);
            Ok(ImapLine::Tagged {
                tag: tag.to_string(),
                status,
                code,
                text,
            })
        }
        _ => Err(ImapParseError::Garbage(s.chars().take(120).collect())),
    }
}

/// The server greeting (RFC 9051 §7.1): `* OK`, `* PREAUTH` or `* BYE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapGreeting {
    pub status: ImapStatus,
    pub code: Option<String>,
    pub text: String,
    /// From a `[CAPABILITY …]` response code, which saves a round trip (RFC 9051 §7.1).
    pub capabilities: Option<Capabilities>,
}

/// Parse the first line a server sends.
pub fn parse_greeting(line: &[u8]) -> Result<ImapGreeting, ImapParseError> {
    match parse_line(line)? {
        ImapLine::UntaggedStatus { status, code, text }
            if matches!(
                status,
                ImapStatus::Ok | ImapStatus::Preauth | ImapStatus::Bye
            ) =>
        {
            let capabilities = code.as_deref().and_then(capabilities_from_code);
            Ok(ImapGreeting {
                status,
                code,
                text,
                capabilities,
            })
        }
        _ => Err(ImapParseError::Garbage(
            trim_eol(line).chars().take(120).collect(),
        )),
    }
}

/// The byte count of a literal announced at the end of a line: `{123}` or `{123+}`
/// (RFC 9051 §4.3, RFC 7888). The literal's bytes follow the CRLF and the response goes on after.
pub fn literal_len(line: &[u8]) -> Option<usize> {
    let s = trim_eol(line);
    let inner = s.strip_suffix('}')?;
    let open = inner.rfind('{')?;
    let digits = inner[open + 1..].trim_end_matches('+');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        let cases: &[(&str, ImapStatus, Option<&str>, usize)] = &[
            (
                "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot ready.\r\n",
                ImapStatus::Ok,
                Some("Dovecot ready."),
                9,
            ),
            (
                "* OK The Microsoft Exchange IMAP4 service is ready.\r\n",
                ImapStatus::Ok,
                Some("The Microsoft Exchange IMAP4 service is ready."),
                0,
            ),
            (
                "* OK Gimap ready for requests from 192.0.2.1 a1mb12345\r\n",
                ImapStatus::Ok,
                None,
                0,
            ),
            (
                "* PREAUTH [CAPABILITY IMAP4rev1] logged in as alice\r\n",
                ImapStatus::Preauth,
                None,
                1,
            ),
            (
                "* BYE Too many connections from your IP\r\n",
                ImapStatus::Bye,
                None,
                0,
            ),
            ("* ok lower case status\n", ImapStatus::Ok, None, 0),
        ];
        for (line, status, text, ncaps) in cases {
            let g = parse_greeting(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(g.status, *status, "{line}");
            if let Some(t) = text {
                assert_eq!(g.text, *t);
            }
            assert_eq!(
                g.capabilities.map(|c| c.names().len()).unwrap_or(0),
                *ncaps,
                "{line}"
            );
        }
    }

    #[test]
    fn bad_greetings() {
        for line in [
            "",
            "\r\n",
            "+OK POP3 ready\r\n",
            "220 smtp ESMTP\r\n",
            "* FOO bar\r\n",
            "a1 OK\r\n",
            "\u{0}\u{1}garbage",
        ] {
            assert!(parse_greeting(line.as_bytes()).is_err(), "{line:?}");
        }
    }

    #[test]
    fn lines() {
        assert_eq!(
            parse_line(b"a1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Logged in\r\n").unwrap(),
            ImapLine::Tagged {
                tag: "a1".into(),
                status: ImapStatus::Ok,
                code: Some("CAPABILITY IMAP4rev1 AUTH=PLAIN".into()),
                text: "Logged in".into()
            }
        );
        assert_eq!(
            parse_line(b"a2 NO [UNAVAILABLE] STARTTLS unavailable\r\n").unwrap(),
            ImapLine::Tagged {
                tag: "a2".into(),
                status: ImapStatus::No,
                code: Some("UNAVAILABLE".into()),
                text: "STARTTLS unavailable".into()
            }
        );
        assert_eq!(
            parse_line(b"a3 BAD Error in IMAP command: Unknown command\r\n").unwrap(),
            ImapLine::Tagged {
                tag: "a3".into(),
                status: ImapStatus::Bad,
                code: None,
                text: "Error in IMAP command: Unknown command".into()
            }
        );
        assert_eq!(
            parse_line(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n").unwrap(),
            ImapLine::Untagged("CAPABILITY IMAP4rev1 STARTTLS".into())
        );
        assert_eq!(
            parse_line(b"+ \r\n").unwrap(),
            ImapLine::Continuation("".into())
        );
        assert_eq!(
            parse_line(b"+ VXNlcm5hbWU6\r\n").unwrap(),
            ImapLine::Continuation("VXNlcm5hbWU6".into())
        );
        assert_eq!(
            parse_line(b"* BYE [UNAVAILABLE] shutting down\r\n").unwrap(),
            ImapLine::UntaggedStatus {
                status: ImapStatus::Bye,
                code: Some("UNAVAILABLE".into()),
                text: "shutting down".into()
            }
        );
        // Unclosed bracket stays text.
        assert_eq!(split_code("[oops text"), (None, "[oops text".into()));
        assert!(parse_line(b"a1 MAYBE\r\n").is_err());
        assert!(parse_line(b"(a) OK\r\n").is_err());
    }

    #[test]
    fn literals() {
        let cases: &[(&str, Option<usize>)] = &[
            ("* 1 FETCH (BODY[] {342}\r\n", Some(342)),
            ("* ID (\"name\" {5+}\r\n", Some(5)),
            ("* OK no literal\r\n", None),
            ("* OK {}\r\n", None),
            ("* OK {12a}\r\n", None),
            ("* OK {99999999999999999999999}\r\n", None),
        ];
        for (line, want) in cases {
            assert_eq!(literal_len(line.as_bytes()), *want, "{line}");
        }
    }

    proptest::proptest! {
        /// Any bytes: no panic, and no more text comes out than went in (error texts are cut
        /// at 120 characters).
        #[test]
        fn line_parsers_are_total(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let bound = String::from_utf8_lossy(&bytes).len();
            match parse_line(&bytes) {
                Ok(ImapLine::Tagged { tag, code, text, .. }) => {
                    proptest::prop_assert!(tag.len() + text.len() + code.map_or(0, |c| c.len()) <= bound)
                }
                Ok(ImapLine::UntaggedStatus { code, text, .. }) => {
                    proptest::prop_assert!(text.len() + code.map_or(0, |c| c.len()) <= bound)
                }
                Ok(ImapLine::Untagged(t) | ImapLine::Continuation(t)) => {
                    proptest::prop_assert!(t.len() <= bound)
                }
                Err(ImapParseError::Garbage(g)) => proptest::prop_assert!(g.chars().count() <= 120),
                Err(_) => {}
            }
            if let Ok(g) = parse_greeting(&bytes) {
                proptest::prop_assert!(g.text.len() <= bound);
            }
            proptest::prop_assert!(literal_len(&bytes).is_none_or(|n| n.to_string().len() <= bytes.len()));
        }
    }
}
