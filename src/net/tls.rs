//! TLS: the process crypto provider, trust anchors, and the probing handshake — SNI
//! with the real host name, a verifier that records the certificate verdict instead of
//! aborting, and a failure that names an old protocol version rather than a generic error.
//!
//! The handshake is driven by hand over a plain `rustls::ClientConnection` so that the first
//! bytes of the server's answer can be kept (they tell TLS 1.0 from "not TLS at all"); the
//! finished connection is then handed to tokio-rustls, so callers get an ordinary
//! [`tokio_rustls::client::TlsStream<S>`].

mod anchor;
mod cert;
mod sniff;
#[cfg(test)]
mod testcerts;
#[cfg(test)]
mod tests;
mod verdict;
mod verifier;

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rustls::client::WebPkiServerVerifier;
use rustls::{ClientConfig, ClientConnection, ProtocolVersion, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsConnector;

pub use anchor::{AnchorVerdict, spki_der, verify_from_anchor};
pub use cert::{days_between, inspect_chain, sha256_hex};
pub use sniff::TlsFailureKind;
pub use verdict::{Verdict, VerdictSlot};
pub use verifier::RecordingVerifier;

use super::{Net, NetSetupError};
use crate::model::TlsInfo;
use sniff::{Cause, SNIFF_LEN, explain};

/// ring as the process-wide provider; reqwest's `rustls-no-provider` panics without one.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// webpki-roots (the same on every machine) plus the certificates of `--ca-file`.
pub fn root_store(ca_file: Option<&Path>) -> Result<RootCertStore, NetSetupError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let err = |reason: String| NetSetupError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| err(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(e.to_string()))?;
        if certs.is_empty() {
            return Err(err("no PEM certificate in the file".into()));
        }
        for c in certs {
            roots.add(c).map_err(|e| err(e.to_string()))?;
        }
    }
    Ok(roots)
}

/// A client config that verifies strictly against `roots` (used for HTTPS discovery).
pub(crate) fn strict_client_config(roots: std::sync::Arc<RootCertStore>) -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth()
}

/// An established TLS session and what the handshake showed.
pub struct TlsSession<S> {
    pub stream: tokio_rustls::client::TlsStream<S>,
    /// For the report: version, cipher, group, chain and the verdict (code only).
    pub info: TlsInfo,
    /// Every certificate problem with a sentence for each (the report's step detail).
    pub verdict: Verdict,
    pub handshake_ms: u64,
}

/// A handshake that did not complete. The certificate verdict never causes this.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct TlsFailure {
    pub kind: TlsFailureKind,
    pub error: String,
    pub hint: Option<String>,
}

/// A client config whose verifier records its verdict in the returned slot and accepts every
/// chain (handshake signatures are still checked). One config per handshake: the slot belongs
/// to it. TLS 1.2 and 1.3, no ALPN, no client certificate.
pub(crate) fn client_config_recording(
    net: &Net,
) -> Result<(Arc<ClientConfig>, VerdictSlot), TlsFailure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(net.roots.clone(), provider.clone())
        .build()
        .map_err(|e| other(format!("cannot build the certificate verifier: {e}")))?;
    let (verifier, slot) = RecordingVerifier::new(inner);
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| other(format!("TLS configuration: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok((Arc::new(config), slot))
}

fn other(error: String) -> TlsFailure {
    TlsFailure {
        kind: TlsFailureKind::Other,
        error,
        hint: None,
    }
}

/// The name to verify (and to send as SNI): a host name, or an IP literal, for which rustls
/// sends no SNI (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted").
fn server_name(host: &str) -> Result<ServerName<'static>, TlsFailure> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(host.trim_end_matches('.').to_string())
        .map_err(|e| other(format!("'{host}' is not a valid TLS server name: {e}")))
}

/// TLS handshake over `stream` (a fresh TCP connection, or one after STARTTLS/STLS) for
/// `server_name` — the name the user asked for, not a `--connect-to` target. Bounded by
/// `net.step_timeout()`. A certificate problem is recorded in the session, not an error.
pub async fn handshake<S>(
    net: &Net,
    mut stream: S,
    server_name_str: &str,
) -> Result<TlsSession<S>, TlsFailure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let name = server_name(server_name_str)?;
    let (config, slot) = client_config_recording(net)?;
    let mut conn = ClientConnection::new(config.clone(), name.clone())
        .map_err(|e| other(format!("TLS setup: {e}")))?;
    let started = Instant::now();
    let limit = net.step_timeout();
    let mut first = Vec::with_capacity(SNIFF_LEN);
    let result = match tokio::time::timeout(limit, drive(&mut conn, &mut stream, &mut first)).await
    {
        Ok(r) => r,
        Err(_) => Err(Cause::Timeout),
    };
    if let Err(cause) = result {
        let (kind, error, hint) = explain(&cause, &first, limit);
        return Err(TlsFailure { kind, error, hint });
    }
    let handshake_ms = ms(started);
    // Hand the finished connection to tokio-rustls: `connect_with` lets us swap it in before
    // its own (now empty) handshake loop runs, which then only flushes.
    let mut done = Some(conn);
    let stream = TlsConnector::from(config)
        .connect_with(name, stream, |c| {
            if let Some(d) = done.take() {
                *c = d;
            }
        })
        .await
        .map_err(|e| other(format!("TLS handshake: {e}")))?;
    let verdict = slot
        .lock()
        .ok()
        .and_then(|mut s| s.take())
        .unwrap_or_else(|| Verdict {
            problems: vec!["not-verified".into()],
            details: vec!["the certificate was not checked (no verdict recorded)".into()],
        });
    let info = tls_info(
        stream.get_ref().1,
        &verdict,
        server_name_str,
        time::OffsetDateTime::now_utc(),
    );
    Ok(TlsSession {
        stream,
        info,
        verdict,
        handshake_ms,
    })
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Run the handshake to completion, keeping the first bytes the server sends in `first`.
async fn drive<S>(conn: &mut ClientConnection, io: &mut S, first: &mut Vec<u8>) -> Result<(), Cause>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Small reads: whatever arrives after the handshake (a greeting) must fit the plaintext
    // buffer rustls keeps for the stream that takes over.
    let mut buf = vec![0u8; 4096];
    loop {
        flush_tls(conn, io).await?;
        if !conn.is_handshaking() {
            return Ok(());
        }
        let n = io.read(&mut buf).await.map_err(Cause::Io)?;
        if n == 0 {
            return Err(Cause::Eof);
        }
        let room = SNIFF_LEN.saturating_sub(first.len());
        first.extend_from_slice(&buf[..n.min(room)]);
        let mut rd = &buf[..n];
        while !rd.is_empty() {
            if conn.read_tls(&mut rd).map_err(Cause::Io)? == 0 {
                // rustls' buffers are full and the handshake still wants more: a server
                // flooding us before the handshake ends.
                return Err(Cause::Io(std::io::Error::other(
                    "TLS buffers full during the handshake",
                )));
            }
            if let Err(e) = conn.process_new_packets() {
                // rustls queued a fatal alert for the server (RFC 8446 §6.2); best effort.
                let _ = flush_tls(conn, io).await;
                return Err(Cause::Tls(e));
            }
        }
    }
}

async fn flush_tls<S: AsyncWrite + Unpin>(
    conn: &mut ClientConnection,
    io: &mut S,
) -> Result<(), Cause> {
    if !conn.wants_write() {
        return Ok(());
    }
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).map_err(Cause::Io)?;
    }
    io.write_all(&out).await.map_err(Cause::Io)?;
    io.flush().await.map_err(Cause::Io)
}

/// The report's view of an established session.
fn tls_info(
    conn: &ClientConnection,
    verdict: &Verdict,
    server_name: &str,
    now: time::OffsetDateTime,
) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => "unknown".to_string(),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let kx_group = conn
        .negotiated_key_exchange_group()
        .map(|g| format!("{:?}", g.name()));
    let chain = inspect_chain(conn.peer_certificates().unwrap_or(&[]), server_name, now);
    let leaf = chain.first();
    TlsInfo {
        version,
        cipher,
        kx_group,
        verified: verdict.verified(),
        verify_error: verdict.error().map(str::to_string),
        names: leaf.map(|c| c.names.clone()).unwrap_or_default(),
        not_after: leaf.map(|c| c.not_after.clone()),
        days_left: leaf.map(|c| c.days_left),
        chain_days_left: chain.iter().map(|c| c.days_left).min(),
        chain,
    }
}
