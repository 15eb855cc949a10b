//! `--trust-anchor FILE` on the command line and in the configuration file: a bad file is a
//! usage error naming the file and line (exit 3) before any query; a good one is accepted.

use std::time::Duration;

use crate::support::cmd::mailprobe;
use crate::support::dns::{DnsServer, Zone};

/// Run `args` against a fresh DNS server; (stderr, exit code, queries received).
fn run(args: &[&str]) -> (String, i32, usize) {
    let dns = DnsServer::start_zones(&[Zone::new("example.test")]);
    let out = mailprobe()
        .args(args)
        .args(["--dns", &dns.arg(), "--offline"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    (err, out.status.code().unwrap_or(-1), dns.queries().len())
}

#[test]
fn a_bad_trust_anchor_file_is_a_usage_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("anchors.txt");
    std::fs::write(&bad, "; ok\nexample.test. IN A 192.0.2.1\n").unwrap();
    let bad = bad.to_str().unwrap();
    // Global option: before and after the subcommand.
    for args in [
        vec!["--trust-anchor", bad, "discover", "a@example.test"],
        vec!["discover", "a@example.test", "--trust-anchor", bad],
    ] {
        let (err, code, queries) = run(&args);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains(&format!("{bad}:2")), "{err}");
        assert!(err.contains("DS or DNSKEY"), "{err}");
        assert_eq!(queries, 0);
    }
    let missing = dir.path().join("missing.txt");
    let (err, code, _) = run(&[
        "discover",
        "a@example.test",
        "--trust-anchor",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("missing.txt"), "{err}");
}

#[test]
fn the_configuration_file_names_a_trust_anchor_too() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "example.test. DS 1 15 2 abcd\n").unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!("trust-anchor = {:?}\n", bad.to_str().unwrap()),
    )
    .unwrap();
    let (err, code, _) = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "discover",
        "a@example.test",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("bad.key:1"), "{err}");

    let good = dir.path().join("good.key");
    let anchor = crate::support::dnssec::ZoneKey::generate().ds_anchor("example.test");
    std::fs::write(&good, anchor).unwrap();
    std::fs::write(
        &cfg,
        format!("trust-anchor = {:?}\n", good.to_str().unwrap()),
    )
    .unwrap();
    let (err, code, _) = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "discover",
        "a@example.test",
    ]);
    assert_ne!(code, 3, "{err}");
}
