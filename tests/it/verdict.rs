//! The verdict's order and words end to end: each discovery source's own order survives the
//! ranking (SRV priority, provider-file order), seen through `mailprobe discover`; a domain that
//! does not exist and a resolver that fails are said first, in every output format.

use serde_json::Value;

use crate::support::certs::TestCa;
use crate::support::cmd::mailprobe;
use crate::support::dns::{BlackholeDns, DnsServer, Misbehave, Zone};
use crate::support::http::{HttpServer, Routes};

/// `discover ADDRESS --json` against `dns` (every web lookup answered 404 on loopback).
fn discover_json(dns: &DnsServer, address: &str, extra: &[&str]) -> Value {
    let http = HttpServer::start(&TestCa::new(), &[], Routes::new());
    let out = mailprobe()
        .args(["discover", address, "--json", "--timeout", "2", "--dns"])
        .arg(dns.addr().to_string())
        .arg("--ispdb-url")
        .arg(format!(
            "http://127.0.0.1:{}/ispdb/",
            http.http_addr().port()
        ))
        .args(extra)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// "host:port" of each candidate of `protocol`, in the report's order.
fn order(v: &Value, protocol: &str) -> Vec<String> {
    v["discovery"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["protocol"] == protocol)
        .map(|c| format!("{}:{}", c["host"].as_str().unwrap(), c["port"]))
        .collect()
}

#[test]
fn srv_priority_orders_the_candidates_not_the_host_name() {
    // RFC 2782: the lowest priority is tried first; "backup" sorts first alphabetically.
    let z = Zone::new("example.test")
        .srv("_imaps._tcp", 0, 1, 993, "store.example.")
        .srv("_imaps._tcp", 10, 1, 993, "backup.example.");
    let dns = DnsServer::start_zones(&[z]);
    let v = discover_json(&dns, "alice@example.test", &[]);
    assert_eq!(
        order(&v, "imap"),
        ["store.example:993", "backup.example:993"],
        "{:#}",
        v["discovery"]
    );
}

#[test]
fn srv_weight_orders_records_of_equal_priority() {
    // RFC 2782: among equal priorities the heavier record is the likelier choice.
    let z = Zone::new("example.test")
        .srv("_submissions._tcp", 5, 10, 465, "a-light.example.test")
        .srv("_submissions._tcp", 5, 90, 465, "z-heavy.example.test");
    let dns = DnsServer::start_zones(&[z]);
    let v = discover_json(&dns, "alice@example.test", &[]);
    assert_eq!(
        order(&v, "smtp"),
        ["z-heavy.example.test:465", "a-light.example.test:465"]
    );
}

#[test]
fn provider_file_order_is_kept_offline() {
    // provider-db/yahoo.toml names imap.mail.yahoo.com first; the export server is for bulk
    // exports (its own hint).
    let dns = DnsServer::start_zones(&[Zone::new("example.test")]);
    let v = discover_json(&dns, "a@yahoo.com", &["--offline"]);
    let imap = order(&v, "imap");
    let first = imap
        .iter()
        .position(|h| h.starts_with("imap.mail.yahoo.com"));
    let export = imap
        .iter()
        .position(|h| h.starts_with("export.imap.mail.yahoo.com"));
    assert!(
        matches!((first, export), (Some(0), Some(e)) if e > 0),
        "{imap:?}"
    );
    assert!(dns.queries().is_empty(), "--offline asks nothing");
}

/// `check ADDRESS --format FORMAT` against `dns`: (stdout, exit code).
fn check_with_dns(dns: &str, address: &str, format: &str) -> (String, i32) {
    let out = mailprobe()
        .args(["check", address, "--format", format, "--timeout", "1"])
        .args(["--dns", dns, "--ispdb-url", "http://127.0.0.1:9/ispdb/"])
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn a_domain_that_does_not_exist_is_said_first_in_every_format() {
    // The server is authoritative for `test.`: `nowhere.test` gets NXDOMAIN.
    let dns = DnsServer::start_zones(&[Zone::new("test")]);
    let (json, code) = check_with_dns(&dns.arg(), "alice@nowhere.test", "json");
    assert_eq!(code, 2, "{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["status"], "critical");
    let first = &v["findings"][0];
    assert_eq!(first["code"], "domain-not-found", "{:#}", v["findings"]);
    assert_eq!(first["severity"], "critical");
    assert!(
        first["hint"].as_str().unwrap().contains("spelling"),
        "{first}"
    );
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"no-settings-found"), "{codes:?}");
    let (human, code) = check_with_dns(&dns.arg(), "alice@nowhere.test", "human");
    assert_eq!(code, 2);
    assert!(
        human.contains("the domain nowhere.test does not exist"),
        "{human}"
    );
    let (nagios, code) = check_with_dns(&dns.arg(), "alice@nowhere.test", "nagios");
    assert_eq!(code, 2);
    assert!(
        nagios.starts_with(
            "MAILPROBE CRITICAL - alice@nowhere.test: the domain nowhere.test does not exist"
        ),
        "{nagios}"
    );
    assert!(nagios.contains("CRITICAL: domain-not-found:"), "{nagios}");
}

/// A host or container without a system CA store (no `/etc/ssl/certs`, which the DNS library's
/// default DNS-over-TLS setup loads) still resolves: `check` and `audit` (whose DANE lookups use
/// the validating resolver) say NXDOMAIN, not "cannot set up the resolver".
#[test]
fn no_system_ca_store_is_no_obstacle_to_dns() {
    let dns = DnsServer::start_zones(&[Zone::new("test")]);
    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("ca-certificates.crt");
    for cmd in [
        &["check", "alice@nowhere.test"][..],
        &["audit", "nowhere.test"][..],
    ] {
        let out = mailprobe()
            .env("SSL_CERT_FILE", &missing)
            .env("SSL_CERT_DIR", empty.path())
            .args(cmd)
            .args(["--format", "json", "--timeout", "1", "--dns", &dns.arg()])
            .args(["--ispdb-url", "http://127.0.0.1:9/ispdb/"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["findings"][0]["code"], "domain-not-found",
            "{cmd:?}: {v:#}"
        );
    }
}

#[test]
fn a_resolver_that_does_not_answer_is_named_with_its_error() {
    let silent = BlackholeDns::start();
    let at = silent.addr().to_string();
    let (json, code) = check_with_dns(&at, "alice@example.test", "json");
    assert_eq!(code, 2, "{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    let first = &v["findings"][0];
    assert_eq!(first["code"], "dns-failure", "{:#}", v["findings"]);
    let msg = first["message"].as_str().unwrap();
    assert!(msg.contains(&at) && msg.contains("timeout"), "{msg}");
    let (nagios, code) = check_with_dns(&at, "alice@example.test", "nagios");
    assert_eq!(code, 2);
    assert!(nagios.contains("CRITICAL: dns-failure:"), "{nagios}");
    let (human, code) = check_with_dns(&at, "alice@example.test", "human");
    assert_eq!(code, 2, "{human}");
    assert!(human.contains(&at), "{human}");
}

/// The domain's own server failing (SERVFAIL), refusing (REFUSED), and a resolver address where
/// nothing listens: each a `dns-failure` naming the resolver and its error, exit 2, in every
/// format; and NXDOMAIN in the OpenMetrics format as well.
#[test]
fn servfail_refused_and_unreachable_resolvers_in_every_format() {
    // A zone with nothing in it: no source finds servers, so the failure is the story.
    let dns = DnsServer::start_zones(&[Zone::new("example.test")]);
    for (how, says) in [
        (Misbehave::ServFail, "SERVER FAILURE"),
        (Misbehave::Refused, "REFUSED"),
    ] {
        dns.misbehave("example.test", how);
        let (json, code) = check_with_dns(&dns.arg(), "alice@example.test", "json");
        assert_eq!(code, 2, "{json}");
        let v: Value = serde_json::from_str(&json).unwrap();
        let first = &v["findings"][0];
        assert_eq!(first["code"], "dns-failure", "{says}: {:#}", v["findings"]);
        let msg = first["message"].as_str().unwrap().to_ascii_uppercase();
        assert!(msg.contains(&dns.arg()) && msg.contains(says), "{msg}");
    }
    // Nothing listens on port 9 of 127.0.0.1 (UDP port unreachable).
    let (json, code) = check_with_dns("127.0.0.1:9", "alice@example.test", "json");
    assert_eq!(code, 2, "{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["findings"][0]["code"], "dns-failure",
        "{:#}",
        v["findings"]
    );
    for format in ["human", "nagios", "openmetrics"] {
        let (text, code) = check_with_dns("127.0.0.1:9", "alice@example.test", format);
        assert_eq!(code, 2, "{format}: {text}");
        assert!(text.contains("dns-failure"), "{format}: {text}");
    }
    let nx = DnsServer::start_zones(&[Zone::new("test")]);
    let (text, code) = check_with_dns(&nx.arg(), "alice@nowhere.test", "openmetrics");
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("code=\"domain-not-found\"")
            && text.contains("mailprobe_success{target=\"alice@nowhere.test\"} 0"),
        "{text}"
    );
}
