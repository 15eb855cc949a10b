//! A newcomer's first hour: the Quick start's commands and the messages a new user meets first
//! (verdicts of provider facts, `--offline` wording, provider hints, network errors told apart
//! from "nothing there", `probe` reports). Everything runs offline or against the in-process
//! DNS server on loopback.

use serde_json::Value;

use crate::support::cmd::mailprobe;
use crate::support::dns::{DnsServer, Misbehave, Zone};

/// Run the binary; (stdout, exit code).
fn run(args: &[&str]) -> (String, i32) {
    let out = mailprobe().args(args).output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn json(args: &[&str]) -> (Value, i32) {
    let (s, code) = run(args);
    let v = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{e}: {s}"));
    (v, code)
}

/// Times vary: every `<digits> ms` becomes `[ms]`.
fn snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![(r"\(\d+ ms\)", "([ms])"), (r" +\d+ ms", " [ms]")]}, {
        insta::assert_snapshot!(name, text);
    });
}

fn finding<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} finding: {:#}", v["findings"]))
}

#[test]
fn quick_start_discover_gmail_offline_is_ok() {
    let (text, code) = run(&["discover", "alice@gmail.com", "--offline"]);
    assert_eq!(code, 0, "{text}");
    snapshot("discover_gmail_offline", &text);
    // Provider facts are info with a hint, for every kind of fact.
    for (addr, codes) in [
        (
            "alice@gmail.com",
            &["app-password-required", "enable-imap-first"][..],
        ),
        ("alice@outlook.com", &["oauth2-required"][..]),
        ("alice@proton.me", &["bridge-required"][..]),
    ] {
        let (v, _) = json(&["discover", addr, "--offline", "--json"]);
        for c in codes {
            let f = finding(&v, c);
            assert_eq!(f["severity"], "info", "{addr} {c}");
            assert!(f["hint"].is_string(), "{addr} {c} has a hint");
        }
    }
}

#[test]
fn offline_says_the_network_sources_were_skipped() {
    let (text, _) = run(&["discover", "alice@gmail.com", "--offline"]);
    assert!(text.contains("… and 6 skipped (--offline)"), "{text}");
    assert!(!text.contains("found nothing"), "{text}");
    let (text, code) = run(&["discover", "alice@unknown-domain.test", "--offline"]);
    assert_eq!(code, 2);
    snapshot("discover_unknown_offline", &text);
    let (v, _) = json(&[
        "discover",
        "alice@unknown-domain.test",
        "--offline",
        "--json",
    ]);
    let msg = finding(&v, "no-settings-found")["message"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("built-in provider database does not know unknown-domain.test")
            && msg.contains("network sources were skipped (--offline)"),
        "{msg}"
    );
}

#[test]
fn provider_hints_show_under_the_provider_line() {
    let (text, _) = run(&["discover", "alice@yahoo.com", "--offline"]);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("Provider: Yahoo Mail"))
        .expect("provider line");
    let hints: Vec<&str> = lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with("  hint: "))
        .copied()
        .collect();
    assert!(
        hints
            .iter()
            .any(|h| h.contains("export.imap.mail.yahoo.com is Yahoo's server for bulk exports")),
        "{text}"
    );
}

#[test]
fn unreachable_ispdb_and_failed_lookups_are_errors_not_not_found() {
    // The test DNS knows the zones but not the ISPDB's host, and fails for one guessed host.
    let dns = DnsServer::start_zones(&[Zone::new("example.test"), Zone::new("ispdb.test")]);
    dns.misbehave("imap.example.test", Misbehave::ServFail);
    let (v, _) = json(&[
        "discover",
        "alice@example.test",
        "--dns",
        &dns.arg(),
        "--ispdb-url",
        "https://gone.ispdb.test/v1.1/",
        "--timeout",
        "2",
        "--json",
    ]);
    let attempts = v["discovery"]["attempts"].as_array().unwrap();
    let ispdb = attempts
        .iter()
        .find(|a| a["source"] == "ispdb")
        .expect("ispdb attempt");
    assert_eq!(ispdb["outcome"], "error", "{ispdb:#}");
    assert_eq!(
        ispdb["reason"],
        "ISPDB unreachable: gone.ispdb.test: no such domain (NXDOMAIN)"
    );
    let guess = attempts
        .iter()
        .find(|a| a["source"] == "guess" && a["target"] == "imap.example.test")
        .expect("guess attempt");
    assert_eq!(guess["outcome"], "error", "{guess:#}");
    let pop = attempts
        .iter()
        .find(|a| a["source"] == "guess" && a["target"] == "pop.example.test")
        .expect("guess attempt");
    assert_eq!(pop["outcome"], "not_found", "a clean NXDOMAIN: {pop:#}");
    let msg = finding(&v, "no-settings-found")["message"]
        .as_str()
        .unwrap();
    assert!(msg.contains("lookups failed with an error"), "{msg}");
}
