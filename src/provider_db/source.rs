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
    #[serde(default)]
    sources: Vec<Spanned<String>>,
    /// `"YYYY-MM-DD"` or `false`; read as any value so the error can say what is wrong.
    verified: Option<Spanned<toml::Value>>,
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

/// One parsed provider plus the lines of its domains, MX patterns and `verified` date, for
/// cross-file checks.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub path: String,
    pub provider: Provider,
    pub domain_lines: Vec<usize>,
    pub mx_lines: Vec<usize>,
    pub verified_line: usize,
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
pub(crate) fn parse_meta(path: &str, text: &str) -> Result<String, String> {
    let cx = Ctx { path, text };
    let meta: RawMeta = toml::from_str(text).map_err(|e| de_error(&cx, &e))?;
    let d = meta.date.get_ref();
    if !is_date(d) {
        return Err(cx.err(meta.date.span(), format!("date '{d}' is not YYYY-MM-DD")));
    }
    Ok(d.clone())
}

/// A real calendar date written `YYYY-MM-DD` (ISO 8601 calendar date, proleptic Gregorian).
pub(crate) fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: Range<usize>| d.get(r).filter(|s| s.bytes().all(|c| c.is_ascii_digit()));
    let (Some(y), Some(m), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let (y, m, day): (u32, u32, u32) = (
        y.parse().unwrap_or(0),
        m.parse().unwrap_or(0),
        day.parse().unwrap_or(0),
    );
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Provenance: every `sources` entry is an https URL, and `verified` is the date the facts
/// were last checked against them (which needs a source) or `false`. Returns the date, if any.
fn check_provenance(
    cx: &Ctx,
    id_span: Range<usize>,
    sources: &[Spanned<String>],
    verified: Option<&Spanned<toml::Value>>,
) -> Result<Option<String>, String> {
    for u in sources {
        check_url(u.get_ref()).map_err(|m| cx.err(u.span(), m))?;
    }
    let Some(v) = verified else {
        return Err(cx.err(
            id_span,
            "no provenance: add sources = [\"https://…\"] with verified = \"YYYY-MM-DD\" \
             (the day the servers were checked against them), or verified = false",
        ));
    };
    match v.get_ref() {
        toml::Value::Boolean(false) => Ok(None),
        toml::Value::String(d) if !is_date(d) => {
            Err(cx.err(v.span(), format!("verified '{d}' is not a date YYYY-MM-DD")))
        }
        toml::Value::String(_) if sources.is_empty() => Err(cx.err(
            v.span(),
            "verified names a date but sources is empty: list the pages the servers were \
             checked against",
        )),
        toml::Value::String(d) => Ok(Some(d.clone())),
        other => Err(cx.err(
            v.span(),
            format!("verified must be a date \"YYYY-MM-DD\" or false, not {other}"),
        )),
    }
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
pub(crate) fn parse_provider(path: &str, stem: &str, text: &str) -> Result<Parsed, String> {
    let cx = Ctx { path, text };
    let raw: RawProvider = toml::from_str(text).map_err(|e| de_error(&cx, &e))?;
    check_identity(&cx, &raw, stem)?;
    let oauth2 = raw.oauth2.map(|o| oauth2_table(&cx, o)).transpose()?;
    let servers = raw
        .server
        .into_iter()
        .map(|s| server(&cx, s, oauth2.is_some()))
        .collect::<Result<Vec<_>, _>>()?;
    let verified = check_provenance(&cx, raw.id.span(), &raw.sources, raw.verified.as_ref())?;
    let verified_line = raw
        .verified
        .as_ref()
        .map_or(1, |v| line_of(text, v.span().start));
    check_access(&cx, raw.id.span(), raw.access, &servers)?;

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
        verified_line,
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
            sources: raw.sources.into_iter().map(Spanned::into_inner).collect(),
            verified,
        },
    })
}

/// The provider's own fields: `id` (equal to the file name, a-z 0-9 -), `name`, domains, MX
/// patterns, hints and documentation URL.
fn check_identity(cx: &Ctx, raw: &RawProvider, stem: &str) -> Result<(), String> {
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
    Ok(())
}

/// The `[oauth2]` table: https endpoints, an issuer and at least one scope.
fn oauth2_table(cx: &Ctx, o: Spanned<RawOAuth2>) -> Result<OAuth2, String> {
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
    Ok(OAuth2 {
        issuer: o.issuer.into_inner(),
        scopes: o.scopes,
        auth_url: o.auth_url.into_inner(),
        token_url: o.token_url.into_inner(),
    })
}

/// One `[[server]]`: a port in 1-65535, a valid host, a user name, at least one auth method
/// (oauth2 only with an `[oauth2]` table).
fn server(cx: &Ctx, s: Spanned<RawServer>, has_oauth2: bool) -> Result<Server, String> {
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
    if s.auth.contains(&Auth::OAuth2) && !has_oauth2 {
        return Err(cx.err(
            span,
            "auth names oauth2 but the provider has no [oauth2] table",
        ));
    }
    Ok(Server {
        protocol: s.protocol,
        host: s.host.into_inner(),
        port,
        security: s.security,
        username: s.username.into_inner(),
        auth: s.auth,
    })
}

/// `access = "none"` lists no servers; any other access needs an incoming and an outgoing one.
fn check_access(
    cx: &Ctx,
    id_span: Range<usize>,
    access: Access,
    servers: &[Server],
) -> Result<(), String> {
    let incoming = servers.iter().any(|s| s.protocol != Protocol::Smtp);
    let outgoing = servers.iter().any(|s| s.protocol == Protocol::Smtp);
    match access {
        Access::None if !servers.is_empty() => {
            return Err(cx.err(id_span, "access = \"none\" but servers are listed"));
        }
        Access::None => {}
        _ if !incoming || !outgoing => {
            return Err(cx.err(
                id_span,
                "needs at least one incoming (imap/pop3) and one outgoing (smtp) server, \
                 or access = \"none\"",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// A file's `verified` date may not be later than the database date (`_meta.toml`): whoever
/// checks facts bumps the database date too.
pub(crate) fn check_dates(parsed: &[Parsed], db_date: &str) -> Result<(), String> {
    for p in parsed {
        if let Some(d) = &p.provider.verified
            && d.as_str() > db_date
        {
            return Err(format!(
                "{}:{}: verified date {d} is later than the database date {db_date} in \
                 provider-db/_meta.toml",
                p.path, p.verified_line
            ));
        }
    }
    Ok(())
}

/// Checks across files: a domain, or an MX pattern, belongs to one provider only.
pub(crate) fn check_unique(parsed: &[Parsed]) -> Result<(), String> {
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
#[path = "source/tests.rs"]
mod tests;
