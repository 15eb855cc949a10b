//! Monitoring contract: the Nagios line and perfdata (parsed back), and each threshold's effect
//! on the status.

use mailprobe::model::*;
use mailprobe::report::nagios;

fn step(name: &str, ms: u64) -> Step {
    Step {
        name: name.into(),
        status: StepStatus::Ok,
        elapsed_ms: ms,
        detail: None,
    }
}

fn tls(days: i64) -> TlsInfo {
    TlsInfo {
        version: "TLSv1.3".into(),
        cipher: "TLS13_AES_256_GCM_SHA384".into(),
        kx_group: Some("X25519".into()),
        verified: true,
        verify_error: None,
        names: vec!["mail.example.com".into()],
        not_after: Some("2027-01-01T00:00:00Z".into()),
        days_left: Some(days),
        chain_days_left: Some(days),
        chain: vec![],
    }
}

fn probe(proto: Protocol, port: u16, days: i64) -> Probe {
    Probe {
        protocol: proto,
        host: "mail.example.com".into(),
        port,
        security: Security::Tls,
        sources: vec![Source::Autoconfig],
        connected_to: None,
        addresses: vec![],
        steps: vec![
            step("connect", 12),
            step("greeting", 5),
            step("tls", 30),
            step("auth", 40),
        ],
        greeting: None,
        capabilities_plain: vec![],
        capabilities: vec![],
        sasl: vec![],
        tls: Some(tls(days)),
        outcome: Outcome::Working { tls_valid: true },
        auth: vec![],
        transcript: None,
        elapsed_ms: 90,
    }
}

fn check_report(days: i64, elapsed_ms: u64) -> Report {
    let mut r = Report::new("check", "alice@example.com", "example.com");
    r.probes = vec![
        probe(Protocol::Imap, 993, days),
        probe(Protocol::Smtp, 465, days),
    ];
    let setting = |p: Protocol, port| Setting {
        protocol: p,
        host: "mail.example.com".into(),
        port,
        security: Security::Tls,
        username: Some("alice@example.com".into()),
        auth: vec![AuthMethod::PasswordCleartext],
    };
    r.settings = Some(Settings {
        incoming: Some(setting(Protocol::Imap, 993)),
        outgoing: Some(setting(Protocol::Smtp, 465)),
    });
    r.elapsed_ms = elapsed_ms;
    r
}

/// Parse `'label'=value[UOM];warn;crit;min;max` items back (Monitoring Plugins guidelines §2.6).
fn parse_perf(s: &str) -> Vec<(String, f64, String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        assert!(rest.starts_with('\''), "label must be quoted: {rest}");
        let end = rest[1..].find("'=").expect("closing quote") + 1;
        let label = rest[1..end].replace("''", "'");
        rest = &rest[end + 2..];
        let item_end = rest.find(' ').unwrap_or(rest.len());
        let item = &rest[..item_end];
        rest = rest[item_end..].trim_start();
        let mut parts = item.split(';');
        let v = parts.next().unwrap();
        let num_end = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(v.len());
        let value: f64 = v[..num_end].parse().expect("numeric value");
        let uom = v[num_end..].to_string();
        assert!(
            ["", "s", "%", "B", "KB", "MB", "c"].contains(&uom.as_str()),
            "unit {uom}"
        );
        out.push((label, value, uom, parts.map(str::to_string).collect()));
    }
    out
}

#[test]
fn nagios_line_and_perfdata_parse_back() {
    let mut r = check_report(200, 1234);
    let t = Thresholds {
        warn_time_s: Some(5.0),
        crit_time_s: Some(10.0),
        ..Thresholds::default()
    };
    r.apply_thresholds(&t);
    let text = nagios::render(&r, &t);
    let first = text.lines().next().unwrap();
    let (head, perf) = first.split_once(" | ").expect("perfdata separator");
    assert!(
        head.starts_with("MAILPROBE OK - alice@example.com: in IMAP mail.example.com:993 SSL/TLS"),
        "{head}"
    );
    let items = parse_perf(perf);
    let get = |l: &str| {
        items
            .iter()
            .find(|i| i.0 == l)
            .unwrap_or_else(|| panic!("{l} in {perf}"))
    };
    assert_eq!(get("imap_connect").1, 0.012);
    assert_eq!(get("imap_connect").2, "s");
    assert_eq!(get("smtp_tls").1, 0.03);
    assert_eq!(get("imap_login").1, 0.04);
    let cert = get("cert_days_mail.example.com");
    assert_eq!(
        (cert.1, cert.3[0].as_str(), cert.3[1].as_str()),
        (200.0, "30", "7")
    );
    let time = get("time");
    assert_eq!(
        (
            time.1,
            time.3[0].as_str(),
            time.3[1].as_str(),
            time.3[2].as_str()
        ),
        (1.234, "5", "10", "0")
    );
}

#[test]
fn each_threshold_moves_the_status() {
    let t = Thresholds::default();
    let mut ok = check_report(200, 100);
    ok.apply_thresholds(&t);
    assert_eq!(ok.status, Status::Ok);

    let mut crit_cert = check_report(3, 100);
    crit_cert.apply_thresholds(&t);
    assert_eq!(crit_cert.status, Status::Critical);
    assert!(
        crit_cert
            .findings
            .iter()
            .any(|f| f.code.as_str() == "certificate-expires-critical")
    );
    let custom = Thresholds {
        crit_cert_days: 2,
        ..t
    };
    let mut fine = check_report(3, 100);
    fine.apply_thresholds(&custom);
    assert_eq!(fine.status, Status::Ok);

    for (ms, expect) in [
        (4_000, Status::Ok),
        (6_000, Status::Warning),
        (11_000, Status::Critical),
    ] {
        let mut r = check_report(200, ms);
        r.apply_thresholds(&Thresholds {
            warn_time_s: Some(5.0),
            crit_time_s: Some(10.0),
            ..t
        });
        assert_eq!(r.status, expect, "{ms} ms");
        assert_eq!(
            r.status.exit_code(),
            [0, 1, 2][[Status::Ok, Status::Warning, Status::Critical]
                .iter()
                .position(|s| *s == expect)
                .unwrap()]
        );
    }
}

#[test]
fn nagios_output_from_the_binary() {
    let out = assert_cmd::Command::cargo_bin("mailprobe")
        .unwrap()
        .args([
            "--format",
            "nagios",
            "discover",
            "nobody@example.invalid",
            "--offline",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("MAILPROBE CRITICAL - "), "{text}");
    assert_eq!(out.status.code(), Some(2));
    let bad = assert_cmd::Command::cargo_bin("mailprobe")
        .unwrap()
        .args(["--format", "nagios", "discover", "x"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(bad.stdout)
            .unwrap()
            .starts_with("MAILPROBE UNKNOWN - ")
    );
    assert_eq!(bad.status.code(), Some(3));
}

#[test]
fn perf_labels_with_quotes_are_escaped() {
    let p = nagios::Perf {
        label: "it's".into(),
        value: 1.5,
        uom: "s",
        warn: None,
        crit: Some(2.0),
        min: Some(0.0),
    };
    assert_eq!(p.render(), "'it''s'=1.500s;;2;0");
}

#[test]
fn batch_per_host_limit_holds_across_addresses() {
    use crate::support::dns::{DnsServer, Zone};
    use crate::support::scripted::{ScriptedServer, Step};
    use std::time::Duration;

    // A server that holds every connection 60 ms (less when the client leaves first), then
    // closes it; it counts the peak.
    let server = ScriptedServer::start(vec![Step::Linger(Duration::from_millis(60)), Step::Close]);
    let dns = DnsServer::start_zones(&[Zone::new("limit.test")
        .a("mail", "127.0.0.1")
        .srv("_imaps._tcp", 0, 1, 993, "mail.limit.test")
        .srv("_submissions._tcp", 0, 1, 465, "mail.limit.test")]);
    let input: String = (0..8).map(|i| format!("user{i}@limit.test\n")).collect();
    let out = crate::support::cmd::mailprobe()
        .args([
            "check",
            "--batch",
            "-",
            "--format",
            "json",
            "--concurrency",
            "8",
            "--per-host",
            "2",
        ])
        .args([
            "--timeout",
            "3",
            "--dns",
            &dns.addr().to_string(),
            "--ispdb-url",
            "http://127.0.0.1:9/",
        ])
        .args([
            "--connect-to",
            &format!("mail.limit.test::127.0.0.1:{}", server.addr().port()),
        ])
        .write_stdin(input)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout).unwrap().lines().count();
    assert_eq!(lines, 8);
    assert_eq!(out.status.code(), Some(2), "nothing works: critical");
    assert!(
        server.connections() >= 8,
        "every address probed: {}",
        server.connections()
    );
    assert!(
        server.max_concurrent() <= 2,
        "peak {} connections to one host with --per-host 2",
        server.max_concurrent()
    );
}
