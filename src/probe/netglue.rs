//! The one place the probe calls the TLS layer (`net::tls`), so the dialogue only sees
//! [`TlsInfo`] and a [`TlsError`] it can turn into an outcome and findings.

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::net::Net;
use crate::net::tls::{self, TlsFailureKind};
use crate::report::{AddressResult, TlsInfo};

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

/// An established TLS stream, its report facts, and one sentence per certificate problem.
pub struct Handshake {
    pub stream: TlsStream<TcpStream>,
    pub info: TlsInfo,
    pub problems: Vec<String>,
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
            problems: s.verdict.details,
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
pub struct Connected {
    pub tcp: TcpStream,
    pub addresses: Vec<AddressResult>,
    /// `ip:port` actually connected to.
    pub peer: String,
}

/// No address of the host accepted a connection.
#[derive(Debug, Clone)]
pub struct ConnectError {
    /// `resolve` when the name did not resolve, `connect` otherwise.
    pub phase: &'static str,
    pub message: String,
    pub addresses: Vec<AddressResult>,
}

/// Resolve (honouring `--resolve`/`--connect-to`) and connect, recording every address.
pub async fn connect(net: &Net, host: &str, port: u16) -> Result<Connected, ConnectError> {
    // Interim: one address after the other until net::connect brings happy eyeballs.
    let limit = net.step_timeout();
    let addrs = match tokio::time::timeout(limit, net.socket_addrs(host, port)).await {
        Err(_) => {
            return Err(ConnectError {
                phase: "resolve",
                message: format!("{host}: DNS timeout"),
                addresses: vec![],
            });
        }
        Ok(Err(e)) => {
            return Err(ConnectError {
                phase: "resolve",
                message: e.to_string(),
                addresses: vec![],
            });
        }
        Ok(Ok(a)) if a.is_empty() => {
            return Err(ConnectError {
                phase: "resolve",
                message: format!("{host}: no address"),
                addresses: vec![],
            });
        }
        Ok(Ok(a)) => a,
    };
    let mut results = Vec::new();
    let mut last = String::new();
    for sa in addrs {
        let t = std::time::Instant::now();
        let family = if sa.is_ipv4() { "ipv4" } else { "ipv6" };
        let r = tokio::time::timeout(net.step_timeout(), TcpStream::connect(sa)).await;
        let elapsed_ms = Some(t.elapsed().as_millis() as u64);
        let result = match r {
            Ok(Ok(tcp)) => {
                results.push(AddressResult {
                    address: sa.ip().to_string(),
                    family: family.into(),
                    result: "connected".into(),
                    elapsed_ms,
                });
                return Ok(Connected {
                    tcp,
                    addresses: results,
                    peer: sa.to_string(),
                });
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                "refused".to_string()
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "timeout".to_string(),
        };
        last = format!("{sa}: {result}");
        results.push(AddressResult {
            address: sa.ip().to_string(),
            family: family.into(),
            result,
            elapsed_ms,
        });
    }
    Err(ConnectError {
        phase: "connect",
        message: last,
        addresses: results,
    })
}
