//! The transcript of one connection: every line the client sent (redacted per [`Redact`]
//! before it is stored), every line the server sent, and `*` notes (TLS established, timeout,
//! literal sizes). Times count from the start of the connection attempt.
//!
//! [`Transcript::client`], [`Transcript::server`] and [`Transcript::note`] are the only ways a
//! line gets in, so the rule about what may be stored (a credential never, in either direction)
//! lives here: the redacted part of every sent line, and every form of a secret registered with
//! [`Transcript::hide`] (the password, its base64, a token, a SASL response), is replaced by
//! `<redacted>` wherever it appears — a server that echoes the client's line back included.

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

/// The part of a sent line that `redact` hides (None: nothing hidden).
pub(crate) fn secret_part(line: &str, redact: Redact) -> Option<&str> {
    match redact {
        Redact::No => None,
        Redact::All | Redact::KeepWords(0) => Some(line),
        Redact::KeepWords(n) => line.splitn(n + 1, ' ').nth(n),
    }
}

/// Is `form` worth hiding? Empty SASL responses (`=`, an empty line) and the cancel `*` carry
/// nothing secret (RFC 4959 §3, RFC 4954 §4).
fn is_secret_form(form: &str) -> bool {
    !matches!(form.trim(), "" | "=" | "*")
}

/// Replace every one of `secrets` in `text` with `<redacted>` (`secrets` longest first, so a
/// secret inside a longer one is not cut out of it first).
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "<redacted>");
        }
    }
    out
}

/// Forms of secrets to hide, longest first, without duplicates.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Add one form (ignored when it carries nothing secret).
    pub fn add(&mut self, form: &str) {
        if is_secret_form(form) && !self.0.iter().any(|s| s == form) {
            self.0.push(form.to_string());
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every form replaced by `<redacted>`.
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, &self.0)
    }
}

/// The lines of one connection so far.
#[derive(Debug, Clone)]
pub struct Transcript {
    started: Instant,
    lines: Vec<TranscriptLine>,
    secrets: Secrets,
}

impl Transcript {
    /// An empty transcript whose times count from `started`.
    pub fn new(started: Instant) -> Self {
        Transcript {
            started,
            lines: Vec::new(),
            secrets: Secrets::default(),
        }
    }

    fn push(&mut self, dir: &str, line: String) {
        let t_ms = self.started.elapsed().as_millis() as u64;
        let line = self.secrets.scrub(&line);
        self.lines.push(TranscriptLine {
            t_ms,
            dir: dir.into(),
            line,
        });
    }

    /// Never store `form` (one form of a secret about to be sent), in any line, from now on;
    /// lines already stored are scrubbed too.
    pub fn hide(&mut self, form: &str) {
        self.secrets.add(form);
        for l in &mut self.lines {
            l.line = self.secrets.scrub(&l.line);
        }
    }

    /// A line the client sent, stored as `redact` says; what it redacts is hidden from then on
    /// (a server echoing it back).
    pub fn client(&mut self, line: &str, redact: Redact) {
        if let Some(part) = secret_part(line, redact) {
            self.secrets.add(part);
        }
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
    fn echoed_secrets_are_scrubbed_in_both_directions() {
        let mut t = Transcript::new(Instant::now());
        t.hide("hunter22");
        t.hide("=");
        t.client(
            "a1 AUTHENTICATE PLAIN AGFsAGh1bnRlcjIy",
            Redact::KeepWords(3),
        );
        t.server("a1 NO cannot decode AGFsAGh1bnRlcjIy".into());
        t.server("a1 NO bad password hunter22 = *".into());
        t.client("a2 NOOP hunter22", Redact::No);
        t.note("read error near hunter22");
        let lines: Vec<&str> = t.lines().iter().map(|l| l.line.as_str()).collect();
        assert_eq!(
            lines,
            [
                "a1 AUTHENTICATE PLAIN <redacted>",
                "a1 NO cannot decode <redacted>",
                "a1 NO bad password <redacted> = *",
                "a2 NOOP <redacted>",
                "read error near <redacted>",
            ]
        );
        assert_eq!(secret_part("PASS pw", Redact::KeepWords(1)), Some("pw"));
        assert_eq!(secret_part("AUTH LOGIN", Redact::KeepWords(2)), None);
        assert_eq!(secret_part("x", Redact::No), None);
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
