//! SMTP replies (RFC 5321 §4.2): line framing by hand, code and enhanced code (RFC 3463)
//! through `smtp-proto` (the same parser Stalwart uses), and what EHLO offers as a
//! [`ServerInfo`] — well-known extensions through `smtp-proto`, plus the keyword list as sent,
//! which `smtp-proto`'s bitflags cannot give back. Typed commands: [`Command`].

mod command;

pub use command::{Command, code};

use smtp_proto::{EhloResponse, Response};

use super::caps::{self as capset, Capability, CapabilitySet};

/// The first digit of a reply code (RFC 5321 §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// 2yz: the command was accepted.
    PositiveCompletion,
    /// 3yz: send more (354 after DATA, 334 in AUTH).
    PositiveIntermediate,
    /// 4yz: try again later.
    TransientNegative,
    /// 5yz: do not repeat.
    PermanentNegative,
}

/// One complete (possibly multi-line) reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpReply {
    pub code: u16,
    /// RFC 3463 enhanced status code, when the server sent one (`250 2.0.0 Ok`).
    pub enhanced: Option<(u8, u16, u16)>,
    /// Text of each line without the `250-` prefix (and without the enhanced code).
    pub lines: Vec<String>,
}

impl SmtpReply {
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
    /// What the first digit says ([`line_code`] only accepts 2–5).
    pub fn severity(&self) -> Severity {
        match self.code / 100 {
            2 => Severity::PositiveCompletion,
            3 => Severity::PositiveIntermediate,
            4 => Severity::TransientNegative,
            _ => Severity::PermanentNegative,
        }
    }
    /// `250 2.0.0 Ok: queued as X`: the code, the enhanced code and every line's text, as the
    /// server would write a one-line reply.
    pub fn one_line(&self) -> String {
        match self.enhanced {
            Some((a, b, c)) => format!("{} {a}.{b}.{c} {}", self.code, self.text()),
            None => format!("{} {}", self.code, self.text()),
        }
    }
    /// All lines joined with a space, for messages and the report.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

/// Why bytes are not an SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpParseError {
    #[error("not an SMTP reply line: {0:?}")]
    Garbage(String),
    #[error("reply lines disagree on the code: {0} then {1}")]
    CodeMismatch(u16, u16),
    #[error("incomplete SMTP reply")]
    Incomplete,
}

fn trim_eol(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

/// Frame one line: its code and whether it is the last line of the reply (`250 ` vs `250-`).
/// RFC 5321 §4.2.1: a bare `250` is also a last line.
pub fn line_code(line: &[u8]) -> Result<(u16, bool), SmtpParseError> {
    let s = trim_eol(line);
    let b = s.as_bytes();
    let garbage = || SmtpParseError::Garbage(s.chars().take(120).collect());
    if b.len() < 3 || !b[..3].iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&b[0]) {
        return Err(garbage());
    }
    let code = s[..3].parse::<u16>().map_err(|_| garbage())?;
    match b.get(3) {
        None | Some(b' ') => Ok((code, true)),
        Some(b'-') => Ok((code, false)),
        Some(_) => Err(garbage()),
    }
}

/// Parse the lines of one complete reply (each with or without CRLF).
pub fn parse_reply(lines: &[Vec<u8>]) -> Result<SmtpReply, SmtpParseError> {
    let mut first = None;
    let mut raw = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let (code, last) = line_code(l)?;
        match first {
            None => first = Some(code),
            Some(c) if c != code => return Err(SmtpParseError::CodeMismatch(c, code)),
            _ => {}
        }
        if last != (i + 1 == lines.len()) {
            return Err(SmtpParseError::Incomplete);
        }
        raw.extend_from_slice(trim_eol(l).as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    let code = first.ok_or(SmtpParseError::Incomplete)?;
    let parsed: Option<Response<String>> =
        smtp_proto::response::parser::ResponseReceiver::default()
            .parse(&mut raw.iter())
            .ok();
    let esc = parsed.as_ref().map(|r| r.esc).unwrap_or([0; 3]);
    let enhanced = (esc[0] != 0).then_some((esc[0], esc[1] as u16, esc[2] as u16));
    // Line texts come from our framing so that a line smtp-proto folds stays a line.
    let lines = lines
        .iter()
        .map(|l| {
            let s = trim_eol(l);
            let text = s.get(4..).unwrap_or("").to_string();
            match enhanced {
                Some((a, b, c)) => {
                    let prefix = format!("{a}.{b}.{c}");
                    text.strip_prefix(&prefix)
                        .map(|t| t.trim_start().to_string())
                        .unwrap_or(text)
                }
                None => text,
            }
        })
        .collect();
    Ok(SmtpReply {
        code,
        enhanced,
        lines,
    })
}

/// What an EHLO reply offers (RFC 5321 §4.1.1.1 and the extension RFCs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// Host name from the first line.
    pub hostname: String,
    /// Each extension line as sent, e.g. `SIZE 52428800`, `AUTH PLAIN LOGIN`.
    pub keywords: Vec<String>,
    /// SASL mechanisms from `AUTH` (RFC 4954 §3, and the pre-RFC `AUTH=` form old Exchange and
    /// Outlook clients still use), upper-cased, without duplicates.
    pub sasl: Vec<String>,
    /// RFC 3207.
    pub starttls: bool,
    /// RFC 1870 `SIZE`, 0 when given without a number.
    pub size: Option<usize>,
    pub pipelining: bool,
    pub eightbitmime: bool,
    pub smtputf8: bool,
    pub chunking: bool,
    pub enhanced_status_codes: bool,
}

impl ServerInfo {
    /// Interpret EHLO keyword lines (the reply's lines after the first).
    pub fn from_keywords(lines: &[String]) -> ServerInfo {
        let mut info = ServerInfo::default();
        for l in lines {
            let l = l.trim();
            if l.is_empty() {
                continue;
            }
            info.keywords.push(l.to_string());
            let (kw, args) = match l.split_once([' ', '=']) {
                Some((k, a)) => (k.to_ascii_uppercase(), a),
                None => (l.to_ascii_uppercase(), ""),
            };
            match kw.as_str() {
                "STARTTLS" => info.starttls = true,
                "PIPELINING" => info.pipelining = true,
                "8BITMIME" => info.eightbitmime = true,
                "SMTPUTF8" => info.smtputf8 = true,
                "CHUNKING" => info.chunking = true,
                "ENHANCEDSTATUSCODES" => info.enhanced_status_codes = true,
                "SIZE" if info.size.is_none() => info.size = Some(args.trim().parse().unwrap_or(0)),
                "AUTH" => {
                    for m in args.split_ascii_whitespace() {
                        let m = m.to_ascii_uppercase();
                        if !info.sasl.contains(&m) {
                            info.sasl.push(m);
                        }
                    }
                }
                _ => {}
            }
        }
        info
    }
}

impl CapabilitySet for ServerInfo {
    fn has(&self, cap: Capability<'_>) -> bool {
        match cap {
            Capability::StartTls => self.starttls,
            Capability::Pipelining => self.pipelining,
            Capability::Auth(m) => capset::names(&self.sasl, m),
            Capability::Named(n) => capset::first_word(&self.keywords, n),
            Capability::SaslIr
            | Capability::LoginDisabled
            | Capability::Idle
            | Capability::UidPlus
            | Capability::SpecialUse
            | Capability::User => false,
        }
    }
    fn sasl(&self) -> &[String] {
        &self.sasl
    }
    fn lines(&self) -> &[String] {
        &self.keywords
    }
}

/// Interpret a positive EHLO reply.
pub fn parse_ehlo(reply: &SmtpReply) -> ServerInfo {
    // smtp-proto decides the well-known extensions; it stops at the first syntax it rejects,
    // so our own keyword scan fills the gaps.
    let mut raw = Vec::new();
    for (i, l) in reply.lines.iter().enumerate() {
        let sep = if i + 1 == reply.lines.len() { ' ' } else { '-' };
        raw.extend_from_slice(format!("{}{sep}{l}\r\n", reply.code).as_bytes());
    }
    let size = EhloResponse::<String>::parse(&mut raw.iter())
        .ok()
        .and_then(|e| e.has_capability(smtp_proto::EXT_SIZE).then_some(e.size));
    let mut info = ServerInfo::from_keywords(reply.lines.get(1..).unwrap_or(&[]));
    if size.is_some() {
        info.size = size;
    }
    info.hostname = reply
        .lines
        .first()
        .and_then(|l| l.split_ascii_whitespace().next())
        .unwrap_or_default()
        .to_string();
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<Vec<u8>> {
        s.split_inclusive('\n')
            .map(|l| l.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn framing() {
        let cases: &[(&str, Option<(u16, bool)>)] = &[
            ("220 mail.example.test ESMTP Postfix\r\n", Some((220, true))),
            ("220-mx.example.test ESMTP\r\n", Some((220, false))),
            ("250\r\n", Some((250, true))),
            ("554 5.7.1 rejected\n", Some((554, true))),
            ("HTTP/1.1 400 Bad Request\r\n", None),
            ("2200 x\r\n", None),
            ("099 x\r\n", None),
            ("\r\n", None),
            ("* OK IMAP\r\n", None),
        ];
        for (l, want) in cases {
            assert_eq!(line_code(l.as_bytes()).ok(), *want, "{l:?}");
        }
    }

    #[test]
    fn replies() {
        let r = parse_reply(&lines(
            "220-mx.example.test ESMTP Exim\r\n220-We do not authorize UCE\r\n220 Go ahead\r\n",
        ))
        .unwrap();
        assert_eq!(r.code, 220);
        assert_eq!(
            r.lines,
            vec![
                "mx.example.test ESMTP Exim",
                "We do not authorize UCE",
                "Go ahead"
            ]
        );
        assert_eq!(r.enhanced, None);
        let r = parse_reply(&lines("250 2.0.0 Ready to start TLS\r\n")).unwrap();
        assert_eq!(r.enhanced, Some((2, 0, 0)));
        assert_eq!(r.lines, vec!["Ready to start TLS"]);
        let r = parse_reply(&lines(
            "454 4.7.0 TLS not available due to local problem\r\n",
        ))
        .unwrap();
        assert!(!r.is_positive());
        assert_eq!(r.enhanced, Some((4, 7, 0)));
        assert_eq!(
            parse_reply(&lines("250-a\r\n251 b\r\n")),
            Err(SmtpParseError::CodeMismatch(250, 251))
        );
        assert_eq!(
            parse_reply(&lines("250-a\r\n")),
            Err(SmtpParseError::Incomplete)
        );
        assert_eq!(parse_reply(&[]), Err(SmtpParseError::Incomplete));
    }

    #[test]
    fn ehlo() {
        let r = parse_reply(&lines(concat!(
            "250-mail.example.test\r\n",
            "250-PIPELINING\r\n",
            "250-SIZE 10240000\r\n",
            "250-VRFY\r\n",
            "250-ETRN\r\n",
            "250-STARTTLS\r\n",
            "250-AUTH PLAIN LOGIN\r\n",
            "250-AUTH=PLAIN LOGIN\r\n",
            "250-ENHANCEDSTATUSCODES\r\n",
            "250-8BITMIME\r\n",
            "250-DSN\r\n",
            "250-SMTPUTF8\r\n",
            "250 CHUNKING\r\n"
        )))
        .unwrap();
        let e = parse_ehlo(&r);
        assert_eq!(e.hostname, "mail.example.test");
        assert!(e.starttls && e.pipelining && e.eightbitmime && e.smtputf8 && e.chunking);
        assert!(e.enhanced_status_codes);
        assert_eq!(e.size, Some(10240000));
        assert_eq!(e.sasl, vec!["PLAIN", "LOGIN"]);
        assert_eq!(e.keywords.len(), 12);

        let bare = parse_ehlo(&parse_reply(&lines("250 smtp.example.test Hello\r\n")).unwrap());
        assert!(bare.keywords.is_empty() && !bare.starttls && bare.size.is_none());
        let size0 = parse_ehlo(&parse_reply(&lines("250-h\r\n250 SIZE\r\n")).unwrap());
        assert_eq!(size0.size, Some(0));
    }

    #[test]
    fn severity_and_one_line() {
        let r = parse_reply(&lines("250 2.0.0 Ok: queued as 4F3A\r\n")).unwrap();
        assert_eq!(r.severity(), Severity::PositiveCompletion);
        assert_eq!(r.one_line(), "250 2.0.0 Ok: queued as 4F3A");
        let r = parse_reply(&lines("354 End data with <CR><LF>.<CR><LF>\r\n")).unwrap();
        assert_eq!(r.severity(), Severity::PositiveIntermediate);
        assert_eq!(r.one_line(), "354 End data with <CR><LF>.<CR><LF>");
        let r = parse_reply(&lines("421 4.3.2 bye\r\n")).unwrap();
        assert_eq!(r.severity(), Severity::TransientNegative);
    }

    proptest::proptest! {
        /// Any bytes: no panic, and no more text comes out than went in.
        #[test]
        fn parsers_are_total(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let bound = String::from_utf8_lossy(&bytes).len();
            match line_code(&bytes) {
                Ok((code, _)) => proptest::prop_assert!((200..600).contains(&code)),
                Err(SmtpParseError::Garbage(g)) => proptest::prop_assert!(g.chars().count() <= 120),
                Err(_) => {}
            }
            let lines: Vec<Vec<u8>> = bytes.split_inclusive(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            if let Ok(r) = parse_reply(&lines) {
                proptest::prop_assert!(r.lines.iter().map(String::len).sum::<usize>() <= bound);
                let e = parse_ehlo(&r);
                proptest::prop_assert!(e.keywords.len() <= r.lines.len());
                proptest::prop_assert!(e.hostname.len() <= bound);
            }
        }
    }
}
