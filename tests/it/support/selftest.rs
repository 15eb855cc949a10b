//! Self-tests of the harness: each server comes up, greets, speaks TLS with the test CA, and the
//! mail stack delivers.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::mailstack;

fn greeting(addr: std::net::SocketAddr) -> String {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut line = String::new();
    BufReader::new(s)
        .read_line(&mut line)
        .expect("read greeting");
    line
}

#[test]
fn mailstack_plain_ports_greet() {
    let t0 = Instant::now();
    let st = mailstack::shared();
    eprintln!(
        "shared stack ready after {:?} (start took {:?})",
        t0.elapsed(),
        st.start_time
    );
    let p = st.ports;
    assert!(greeting(st.sock(p.imap)).starts_with("* OK"));
    assert!(greeting(st.sock(p.pop3)).starts_with("+OK"));
    assert!(greeting(st.sock(p.smtp)).starts_with("220 "));
    assert!(greeting(st.sock(p.submission)).starts_with("220 "));
}

/// Connect with TLS from the first byte, verifying against `ca_file` for `name`.
async fn tls_connect(
    addr: std::net::SocketAddr,
    name: &str,
    ca: &super::certs::TestCa,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let cfg = super::certs::client_config(ca);
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let sni = rustls_pki_types::ServerName::try_from(name.to_string()).expect("server name");
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio_rustls::TlsConnector::from(cfg).connect(sni, tcp),
    )
    .await
    .expect("TLS handshake timed out")
    .expect("TLS handshake verified against the test CA")
}

/// Read one SMTP reply (all continuation lines); returns the last line.
async fn smtp_reply<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> String {
    use tokio::io::AsyncBufReadExt;
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut line))
            .await
            .expect("SMTP reply timed out")
            .expect("read SMTP reply");
        assert!(n > 0, "SMTP server closed the connection");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

/// Submit one message over implicit TLS (port 465) with AUTH PLAIN as alice.
async fn submit_465(st: &mailstack::MailStack, rcpt: &str, subject: &str) {
    use base64::Engine;
    use tokio::io::AsyncWriteExt;
    let tls = tls_connect(st.sock(st.ports.submissions), "smtp.example.test", &st.ca).await;
    let mut s = tokio::io::BufReader::new(tls);
    let (user, pw) = st.user();
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pw}"));
    assert!(smtp_reply(&mut s).await.starts_with("220"));
    let msg = format!(
        "From: <{user}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.test>\r\n\r\nharness self-test\r\n.\r\n"
    );
    let steps: [(String, &str); 6] = [
        ("EHLO client.example.test\r\n".into(), "250"),
        (format!("AUTH PLAIN {plain}\r\n"), "235"),
        (format!("MAIL FROM:<{user}>\r\n"), "250"),
        (format!("RCPT TO:<{rcpt}>\r\n"), "250"),
        ("DATA\r\n".into(), "354"),
        (msg, "250"),
    ];
    for (cmd, want) in steps {
        s.get_mut().write_all(cmd.as_bytes()).await.unwrap();
        let reply = smtp_reply(&mut s).await;
        assert!(
            reply.starts_with(want),
            "after {cmd:?}: {reply}\n{}",
            st.log_tail()
        );
    }
    s.get_mut().write_all(b"QUIT\r\n").await.unwrap();
}

#[tokio::test]
async fn mailstack_implicit_tls_ports_verify_against_test_ca() {
    use tokio::io::AsyncBufReadExt;
    let st = mailstack::shared();
    for (port, name, greet) in [
        (st.ports.imaps, "imap.example.test", "* OK"),
        (st.ports.pop3s, "pop.example.test", "+OK"),
        (st.ports.submissions, "smtp.example.test", "220 "),
    ] {
        let tls = tls_connect(st.sock(port), name, &st.ca).await;
        let mut line = String::new();
        tokio::io::BufReader::new(tls)
            .read_line(&mut line)
            .await
            .unwrap();
        assert!(line.starts_with(greet), "{name}:{port} greeted {line:?}");
    }
}

#[tokio::test]
async fn mailstack_delivers_submission_to_inbox_and_sieve_junk() {
    let st = mailstack::shared();
    let inbox = st.count_messages("alice@example.test", "INBOX");
    let junk = st.count_messages("carol@example.test", "Junk");
    let t0 = Instant::now();
    submit_465(st, "alice@example.test", "selftest-alice").await;
    submit_465(st, "carol@example.test", "selftest-carol").await;
    let got = st.wait_for_messages(
        "alice@example.test",
        "INBOX",
        inbox + 1,
        Duration::from_secs(15),
    );
    assert!(got > inbox, "alice's INBOX did not grow\n{}", st.log_tail());
    let got = st.wait_for_messages(
        "carol@example.test",
        "Junk",
        junk + 1,
        Duration::from_secs(15),
    );
    assert!(got > junk, "carol's Junk did not grow\n{}", st.log_tail());
    assert_eq!(
        st.count_messages("carol@example.test", "INBOX"),
        0,
        "Sieve should file into Junk"
    );
    eprintln!("submitted and delivered both in {:?}", t0.elapsed());
}

#[test]
fn private_stack_on_127_0_0_2_is_production_like_and_stops_cleanly() {
    use std::io::Write;
    let opts = mailstack::StackOptions {
        addr: "127.0.0.2".parse().unwrap(),
        cert: super::certs::Validity::Expired,
        ..Default::default()
    };
    let st = mailstack::MailStack::start(opts);
    eprintln!("private stack started in {:?}", st.start_time);
    // Dovecot: client IP != server IP, so no plaintext login before STARTTLS.
    let imap = greeting(st.sock(st.ports.imap));
    assert!(imap.contains("LOGINDISABLED"), "{imap}");
    // Postfix submission: STARTTLS offered, AUTH only after TLS.
    let mut s = TcpStream::connect(st.sock(st.ports.submission)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    s.write_all(b"EHLO client.example.test\r\n").unwrap();
    let mut ehlo = String::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        ehlo.push_str(&l);
        if l.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    // The expired certificate is served as is.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(st.sock(st.ports.imaps))
            .await
            .unwrap();
        tls_upgrade(tcp, "imap.example.test", &st.ca)
            .await
            .unwrap_err()
            .to_string()
    });
    assert!(err.contains("expired"), "{err}");
    let dir = st.dir.clone();
    let pid: String = std::fs::read_to_string(dir.join("dovecot/run/master.pid")).unwrap();
    let took = st.stop();
    eprintln!("private stack stopped in {took:?}");
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z"),
        "dovecot master still runs: {stat}"
    );
    assert!(!dir.exists(), "stack folder not removed");
}

#[tokio::test]
async fn dns_serves_builder_and_master_file_zones() {
    use super::dns::{DnsServer, Zone};
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
async fn dns_blackhole_never_answers() {
    let hole = super::dns::BlackholeDns::start();
    let r = mailprobe::dns::Resolver::new(&[hole.addr()], Duration::from_millis(200)).unwrap();
    let t0 = Instant::now();
    let err = r.mx("example.test").await.unwrap_err();
    assert!(!err.is_not_found(), "{err:?}");
    assert!(hole.received() >= 1);
    assert!(t0.elapsed() < Duration::from_secs(5));
}

fn reqwest_client(ca: &super::certs::TestCa, http: &super::http::HttpServer) -> reqwest::Client {
    mailprobe::net::tls::install_crypto_provider();
    let tls = (*super::certs::client_config(ca)).clone();
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
    use super::http::{HttpServer, Reply, Routes};
    let ca = super::certs::TestCa::new();
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

/// A client that connects, optionally upgrades to TLS, and returns the session for assertions.
async fn tls_upgrade(
    tcp: tokio::net::TcpStream,
    name: &str,
    ca: &super::certs::TestCa,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, std::io::Error> {
    let sni = rustls_pki_types::ServerName::try_from(name.to_string()).unwrap();
    tokio_rustls::TlsConnector::from(super::certs::client_config(ca))
        .connect(sni, tcp)
        .await
}

#[tokio::test]
async fn scripted_smtp_with_starttls_records_lines() {
    use super::certs::{TestCa, TlsVersions, Validity, server_config};
    use super::scripted::{ScriptedServer, Step};
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
    use super::certs::{Cert, TestCa, TlsVersions, Validity, server_config};
    use super::scripted::{LegacyTls, ScriptedServer, Step};
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
    use super::scripted::{ScriptedServer, Step, closed_port};
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

/// Send `cmd` and read one line (sync, plain TCP).
fn chat(r: &mut BufReader<TcpStream>, cmd: &str) -> String {
    use std::io::Write;
    r.get_mut().write_all(cmd.as_bytes()).unwrap();
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line
}

#[test]
fn mailstack_logins_on_plain_ports_with_right_and_wrong_passwords() {
    let st = mailstack::shared();
    let (user, pw) = st.user();
    let open = |port| {
        let s = TcpStream::connect(st.sock(port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut r = BufReader::new(s);
        let mut greet = String::new();
        r.read_line(&mut greet).unwrap();
        r
    };
    // 127.0.0.1 -> 127.0.0.1 counts as secured for Dovecot: plaintext login works.
    let mut imap = open(st.ports.imap);
    let t0 = Instant::now();
    assert!(chat(&mut imap, "a1 LOGIN alice@example.test wrong\r\n").starts_with("a1 NO"));
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "auth failure delay is off"
    );
    let ok = chat(&mut imap, &format!("a2 LOGIN {user} {pw}\r\n"));
    assert!(ok.starts_with("a2 OK"), "{ok}");
    let mut pop = open(st.ports.pop3);
    assert!(chat(&mut pop, &format!("USER {user}\r\n")).starts_with("+OK"));
    assert!(chat(&mut pop, &format!("PASS {pw}\r\n")).starts_with("+OK"));
    // Port 25 (MX): STARTTLS offered, no AUTH.
    let mut smtp = open(st.ports.smtp);
    let mut ehlo = chat(&mut smtp, "EHLO client.example.test\r\n");
    while ehlo
        .lines()
        .last()
        .is_some_and(|l| l.as_bytes().get(3) == Some(&b'-'))
    {
        smtp.read_line(&mut ehlo).unwrap();
    }
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
}

#[tokio::test]
async fn mailstack_submission_587_needs_starttls_then_auth() {
    use base64::Engine;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let st = mailstack::shared();
    let tcp = tokio::net::TcpStream::connect(st.sock(st.ports.submission))
        .await
        .unwrap();
    let mut r = BufReader::new(tcp);
    let mut greet = String::new();
    r.read_line(&mut greet).await.unwrap();
    r.get_mut()
        .write_all(b"EHLO client.example.test\r\n")
        .await
        .unwrap();
    smtp_reply(&mut r).await;
    r.get_mut()
        .write_all(b"MAIL FROM:<alice@example.test>\r\n")
        .await
        .unwrap();
    let refused = smtp_reply(&mut r).await;
    assert!(
        refused.starts_with("530"),
        "587 must require STARTTLS: {refused}"
    );
    r.get_mut().write_all(b"STARTTLS\r\n").await.unwrap();
    assert!(smtp_reply(&mut r).await.starts_with("220"));
    let tls = tls_upgrade(r.into_inner(), "smtp.example.test", &st.ca)
        .await
        .unwrap();
    let mut r = BufReader::new(tls);
    r.get_mut()
        .write_all(b"EHLO client.example.test\r\n")
        .await
        .unwrap();
    assert!(smtp_reply(&mut r).await.starts_with("250"));
    let (user, pw) = st.user();
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pw}"));
    r.get_mut()
        .write_all(format!("AUTH PLAIN {plain}\r\n").as_bytes())
        .await
        .unwrap();
    let auth = smtp_reply(&mut r).await;
    assert!(auth.starts_with("235"), "{auth}");
}

/// Manual tool: `cargo test --test it hold_shared_stack -- --ignored --nocapture` starts the shared
/// stack, prints where it is, and keeps it up for `MAILPROBE_HOLD_SECS` (default 60) for poking
/// with openssl/curl. Also used to check that killing the test process stops the daemons.
#[test]
#[ignore = "manual: holds the shared mail stack open"]
fn hold_shared_stack() {
    let st = mailstack::shared();
    eprintln!(
        "{st:?}\nusers: {:?}\nca: {}",
        st.users,
        st.ca_file.display()
    );
    let secs = std::env::var("MAILPROBE_HOLD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    std::thread::sleep(Duration::from_secs(secs));
}
