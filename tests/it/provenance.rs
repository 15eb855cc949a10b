//! Provider-database entries no source confirmed (`verified = false`) in `discover` output:
//! marked "(unverified)" in the human report and `verified: false` in JSON, an info finding
//! naming the file, and their servers ranked below every server a fetched source names.
//! Hermetic: the entry is reached through an MX host in the test's own DNS.

use mailprobe::provider_db::{self, Provider};
use serde_json::Value;

use crate::discover::{World, candidates, finding_codes};
use crate::support::cmd::mailprobe;
use crate::support::dns::Zone;
use crate::support::http::{Reply, Routes};

/// An unverified entry with an MX pattern and an implicit-TLS IMAP server, and an MX host the
/// pattern matches.
fn unverified_with_mx() -> (&'static Provider, String) {
    let p = provider_db::providers()
        .iter()
        .find(|p| {
            p.verified.is_none() && !p.mx.is_empty() && p.servers.iter().any(|s| s.port == 993)
        })
        .expect("at least one unverified provider with an MX pattern");
    let mx = p.mx[0].replace('*', "x1");
    assert_eq!(
        provider_db::by_mx(&mx).map(|f| f.id.as_str()),
        Some(p.id.as_str())
    );
    (p, mx)
}

const AUTOCONFIG: &str = r#"<clientConfig version="1.1"><emailProvider id="hosted.test">
<incomingServer type="imap"><hostname>imap.hosted.test</hostname><port>143</port><socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.hosted.test</hostname><port>587</port><socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></outgoingServer>
</emailProvider></clientConfig>"#;

#[test]
fn unverified_entry_is_marked_and_ranks_below_autoconfig() {
    let (p, mx) = unverified_with_mx();
    let zone = Zone::new("hosted.test")
        .mx(10, &mx)
        .a("autoconfig", "127.0.0.1");
    let routes = Routes::new().route(
        "autoconfig.hosted.test",
        "/mail/config-v1.1.xml",
        Reply::xml(AUTOCONFIG),
    );
    let hosts = ["autoconfig.hosted.test"];
    let w = World::new(&[zone], &hosts, routes);
    let (v, _) = w.discover("jo@hosted.test", &hosts, &[]);

    let prov = &v["discovery"]["provider"];
    assert_eq!(prov["id"], p.id.as_str(), "{prov:#}");
    assert_eq!(prov["verified"], false);
    let f = unverified_finding(&v);
    assert_eq!(f["severity"], "info");
    let file = format!("provider-db/{}.toml", p.id);
    assert!(f["message"].as_str().unwrap().contains(&file), "{f:#}");

    // Autoconfig's STARTTLS server outranks the entry's implicit-TLS one.
    let imap: Vec<_> = candidates(&v)
        .into_iter()
        .filter(|c| c.0 == "imap")
        .collect();
    assert_eq!(imap[0].1, "imap.hosted.test", "{imap:?}");
    assert!(
        imap.iter().any(|c| c.2 == 993 && c.4 == ["mx-provider"]),
        "{imap:?}"
    );
}

#[test]
fn offline_still_answers_from_an_unverified_entry_and_says_so() {
    let p = provider_db::providers()
        .iter()
        .find(|p| p.verified.is_none() && p.domains.iter().any(|d| !d.starts_with('*')))
        .expect("an unverified provider with a domain");
    let domain = p.domains.iter().find(|d| !d.starts_with('*')).unwrap();
    let addr = format!("jo@{domain}");
    let w = World::new(&[Zone::new("unused.test")], &[], Routes::new());

    let (v, _) = w.discover(&addr, &[], &["--offline"]);
    assert_eq!(v["discovery"]["provider"]["verified"], false);
    assert!(
        !candidates(&v).is_empty(),
        "no other source: the entry still answers"
    );
    assert!(finding_codes(&v).contains(&"provider-entry-unverified".to_string()));

    let dns = w.dns.addr().to_string();
    let out = mailprobe()
        .args([
            "discover",
            &addr,
            "--offline",
            "--color",
            "never",
            "--dns",
            &dns,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let want = format!("Provider: {} (unverified) (matched by domain)", p.name);
    assert!(text.contains(&want), "{text}");

    // A verified entry says nothing of the kind.
    let (v, _) = w.discover("jo@gmail.com", &[], &["--offline"]);
    assert_eq!(v["discovery"]["provider"]["verified"], true);
    assert!(!finding_codes(&v).contains(&"provider-entry-unverified".to_string()));
    assert!(w.dns.queries().is_empty(), "no DNS query under --offline");
}

fn unverified_finding(v: &Value) -> &Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "provider-entry-unverified")
        .unwrap_or_else(|| panic!("no provider-entry-unverified: {:#}", v["findings"]))
}
