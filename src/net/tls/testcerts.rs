//! Test helpers: rcgen certificates (CA, intermediate, leaf with chosen names and dates), an
//! in-process tokio-rustls server on 127.0.0.1:0, and a [`Net`] trusting a test CA.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::NetConfig;
use crate::net::Net;

/// A certificate authority that can sign.
pub(crate) struct Ca {
    pub issuer: Issuer<'static, KeyPair>,
    pub der: CertificateDer<'static>,
    pub pem: String,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = OffsetDateTime::now_utc() - time::Duration::days(365);
    p.not_after = OffsetDateTime::now_utc() + time::Duration::days(3650);
    p
}

/// A self-signed root.
pub(crate) fn root(cn: &str) -> Ca {
    let key = KeyPair::generate().expect("key");
    let p = ca_params(cn);
    let cert = p.self_signed(&key).expect("self-signed");
    Ca {
        der: cert.der().clone(),
        pem: cert.pem(),
        issuer: Issuer::new(p, key),
    }
}

/// An intermediate CA signed by `parent`.
pub(crate) fn intermediate(cn: &str, parent: &Ca) -> Ca {
    intermediate_until(cn, parent, 3650)
}

/// An intermediate CA signed by `parent`, valid until `not_after_days` from now.
pub(crate) fn intermediate_until(cn: &str, parent: &Ca, not_after_days: i64) -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut p = ca_params(cn);
    p.not_after = OffsetDateTime::now_utc() + time::Duration::days(not_after_days);
    let cert = p.signed_by(&key, &parent.issuer).expect("signed");
    Ca {
        der: cert.der().clone(),
        pem: cert.pem(),
        issuer: Issuer::new(p, key),
    }
}

/// What a leaf looks like.
pub(crate) struct LeafSpec<'a> {
    pub names: &'a [&'a str],
    /// Days from now (negative: in the past).
    pub not_before_days: i64,
    pub not_after_days: i64,
    /// An AIA caIssuers URL, as public CAs put in every leaf.
    pub aia: bool,
}

impl Default for LeafSpec<'_> {
    fn default() -> Self {
        LeafSpec {
            names: &["mail.example.test"],
            not_before_days: -10,
            not_after_days: 80,
            aia: false,
        }
    }
}

fn leaf_params(spec: &LeafSpec<'_>) -> CertificateParams {
    let names: Vec<String> = spec.names.iter().map(|s| s.to_string()).collect();
    let mut p = CertificateParams::new(names).expect("params");
    p.distinguished_name = dn(spec.names.first().copied().unwrap_or("leaf"));
    let now = OffsetDateTime::now_utc();
    p.not_before = now + time::Duration::days(spec.not_before_days);
    p.not_after = now + time::Duration::days(spec.not_after_days);
    if spec.aia {
        p.custom_extensions
            .push(aia_extension("http://ca.example.test/int.der"));
    }
    p
}

/// A leaf signed by `ca`, with its key.
pub(crate) fn leaf(
    spec: &LeafSpec<'_>,
    ca: &Ca,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().expect("key");
    let cert = leaf_params(spec)
        .signed_by(&key, &ca.issuer)
        .expect("signed");
    (
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
}

/// A self-signed leaf, with its key.
pub(crate) fn self_signed_leaf(
    spec: &LeafSpec<'_>,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().expect("key");
    let cert = leaf_params(spec).self_signed(&key).expect("self-signed");
    (
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
}

/// A self-signed leaf marked CA:TRUE, as `openssl req -x509` makes them, with its key.
pub(crate) fn self_signed_ca_leaf(
    spec: &LeafSpec<'_>,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = KeyPair::generate().expect("key");
    let mut p = leaf_params(spec);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key).expect("self-signed");
    (
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    )
}

/// AuthorityInfoAccessSyntax with one caIssuers URI, DER by hand (RFC 5280 §4.2.2.1).
pub(crate) fn aia_extension(uri: &str) -> rcgen::CustomExtension {
    let oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut gn = vec![0x86, uri.len() as u8];
    gn.extend_from_slice(uri.as_bytes());
    let mut ad = vec![0x30, (oid.len() + gn.len()) as u8];
    ad.extend_from_slice(&oid);
    ad.extend_from_slice(&gn);
    let mut seq = vec![0x30, ad.len() as u8];
    seq.extend_from_slice(&ad);
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], seq)
}

/// A server config sending `chain` (leaf first); `tls12_only` limits it to TLS 1.2.
pub(crate) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    tls12_only: bool,
) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&'static rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server cert");
    Arc::new(cfg)
}

/// Serve one TLS connection on 127.0.0.1:0: greet with `hello\r\n`, then wait for EOF. The
/// task returns the SNI the client sent (`None` if none or the handshake failed).
pub(crate) async fn serve_tls(cfg: Arc<ServerConfig>) -> (SocketAddr, JoinHandle<Option<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.ok()?;
        let mut tls = tokio_rustls::TlsAcceptor::from(cfg)
            .accept(tcp)
            .await
            .ok()?;
        let sni = tls.get_ref().1.server_name().map(str::to_string);
        tls.write_all(b"hello\r\n").await.ok()?;
        tls.flush().await.ok()?;
        let mut sink = [0u8; 256];
        let _ = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut sink)).await;
        sni
    });
    (addr, task)
}

/// Serve one raw TCP connection: read the ClientHello (one read), write `answer`, then close
/// (`hold`: keep the connection open and silent for `hold` instead).
pub(crate) async fn serve_raw(answer: &'static [u8], hold: Option<Duration>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let Ok((mut tcp, _)) = listener.accept().await else {
            return;
        };
        let mut buf = [0u8; 4096];
        let _ = tcp.read(&mut buf).await;
        let _ = tcp.write_all(answer).await;
        if let Some(d) = hold {
            tokio::time::sleep(d).await;
        }
    });
    addr
}

/// A [`Net`] trusting `ca_pem` (written to a temp file kept alive by the returned guard), with
/// a step timeout of `timeout` and a DNS server that never answers (tests never look names up).
pub(crate) fn net_with_ca(
    ca_pem: Option<&str>,
    timeout: Duration,
) -> (Arc<Net>, Option<tempfile::NamedTempFile>) {
    let file = ca_pem.map(|pem| {
        let mut f = tempfile::NamedTempFile::new().expect("tempfile");
        std::io::Write::write_all(&mut f, pem.as_bytes()).expect("write CA");
        f
    });
    let cfg = NetConfig {
        ca_file: file.as_ref().map(|f| f.path().to_path_buf()),
        dns: vec!["127.0.0.1:9".parse().expect("addr")],
        timeout,
        deadline: Duration::from_secs(60),
        ..NetConfig::default()
    };
    (Net::new(cfg).expect("net"), file)
}
