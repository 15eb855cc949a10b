//! No credential of any mechanism goes to a server whose certificate did not verify (expired,
//! wrong name, self-signed), over implicit TLS or STARTTLS, for IMAP, POP3 and SMTP, in the
//! probe's login and in the round trip's — unless `--allow-invalid-cert-auth`, and then a
//! critical finding says the password was exposed. The scripted servers record every line the
//! client sent.

use std::sync::Arc;
use std::time::Duration;

use mailprobe::auth::{self, Authenticator, Credentials, Secret};
use mailprobe::model::{Probe, Protocol, Security, Setting, Severity, StepStatus};
use mailprobe::probe::{ProbeOptions, probe_one};

use super::{alice, codes};
use crate::probe::{HOST, cand, net_with};
use crate::support::certs::{Cert, TestCa, TlsVersions, Validity, server_config};
use crate::support::scripted::{ScriptedServer, Step};

const PW: &str = "sekrit-pw-4711";
const TOKEN: &str = "ya29.tok-4711";

/// Every mechanism this client knows, offered by the scripts.
const IMAP_CAPS: &str = "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=XOAUTH2 AUTH=OAUTHBEARER";
const POP3_CAPA: &str = "+OK\r\nUSER\r\nSASL PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER\r\n.";
const SMTP_EHLO: &str = "250-scripted\r\n250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER";

/// The dialogue up to the capabilities over TLS (STARTTLS first when `starttls`), then `then`.
fn script(proto: Protocol, starttls: bool, cert: &Cert, then: Vec<Step>) -> Vec<Step> {
    let cfg = server_config(cert, TlsVersions::Default);
    let mut s = match (proto, starttls) {
        (Protocol::Imap, false) => vec![
            Step::line("* OK ready"),
            Step::expect("a1 CAPABILITY"),
            Step::line(&format!("{IMAP_CAPS}\r\na1 OK")),
        ],
        (Protocol::Imap, true) => vec![
            Step::line("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready"),
            Step::expect("a1 STARTTLS"),
            Step::line("a1 OK go"),
            Step::StartTls(cfg),
            Step::expect("a2 CAPABILITY"),
            Step::line(&format!("{IMAP_CAPS}\r\na2 OK")),
        ],
        (Protocol::Pop3, false) => vec![
            Step::line("+OK ready"),
            Step::expect("CAPA"),
            Step::line(POP3_CAPA),
        ],
        (Protocol::Pop3, true) => vec![
            Step::line("+OK ready"),
            Step::expect("CAPA"),
            Step::line("+OK\r\nSTLS\r\n."),
            Step::expect("STLS"),
            Step::line("+OK go"),
            Step::StartTls(cfg),
            Step::expect("CAPA"),
            Step::line(POP3_CAPA),
        ],
        (Protocol::Smtp, false) => vec![
            Step::line("220 ready"),
            Step::expect("EHLO"),
            Step::line(SMTP_EHLO),
        ],
        (Protocol::Smtp, true) => vec![
            Step::line("220 ready"),
            Step::expect("EHLO"),
            Step::line("250-scripted\r\n250 STARTTLS"),
            Step::expect("STARTTLS"),
            Step::line("220 go"),
            Step::StartTls(cfg),
            Step::expect("EHLO"),
            Step::line(SMTP_EHLO),
        ],
    };
    s.extend(then);
    s
}

fn start(proto: Protocol, starttls: bool, cert: &Cert, then: Vec<Step>) -> ScriptedServer {
    let s = script(proto, starttls, cert, then);
    if starttls {
        ScriptedServer::start(s)
    } else {
        ScriptedServer::start_tls(server_config(cert, TlsVersions::Default), s)
    }
}

fn port_of(proto: Protocol, starttls: bool) -> (u16, Security) {
    match (proto, starttls) {
        (Protocol::Imap, false) => (993, Security::Tls),
        (Protocol::Imap, true) => (143, Security::Starttls),
        (Protocol::Pop3, false) => (995, Security::Tls),
        (Protocol::Pop3, true) => (110, Security::Starttls),
        (Protocol::Smtp, false) => (465, Security::Tls),
        (Protocol::Smtp, true) => (587, Security::Starttls),
    }
}

/// Password and token, every mechanism: whatever the gate lets through would be sent.
fn every_credential(allow_invalid_cert: bool) -> Credentials {
    Credentials {
        user: Some("alice@example.test".into()),
        password: Some(Secret::new(PW)),
        oauth_token: Some(Secret::new(TOKEN)),
        all_mechs: true,
        allow_invalid_cert,
        ..Credentials::default()
    }
}

/// Is `line` one of the commands a probe without a login sends?
fn harmless(line: &str) -> bool {
    let words: Vec<&str> = line.split(' ').collect();
    let cmd = match words.as_slice() {
        [tag, cmd, ..] if tag.starts_with('a') => cmd,
        [cmd, ..] => cmd,
        [] => return false,
    };
    [
        "CAPABILITY",
        "STARTTLS",
        "LOGOUT",
        "CAPA",
        "STLS",
        "QUIT",
        "EHLO",
    ]
    .contains(&cmd.to_ascii_uppercase().as_str())
}

async fn probe(
    ca: &TestCa,
    srv: &ScriptedServer,
    proto: Protocol,
    starttls: bool,
    creds: Credentials,
) -> Probe {
    let tmp = tempfile::tempdir().unwrap();
    let (port, sec) = port_of(proto, starttls);
    let net = net_with(
        &[(port, srv.addr())],
        Duration::from_secs(3),
        Some(&ca.write_pem(tmp.path())),
    );
    let a = Authenticator::new(creds, &alice()).with_net(net.clone());
    let opts = ProbeOptions {
        transcript: true,
        login: Some(Arc::new(a)),
        ..ProbeOptions::default()
    };
    probe_one(&net, &cand(proto, port, sec), &opts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_mechanism_sends_anything_to_an_unverified_certificate() {
    let ca = TestCa::new();
    let certs = [
        ("expired", ca.issue(&[HOST], Validity::Expired)),
        (
            "wrong name",
            ca.issue(&["other.example.test"], Validity::Valid),
        ),
        ("self-signed", Cert::self_signed(&[HOST])),
    ];
    for (what, cert) in &certs {
        for proto in [Protocol::Imap, Protocol::Pop3, Protocol::Smtp] {
            for starttls in [false, true] {
                let case = format!("{what} {proto:?} starttls={starttls}");
                // Whatever comes next is read, recorded and answered as a success would be.
                let then = vec![Step::ReadLine, Step::line("+OK"), Step::ReadLine];
                let srv = start(proto, starttls, cert, then);
                let p = probe(&ca, &srv, proto, starttls, every_credential(false)).await;
                let sent = srv.lines();
                assert!(sent.iter().all(|l| harmless(l)), "{case}: sent {sent:?}");
                assert!(
                    !sent.iter().any(|l| l.contains(PW) || l.contains(TOKEN)),
                    "{case}"
                );
                let step = p
                    .steps
                    .iter()
                    .find(|s| s.name == "auth")
                    .expect("auth step");
                assert_eq!(step.status, StepStatus::Skipped, "{case}: {step:?}");
                let detail = step.detail.as_deref().unwrap_or("");
                assert!(
                    detail.starts_with("not sent: the certificate did not verify (")
                        && detail.contains("--allow-invalid-cert-auth"),
                    "{case}: {detail}"
                );
                assert!(p.auth.iter().all(|a| !a.success && a.is_note()), "{case}");
                let f = auth::login_findings(&[p]);
                assert_eq!(codes(&f), ["auth-skipped-invalid-cert"], "{case}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_flag_the_login_happens_and_is_critical() {
    let ca = TestCa::new();
    let cert = Cert::self_signed(&[HOST]);
    let then = vec![
        Step::expect("a2 AUTHENTICATE PLAIN "),
        Step::line("a2 OK logged in"),
        Step::expect("a3 LOGOUT"),
        Step::line("a3 OK"),
    ];
    let srv = start(Protocol::Imap, false, &cert, then);
    let creds = Credentials {
        user: Some("alice@example.test".into()),
        password: Some(Secret::new(PW)),
        mech: Some(mailprobe::auth::sasl::Mech::Plain),
        allow_invalid_cert: true,
        ..Credentials::default()
    };
    let p = probe(&ca, &srv, Protocol::Imap, false, creds).await;
    assert!(srv.failures().is_empty(), "{:?}", srv.failures());
    assert!(p.auth.iter().any(|a| a.success), "{:?}", p.auth);
    let f = auth::login_findings(&[p]);
    let exposed = f
        .iter()
        .find(|f| f.code.as_str() == "auth-invalid-cert")
        .expect("finding");
    assert_eq!(exposed.severity, Severity::Critical);
    assert!(
        exposed.message.contains("exposed to an unverified server"),
        "{}",
        exposed.message
    );
}

/// The round trip opens connections of its own: the same gate applies to them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_trip_sends_nothing_to_an_unverified_certificate() {
    let ca = TestCa::new();
    let cert = ca.issue(&[HOST], Validity::Expired);
    let then = vec![Step::ReadLine, Step::line("+OK"), Step::ReadLine];
    let imap = start(Protocol::Imap, false, &cert, then.clone());
    let smtp = start(Protocol::Smtp, true, &cert, then);
    let tmp = tempfile::tempdir().unwrap();
    let net = net_with(
        &[(993, imap.addr()), (587, smtp.addr())],
        Duration::from_secs(3),
        Some(&ca.write_pem(tmp.path())),
    );
    let a = Authenticator::new(every_credential(false), &alice());
    let setting = |protocol, port, security| Setting {
        protocol,
        host: HOST.into(),
        port,
        security,
        username: None,
        auth: vec![],
    };
    let found = mailprobe::roundtrip::imap_fetch::wait_and_fetch(
        &net,
        &setting(Protocol::Imap, 993, Security::Tls),
        &a,
        mailprobe::roundtrip::imap_fetch::Ours {
            message_id: "<x@y>",
            token: "t",
        },
        Duration::from_secs(1),
        false,
    )
    .await;
    let err = found.error.map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("--allow-invalid-cert-auth"), "{err}");
    let sub = mailprobe::roundtrip::submit::submit(
        &net,
        &setting(Protocol::Smtp, 587, Security::Starttls),
        &a,
        "alice@example.test",
        "alice@example.test",
        b"Subject: x\r\n\r\nx\r\n",
    )
    .await;
    assert!(sub.accepted_at.is_none());
    let err = sub.error.map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("--allow-invalid-cert-auth"), "{err}");
    for srv in [&imap, &smtp] {
        let sent = srv.lines();
        assert!(sent.iter().all(|l| harmless(l)), "sent {sent:?}");
    }
}

/// `probe` on the command line: the login step says `skipped`, why, and the flag; with the
/// flag given before the subcommand (a global option) the login happens and is critical.
#[test]
fn cli_probe_says_skipped_and_names_the_flag() {
    let ca = TestCa::new();
    let tmp = tempfile::tempdir().unwrap();
    let ca_file = ca.write_pem(tmp.path());
    let cert = ca.issue(&["other.example.test"], Validity::Valid);
    let then = vec![
        Step::ReadLine,
        Step::line("a2 OK logged in"),
        Step::ReadLine,
        Step::line("a3 OK"),
    ];
    let srv = start(Protocol::Imap, false, &cert, then);
    let run = |extra: &[&str]| {
        let out = crate::support::cmd::mailprobe()
            .env("MP_PW", PW)
            .args(extra)
            .args([
                "probe",
                "imaps://mail.example.test",
                "--user",
                "alice@example.test",
            ])
            .args([
                "--password-env",
                "MP_PW",
                "--auth-mech",
                "PLAIN",
                "--ca-file",
            ])
            .arg(&ca_file)
            .arg("--connect-to")
            .arg(format!("mail.example.test:993:127.0.0.1:{}", srv.port()))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (text, out.status.code())
    };
    let (human, code) = run(&[]);
    println!("{human}");
    assert!(
        human.contains("auth")
            && human.contains("skipped")
            && human.contains("--allow-invalid-cert-auth"),
        "{human}"
    );
    assert!(!human.contains(PW));
    assert_eq!(code, Some(2), "{human}");
    assert!(srv.lines().iter().all(|l| harmless(l)), "{:?}", srv.lines());
    let (json, _) = run(&["--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"auth-skipped-invalid-cert"), "{codes:?}");
    let (allowed, code) = run(&["--allow-invalid-cert-auth", "--json"]);
    println!("{allowed}");
    let v: serde_json::Value = serde_json::from_str(&allowed).unwrap();
    assert_eq!(v["probes"][0]["auth"][0]["success"], true, "{v}");
    assert!(allowed.contains("\"auth-invalid-cert\""), "{allowed}");
    assert!(!allowed.contains(PW));
    assert_eq!(code, Some(2));
    assert!(
        srv.lines()
            .iter()
            .any(|l| l.starts_with("a2 AUTHENTICATE PLAIN "))
    );
}
