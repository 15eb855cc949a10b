//! `--to autodiscover`: a POX Autodiscover response (`autodiscover.xml`, Outlook response
//! schema 2006a) with one `<Protocol>` per setting. Security is written both ways: `<SSL>` for
//! old clients and `<Encryption>` ([MS-OXDSCLI] §2.2.4: SSL = implicit TLS, TLS = STARTTLS,
//! None), which takes precedence where it is understood.

use quick_xml::escape::escape;

use super::Export;
use crate::model::{AuthMethod, Protocol, Security, Setting};

const OUTER_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// The document for `e`.
pub fn render(e: &Export<'_>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out += &format!("<!-- {} -->\n", e.origin.comment().replace("--", "- -"));
    out += &format!("<Autodiscover xmlns=\"{OUTER_NS}\">\n");
    out += &format!("  <Response xmlns=\"{RESPONSE_NS}\">\n");
    out += "    <User>\n";
    out += &format!(
        "      <DisplayName>{}</DisplayName>\n",
        escape(e.display_name)
    );
    out += "    </User>\n";
    out += "    <Account>\n";
    out += "      <AccountType>email</AccountType>\n";
    out += "      <Action>settings</Action>\n";
    for s in e.servers() {
        protocol(&mut out, s);
    }
    out += "    </Account>\n  </Response>\n</Autodiscover>\n";
    out
}

fn protocol(out: &mut String, s: &Setting) {
    let ty = match s.protocol {
        Protocol::Imap => "IMAP",
        Protocol::Pop3 => "POP3",
        Protocol::Smtp => "SMTP",
    };
    let on = |b: bool| if b { "on" } else { "off" };
    let (ssl, encryption) = match s.security {
        Security::Tls => (true, "SSL"),
        Security::Starttls => (true, "TLS"),
        Security::Plain => (false, "None"),
    };
    let spa = s.auth.first() == Some(&AuthMethod::PasswordEncrypted);
    let auth_required = s.auth.as_slice() != [AuthMethod::None];
    *out += "      <Protocol>\n";
    *out += &format!("        <Type>{ty}</Type>\n");
    *out += &format!("        <Server>{}</Server>\n", escape(&s.host));
    *out += &format!("        <Port>{}</Port>\n", s.port);
    if let Some(u) = &s.username {
        *out += &format!("        <LoginName>{}</LoginName>\n", escape(u));
    }
    *out += "        <DomainRequired>off</DomainRequired>\n";
    *out += &format!("        <SPA>{}</SPA>\n", on(spa));
    *out += &format!("        <SSL>{}</SSL>\n", on(ssl));
    *out += &format!("        <Encryption>{encryption}</Encryption>\n");
    *out += &format!(
        "        <AuthRequired>{}</AuthRequired>\n",
        on(auth_required)
    );
    *out += "      </Protocol>\n";
}
