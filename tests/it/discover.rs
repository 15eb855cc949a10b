//! `mailprobe discover` end to end, hermetic: an in-process authoritative DNS server and an
//! HTTP+HTTPS server on loopback (test CA) serve one scenario per source, plus conflicting
//! sources, a hanging source and the bad inputs. The binary is pointed at them with `--dns`,
//! `--connect-to`, `--ca-file` and `--ispdb-url`; no other address is ever contacted.

mod redirects;

use serde_json::Value;

use crate::support::certs::TestCa;
use crate::support::cmd::mailprobe;
use crate::support::dns::{DnsServer, Zone};
use crate::support::fence::Fence;
use crate::support::http::{HttpServer, Reply, Routes};

const AUTOCONFIG: &str = r#"<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>imap.example.test</hostname><port>143</port><socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname><port>465</port><socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#;

fn hoster_autoconfig(host: &str) -> String {
    format!(
        r#"<clientConfig version="1.1"><emailProvider id="hoster.test">
        <incomingServer type="imap"><hostname>{host}</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></incomingServer>
        <outgoingServer type="smtp"><hostname>{host}</hostname><port>587</port><socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></outgoingServer>
        </emailProvider></clientConfig>"#
    )
}

const AUTODISCOVER_SETTINGS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
 <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
  <Account><AccountType>email</AccountType><Action>settings</Action>
   <Protocol><Type>IMAP</Type><Server>outlook.ex.test</Server><Port>993</Port><SSL>on</SSL><LoginName>bob@ex.test</LoginName></Protocol>
   <Protocol><Type>SMTP</Type><Server>smtp.ex.test</Server><Port>587</Port><Encryption>TLS</Encryption></Protocol>
  </Account>
 </Response>
</Autodiscover>"#;

fn redirect_addr(to: &str) -> String {
    format!(
        r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectAddr</Action><RedirectAddr>{to}</RedirectAddr></Account></Response></Autodiscover>"#
    )
}

/// A test world: DNS for the given zones, an HTTP(S) server with routes, the CA.
pub(crate) struct World {
    pub(crate) dns: DnsServer,
    pub(crate) http: HttpServer,
    ca_file: tempfile::NamedTempFile,
    fence: Fence,
    /// Every name the zones give an address: fenced after the scenario's own mappings.
    names: Vec<String>,
}

impl World {
    pub(crate) fn new(zones: &[Zone], hosts: &[&str], routes: Routes) -> World {
        let ca = TestCa::new();
        let http = HttpServer::start(&ca, hosts, routes);
        let ca_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca_file.path(), ca.pem()).unwrap();
        let mut names: Vec<String> = zones.iter().flat_map(Zone::hosts).collect();
        names.sort();
        names.dedup();
        World {
            dns: DnsServer::start_zones(zones),
            http,
            ca_file,
            fence: Fence::new(),
            names,
        }
    }

    /// The common hermetic arguments plus `--connect-to` for every web host of the scenario,
    /// then the fence for every other name and port.
    pub(crate) fn args(&self, hosts: &[&str]) -> Vec<String> {
        let mut a = self.open_args(hosts);
        a.extend(self.fence_args());
        a
    }

    /// The fence: every scheme port of every name in the zones, refused (first match wins, so
    /// this comes after every mapping the scenario makes).
    pub(crate) fn fence_args(&self) -> Vec<String> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        self.fence.args(&names)
    }

    /// The hermetic arguments and the scenario's web hosts, without the fence.
    pub(crate) fn open_args(&self, hosts: &[&str]) -> Vec<String> {
        let mut a = vec![
            "--dns".to_string(),
            self.dns.addr().to_string(),
            "--ca-file".to_string(),
            self.ca_file.path().display().to_string(),
            "--ispdb-url".to_string(),
            format!("http://127.0.0.1:{}/ispdb/", self.http.http_addr().port()),
            "--timeout".to_string(),
            "2".to_string(),
            "--json".to_string(),
        ];
        for h in hosts {
            a.extend(self.http.connect_to_args(h));
        }
        a
    }

    pub(crate) fn discover(&self, address: &str, hosts: &[&str], extra: &[&str]) -> (Value, i32) {
        let out = mailprobe()
            .arg("discover")
            .arg(address)
            .args(self.args(hosts))
            .args(extra)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (v, out.status.code().unwrap_or(-1))
    }
}

pub(crate) fn candidates(v: &Value) -> Vec<(String, String, u64, String, Vec<String>)> {
    v["discovery"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["protocol"].as_str().unwrap().to_string(),
                c["host"].as_str().unwrap().to_string(),
                c["port"].as_u64().unwrap(),
                c["security"].as_str().unwrap().to_string(),
                c["sources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn has(v: &Value, host: &str, port: u64, source: &str) -> bool {
    candidates(v)
        .iter()
        .any(|c| c.1 == host && c.2 == port && c.4.iter().any(|s| s == source))
}

fn attempt<'a>(v: &'a Value, source: &str, target_contains: &str) -> &'a Value {
    v["discovery"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"] == source && a["target"].as_str().unwrap().contains(target_contains))
        .unwrap_or_else(|| {
            panic!(
                "no {source} attempt for {target_contains}: {:#}",
                v["discovery"]["attempts"]
            )
        })
}

pub(crate) fn finding_codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn zone() -> Zone {
    Zone::new("example.test")
        .a("autoconfig", "127.0.0.1")
        .a("@", "127.0.0.1")
        .a("autodiscover", "127.0.0.1")
}

#[test]
fn autoconfig_https_wellknown_and_http_are_sources_with_their_trust() {
    let routes = Routes::new()
        .route(
            "autoconfig.example.test",
            "/mail/config-v1.1.xml",
            Reply::xml(AUTOCONFIG),
        )
        .route(
            "example.test",
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            Reply::xml(AUTOCONFIG),
        );
    let hosts = ["autoconfig.example.test", "example.test"];
    let w = World::new(&[zone()], &hosts, routes);
    let (v, _) = w.discover("alice@example.test", &hosts, &[]);
    let imap = candidates(&v)
        .into_iter()
        .find(|c| c.1 == "imap.example.test")
        .expect("imap candidate");
    assert_eq!((imap.2, imap.3.as_str()), (143, "starttls"));
    assert_eq!(
        imap.4,
        ["autoconfig", "autoconfig-wellknown", "autoconfig-http"]
    );
    let smtp = &v["discovery"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["host"] == "smtp.example.test")
        .unwrap();
    assert_eq!(smtp["username"], "alice", "%EMAILLOCALPART% resolved");
    assert_eq!(
        attempt(&v, "autoconfig", "autoconfig.example.test")["outcome"],
        "found"
    );
    // The address went in the query string (autoconfig draft §4.1); no credentials anywhere.
    let reqs = w.http.requests();
    let ac = reqs
        .iter()
        .find(|r| r.host == "autoconfig.example.test" && r.tls)
        .expect("https request");
    assert_eq!(
        ac.query.as_deref(),
        Some("emailaddress=alice%40example.test")
    );
    assert!(reqs.iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn plain_http_only_is_flagged_untrusted() {
    let routes = Routes::new().route(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        Reply::xml(AUTOCONFIG),
    );
    let hosts = ["autoconfig.example.test"];
    let w = World::new(&[zone()], &hosts, routes);
    // HTTPS answers with a certificate for other names: only the http fetch succeeds.
    let out = mailprobe()
        .arg("discover")
        .arg("alice@example.test")
        .args(w.open_args(&[]))
        .args([
            "--connect-to",
            &format!(
                "autoconfig.example.test:80:127.0.0.1:{}",
                w.http.http_addr().port()
            ),
        ])
        .args(w.fence_args())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(has(&v, "imap.example.test", 143, "autoconfig-http"));
    assert!(
        finding_codes(&v).contains(&"untrusted-source-only".to_string()),
        "{:?}",
        finding_codes(&v)
    );
}

#[test]
fn ispdb_is_asked_at_the_configured_url() {
    let routes = Routes::new().route("*", "/ispdb/example.test", Reply::xml(AUTOCONFIG));
    let w = World::new(&[zone()], &[], routes);
    let (v, _) = w.discover("alice@example.test", &[], &[]);
    assert!(
        has(&v, "smtp.example.test", 465, "ispdb"),
        "{:#}",
        v["discovery"]
    );
}

#[test]
fn srv_records_with_not_offered_and_outside_targets() {
    let z = zone()
        .srv("_imaps._tcp", 0, 1, 993, "imap.example.test")
        .srv("_imap._tcp", 0, 0, 0, ".")
        .srv("_submissions._tcp", 0, 1, 465, "smtp.provider.test")
        .srv("_submission._tcp", 10, 1, 587, "smtp.example.test");
    let w = World::new(&[z], &[], Routes::new());
    let (v, code) = w.discover("alice@example.test", &[], &[]);
    assert!(has(&v, "imap.example.test", 993, "srv"));
    assert!(has(&v, "smtp.provider.test", 465, "srv"));
    assert!(has(&v, "smtp.example.test", 587, "srv"));
    let not_offered = attempt(&v, "srv", "_imap._tcp");
    assert_eq!(not_offered["outcome"], "not_found");
    assert!(
        not_offered["reason"]
            .as_str()
            .unwrap()
            .contains("not offered")
    );
    let codes = finding_codes(&v);
    assert!(
        codes.contains(&"srv-not-offered".into())
            && codes.contains(&"srv-target-outside-domain".into()),
        "{codes:?}"
    );
    assert_eq!(
        code, 0,
        "both incoming and outgoing found: {:#}",
        v["findings"]
    );
}

#[test]
fn conflicting_sources_are_reported() {
    let z = zone().srv("_imaps._tcp", 0, 1, 993, "mail.example.test");
    let routes = Routes::new().route(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        Reply::xml(AUTOCONFIG),
    );
    let hosts = ["autoconfig.example.test"];
    let w = World::new(&[z], &hosts, routes);
    let (v, code) = w.discover("alice@example.test", &hosts, &[]);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "sources-disagree")
        .expect("disagreement");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("imap.example.test:143") && msg.contains("mail.example.test:993"),
        "{msg}"
    );
    assert_eq!(code, 1, "a warning");
    // Ranked: implicit TLS first (RFC 8314) even though autoconfig is the more trusted source.
    assert_eq!(candidates(&v)[0].1, "mail.example.test");
}

#[test]
fn mx_reveals_a_hosted_domain_via_provider_db_and_autoconfig() {
    let custom = Zone::new("custom.test")
        .mx(10, "aspmx.l.google.com")
        .mx(20, "alt1.aspmx.l.google.com");
    let hosted = Zone::new("brand.test").mx(5, "mx1.mailhost.test");
    let mailhost = Zone::new("mailhost.test").a("autoconfig", "127.0.0.1");
    let routes = Routes::new().route(
        "autoconfig.mailhost.test",
        "/mail/config-v1.1.xml",
        Reply::xml(hoster_autoconfig("mail.mailhost.test")),
    );
    let hosts = ["autoconfig.mailhost.test"];
    let w = World::new(&[custom, hosted, mailhost], &hosts, routes);

    let (v, _) = w.discover("ceo@custom.test", &hosts, &[]);
    assert!(
        has(&v, "imap.gmail.com", 993, "mx-provider"),
        "{:#}",
        v["discovery"]
    );
    assert_eq!(
        v["discovery"]["provider"]["matched_by"],
        "mx aspmx.l.google.com"
    );

    let (v, _) = w.discover("ceo@brand.test", &hosts, &[]);
    assert!(
        has(&v, "mail.mailhost.test", 993, "mx-provider"),
        "{:#}",
        v["discovery"]
    );
    // Never above the registrable domain: nothing asked about "test".
    assert!(
        w.dns
            .queries()
            .iter()
            .all(|q| q.0.trim_end_matches('.') != "test")
    );
}

#[test]
fn autodiscover_redirect_addr_then_settings_without_credentials() {
    let z = zone();
    let ex = Zone::new("ex.test").a("autodiscover", "127.0.0.1");
    let routes = Routes::new()
        .route(
            "autodiscover.example.test",
            "/autodiscover/autodiscover.xml",
            Reply::xml(redirect_addr("bob@ex.test")),
        )
        .route(
            "autodiscover.ex.test",
            "/autodiscover/autodiscover.xml",
            Reply::xml(AUTODISCOVER_SETTINGS),
        );
    let hosts = ["autodiscover.example.test", "autodiscover.ex.test"];
    let w = World::new(&[z, ex], &hosts, routes);
    let (v, _) = w.discover("alice@example.test", &hosts, &[]);
    assert!(
        has(&v, "outlook.ex.test", 993, "autodiscover"),
        "{:#}",
        v["discovery"]
    );
    assert!(has(&v, "smtp.ex.test", 587, "autodiscover"));
    assert!(finding_codes(&v).contains(&"autodiscover-leaves-domain".into()));
    let posts: Vec<_> = w
        .http
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert!(posts.iter().any(|r| {
        String::from_utf8_lossy(&r.body).contains("<EMailAddress>bob@ex.test</EMailAddress>")
    }));
    assert!(
        posts.iter().all(|r| r.header("authorization").is_none()),
        "never sends credentials"
    );
}

#[test]
fn guesses_only_hosts_that_resolve() {
    let z = Zone::new("guess.test").a("mail", "127.0.0.1");
    let w = World::new(&[z], &[], Routes::new());
    let (v, _) = w.discover("alice@guess.test", &[], &[]);
    assert!(has(&v, "mail.guess.test", 993, "guess"));
    assert!(has(&v, "mail.guess.test", 587, "guess"));
    assert!(!candidates(&v).iter().any(|c| c.1 == "imap.guess.test"));
    assert_eq!(
        attempt(&v, "guess", "imap.guess.test")["outcome"],
        "not_found"
    );
}

#[test]
fn a_hanging_source_costs_its_timeout_and_others_still_answer() {
    let z = zone()
        .srv("_imaps._tcp", 0, 1, 993, "imap.example.test")
        .srv("_submissions._tcp", 0, 1, 465, "smtp.example.test");
    let routes = Routes::new().route(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        Reply::Hang,
    );
    let hosts = ["autoconfig.example.test"];
    let w = World::new(&[z], &hosts, routes);
    let (v, _) = w.discover("alice@example.test", &hosts, &["--timeout", "1"]);
    let a = attempt(&v, "autoconfig", "https://autoconfig.example.test");
    assert_eq!(a["outcome"], "error");
    assert!(a["reason"].as_str().unwrap().contains("timed out"), "{a}");
    assert!(has(&v, "imap.example.test", 993, "srv"));
}

#[test]
fn bad_responses_end_cleanly() {
    let huge = 50 * 1024 * 1024;
    let routes = Routes::new()
        .route(
            "autoconfig.example.test",
            "/mail/config-v1.1.xml",
            Reply::Huge(huge),
        )
        .route(
            "example.test",
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            Reply::Redirect(302, "/loop".into()),
        )
        .route(
            "example.test",
            "/loop",
            Reply::Redirect(302, "/.well-known/autoconfig/mail/config-v1.1.xml".into()),
        )
        .route(
            "*",
            "/ispdb/example.test",
            Reply::xml(include_str!("../fixtures/autoconfig/entity-bomb.xml")),
        );
    let hosts = ["autoconfig.example.test", "example.test"];
    let w = World::new(&[zone()], &hosts, routes);
    let (v, _) = w.discover("alice@example.test", &hosts, &[]);
    let big = attempt(&v, "autoconfig", "https://autoconfig.example.test");
    assert!(
        big["reason"].as_str().unwrap().contains("larger than"),
        "{big}"
    );
    let lp = attempt(&v, "autoconfig-wellknown", "example.test");
    assert!(
        lp["reason"].as_str().unwrap().contains("redirect loop"),
        "{lp}"
    );
    let _ = attempt(&v, "ispdb", "/ispdb/example.test");
}

#[test]
fn unresolvable_domain_is_critical_not_an_error() {
    // The test DNS refuses names outside its zones: a resolver failure, said as such.
    let w = World::new(&[zone()], &[], Routes::new());
    let (v, code) = w.discover("alice@nowhere.test", &[], &[]);
    assert_eq!(code, 2);
    assert_eq!(v["status"], "critical");
    assert_eq!(finding_codes(&v)[0], "dns-failure", "{:#}", v["findings"]);
}

#[test]
fn offline_uses_only_the_database_and_sends_nothing() {
    let w = World::new(&[zone()], &[], Routes::new());
    let (v, _) = w.discover("alice@googlemail.com", &[], &["--offline"]);
    assert!(has(&v, "imap.gmail.com", 993, "provider-db"));
    assert!(w.dns.queries().is_empty(), "no DNS query under --offline");
    assert!(w.http.requests().is_empty());
    let codes = finding_codes(&v);
    assert!(
        codes
            .iter()
            .any(|c| c.contains("app-password") || c.contains("oauth2")),
        "{codes:?}"
    );
}

#[test]
fn idn_domain_is_looked_up_in_punycode() {
    let z =
        Zone::new("xn--bcher-kva.test").srv("_imaps._tcp", 0, 1, 993, "imap.xn--bcher-kva.test");
    let w = World::new(&[z], &[], Routes::new());
    let (v, _) = w.discover("jörg@bücher.test", &[], &[]);
    assert_eq!(v["domain"], "xn--bcher-kva.test");
    assert!(
        has(&v, "imap.xn--bcher-kva.test", 993, "srv"),
        "{:#}",
        v["discovery"]["attempts"]
    );
}

#[test]
fn human_output_snapshot_of_a_real_run() {
    let z = zone()
        .srv("_imaps._tcp", 0, 1, 993, "imap.example.test")
        .srv("_submissions._tcp", 0, 1, 465, "smtp.example.test");
    let w = World::new(&[z], &[], Routes::new());
    let mut args = w.args(&[]);
    args.retain(|a| a != "--json");
    let out = mailprobe()
        .args(["discover", "alice@example.test"])
        .args(&args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\s+\d+ ms", " [ms]");
    settings.add_filter(r"\(\d+ ms\)", "([ms])");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    settings.bind(|| insta::assert_snapshot!("discover_real_human", text));
}
