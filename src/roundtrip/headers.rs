//! What the delivered message's header says: the hops from the `Received:` fields (RFC 5321
//! §4.4) in the order they happened, the verdicts of `Authentication-Results:` (RFC 8601
//! §2.2) for SPF, DKIM, DMARC and the like, and whether a message is provably our test message
//! ([`is_ours`]: its `Message-ID` and its token both match).

use mail_parser::{HeaderName, Host, MessageParser};

use crate::model::{AuthResult, Hop};

fn host(h: &Host<'_>) -> String {
    match h {
        Host::Name(n) => n.to_string(),
        Host::IpAddr(ip) => ip.to_string(),
    }
}

/// The value of the first `name:` field of a header block (RFC 5322 §2.2: name case-insensitive,
/// folded lines unfolded, §2.2.3), trimmed; the block ends at the first empty line.
pub fn field(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .peekable();
    while let Some(l) = lines.next() {
        if l.is_empty() {
            return None;
        }
        let Some((n, v)) = l.split_once(':') else {
            continue;
        };
        if n.trim_end().eq_ignore_ascii_case(name) {
            let mut value = v.trim().to_string();
            while let Some(next) = lines.peek().filter(|n| n.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(next.trim());
                lines.next();
            }
            return Some(value);
        }
    }
    None
}

/// Is this header block our test message's: its `Message-ID` equals `message_id` and its
/// `X-Mailprobe-Token` equals `token`? A server may answer a search with any message, so
/// nothing is deleted without both.
pub(crate) fn is_ours(raw: &[u8], message_id: &str, token: &str) -> bool {
    let id = field(raw, "Message-ID").map(|v| v.replace(' ', ""));
    id.as_deref() == Some(message_id)
        && field(raw, super::message::TOKEN_HEADER).as_deref() == Some(token)
}

/// Hops from a header block (or a whole message), oldest first.
pub fn hops(raw: &[u8]) -> Vec<Hop> {
    let Some(msg) = MessageParser::new()
        .header_received(HeaderName::Received)
        .parse_headers(raw)
    else {
        return Vec::new();
    };
    let mut out: Vec<Hop> = msg
        .received_all()
        .map(|r| Hop {
            from: r
                .from
                .as_ref()
                .map(host)
                .or_else(|| r.helo.as_ref().map(host)),
            by: r.by.as_ref().map(host),
            with: r.with.map(|w| format!("{w:?}").to_uppercase()),
            id: r.id.as_ref().map(|s| s.to_string()),
            date: r.date.as_ref().map(|d| d.to_rfc3339()),
            delay_s: None,
        })
        .collect();
    out.reverse();
    let stamps: Vec<Option<i64>> = msg
        .received_all()
        .map(|r| r.date.as_ref().map(|d| d.to_timestamp()))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    for i in 1..out.len() {
        if let (Some(a), Some(b)) = (stamps[i - 1], stamps[i]) {
            out[i].delay_s = Some(b - a);
        }
    }
    out
}

/// All `Authentication-Results` verdicts in a header block.
pub fn auth_results(raw: &[u8]) -> Vec<AuthResult> {
    let Some(msg) = MessageParser::new().parse_headers(raw) else {
        return Vec::new();
    };
    msg.headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results"))
        .flat_map(|(_, v)| parse_auth_results(v))
        .collect()
}

/// RFC 8601 §2.2: `authserv-id [version] ; method=result [reason] [ptype.prop=value ...] ; ...`.
/// Comments in parentheses are dropped; `none` alone means no result.
pub(crate) fn parse_auth_results(value: &str) -> Vec<AuthResult> {
    let clean = strip_comments(value);
    let mut parts = clean.split(';');
    let id = parts
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    parts
        .filter_map(|p| {
            let p = p.trim();
            let mut words = p.split_whitespace();
            let first = words.next()?;
            let (method, result) = first.split_once('=')?;
            let rest: Vec<&str> = words.collect();
            Some(AuthResult {
                authserv_id: id.clone(),
                method: method.to_ascii_lowercase(),
                result: result.to_ascii_lowercase(),
                detail: (!rest.is_empty()).then(|| rest.join(" ")),
            })
        })
        .collect()
}

fn strip_comments(s: &str) -> String {
    let mut depth = 0u32;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            '\r' | '\n' | '\t' if depth == 0 => out.push(' '),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_only_with_both_the_message_id_and_the_token() {
        let h = |id: &str, tok: &str| {
            format!("Subject: x\r\nMessage-ID: {id}\r\nX-Mailprobe-Token: {tok}\r\n\r\nbody")
        };
        let cases: &[(String, bool)] = &[
            (h("<m.1@x>", "t1"), true),
            (h("<m.2@x>", "t1"), false),
            (h("<m.1@x>", "t2"), false),
            (
                "message-id:\r\n <m.1@x>\r\nx-mailprobe-token: t1\r\n".into(),
                true,
            ),
            ("Message-ID: <m.1@x>\r\n".into(), false),
            ("X-Mailprobe-Token: t1\r\n".into(), false),
            (
                "\r\nMessage-ID: <m.1@x>\r\nX-Mailprobe-Token: t1\r\n".into(),
                false,
            ),
            (String::new(), false),
        ];
        for (raw, want) in cases {
            assert_eq!(is_ours(raw.as_bytes(), "<m.1@x>", "t1"), *want, "{raw:?}");
        }
    }

    const HDR: &[u8] = b"Return-Path: <alice@example.test>\r\n\
Authentication-Results: mx.example.net; spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.test;\r\n\tdkim=fail header.d=example.test; dmarc=none\r\n\
Received: from mail.example.test\r\n\tby mail.example.test with LMTP\r\n\tid abc ; Fri, 27 Nov 2026 16:00:03 +0000\r\n\
Received: from localhost (localhost [127.0.0.1])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\tby mail.example.test (Postfix) with ESMTPSA id 4F3A2B1C\r\n\tfor <bob@example.test>; Fri, 27 Nov 2026 16:00:01 +0000 (UTC)\r\n\
Subject: x\r\n\r\n";

    #[test]
    fn hops_oldest_first() {
        let h = hops(HDR);
        assert_eq!(h.len(), 2, "{h:?}");
        assert_eq!(h[0].id.as_deref(), Some("4F3A2B1C"));
        assert_eq!(h[0].with.as_deref(), Some("ESMTPSA"));
        assert_eq!(h[0].by.as_deref(), Some("mail.example.test"));
        assert_eq!(h[1].with.as_deref(), Some("LMTP"));
        assert_eq!(h[1].delay_s, Some(2));
        assert!(
            h[0].date
                .as_deref()
                .unwrap()
                .starts_with("2026-11-27T16:00:01")
        );
    }

    /// A message relayed by an outside server into a Gmail-like mailbox (three hops, ARC and
    /// Authentication-Results spanning folded lines, times in two zones).
    #[test]
    fn relayed_message_fixture() {
        let raw = include_bytes!("../../tests/fixtures/messages/relayed-gmail-headers.eml");
        let h = hops(raw);
        assert_eq!(h.len(), 3, "{h:?}");
        assert_eq!(h[0].id.as_deref(), Some("4ABCD1234"));
        assert_eq!(h[0].with.as_deref(), Some("ESMTPSA"));
        assert_eq!(h[1].by.as_deref(), Some("mx.google.com"));
        assert_eq!(h[1].delay_s, Some(3));
        assert_eq!(h[2].delay_s, Some(1));
        let r = auth_results(raw);
        let v: Vec<(&str, &str)> = r
            .iter()
            .map(|a| (a.method.as_str(), a.result.as_str()))
            .collect();
        // ARC-Authentication-Results is a different field and is not counted.
        assert_eq!(v, [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]);
        assert_eq!(r[2].detail.as_deref(), Some("header.from=example.net"));
    }

    #[test]
    fn garbage_does_not_panic() {
        for raw in [
            &b""[..],
            b"\r\n",
            b"Received: ;\r\n\r\n",
            b"Received: from\r\n",
            "Authentication-Results: \u{e9};=;(((\r\n".as_bytes(),
            &[0xff, 0xfe, b':', b'\n'],
        ] {
            let _ = hops(raw);
            let _ = auth_results(raw);
        }
        assert!(parse_auth_results(";;; =").len() <= 1);
    }

    #[test]
    fn auth_results_table() {
        let r = auth_results(HDR);
        let v: Vec<(&str, &str)> = r
            .iter()
            .map(|a| (a.method.as_str(), a.result.as_str()))
            .collect();
        assert_eq!(v, [("spf", "pass"), ("dkim", "fail"), ("dmarc", "none")]);
        assert_eq!(r[0].authserv_id, "mx.example.net");
        assert_eq!(r[0].detail.as_deref(), Some("smtp.mailfrom=example.test"));
        assert!(parse_auth_results("example.org 1; none").is_empty());
    }
}
