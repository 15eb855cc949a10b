//! Handshake tests against in-process servers on 127.0.0.1: each certificate verdict, TLS 1.2,
//! a fake TLS 1.0 server, non-TLS answers, a server that hangs up or stays silent.

use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::testcerts::*;
use super::*;

const NAME: &str = "mail.example.test";

/// What a successful handshake showed, and the SNI the server saw.
struct Got {
    info: TlsInfo,
    verdict: Verdict,
    sni: Option<String>,
}

/// Handshake with a server sending `chain`, as `name`, trusting `ca`.
async fn run(
    ca: Option<&Ca>,
    chain: Vec<CertificateDer<'static>>,
    key: rustls_pki_types::PrivateKeyDer<'static>,
    tls12_only: bool,
    name: &str,
) -> Got {
    let (net, _guard) = net_with_ca(ca.map(|c| c.pem.as_str()), Duration::from_secs(5));
    let (addr, server) = serve_tls(server_config(chain, key, tls12_only)).await;
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut s = handshake(&net, tcp, name).await.expect("handshake");
    // The stream tokio-rustls took over must carry the server's first bytes.
    let mut buf = [0u8; 7];
    s.stream.read_exact(&mut buf).await.expect("greeting");
    assert_eq!(&buf, b"hello\r\n");
    drop(s.stream);
    let sni = server.await.expect("server task");
    Got {
        info: s.info,
        verdict: s.verdict,
        sni,
    }
}

#[tokio::test]
async fn valid_chain_tls13() {
    let ca = root("Test Root CA");
    let (leaf, key) = leaf(&LeafSpec::default(), &ca);
    let s = run(Some(&ca), vec![leaf.clone()], key, false, NAME).await;
    assert_eq!(s.sni.as_deref(), Some(NAME), "SNI is the real host name");
    let i = &s.info;
    assert!(i.verified, "{:?}", s.verdict);
    assert_eq!(i.verify_error, None);
    assert_eq!(i.version, "TLSv1.3");
    assert!(i.cipher.starts_with("TLS13_"), "{}", i.cipher);
    assert!(i.kx_group.is_some());
    assert_eq!(i.names, vec![NAME]);
    assert_eq!(i.chain.len(), 1);
    assert_eq!(i.chain[0].sha256, sha256_hex(leaf.as_ref()));
    assert_eq!(i.chain[0].issuer, "CN=Test Root CA");
    assert!(
        (78..=80).contains(&i.days_left.unwrap_or(0)),
        "{:?}",
        i.days_left
    );
    assert_eq!(i.chain_days_left, i.days_left);
    assert!(i.not_after.is_some());
    assert!(s.verdict.detail().is_none());
}

#[tokio::test]
async fn tls12_only_server() {
    let ca = root("Test Root CA");
    let (leaf, key) = leaf(&LeafSpec::default(), &ca);
    let s = run(Some(&ca), vec![leaf], key, true, NAME).await;
    assert_eq!(s.info.version, "TLSv1.2");
    assert!(s.info.cipher.starts_with("TLS_ECDHE_"), "{}", s.info.cipher);
    assert!(s.info.verified);
}

#[tokio::test]
async fn expired() {
    let ca = root("Test Root CA");
    let spec = LeafSpec {
        not_before_days: -100,
        not_after_days: -3,
        ..LeafSpec::default()
    };
    let (leaf, key) = leaf(&spec, &ca);
    let s = run(Some(&ca), vec![leaf], key, false, NAME).await;
    assert!(!s.info.verified);
    assert_eq!(s.info.verify_error.as_deref(), Some("expired"));
    assert_eq!(s.verdict.problems, vec!["expired"], "trusted otherwise");
    assert!(
        matches!(s.info.days_left, Some(-4..=-3)),
        "{:?}",
        s.info.days_left
    );
}

#[tokio::test]
async fn not_yet_valid() {
    let ca = root("Test Root CA");
    let spec = LeafSpec {
        not_before_days: 2,
        not_after_days: 90,
        ..LeafSpec::default()
    };
    let (leaf, key) = leaf(&spec, &ca);
    let s = run(Some(&ca), vec![leaf], key, false, NAME).await;
    assert_eq!(s.verdict.problems, vec!["not-yet-valid"]);
}

#[tokio::test]
async fn wrong_name_lists_names() {
    let ca = root("Test Root CA");
    let spec = LeafSpec {
        names: &["mx.other.test", "*.other.test"],
        ..LeafSpec::default()
    };
    let (leaf, key) = leaf(&spec, &ca);
    let s = run(Some(&ca), vec![leaf], key, false, NAME).await;
    assert_eq!(s.info.verify_error.as_deref(), Some("hostname-mismatch"));
    assert_eq!(s.info.names, vec!["mx.other.test", "*.other.test"]);
    let d = s.verdict.detail().expect("detail");
    assert!(
        d.contains("mx.other.test, *.other.test") && d.contains(NAME),
        "{d}"
    );
}

#[tokio::test]
async fn self_signed_and_expired_shows_all() {
    let spec = LeafSpec {
        names: &["localhost"],
        not_before_days: -30,
        not_after_days: -1,
        ..LeafSpec::default()
    };
    let (leaf, key) = self_signed_leaf(&spec);
    let s = run(None, vec![leaf], key, false, NAME).await;
    assert_eq!(
        s.verdict.problems,
        vec!["expired", "self-signed", "hostname-mismatch"]
    );
    assert!(s.info.chain[0].self_signed);
}

#[tokio::test]
async fn self_signed() {
    let (leaf, key) = self_signed_leaf(&LeafSpec::default());
    let s = run(None, vec![leaf], key, false, NAME).await;
    assert_eq!(s.verdict.problems, vec!["self-signed"]);
}

/// `openssl req -x509` marks its certificate CA:TRUE: still reported as self-signed.
#[tokio::test]
async fn self_signed_ca_true() {
    let (leaf, key) = self_signed_ca_leaf(&LeafSpec::default());
    let s = run(None, vec![leaf], key, false, NAME).await;
    assert_eq!(s.verdict.problems, vec!["self-signed"]);
}

#[tokio::test]
async fn unknown_ca() {
    let trusted = root("Trusted CA");
    let other = root("Private CA");
    let (leaf, key) = leaf(&LeafSpec::default(), &other);
    let s = run(Some(&trusted), vec![leaf], key, false, NAME).await;
    assert_eq!(s.verdict.problems, vec!["unknown-issuer"]);
    assert!(
        s.verdict
            .detail()
            .unwrap_or_default()
            .contains("CN=Private CA")
    );
}

#[tokio::test]
async fn incomplete_chain() {
    let ca = root("Test Root CA");
    let int = intermediate("Test Intermediate", &ca);
    let spec = LeafSpec {
        aia: true,
        ..LeafSpec::default()
    };
    let (leaf, key) = leaf(&spec, &int);
    let s = run(Some(&ca), vec![leaf], key, false, NAME).await;
    assert_eq!(s.verdict.problems, vec!["incomplete-chain"]);
    assert!(
        s.verdict
            .detail()
            .unwrap_or_default()
            .contains("CN=Test Intermediate")
    );
}

#[tokio::test]
async fn complete_chain_with_intermediate() {
    let ca = root("Test Root CA");
    let int = intermediate("Test Intermediate", &ca);
    let spec = LeafSpec {
        not_after_days: 20,
        aia: true,
        ..LeafSpec::default()
    };
    let (leaf, key) = leaf(&spec, &int);
    let s = run(Some(&ca), vec![leaf, int.der.clone()], key, false, NAME).await;
    assert!(s.info.verified, "{:?}", s.verdict);
    assert_eq!(s.info.chain.len(), 2);
    assert_eq!(s.info.chain[1].subject, "CN=Test Intermediate");
    assert!(matches!(s.info.chain_days_left, Some(19..=20)));
}

/// The chain expires before the leaf: `chain_days_left` shows it; once expired, the verdict
/// names the intermediate.
#[tokio::test]
async fn intermediate_expiry() {
    let ca = root("Test Root CA");
    let int = intermediate_until("Short Intermediate", &ca, 5);
    let (leaf, key) = leaf(&LeafSpec::default(), &int);
    let s = run(Some(&ca), vec![leaf, int.der.clone()], key, false, NAME).await;
    assert!(s.info.verified, "{:?}", s.verdict);
    assert!(
        matches!(s.info.days_left, Some(78..=80)),
        "{:?}",
        s.info.days_left
    );
    assert!(
        matches!(s.info.chain_days_left, Some(4..=5)),
        "{:?}",
        s.info.chain_days_left
    );

    let old = intermediate_until("Old Intermediate", &ca, -2);
    let (leaf2, key2) = super::testcerts::leaf(&LeafSpec::default(), &old);
    let s = run(Some(&ca), vec![leaf2, old.der.clone()], key2, false, NAME).await;
    assert_eq!(s.verdict.problems, vec!["expired"]);
    let d = s.verdict.detail().unwrap_or_default();
    assert!(d.contains("chain certificate 'CN=Old Intermediate'"), "{d}");
}

#[tokio::test]
async fn ip_literal_gets_no_sni() {
    let ca = root("Test Root CA");
    let spec = LeafSpec {
        names: &["127.0.0.1"],
        ..LeafSpec::default()
    };
    let (leaf, key) = leaf(&spec, &ca);
    let s = run(Some(&ca), vec![leaf], key, false, "127.0.0.1").await;
    assert_eq!(s.sni, None);
    assert!(s.info.verified, "{:?}", s.verdict);
    assert_eq!(s.info.names, vec!["127.0.0.1"]);
}

async fn fail(answer: &'static [u8], hold: Option<Duration>, timeout: Duration) -> TlsFailure {
    let (net, _g) = net_with_ca(None, timeout);
    let addr = serve_raw(answer, hold).await;
    let tcp = TcpStream::connect(addr).await.expect("connect");
    match handshake(&net, tcp, NAME).await {
        Ok(_) => panic!("handshake succeeded against {answer:02x?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn tls10_alert_named() {
    let f = fail(
        &[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46],
        None,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        f.kind,
        TlsFailureKind::LegacyVersion("TLSv1.0".into()),
        "{f:?}"
    );
    assert_eq!(f.error, "the server only speaks TLSv1.0");
    assert!(f.hint.is_some());
}

/// A TLS 1.0 ServerHello (RFC 2246 §7.4.1.3): version 3.1, random, no session id,
/// TLS_RSA_WITH_AES_128_CBC_SHA, null compression.
const SERVER_HELLO_10: &[u8] = &[
    0x16, 0x03, 0x01, 0x00, 0x2a, // record: handshake, TLS 1.0, 42 bytes
    0x02, 0x00, 0x00, 0x26, // ServerHello, 38 bytes
    0x03, 0x01, // server_version
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
    27, 28, 29, 30, 31, 32,   // random
    0x00, // session id length
    0x00, 0x2f, // cipher suite
    0x00, // compression
];

#[tokio::test]
async fn tls11_server_hello_named() {
    static HELLO11: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        let mut v = SERVER_HELLO_10.to_vec();
        v[2] = 0x02;
        v[10] = 0x02;
        v
    });
    let f = fail(SERVER_HELLO_10, None, Duration::from_secs(5)).await;
    assert_eq!(
        f.kind,
        TlsFailureKind::LegacyVersion("TLSv1.0".into()),
        "{f:?}"
    );
    let f = fail(HELLO11.as_slice(), None, Duration::from_secs(5)).await;
    assert_eq!(
        f.kind,
        TlsFailureKind::LegacyVersion("TLSv1.1".into()),
        "{f:?}"
    );
}

#[tokio::test]
async fn plaintext_banner_is_not_tls() {
    let f = fail(
        b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
        None,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(f.kind, TlsFailureKind::NotTls, "{f:?}");
    assert!(f.error.contains("* OK [CAPABILITY"), "{}", f.error);
}

#[tokio::test]
async fn closed_mid_handshake() {
    let f = fail(b"", None, Duration::from_secs(5)).await;
    assert_eq!(f.kind, TlsFailureKind::Closed, "{f:?}");
}

#[tokio::test]
async fn silent_server_times_out() {
    let started = Instant::now();
    let f = fail(
        b"",
        Some(Duration::from_secs(10)),
        Duration::from_millis(400),
    )
    .await;
    assert_eq!(f.kind, TlsFailureKind::Timeout, "{f:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bad_server_name_is_an_error_not_a_panic() {
    let (net, _g) = net_with_ca(None, Duration::from_secs(1));
    let addr = serve_raw(b"", None).await;
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let f = handshake(&net, tcp, "bad name!")
        .await
        .err()
        .expect("error");
    assert_eq!(f.kind, TlsFailureKind::Other);
}

/// STARTTLS: a plaintext exchange first, then the handshake on the same TCP stream.
#[tokio::test]
async fn handshake_after_plaintext_exchange() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let ca = root("Test Root CA");
    let (leaf, key) = leaf(&LeafSpec::default(), &ca);
    let cfg = server_config(vec![leaf], key, false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.expect("accept");
        tcp.write_all(b"* OK ready\r\n").await.expect("greet");
        let mut line = [0u8; 64];
        let n = tcp.read(&mut line).await.expect("command");
        assert_eq!(&line[..n], b"a STARTTLS\r\n");
        tcp.write_all(b"a OK begin TLS\r\n").await.expect("ok");
        let mut tls = tokio_rustls::TlsAcceptor::from(cfg)
            .accept(tcp)
            .await
            .expect("tls");
        tls.write_all(b"* OK secure\r\n").await.expect("write");
        let mut sink = [0u8; 16];
        let _ = tls.read(&mut sink).await;
    });
    let (net, _g) = net_with_ca(Some(&ca.pem), Duration::from_secs(5));
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let mut greeting = String::new();
    BufReader::new(&mut tcp)
        .read_line(&mut greeting)
        .await
        .expect("greeting");
    tcp.write_all(b"a STARTTLS\r\n").await.expect("starttls");
    let mut ok = [0u8; 16];
    tcp.read_exact(&mut ok).await.expect("ok line");
    assert_eq!(&ok, b"a OK begin TLS\r\n");
    let mut s = handshake(&net, tcp, NAME).await.expect("handshake");
    assert!(s.info.verified, "{:?}", s.verdict);
    let mut buf = String::new();
    BufReader::new(&mut s.stream)
        .read_line(&mut buf)
        .await
        .expect("line");
    assert_eq!(buf, "* OK secure\r\n");
}

/// The probe spawns handshakes on the multi-threaded runtime: the future must be `Send`.
#[tokio::test]
async fn handshake_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (net, _g) = net_with_ca(None, Duration::from_secs(1));
    let (a, _b) = tokio::io::duplex(64);
    let fut = handshake(&net, a, NAME);
    assert_send(&fut);
}
