//! Table tests for the POX Autodiscover request builder and response parser.

use super::*;
use crate::model::{AuthMethod as A, Protocol as P, Security as S};

fn addr() -> Address {
    crate::address::parse("alice@example.com").unwrap()
}

const NS: &str =
    r#"xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006""#;

/// A response whose `<Account>` holds `body`, in the 2006a namespace.
fn account(body: &str) -> AutodiscoverResponse {
    let xml = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover {NS}><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><User><DisplayName>Alice Example</DisplayName></User><Account><AccountType>email</AccountType>{body}</Account></Response></Autodiscover>"#
    );
    parse(xml.as_bytes(), &addr()).unwrap()
}

fn servers(body: &str) -> Vec<AdServer> {
    match account(&format!("<Action>settings</Action>{body}")) {
        AutodiscoverResponse::Settings { servers, .. } => servers,
        other => panic!("{other:?}"),
    }
}

fn proto(ty: &str, children: &str) -> String {
    format!("<Protocol><Type>{ty}</Type>{children}</Protocol>")
}

#[test]
fn request_body_escapes_the_address() {
    let body = request_body("a<b&c>\"@example.com");
    assert!(
        body.contains("<EMailAddress>a&lt;b&amp;c&gt;&quot;@example.com</EMailAddress>"),
        "{body}"
    );
    assert!(body.contains("outlook/requestschema/2006\""));
    assert!(body.contains(
        "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>"
    ));
    // The body is itself well-formed.
    let mut w = xml::Walker::new(&body);
    while w.next_item().unwrap().is_some() {}
}

#[test]
fn security_mapping() {
    // (Port, SSL, Encryption) -> Security; Encryption wins over SSL.
    let table = [
        ("993", None, None, S::Tls),
        ("143", None, None, S::Starttls),
        ("143", Some("on"), None, S::Starttls),
        ("993", Some("off"), None, S::Plain),
        ("587", Some("off"), Some("TLS"), S::Starttls),
        ("2465", Some("on"), Some("SSL"), S::Tls),
        ("993", Some("on"), Some("None"), S::Plain),
        ("995", None, Some("Auto"), S::Tls),
        ("465", None, Some("auto"), S::Tls),
        ("110", None, Some("Auto"), S::Starttls),
    ];
    for (port, ssl, enc, want) in table {
        let mut c = format!("<Server>mail.example.com</Server><Port>{port}</Port>");
        if let Some(s) = ssl {
            c += &format!("<SSL>{s}</SSL>");
        }
        if let Some(e) = enc {
            c += &format!("<Encryption>{e}</Encryption>");
        }
        let s = servers(&proto("IMAP", &c));
        assert_eq!(s[0].security, want, "{port} {ssl:?} {enc:?}");
    }
}

#[test]
fn auth_mapping() {
    let base = "<Server>mail.example.com</Server><Port>587</Port>";
    let table = [
        ("", vec![A::PasswordCleartext], false),
        ("<SPA>off</SPA>", vec![A::PasswordCleartext], false),
        ("<SPA>on</SPA>", vec![A::PasswordEncrypted], true),
        ("<AuthRequired>off</AuthRequired>", vec![A::None], false),
        (
            "<AuthRequired>on</AuthRequired><SPA>on</SPA>",
            vec![A::PasswordEncrypted],
            true,
        ),
    ];
    for (extra, want, spa) in table {
        let s = servers(&proto("SMTP", &format!("{base}{extra}")));
        assert_eq!((s[0].auth.clone(), s[0].spa), (want, spa), "{extra}");
    }
}

#[test]
fn settings_with_all_three_protocols_and_exchange_entries() {
    let body = [
        proto("EXCH", "<Server>ex01.example.com</Server><ASUrl>https://x/ews</ASUrl>"),
        proto("EXPR", "<Server>outlook.example.com</Server><Internal><OWAUrl>u</OWAUrl></Internal>"),
        proto(
            "IMAP",
            "<Server>IMAP.example.com</Server><Port>993</Port><LoginName>alice</LoginName><SSL>on</SSL>",
        ),
        proto("POP3", "<Server>pop.example.com</Server><Port>995</Port><DomainRequired>on</DomainRequired>"),
        proto("SMTP", "<Server>smtp.example.com</Server><Port>587</Port><UsePOPAuth>on</UsePOPAuth>"),
        proto("WEB", ""),
        r#"<Protocol Type="mapiHttp" Version="1"><Server>m.example.com</Server></Protocol>"#.to_string(),
    ]
    .concat();
    let AutodiscoverResponse::Settings {
        display_name,
        servers,
        ignored,
        warnings,
    } = account(&format!("<Action>settings</Action>{body}"))
    else {
        panic!()
    };
    assert_eq!(display_name.as_deref(), Some("Alice Example"));
    assert_eq!(ignored, vec!["EXCH", "EXPR", "WEB", "mapiHttp"]);
    assert!(warnings.is_empty());
    let got: Vec<_> = servers
        .iter()
        .map(|s| (s.protocol, s.host.as_str(), s.port))
        .collect();
    assert_eq!(
        got,
        vec![
            (P::Imap, "imap.example.com", 993),
            (P::Pop3, "pop.example.com", 995),
            (P::Smtp, "smtp.example.com", 587)
        ]
    );
    let c = candidates(&servers, &addr());
    let users: Vec<_> = c.iter().map(|c| c.username.as_deref()).collect();
    // IMAP LoginName; POP3 DomainRequired without DomainName = UPN; SMTP UsePOPAuth = first
    // incoming login.
    assert_eq!(
        users,
        vec![Some("alice"), Some("alice@example.com"), Some("alice")]
    );
    assert!(c.iter().all(|c| c.sources == vec![Source::Autodiscover]));
}

#[test]
fn login_name_hints() {
    let s = servers(&proto(
        "IMAP",
        "<Server>a.example</Server><Port>143</Port><DomainRequired>on</DomainRequired><DomainName>CORP</DomainName>",
    ));
    assert_eq!(
        candidates(&s, &addr())[0].username.as_deref(),
        Some("CORP\\alice")
    );
    let s = servers(&proto(
        "SMTP",
        "<Server>a.example</Server><Port>25</Port><UsePOPAuth>on</UsePOPAuth>",
    ));
    assert_eq!(candidates(&s, &addr())[0].username, None);
    let s = servers(&proto("IMAP", "<Server>a.example</Server><Port>143</Port>"));
    assert_eq!(candidates(&s, &addr())[0].username, None);
}

#[test]
fn bad_entries_are_dropped_with_a_warning() {
    let body = [
        proto("IMAP", "<Port>993</Port>"),
        proto("IMAP", "<Server>a.example</Server><Port>x</Port>"),
        proto("IMAP", "<Server>a.example</Server>"),
        proto("IMAP", "<Server>not valid</Server><Port>1</Port>"),
        proto(
            "IMAP",
            "<Server>a.example</Server><Port>1</Port><Encryption>Quantum</Encryption>",
        ),
        proto("POP3", "<Server>pop.example.com</Server><Port>995</Port>"),
    ]
    .concat();
    let AutodiscoverResponse::Settings {
        servers, warnings, ..
    } = account(&format!("<Action>settings</Action>{body}"))
    else {
        panic!()
    };
    assert_eq!(servers.len(), 1);
    assert_eq!(warnings.len(), 5, "{warnings:?}");
    assert_eq!(warnings[0], "Protocol #1 (IMAP) dropped: no Server");
    assert!(warnings[1].contains("port 'x' is not a number"));
}

#[test]
fn redirects() {
    assert_eq!(
        account("<Action>redirectAddr</Action><RedirectAddr>alice@corp.example.net</RedirectAddr>"),
        AutodiscoverResponse::RedirectAddr("alice@corp.example.net".into())
    );
    assert_eq!(
        account(
            "<Action>redirectUrl</Action><RedirectUrl>https://ad.example.net/autodiscover/autodiscover.xml</RedirectUrl>"
        ),
        AutodiscoverResponse::RedirectUrl(
            "https://ad.example.net/autodiscover/autodiscover.xml".into()
        )
    );
    // Without Action, a lone redirect still counts.
    assert_eq!(
        account("<RedirectUrl>https://ad.example.net/x.xml</RedirectUrl>"),
        AutodiscoverResponse::RedirectUrl("https://ad.example.net/x.xml".into())
    );
}

#[test]
fn error_response() {
    let xml = format!(
        r#"<Autodiscover {NS}><Response><Error Time="12:00:00.1" Id="42"><ErrorCode>500</ErrorCode><Message>The e-mail address cannot be found.</Message><DebugData /></Error></Response></Autodiscover>"#
    );
    assert_eq!(
        parse(xml.as_bytes(), &addr()).unwrap(),
        AutodiscoverResponse::Error {
            code: Some("500".into()),
            message: "The e-mail address cannot be found.".into()
        }
    );
    let xml = b"<Autodiscover><Response><Error><Message>Invalid Request</Message></Error></Response></Autodiscover>";
    assert_eq!(
        parse(xml, &addr()).unwrap(),
        AutodiscoverResponse::Error {
            code: None,
            message: "Invalid Request".into()
        }
    );
}

#[test]
fn error_variants() {
    let a = addr();
    let big = vec![b' '; xml::MAX_INPUT + 1];
    type Check = fn(&AutodiscoverError) -> bool;
    let cases: Vec<(&[u8], Check)> = vec![
        (b"<Autodiscover><Response>", |e| matches!(e, AutodiscoverError::NotXml(_))),
        (b"", |e| matches!(e, AutodiscoverError::NotXml(_))),
        (b"<clientConfig/>", |e| *e == AutodiscoverError::NotAutodiscover("clientConfig".into())),
        (&big, |e| matches!(e, AutodiscoverError::TooLarge(_))),
        (b"<Autodiscover>\xff</Autodiscover>", |e| *e == AutodiscoverError::InvalidUtf8(14)),
        (b"<Autodiscover><Response/></Autodiscover>", |e| *e == AutodiscoverError::Empty),
        (
            b"<Autodiscover><Response><Account><Action>redirectAddr</Action></Account></Response></Autodiscover>",
            |e| matches!(e, AutodiscoverError::BadRedirect(_)),
        ),
        (
            b"<Autodiscover><Response><Account><Action>redirectAddr</Action><RedirectAddr>nope</RedirectAddr></Account></Response></Autodiscover>",
            |e| matches!(e, AutodiscoverError::BadRedirect(_)),
        ),
        (
            b"<Autodiscover><Response><Account><Action>redirectUrl</Action></Account></Response></Autodiscover>",
            |e| matches!(e, AutodiscoverError::BadRedirect(_)),
        ),
    ];
    for (xml, check) in cases {
        let got = parse(xml, &a).unwrap_err();
        assert!(
            check(&got),
            "{}: {got:?}",
            String::from_utf8_lossy(&xml[..xml.len().min(80)])
        );
    }
}

#[test]
fn duplicate_entries_make_one_candidate() {
    let p = proto("IMAP", "<Server>a.example</Server><Port>993</Port>");
    let s = servers(&format!("{p}{p}"));
    assert_eq!(s.len(), 2);
    assert_eq!(candidates(&s, &addr()).len(), 1);
}

#[test]
fn injection_and_loops_are_refused() {
    let body = proto(
        "IMAP",
        "<Server>a.example</Server><Port>993</Port><LoginName>x&#13;&#10;A1 LOGOUT</LoginName>",
    );
    let AutodiscoverResponse::Settings {
        servers, warnings, ..
    } = account(&format!("<Action>settings</Action>{body}"))
    else {
        panic!()
    };
    assert!(servers.is_empty());
    assert!(warnings[0].contains("control characters"), "{warnings:?}");
    let xml = b"<Autodiscover><Response><Account><Action>redirectAddr</Action><RedirectAddr>ALICE@example.com</RedirectAddr></Account></Response></Autodiscover>";
    assert!(matches!(
        parse(xml, &addr()),
        Err(AutodiscoverError::BadRedirect(_))
    ));
    let xml = b"<Autodiscover><Response><Account><Action>redirectUrl</Action><RedirectUrl>https://a.example/x&#10;y</RedirectUrl></Account></Response></Autodiscover>";
    assert!(matches!(
        parse(xml, &addr()),
        Err(AutodiscoverError::BadRedirect(_))
    ));
}

#[test]
fn error_inside_account_is_an_error() {
    let r = account(
        "<Error><ErrorCode>603</ErrorCode><Message>Unsupported account type</Message></Error>",
    );
    assert_eq!(
        r,
        AutodiscoverResponse::Error {
            code: Some("603".into()),
            message: "Unsupported account type".into()
        }
    );
}
