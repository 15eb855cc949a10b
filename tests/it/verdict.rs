//! The verdict's order and timing end to end: each discovery source's own order survives the
//! ranking (SRV priority, provider-file order), seen through `mailprobe discover`.

use serde_json::Value;

use crate::support::certs::TestCa;
use crate::support::cmd::mailprobe;
use crate::support::dns::{DnsServer, Zone};
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
