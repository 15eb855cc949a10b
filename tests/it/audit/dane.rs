//! DANE (RFC 7672) in `audit` against the real Postfix of the shared stack on port 25, with
//! the MX set in a zone the harness DNSSEC-signs at test time and its key passed with
//! `--trust-anchor`: a DANE-EE record of the server's key (clean, even for an MX name the
//! certificate does not carry), a DANE-TA record of the test CA, a mismatching record, PKIX
//! usages only, no TLSA in the signed zone, a bogus TLSA signature, and an unsigned child zone.

use std::path::Path;

use mailprobe::audit::dane::{association, hex};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::{World, findings, has};
use crate::support::dns::Zone;

/// The DER of the certificate Postfix presents (the stack's `tls/mail.crt`).
fn postfix_leaf(dir: &Path) -> Vec<u8> {
    let pem = dir.join("tls/mail.crt");
    CertificateDer::from_pem_file(&pem)
        .unwrap_or_else(|e| panic!("{}: {e}", pem.display()))
        .to_vec()
}

/// A TLSA record: usage, selector, matching type, data (hex).
type Tlsa<'a> = (u8, u8, u8, &'a str);

/// `example.test` signed; each test domain below it sends mail to one MX name (all at the
/// Postfix address) whose TLSA records make the case. `plain.example.test` is an unsigned
/// child, delegated without DS: provably insecure.
fn world() -> (World, tempfile::NamedTempFile) {
    let stack = crate::support::mailstack::shared();
    let leaf = postfix_leaf(&stack.dir);
    let ca = stack.ca.der().to_vec();
    let ee = hex(&association(&leaf, 1, 1).unwrap());
    let ta = hex(&association(&ca, 0, 1).unwrap());
    let pkix = hex(&association(&leaf, 0, 2).unwrap());
    let plain = Zone::new("plain.example.test")
        .mx(10, "mail.example.test")
        .txt("@", "v=spf1 -all")
        .txt(
            "_dmarc",
            "v=DMARC1; p=reject; rua=mailto:d@plain.example.test",
        );
    let mut zone = Zone::new("example.test")
        .signed()
        .a("mail", "127.0.0.1")
        .tlsa("_25._tcp.mail", 2, 0, 1, &ta);
    let cases: [(&str, Option<Tlsa>); 5] = [
        ("ee", Some((3, 1, 1, &ee))),
        ("bad", Some((3, 1, 1, &"ab".repeat(32)))),
        ("pkix", Some((1, 0, 2, &pkix))),
        ("none", None),
        ("bogus", Some((3, 1, 1, &ee))),
    ];
    for (name, tlsa) in cases {
        let mx = format!("mx-{name}");
        zone = zone
            .mx_at(name, 10, &format!("{mx}.example.test"))
            .a(&mx, "127.0.0.1")
            .txt(name, "v=spf1 -all")
            .txt(
                &format!("_dmarc.{name}"),
                &format!("v=DMARC1; p=reject; rua=mailto:dmarc@{name}.example.test"),
            );
        if let Some((u, s, m, data)) = tlsa {
            zone = zone.tlsa(&format!("_25._tcp.{mx}"), u, s, m, data);
        }
    }
    zone = zone
        .mx_at("ta", 10, "mail.example.test")
        .txt("ta", "v=spf1 -all")
        .txt(
            "_dmarc.ta",
            "v=DMARC1; p=reject; rua=mailto:dmarc@ta.example.test",
        )
        .bogus("_25._tcp.mx-bogus", "TLSA")
        .delegate(&plain);
    let anchor = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(anchor.path(), zone.trust_anchor()).unwrap();
    let w = World::with_ca(&stack.ca, &[zone, plain], vec![]).smtp("127.0.0.1", stack.ports.smtp);
    (w, anchor)
}

fn audit(w: &World, anchor: &tempfile::NamedTempFile, domain: &str) -> (serde_json::Value, i32) {
    w.audit(
        domain,
        &["--trust-anchor", &anchor.path().display().to_string()],
    )
}

fn not_info(v: &serde_json::Value) -> Vec<(String, String)> {
    findings(v)
        .into_iter()
        .filter(|(s, _)| s != "info")
        .collect()
}

#[test]
fn dane_ee_of_the_servers_key_is_clean_even_for_a_name_the_certificate_lacks() {
    let (w, anchor) = world();
    let (v, code) = audit(&w, &anchor, "ee.example.test");
    assert!(not_info(&v).is_empty(), "{:#}", v["findings"]);
    assert_eq!(code, 0);
    assert!(has(&v, "info", "dane-valid"), "{:#}", v["findings"]);
    // RFC 7672 §3.1.1: the certificate names mail.example.test, not mx-ee; DANE-EE ignores it.
    assert!(
        !findings(&v)
            .iter()
            .any(|(_, c)| c == "certificate-host-mismatch")
    );
    let d = &v["inbound"]["policies"]["dane"];
    assert_eq!(d["mx_dnssec"], "secure", "{d:#}");
    let h = &d["hosts"][0];
    assert_eq!(h["host"], "mx-ee.example.test");
    assert_eq!(h["tlsa_name"], "_25._tcp.mx-ee.example.test");
    assert_eq!(h["mx_dnssec"], "secure");
    assert_eq!(h["tlsa_dnssec"], "secure");
    assert_eq!(h["tlsa"][0]["usage"], 3);
    assert_eq!(h["tlsa"][0]["usable"], true);
    let a = &h["addresses"][0];
    assert_eq!(a["ip"], "127.0.0.1");
    assert_eq!(a["outcome"], "valid", "{a:#}");
    assert!(
        a["matched"].as_str().unwrap().starts_with("3 1 1 "),
        "{a:#}"
    );
    // The MX line says the certificate is authenticated, by DANE, not "NOT verified".
    let path = anchor.path().display().to_string();
    let (out, code) = w.audit_human("ee.example.test", &["--trust-anchor", &path]);
    assert_eq!(code, 0, "{out}");
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("127.0.0.1") && l.contains("STARTTLS"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("authenticated by DANE (WebPKI: hostname-mismatch")
            && !line.contains("NOT verified"),
        "{line}"
    );
}

#[test]
fn dane_ta_of_the_test_ca_validates_the_chain_and_the_name() {
    let (w, anchor) = world();
    let (v, code) = audit(&w, &anchor, "ta.example.test");
    assert!(not_info(&v).is_empty(), "{:#}", v["findings"]);
    assert_eq!(code, 0);
    let a = &v["inbound"]["policies"]["dane"]["hosts"][0]["addresses"][0];
    assert_eq!(a["outcome"], "valid", "{a:#}");
    assert!(
        a["matched"].as_str().unwrap().starts_with("2 0 1 "),
        "{a:#}"
    );
    assert_eq!(a["name"], "mail.example.test");
}

#[test]
fn a_mismatching_record_is_critical_and_names_the_address() {
    let (w, anchor) = world();
    let (v, code) = audit(&w, &anchor, "bad.example.test");
    assert_eq!(code, 2, "{:#}", v["findings"]);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "dane-tlsa-mismatch")
        .unwrap_or_else(|| panic!("{:#}", v["findings"]));
    assert_eq!(f["severity"], "critical");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("mx-bad.example.test (127.0.0.1)"), "{msg}");
    assert!(msg.contains("3 1 1 "), "the key actually presented: {msg}");
}

#[test]
fn pkix_usages_only_are_unusable_for_smtp() {
    let (w, anchor) = world();
    let (v, _) = audit(&w, &anchor, "pkix.example.test");
    assert!(
        has(&v, "warning", "dane-tlsa-unusable"),
        "{:#}",
        v["findings"]
    );
    assert_eq!(
        v["inbound"]["policies"]["dane"]["hosts"][0]["tlsa"][0]["usable"],
        false
    );
}

#[test]
fn no_tlsa_in_a_signed_zone_and_an_unsigned_zone_are_info() {
    let (w, anchor) = world();
    let (v, code) = audit(&w, &anchor, "none.example.test");
    assert!(has(&v, "info", "dane-no-tlsa"), "{:#}", v["findings"]);
    assert!(not_info(&v).is_empty(), "{:#}", v["findings"]);
    assert_eq!(code, 0);
    let (v, code) = audit(&w, &anchor, "plain.example.test");
    assert!(has(&v, "info", "dane-not-possible"), "{:#}", v["findings"]);
    assert_eq!(v["inbound"]["policies"]["dane"]["mx_dnssec"], "insecure");
    assert!(not_info(&v).is_empty(), "{:#}", v["findings"]);
    assert_eq!(code, 0);
}

#[test]
fn a_bogus_tlsa_signature_is_critical() {
    let (w, anchor) = world();
    let (v, code) = audit(&w, &anchor, "bogus.example.test");
    assert!(has(&v, "critical", "dane-bogus"), "{:#}", v["findings"]);
    assert_eq!(code, 2);
    let h = &v["inbound"]["policies"]["dane"]["hosts"][0];
    assert_eq!(h["tlsa_dnssec"], "bogus", "{h:#}");
}

#[test]
fn without_a_trust_anchor_dane_is_not_checked() {
    let (w, _anchor) = world();
    let (v, code) = w.audit("ee.example.test", &[]);
    assert!(has(&v, "info", "dane-not-checked"), "{:#}", v["findings"]);
    assert!(not_info(&v).is_empty(), "{:#}", v["findings"]);
    assert_eq!(code, 0);
}

#[test]
fn snapshot_of_the_dane_section() {
    let (w, anchor) = world();
    let path = anchor.path().display().to_string();
    let (out, code) = w.audit_human("bad.example.test", &["--trust-anchor", &path]);
    assert_eq!(code, 2, "{out}");
    let section: String = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("DANE"))
        .take_while(|l| !l.trim_start().starts_with("SPF"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.add_filter(r"\b[0-9a-f]{12}…", "[hex]…");
    s.add_filter(r"\b[0-9a-f]{64}\b", "[sha256]");
    s.bind(|| insta::assert_snapshot!("audit_dane_human", section));
}
