//! Source 5: Microsoft Autodiscover, POX v1 ("Autodiscover for Exchange", [MS-OXDSCLI] §3.1.5).
//!
//! Four starting points, asked concurrently: POST to `https://<domain>/autodiscover/
//! autodiscover.xml` and `https://autodiscover.<domain>/…`, the plain-http GET redirect method on
//! `autodiscover.<domain>` (only its `Location` is used, only if it is https, and only within the
//! address's registrable domain: anyone on the path can forge a plain-http answer, which is
//! why [MS-OXDSCLI] §3.1.5.2 has the client ask the user first, and there is no one to ask), and SRV
//! `_autodiscover._tcp.<domain>`. HTTP 302 answers to the POST ([MS-OXDSCLI] §3.1.5.2) and
//! `redirectUrl`/`redirectAddr` answers (§3.1.5.3) are followed one hop at a time, for at most
//! [`MAX_HOPS`] hops, only to https URLs (the request is re-POSTed there) and under the redirect
//! rules of [`crate::net::redirect`]; every hop that leaves the address's registrable domain is
//! flagged (`autodiscover-leaves-domain`). No credentials are ever sent.

use std::time::Instant;

use super::{SourceResult, attempt, failed};
use crate::address::{self, Address};
use crate::discover::autodiscover::{self as parser, AutodiscoverResponse};
use crate::model::{AttemptOutcome, Finding, FindingCode, Severity, Source};
use crate::net::Net;
use crate::net::http::{self, HttpRequest, Origin};

/// Redirects (`redirectUrl`, `redirectAddr`, HTTP 3xx) followed at most (README, `discover`:
/// "at most 10 redirects"; [MS-OXDSCLI] §3.1.5).
pub(crate) const MAX_HOPS: usize = 10;

fn registrable(host: &str) -> String {
    psl::domain_str(host).unwrap_or(host).to_string()
}

/// The host of `url` when it lies outside the address's registrable domain.
fn leaves_domain(url: &str, addr: &Address) -> Option<String> {
    let host = reqwest::Url::parse(url).ok()?.host_str()?.to_string();
    (registrable(&host) != registrable(&addr.domain)).then_some(host)
}

/// `autodiscover-leaves-domain` for a redirect to `host`; `how` says how it was reached.
fn leaves_finding(addr: &Address, host: &str, how: &str) -> Finding {
    let home = registrable(&addr.domain);
    Finding::new(
        Severity::Warning,
        FindingCode::AutodiscoverLeavesDomain,
        format!(
            "Autodiscover for {} leads to {host}, outside {home}{how}",
            addr.domain
        ),
    )
    .hint(
        "Normal for hosted Exchange (e.g. outlook.com); otherwise check the redirect is intended.",
    )
}

pub async fn run(net: &Net, addr: &Address) -> SourceResult {
    let d = &addr.domain;
    let starts = vec![
        format!("https://{d}/autodiscover/autodiscover.xml"),
        format!("https://autodiscover.{d}/autodiscover/autodiscover.xml"),
    ];
    let mut jobs: Vec<futures::future::BoxFuture<'_, SourceResult>> = Vec::new();
    for url in starts {
        jobs.push(Box::pin(chain(net, addr, url, None)));
    }
    jobs.push(Box::pin(http_redirect_method(net, addr)));
    jobs.push(Box::pin(srv_method(net, addr)));
    let mut out = SourceResult::default();
    for r in net.join_bounded(jobs).await {
        out.extend(r);
    }
    out
}

/// GET http://autodiscover.<domain>/autodiscover/autodiscover.xml; a 302 to an https URL is
/// then POSTed to ([MS-OXDSCLI] §3.1.5.2, "HTTP redirect method").
async fn http_redirect_method(net: &Net, addr: &Address) -> SourceResult {
    let started = Instant::now();
    let url = format!(
        "http://autodiscover.{}/autodiscover/autodiscover.xml",
        addr.domain
    );
    let mut out = SourceResult::default();
    let req = HttpRequest {
        max_redirects: 0,
        ..HttpRequest::get(url.clone())
    };
    match http::fetch(net, &req).await {
        Ok(resp) if (300..400).contains(&resp.status) => match resp.location {
            Some(loc) if loc.starts_with("https://") && leaves_domain(&loc, addr).is_some() => {
                let host = leaves_domain(&loc, addr).unwrap_or_default();
                out.findings
                    .push(leaves_finding(addr, &host, " by a plain-http redirect"));
                out.attempts.push(attempt(
                    Source::Autodiscover,
                    url,
                    AttemptOutcome::Error,
                    Some(format!(
                        "redirect over plain http to another domain not followed: {loc}"
                    )),
                    started,
                ));
            }
            Some(loc) if loc.starts_with("https://") => {
                out.attempts.push(attempt(
                    Source::Autodiscover,
                    url,
                    AttemptOutcome::Found,
                    Some(format!("redirect to {loc}")),
                    started,
                ));
                out.extend(chain(net, addr, loc, Some(resp.origin)).await);
            }
            other => out.attempts.push(attempt(
                Source::Autodiscover,
                url,
                AttemptOutcome::Error,
                Some(format!(
                    "redirect target is not https: {}",
                    other.unwrap_or_default()
                )),
                started,
            )),
        },
        Ok(resp) => out.attempts.push(attempt(
            Source::Autodiscover,
            url,
            AttemptOutcome::NotFound,
            Some(format!("HTTP {} instead of a redirect", resp.status)),
            started,
        )),
        Err(e) => {
            out.attempts
                .push(failed(Source::Autodiscover, url, &e, started));
        }
    }
    out
}

/// SRV `_autodiscover._tcp.<domain>` ([MS-OXDSCLI] §3.1.5.3), then POST to its target.
async fn srv_method(net: &Net, addr: &Address) -> SourceResult {
    let started = Instant::now();
    let name = format!("_autodiscover._tcp.{}", addr.domain);
    let mut out = SourceResult::default();
    let Ok(resolver) = net.resolver() else {
        out.attempts.push(attempt(
            Source::Autodiscover,
            name,
            AttemptOutcome::Skipped,
            Some("--offline".into()),
            started,
        ));
        return out;
    };
    match resolver.srv(&name).await {
        Ok(recs) => match recs.iter().find(|r| r.target != ".") {
            Some(r) => {
                let url = if r.port == 443 {
                    format!("https://{}/autodiscover/autodiscover.xml", r.target)
                } else {
                    format!(
                        "https://{}:{}/autodiscover/autodiscover.xml",
                        r.target, r.port
                    )
                };
                out.attempts.push(attempt(
                    Source::Autodiscover,
                    name,
                    AttemptOutcome::Found,
                    Some(url.clone()),
                    started,
                ));
                out.extend(chain(net, addr, url, None).await);
            }
            None => out.attempts.push(attempt(
                Source::Autodiscover,
                name,
                AttemptOutcome::NotFound,
                Some("not offered".into()),
                started,
            )),
        },
        Err(e) => {
            out.attempts
                .push(failed(Source::Autodiscover, name, &e, started));
        }
    }
    out
}

/// POST the request to `url` and follow HTTP 302, `redirectUrl` and `redirectAddr` answers;
/// `from` is set when `url` is itself a redirect.
async fn chain(
    net: &Net,
    addr: &Address,
    mut url: String,
    mut from: Option<Origin>,
) -> SourceResult {
    let mut out = SourceResult::default();
    let mut email: Address = addr.clone();
    let mut seen: Vec<String> = Vec::new();
    for hop in 0..=MAX_HOPS {
        let started = Instant::now();
        if let Some(reason) = stop_reason(hop, &url, &email, &mut seen) {
            out.attempts.push(attempt(
                Source::Autodiscover,
                url,
                AttemptOutcome::Error,
                Some(reason),
                started,
            ));
            break;
        }
        if let Some(host) = leaves_domain(&url, addr) {
            out.findings.push(leaves_finding(addr, &host, ""));
        }
        let req = post_request(&url, &email, from.take());
        let resp = match http::fetch(net, &req).await {
            Ok(r) => r,
            Err(e) => {
                out.attempts
                    .push(failed(Source::Autodiscover, url, &e, started));
                break;
            }
        };
        from = Some(resp.origin.clone());
        let next = if (300..400).contains(&resp.status) {
            http_hop(url, &resp, started, &mut out)
        } else {
            answer(url, &resp, &email, started, &mut out)
        };
        match next {
            Some((next, None)) => url = next,
            Some((next, Some(a))) => (url, email) = (next, a),
            None => break,
        }
    }
    out
}

/// Why the chain stops before asking `url` for `email`: too many hops, or a pair asked before.
fn stop_reason(hop: usize, url: &str, email: &Address, seen: &mut Vec<String>) -> Option<String> {
    if hop == MAX_HOPS {
        return Some(format!("more than {MAX_HOPS} redirects"));
    }
    let key = format!("{url} {}", email.ascii());
    if seen.contains(&key) {
        return Some("redirect loop".into());
    }
    seen.push(key);
    None
}

/// The POX request for `email` ([MS-OXDSCLI] §3.1.5.1), one hop only: each redirect is
/// checked and flagged by the chain like a `redirectUrl`.
fn post_request(url: &str, email: &Address, from: Option<Origin>) -> HttpRequest {
    HttpRequest {
        post: Some((
            "text/xml; charset=utf-8".into(),
            parser::request_body(&email.ascii()).into_bytes(),
        )),
        max_redirects: 0,
        redirected_from: from,
        ..HttpRequest::get(url.to_string())
    }
}

/// Where the chain goes after one answer: the next URL, with the new address after a
/// `redirectAddr`; `None` when it ends here.
type Hop = Option<(String, Option<Address>)>;

/// An HTTP 3xx answer to the POST: followed when [`http_redirect`] allows it.
fn http_hop(
    url: String,
    resp: &http::HttpResponse,
    started: Instant,
    out: &mut SourceResult,
) -> Hop {
    match http_redirect(&url, resp) {
        Ok(next) => {
            out.attempts.push(attempt(
                Source::Autodiscover,
                url,
                AttemptOutcome::Found,
                Some(format!("HTTP {} redirect to {next}", resp.status)),
                started,
            ));
            Some((next, None))
        }
        Err(reason) => {
            out.attempts.push(attempt(
                Source::Autodiscover,
                url,
                AttemptOutcome::Error,
                Some(reason),
                started,
            ));
            None
        }
    }
}

/// The Autodiscover document in a non-redirect answer: settings, a redirect, or an error.
fn answer(
    url: String,
    resp: &http::HttpResponse,
    email: &Address,
    started: Instant,
    out: &mut SourceResult,
) -> Hop {
    let (outcome, reason, next) = match parser::parse(&resp.body, email) {
        Ok(AutodiscoverResponse::Settings { servers, .. }) => {
            let cands = parser::candidates(&servers, email);
            let (outcome, reason) = if cands.is_empty() {
                (
                    AttemptOutcome::NotFound,
                    "no IMAP/POP3/SMTP entry".to_string(),
                )
            } else {
                (AttemptOutcome::Found, format!("{} server(s)", cands.len()))
            };
            out.candidates.extend(cands);
            (outcome, reason, None)
        }
        Ok(AutodiscoverResponse::RedirectUrl(next)) => {
            let reason = format!("redirectUrl {next}");
            (AttemptOutcome::Found, reason, Some(Next::Url(next)))
        }
        Ok(AutodiscoverResponse::RedirectAddr(next)) => {
            let reason = format!("redirectAddr {next}");
            (AttemptOutcome::Found, reason, Some(Next::Addr(next)))
        }
        Ok(AutodiscoverResponse::Error { code, message }) => {
            let reason = match code {
                Some(c) => format!("error {c}: {message}"),
                None => format!("error: {message}"),
            };
            (AttemptOutcome::NotFound, reason, None)
        }
        Err(e) => {
            let reason = format!("not a valid Autodiscover response: {e}");
            (AttemptOutcome::Error, reason, None)
        }
    };
    out.attempts.push(attempt(
        Source::Autodiscover,
        url,
        outcome,
        Some(reason),
        started,
    ));
    match next? {
        Next::Url(next) => redirect_url(next, started, out),
        Next::Addr(next) => redirect_addr(next, started, out),
    }
}

/// A redirect named inside an Autodiscover document.
enum Next {
    Url(String),
    Addr(String),
}

/// `redirectUrl`: followed only to an https URL.
fn redirect_url(next: String, started: Instant, out: &mut SourceResult) -> Hop {
    if next.starts_with("https://") {
        return Some((next, None));
    }
    out.attempts.push(attempt(
        Source::Autodiscover,
        next.clone(),
        AttemptOutcome::Error,
        Some(format!("redirect to plain http refused: {next}")),
        started,
    ));
    None
}

/// `redirectAddr`: ask again for the new address, at `autodiscover.<its domain>`.
fn redirect_addr(next: String, started: Instant, out: &mut SourceResult) -> Hop {
    match address::parse(&next) {
        Ok(a) => Some((
            format!(
                "https://autodiscover.{}/autodiscover/autodiscover.xml",
                a.domain
            ),
            Some(a),
        )),
        Err(e) => {
            out.attempts.push(attempt(
                Source::Autodiscover,
                next,
                AttemptOutcome::Error,
                Some(e.to_string()),
                started,
            ));
            None
        }
    }
}

/// The https URL an HTTP 3xx answer to the POST points at ([MS-OXDSCLI] §3.1.5.2), or why it
/// is not followed.
fn http_redirect(url: &str, resp: &http::HttpResponse) -> Result<String, String> {
    let next = resp
        .location
        .as_deref()
        .and_then(|loc| reqwest::Url::parse(url).ok()?.join(loc).ok())
        .ok_or_else(|| format!("HTTP {} without a usable Location", resp.status))?;
    match next.scheme() {
        "https" => Ok(next.to_string()),
        "http" => Err(format!("redirect to plain http refused: {next}")),
        other => Err(format!("redirect to a {other}: URL refused")),
    }
}
