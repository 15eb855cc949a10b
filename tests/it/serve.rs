//! `mailprobe serve` end to end: a real Prometheus server scrapes the exporter, which probes the
//! real Dovecot/Postfix stack; bad requests; `promtool check metrics`; a scrape storm against a
//! server that counts connections; graceful shutdown on SIGTERM. The probe, roundtrip and audit
//! modules: `modules`; slow clients: `slowloris`.

mod modules;
mod slowloris;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::cmd::stack_args;
use crate::support::dns::{DnsServer, Zone};
use crate::support::mailstack;
use crate::support::prometheus::{Prometheus, exporter, get, get_with};
use crate::support::scripted::{ScriptedServer, Step};

const CONFIG: &str = "[serve]\nmin-interval = 300\n\n[serve.modules.check]\ncommand = \"check\"\ndeadline = 20\n\n[serve.modules.audit]\ncommand = \"audit\"\n";

/// example.test points at the shared stack by SRV; broken.test has no mail records at all.
fn world() -> (DnsServer, Vec<String>) {
    let stack = mailstack::shared();
    let ip = stack.addr.to_string();
    let dns = DnsServer::start_zones(&[
        Zone::new("example.test")
            .mx(10, "mail.example.test")
            .a("mail", &ip)
            .srv("_imaps._tcp", 0, 1, 993, "mail.example.test")
            .srv("_submissions._tcp", 0, 1, 465, "mail.example.test"),
        Zone::new("broken.test"),
    ]);
    let mut args = stack_args(stack, "mail.example.test");
    args.extend(
        [
            "--dns",
            &dns.addr().to_string(),
            "--ispdb-url",
            "http://127.0.0.1:9/",
            "--timeout",
            "5",
        ]
        .map(String::from),
    );
    (dns, args)
}

fn promtool(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.prom");
    std::fs::write(&f, text).unwrap();
    let out = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&f).unwrap())
        .output()
        .expect("promtool (Debian package prometheus) is installed");
    assert!(
        out.status.success(),
        "{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn value(body: &str, metric: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(metric) && l[metric.len()..].starts_with([' ', '{']))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn prometheus_scrapes_success_for_the_working_target_and_failure_for_the_broken_one() {
    let (_dns, args) = world();
    let (daemon, addr) = exporter(CONFIG, &args);
    let prom = Prometheus::start(&format!(
        "  - job_name: mailprobe\n    metrics_path: /probe\n    params:\n      module: [check]\n    static_configs:\n      - targets: ['alice@example.test', 'nobody@broken.test']\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: {addr}\n"
    ));
    let t0 = Instant::now();
    let mut got = Vec::new();
    while t0.elapsed() < Duration::from_secs(90) {
        got = prom.query("mailprobe_success");
        if got.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let of = |instance: &str| {
        got.iter()
            .find(|(l, _)| l["instance"] == instance)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| {
                panic!(
                    "no mailprobe_success for {instance}: {got:?}\n{}",
                    prom.log()
                )
            })
    };
    eprintln!("Prometheus query mailprobe_success: {got:?}");
    assert_eq!(of("alice@example.test"), "1");
    assert_eq!(of("nobody@broken.test"), "0");
    let status = prom.query("mailprobe_status");
    assert!(
        status
            .iter()
            .any(|(l, v)| l["instance"] == "nobody@broken.test" && v == "2"),
        "{status:?}"
    );
    // The scrape of the working target as the exporter answers it, and the broken one.
    let (code, ok) = get(addr, "/probe?target=alice%40example.test&module=check");
    assert_eq!(code, 200);
    eprintln!(
        "working:\n{}",
        ok.lines().take(12).collect::<Vec<_>>().join("\n")
    );
    let (_, bad) = get(addr, "/probe?target=nobody%40broken.test&module=check");
    eprintln!(
        "broken:\n{}",
        bad.lines().take(12).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(value(&ok, "mailprobe_success"), Some(1.0));
    assert!(
        ok.contains("mailprobe_step_duration_seconds{protocol=\"imap\""),
        "{ok}"
    );
    assert!(
        ok.contains("mailprobe_cert_remaining_seconds{host=\"mail.example.test\",ip=\""),
        "{ok}"
    );
    assert!(ok.contains("mailprobe_tls_version_info{"), "{ok}");
    assert!(
        ok.contains("mailprobe_discovery_source_info{direction=\"incoming\",source=\"srv\"} 1"),
        "{ok}"
    );
    promtool(&ok);
    promtool(&bad);
    let (_, own) = get(addr, "/metrics");
    promtool(&own);
    assert!(
        own.contains("mailprobe_exporter_cache_hits_total{module=\"check\"}"),
        "{own}"
    );
    let (_, om) = get_with(
        addr,
        "/probe?target=nobody%40broken.test&module=check",
        &["Accept: application/openmetrics-text; version=1.0.0"],
    );
    assert!(om.ends_with("# EOF\n"), "{om}");
    // The index lists the probes, linking to their reports.
    let (_, index) = get(addr, "/");
    assert!(
        index.contains("alice@example.test") && index.contains("/report?id="),
        "{index}"
    );
    let id = index
        .split("/report?id=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (code, json) = get(addr, &format!("/report?id={id}&format=json"));
    assert_eq!(code, 200);
    assert!(json.contains("\"schema_version\": 1"), "{json}");
    assert!(daemon.terminate().success(), "graceful exit on SIGTERM");
}

#[test]
fn bad_requests_are_answered_not_crashed_on() {
    let (_dns, args) = world();
    let (daemon, addr) = exporter(CONFIG, &args);
    let cases = [
        (
            "/probe?target=not-an-address&module=check",
            400,
            "bad target",
        ),
        ("/probe?module=check", 400, "target parameter is missing"),
        (
            "/probe?target=a%40example.test&module=nope",
            404,
            "unknown module 'nope'",
        ),
        (
            "/probe?target=-bad-.example&module=audit",
            400,
            "bad target",
        ),
        ("/report?id=999999", 404, "no such report"),
        ("/nowhere", 404, "not found"),
    ];
    for (path, want, text) in cases {
        let (code, body) = get(addr, path);
        assert_eq!(code, want, "{path}: {body}");
        assert!(body.contains(text), "{path}: {body}");
    }
    let long = format!("/probe?target={}&module=check", "a".repeat(5000));
    assert_eq!(get(addr, &long).0, 414);
    // A huge header is refused by the parser, and the server keeps answering.
    let big = format!("X-Big: {}", "b".repeat(64 * 1024));
    let (code, _) = get_with(addr, "/", &[&big]);
    assert!(code == 431 || code == 0 || code == 400, "{code}");
    assert_eq!(get(addr, "/").0, 200);
    assert!(daemon.terminate().success());
}

#[test]
fn a_malformed_config_file_is_exit_3_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(
        &f,
        "[serve]\nlisten = \"127.0.0.1:0\"\n[serve.modules.x]\npassword = \"hunter2\"\n",
    )
    .unwrap();
    let out = crate::support::cmd::mailprobe()
        .args(["serve", "--config"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4:", f.display())), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn values_out_of_range_in_serve_tables_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("serve.toml");
    for (text, line, says) in [
        (
            "[serve]\nlisten = \"127.0.0.1:0\"\n\nconcurrency = 0\n",
            4,
            "concurrency must be between 1 and",
        ),
        (
            "[serve]\nlisten = \"127.0.0.1:0\"\n[serve.modules.imap]\ncommand = \"check\"\ntimeout = -1\n",
            5,
            "timeout must be between 0 and",
        ),
        (
            "[serve]\nlisten = \"127.0.0.1:0\"\n[serve.modules.rt]\ncommand = \"roundtrip\"\n",
            4,
            "a roundtrip module needs password-env",
        ),
    ] {
        std::fs::write(&f, text).unwrap();
        let out = crate::support::cmd::mailprobe()
            .args(["serve", "--config"])
            .arg(&f)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{text}: {err}");
        assert!(
            err.contains(&format!("error: {}:{line}: ", f.display())) && err.contains(says),
            "{text}: {err}"
        );
    }
}

/// 200 simultaneous scrapes of 20 targets: each target probed once (the others get its result),
/// and never more than --per-host connections to the one server at once.
#[test]
fn a_scrape_storm_probes_each_target_once_within_the_per_host_limit() {
    // Holds each connection 60 ms, less when the client leaves first (a port-25 probe is cut at
    // the verdict), so the peak counts only connections the client still holds.
    let server = ScriptedServer::start(vec![Step::Linger(Duration::from_millis(60)), Step::Close]);
    let dns = DnsServer::start_zones(&[Zone::new("limit.test")
        .a("mail", "127.0.0.1")
        .srv("_imaps._tcp", 0, 1, 993, "mail.limit.test")
        .srv("_submissions._tcp", 0, 1, 465, "mail.limit.test")]);
    let args: Vec<String> = [
        "--per-host",
        "2",
        "--timeout",
        "3",
        "--dns",
        &dns.addr().to_string(),
        "--ispdb-url",
        "http://127.0.0.1:9/",
        "--connect-to",
        &format!("mail.limit.test::127.0.0.1:{}", server.port()),
    ]
    .map(String::from)
    .to_vec();
    let (daemon, addr) = exporter(CONFIG, &args);
    let t0 = Instant::now();
    let handles: Vec<_> = (0..200)
        .map(|i| {
            std::thread::spawn(move || -> (u16, String) {
                get(
                    addr,
                    &format!("/probe?target=user{}%40limit.test&module=check", i % 20),
                )
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    eprintln!(
        "200 scrapes of 20 targets in {:?}; peak {} connections, {} in all",
        t0.elapsed(),
        server.max_concurrent(),
        server.connections()
    );
    for (code, body) in &answers {
        assert_eq!(*code, 200, "{body}");
        assert_eq!(value(body, "mailprobe_success"), Some(0.0), "{body}");
    }
    assert!(
        server.max_concurrent() <= 2,
        "peak {} with --per-host 2",
        server.max_concurrent()
    );
    let (_, own) = get(addr, "/metrics");
    assert_eq!(
        value(&own, "mailprobe_exporter_probes_total"),
        Some(20.0),
        "{own}"
    );
    assert_eq!(
        value(&own, "mailprobe_exporter_cache_hits_total"),
        Some(180.0),
        "{own}"
    );
    let _: SocketAddr = addr;
    assert!(daemon.terminate().success());
}

/// `[serve] concurrency` bounds the probes running at once across every scrape: six scrapes of
/// six servers (no per-host limit applies) at `concurrency = 2` never hold more than two
/// connections. Then SIGTERM during a scrape: it is answered before the exporter exits.
#[test]
fn the_global_concurrency_limit_holds_across_targets() {
    let server = ScriptedServer::start(vec![Step::Linger(Duration::from_millis(300)), Step::Close]);
    let mut zone = Zone::new("limit.test");
    let mut args: Vec<String> = ["--timeout", "3", "--ispdb-url", "http://127.0.0.1:9/"]
        .map(String::from)
        .to_vec();
    for i in 0..6 {
        zone = zone.a(&format!("s{i}"), "127.0.0.1");
        args.extend([
            "--connect-to".to_string(),
            format!("s{i}.limit.test::127.0.0.1:{}", server.port()),
        ]);
    }
    let dns = DnsServer::start_zones(&[zone]);
    args.extend(["--dns".to_string(), dns.addr().to_string()]);
    let config = "[serve]\nconcurrency = 2\n\n[serve.modules.server]\ncommand = \"probe\"\n";
    let (daemon, addr) = exporter(config, &args);
    let handles: Vec<_> = (0..6)
        .map(|i| {
            std::thread::spawn(move || {
                get(
                    addr,
                    &format!("/probe?target=imaps%3A%2F%2Fs{i}.limit.test&module=server"),
                )
            })
        })
        .collect();
    for h in handles {
        let (code, body) = h.join().unwrap();
        assert_eq!(code, 200, "{body}");
    }
    assert_eq!(server.connections(), 6, "each target probed");
    assert!(
        server.max_concurrent() <= 2,
        "peak {} with concurrency 2",
        server.max_concurrent()
    );
    // SIGTERM while a scrape is in flight: that scrape still gets its answer, then the exporter
    // exits cleanly.
    let scrape = std::thread::spawn(move || {
        get(
            addr,
            "/probe?target=imaps%3A%2F%2Fs5.limit.test%3A993&module=server",
        )
    });
    let t0 = Instant::now();
    while server.connections() < 7 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(daemon.terminate().success(), "graceful exit on SIGTERM");
    let (code, body) = scrape.join().unwrap();
    assert_eq!(code, 200, "the scrape in flight is answered: {body}");
    assert!(value(&body, "mailprobe_success").is_some(), "{body}");
}

/// `GET path` over TLS trusting only `ca`, with an optional `Authorization` header value.
fn tls_get(
    addr: SocketAddr,
    ca: &crate::support::certs::TestCa,
    auth: Option<&str>,
) -> (u16, String) {
    use std::io::{Read, Write};
    let cfg = crate::support::certs::client_config(ca);
    let name = "exporter.test".try_into().unwrap();
    let conn = rustls::ClientConnection::new(cfg, name).unwrap();
    let sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let req =
        format!("GET /metrics HTTP/1.1\r\nHost: exporter.test\r\n{auth}Connection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

#[test]
fn basic_auth_and_tls_guard_the_listener() {
    use base64::Engine;
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::support::certs::TestCa::new();
    let cert = ca.issue(&["exporter.test"], crate::support::certs::Validity::Valid);
    let (chain, key) = cert.write(dir.path(), "exporter");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret\n").unwrap();
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = format!(
        "[serve]\nbasic-auth-user = \"prom\"\nbasic-auth-password-file = \"{}\"\ntls-cert-file = \"{}\"\ntls-key-file = \"{}\"\n",
        pw.display(),
        chain.display(),
        key.display()
    );
    let (daemon, addr) = exporter(&config, &["--dns".into(), "127.0.0.1:9".into()]);
    let (code, text) = tls_get(addr, &ca, None);
    assert_eq!(code, 401, "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("www-authenticate: basic"),
        "{text}"
    );
    let wrong = base64::engine::general_purpose::STANDARD.encode("prom:nope");
    assert_eq!(tls_get(addr, &ca, Some(&format!("Basic {wrong}"))).0, 401);
    let right = base64::engine::general_purpose::STANDARD.encode("prom:s3cret");
    let (code, text) = tls_get(addr, &ca, Some(&format!("Basic {right}")));
    assert_eq!(code, 200, "{text}");
    assert!(text.contains("mailprobe_exporter_build_info"), "{text}");
    // Plain HTTP to the TLS listener gets no answer, and the server keeps serving.
    assert_eq!(get(addr, "/metrics").0, 0);
    assert_eq!(tls_get(addr, &ca, Some(&format!("Basic {right}"))).0, 200);
    assert!(daemon.terminate().success());
}
