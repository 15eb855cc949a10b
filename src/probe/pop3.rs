//! POP3 response parsing for the probe: pure functions over lines (RFC 1939 §3, RFC 2449 for
//! `CAPA` and the bracketed response codes, RFC 2595 §4 for `STLS`).

/// A status line: `+OK text` or `-ERR [CODE] text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Status {
    pub ok: bool,
    /// RFC 2449 §8 extended response code, e.g. `AUTH`, `IN-USE`, `SYS/TEMP`.
    pub code: Option<String>,
    pub text: String,
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
pub struct Pop3Caps {
    /// Each capability line as sent, e.g. `SASL PLAIN LOGIN`, `IMPLEMENTATION Dovecot`.
    pub lines: Vec<String>,
    pub stls: bool,
    /// `USER`: the plain `USER`/`PASS` login is available.
    pub user: bool,
    /// From the `SASL` line, upper-cased.
    pub sasl: Vec<String>,
}

/// Interpret the data lines of a `CAPA` response.
pub fn parse_capa(lines: &[String]) -> Pop3Caps {
    let mut caps = Pop3Caps::default();
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
}
