//! HTTP(S) fetches for autoconfig and Autodiscover.
//!
//! Every request goes through our own resolver (so `--dns` covers HTTP too), honours
//! `--connect-to`/`--resolve` while keeping the original name for SNI, the certificate check and
//! `Host`, verifies TLS strictly, caps the body, and follows redirects by hand so that each hop
//! is recorded, loops are caught, leaving the registrable domain can be flagged, and the rules of
//! [`super::redirect`] hold: never down from https to http, never from a public name to a private
//! address the user did not choose.

use std::error::Error as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::Url;
use thiserror::Error;

use super::Net;
use super::redirect::{self, Refusal, Route};
use crate::dns::DnsError;

/// Default cap on a discovery document: real ones are a few KiB.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// A failed fetch.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    #[error("invalid URL '{0}'")]
    BadUrl(String),
    #[error("{0}")]
    Dns(#[from] DnsError),
    #[error("timed out after {0} ms")]
    Timeout(u64),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    #[error("redirect loop at {0}")]
    RedirectLoop(String),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("redirect without a usable Location")]
    BadRedirect,
    #[error("redirect to plain http refused: {0}")]
    PlainHttpRedirect(String),
    #[error(
        "redirect to {url} refused: {addr} is not a public address, and no --dns, --resolve or --connect-to chose it"
    )]
    PrivateRedirect { url: String, addr: String },
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("{0}")]
    Other(String),
}

impl HttpError {
    /// A clean "nothing there" (404, 410, NXDOMAIN) rather than a failure.
    pub fn is_not_found(&self) -> bool {
        match self {
            HttpError::Status(s) => matches!(s, 404 | 410),
            HttpError::Dns(e) => e.is_not_found(),
            _ => false,
        }
    }
}

/// How to fetch.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub url: String,
    /// POST body with its content type; None for GET.
    pub post: Option<(String, Vec<u8>)>,
    pub max_body: usize,
    /// Redirects to follow by hand; 0 returns 3xx responses as they are.
    pub max_redirects: usize,
    /// Keep POST across 301/302 (Autodiscover re-POSTs to the new URL; browsers would not).
    pub keep_post_on_redirect: bool,
    /// `url` is itself a redirect (an Autodiscover `RedirectUrl`, a `Location` the caller
    /// followed): the redirect rules apply to it as to every hop followed here.
    pub redirected_from: Option<Origin>,
    /// Return a 4xx/5xx answer with its body instead of `HttpError::Status` (an OAuth token
    /// endpoint answers its errors as JSON with status 400, RFC 6749 §5.2).
    pub any_status: bool,
}

/// The place a redirect came from, as the redirect rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    /// See [`Route::is_public`].
    pub public: bool,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest {
            url: url.into(),
            post: None,
            max_body: MAX_BODY,
            max_redirects: 5,
            keep_post_on_redirect: false,
            redirected_from: None,
            any_status: false,
        }
    }
}

/// A successful (2xx, or 3xx with `max_redirects` 0) response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub final_url: String,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
    /// Every URL redirected to, in order.
    pub redirects: Vec<String>,
    /// `final_url` as the origin of a redirect the caller may follow next.
    pub origin: Origin,
    pub elapsed_ms: u64,
}

/// Fetch `req.url`, bounded by the step timeout (and the run's deadline).
pub async fn fetch(net: &Net, req: &HttpRequest) -> Result<HttpResponse, HttpError> {
    let limit = net.step_timeout();
    let started = Instant::now();
    match tokio::time::timeout(limit, fetch_inner(net, req, started)).await {
        Ok(r) => r,
        Err(_) => Err(HttpError::Timeout(limit.as_millis() as u64)),
    }
}

async fn fetch_inner(
    net: &Net,
    req: &HttpRequest,
    started: Instant,
) -> Result<HttpResponse, HttpError> {
    let mut url = Url::parse(&req.url).map_err(|_| HttpError::BadUrl(req.url.clone()))?;
    let mut post = req.post.clone();
    let mut redirects = Vec::new();
    let mut seen = vec![url.to_string()];
    let mut from = req.redirected_from.clone();
    loop {
        let route = route_checked(net, &url, from.as_ref()).await?;
        let origin = Origin {
            https: url.scheme() == "https",
            public: route.is_public(host_is_ip(&url)),
        };
        let resp = send_once(&url, &route, net, post.as_ref(), net.step_timeout()).await?;
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if (300..400).contains(&status) && req.max_redirects > 0 && location.is_some() {
            if redirects.len() >= req.max_redirects {
                return Err(HttpError::TooManyRedirects(req.max_redirects));
            }
            let next = url
                .join(location.as_deref().unwrap_or_default())
                .map_err(|_| HttpError::BadRedirect)?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(HttpError::BadRedirect);
            }
            if seen.contains(&next.to_string()) {
                return Err(HttpError::RedirectLoop(next.to_string()));
            }
            // RFC 9110 §15.4.4: 303 turns into GET; 301/302 too unless the caller re-POSTs.
            if status == 303 || (matches!(status, 301 | 302) && !req.keep_post_on_redirect) {
                post = None;
            }
            seen.push(next.to_string());
            redirects.push(next.to_string());
            url = next;
            from = Some(origin);
            continue;
        }
        if !(200..300).contains(&status) && !(300..400).contains(&status) && !req.any_status {
            return Err(HttpError::Status(status));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = read_capped(resp, req.max_body).await?;
        return Ok(HttpResponse {
            status,
            final_url: url.to_string(),
            content_type,
            location,
            body,
            redirects,
            origin,
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
    }
}

/// Where `url` goes (our resolver, with the overrides); when it is a redirect from `from`, the
/// redirect rules ([`redirect`]) must allow it.
async fn route_checked(net: &Net, url: &Url, from: Option<&Origin>) -> Result<Route, HttpError> {
    let host = url
        .host_str()
        .ok_or_else(|| HttpError::BadUrl(url.to_string()))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| HttpError::BadUrl(url.to_string()))?;
    if let Some(from) = from {
        let from_scheme = if from.https { "https" } else { "http" };
        check(redirect::scheme_allowed(from_scheme, url.scheme()), url)?;
    }
    let route = net.route(host, port).await?;
    if let Some(from) = from {
        check(redirect::target_allowed(from.public, &route), url)?;
    }
    Ok(route)
}

fn host_is_ip(url: &Url) -> bool {
    url.host_str().is_some_and(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok()
    })
}

fn check(r: Result<(), Refusal>, url: &Url) -> Result<(), HttpError> {
    match r {
        Ok(()) => Ok(()),
        Err(Refusal::PlainHttp) => Err(HttpError::PlainHttpRedirect(url.to_string())),
        Err(Refusal::Private(ip)) => Err(HttpError::PrivateRedirect {
            url: url.to_string(),
            addr: ip.to_string(),
        }),
    }
}

/// One request without following redirects, through a client pinned to `route`.
async fn send_once(
    url: &Url,
    route: &Route,
    net: &Net,
    post: Option<&(String, Vec<u8>)>,
    timeout: Duration,
) -> Result<reqwest::Response, HttpError> {
    let host = url
        .host_str()
        .ok_or_else(|| HttpError::BadUrl(url.to_string()))?;
    let addrs: &[SocketAddr] = &route.addrs;
    let tls = net.http_tls.clone();
    let host_key = host.trim_start_matches('[').trim_end_matches(']');
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("mailprobe/", env!("CARGO_PKG_VERSION")))
        .resolve_to_addrs(host_key, addrs)
        .build()
        .map_err(|e| HttpError::Other(e.to_string()))?;
    let builder = match post {
        Some((ctype, body)) => client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, ctype.as_str())
            .body(body.clone()),
        None => client.get(url.clone()),
    };
    builder.send().await.map_err(classify)
}

async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, HttpError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(HttpError::TooLarge(max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > max {
            return Err(HttpError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Turn reqwest's error chain into a short, specific reason (certificate problems by name).
fn classify(e: reqwest::Error) -> HttpError {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = e.source();
    while let Some(s) = src {
        chain = s.to_string();
        src = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    if e.is_timeout() {
        HttpError::Timeout(0)
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        HttpError::Tls(chain)
    } else if e.is_connect() {
        HttpError::Connect(if chain.is_empty() {
            e.to_string()
        } else {
            chain
        })
    } else {
        HttpError::Other(if chain.is_empty() {
            e.to_string()
        } else {
            chain
        })
    }
}
