//! Terminal-safe text for the text renderers (human, Nagios, the batch table).
//!
//! Nearly every string in a report came from the network or may have: greetings and replies,
//! autoconfig and Autodiscover fields, certificate subjects and issuers, transcript lines, hints
//! quoting a server. Written raw, `ESC ]0;…` retitles the terminal, `ESC [2J` clears it, colour
//! codes fake a verdict, and bidirectional-formatting characters reorder what is shown (Unicode
//! TR #9; the "Trojan Source" attack, CVE-2021-42574). So every control character (C0, DEL, C1)
//! and every bidi control is written as an escape, `\x1b` or `\u{202e}`, never raw.
//!
//! It is done once: [`report`] returns a copy of the report with every string escaped, found by
//! walking its serde tree, so a field added to the model later is covered without anyone
//! remembering to wrap it. [`Safe`] escapes one string in a `format!`. JSON needs neither: serde
//! writes control characters as `\u001b` (RFC 8259 §7), and the JSON keeps the data unaltered.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::model::Report;

/// Bidirectional formatting characters (Unicode TR #9 §2): ALM, LRM, RLM, LRE, RLE, PDF, LRO,
/// RLO, LRI, RLI, FSI, PDI; and the line and paragraph separators, which some terminals break on.
fn is_bidi_or_separator(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{2028}' | '\u{2029}'
    )
}

/// Does `c` need escaping before it reaches a terminal?
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_or_separator(c)
}

/// `s` with every unsafe character escaped: below U+0080 as `\xNN`, above as `\u{NNNN}`.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    use fmt::Write;
    if !is_unsafe(c) {
        out.push(c);
    } else if (c as u32) < 0x80 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// A string shown escaped: `format!("{}", Safe(greeting))`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Safe<'a>(pub &'a str);

impl fmt::Display for Safe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&escape(self.0))
    }
}

/// A copy of `r` with every string escaped (see the module docs). The text renderers start here.
pub fn report(r: &Report) -> Report {
    let escaped = serde_json::to_value(r).ok().and_then(|mut v| {
        escape_value(&mut v);
        serde_json::from_value::<Report>(v).ok()
    });
    escaped.unwrap_or_else(|| fallback(r))
}

/// Never expected (the model round-trips through serde, a test proves it); if it ever fails, the
/// bare verdict, which still shows nothing raw.
fn fallback(r: &Report) -> Report {
    let mut out = Report::for_servers(&escape(&r.command));
    out.address = r.address.as_deref().map(|a| escape(a).into_owned());
    out.domain = r.domain.as_deref().map(|d| escape(d).into_owned());
    out.status = r.status;
    out.elapsed_ms = r.elapsed_ms;
    out
}

fn escape_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let Cow::Owned(e) = escape(s) {
                *s = e;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(escape_value),
        Value::Object(m) => m.values_mut().for_each(escape_value),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, FindingCode, Severity};

    #[test]
    fn escapes_controls_and_bidi_only() {
        let cases = [
            ("plain mail.example.com", "plain mail.example.com"),
            ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
            ("\x1b[2J\x1b[31mOK", "\\x1b[2J\\x1b[31mOK"),
            ("a\r\nb\tc\0", "a\\x0d\\x0ab\\x09c\\x00"),
            ("\u{9b}31m", "\\u{9b}31m"),
            ("gro\u{202e}moc.evil", "gro\\u{202e}moc.evil"),
            ("\u{2066}x\u{2069}\u{200f}", "\\u{2066}x\\u{2069}\\u{200f}"),
            ("bücher.example ✓ 日本", "bücher.example ✓ 日本"),
            ("\\x1b stays text", "\\x1b stays text"),
        ];
        for (raw, want) in cases {
            assert_eq!(escape(raw), want, "{raw:?}");
            assert_eq!(Safe(raw).to_string(), want);
        }
        assert!(matches!(escape("clean"), Cow::Borrowed(_)));
        assert_eq!(format!("[{:<6}]", Safe("\x07")), "[\\x07  ]");
    }

    #[test]
    fn report_copy_escapes_every_string_and_keeps_the_rest() {
        let mut r = Report::new("check", "a@\x1b[2Jexample.test", "example.test");
        r.findings.push(
            Finding::new(
                Severity::Warning,
                FindingCode::TlsLegacyOnly,
                "server says \u{202e}KO",
            )
            .hint("\x1b]0;title\x07"),
        );
        r.elapsed_ms = 42;
        let s = report(&r);
        assert_eq!(s.address.as_deref(), Some("a@\\x1b[2Jexample.test"));
        assert_eq!(s.findings[0].message, "server says \\u{202e}KO");
        assert_eq!(s.findings[0].hint.as_deref(), Some("\\x1b]0;title\\x07"));
        assert_eq!(s.findings[0].code, FindingCode::TlsLegacyOnly);
        assert_eq!((s.status, s.elapsed_ms), (r.status, 42));
    }
}
