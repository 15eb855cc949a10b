//! The transcript of one connection: every line the client sent (redacted per [`Redact`]
//! before it is stored), every line the server sent, and `*` notes (TLS established, timeout,
//! literal sizes). Times count from the start of the connection attempt.
//!
//! [`Transcript::client`] and [`Transcript::server`] are the only ways a line gets in, so a
//! rule about what may be stored (a credential never, in either direction) has one place to
//! live: client lines are redacted here; server lines pass through [`Transcript::server`].

use std::time::Instant;

use crate::model::TranscriptLine;

/// How a sent line is stored in the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redact {
    /// Stored as sent.
    No,
    /// Stored as `<redacted>` (SASL continuation data, `PASS`-only lines).
    All,
    /// The first N space-separated words of the line as sent (an IMAP tag counts) are kept,
    /// the rest becomes `<redacted>`: `KeepWords(3)` gives `a1 LOGIN alice <redacted>`,
    /// `KeepWords(2)` gives `AUTH PLAIN <redacted>`.
    KeepWords(usize),
}

/// Apply a [`Redact`] flag to a line.
pub fn redact_line(line: &str, redact: Redact) -> String {
    match redact {
        Redact::No => line.to_string(),
        Redact::All | Redact::KeepWords(0) => "<redacted>".to_string(),
        Redact::KeepWords(n) => {
            let words: Vec<&str> = line.splitn(n + 1, ' ').collect();
            if words.len() <= n {
                line.to_string()
            } else {
                format!("{} <redacted>", words[..n].join(" "))
            }
        }
    }
}

/// The lines of one connection so far.
#[derive(Debug, Clone)]
pub struct Transcript {
    started: Instant,
    lines: Vec<TranscriptLine>,
}

impl Transcript {
    /// An empty transcript whose times count from `started`.
    pub fn new(started: Instant) -> Self {
        Transcript {
            started,
            lines: Vec::new(),
        }
    }

    fn push(&mut self, dir: &str, line: String) {
        let t_ms = self.started.elapsed().as_millis() as u64;
        self.lines.push(TranscriptLine {
            t_ms,
            dir: dir.into(),
            line,
        });
    }

    /// A line the client sent, stored as `redact` says.
    pub fn client(&mut self, line: &str, redact: Redact) {
        self.push("C", redact_line(line, redact));
    }

    /// A line the server sent (without its CRLF; invalid UTF-8 already replaced).
    pub fn server(&mut self, line: String) {
        self.push("S", line);
    }

    /// A `*` note: something that happened on the connection, not a line on it.
    pub fn note(&mut self, text: impl Into<String>) {
        self.push("*", text.into());
    }

    pub fn lines(&self) -> &[TranscriptLine] {
        &self.lines
    }

    /// Hand the lines out, leaving the transcript empty.
    pub fn take(&mut self) -> Vec<TranscriptLine> {
        std::mem::take(&mut self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        let cases: &[(&str, Redact, &str)] = &[
            (
                "a1 LOGIN alice secret",
                Redact::KeepWords(3),
                "a1 LOGIN alice <redacted>",
            ),
            (
                "a1 LOGIN alice \"two words\"",
                Redact::KeepWords(3),
                "a1 LOGIN alice <redacted>",
            ),
            (
                "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
                Redact::KeepWords(2),
                "AUTH PLAIN <redacted>",
            ),
            ("AUTH LOGIN", Redact::KeepWords(2), "AUTH LOGIN"),
            ("PASS secret", Redact::KeepWords(1), "PASS <redacted>"),
            ("YWxpY2U=", Redact::All, "<redacted>"),
            ("a2 CAPABILITY", Redact::No, "a2 CAPABILITY"),
        ];
        for (line, r, want) in cases {
            assert_eq!(redact_line(line, *r), *want);
        }
    }

    #[test]
    fn directions_and_take() {
        let mut t = Transcript::new(Instant::now());
        t.client("PASS hunter2", Redact::KeepWords(1));
        t.server("+OK".into());
        t.note("TLS established");
        let dirs: Vec<&str> = t.lines().iter().map(|l| l.dir.as_str()).collect();
        assert_eq!(dirs, ["C", "S", "*"]);
        assert_eq!(t.lines()[0].line, "PASS <redacted>");
        assert_eq!(t.take().len(), 3);
        assert!(t.lines().is_empty());
    }
}
