//! JSON renderer: one pretty document per report (the schema is the serde model; see
//! `schema/report.schema.json` and the README).
//!
//! serde writes C0 controls as `\u001b` (RFC 8259 §7) but C1 controls and bidi characters raw;
//! those are written as `\uXXXX` escapes too ([`ascii_safe`]): the same JSON string value, and
//! `mailprobe --json | less` shows nothing that steers the terminal.

use super::safe::is_unsafe;
use crate::model::{Report, SCHEMA_VERSION};

pub fn render(report: &Report) -> String {
    let s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    ascii_safe(s) + "\n"
}

/// One report on one line (JSON Lines, batch mode).
pub(crate) fn render_line(report: &Report) -> String {
    ascii_safe(serde_json::to_string(report).unwrap_or_default()) + "\n"
}

/// A JSON document for a run that could not start (exit 3): monitoring jobs still get JSON.
pub fn render_error(message: &str, hint: Option<&str>) -> String {
    let v = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "status": "unknown",
        "error": message,
        "hint": hint,
    });
    ascii_safe(serde_json::to_string_pretty(&v).unwrap_or_default()) + "\n"
}

/// Serialized JSON with every unsafe character left raw by serde (C1, bidi; only ever inside a
/// string, as JSON's own syntax is ASCII) written as a `\uXXXX` escape (all are in the BMP).
fn ascii_safe(json: String) -> String {
    if !json.chars().any(|c| !c.is_ascii() && is_unsafe(c)) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if !c.is_ascii() && is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_json_escapes_of_the_same_value() {
        let r = Report::new("check", "a\u{202e}\u{9b}\x1b@example.test", "example.test");
        let s = render(&r);
        assert!(s.contains(r#""a\u202e\u009b\u001b@example.test""#), "{s}");
        let back: Report = serde_json::from_str(&s).unwrap();
        assert_eq!(back, r);
        assert!(render_line(&r).contains(r#"\u202e"#));
    }
}
