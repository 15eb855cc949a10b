//! The transport under a [`Session`](super::Session): the one place the protocol layer calls
//! `net::connect` (resolution honouring `--resolve`/`--connect-to`, happy eyeballs RFC 8305)
//! and `net::tls` (the handshake, implicit or after STARTTLS), so the dialogues only see
//! [`TlsInfo`], a [`TlsError`] and a [`ConnectError`] they can turn into an outcome and
//! findings.

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::model::{AddressResult, Phase, TlsInfo};
use crate::net::Net;
use crate::net::connect::{self, ConnectErrorKind};
use crate::net::tls::{self, TlsFailureKind};

/// A TLS handshake that did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    pub message: String,
    pub hint: Option<String>,
    /// Set when the server only speaks an old protocol version (`TLSv1.0`, `TLSv1.1`, `SSLv3`).
    pub legacy_version: Option<String>,
}

impl TlsError {
    pub fn new(message: impl Into<String>) -> Self {
        TlsError {
            message: message.into(),
            hint: None,
            legacy_version: None,
        }
    }
}

/// One certificate problem: a stable code (`expired`, `hostname-mismatch`, …) and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertProblem {
    pub code: String,
    pub detail: String,
}

/// The problems' sentences joined with `; ` (empty when the certificate verified).
pub(crate) fn describe(problems: &[CertProblem]) -> String {
    problems
        .iter()
        .map(|p| p.detail.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// An established TLS stream, its report facts, and the certificate problems.
pub(crate) struct Handshake {
    pub stream: TlsStream<TcpStream>,
    pub info: TlsInfo,
    pub problems: Vec<CertProblem>,
}

/// Handshake over `tcp` for `server_name` (SNI and certificate name; the name the user asked
/// for, never a `--connect-to` target), bounded by the step timeout. Certificate problems are
/// recorded in [`TlsInfo`], not errors.
pub async fn handshake(
    net: &Net,
    tcp: TcpStream,
    server_name: &str,
) -> Result<Handshake, TlsError> {
    match tls::handshake(net, tcp, server_name).await {
        Ok(s) => Ok(Handshake {
            stream: s.stream,
            info: s.info,
            problems: s
                .verdict
                .problems
                .into_iter()
                .zip(s.verdict.details)
                .map(|(code, detail)| CertProblem { code, detail })
                .collect(),
        }),
        Err(f) => Err(TlsError {
            legacy_version: match &f.kind {
                TlsFailureKind::LegacyVersion(v) => Some(v.clone()),
                _ => None,
            },
            message: f.error,
            hint: f.hint,
        }),
    }
}

/// A TCP connection and what happened on the way to it.
pub(crate) struct Connected {
    pub tcp: TcpStream,
    pub addresses: Vec<AddressResult>,
    /// `ip:port` actually connected to.
    pub peer: String,
    pub resolve_ms: u64,
    pub connect_ms: u64,
    /// The peer when `--connect-to`/`--resolve` changed where the connection went.
    pub redirected_to: Option<String>,
}

/// No address of the host accepted a connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnectError {
    /// `resolve` when the name did not resolve, `connect` otherwise.
    pub phase: Phase,
    pub message: String,
    pub hint: Option<String>,
    pub addresses: Vec<AddressResult>,
}

/// Resolve (honouring `--resolve`/`--connect-to`) and connect with happy eyeballs (RFC 8305),
/// recording every address, within the step timeout.
pub async fn connect(net: &Net, host: &str, port: u16) -> Result<Connected, ConnectError> {
    match connect::connect(net, host, port).await {
        Ok(c) => Ok(Connected {
            tcp: c.stream,
            addresses: c.addresses,
            peer: c.peer.to_string(),
            resolve_ms: c.resolve_ms,
            connect_ms: c.connect_ms,
            redirected_to: c.redirected_to,
        }),
        Err(f) => Err(ConnectError {
            phase: match f.kind {
                ConnectErrorKind::Dns | ConnectErrorKind::NotFound => Phase::Resolve,
                _ => Phase::Connect,
            },
            message: f.error,
            hint: f.hint,
            addresses: f.addresses,
        }),
    }
}
