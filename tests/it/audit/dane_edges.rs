//! DANE (RFC 7672) where the MX is not a plain name with its own TLSA records: an MX name that
//! is a CNAME (the TLSA records are looked up at the secure expansion first, §2.2.3), an
//! implicit MX (no MX record: the domain itself, §2.2.1 with the denial of the MX as its
//! DNSSEC status), and an MX with TLSA records that offers no STARTTLS (a DANE sender must not
//! deliver to it in clear text, §2.2).

use std::path::Path;

use mailprobe::audit::dane::{association, hex};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::{World, has};
use crate::support::dns::Zone;
use crate::support::scripted::{ScriptedServer, Step};

fn postfix_key_record(dir: &Path) -> String {
    let pem = dir.join("tls/mail.crt");
    let leaf = CertificateDer::from_pem_file(&pem)
        .unwrap_or_else(|e| panic!("{}: {e}", pem.display()))
        .to_vec();
    hex(&association(&leaf, 1, 1).unwrap())
}

/// An MX answering EHLO without STARTTLS, then the relay test refused, then QUIT.
fn no_starttls_mx() -> ScriptedServer {
    ScriptedServer::start(vec![
        Step::line("220 mx-clear.edge.test ESMTP"),
        Step::expect("EHLO"),
        Step::line("250-mx-clear.edge.test\r\n250 8BITMIME"),
        Step::expect("MAIL FROM:<>"),
        Step::line("250 2.1.0 ok"),
        Step::expect("RCPT TO:"),
        Step::line("554 5.7.1 relay access denied"),
        Step::expect("RSET"),
        Step::line("250 2.0.0 ok"),
        Step::expect("QUIT"),
        Step::line("221 bye"),
        Step::Close,
    ])
}

/// `edge.test`, signed and anchored: `alias.edge.test` has MX `mx-alias`, a CNAME of
/// `mx-real` (whose TLSA is the Postfix key); `implicit.edge.test` has no MX, an address and a
/// TLSA record of its own; `clear.edge.test` has MX `mx-clear` with a TLSA record, served by
/// the scripted MX without STARTTLS.
fn world() -> (World, tempfile::NamedTempFile, ScriptedServer) {
    let stack = crate::support::mailstack::shared();
    let ee = postfix_key_record(&stack.dir);
    let clear = no_starttls_mx();
    let zone = Zone::new("edge.test")
        .signed()
        .mx_at("alias", 10, "mx-alias.edge.test")
        .cname("mx-alias", "mx-real.edge.test")
        .a("mx-real", "127.0.0.1")
        .tlsa("_25._tcp.mx-real", 3, 1, 1, &ee)
        .a("implicit", "127.0.0.1")
        .tlsa("_25._tcp.implicit", 3, 1, 1, &ee)
        .mx_at("clear", 10, "mx-clear.edge.test")
        .a("mx-clear", "127.0.6.1")
        .tlsa("_25._tcp.mx-clear", 3, 1, 1, &ee);
    let anchor = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(anchor.path(), zone.trust_anchor()).unwrap();
    let w = World::with_ca(&stack.ca, &[zone], vec![])
        .smtp("127.0.0.1", stack.ports.smtp)
        .smtp("127.0.6.1", clear.port());
    (w, anchor, clear)
}

fn audit(w: &World, anchor: &tempfile::NamedTempFile, domain: &str) -> (serde_json::Value, i32) {
    w.audit(
        domain,
        &["--trust-anchor", &anchor.path().display().to_string()],
    )
}

#[test]
fn a_cname_mx_takes_the_tlsa_records_of_its_secure_target() {
    let (w, anchor, _clear) = world();
    let (v, _) = audit(&w, &anchor, "alias.edge.test");
    let h = &v["inbound"]["policies"]["dane"]["hosts"][0];
    assert_eq!(h["host"], "mx-alias.edge.test", "{h:#}");
    assert_eq!(h["tlsa_name"], "_25._tcp.mx-real.edge.test", "{h:#}");
    assert_eq!(h["tlsa_dnssec"], "secure", "{h:#}");
    assert_eq!(h["addresses"][0]["outcome"], "valid", "{h:#}");
    assert!(has(&v, "info", "dane-valid"), "{:#}", v["findings"]);
    assert!(has(&v, "warning", "mx-cname"), "{:#}", v["findings"]);
}

#[test]
fn an_implicit_mx_is_checked_at_the_domains_own_tlsa_name() {
    let (w, anchor, _clear) = world();
    let (v, code) = audit(&w, &anchor, "implicit.edge.test");
    assert_eq!(v["inbound"]["implicit_mx"], true, "{:#}", v["inbound"]);
    let d = &v["inbound"]["policies"]["dane"];
    assert_eq!(
        d["mx_dnssec"], "secure",
        "the denial of the MX is signed: {d:#}"
    );
    let h = &d["hosts"][0];
    assert_eq!(h["tlsa_name"], "_25._tcp.implicit.edge.test", "{h:#}");
    assert_eq!(h["addresses"][0]["outcome"], "valid", "{h:#}");
    assert!(has(&v, "info", "dane-valid"), "{:#}", v["findings"]);
    assert_ne!(code, 3);
}

#[test]
fn tlsa_records_on_an_mx_without_starttls_are_critical() {
    let (w, anchor, _clear) = world();
    let (v, code) = audit(&w, &anchor, "clear.edge.test");
    assert!(
        has(&v, "critical", "dane-starttls-missing"),
        "{:#}",
        v["findings"]
    );
    assert_eq!(code, 2);
    let a = &v["inbound"]["policies"]["dane"]["hosts"][0]["addresses"][0];
    assert_eq!(a["ip"], "127.0.6.1", "{a:#}");
    assert_eq!(a["outcome"], "no-tls", "{a:#}");
}
