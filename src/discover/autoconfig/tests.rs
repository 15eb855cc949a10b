//! Table tests for the autoconfig parser over small inline documents.

use super::*;
use crate::model::{AuthMethod as A, Protocol as P, Security as S};

fn addr() -> Address {
    crate::address::parse("Fred.Bloggs@Example.COM").unwrap()
}

/// A document with `body` inside `<emailProvider>`.
fn doc(body: &str) -> AutoconfigDoc {
    let xml = format!(
        r#"<?xml version="1.0"?><clientConfig version="1.1"><emailProvider id="example.com">{body}</emailProvider></clientConfig>"#
    );
    parse(xml.as_bytes(), &addr()).unwrap()
}

fn imap(children: &str) -> String {
    format!(r#"<incomingServer type="imap">{children}</incomingServer>"#)
}

const OK: &str =
    "<hostname>imap.example.com</hostname><port>993</port><socketType>SSL</socketType>";

#[test]
fn placeholders_resolve_in_username_and_hostname() {
    let cases = [
        (
            "%EMAILADDRESS%",
            "mail.example.com",
            "Fred.Bloggs@example.com",
        ),
        ("%EMAILLOCALPART%", "imap.%EMAILDOMAIN%", "Fred.Bloggs"),
        (
            "%EMAILDOMAIN%\\%EMAILLOCALPART%",
            "%EMAILDOMAIN%",
            "example.com\\Fred.Bloggs",
        ),
        ("fixed-user", "imap.example.com", "fixed-user"),
    ];
    for (user, host, want) in cases {
        let d = doc(&imap(&format!(
            "<hostname>{host}</hostname><port>993</port><socketType>SSL</socketType><username>{user}</username>"
        )));
        let s = &d.servers[0];
        assert_eq!(s.username.as_deref(), Some(want), "{user}");
        assert!(s.host.ends_with("example.com"), "{host} -> {}", s.host);
    }
}

#[test]
fn substitution_is_one_pass() {
    let a = crate::address::parse("%EMAILDOMAIN%@example.com").unwrap();
    assert_eq!(server::substitute("%EMAILLOCALPART%", &a), "%EMAILDOMAIN%");
    assert_eq!(server::substitute("100%", &a), "100%");
}

#[test]
fn unknown_placeholder_is_kept_with_a_warning() {
    let d = doc(&imap(&format!("{OK}<username>%EMAILHOSTNAME%</username>")));
    assert_eq!(d.servers[0].username.as_deref(), Some("%EMAILHOSTNAME%"));
    assert!(
        d.warnings.iter().any(|w| w.contains("unknown placeholder")),
        "{:?}",
        d.warnings
    );
    // %EMAILADDRESS% yields an '@': not a host name.
    let d = doc(&imap(
        "<hostname>%EMAILADDRESS%</hostname><port>1</port><socketType>SSL</socketType>",
    ));
    assert!(d.servers.is_empty());
}

#[test]
fn socket_types_and_auth_keep_preference_order() {
    let d = doc(&imap(
        "<hostname>imap.example.com</hostname><port>143</port>\
         <socketType>STARTTLS</socketType><socketType>bogus</socketType><socketType>plain</socketType>\
         <socketType>STARTTLS</socketType>\
         <authentication>OAuth2</authentication><authentication>magic</authentication>\
         <authentication system=\"http\">Basic</authentication>\
         <authentication>password-encrypted</authentication><authentication>OAuth2</authentication>",
    ));
    let s = &d.servers[0];
    assert_eq!(s.security, vec![S::Starttls, S::Plain]);
    assert_eq!(s.auth, vec![A::OAuth2, A::PasswordEncrypted]);
    assert!(
        d.warnings
            .iter()
            .any(|w| w == "incomingServer #1: socketType 'bogus' ignored")
    );
    assert!(
        d.warnings
            .iter()
            .any(|w| w == "incomingServer #1: authentication 'magic' ignored")
    );
    let c = candidates(&d, Source::Autoconfig);
    assert_eq!(c.len(), 2);
    assert_eq!((c[0].security, c[1].security), (S::Starttls, S::Plain));
}

#[test]
fn every_authentication_value_maps() {
    let table = [
        ("password-cleartext", A::PasswordCleartext),
        ("password-encrypted", A::PasswordEncrypted),
        ("OAuth2", A::OAuth2),
        ("NTLM", A::Ntlm),
        ("GSSAPI", A::Gssapi),
        ("client-IP-address", A::ClientIpAddress),
        ("TLS-client-cert", A::TlsClientCert),
        ("none", A::None),
        ("SCRAM-SHA-256-PLUS", A::PasswordEncrypted),
    ];
    for (value, want) in table {
        let d = doc(&imap(&format!(
            "{OK}<authentication system=\"sasl\">{value}</authentication>"
        )));
        assert_eq!(d.servers[0].auth, vec![want], "{value}");
    }
    let table = [
        ("SSL", S::Tls),
        ("TLS", S::Tls),
        ("STARTTLS", S::Starttls),
        ("plain", S::Plain),
    ];
    for (value, want) in table {
        let d = doc(&imap(&format!(
            "<hostname>h.example</hostname><port>1</port><socketType>{value}</socketType>"
        )));
        assert_eq!(d.servers[0].security, vec![want], "{value}");
    }
}

#[test]
fn several_servers_per_protocol_are_alternatives_in_order() {
    let d = doc(&format!(
        r#"{}<incomingServer type="pop3"><hostname>pop.example.com</hostname><port>995</port><socketType>SSL</socketType></incomingServer>
        {}<outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>
        <outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>587</port><socketType>STARTTLS</socketType></outgoingServer>"#,
        imap(OK),
        imap(
            "<hostname>imap.example.com</hostname><port>143</port><socketType>STARTTLS</socketType>"
        ),
    ));
    let got: Vec<_> = d
        .servers
        .iter()
        .map(|s| (s.incoming, s.protocol, s.port))
        .collect();
    assert_eq!(
        got,
        vec![
            (true, P::Imap, 993),
            (true, P::Pop3, 995),
            (true, P::Imap, 143),
            (false, P::Smtp, 465),
            (false, P::Smtp, 587)
        ]
    );
    assert!(d.is_complete());
    let c = candidates(&d, Source::Ispdb);
    assert_eq!(c.len(), 5);
    assert!(c.iter().all(|c| c.sources == vec![Source::Ispdb]));
}

#[test]
fn invalid_sections_are_dropped_alone() {
    let table = [
        (
            "<port>993</port><socketType>SSL</socketType>",
            "no hostname",
        ),
        (
            "<hostname>h.example</hostname><socketType>SSL</socketType>",
            "no port",
        ),
        (
            "<hostname>h.example</hostname><port>abc</port><socketType>SSL</socketType>",
            "port 'abc' is not a number",
        ),
        (
            "<hostname>h.example</hostname><port>0</port><socketType>SSL</socketType>",
            "port '0' is out of range 1-65535",
        ),
        (
            "<hostname>h.example</hostname><port>70000</port><socketType>SSL</socketType>",
            "out of range",
        ),
        (
            "<hostname>h.example</hostname><port>1</port>",
            "no socketType",
        ),
        (
            "<hostname>h.example</hostname><port>1</port><socketType>TLS1.3</socketType>",
            "no known socketType",
        ),
        (
            "<hostname>bad_host.example</hostname><port>1</port><socketType>SSL</socketType>",
            "not a valid host name",
        ),
        (
            "<hostname>-x.example</hostname><port>1</port><socketType>SSL</socketType>",
            "not a valid host name",
        ),
        (
            &format!(
                "<hostname>{}.com</hostname><port>1</port><socketType>SSL</socketType>",
                "a.".repeat(130)
            ),
            "253",
        ),
        (
            &format!("{OK}<authentication>kerberos-v9</authentication>"),
            "no known authentication",
        ),
        (
            &format!("{OK}<username>&bogus;</username>"),
            "username: unknown entity",
        ),
    ];
    for (children, why) in table {
        let d = doc(&format!("{}{}", imap(OK), imap(children)));
        assert_eq!(d.servers.len(), 1, "{children}");
        let w = d
            .warnings
            .iter()
            .find(|w| w.starts_with("incomingServer #2 dropped: "));
        assert!(
            w.is_some_and(|w| w.contains(why)),
            "{children}: {:?}",
            d.warnings
        );
    }
}

#[test]
fn hosts_are_normalised() {
    let table = [
        ("IMAP.Example.COM.", "imap.example.com"),
        ("  imap.example.com\n", "imap.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("192.0.2.7", "192.0.2.7"),
        ("[2001:db8::1]", "2001:db8::1"),
    ];
    for (raw, want) in table {
        let d = doc(&imap(&format!(
            "<hostname>{raw}</hostname><port>1</port><socketType>SSL</socketType>"
        )));
        assert_eq!(d.servers[0].host, want, "{raw}");
    }
}

#[test]
fn wrong_element_types_and_other_types() {
    let d = doc(
        r#"<incomingServer type="smtp"><hostname>a.example</hostname><port>1</port><socketType>SSL</socketType></incomingServer>
        <incomingServer><hostname>a.example</hostname><port>1</port><socketType>SSL</socketType></incomingServer>
        <incomingServer type="ews"><url>https://ews.example/EWS/Exchange.asmx</url></incomingServer>
        <incomingServer type="exchange"><hostname>a.example</hostname></incomingServer>"#,
    );
    assert!(d.servers.is_empty());
    assert!(d.warnings.contains(
        &"incomingServer #1 dropped: type 'smtp' does not belong in <incomingServer>".to_string()
    ));
    assert!(
        d.warnings
            .contains(&"incomingServer #2 dropped: no type attribute".to_string())
    );
    let ignored: Vec<_> = d.ignored.iter().map(|i| i.server_type.as_str()).collect();
    assert_eq!(ignored, vec!["ews", "exchange"]);
    assert!(d.warnings.iter().any(|w| w.contains("no usable")));
}

#[test]
fn unknown_elements_and_attributes_are_ignored() {
    let d = doc(
        r#"<futureThing a="b"><incomingServer type="imap"><hostname>x</hostname></incomingServer></futureThing>
        <incomingServer type="imap" future="1"><pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
        <hostname>imap.example.com</hostname><port>993</port><socketType>SSL</socketType><extra>&bomb;</extra></incomingServer>
        <webMail><loginPage url="https://example.com/" /></webMail>"#,
    );
    assert_eq!(d.servers.len(), 1);
    assert_eq!(d.servers[0].host, "imap.example.com");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

#[test]
fn metadata_oauth2_enable_documentation() {
    let xml = r#"<clientConfig version="1.1">
      <emailProvider id="example.com">
        <domain>Example.com</domain><domain>example.net</domain><domain purpose="mx">mx.example-hosting.com</domain>
        <displayName>Example &amp; Co Mail</displayName><displayShortName>Example</displayShortName>
        <incomingServer type="imap"><hostname>imap.example.com</hostname><port>993</port><socketType>SSL</socketType>
          <authentication>OAuth2</authentication><authentication>password-cleartext</authentication></incomingServer>
        <documentation url="https://example.com/help"><descr lang="de">Hilfe</descr><descr lang="en">Help</descr></documentation>
        <documentation url="https://example.com/other"/>
        <documentation><descr>no url</descr></documentation>
        <enable visiturl="https://example.com/settings">
          <instruction lang="de">Erst IMAP einschalten</instruction><instruction>Switch IMAP on first</instruction>
        </enable>
      </emailProvider>
      <oAuth2><issuer>login.example.com</issuer><scope>imap smtp
        offline_access</scope><authURL>https://login.example.com/auth</authURL>
        <tokenURL>https://login.example.com/token</tokenURL><clientID>ignored</clientID></oAuth2>
      <calendar type="caldav"><url>https://cal.example.com/</url></calendar>
    </clientConfig>"#;
    let d = parse(xml.as_bytes(), &addr()).unwrap();
    assert_eq!(d.provider_id.as_deref(), Some("example.com"));
    assert_eq!(d.display_name.as_deref(), Some("Example & Co Mail"));
    assert_eq!(d.display_short_name.as_deref(), Some("Example"));
    assert_eq!(d.domains, vec!["example.com", "example.net"]);
    assert_eq!(d.mx_domains, vec!["mx.example-hosting.com"]);
    let o = d.oauth2.as_ref().unwrap();
    assert_eq!(o.issuer.as_deref(), Some("login.example.com"));
    assert_eq!(o.scopes, vec!["imap", "smtp", "offline_access"]);
    assert_eq!(
        o.auth_url.as_deref(),
        Some("https://login.example.com/auth")
    );
    assert_eq!(
        o.token_url.as_deref(),
        Some("https://login.example.com/token")
    );
    let e = d.enable.as_ref().unwrap();
    assert_eq!(e.visit_url.as_deref(), Some("https://example.com/settings"));
    assert_eq!(e.instructions.len(), 2);
    assert_eq!(e.instruction(), Some("Switch IMAP on first"));
    assert_eq!(d.documentation.len(), 2);
    assert_eq!(d.documentation[0].description(), Some("Help"));
    assert_eq!(d.documentation[1].description(), None);
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("<documentation> ignored: no url attribute"))
    );
    assert_eq!(d.ignored[0].element, "calendar");
    assert_eq!(d.servers[0].auth, vec![A::OAuth2, A::PasswordCleartext]);
}

#[test]
fn bad_text_outside_sections_is_a_warning() {
    let d = doc(&format!(
        "<displayName>&lol;</displayName><domain>not a domain</domain>{}",
        imap(OK)
    ));
    assert_eq!(d.display_name, None);
    assert_eq!(d.servers.len(), 1);
    assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
}

#[test]
fn error_variants() {
    let a = addr();
    let table: [(&[u8], AutoconfigError); 7] = [
        (
            b"<clientConfig><emailProvider></clientConfig>",
            AutoconfigError::NotXml(String::new()),
        ),
        (
            b"<clientConfig><emailProvider>",
            AutoconfigError::NotXml(String::new()),
        ),
        (b"", AutoconfigError::NotXml(String::new())),
        (
            b"<html><body>404</body></html>",
            AutoconfigError::NotAutoconfig,
        ),
        (
            b"<?xml version=\"1.0\"?>\n<Autodiscover/>",
            AutoconfigError::NotAutoconfig,
        ),
        (
            b"<clientConfig>\xC3\x28</clientConfig>",
            AutoconfigError::InvalidUtf8(14),
        ),
        (
            b"<clientConfig a=\"1\" a=\"2\"/>",
            AutoconfigError::NotXml(String::new()),
        ),
    ];
    for (xml, want) in table {
        let got = parse(xml, &a).unwrap_err();
        match (&got, &want) {
            (AutoconfigError::NotXml(_), AutoconfigError::NotXml(_)) => {}
            _ => assert_eq!(got, want, "{}", String::from_utf8_lossy(xml)),
        }
    }
    let big = vec![b' '; xml::MAX_INPUT + 1];
    assert_eq!(
        parse(&big, &a),
        Err(AutoconfigError::TooLarge(xml::MAX_INPUT + 1))
    );
    let deep = format!("<clientConfig>{}", "<x>".repeat(100_000));
    assert!(matches!(
        parse(deep.as_bytes(), &a),
        Err(AutoconfigError::NotXml(_))
    ));
}

#[test]
fn minimal_and_bom() {
    let d = parse(b"\xEF\xBB\xBF<clientConfig/>", &addr()).unwrap();
    assert!(d.servers.is_empty() && !d.is_complete());
}

#[test]
fn placeholders_in_metadata() {
    let d = doc("<domain>%EMAILDOMAIN%</domain><displayName>Mail for %EMAILDOMAIN%</displayName>");
    assert_eq!(d.domains, vec!["example.com"]);
    assert_eq!(d.display_name.as_deref(), Some("Mail for example.com"));
}

#[test]
fn control_characters_and_entities_in_attributes() {
    let d = doc(&imap(&format!(
        "{OK}<username>fred&#13;&#10;A1 LOGOUT</username>"
    )));
    assert!(d.servers.is_empty());
    assert!(
        d.warnings[0].contains("control characters"),
        "{:?}",
        d.warnings
    );
    let d = doc(
        r#"<documentation url="&lol9;"/><incomingServer type="&x;"><hostname>h.example</hostname></incomingServer>"#,
    );
    assert!(d.documentation.is_empty());
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("<documentation> ignored")),
        "{:?}",
        d.warnings
    );
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("incomingServer #1 dropped")),
        "{:?}",
        d.warnings
    );
}
