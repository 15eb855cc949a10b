//! `--to thunderbird`: an autoconfig configuration file (config-v1.1,
//! draft-ietf-mailmaint-autoconfig) that an admin can publish at
//! `https://autoconfig.<domain>/mail/config-v1.1.xml`. User names that are the address or its
//! local part become the `%EMAILADDRESS%` / `%EMAILLOCALPART%` placeholders (draft
//! §"Placeholders"), so one file serves every mailbox of the domain.

use quick_xml::escape::escape;

use super::{Export, auth_word};
use crate::model::{Protocol, Security, Setting};

/// The document for `e`.
pub fn render(e: &Export<'_>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out += &format!("<!-- {} -->\n", comment_safe(e.origin.comment()));
    out += &format!("<!-- for {} -->\n", comment_safe(&e.address()));
    out += "<clientConfig version=\"1.1\">\n";
    let domain = escape(e.domain);
    out += &format!("  <emailProvider id=\"{domain}\">\n");
    out += &format!("    <domain>{domain}</domain>\n");
    out += &format!(
        "    <displayName>{}</displayName>\n",
        escape(e.display_name)
    );
    out += &format!("    <displayShortName>{domain}</displayShortName>\n");
    for s in e.servers() {
        section(&mut out, s, e);
    }
    out += "  </emailProvider>\n</clientConfig>\n";
    out
}

fn section(out: &mut String, s: &Setting, e: &Export<'_>) {
    let (element, ty) = match s.protocol {
        Protocol::Imap => ("incomingServer", "imap"),
        Protocol::Pop3 => ("incomingServer", "pop3"),
        Protocol::Smtp => ("outgoingServer", "smtp"),
    };
    *out += &format!("    <{element} type=\"{ty}\">\n");
    *out += &format!("      <hostname>{}</hostname>\n", escape(&s.host));
    *out += &format!("      <port>{}</port>\n", s.port);
    *out += &format!(
        "      <socketType>{}</socketType>\n",
        socket_type(s.security)
    );
    for a in &s.auth {
        *out += &format!("      <authentication>{}</authentication>\n", auth_word(*a));
    }
    if let Some(u) = &s.username {
        *out += &format!("      <username>{}</username>\n", escape(placeholder(u, e)));
    }
    *out += &format!("    </{element}>\n");
}

/// The draft's `<socketType>` values.
pub(crate) fn socket_type(s: Security) -> &'static str {
    match s {
        Security::Tls => "SSL",
        Security::Starttls => "STARTTLS",
        Security::Plain => "plain",
    }
}

/// `%EMAILADDRESS%` for the address, `%EMAILLOCALPART%` for its local part, else the name.
fn placeholder(user: &str, e: &Export<'_>) -> String {
    if user.eq_ignore_ascii_case(&e.address()) {
        "%EMAILADDRESS%".into()
    } else if user == e.local {
        "%EMAILLOCALPART%".into()
    } else {
        user.to_string()
    }
}

/// XML comments may not contain `--` (XML 1.0 §2.5).
fn comment_safe(s: &str) -> String {
    s.replace("--", "- -")
}
