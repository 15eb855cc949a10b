//! POP3 responses as pure functions over lines (RFC 1939 §3, RFC 2449 for `CAPA` and the
//! bracketed response codes, RFC 2595 §4 for `STLS`, RFC 5034 §4 for the `+ ` continuation of
//! a SASL exchange). Typed commands: [`Command`].

mod command;

pub use command::Command;

use super::caps::{self as capset, Capability, CapabilitySet};

/// A status line: `+OK text` or `-ERR [CODE] text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Status {
    pub ok: bool,
    /// RFC 2449 §8 extended response code, e.g. `AUTH`, `IN-USE`, `SYS/TEMP`.
    pub code: Option<String>,
    pub text: String,
}

impl Pop3Status {
    /// The line as the server wrote it, less a response code: `+OK text` / `-ERR text`.
    pub fn line(&self) -> String {
        format!("{} {}", if self.ok { "+OK" } else { "-ERR" }, self.text)
    }
}

/// Why a line is not a POP3 status line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pop3ParseError {
    #[error("not a POP3 status line: {0:?}")]
    Garbage(String),
}

fn trim_eol(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

/// Parse a status line (RFC 1939 §3: `+OK` / `-ERR`, case-sensitive but tolerated otherwise).
pub fn parse_status(line: &[u8]) -> Result<Pop3Status, Pop3ParseError> {
    let s = trim_eol(line);
    let upper = s.to_ascii_uppercase();
    let (ok, rest) = if upper.starts_with("+OK") {
        (true, &s[3..])
    } else if upper.starts_with("-ERR") {
        (false, &s[4..])
    } else {
        return Err(Pop3ParseError::Garbage(s.chars().take(120).collect()));
    };
    // `+OKAY` is not `+OK`: a separator (or nothing) must follow.
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return Err(Pop3ParseError::Garbage(s.chars().take(120).collect()));
    }
    let (code, text) = super::imap::split_code(rest);
    // Only RFC 2449 codes are bracketed at the start of -ERR; on +OK a bracket is free text
    // (e.g. Dovecot's `+OK Dovecot ready. <123.456@host>` has none, but be lenient).
    Ok(Pop3Status { ok, code, text })
}

/// A SASL continuation (RFC 5034 §4): `+` alone or `+ ` and base64 text; its text.
pub fn continuation(line: &[u8]) -> Option<String> {
    let s = trim_eol(line);
    if s == "+" || s.starts_with("+ ") {
        Some(s.get(2..).unwrap_or("").to_string())
    } else {
        None
    }
}

/// The message count and size in octets of a `STAT` answer's text (RFC 1939 §5: `+OK nn mm`;
/// the text here is what follows `+OK`).
pub(crate) fn parse_stat(text: &str) -> Option<(u32, u64)> {
    let mut words = text.split_whitespace();
    let count = words.next()?.parse().ok()?;
    let size = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
    Some((count, size))
}

/// Where a multi-line block stands after one more line (RFC 1939 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockLine {
    /// A data line, with the byte-stuffed leading dot removed.
    Data(String),
    /// The terminating `.`.
    End,
}

/// One line of a multi-line response: `.` ends it, `..x` is `.x` (dot-stuffing).
pub fn block_line(line: &[u8]) -> BlockLine {
    let s = trim_eol(line);
    if s == "." {
        BlockLine::End
    } else if let Some(rest) = s.strip_prefix('.') {
        BlockLine::Data(rest.to_string())
    } else {
        BlockLine::Data(s)
    }
}

/// What `CAPA` said (RFC 2449 §6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Each capability line as sent, e.g. `SASL PLAIN LOGIN`, `IMPLEMENTATION Dovecot`.
    pub lines: Vec<String>,
    pub stls: bool,
    /// `USER`: the plain `USER`/`PASS` login is available.
    pub user: bool,
    /// From the `SASL` line, upper-cased.
    pub sasl: Vec<String>,
}

impl CapabilitySet for Capabilities {
    fn has(&self, cap: Capability<'_>) -> bool {
        match cap {
            Capability::StartTls => self.stls,
            Capability::User => self.user,
            Capability::Auth(m) => capset::names(&self.sasl, m),
            Capability::Pipelining => capset::first_word(&self.lines, "PIPELINING"),
            Capability::Named(n) => capset::first_word(&self.lines, n),
            Capability::SaslIr
            | Capability::LoginDisabled
            | Capability::Idle
            | Capability::UidPlus
            | Capability::SpecialUse => false,
        }
    }
    fn sasl(&self) -> &[String] {
        &self.sasl
    }
    fn lines(&self) -> &[String] {
        &self.lines
    }
}

/// Interpret the data lines of a `CAPA` response.
pub(crate) fn parse_capa(lines: &[String]) -> Capabilities {
    let mut caps = Capabilities::default();
    for l in lines {
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        caps.lines.push(l.to_string());
        let mut words = l.split_ascii_whitespace();
        let name = words.next().unwrap_or_default().to_ascii_uppercase();
        match name.as_str() {
            "STLS" => caps.stls = true,
            "USER" => caps.user = true,
            "SASL" => caps.sasl.extend(words.map(|w| w.to_ascii_uppercase())),
            _ => {}
        }
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    type Want<'a> = Option<(bool, Option<&'a str>, &'a str)>;

    #[test]
    fn status_lines() {
        let cases: &[(&str, Want)] = &[
            (
                "+OK Dovecot ready.\r\n",
                Some((true, None, "Dovecot ready.")),
            ),
            ("+OK\r\n", Some((true, None, ""))),
            (
                "+OK The Microsoft Exchange POP3 service is ready. [QQBNAFMAMAAxAA==]\r\n",
                Some((
                    true,
                    None,
                    "The Microsoft Exchange POP3 service is ready. [QQBNAFMAMAAxAA==]",
                )),
            ),
            (
                "-ERR [AUTH] Authentication failed.\r\n",
                Some((false, Some("AUTH"), "Authentication failed.")),
            ),
            (
                "-ERR [SYS/TEMP] try later\n",
                Some((false, Some("SYS/TEMP"), "try later")),
            ),
            ("-ERR\r\n", Some((false, None, ""))),
            ("+ok lenient\r\n", Some((true, None, "lenient"))),
            ("+OKAY\r\n", None),
            ("* OK IMAP\r\n", None),
            ("220 smtp\r\n", None),
            ("", None),
        ];
        for (line, want) in cases {
            let got = parse_status(line.as_bytes()).ok();
            let got = got
                .as_ref()
                .map(|s| (s.ok, s.code.as_deref(), s.text.as_str()));
            assert_eq!(got, *want, "{line:?}");
        }
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(block_line(b".\r\n"), BlockLine::End);
        assert_eq!(block_line(b"..\r\n"), BlockLine::Data(".".into()));
        assert_eq!(
            block_line(b"..hidden\r\n"),
            BlockLine::Data(".hidden".into())
        );
        assert_eq!(block_line(b"TOP\r\n"), BlockLine::Data("TOP".into()));
        assert_eq!(block_line(b". \r\n"), BlockLine::Data(" ".into()));
    }

    #[test]
    fn capa() {
        let lines: Vec<String> = [
            "CAPA",
            "TOP",
            "UIDL",
            "RESP-CODES",
            "PIPELINING",
            "AUTH-RESP-CODE",
            "USER",
            "SASL PLAIN login",
            "STLS",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let c = parse_capa(&lines);
        assert!(c.stls && c.user);
        assert_eq!(c.sasl, vec!["PLAIN", "LOGIN"]);
        assert_eq!(c.lines.len(), 9);
        let none = parse_capa(&[]);
        assert!(!none.stls && none.sasl.is_empty());
    }

    #[test]
    fn continuation_and_stat() {
        assert_eq!(continuation(b"+ \r\n").as_deref(), Some(""));
        assert_eq!(continuation(b"+\r\n").as_deref(), Some(""));
        assert_eq!(continuation(b"+ VXNlcg==\r\n").as_deref(), Some("VXNlcg=="));
        assert_eq!(continuation(b"+OK\r\n"), None);
        assert_eq!(parse_stat("2 320"), Some((2, 320)));
        assert_eq!(parse_stat("0"), Some((0, 0)));
        assert_eq!(parse_stat("x 1"), None);
        assert_eq!(parse_stat(""), None);
    }

    proptest::proptest! {
        /// Any bytes: no panic, and no more text comes out than went in.
        #[test]
        fn parsers_are_total(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let bound = String::from_utf8_lossy(&bytes).len();
            match parse_status(&bytes) {
                Ok(s) => proptest::prop_assert!(s.text.len() + s.code.map_or(0, |c| c.len()) <= bound),
                Err(Pop3ParseError::Garbage(g)) => proptest::prop_assert!(g.chars().count() <= 120),
            }
            match block_line(&bytes) {
                BlockLine::Data(d) => proptest::prop_assert!(d.len() <= bound),
                BlockLine::End => {}
            }
            proptest::prop_assert!(continuation(&bytes).is_none_or(|c| c.len() <= bound));
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let caps = parse_capa(&lines);
            proptest::prop_assert!(caps.lines.len() <= lines.len());
            proptest::prop_assert!(caps.sasl.iter().map(String::len).sum::<usize>() <= bound);
            let _ = parse_stat(&text);
        }
    }
}
