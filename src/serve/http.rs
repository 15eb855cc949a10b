//! The HTTP side of the exporter (HTTP/1.1 over hyper): routes, basic authentication, bounded
//! requests, and the accept loop with its graceful shutdown.
//!
//! Bounds against slow or hostile clients (slowloris): the request head at most
//! [`MAX_HEAD`] bytes and complete within `header-timeout` (10 s by default, counted from the
//! connection's start and again for each request of a kept-alive connection, so trickling bytes
//! does not extend it; the TLS handshake has the same time), the request target at most
//! [`MAX_URI`] bytes (`414` above), at most `max-connections` connections at once (512 by
//! default; more wait in the kernel's backlog, so a flood of slow clients holds the server for at
//! most one header timeout per `max-connections` of them), every answer within the longest
//! module budget plus a margin. Only `GET` and `HEAD` (`405` otherwise); request bodies are
//! never read.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::{Events, Exporter, ProbeError, page};
use crate::report::openmetrics::{self, Flavor, Metrics};

/// The longest request target accepted.
pub(crate) const MAX_URI: usize = 4096;
/// The largest request head read (hyper's read buffer; a larger head is `431`).
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// How long open connections get to finish after a shutdown signal.
pub(crate) const GRACE: Duration = Duration::from_secs(10);

type Answer = Response<Full<Bytes>>;

fn answer(code: StatusCode, content_type: &'static str, body: String) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = code;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn text(code: StatusCode, body: String) -> Answer {
    answer(code, "text/plain; charset=utf-8", body + "\n")
}

/// OpenMetrics when the scraper's `Accept` asks for it, else the Prometheus text format.
fn flavor(req: &Request<Incoming>) -> Flavor {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("application/openmetrics-text") {
        Flavor::OpenMetrics
    } else {
        Flavor::Prometheus
    }
}

fn content_type(f: Flavor) -> &'static str {
    match f {
        Flavor::OpenMetrics => openmetrics::OPENMETRICS_TEXT,
        Flavor::Prometheus => openmetrics::PROMETHEUS_TEXT,
    }
}

/// The first value of each query parameter.
fn param(req: &Request<Incoming>, name: &str) -> Option<String> {
    let q = req.uri().query()?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Byte comparison whose time does not depend on where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(ex: &Exporter, req: &Request<Incoming>) -> bool {
    let Some((user, pass)) = &ex.options.basic_auth else {
        return true;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        });
    let want = format!("{user}:{}", pass.expose());
    given.is_some_and(|g| same(&g, want.as_bytes()))
}

/// Answer one request.
pub async fn handle(ex: &Arc<Exporter>, req: Request<Incoming>) -> Answer {
    ex.stats.requests_in_flight.fetch_add(1, Ordering::Relaxed);
    let r = route(ex, &req).await;
    ex.stats.requests_in_flight.fetch_sub(1, Ordering::Relaxed);
    ex.stats.answered(r.status().as_u16());
    r
}

async fn route(ex: &Arc<Exporter>, req: &Request<Incoming>) -> Answer {
    if !authorized(ex, req) {
        let mut r = text(StatusCode::UNAUTHORIZED, "authentication required".into());
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"mailprobe\""),
        );
        return r;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET".into());
    }
    if req.uri().to_string().len() > MAX_URI {
        return text(
            StatusCode::URI_TOO_LONG,
            format!("request target longer than {MAX_URI} bytes"),
        );
    }
    match req.uri().path() {
        "/" => answer(StatusCode::OK, "text/html; charset=utf-8", page::index(ex)),
        "/metrics" => {
            let f = flavor(req);
            answer(StatusCode::OK, content_type(f), ex.stats.render(f))
        }
        "/probe" => probe(ex, req).await,
        "/report" => report(ex, req),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /, /metrics or /probe?target=…&module=…".into(),
        ),
    }
}

async fn probe(ex: &Arc<Exporter>, req: &Request<Incoming>) -> Answer {
    let Some(target) = param(req, "target") else {
        return text(
            StatusCode::BAD_REQUEST,
            "target parameter is missing".into(),
        );
    };
    let module = param(req, "module").unwrap_or_else(|| "check".into());
    let budget = ex.max_budget() + Duration::from_secs(10);
    match tokio::time::timeout(budget, ex.probe(&module, &target)).await {
        Ok(Ok(report)) => {
            let f = flavor(req);
            let mut m = Metrics::default();
            openmetrics::report_metrics(&mut m, &report, &[]);
            answer(StatusCode::OK, content_type(f), m.render(f))
        }
        Ok(Err(ProbeError::UnknownModule(name))) => {
            let known: Vec<&str> = ex.modules().map(|m| m.name.as_str()).collect();
            text(
                StatusCode::NOT_FOUND,
                format!(
                    "unknown module '{name}': known modules are {}",
                    known.join(", ")
                ),
            )
        }
        Ok(Err(ProbeError::BadTarget(why))) => {
            text(StatusCode::BAD_REQUEST, format!("bad target: {why}"))
        }
        Err(_) => text(
            StatusCode::GATEWAY_TIMEOUT,
            "the probe did not finish in time".into(),
        ),
    }
}

fn report(ex: &Exporter, req: &Request<Incoming>) -> Answer {
    let found = param(req, "id")
        .and_then(|id| id.parse::<u64>().ok())
        .and_then(|id| ex.report(id));
    let Some(r) = found else {
        return text(
            StatusCode::NOT_FOUND,
            "no such report (only recent probes are kept)".into(),
        );
    };
    if param(req, "format").as_deref() == Some("json") {
        let json = serde_json::to_string_pretty(&*r.report).unwrap_or_default();
        return answer(StatusCode::OK, "application/json", json);
    }
    answer(StatusCode::OK, "text/html; charset=utf-8", page::report(&r))
}

/// Serve one connection: the TLS handshake and each request head within `header-timeout`,
/// until the client leaves, hyper closes it, or shutdown (then at most [`GRACE`] more).
async fn connection(
    ex: &Arc<Exporter>,
    stream: tokio::net::TcpStream,
    tls: Option<&tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let limit = ex.options.header_timeout;
    let io = match tokio::time::timeout(limit, crate::net::listen::accept(stream, tls)).await {
        Ok(Ok(io)) => io,
        Ok(Err(_)) => return,
        Err(_) => {
            ex.stats.slow_clients.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let svc = {
        let ex = ex.clone();
        service_fn(move |req| {
            let ex = ex.clone();
            async move { Ok::<_, Infallible>(handle(&ex, req).await) }
        })
    };
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limit)
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let done = tokio::select! {
        r = conn.as_mut() => r,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            tokio::time::timeout(GRACE, conn).await.unwrap_or(Ok(()))
        }
    };
    if done.is_err_and(|e| e.is_timeout()) {
        ex.stats.slow_clients.fetch_add(1, Ordering::Relaxed);
    }
}

/// Accept connections on `listener` until `shutdown` resolves, then let open requests finish
/// (at most [`GRACE`]).
pub async fn serve(
    ex: Arc<Exporter>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
    events: &dyn Events,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(ex.options.max_connections.max(1)));
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                // Out of file descriptors and the like: wait a little, never spin.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue }
            },
        };
        let (ex, tls, stop) = (ex.clone(), tls.clone(), stop_rx.clone());
        tasks.spawn(async move {
            ex.stats.connections_open.fetch_add(1, Ordering::Relaxed);
            connection(&ex, stream, tls.as_ref(), stop).await;
            ex.stats.connections_open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    while tasks.try_join_next().is_some() {}
    let _ = stop_tx.send(true);
    events.stopping(tasks.len());
    let _ = tokio::time::timeout(GRACE + Duration::from_secs(1), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}
