//! The test message (RFC 5322): a unique `Message-ID`, a token in the subject and in
//! `X-Mailprobe-Token`, `Date`, `From`, `To`, a short text body. Built with mail-builder, which
//! emits CRLF line endings and folds long headers (RFC 5322 §2.1.1, §2.2.3).

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use rand::Rng;

/// Header that carries the token; also what the fetch side may search for.
pub(crate) const TOKEN_HEADER: &str = "X-Mailprobe-Token";

/// A message ready for DATA.
#[derive(Debug, Clone)]
pub struct TestMessage {
    /// With angle brackets, as it appears in the header: `<mailprobe.TOKEN@domain>`.
    pub message_id: String,
    pub token: String,
    pub subject: String,
    /// CRLF-terminated lines, not yet dot-stuffed.
    pub bytes: Vec<u8>,
}

/// A random 24-hex-digit token.
pub(crate) fn new_token() -> String {
    let mut rng = rand::rng();
    (0..12)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// Build the message from `from` to `to`; `now_unix` is the Date (seconds since the epoch).
pub fn build(from: &str, to: &str, token: &str, now_unix: i64) -> TestMessage {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("mailprobe.invalid");
    let id = format!("mailprobe.{token}@{domain}");
    let subject = format!("mailprobe round trip {token}");
    let bytes = MessageBuilder::new()
        .from(("mailprobe", from))
        .to(to)
        .subject(subject.clone())
        .message_id(id.clone())
        .date(now_unix)
        .header(TOKEN_HEADER, Raw::new(token.to_string()))
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .text_body(format!(
            "This is a test message sent by mailprobe to check that mail is delivered.\r\n\
             Token: {token}\r\nIt is deleted automatically unless --keep was given.\r\n"
        ))
        .write_to_vec()
        .unwrap_or_default();
    TestMessage {
        message_id: format!("<{id}>"),
        token: token.to_string(),
        subject,
        bytes,
    }
}

/// DATA payload (RFC 5321 §4.5.2): every line starting with "." gets one more; CRLF at the end.
pub(crate) fn dot_stuff(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 16);
    let mut at_line_start = true;
    for &b in msg {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_conformant() {
        let m = build(
            "alice@example.test",
            "bob@example.test",
            "abc123",
            1_800_000_000,
        );
        let text = String::from_utf8(m.bytes.clone()).unwrap();
        assert_eq!(m.message_id, "<mailprobe.abc123@example.test>");
        for h in [
            "Message-ID: <mailprobe.abc123@example.test>",
            "X-Mailprobe-Token: abc123",
            "Date: ",
            "From: ",
            "To: ",
            "Subject: mailprobe round trip abc123",
        ] {
            assert!(text.contains(h), "{h} missing in\n{text}");
        }
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
        let parsed = mail_parser::MessageParser::default()
            .parse(&m.bytes)
            .unwrap();
        assert_eq!(parsed.message_id(), Some("mailprobe.abc123@example.test"));
        assert_ne!(new_token(), new_token());
        assert_eq!(new_token().len(), 24);
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(dot_stuff(b".a\r\nb\r\n..c"), b"..a\r\nb\r\n...c\r\n");
    }
}
