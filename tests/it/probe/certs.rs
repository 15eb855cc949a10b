//! Certificates and TLS versions: expired, not yet valid, wrong name, self-signed, unknown CA,
//! expiring soon, different certificates on the implicit-TLS and STARTTLS ports, TLS 1.2 only,
//! and a TLS 1.0-only server. A bad certificate keeps the server usable (`tls_valid: false`) and
//! becomes a finding; a failed handshake is `Failed{phase: "tls"}`.

use std::time::Duration;

use mailprobe::model::{Candidate, Outcome, Protocol, Security};
use mailprobe::probe::{ProbeOptions, ProbeRun, probe_all};

use super::{HOST, cand, codes, dump, net_with, opts, phase};
use crate::support::certs::{Cert, TestCa, TlsVersions, Validity, server_config};
use crate::support::scripted::{LegacyTls, ScriptedServer, Step};

/// An implicit-TLS IMAP server script (inside TLS).
fn imaps_script() -> Vec<Step> {
    vec![
        Step::line("* OK ready"),
        Step::expect("a1 CAPABILITY"),
        Step::line("* CAPABILITY IMAP4rev1 AUTH=PLAIN"),
        Step::line("a1 OK done"),
        Step::expect("a2 LOGOUT"),
        Step::line("* BYE bye"),
        Step::line("a2 OK bye"),
    ]
}

/// A STARTTLS IMAP server presenting `cert` after STARTTLS.
fn imap_starttls_script(cert: &Cert) -> Vec<Step> {
    vec![
        Step::line("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready"),
        Step::expect("a1 STARTTLS"),
        Step::line("a1 OK go"),
        Step::StartTls(server_config(cert, TlsVersions::Default)),
        Step::expect("a2 CAPABILITY"),
        Step::line("* CAPABILITY IMAP4rev1 AUTH=PLAIN"),
        Step::line("a2 OK done"),
        Step::expect("a3 LOGOUT"),
        Step::line("a3 OK bye"),
    ]
}

async fn run_imaps(
    cert: &Cert,
    versions: TlsVersions,
    ca: &TestCa,
    o: &ProbeOptions,
) -> (ProbeRun, ScriptedServer) {
    let s = ScriptedServer::start_tls(server_config(cert, versions), imaps_script());
    let tmp = tempfile::tempdir().unwrap();
    let net = net_with(&[], Duration::from_secs(3), Some(&ca.write_pem(tmp.path())));
    let run = probe_all(net, &[cand(Protocol::Imap, s.port(), Security::Tls)], o).await;
    (run, s)
}

#[tokio::test]
async fn bad_certificates_are_findings_not_failures() {
    let ca = TestCa::new();
    let other_ca = TestCa::new();
    let int = ca.intermediate();
    let cases: Vec<(&str, Cert, &[&str])> = vec![
        (
            "expired",
            ca.issue(&[HOST], Validity::Expired),
            &["expired"],
        ),
        (
            "not-yet-valid",
            ca.issue(&[HOST], Validity::NotYetValid),
            &["not-yet-valid"],
        ),
        (
            "hostname-mismatch",
            ca.issue(&["other.example.test"], Validity::Valid),
            &["hostname-mismatch"],
        ),
        (
            "self-signed",
            Cert::self_signed(&[HOST]),
            &["self-signed", "unknown-issuer"],
        ),
        (
            "unknown-issuer",
            other_ca.issue(&[HOST], Validity::Valid),
            &["unknown-issuer"],
        ),
        // The server forgets the intermediate (without an AIA URL webpki cannot tell this from
        // an unknown issuer).
        (
            "leaf-only",
            int.issue(&[HOST], Validity::Valid).leaf_only(),
            &["incomplete-chain", "unknown-issuer"],
        ),
    ];
    for (what, cert, errs) in cases {
        let (run, _s) = run_imaps(&cert, TlsVersions::Default, &ca, &opts()).await;
        let p = &run.probes[0];
        assert_eq!(
            p.outcome,
            Outcome::Working { tls_valid: false },
            "{what}: {}",
            dump(p)
        );
        let tls = p.tls.as_ref().unwrap();
        let err = tls.verify_error.as_deref().unwrap_or("");
        assert!(errs.contains(&err), "{what}: {err}");
        let code = format!("certificate-{err}");
        let c = codes(&run);
        assert!(c.contains(&code), "{what}: {c:?}");
        assert!(
            c.contains(&"no-valid-certificate".to_string()),
            "{what}: {c:?}"
        );
        // The finding uses the verifier's sentence for each problem.
        assert!(
            run.findings
                .iter()
                .any(|f| f.code.as_str() == code && f.message.len() > 40),
            "{what}"
        );
        // Still chosen: no server has a valid certificate.
        assert!(run.settings.incoming.is_some());
        if what == "hostname-mismatch" {
            let f = run
                .findings
                .iter()
                .find(|f| f.code.as_str() == code)
                .unwrap();
            assert!(f.message.contains("other.example.test"), "{}", f.message);
        }
    }
}

#[tokio::test]
async fn expiry_warning_threshold_is_an_option() {
    let ca = TestCa::new();
    let cert = ca.issue(&[HOST], Validity::Valid); // about 396 days left
    let (run, _s) = run_imaps(
        &cert,
        TlsVersions::Default,
        &ca,
        &ProbeOptions {
            warn_cert_days: 400,
            ..opts()
        },
    )
    .await;
    assert_eq!(run.probes[0].outcome, Outcome::Working { tls_valid: true });
    assert!(
        codes(&run).contains(&"certificate-expires-soon".to_string()),
        "{:?}",
        run.findings
    );
    let (run, _s) = run_imaps(&cert, TlsVersions::Default, &ca, &opts()).await;
    assert!(!codes(&run).contains(&"certificate-expires-soon".to_string()));
}

#[tokio::test]
async fn tls12_only_server_works_and_says_so() {
    let ca = TestCa::new();
    let (run, _s) = run_imaps(
        &ca.issue(&[HOST], Validity::Valid),
        TlsVersions::Tls12Only,
        &ca,
        &opts(),
    )
    .await;
    let p = &run.probes[0];
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: true },
        "{}",
        dump(p)
    );
    assert_eq!(p.tls.as_ref().unwrap().version, "TLSv1.2");
}

#[tokio::test]
async fn tls10_only_server_is_named() {
    for reply in [
        LegacyTls::ProtocolVersionAlert,
        LegacyTls::ServerHello(3, 1),
    ] {
        let s = ScriptedServer::legacy_tls(reply);
        let net = net_with(&[], Duration::from_secs(2), None);
        let run = probe_all(
            net,
            &[cand(Protocol::Imap, s.port(), Security::Tls)],
            &opts(),
        )
        .await;
        let p = &run.probes[0];
        assert_eq!(phase(p), Some("tls"), "{}", dump(p));
        assert!(
            codes(&run).contains(&"tls-legacy-only".to_string()),
            "{reply:?}: {:?}",
            run.findings
        );
    }
}

#[tokio::test]
async fn different_certificates_on_implicit_and_starttls_ports() {
    let ca = TestCa::new();
    let a = ca.issue(&[HOST], Validity::Valid);
    let b = ca.issue(&[HOST], Validity::Valid);
    let implicit =
        ScriptedServer::start_tls(server_config(&a, TlsVersions::Default), imaps_script());
    let starttls = ScriptedServer::start(imap_starttls_script(&b));
    let tmp = tempfile::tempdir().unwrap();
    let net = net_with(&[], Duration::from_secs(3), Some(&ca.write_pem(tmp.path())));
    let cands: Vec<Candidate> = vec![
        cand(Protocol::Imap, implicit.port(), Security::Tls),
        cand(Protocol::Imap, starttls.port(), Security::Starttls),
    ];
    // One connection at a time, STARTTLS first: the implicit-TLS probe ranks higher, so the
    // STARTTLS one is neither cancelled nor able to cancel it.
    let o = ProbeOptions {
        concurrency: 1,
        ..opts()
    };
    let run = probe_all(net, &[cands[1].clone(), cands[0].clone()], &o).await;
    assert!(
        run.probes
            .iter()
            .all(|p| p.outcome == Outcome::Working { tls_valid: true })
    );
    let f = run
        .findings
        .iter()
        .find(|f| f.code.as_str() == "certificate-differs")
        .expect("certificate-differs");
    assert_eq!(
        f.severity,
        mailprobe::model::Severity::Info,
        "both verify: only informational"
    );
}

#[tokio::test]
async fn full_chain_through_an_intermediate_verifies() {
    let ca = TestCa::new();
    let int = ca.intermediate();
    let (run, _s) = run_imaps(
        &int.issue(&[HOST], Validity::Valid),
        TlsVersions::Default,
        &ca,
        &opts(),
    )
    .await;
    let p = &run.probes[0];
    assert_eq!(
        p.outcome,
        Outcome::Working { tls_valid: true },
        "{}",
        dump(p)
    );
    assert!(
        p.tls.as_ref().unwrap().chain.len() >= 2,
        "leaf and intermediate as sent"
    );
}
