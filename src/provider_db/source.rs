//! Reading and validating the human-edited `provider-db/*.toml` files. `build.rs` compiles this
//! file (via `#[path]`) to check the database at build time; the library compiles it only for
//! its unit tests, so the error texts (`provider-db/<file>:<line>: <message>`) are table-tested.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::model::{Access, AppPassword, Auth, OAuth2, Provider, Server};
use super::{Protocol, Security};

/// A provider file as written, with source spans kept for error messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    id: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    domains: Vec<Spanned<String>>,
    #[serde(default)]
    mx: Vec<Spanned<String>>,
    documentation: Option<Spanned<String>>,
    #[serde(default)]
    hints: Vec<Spanned<String>>,
    #[serde(default)]
    app_password: AppPassword,
    enable_first: Option<Spanned<String>>,
    #[serde(default)]
    access: Access,
    oauth2: Option<Spanned<RawOAuth2>>,
    #[serde(default)]
    server: Vec<Spanned<RawServer>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOAuth2 {
    issuer: Spanned<String>,
    scopes: Vec<String>,
    auth_url: Spanned<String>,
    token_url: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    protocol: Protocol,
    host: Spanned<String>,
    port: Spanned<i64>,
    security: Security,
    username: Spanned<String>,
    #[serde(default = "default_auth")]
    auth: Vec<Auth>,
}

fn default_auth() -> Vec<Auth> {
    vec![Auth::PasswordCleartext]
}

/// The `_meta.toml` file: facts about the database as a whole.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    date: Spanned<String>,
}

/// One parsed provider plus the lines of its domains and MX patterns, for cross-file checks.
#[derive(Debug)]
pub struct Parsed {
    pub path: String,
    pub provider: Provider,
    pub domain_lines: Vec<usize>,
    pub mx_lines: Vec<usize>,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Ctx<'a> {
    path: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, msg: impl std::fmt::Display) -> String {
        format!("{}:{}: {}", self.path, line_of(self.text, span.start), msg)
    }
}

/// Parse `_meta.toml`; returns the database date (`YYYY-MM-DD`).
pub fn parse_meta(path: &str, text: &str) -> Result<String, String> {
    let cx = Ctx { path, text };
    let meta: RawMeta = toml::from_str(text).map_err(|e| de_error(&cx, &e))?;
    let d = meta.date.get_ref();
    let b = d.as_bytes();
    let ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !ok {
        return Err(cx.err(meta.date.span(), format!("date '{d}' is not YYYY-MM-DD")));
    }
    Ok(d.clone())
}

fn de_error(cx: &Ctx, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => cx.err(span, msg),
        None => format!("{}:1: {}", cx.path, msg),
    }
}

/// Parse and validate one provider file. `path` is shown in errors (`provider-db/x.toml`),
/// `stem` is the file name without `.toml`, which the `id` must equal.
pub fn parse_provider(path: &str, stem: &str, text: &str) -> Result<Parsed, String> {
    let cx = Ctx { path, text };
    let raw: RawProvider = toml::from_str(text).map_err(|e| de_error(&cx, &e))?;

    let id = raw.id.get_ref();
    if id != stem {
        return Err(cx.err(
            raw.id.span(),
            format!("id '{id}' must equal the file name '{stem}'"),
        ));
    }
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(cx.err(
            raw.id.span(),
            format!("id '{id}' may only hold a-z, 0-9 and '-'"),
        ));
    }
    if raw.name.get_ref().trim().is_empty() {
        return Err(cx.err(raw.name.span(), "name is empty"));
    }
    for d in &raw.domains {
        check_domain(d.get_ref()).map_err(|m| cx.err(d.span(), m))?;
    }
    for m in &raw.mx {
        check_mx_pattern(m.get_ref()).map_err(|msg| cx.err(m.span(), msg))?;
    }
    if raw.domains.is_empty() && raw.mx.is_empty() {
        return Err(cx.err(
            raw.id.span(),
            "a provider needs at least one domain or MX pattern",
        ));
    }
    for text in raw.hints.iter().chain(&raw.enable_first) {
        if text.get_ref().trim().is_empty() {
            return Err(cx.err(text.span(), "hint text is empty"));
        }
    }
    if let Some(doc) = &raw.documentation {
        check_url(doc.get_ref()).map_err(|m| cx.err(doc.span(), m))?;
    }
    let oauth2 = match raw.oauth2 {
        Some(o) => {
            let span = o.span();
            let o = o.into_inner();
            check_url(o.auth_url.get_ref()).map_err(|m| cx.err(o.auth_url.span(), m))?;
            check_url(o.token_url.get_ref()).map_err(|m| cx.err(o.token_url.span(), m))?;
            if o.issuer.get_ref().is_empty() {
                return Err(cx.err(o.issuer.span(), "oauth2 issuer is empty"));
            }
            if o.scopes.is_empty() {
                return Err(cx.err(span, "oauth2 needs at least one scope"));
            }
            Some(OAuth2 {
                issuer: o.issuer.into_inner(),
                scopes: o.scopes,
                auth_url: o.auth_url.into_inner(),
                token_url: o.token_url.into_inner(),
            })
        }
        None => None,
    };

    let mut servers = Vec::new();
    for s in raw.server {
        let span = s.span();
        let s = s.into_inner();
        let port = *s.port.get_ref();
        let port = u16::try_from(port)
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| cx.err(s.port.span(), format!("port {port} is not in 1-65535")))?;
        check_host(s.host.get_ref()).map_err(|m| cx.err(s.host.span(), m))?;
        if s.username.get_ref().trim().is_empty() {
            return Err(cx.err(s.username.span(), "username is empty"));
        }
        if s.auth.is_empty() {
            return Err(cx.err(span, "auth lists no method"));
        }
        if s.auth.contains(&Auth::OAuth2) && oauth2.is_none() {
            return Err(cx.err(
                span,
                "auth names oauth2 but the provider has no [oauth2] table",
            ));
        }
        servers.push(Server {
            protocol: s.protocol,
            host: s.host.into_inner(),
            port,
            security: s.security,
            username: s.username.into_inner(),
            auth: s.auth,
        });
    }
    let incoming = servers.iter().any(|s| s.protocol != Protocol::Smtp);
    let outgoing = servers.iter().any(|s| s.protocol == Protocol::Smtp);
    match raw.access {
        Access::None if !servers.is_empty() => {
            return Err(cx.err(raw.id.span(), "access = \"none\" but servers are listed"));
        }
        Access::None => {}
        _ if !incoming || !outgoing => {
            return Err(cx.err(
                raw.id.span(),
                "needs at least one incoming (imap/pop3) and one outgoing (smtp) server, \
                 or access = \"none\"",
            ));
        }
        _ => {}
    }

    Ok(Parsed {
        path: path.to_string(),
        domain_lines: raw
            .domains
            .iter()
            .map(|d| line_of(text, d.span().start))
            .collect(),
        mx_lines: raw
            .mx
            .iter()
            .map(|m| line_of(text, m.span().start))
            .collect(),
        provider: Provider {
            id: raw.id.into_inner(),
            name: raw.name.into_inner(),
            domains: raw.domains.into_iter().map(Spanned::into_inner).collect(),
            mx: raw.mx.into_iter().map(Spanned::into_inner).collect(),
            documentation: raw.documentation.map(Spanned::into_inner),
            hints: raw.hints.into_iter().map(Spanned::into_inner).collect(),
            app_password: raw.app_password,
            enable_first: raw.enable_first.map(Spanned::into_inner),
            access: raw.access,
            oauth2,
            servers,
        },
    })
}

/// Checks across files: a domain, or an MX pattern, belongs to one provider only.
pub fn check_unique(parsed: &[Parsed]) -> Result<(), String> {
    let mut domains: HashMap<&str, &str> = HashMap::new();
    let mut mx: HashMap<&str, &str> = HashMap::new();
    for p in parsed {
        for (d, line) in p.provider.domains.iter().zip(&p.domain_lines) {
            if let Some(other) = domains.insert(d, &p.provider.id) {
                return Err(format!(
                    "{}:{}: domain '{d}' is already listed by provider '{other}'",
                    p.path, line
                ));
            }
        }
        for (m, line) in p.provider.mx.iter().zip(&p.mx_lines) {
            if let Some(other) = mx.insert(m, &p.provider.id) {
                return Err(format!(
                    "{}:{}: MX pattern '{m}' is already listed by provider '{other}'",
                    p.path, line
                ));
            }
        }
    }
    Ok(())
}

/// LDH labels (RFC 1035 §2.3.1, RFC 1123 §2.1), lowercase only.
fn check_labels(name: &str, allow_star: bool) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!("'{name}' is longer than 253 characters"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("'{name}' needs at least two labels"));
    }
    for l in labels {
        let ok_char = |c: char| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (allow_star && c == '*')
        };
        if l.is_empty() || l.len() > 63 {
            return Err(format!("'{name}' has an empty or over-long label"));
        }
        if let Some(c) = l.chars().find(|&c| !ok_char(c)) {
            return Err(if c.is_ascii_uppercase() {
                format!("'{name}' must be lowercase")
            } else {
                format!("'{name}' has the character {c:?}, not allowed in a host name")
            });
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err(format!("'{name}': label '{l}' starts or ends with '-'"));
        }
    }
    Ok(())
}

/// A mail domain, or `*.domain` for every subdomain of it.
fn check_domain(d: &str) -> Result<(), String> {
    check_labels(d.strip_prefix("*.").unwrap_or(d), false)
}

/// An MX pattern: a host name where `*` matches any run of characters.
fn check_mx_pattern(m: &str) -> Result<(), String> {
    check_labels(m, true)?;
    if m.split('.').filter(|l| *l != "*").count() < 2 {
        return Err(format!(
            "MX pattern '{m}' must name at least two fixed labels"
        ));
    }
    Ok(())
}

/// A server host: a name (with `%EMAILDOMAIN%` allowed) or an IPv4 literal (for local bridges).
fn check_host(h: &str) -> Result<(), String> {
    if h.parse::<std::net::Ipv4Addr>().is_ok() {
        return Ok(());
    }
    check_labels(&h.replace("%EMAILDOMAIN%", "example.com"), false)
}

fn check_url(u: &str) -> Result<(), String> {
    if !u.starts_with("https://") || u.len() <= "https://".len() || u.contains(char::is_whitespace)
    {
        return Err(format!(
            "URL '{u}' must start with https:// and hold no spaces"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"id = "example"
name = "Example Mail"
domains = ["example.com", "*.example.net"]
mx = ["mx*.example.com"]
documentation = "https://example.com/help"
[[server]]
protocol = "imap"
host = "imap.example.com"
port = 993
security = "tls"
username = "%EMAILADDRESS%"
[[server]]
protocol = "smtp"
host = "smtp.%EMAILDOMAIN%"
port = 465
security = "tls"
username = "%EMAILADDRESS%"
"#;

    #[test]
    fn good_file_parses() {
        let p = parse_provider("provider-db/example.toml", "example", GOOD).unwrap();
        assert_eq!(p.provider.domains, ["example.com", "*.example.net"]);
        assert_eq!(p.domain_lines, [3, 3]);
        assert_eq!(p.provider.servers[0].port, 993);
        assert_eq!(p.provider.servers[1].auth, [Auth::PasswordCleartext]);
    }

    #[test]
    fn malformed_files_name_path_and_line() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "id = \"example\"",
                "id = \"other\"",
                ":1: id 'other' must equal",
            ),
            (
                "[\"example.com\", ",
                "[\"Example.com\", ",
                ":3: 'Example.com' must be lowercase",
            ),
            (
                "\"*.example.net\"",
                "\"a_b.example.net\"",
                ":3: 'a_b.example.net' has the character '_'",
            ),
            (
                "mx*.example.com",
                "mx..example.com",
                ":4: 'mx..example.com' has an empty",
            ),
            (
                "\"https://example.com/help\"",
                "\"http://example.com/help\"",
                ":5: URL 'http://",
            ),
            (
                "port = 993",
                "port = 99300",
                ":9: port 99300 is not in 1-65535",
            ),
            ("port = 993", "port = 0", ":9: port 0 is not"),
            (
                "documentation = \"https://example.com/help\"",
                "documentation = \"https://example.com/help\"\nhints = [\"ok\",\n  \" \"]",
                ":7: hint text is empty",
            ),
            (
                "security = \"tls\"\nusername = \"%EMAILADDRESS%\"\n[[server]]",
                "security = \"ssl\"\nusername = \"%EMAILADDRESS%\"\n[[server]]",
                ":10: unknown variant `ssl`",
            ),
            (
                "protocol = \"imap\"",
                "protocol = \"jmap\"",
                ":7: unknown variant `jmap`",
            ),
            (
                "host = \"imap.example.com\"",
                "host = \"imap example.com\"",
                ":8: 'imap example.com' has the character ' '",
            ),
            (
                "name = \"Example Mail\"",
                "name = \"Example Mail\"\ncolour = \"red\"",
                ":3: unknown field `colour`",
            ),
            ("port = 465", "port = \"465\"", ":15: invalid type"),
            (
                "[[server]]\nprotocol = \"smtp\"",
                "[[server]]\nprotocol = \"pop3\"",
                "needs at least one incoming (imap/pop3) and one outgoing",
            ),
            (
                "username = \"%EMAILADDRESS%\"\n[[server]]",
                "username = \"\"\n[[server]]",
                ":11: username is empty",
            ),
            (
                "domains = [\"example.com\", \"*.example.net\"]",
                "domains = \"example.com\"",
                ":3: invalid type",
            ),
            ("name = \"Example Mail\"", "name = \"Example Mail", ":2: "),
        ];
        for (from, to, want) in cases {
            assert!(GOOD.contains(from), "case {from:?} does not apply");
            let text = GOOD.replacen(from, to, 1);
            let err = match parse_provider("provider-db/example.toml", "example", &text) {
                Ok(_) => panic!("{to:?} was accepted"),
                Err(e) => e,
            };
            assert!(
                err.starts_with("provider-db/example.toml:") && err.contains(want),
                "{to:?}: got {err:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn access_none_and_oauth_rules() {
        let none = "id = \"x\"\nname = \"X\"\ndomains = [\"x.example\"]\naccess = \"none\"\n";
        assert!(parse_provider("provider-db/x.toml", "x", none).is_ok());
        let with_server = format!(
            "{none}[[server]]\nprotocol = \"imap\"\nhost = \"imap.x.example\"\nport = 993\nsecurity = \"tls\"\nusername = \"u\"\n"
        );
        let e = parse_provider("provider-db/x.toml", "x", &with_server).unwrap_err();
        assert!(e.contains(":1: access = \"none\" but servers"), "{e}");
        let oauth = GOOD.replacen("port = 993", "port = 993\nauth = [\"oauth2\"]", 1);
        let e = parse_provider("provider-db/example.toml", "example", &oauth).unwrap_err();
        assert!(e.contains(":6: auth names oauth2"), "{e}");
        let nothing = "id = \"y\"\nname = \"Y\"\naccess = \"none\"\n";
        let e = parse_provider("provider-db/y.toml", "y", nothing).unwrap_err();
        assert!(e.contains("at least one domain or MX"), "{e}");
    }

    #[test]
    fn duplicates_across_files() {
        let a = parse_provider("provider-db/example.toml", "example", GOOD).unwrap();
        let other = GOOD
            .replacen("id = \"example\"", "id = \"other\"", 1)
            .replacen(
                "\"example.com\", ",
                "\n  \"example.org\", \"example.com\", ",
                1,
            );
        let b = parse_provider("provider-db/other.toml", "other", &other).unwrap();
        let e = check_unique(&[a, b]).unwrap_err();
        assert_eq!(
            e,
            "provider-db/other.toml:4: domain 'example.com' is already listed by provider 'example'"
        );
    }

    #[test]
    fn meta_date() {
        assert_eq!(
            parse_meta("provider-db/_meta.toml", "date = \"2026-11-27\"\n").unwrap(),
            "2026-11-27"
        );
        let e = parse_meta("provider-db/_meta.toml", "\ndate = \"27.11.2026\"\n").unwrap_err();
        assert_eq!(
            e,
            "provider-db/_meta.toml:2: date '27.11.2026' is not YYYY-MM-DD"
        );
    }
}
