//! `mailprobe probe URL…`: server URLs as candidates. Schemes follow RFC 5092 (`imap`), RFC 2384
//! (`pop`), and the RFC 8314 §3 port assignments for implicit TLS (`imaps`, `pop3s`,
//! `submissions`); `?security=plain|starttls|tls` overrides the scheme's default.

use crate::model::{Candidate, Protocol, Security, Source};

/// A URL that does not name a mail server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    #[error(
        "'{0}': expected SCHEME://HOST[:PORT] (schemes: imap, imaps, pop3, pop3s, smtp, submission, smtps, submissions)"
    )]
    Syntax(String),
    #[error(
        "'{0}': unknown scheme '{1}' (use imap, imaps, pop3, pop3s, smtp, submission, smtps or submissions)"
    )]
    Scheme(String, String),
    #[error("'{0}': invalid port")]
    Port(String),
    #[error("'{0}': the host '{1}' is not a valid host name: {2}")]
    Host(String, String, String),
    #[error("'{0}': invalid query (only security=plain|starttls|tls is understood)")]
    Query(String),
}

/// Protocol, default port and default security of a scheme.
pub(crate) fn scheme_defaults(scheme: &str) -> Option<(Protocol, u16, Security)> {
    Some(match scheme.to_ascii_lowercase().as_str() {
        "imap" => (Protocol::Imap, 143, Security::Starttls),
        "imaps" => (Protocol::Imap, 993, Security::Tls),
        "pop3" | "pop" => (Protocol::Pop3, 110, Security::Starttls),
        "pop3s" | "pops" => (Protocol::Pop3, 995, Security::Tls),
        // Port 25: STARTTLS when offered; the dialogue tolerates its absence there.
        "smtp" => (Protocol::Smtp, 25, Security::Starttls),
        "submission" => (Protocol::Smtp, 587, Security::Starttls),
        "smtps" | "submissions" => (Protocol::Smtp, 465, Security::Tls),
        _ => return None,
    })
}

/// Parse `imaps://mail.example.com[:993][/][?security=tls]` into a candidate from
/// [`Source::User`] with no username.
pub fn parse_url(s: &str) -> Result<Candidate, UrlError> {
    let syntax = || UrlError::Syntax(s.to_string());
    let (scheme, rest) = s.trim().split_once("://").ok_or_else(syntax)?;
    let (protocol, default_port, mut security) = scheme_defaults(scheme)
        .ok_or_else(|| UrlError::Scheme(s.to_string(), scheme.to_string()))?;
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    // A user part (`user@host`) is not taken: the username comes from the address.
    if authority.is_empty() || authority.contains(['/', '@', '#']) {
        return Err(syntax());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(syntax)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(syntax)?),
        };
        (format!("[{h}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(syntax());
    }
    let host = valid_host(&host).map_err(|why| UrlError::Host(s.to_string(), host.clone(), why))?;
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(UrlError::Port(s.to_string())),
        },
    };
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| UrlError::Query(s.to_string()))?;
            if !k.eq_ignore_ascii_case("security") {
                return Err(UrlError::Query(s.to_string()));
            }
            security = match v.to_ascii_lowercase().as_str() {
                "plain" | "none" => Security::Plain,
                "starttls" => Security::Starttls,
                "tls" | "ssl" => Security::Tls,
                _ => return Err(UrlError::Query(s.to_string())),
            };
        }
    }
    Ok(Candidate {
        protocol,
        host,
        port,
        security,
        username: None,
        auth: Vec::new(),
        sources: vec![Source::User],
    })
}

/// The host of a URL, checked before any lookup: an IP address (IPv6 in brackets), or a host
/// name by the LDH rules (RFC 1035 §2.3.4, IDNA to ASCII) — so `mail..example.com` is a usage
/// error, not a DNS failure.
fn valid_host(host: &str) -> Result<String, String> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match v6.parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok(host.to_ascii_lowercase()),
            Err(_) => Err("not an IPv6 address".into()),
        };
    }
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Ok(host.to_string());
    }
    crate::address::normalise_host(host).map(|(ascii, _)| ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let cases: &[(&str, Protocol, &str, u16, Security)] = &[
            (
                "imap://mail.example.com",
                Protocol::Imap,
                "mail.example.com",
                143,
                Security::Starttls,
            ),
            (
                "imaps://Mail.Example.com.",
                Protocol::Imap,
                "mail.example.com",
                993,
                Security::Tls,
            ),
            (
                "pop3://h:1110",
                Protocol::Pop3,
                "h",
                1110,
                Security::Starttls,
            ),
            ("pop3s://h/", Protocol::Pop3, "h", 995, Security::Tls),
            (
                "smtp://mx.example.com",
                Protocol::Smtp,
                "mx.example.com",
                25,
                Security::Starttls,
            ),
            (
                "submission://h",
                Protocol::Smtp,
                "h",
                587,
                Security::Starttls,
            ),
            ("smtps://h", Protocol::Smtp, "h", 465, Security::Tls),
            (
                "submissions://h:2465",
                Protocol::Smtp,
                "h",
                2465,
                Security::Tls,
            ),
            (
                "imap://h?security=plain",
                Protocol::Imap,
                "h",
                143,
                Security::Plain,
            ),
            (
                "imap://h:993?security=tls",
                Protocol::Imap,
                "h",
                993,
                Security::Tls,
            ),
            (
                "submission://h:2525/?security=starttls",
                Protocol::Smtp,
                "h",
                2525,
                Security::Starttls,
            ),
            (
                "imaps://[::1]:9993",
                Protocol::Imap,
                "[::1]",
                9993,
                Security::Tls,
            ),
            (
                "imaps://127.0.0.1",
                Protocol::Imap,
                "127.0.0.1",
                993,
                Security::Tls,
            ),
        ];
        for (url, proto, host, port, sec) in cases {
            let c = parse_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (c.protocol, c.host.as_str(), c.port, c.security),
                (*proto, *host, *port, *sec),
                "{url}"
            );
            assert_eq!(c.sources, vec![Source::User]);
            assert!(c.username.is_none());
        }
    }

    #[test]
    fn bad_urls() {
        for url in [
            "mail.example.com",
            "http://h",
            "imap://",
            "imap://h:0",
            "imap://h:x",
            "imap://h:70000",
            "imap://u@h",
            "imap://h/INBOX",
            "imap://h?security=maybe",
            "imap://h?foo=bar",
            "imaps://[::1",
            "imaps://[::1]x",
        ] {
            assert!(parse_url(url).is_err(), "{url}");
        }
        for url in [
            "imaps://mail..example.com",
            "imaps://-mail.example.com",
            "imaps://mail_1.example.com",
            "imaps://[nope]",
            "imaps://mail example.com",
        ] {
            assert!(
                matches!(parse_url(url), Err(UrlError::Host(..))),
                "{url}: {:?}",
                parse_url(url)
            );
        }
        let c = parse_url("imaps://Mail.Bücher.example.").unwrap();
        assert_eq!(c.host, "mail.xn--bcher-kva.example");
    }
}
