//! The one place the probe calls the TLS layer (`net::tls`), so the dialogue only sees
//! [`TlsInfo`] and a [`TlsError`] it can turn into an outcome and findings.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::net::Net;
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

/// Handshake over `tcp` for `server_name` (SNI and certificate name), within `limit`.
pub async fn handshake(
    net: &Net,
    tcp: TcpStream,
    server_name: &str,
    limit: Duration,
) -> Result<(TlsStream<TcpStream>, TlsInfo), TlsError> {
    // Interim: strict verification until net::tls records the verdict instead of failing.
    let cfg = crate::net::tls::strict_client_config(net.roots.clone());
    let name = ServerName::try_from(
        server_name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    )
    .map_err(|e| TlsError::new(format!("invalid server name {server_name}: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let stream = match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
        Err(_) => {
            return Err(TlsError::new(format!(
                "TLS handshake timed out after {} ms",
                limit.as_millis()
            )));
        }
        Ok(Err(e)) => return Err(TlsError::new(e.to_string())),
        Ok(Ok(s)) => s,
    };
    let conn = stream.get_ref().1;
    let info = TlsInfo {
        version: conn
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default(),
        kx_group: None,
        verified: true,
        verify_error: None,
        names: Vec::new(),
        not_after: None,
        days_left: None,
        chain_days_left: None,
        chain: Vec::new(),
    };
    Ok((stream, info))
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
