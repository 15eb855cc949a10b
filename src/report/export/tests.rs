//! Export renderers: golden files per format (tests/fixtures/export/, `UPDATE_GOLDEN=1`
//! rewrites them), and each document read back by the parser its consumer would use —
//! mailprobe's own autoconfig and Autodiscover parsers, the `plist` crate, serde_json — into
//! the same settings.

use super::autoconfig_schema as schema;
use super::*;
use crate::address::Address;
use crate::discover::{autoconfig, autodiscover};
use crate::model::{Protocol, Security, Setting, Settings, Source};

fn addr() -> Address {
    crate::address::parse("alice@example.com").unwrap()
}

fn settings() -> Settings {
    Settings {
        incoming: Some(Setting {
            protocol: Protocol::Imap,
            host: "mail.example.com".into(),
            port: 993,
            security: Security::Tls,
            username: Some("alice@example.com".into()),
            auth: vec![AuthMethod::PasswordCleartext],
        }),
        outgoing: Some(Setting {
            protocol: Protocol::Smtp,
            host: "smtp.example.com".into(),
            port: 587,
            security: Security::Starttls,
            username: Some("alice".into()),
            auth: vec![AuthMethod::PasswordCleartext],
        }),
    }
}

fn export<'a>(s: &'a Settings, origin: Origin, password: Option<&'a str>) -> Export<'a> {
    Export {
        local: "alice",
        domain: "example.com",
        display_name: "Example Mail",
        settings: s,
        origin,
        password,
    }
}

/// Compare with tests/fixtures/export/NAME, or rewrite it with `UPDATE_GOLDEN=1`.
fn golden(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/export")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(text, want, "{name} differs from its golden file");
}

#[test]
fn golden_files() {
    let s = settings();
    let e = export(&s, Origin::Verified, None);
    for (f, name) in [
        (ExportFormat::Thunderbird, "config-v1.1.xml"),
        (ExportFormat::Mobileconfig, "alice.mobileconfig"),
        (ExportFormat::Autodiscover, "autodiscover.xml"),
        (ExportFormat::Srv, "srv.zone"),
        (ExportFormat::Json, "settings.json"),
    ] {
        golden(name, &render(&e, f));
    }
    let d = export(&s, Origin::Discovery, None);
    golden(
        "from-discovery.config-v1.1.xml",
        &render(&d, ExportFormat::Thunderbird),
    );
}

/// The (protocol, host, port, security, username, auth) of a setting.
type Row = (
    Protocol,
    String,
    u16,
    Security,
    Option<String>,
    Vec<AuthMethod>,
);

fn rows(s: &Settings) -> Vec<Row> {
    s.incoming
        .iter()
        .chain(s.outgoing.iter())
        .map(|x| {
            (
                x.protocol,
                x.host.clone(),
                x.port,
                x.security,
                x.username.clone(),
                x.auth.clone(),
            )
        })
        .collect()
}

/// Settings in several shapes: every protocol, security and the auth methods autoconfig has
/// words for.
fn shapes() -> Vec<Settings> {
    let one = |protocol, host: &str, port, security, user: Option<&str>, auth| Setting {
        protocol,
        host: host.into(),
        port,
        security,
        username: user.map(String::from),
        auth,
    };
    vec![
        settings(),
        Settings {
            incoming: Some(one(
                Protocol::Pop3,
                "pop.example.com",
                110,
                Security::Plain,
                Some("EXAMPLE\\alice"),
                vec![AuthMethod::PasswordEncrypted, AuthMethod::PasswordCleartext],
            )),
            outgoing: Some(one(
                Protocol::Smtp,
                "smtp.example.com",
                465,
                Security::Tls,
                None,
                vec![AuthMethod::OAuth2],
            )),
        },
        Settings {
            incoming: Some(one(
                Protocol::Imap,
                "imap.example.com",
                143,
                Security::Starttls,
                Some("a&b<c>@example.com"),
                vec![],
            )),
            outgoing: None,
        },
    ]
}

#[test]
fn thunderbird_reads_back_into_the_same_settings() {
    for s in shapes() {
        let xml = render(
            &export(&s, Origin::Verified, None),
            ExportFormat::Thunderbird,
        );
        let doc = autoconfig::parse(xml.as_bytes(), &addr()).unwrap();
        assert!(doc.warnings.is_empty(), "{:?}\n{xml}", doc.warnings);
        let back: Vec<Row> = doc
            .servers
            .iter()
            .map(|x| {
                assert_eq!(x.security.len(), 1);
                (
                    x.protocol,
                    x.host.clone(),
                    x.port,
                    x.security[0],
                    x.username.clone(),
                    x.auth.clone(),
                )
            })
            .collect();
        assert_eq!(back, rows(&s), "{xml}");
        assert_eq!(doc.provider_id.as_deref(), Some("example.com"));
        assert_eq!(doc.domains, ["example.com"]);
        let cands = autoconfig::candidates(&doc, Source::Autoconfig);
        assert_eq!(cands.len(), rows(&s).len());
        schema::check(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    }
}

#[test]
fn autodiscover_reads_back_into_the_same_settings() {
    for s in shapes() {
        let xml = render(
            &export(&s, Origin::Verified, None),
            ExportFormat::Autodiscover,
        );
        let autodiscover::AutodiscoverResponse::Settings {
            servers, warnings, ..
        } = autodiscover::parse(xml.as_bytes(), &addr()).unwrap()
        else {
            panic!("not settings: {xml}")
        };
        assert!(warnings.is_empty(), "{warnings:?}");
        let back: Vec<_> = autodiscover::candidates(&servers, &addr())
            .into_iter()
            .map(|c| (c.protocol, c.host, c.port, c.security, c.username))
            .collect();
        let want: Vec<_> = rows(&s)
            .into_iter()
            .map(|r| (r.0, r.1, r.2, r.3, r.4))
            .collect();
        assert_eq!(back, want, "{xml}");
        // SPA on exactly when challenge-response comes first.
        for (srv, r) in servers.iter().zip(rows(&s)) {
            assert_eq!(srv.spa, r.5.first() == Some(&AuthMethod::PasswordEncrypted));
        }
    }
}

#[test]
fn mobileconfig_parses_back_with_plist_and_keeps_uuids() {
    let s = settings();
    let text = render(
        &export(&s, Origin::Verified, None),
        ExportFormat::Mobileconfig,
    );
    let v: plist::Value = plist::from_bytes(text.as_bytes()).unwrap();
    let top = v.as_dictionary().unwrap();
    assert_eq!(top["PayloadType"].as_string(), Some("Configuration"));
    let mail = top["PayloadContent"].as_array().unwrap()[0]
        .as_dictionary()
        .unwrap();
    let get = |k: &str| mail.get(k).cloned();
    assert_eq!(
        get("PayloadType").unwrap().as_string(),
        Some("com.apple.mail.managed")
    );
    assert_eq!(
        get("EmailAccountType").unwrap().as_string(),
        Some("EmailTypeIMAP")
    );
    assert_eq!(
        get("IncomingMailServerHostName").unwrap().as_string(),
        Some("mail.example.com")
    );
    assert_eq!(
        get("IncomingMailServerPortNumber")
            .unwrap()
            .as_unsigned_integer(),
        Some(993)
    );
    assert_eq!(
        get("IncomingMailServerUseSSL").unwrap().as_boolean(),
        Some(true)
    );
    assert_eq!(
        get("IncomingMailServerUsername").unwrap().as_string(),
        Some("alice@example.com")
    );
    assert_eq!(
        get("OutgoingMailServerPortNumber")
            .unwrap()
            .as_unsigned_integer(),
        Some(587)
    );
    assert_eq!(
        get("OutgoingMailServerUseSSL").unwrap().as_boolean(),
        Some(true)
    );
    assert_eq!(
        get("OutgoingMailServerUsername").unwrap().as_string(),
        Some("alice")
    );
    assert!(get("IncomingPassword").is_none() && get("OutgoingPassword").is_none());
    // Stable per address: a second export has the same UUIDs; another address other ones.
    let again = render(
        &export(&s, Origin::Discovery, None),
        ExportFormat::Mobileconfig,
    );
    let uuids = |t: &str| -> Vec<String> {
        t.lines()
            .skip_while(|l| !l.contains("<key>PayloadUUID</key>"))
            .nth(1)
            .into_iter()
            .map(String::from)
            .collect()
    };
    assert_eq!(uuids(&text), uuids(&again));
    let mut bob = export(&s, Origin::Verified, None);
    bob.local = "bob";
    assert_ne!(
        uuids(&text),
        uuids(&render(&bob, ExportFormat::Mobileconfig))
    );
    // The password only when given.
    let with = render(
        &export(&s, Origin::Verified, Some("s3cret")),
        ExportFormat::Mobileconfig,
    );
    let v: plist::Value = plist::from_bytes(with.as_bytes()).unwrap();
    let mail = v.as_dictionary().unwrap()["PayloadContent"]
        .as_array()
        .unwrap()[0]
        .as_dictionary()
        .unwrap()
        .clone();
    assert_eq!(mail["IncomingPassword"].as_string(), Some("s3cret"));
    assert_eq!(mail["OutgoingPassword"].as_string(), Some("s3cret"));
}

#[test]
fn json_is_the_settings_object() {
    for s in shapes() {
        let text = render(&export(&s, Origin::Discovery, None), ExportFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["address"], "alice@example.com");
        assert_eq!(v["origin"], "discovery");
        let back: Settings = serde_json::from_value(v["settings"].clone()).unwrap();
        assert_eq!(back, s);
    }
}

#[test]
fn srv_lines_name_the_rfc_6186_and_8314_services() {
    let s = settings();
    let text = render(&export(&s, Origin::Verified, None), ExportFormat::Srv);
    let records: Vec<&str> = text.lines().filter(|l| !l.starts_with(';')).collect();
    assert_eq!(
        records,
        [
            "$ORIGIN example.com.",
            "_imaps._tcp 3600 IN SRV 0 1 993 mail.example.com.",
            "_submission._tcp 3600 IN SRV 0 1 587 smtp.example.com.",
        ]
    );
    let pop = &shapes()[1];
    let text = render(&export(pop, Origin::Verified, None), ExportFormat::Srv);
    assert!(text.contains("_pop3._tcp 3600 IN SRV 0 1 110 pop.example.com."));
    assert!(text.contains("_submissions._tcp 3600 IN SRV 0 1 465 smtp.example.com."));
    assert!(text.contains("without TLS"), "{text}");
}

#[test]
fn from_discovery_says_so_inside_every_file() {
    let s = settings();
    let e = export(&s, Origin::Discovery, None);
    for f in [
        ExportFormat::Thunderbird,
        ExportFormat::Mobileconfig,
        ExportFormat::Autodiscover,
        ExportFormat::Srv,
    ] {
        assert!(render(&e, f).contains("UNTESTED"), "{f:?}");
    }
    assert!(render(&e, ExportFormat::Json).contains("\"origin\": \"discovery\""));
}

#[test]
fn the_schema_checker_rejects_what_the_schema_rejects() {
    for (bad, why) in [
        ("<clientConfig/>", "version"),
        (
            "<clientConfig version='1.1'><emailProvider/></clientConfig>",
            "id",
        ),
        (
            "<clientConfig version='1.1'><emailProvider id='x'><incomingServer/></emailProvider></clientConfig>",
            "type",
        ),
        (
            "<clientConfig version='1.1'><emailProvider id='x'><incomingServer type='imap'><port>0</port></incomingServer></emailProvider></clientConfig>",
            "port",
        ),
        (
            "<clientConfig version='1.1'><hostname>h</hostname></clientConfig>",
            "not allowed",
        ),
        (
            "<clientConfig version='1.1'><emailProvider id='x'><domain><b/></domain></emailProvider></clientConfig>",
            "text only",
        ),
        ("<other/>", "root"),
    ] {
        let e = schema::check(bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
    schema::check(
        "<clientConfig version='1.1' x='y'><emailProvider id='x'><foo><hostname>any</hostname></foo></emailProvider><bar/></clientConfig>",
    )
    .unwrap();
}

#[test]
fn name_uuid_is_rfc4122_v3() {
    // Python: str(uuid.uuid3(uuid.NAMESPACE_URL, "http://www.example.com/")).upper()
    assert_eq!(
        name_uuid("http://www.example.com/"),
        "556CF76B-3B36-3AE6-85F9-50424B369B50"
    );
    let u = name_uuid("mailto:alice@example.com");
    assert_eq!(u, name_uuid("mailto:alice@example.com"));
    assert_ne!(u, name_uuid("mailto:bob@example.com"));
    assert_eq!(&u[14..15], "3");
    assert!(matches!(&u[19..20], "8" | "9" | "A" | "B"));
}
