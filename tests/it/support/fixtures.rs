//! Ready-made discovery data pointing at a running [`MailStack`]: a DNS zone (MX, A/AAAA, CNAMEs,
//! RFC 6186 SRV records with the stack's real ports) and autoconfig / Autodiscover XML documents.
//! Host names are `mail|imap|smtp|pop.<domain>`, which the stack's certificate covers for
//! `example.test`; for other domains add the names via `StackOptions::extra_sans`.

use std::net::IpAddr;

use super::dns::Zone;
use super::mailstack::MailStack;

/// Zone `domain` for `stack`: MX → mail.<domain>, mail A/AAAA → stack address, imap/smtp/pop
/// CNAME → mail, SRV for imap/imaps/pop3/pop3s/submission/submissions with the stack's ports,
/// and autoconfig/autodiscover A → `web` (the HTTP test server, usually 127.0.0.1).
pub fn stack_zone(stack: &MailStack, domain: &str, web: IpAddr) -> Zone {
    let mail = format!("mail.{domain}");
    let p = stack.ports;
    let mut z = Zone::new(domain).mx(10, &mail);
    z = match stack.addr {
        IpAddr::V4(a) => z.a("mail", &a.to_string()),
        IpAddr::V6(a) => z.aaaa("mail", &a.to_string()),
    };
    z = match web {
        IpAddr::V4(a) => z
            .a("autoconfig", &a.to_string())
            .a("autodiscover", &a.to_string()),
        IpAddr::V6(a) => z
            .aaaa("autoconfig", &a.to_string())
            .aaaa("autodiscover", &a.to_string()),
    };
    z.cname("imap", &mail)
        .cname("smtp", &mail)
        .cname("pop", &mail)
        .srv("_imap._tcp", 10, 1, p.imap, &format!("imap.{domain}"))
        .srv("_imaps._tcp", 0, 1, p.imaps, &format!("imap.{domain}"))
        .srv("_pop3._tcp", 20, 1, p.pop3, &format!("pop.{domain}"))
        .srv("_pop3s._tcp", 10, 1, p.pop3s, &format!("pop.{domain}"))
        .srv(
            "_submission._tcp",
            10,
            1,
            p.submission,
            &format!("smtp.{domain}"),
        )
        .srv(
            "_submissions._tcp",
            0,
            1,
            p.submissions,
            &format!("smtp.{domain}"),
        )
}

/// Thunderbird autoconfig (clientConfig 1.1) for `domain` with the stack's real ports:
/// IMAP SSL + STARTTLS, POP3 SSL, SMTP SSL + STARTTLS, username %EMAILADDRESS%.
pub fn autoconfig_xml(stack: &MailStack, domain: &str) -> String {
    let p = stack.ports;
    let server = |kind: &str, tag: &str, host: &str, port: u16, socket: &str| {
        format!(
            "    <{tag} type=\"{kind}\">\n      <hostname>{host}.{domain}</hostname>\n      \
             <port>{port}</port>\n      <socketType>{socket}</socketType>\n      \
             <authentication>password-cleartext</authentication>\n      \
             <username>%EMAILADDRESS%</username>\n    </{tag}>\n"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  \
         <emailProvider id=\"{domain}\">\n    <domain>{domain}</domain>\n    \
         <displayName>Example Test Mail</displayName>\n{}{}{}{}{}  </emailProvider>\n</clientConfig>\n",
        server("imap", "incomingServer", "imap", p.imaps, "SSL"),
        server("imap", "incomingServer", "imap", p.imap, "STARTTLS"),
        server("pop3", "incomingServer", "pop", p.pop3s, "SSL"),
        server("smtp", "outgoingServer", "smtp", p.submissions, "SSL"),
        server("smtp", "outgoingServer", "smtp", p.submission, "STARTTLS"),
    )
}

/// Outlook Autodiscover (POX, 2006 response schema) for `domain`: IMAP SSL, POP3 SSL, SMTP on
/// the submission port with STARTTLS (`<Encryption>TLS</Encryption>`).
pub fn autodiscover_xml(stack: &MailStack, domain: &str) -> String {
    let p = stack.ports;
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>IMAP</Type>
        <Server>imap.{domain}</Server>
        <Port>{imaps}</Port>
        <DomainRequired>off</DomainRequired>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <AuthRequired>on</AuthRequired>
      </Protocol>
      <Protocol>
        <Type>POP3</Type>
        <Server>pop.{domain}</Server>
        <Port>{pop3s}</Port>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <AuthRequired>on</AuthRequired>
      </Protocol>
      <Protocol>
        <Type>SMTP</Type>
        <Server>smtp.{domain}</Server>
        <Port>{submission}</Port>
        <SPA>off</SPA>
        <Encryption>TLS</Encryption>
        <AuthRequired>on</AuthRequired>
        <UsePOPAuth>off</UsePOPAuth>
        <SMTPLast>off</SMTPLast>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
"#,
        imaps = p.imaps,
        pop3s = p.pop3s,
        submission = p.submission,
    )
}
