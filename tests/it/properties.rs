//! Property tests of the parsers that read network bytes in discovery, login and the audit:
//! autoconfig and Autodiscover XML, the SASL (XOAUTH2 / OAUTHBEARER) error JSON, the TXT record
//! linters (DMARC, DKIM, TLS-RPT, SPF) and the MTA-STS policy. Over arbitrary input and over the
//! golden fixtures with bytes spliced in or cut off: no panic, and output bounded by the input (no
//! amplification, whatever entities or placeholders the document holds). The SRV and TXT answer
//! handling is property-tested next to the code, in `src/dns.rs`, `src/dns/records.rs` and
//! `src/discover/sources/srv.rs`.

use std::path::Path;

use mailprobe::address::{self, Address};
use mailprobe::audit::{dkim, dmarc, mta_sts, spf, tags, tlsrpt};
use mailprobe::auth::sasl::oauth_status;
use mailprobe::discover::{autoconfig, autodiscover};
use mailprobe::model::{Finding, Source};
use proptest::prelude::*;

/// Shorter than every placeholder (`%EMAILDOMAIN%` is 13 bytes), so a resolved placeholder never
/// makes the output longer than the input.
fn short_addr() -> Address {
    address::parse("a@b.test").expect("address")
}

fn fixtures(area: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(area);
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| std::fs::read(p).expect("fixture"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {}", dir.display());
    v
}

/// A fixture with `insert` spliced in at `at` (modulo its length), cut to `keep` bytes.
fn mangle(doc: &[u8], at: usize, insert: &[u8], keep: usize) -> Vec<u8> {
    let at = at % (doc.len() + 1);
    let mut v = doc[..at].to_vec();
    v.extend_from_slice(insert);
    v.extend_from_slice(&doc[at..]);
    v.truncate(keep.max(1));
    v
}

/// Arbitrary bytes, or a mangled fixture of `area`.
fn inputs(area: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let docs = fixtures(area);
    let n = docs.len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        (
            0..n,
            any::<usize>(),
            prop::collection::vec(any::<u8>(), 0..64),
            any::<usize>()
        )
            .prop_map(move |(i, at, ins, keep)| {
                let doc = &docs[i];
                mangle(doc, at, &ins, keep % (doc.len() + 65))
            }),
    ]
}

/// JSON of a parse result: the measure of how much came out.
fn size<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_string(v).map(|s| s.len()).unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn autoconfig_parser_is_total_and_bounded(bytes in inputs("autoconfig")) {
        let addr = short_addr();
        if let Ok(doc) = autoconfig::parse(&bytes, &addr) {
            let cands = autoconfig::candidates(&doc, Source::Autoconfig);
            let servers = bytes.windows(6).filter(|w| w == b"Server").count();
            prop_assert!(cands.len() <= 3 * servers, "{} candidates, {servers} sections", cands.len());
            // Field text comes from the input; fixed warning text at most ~100 bytes an element.
            let elements = bytes.iter().filter(|&&b| b == b'<').count();
            prop_assert!(size(&doc) <= 4 * bytes.len() + 100 * elements + 512);
            prop_assert!(size(&cands) <= 4 * bytes.len() + 512);
        }
    }

    #[test]
    fn autodiscover_parser_is_total_and_bounded(bytes in inputs("autodiscover")) {
        let addr = short_addr();
        if let Ok(r) = autodiscover::parse(&bytes, &addr) {
            let elements = bytes.iter().filter(|&&b| b == b'<').count();
            prop_assert!(size(&r) <= 4 * bytes.len() + 100 * elements + 512);
            if let autodiscover::AutodiscoverResponse::Settings { servers, .. } = &r {
                let protocols = bytes.windows(8).filter(|w| w == b"Protocol").count();
                prop_assert!(servers.len() <= protocols);
                let cands = autodiscover::candidates(servers, &addr);
                prop_assert!(cands.len() <= 2 * servers.len());
                prop_assert!(size(&cands) <= 4 * bytes.len() + 512);
            }
        }
    }

    #[test]
    fn sasl_error_json_decoder_is_total_and_bounded(
        text in prop_oneof![
            ".{0,256}",
            r#"\{"status":("[^"]{0,40}"|[0-9eE.+-]{1,20}|null|true|\[\]|\{\}),"schemes":"bearer"\}"#,
            prop::collection::vec(any::<u8>(), 0..256)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ]
    ) {
        if let Some(status) = oauth_status(&text) {
            // A number is printed back in its shortest form, which may be a little longer
            // (`1e5` → `100000.0`).
            prop_assert!(status.len() <= text.len() + 24, "{status:?} from {text:?}");
        }
    }
}

#[test]
fn deeply_nested_json_is_not_a_status() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(oauth_status(&deep), None);
    let deep = format!(
        "{{\"status\":{}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(oauth_status(&deep), None);
}

/// TXT record text: anything, or a version tag and real tag names with any values.
fn txt_records() -> impl Strategy<Value = String> {
    let tag = prop::sample::select(vec![
        "v", "p", "sp", "rua", "ruf", "pct", "adkim", "aspf", "fo", "k", "t", "h", "s", "n",
        "include", "redirect",
    ]);
    let version = prop::sample::select(vec!["DMARC1", "DKIM1", "TLSRPTv1", "STSv1", "spf1"]);
    prop_oneof![
        ".{0,512}",
        (version, prop::collection::vec((tag, "[^;]{0,40}"), 0..24)).prop_map(|(v, tags)| {
            let mut s = format!("v={v}");
            for (k, val) in tags {
                s.push_str(&format!("; {k}={val}"));
            }
            s
        }),
    ]
}

/// An MTA-STS policy body: anything, or `key: value` lines of real and random keys.
fn sts_bodies() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec!["version", "mode", "mx", "max_age", "x"]);
    prop_oneof![
        ".{0,512}",
        prop::collection::vec((key, "[^\r\n]{0,40}", prop::bool::ANY), 0..24).prop_map(|lines| {
            lines
                .into_iter()
                .map(|(k, v, crlf)| format!("{k}: {v}{}", if crlf { "\r\n" } else { "\n" }))
                .collect()
        }),
    ]
}

proptest! {
    /// The TXT record linters (DMARC, DKIM, TLS-RPT, SPF selection) and the MTA-STS policy
    /// parser: no panic; tags never longer than the record; a bounded number of findings, each
    /// quoting at most the record.
    #[test]
    fn txt_record_parsers_are_total_and_bounded(rec in txt_records(), body in sts_bodies()) {
        let n = rec.len();
        let t = tags::parse(&rec);
        prop_assert!(t.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() <= n);
        prop_assert!(t.len() <= rec.matches(';').count() + 1);
        let bounded = |f: &[Finding]| {
            f.len() <= t.len() + 16 && f.iter().all(|f| f.message.len() <= 2 * n + 512)
        };
        let (d, f) = dmarc::lint(&rec, "example.test", "example.test");
        prop_assert!(bounded(&f), "{f:?}");
        prop_assert!(size(&d) <= 4 * n + 1024);
        let (k, f) = dkim::lint("sel", "sel._domainkey.example.test", &rec, false);
        prop_assert!(bounded(&f), "{f:?}");
        prop_assert!(size(&k) <= 4 * n + 1024);
        let _ = dkim::rsa_bits(&rec);
        let (rua, problem) = tlsrpt::lint(&rec);
        prop_assert!(rua.iter().map(String::len).sum::<usize>() <= n);
        prop_assert!(problem.is_none_or(|p| p.len() <= n + 256));
        let spf = spf::spf_records(vec![rec.clone(), body.clone()]);
        prop_assert!(spf.len() <= 2);
        if let Ok(p) = mta_sts::parse_policy(&body) {
            prop_assert!(size(&p) <= 4 * body.len() + 256);
        }
    }
}
