//! Integration tests: parsers. Golden files for the autoconfig and Autodiscover fixtures in
//! `tests/fixtures/{autoconfig,autodiscover}/` (`UPDATE_GOLDEN=1` rewrites the
//! `*.expected.json` files), and a parse of the whole ISPDB corpus when `MAILPROBE_ISPDB_DIR`
//! names it (`.ci/run` sets `../shared/ispdb`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mailprobe::address::{self, Address};
use mailprobe::discover::{autoconfig, autodiscover};
use mailprobe::model::{Protocol, Source};
use serde_json::{Value, json};

fn fixtures(area: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(area)
}

fn addr(s: &str) -> Address {
    address::parse(s).expect("test address")
}

/// Compare `actual` with `<name>.expected.json`, or rewrite it when `UPDATE_GOLDEN=1`.
fn golden(area: &str, name: &str, actual: Value) {
    let path = fixtures(area).join(format!("{name}.expected.json"));
    let pretty = serde_json::to_string_pretty(&actual).expect("json") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &pretty).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    let expected: Value = serde_json::from_str(&expected).expect("golden file is JSON");
    assert!(
        expected == actual,
        "{} differs from the parser's output (UPDATE_GOLDEN=1 rewrites it):\n{pretty}",
        path.display()
    );
}

fn autoconfig_golden(
    name: &str,
    address: &str,
) -> Result<autoconfig::AutoconfigDoc, autoconfig::AutoconfigError> {
    let a = addr(address);
    let xml = std::fs::read(fixtures("autoconfig").join(format!("{name}.xml"))).expect("fixture");
    let result = autoconfig::parse(&xml, &a);
    let value = match &result {
        Ok(doc) => json!({
            "address": address,
            "doc": doc,
            "candidates": autoconfig::candidates(doc, Source::Autoconfig),
        }),
        Err(e) => json!({ "address": address, "error": e.to_string() }),
    };
    golden("autoconfig", name, value);
    result
}

#[test]
fn autoconfig_big_provider() {
    let doc = autoconfig_golden("bigmail", "alice@bigmail.example").unwrap();
    assert_eq!(doc.servers.len(), 5);
    assert_eq!(doc.ignored.len(), 2, "ews + carddav");
    assert!(doc.oauth2.is_some() && doc.enable.is_some());
    let c = autoconfig::candidates(&doc, Source::Autoconfig);
    assert_eq!(c[0].protocol, Protocol::Imap);
    assert_eq!(c[0].port, 993);
}

#[test]
fn autoconfig_hoster_placeholders() {
    let doc = autoconfig_golden("hoster", "bob@customer-shop.example").unwrap();
    let hosts: Vec<_> = doc.servers.iter().map(|s| s.host.as_str()).collect();
    assert_eq!(
        hosts,
        [
            "imap.customer-shop.example",
            "pop3.customer-shop.example",
            "smtp.customer-shop.example",
            "relay.hosting-co.example"
        ]
    );
    assert_eq!(
        doc.servers[0].username.as_deref(),
        Some("bob@customer-shop.example")
    );
}

#[test]
fn autoconfig_broken_section_drops_only_that_section() {
    let doc = autoconfig_golden("broken-section", "carol@smallisp.example").unwrap();
    assert_eq!(doc.servers.len(), 2);
    assert!(doc.is_complete());
    let dropped: Vec<_> = doc
        .warnings
        .iter()
        .filter(|w| w.contains(" dropped: "))
        .collect();
    assert_eq!(dropped.len(), 3, "{dropped:?}");
    assert!(
        dropped[0].starts_with("incomingServer #1 dropped: port 'nine-nine-three' is not a number")
    );
}

#[test]
fn autoconfig_entity_bomb_finishes_fast_without_expanding() {
    let start = Instant::now();
    let doc = autoconfig_golden("entity-bomb", "dave@laughs.example").unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(doc.display_name, None);
    assert_eq!(doc.servers.len(), 2, "{:?}", doc.warnings);
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.contains("unknown entity '&lol9;'"))
    );
}

#[test]
fn autoconfig_rejected_files() {
    assert_eq!(
        autoconfig_golden("not-autoconfig", "erin@example.com"),
        Err(autoconfig::AutoconfigError::NotAutoconfig)
    );
    assert!(matches!(
        autoconfig_golden("truncated", "erin@cutoff.example"),
        Err(autoconfig::AutoconfigError::NotXml(_))
    ));
}

fn autodiscover_golden(name: &str) -> autodiscover::AutodiscoverResponse {
    let a = addr("alice@hosted.example");
    let xml = std::fs::read(fixtures("autodiscover").join(format!("{name}.xml"))).expect("fixture");
    let resp = autodiscover::parse(&xml, &a).expect("fixture parses");
    let candidates = match &resp {
        autodiscover::AutodiscoverResponse::Settings { servers, .. } => {
            autodiscover::candidates(servers, &a)
        }
        _ => Vec::new(),
    };
    golden(
        "autodiscover",
        name,
        json!({ "address": a.ascii(), "response": resp, "candidates": candidates }),
    );
    resp
}

#[test]
fn autodiscover_fixtures() {
    use autodiscover::AutodiscoverResponse as R;
    let R::Settings {
        servers, ignored, ..
    } = autodiscover_golden("settings")
    else {
        panic!("settings")
    };
    assert_eq!(servers.len(), 4);
    assert!(ignored.is_empty());
    assert!(
        matches!(autodiscover_golden("redirect-addr"), R::RedirectAddr(a) if a.ends_with("@tenant.mailcloud.example"))
    );
    assert!(
        matches!(autodiscover_golden("redirect-url"), R::RedirectUrl(u) if u.starts_with("https://"))
    );
    assert!(matches!(autodiscover_golden("error"), R::Error { code: Some(c), .. } if c == "500"));
    let R::Settings {
        servers, ignored, ..
    } = autodiscover_golden("exchange-only")
    else {
        panic!("exchange-only")
    };
    assert!(servers.is_empty());
    assert_eq!(ignored, ["EXCH", "EXPR", "WEB", "mapiHttp"]);
}

#[test]
fn autodiscover_request_round_trips_through_escaping() {
    let body = autodiscover::request_body("o'neil&co@example.com");
    assert!(
        body.contains("<EMailAddress>o&apos;neil&amp;co@example.com</EMailAddress>"),
        "{body}"
    );
    assert!(!body.to_ascii_lowercase().contains("password"));
}

#[test]
fn ispdb_corpus_parses() {
    let Some(dir) = crate::support::corpus::ispdb_dir("ispdb_corpus_parses") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read ispdb dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let (mut servers, mut candidates, mut warnings, mut ignored) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let xml = std::fs::read(path).expect("read ispdb file");
        // First pass to learn the file's first domain, then parse for alice@<that domain>.
        let probe = autoconfig::parse(&xml, &addr("alice@ispdb.example"));
        let domain = match &probe {
            Ok(d) => d
                .domains
                .first()
                .cloned()
                .unwrap_or_else(|| name.trim_end_matches(".xml").to_string()),
            Err(e) => {
                failures.push(format!("{name}: rejected: {e}"));
                continue;
            }
        };
        let doc = match autoconfig::parse(&xml, &addr(&format!("alice@{domain}"))) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{name}: rejected: {e}"));
                continue;
            }
        };
        let c = autoconfig::candidates(&doc, Source::Ispdb);
        let incoming = c.iter().filter(|c| c.protocol.is_incoming()).count();
        if incoming == 0 || incoming == c.len() {
            failures.push(format!(
                "{name}: {incoming} incoming of {} candidates; {:?}",
                c.len(),
                doc.warnings
            ));
        }
        servers += doc.servers.len();
        candidates += c.len();
        warnings += doc.warnings.len();
        ignored += doc.ignored.len();
    }
    println!(
        "ispdb: {} files, {servers} servers, {candidates} candidates, {ignored} ignored sections, {warnings} warnings",
        files.len()
    );
    assert!(!files.is_empty(), "ispdb folder is empty");
    assert!(
        failures.is_empty(),
        "{} files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every prefix and a sweep of single-byte corruptions of every fixture: each parse returns
/// (Ok or Err) without panicking.
#[test]
fn mangled_fixtures_never_panic() {
    let a = addr("alice@example.com");
    for area in ["autoconfig", "autodiscover"] {
        let mut paths: Vec<_> = std::fs::read_dir(fixtures(area))
            .expect("fixtures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        paths.sort();
        for path in paths {
            let xml = std::fs::read(&path).expect("fixture");
            let mut inputs: Vec<Vec<u8>> = (0..xml.len())
                .step_by(3)
                .map(|n| xml[..n].to_vec())
                .collect();
            for (i, bad) in (0..xml.len())
                .step_by(7)
                .zip([b'<', b'&', b'>', 0xff, b'"', 0].iter().cycle())
            {
                let mut m = xml.clone();
                m[i] = *bad;
                inputs.push(m);
            }
            for input in inputs {
                let _ = autoconfig::parse(&input, &a)
                    .map(|d| autoconfig::candidates(&d, Source::Autoconfig));
                let _ = autodiscover::parse(&input, &a);
            }
        }
    }
}
