//! Source 2: Thunderbird-style autoconfig documents over HTTP(S), and the ISPDB.
//!
//! URLs (autoconfig draft §4.1): `https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…`,
//! `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`, the same two over plain http
//! (source `autoconfig-http`: not trusted), and `<ispdb-url><domain>`.

use std::time::Instant;

use super::{SourceResult, attempt, failed};
use crate::address::Address;
use crate::discover::autoconfig as parser;
use crate::model::{Attempt, AttemptOutcome, Finding, FindingCode, Severity, Source};
use crate::net::Net;
use crate::net::http::{self, HttpRequest};
use futures::FutureExt;

/// The autoconfig URLs for `domain`, each with its source.
pub fn urls(addr: &Address, domain: &str) -> Vec<(Source, String)> {
    let q = percent_encode(&addr.ascii());
    vec![
        (
            Source::Autoconfig,
            format!("https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={q}"),
        ),
        (
            Source::AutoconfigWellknown,
            format!("https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
        ),
        (
            Source::AutoconfigHttp,
            format!("http://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={q}"),
        ),
        (
            Source::AutoconfigHttp,
            format!("http://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
        ),
    ]
}

/// ISPDB URL for `domain` (the base URL ends with `/`, as Thunderbird's does).
pub fn ispdb_url(base: &str, domain: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{domain}")
    } else {
        format!("{base}/{domain}")
    }
}

/// Fetch every autoconfig URL of the address's domain and the ISPDB, concurrently.
pub async fn run(net: &Net, addr: &Address) -> SourceResult {
    let mut jobs: Vec<(Source, String)> = urls(addr, &addr.domain);
    jobs.push((Source::Ispdb, ispdb_url(&net.cfg.ispdb_url, &addr.domain)));
    let results = net
        .join_bounded(
            jobs.into_iter()
                .map(|(src, url)| match src {
                    Source::Ispdb => fetch_ispdb(net, addr, src, url, src).boxed(),
                    _ => fetch_one(net, addr, src, url, src).boxed(),
                })
                .collect(),
        )
        .await;
    let mut out = SourceResult::default();
    for r in results {
        out.extend(r);
    }
    out
}

/// The `<oAuth2>` element (autoconfig draft §5.1.4: issuer, scope, authURL, tokenURL) of the
/// first trusted document that names both endpoints: the domain's own autoconfig over https,
/// then the ISPDB — never a plain-http one, which anyone on the path could rewrite to send the
/// sign-in elsewhere. The documents are fetched at once; the order decides, and the answer is
/// given as soon as every document before the one that names them has said it does not.
pub async fn oauth2(net: &Net, addr: &Address) -> Option<(Source, parser::OAuth2Info)> {
    use futures::StreamExt;
    let mut jobs: Vec<(Source, String)> = urls(addr, &addr.domain)
        .into_iter()
        .filter(|(src, _)| *src != Source::AutoconfigHttp)
        .collect();
    jobs.push((Source::Ispdb, ispdb_url(&net.cfg.ispdb_url, &addr.domain)));
    let mut found: futures::stream::FuturesOrdered<_> = jobs
        .into_iter()
        .map(|(src, url)| async move {
            let resp = http::fetch(net, &HttpRequest::get(url)).await.ok()?;
            let o = parser::parse(&resp.body, addr).ok()?.oauth2?;
            (o.auth_url.is_some() && o.token_url.is_some()).then_some((src, o))
        })
        .collect();
    while let Some(answer) = found.next().await {
        if answer.is_some() {
            return answer;
        }
    }
    None
}

/// Fetch and parse one document at the domain's own hosts; candidates are tagged `as_source`
/// (the MX source reuses this with `mx-provider`). A host that does not exist means "no
/// autoconfig here" (`not_found`).
pub(crate) async fn fetch_one(
    net: &Net,
    addr: &Address,
    src: Source,
    url: String,
    as_source: Source,
) -> SourceResult {
    fetch_doc(net, addr, src, url, as_source, false).await
}

/// [`fetch_one`] for the ISPDB, a fixed service: only its own 404 (or 410) says it does not
/// know the domain; any other failure, its host not resolving included, means the ISPDB could
/// not be asked (`error`, with the reason).
pub(crate) async fn fetch_ispdb(
    net: &Net,
    addr: &Address,
    src: Source,
    url: String,
    as_source: Source,
) -> SourceResult {
    fetch_doc(net, addr, src, url, as_source, true).await
}

async fn fetch_doc(
    net: &Net,
    addr: &Address,
    src: Source,
    url: String,
    as_source: Source,
    service: bool,
) -> SourceResult {
    let started = Instant::now();
    let mut out = SourceResult::default();
    let resp = match http::fetch(net, &HttpRequest::get(url.clone())).await {
        Ok(r) => r,
        Err(e) if service => {
            out.attempts.push(service_failed(src, url, &e, started));
            return out;
        }
        Err(e) => {
            out.attempts.push(failed(src, url, &e, started));
            return out;
        }
    };
    match parser::parse(&resp.body, addr) {
        Ok(doc) => {
            let cands = parser::candidates(&doc, as_source);
            let reason = format!("{} server(s)", cands.len());
            let outcome = if cands.is_empty() {
                AttemptOutcome::NotFound
            } else {
                AttemptOutcome::Found
            };
            out.attempts
                .push(attempt(src, url.clone(), outcome, Some(reason), started));
            for w in &doc.warnings {
                out.findings.push(
                    Finding::new(
                        Severity::Info,
                        FindingCode::AutoconfigSectionIgnored,
                        format!("{url}: {w}"),
                    )
                    .hint("The rest of the document was used; fix the section for other clients."),
                );
            }
            if let Some(o) = &doc.oauth2 {
                out.findings.push(Finding::new(
                    Severity::Info,
                    FindingCode::Oauth2Available,
                    format!(
                        "{} announces OAuth2 (issuer {})",
                        src.as_str(),
                        o.issuer.as_deref().unwrap_or("not named")
                    ),
                ));
            }
            if let Some(e) = &doc.enable {
                let mut msg = String::from("the provider says access must be enabled first");
                if let Some(u) = &e.visit_url {
                    msg.push_str(&format!(": {u}"));
                }
                let hint = e
                    .instruction()
                    .unwrap_or("Enable IMAP/POP in the webmail settings.")
                    .to_string();
                out.findings.push(
                    Finding::new(Severity::Info, FindingCode::EnableImapFirst, msg).hint(hint),
                );
            }
            out.candidates = cands;
        }
        Err(e) => out.attempts.push(attempt(
            src,
            url,
            AttemptOutcome::Error,
            Some(format!("not a valid autoconfig document: {e}")),
            started,
        )),
    }
    out
}

/// The attempt for a failed ISPDB fetch: `not_found` only for the service's own 404/410.
fn service_failed(src: Source, url: String, e: &http::HttpError, started: Instant) -> Attempt {
    match e {
        http::HttpError::Status(404 | 410) => attempt(
            src,
            url,
            AttemptOutcome::NotFound,
            Some(e.to_string()),
            started,
        ),
        http::HttpError::Status(_) => attempt(
            src,
            url,
            AttemptOutcome::Error,
            Some(format!("ISPDB answered {e}")),
            started,
        ),
        _ => attempt(
            src,
            url,
            AttemptOutcome::Error,
            Some(format!("ISPDB unreachable: {e}")),
            started,
        ),
    }
}

/// Minimal RFC 3986 query-component encoding for an address.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls() {
        let a = crate::address::parse("a+b@example.com").unwrap();
        let u = urls(&a, "example.com");
        assert_eq!(
            u[0].1,
            "https://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=a%2Bb%40example.com"
        );
        assert_eq!(
            u[1].1,
            "https://example.com/.well-known/autoconfig/mail/config-v1.1.xml"
        );
        assert_eq!(
            ispdb_url("https://autoconfig.thunderbird.net/v1.1/", "x.org"),
            "https://autoconfig.thunderbird.net/v1.1/x.org"
        );
        assert_eq!(
            ispdb_url("http://127.0.0.1:8080/ispdb", "x.org"),
            "http://127.0.0.1:8080/ispdb/x.org"
        );
    }
}
