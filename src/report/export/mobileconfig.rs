//! `--to mobileconfig`: an Apple configuration profile (a plist, written by the `plist` crate)
//! with one `com.apple.mail.managed` payload ("Mail" in Apple's Device Management reference):
//! account type, incoming (IMAP or POP) and outgoing (SMTP) host, port, SSL flag and user name.
//! `...UseSSL` is true for implicit TLS and for STARTTLS alike: Apple Mail negotiates STARTTLS
//! on a non-TLS port when it is set. No password unless the caller gives one. Both
//! `PayloadUUID`s and the `PayloadIdentifier` are derived from the address
//! ([`super::name_uuid`]), so installing a newer export replaces the old profile.

use plist::{Dictionary, Value};

use super::{Export, name_uuid};
use crate::model::{AuthMethod, Protocol, Security, Setting};

/// The profile for `e`, as XML plist text.
pub fn render(e: &Export<'_>) -> String {
    let address = e.address();
    let mut mail = Dictionary::new();
    let text = |s: &str| Value::String(s.to_string());
    mail.insert("EmailAccountDescription".into(), text(&address));
    mail.insert("EmailAccountName".into(), text(&address));
    mail.insert("EmailAddress".into(), text(&address));
    let incoming_type = match e.settings.incoming.as_ref().map(|s| s.protocol) {
        Some(Protocol::Pop3) => "EmailTypePOP",
        _ => "EmailTypeIMAP",
    };
    mail.insert("EmailAccountType".into(), text(incoming_type));
    if let Some(s) = &e.settings.incoming {
        server(&mut mail, "Incoming", s);
        if let Some(p) = e.password {
            mail.insert("IncomingPassword".into(), text(p));
        }
    }
    if let Some(s) = &e.settings.outgoing {
        server(&mut mail, "Outgoing", s);
        if let Some(p) = e.password {
            mail.insert("OutgoingPassword".into(), text(p));
        }
    }
    let mail_uuid = name_uuid(&format!("mailto:{address}#com.apple.mail.managed"));
    mail.insert(
        "PayloadDescription".into(),
        text(&format!("Mail account {address}")),
    );
    mail.insert("PayloadDisplayName".into(), text(&address));
    mail.insert(
        "PayloadIdentifier".into(),
        text(&format!("mailprobe.mail.{mail_uuid}")),
    );
    mail.insert("PayloadType".into(), text("com.apple.mail.managed"));
    mail.insert("PayloadUUID".into(), text(&mail_uuid));
    mail.insert("PayloadVersion".into(), Value::Integer(1.into()));

    let profile_uuid = name_uuid(&format!("mailto:{address}"));
    let mut top = Dictionary::new();
    top.insert(
        "PayloadContent".into(),
        Value::Array(vec![Value::Dictionary(mail)]),
    );
    top.insert(
        "PayloadDescription".into(),
        text(&format!("{} ({address})", e.origin.comment())),
    );
    top.insert(
        "PayloadDisplayName".into(),
        text(&format!("{} mail", e.display_name)),
    );
    top.insert(
        "PayloadIdentifier".into(),
        text(&format!("mailprobe.profile.{profile_uuid}")),
    );
    top.insert("PayloadRemovalDisallowed".into(), Value::Boolean(false));
    top.insert("PayloadType".into(), text("Configuration"));
    top.insert("PayloadUUID".into(), text(&profile_uuid));
    top.insert("PayloadVersion".into(), Value::Integer(1.into()));
    let mut buf = Vec::new();
    // Writing a Dictionary of strings, integers and booleans to memory cannot fail.
    let _ = Value::Dictionary(top).to_writer_xml(&mut buf);
    let mut s = String::from_utf8(buf).unwrap_or_default();
    s.push('\n');
    s
}

/// `IncomingMailServer…` / `OutgoingMailServer…` keys of one setting.
fn server(d: &mut Dictionary, side: &str, s: &Setting) {
    let key = |k: &str| format!("{side}MailServer{k}");
    d.insert(key("HostName"), Value::String(s.host.clone()));
    d.insert(key("PortNumber"), Value::Integer(u64::from(s.port).into()));
    d.insert(key("UseSSL"), Value::Boolean(s.security != Security::Plain));
    d.insert(key("Authentication"), Value::String(auth(s).into()));
    if let Some(u) = &s.username {
        d.insert(key("Username"), Value::String(u.clone()));
    }
}

/// Apple's authentication values: EmailAuthPassword, EmailAuthCRAMMD5, EmailAuthNTLM,
/// EmailAuthHTTPMD5, EmailAuthNone.
fn auth(s: &Setting) -> &'static str {
    match s.auth.first() {
        Some(AuthMethod::None) => "EmailAuthNone",
        Some(AuthMethod::PasswordEncrypted) => "EmailAuthCRAMMD5",
        Some(AuthMethod::Ntlm) => "EmailAuthNTLM",
        _ => "EmailAuthPassword",
    }
}
