//! Table tests of the trust anchor parser and the golden fixture
//! `tests/fixtures/trust-anchor/anchors.txt` (real key material: the root KSK-2017 and the
//! Ed25519 example of RFC 8080 §6.1).

use hickory_resolver::proto::dnssec::TrustAnchors;
use hickory_resolver::proto::dnssec::rdata::DNSKEY;
use hickory_resolver::proto::rr::Name;

use super::*;

const FIXTURE: &str = include_str!("../../tests/fixtures/trust-anchor/anchors.txt");

fn summary(set: &AnchorSet) -> Vec<(String, &'static str, usize, u16, u8)> {
    set.anchors
        .iter()
        .map(|a| (a.zone.clone(), a.kind, a.line, a.key_tag, a.algorithm))
        .collect()
}

#[test]
fn golden_fixture_parses_to_its_anchors() {
    let set = AnchorSet::parse(FIXTURE, "anchors.txt").unwrap();
    assert_eq!(
        summary(&set),
        vec![
            (".".to_string(), "DS", 3, 20326, 8),
            ("example.com.".to_string(), "DNSKEY", 8, 3613, 15),
            ("example.com.".to_string(), "DS", 10, 3613, 15),
        ]
    );
    assert_eq!(set.zones(), vec![".".to_string(), "example.com.".into()]);
}

#[test]
fn fixture_root_ds_covers_the_root_key_built_into_hickory() {
    let set = AnchorSet::parse(FIXTURE, "anchors.txt").unwrap();
    let AnchorKey::Ds(ds) = &set.anchors[0].key else {
        panic!("a DS")
    };
    let builtin = TrustAnchors::default();
    let ksk2017 = DNSKEY::with_flags(257, builtin.get(0).unwrap().clone());
    assert!(ds.covers(&Name::root(), &ksk2017).unwrap());
}

#[test]
fn fixture_ds_covers_its_dnskey() {
    let set = AnchorSet::parse(FIXTURE, "anchors.txt").unwrap();
    let (AnchorKey::Dnskey(key), AnchorKey::Ds(ds)) = (&set.anchors[1].key, &set.anchors[2].key)
    else {
        panic!("DNSKEY then DS")
    };
    let zone = Name::from_ascii("example.com.").unwrap();
    assert!(ds.covers(&zone, key).unwrap());
}

const ED_KEY: &str = "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=";
const DS_HEX: &str = "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b";

#[test]
fn accepted_spellings() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("example.test. IN DS 3613 15 2 {DS_HEX}"),
            "example.test.",
            "DS",
        ),
        (
            format!("Example.TEST. 60 in ds 3613 15 2 {DS_HEX}"),
            "example.test.",
            "DS",
        ),
        (
            format!("example.test. IN 60 DS 3613 15 2 {DS_HEX}"),
            "example.test.",
            "DS",
        ),
        (
            format!("example.test. DNSKEY 257 3 15 {ED_KEY}"),
            "example.test.",
            "DNSKEY",
        ),
        (
            format!("example.test. DNSKEY 256 3 15 {ED_KEY}"),
            "example.test.",
            "DNSKEY",
        ),
        (
            format!("$ORIGIN test.\nexample DS 3613 15 2 {DS_HEX}"),
            "example.test.",
            "DS",
        ),
        (format!("$ORIGIN .\n@ DS 3613 15 2 {DS_HEX}"), ".", "DS"),
        (
            format!("$ORIGIN .\ntest DS 3613 15 2 {DS_HEX}"),
            "test.",
            "DS",
        ),
        (
            format!(
                "\n; comment only\n\n. DS 3613 15 2 (\n {} ; half\n {} )\n",
                &DS_HEX[..32],
                &DS_HEX[32..]
            ),
            ".",
            "DS",
        ),
        (
            format!(
                "example.test. DNSKEY 257 3 15 ( {} \n {} )",
                &ED_KEY[..20],
                &ED_KEY[20..]
            ),
            "example.test.",
            "DNSKEY",
        ),
    ];
    for (text, zone, kind) in cases {
        let set = AnchorSet::parse(&text, "f").unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(set.anchors.len(), 1, "{text:?}");
        assert_eq!(
            (set.anchors[0].zone.as_str(), set.anchors[0].kind),
            (zone, kind),
            "{text:?}"
        );
    }
}

#[test]
fn rejected_with_line_and_reason() {
    let cases: Vec<(String, Option<usize>, &str)> = vec![
        (String::new(), None, "no DS or DNSKEY record"),
        ("; only a comment\n".into(), None, "no DS or DNSKEY record"),
        (
            "example.test. IN A 192.0.2.1".into(),
            Some(1),
            "a trust anchor is a DS or DNSKEY record",
        ),
        (
            format!("\n\nexample.test DS 3613 15 2 {DS_HEX}"),
            Some(3),
            "is relative",
        ),
        (format!("@ DS 3613 15 2 {DS_HEX}"), Some(1), "is relative"),
        (
            format!("example.test. CH DS 3613 15 2 {DS_HEX}"),
            Some(1),
            "class CH",
        ),
        ("example.test. DS 3613 15 2 zz".into(), Some(1), "DS record"),
        (
            "example.test. DS 3613 15 2 abcd".into(),
            Some(1),
            "the digest has 2 bytes",
        ),
        (
            format!("example.test. DS 3613 15 99 {DS_HEX}"),
            Some(1),
            "digest type",
        ),
        (
            format!("example.test. DS 3613 200 2 {DS_HEX}"),
            Some(1),
            "algorithm",
        ),
        (
            format!("example.test. DNSKEY 257 3 200 {ED_KEY}"),
            Some(1),
            "algorithm",
        ),
        (
            format!("example.test. DNSKEY 1 3 15 {ED_KEY}"),
            Some(1),
            "not a zone key",
        ),
        (
            format!("example.test. DNSKEY 385 3 15 {ED_KEY}"),
            Some(1),
            "revoked",
        ),
        (
            format!("example.test. DNSKEY 257 2 15 {ED_KEY}"),
            Some(1),
            "protocol",
        ),
        (
            "example.test. DNSKEY 257 3 15 !!!".into(),
            Some(1),
            "DNSKEY record",
        ),
        (
            "example.test. DNSKEY 257 3 15 AAAA".into(),
            Some(1),
            "public key",
        ),
        (
            format!("ok. DS 3613 15 2 {DS_HEX}\nexample.test. DS 3613 15 2 (\n{DS_HEX}\n"),
            Some(2),
            "never closed",
        ),
        (
            format!("example.test. DS 3613 15 2 {DS_HEX} )"),
            Some(1),
            "without a matching",
        ),
        ("$INCLUDE other.txt".into(), Some(1), "not supported"),
        ("$ORIGIN".into(), Some(1), "exactly one value"),
        ("$TTL forever".into(), Some(1), "$TTL"),
        ("example.test. TXT \"x\"".into(), Some(1), "quoted text"),
        ("example.test.".into(), Some(1), "no type"),
        (
            format!("  DS 3613 15 2 {DS_HEX}"),
            Some(1),
            "without an owner",
        ),
    ];
    for (text, line, needle) in cases {
        let e = AnchorSet::parse(&text, "anchors.txt").unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.to_string().contains(needle), "{text:?}: {e}");
        assert!(
            e.to_string().starts_with("--trust-anchor anchors.txt"),
            "{e}"
        );
    }
}

#[test]
fn load_caps_the_size_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, vec![b';'; MAX_ANCHOR_FILE as usize + 1]).unwrap();
    let e = AnchorSet::load(&big).unwrap_err();
    assert!(e.message.contains("limit"), "{e}");
    assert!(e.to_string().contains("big.txt"), "{e}");
    let missing = dir.path().join("missing.txt");
    assert!(
        AnchorSet::load(&missing)
            .unwrap_err()
            .to_string()
            .contains("missing.txt")
    );
    assert!(
        AnchorSet::load(dir.path())
            .unwrap_err()
            .message
            .contains("regular file")
    );
    let bin = dir.path().join("bin.txt");
    std::fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
    assert!(AnchorSet::load(&bin).unwrap_err().message.contains("UTF-8"));
    let ok = dir.path().join("ok.txt");
    std::fs::write(&ok, FIXTURE).unwrap();
    assert_eq!(AnchorSet::load(&ok).unwrap().anchors.len(), 3);
}
