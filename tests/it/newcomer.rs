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

#[test]
fn probe_reports_the_settings_of_the_named_servers_and_no_fake_address() {
    let stack = crate::support::mailstack::shared();
    let urls = [
        "imaps://mail.example.test",
        "submission://mail.example.test",
    ];
    let mut args: Vec<String> = vec!["probe".into()];
    args.extend(urls.map(String::from));
    args.extend(crate::support::cmd::stack_args(stack, "mail.example.test"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (v, _) = json(&[&args[..], &["--json"]].concat());
    assert!(v["address"].is_null() && v["domain"].is_null(), "{v:#}");
    let inc = &v["settings"]["incoming"];
    let out = &v["settings"]["outgoing"];
    assert_eq!(
        (
            &inc["protocol"],
            &inc["host"],
            &inc["port"],
            &inc["security"]
        ),
        (
            &"imap".into(),
            &"mail.example.test".into(),
            &993.into(),
            &"tls".into()
        ),
        "{:#}",
        v["settings"]
    );
    assert_eq!(
        (&out["port"], &out["security"]),
        (&587.into(), &"starttls".into())
    );
    let (text, _) = run(&args);
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "probe imaps://mail.example.test:993 submission://mail.example.test:587"
    );
    assert!(
        text.contains("\nWorking settings\n  Incoming  IMAP  mail.example.test  993  SSL/TLS"),
        "{text}"
    );
    // Only the incoming server named: the outgoing setting is null, not a failure.
    let (v, _) = json(&[&args[..2], &args[3..], &["--json"]].concat());
    assert!(v["settings"]["outgoing"].is_null(), "{:#}", v["settings"]);
    assert_eq!(v["settings"]["incoming"]["port"], 993);
    let (text, _) = run(&[&args[..2], &args[3..]].concat());
    assert!(text.contains("\n  Outgoing  none named\n"), "{text}");
}
