//! In-process HTTP and HTTPS server on 127.0.0.1 for autoconfig / Autodiscover / MTA-STS tests.
//!
//! Routes are keyed by (Host header without port, path); host `*` matches any host, an exact host
//! wins over `*`. The query string is ignored for matching but recorded. Any method is accepted
//! (Autodiscover POSTs). Unmatched requests get 404. Every request is recorded with its headers and
//! body, so tests can assert what a client sent (or that it sent no credentials).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::certs::{self, TestCa, TlsVersions};
use super::rt::{Background, bind_tcp};

/// What a route answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this body.
    Ok { content_type: String, body: Vec<u8> },
    /// Any status with a text/plain body.
    Status(u16, String),
    /// A redirect (301, 302, 307, 308) to `location`.
    Redirect(u16, String),
    /// Accept the request, never answer.
    Hang,
    /// 200 with a body of N bytes ('x'), streamed in 64 KiB chunks (never buffered whole).
    Huge(u64),
    /// 200 whose body trickles: `chunk` every `every`, forever.
    SlowDrip { chunk: Vec<u8>, every: Duration },
    /// Hold the request until the test opens the gate ([`Reply::gated`]), then answer `then`.
    Gated {
        open: Arc<AtomicBool>,
        then: Box<Reply>,
    },
}

impl Reply {
    /// 200 `application/xml`.
    pub fn xml(body: impl Into<String>) -> Reply {
        Reply::Ok {
            content_type: "application/xml".into(),
            body: body.into().into_bytes(),
        }
    }

    /// `then`, held back until the returned gate is set (`gate.store(true, …)`): a source that
    /// answers exactly when the test decides.
    pub fn gated(then: Reply) -> (Reply, Arc<AtomicBool>) {
        let open = Arc::new(AtomicBool::new(false));
        (
            Reply::Gated {
                open: open.clone(),
                then: Box::new(then),
            },
            open,
        )
    }

    /// 200 `text/plain`.
    pub fn text(body: impl Into<String>) -> Reply {
        Reply::Ok {
            content_type: "text/plain".into(),
            body: body.into().into_bytes(),
        }
    }

    /// 200 `application/json`.
    pub fn json(body: impl Into<String>) -> Reply {
        Reply::Ok {
            content_type: "application/json".into(),
            body: body.into().into_bytes(),
        }
    }
}

/// Route table: (host or `*`, path) → reply.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    routes: Vec<(String, String, Reply)>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Add (or replace) a route. `host` is matched case-insensitively, without port; `*` = any.
    pub fn route(mut self, host: &str, path: &str, reply: Reply) -> Routes {
        self.set(host, path, reply);
        self
    }

    fn set(&mut self, host: &str, path: &str, reply: Reply) {
        let host = host.to_ascii_lowercase();
        self.routes.retain(|(h, p, _)| !(h == &host && p == path));
        self.routes.push((host, path.to_string(), reply));
    }

    fn find(&self, host: &str, path: &str) -> Option<Reply> {
        let exact = self.routes.iter().find(|(h, p, _)| h == host && p == path);
        let any = || self.routes.iter().find(|(h, p, _)| h == "*" && p == path);
        exact.or_else(any).map(|(_, _, r)| r.clone())
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Host header without port, lowercase.
    pub host: String,
    pub path: String,
    /// Query string without `?` (None when absent).
    pub query: Option<String>,
    pub body: Vec<u8>,
    /// Header names lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// Came in on the HTTPS listener.
    pub tls: bool,
}

impl Recorded {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    routes: Mutex<Routes>,
    log: Mutex<Vec<Recorded>>,
}

/// A running HTTP + HTTPS server pair. Stops on drop.
pub struct HttpServer {
    http: SocketAddr,
    https: SocketAddr,
    state: Arc<State>,
    _bg: Background,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("http", &self.http)
            .field("https", &self.https)
            .finish()
    }
}

impl HttpServer {
    /// Plain HTTP and HTTPS (certificate for `names`, issued by `ca`) on 127.0.0.1:0.
    pub fn start(ca: &TestCa, names: &[&str], routes: Routes) -> HttpServer {
        let cert = ca.issue(names, certs::Validity::Valid);
        Self::start_with_tls(certs::server_config(&cert, TlsVersions::Default), routes)
    }

    /// Like [`HttpServer::start`] with any TLS config (expired, self-signed, wrong name, ...).
    pub fn start_with_tls(tls: Arc<rustls::ServerConfig>, routes: Routes) -> HttpServer {
        let (plain, secure) = (bind_tcp(), bind_tcp());
        let http = plain.local_addr().expect("local addr");
        let https = secure.local_addr().expect("local addr");
        let state = Arc::new(State {
            routes: Mutex::new(routes),
            log: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        let bg = Background::spawn("test-http", move || async move {
            let plain = tokio::net::TcpListener::from_std(plain).expect("tokio listener");
            let secure = tokio::net::TcpListener::from_std(secure).expect("tokio listener");
            let acceptor = tokio_rustls::TlsAcceptor::from(tls);
            loop {
                tokio::select! {
                    Ok((tcp, _)) = plain.accept() => {
                        tokio::spawn(serve(TokioIo::new(tcp), st.clone(), false));
                    }
                    Ok((tcp, _)) = secure.accept() => {
                        let (acceptor, st) = (acceptor.clone(), st.clone());
                        tokio::spawn(async move {
                            let hs = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
                            if let Ok(Ok(tls)) = hs.await {
                                serve(TokioIo::new(tls), st, true).await;
                            }
                        });
                    }
                }
            }
        });
        HttpServer {
            http,
            https,
            state,
            _bg: bg,
        }
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    pub fn https_addr(&self) -> SocketAddr {
        self.https
    }

    /// Add or replace a route while running.
    pub fn set_route(&self, host: &str, path: &str, reply: Reply) {
        self.state.routes.lock().unwrap().set(host, path, reply);
    }

    /// All requests so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.log.lock().unwrap().clone()
    }

    /// `--connect-to` values mapping ports 80 and 443 of `host` to this server.
    pub fn connect_to_args(&self, host: &str) -> Vec<String> {
        vec![
            "--connect-to".into(),
            format!("{host}:80:127.0.0.1:{}", self.http.port()),
            "--connect-to".into(),
            format!("{host}:443:127.0.0.1:{}", self.https.port()),
        ]
    }
}

async fn serve<I>(io: I, st: Arc<State>, tls: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req| handle(req, st.clone(), tls));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, svc)
        .await;
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    st: Arc<State>,
    tls: bool,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let host_hdr = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let host = strip_port(&host_hdr).to_ascii_lowercase();
    let body = axum::body::to_bytes(Body::new(body), 16 << 20)
        .await
        .unwrap_or_default();
    let rec = Recorded {
        method: parts.method.to_string(),
        host: host.clone(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        body: body.to_vec(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into(),
                )
            })
            .collect(),
        tls,
    };
    let reply = st.routes.lock().unwrap().find(&host, &rec.path);
    st.log.lock().unwrap().push(rec);
    Ok(respond(reply).await)
}

/// `host:port`, `[v6]:port`, `[v6]` → host.
fn strip_port(h: &str) -> &str {
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    h.rsplit_once(':').map(|(a, _)| a).unwrap_or(h)
}

async fn respond(reply: Option<Reply>) -> Response<Body> {
    let build = |status: u16, ct: &str, body: Body| {
        Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("content-type", ct)
            .body(body)
            .expect("response")
    };
    match reply {
        None => build(404, "text/plain", Body::from("not found")),
        Some(Reply::Ok { content_type, body }) => build(200, &content_type, Body::from(body)),
        Some(Reply::Status(code, text)) => build(code, "text/plain", Body::from(text)),
        Some(Reply::Redirect(code, location)) => {
            let mut r = build(code, "text/plain", Body::from(format!("see {location}")));
            r.headers_mut().insert(
                "location",
                location
                    .parse()
                    .unwrap_or_else(|_| hyper::header::HeaderValue::from_static("/")),
            );
            r
        }
        Some(Reply::Hang) => std::future::pending().await,
        Some(Reply::Gated { open, then }) => {
            while !open.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Box::pin(respond(Some(*then))).await
        }
        Some(Reply::Huge(n)) => {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let stream = futures::stream::unfold(n, move |left| {
                let chunk = chunk.clone();
                async move {
                    (left > 0).then(|| {
                        let take = left.min(chunk.len() as u64);
                        (
                            Ok::<_, Infallible>(chunk.slice(..take as usize)),
                            left - take,
                        )
                    })
                }
            });
            let mut r = build(200, "application/xml", Body::from_stream(stream));
            r.headers_mut().insert("content-length", n.into());
            r
        }
        Some(Reply::SlowDrip { chunk, every }) => {
            let chunk = Bytes::from(chunk);
            let stream = futures::stream::unfold((), move |()| {
                let chunk = chunk.clone();
                async move {
                    tokio::time::sleep(every).await;
                    Some((Ok::<_, Infallible>(chunk), ()))
                }
            });
            build(200, "application/xml", Body::from_stream(stream))
        }
    }
}
