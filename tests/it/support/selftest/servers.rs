//! Self-tests of the in-process servers: DNS answers through the product's resolver, HTTP(S)
//! routes through reqwest, scripted servers through raw sockets and rustls.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{smtp_reply, tls_upgrade};

#[tokio::test]
async fn dns_serves_builder_and_master_file_zones() {
    use super::super::dns::{DnsServer, Zone};
    let zone = Zone::new("example.test")
        .mx(10, "mail.example.test")
        .a("mail.example.test", "127.0.0.1")
        .cname("imap", "mail.example.test")
        .srv("_imaps._tcp", 0, 1, 993, "imap.example.test")
        .srv("_pop3._tcp", 0, 0, 0, ".")
        .txt("@", "v=spf1 -all");
    let second = "$ORIGIN example.org.test.\n$TTL 60\n\
        @ SOA ns1.example.test. hostmaster.example.org.test. ( 1 3600 600 86400 60 )\n\
        @ MX 20 mx2.example.org.test.\n@ MX 10 mx1.example.org.test.\nmx1 A 127.0.0.3\n";
    let dns = DnsServer::start(&format!("{}{second}", zone.text()));
    let r = mailprobe::dns::Resolver::new(&[dns.addr()], Duration::from_secs(2)).unwrap();
    let mx = r.mx("example.test").await.unwrap();
    assert_eq!(mx[0].exchange, "mail.example.test");
    let srv = r.srv("_imaps._tcp.example.test").await.unwrap();
    assert_eq!(
        (srv[0].port, srv[0].target.as_str()),
        (993, "imap.example.test")
    );
    let ips = r.ipv4("imap.example.test").await.unwrap();
    assert_eq!(ips, vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
    let mx2: Vec<String> = r
        .mx("example.org.test")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.exchange)
        .collect();
    assert_eq!(mx2, ["mx1.example.org.test", "mx2.example.org.test"]);
    let missing = r.ipv4("nope.example.test").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    assert!(
        dns.queries()
            .iter()
            .any(|(n, t)| n == "_imaps._tcp.example.test" && t == "SRV")
    );
}

#[tokio::test]
async fn dns_misbehaves_per_name() {
    use super::super::dns::{DnsServer, Misbehave, Zone};
    let dns = DnsServer::start_zones(&[Zone::new("example.test")
        .mx(10, "mail.example.test")
        .a("mail", "127.0.0.1")]);
    dns.misbehave("_imaps._tcp.example.test", Misbehave::ServFail);
    dns.misbehave("_pop3s._tcp.example.test.", Misbehave::Refused);
    dns.misbehave("_submissions._tcp.example.test", Misbehave::Drop);
    let r = mailprobe::dns::Resolver::new(&[dns.addr()], Duration::from_millis(300)).unwrap();
    for name in ["_imaps._tcp.example.test", "_pop3s._tcp.example.test"] {
        let err = r.srv(name).await.unwrap_err();
        assert!(!err.is_not_found(), "{name}: {err:?}");
    }
    let t0 = Instant::now();
    let err = r.srv("_submissions._tcp.example.test").await.unwrap_err();
    assert!(
        matches!(err, mailprobe::dns::DnsError::Timeout(_)),
        "{err:?}"
    );
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.mx("example.test").await.unwrap().len(), 1);
}

#[tokio::test]
async fn dns_blackhole_never_answers() {
    let hole = super::super::dns::BlackholeDns::start();
    let r = mailprobe::dns::Resolver::new(&[hole.addr()], Duration::from_millis(200)).unwrap();
    let t0 = Instant::now();
    let err = r.mx("example.test").await.unwrap_err();
    assert!(!err.is_not_found(), "{err:?}");
    assert!(hole.received() >= 1);
    assert!(t0.elapsed() < Duration::from_secs(5));
}

fn reqwest_client(
    ca: &super::super::certs::TestCa,
    http: &super::super::http::HttpServer,
) -> reqwest::Client {
    mailprobe::net::tls::install_crypto_provider();
    let tls = (*super::super::certs::client_config(ca)).clone();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("autoconfig.example.test", http.https_addr())
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

#[tokio::test]
async fn http_routes_record_and_misbehave() {
    use super::super::http::{HttpServer, Reply, Routes};
    let ca = super::super::certs::TestCa::new();
    let routes = Routes::new()
        .route(
            "autoconfig.example.test",
            "/mail/config-v1.1.xml",
            Reply::xml("<clientConfig/>"),
        )
        .route(
            "*",
            "/mail/config-v1.1.xml",
            Reply::Status(500, "wildcard".into()),
        )
        .route(
            "*",
            "/autodiscover/autodiscover.xml",
            Reply::xml("<Autodiscover/>"),
        )
        .route(
            "*",
            "/moved",
            Reply::Redirect(301, "https://elsewhere.example.test/x".into()),
        )
        .route("*", "/huge", Reply::Huge(5 << 20))
        .route("*", "/hang", Reply::Hang);
    let srv = HttpServer::start(&ca, &["autoconfig.example.test"], routes);
    let c = reqwest_client(&ca, &srv);
    let port = srv.https_addr().port();
    let url = |p: &str| format!("https://autoconfig.example.test:{port}{p}");

    let r = c
        .get(url("/mail/config-v1.1.xml?emailaddress=a%40example.test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "<clientConfig/>");
    // plain HTTP, other host: the wildcard route
    let plain = format!("http://{}/mail/config-v1.1.xml", srv.http_addr());
    assert_eq!(c.get(plain).send().await.unwrap().status(), 500);
    let r = c
        .post(url("/autodiscover/autodiscover.xml"))
        .body("<Request/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(url("/moved")).send().await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (301, "https://elsewhere.example.test/x")
    );
    assert_eq!(c.get(url("/nothing")).send().await.unwrap().status(), 404);
    let huge = c
        .get(url("/huge"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(huge.len(), 5 << 20);
    let t0 = Instant::now();
    assert!(
        c.get(url("/hang"))
            .timeout(Duration::from_millis(300))
            .send()
            .await
            .is_err()
    );
    assert!(t0.elapsed() < Duration::from_secs(2));

    let reqs = srv.requests();
    assert_eq!(
        reqs[0].query.as_deref(),
        Some("emailaddress=a%40example.test")
    );
    assert!(reqs[0].tls && !reqs[1].tls);
    assert_eq!(reqs[1].host, "127.0.0.1");
    assert_eq!(
        (reqs[2].method.as_str(), reqs[2].body.as_slice()),
        ("POST", &b"<Request/>"[..])
    );
    assert!(reqs.iter().all(|r| r.header("authorization").is_none()));
}

#[tokio::test]
async fn scripted_smtp_with_starttls_records_lines() {
    use super::super::certs::{TestCa, TlsVersions, Validity, server_config};
    use super::super::scripted::{ScriptedServer, Step};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let ca = TestCa::new();
    let cfg = server_config(
        &ca.issue(&["mx.example.test"], Validity::Valid),
        TlsVersions::Tls12Only,
    );
    let srv = ScriptedServer::start(vec![
        Step::line("220 mx.example.test ESMTP scripted"),
        Step::expect("EHLO"),
        Step::line("250-mx.example.test\r\n250 STARTTLS"),
        Step::expect("STARTTLS"),
        Step::line("220 go ahead"),
        Step::StartTls(cfg),
        Step::expect("EHLO"),
        Step::line("250 mx.example.test"),
        Step::ReadLine,
    ]);
    let tcp = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    let mut r = BufReader::new(tcp);
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    r.get_mut().write_all(b"EHLO me\r\n").await.unwrap();
    assert_eq!(smtp_reply(&mut r).await.trim_end(), "250 STARTTLS");
    r.get_mut().write_all(b"STARTTLS\r\n").await.unwrap();
    assert!(smtp_reply(&mut r).await.starts_with("220"));
    let tls = tls_upgrade(r.into_inner(), "mx.example.test", &ca)
        .await
        .unwrap();
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let mut r = BufReader::new(tls);
    r.get_mut().write_all(b"EHLO me\r\n").await.unwrap();
    assert!(smtp_reply(&mut r).await.starts_with("250 "));
    r.get_mut().write_all(b"QUIT\r\n").await.unwrap();
    let mut rest = String::new();
    let n = tokio::time::timeout(Duration::from_secs(5), r.read_line(&mut rest))
        .await
        .unwrap();
    assert_eq!(n.unwrap(), 0, "server closes after the script");
    assert_eq!(srv.lines(), ["EHLO me", "STARTTLS", "EHLO me", "QUIT"]);
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
}

#[tokio::test]
async fn scripted_tls_servers_present_bad_certs_and_legacy_versions() {
    use super::super::certs::{Cert, TestCa, TlsVersions, Validity, server_config};
    use super::super::scripted::{LegacyTls, ScriptedServer, Step};
    let ca = TestCa::new();
    let cases = [
        (
            ca.issue(&["imap.example.test"], Validity::Expired),
            "expired",
        ),
        (
            ca.issue(&["imap.example.test"], Validity::NotYetValid),
            "not valid yet",
        ),
        (
            ca.issue(&["other.example.test"], Validity::Valid),
            "not valid for name",
        ),
        (Cert::self_signed(&["imap.example.test"]), "UnknownIssuer"),
        (
            ca.intermediate()
                .issue(&["imap.example.test"], Validity::Valid)
                .leaf_only(),
            "UnknownIssuer",
        ),
        (
            TestCa::new().issue(&["imap.example.test"], Validity::Valid),
            "UnknownIssuer",
        ),
    ];
    for (cert, want) in cases {
        let srv = ScriptedServer::start_tls(
            server_config(&cert, TlsVersions::Default),
            vec![Step::line("* OK hi")],
        );
        let tcp = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
        let err = tls_upgrade(tcp, "imap.example.test", &ca)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "want {want:?} in {err} ({cert:?})");
    }
    // A complete chain through an intermediate verifies.
    let full = ca
        .intermediate()
        .issue(&["imap.example.test"], Validity::Valid);
    let srv = ScriptedServer::start_tls(server_config(&full, TlsVersions::Tls13Only), vec![]);
    let tcp = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    let tls = tls_upgrade(tcp, "imap.example.test", &ca).await.unwrap();
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    for legacy in [
        LegacyTls::ProtocolVersionAlert,
        LegacyTls::ServerHello(3, 1),
    ] {
        let srv = ScriptedServer::legacy_tls(legacy);
        let tcp = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
        let err = tokio::time::timeout(
            Duration::from_secs(5),
            tls_upgrade(tcp, "x.example.test", &ca),
        )
        .await
        .expect("legacy server answers at once")
        .unwrap_err()
        .to_string();
        eprintln!("{legacy:?}: {err}");
        assert!(
            err.contains("ProtocolVersion") || err.contains("incompatible"),
            "{err}"
        );
    }
}

#[test]
fn scripted_counts_concurrency_and_misbehaves() {
    use super::super::scripted::{ScriptedServer, Step, closed_port};
    use std::io::Read;
    let hole = ScriptedServer::blackhole();
    let conns: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(hole.addr()).unwrap())
        .collect();
    let wait = |f: &dyn Fn() -> bool| {
        let end = Instant::now() + Duration::from_secs(5);
        while !f() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait(&|| hole.current() == 3);
    assert_eq!((hole.connections(), hole.max_concurrent()), (3, 3));
    conns[0]
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    assert!(
        (&conns[0]).read(&mut [0u8; 8]).is_err(),
        "blackhole must not send"
    );
    drop(conns);
    wait(&|| hole.current() == 0);
    assert_eq!((hole.current(), hole.max_concurrent()), (0, 3));

    let drip = ScriptedServer::start(vec![Step::Drip {
        bytes: b"+OK\r\n".to_vec(),
        every: Duration::from_millis(40),
    }]);
    let t0 = Instant::now();
    let mut got = Vec::new();
    TcpStream::connect(drip.addr())
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(got, b"+OK\r\n");
    assert!(t0.elapsed() >= Duration::from_millis(160));

    let stall = ScriptedServer::accept_only();
    let s = TcpStream::connect(stall.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    assert!((&s).read(&mut [0u8; 8]).is_err());
    wait(&|| stall.connections() == 1);
    assert_eq!(stall.current(), 1);

    let never = ScriptedServer::never_accept();
    let s = TcpStream::connect(never.addr()).expect("kernel completes the handshake");
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    assert!((&s).read(&mut [0u8; 8]).is_err());
    assert_eq!(never.connections(), 0);

    let refused = TcpStream::connect_timeout(&closed_port(), Duration::from_secs(1)).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);

    let strict = ScriptedServer::start(vec![
        Step::line("* OK"),
        Step::expect("a1 CAPABILITY"),
        Step::line("never"),
    ]);
    let mut s = TcpStream::connect(strict.addr()).unwrap();
    std::io::Write::write_all(&mut s, b"a1 LOGIN x y\r\n").unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).unwrap();
    assert_eq!(got, "* OK\r\n");
    assert_eq!(strict.failures().len(), 1, "{:?}", strict.failures());
}
