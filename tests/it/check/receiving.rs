//! `check`'s Receiving section end to end: the real Postfix of the stack as the domain's MX
//! (STARTTLS with a certificate for the MX name), a scripted MX whose STARTTLS fails (a warning
//! in check, not the verdict), and MXs that never answer — a tarpit that accepts and never
//! greets, a silently filtered port — which are cut once the verdict is ready plus the port-25
//! hold, keeping what they saw: they never hold the verdict.

use super::*;
use crate::support::filtered::FilteredPort;
use crate::support::scripted::{ScriptedServer, Step};

/// example.test as [`zone`], its MX replaced by `mxes` (name, IPv4 address) in order.
fn zone_with_mx(stack: &MailStack, mxes: &[(&str, &str)]) -> Zone {
    let ip = stack.addr.to_string();
    let mut z = Zone::new("example.test")
        .a("mail", &ip)
        .srv("_imaps._tcp", 0, 1, 993, "mail.example.test")
        .srv("_submissions._tcp", 0, 1, 465, "mail.example.test");
    for (k, (name, addr)) in mxes.iter().enumerate() {
        let label = name.trim_end_matches(".example.test");
        z = z.mx(10 * (k as u16 + 1), name).a(label, addr);
    }
    z
}

/// `check alice@example.test` with the stack's servers, each MX address's port 25 sent to the
/// given loopback port, a step timeout of `timeout` s; `--json` or human with `format`.
fn check_out(
    stack: &MailStack,
    dns: &DnsServer,
    smtp: &[(&str, u16)],
    timeout: &str,
    extra: &[&str],
) -> (String, i32) {
    let mut cmd = mailprobe();
    cmd.args(["check", "alice@example.test", "--timeout", timeout])
        .args(["--dns", &dns.addr().to_string()])
        .args(["--ispdb-url", "http://127.0.0.1:9/"])
        .args(stack_args(stack, "mail.example.test"));
    for (ip, port) in smtp {
        cmd.args(["--connect-to", &format!("{ip}:25:127.0.0.1:{port}")]);
    }
    let out = cmd.args(extra).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The probe of MX number `mx`, first address.
fn mx_probe(v: &Value, mx: usize) -> &Value {
    &v["inbound"]["mx"][mx]["addresses"][0]["probe"]
}

#[test]
fn the_stacks_postfix_as_mx_shows_its_starttls_in_the_receiving_section() {
    let stack = stack();
    let dns = DnsServer::start_zones(&[zone(stack)]);
    // Postfix answers within the hold on an idle machine; on a loaded one a probe may be cut
    // (that is the rule, and is tested below): try again then.
    let mut tries = 0;
    let v = loop {
        tries += 1;
        let (out, code) = check_out(stack, &dns, &[], "5", &["--json"]);
        let v = json(&out);
        if mx_probe(&v, 0)["cut"].is_null() || tries == 3 {
            assert_eq!(code, 0, "{:#}", v["findings"]);
            break v;
        }
    };
    let inbound = &v["inbound"];
    assert_eq!(inbound["mx"][0]["host"], "mail.example.test", "{inbound:#}");
    assert_eq!(inbound["mx"][0]["preference"], 10);
    let p = mx_probe(&v, 0);
    assert!(p["cut"].is_null(), "cut three times: {p:#}");
    assert_eq!(p["banner"]["code"], 220, "{p:#}");
    assert_eq!(p["starttls_offered"], true);
    assert_eq!(p["starttls_ok"], true);
    assert_eq!(p["tls"]["verified"], true, "{p:#}");
    assert!(!p["ehlo_tls"].is_null());
    // check runs no relay test and no reverse DNS, and looks up no policy.
    assert!(p["relay_test"].is_null(), "{p:#}");
    assert_eq!(p["ptr"], serde_json::json!([]));
    let policies = &inbound["policies"];
    assert!(policies["mta_sts"].is_null() && policies["spf"].is_null());
    assert!(
        !codes(&v).iter().any(|c| c.starts_with("mx-")),
        "{:#}",
        v["findings"]
    );
    let (human, _) = check_out(stack, &dns, &[], "5", &[]);
    eprintln!("{human}");
    assert!(human.contains("\nReceiving (MX)\n"), "{human}");
    assert!(
        human.contains("     10  mail.example.test\n"),
        "the MX line: {human}"
    );
    assert!(!human.contains("\nPolicies\n"), "{human}");
    assert!(
        human.contains("STARTTLS") && !human.contains("PTR"),
        "{human}"
    );
}

#[test]
fn an_mx_with_broken_starttls_is_a_warning_and_no_receiving_skips_it() {
    let stack = stack();
    let broken = ScriptedServer::start(vec![
        Step::line("220 mx.example.test ESMTP"),
        Step::expect("EHLO"),
        Step::line("250-mx.example.test\r\n250 STARTTLS"),
        Step::expect("STARTTLS"),
        Step::line("220 go ahead"),
        Step::Send(b"this is not TLS\r\n".to_vec()),
        Step::Close,
    ]);
    let dns = DnsServer::start_zones(&[zone_with_mx(stack, &[("mx.example.test", "127.0.7.1")])]);
    let smtp = [("127.0.7.1", broken.port())];
    let (out, code) = check_out(stack, &dns, &smtp, "5", &["--json"]);
    let v = json(&out);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "mx-starttls-failed")
        .unwrap_or_else(|| panic!("{:#}", v["findings"]));
    assert_eq!(f["severity"], "warning", "{f:#}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("mx.example.test (127.0.7.1)"),
        "{f:#}"
    );
    // The mailbox settings still work: the verdict stands, the status is a warning.
    assert_eq!(setting(&v, "incoming").2, 993);
    assert_eq!(setting(&v, "outgoing").2, 465);
    assert_eq!((v["status"].as_str(), code), (Some("warning"), 1));
    assert_eq!(mx_probe(&v, 0)["starttls_ok"], false);

    let (out, code) = check_out(stack, &dns, &smtp, "5", &["--json", "--no-receiving"]);
    let v = json(&out);
    assert!(v.get("inbound").is_none(), "{v:#}");
    assert_eq!(code, 0, "{:#}", v["findings"]);
}

#[test]
fn mxs_that_never_answer_are_cut_and_never_hold_the_verdict() {
    let stack = stack();
    // A tarpit (accepts, never greets) and a filtered port (the SYN gets no answer): with a step
    // timeout of 30 s, waiting for either would show as that timeout; cut, each says how far it
    // got.
    let tarpit = ScriptedServer::blackhole();
    let filtered = FilteredPort::start();
    let dns = DnsServer::start_zones(&[zone_with_mx(
        stack,
        &[
            ("tarpit.example.test", "127.0.7.2"),
            ("filtered.example.test", "127.0.7.3"),
        ],
    )]);
    let smtp = [("127.0.7.2", tarpit.port()), ("127.0.7.3", filtered.port())];
    let (out, code) = check_out(stack, &dns, &smtp, "30", &["--json"]);
    let v = json(&out);
    assert_eq!(code, 0, "{:#}", v["findings"]);
    assert_eq!(setting(&v, "incoming").2, 993);
    let tarpit_p = mx_probe(&v, 0);
    let cut = tarpit_p["cut"]
        .as_str()
        .unwrap_or_else(|| panic!("{tarpit_p:#}"));
    assert!(
        cut.starts_with("TCP connected, no greeting within "),
        "{cut}"
    );
    assert!(tarpit_p["banner"].is_null() && tarpit_p["error"].is_null());
    let filtered_p = mx_probe(&v, 1);
    let cut = filtered_p["cut"]
        .as_str()
        .unwrap_or_else(|| panic!("{filtered_p:#}"));
    assert!(
        cut.starts_with("no TCP answer within ")
            && cut.ends_with("port 25 looks filtered from here"),
        "{cut}"
    );
    // Cut probes prove nothing about the MX: no finding, no unreachable MX.
    assert!(
        !codes(&v).iter().any(|c| c.starts_with("mx-")),
        "{:#}",
        v["findings"]
    );
    let (human, _) = check_out(stack, &dns, &smtp, "30", &[]);
    eprintln!("{human}");
    assert!(
        human.contains("not awaited: no TCP answer within "),
        "{human}"
    );
    assert!(
        human.contains("not awaited: TCP connected, no greeting within "),
        "{human}"
    );
}

/// The Receiving section as `check` renders it: an MX with verified STARTTLS, one without
/// STARTTLS, one whose probe was cut (keeping its greeting), one never answering; no policies,
/// no PTR, no relay test.
#[test]
fn receiving_section_snapshot() {
    use mailprobe::model::{
        Banner, Ehlo, Finding, FindingCode, Inbound, MxAddress, MxHost, Port25, Report, Setting,
        Settings, Severity, TlsInfo,
    };
    use mailprobe::report::human;
    let greeted = |name: &str, ms: u64| Banner {
        code: 220,
        text: format!("{name} ESMTP"),
        name: Some(name.to_string()),
        delay_ms: ms,
    };
    let ehlo = |name: &str| Ehlo {
        name: name.into(),
        extensions: vec!["STARTTLS".into()],
        size: None,
    };
    let good = Port25 {
        connect_ms: Some(3),
        banner: Some(greeted("mx1.example.test", 12)),
        ehlo: Some(ehlo("mx1.example.test")),
        starttls_offered: true,
        starttls_ok: true,
        tls: Some(TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
            kx_group: None,
            verified: true,
            verify_error: None,
            names: vec!["mx1.example.test".into()],
            not_after: None,
            days_left: Some(80),
            chain_days_left: None,
            chain: vec![],
        }),
        ehlo_tls: Some(ehlo("mx1.example.test")),
        elapsed_ms: 40,
        ..Port25::default()
    };
    let clear = Port25 {
        connect_ms: Some(2),
        banner: Some(greeted("mx2.example.test", 9)),
        ehlo: Some(Ehlo {
            extensions: vec![],
            ..ehlo("mx2.example.test")
        }),
        elapsed_ms: 20,
        ..Port25::default()
    };
    let slow = Port25 {
        connect_ms: Some(2),
        banner: Some(greeted("mx3.example.test", 310)),
        ehlo: Some(ehlo("mx3.example.test")),
        starttls_offered: true,
        cut: Some("STARTTLS not finished within 500 ms".into()),
        elapsed_ms: 500,
        ..Port25::default()
    };
    let silent = Port25 {
        cut: Some("no TCP answer within 500 ms: port 25 looks filtered from here".into()),
        elapsed_ms: 500,
        ..Port25::default()
    };
    let host = |pref: u16, name: &str, ips: Vec<(&str, Port25)>| MxHost {
        preference: pref,
        host: name.into(),
        addresses: ips
            .into_iter()
            .map(|(ip, p)| MxAddress {
                ip: ip.into(),
                probe: Some(p),
            })
            .collect(),
        ..MxHost::default()
    };
    let mut r = Report::new("check", "alice@example.test", "example.test");
    r.settings = Some(Settings {
        incoming: Some(Setting {
            protocol: mailprobe::model::Protocol::Imap,
            host: "mail.example.test".into(),
            port: 993,
            security: mailprobe::model::Security::Tls,
            username: Some("alice@example.test".into()),
            auth: vec![],
        }),
        outgoing: Some(Setting {
            protocol: mailprobe::model::Protocol::Smtp,
            host: "mail.example.test".into(),
            port: 465,
            security: mailprobe::model::Security::Tls,
            username: Some("alice@example.test".into()),
            auth: vec![],
        }),
    });
    r.inbound = Some(Inbound {
        mx: vec![
            host(10, "mx1.example.test", vec![("192.0.2.1", good)]),
            host(20, "mx2.example.test", vec![("192.0.2.2", clear)]),
            host(
                30,
                "mx3.example.test",
                vec![("2001:db8::3", slow), ("192.0.2.3", silent)],
            ),
        ],
        ..Inbound::default()
    });
    r.findings = vec![
        Finding::new(
            Severity::Warning,
            FindingCode::MxStarttlsMissing,
            "mx2.example.test (192.0.2.2) does not offer STARTTLS: mail to it travels in clear text",
        )
        .hint("enable STARTTLS (RFC 3207) with a certificate for the MX name"),
    ];
    r.status = r.status_from_findings();
    r.elapsed_ms = 612;
    colored::control::set_override(false);
    let text = human::render(&r, human::HumanOptions::default());
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_snapshot!("check_receiving_human", text);
    });
}
