//! Integration tests: the built-in provider database — lookups by domain, wildcard and MX host,
//! candidates with placeholders resolved, helpdesk findings, and a comparison with Thunderbird's
//! ISPDB when `MAILPROBE_ISPDB_DIR` names its corpus (`.ci/run` sets `../shared/ispdb`).

use std::collections::{BTreeSet, HashSet};

use mailprobe::address;
use mailprobe::model::{AuthMethod, Protocol, Security, Severity, Source};
use mailprobe::provider_db::{self, by_domain, by_mx};

fn id_of(p: Option<&provider_db::Provider>) -> Option<&str> {
    p.map(|p| p.id.as_str())
}

#[test]
fn lookup_by_domain_exact_alias_and_wildcard() {
    let cases: &[(&str, Option<&str>)] = &[
        ("gmail.com", Some("google")),
        ("GoogleMail.COM.", Some("google")),
        ("hotmail.co.uk", Some("outlook")),
        ("live.fr", Some("outlook")),
        ("yahoo.co.jp", Some("yahoo-jp")),
        ("ymail.com", Some("yahoo")),
        ("rocketmail.com", Some("yahoo")),
        ("me.com", Some("icloud")),
        ("mac.com", Some("icloud")),
        ("icloud.com", Some("icloud")),
        ("bk.ru", Some("mailru")),
        ("internet.ru", Some("mailru")),
        ("ya.ru", Some("yandex")),
        ("126.com", Some("netease")),
        ("hanmail.net", Some("daum")),
        ("fastmail.fm", Some("fastmail")),
        ("pm.me", Some("proton")),
        ("tuta.com", Some("tutanota")),
        ("wanadoo.fr", Some("orange")),
        ("sbcglobal.net", Some("att")),
        ("verizon.net", Some("aol")),
        ("gmx.ch", Some("gmx")),
        // `*.plus.com`: Plusnet addresses are name@username.plus.com.
        ("jdoe.plus.com", Some("plusnet")),
        ("plus.com", Some("plusnet")),
        // `*.onmicrosoft.com`: every Microsoft 365 tenant's initial domain.
        ("contoso.onmicrosoft.com", Some("microsoft365")),
        ("example.com", None),
        ("gmail.com.example", None),
        ("", None),
    ];
    for (domain, want) in cases {
        assert_eq!(id_of(by_domain(domain)), *want, "{domain}");
    }
}

#[test]
fn lookup_by_mx_host() {
    let cases: &[(&str, Option<&str>)] = &[
        ("aspmx.l.google.com", Some("google")),
        ("ALT1.ASPMX.L.GOOGLE.COM.", Some("google")),
        (
            "contoso-com.mail.protection.outlook.com",
            Some("microsoft365"),
        ),
        ("hotmail-com.olc.protection.outlook.com", Some("outlook")),
        ("mx01.mail.icloud.com", Some("icloud")),
        ("in1-smtp.messagingengine.com", Some("fastmail")),
        ("mx.yandex.net", Some("yandex")),
        ("mail.protonmail.ch", Some("proton")),
        ("mx00.gmx.net", Some("gmx")),
        ("mxext1.mailbox.org", Some("mailbox-org")),
        ("aspmx1.migadu.com", Some("migadu")),
        ("mx00.kundenserver.de", Some("ionos")),
        ("mx1.mail.ovh.net", Some("ovh")),
        ("spool.mail.gandi.net", Some("gandi")),
        ("mx1.emailsrvr.com", Some("rackspace")),
        ("mailstore1.secureserver.net", Some("godaddy")),
        ("mx.zoho.eu", Some("zoho-eu")),
        ("mx2.zoho.com", Some("zoho")),
        // AOL's MX lives under Yahoo's yahoodns.net: the longer pattern wins.
        ("mx-aol.mail.gm0.yahoodns.net", Some("aol")),
        ("mta6.am0.yahoodns.net", Some("yahoo")),
        ("mx-biz.mail.am0.yahoodns.net", Some("yahoo-business")),
        ("mx.hover.com.cust.hostedemail.com", Some("hover")),
        ("mx.example.cust.hostedemail.com", Some("opensrs")),
        ("mx.example.com", None),
    ];
    for (host, want) in cases {
        assert_eq!(id_of(by_mx(host)), *want, "{host}");
    }
}

#[test]
fn candidates_resolve_placeholders_and_app_passwords() {
    let addr = address::parse("Jane.Doe@me.com").unwrap();
    let icloud = by_domain(&addr.domain).unwrap();
    let c = icloud.candidates(&addr, Source::ProviderDb);
    let imap = c.iter().find(|c| c.protocol == Protocol::Imap).unwrap();
    assert_eq!(
        (imap.host.as_str(), imap.port, imap.security),
        ("imap.mail.me.com", 993, Security::Tls)
    );
    assert_eq!(imap.username.as_deref(), Some("Jane.Doe"));
    assert!(imap.auth.contains(&AuthMethod::AppPassword));
    assert_eq!(imap.sources, [Source::ProviderDb]);
    let smtp = c.iter().find(|c| c.protocol == Protocol::Smtp).unwrap();
    assert_eq!(smtp.username.as_deref(), Some("Jane.Doe@me.com"));

    // %EMAILDOMAIN% in host names.
    let addr = address::parse("a@inbox.eu").unwrap();
    let c = by_domain("inbox.eu")
        .unwrap()
        .candidates(&addr, Source::MxProvider);
    assert!(c.iter().all(|c| c.host == "mail.inbox.eu"), "{c:?}");
    assert!(c.iter().all(|c| c.sources == [Source::MxProvider]));

    // A wildcard domain whose POP3 server is the address's own domain.
    let addr = address::parse("u@ms15.hinet.net").unwrap();
    let c = by_domain(&addr.domain)
        .unwrap()
        .candidates(&addr, Source::ProviderDb);
    let pop = c.iter().find(|c| c.protocol == Protocol::Pop3).unwrap();
    assert_eq!(
        (pop.host.as_str(), pop.username.as_deref()),
        ("ms15.hinet.net", Some("u"))
    );

    // Proton is reached through Bridge on loopback.
    let addr = address::parse("x@proton.me").unwrap();
    let c = by_domain("proton.me")
        .unwrap()
        .candidates(&addr, Source::ProviderDb);
    assert!(c.iter().all(|c| c.host == "127.0.0.1"));
}

#[test]
fn every_provider_yields_usable_candidates() {
    let addr = address::parse("user@customer.example").unwrap();
    for p in provider_db::providers() {
        for c in p.candidates(&addr, Source::ProviderDb) {
            assert!(!c.host.contains('%'), "{}: {}", p.id, c.host);
            let user = c.username.unwrap_or_default();
            assert!(!user.is_empty() && !user.contains('%'), "{}: {user}", p.id);
            assert!(!c.auth.is_empty(), "{}", p.id);
        }
    }
}

#[test]
fn every_listed_domain_and_mx_finds_its_own_provider() {
    for p in provider_db::providers() {
        for d in &p.domains {
            let probe = d.replace("*.", "sub.");
            assert_eq!(id_of(by_domain(&probe)), Some(p.id.as_str()), "{d}");
        }
        for m in &p.mx {
            let probe = m.replace('*', "x1");
            assert_eq!(id_of(by_mx(&probe)), Some(p.id.as_str()), "{m}");
        }
    }
}

#[test]
fn findings_and_info() {
    let codes = |id: &str| -> Vec<(String, Severity)> {
        let p = provider_db::providers()
            .iter()
            .find(|p| p.id == id)
            .unwrap();
        p.findings()
            .into_iter()
            .map(|f| (f.code.as_str().to_string(), f.severity))
            .collect()
    };
    let has = |id: &str, code: &str, sev: Severity| {
        assert!(
            codes(id).contains(&(code.to_string(), sev)),
            "{id}: {:?}",
            codes(id)
        );
    };
    has("google", "app-password-required", Severity::Info);
    has("google", "oauth2-available", Severity::Info);
    has("outlook", "oauth2-required", Severity::Info);
    has("gmx", "enable-imap-first", Severity::Info);
    has("gmx", "app-password-with-2fa", Severity::Info);
    has("tutanota", "no-standard-access", Severity::Critical);
    has("proton", "bridge-required", Severity::Info);
    assert!(
        codes("posteo")
            .iter()
            .all(|(c, _)| c != "enable-imap-first")
    );

    let gmx = by_domain("gmx.de").unwrap();
    let f = gmx
        .findings()
        .into_iter()
        .find(|f| f.code.as_str() == "enable-imap-first")
        .unwrap();
    assert!(f.hint.unwrap().contains("POP3"));

    let info = by_domain("gmail.com").unwrap().info("domain");
    assert_eq!(info.id, "google");
    assert_eq!(info.matched_by, "domain");
    assert!(info.documentation.unwrap().starts_with("https://"));
    assert!(info.verified);
    assert!(!info.hints.is_empty());
}

#[test]
fn database_size_and_date() {
    let (providers, domains) = provider_db::stats();
    println!(
        "provider db {}: {providers} providers, {domains} domains",
        provider_db::DB_DATE
    );
    assert!(providers >= 150, "{providers}");
    assert!(domains >= 1000, "{domains}");
    assert_eq!(provider_db::DB_DATE.len(), 10);
}

// ---- comparison with Thunderbird's ISPDB (reference corpus outside the project) ----

/// (protocol, host, port, security): what "answered identically" compares, per domain. Only
/// imap/pop3/smtp servers count (not Exchange/EWS); usernames and auth methods are not compared.
type ServerKey = (String, String, u16, String);

struct IspdbFile {
    domains: Vec<String>,
    servers: Vec<ServerKey>,
}

/// Minimal ISPDB (config-v1.1) reader: `<domain>`s and each server's type, hostname, port and
/// socketType (absent socketType means plain, as Thunderbird reads it).
fn parse_ispdb(xml: &str) -> IspdbFile {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut file = IspdbFile {
        domains: Vec::new(),
        servers: Vec::new(),
    };
    let mut cur: Option<(String, String, String, String)> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name().as_ref().to_string();
                if name == "incomingServer" || name == "outgoingServer" {
                    let kind = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == "type")
                        .map(|a| a.value.to_string())
                        .unwrap_or_default();
                    cur = Some((kind, String::new(), String::new(), String::new()));
                }
                stack.push(name);
            }
            Ok(Event::End(_)) => {
                if let Some(name) = stack.pop()
                    && (name == "incomingServer" || name == "outgoingServer")
                    && let Some((kind, host, port, sock)) = cur.take()
                {
                    let security = match sock.as_str() {
                        "SSL" => "tls",
                        "STARTTLS" => "starttls",
                        _ => "plain",
                    };
                    if ["imap", "pop3", "smtp"].contains(&kind.as_str()) {
                        file.servers.push((
                            kind,
                            host.to_ascii_lowercase(),
                            port.parse().unwrap_or(0),
                            security.to_string(),
                        ));
                    }
                }
            }
            Ok(Event::Text(t)) => {
                let text = t.xml10_content().trim().to_string();
                let top = stack.last().map(String::as_str);
                let parent = stack.len().checked_sub(2).map(|i| stack[i].as_str());
                match (parent, top, cur.as_mut()) {
                    (Some("emailProvider"), Some("domain"), _) => {
                        file.domains.push(text.to_ascii_lowercase())
                    }
                    (_, Some("hostname"), Some(c)) => c.1 = text,
                    (_, Some("port"), Some(c)) => c.2 = text,
                    (_, Some("socketType"), Some(c)) => c.3 = text,
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    file
}

#[test]
fn ispdb_comparison() {
    let Some(dir) = crate::support::corpus::ispdb_dir("ispdb_comparison") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    let (mut total, mut same, mut differ, mut missing) = (0, 0, 0, 0);
    let mut seen = HashSet::new();
    let mut differing = Vec::new();
    for path in files {
        let file = parse_ispdb(&std::fs::read_to_string(&path).unwrap());
        for domain in &file.domains {
            if !seen.insert(domain.clone()) {
                continue;
            }
            total += 1;
            let want: BTreeSet<ServerKey> = file
                .servers
                .iter()
                .map(|(k, h, p, s)| (k.clone(), h.replace("%emaildomain%", domain), *p, s.clone()))
                .collect();
            // The ISPDB also lists MX domains (Thunderbird looks up the MX's domain there).
            let Some(p) = by_domain(domain).or_else(|| by_mx(domain)) else {
                missing += 1;
                continue;
            };
            let addr = address::parse(&format!("user@{domain}"));
            let got: BTreeSet<ServerKey> = match addr {
                Ok(addr) => p
                    .candidates(&addr, Source::ProviderDb)
                    .into_iter()
                    .map(|c| {
                        (
                            c.protocol.as_str().to_string(),
                            c.host,
                            c.port,
                            c.security.as_str().to_string(),
                        )
                    })
                    .collect(),
                Err(_) => BTreeSet::new(),
            };
            if got == want {
                same += 1;
            } else {
                differ += 1;
                differing.push(format!("{domain} ({})", p.id));
            }
        }
    }
    println!(
        "ispdb domains: {total}, answered identically: {same}, answered differently: {differ}, \
         not in db: {missing}"
    );
    println!("differently: {}", differing.join(", "));
    // Floors measured on 2026-11-27 (963-domain corpus); they only guard against regressions.
    assert!(total >= 900, "{total}");
    assert!(same >= ISPDB_SAME_FLOOR, "{same} < {ISPDB_SAME_FLOOR}");
    assert!(same * 100 >= total * 97, "{same} of {total} is under 97 %");
    assert!(missing <= 5, "{missing} ISPDB domains not in the database");
}

const ISPDB_SAME_FLOOR: usize = 950;
