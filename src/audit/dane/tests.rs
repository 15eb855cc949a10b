//! Table tests of the TLSA matcher over rcgen chains (a test CA and a leaf for the MX name),
//! and property tests of the presentation parser.

use proptest::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, PublicKeyData,
    date_time_ymd,
};

use super::*;

struct Chain {
    leaf: Vec<u8>,
    ca: Vec<u8>,
    leaf_key_spki: Vec<u8>,
}

fn ca() -> (Issuer<'static, KeyPair>, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "DANE Test CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let der = p.self_signed(&key).unwrap().der().to_vec();
    (Issuer::new(p, key), der)
}

fn chain_for(name: &str, expired: bool) -> Chain {
    let (issuer, ca) = ca();
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    if expired {
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(2021, 1, 1);
    }
    let leaf = p.signed_by(&key, &issuer).unwrap().der().to_vec();
    Chain {
        leaf,
        ca,
        leaf_key_spki: key.subject_public_key_info(),
    }
}

fn rec(usage: u8, selector: u8, matching: u8, cert: &[u8]) -> TlsaRecord {
    record(
        usage,
        selector,
        matching,
        &association(cert, selector, matching).unwrap(),
    )
}

fn names() -> Vec<String> {
    vec!["mx.example.test".to_string()]
}

#[test]
fn selector_one_is_the_subject_public_key_info() {
    let c = chain_for("mx.example.test", false);
    assert_eq!(spki_der(&c.leaf).unwrap(), c.leaf_key_spki);
    assert_eq!(association(&c.leaf, 0, 0).unwrap(), c.leaf);
    assert_eq!(association(&c.leaf, 1, 1).unwrap().len(), 32);
    assert_eq!(association(&c.leaf, 0, 2).unwrap().len(), 64);
    assert!(association(&c.leaf, 2, 1).is_none());
    assert!(association(&c.leaf, 1, 3).is_none());
    assert!(association(b"not a certificate", 1, 1).is_none());
}

#[test]
fn dane_ee_and_dane_ta_records_against_a_chain() {
    let c = chain_for("mx.example.test", false);
    let other = chain_for("mx.example.test", false);
    let full = vec![c.leaf.clone(), c.ca.clone()];
    let leaf_only = vec![c.leaf.clone()];
    let none = vec![];
    let cases: Vec<(&str, TlsaRecord, &Vec<Vec<u8>>, DaneOutcome)> = vec![
        (
            "3 1 1 leaf key",
            rec(3, 1, 1, &c.leaf),
            &full,
            DaneOutcome::Valid,
        ),
        (
            "3 0 1 leaf cert",
            rec(3, 0, 1, &c.leaf),
            &full,
            DaneOutcome::Valid,
        ),
        (
            "3 1 2 leaf key",
            rec(3, 1, 2, &c.leaf),
            &full,
            DaneOutcome::Valid,
        ),
        (
            "3 0 0 leaf cert",
            rec(3, 0, 0, &c.leaf),
            &leaf_only,
            DaneOutcome::Valid,
        ),
        (
            "3 1 1 other key",
            rec(3, 1, 1, &other.leaf),
            &full,
            DaneOutcome::Mismatch,
        ),
        (
            "3 1 1 of the CA",
            rec(3, 1, 1, &c.ca),
            &full,
            DaneOutcome::Mismatch,
        ),
        (
            "2 0 1 CA cert",
            rec(2, 0, 1, &c.ca),
            &full,
            DaneOutcome::Valid,
        ),
        (
            "2 1 1 CA key",
            rec(2, 1, 1, &c.ca),
            &full,
            DaneOutcome::Valid,
        ),
        (
            "2 1 2 CA key",
            rec(2, 1, 2, &c.ca),
            &full,
            DaneOutcome::Valid,
        ),
        (
            "2 0 1 CA not sent",
            rec(2, 0, 1, &c.ca),
            &leaf_only,
            DaneOutcome::Mismatch,
        ),
        (
            "2 0 0 CA in DNS",
            rec(2, 0, 0, &c.ca),
            &leaf_only,
            DaneOutcome::Valid,
        ),
        (
            "2 0 1 other CA",
            rec(2, 0, 1, &other.ca),
            &full,
            DaneOutcome::Mismatch,
        ),
        (
            "2 1 1 leaf as TA",
            rec(2, 1, 1, &c.leaf),
            &full,
            DaneOutcome::Mismatch,
        ),
        (
            "1 1 1 PKIX-EE",
            rec(1, 1, 1, &c.leaf),
            &full,
            DaneOutcome::NotChecked,
        ),
        (
            "0 0 1 PKIX-TA",
            rec(0, 0, 1, &c.ca),
            &full,
            DaneOutcome::NotChecked,
        ),
        (
            "3 1 1 no chain",
            rec(3, 1, 1, &c.leaf),
            &none,
            DaneOutcome::Mismatch,
        ),
    ];
    for (what, r, chain, want) in cases {
        let v = check_chain(std::slice::from_ref(&r), chain, &names());
        assert_eq!(v.outcome, want, "{what}: {v:?}");
        if want == DaneOutcome::Valid {
            assert_eq!(
                v.matched.as_deref(),
                Some(r.presentation().as_str()),
                "{what}"
            );
        }
    }
}

#[test]
fn dane_ee_ignores_names_and_expiry_dane_ta_does_not() {
    let c = chain_for("elsewhere.example.test", true);
    let full = vec![c.leaf.clone(), c.ca.clone()];
    let ee = check_chain(&[rec(3, 1, 1, &c.leaf)], &full, &names());
    assert_eq!(ee.outcome, DaneOutcome::Valid);
    let ta = check_chain(&[rec(2, 0, 1, &c.ca)], &full, &names());
    assert_eq!(ta.outcome, DaneOutcome::Mismatch, "expired leaf: {ta:?}");
    let c = chain_for("elsewhere.example.test", false);
    let full = vec![c.leaf.clone(), c.ca.clone()];
    let ta = check_chain(&[rec(2, 0, 1, &c.ca)], &full, &names());
    assert_eq!(ta.outcome, DaneOutcome::NameMismatch, "{ta:?}");
    assert!(ta.detail.unwrap().contains("mx.example.test"));
    // The TLSA base domain of a followed CNAME is a reference identifier too.
    let both = vec!["mx.example.test".into(), "elsewhere.example.test".into()];
    let ta = check_chain(&[rec(2, 0, 1, &c.ca)], &full, &both);
    assert_eq!(ta.outcome, DaneOutcome::Valid);
    assert_eq!(ta.name.as_deref(), Some("elsewhere.example.test"));
}

#[test]
fn a_mismatch_names_what_the_server_presents() {
    let c = chain_for("mx.example.test", false);
    let other = chain_for("mx.example.test", false);
    let v = check_chain(
        &[rec(3, 1, 1, &other.leaf)],
        std::slice::from_ref(&c.leaf),
        &names(),
    );
    let want = hex(&association(&c.leaf, 1, 1).unwrap());
    assert!(v.detail.unwrap().contains(&format!("3 1 1 {want}")));
}

#[test]
fn one_matching_record_among_several_is_enough() {
    let c = chain_for("mx.example.test", false);
    let other = chain_for("mx.example.test", false);
    let records = [
        rec(1, 1, 1, &c.leaf),
        rec(3, 1, 1, &other.leaf),
        rec(3, 1, 1, &c.leaf),
    ];
    let v = check_chain(&records, &[c.leaf.clone(), c.ca.clone()], &names());
    assert_eq!(v.outcome, DaneOutcome::Valid);
    assert_eq!(v.matched, Some(records[2].presentation()));
}

#[test]
fn usability_table() {
    let d32 = "ab".repeat(32);
    let d64 = "ab".repeat(64);
    let cases = [
        (format!("3 1 1 {d32}"), true),
        (format!("2 0 2 {d64}"), true),
        (format!("3 1 0 {d32}"), true),
        (format!("3 1 1 {d64}"), false),
        (format!("3 1 2 {d32}"), false),
        (format!("0 0 1 {d32}"), false),
        (format!("1 1 1 {d32}"), false),
        (format!("4 1 1 {d32}"), false),
        (format!("3 2 1 {d32}"), false),
        (format!("3 1 3 {d32}"), false),
        (format!("3 1 255 {d32}"), false),
    ];
    for (text, usable) in cases {
        let r = parse_presentation(&text).unwrap();
        assert_eq!(r.usable, usable, "{text}");
        assert_eq!(unusable_reason(&r).is_none(), usable, "{text}");
    }
}

#[test]
fn presentation_parser_table() {
    let ok = parse_presentation("3 1 1 AB cd\tEF").unwrap();
    assert_eq!((ok.usage, ok.selector, ok.matching), (3, 1, 1));
    assert_eq!(ok.data, "abcdef");
    assert!(!ok.usable, "3 bytes is not a SHA-256 digest");
    for bad in [
        "",
        "3",
        "3 1",
        "3 1 1",
        "x 1 1 ab",
        "3 1 1 abc",
        "3 1 1 zz",
        "256 1 1 ab",
    ] {
        assert!(parse_presentation(bad).is_err(), "{bad:?}");
    }
    assert!(parse_presentation(&format!("3 0 0 {}", "a".repeat(MAX_DATA_HEX + 2))).is_err());
}

proptest! {
    #[test]
    fn presentation_parser_is_total(s in "\\PC{0,80}") {
        let _ = parse_presentation(&s);
    }

    #[test]
    fn records_round_trip_through_presentation(
        usage in 0u8..6, selector in 0u8..4, matching in 0u8..4,
        data in proptest::collection::vec(any::<u8>(), 1..80),
    ) {
        let r = record(usage, selector, matching, &data);
        let back = parse_presentation(&r.presentation()).unwrap();
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(unhex(&r.data), Some(data));
    }

    #[test]
    fn garbage_never_matches(cert in proptest::collection::vec(any::<u8>(), 0..200)) {
        let r = record(3, 1, 1, &[0u8; 32]);
        prop_assert!(!matches(&r, &cert));
        let v = check_chain(&[r], &[cert], &["mx.example.test".to_string()]);
        prop_assert_eq!(v.outcome, DaneOutcome::Mismatch);
    }
}
