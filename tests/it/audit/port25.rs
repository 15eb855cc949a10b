//! The port-25 probe of `audit` against scripted MXs, one address each: no STARTTLS, STARTTLS
//! failing, a certificate for another name (with and without an enforcing MTA-STS policy),
//! 421 at the greeting, a tarpit, an open relay (and never a DATA). The real Postfix with a
//! certificate for the MX name is the clean domain of `policies`; here the same Postfix serves
//! as an MX whose name its certificate does not hold (with and without MTA-STS enforce).

use std::sync::Arc;
use std::time::Duration;

use super::{POLICY_PATH, World, findings, has};
use crate::support::certs::{TestCa, TlsVersions, Validity, server_config};
use crate::support::dns::Zone;
use crate::support::http::{Reply, Routes};
use crate::support::scripted::{ScriptedServer, Step};

/// EHLO answer, then the relay test answered with `rcpt`, RSET, QUIT.
fn after_greeting(
    name: &str,
    starttls: Option<Arc<rustls::ServerConfig>>,
    rcpt: &str,
) -> Vec<Step> {
    let mut s = vec![Step::expect("EHLO")];
    let ehlo = |tls: bool| {
        let mut e = format!("250-{name}\r\n250-SIZE 10240000\r\n");
        if tls {
            e.push_str("250-STARTTLS\r\n");
        }
        e.push_str("250 8BITMIME\r\n");
        Step::Send(e.into_bytes())
    };
    match starttls {
        Some(cfg) => s.extend([
            ehlo(true),
            Step::expect("STARTTLS"),
            Step::line("220 2.0.0 go ahead"),
            Step::StartTls(cfg),
            Step::expect("EHLO"),
            ehlo(false),
        ]),
        None => s.push(ehlo(false)),
    }
    s.extend([
        Step::expect("MAIL FROM:<>"),
        Step::line("250 2.1.0 ok"),
        Step::expect("RCPT TO:"),
        Step::line(rcpt),
        Step::expect("RSET"),
        Step::line("250 2.0.0 ok"),
        Step::expect("QUIT"),
        Step::line("221 bye"),
        Step::Close,
    ]);
    s
}

fn greet(name: &str, rest: Vec<Step>) -> ScriptedServer {
    let mut s = vec![Step::line(&format!("220 {name} ESMTP"))];
    s.extend(rest);
    ScriptedServer::start(s)
}

const DENY: &str = "554 5.7.1 relay access denied";

#[test]
fn every_mx_address_is_probed_and_named() {
    let ca = TestCa::new();
    let good_tls = server_config(
        &ca.issue(&["tls.mxes.test"], Validity::Valid),
        TlsVersions::Default,
    );
    let wrong = server_config(
        &ca.issue(&["other.example"], Validity::Valid),
        TlsVersions::Default,
    );
    let tls = greet(
        "tls.mxes.test",
        after_greeting("tls.mxes.test", Some(good_tls), DENY),
    );
    let notls = greet(
        "notls.mxes.test",
        after_greeting("notls.mxes.test", None, DENY),
    );
    let wrongname = greet(
        "wrongname.mxes.test",
        after_greeting("wrongname.mxes.test", Some(wrong), DENY),
    );
    let tlsfail = greet(
        "tlsfail.mxes.test",
        vec![
            Step::expect("EHLO"),
            Step::line("250-tlsfail.mxes.test\r\n250 STARTTLS"),
            Step::expect("STARTTLS"),
            Step::line("220 go ahead"),
            Step::Send(b"this is not TLS\r\n".to_vec()),
            Step::Close,
        ],
    );
    let busy = ScriptedServer::start(vec![
        Step::line("421 4.3.2 busy, try later"),
        Step::expect("QUIT"),
        Step::Close,
    ]);
    let tarpit = ScriptedServer::start(vec![
        Step::Sleep(Duration::from_secs(4)),
        Step::line("220 late"),
    ]);
    let relay = greet(
        "relay.mxes.test",
        after_greeting("relay.mxes.test", None, "250 2.1.5 ok"),
    );
    // One MX host, two addresses: the first answers, the second hangs up at once.
    let two_ok = greet("two.mxes.test", after_greeting("two.mxes.test", None, DENY));
    let two_dead = ScriptedServer::start(vec![Step::Close]);
    let hosts = [
        ("tls", "127.0.4.1", &tls),
        ("notls", "127.0.4.2", &notls),
        ("wrongname", "127.0.4.3", &wrongname),
        ("tlsfail", "127.0.4.4", &tlsfail),
        ("busy", "127.0.4.5", &busy),
        ("tarpit", "127.0.4.6", &tarpit),
        ("relay", "127.0.4.7", &relay),
    ];
    let mut zone = Zone::new("mxes.test");
    for (k, (h, ip, _)) in hosts.iter().enumerate() {
        zone = zone
            .mx(10 * (k as u16 + 1), &format!("{h}.mxes.test"))
            .a(h, ip);
    }
    zone = zone
        .mx(80, "two.mxes.test")
        .a("two", "127.0.4.8")
        .a("two", "127.0.4.9");
    let mut w = World::with_ca(&ca, &[zone], vec![])
        .smtp("127.0.4.8", two_ok.port())
        .smtp("127.0.4.9", two_dead.port());
    for (_, ip, srv) in &hosts {
        w = w.smtp(ip, srv.port());
    }
    let (v, code) = w.audit("mxes.test", &["--timeout", "2"]);
    assert_eq!(code, 2, "{:#}", v["findings"]);
    let msg = |c: &str| -> String {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == c)
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    for (sev, c, who) in [
        (
            "warning",
            "mx-starttls-missing",
            "notls.mxes.test (127.0.4.2)",
        ),
        (
            "info",
            "certificate-host-mismatch",
            "wrongname.mxes.test (127.0.4.3)",
        ),
        (
            "warning",
            "mx-starttls-failed",
            "tlsfail.mxes.test (127.0.4.4)",
        ),
        ("warning", "mx-banner-refused", "busy.mxes.test (127.0.4.5)"),
        (
            "warning",
            "mx-banner-timeout",
            "tarpit.mxes.test (127.0.4.6)",
        ),
        ("critical", "mx-open-relay", "relay.mxes.test (127.0.4.7)"),
        ("warning", "mx-connect-failed", "two.mxes.test (127.0.4.9)"),
    ] {
        assert!(has(&v, sev, c), "{sev} {c}: {:#}", v["findings"]);
        assert!(msg(c).contains(who), "{c} names {who}: {}", msg(c));
    }
    // the good MX has no finding of its own, beyond the missing PTR
    let own: Vec<_> = findings(&v)
        .into_iter()
        .filter(|(_, c)| msg(c).contains("tls.mxes.test (127.0.4.1)"))
        .collect();
    assert!(own.iter().all(|(s, _)| s == "info"), "{own:?}");
    let p = &v["inbound"]["mx"][0]["addresses"][0]["probe"];
    assert_eq!(p["tls"]["verified"], true, "{p:#}");
    assert_eq!(p["ehlo"]["size"], 10240000);
    assert_eq!(p["ehlo_tls"]["name"], "tls.mxes.test");
    // one broken address of two is named, and the other is not
    assert!(
        !msg("mx-connect-failed").contains("127.0.4.8"),
        "{}",
        msg("mx-connect-failed")
    );
    // the relay test asks for the default recipient at an IANA-reserved domain
    assert!(
        relay
            .lines()
            .iter()
            .any(|l| l == "RCPT TO:<relay-test@example.net>"),
        "{:?}",
        relay.lines()
    );
    // the relay test never sends DATA, always RSET and QUIT
    for srv in [&tls, &notls, &relay] {
        let lines = srv.lines();
        assert!(
            !lines
                .iter()
                .any(|l| l.to_ascii_uppercase().starts_with("DATA")),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l.starts_with("RSET")), "{lines:?}");
        assert!(lines.iter().any(|l| l.starts_with("QUIT")), "{lines:?}");
    }
}

#[test]
fn with_mta_sts_enforce_a_wrong_name_certificate_is_critical() {
    let (v, code) = wrong_name_under_enforce(&["v=STSv1; id=1"]);
    assert!(
        has(&v, "critical", "certificate-host-mismatch"),
        "{:#}",
        v["findings"]
    );
    assert_eq!(code, 2);
    // RFC 8461 §3.1: with two records senders assume no policy, so nothing is enforced.
    let (v, _) = wrong_name_under_enforce(&["v=STSv1; id=1", "v=STSv1; id=2"]);
    assert!(
        has(&v, "info", "certificate-host-mismatch")
            && has(&v, "warning", "mta-sts-multiple-records"),
        "{:#}",
        v["findings"]
    );
}

/// An MX whose certificate names another host, under an enforcing policy published with
/// `records` as its `_mta-sts` TXT records: the JSON and the exit code.
fn wrong_name_under_enforce(records: &[&str]) -> (serde_json::Value, i32) {
    let ca = TestCa::new();
    let wrong = server_config(
        &ca.issue(&["other.example"], Validity::Valid),
        TlsVersions::Default,
    );
    let mx = greet(
        "mx.sts.test",
        after_greeting("mx.sts.test", Some(wrong), DENY),
    );
    let mut zone = Zone::new("sts.test")
        .mx(10, "mx.sts.test")
        .a("mx", "127.0.5.1")
        .a("mta-sts", "127.0.5.2");
    for r in records {
        zone = zone.txt("_mta-sts", r);
    }
    let routes = Routes::new().route(
        "mta-sts.sts.test",
        POLICY_PATH,
        Reply::text("version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 604800\n"),
    );
    let w = World::with_ca(
        &ca,
        &[zone],
        vec![(&["mta-sts.sts.test"], &["mta-sts.sts.test"], routes)],
    )
    .smtp("127.0.5.1", mx.port());
    w.audit("sts.test", &[])
}

#[test]
fn real_postfix_under_a_name_its_certificate_does_not_hold() {
    // The shared stack's Postfix holds a certificate for mail.example.test & co.; as the MX
    // mx.<domain> it presents the wrong name — the commonest real-world MX certificate error.
    let stack = crate::support::mailstack::shared();
    let wrong = Zone::new("wrongcert.test")
        .mx(10, "mx.wrongcert.test")
        .a("mx", "127.0.0.1");
    let sts = Zone::new("wrongsts.test")
        .mx(10, "mx.wrongsts.test")
        .a("mx", "127.0.0.1")
        .a("mta-sts", "127.0.0.1")
        .txt("_mta-sts", "v=STSv1; id=1");
    let routes = Routes::new().route(
        "mta-sts.wrongsts.test",
        POLICY_PATH,
        Reply::text("version: STSv1\nmode: enforce\nmx: mx.wrongsts.test\nmax_age: 604800\n"),
    );
    let w = World::with_ca(
        &stack.ca,
        &[wrong, sts],
        vec![(
            &["mta-sts.wrongsts.test"],
            &["mta-sts.wrongsts.test"],
            routes,
        )],
    )
    .smtp("127.0.0.1", stack.ports.smtp);

    let (v, _) = w.audit("wrongcert.test", &[]);
    let p = &v["inbound"]["mx"][0]["addresses"][0]["probe"];
    assert_eq!(p["starttls_ok"], true, "{p:#}");
    assert_eq!(p["tls"]["verified"], false, "{p:#}");
    assert!(
        p["tls"]["names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "mail.example.test"),
        "{p:#}"
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "certificate-host-mismatch")
        .unwrap_or_else(|| panic!("{:#}", v["findings"]));
    // Without MTA-STS or DANE a sender does not check the name: info.
    assert_eq!(f["severity"], "info");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("mx.wrongcert.test (127.0.0.1)"),
        "{f:#}"
    );
    // The relay test ran against the real Postfix and was refused.
    assert_eq!(p["relay_test"]["accepted"], false, "{p:#}");

    let (v, code) = w.audit("wrongsts.test", &[]);
    assert!(
        has(&v, "critical", "certificate-host-mismatch"),
        "{:#}",
        v["findings"]
    );
    assert_eq!(code, 2);
    assert!(
        findings(&v).iter().all(|(_, c)| c != "mx-starttls-failed"),
        "{:#}",
        v["findings"]
    );
}

/// `--relay-test-rcpt` names the recipient of the relay test; a value that is not an address,
/// or a `--dkim-selector` that is not a DNS label, is a usage error before any traffic.
#[test]
fn the_relay_test_recipient_is_the_flags_and_bad_values_are_usage_errors() {
    let mx = greet("mx.rcpt.test", after_greeting("mx.rcpt.test", None, DENY));
    let zone = Zone::new("rcpt.test")
        .mx(10, "mx.rcpt.test")
        .a("mx", "127.0.5.9");
    let w = World::new(&[zone], vec![]).smtp("127.0.5.9", mx.port());
    let (v, _) = w.audit("rcpt.test", &["--relay-test-rcpt", "probe@relay.example"]);
    let relay = &v["inbound"]["mx"][0]["addresses"][0]["probe"]["relay_test"];
    assert_eq!(relay["accepted"], false, "{relay:#}");
    assert!(
        mx.lines()
            .iter()
            .any(|l| l == "RCPT TO:<probe@relay.example>"),
        "{:?}",
        mx.lines()
    );
    for bad in [
        ["--relay-test-rcpt", "not-an-address"],
        ["--dkim-selector", "two words"],
    ] {
        let (v, code) = w.audit("rcpt.test", &bad);
        assert_eq!(code, 3, "{bad:?}: {v:#}");
    }
}

/// `--per-host` bounds the port-25 connections to one MX host at once, over all its addresses.
#[test]
fn per_host_bounds_the_connections_to_one_mx() {
    // Each connection held 200 ms without a greeting, then closed.
    let srv = ScriptedServer::start(vec![Step::Linger(Duration::from_millis(200)), Step::Close]);
    let mut zone = Zone::new("busy.test").mx(10, "mx.busy.test");
    let mut ips = Vec::new();
    for i in 1..=4 {
        let ip = format!("127.0.7.{i}");
        zone = zone.a("mx", &ip);
        ips.push(ip);
    }
    let mut w = World::new(&[zone], vec![]);
    for ip in &ips {
        w = w.smtp(ip, srv.port());
    }
    let (v, _) = w.audit("busy.test", &["--per-host", "1"]);
    assert_eq!(srv.connections(), 4, "{:#}", v["inbound"]);
    assert_eq!(srv.max_concurrent(), 1, "--per-host 1");
}
