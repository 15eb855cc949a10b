//! DNSSEC-validated lookups (the DNS half of DANE) against zones the harness signs at test
//! time, served on loopback; the trust anchor is the test zone's key, as `--trust-anchor` gives
//! it. Secure answers, secure denials (NXDOMAIN and NODATA, NSEC and NSEC3), an insecure
//! delegation, a bogus RRset, and anchors that do not fit.

mod cli;

use std::time::Duration;

use mailprobe::dns::{AnchorSet, Denial, QueryType, Tlsa, Validated, ValidatingResolver};
use mailprobe::model::DnssecStatus;

use crate::support::dns::{DnsServer, Zone};

/// A SHA-256 TLSA association (any 32 bytes do for the lookup).
pub const TLSA_HEX: &str = "8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d";

/// The test world: `example.test` signed (NSEC, or NSEC3 with `nsec3`), with MX + addresses + TLSA, one bogus TLSA RRset
/// (`_25._tcp.mx2`), and an unsigned child zone `plain.example.test` delegated without DS.
pub fn world(nsec3: bool) -> (DnsServer, Zone) {
    let plain = Zone::new("plain.example.test")
        .mx(10, "mx.plain.example.test")
        .a("mx", "127.0.0.1")
        .tlsa("_25._tcp.mx", 3, 1, 1, TLSA_HEX);
    let mut signed = Zone::new("example.test").signed();
    if nsec3 {
        signed = signed.nsec3();
    }
    let signed = signed
        .mx(10, "mx.example.test")
        .mx(20, "mx2.example.test")
        .a("mx", "127.0.0.1")
        .aaaa("mx", "::1")
        .a("mx2", "127.0.0.2")
        .tlsa("_25._tcp.mx", 3, 1, 1, TLSA_HEX)
        .tlsa("_25._tcp.mx2", 3, 1, 1, TLSA_HEX)
        .bogus("_25._tcp.mx2", "TLSA")
        .delegate(&plain);
    let dns = DnsServer::start_zones(&[signed.clone(), plain]);
    (dns, signed)
}

pub fn resolver(dns: &DnsServer, anchor: &str) -> ValidatingResolver {
    let anchors = AnchorSet::parse(anchor, "test anchors").unwrap();
    ValidatingResolver::new(&[dns.addr()], Duration::from_secs(5), anchors).unwrap()
}

fn assert_status(v: &Validated, status: DnssecStatus) {
    assert_eq!(v.status, status, "{v:#?}");
}

#[tokio::test]
async fn signed_mx_and_tlsa_are_secure() {
    let (dns, zone) = world(false);
    let r = resolver(&dns, &zone.trust_anchor());
    let mx = r.mx("example.test").await;
    assert_status(&mx, DnssecStatus::Secure);
    let hosts: Vec<String> = mx.mx().into_iter().map(|m| m.exchange).collect();
    assert_eq!(hosts, ["mx.example.test", "mx2.example.test"]);
    assert_eq!((mx.denial, mx.error.as_deref()), (None, None));

    let tlsa = r.tlsa("mx.example.test", 25).await;
    assert_status(&tlsa, DnssecStatus::Secure);
    let data: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&TLSA_HEX[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let want = Tlsa {
        usage: 3,
        selector: 1,
        matching: 1,
        data,
    };
    assert_eq!(tlsa.tlsa(), vec![want]);

    let v6 = r.lookup_validated("mx.example.test", QueryType::Aaaa).await;
    assert_status(&v6, DnssecStatus::Secure);
    assert_eq!(v6.ips(), vec!["::1".parse::<std::net::IpAddr>().unwrap()]);
}

#[tokio::test]
async fn denials_in_a_signed_zone_are_secure_and_tell_nxdomain_from_nodata() {
    for nsec3 in [false, true] {
        let (dns, zone) = world(nsec3);
        let r = resolver(&dns, &zone.trust_anchor());
        // NSEC: only names one label below their closest encloser (see `Signing::nsec3`).
        let deep = if nsec3 {
            "x.y.nope.example.test"
        } else {
            "nope.example.test"
        };
        for name in ["nope.example.test", deep] {
            let nx = r.lookup_validated(name, QueryType::A).await;
            assert_status(&nx, DnssecStatus::Secure);
            assert_eq!(nx.denial, Some(Denial::NxDomain), "nsec3 {nsec3}: {nx:#?}");
            assert!(nx.records.is_empty());
        }
        // A TLSA name under an existing host: `_587._tcp.mx` does not exist.
        let nx = r.tlsa("mx.example.test", 587).await;
        assert_status(&nx, DnssecStatus::Secure);
        assert_eq!(nx.denial, Some(Denial::NxDomain), "nsec3 {nsec3}: {nx:#?}");

        let nodata = r.lookup_validated("mx.example.test", QueryType::Txt).await;
        assert_status(&nodata, DnssecStatus::Secure);
        assert_eq!(nodata.denial, Some(Denial::NoData), "nsec3 {nsec3}");
        // An empty non-terminal exists: NODATA, not NXDOMAIN (RFC 8020).
        let ent = r
            .lookup_validated("_tcp.mx.example.test", QueryType::Tlsa)
            .await;
        assert_status(&ent, DnssecStatus::Secure);
        assert_eq!(ent.denial, Some(Denial::NoData), "nsec3 {nsec3}: {ent:#?}");
    }
}

#[tokio::test]
async fn a_broken_signature_is_bogus_with_its_records_and_reason() {
    let (dns, zone) = world(false);
    let r = resolver(&dns, &zone.trust_anchor());
    let v = r.tlsa("mx2.example.test", 25).await;
    assert_status(&v, DnssecStatus::Bogus);
    // Reported as bogus with what was served, never as "no records".
    assert_eq!(v.tlsa().len(), 1, "{v:#?}");
    assert_eq!(v.denial, None);
    let why = v.error.as_deref().unwrap();
    assert!(why.contains("does not match the records"), "{why}");
    assert!(why.contains("_25._tcp.mx2.example.test TLSA"), "{why}");
    // The rest of the zone stays secure.
    assert_status(&r.tlsa("mx.example.test", 25).await, DnssecStatus::Secure);
}

#[tokio::test]
async fn an_unsigned_child_without_ds_is_provably_insecure() {
    for nsec3 in [false, true] {
        let (dns, zone) = world(nsec3);
        insecure_child(&dns, &zone).await;
    }
}

async fn insecure_child(dns: &DnsServer, zone: &Zone) {
    let r = resolver(dns, &zone.trust_anchor());
    let mx = r.mx("plain.example.test").await;
    assert_status(&mx, DnssecStatus::Insecure);
    assert_eq!(mx.mx()[0].exchange, "mx.plain.example.test");
    let tlsa = r.tlsa("mx.plain.example.test", 25).await;
    assert_status(&tlsa, DnssecStatus::Insecure);
    assert_eq!(tlsa.tlsa().len(), 1);
    let nx = r.tlsa("nope.plain.example.test", 25).await;
    assert_status(&nx, DnssecStatus::Insecure);
    assert_eq!(nx.denial, Some(Denial::NxDomain));
}

#[tokio::test]
async fn a_dnskey_anchor_works_as_the_ds() {
    let (dns, zone) = world(false);
    let r = resolver(&dns, &zone.trust_anchor_dnskey());
    assert_status(&r.mx("example.test").await, DnssecStatus::Secure);
    assert_status(&r.tlsa("mx2.example.test", 25).await, DnssecStatus::Bogus);
}

#[tokio::test]
async fn an_anchor_of_another_key_makes_the_zone_bogus_and_says_so() {
    let (dns, _zone) = world(false);
    let stranger = crate::support::dnssec::ZoneKey::generate().ds_anchor("example.test");
    let r = resolver(&dns, &stranger);
    let v = r.mx("example.test").await;
    assert_status(&v, DnssecStatus::Bogus);
    let why = v.error.as_deref().unwrap();
    assert!(
        why.contains("no DNSKEY the zone serves matches the anchor"),
        "{why}"
    );
}

#[tokio::test]
async fn without_an_anchor_for_the_test_zone_nothing_is_secure() {
    // Only the root KSK: the loopback server serves no root, so no chain can be built.
    let (dns, _zone) = world(false);
    let r = ValidatingResolver::new(&[dns.addr()], Duration::from_secs(3), AnchorSet::default())
        .unwrap();
    let v = r.mx("example.test").await;
    assert_ne!(v.status, DnssecStatus::Secure, "{v:#?}");
    assert!(v.error.is_some(), "{v:#?}");
}

#[tokio::test]
async fn a_silent_server_is_indeterminate_within_the_timeout() {
    let hole = crate::support::dns::BlackholeDns::start();
    let anchors = AnchorSet::parse(
        &crate::support::dnssec::ZoneKey::generate().ds_anchor("example.test"),
        "t",
    )
    .unwrap();
    let r = ValidatingResolver::new(&[hole.addr()], Duration::from_secs(1), anchors).unwrap();
    let t = std::time::Instant::now();
    let v = r.mx("example.test").await;
    assert_status(&v, DnssecStatus::Indeterminate);
    assert!(v.error.as_deref().unwrap().contains("timeout"), "{v:#?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[tokio::test]
async fn a_signed_child_validates_through_the_ds_in_its_parent() {
    // The anchor is the parent's; the child's key is trusted through the DS at the cut.
    let child = Zone::new("sub.example.test")
        .signed()
        .mx(10, "mx.sub.example.test")
        .a("mx", "127.0.0.1")
        .tlsa("_25._tcp.mx", 3, 1, 1, TLSA_HEX);
    let parent = Zone::new("example.test").signed().delegate(&child);
    let dns = DnsServer::start_zones(&[parent.clone(), child]);
    let r = resolver(&dns, &parent.trust_anchor());
    assert_status(&r.mx("sub.example.test").await, DnssecStatus::Secure);
    assert_status(
        &r.tlsa("mx.sub.example.test", 25).await,
        DnssecStatus::Secure,
    );
    assert!(
        dns.queries()
            .iter()
            .any(|(n, t)| n == "sub.example.test" && t == "DS"),
        "{:?}",
        dns.queries()
    );
}
